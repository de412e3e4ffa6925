"""Coverage and bias of the workflow's estimators against the SIMULATED population truth.

Not part of the test suite (a reduced version runs in tests/validation/test_coverage.py). Usage::

    python benchmarks/coverage.py --replicates 200 --workers 2            # everything
    python benchmarks/coverage.py --part models --kinds trend_prediction --merge

``--part models`` writes ``benchmarks/results/validation_coverage.csv`` (one row per
estimate kind and method) and ``validation_coverage_detail.csv`` (one row per estimate);
``--part poll_average`` writes ``poll_average_coverage.csv`` and
``poll_average_coverage_detail.csv`` (:mod:`pollwaves.validation.poll_average_coverage`);
``--part all`` (default) both. The poll-average part also writes
``poll_average_coverage_positions.csv``: the published series with partial-information
dates (bounds only) rerun with the truth moved inside the published bounds (``--positions``,
``--position-replicates``; :mod:`pollwaves.validation.poll_bound_position`). Each pair has
a sidecar ``.meta.json`` with the command, date, code revision, wall time and replicates.
``--kinds`` runs only some estimate kinds of the models part; with ``--merge`` the rows of
the other kinds already in ``--out`` are kept (the meta json keeps one entry per kind under
``kinds``).
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

from pollwaves.files import FLOAT_FORMAT
from pollwaves.simulate.simulation import load_simulation_config
from pollwaves.validation.coverage import (
    Study,
    binomial_band,
    kind_summary,
    run_replicate,
    summarise,
)
from pollwaves.validation.model_coverage import CHECKS, KINDS

ROOT = Path(__file__).resolve().parents[1]
ALL_KINDS = ["topline", *KINDS]
KEY_ORDER = ["wave", "question", "domain", "period", "category", "model_spec", "model",
             "outcome", "date", "variable", "level", "reference"]  # fmt: skip
DETAIL, SUMMARY = "validation_coverage_detail.csv", "validation_coverage.csv"
META = "validation_coverage.meta.json"
_STUDY: Study | None = None


def _init(size: int | None) -> None:
    global _STUDY
    _STUDY = Study(ROOT, size=size)


def _one(args: tuple[list[str], int, list[str], list[str]]) -> dict[str, pd.DataFrame]:
    waves, r, checks, kinds = args
    res = run_replicate(_STUDY, waves, r, checks)
    return {k: v for k, v in res.items() if k in kinds or k == "failures"}


def _stamp(argv: list[str] | None, start: float, replicates: int) -> dict:
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "command": "python benchmarks/coverage.py " + " ".join(argv or sys.argv[1:]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "code_revision": rev,
        "wall_time_seconds": round(time.perf_counter() - start, 1),
        "replicates": replicates,
        "data": "SIMULATED population and samples (pollwaves.simulate)",
    }


def _model_specs(est: pd.DataFrame, truth: pd.Series) -> dict:
    """Replicates per model specification (strongest predictor, spline knots)."""
    population = str(truth.index.get_level_values("model_spec")[0])
    per = est.groupby("model_spec")["replicate"].nunique().sort_index()
    return {"population": population, "replicates": {str(k): int(v) for k, v in per.items()}}


def run_models(a: argparse.Namespace, argv: list[str] | None) -> None:
    """The models part: toplines and the pooled-model checks of the kinds asked for."""
    start = time.perf_counter()
    kinds = list(a.kinds or ALL_KINDS)
    checks = [n for n, (_, ks, _) in CHECKS.items() if set(ks) & set(kinds)]
    study = Study(ROOT, size=a.size)
    waves = a.waves or study.sim.waves
    jobs = [(waves, r, checks, kinds) for r in range(a.replicates)]
    with ProcessPoolExecutor(a.workers, initializer=_init, initargs=(a.size,)) as pool:
        results = list(pool.map(_one, jobs, chunksize=2))
    failures = pd.concat([res.pop("failures") for res in results], ignore_index=True)
    tables, specs = [], {}
    for kind in kinds:
        est = pd.concat([res[kind] for res in results if kind in res], ignore_index=True)
        if est.empty:
            continue
        truth, keys = study.truth_for(kind, waves)
        level = float(study.estimation["level"])
        tables.append(summarise(est, truth, kind=kind, keys=keys, level=level))
        if "model_spec" in keys:
            specs[kind] = _model_specs(est, truth)
    detail = pd.concat(tables, ignore_index=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    previous = {}
    if a.merge and (out / DETAIL).exists():
        old = pd.read_csv(out / DETAIL, dtype=str, keep_default_na=False)
        old = old[~old["kind"].isin(detail["kind"])]
        detail = pd.concat([detail, _typed(old)], ignore_index=True)
        if (out / META).exists():
            previous = json.loads((out / META).read_text()).get("kinds", {})
    detail = detail.sort_values("kind", kind="stable").reset_index(drop=True)
    keys = [c for c in KEY_ORDER if c in detail.columns]
    detail = detail[
        ["kind", "method", *keys, *[c for c in detail if c not in {"kind", "method", *keys}]]
    ]
    summary = kind_summary(detail, float(study.estimation["level"]))
    detail.to_csv(out / DETAIL, index=False, float_format=FLOAT_FORMAT)
    summary.to_csv(out / SUMMARY, index=False, float_format=FLOAT_FORMAT)
    meta = _stamp(argv, start, a.replicates) | {
        "level": float(study.estimation["level"]),
        "band": 0.99,
        "waves": waves,
        "model_failures": failures.groupby("check").size().to_dict() if len(failures) else {},
    }
    this_run = {k: meta[k] for k in ("command", "date", "code_revision", "replicates")}
    meta["kinds"] = {k: v for k, v in previous.items() if k not in kinds} | {
        k: this_run | {"model_spec": specs.get(k)} for k in kinds
    }
    (out / META).write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.to_string(index=False))
    print(f"models: wall time {meta['wall_time_seconds']} s; written to {out}")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns of a detail table read back as text (keys stay text)."""
    num = ["truth", "replicates", "mean_estimate", "coverage", "mean_ci_width", "bias",
           "band_low", "band_high"]  # fmt: skip
    out = frame.replace("", pd.NA)
    for c in num:
        out[c] = pd.to_numeric(out[c])
    out["outside_band"] = out["outside_band"].map({"True": True, "False": False})
    return out


def _poll_average_runner():
    """``run_poll_average_coverage`` of the published helper (contract interface 3)."""
    try:
        from pollwaves.validation.poll_average_coverage import run_poll_average_coverage
    except ImportError as err:
        raise SystemExit(
            "--part poll_average needs pollwaves.validation.poll_average_coverage."
            f"run_poll_average_coverage (issue 12, interface 3), which is not importable: {err}."
            " Run with --part models until it is merged."
        ) from err
    return run_poll_average_coverage


def _level() -> float:
    from pollwaves import config

    return float(config.load_yaml(ROOT / "config" / "config.yaml")["estimation"]["level"])


def _with_band(summary: pd.DataFrame, level: float) -> pd.DataFrame:
    """The 99% binomial band of a correct ``level`` band for each row's replicates (when the
    poll-average summary does not carry it), and whether the mean coverage is outside it."""
    out = summary.copy()
    if not {"band_low", "band_high"} <= set(out.columns):
        bands = [binomial_band(int(r), level) for r in out["replicates"]]
        out["band_low"] = [b[0] for b in bands]
        out["band_high"] = [b[1] for b in bands]
    if "outside_band" not in out.columns:
        out["outside_band"] = (out["mean_coverage"] < out["band_low"]) | (
            out["mean_coverage"] > out["band_high"]
        )
    out["band_level"] = out.get("band_level", 0.99)
    return out


_SPLIT = ["source", "question", "category", "dates", "mean_coverage", "target_met",
          "point_dates", "point_mean_coverage", "point_min_coverage", "target_met_point",
          "point_normal_coverage", "partial_dates", "partial_mean_coverage",
          "partial_min_coverage", "partial_mean_ci_width", "partial_min_truth_margin_sd",
          "partial_normal_coverage"]  # fmt: skip


def _positions(a: argparse.Namespace, detail: pd.DataFrame, seed: int):
    """Coverage of every published series with partial-information dates, its truth moved
    across the range the published categories allow (``validation.poll_bound_position``),
    and the simulator's own positions (series -> truth wave -> position)."""
    from pollwaves.validation.poll_average_coverage import PollStudy
    from pollwaves.validation.poll_bound_position import position_coverage, simulator_positions

    part = detail[(detail["source"] == "published") & (detail["information"] == "partial")]
    series = list(part[["question", "category"]].drop_duplicates().itertuples(index=False))
    study = PollStudy(ROOT)
    own = {f"{q}/{c}": simulator_positions(study, q, c) for q, c in series}
    frames = [
        position_coverage(
            ROOT, q, c, a.positions, replicates=a.position_replicates, seed=seed, workers=a.workers
        )  # fmt: skip
        for q, c in series
    ]
    return (pd.concat(frames, ignore_index=True) if frames else None), own


def _print_poll(res: dict, positions: pd.DataFrame | None, level: float) -> None:
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(res["summary"].to_string(index=False))
        print("\nCoverage split by the information of each date (point: the published cell")
        print("locates the estimate to within its sampling SD x sqrt(12); partial: a bound or")
        print("a part-and-complement interval, where the truth's place inside the allowed range")
        print("is the simulator's assumption):")
        print(res["summary"][_SPLIT].to_string(index=False))
        part = res["detail"][res["detail"]["information"] == "partial"]
        if not part.empty:
            print("\nPartial-information dates: the truth's distance from the nearer band end,")
            print("in SDs of that end over the replicates, and the coverage it implies:")
            cols = ["source", "question", "category", "wave", "kind", "interval_sd_ratio",
                    "truth", "coverage", "mean_ci_width", "truth_margin_sd", "normal_coverage"]  # fmt: skip
            print(part[cols].to_string(index=False))
        if positions is not None:
            tab = positions.pivot_table(
                index=["question", "category", "wave", "information"], columns="position",
                values="coverage", sort=False,
            )  # fmt: skip
            print("\nCoverage per date with the truth moved inside the published bounds")
            print("(position 0: lowest value the published categories allow, 1: highest):")
            print(tab.to_string())
    print(
        f"\nExpected at partial-information dates: coverage is NOT {level:.0%} for a fixed\n"
        "truth. The band there is set by the bounds and the walk through the neighbouring\n"
        "dates; its ends move only by the sampling noise of the published parts, so a truth\n"
        "well inside the allowed range is covered almost always (above nominal, as for a\n"
        "point inside the identified set of a partially identified value, Imbens & Manski\n"
        "2004) and a truth near either end of that range less often than nominal, down to\n"
        "never. The published data do not reveal where the truth sits, so the 93-97 % target\n"
        "is checkable only on the point-information dates (target_met_point).\n"
    )


def run_poll_average(a: argparse.Namespace, argv: list[str] | None) -> None:
    """The poll-average part: band coverage per series against the simulator's true paths."""
    runner = _poll_average_runner()
    start = time.perf_counter()
    if a.seed is None:
        seed = int(load_simulation_config(ROOT / "config" / "simulation.yaml")["seed"])
    else:
        seed = a.seed
    replicates = a.poll_replicates or a.replicates
    res = runner(ROOT, replicates=replicates, seed=seed, workers=a.workers)
    res["summary"] = _with_band(res["summary"], _level())
    positions, own = None, {}
    if a.position_replicates > 0:
        positions, own = _positions(a, res["detail"], seed)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res["summary"].to_csv(
        out / "poll_average_coverage.csv", index=False, float_format=FLOAT_FORMAT
    )
    res["detail"].to_csv(
        out / "poll_average_coverage_detail.csv", index=False, float_format=FLOAT_FORMAT
    )
    if positions is not None:
        positions.to_csv(
            out / "poll_average_coverage_positions.csv", index=False, float_format=FLOAT_FORMAT
        )
    meta = _stamp(argv, start, replicates) | {"seed": seed, "band": 0.99, "level": _level()}
    meta["data"] = "SIMULATED true paths and poll series (pollwaves.simulate)"
    meta["positions"] = {
        "file": "poll_average_coverage_positions.csv" if positions is not None else None,
        "positions": list(a.positions), "replicates": a.position_replicates,
        "simulator_positions": {k: {w: round(p, 4) for w, p in v.items()} for k, v in own.items()},
        "note": "truth of partial-information dates moved inside the published bounds "
        "(pollwaves.validation.poll_bound_position); SIMULATED",
    }  # fmt: skip
    (out / "poll_average_coverage.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    _print_poll(res, positions, _level())
    for key, pos in own.items():
        where = ", ".join(f"{w} {p:.2f}" for w, p in pos.items())
        print(f"{key}: the simulator's own truth sits at position {where}")
    print(f"poll average: wall time {meta['wall_time_seconds']} s; written to {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["models", "poll_average", "all"], default="all")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--kinds", nargs="+", choices=ALL_KINDS, help="models part: default all")
    ap.add_argument("--merge", action="store_true", help="keep other kinds' rows in --out")
    ap.add_argument("--waves", nargs="*", help="default: all simulated waves")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size", type=int, help="population size (default: config)")
    ap.add_argument("--seed", type=int, help="poll-average part: seed (default: simulation)")
    ap.add_argument(
        "--poll-replicates", type=int, help="poll-average part (default: --replicates)"
    )
    ap.add_argument(
        "--positions", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0],
        help="poll-average part: truth positions inside the published bounds",
    )  # fmt: skip
    ap.add_argument(
        "--position-replicates", type=int, default=200,
        help="poll-average part: replicates per position (0: skip)",
    )  # fmt: skip
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    a = ap.parse_args(argv)
    if a.part in ("poll_average", "all"):
        _poll_average_runner()  # fail before the long models part, not after it
    if a.part in ("models", "all"):
        run_models(a, argv)
    if a.part in ("poll_average", "all"):
        run_poll_average(a, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
