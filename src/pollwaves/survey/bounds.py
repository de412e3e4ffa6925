"""Worst-case (Manski-type) bounds on a share when some answers are non-committal.

If respondents who answer neither of two opposite categories (middle answers, "hard to say",
refusals) may hide either view, the share holding a view lies between the share that states
it and one minus the share that states the opposite view. Both bounds are shares of an
indicator over ALL respondents (refusals included), so each gets an ordinary design-based
interval. Every function here assumes *sampling weights*, never frequency weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.design import check_columns
from pollwaves.survey.estimation import proportions

__all__ = ["BOUND_COLUMNS", "bounds_from_shares", "edge_interval", "worst_case_bounds"]

BOUND_COLUMNS = ["bound", "estimate", "se", "ci_low", "ci_high", "n", "n_eff"]


def edge_interval(p: float, n_eff: float, level: float) -> tuple[float, float]:
    """Interval of a share estimated as exactly 0 or 1, where the design interval is undefined.

    The Clopper-Pearson limit with ``n_eff`` (Kish's effective sample size): ``[0, 1 -
    (alpha/2)^(1/n_eff)]`` at 0 and ``[(alpha/2)^(1/n_eff), 1]`` at 1 (sampling weights).
    """
    if not (np.isfinite(n_eff) and n_eff > 0):
        return (np.nan, np.nan)
    edge = (1 - float(level)) / 2
    limit = 1 - edge ** (1 / n_eff)
    return (0.0, float(limit)) if p <= 0 else (float(1 - limit), 1.0)


def _bound_rows(df, variable, outcomes, weight, opts, level):
    for name, (category, opposite) in outcomes.items():
        stated = (df[variable] == category).fillna(False).to_numpy()
        not_opposite = ~(df[variable] == opposite).fillna(False).to_numpy()
        for side, ind in (("low", stated), ("high", not_opposite)):
            frame = df.assign(_bound=pd.Categorical(ind.astype(int), categories=[0, 1]))
            r = proportions(frame, "_bound", weight, level=level, **opts)
            r = r[r["category"] == 1].iloc[0]
            lo, hi = float(r["ci_low"]), float(r["ci_high"])
            if r["estimate"] in (0.0, 1.0):
                lo, hi = edge_interval(float(r["estimate"]), float(r["n_eff"]), level)
            yield {"bound": f"{name}_{side}", "estimate": float(r["estimate"]),
                   "se": float(r["se"]), "ci_low": lo, "ci_high": hi, "n": int(r["n"]),
                   "n_eff": float(r["n_eff"])}  # fmt: skip


def worst_case_bounds(
    df: pd.DataFrame,
    variable: str,
    outcomes: Mapping[str, tuple[object, object]],
    weight: str | None,
    *,
    calibrated_on: Sequence[str] | None = None,
    base_weight: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    ci_method: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """Worst-case bounds, with design-based intervals, on the shares of ``outcomes``.

    Parameters
    ----------
    df : DataFrame
        One row per respondent of one sample; EVERY row counts in the base, including
        respondents with a missing ``variable`` (refusals).
    variable : str
        Categorical question (e.g. ``war_support``).
    outcomes : mapping
        ``name -> (category, opposite)``, e.g. ``{"support": ("support", "oppose"),
        "oppose": ("oppose", "support")}``. ``name_low`` is the share answering ``category``;
        ``name_high`` is the share NOT answering ``opposite`` (``category``, every middle
        answer and the refusals).
    weight : str or None
        Sampling-weight column (raked weights; ``None``: equal weights).
    calibrated_on, base_weight, strata, psu, ci_method, level
        As :func:`pollwaves.survey.estimation.proportions` (raking-aware SEs with
        ``calibrated_on``).

    Returns
    -------
    DataFrame
        ``bound, estimate, se, ci_low, ci_high, n, n_eff``; ``n`` is the number of
        respondents (all of them). Where a bound is exactly 0 or 1 the design interval is
        undefined and :func:`edge_interval` is used.

    Notes
    -----
    The bounds identify the share only up to the non-committal answers (Manski 2003): the
    true share holding the view lies in ``[low, high]`` whatever the hidden views are. Each
    bound's interval covers that bound, not the true share; an interval for the identified
    set is the union ``[ci_low(low), ci_high(high)]`` (conservative).
    """
    check_columns(df, [variable])
    if not outcomes:
        raise InputError("No outcome to bound", column=variable)
    if df.empty:
        raise InputError("No respondents to bound", column=variable)
    opts = {"calibrated_on": calibrated_on, "base_weight": base_weight, "strata": strata,
            "psu": psu, "ci_method": ci_method}  # fmt: skip
    rows = list(_bound_rows(df, variable, outcomes, weight, opts, level))
    return pd.DataFrame(rows, columns=BOUND_COLUMNS)


def bounds_from_shares(
    shares: Mapping[str, float],
    outcomes: Mapping[str, tuple[str, Sequence[str]]],
    n: float,
    deff: float,
    level: float = 0.95,
) -> pd.DataFrame:
    """Worst-case bounds from published shares, with intervals from an assumed design effect.

    Parameters
    ----------
    shares : mapping
        ``category -> share`` (0-1) of one published breakdown.
    outcomes : mapping
        ``name -> (category, middle categories)``: ``name_low = shares[category]``,
        ``name_high = shares[category] + sum(shares[middle])`` (the published categories
        only: refusals that were not published cannot be included).
    n : float
        Published sample size (for a qualified ``>N`` its conservative whole number).
    deff : float
        ASSUMED design effect: ``se = sqrt(deff p (1 - p) / n)``, the published numbers
        having no variance of their own.
    level : float
        Confidence level of the logit interval (normal quantile; :func:`edge_interval` at
        0 or 1 with ``n / deff``).

    Returns
    -------
    DataFrame
        ``bound, estimate, se, ci_low, ci_high, n, n_eff`` (``n_eff = n / deff``).
    """
    if not (np.isfinite(deff) and deff > 0):
        raise InputError("deff must be a positive number", value=deff)
    if not (np.isfinite(n) and n > 0):
        raise InputError("The published sample size must be positive", value=n)
    zq = dist.norm_ppf(0.5 + float(level) / 2)
    rows = []
    for name, (category, middle) in outcomes.items():
        missing = [c for c in (category, *middle) if c not in shares]
        if missing:
            raise InputError("A published share is missing", value=missing[0])
        for side, p in (("low", shares[category]),
                        ("high", shares[category] + sum(shares[c] for c in middle))):  # fmt: skip
            p = float(min(max(p, 0.0), 1.0))
            se = float(np.sqrt(deff * p * (1 - p) / n))
            if 0 < p < 1:
                eta, half = np.log(p / (1 - p)), zq * se / (p * (1 - p))
                lo, hi = 1 / (1 + np.exp(-(eta - half))), 1 / (1 + np.exp(-(eta + half)))
            else:
                lo, hi = edge_interval(p, n / deff, level)
            rows.append({"bound": f"{name}_{side}", "estimate": p, "se": se,
                         "ci_low": float(lo), "ci_high": float(hi), "n": n,
                         "n_eff": n / deff})  # fmt: skip
    return pd.DataFrame(rows, columns=BOUND_COLUMNS)
