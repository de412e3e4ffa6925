"""Windows, data sources and test values of the claims ledger.

A *window* is the set of waves a verdict may use: ``reproduction`` (fieldwork starting before
the paper's date, ``paper_date`` in ``config/claims.yaml``) and ``follow-up`` (every wave).
A *source* is where the numbers come from: ``published`` (real published toplines),
``microdata`` (respondent-level waves with ``simulated: false``) and ``simulated`` (waves with
``simulated: true``; a demonstration, not evidence).

A :class:`Value` is one number with what is known about it: the true value lies in
``[vlow, vhigh]`` up to sampling error (equal for an estimate; ``[x, 1]`` for a published
lower bound "more than x"), with the standard error on the test scale (logit for shares,
linear for differences). Microdata values come from sampling (raked) weights; published
values get ``var = deff * p (1 - p) / N`` on the logit scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwaves.analysis.claims_rules import one_sided

__all__ = ["Value", "p_side", "published_share", "test_above", "test_below", "test_within"]

REPRODUCTION, FOLLOW_UP = "reproduction", "follow-up"
EVIDENCE_SOURCES = ("published", "microdata")  # real data
DEMO_SOURCES = ("simulated",)


@dataclass
class Value:
    """One number of a wave: its bounds, SEs on the test scale and displayed interval."""

    estimate: float
    vlow: float
    vhigh: float
    se_low: float
    se_high: float
    lo: float
    hi: float
    scale: str = "logit"
    df: float = np.inf
    bound: str = ""  # "≥" (lower bound), "≤" (upper bound), "range" or "" (an estimate)
    note: str = ""

    @property
    def complete(self) -> bool:
        return not self.bound and np.isfinite(self.estimate)


def _t(x: float, scale: str) -> float:
    if scale != "logit":
        return float(x)
    return float(np.log(x / (1 - x))) if 0 < x < 1 else np.nan


def p_side(v: Value, threshold: float, side: str) -> float:
    """One-sided p of H1: value ``side`` (``below``/``above``) ``threshold`` (NaN: untestable).

    "below" is tested at the upper end ``vhigh`` and "above" at the lower end ``vlow``, so a
    bound only ever gives evidence in the direction it can.
    """
    x, se = (v.vhigh, v.se_high) if side == "below" else (v.vlow, v.se_low)
    return one_sided(_t(x, v.scale), se, _t(threshold, v.scale), side, v.df)


def _mx(*p: float) -> float:
    return np.nan if any(np.isnan(x) for x in p) else max(p)


def _mn(*p: float) -> float:
    ok = [x for x in p if not np.isnan(x)]
    return min(ok) if ok else np.nan


def test_below(v: Value, thr: float) -> tuple[float, float]:
    """``(p_for, p_against)`` of "the value is below ``thr``"."""
    return p_side(v, thr, "below"), p_side(v, thr, "above")


def test_above(v: Value, thr: float) -> tuple[float, float]:
    """``(p_for, p_against)`` of "the value is above ``thr``"."""
    return p_side(v, thr, "above"), p_side(v, thr, "below")


def test_within(v: Value, target: float, tol: float) -> tuple[float, float]:
    """``(p_for, p_against)`` of "the value is within ``target +- tol``" (TOST)."""
    p_for = _mx(p_side(v, target - tol, "above"), p_side(v, target + tol, "below"))
    return p_for, _mn(p_side(v, target + tol, "above"), p_side(v, target - tol, "below"))


def estimate_value(est, se, lo, hi, scale="logit", df=np.inf, note="") -> Value:
    """A design-based estimate (sampling weights) as a :class:`Value`."""
    est, se = float(est), float(se)
    if scale == "logit":
        se = se / (est * (1 - est)) if 0 < est < 1 else np.nan
    df = float(df) if df is not None and pd.notna(df) else np.inf
    return Value(est, est, est, se, se, float(lo), float(hi), scale, df, "", note)


def _logit_ci(p: float, se: float, z: float) -> tuple[float, float]:
    if not (0 < p < 1 and np.isfinite(se)):
        return (np.nan, np.nan) if p > 0 else (0.0, np.nan)
    eta = np.log(p / (1 - p))
    return float(1 / (1 + np.exp(-(eta - z * se)))), float(1 / (1 + np.exp(-(eta + z * se))))


def published_share(row: pd.Series, deff: float, z: float) -> Value:
    """A published row (percent) as a :class:`Value`, from its N and the assumed ``deff``.

    ``qualifier`` lower_bound (or relation part_of, or bears_on: one option of a
    multi-option question that implies the category, e.g. "the army should join the war on
    Russia's side" implies a "yes" to army participation, so its share bounds the category's
    share from below): ``[x, 1]``, shown "≥ x"; upper_bound: ``[0, x]``; range:
    ``[low, high]``; otherwise exact.
    """
    p = float(row["value"]) / 100
    n = float(row["n_respondents"]) if pd.notna(row.get("n_respondents")) else np.nan
    qual, rel = str(row.get("qualifier", "exact")), str(row.get("relation", "equals"))
    vlow = vhigh = p
    bound = ""
    if qual == "lower_bound" or rel in ("part_of", "bears_on"):
        vhigh, bound = 1.0, "≥"
    elif qual == "upper_bound":
        vlow, bound = 0.0, "≤"
    elif qual == "range":
        vlow, vhigh, bound = float(row["low"]) / 100, float(row["high"]) / 100, "range"

    def se(x: float) -> float:
        return float(np.sqrt(deff / (n * x * (1 - x)))) if n > 0 and 0 < x < 1 else np.nan

    lo, hi = _logit_ci(vlow, se(vlow), z)[0], _logit_ci(vhigh, se(vhigh), z)[1]
    lo = 0.0 if vlow <= 0 else lo
    hi = 1.0 if vhigh >= 1 else hi
    note = "" if n > 0 else "no published sample size"
    return Value(p, vlow, vhigh, se(vlow), se(vhigh), lo, hi, "logit", np.inf, bound, note)


def published_interval(row: pd.Series, deff: float, z: float) -> tuple[float, float, float]:
    """``(value, lo, hi)`` as shares of one published row (bounds keep one side open)."""
    v = published_share(row, deff, z)
    return v.estimate, v.lo, v.hi


def windows(fieldwork: dict[str, pd.Timestamp], paper_date: str) -> dict[str, list[str]]:
    """Waves of each window, in fieldwork order: reproduction (start before ``paper_date``)
    and follow-up (every wave with a known fieldwork start)."""
    order = sorted(fieldwork, key=lambda w: (fieldwork[w], w))
    paper = pd.Timestamp(paper_date)
    return {REPRODUCTION: [w for w in order if fieldwork[w] < paper], FOLLOW_UP: order}


def fieldwork_dates(wave_starts: dict[str, str], published: pd.DataFrame) -> dict:
    """Wave -> fieldwork start: the wave configs first, then dated published waves."""
    out = {w: pd.Timestamp(d) for w, d in wave_starts.items()}
    if "fieldwork_start" in published.columns:
        for w, d in published[["wave", "fieldwork_start"]].dropna().itertuples(index=False):
            ts = pd.to_datetime(d, errors="coerce")
            if str(w) not in out and pd.notna(ts):
                out[str(w)] = ts
    return out
