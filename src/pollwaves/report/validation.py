"""Coverage results of the SIMULATED validation study, placed beside what they validate.

The coverage benchmark (``benchmarks/coverage.py``, outside the workflow) draws repeated
samples from the SIMULATED population, puts each through the workflow's cleaning, raking and
estimation, and records per estimate how often its interval covered the true value; the
results are committed in ``benchmarks/results/`` (``validation_coverage.csv`` and
``poll_average_coverage.csv``, each with a ``.meta.json``). This module only selects rows of
those precomputed summaries for each place of the report (mean and lowest coverage per
estimate kind, the 99% binomial band of a correct interval); it computes nothing.

The true value of a model estimate (a predictive margin, an average marginal effect, a trend
prediction, a multinomial share) is the census parameter: the same model fitted to the
whole SIMULATED population (population weights 1, each wave weighted by its sample size,
every person's answer probabilities as the outcome), then the same margins computed
(:mod:`pollwaves.validation.model_coverage`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

__all__ = ["BLOCKS", "KINDS", "load_results", "validation_context"]

PathLike = str | os.PathLike[str]

#: kind -> (what is validated, its true value in the simulated population)
KINDS: dict[str, tuple[str, str]] = {
    "topline": (
        "Weighted shares per wave, every question (toplines.csv)",
        "the share of the answer among all persons of the simulated population in that wave",
    ),
    "subgroup_margin": (
        "Predicted support by group (predictive margins; subgroup_predicted.csv)",
        "the census predictive margin: the same model, with its time x strongest-predictor "
        "interaction, fitted to the whole simulated population (each wave weighted by its "
        "sample size), every person then given the group",
    ),
    "subgroup_ame": (
        "Differences to the reference group (average marginal effects; subgroup_ame.csv)",
        "the difference of two census predictive margins",
    ),
    "trend_prediction": (
        "Trend predictions: linear, spline and wave effects (trend_predictions.csv)",
        "the prediction of the same trend model fitted to the whole simulated population",
    ),
    "alliance_share": (
        "Multinomial alliance shares by wave and group (alliance_shares.csv)",
        "the share from the same multinomial model fitted to the whole simulated population",
    ),
    "alliance_neutral": (
        "Neutral share before and after the invasion, and its change (alliance_neutral.csv)",
        "the same shares of the multinomial model fitted to the whole simulated population",
    ),
    "poll_average_band": (
        "Poll-average band, per series (poll_average.csv)",
        "the simulator's true path of the series on each date",
    ),
}

#: report place (figure name or extension table) -> the kinds shown there
BLOCKS: dict[str, tuple[str, ...]] = {
    "war_support_trend": ("topline",),
    "alliance_trend": ("topline", "alliance_share", "alliance_neutral"),
    "poll_average": ("poll_average_band",),
    "subgroup": ("subgroup_margin", "subgroup_ame"),
    "trend": ("trend_prediction",),
}
_NUMBERS = ["estimates", "replicates", "mean_coverage", "min_coverage", "n_outside_band",
            "band_low", "band_high", "band_level"]  # fmt: skip


def _csv(path: PathLike | None) -> pd.DataFrame | None:
    if path is None or not Path(path).exists():
        return None
    return pd.read_csv(path, dtype={"category": "string"})


def _json(path: PathLike | None) -> dict:
    if path is None or not Path(path).exists():
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_results(
    summary: PathLike | None = None,
    meta: PathLike | None = None,
    poll: PathLike | None = None,
    poll_meta: PathLike | None = None,
) -> dict:
    """Read the committed benchmark files; a file not given or missing gives ``None``/``{}``.

    Returns ``{"summary", "meta", "poll", "poll_meta"}``: ``validation_coverage.csv``, its
    ``.meta.json``, ``poll_average_coverage.csv`` and its ``.meta.json``.
    """
    return {"summary": _csv(summary), "meta": _json(meta), "poll": _csv(poll),
            "poll_meta": _json(poll_meta)}  # fmt: skip


def _cell(row: Mapping, col: str) -> float:
    v = row.get(col)
    return float("nan") if v is None or pd.isna(v) else float(v)


def _model_rows(kind: str, summary: pd.DataFrame | None) -> list[dict]:
    label, truth = KINDS.get(kind, (kind, ""))
    base = {"kind": kind, "label": label, "estimand": truth}
    if summary is None or "kind" not in summary:
        return [base | {"missing": True}]
    rows = summary[(summary["kind"] == kind) & (summary.get("method", "raked") == "raked")]
    if rows.empty:
        return [base | {"missing": True}]
    r = rows.iloc[0].to_dict()
    return [base | {"missing": False} | {c: _cell(r, c) for c in _NUMBERS}]


def _poll_rows(poll: pd.DataFrame | None) -> list[dict]:
    label, truth = KINDS["poll_average_band"]
    if poll is None or poll.empty:
        return [{"kind": "poll_average_band", "label": label, "estimand": truth, "missing": True}]
    out = []
    for r in poll.sort_values(["source", "question", "category"], kind="stable").to_dict(
        "records"
    ):
        outside = r.get("outside_band")
        out.append({
            "kind": "poll_average_band", "estimand": truth, "estimates": 1.0, "missing": False,
            "label": f"{r['source']}: {str(r['question']).replace('_', ' ')}, {r['category']}",
            "replicates": _cell(r, "replicates"), "mean_coverage": _cell(r, "mean_coverage"),
            "min_coverage": _cell(r, "min_date_coverage"),
            "n_outside_band": float("nan") if outside is None or pd.isna(outside)
            else float(str(outside) in ("True", "1", "1.0")),
            "band_low": _cell(r, "band_low"), "band_high": _cell(r, "band_high"),
            "band_level": _cell(r, "band_level"),
            # dates with a published number (point) and bound-only dates (partial)
            "point_dates": _cell(r, "point_dates"), "partial_dates": _cell(r, "partial_dates"),
            "point_mean_coverage": _cell(r, "point_mean_coverage"),
            "point_min_coverage": _cell(r, "point_min_coverage"),
            "partial_mean_coverage": _cell(r, "partial_mean_coverage"),
        })  # fmt: skip
    return out


def _run(meta: Mapping, kinds: Sequence[str]) -> dict:
    """Command, date, code revision and replicates of the run behind ``kinds``."""
    per = meta.get("kinds") or {}
    first = next((per[k] for k in kinds if k in per), meta)
    return {k: first.get(k) for k in ("command", "date", "code_revision", "replicates")}


def validation_context(results: Mapping, level: float) -> dict:
    """Per report place (:data:`BLOCKS`): the coverage rows and the run they come from.

    Parameters
    ----------
    results : mapping
        :func:`load_results`.
    level : float
        The intervals' confidence level (``estimation.level``); the benchmark's own level
        (its meta json) wins when given.

    Returns
    -------
    dict
        ``{place: {"rows", "run", "level", "band_level", "any"}}``; a row has ``kind, label,
        estimand`` and the summary's ``estimates, replicates, mean_coverage, min_coverage,
        n_outside_band, band_low, band_high, band_level``, or ``missing=True`` when the
        benchmark has no result for the kind yet.
    """
    level = float((results.get("meta") or {}).get("level", level))
    out = {}
    for place, kinds in BLOCKS.items():
        rows: list[dict] = []
        for kind in kinds:
            if kind == "poll_average_band":
                rows += _poll_rows(results.get("poll"))
            else:
                rows += _model_rows(kind, results.get("summary"))
        meta = results.get("poll_meta") if "poll_average_band" in kinds else results.get("meta")
        bands = [r["band_level"] for r in rows if not r.get("missing")]
        bands = [b for b in bands if b == b]  # NaN: the summary has no band column
        out[place] = {"rows": rows, "run": _run(meta or {}, kinds), "level": level,
                      "band_level": bands[0] if bands else None,
                      "any": any(not r.get("missing") for r in rows)}  # fmt: skip
    return out
