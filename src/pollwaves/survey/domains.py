"""Design-based difference of one category's share between two domains of one sample.

Both domain shares come from the same design (the same wave), so they are not independent:
their covariance enters the variance of the difference. Every function here assumes
*sampling weights* (inverse-probability or calibration weights), never frequency weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.calibration import calibration
from pollwaves.survey.design import check_columns, design_codes, design_variance
from pollwaves.survey.weighting import sampling_weights

__all__ = ["DIFFERENCE_KEYS", "domain_difference"]

DIFFERENCE_KEYS = [
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "n_a",
    "n_b",
    "estimate_a",
    "estimate_b",
    "se_a",
    "se_b",
    "cov_ab",
    "t",
    "p_greater",
]


def domain_difference(
    df: pd.DataFrame,
    variable: str,
    category: object,
    domain: str,
    group_a: object,
    group_b: object,
    weight: str | None,
    *,
    strata: str | None = None,
    psu: str | None = None,
    calibrated_on: Sequence[str] | None = None,
    base_weight: str | None = None,
    level: float = 0.95,
) -> dict[str, float]:
    """Share of ``category`` of ``variable`` in domain ``group_a`` minus that in ``group_b``.

    Parameters
    ----------
    df : DataFrame
        One row per respondent of ONE sample (e.g. one wave); the rows define the design.
    variable : str
        Categorical column whose share is compared (e.g. ``attitude_russia``).
    category : object
        The category whose share is compared (e.g. ``"good"``).
    domain : str
        Column defining the domains (e.g. ``war_support``).
    group_a, group_b : object
        The two domain values; the estimate is ``p_a - p_b``.
    weight : str or None
        Sampling-weight column (``None``: equal weights). Not frequency weights.
    strata, psu : str, optional
        Stratum and primary-sampling-unit columns (``None``: one stratum, every respondent a
        PSU, as ``svydesign(ids=~1, weights=~weight)``).
    calibrated_on : list of str, optional
        Raking columns the weights were calibrated on: the linearised values are replaced by
        their residuals from the base-weighted regression on the calibration dummies (as
        :func:`pollwaves.survey.estimation.proportions`; R ``calibrate(..., calfun="raking")``).
    base_weight : str, optional
        With ``calibrated_on``: the weights before calibration (``None``: equal).
    level : float
        Confidence level of the t interval.

    Returns
    -------
    dict
        ``estimate`` (``p_a - p_b``), ``se``, ``df`` (design degrees of freedom), ``ci_low``,
        ``ci_high`` (``estimate -/+ t_df se``), ``n_a``, ``n_b`` (unweighted respondents with
        a valid answer in each domain), ``estimate_a``, ``estimate_b``, ``se_a``, ``se_b``,
        ``cov_ab`` (design covariance of the two shares), ``t`` and ``p_greater`` (one-sided
        p-value of ``H0: p_a - p_b <= 0`` against ``p_a > p_b``, t with ``df``).

    Raises
    ------
    InputError
        If a column is missing, ``group_a == group_b``, or a domain has no respondent with a
        valid answer to ``variable`` (the message names the domain and the value).

    Notes
    -----
    Respondents with a missing ``variable`` or ``domain`` are excluded as a domain (they stay
    in the design with zero contribution, as ``design[!is.na(y) & !is.na(g), ]`` in R).
    Linearised values ``z_gi = w_i d_gi (y_i - p_g) / sum(w d_g)`` for g = a, b; their
    between-PSU covariance within strata gives ``V(p_a - p_b) = V_a + V_b - 2 C_ab``. The
    design df is the number of PSUs minus the number of strata among respondents valid on
    both columns (R ``degf`` of that subset). Matches R ``svyby(~y, ~g, design, svymean,
    covmat=TRUE)`` followed by ``svycontrast(..., c(a=1, b=-1))`` and ``confint(..., df=
    degf(design))``.
    """
    check_columns(df, [variable, domain, *(c for c in (weight, strata, psu) if c)])
    if group_a == group_b:
        raise InputError("The two domains must differ", column=domain, value=group_a)
    w = sampling_weights(df, weight)
    s, p_codes = design_codes(df, strata, psu)
    valid = (df[variable].notna() & df[domain].notna()).to_numpy()
    y = (df[variable] == category).fillna(False).to_numpy(dtype=float)
    est, z, n = {}, [], {}
    for name, group in (("a", group_a), ("b", group_b)):
        d = valid & (df[domain] == group).fillna(False).to_numpy()
        n[name] = int(d.sum())
        if n[name] == 0:
            raise InputError(
                "A domain has no respondent with a valid answer",
                column=domain,
                value=group,
                hint=f"no row has {domain} == {group!r} and an answer to {variable}",
            )
        wd = w * d
        est[name] = float((wd * y).sum() / wd.sum())
        z.append(wd * (y - est[name]) / wd.sum())
    zmat = np.column_stack(z)
    cal = calibration(df, weight, calibrated_on, base_weight=base_weight)
    if cal is not None:
        zmat = cal.residualise(zmat)
    cov = design_variance(zmat, s, p_codes, cov=True)
    c = np.array([1.0, -1.0])
    se = float(np.sqrt(max(c @ cov @ c, 0.0)))
    dof = int(len(np.unique(p_codes[valid])) - len(np.unique(s[valid])))
    diff = est["a"] - est["b"]
    tq = float(dist.t_ppf(0.5 + float(level) / 2, dof))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se if se > 0 else np.nan
    return {
        "estimate": diff,
        "se": se,
        "df": dof,
        "ci_low": diff - tq * se,
        "ci_high": diff + tq * se,
        "n_a": n["a"],
        "n_b": n["b"],
        "estimate_a": est["a"],
        "estimate_b": est["b"],
        "se_a": float(np.sqrt(cov[0, 0])),
        "se_b": float(np.sqrt(cov[1, 1])),
        "cov_ab": float(cov[0, 1]),
        "t": t,
        "p_greater": float(dist.t_sf(t, dof)) if se > 0 else np.nan,
    }
