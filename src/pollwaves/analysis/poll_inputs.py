"""Inputs of the poll average: fieldwork mid-dates and the published series.

:func:`published_interval_series` turns the implied intervals of the published cells of one
series (:func:`pollwaves.published.intervals.implied_intervals`) into the interval-censored
frame the poll average takes (:func:`pollwaves.analysis.poll_average.poll_average`), with the
published N and the design effect ``trend.published_deff``. :func:`published_series` is the
older point-estimate view (exact cells only), kept for the report's observed points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.design import check_columns

__all__ = [
    "PUBLISHED_QUALIFIERS", "dates_index", "fieldwork_mid_dates", "one_per_wave",
    "moe_deff", "published_interval_series", "published_series",
    "BOUND_KINDS",
    "published_bound_points",
    "POINT_RATIO", "interval_information", "interval_sd_ratio",
]  # fmt: skip

PUBLISHED_QUALIFIERS = ("exact", "approximate", "fraction")


def dates_index(values: Any, name: str) -> pd.Index:
    """Dates as a numeric (days) or datetime index; missing values are an InputError."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional", value=arr.shape)
    if arr.dtype.kind in "iuf":
        idx = pd.Index(arr.astype(float))
    else:
        try:
            idx = pd.DatetimeIndex(pd.to_datetime(arr))
        except (ValueError, TypeError) as err:
            raise InputError(f"{name} are not dates", hint=str(err)) from err
    if idx.isna().any():
        i = int(np.flatnonzero(idx.isna())[0])
        raise InputError(f"Missing date in {name}", row=i + 1, hint="every point needs a date")
    return idx


def one_per_wave(rows: pd.DataFrame, problem: str) -> None:
    dup = rows["wave"].duplicated()
    if dup.any():
        raise InputError(problem, wave=str(rows.loc[dup, "wave"].iloc[0]), hint="one per wave")


def fieldwork_mid_dates(
    fieldwork: pd.DataFrame | Mapping[str, Sequence[Any]],
) -> dict[str, pd.Timestamp]:
    """Wave -> fieldwork mid-date (``start + (end - start) / 2``, may fall at noon).

    Parameters
    ----------
    fieldwork : DataFrame or mapping
        A table with ``wave, fieldwork_start, fieldwork_end`` (one date pair per wave), or
        a mapping wave -> ``[start, end]`` (as ``waves`` in ``config/simulation.yaml``).
    """
    if isinstance(fieldwork, pd.DataFrame):
        check_columns(fieldwork, ["wave", "fieldwork_start", "fieldwork_end"])
        pairs = fieldwork[["wave", "fieldwork_start", "fieldwork_end"]].drop_duplicates()
        one_per_wave(pairs, "Conflicting fieldwork dates")
        items = [(str(w), (s, e)) for w, s, e in pairs.itertuples(index=False)]
    else:
        items = [(str(w), tuple(se)) for w, se in fieldwork.items()]
    mids = {}
    for wave, pair in items:
        if len(pair) != 2:
            raise InputError("Fieldwork needs [start, end]", wave=wave, value=pair)
        start, end = pd.to_datetime(pd.Series(pair), errors="coerce").tolist()
        if pd.isna(start) or pd.isna(end) or end < start:
            raise InputError("Missing or reversed fieldwork dates", wave=wave, value=pair)
        mids[wave] = start + (end - start) / 2
    return mids


def published_series(
    published_used: pd.DataFrame, question: str, category: str, deff: float
) -> pd.DataFrame:
    """One published point estimate per wave, with a stated design effect (points only).

    Keeps rows with ``relation == "equals"``, ``qualifier`` in exact/approximate/fraction
    and no subgroup; ``estimate = value / 100``. The published numbers carry no variance,
    so ``var = deff * p (1 - p) / n_respondents`` rests on ``deff`` (the project's
    ``trend.published_deff`` is derived from the published margins of error, see
    :func:`moe_deff`). The poll average itself uses :func:`published_interval_series` (every
    cell as the interval it implies); this point view is for showing exact cells as points.
    ``n_respondents`` is the conservative whole N of a qualified N (``>700`` -> 700), so the
    variance is conservative; rows without a published N (``n_qualifier`` unknown) carry no
    variance and are left out.

    Parameters
    ----------
    published_used : DataFrame
        Published toplines kept by :func:`pollwaves.published.select.select_published`.
    question, category : str
        Codebook question and category.
    deff : float
        Design effect (> 0); no default on purpose: callers must state it.

    Returns
    -------
    DataFrame
        ``question, wave, domain, category, estimate, n, deff, fieldwork_start,
        fieldwork_end``, one row per wave, sorted by wave.
    """
    cols_fw = ["fieldwork_start", "fieldwork_end"]
    check_columns(published_used, ["wave", "n_respondents", "question", "category", *cols_fw])
    check_columns(published_used, ["relation", "value", "qualifier", "subgroup_variable"])
    if not (np.isfinite(deff) and deff > 0):
        raise InputError("deff must be a positive number", value=deff)
    pub = published_used
    sub = pub["subgroup_variable"].isna() | (pub["subgroup_variable"].astype(str) == "")
    rows = pub[
        (pub["question"] == question)
        & (pub["category"] == category)
        & (pub["relation"] == "equals")
        & pub["qualifier"].isin(PUBLISHED_QUALIFIERS)
        & sub
    ]
    if rows.empty:
        raise InputError("No published point estimate", value=(question, category))
    rows = rows[rows["n_respondents"].notna()]  # no published N: no variance, not smoothed
    if rows.empty:
        raise InputError(
            "No published point estimate with a published N", value=(question, category)
        )
    rows = rows.drop_duplicates(["wave", "value"])
    one_per_wave(rows, "Several published values for one wave")
    n = rows["n_respondents"].astype(float)
    if not (n > 0).all():
        wave = str(rows.loc[~(n > 0), "wave"].iloc[0])
        raise InputError("Missing or non-positive n_respondents", wave=wave)
    out = rows.assign(wave=rows["wave"].astype(str), domain="all", n=n, deff=float(deff))
    out["estimate"] = rows["value"].astype(float) / 100
    cols = ["question", "wave", "domain", "category", "estimate", "n", "deff"]
    return out[cols + cols_fw].sort_values("wave", ignore_index=True)


def published_interval_series(
    intervals: pd.DataFrame, question: str, category: str, deff: float
) -> pd.DataFrame:
    """Interval-censored published observations of one series (proportions).

    Parameters
    ----------
    intervals : DataFrame
        :func:`pollwaves.published.intervals.implied_intervals` (percent).
    question, category : str
        Codebook question and category or contrast name.
    deff : float
        Design effect of the published estimates (> 0; ``trend.published_deff``).

    Returns
    -------
    DataFrame
        ``question, wave, domain, category, kind, estimate, low, high, n, deff,
        fieldwork_start, fieldwork_end``, one row per wave with a published N and an
        informative interval (not ``[0, 100]``), sorted by wave. ``estimate`` is the published
        value (NaN for a bound) and is not used by the smoother; ``low, high`` are the implied
        interval / 100. Rows without a published N carry no variance and are left out.
    """
    need = ["wave", "question", "category", "kind", "value", "low", "high", "n_respondents"]
    check_columns(intervals, [*need, "fieldwork_start", "fieldwork_end"])
    if not (np.isfinite(deff) and deff > 0):
        raise InputError("deff must be a positive number", value=deff)
    rows = intervals[(intervals["question"] == question) & (intervals["category"] == category)]
    rows = rows[rows["n_respondents"].notna() & ((rows["low"] > 0) | (rows["high"] < 100))]
    one_per_wave(rows, "Several published intervals for one wave")
    n = rows["n_respondents"].astype(float)
    if not (n > 0).all():
        raise InputError(
            "Non-positive n_respondents", wave=str(rows.loc[~(n > 0), "wave"].iloc[0])
        )
    out = rows.assign(
        wave=rows["wave"].astype(str), domain="all", n=n, deff=float(deff),
        estimate=rows["value"].astype(float) / 100, low=rows["low"].astype(float) / 100,
        high=rows["high"].astype(float) / 100,
    )  # fmt: skip
    cols = ["question", "wave", "domain", "category", "kind", "estimate", "low", "high", "n"]
    cols += ["deff", "fieldwork_start", "fieldwork_end"]
    return out[cols].sort_values("wave", ignore_index=True)


def moe_deff(moe_percent: Sequence[float], n: Sequence[float], level: float) -> dict[str, float]:
    """Design effects implied by published margins of error (at ``p = 0.5``).

    A margin ``m`` (percent, at ``level``) with ``N`` respondents implies
    ``deff = N (m / 100 / z)^2 / 0.25``, ``z`` the normal quantile of ``level``. With only
    a range of margins and a range of N published (not one margin per wave), every pairing
    of the ends is possible.

    Returns
    -------
    dict
        ``matched_low, matched_high``: the pairings smallest margin x largest N and largest
        margin x smallest N (a larger sample has the smaller margin); ``low, high``: the
        smallest and largest deff of any pairing (``high`` = largest margin x largest N).
    """
    m = np.asarray(moe_percent, float) / 100
    nn = np.asarray(n, float)
    if m.size != 2 or nn.size != 2 or not (np.all(m > 0) and np.all(nn > 0)):
        raise InputError("Give [low, high] positive margins and N", value=(moe_percent, n))
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", value=level)
    z = float(dist.norm_ppf(0.5 + level / 2))

    def deff(mi: float, ni: float) -> float:
        return float(ni * (mi / z) ** 2 / 0.25)

    m_lo, m_hi, n_lo, n_hi = m.min(), m.max(), nn.min(), nn.max()
    return dict(
        matched_low=deff(m_lo, n_hi), matched_high=deff(m_hi, n_lo),
        low=deff(m_lo, n_lo), high=deff(m_hi, n_hi),
    )  # fmt: skip


BOUND_KINDS = ("interval", "lower_bound", "upper_bound")


def published_bound_points(
    intervals: pd.DataFrame, series: Sequence[Mapping[str, str]]
) -> pd.DataFrame:
    """Published cells of the poll-average series that are bounds or intervals, not numbers.

    Parameters
    ----------
    intervals : DataFrame
        :func:`pollwaves.published.intervals.implied_intervals` (percent), e.g.
        ``reports/tables/published_intervals.csv``.
    series : list of mapping
        ``trend.series`` (``question``, ``category``).

    Returns
    -------
    DataFrame
        ``source="published", question, category, wave, date, estimate=NaN, ci_low,
        ci_high`` (shares): the interval the published cell implies for the published
        estimate (e.g. 2023-11 neutral 22.5-48 %), to be drawn as a bar, never as a point.
        Rows without fieldwork dates are left out.
    """
    cols = ["source", "question", "category", "wave", "date", "estimate", "ci_low", "ci_high"]
    check_columns(intervals, ["wave", "question", "category", "kind", "low", "high"])
    want = {(s["question"], s["category"]) for s in series}
    pairs = zip(intervals["question"], intervals["category"], strict=True)
    wanted = np.array([(q, c) in want for q, c in pairs], dtype=bool)
    keep = intervals["kind"].isin(BOUND_KINDS).to_numpy() & wanted
    rows = intervals[keep]
    if rows.empty or not {"fieldwork_start", "fieldwork_end"} <= set(rows.columns):
        return pd.DataFrame(columns=cols)
    rows = rows[rows["fieldwork_start"].notna() & rows["fieldwork_end"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    dates = fieldwork_mid_dates(rows.drop_duplicates("wave"))
    out = pd.DataFrame({
        "source": "published", "question": rows["question"], "category": rows["category"],
        "wave": rows["wave"].astype(str), "date": [dates[str(w)] for w in rows["wave"]],
        "estimate": np.nan, "ci_low": rows["low"].astype(float) / 100,
        "ci_high": rows["high"].astype(float) / 100,
    })  # fmt: skip
    return out[cols].reset_index(drop=True)


#: Largest implied-interval width / sampling SD of a published cell that still counts as a
#: point: a uniform position of the estimate inside the interval then adds at most
#: ``width^2 / 12`` (Sheppard), no more than the sampling variance itself.
POINT_RATIO = float(np.sqrt(12.0))


def interval_sd_ratio(low, high, n, deff) -> np.ndarray:
    """Width of implied intervals (proportions) over the estimate's sampling SD.

    The SD is ``sqrt(deff m (1 - m) / n)`` at the interval midpoint ``m``, with the
    published N and the design effect of the published estimate (sampling weights).
    """
    lo, hi = np.asarray(low, float), np.asarray(high, float)
    mid = (lo + hi) / 2
    sd = np.sqrt(np.asarray(deff, float) * mid * (1 - mid) / np.asarray(n, float))
    return (hi - lo) / sd


def interval_information(low, high, n, deff) -> np.ndarray:
    """``"point"`` where a published cell locates its estimate (ratio at most
    :data:`POINT_RATIO`: a number up to rounding), else ``"partial"`` (a bound, or a part and
    a complement: the share is only partially identified there, and a band there shows what
    the bounds and the walk allow, not where inside them the share lies)."""
    return np.where(interval_sd_ratio(low, high, n, deff) <= POINT_RATIO, "point", "partial")
