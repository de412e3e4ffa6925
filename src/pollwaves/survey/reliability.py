"""Reliability flags for proportions: the NCHS Data Presentation Standards (2017).

Reference: Parker JD, Talih M, Malec DJ, et al. National Center for Health Statistics Data
Presentation Standards for Proportions. Vital Health Stat 2(175), 2017 (revised 2018, 2021).
The thresholds below follow the standard as implemented by NCHS staff in the R package
``surveytable`` (CDCgov/surveytable, ``R/z_lpe.R``, function ``.lpe_percents``), which was
used to check them; the PDF itself could not be consulted from this machine.

The standard uses the Korn–Graubard ("beta") interval with the degrees-of-freedom
adjusted effective sample size, whatever interval the table shows.
"""

from __future__ import annotations

import numpy as np

from pollwaves.survey import dist

__all__ = ["FLAG_CODES", "nchs_flags"]

#: Flag codes written to the ``flag`` column (several are joined with ``;``).
FLAG_CODES = {
    "suppress_n_eff": "suppress: effective sample size < 30",
    "suppress_width": "suppress: absolute Korn-Graubard CI width >= 0.30",
    "suppress_relative_width": "suppress: relative CI width > 130% (width between 0.05 and 0.30)",
    "footnote_complement": "footnote: CI width relative to the complement 1-p > 130%",
    "review_df": "review: fewer than 8 degrees of freedom",
    "review_0_100": "review: estimate is 0% or 100%",
}


def _korn_graubard(p, se, n, df, level=0.95):
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = p * (1 - p) / se**2
        n_eff = n_eff * (dist.t_ppf(alpha / 2, n - 1) / dist.t_ppf(alpha / 2, df)) ** 2
        lo = dist.beta_ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
        hi = dist.beta_ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
    return lo, hi


def nchs_flags(
    p: np.ndarray, se: np.ndarray, n: np.ndarray, df: np.ndarray, *, level: float = 0.95
) -> list[str]:
    """NCHS presentation flags for design-based proportions.

    Parameters
    ----------
    p, se : array
        Estimated proportions and their design-based standard errors.
    n : array
        Unweighted denominators (valid answers in the domain).
    df : array
        Design degrees of freedom (PSUs minus strata).
    level : float
        Confidence level of the Korn–Graubard interval (the standard uses 0.95).

    Returns
    -------
    list of str
        One entry per estimate: ``""`` (present) or ``;``-joined codes of
        :data:`FLAG_CODES`. The rules, in order:

        1. effective n ``p(1-p)/se^2`` (capped at n; n itself when p is 0 or 1) < 30:
           suppress;
        2. absolute Korn–Graubard CI width <= 0.05: present;
        3. width >= 0.30: suppress;
        4. relative width ``width / p`` > 1.30: suppress;
        5. presented estimates with ``width / (1-p)`` > 1.30 get a complement footnote;
           with df < 8 a review flag; at p = 0 or 1 a review flag.
    """
    p, se = np.asarray(p, float), np.asarray(se, float)
    n, df = np.asarray(n, float), np.asarray(df, float)
    lo, hi = _korn_graubard(p, se, n, df, level)
    width = hi - lo
    extreme = (p <= 0) | (p >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(extreme, n, np.minimum(p * (1 - p) / se**2, n))
        width = np.where(extreme, 0.0, width)
        rel = width / p
        rel_c = width / (1 - p)
    out = []
    for i in range(len(p)):
        codes = []
        if n_eff[i] < 30:
            codes.append("suppress_n_eff")
        elif width[i] > 0.05 and width[i] >= 0.30:
            codes.append("suppress_width")
        elif width[i] > 0.05 and rel[i] > 1.30:
            codes.append("suppress_relative_width")
        else:
            if width[i] > 0.05 and rel_c[i] > 1.30:
                codes.append("footnote_complement")
            if df[i] < 8:
                codes.append("review_df")
            if extreme[i]:
                codes.append("review_0_100")
        out.append(";".join(codes))
    return out
