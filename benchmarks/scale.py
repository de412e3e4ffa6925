"""Scaling of the whole workflow: synthetic studies of many large waves, built cold (issue 15).

For each wave count, a temporary copy of the project with that many SYNTHETIC waves
(``benchmarks/synthetic.py``: seeded resamples of the bundled SIMULATED deliveries) is built
cold with ``snakemake --cores C``; then a no-op rerun (nothing to do) and, after one more
synthetic wave (the next month), an incremental rerun. Measured for each run: wall time, CPU
seconds of the whole process tree (``getrusage(RUSAGE_CHILDREN)`` deltas), jobs (Snakemake's
job stats), peak RSS of the process tree (psutil, sampled every 0.2 s: snakemake and all its
descendants summed) and of the largest single job (``max_rss`` of the benchmark files every
rule writes, ``logs/benchmarks/<rule>[/...].tsv``); per stage (rule): jobs and the sums of
``s`` and ``cpu_time``. ``--bundled`` also builds the bundled 12-wave study cold and reruns it.

The targets (cold build <= 600 s, peak RSS <= 4096 MB, adding one wave <= 10 % of the cold
build) are printed beside the figures as met / not met, never asserted: times depend on the
machine and its load, so compare ratios within one run.

Usage::

    python benchmarks/scale.py --waves 10 30 100 --n 10000 [--bundled] [--cores 2]
    python benchmarks/scale.py --waves 10 --n 10000 --source /path/to/other/checkout --label before

The smallest study that builds is ``--waves 5 --n 1000`` (the war models need 3 war waves;
smaller waves may leave the pooled multinomial logit without convergence). Running and reading
one build is ``benchmarks/scale_run.py``. ``--snakemake`` replaces the snakemake command (the
tests use a stand-in). A run over ``--rss-limit-mb`` (default 16 GB, to protect a shared
machine) or ``--timeout`` is killed and reported as such.

Writes ``benchmarks/results/scale.csv`` (one row per study), ``scale_stages.csv`` (study x
phase x rule) and ``scale.meta.json`` (one entry per run of each ``--label``); rows of other
labels and studies already in ``--out`` are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic
from scale_run import git, merge_write, read_benchmarks, run_snakemake, stage_table, startup_s

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"cold_wall_s": 600.0, "peak_rss_tree_mb": 4096.0, "add_wave_pct_of_cold": 10.0}
TARGET_TEXT = {
    "cold_wall_s": "cold build <= 600 s",
    "peak_rss_tree_mb": "peak RSS (process tree) <= 4096 MB",
    "add_wave_pct_of_cold": "add one wave <= 10 % of cold",
}
DATA_NOTE = (
    "SYNTHETIC benchmark data: seeded bootstrap resamples (benchmarks/synthetic.py) of the "
    "bundled SIMULATED deliveries; the 'bundled' study is the bundled SIMULATED deliveries "
    "themselves. No real survey responses."
)


# ---------------------------------------------------------------- targets, the next wave
def target_status(row: dict) -> dict[str, str]:
    """``met`` / ``not met`` / ``not measured`` for each target of one study row."""
    out = {}
    for key, limit in TARGETS.items():
        value = row.get(key, math.nan)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[key] = "not measured"
        else:
            out[key] = "met" if value <= limit else "not met"
    return out


def next_wave(waves: list[str], templates: list[dict]) -> tuple[str, dict]:
    """The wave after ``waves`` (the next month) and its template: the next war template in
    the cycle that :func:`synthetic.plan` uses for ``len(waves)`` waves."""
    planned = synthetic.plan(len(waves), templates)
    if [w for w, _ in planned] != list(waves):
        raise ValueError(f"waves {waves[:3]}... are not synthetic.plan's for {len(waves)} waves")
    start = dt.date.fromisoformat
    war = [t for t in templates if start(t["fieldwork"]["start"]) >= synthetic.INVASION]
    used = sum(1 for _, t in planned if start(t["fieldwork"]["start"]) >= synthetic.INVASION)
    return next_month(waves[-1]), war[used % len(war)]


def next_month(wave: str) -> str:
    """``YYYY-MM`` one month later."""
    y, m = (int(x) for x in wave.split("-"))
    y, m = divmod(y * 12 + m, 12)  # m is 1-based: this is the 0-based month after it
    return f"{y:04d}-{m + 1:02d}"


def measure(study: Path, name: str, waves: list[str] | None, n: int | None, a, cmd) -> tuple:
    """Cold build, no-op rerun and (synthetic studies) one-more-wave rerun of ``study``."""
    logs = study / "logs" / "benchmarks"
    kw = {"timeout": a.timeout, "rss_limit_mb": a.rss_limit_mb}
    row = {"label": a.label, "study": name, "waves": len(waves) if waves else _n_waves(study),
           "n": n, "cores": a.cores, "load_1m_start": os.getloadavg()[0]}  # fmt: skip
    print(f"[{name}] cold build ...", flush=True)
    cold = run_snakemake(study, cmd, study / "snakemake.cold.log", **kw)
    bench = read_benchmarks(logs)
    stages = [stage_table(bench).assign(phase="cold")]
    top = bench.loc[bench["max_rss"].idxmax()] if bench["max_rss"].notna().any() else None
    row |= {
        "status": "cold " + cold["status"],
        "jobs": sum(cold["jobs"].values()),
        "jobs_done": cold["steps_done"],
        "cold_wall_s": cold["wall_s"],
        "cold_cpu_s": cold["cpu_s"],
        "peak_rss_tree_mb": cold["peak_rss_tree_mb"],
        "peak_rss_job_mb": top["max_rss"] if top is not None else math.nan,
        "peak_rss_job_rule": top["rule"] if top is not None else "",
        "per_wave_s": cold["wall_s"] / row["waves"],
    }
    if cold["status"] != "ok":
        return row, stages
    print(f"[{name}] no-op rerun ...", flush=True)
    noop = run_snakemake(study, cmd, study / "snakemake.noop.log", **kw)
    row |= {"noop_s": noop["wall_s"], "noop_cpu_s": noop["cpu_s"],
            "noop_jobs": sum(noop["jobs"].values())}  # fmt: skip
    if noop["status"] != "ok":
        row["status"] = "noop " + noop["status"]
    if waves is None:
        return row, stages
    templates = _templates(a.source)
    wave, tpl = next_wave(waves, templates)
    synthetic.add_wave(study, wave, tpl, n, np.random.default_rng([a.seed, len(waves)]), a.source)
    print(f"[{name}] one more wave ({wave}) ...", flush=True)
    add = run_snakemake(study, cmd, study / "snakemake.add_wave.log", **kw)
    added = stage_table(read_benchmarks(logs, since=add["since"])).assign(phase="add_wave")
    stages.append(added)
    row |= {
        "add_wave_jobs": sum(add["jobs"].values()),
        "add_wave_s": add["wall_s"],
        "add_wave_cpu_s": add["cpu_s"],
        "add_wave_peak_rss_tree_mb": add["peak_rss_tree_mb"],
        "add_wave_pct_of_cold": 100 * add["wall_s"] / cold["wall_s"],
    }
    if add["status"] != "ok":
        row["status"] = "add_wave " + add["status"]
    return row, stages


def _n_waves(study: Path) -> int:
    return len(list((study / "config" / "waves").glob("*.yaml")))


def _templates(source: Path) -> list[dict]:
    paths = sorted((Path(source) / "config" / "waves").glob("*.yaml"))
    return [yaml.safe_load(p.read_text("utf-8")) for p in paths]


# ---------------------------------------------------------------- output
ROW_COLUMNS = ["label", "study", "waves", "n", "cores", "status", "jobs", "jobs_done",
               "cold_wall_s", "cold_cpu_s", "peak_rss_tree_mb", "peak_rss_job_mb",
               "peak_rss_job_rule", "per_wave_s", "noop_s", "noop_cpu_s", "noop_jobs",
               "add_wave_jobs", "add_wave_s", "add_wave_cpu_s", "add_wave_peak_rss_tree_mb",
               "add_wave_pct_of_cold", "cold_target", "rss_target", "add_wave_target",
               "load_1m_start"]  # fmt: skip
STAGE_COLUMNS = ["label", "study", "waves", "n", "phase", "rule", "jobs", "wall_s", "cpu_s",
                 "max_rss_mb"]  # fmt: skip


def finish_row(row: dict) -> dict:
    """Targets as text columns; figures rounded (0.1 s, 0.1 MB, 0.1 %, 0.01 load)."""
    status = target_status(row)
    out = dict(row)
    out["cold_target"] = status["cold_wall_s"]
    out["rss_target"] = status["peak_rss_tree_mb"]
    out["add_wave_target"] = status["add_wave_pct_of_cold"]
    for k, v in out.items():
        if isinstance(v, float | np.floating) and not k.startswith("load"):
            out[k] = round(float(v), 1)
    out["load_1m_start"] = round(float(out.get("load_1m_start", math.nan)), 2)
    return {c: out.get(c, math.nan) for c in ROW_COLUMNS}


def format_report(rows: list[dict], stages: pd.DataFrame) -> str:
    """The readable table: one line per study, the targets beside it, then its stages."""

    def f(v, spec="8.1f"):
        width = int(spec.split(".")[0] or 0)
        return "-".rjust(width) if _missing(v) else format(v, spec)

    head = (f"{'study':<12} {'jobs':>5} {'cold s':>8} {'cpu s':>8} {'tree MB':>8} "
            f"{'job MB':>8} {'s/wave':>8} {'noop s':>8} {'+wave s':>8} {'+wave %':>8} {'load':>5}  status")  # fmt: skip
    lines = [head, "-" * len(head)]  # load: 1-minute load average when the study started
    for r in rows:
        lines.append(
            f"{r['study']:<12} {f(r['jobs'], '5.0f')} "
            f"{f(r['cold_wall_s'])} {f(r['cold_cpu_s'])} {f(r['peak_rss_tree_mb'])} "
            f"{f(r['peak_rss_job_mb'])} {f(r['per_wave_s'])} {f(r['noop_s'])} "
            f"{f(r['add_wave_s'])} {f(r['add_wave_pct_of_cold'])} {f(r['load_1m_start'], '5.1f')}"
            f"  {r['status']}"
        )
    lines += ["", "runs (jobs, wall s, CPU s of the process tree):"]
    for r in rows:
        runs = [("cold", "jobs", "cold_wall_s", "cold_cpu_s"),
                ("no-op rerun", "noop_jobs", "noop_s", "noop_cpu_s"),
                ("one more wave", "add_wave_jobs", "add_wave_s", "add_wave_cpu_s")]  # fmt: skip
        text = " | ".join(
            f"{what}: {f(r.get(j), '.0f')} jobs, {f(r.get(w), '.1f')} s, {f(r.get(c), '.1f')} s CPU"
            for what, j, w, c in runs
            if not _missing(r.get(w))
        )
        lines.append(f"  {r['study']:<12} {text}")
    lines += ["", "targets (printed, never asserted):"]
    for r in rows:
        status = target_status(r)
        text = "; ".join(f"{TARGET_TEXT[k]}: {v}" for k, v in status.items())
        lines.append(f"  {r['study']:<12} {text}")
    for r in rows:
        mine = stages[stages["study"] == r["study"]]
        cold = mine[mine["phase"] == "cold"].set_index("rule")
        if cold.empty:
            continue
        add = mine[mine["phase"] == "add_wave"].set_index("rule")
        lines += ["", f"stages of {r['study']} (wall/cpu s summed over the jobs of each rule):"]
        lines.append(f"  {'rule':<24} {'jobs':>5} {'wall s':>9} {'cpu s':>9} {'max MB':>8}"
                     f" {'+wave jobs':>10} {'+wave s':>8}")  # fmt: skip
        for rule, s in cold.iterrows():
            extra = add.loc[rule] if rule in add.index else None
            lines.append(
                f"  {rule:<24} {s['jobs']:>5.0f} {f(s['wall_s'], '9.1f')} {f(s['cpu_s'], '9.1f')}"
                f" {f(s['max_rss_mb'])} {f(None if extra is None else extra['jobs'], '10.0f')}"
                f" {f(None if extra is None else extra['wall_s'])}"
            )
    return "\n".join(lines)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v))


def run_meta(argv: list[str] | None, a, load: tuple) -> dict:
    """Command, date, revisions, versions, machine, load at start, the data note."""
    import snakemake

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "command": " ".join(["python", "benchmarks/scale.py", *(argv or sys.argv[1:])]),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_revision": git(ROOT, "rev-parse", "HEAD"),
        "git_dirty": bool(git(ROOT, "status", "--porcelain")),
        "source": str(a.source),
        "source_revision": git(a.source, "rev-parse", "HEAD"),
        "source_dirty": bool(git(a.source, "status", "--porcelain")),
        "python": platform.python_version(),
        "snakemake": snakemake.__version__,
        "cpu_count": os.cpu_count(),
        "cores": a.cores,
        "memory_gb": round(mem, 1),
        "load_average_start": [round(x, 2) for x in load],
        "snakemake_startup_s": startup_s(a.snakemake.split()),
        "seed": a.seed,
        "targets": TARGET_TEXT,
        "data": DATA_NOTE,
        "note": (
            "wall times on a shared machine: compare ratios within one run. CPU s: user+sys "
            "of the whole snakemake process tree. peak_rss_tree_mb: the largest sum of RSS of "
            "snakemake and all descendants, sampled every 0.2 s (pages shared between "
            "processes count in each). peak_rss_job_mb: the largest max_rss of the rules' "
            "benchmark files. jobs: Snakemake's job stats total (the 'all' target included)."
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--waves", type=int, nargs="*", default=[10, 30, 100],
                    help="synthetic wave counts, one study each (>= 5: the war models "
                    "need 3 war waves)")  # fmt: skip
    ap.add_argument("--n", type=int, default=10_000,
                    help="respondents per synthetic wave (below ~1000 the pooled "
                    "multinomial logit may not converge)")  # fmt: skip
    ap.add_argument("--bundled", action="store_true", help="also the bundled 12-wave study")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--label", default="after")
    ap.add_argument("--workdir", type=Path, help="default: a new temporary directory")
    ap.add_argument("--keep", action="store_true", help="keep the built studies")
    ap.add_argument("--source", type=Path, default=ROOT, help="checkout copied (tracked files)")
    ap.add_argument("--timeout", type=float, help="seconds per snakemake run (then killed)")
    ap.add_argument("--rss-limit-mb", type=float, default=16384,
                    help="kill a run whose process tree RSS exceeds this (0: never)")  # fmt: skip
    ap.add_argument("--snakemake", default=f"{sys.executable} -m snakemake",
                    help="the snakemake command (split on spaces)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.csv")
    a = ap.parse_args(argv)
    a.source = a.source.resolve()
    if any(w < 5 for w in a.waves):
        print("warning: fewer than 5 synthetic waves give fewer than 3 war waves; the "
              "war_models job will fail", flush=True)  # fmt: skip
    load = os.getloadavg()
    cmd = [*a.snakemake.split(), "--cores", str(a.cores)]
    base = a.workdir or Path(tempfile.mkdtemp(prefix="pollwaves-scale-", dir=_tmp_parent()))
    base.mkdir(parents=True, exist_ok=True)
    studies = [("bundled", None)] if a.bundled else []
    studies += [(f"{w}x{a.n}", w) for w in a.waves]
    rows, stages, table = [], [], _stages([])
    meta_path = a.out.with_suffix(".meta.json")
    meta_runs = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    this_run = run_meta(argv, a, load)
    print(f"snakemake start-up (--version, best of 2): {this_run['snakemake_startup_s']} s"
          + (" -- slow: see 'Running at scale' in README.md" if this_run["snakemake_startup_s"] > 3
             else ""), flush=True)  # fmt: skip
    for name, n_waves in studies:
        study = base / name
        if study.exists():
            shutil.rmtree(study)
        if n_waves is None:
            synthetic.copy_project(study, a.source)
            waves, n = None, None
        else:
            print(f"[{name}] making {n_waves} synthetic waves of {a.n} ...", flush=True)
            waves, n = synthetic.make_study(study, n_waves, a.n, a.seed, a.source), a.n
        row, parts = measure(study, name, waves, n, a, cmd)
        row = finish_row(row)
        rows.append(row)
        for p in parts:
            stages.append(p.assign(label=a.label, study=name, waves=row["waves"], n=n))
        print(format_report([row], _stages(stages)), flush=True)
        table = write_results(rows, stages, a, meta_runs, this_run)
        if not a.keep:
            shutil.rmtree(study, ignore_errors=True)
    if not a.keep and a.workdir is None:
        shutil.rmtree(base, ignore_errors=True)
    print("\n" + format_report(rows, table))
    print(f"\nwritten: {a.out}, {a.out.stem}_stages.csv, {meta_path.name}"
          + (f"; studies kept in {base}" if a.keep else ""))  # fmt: skip
    return 0


def write_results(rows: list[dict], stages: list, a, meta: dict, this_run: dict) -> pd.DataFrame:
    """Write the rows and stages so far (after each study) and this run's metadata entry."""
    table = _stages(stages)
    for c in ("wall_s", "cpu_s", "max_rss_mb"):
        table[c] = table[c].astype(float).round(1)
    merge_write(pd.DataFrame(rows, columns=ROW_COLUMNS), a.out, ["label", "study"])
    merge_write(table, a.out.with_name(a.out.stem + "_stages.csv"), ["label", "study"])
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    entry = this_run | {"studies": [r["study"] for r in rows], "updated_utc": now}
    out = dict(meta) | {a.label: [*meta.get(a.label, []), entry]}
    a.out.with_suffix(".meta.json").write_text(json.dumps(out, indent=2) + "\n")
    return table


def _stages(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=STAGE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[STAGE_COLUMNS]


def _tmp_parent() -> str | None:
    if os.environ.get("TMPDIR"):
        return os.environ["TMPDIR"]
    return "/work/tmp" if Path("/work/tmp").is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
