"""Verify profiles/slurm on a real single-node SLURM: the result must equal a local build.

Issue 15 ("Beyond one machine"). The check

1. starts a single-node SLURM on this machine (``benchmarks/slurm_local.sh start``: Debian's
   ``slurm-wlm`` and ``munge``, installed with apt-get when missing), with a partition named as
   the profile's ``slurm_partition``, so that the profile is used unedited;
2. makes the synthetic study (``benchmarks/synthetic.py DEST --waves 10 --n N``: bootstrap
   resamples of the bundled SIMULATED deliveries, no real respondents) and copies it to two
   directories;
3. builds one with ``snakemake --cores 2`` and the other with ``snakemake --profile
   profiles/slurm`` (every job through sbatch);
4. compares every file under ``reports/`` and ``data/processed/`` byte for byte (``logs/`` and
   ``.snakemake/`` are not compared).

The two builds run in different directories on purpose: an output that holds an absolute path
or a host name differs, and the check names it. Prints ``SLURM check: N files byte-identical``
and exits 0 when the trees are equal, lists the differences and exits 1 when not, and prints
``SLURM check SKIPPED: <reason>`` and exits 0 when SLURM cannot be started here (no root, no
apt-get, a daemon that fails, the executor plugin not installed).

Usage::

    python benchmarks/slurm_check.py [--n 10000] [--waves 10] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import importlib.util
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "slurm"
LOCAL_SLURM = ROOT / "benchmarks" / "slurm_local.sh"
COMPARED = ("reports", "data/processed")
# Only for this check, on top of the unedited profile: no accounting database here, so follow jobs
# with squeue (slurm_local.sh keeps finished jobs for MinJobAge=3600 s), and poll soon after a
# submission since the jobs are short.
CHECK_ARGS = [
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "5",
]


class Skip(Exception):
    """SLURM cannot run here; the check is skipped (and says so)."""


def profile_partition(profile: Path = PROFILE) -> str:
    """The ``slurm_partition`` of the profile's default resources."""
    cfg = yaml.safe_load((profile / "config.yaml").read_text())
    return str(cfg.get("default-resources", {}).get("slurm_partition", "batch"))


def slurm_running(env: dict) -> bool:
    """Whether ``slurm_local.sh status`` finds a controller and a usable node."""
    if not shutil.which("sinfo"):
        return False
    return subprocess.run(["bash", str(LOCAL_SLURM), "status"], env=env).returncode == 0


def start_slurm(env: dict) -> bool:
    """Start the single-node SLURM unless it runs; True when this call started it."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        raise Skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')")
    if slurm_running(env):
        return False
    if platform.system() != "Linux":
        raise Skip(f"a local SLURM needs Linux, this is {platform.system()}")
    if os.geteuid() != 0:
        raise Skip("starting a local SLURM needs root (apt-get, munged, slurmd)")
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        raise Skip("slurm-wlm is not installed and there is no apt-get to install it")
    proc = subprocess.run(
        ["bash", str(LOCAL_SLURM), "start"], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise Skip(f"the local SLURM did not start: {reason}")
    print(proc.stderr.strip())
    return True


def stop_slurm(env: dict) -> None:
    """Stop the daemons that ``slurm_local.sh start`` started."""
    subprocess.run(["bash", str(LOCAL_SLURM), "stop"], env=env)


def make_study(dest: Path, waves: int, n: int, seed: int, env: dict) -> None:
    """The synthetic study (SIMULATED source data), with this checkout's profile copied in."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "synthetic.py"),
            str(dest),
            "--waves",
            str(waves),
            "--n",
            str(n),
            "--seed",
            str(seed),
        ],
        check=True,
        env=env,
    )
    # the profile as it is in this checkout (committed or not)
    shutil.rmtree(dest / "profiles" / "slurm", ignore_errors=True)
    shutil.copytree(PROFILE, dest / "profiles" / "slurm")


def build(study: Path, args: list[str], env: dict, log: Path) -> tuple[float, int]:
    """Run ``nice -n 5 snakemake ARGS`` in ``study``; wall seconds and the return code."""
    cmd = ["nice", "-n", "5", sys.executable, "-m", "snakemake", *args]
    print(f"+ (cd {study} && {' '.join(cmd[3:])})  > {log}", flush=True)
    start = time.monotonic()
    with log.open("w") as out:
        rc = subprocess.run(
            cmd, cwd=study, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    return time.monotonic() - start, rc


def tree(base: Path) -> set[str]:
    """Relative paths of the files under the compared folders of ``base``."""
    out = set()
    for folder in COMPARED:
        for path in (base / folder).rglob("*"):
            if path.is_file():
                out.add(path.relative_to(base).as_posix())
    return out


def first_difference(a: Path, b: Path) -> str:
    """Where two files first differ: a line for text, a byte offset otherwise."""
    x, y = a.read_bytes(), b.read_bytes()
    try:
        xs, ys = x.decode().splitlines(), y.decode().splitlines()
    except UnicodeDecodeError:
        at = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), None)
        at = min(len(x), len(y)) if at is None else at
        return f"binary, {len(x)} vs {len(y)} bytes, first difference at byte {at}"
    for i, (p, q) in enumerate(zip(xs, ys, strict=False), start=1):
        if p != q:
            return f"line {i}: {p[:120]!r} vs {q[:120]!r}"
    return f"{len(xs)} vs {len(ys)} lines"


def leaks(path: Path, needles: dict[str, str]) -> list[str]:
    """Which of the build-specific strings (directories, host name) a file contains."""
    data = path.read_bytes()
    return [what for what, s in needles.items() if s and s.encode() in data]


def needles_of(build: Path) -> dict[str, str]:
    """Strings that have no place in a portable output of ``build``."""
    host = socket.gethostname()
    return {
        "its build directory": str(build),
        "the checkout's directory": str(ROOT),
        "the Python prefix": sys.prefix,
        # a short host name ("vm") would match by chance
        "the host name": host if len(host) >= 6 else "",
    }


def compare(local: Path, slurm: Path) -> tuple[int, list[str], list[str]]:
    """Identical files, one line per difference, and identical files holding absolute paths."""
    a, b = tree(local), tree(slurm)
    problems = [f"only in the local build: {p}" for p in sorted(a - b)]
    problems += [f"only in the SLURM build: {p}" for p in sorted(b - a)]
    same, notes = 0, []
    for rel in sorted(a & b):
        pa, pb = local / rel, slurm / rel
        found = sorted(set(leaks(pa, needles_of(local)) + leaks(pb, needles_of(slurm))))
        if filecmp.cmp(pa, pb, shallow=False):
            same += 1
            if found:
                notes.append(f"{rel} contains {', '.join(found)}")
            continue
        hint = first_difference(pa, pb)
        if found:
            hint += "; contains " + ", ".join(found)
        problems.append(f"differs: {rel} ({hint})")
    return same, problems, notes


def requests(log: Path) -> dict[str, dict[str, float]]:
    """Per rule, the largest ``mem_mb`` and ``runtime`` (minutes) its jobs asked SLURM for."""
    out: dict[str, dict[str, float]] = {}
    rule = None
    for line in log.read_text().splitlines():
        if m := re.match(r"(?:local)?rule (\w+):$", line):
            rule = m.group(1)
        elif rule and (m := re.match(r"\s+resources: (.*)$", line)):
            res = dict(kv.split("=", 1) for kv in m.group(1).split(", ") if "=" in kv)
            got = out.setdefault(rule, {"mem_mb": 0.0, "runtime": 0.0})
            for key in got:
                if res.get(key, "").isdigit():
                    got[key] = max(got[key], float(res[key]))
            rule = None
    return out


def usage(build: Path) -> dict[str, dict[str, float]]:
    """Per rule, the jobs, largest max RSS (MB) and wall seconds in ``logs/benchmarks/``."""
    out: dict[str, dict[str, float]] = {}
    bench = build / "logs" / "benchmarks"
    for path in sorted(bench.rglob("*.tsv")):
        rel = path.relative_to(bench)
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        with path.open() as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        got = out.setdefault(rule, {"jobs": 0, "max_rss": 0.0, "s": 0.0})
        got["jobs"] += 1
        for key in ("max_rss", "s"):
            if row.get(key) not in (None, "", "NA", "-"):
                got[key] = max(got[key], float(row[key]))
    return out


def print_sizing(build: Path, log: Path) -> list[str]:
    """Each rule's largest use against its request; the rules that used more than they asked."""
    req, use = requests(log), usage(build)
    print("per rule: jobs, largest max RSS / mem_mb requested, longest wall time / runtime:")
    over = []
    for rule in sorted(use):
        u, r = use[rule], req.get(rule, {})
        mem, minutes = r.get("mem_mb", 0), r.get("runtime", 0)
        print(
            f"  {rule:22s} {int(u['jobs']):3d}  {u['max_rss']:7.0f} / {mem:6.0f} MB"
            f"  {u['s']:6.0f} s / {minutes:4.0f} min"
        )
        if mem and u["max_rss"] > mem:
            over.append(f"{rule}: max RSS {u['max_rss']:.0f} MB > mem_mb {mem:.0f}")
        if minutes and u["s"] > 60 * minutes:
            over.append(f"{rule}: {u['s']:.0f} s > runtime {minutes:.0f} min")
    return over


def main(argv: list[str] | None = None) -> int:
    """Run the check; 0 when equal or skipped, 1 when the builds differ or one fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="respondents per wave")
    parser.add_argument("--waves", type=int, default=10, help="number of synthetic waves")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2, help="cores of the local build")
    parser.add_argument(
        "--workdir", type=Path, help="where to put the studies (default: a new temporary folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the studies afterwards")
    parser.add_argument(
        "--keep-slurm", action="store_true", help="leave a SLURM this script started running"
    )
    parser.add_argument(
        "--slurm-args", default="",
        help="more snakemake options for the SLURM build only, e.g. job grouping "
        "(split on spaces; the local build is always plain)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.pop("SLURM_CONF", None)  # slurm_local.sh writes /etc/slurm/slurm.conf
    env["POLLWAVES_SLURM_PARTITION"] = profile_partition()
    # the jobs (local and on SLURM) import this checkout's package
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
    )

    try:
        started = start_slurm(env)
    except Skip as exc:
        print(f"SLURM check SKIPPED: {exc}")
        return 0
    version = subprocess.run(["sinfo", "--version"], capture_output=True, text=True).stdout
    print(f"SLURM: {version.strip()}, partition {env['POLLWAVES_SLURM_PARTITION']!r}")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="pollwaves-slurm-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        study, local, slurm = work / "study", work / "local", work / "slurm"
        for d in (study, local, slurm):
            shutil.rmtree(d, ignore_errors=True)
        print(
            f"study: {args.waves} synthetic waves of {args.n} respondents (resampled from the "
            "bundled SIMULATED deliveries)",
            flush=True,
        )
        make_study(study, args.waves, args.n, args.seed, env)
        shutil.copytree(study, local, symlinks=True)
        shutil.copytree(study, slurm, symlinks=True)

        t_local, rc_local = build(local, ["--cores", str(args.cores)], env, work / "local.log")
        print(f"local build: {t_local:.0f} s, exit {rc_local}", flush=True)
        t_slurm, rc_slurm = build(
            slurm, ["--profile", "profiles/slurm", *CHECK_ARGS, *args.slurm_args.split()], env,
            work / "slurm.log",
        )  # fmt: skip
        jobs = (work / "slurm.log").read_text().count("has been submitted with SLURM jobid")
        print(f"SLURM build: {t_slurm:.0f} s, {jobs} sbatch jobs, exit {rc_slurm}", flush=True)
        if rc_local or rc_slurm:
            print(f"SLURM check FAILED: a build failed (logs in {work}; kept)")
            args.keep = True
            return 1

        # this SLURM has no cgroups and does not enforce --mem: say where a real one would kill
        for line in print_sizing(slurm, work / "slurm.log"):
            print(f"warning: {line} (a cluster that enforces the request kills this job)")
        same, problems, notes = compare(local, slurm)
        for line in notes:
            print(f"note: identical in both builds, but {line}")
        if problems:
            print(f"SLURM check FAILED: {len(problems)} difference(s), {same} files identical:")
            for line in problems:
                print(f"  {line}")
            print(f"(builds kept in {work})")
            args.keep = True
            return 1
        print(f"SLURM check: {same} files byte-identical")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if started and not args.keep_slurm:
            stop_slurm(env)


if __name__ == "__main__":
    sys.exit(main())
