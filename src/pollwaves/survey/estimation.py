"""Design-based estimation of proportions (Taylor linearisation).

Every function here assumes *sampling weights* (inverse-probability or calibration
weights), never frequency weights. Standard errors are design-based: the ratio estimator
``p = sum(w*y) / sum(w)`` is linearised and its variance is estimated from the weighted
residuals, summed within primary sampling units and compared within strata, exactly as
R ``survey::svymean`` / ``svyby`` / ``svyciprop`` do for ``svydesign(ids=~psu,
strata=~strata, weights=~w)`` (``ids=~1`` when no PSU is given).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.calibration import calibration
from pollwaves.survey.design import as_list, check_columns, design_codes
from pollwaves.survey.domain_sums import domain_moments
from pollwaves.survey.reliability import nchs_flags
from pollwaves.survey.weighting import sampling_weights

__all__ = [
    "RESULT_COLUMNS",
    "proportions",
    "share_contrasts",
    "toplines",
]

RESULT_COLUMNS = [
    "question",
    "wave",
    "domain",
    "category",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "n_eff",
    "deff",
]
CI_METHODS = ("logit", "beta", "wilson", "xlogit")


def _ci(p: np.ndarray, se: np.ndarray, n: np.ndarray, df: np.ndarray, method: str, level: float):
    """Confidence limits as R ``svyciprop`` (``method``) computes them."""
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        tq = dist.t_ppf(1 - alpha / 2, df)
        if method in ("logit", "xlogit"):
            eta = np.log(p / (1 - p))
            half = tq * se / (p * (1 - p))
            lo, hi = 1 / (1 + np.exp(-(eta - half))), 1 / (1 + np.exp(-(eta + half)))
        elif method == "beta":
            n_eff = p * (1 - p) / se**2
            n_eff = n_eff * (dist.t_ppf(alpha / 2, n - 1) / dist.t_ppf(alpha / 2, df)) ** 2
            lo = dist.beta_ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            hi = dist.beta_ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
        elif method == "wilson":
            n_eff = p * (1 - p) / se**2
            z2 = tq**2
            centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
            half = tq / (1 + z2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2))
            lo, hi = centre - half, centre + half
        else:
            raise InputError(
                "Unknown ci_method", value=method, hint=f"use one of {', '.join(CI_METHODS)}"
            )
    return lo, hi


def _group_codes(df: pd.DataFrame, by_cols: list[str]) -> tuple[np.ndarray, list[tuple]]:
    """Domain code of each row (``-1``: a key is missing) and the sorted domain keys."""
    if not by_cols:
        return np.zeros(len(df), dtype=np.int64), [()]
    joint = np.zeros(len(df), dtype=np.int64)
    ok = np.ones(len(df), dtype=bool)
    uniques = []
    for c in by_cols:
        codes, levels = pd.factorize(df[c], sort=True)
        ok &= codes >= 0
        joint = joint * (len(levels) + 1) + codes
        uniques.append(levels)
    size = int(np.prod([len(u) + 1 for u in uniques], dtype=float))
    gcode = np.full(len(df), -1, dtype=np.int64)
    if size <= 4 * len(df) + 1024:  # few key combinations: O(n) by counting
        seen = np.bincount(joint[ok], minlength=size) > 0
        present = np.flatnonzero(seen)
        gcode[ok] = (np.cumsum(seen) - 1)[joint[ok]]
    else:
        present, inverse = np.unique(joint[ok], return_inverse=True)
        gcode[ok] = inverse
    parts, rest = [], present
    for levels in reversed(uniques):
        parts.append(np.asarray(levels, dtype=object)[rest % (len(levels) + 1)])
        rest = rest // (len(levels) + 1)
    return gcode, list(zip(*reversed(parts), strict=True))


def _domain_arrays(
    df, variable, weight, by_cols, strata, psu, calibrated_on, base_weight, cov=False, cal_by=None
):
    """``(groups, categories, moments)`` of the non-empty domains, all in one pass.

    The linearised values of the category shares of ``variable`` in each domain of
    ``by_cols`` (rows outside the domain or with a missing answer contribute zero), residualised
    on the calibration model when ``calibrated_on`` is given, and their design variance
    (the full covariance matrix with ``cov=True``), from grouped sums
    (:func:`pollwaves.survey.domain_sums.domain_moments`).
    """
    check_columns(df, [variable, *by_cols, *(c for c in (weight, strata, psu) if c)])
    w = sampling_weights(df, weight)
    s, p_codes = design_codes(df, strata, psu)
    cal = calibration(df, weight, calibrated_on, by=cal_by, base_weight=base_weight)
    y = df[variable]
    if isinstance(y.dtype, pd.CategoricalDtype):
        cats = list(y.cat.categories)
        ycode = y.cat.codes.to_numpy().astype(np.int64)
    else:
        codes, levels = pd.factorize(y, sort=True)
        cats = levels.tolist()
        ycode = codes.astype(np.int64)
    if not cats:
        raise InputError("No valid answers", column=variable, hint="check the column mapping")
    gcode, groups = _group_codes(df, by_cols)
    res = domain_moments(w, s, p_codes, ycode, len(cats), gcode, len(groups), cal, cov=cov)
    keep = np.flatnonzero(res["n"] > 0)
    return [groups[i] for i in keep], cats, {key: v[keep] for key, v in res.items()}


def _domains(*args, **kwargs):
    """Yield ``(group, categories, shares, variance, (n, df, weight sum, Kish n))`` per domain.

    As :func:`_domain_arrays` (same arguments), one domain at a time.
    """
    groups, cats, res = _domain_arrays(*args, **kwargs)
    for i, g in enumerate(groups):
        dom = (int(res["n"][i]), int(res["df"][i]), float(res["wsum"][i]), float(res["kish_n"][i]))
        yield g, cats, res["est"][i], res["var"][i], dom


def share_contrasts(
    df: pd.DataFrame,
    variable: str,
    weight: str | None,
    contrasts: dict[str, dict[str, float]],
    by: str | Sequence[str] | None = None,
    strata: str | None = None,
    psu: str | None = None,
    calibrated_on: Sequence[str] | None = None,
    level: float = 0.95,
    *,
    base_weight: str | None = None,
    calibration_by: str | None = None,
) -> pd.DataFrame:
    """Linear combinations of the category shares of one question, with design-based SEs.

    Parameters
    ----------
    contrasts : dict
        ``{name: {category: coefficient}}``, e.g. ``{"oppose_minus_support": {"oppose": 1,
        "support": -1}}`` or ``{"neutral": {"both": 1, "outside": 1}}``. Categories absent
        from the data count as 0.
    Other parameters
        As :func:`proportions` (sampling weights; same design and calibration handling,
        ``calibration_by`` included).

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``contrast, estimate, se, ci_low, ci_high, t, p_value, n,
        df``: a t interval with the design df, and the two-sided test of zero.

    Notes
    -----
    Uses the full design covariance of the shares, so the SE of a difference of two shares of
    the same sample includes their (negative) covariance. Matches R ``svycontrast(svymean(~y,
    design), list(name = c(...)))`` with ``confint(..., df = degf(design))``.
    """
    by_cols = as_list(by)
    rows = []
    for g, cats, est, cov, dom in _domains(
        df,
        variable,
        weight,
        by_cols,
        strata,
        psu,
        calibrated_on,
        base_weight,
        True,
        calibration_by,
    ):
        n_d, dof = dom[0], dom[1]
        for name, coefs in contrasts.items():
            unknown = set(coefs) - set(cats)
            c = np.array([float(coefs.get(k, 0.0)) for k in cats])
            if unknown and not set(coefs) & set(cats):
                raise InputError(
                    "Contrast names no observed category", column=variable, value=sorted(unknown)
                )
            val = float(c @ est)
            se = float(np.sqrt(max(c @ cov @ c, 0.0)))
            tq = dist.t_ppf(0.5 + level / 2, dof)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = val / se
            rows.append(
                {
                    **dict(zip(by_cols, g, strict=True)),
                    "contrast": name,
                    "estimate": val,
                    "se": se,
                    "ci_low": val - tq * se,
                    "ci_high": val + tq * se,
                    "t": t,
                    "p_value": float(2 * dist.t_sf(abs(t), dof)) if se > 0 else np.nan,
                    "n": n_d,
                    "df": dof,
                }
            )
    cols = [*by_cols, "contrast", "estimate", "se", "ci_low", "ci_high", "t", "p_value", "n", "df"]
    return pd.DataFrame(rows, columns=cols)


def proportions(
    df: pd.DataFrame,
    variable: str,
    weight: str | None,
    by: str | Sequence[str] | None = None,
    strata: str | None = None,
    psu: str | None = None,
    calibrated_on: Sequence[str] | None = None,
    ci_method: str = "logit",
    level: float = 0.95,
    *,
    base_weight: str | None = None,
    calibration_by: str | None = None,
) -> pd.DataFrame:
    """Weighted category shares with design-based standard errors and intervals.

    Parameters
    ----------
    df : DataFrame
        One row per respondent; the rows define the sample design.
    variable : str
        Categorical column. Missing values (refusals) are excluded from the base, treated
        as a domain (as ``svymean(..., na.rm=TRUE)``).
    weight : str or None
        Sampling-weight column (``None``: equal weights).
    by : str or list of str, optional
        Domain columns; one block of rows per domain (``svyby``), with correct domain
        variance (rows outside the domain stay in the design with zero contribution).
    strata, psu : str, optional
        Stratum and primary-sampling-unit columns.
    calibrated_on : list of str, optional
        Raking columns the weights were calibrated on. The linearised values are replaced by
        their residuals from a base-weighted regression on the calibration dummies, so the
        SEs account for the raking, as a design from R ``calibrate(design, ~a+b+c,
        population, calfun="raking")``.
    base_weight : str, optional
        With ``calibrated_on``: the weights before calibration (``None``: equal).
    calibration_by : str, optional
        With ``calibrated_on``: column within whose levels the weights were calibrated
        separately (``"wave"`` for pooled waves; R ``calibrate(design, ~ wave + wave:(a + b),
        ...)``), as :func:`pollwaves.survey.glm.weighted_logit`.
    ci_method : {"logit", "beta", "wilson", "xlogit"}
        Interval method; ``logit``, ``beta`` (Korn-Graubard) and ``xlogit`` follow R
        ``svyciprop``. ``wilson`` is the Wilson score interval with the effective sample size.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``category, estimate, se, ci_low, ci_high, n, n_eff, deff,
        flag``.
        ``n`` is the unweighted number of valid answers in the domain; ``deff`` is the design
        effect of the estimate as ``svymean(..., deff=TRUE)``; ``n_eff = n / deff`` (Kish's
        effective n of the domain weights when the deff is undefined, at p = 0 or 1).
        Intervals are undefined (NaN) where R's are: at p = 0 or 1. ``flag`` holds the
        NCHS 2017 presentation flags (:func:`pollwaves.survey.reliability.nchs_flags`; empty when
        the estimate may be shown).

    Notes
    -----
    Linearisation: ``z_i = w_i d_i (y_i - p) / sum(w d)``; ``V(p)`` is the between-PSU
    variance of the ``z`` totals within strata (Binder 1983; Lohr 2010, ch. 9). Degrees of
    freedom are the number of PSUs minus the number of strata among the domain's valid rows
    (R ``degf``). Matches R ``svyby(~y, ~by, design, svyciprop, method=ci_method)``.
    """
    if ci_method not in CI_METHODS:
        raise InputError(
            "Unknown ci_method", value=ci_method, hint=f"use one of {', '.join(CI_METHODS)}"
        )
    by_cols = as_list(by)
    groups, cats, res = _domain_arrays(
        df, variable, weight, by_cols, strata, psu, calibrated_on, base_weight, False,
        calibration_by,
    )  # fmt: skip
    n_cat = len(cats)
    est, var = res["est"].ravel(), res["var"].ravel()
    n_d = np.repeat(res["n"], n_cat)
    dof = np.repeat(res["df"], n_cat)
    wsum, kish_n = np.repeat(res["wsum"], n_cat), np.repeat(res["kish_n"], n_cat)
    se = np.sqrt(var)
    lo, hi = _ci(est, se, n_d, dof, ci_method, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        vsrs = est * (1 - est) / (n_d - 1) * (wsum - n_d) / wsum
        deff = np.where((vsrs > 0) & (wsum > n_d), var / vsrs, np.nan)
        n_eff = np.where(np.isfinite(deff) & (deff > 0), n_d / deff, kish_n)
    cols = [*by_cols, "category", "estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff"]
    keys = {c: [g[j] for g in groups for _ in cats] for j, c in enumerate(by_cols)}
    data = {"category": list(cats) * len(groups), "estimate": est, "se": se, "ci_low": lo}
    data |= {"ci_high": hi, "n": n_d, "n_eff": n_eff, "deff": deff, "df": dof}
    out = pd.DataFrame({**keys, **data}, columns=[*cols, "df"])
    out["flag"] = nchs_flags(out["estimate"], out["se"], out["n"], out.pop("df"), level=level)
    return out


def toplines(
    df: pd.DataFrame,
    questions: Sequence[str],
    weight: str | None,
    *,
    wave: str,
    by: Sequence[str] = (),
    calibrated_on: Sequence[str] | None = None,
    ci_method: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted toplines (and optional one-way subgroup tables) for one wave.

    Parameters
    ----------
    df : DataFrame
        Harmonised, weighted respondents of one wave.
    questions : list of str
        Question columns; all-missing questions (not asked in the wave) are skipped.
    weight : str
        Sampling-weight column (raked weights; equal base weights before raking).
    wave : str
        Wave id written to the ``wave`` column.
    by : list of str
        Demographic columns for one-way subgroup domains (``domain = "var=category"``).
    calibrated_on : list of str, optional
        Raking columns, passed to :func:`proportions` so that SEs account for the raking.

    Returns
    -------
    DataFrame
        Columns ``question, wave, domain, category, estimate, se, ci_low, ci_high, n, n_eff,
        deff, flag``; ``domain == "all"`` for the whole sample.
    """
    opts = {"calibrated_on": calibrated_on, "ci_method": ci_method, "level": level}
    parts = []
    for q in questions:
        if df[q].notna().sum() == 0:
            continue
        res = proportions(df, q, weight, **opts)
        res.insert(0, "domain", "all")
        parts.append(res.assign(question=q))
        for var in by:
            sub = proportions(df, q, weight, by=var, **opts)
            sub["domain"] = var + "=" + sub.pop(var).astype(str)
            parts.append(sub.assign(question=q))
    if not parts:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, "flag"])
    out = pd.concat(parts, ignore_index=True).assign(wave=wave)
    return out[[*RESULT_COLUMNS, "flag"]]
