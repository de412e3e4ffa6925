"""Verdict rules of the claims ledger: one-sided tests, equivalence, coverage, multiplicity.

Every part of a claim (one wave, one item) carries two one-sided p-values:

``p_for``
    of the null "the part does *not* hold" (small: evidence *for* the part);
``p_against``
    of the null "the part holds" (small: evidence *against* it).

Each one-sided test is run at ``alpha = (1 - level) / 2`` (0.025 at level 0.95), so a part
passes exactly when its displayed two-sided ``level`` interval lies on the claim's side of the
threshold (equivalence: inside the band, a TOST at ``alpha``). A claim is a conjunction of
its parts ("in every wave ..."), and it is decided by :func:`decide`:

* **supported**: every part passes (``p_for < alpha``; an intersection-union test, which
  needs no multiplicity correction) *and* every wave of the window has the data;
* **supported where published (k of K)**: every part with data passes, but only k of the K
  waves of the window have the data;
* **not supported**: at least one part is contradicted after Holm's step-down correction of
  the ``p_against`` over all parts (family-wise error ``alpha``), so a claim that holds exactly
  at its thresholds is rejected by chance at most ``alpha`` of the time, however many parts;
* **inconclusive**: otherwise (including no data at all).

These functions take estimates and standard errors, never respondents; the weights behind
the estimates are sampling (raked) weights or published numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from pollwaves.survey import dist
from pollwaves.survey.differences import holm_adjusted

__all__ = ["INCONCLUSIVE", "NOT_SUPPORTED", "SUPPORTED", "SUPPORTED_WHERE", "Part", "below",
           "combine", "decide", "equivalence", "holm", "one_sided", "slope_test", "within"]  # fmt: skip

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
SUPPORTED_WHERE = "supported where published"


@dataclass
class Part:
    """One tested part of a claim: an estimate, its interval and the two one-sided p-values.

    ``lo``/``hi`` are the displayed ``level`` interval (``hi = 1`` for a published lower
    bound); ``bound`` marks a published bound ("≥ x"), which is never shown as an estimate.
    """

    wave: str
    item: str
    part: str
    estimate: float
    lo: float
    hi: float
    p_for: float
    p_against: float
    note: str = ""
    bound: str = ""
    verdict: str = field(default=INCONCLUSIVE)

    @property
    def has_data(self) -> bool:
        return bool(np.isfinite(self.p_for) or np.isfinite(self.p_against))


def _nan_or(x: float, default: float = 1.0) -> float:
    return default if x is None or not np.isfinite(x) else float(x)


def one_sided(est: float, se: float, threshold: float, side: str, df: float = np.inf) -> float:
    """p-value of H0: value on the wrong side of ``threshold``; ``side`` ``"below"`` tests
    H1: value < threshold, ``"above"`` H1: value > threshold (z, or t with ``df``)."""
    if not (np.isfinite(est) and np.isfinite(se)) or se <= 0:
        return np.nan
    t = (est - threshold) / se
    x = t if side == "below" else -t  # sf(t) = cdf(-t): what scipy.stats computes too
    return float(special.ndtr(x) if not np.isfinite(df) else special.stdtr(df, x))


def equivalence(est: float, se: float, target: float, tol: float, df: float = np.inf):
    """TOST of H1: ``|value - target| < tol``; returns ``(p_for, p_against)``.

    ``p_for`` is the larger of the two one-sided p-values (the TOST); ``p_against`` the
    smaller p-value of "above target + tol" and "below target - tol" (the value lies outside).
    """
    lo_p = one_sided(est, se, target - tol, "above", df)
    hi_p = one_sided(est, se, target + tol, "below", df)
    if np.isnan(lo_p) or np.isnan(hi_p):
        return np.nan, np.nan
    return max(lo_p, hi_p), min(1 - lo_p, 1 - hi_p)


def holm(p: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down rejections at family-wise level ``alpha`` (missing p: not rejected)."""
    vals = [_nan_or(x) for x in p]  # a missing p counts as a test with p = 1
    return [bool(a < alpha) for a in holm_adjusted(vals)]


def decide(parts: Sequence[Part], alpha: float, k: int, big_k: int) -> str:
    """Verdict of a conjunction of parts (see the module notes); sets each part's verdict.

    ``k`` of ``big_k`` waves of the window have every part's data.
    """
    rejected = holm([p.p_against for p in parts], alpha)
    for p, r in zip(parts, rejected, strict=True):
        p.verdict = (NOT_SUPPORTED if r else SUPPORTED if _nan_or(p.p_for) < alpha
                     else INCONCLUSIVE)  # fmt: skip
    if any(rejected):
        return NOT_SUPPORTED
    if not parts or big_k == 0 or k == 0 or any(p.verdict != SUPPORTED for p in parts):
        return INCONCLUSIVE
    return SUPPORTED if k >= big_k else SUPPORTED_WHERE


def slope_test(x, y, se, max_abs: float, alpha: float):
    """Inverse-variance weighted linear trend, its equivalence test and lack of fit.

    Returns ``(slope, se_slope, p_for, p_against, lof_p)``: ``p_for`` the TOST of
    ``|slope| < max_abs``; ``p_against`` the smaller one-sided p of ``slope > max_abs`` or
    ``slope < -max_abs``; ``lof_p`` the chi-square lack-of-fit p of the linear model (residual
    ``sum((y - fit)^2 / se^2)`` on ``n - 2`` df; NaN with fewer than 3 points).
    """
    x, y, v = (np.asarray(a, dtype=float) for a in (x, y, np.square(se)))
    X = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(X.T @ (X / v[:, None]))
    b = cov @ X.T @ (y / v)
    s = float(np.sqrt(cov[1, 1]))
    p_for, p_against = equivalence(float(b[1]), s, 0.0, max_abs)
    resid = float(np.sum((y - X @ b) ** 2 / v))
    lof = float(dist.chi2_sf(resid, len(x) - 2)) if len(x) > 2 else np.nan
    return float(b[1]), s, p_for, p_against, lof


# -- interval-only rules (kept for the figures and simple checks) ----------------------------


def below(lo: float, hi: float, threshold: float) -> str:
    """Verdict on "the value is below ``threshold``" from its interval."""
    if hi < threshold:
        return SUPPORTED
    if lo >= threshold:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def within(lo: float, hi: float, target: float, tol: float) -> str:
    """Verdict on "the value is about ``target``" (within ``tol``) from its interval."""
    if lo >= target - tol and hi <= target + tol:
        return SUPPORTED
    if hi < target - tol or lo > target + tol:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def combine(verdicts: Sequence[str]) -> str:
    """All parts supported: supported; any part not supported: not; otherwise inconclusive."""
    if not verdicts:
        return INCONCLUSIVE
    if any(v == NOT_SUPPORTED for v in verdicts):
        return NOT_SUPPORTED
    return SUPPORTED if all(v == SUPPORTED for v in verdicts) else INCONCLUSIVE
