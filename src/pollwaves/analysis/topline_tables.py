"""Toplines as pollsters publish them: labelled, rounded, with MOE, bases and change.

The inputs are the tidy design-based tables of the workflow (``reports/tables/toplines.csv``:
shares and raking-aware SEs from the SAMPLING weights, and the unweighted shares beside them);
nothing here re-estimates. The display table follows the layout of trend toplines (Pew,
``pewmethods::get_totals`` style): one block per wave and question with the question wording,
the answers in questionnaire order, the weighted percentage rounded for display, the
unweighted base ``n`` and the weighted base, the design effect, the margin of error at the
configured level and the change since the previous wave in which the question was asked, with
its significance from :func:`pollwaves.survey.differences.wave_differences` (Holm within a
question). Full precision stays in the tidy tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.design import check_columns
from pollwaves.survey.differences import wave_differences

__all__ = [
    "DISPLAY_COLUMNS", "display_percent", "label_toplines", "pollster_toplines", "question_bases",
]  # fmt: skip

DISPLAY_COLUMNS = [
    "wave", "question", "question_label", "order", "category", "category_label", "percent",
    "estimate", "ci_low", "ci_high", "moe", "n", "weighted_n", "deff", "wave_moe",
    "previous_wave", "change", "change_p_adjusted", "change_mark", "flag", "simulated",
]  # fmt: skip


def display_percent(share: float) -> str:
    """A share as pollsters print it: a whole percentage, ``<1`` below 0.5 %, ``0`` for none.

    The whole number is Python's fixed-point rounding of ``100 * share`` (as the report
    prints it), so the CSV, the workbook and the HTML report show the same digits.
    """
    if share is None or not np.isfinite(share):
        return ""
    pct = 100 * float(share)
    if pct <= 0:
        return "0"
    if pct < 0.5:
        return "<1"
    return f"{pct:.0f}"


def _labels(codebook: Mapping[str, Any]) -> tuple[dict, dict, dict]:
    variables = codebook["variables"]
    qlab, clab, order = {}, {}, {}
    for name, spec in variables.items():
        if spec.get("kind", "question") != "question":
            continue
        qlab[name] = spec["label"]["en"]
        for i, (cat, cspec) in enumerate((spec.get("categories") or {}).items()):
            clab[(name, cat)] = cspec["en"]
            order[(name, cat)] = i
    return qlab, clab, order


def label_toplines(
    toplines: pd.DataFrame,
    codebook: Mapping[str, Any],
    *,
    level: float,
    unweighted: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The tidy toplines with labels, the margin of error and the unweighted share beside.

    Parameters
    ----------
    toplines : DataFrame
        Tidy design-based estimates (``question, wave, domain, category, estimate, se, ...``)
        from sampling weights.
    codebook : mapping
        Loaded codebook (English labels and questionnaire order of the categories).
    level : float
        Confidence level of ``moe``.
    unweighted : DataFrame, optional
        The unweighted estimates of the same rows; their ``estimate`` becomes
        ``estimate_unweighted``.

    Returns
    -------
    DataFrame
        ``toplines`` plus ``question_label, category_label, moe`` (``z * se``, share scale,
        the normal-approximation half width at ``level``) and ``estimate_unweighted``;
        rows sorted by question, wave, domain and questionnaire order.
    """
    check_columns(toplines, ["question", "wave", "domain", "category", "estimate", "se"])
    qlab, clab, order = _labels(codebook)
    out = toplines.copy()
    keys = list(zip(out["question"], out["category"], strict=True))
    out["question_label"] = [qlab.get(q, q) for q in out["question"]]
    out["category_label"] = [clab.get(k, k[1]) for k in keys]
    z = dist.norm_ppf(0.5 + float(level) / 2)
    out["moe"] = z * out["se"].astype(float)
    if unweighted is not None:
        check_columns(unweighted, ["question", "wave", "domain", "category", "estimate"])
        plain = unweighted.set_index(["question", "wave", "domain", "category"])["estimate"]
        idx = pd.MultiIndex.from_frame(out[["question", "wave", "domain", "category"]])
        out["estimate_unweighted"] = plain.reindex(idx).to_numpy()
    out["_order"] = [order.get(k, len(order)) for k in keys]
    qorder = {q: i for i, q in enumerate(qlab)}
    out["_q"] = out["question"].map(qorder).fillna(len(qorder))
    out = out.sort_values(["_q", "wave", "domain", "_order", "category"], kind="stable")
    out = out.drop(columns=["_order", "_q"]).reset_index(drop=True)
    last = [c for c in out.columns if c == "simulated"]
    return out[[c for c in out.columns if c != "simulated"] + last]


def pollster_toplines(
    toplines: pd.DataFrame,
    bases: pd.DataFrame,
    codebook: Mapping[str, Any],
    *,
    level: float,
) -> pd.DataFrame:
    """One display block per wave and question, as in a published trend topline.

    Parameters
    ----------
    toplines : DataFrame
        Tidy toplines (``domain == "all"`` rows are used) with design-based ``se`` and
        ``deff`` from sampling weights.
    bases : DataFrame
        ``wave, question, n, weighted_n``: respondents who answered the question and the sum
        of their sampling weights (the weighted base, on the weights' scale: here the
        population total), and ``wave_deff``: the wave's Kish design effect of the weights
        ``1 + cv^2``.
    codebook : mapping
        Loaded codebook.
    level : float
        Confidence level of the margins of error and of the change test.

    Returns
    -------
    DataFrame
        :data:`DISPLAY_COLUMNS`. ``percent`` is the display string (:func:`display_percent`);
        ``moe`` is the estimate's own ``z * se`` in percentage points; ``wave_moe`` is the
        pollster's usual headline MOE of the question base, ``z * sqrt(wave_deff * 0.25 / n)``
        in percentage points; ``change`` is the difference from ``previous_wave`` in
        percentage points, ``change_p_adjusted`` its Holm-adjusted p-value within the question
        and ``change_mark`` ``▲``/``▼`` when significant at ``level``.
    """
    check_columns(bases, ["wave", "question", "n", "weighted_n", "wave_deff"])
    top = toplines[toplines["domain"] == "all"] if "domain" in toplines else toplines
    if top.empty:
        raise InputError("No topline rows to display", hint="run the toplines rule first")
    lab = label_toplines(top, codebook, level=level)
    qlab, clab, order = _labels(codebook)
    diffs = wave_differences(top, pairs="consecutive", correction="holm", level=level)
    # one dict lookup per row (not a .loc per row): the first row of a repeated key, as .loc
    dcols = ["question", "category", "wave_to", "wave_from", "difference", "p_adjusted"]
    diff_of: dict[tuple, dict] = {}
    for q, c, w, *vals in diffs[dcols].itertuples(index=False):
        diff_of.setdefault((q, c, w), dict(zip(dcols[3:], vals, strict=True)))
    bcols = ["wave", "question", "n", "weighted_n", "wave_deff"]
    base_of: dict[tuple, dict] = {}
    for w, q, *vals in bases[bcols].itertuples(index=False):
        base_of.setdefault((w, q), dict(zip(bcols[2:], vals, strict=True)))
    z = dist.norm_ppf(0.5 + float(level) / 2)
    rows = []
    for r in lab.itertuples(index=False):
        b = base_of.get((r.wave, r.question))
        d = diff_of.get((r.question, r.category, r.wave))
        sig = d is not None and float(d["p_adjusted"]) < 1 - float(level)
        change = 100 * float(d["difference"]) if d is not None else np.nan
        rows.append(
            {
                "wave": r.wave,
                "question": r.question,
                "question_label": r.question_label,
                "order": order.get((r.question, r.category), len(order)),
                "category": r.category,
                "category_label": r.category_label,
                "percent": display_percent(r.estimate),
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "moe": 100 * r.moe,
                "n": int(b["n"]) if b is not None else int(r.n),
                "weighted_n": float(b["weighted_n"]) if b is not None else np.nan,
                "deff": r.deff,
                "wave_moe": (
                    100 * z * math.sqrt(float(b["wave_deff"]) * 0.25 / float(b["n"]))
                    if b is not None
                    else np.nan
                ),
                "previous_wave": str(d["wave_from"]) if d is not None else "",
                "change": change,
                "change_p_adjusted": float(d["p_adjusted"]) if d is not None else np.nan,
                "change_mark": ("▲" if change > 0 else "▼") if sig else "",
                "flag": r.flag if isinstance(getattr(r, "flag", None), str) else "",
                "simulated": getattr(r, "simulated", np.nan),
            }
        )
    out = pd.DataFrame(rows, columns=DISPLAY_COLUMNS)
    qorder = {q: i for i, q in enumerate(qlab)}
    out["_q"] = out["question"].map(qorder)
    out = out.sort_values(["wave", "_q", "order"], kind="stable").drop(columns="_q")
    return out.reset_index(drop=True)


def question_bases(data: pd.DataFrame, questions: list[str], weight: str) -> pd.DataFrame:
    """Unweighted and weighted bases of each question in one wave's weighted file.

    ``weight`` holds sampling weights; ``weighted_n`` is their sum over respondents with an
    answer, and ``wave_deff`` the Kish design effect ``1 + cv^2`` of those weights.
    """
    check_columns(data, ["wave", weight])
    rows = []
    for q in questions:
        if q not in data.columns:
            continue
        w = data.loc[data[q].notna(), weight].to_numpy(float)
        if len(w) == 0:
            continue
        kish = float(len(w) * (w**2).sum() / w.sum() ** 2)
        rows.append(
            {"wave": str(data["wave"].iloc[0]), "question": q, "n": len(w),
             "weighted_n": float(w.sum()), "wave_deff": kish}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=["wave", "question", "n", "weighted_n", "wave_deff"])
