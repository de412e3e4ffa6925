"""Coverage of the poll-average band against known truth (SIMULATED truth, both sources).

For every series of ``trend.series`` and both sources, replicate observations are drawn
from the simulator's population true shares (``data/raw/simulation/truth.csv``, SIMULATED)
with the project's own variances, the poll average is fitted exactly as
:func:`pollwaves.stages.waves.run_poll_average` fits it, and the share of replicates whose
``estimation.level`` band covers the truth is counted per series and date.

- **Truth.** The simulator knows the true shares only at its waves (there is no continuous
  true path in ``config/simulation.yaml``), so coverage is measured at the observation
  dates (fieldwork mid-dates). Published waves after the last simulated wave (2024-12,
  2025-11) carry the truth of the last simulated wave: an ASSUMED flat truth there.
- **Simulated source.** Per wave ``p_hat = truth + N(0, se^2)`` with the design-based SE of
  that wave from ``reports/tables/toplines.csv`` / ``contrasts.csv`` (the workflow's own
  variances); without these tables (a fresh clone before the workflow ran) the SE is the
  binomial one with the wave N of ``config/simulation.yaml`` (``variance_source`` says which).
- **Published source.** For every wave and question with published whole-sample cells (the
  real ones, :func:`pollwaves.published.select.published_main`), the pollster's estimates
  of all categories are drawn jointly, ``N(truth, deff (diag(p) - p p') / N)`` with the
  published N and ``trend.published_deff``, and every real cell is re-published in its own
  form: a whole number stays a whole number, a ``>41`` becomes a lower bound at the whole
  number below the drawn value, a ``1/4`` the nearest simple fraction, ``about``/``almost``
  the same approximation, a sum a sum. The synthetic table then goes through
  :func:`pollwaves.published.intervals.implied_intervals` (complement, contrasts from parts)
  and the censored grid smoother, as in the workflow.

The band is computed at the observation dates only (``grid=None``); the monthly output dates
of the workflow do not change it there (they are time points without observations).

- **Point and partial information.** ``interval_sd_ratio``: width of a date's implied
  interval over the estimate's sampling SD ``sqrt(deff m (1 - m) / n)`` (``m`` its midpoint;
  0 for microdata), mean over replicates. ``information="point"`` when at most
  :data:`POINT_RATIO` (``sqrt(12)``: a uniform position inside the interval adds at most
  ``width^2 / 12``, Sheppard, no more than the sampling variance; a whole number is about
  0.5 SD wide), else ``"partial"``: a bound or a part-and-complement interval (Apr 2021
  neutral 45.5-68.5 %, about 13 SD) leaves the estimate's place inside unidentified
  (partial identification, Imbens & Manski 2004, Econometrica 72: 1845-57). There the band
  is set by the bounds and the walk through the neighbouring dates, and its coverage depends
  on where the fixed truth sits inside the allowed range: here the simulator's ASSUMPTION
  (:mod:`.poll_bound_position` moves it). ``truth_margin_sd``: the truth's distance from the
  nearer band end in SDs of that end over the replicates; ``normal_coverage = Phi(z_low) +
  Phi(z_high) - 1`` the coverage it implies. At a point date the truth sits about 2 SD
  inside; at a partial date the ends move only by the noise of the published parts, so the
  coverage is near 1 (truth well inside) or near 0 (truth beyond an end), not near nominal.
  The target (93-97 % mean, no date below 85 %) is checked on all dates (``target_met``) and
  on the point dates alone (``target_met_point``).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from pollwaves import config
from pollwaves.analysis import poll_average as pa
from pollwaves.analysis import poll_inputs
from pollwaves.errors import InputError
from pollwaves.published.intervals import implied_intervals
from pollwaves.published.select import published_main

__all__ = [
    "POINT_RATIO", "PollStudy", "published_fits", "replicate_coverage", "scored_bands",
    "run_poll_average_coverage", "summarise_bands",
]  # fmt: skip

DETAIL_COLUMNS = ["source", "question", "category", "wave", "date", "truth", "replicates"]
DETAIL_COLUMNS += ["coverage", "mean_estimate", "mean_ci_width", "kind", "interval_sd_ratio"]
DETAIL_COLUMNS += ["information", "truth_margin_sd", "normal_coverage"]
POINT_RATIO = poll_inputs.POINT_RATIO
_RELATIONS = ("equals", "sum_of", "part_of")


class PollStudy:
    """Configured series, truth, variances and published forms, loaded once.

    Parameters
    ----------
    root : path
        Project root (``config/``, ``data/raw/``, optionally ``reports/tables/``).
    """

    def __init__(self, root: str | os.PathLike[str]):
        root = Path(root)
        cfg = config.load_yaml(root / "config" / "config.yaml")
        self.level = float(cfg["estimation"]["level"])
        self.contrasts = cfg["estimation"].get("contrasts") or {}
        self.deff = float(cfg["trend"]["published_deff"])
        self.series = [(s["question"], s["category"]) for s in cfg["trend"]["series"]]
        truth = pd.read_csv(root / "data" / "raw" / "simulation" / "truth.csv", dtype=str)
        truth = truth[truth["domain"] == "all"].astype({"share": float})
        self.truth = {(w, q, c): s for w, q, c, s in truth[["wave", "question", "category",
                                                              "share"]].itertuples(index=False)}  # fmt: skip
        self.sim_waves = sorted(truth["wave"].unique())
        waves_dir = root / cfg["waves_dir"]
        fieldwork = {}
        for p in sorted(waves_dir.glob("*.yaml")):
            fw = config.load_yaml(p)["fieldwork"]
            fieldwork[p.stem] = (fw["start"], fw["end"])
        self.dates = poll_inputs.fieldwork_mid_dates(fieldwork)
        self.simulated = self._simulated_inputs(root, cfg)
        used, _ = published_main(
            root / cfg["published"]["toplines"], root / cfg["published"]["labels"],
            codebook_path=root / cfg["codebook"],
        )  # fmt: skip
        sub = used["subgroup_variable"]
        used = used[(sub.isna() | (sub.astype(str) == "")) & used["relation"].isin(_RELATIONS)]
        questions = {q for q, _ in self.series}
        self.published = used[used["question"].isin(questions) & used["n_respondents"].notna()]
        self.published = self.published.reset_index(drop=True)

    def _simulated_inputs(self, root: Path, cfg: dict) -> dict:
        """(question, category) -> frame ``wave, se`` of the microdata series."""
        tables = root / "reports" / "tables"
        out = {}
        if (tables / "toplines.csv").exists() and (tables / "contrasts.csv").exists():
            top = pd.read_csv(tables / "toplines.csv", dtype={"wave": str, "category": str})
            cont = pd.read_csv(tables / "contrasts.csv", dtype={"wave": str})
            cont = cont.rename(columns={"contrast": "category"})
            self.variance_source = "reports/tables (design-based SE per wave)"
            for q, c in self.series:
                tab = cont if c in set(cont["category"][cont["question"] == q]) else top
                rows = tab[(tab["question"] == q) & (tab["category"] == c)]
                if "domain" in rows.columns:
                    rows = rows[rows["domain"] == "all"]
                out[(q, c)] = rows[["wave", "se"]].astype({"wave": str}).reset_index(drop=True)
            return out
        sim = config.load_yaml(root / "config" / "simulation.yaml")["waves"]
        self.variance_source = "binomial SE with the wave N (no reports/tables/toplines.csv)"
        for q, c in self.series:
            rows = []
            for w in self.sim_waves:
                p = self.truth_share(w, q, c)
                if p is not None and str(w) in sim:
                    rows.append((w, math.sqrt(p * (1 - p) / float(sim[str(w)]["n"]))))
            out[(q, c)] = pd.DataFrame(rows, columns=["wave", "se"])
        return out

    def truth_wave(self, wave: str) -> str | None:
        """The simulated wave whose truth stands for ``wave`` (the last one not after it)."""
        earlier = [w for w in self.sim_waves if w <= wave[:7]]
        return earlier[-1] if earlier else None

    def truth_share(self, wave: str, question: str, category: str) -> float | None:
        """True share of a category or contrast at ``wave`` (None if not simulated)."""
        w = self.truth_wave(str(wave))
        coefs = self.contrasts.get(question, {}).get(category, {category: 1.0})
        vals = [self.truth.get((w, question, str(k))) for k in coefs]
        if w is None or any(v is None for v in vals):
            return None
        return float(sum(float(c) * v for c, v in zip(coefs.values(), vals, strict=True)))


def _republish(row, e: float) -> dict:
    """The drawn estimate ``e`` (percent) published in the form of the real ``row``."""
    value, qual = float(row.value), str(row.qualifier)
    out = dict(low=np.nan, high=np.nan)
    if str(row.relation) == "part_of" or qual == "lower_bound":
        v = float(math.floor(e))
        out.update(value=v, low=v, high=100.0, percent=f">{v:g}")
    elif qual == "upper_bound":
        v = float(math.ceil(e))
        out.update(value=v, low=0.0, high=v, percent=f"<{v:g}")
    elif qual == "approximate":
        almost = float(row.high) <= value
        v = float(math.ceil(e) if almost else round(e))
        out.update(value=v, low=v - 1, high=v if almost else v + 1, percent=f"~{v:g}")
    elif qual == "fraction":
        fr = [Fraction(i, j) for j in range(2, 6) for i in range(1, j)]
        best = min(fr, key=lambda f: (abs(float(f) - e / 100), f.denominator))
        v = 100 * float(best)
        out.update(value=v, low=v, high=v, percent=f"{best.numerator}/{best.denominator}")
    elif qual == "range":
        v = float(math.floor(e))
        out.update(value=v - 1, low=v - 1, high=v + 1, percent=f"{v - 1:g}-{v + 1:g}")
    else:
        digits = next(d for d in range(4) if abs(value * 10**d - round(value * 10**d)) < 1e-6)
        v = round(e, digits)
        out.update(value=v, low=v, high=v, percent=f"{v:g}")
    return out


def synthetic_published(study: PollStudy, rng: np.random.Generator) -> pd.DataFrame:
    """One replicate of the published table: the real cells' forms, drawn estimates."""
    rows = []
    for (wave, question), group in study.published.groupby(["wave", "question"], sort=True):
        w = study.truth_wave(str(wave))
        cats = sorted({k for c in group["category"] for k in str(c).split("+")})
        allc = [k for (tw, tq, k) in study.truth if tw == w and tq == question]
        if w is None or not set(cats) <= set(allc):
            continue
        p = np.array([study.truth[(w, question, k)] for k in allc])
        n = float(group["n_respondents"].iloc[0])
        z = rng.standard_normal(len(p))  # covariance diag(p) - p p' (p sums to one)
        draw = p + math.sqrt(study.deff / n) * (np.sqrt(p) * z - p * (np.sqrt(p) @ z))
        est = dict(zip(allc, 100 * draw, strict=True))
        for row in group.itertuples(index=False):
            e = sum(est[k] for k in str(row.category).split("+"))
            rows.append({**row._asdict(), **_republish(row, min(max(e, 0.05), 99.95))})
    return pd.DataFrame(rows, columns=list(study.published.columns))


def _simulated_fits(study: PollStudy, rng: np.random.Generator) -> list[pd.DataFrame]:
    out = []
    for q, c in study.series:
        rows = study.simulated[(q, c)]
        truth = [study.truth_share(w, q, c) for w in rows["wave"]]
        keep = [t is not None for t in truth]
        rows, truth = rows[keep], np.array([t for t in truth if t is not None])
        if len(rows) >= 2:
            est = truth + rng.normal(0, 1, len(rows)) * rows["se"].to_numpy(float)
            table = rows.assign(question=q, category=c, estimate=np.clip(est, 1e-4, 1 - 1e-4))
            fit = pa.poll_average(table, question=q, category=c, dates=study.dates,
                                  source="simulated", grid=None, level=study.level)  # fmt: skip
            out.append(fit.assign(wave=rows["wave"].to_numpy(), truth=truth, kind="estimate",
                                  interval_sd_ratio=0.0))  # fmt: skip
    return out


def published_fits(study: PollStudy, rng: np.random.Generator, series=None) -> list[pd.DataFrame]:
    """Bands of one synthetic published table (every series, or ``series``) with the truth.

    Each frame has the poll-average columns plus ``wave, truth, kind`` (the implied
    interval's kind) and ``interval_sd_ratio`` (interval width / sampling SD of the estimate
    at the interval midpoint, with the published N and ``deff``).
    """
    intervals = implied_intervals(synthetic_published(study, rng), study.contrasts)
    out = []
    for q, c in study.series if series is None else series:
        series_ = poll_inputs.published_interval_series(intervals, q, c, study.deff)
        truth = np.array([study.truth_share(w, q, c) for w in series_["wave"]], dtype=float)
        series_, truth = series_[~np.isnan(truth)], truth[~np.isnan(truth)]
        if series_["wave"].nunique() < 2:
            continue
        dates = poll_inputs.fieldwork_mid_dates(series_)
        fit = pa.poll_average(series_, question=q, category=c, dates=dates, source="published",
                              grid=None, level=study.level)  # fmt: skip
        order = np.argsort(pd.DatetimeIndex([dates[w] for w in series_["wave"]]), kind="stable")
        ratio = poll_inputs.interval_sd_ratio(*(series_[k] for k in ("low", "high", "n", "deff")))
        out.append(fit.assign(
            wave=series_["wave"].to_numpy()[order], truth=truth[order],
            kind=series_["kind"].to_numpy()[order], interval_sd_ratio=ratio[order],
        ))  # fmt: skip
    return out


def scored_bands(out: list[pd.DataFrame], replicate: int) -> pd.DataFrame:
    """The fits of one replicate stacked, with ``covered``, ``width`` and ``replicate``."""
    res = pd.concat(out, ignore_index=True)
    res["covered"] = (res["ci_low"] <= res["truth"]) & (res["truth"] <= res["ci_high"])
    res["width"] = res["ci_high"] - res["ci_low"]
    return res.assign(replicate=replicate)


def replicate_coverage(study: PollStudy, replicate: int, seed: int) -> pd.DataFrame:
    """Band, truth and covered flag per source, series and observation date (one replicate)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, replicate]))
    out = _simulated_fits(study, rng)
    return scored_bands(out + published_fits(study, rng), replicate)


def _coverage_stats(d: pd.DataFrame) -> tuple[int, float, float, str, float]:
    """Dates, mean coverage, lowest coverage, its wave and mean width of detail rows ``d``."""
    if d.empty:
        return 0, np.nan, np.nan, "", np.nan
    worst = d.loc[d["coverage"].idxmin()]
    # a mean of per-date rates: round off the float noise of the sum (12 x 0.97 != 11.64)
    mean_cov = round(float(d["coverage"].mean()), 12)
    return (
        len(d),
        mean_cov,
        float(worst["coverage"]),
        str(worst["wave"]),
        float(d["mean_ci_width"].mean()),
    )


def _meets(mean_cov: float, min_cov: float) -> bool:
    return bool(0.93 <= mean_cov <= 0.97 and min_cov >= 0.85)


def summarise_bands(reps: pd.DataFrame, level: float) -> dict[str, pd.DataFrame]:
    """Per-date detail and per-series summary of the replicate bands.

    The summary's ``mean_coverage, min_date_coverage, target_met`` cover all dates;
    ``point_*`` and ``partial_*`` split them by ``information`` (see the module docstring),
    and ``target_met_point`` checks the target on the point-information dates alone (False
    when there are none).
    """
    keys = ["source", "question", "category", "wave", "date"]
    detail = reps.groupby(keys, sort=False).agg(
        truth=("truth", "first"), replicates=("replicate", "nunique"),
        coverage=("covered", "mean"), mean_estimate=("estimate", "mean"),
        mean_ci_width=("width", "mean"), kind=("kind", "first"),
        interval_sd_ratio=("interval_sd_ratio", "mean"), low=("ci_low", "mean"),
        low_sd=("ci_low", "std"), high=("ci_high", "mean"), high_sd=("ci_high", "std"),
    ).reset_index()  # fmt: skip
    detail["information"] = np.where(detail["interval_sd_ratio"] <= POINT_RATIO, "point",
                                     "partial")  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        z_lo = (detail["truth"] - detail["low"]) / detail["low_sd"]
        z_hi = (detail["high"] - detail["truth"]) / detail["high_sd"]
    detail["truth_margin_sd"] = np.minimum(z_lo, z_hi)
    detail["normal_coverage"] = np.maximum(ndtr(z_lo) + ndtr(z_hi) - 1, 0.0)
    detail = detail[DETAIL_COLUMNS]
    rows = []
    for (source, q, c), d in detail.groupby(["source", "question", "category"], sort=False):
        n, mean_cov, min_cov, min_wave, width = _coverage_stats(d)
        row = dict(
            kind="poll_average_band", source=source, question=q, category=c,
            replicates=int(d["replicates"].max()), dates=n, level=level,
            mean_coverage=mean_cov, min_date_coverage=min_cov, min_date_wave=min_wave,
            mean_ci_width=width, target_met=_meets(mean_cov, min_cov),
        )  # fmt: skip
        for info in ("point", "partial"):
            sub = d[d["information"] == info]
            n, mean_cov, min_cov, _, width = _coverage_stats(sub)
            row.update({
                f"{info}_dates": n, f"{info}_mean_coverage": mean_cov,
                f"{info}_min_coverage": min_cov, f"{info}_mean_ci_width": width,
                f"{info}_normal_coverage": float(sub["normal_coverage"].mean()),
                f"{info}_min_truth_margin_sd": float(sub["truth_margin_sd"].min()),
            })  # fmt: skip
        row["target_met_point"] = bool(
            row["point_dates"] > 0 and _meets(row["point_mean_coverage"],
                                              row["point_min_coverage"])
        )  # fmt: skip
        rows.append(row)
    return {"summary": pd.DataFrame(rows), "detail": detail}


def _chunk(args: tuple) -> pd.DataFrame:
    root, reps, seed = args
    study = PollStudy(root)
    return pd.concat([replicate_coverage(study, r, seed) for r in reps], ignore_index=True)


def run_poll_average_coverage(
    root: str | os.PathLike[str], *, replicates: int, seed: int, workers: int = 1
) -> dict[str, pd.DataFrame]:
    """Coverage of the poll-average band for every configured series and both sources.

    Parameters
    ----------
    root : path
        Project root.
    replicates : int
        Replicate data sets (each: all series, both sources).
    seed : int
        Seed; replicate ``r`` uses ``SeedSequence([seed, r])``, so results do not depend on
        ``workers``.
    workers : int
        Processes (replicates are split into contiguous chunks).

    Returns
    -------
    dict
        ``summary`` (one row per source x question x category: ``kind="poll_average_band",
        source, question, category, replicates, dates, level, mean_coverage,
        min_date_coverage, min_date_wave, mean_ci_width, target_met``, the same split into
        ``point_*`` and ``partial_*`` dates, ``target_met_point, variance_source``) and
        ``detail`` (per date: :data:`DETAIL_COLUMNS`). Truth and observations are SIMULATED.
    """
    if replicates < 1 or workers < 1:
        raise InputError("replicates and workers must be >= 1", value=(replicates, workers))
    study = PollStudy(root)
    if workers == 1:
        reps = pd.concat(
            [replicate_coverage(study, r, seed) for r in range(replicates)], ignore_index=True
        )
    else:
        chunks = [c.tolist() for c in np.array_split(np.arange(replicates), workers) if len(c)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_chunk, [(str(root), c, seed) for c in chunks]))
        reps = pd.concat(parts, ignore_index=True)
    res = summarise_bands(reps, study.level)
    res["summary"]["variance_source"] = np.where(
        res["summary"]["source"] == "simulated", study.variance_source,
        f"published N, deff {study.deff:g}, published forms",
    )  # fmt: skip
    return res
