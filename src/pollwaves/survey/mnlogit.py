"""Design-based multinomial logistic regression with sampling weights.

The point estimates maximise the weighted log pseudo-likelihood ``sum_i w_i log p_{i,y_i}``
(Newton-Raphson with step halving on the analytic score and information): the estimates of
R ``nnet::multinom(formula, data, weights = w)``, whose case weights have the same optimum.
The covariance is the design-based sandwich ``A^-1 V A^-1`` as ``svyglm`` treats weights:
``A`` the weighted information, ``V`` the between-PSU-within-strata variance of the per-row
score totals (:func:`pollwaves.survey.design.design_variance`; ``n/(n-1)`` for ``ids=~1``), the
construction of R ``svyVGAM::svy_vglm(..., multinomial())``. With ``calibrated_on`` (and
``calibration_by`` for pooled waves) the influence functions are first residualised on the
calibration model (:mod:`pollwaves.survey.calibration`), as ``svyrecvar`` does for a design
from R ``calibrate()``.

Checks (``tests/survey/test_mnlogit.py``, R ``tests/survey/reference/mnlogit.R``): coefficients agree with
``nnet::multinom`` to 5.4e-7 (relative), design SEs with R ``svytotal`` of the influence
functions to 1.2e-8. Against an independent method, the delete-one-PSU jackknife (JK1,
``(n-1)/n sum_r (theta_r - theta_bar)^2``; 4,000 respondents in 100 PSUs, 24 coefficients),
the JK1/linearisation SE ratios are 1.0042-1.0082 for the coefficients and 0.9987-1.0020
for predicted shares by region, a variable not in the model: all within 2%.
"""

from __future__ import annotations

import tokenize
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.calibration import calibration
from pollwaves.survey.cells import cell_cross, n_distinct, pattern_cells, psu_count, rows_used
from pollwaves.survey.design import (
    as_list,
    check_columns,
    design_codes,
    design_variance,
    row_groups,
)
from pollwaves.survey.mnlogit_cells import CellZ, cell_share_influence, cellz_variance
from pollwaves.survey.mnlogit_core import (
    information,
    logit_ci,
    model_matrix,
    newton,
    outer_rows,
    response_categories,
    softmax,
    sparse_design,
)
from pollwaves.survey.modelling import WaldTest, formula_columns, rank_deficiency_error
from pollwaves.survey.weighting import sampling_weights

__all__ = ["SurveyMNLogitResult", "weighted_mnlogit"]


class SurveyMNLogitResult:
    """Result of :func:`weighted_mnlogit`.

    Attributes
    ----------
    params, bse, tvalues, pvalues : DataFrame
        Coefficients, design-based SEs, t statistics and two-sided p-values on ``df_resid``
        df. Index: formula term names (``Intercept``, ``C(wave)[T.2023-05]``, ...); columns:
        the non-reference categories.
    categories, reference : list, object
        All response categories (sorted, or categorical order) and the baseline category.
    df_resid : float
        ``#PSU - #strata + 1 - #coefficients`` (all categories), as ``weighted_logit``.
    design_df : int
        ``#PSU - #strata`` among the rows used (R ``degf``): df of the share intervals.
    nobs : int
        Respondents used (complete cases of the model variables).
    llf : float
        Weighted log pseudo-likelihood, original weights (R ``-multinom(...)$value``).
    term_slices : dict
        Formula term name -> slice of its rows in ``params``.
    """

    def __init__(self, fit: dict[str, Any]) -> None:
        self._f, spec, order, used = fit, fit["spec"], fit["order"], fit["used"]
        names, others = list(spec.column_names), order[1:]
        self.categories, self.reference = fit["categories"], order[0]
        self._perm = [order.index(c) for c in self.categories]  # model order -> categories
        self.params = pd.DataFrame(fit["beta"], index=names, columns=others)
        if fit.get("cell_infl") is None:
            z = self._calibrate(fit["infl"])
            cov = design_variance(z, fit["s"], fit["p"], cov=True, groups=fit["groups"])
        else:  # fitted on cells: the sandwich meat from cell sums of the sparse scores
            u, codes, v, a_inv = fit["cell_infl"]
            design = (v, fit["s"], fit["p"], fit["cal"], fit.setdefault("cal_u", {}))
            meat = cell_cross(u, codes, u, codes, *design, groups=fit["groups"])[0]
            cov = a_inv @ ((meat + meat.T) / 2) @ a_inv
            cov = (cov + cov.T) / 2
        idx = pd.MultiIndex.from_product([others, names], names=["category", "term"])
        self._cov = pd.DataFrame(cov, index=idx, columns=idx)
        se = np.sqrt(np.diag(cov)).reshape(len(others), len(names)).T
        self.bse = pd.DataFrame(se, index=names, columns=others)
        self.tvalues = self.params / self.bse
        groups = fit["groups"]
        n_psu = psu_count(fit["p"], used, groups)
        self.design_df = n_psu - n_distinct(fit["s"][used])
        self.df_resid = float(self.design_df + 1 - fit["beta"].size)
        self.nobs = len(used) if groups is None else n_psu  # grouped: respondents
        self.llf, self.term_slices = fit["llf"], spec.term_name_slices
        pv = 2 * dist.t_sf(np.abs(self.tvalues), self.df_resid) if self.df_resid > 0 else np.nan
        self.pvalues = pd.DataFrame(pv, index=names, columns=others)

    def _influence(self) -> np.ndarray:
        """Per-row influence functions of the coefficients (built on demand on the cell route)."""
        f = self._f
        if f["infl"] is None:
            u, codes, w, a_inv = f["cell_infl"]
            e = np.asarray(u @ a_inv)
            infl = np.zeros((len(codes), e.shape[1]))
            inside = codes >= 0
            infl[inside] = w[inside, None] * e[codes[inside]]
            f["infl"] = infl
        return f["infl"]

    def _calibrate(self, z: np.ndarray) -> np.ndarray:
        """``z`` (one row per design row) after the fit's calibration (none: unchanged)."""
        cal = self._f["cal"]
        return z if cal is None else cal.residualise(z)

    def cov_params(self) -> pd.DataFrame:
        """Design-based covariance, MultiIndex ``(category, term)`` on both axes."""
        return self._cov.copy()

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals on ``df_resid`` df; rows ``(category, term)``, columns 0 and 1."""
        if not 0 < alpha < 1:
            raise InputError("alpha must be between 0 and 1", value=alpha)
        q = dist.t_isf(alpha / 2, self.df_resid) if self.df_resid > 0 else np.nan
        b, se = self.params.T.stack(), self.bse.T.stack()
        return pd.DataFrame({0: b - q * se, 1: b + q * se}).rename_axis(["category", "term"])

    def wald_test(self, term: str | Sequence[str], df: float | None = None) -> WaldTest:
        """Joint Wald test of the terms' coefficients in *all* categories (``regTermTest``).

        Returns a :class:`pollwaves.survey.modelling.WaldTest`; F on ``df_num`` and ``df_resid`` df.
        """
        terms = (term,) if isinstance(term, str) else tuple(term)
        p, idx = len(self.params), set()
        for t in terms:
            if t not in self.term_slices:
                raise InputError(
                    "Unknown model term", value=t, hint=f"use one of {list(self.term_slices)}"
                )
            for j in range(self.params.shape[1]):
                idx.update(j * p + i for i in range(p)[self.term_slices[t]])
        beta = self.params.T.to_numpy().ravel()[ix := sorted(idx)]
        chisq = float(beta @ np.linalg.solve(self._cov.to_numpy()[np.ix_(ix, ix)], beta))
        k, ddf = len(ix), self.df_resid if df is None else float(df)
        p_f = float(dist.f_sf(chisq / k, k, ddf)) if ddf > 0 else np.nan
        return WaldTest(terms, chisq / k, k, ddf, p_f, chisq, float(dist.chi2_sf(chisq, k)))

    def predict(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """Category probabilities (columns = ``categories``); NaN where a predictor is NA."""
        new = newdata.reset_index(drop=True)
        x = model_matrix(self._f["spec"], new, "drop", " for prediction")
        prob = softmax(x.to_numpy(dtype=float), self._f["beta"])[0][:, self._perm]
        out = pd.DataFrame(prob, index=x.index, columns=self.categories).reindex(new.index)
        return out.set_axis(newdata.index)

    def _share_influence(self, data: pd.DataFrame | None, by: str | Sequence[str] | None):
        """Group labels, predicted shares (G, K) and their influence values (n, G, K)."""
        f, by_cols = self._f, as_list(by)
        w_all, used = f["w_all"], f["used"]
        if data is not None and (
            len(data) != len(w_all)
            or (f["weight"] and not np.allclose(sampling_weights(data, f["weight"]), w_all))
        ):
            raise InputError(
                "data must hold the rows of the fitted sample, in the same order",
                hint="pass the data frame the model was fitted on (columns may be added)",
            )
        src = f["data"] if data is None else data.reset_index(drop=True)
        check_columns(src, by_cols)
        # the fit's own data: only the by columns are needed (cell route and row route)
        sub = (src[by_cols] if data is None else src).iloc[used]
        ok = sub[by_cols].notna().all(axis=1).to_numpy()
        sub, rows = sub[ok], used[ok]
        if not len(rows):
            raise InputError("No rows to average over (all by keys missing)", value=by_cols)
        if data is None and f["cell_of"] is not None:  # cell route: z as cell values
            return cell_share_influence(f, sub, by_cols, ok, self._perm)
        if data is None:
            x = f["x"][ok]
        else:
            x = model_matrix(f["spec"], sub, "raise", "").to_numpy()
        codes, labels = np.zeros(len(rows), dtype=np.int64), [()]
        if by_cols:
            grp = sub.groupby(by_cols, sort=True, observed=True)
            codes, labels = grp.ngroup().to_numpy(), list(grp.size().index)
        prob, _ = softmax(x, f["beta"])
        d = np.zeros((len(rows), len(labels)))
        d[np.arange(len(rows)), codes] = w_all[rows]
        d /= d.sum(axis=0)  # w_i 1[i in g] / W_g
        est = (prob.T @ d).T  # (G, K), model order; not d.T @ prob: slow in OpenBLAS
        k, p = prob.shape[1], x.shape[1]
        jac = np.empty((len(labels), k, (k - 1) * p))  # d pbar_gk / d beta
        for m in range(k - 1):  # d p_k / d beta_m = p_k (1[k = m] - p_m) x
            dp = prob * (np.eye(k)[m + 1] - prob[:, [m + 1]])
            prod = (dp[:, :, None] * x[:, None, :]).reshape(len(rows), k * p)
            jac[:, :, m * p : (m + 1) * p] = (prod.T @ d).T.reshape(-1, k, p)
        z = (self._influence() @ jac.reshape(-1, jac.shape[2]).T).reshape(len(w_all), -1, k)
        z[rows] += d[:, :, None] * (prob[:, None, :] - est[None, :, :])
        labels = [lab if isinstance(lab, tuple) else (lab,) for lab in labels]
        return by_cols, labels, est[:, self._perm], z[:, :, self._perm]

    def _table(self, by_cols, labels, names, est, z, level: float) -> pd.DataFrame:
        if isinstance(z, CellZ):
            se = np.sqrt(cellz_variance(z, self._f, self._cov.to_numpy()))
        else:
            z = self._calibrate(z.reshape(len(z), -1))
            se = np.sqrt(design_variance(z, self._f["s"], self._f["p"], groups=self._f["groups"]))
        lo, hi = logit_ci(est.ravel(), se, self.design_df, level)
        out = pd.DataFrame([lab for lab in labels for _ in names], columns=by_cols)
        out["category"] = list(names) * len(labels)
        return out.assign(estimate=est.ravel(), se=se, ci_low=lo, ci_high=hi)

    def predicted_shares(
        self,
        data: pd.DataFrame | None = None,
        by: str | Sequence[str] | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Weighted mean predicted category shares per ``by`` group, with design-based CIs.

        Parameters
        ----------
        data : DataFrame, optional
            The fitted sample (same rows and order; ``by`` columns may be added, predictors
            changed for counterfactual margins). ``None``: the data of the fit.
        by : str or list of str, optional
            Grouping columns; rows with a missing key are left out.
        level : float
            Confidence level.

        Returns
        -------
        DataFrame
            ``by`` columns, ``category, estimate, se, ci_low, ci_high``.

        Notes
        -----
        Averages over the rows used in the fit, with their sampling weights. Influence values
        ``w_i (p_i - pbar)/W + J A^-1 U_i`` carry the averaging and the coefficient
        uncertainty (residualised on the calibration model of a fit with ``calibrated_on``,
        as R ``svyrecvar`` on a calibrated design); logit-scale intervals with t(``design_df``). For a ``by`` factor in the
        model these equal the weighted observed shares (``svyciprop`` on the complete rows),
        and so do their influence values (``A^-1`` times the wave-indicator columns of ``J'``
        picks the wave's score), hence their SEs, with or without calibration.
        """
        by_cols, labels, est, z = self._share_influence(data, by)
        return self._table(by_cols, labels, self.categories, est, z, level)

    def combined_share(
        self,
        data: pd.DataFrame | None,
        categories: Sequence[Any],
        by: str | Sequence[str] | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Predicted share of a union of categories (e.g. ``["both", "outside"]``).

        As :meth:`predicted_shares`, one row per group, ``category`` = the names joined by
        ``" + "``. The SE comes from the summed influence values (covariances included).
        """
        cats = [categories] if isinstance(categories, str) else list(categories)
        bad = [c for c in cats if c not in self.categories]
        if bad or not cats or len(set(cats)) < len(cats):
            hint = f"use some of {self.categories}"
            raise InputError("Unknown, repeated or no categories", value=bad or cats, hint=hint)
        ix = [self.categories.index(c) for c in cats]
        by_cols, labels, est, z = self._share_influence(data, by)
        est, z = est[:, ix].sum(axis=1, keepdims=True), z[:, :, ix].sum(axis=2, keepdims=True)
        name = " + ".join(str(c) for c in cats)
        return self._table(by_cols, labels, [name], est, z, level)


def weighted_mnlogit(
    df: pd.DataFrame,
    formula: str,
    weight: str | None,
    reference: Any = None,
    strata: str | None = None,
    psu: str | None = None,
    *,
    calibrated_on: Sequence[str] | None = None,
    calibration_by: str | None = None,
    base_weight: str | None = None,
    group_size: str | None = None,
    group_weight_sq: str | None = None,
) -> SurveyMNLogitResult:
    """Design-based multinomial logit with sampling weights (R ``nnet::multinom`` estimates).

    Parameters
    ----------
    df : DataFrame
        One row per respondent; *all* rows define the sample design.
    formula : str
        ``"response ~ terms"``: a column with K >= 2 categories (categorical, string or
        numeric) on patsy terms, e.g. ``"alliance ~ C(wave) + C(sex) + C(age_group)"``.
    weight : str or None
        Sampling-weight column (inverse selection probabilities or calibration weights;
        *not* frequency weights). ``None``: equal weights.
    reference : optional
        Baseline category; default the first category (sorted order, or the categorical
        order of a categorical column).
    strata, psu : str, optional
        Stratum and primary-sampling-unit columns (PSUs nested in strata).
    calibrated_on, calibration_by, base_weight : optional
        Raking columns, the column within whose levels the weights were calibrated
        separately (``"wave"`` for pooled waves) and the base weights, as
        :func:`pollwaves.survey.glm.weighted_logit`: the influence functions of the
        coefficients and of the predicted shares are residualised on the calibration model
        (per ``calibration_by`` level) before the design variance.
    group_size, group_weight_sq : str, optional
        Grouped rows (respondents sharing every variable), as
        :func:`pollwaves.survey.glm.weighted_logit`: the same estimates and SEs.

    Returns
    -------
    SurveyMNLogitResult
        See its attributes; :meth:`~SurveyMNLogitResult.predicted_shares` for margins.

    Notes
    -----
    Point estimates match ``nnet::multinom(formula, data, weights = w)``; the covariance is
    ``A^-1 V A^-1`` from the per-row scores ``w_i (y_ik - p_ik) x_i``, as R ``svyVGAM::
    svy_vglm(formula, design, multinomial(refLevel = ref))`` (with-replacement first stage,
    no finite population correction). Rows with a missing model variable are dropped from
    the fit but stay in the design with zero scores (as ``svyglm``). A category without
    cases among the rows used, a rank-deficient model matrix and a non-converged fit
    (separation) raise :class:`InputError`.
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise InputError("formula must be a string 'response ~ terms'", value=formula)
    check_columns(df, [c for c in (strata, psu) if c])
    data = df.reset_index(drop=True)
    w_all = sampling_weights(data, weight)
    groups = row_groups(data, weight, group_size, group_weight_sq, psu)
    size = np.ones(len(data)) if groups is None else groups.size
    s, p_codes = design_codes(data, strata, psu)
    cal = calibration(data, weight, calibrated_on, by=calibration_by, base_weight=base_weight,
                      group_size=group_size)  # fmt: skip
    lhs, rhs = (part.strip() for part in formula.split("~", 1))
    yname, cats, order = response_categories(data, lhs, reference)
    try:
        model_cols = formula_columns(rhs, [str(c) for c in data.columns])
    except (tokenize.TokenError, SyntaxError) as err:
        raise InputError(f"Cannot parse the formula: {err}", value=formula) from err
    complete = data[[yname, *model_cols]].notna().all(axis=1)
    cols, n_complete = [yname, *model_cols], float(size[complete.to_numpy()].sum())
    cells = pattern_cells(data.loc[complete, cols], cols, formula, n_complete)
    frame = data[complete] if cells is None else data.iloc[np.flatnonzero(complete)[cells[1]]]
    x_df = model_matrix("~ " + rhs, frame, "drop", "")
    used, cell_of = rows_used(x_df.index.to_numpy(), np.flatnonzero(complete), cells)
    yk = pd.Categorical(data[yname].iloc[x_df.index], categories=order).codes.astype(np.int64)
    empty = [c for k, c in enumerate(order) if not (yk == k).any()]
    if empty:
        msg, hint = "A response category has no cases among the complete rows", "merge or drop it"
        raise InputError(msg, column=yname, value=empty[0], hint=hint)
    x = x_df.to_numpy(dtype=float)  # one row per used row, or per (response, covariate) cell
    if np.linalg.matrix_rank(x) < x.shape[1]:
        names = [str(c) for c in x_df.columns]
        raise rank_deficiency_error(x, names, x_df.design_info.term_name_slices, formula)
    mean_w = w_all[used].sum() / size[used].sum()
    w = w_all[used] / mean_w  # scale-free; keeps the Newton tolerance absolute
    wc = w if cell_of is None else np.bincount(cell_of, weights=w, minlength=len(x))
    beta, converged = newton(x, yk, wc, k1 := len(cats) - 1)
    if not converged or not np.isfinite(beta).all():
        msg, hint = "The multinomial logit did not converge (separation?)", "merge levels"
        raise InputError(msg, hint=f"{hint} where a response category never occurs")
    prob, lse = softmax(x, beta)
    resid = np.eye(k1 + 1)[yk][:, 1:] - prob[:, 1:]
    a_inv = np.linalg.inv(information(x, wc, prob, sparse_design(x)))
    infl, cell_infl, x_coo = None, None, None
    if cell_of is None:
        scores = (w[:, None, None] * resid[:, :, None] * x[:, None, :]).reshape(len(used), -1)
        infl = np.zeros((len(data), k1 * x.shape[1]))
        infl[used] = scores @ a_inv
    else:  # a row's influence: its weight times its cell's u A^-1 (u sparse; built on demand)
        codes = np.full(len(data), -1, dtype=np.int64)
        codes[used] = cell_of
        x_coo = sparse.coo_matrix(x)  # the dummies' non-zeros, kept for the shares
        cell_infl = (outer_rows(resid, x_coo), codes, w_all / mean_w, a_inv)
    eta_y = np.hstack([np.zeros((len(x), 1)), x @ beta])[np.arange(len(x)), yk]
    w_orig = w_all[used] if cell_of is None else np.bincount(cell_of, w_all[used], len(x))
    llf = float(w_orig @ (eta_y - lse))
    fit = dict(beta=beta, x=x, used=used, infl=infl, data=data, weight=weight, w_all=w_all)
    fit |= dict(s=s, p=p_codes, cal=cal, categories=cats, order=order, spec=x_df.design_info)
    fit |= {"cell_infl": cell_infl, "cell_of": cell_of, "x_coo": x_coo}
    fit |= {"groups": groups, "mean_w": mean_w}
    return SurveyMNLogitResult(fit | {"llf": llf})
