"""Running and reading one Snakemake build for ``benchmarks/scale.py`` (issue 15).

Pure parsers of Snakemake's job stats and of the per-rule benchmark files
(``logs/benchmarks/<rule>[/...].tsv``), and one measured run: wall time, CPU seconds of the
process tree (``getrusage(RUSAGE_CHILDREN)`` deltas), peak summed RSS of the process tree
(psutil, sampled every 0.2 s), jobs and status.
"""

from __future__ import annotations

import math
import os
import re
import resource
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from pollwaves.files import FLOAT_FORMAT

NOTHING = "Nothing to be done"


def parse_job_stats(text: str) -> dict[str, int]:
    """Jobs per rule from Snakemake's ``Job stats:`` table (the first one); ``{}`` if none.

    The ``total`` row is left out; the ``all`` rule (a local target, no process) is kept.
    """
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Job stats:")
    except StopIteration:
        return {}
    jobs = {}
    for line in lines[start + 3 :]:  # header and the dashes
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs


def steps_done(text: str) -> int:
    """The last ``N of M steps`` count Snakemake printed (0 if none)."""
    found = re.findall(r"^(\d+) of \d+ steps", text, flags=re.MULTILINE)
    return int(found[-1]) if found else 0


def read_benchmarks(logs: Path, since: float | None = None) -> pd.DataFrame:
    """One row per benchmark file under ``logs`` (``logs/benchmarks``): rule, s, cpu_time, max_rss.

    The rule is the first path part below ``logs`` (the workflow names each benchmark file
    after its rule: ``<rule>.tsv`` or ``<rule>/<wildcards>.tsv``). A file with several rows
    (``repeat``) counts as one job: mean ``s`` and ``cpu_time``, largest ``max_rss`` (MB).
    Only files modified at or after ``since`` (a POSIX time), if given. ``NA`` -> NaN.
    """
    rows = []
    paths = sorted(Path(logs).rglob("*.tsv")) if Path(logs).is_dir() else []
    for path in paths:
        if since is not None and path.stat().st_mtime < since:
            continue
        rel = path.relative_to(logs)
        tab = pd.read_csv(path, sep="\t")
        num = {c: pd.to_numeric(tab.get(c), errors="coerce") for c in ("s", "cpu_time", "max_rss")}
        rows.append(
            {
                "rule": rel.parts[0].removesuffix(".tsv"),
                "file": rel.as_posix(),
                "s": num["s"].mean(),
                "cpu_time": num["cpu_time"].mean(),
                "max_rss": num["max_rss"].max(),
            }
        )
    return pd.DataFrame(rows, columns=["rule", "file", "s", "cpu_time", "max_rss"])


def stage_table(bench: pd.DataFrame) -> pd.DataFrame:
    """Per rule: jobs, summed wall and CPU seconds, largest job RSS (MB); by wall time, desc."""
    cols = ["rule", "jobs", "wall_s", "cpu_s", "max_rss_mb"]
    if bench.empty:
        return pd.DataFrame(columns=cols)
    out = bench.groupby("rule", sort=True).agg(
        jobs=("file", "size"),
        wall_s=("s", lambda x: x.sum(min_count=1)),
        cpu_s=("cpu_time", lambda x: x.sum(min_count=1)),
        max_rss_mb=("max_rss", "max"),
    )
    out = out.reset_index().sort_values(["wall_s", "rule"], ascending=[False, True])
    return out[cols].reset_index(drop=True)


class TreeSampler(threading.Thread):
    """Peak summed RSS (MB) of a process and all its descendants, sampled every ``interval``.

    If ``limit_mb`` > 0 and the sum exceeds it, the process group is killed (``over`` set).
    """

    def __init__(self, pid: int, interval: float = 0.2, limit_mb: float = 0.0):
        super().__init__(daemon=True)
        self.pid, self.interval, self.limit_mb = pid, interval, limit_mb
        self.peak_mb, self.over, self._done = 0.0, False, threading.Event()

    def sample(self) -> float:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20

    def run(self) -> None:
        while not self._done.is_set():
            mb = self.sample()
            self.peak_mb = max(self.peak_mb, mb)
            if self.limit_mb > 0 and mb > self.limit_mb and not self.over:
                self.over = True
                _kill_group(self.pid)
            self._done.wait(self.interval)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def _kill_group(pid: int, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(pid, sig)  # the session started for this snakemake run only
    except ProcessLookupError:
        pass


def _wait(proc: subprocess.Popen, grace: float = 60.0) -> int:
    """Wait for a run whose group was sent SIGTERM; SIGKILL it after ``grace`` seconds."""
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid, signal.SIGKILL)
        return proc.wait()


def run_snakemake(study: Path, cmd: list[str], log: Path, timeout: float | None = None,
                  rss_limit_mb: float = 0.0, env: dict[str, str] | None = None) -> dict:  # fmt: skip
    """Run ``cmd`` in ``study``; wall and CPU seconds, peak tree RSS, jobs, status.

    The study's own ``src`` is on ``PYTHONPATH``; ``env`` adds variables (a ``PYTHONPATH``
    of its own goes first)."""
    extra = dict(env or {})
    path = os.pathsep.join(p for p in (extra.pop("PYTHONPATH", ""), str(study / "src")) if p)
    env = os.environ | extra | {"PYTHONPATH": path}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, since = time.perf_counter(), time.time()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=study, stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)  # fmt: skip
        sampler = TreeSampler(proc.pid, limit_mb=rss_limit_mb)
        sampler.start()
        timed_out = False
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            code = _wait(proc)
        peak = sampler.stop()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = log.read_text("utf-8", errors="replace")
    jobs = {} if NOTHING in text else parse_job_stats(text)
    if sampler.over:
        status = f"killed: process tree RSS over {rss_limit_mb:.0f} MB"
    elif timed_out:
        status = f"killed: over the {timeout:.0f} s timeout"
    elif code != 0:
        errors = [ln for ln in text.splitlines() if ln.startswith(("error:", "Error in rule"))]
        status = "failed: " + (errors[0] if errors else f"exit code {code}")
    else:
        status = "ok"
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_tree_mb": peak, "jobs": jobs,
            "steps_done": steps_done(text), "status": status, "since": since}  # fmt: skip


def best_wall(cmd: list[str], repeat: int, **kwargs) -> float:
    """Wall seconds of running ``cmd`` (output discarded), the best of ``repeat`` runs;
    ``kwargs`` go to :func:`subprocess.run` (``cwd``, ``check``)."""
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, **kwargs)
        best = min(best, time.perf_counter() - t)
    return best


def startup_s(cmd: list[str]) -> float:
    """Wall time of ``snakemake --version`` (best of 2): the start-up every run pays. With
    the SLURM executor plugin installed, Snakemake runs ``scontrol show config`` at import;
    where SLURM's tools are installed but no controller answers, that alone waits ~9 s."""
    return round(best_wall([*cmd, "--version"], 2, check=False, cwd=tempfile.gettempdir()), 2)


def git(root: Path, *args: str) -> str:
    """``git <args>`` in ``root``, its stripped output ("" where git cannot run)."""
    try:
        res = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except OSError:
        return ""
    return res.stdout.strip()


def merge_write(new: pd.DataFrame, path: Path, key: list[str],
                columns: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Write ``new`` to ``path``, keeping old rows whose ``key`` (label, study) is not new;
    with ``columns``, in that column order (an older file may lack one)."""
    out = new
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False, na_values=[""])
        old_key = old.set_index(key).index
        stale = old_key.isin(new.set_index(key).index.unique())
        out = pd.concat([old[~stale], new], ignore_index=True)
    if columns is not None:
        out = out.reindex(columns=columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, float_format=FLOAT_FORMAT)
    return out
