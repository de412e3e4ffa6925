"""Trend models of a pooled war question: linear, natural spline and wave fixed effects.

The waves are independent samples, so they are pooled as a stratified design: each wave is
its own stratum, respondents are the PSUs and the raked weights are *sampling weights*
(never frequency weights). Every model is a design-based logistic regression
(:func:`pollwaves.survey.glm.weighted_logit`, R ``svyglm(..., family=quasibinomial())`` on
``svydesign(ids=~1, strata=~wave, weights=~weight)``); tests are design-based Wald F tests
(R ``regTermTest``). The helpers here (time axis, factors, predictions on the logit scale)
are shared with :mod:`pollwaves.analysis.subgroups`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from pollwaves.analysis.model_waves import select_waves
from pollwaves.errors import InputError
from pollwaves.survey.cells import STATEFUL as _STATEFUL
from pollwaves.survey.design import check_columns
from pollwaves.survey.glm import SurveyLogitResult, weighted_logit
from pollwaves.survey.modelling import formula_columns

__all__ = ["TEST_COLUMNS", "natural_spline_terms", "trend_models"]

Y, T = "outcome_y", "time_years"  # working columns added to copies of the pooled frame
PREDICTION_COLUMNS = ["model", "outcome", "date", "wave", "estimate", "se", "ci_low", "ci_high"]
TEST_COLUMNS = ["outcome", "test", "statistic", "df1", "df2", "p_value"]
DatesLike = Mapping[str, str | dt.date | pd.Timestamp] | pd.Series


def mid_dates(dates: DatesLike) -> dict[str, pd.Timestamp]:
    """``wave -> fieldwork mid-date`` as Timestamps (accepts ISO strings, dates, a Series)."""
    items = dates.items() if isinstance(dates, pd.Series | Mapping) else None
    if items is None:
        raise InputError("dates must map wave ids to fieldwork mid-dates", value=type(dates))
    return {str(w): pd.Timestamp(d) for w, d in items}


def asked_waves(pooled: pd.DataFrame, question: str, weight: str) -> pd.DataFrame:
    """Rows of the waves in which ``question`` was asked (some answer), index reset."""
    check_columns(pooled, ["wave", question, weight])
    asked = pooled.groupby("wave", observed=True)[question].transform(lambda s: s.notna().any())
    data = pooled.loc[asked.astype(bool)].reset_index(drop=True)
    if data.empty:
        raise InputError("The question was not asked in any wave", column=question)
    return data


def add_time(data: pd.DataFrame, dates: DatesLike) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Add ``time_years`` (days since the first wave's mid-date / 365.25) and order waves.

    ``wave`` becomes a categorical ordered by date (the first wave is the reference level).
    """
    mids = mid_dates(dates)
    present = data["wave"].astype(str).unique()
    missing = sorted(w for w in present if w not in mids)
    if missing:
        raise InputError("No fieldwork date for a wave", wave=missing[0], hint="add it to `dates`")
    waves = sorted(present, key=lambda w: (mids[w], w))
    origin = mids[waves[0]]
    out = data.copy()
    out["wave"] = pd.Categorical(data["wave"].astype(str), categories=waves)
    out[T] = years_since(data["wave"].astype(str).map(mids), origin)
    return out, origin


def years_since(when: pd.Series | pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    """Days since ``origin`` divided by 365.25."""
    return ((pd.to_datetime(when) - origin) / pd.Timedelta(days=1)).to_numpy(float) / 365.25


def as_factor(values: pd.Series, order: Sequence[str] | None = None) -> pd.Categorical:
    """Categorical of the levels present (in ``order``, else sorted); first = reference."""
    present = set(values.dropna().astype(str).unique())  # unique first: no per-row loop
    levels = [str(v) for v in order if str(v) in present] if order else sorted(present)
    extra = sorted(present - set(levels))
    if extra:
        raise InputError("Value not among the given levels", value=extra[0])
    if not pd.api.types.is_string_dtype(values.dtype):
        values = values.map(str, na_action="ignore")
    return pd.Categorical(values, categories=levels)


def binary(values: pd.Series, category: str) -> pd.Series:
    """1.0 where ``values == category``, 0.0 for other answers, NaN for refusals (NA)."""
    if not (values.dropna().astype(str) == category).any():
        raise InputError("Outcome category never answered", value=category)
    return (values.astype(str) == category).astype(float).where(values.notna())


def pooled_design(
    calibrated_on: Sequence[str] | None, groups: Sequence[str] | None = None
) -> dict[str, Any]:
    """Design keywords of the pooled waves: wave strata, raking per wave when given.

    ``groups``: the columns of respondents per row and of their summed squared weights when
    the rows are grouped respondents (:class:`pollwaves.survey.design.RowGroups`).
    """
    cols = list(calibrated_on or [])
    by = "wave" if cols else None
    size, sq = groups if groups else (None, None)
    design = {"strata": "wave", "calibrated_on": cols or None, "calibration_by": by}
    return design | {"group_size": size, "group_weight_sq": sq}


def respondent_values(data: pd.DataFrame, column: str, size: str | None) -> np.ndarray:
    """``column`` with each row repeated once per respondent it stands for (``size``)."""
    values = data[column].to_numpy()
    return values if size is None else np.repeat(values, data[size].to_numpy(dtype=np.int64))


def design_info(fit: SurveyLogitResult, rhs: str, data: pd.DataFrame) -> patsy.DesignInfo:
    """The patsy coding of ``rhs`` on the fitted rows, checked against the fit's columns."""
    env = patsy.EvalEnvironment([{"np": np}])
    if not any(t in rhs.replace(" ", "") for t in _STATEFUL):
        # the coding depends only on the values that occur: one row per distinct pattern
        # (not a rows x coefficients matrix of every respondent)
        data = data[formula_columns(rhs, [str(c) for c in data.columns])].drop_duplicates()
    info = patsy.dmatrix(rhs, data, eval_env=env, return_type="dataframe").design_info
    if list(info.column_names) != list(fit.params.index):
        raise RuntimeError("model matrix columns differ from the fitted coefficients")
    return info


def model_matrix(info: patsy.DesignInfo, data: pd.DataFrame) -> np.ndarray:
    """Model matrix of new data with the fitted coding (no rows dropped)."""
    (mat,) = patsy.build_design_matrices([info], data, NA_action="raise")
    return np.asarray(mat, dtype=float)


def predict_logit(fit: SurveyLogitResult, x0: np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
    """Predicted probabilities with delta-method CIs on the logit scale (t on ``df_resid``).

    As R ``predict(svyglm, newdata, type="link", se.fit=TRUE)`` back-transformed; ``se`` is
    the delta-method SE on the probability scale, ``p (1 - p) se(eta)``.
    """
    eta = x0 @ fit.params.to_numpy()
    se_eta = np.sqrt(np.einsum("ij,jk,ik->i", x0, fit.cov_params().to_numpy(), x0))
    q = stats.t.isf(alpha / 2, fit.df_resid) if fit.df_resid > 0 else np.nan
    p = 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "estimate": p,
            "se": p * (1 - p) * se_eta,
            "ci_low": 1 / (1 + np.exp(-(eta - q * se_eta))),
            "ci_high": 1 / (1 + np.exp(-(eta + q * se_eta))),
        }
    )


def contrast_test(fit: SurveyLogitResult, lmat: np.ndarray) -> tuple[float, int, float, float]:
    """Wald F of ``L beta = 0`` on (rows of L, ``df_resid``) df: ``(F, df1, df2, p)``."""
    lmat = np.atleast_2d(lmat)
    est = lmat @ fit.params.to_numpy()
    v = lmat @ fit.cov_params().to_numpy() @ lmat.T
    f_stat = float(est @ np.linalg.solve(v, est)) / len(est)
    p = float(stats.f.sf(f_stat, len(est), fit.df_resid)) if fit.df_resid > 0 else np.nan
    return f_stat, len(est), fit.df_resid, p


def _wald(fit: SurveyLogitResult, term: str | list[str]) -> tuple[float, int, float, float]:
    """``regTermTest`` Wald F of one or more terms: ``(F, df1, df2, p)``."""
    wt = fit.wald_test(term)
    return wt.f_stat, wt.df_num, wt.df_denom, wt.p_value


def natural_spline_terms(x: np.ndarray, knots: Sequence[float]) -> np.ndarray:
    """Non-linear columns of a natural cubic spline basis (Hastie et al. 2009, eq. 5.4-5.5).

    With knots ``xi_1 < ... < xi_K`` (boundary knots first and last) and
    ``d_k(x) = ((x - xi_k)_+^3 - (x - xi_K)_+^3) / (xi_K - xi_k)``, returns the ``K - 2``
    columns ``d_k - d_{K-1}``, k = 1..K-2. Together with ``1`` and ``x`` they span the same
    functions as R ``splines::ns(x, knots=xi[2:(K-1)], Boundary.knots=xi[c(1, K)])`` plus an
    intercept: cubic between the knots, linear beyond the boundary knots.
    """
    xi = np.asarray(knots, dtype=float)
    if len(xi) < 3 or np.any(np.diff(xi) <= 0):
        raise InputError("Spline knots must be at least three increasing values", value=knots)
    x = np.asarray(x, dtype=float)[:, None]
    d = (np.clip(x - xi[:-1], 0, None) ** 3 - np.clip(x - xi[-1], 0, None) ** 3) / (
        xi[-1] - xi[:-1]
    )
    return d[:, :-1] - d[:, -1:]


def _spline_knots(t: np.ndarray, df: int) -> np.ndarray:
    """Boundary knots at the range, ``df - 1`` interior knots at quantiles (as R ``ns``)."""
    probs = np.linspace(0, 1, df + 1)
    knots = np.quantile(t, probs)  # type-7 quantiles, R's default
    if np.any(np.diff(knots) <= 0):
        raise InputError(
            "Too few distinct dates for the natural spline", value=knots.tolist(), hint="lower df"
        )
    return knots


def _add_spline(frame: pd.DataFrame, knots: np.ndarray) -> list[str]:
    cols = [f"spline_{k + 1}" for k in range(len(knots) - 2)]
    frame[cols] = natural_spline_terms(frame[T].to_numpy(), knots)
    return cols


def trend_models(
    pooled: pd.DataFrame,
    *,
    outcome_category: str | Sequence[str] = ("support", "oppose"),
    question: str = "war_support",
    dates: DatesLike,
    weight: str = "weight",
    spline_df: int = 3,
    grid: int = 25,
    alpha: float = 0.05,
    calibrated_on: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Linear, natural-spline and wave fixed-effects trends of a binary outcome over time.

    Parameters
    ----------
    pooled : DataFrame
        The wave files stacked (``pd.concat``): ``wave``, ``question`` and the sampling-weight
        column. Waves where ``question`` was not asked are dropped; refusals (NA) are excluded
        from each fit but keep their place in the design (R's subsetted design).
    outcome_category : str or list of str
        Category (or categories, each modelled separately) coded 1 against every other answer.
    question : str
        The question column.
    dates : mapping or Series
        ``wave -> fieldwork mid-date``. Time is days since the first asked wave / 365.25.
    weight : str
        Sampling-weight column (the raked weights; *not* frequency weights).
    spline_df : int
        Degrees of freedom of the natural cubic spline (R ``ns(time, df=spline_df)``).
    grid : int
        Number of evenly spaced dates for the linear and spline predictions (the wave dates
        are added to the grid).
    alpha : float
        1 - confidence level.
    calibrated_on : list of str, optional
        The raking columns of the weights (config ``weighting.variables``, derived columns
        such as ``sex_age`` added), raked separately in each wave: the SEs then account for
        the raking (``calibration_by="wave"`` in
        :func:`pollwaves.survey.glm.weighted_logit`). ``None``: the raked weights are taken
        as plain sampling weights.
    groups : (str, str), optional
        When each row of ``pooled`` stands for a group of respondents of one wave sharing
        every model column (:class:`pollwaves.survey.design.RowGroups`): the columns of
        respondents per row and of their summed squared weights (``weight`` holds the summed
        weights). Every result equals that of the respondents' rows.

    Returns
    -------
    dict of DataFrame
        ``predictions``: ``model, outcome, date, wave, estimate, se, ci_low, ci_high`` (models
        ``linear``, ``spline`` on the date grid, ``wave``-labelled where a grid date is a wave
        date, and ``wave_fe`` per wave); ``tests``: ``outcome, test, statistic, df1, df2,
        p_value`` (F statistics); ``coefficients``: ``model, outcome, term, estimate, se, t,
        p_value, ci_low, ci_high``; ``waves``: which waves the models use
        (:func:`pollwaves.analysis.model_waves.wave_coverage`).

    Notes
    -----
    Each model is R ``svyglm(y ~ ..., design, family=quasibinomial())`` with
    ``design = svydesign(ids=~1, strata=~wave, weights=~weight)``, with ``calibrated_on``
    calibrated per wave (``calibrate(design, ~wave + wave:(a + b + c), population,
    calfun="raking")``, whose weights are the raked weights): ``linear`` is
    ``y ~ time``; ``spline`` is ``y ~ time + spline_1 + ... `` with the explicit natural
    cubic spline basis of :func:`natural_spline_terms` (boundary knots at the first and last
    wave, ``spline_df - 1`` interior knots at quantiles of the respondents' dates, as R
    ``ns(time, df=spline_df)``; same fitted values and tests as ``ns``). The explicit basis
    is used instead of patsy ``cr()`` because it keeps ``time`` as a column, so the linear
    model is nested and "spline vs linear" is the ``regTermTest`` Wald F of the non-linear
    columns (equal to R ``anova(linear, spline, method="Wald")``). ``wave_fe`` is
    ``y ~ wave`` (wave a factor, first wave = reference); its predicted share per wave is the weighted
    observed share. Predictions use the delta method on the logit scale with t quantiles on
    the model's design df. Tests: ``linear slope`` (Wald F = t^2 of ``time``), ``spline vs
    linear`` and ``first vs last wave`` (Wald F of the fixed-effects contrast last - first),
    and ``any wave difference`` (``regTermTest(fe, ~wave)``).
    """
    cats = [outcome_category] if isinstance(outcome_category, str) else list(outcome_category)
    check_columns(pooled, ["wave", question, weight, *(calibrated_on or [])])
    asked, coverage = select_waves(pooled, "trend", [question])
    data, origin = add_time(asked, dates)
    waves = list(data["wave"].cat.categories)
    if len(waves) < 2:
        raise InputError("Trends need at least two waves", column=question, value=waves)
    mids = mid_dates(dates)
    wave_dates = pd.DatetimeIndex([mids[w] for w in waves])
    grid_dates = pd.DatetimeIndex(
        pd.date_range(wave_dates[0], wave_dates[-1], periods=grid).round("D").union(wave_dates)
    )
    new = pd.DataFrame({T: years_since(grid_dates, origin)})
    date_wave = {d: w for w, d in zip(waves, wave_dates, strict=True)}
    fe_new = pd.DataFrame({"wave": pd.Categorical(waves, categories=waves)})
    preds, tests, coefs = [], [], []
    design = pooled_design(calibrated_on, groups)
    for cat in cats:
        data[Y] = binary(data[question], cat)
        t_used = respondent_values(data.loc[data[Y].notna()], T, design["group_size"])
        knots = _spline_knots(t_used, spline_df)
        spl = _add_spline(data, knots)
        _add_spline(new, knots)
        rhs = {"linear": T, "spline": " + ".join([T, *spl]), "wave_fe": "wave"}
        fits = {m: weighted_logit(data, f"{Y} ~ {r}", weight, **design) for m, r in rhs.items()}
        used = data.loc[data[Y].notna()]
        for m, fit in fits.items():
            target = fe_new if m == "wave_fe" else new
            p = predict_logit(fit, model_matrix(design_info(fit, rhs[m], used), target), alpha)
            if m == "wave_fe":
                p.insert(0, "wave", waves)
                p.insert(0, "date", wave_dates)
            else:
                p.insert(0, "wave", [date_wave.get(d, pd.NA) for d in grid_dates])
                p.insert(0, "date", grid_dates)
            preds.append(p.assign(model=m, outcome=cat))
            summ = fit.summary_frame(alpha).rename_axis("term")
            coefs.append(summ.reset_index().assign(model=m, outcome=cat))
        lin, sp, fe = fits["linear"], fits["spline"], fits["wave_fe"]
        last = np.zeros(len(fe.params))
        last[list(fe.params.index).index(f"wave[T.{waves[-1]}]")] = 1.0
        rows = {
            "linear slope (time, per year)": contrast_test(lin, np.eye(2)[1]),
            f"spline vs linear ({len(spl)} non-linear spline terms)": _wald(sp, spl),
            f"first vs last wave ({waves[0]} vs {waves[-1]}, wave FE contrast)": contrast_test(
                fe, last
            ),
            "any wave difference (wave FE)": _wald(fe, "wave"),
        }
        tests += [(cat, name, *res) for name, res in rows.items()]
    coef_cols = ["model", "outcome", "term", "estimate", "se", "t", "p_value", "ci_low", "ci_high"]
    return {
        "predictions": pd.concat(preds, ignore_index=True)[PREDICTION_COLUMNS],
        "tests": pd.DataFrame(tests, columns=TEST_COLUMNS),
        "coefficients": pd.concat(coefs, ignore_index=True)[coef_cols],
        "waves": coverage,
    }
