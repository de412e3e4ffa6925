"""Subgroup model of war support: term tests, average predictions and marginal effects.

The waves are pooled as a stratified design (each wave a stratum, respondents the PSUs, the
raked weights as *sampling weights*, never frequency weights). The model is a design-based
logistic regression (:func:`pollwaves.survey.glm.weighted_logit`, R ``svyglm`` with
``quasibinomial()``); terms are tested with the design-based Wald F of R ``regTermTest``.
Subgroup predictions are marginal standardisations (predictive margins, as R
``svypredmeans``) with linearisation standard errors from the coefficients' influence
functions (:meth:`pollwaves.survey.glm.SurveyLogitResult.influence`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pollwaves.analysis.model_waves import check_estimable, select_waves
from pollwaves.analysis.trends import (
    DatesLike,
    T,
    Y,
    add_time,
    as_factor,
    binary,
    design_info,
    model_matrix,
    pooled_design,
)
from pollwaves.errors import InputError
from pollwaves.survey.design import check_columns, design_codes, design_variance
from pollwaves.survey.glm import SurveyLogitResult, weighted_logit

__all__ = ["DEMOGRAPHICS", "WALD_LABEL", "average_predictions", "subgroup_model"]

DEMOGRAPHICS = ("sex", "age_group", "education", "settlement", "media_diet")
WALD_LABEL = "design-based Wald F (regTermTest)"
TERM_COLUMNS = ["term", "f_stat", "df1", "df2", "p_value", "test"]


#: :func:`average_predictions` works on predictor patterns when rows x coefficients exceed this.
PATTERN_SIZE = 20_000_000


def average_predictions(
    fit: SurveyLogitResult,
    rhs: str,
    data: pd.DataFrame,
    settings: Sequence[Mapping[str, object]],
    *,
    weight: str,
    strata: str | None = None,
    psu: str | None = None,
    derive=None,
    response: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Average predicted probabilities under counterfactual settings and their covariance.

    Parameters
    ----------
    fit : SurveyLogitResult
        A :func:`weighted_logit` fit of ``y ~ rhs`` on ``data`` (same rows, same order).
    rhs : str
        The right-hand side of the fitted formula.
    data : DataFrame
        The model columns (response, predictors, weight, design) of the frame the model was
        fitted on, all rows: they define the design, and the complete rows must be the rows
        used in the fit. Grouped rows (a fit with ``group_size``): the fit's groups are used.
    settings : list of dict
        One counterfactual per entry: ``{column: value}`` set for every respondent.
    weight : str
        Sampling-weight column (*not* frequency weights).
    strata, psu : str, optional
        The design used in the fit.
    derive : callable, optional
        ``derive(frame) -> frame`` recomputing columns that depend on the set ones (e.g.
        interactions), applied after each setting.
    response : str, optional
        The response column of ``data``: predictions do not depend on it, so the rows are
        grouped into predictor patterns without it (fewer model-matrix rows; the same
        results).

    Returns
    -------
    estimates : ndarray
        ``pbar_s = sum_i w_i p_i(s) / sum_i w_i`` over the rows used in the fit.
    cov : ndarray
        Their design-based covariance from the influence functions
        ``z_i = w_i (p_i - pbar) / W + J IF_beta,i`` with ``J = d pbar / d beta`` (R
        ``svyrecvar`` of ``z``), residualised on the fit's calibration model when it was
        fitted with ``calibrated_on`` (:meth:`pollwaves.survey.glm.SurveyLogitResult.calibrate`).

    Notes
    -----
    The estimate is R ``svypredmeans``' predictive margin (Korn and Graubard 1999). Its
    variance is the full linearisation of the weighted mean of predictions: R
    ``svypredmeans`` adds the two parts (averaging, coefficients) as if independent, here
    their covariance is included. For an intercept-only model the result is the
    ``svymean`` variance of the weighted share.
    """
    check_columns(data, [weight])
    frame = data.reset_index(drop=True)
    n_all = len(frame)
    used = np.flatnonzero(frame.notna().all(axis=1).to_numpy())
    if len(used) != fit.n_rows:
        raise InputError(
            "The complete rows of data are not the rows of the fit",
            value=(len(used), fit.n_rows),
            hint="pass only the model columns (response, predictors, weight, design)",
        )
    rows = frame.iloc[used]
    w = frame[weight].to_numpy(float)[used]
    big_w = w.sum()
    info = design_info(fit, rhs, rows)
    s, p_codes = design_codes(frame, strata, psu)
    many = fit.groups is not None or n_all * len(fit.params) > PATTERN_SIZE
    if fit.influence_cells() is not None and many:
        skip = {weight, response}
        est, zs = _pattern_predictions(fit, info, rows, used, w, n_all, settings, derive, skip)
        z_mat = fit.calibrate(np.column_stack(zs) if zs else np.zeros((n_all, 0)))
        return np.array(est), design_variance(z_mat, s, p_codes, cov=True, groups=fit.groups)
    beta, infl = fit.params.to_numpy(), fit.influence()
    est, zs = [], []
    for setting in settings:
        x, p = _counterfactual(info, rows, setting, derive, beta)
        pbar = float(w @ p / big_w)
        jac = (w * p * (1 - p)) @ x / big_w
        z = infl @ jac
        z[used] += w * (p - pbar) / big_w
        est.append(pbar)
        zs.append(z)
    z_mat = fit.calibrate(np.column_stack(zs) if zs else np.zeros((n_all, 0)))
    return np.array(est), design_variance(z_mat, s, p_codes, cov=True, groups=fit.groups)


def _imposed(base: pd.DataFrame, setting, derive) -> pd.DataFrame:
    """``base`` with ``setting`` imposed on every row (and ``derive`` applied)."""
    cf = base.copy()
    for col, val in setting.items():
        if isinstance(base[col].dtype, pd.CategoricalDtype):
            val = pd.Categorical([val] * len(cf), categories=base[col].cat.categories)
        cf[col] = val
    return cf if derive is None else derive(cf)


def _predicted(info, frame: pd.DataFrame, beta):
    """Model matrix and predicted probabilities of ``frame``."""
    x = model_matrix(info, frame)
    return x, 1 / (1 + np.exp(-(x @ beta)))


def _counterfactual(info, base: pd.DataFrame, setting, derive, beta):
    """Model matrix and predicted probabilities of ``base`` with ``setting`` imposed."""
    return _predicted(info, _imposed(base, setting, derive), beta)


def _patterns(frame: pd.DataFrame, columns) -> tuple[np.ndarray, np.ndarray]:
    """Joint pattern code of each row over ``columns`` and the first row of each pattern."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        k, uniq = pd.factorize(frame[c])
        codes = pd.factorize(codes * (len(uniq) + 1) + k)[0].astype(np.int64)
    return codes, np.unique(codes, return_index=True)[1]


def _pattern_predictions(fit, info, rows, used, w, n_all, settings, derive, skip):
    """:func:`average_predictions`' estimates and influence values from the distinct patterns
    of the predictors (a fit on cells: many rows, or grouped rows): the counterfactual model
    matrices have one row per distinct counterfactual pattern, not per respondent, and the
    coefficient part of a row's influence value is its sampling weight times its cell's
    ``e @ jac`` (no rows x coefficients matrix). ``skip``: columns that are not predictors
    (the weight, the response)."""
    columns = [c for c in rows.columns if c not in skip]
    codes, first = _patterns(rows, columns)
    pat = rows.iloc[first]
    w_pat = np.bincount(codes, weights=w, minlength=len(first))
    big_w, beta = w.sum(), fit.params.to_numpy()
    e, cell_codes, w_cell = fit.influence_cells()
    inside = cell_codes >= 0
    est, zs = [], []
    for setting in settings:
        # a setting makes patterns that differ only in the set columns equal: one row each
        cf = _imposed(pat, setting, derive)
        cf_codes, cf_first = _patterns(cf, columns)
        x, p_cf = _predicted(info, cf.iloc[cf_first], beta)
        w_cf = np.bincount(cf_codes, weights=w_pat, minlength=len(cf_first))
        p = p_cf[cf_codes]
        pbar = float(w_cf @ p_cf / big_w)
        jac = (w_cf * p_cf * (1 - p_cf)) @ x / big_w
        z = np.zeros(n_all)
        z[inside] = w_cell[inside] * (e @ jac)[cell_codes[inside]]
        z[used] += w * (p[codes] - pbar) / big_w
        est.append(pbar)
        zs.append(z)
    return est, zs


def _terms(fit: SurveyLogitResult, terms: Mapping[str, str | list[str]]) -> pd.DataFrame:
    rows = []
    for label, term in terms.items():
        wt = fit.wald_test(term)
        rows.append((label, wt.f_stat, wt.df_num, wt.df_denom, wt.p_value, WALD_LABEL))
    return pd.DataFrame(rows, columns=TERM_COLUMNS)


def subgroup_model(
    pooled: pd.DataFrame,
    *,
    dates: DatesLike,
    outcome_category: str = "support",
    question: str = "war_support",
    variables: Sequence[str] = DEMOGRAPHICS,
    levels: Mapping[str, Sequence[str]] | None = None,
    weight: str = "weight",
    alpha: float = 0.05,
    calibrated_on: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Logistic model of a binary outcome on wave, demographics and time x strongest predictor.

    Parameters
    ----------
    pooled : DataFrame
        The wave files stacked: ``wave``, ``question``, ``variables`` and the sampling-weight
        column. Only waves that asked ``question`` and every one of ``variables`` are
        used (a term entirely NA in a wave is not asked there; the ``waves`` table names the
        waves left out and why); refusals (NA) in a wave that asked the term are excluded
        from the fit but stay in the design.
    dates : mapping or Series
        ``wave -> fieldwork mid-date``; time is years since the first asked wave.
    outcome_category : str
        Category coded 1 (every other answer 0).
    question : str
        The question column.
    variables : list of str
        Categorical predictors (main effects) and the candidates for the time interaction.
    levels : mapping, optional
        Level order per variable (the first is the reference); default sorted.
    weight : str
        Sampling-weight column (the raked weights; *not* frequency weights).
    alpha : float
        1 - confidence level.
    calibrated_on : list of str, optional
        The raking columns of the weights, raked per wave (as
        :func:`pollwaves.analysis.trends.trend_models`): coefficient, prediction and
        marginal-effect SEs and the term tests then account for the raking.
    groups : (str, str), optional
        When each row of ``pooled`` stands for a group of respondents of one wave sharing
        every model column (:class:`pollwaves.survey.design.RowGroups`): the columns of
        respondents per row and of their summed squared weights (``weight`` holds the summed
        weights). Every result equals that of the respondents' rows.

    Returns
    -------
    dict of DataFrame
        ``selection``: ``regTermTest`` Wald F of each variable in the main-effects model
        (``term, f_stat, df1, df2, p_value, test, strongest``); ``terms``: the same for every
        term of the final model (``term, f_stat, df1, df2, p_value, test``); ``predicted``:
        ``outcome, variable, level, estimate, se, ci_low, ci_high, n`` (average predictions);
        ``ame``: ``outcome, variable, level, reference, estimate, se, ci_low, ci_high,
        p_value`` (differences of average predictions, level - reference); ``waves``:
        :func:`pollwaves.analysis.model_waves.wave_coverage` of the model.

    Notes
    -----
    Design: R ``svydesign(ids=~1, strata=~wave, weights=~weight)``, calibrated per wave on
    ``calibrated_on`` when given (``calibrate(design, ~wave + wave:(a + b + c), ...,
    calfun="raking")``). The main-effects model is
    ``y ~ wave + v1 + ...`` with every predictor a factor (treatment coding, first level the
    reference, as R ``factor()``; R ``svyglm``, quasibinomial); the variable with the
    largest ``regTermTest`` Wald F (ties: smaller p) is the strongest predictor ``X``. The
    final model adds ``time:X`` as ``time * 1[X = level]`` for the non-reference levels of
    ``X``: the wave fixed effects are the reference group's trend (``time`` itself is a
    function of the wave and is not identified beside them), the interaction lets the other
    groups' trends differ linearly in time. Term tests are design-based Wald F tests
    (``regTermTest`` default), not Rao-Scott working-likelihood-ratio tests
    (``method="LRT"``), which are not implemented. Predicted probabilities are predictive
    margins (marginal standardisation, R ``svypredmeans``): every respondent used in the fit
    gets the level, predictions are averaged with the sampling weights. CIs: linearisation
    SEs (see :func:`average_predictions`), logit-scale t intervals for the predictions and
    probability-scale t intervals and p-values for the differences, on the model's design
    df.
    """
    variables = list(variables)
    check_columns(pooled, variables)
    if not variables:
        raise InputError("No predictor variables given", value=variables)
    check_columns(pooled, ["wave", question, weight, *(calibrated_on or [])])
    design = pooled_design(calibrated_on, groups)
    size = design["group_size"]
    asked, coverage = select_waves(pooled, "subgroup", [question, *variables], min_waves=2)
    data, _ = add_time(asked, dates)
    data[Y] = binary(data[question], outcome_category)
    check_estimable(data, "subgroup", Y, variables)
    for v in variables:
        data[v] = as_factor(data[v], (levels or {}).get(v))
    # categorical columns enter the formula bare (patsy treats them as factors; this avoids
    # patsy's slow element-wise coding of C(categorical))
    main_rhs = " + ".join(["wave", *variables])
    main = weighted_logit(data, f"{Y} ~ {main_rhs}", weight, **design)
    selection = _terms(main, {v: v for v in variables})
    order = selection.assign(neg_f=-selection["f_stat"]).sort_values(["neg_f", "p_value"])
    strongest = variables[int(order.index[0])]
    selection["strongest"] = selection["term"] == strongest
    inter_levels = list(data[strongest].cat.categories[1:])
    inter = [f"time_x_{k + 1}" for k in range(len(inter_levels))]

    def derive(frame: pd.DataFrame) -> pd.DataFrame:
        out, known = frame.copy(), frame[strongest].notna()
        for col, lev in zip(inter, inter_levels, strict=True):
            out[col] = out[T] * (out[strongest] == lev).astype(float).where(known)
        return out

    data = derive(data)
    rhs = " + ".join([main_rhs, *inter])
    fit = weighted_logit(data, f"{Y} ~ {rhs}", weight, **design)
    terms = _terms(
        fit,
        {
            "wave": "wave",
            **{v: v for v in variables},
            f"time:{strongest}": inter,
        },
    )
    model_cols = [Y, T, "wave", weight, *variables, *inter]  # groups: the fit holds them
    settings, keys = [], []
    for v in variables:
        for lev in data[v].cat.categories:
            settings.append({v: lev})
            keys.append((v, lev))
    est, cov = average_predictions(fit, rhs, data[model_cols], settings, weight=weight,
                                   strata="wave", derive=derive, response=Y)  # fmt: skip
    se = np.sqrt(np.diag(cov))
    q = stats.t.isf(alpha / 2, fit.df_resid)
    used = data[Y].notna()
    count = data[size] if size else pd.Series(1, index=data.index)
    eta, half = np.log(est / (1 - est)), q * se / (est * (1 - est))
    predicted = pd.DataFrame(
        {
            "outcome": outcome_category,
            "variable": [k[0] for k in keys],
            "level": [k[1] for k in keys],
            "estimate": est,
            "se": se,
            "ci_low": 1 / (1 + np.exp(-(eta - half))),
            "ci_high": 1 / (1 + np.exp(-(eta + half))),
            "n": [int(count[used & (data[v] == lev)].sum()) for v, lev in keys],
        }
    )
    ame = []
    for v in variables:
        idx = [i for i, k in enumerate(keys) if k[0] == v]
        ref = idx[0]
        for i in idx[1:]:
            diff = est[i] - est[ref]
            d_se = float(np.sqrt(cov[i, i] + cov[ref, ref] - 2 * cov[i, ref]))
            p_val = 2 * stats.t.sf(abs(diff) / d_se, fit.df_resid)
            row = (outcome_category, v, keys[i][1], keys[ref][1], diff, d_se)
            ame.append((*row, diff - q * d_se, diff + q * d_se, p_val))
    ame_cols = ["outcome", "variable", "level", "reference", "estimate", "se"]
    return {
        "selection": selection,
        "terms": terms,
        "predicted": predicted,
        "ame": pd.DataFrame(ame, columns=[*ame_cols, "ci_low", "ci_high", "p_value"]),
        "waves": coverage,
    }
