"""Design-based logistic regression (R ``survey::svyglm`` with ``quasibinomial()``).

Every function here assumes *sampling weights* (inverse-probability or calibration
weights), never frequency weights: the weights change the point estimates but not the
sample size, and standard errors come from the sample design, not from the weighted
likelihood. The coefficients solve the weighted score equations (a pseudo-likelihood fit
with statsmodels ``GLM(..., var_weights=w)``); their covariance is the design-based sandwich
``A^-1 V A^-1`` with ``V`` the between-PSU-within-strata variance of the estimating-function
totals, exactly as R ``svyglm(formula, design=svydesign(ids=~psu, strata=~strata,
weights=~weight), family=quasibinomial())`` computes it (``ids=~1`` when no PSU is given).
"""

from __future__ import annotations

import tokenize
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.formula._manager import FormulaManager
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM

from pollwaves.errors import InputError
from pollwaves.survey.calibration import Calibration, calibration
from pollwaves.survey.cells import cell_variance, n_distinct, pattern_cells, psu_count, rows_used
from pollwaves.survey.design import check_columns, design_codes, design_variance, row_groups
from pollwaves.survey.modelling import WaldTest, formula_columns, rank_deficiency_error
from pollwaves.survey.weighting import sampling_weights

__all__ = ["SurveyLogitResult", "weighted_logit"]


class SurveyLogitResult:
    """Result of :func:`weighted_logit`, with a statsmodels-like interface.

    Attributes
    ----------
    params, bse, tvalues, pvalues : Series
        Coefficients, design-based standard errors, t statistics and two-sided p-values on
        ``df_resid`` df (``summary(svyglm)``), indexed by statsmodels term names.
    df_resid : float
        Design degrees of freedom ``#PSU - #strata + 1 - #coefficients`` among the rows used
        (R ``degf(design) + 1 - length(coef)``).
    nobs : int
        Number of respondents used (complete cases of the model variables).
    n_rows : int
        Number of data rows used (``nobs`` unless the rows are grouped).
    groups : RowGroups or None
        The grouped rows of the fit (:class:`pollwaves.survey.design.RowGroups`).
    glm : GLMResults
        The underlying statsmodels pseudo-likelihood fit (its own covariance is model-based
        and wrong for survey data; use :meth:`cov_params`). When all model variables take
        few distinct values it is fitted on the cells of distinct (response, covariate)
        patterns with summed weights (:mod:`pollwaves.survey.cells`): the same estimates.
    term_slices : dict
        Formula term name -> slice of its columns in ``params``.
    """

    def __init__(
        self,
        glm: GLM,
        cov: np.ndarray,
        names: list[str],
        df_resid: float,
        term_slices: dict[str, slice],
        influence: np.ndarray | None = None,
        cal: Calibration | None = None,
        cells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.glm = glm
        self._influence, self._cells = influence, cells
        self._cal = cal
        self.params = pd.Series(np.asarray(glm.params), index=names, name="params")
        self._cov = pd.DataFrame(cov, index=names, columns=names)
        self.bse = pd.Series(np.sqrt(np.diag(cov)), index=names, name="bse")
        self.tvalues = (self.params / self.bse).rename("tvalues")
        self.df_resid = float(df_resid)
        self.nobs = self.n_rows = int(glm.nobs)
        self.groups = None
        self.term_slices = term_slices
        if self.df_resid > 0:
            pv = 2 * stats.t.sf(np.abs(self.tvalues.to_numpy()), self.df_resid)
        else:
            pv = np.full(len(names), np.nan)
        self.pvalues = pd.Series(pv, index=names, name="pvalues")

    def influence(self) -> np.ndarray:
        """Per-row influence functions of the coefficients (n x k, columns as ``params``).

        Rows follow the row order of the frame given to :func:`weighted_logit`; rows dropped
        from the fit (missing values) are zero. ``beta_hat - beta ~ sum_i IF_i``, and
        ``design_variance(calibrate(IF), s, p, cov=True)`` is :meth:`cov_params` (``IF`` is
        the ``svyrecvar`` input of R ``svyglm``, before the calibration adjustment that
        ``svyrecvar`` applies), so they linearise functions of the coefficients: add the
        other parts of a linearised statistic, pass the sum through :meth:`calibrate`, then
        take its design variance.
        """
        if self._influence is None and self._cells is not None:
            e, codes, w = self._cells
            out = np.zeros((len(codes), e.shape[1]))
            inside = codes >= 0
            out[inside] = w[inside, None] * e[codes[inside]]
            return out
        if self._influence is None:
            raise InputError("This result holds no influence functions")
        return self._influence.copy()

    def influence_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """On the cell route, :meth:`influence` as ``(e, codes, w)``: row ``i``'s influence is
        ``w[i] * e[codes[i]]`` (zero where ``codes[i] < 0``), ``w`` the sampling weights over
        their mean; ``None`` when fitted on rows. Memory: cells x k, not rows x k."""
        return self._cells

    def calibrate(self, z: np.ndarray) -> np.ndarray:
        """Linearised values ``z`` (rows as the fitted frame) after the fit's calibration.

        The residuals ``w * resid(z / w)`` on the calibration model of ``calibrated_on``
        (per ``calibration_by`` level; :mod:`pollwaves.survey.calibration`), as R
        ``svyrecvar(z, ..., postStrata = design$postStrata)``; ``z`` unchanged when the fit
        has no calibration.
        """
        z = np.asarray(z, dtype=float)
        return z.copy() if self._cal is None else self._cal.residualise(z)

    def cov_params(self) -> pd.DataFrame:
        """Design-based covariance matrix of the coefficients (R ``vcov(svyglm)``)."""
        return self._cov.copy()

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals on ``df_resid`` df, as R ``confint(svyglm)`` (columns 0 and 1).

        NaN when ``df_resid <= 0``, as in R.
        """
        if not 0 < alpha < 1:
            raise InputError("alpha must be between 0 and 1", value=alpha)
        if self.df_resid > 0:
            q = stats.t.isf(alpha / 2, self.df_resid)
        else:
            q = np.nan
        lo, hi = self.params - q * self.bse, self.params + q * self.bse
        return pd.DataFrame({0: lo, 1: hi})

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficient table: ``estimate, se, t, p_value, ci_low, ci_high``."""
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "estimate": self.params,
                "se": self.bse,
                "t": self.tvalues,
                "p_value": self.pvalues,
                "ci_low": ci[0],
                "ci_high": ci[1],
            }
        )

    def wald_test(self, term: str | Sequence[str], df: float | None = None) -> WaldTest:
        """Joint Wald test of all coefficients of one or more terms (R ``regTermTest``).

        Parameters
        ----------
        term : str or list of str
            Formula term name(s) as in ``term_slices``, e.g. ``"C(age_group)"``.
        df : float, optional
            Denominator df of the F test; default ``df_resid`` (``regTermTest``'s default
            for ``svyglm``).

        Returns
        -------
        WaldTest
            F statistic with its df and p-value, and the chi-square version.
        """
        terms = (term,) if isinstance(term, str) else tuple(term)
        idx: list[int] = []
        for t in terms:
            if t not in self.term_slices:
                raise InputError(
                    "Unknown model term",
                    value=t,
                    hint=f"use one of {list(self.term_slices)}",
                )
            idx.extend(range(len(self.params))[self.term_slices[t]])
        idx = sorted(set(idx))
        beta = self.params.to_numpy()[idx]
        v = self._cov.to_numpy()[np.ix_(idx, idx)]
        chisq = float(beta @ np.linalg.solve(v, beta))
        k = len(idx)
        ddf = self.df_resid if df is None else float(df)
        f_stat = chisq / k
        p_f = float(stats.f.sf(f_stat, k, ddf)) if ddf > 0 else np.nan
        return WaldTest(terms, f_stat, k, ddf, p_f, chisq, float(stats.chi2.sf(chisq, k)))


def _response(y: pd.DataFrame, lhs: str) -> np.ndarray:
    """The 0/1 response; a boolean expression arrives from patsy as False/True columns."""
    if y.shape[1] == 2 and str(y.columns[1]).endswith("[True]"):
        out = y.iloc[:, 1].to_numpy(dtype=float)
    elif y.shape[1] == 1:
        out = y.iloc[:, 0].to_numpy(dtype=float)
    else:
        raise InputError(
            "The response must be a single 0/1 column or a boolean expression",
            value=lhs,
            hint='code it as 0/1, or write e.g. I(vote == "yes") ~ ...',
        )
    bad = ~np.isin(out, (0.0, 1.0))
    if bad.any():
        raise InputError(
            "The response of a logistic regression must be 0/1",
            column=lhs,
            value=out[bad][0],
            hint='recode it to 0/1 or use a boolean expression such as I(vote == "yes")',
        )
    return out


def weighted_logit(
    df: pd.DataFrame,
    formula: str,
    weight: str | None,
    strata: str | None = None,
    psu: str | None = None,
    *,
    calibrated_on: Sequence[str] | None = None,
    calibration_by: str | None = None,
    base_weight: str | None = None,
    group_size: str | None = None,
    group_weight_sq: str | None = None,
) -> SurveyLogitResult:
    """Design-based logistic regression with sampling weights (R ``svyglm``, quasibinomial).

    Parameters
    ----------
    df : DataFrame
        One row per respondent; *all* rows define the sample design.
    formula : str
        Patsy formula, e.g. ``"vote ~ C(age_group) + x"``. The response is a 0/1 column or a
        boolean expression such as ``I(vote == "yes")``. ``np`` is available in formulas.
    weight : str or None
        Sampling-weight column (inverse selection probabilities or calibration weights;
        *not* frequency weights). ``None``: equal weights.
    strata, psu : str, optional
        Stratum and primary-sampling-unit columns (PSUs are nested in strata).
    calibrated_on : list of str, optional
        Raking columns the weights were calibrated on (every row of ``df`` needs a value).
        The influence functions are replaced by their residuals from the base-weighted
        regression on the calibration model before the design variance, so the SEs account
        for the raking, as ``svyglm`` on a design from R ``calibrate(design, ~a + b + c,
        population, calfun="raking")``.
    calibration_by : str, optional
        With ``calibrated_on``: column within whose levels the weights were calibrated
        separately (``"wave"`` for pooled waves): the calibration model is ``~ wave +
        wave:(a + b + c)``, i.e. one residual regression per wave.
    base_weight : str, optional
        With ``calibrated_on``: the weights before calibration (``None``: equal).
    group_size, group_weight_sq : str, optional
        Grouped rows (:class:`pollwaves.survey.design.RowGroups`): each row stands for
        ``group_size`` respondents of one stratum who share every model variable and
        raking column, each their own PSU (``psu=None``); ``weight`` holds their summed
        sampling weights and ``group_weight_sq`` their summed squared weights. Estimates,
        SEs and df equal those of the respondents' rows; ``nobs`` counts respondents.

    Returns
    -------
    SurveyLogitResult
        ``params``, ``bse``, ``pvalues``, ``cov_params()``, ``conf_int()``, ``df_resid``,
        ``nobs`` and ``wald_test(term)``.

    Notes
    -----
    Matches ``svyglm(formula, design=svydesign(ids=~psu, strata=~strata, weights=~weight),
    family=quasibinomial())``. Rows with a missing value in any column the formula names are
    dropped from the fit (``na.action = na.omit``; so ``I(v == "yes")`` is missing where
    ``v`` is, as in R) but the design keeps its PSU count per stratum, as R's subsetted
    design does: the dropped rows contribute zero scores to the variance. The residual df
    counts only PSUs and strata of the rows used. The scores ``x_i w_i (y_i - mu_i)`` are multiplied
    by the inverse weighted information ``(X' W X)^-1``, summed within PSUs and compared
    within strata (with-replacement first-stage variance, no finite population correction).
    With ``psu=None`` and no strata this is statsmodels ``cov_type="HC0"`` times ``n/(n-1)``.
    The fit is iterated to convergence (IRLS, deviance tolerance 1e-12). R's default
    ``glm.control(epsilon=1e-8)`` stops earlier, and ``svyglm`` then builds the sandwich
    from the previous iteration's working weights, so R's default SEs can differ from these
    by ~1e-4 (relative); with ``control=glm.control(epsilon=1e-12)`` they agree to ~1e-8.
    With ``calibrated_on`` the scores ``U`` (times ``A^-1``) of *all* rows, the zero scores
    of rows dropped for missing values included, are residualised on the calibration model
    (``svyrecvar`` with the ``postStrata`` of a calibrated design), so dropped rows
    contribute to the variance, as in R's subsetted calibrated design.
    Differences from R: aliased (collinear) coefficients raise :class:`InputError` instead
    of being reported as ``NA``; a non-converged fit raises instead of warning.
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise InputError("formula must be a string 'response ~ terms'", value=formula)
    check_columns(df, [c for c in (strata, psu) if c])
    data = df.reset_index(drop=True)
    w_all = sampling_weights(data, weight)
    groups = row_groups(data, weight, group_size, group_weight_sq, psu)
    s, p_codes = design_codes(data, strata, psu)
    cal = calibration(
        data, weight, calibrated_on, by=calibration_by, base_weight=base_weight,
        group_size=group_size,
    )  # fmt: skip
    n_resp = len(data) if groups is None else float(groups.size.sum())
    try:
        model_cols = formula_columns(formula, [str(c) for c in data.columns])
    except (tokenize.TokenError, SyntaxError) as err:
        raise InputError(f"Cannot parse the formula: {err}", value=formula) from err
    complete = data[model_cols].notna().all(axis=1)
    n_complete = None if groups is None else float(groups.size[complete.to_numpy()].sum())
    cells = pattern_cells(data.loc[complete, model_cols], model_cols, formula, n_complete)
    manager = FormulaManager(engine="patsy")
    try:
        y_df, x_df = manager.get_matrices(
            formula,
            data[complete] if cells is None else data.iloc[np.flatnonzero(complete)[cells[1]]],
            eval_env={"np": np},
            pandas=True,
            na_action=manager.get_na_action("drop"),
        )
    except Exception as err:  # patsy reports unknown columns / bad syntax in many types
        raise InputError(
            f"Cannot build the model matrix: {err}",
            value=formula,
            hint=f"available columns: {list(data.columns)}",
        ) from err
    lhs = formula.split("~", 1)[0].strip()
    used, cell_of = rows_used(x_df.index.to_numpy(), np.flatnonzero(complete), cells)
    if len(used) == 0:
        raise InputError("No complete rows for the model", value=formula)
    y = _response(y_df, lhs)
    x = x_df.to_numpy(dtype=float)
    names = [str(c) for c in x_df.columns]
    slices = manager.get_term_name_slices(x_df)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise rank_deficiency_error(x, names, slices, formula)
    mean_w = w_all.sum() / n_resp
    w = w_all[used] / mean_w  # R rescales the weights to mean 1; estimates unchanged
    wc = w if cell_of is None else np.bincount(cell_of, weights=w, minlength=len(x))
    glm = GLM(y, x, family=Binomial(), var_weights=wc).fit(tol=1e-12, rtol=1e-15, maxiter=100)
    if not glm.converged:
        raise InputError(
            "The logistic regression did not converge (separation?)",
            value=formula,
            hint="check for categories where the response is all 0 or all 1",
        )
    mu = np.asarray(glm.fittedvalues)
    a_inv = np.linalg.inv(x.T @ (x * (wc * mu * (1 - mu))[:, None]))
    scores, cells_infl = None, None
    if cell_of is None:
        scores = np.zeros((len(data), x.shape[1]))
        scores[used] = (x * (w * (y - mu))[:, None]) @ a_inv
        z = scores if cal is None else cal.residualise(scores)
        cov = design_variance(z, s, p_codes, cov=True, groups=groups)
    else:  # a row's score is its weight times its cell's (y - mu) x A^-1: cell sums
        e = (x * (y - mu)[:, None]) @ a_inv
        codes = np.full(len(data), -1, dtype=np.int64)
        codes[used] = cell_of
        cells_infl = (e, codes, w_all / mean_w)  # per-row scores built on demand
        cov = cell_variance(*cells_infl, s, p_codes, cal, groups=groups)
    n_psu = psu_count(p_codes, used, groups)
    degf = n_psu - n_distinct(s[used])
    df_resid = degf + 1 - x.shape[1]
    res = SurveyLogitResult(glm, cov, names, df_resid, slices, influence=scores, cal=cal,
                            cells=cells_infl)  # fmt: skip
    res.nobs = len(used) if groups is None else n_psu
    res.n_rows, res.groups = len(used), groups
    return res
