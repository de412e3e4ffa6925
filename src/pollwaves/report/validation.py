"""Coverage results of the SIMULATED validation study, placed beside what they validate.

The coverage benchmark (``benchmarks/coverage.py``, outside the workflow) draws repeated
samples from the SIMULATED population, puts each through the workflow's cleaning, raking and
estimation, and records per estimate how often its interval covered the true value; the
results are committed in ``benchmarks/results/`` (``validation_coverage*.csv``,
``poll_average_coverage*.csv``, each with a ``.meta.json``). This module only reads and
summarises those files for the report (mean and lowest coverage per estimate kind, the 99%
binomial band); it computes no estimate.

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

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["BLOCKS", "KINDS", "band", "load_results", "validation_context"]

PathLike = str | os.PathLike[str]

#: kind -> (what is validated, its true value in the simulated population)
KINDS: dict[str, tuple[str, str]] = {
    "topline": (
        "Weighted shares per wave",
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

#: report place (figure name or extension table) -> kinds shown there; ``kind:question``
#: restricts the toplines to one question.
BLOCKS: dict[str, tuple[str, ...]] = {
    "war_support_trend": ("topline:war_support",),
    "alliance_trend": ("topline:alliance", "alliance_share", "alliance_neutral"),
    "poll_average": ("poll_average_band",),
    "subgroup": ("subgroup_margin", "subgroup_ame"),
    "trend": ("trend_prediction",),
}


def band(replicates: int, level: float, prob: float = 0.99) -> tuple[float, float]:
    """Central ``prob`` range of the coverage rate of a correct ``level`` interval.

    Binomial(``replicates``, ``level``) quantiles divided by ``replicates``.
    """
    lo = stats.binom.ppf((1 - prob) / 2, replicates, level) / replicates
    hi = stats.binom.ppf(1 - (1 - prob) / 2, replicates, level) / replicates
    return float(lo), float(hi)


def _csv(path: PathLike | None) -> pd.DataFrame | None:
    if path is None or not Path(path).exists():
        return None
    return pd.read_csv(path, dtype={"wave": "string", "category": "string", "date": "string"})


def _json(path: PathLike | None) -> dict:
    if path is None or not Path(path).exists():
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_results(
    summary: PathLike | None = None,
    meta: PathLike | None = None,
    detail: PathLike | None = None,
    poll: PathLike | None = None,
    poll_meta: PathLike | None = None,
) -> dict:
    """Read the committed benchmark files; a file not given or missing gives ``None``/``{}``.

    Returns ``{"summary", "meta", "detail", "poll", "poll_meta"}`` (``validation_coverage.csv``,
    its ``.meta.json``, ``validation_coverage_detail.csv``, ``poll_average_coverage.csv``
    and its ``.meta.json``).
    """
    return {
        "summary": _csv(summary), "meta": _json(meta), "detail": _csv(detail),
        "poll": _csv(poll), "poll_meta": _json(poll_meta),
    }  # fmt: skip


def _row(kind: str, label: str, frame: pd.DataFrame, level: float) -> dict:
    reps = frame["replicates"].astype(int)
    lo, hi = band(int(reps.min()), level)
    cov = frame["coverage"].astype(float)
    return {
        "kind": kind, "label": label, "estimand": KINDS.get(kind, (kind, ""))[1],
        "estimates": len(frame), "replicates": int(reps.min()),
        "replicates_max": int(reps.max()), "mean_coverage": float(cov.mean()),
        "min_coverage": float(cov.min()),
        "outside_band": int(((cov < lo) | (cov > hi)).sum()), "band_low": lo, "band_high": hi,
        "mean_abs_bias": float(np.abs(frame["bias"].astype(float)).mean())
        if "bias" in frame else float("nan"),
    }  # fmt: skip


def _model_rows(spec: str, detail: pd.DataFrame | None, summary, level: float) -> list[dict]:
    kind, _, question = spec.partition(":")
    label = KINDS.get(kind, (kind, ""))[0]
    if detail is not None and kind in set(detail["kind"]):
        rows = detail[(detail["kind"] == kind) & (detail["method"] == "raked")]
        if question:
            rows = rows[rows["question"] == question]
            label = f"{label} ({question.replace('_', ' ')}, raked)"
        if len(rows):
            return [_row(kind, label, rows, level)]
    if summary is not None and not question and kind in set(summary["kind"]):
        s = summary[(summary["kind"] == kind) & (summary["method"] == "raked")].iloc[0]
        lo, hi = band(int(s["replicates"]), level)
        return [{
            "kind": kind, "label": label, "estimand": KINDS.get(kind, (kind, ""))[1],
            "estimates": int(s["estimates"]), "replicates": int(s["replicates"]),
            "replicates_max": int(s["replicates"]), "mean_coverage": float(s["mean_coverage"]),
            "min_coverage": float("nan"), "outside_band": float("nan"),
            "band_low": lo, "band_high": hi, "mean_abs_bias": float(s["mean_abs_bias"]),
        }]  # fmt: skip
    return [{"kind": kind, "label": label, "missing": True,
             "estimand": KINDS.get(kind, (kind, ""))[1]}]  # fmt: skip


def _poll_rows(poll: pd.DataFrame | None, level: float) -> list[dict]:
    label, truth = KINDS["poll_average_band"]
    if poll is None or poll.empty:
        return [{"kind": "poll_average_band", "label": label, "estimand": truth, "missing": True}]
    out = []
    for _, r in poll.sort_values(["source", "question", "category"], kind="stable").iterrows():
        lo, hi = band(int(r["replicates"]), level)
        cov = float(r["mean_coverage"])
        out.append({
            "kind": "poll_average_band", "estimand": truth,
            "label": f"{r['source']}: {str(r['question']).replace('_', ' ')} = {r['category']}",
            "estimates": 1, "replicates": int(r["replicates"]),
            "replicates_max": int(r["replicates"]), "mean_coverage": cov,
            "min_coverage": float(r.get("min_date_coverage", float("nan"))),
            "outside_band": int(not lo <= cov <= hi), "band_low": lo, "band_high": hi,
            "mean_abs_bias": float("nan"),
        })  # fmt: skip
    return out


def _run(meta: Mapping, kinds: Sequence[str]) -> dict:
    """Command, date, code revision and replicates of the run behind ``kinds``."""
    per = meta.get("kinds") or {}
    runs = [per[k] for k in kinds if k in per] or [meta]
    first = runs[0]
    return {k: first.get(k) for k in ("command", "date", "code_revision", "replicates")}


def validation_context(results: Mapping, level: float) -> dict:
    """Per report place (:data:`BLOCKS`): the coverage rows and the run they come from.

    Parameters
    ----------
    results : mapping
        :func:`load_results`.
    level : float
        The intervals' confidence level (``estimation.level``; the band is that of a
        correct ``level`` interval).

    Returns
    -------
    dict
        ``{place: {"rows": [...], "run": {...}, "simulated": True}}``; a row has ``kind,
        label, estimand, estimates, replicates, mean_coverage, min_coverage, outside_band,
        band_low, band_high, mean_abs_bias`` or ``missing=True`` when the benchmark has no
        result for the kind yet.
    """
    level = float((results.get("meta") or {}).get("level", level))
    out = {}
    for place, specs in BLOCKS.items():
        rows: list[dict] = []
        kinds = [s.partition(":")[0] for s in specs]
        for spec in specs:
            if spec == "poll_average_band":
                rows += _poll_rows(results.get("poll"), level)
            else:
                rows += _model_rows(spec, results.get("detail"), results.get("summary"), level)
        meta = results.get("poll_meta") if kinds == ["poll_average_band"] else results.get("meta")
        out[place] = {"rows": rows, "run": _run(meta or {}, kinds), "level": level,
                      "any": any(not r.get("missing") for r in rows)}  # fmt: skip
    return out
