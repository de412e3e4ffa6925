"""Coverage and bias of the workflow's estimators against the SIMULATED population truth.

Not part of the test suite (a reduced version runs in tests/validation/test_coverage.py). Usage::

    python benchmarks/coverage.py --replicates 200 --workers 2

Writes ``benchmarks/results/validation_coverage.csv`` (one row per estimate kind and
method) and ``validation_coverage_detail.csv`` (one row per estimate), with a sidecar
``validation_coverage.meta.json`` holding the command, date, code revision and wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from pollwaves.validation.coverage import (
    MODEL_CHECKS,
    Study,
    kind_summary,
    run_replicate,
    summarise,
)

ROOT = Path(__file__).resolve().parents[1]
_STUDY: Study | None = None


def _init(size: int | None) -> None:
    global _STUDY
    _STUDY = Study(ROOT, size=size)


def _one(args: tuple[list[str], int]) -> dict[str, pd.DataFrame]:
    waves, r = args
    return run_replicate(_STUDY, waves, r, MODEL_CHECKS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--waves", nargs="*", help="default: all simulated waves")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size", type=int, help="population size (default: config)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    a = ap.parse_args(argv)
    start = time.perf_counter()
    study = Study(ROOT, size=a.size)
    waves = a.waves or study.sim.waves
    jobs = [(waves, r) for r in range(a.replicates)]
    with ProcessPoolExecutor(a.workers, initializer=_init, initargs=(a.size,)) as pool:
        results = list(pool.map(_one, jobs, chunksize=4))
    tables = []
    failures = pd.concat([res.pop("failures") for res in results], ignore_index=True)
    kinds = sorted({k for res in results for k in res})
    for kind in kinds:
        est = pd.concat([res[kind] for res in results if kind in res], ignore_index=True)
        truth, keys = study.truth_for(kind)
        tables.append(summarise(est, truth, kind=kind, keys=keys))
    detail = pd.concat(tables, ignore_index=True)
    summary = kind_summary(detail)
    wall = time.perf_counter() - start
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    detail.to_csv(out / "validation_coverage_detail.csv", index=False, float_format="%.6g")
    summary.to_csv(out / "validation_coverage.csv", index=False, float_format="%.6g")
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    meta = {
        "command": "python benchmarks/coverage.py " + " ".join(argv or sys.argv[1:]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "code_revision": rev,
        "wall_time_seconds": round(wall, 1),
        "replicates": a.replicates,
        "model_failures": failures.groupby("check").size().to_dict() if len(failures) else {},
        "waves": waves,
        "data": "SIMULATED population and samples (pollwaves.simulate)",
    }
    (out / "validation_coverage.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(summary.to_string(index=False))
    print(f"wall time {wall:.1f} s; written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
