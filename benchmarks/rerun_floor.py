"""How fast adding one wave could be: the floor of the incremental rerun on C cores (issue 15).

Replays, in a study built by ``benchmarks/scale.py --keep`` (e.g. ``.../100x10000``), the
rerun that adding a wave causes: ``snakemake --cores C --forcerun`` on the newest wave's
grouped model rows reruns that wave's job and every pooled job after it, exactly the jobs of
scale.py's add-wave phase. Every Python process of the run carries a start-up clock
(``benchmarks/import_clock/sitecustomize.py``): its wall and CPU seconds and the CPU seconds
its imports took. A dry run (``-n``, best of ``--repeat``) times the driver's own start
(preflight, DAG), which runs before any job.

Printed, beside 10 % of the cold build (``--cold-s``, or the row of ``--scale-results``
for this study and ``--label``), are three lower bounds of the rerun's wall time:

- ``packed``: the driver's start and the new wave's job (serial: every pooled job needs that
  wave), then the CPU seconds of the pooled jobs and of the driver's scheduling spread over
  the C cores with no idle core;
- ``pandas start``: the same with every pooled job's imports cut to a bare ``import pandas,
  pyarrow.parquet`` (the least a job that reads and writes the tables can import);
- ``no imports``: the same with no import cost at all.

Each is optimistic (perfect packing, no contention), so a target below ``no imports`` cannot be
met by making start-up cheaper: only by less arithmetic in the pooled jobs. The replayed jobs
rewrite their outputs with the same content. Writes ``benchmarks/results/rerun_floor.csv``
(the jobs of the fastest replay) and ``rerun_floor.meta.json`` (the bounds, the command,
revision, machine) for ``--label``. The studies are SYNTHETIC (resampled SIMULATED deliveries).

Usage::

    python benchmarks/scale.py --waves 100 --n 10000 --keep --workdir /tmp/scale
    python benchmarks/rerun_floor.py /tmp/scale/100x10000 [--cores 2] [--repeat 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_run import best_wall, git, merge_write, run_snakemake

ROOT = Path(__file__).resolve().parents[1]
CLOCK = Path(__file__).resolve().parent / "import_clock"
COLUMNS = ["label", "study", "job", "start_s", "wall_s", "cpu_s", "import_cpu_s"]


def _job_name(script: str) -> str | None:
    """``<script>`` of a job's ``.snakemake/scripts/tmpXXXX.<script>.py``; None otherwise."""
    parts = script.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-1] == "py" else None


def read_clock(folder: Path) -> tuple[dict, pd.DataFrame]:
    """The driver's record and one row per job process (``job``: its script's name).

    The driver is the longest-running process that is not a job script; ``start_s`` is a
    job's start in seconds after the driver's.
    """
    records = [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))]
    named = [(_job_name(r["script"]), r) for r in records]
    others = [r for name, r in named if name is None]
    if not others:
        raise RuntimeError(f"no start-up record of the Snakemake driver in {folder}")
    driver = max(others, key=lambda r: r["wall_s"])
    keys = ("wall_s", "cpu_s", "import_cpu_s")
    rows = [{"job": name, "start_s": round(r["start_unix"] - driver["start_unix"], 4),
             **{k: r[k] for k in keys}}
            for name, r in named if name is not None]  # fmt: skip
    jobs = pd.DataFrame(rows, columns=["job", "start_s", *keys])
    return driver, jobs.sort_values(["start_s", "job"], ignore_index=True)


def idle_core_seconds(jobs: pd.DataFrame, cores: int) -> float:
    """Core-seconds with no job between the first job's start and the last job's end.

    At each moment ``max(cores - running jobs, 0)`` cores idle (the driver's own work does
    not count as a job).
    """
    if jobs.empty:
        return 0.0
    events = sorted([(s, 1) for s in jobs["start_s"]]
                    + [(s + w, -1) for s, w in zip(jobs["start_s"], jobs["wall_s"], strict=True)])  # fmt: skip
    idle, running, last = 0.0, 0, events[0][0]
    for t, step in events:
        idle += max(cores - running, 0) * (t - last)
        running, last = running + step, t
    return idle


def bounds(jobs: pd.DataFrame, *, driver_start_s: float, driver_cpu_s: float, cores: int,
           wave_job: str, pandas_start_s: float, cold_s: float | None) -> dict:  # fmt: skip
    """The three lower bounds of a rerun's wall time (see the module docstring).

    ``driver_cpu_s``: the driver's CPU seconds after its start (scheduling, bookkeeping),
    which compete with the pooled jobs for the cores.
    """
    if cores < 1:
        raise ValueError("cores must be at least 1")
    wave = jobs[jobs["job"] == wave_job]
    if wave.empty:
        raise ValueError(f"the rerun has no {wave_job!r} job: is the study's newest wave built?")
    pooled = jobs[jobs["job"] != wave_job]
    serial = driver_start_s + float(wave["wall_s"].sum())
    imports = pooled["import_cpu_s"]
    pooled_cpu, driver_cpu = float(pooled["cpu_s"].sum()), max(driver_cpu_s, 0.0)
    cpu = pooled_cpu + driver_cpu
    out = {
        "cores": cores,
        "pooled_jobs": len(pooled),
        "serial_s": serial,
        "pooled_cpu_s": pooled_cpu,
        "pooled_import_cpu_s": float(imports.sum()),
        "driver_start_s": driver_start_s,
        "driver_cpu_after_start_s": driver_cpu,
        "floor_packed_s": serial + cpu / cores,
        "floor_pandas_start_s": serial
        + (cpu - float((imports - imports.clip(upper=pandas_start_s)).sum())) / cores,
        "floor_no_imports_s": serial + (cpu - float(imports.sum())) / cores,
        "pandas_start_s": pandas_start_s,
    }
    if cold_s:
        out["cold_s"] = cold_s
        out["target_s"] = 0.1 * cold_s
        for key in ("floor_packed", "floor_pandas_start", "floor_no_imports"):
            out[f"{key}_pct"] = 100 * out[f"{key}_s"] / cold_s
    return out


def _clocked(study: Path, cmd: list[str], log: Path) -> tuple[dict, dict, pd.DataFrame]:
    """One run of ``cmd`` with the start-up clock: the run, the driver's record, the jobs."""
    with tempfile.TemporaryDirectory(prefix="pollwaves-clock-") as folder:
        env = {"PYTHONPATH": str(CLOCK), "POLLWAVES_IMPORT_CLOCK": folder}
        run = run_snakemake(study, cmd, log, env=env)
        driver, jobs = read_clock(Path(folder))
    return run, driver, jobs


def pandas_start(repeat: int = 3) -> float:
    """Wall seconds of ``python -c 'import pandas, pyarrow.parquet'``, best of ``repeat``."""
    return best_wall([sys.executable, "-c", "import pandas, pyarrow.parquet"], repeat, check=True)


def _cold_s(path: Path, label: str, study: str) -> float | None:
    if not path.exists():
        return None
    rows = pd.read_csv(path)
    hit = rows[(rows["label"] == label) & (rows["study"] == study)]
    return float(hit["cold_wall_s"].iloc[-1]) if len(hit) else None


def format_bounds(b: dict, jobs: pd.DataFrame, wall_s: float) -> str:
    """The jobs and the bounds as printed."""
    lines = [jobs.to_string(index=False, float_format=lambda v: f"{v:.2f}"), ""]
    if "idle_core_s" in b:
        lines.append(f"idle cores between the first job's start and the last job's end: "
                     f"{b['idle_core_s']:.1f} core-s")  # fmt: skip
    target = (
        f"{b['target_s']:.1f} s (10 % of the {b['cold_s']:.1f} s cold build)"
        if "cold_s" in b
        else "unknown (no cold build)"
    )
    lines.append(f"measured rerun: {wall_s:.1f} s; target: {target}")
    lines.append(
        f"serial start: driver {b['driver_start_s']:.2f} s + new wave's job = {b['serial_s']:.2f} s"
    )
    lines.append(f"pooled jobs: {b['pooled_jobs']}, {b['pooled_cpu_s']:.1f} CPU s, of which imports "
                 f"{b['pooled_import_cpu_s']:.1f}; driver after its start {b['driver_cpu_after_start_s']:.1f} CPU s")  # fmt: skip
    for key, text in (("floor_packed", "packed"), ("floor_pandas_start", "pandas start"),
                      ("floor_no_imports", "no imports")):  # fmt: skip
        pct = f" ({b[key + '_pct']:.1f} % of cold)" if key + "_pct" in b else ""
        lines.append(f"floor, {text:12s}: {b[key + '_s']:5.1f} s{pct}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", type=Path, help="a study built by scale.py --keep")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="replays (the fastest is kept)")
    ap.add_argument("--wave-job", default="process_wave", help="the new wave's rule")
    ap.add_argument("--cold-s", type=float, help="the cold build's wall seconds")
    ap.add_argument("--label", default="after", help="scale.py's label for --cold-s")
    ap.add_argument("--scale-results", type=Path, default=ROOT / "benchmarks" / "results" / "scale.csv",
                    help="scale.py's results, for the cold build of --label and the study")  # fmt: skip
    ap.add_argument("--snakemake", default=f"{sys.executable} -m snakemake")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "rerun_floor.csv"
    )
    a = ap.parse_args(argv)
    study = a.study.resolve()
    waves = sorted(p.stem for p in (study / "data" / "processed" / "model_rows").glob("*.parquet"))
    if not waves:
        print(f"error: {study} has no built waves (data/processed/model_rows/): build it with "
              "benchmarks/scale.py --keep first", file=sys.stderr)  # fmt: skip
        return 2
    target = f"data/processed/model_rows/{waves[-1]}.parquet"
    cmd = [*a.snakemake.split(), "--cores", str(a.cores), "--forcerun", target]
    cold = a.cold_s or _cold_s(a.scale_results, a.label, study.name)
    starts, best = [], None
    for i in range(a.repeat):
        dry, dry_driver, _ = _clocked(study, [*cmd, "-n"], study / "rerun_floor.dry.log")
        starts.append((dry["wall_s"], dry_driver["cpu_s"]))
        run, driver, jobs = _clocked(study, cmd, study / "rerun_floor.log")
        if run["status"] != "ok":
            print(f"error: the replay failed ({run['status']}); see {study / 'rerun_floor.log'}",
                  file=sys.stderr)  # fmt: skip
            return 1
        print(f"replay {i + 1}: {run['wall_s']:.1f} s, {len(jobs)} jobs", flush=True)
        if best is None or run["wall_s"] < best[0]["wall_s"]:
            best = (run, driver, jobs)
    run, driver, jobs = best
    start_s, start_cpu = min(starts)
    b = bounds(jobs, driver_start_s=start_s, driver_cpu_s=driver["cpu_s"] - start_cpu,
               cores=a.cores, wave_job=a.wave_job, pandas_start_s=pandas_start(), cold_s=cold)  # fmt: skip
    b["measured_rerun_s"] = run["wall_s"]
    b["idle_core_s"] = idle_core_seconds(jobs, a.cores)
    print("\n" + format_bounds(b, jobs, run["wall_s"]))
    write(a, study, jobs, b, argv)
    print(f"\nwritten: {a.out}, {a.out.with_suffix('.meta.json').name}")
    return 0


def write(a, study: Path, jobs: pd.DataFrame, b: dict, argv: list[str] | None) -> None:
    """Replace this label's rows of ``--out`` and its entry of the metadata file."""
    new = jobs.assign(label=a.label, study=study.name)[COLUMNS]
    merge_write(new, a.out, ["label"], columns=COLUMNS)
    meta_path = a.out.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    meta[a.label] = {
        "command": " ".join(["python", "benchmarks/rerun_floor.py", *(argv or sys.argv[1:])]),
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_revision": git(ROOT, "rev-parse", "HEAD"),
        "study": study.name,
        "cpu_count": os.cpu_count(),
        "bounds": {k: round(v, 3) if isinstance(v, float) else v for k, v in b.items()},
        "data": "SYNTHETIC waves resampled from the bundled SIMULATED deliveries",
    }
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
