"""Kernel speed against R ``survey`` and a numpy sketch, on SIMULATED polls (issue 15).

Prints figures only, never asserts on timings (they depend on the machine and its load).
The data are synthetic and seeded: waves of 10,000 simulated respondents with sex, age,
education, settlement and a 5-category answer. Tasks:

- ``rake``: rake each wave to 4 margins (R: ``calibrate(..., calfun="raking")`` per wave);
- ``shares``: all wave x settlement shares with linearised SEs, strata = waves (R ``svyby(~y,
  ~wave + settlement, design, svymean)``);
- ``shares_cal``: the same with raking-aware SEs (each wave raked separately); pollwaves
  in one pooled call with ``calibration_by="wave"`` (``shares_cal_loop``: one call per wave,
  the form older versions need), R ``svyby`` per calibrated wave design;
  ``shares_cal_pooled``: one raking of the pooled sample (main effects, no per-wave
  calibration), the one-call form older versions have (no R or numpy figure: another model);
- ``logit``: design-based logit with 9 coefficients (R ``svyglm``, quasibinomial);
- ``mnlogit``: weighted multinomial logit, 5 categories, 36 coefficients with design SEs
  (R ``nnet::multinom``: points only);
- ``mnlogit_wave_shares``: the same with ``C(wave)`` in the model and the predicted shares by
  wave with their SEs (the pooled ``alliance_models`` job; pollwaves only).

Usage::

    python benchmarks/speed.py --sizes 100000 1000000 --memory-sizes 100000 1000000

Writes ``benchmarks/results/speed.csv`` and ``speed.meta.json`` (``--label`` names the code
version measured, e.g. ``before`` with ``PYTHONPATH`` on another checkout's ``src``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed_limits as lim

from pollwaves.survey.estimation import proportions
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.mnlogit import weighted_mnlogit
from pollwaves.survey.weighting import rake

ROOT = Path(__file__).resolve().parents[1]
CATS = ["russia", "eu", "both", "outside", "hard_to_say"]
LEVELS = {"sex": ["f", "m"], "age": ["a1", "a2", "a3"], "edu": ["e1", "e2", "e3"]}
LEVELS["settlement"] = ["s1", "s2", "s3", "s4"]
SAMPLE = {"sex": [0.45, 0.55], "age": [0.25, 0.35, 0.4], "edu": [0.3, 0.4, 0.3]}
SAMPLE["settlement"] = [0.35, 0.3, 0.2, 0.15]
TARGET = {"sex": [0.54, 0.46], "age": [0.3, 0.35, 0.35], "edu": [0.25, 0.45, 0.3]}
TARGET["settlement"] = [0.3, 0.3, 0.2, 0.2]
RAKE = list(LEVELS)
MARGINS = {v: dict(zip(LEVELS[v], TARGET[v], strict=True)) for v in RAKE}
RHS = "C(sex) + C(age) + C(edu) + C(settlement)"
PER_WAVE = 10_000


def make_data(n: int, seed: int = 15) -> pd.DataFrame:
    """``n`` simulated respondents in waves of 10,000, raked weights ``w`` per wave."""
    rng = np.random.default_rng(seed)
    waves = max(n // PER_WAVE, 1)
    wave = np.minimum(np.arange(n) // PER_WAVE, waves - 1)
    codes = {v: rng.choice(len(LEVELS[v]), n, p=SAMPLE[v]) for v in RAKE}
    eff = rng.normal(scale=0.4, size=(14, len(CATS)))
    eta = eff[0] + np.outer(wave / waves, eff[1])
    col = 2
    for v in RAKE:
        eta = eta + eff[col + codes[v]]
        col += len(LEVELS[v])
    ans = np.argmax(eta + rng.gumbel(size=eta.shape), axis=1)
    df = pd.DataFrame({"wave": [f"w{k:03d}" for k in range(waves)]}).iloc[wave]
    df = df.reset_index(drop=True)
    for v in RAKE:
        df[v] = np.asarray(LEVELS[v], dtype=object)[codes[v]]
    df["alliance"] = np.asarray(CATS, dtype=object)[ans]
    df["yes"] = (ans == 0).astype(float)
    df["w"] = 0.0
    for _, idx in df.groupby("wave").indices.items():
        df.loc[idx, "w"] = rake(df.iloc[idx], MARGINS).to_numpy()
    return df


def _has(fn, keyword: str) -> bool:
    return keyword in inspect.signature(fn).parameters


def pollwaves_tasks(df: pd.DataFrame) -> dict:
    """The pollwaves call of each task (callables on the same data)."""
    waves = df.groupby("wave").indices

    def rake_all():
        return [rake(df.iloc[idx], MARGINS) for idx in waves.values()]

    def cal_loop():
        return [
            proportions(df.iloc[idx], "alliance", "w", by="settlement", calibrated_on=RAKE)
            for idx in waves.values()
        ]

    tasks = {
        "rake": rake_all,
        "shares": lambda: proportions(
            df, "alliance", "w", by=["wave", "settlement"], strata="wave"
        ),
        "shares_cal_loop": cal_loop,
        "logit": lambda: weighted_logit(df, "yes ~ " + RHS, "w", strata="wave"),
        "mnlogit": lambda: weighted_mnlogit(df, "alliance ~ " + RHS, "w", strata="wave").bse,
    }
    # the pooled alliance model of the workflow: wave in the model, shares predicted by wave
    tasks["mnlogit_wave_shares"] = lambda: weighted_mnlogit(
        df, "alliance ~ C(wave) + " + RHS, "w", strata="wave"
    ).predicted_shares(by="wave")
    # one raking of the pooled sample (main effects): the one-call form older versions have
    tasks["shares_cal_pooled"] = lambda: proportions(
        df, "alliance", "w", by=["wave", "settlement"], strata="wave", calibrated_on=RAKE
    )
    if _has(proportions, "calibration_by"):
        tasks["shares_cal"] = lambda: proportions(
            df, "alliance", "w", by=["wave", "settlement"], strata="wave",
            calibrated_on=RAKE, calibration_by="wave",
        )  # fmt: skip
    return tasks


def limit_tasks(df: pd.DataFrame) -> dict:
    """The numpy sketch of each task (integer codes prepared outside the timing)."""
    wave = pd.factorize(df["wave"], sort=True)[0]
    n_w = int(wave.max()) + 1
    codes = [pd.Categorical(df[v], categories=LEVELS[v]).codes.astype(np.int64) for v in RAKE]
    targets = [np.asarray(TARGET[v]) for v in RAKE]
    y = pd.Categorical(df["alliance"], categories=sorted(CATS)).codes.astype(np.int64)
    yes = df["yes"].to_numpy().astype(np.int64)
    w = df["w"].to_numpy()
    n_h = np.bincount(wave).astype(float)
    dom = wave * 4 + codes[3]
    dom_stratum = np.repeat(np.arange(n_w), 4)
    pattern = ((codes[0] * 3 + codes[1]) * 3 + codes[2]) * 4 + codes[3]  # 72 patterns
    cell = wave * 72 + pattern
    pat = np.array(np.unravel_index(np.arange(72), (2, 3, 3, 4))).T
    px = np.column_stack([np.ones(72)] + [np.eye(k)[pat[:, j]][:, 1:] for j, k in
                                         enumerate((2, 3, 3, 4))])  # fmt: skip
    cell_x, cell_stratum = np.tile(px, (n_w, 1)), np.repeat(np.arange(n_w), 72)

    def model(kind):
        def run():
            resp = yes if kind == "logit" else y
            k = 2 if kind == "logit" else len(CATS)
            key = cell * k + resp
            size = n_w * 72 * k
            cw = np.bincount(key, weights=w, minlength=size)
            cw2 = np.bincount(key, weights=w * w, minlength=size)
            keep = cw > 0
            x = np.repeat(cell_x, k, axis=0)[keep]
            yy = np.tile(np.arange(k), n_w * 72)[keep]
            hh = np.repeat(cell_stratum, k)[keep]
            if kind == "logit":
                return lim.logit_cells(x, yy.astype(float), cw[keep], cw2[keep], hh, n_h)
            return lim.mnlogit_cells(x, yy, k, cw[keep], cw2[keep], hh, n_h)

        return run

    return {
        "rake": lambda: lim.rake_all(codes, targets, wave, n_w),
        "shares": lambda: lim.shares(y, len(CATS), dom, dom_stratum, n_h, w),
        "shares_cal": lambda: lim.shares_calibrated(
            y, len(CATS), dom, dom_stratum, n_h, w, cell, n_w * 72, cell_x, cell_stratum
        ),
        "logit": model("logit"),
        "mnlogit": model("mnlogit"),
    }


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def r_times(df: pd.DataFrame, tasks: list[str], repeat: int) -> dict[str, float]:
    """Run ``benchmarks/speed.R`` on the same data; seconds per task (best of ``repeat``)."""
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "data.csv", Path(tmp) / "r.csv"
        df.to_csv(data, index=False)
        cmd = ["Rscript", str(ROOT / "benchmarks" / "speed.R"), str(data), str(out)]
        subprocess.run([*cmd, ",".join(tasks), str(repeat)], check=True)
        res = pd.read_csv(out)
    return dict(zip(res["task"], res["seconds"], strict=True))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--memory-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--tasks", nargs="+", default=None, help="default: all")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--r-repeat", type=int, default=1)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--r-cal-max", type=int, default=100_000, help="largest n for R shares_cal")
    ap.add_argument("--label", default="after")
    ap.add_argument(
        "--source-revision", default=None, help="revision of the pollwaves code measured"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.csv")
    args = ap.parse_args(argv)
    rows = []
    for n in sorted(set(args.sizes) | set(args.memory_sizes)):
        df = make_data(n)
        ours, limits = pollwaves_tasks(df), limit_tasks(df)
        names = [t for t in ours if args.tasks is None or t in args.tasks]
        timed = n in args.sizes
        r_tasks = [
            t
            for t in names
            if t not in ("shares_cal_loop", "shares_cal_pooled", "mnlogit_wave_shares")
            and (t != "shares_cal" or n <= args.r_cal_max)
        ]
        r = r_times(df, r_tasks, args.r_repeat) if timed and not args.no_r and r_tasks else {}
        for t in names:
            sec = best_of(ours[t], args.repeat) if timed else np.nan
            base = t.removesuffix("_loop").removesuffix("_pooled")
            same = (t == base or t.endswith("_loop")) and base in limits  # pooled: another model
            lim_s = best_of(limits[base], args.repeat) if timed and same else np.nan
            r_s = r.get(base, np.nan) if same else np.nan
            mem = peak_mb(ours[t]) if n in args.memory_sizes else np.nan
            row = {"label": args.label, "task": t, "n": n, "waves": df["wave"].nunique(),
                   "pollwaves_s": sec, "r_s": r_s, "numpy_limit_s": lim_s,
                   "r_over_pollwaves": r_s / sec, "pollwaves_over_limit": sec / lim_s,
                   "peak_alloc_mb": mem}  # fmt: skip
            rows.append(row)
            print(
                f"{args.label:<7} n={n:>9,} {t:<16} pollwaves {sec:9.3f} s  R {r_s:9.3f} s  "
                f"limit {lim_s:8.3f} s  R/pw {r_s / sec:7.1f}x  pw/limit {sec / lim_s:6.1f}x  "
                f"peak {mem:8.1f} MB",
                flush=True,
            )
    out = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.exists():  # keep the rows of other labels, tasks and sizes (one table)
        old = pd.read_csv(args.out)
        key = ["label", "task", "n"]
        stale = old.set_index(key).index.isin(out.set_index(key).index)
        out = pd.concat([old[~stale], out], ignore_index=True)
    out.to_csv(args.out, index=False, float_format="%.6g")
    meta_path = args.out.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    runs = meta.get(args.label, [])
    runs = [runs] if isinstance(runs, dict) else runs  # one entry per run of the label
    runs.append(_meta(argv) | {"pollwaves_revision": args.source_revision or "HEAD"})
    meta[args.label] = runs
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")


def _meta(argv) -> dict:
    def git(*a):
        try:
            return subprocess.run(
                ["git", *a], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
        except OSError:
            return ""

    import pollwaves

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    r_ver = subprocess.run(
        ["Rscript", "-e", 'cat(R.version.string, "survey", format(packageVersion("survey")))'],
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {
        "command": " ".join(["python", "benchmarks/speed.py", *(argv or sys.argv[1:])]),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_revision": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain")),
        "pollwaves_source": str(Path(pollwaves.__file__).resolve().parent),
        "cores": os.cpu_count(),
        "memory_gb": round(mem, 1),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "r": r_ver,
        "data": "SIMULATED respondents (seeded synthetic waves of 10,000), not real polls",
        "note": "timings are best-of runs on a shared, loaded machine: compare ratios in one run",
    }


if __name__ == "__main__":
    main()
