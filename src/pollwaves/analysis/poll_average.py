"""Poll-average trend: a local-level Kalman smoother on the logit scale.

Model (``t`` in days, irregular spacing allowed)::

    x(t2) - x(t1) ~ N(0, q * (t2 - t1))          state: logit of the true share
    y_k = logit(p_k) = x(t_k) + e_k,  e_k ~ N(0, r_k),  r_k = var(p_k) / (p_k (1 - p_k))^2

``var(p_k)`` is the design-based sampling variance of the wave estimate (from the sampling
weights, :func:`pollwaves.survey.estimation.proportions`); ``r_k`` is its delta-method
transform to the logit scale. Published numbers are not points but intervals (rounding,
bounds): :func:`poll_average` sends them to the grid filter of
:mod:`pollwaves.analysis.poll_grid`, same walk and ``q`` prior, censored likelihood.

Initial state: exact diffuse (flat prior on the level). For a local level this is closed
form and needs no large constant: given the first observation the filtered state is
``N(y_1, r_1)``, and the log-likelihood is the sum of the prediction-error terms of the
later observations, which is exactly the log-density of the contrasts ``y_k - y_1``
(``= lim [log L_kappa + log(2 pi kappa) / 2]`` for a ``N(., kappa)`` prior as
``kappa -> inf``). Times before the first observation are smoothed by extending the walk
backwards from it (the flat-prior limit of the Rauch-Tung-Striebel recursion).

Uncertainty in ``q`` (default ``q_method="mixture"``): rather than plugging in the ML
estimate, the smoother is run at every point of a grid over ``log q``; the grid points are
weighted by a normal prior on ``log q`` times the diffuse likelihood
(:mod:`pollwaves.analysis.q_mixture`), and the reported state is the Gaussian mixture over
the grid. The plug-in band under-covers for flat series, where the ML ``q`` sits on its lower
bound although much larger ``q`` fit nearly as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit

from pollwaves.analysis.poll_inputs import dates_index, one_per_wave
from pollwaves.analysis.q_mixture import grid_weights, log_q_quantiles, mixture_quantiles
from pollwaves.analysis.smoother_base import FRAME_COLUMNS, LOG_Q_BOUNDS, SmootherResult
from pollwaves.analysis.smoother_base import GRID_POINTS as _GRID_POINTS
from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.design import check_columns

__all__ = [
    "FRAME_COLUMNS", "LOG_Q_BOUNDS", "POLL_AVERAGE_COLUMNS", "Q_METHODS", "SmootherResult",
    "local_level_smoother", "poll_average",
]  # fmt: skip

POLL_AVERAGE_COLUMNS = ["source", "question", "category", "date", "estimate", "ci_low"]
POLL_AVERAGE_COLUMNS += ["ci_high", "observed", "q", "q_low", "q_high"]
Q_METHODS = ("mixture", "ml")
_LOG2PI = float(np.log(2 * np.pi))


def _filter(t: np.ndarray, pos: np.ndarray, y: np.ndarray, r: np.ndarray, q: float):
    """Kalman filter over the sorted time points ``t``; observations sorted by ``pos``."""
    m = len(t)
    a, p, ap, pp = (np.full(m, np.nan) for _ in range(4))
    j0, k, loglik = int(pos[0]), 0, 0.0
    for j in range(j0, m):
        if j == j0:  # exact diffuse start: the first observation fixes the level
            aj, pj, k = y[0], r[0], 1
        else:
            aj, pj = a[j - 1], p[j - 1] + q * (t[j] - t[j - 1])
        ap[j], pp[j] = aj, pj
        while k < len(pos) and pos[k] == j:
            v, f = y[k] - aj, pj + r[k]
            loglik -= 0.5 * (_LOG2PI + np.log(f) + v * v / f)
            aj, pj = aj + pj / f * v, pj * r[k] / f
            k += 1
        a[j], p[j] = aj, pj
    return a, p, ap, pp, loglik, j0


def _smooth(t: np.ndarray, q: float, a, p, ap, pp, j0: int) -> tuple[np.ndarray, np.ndarray]:
    """Rauch-Tung-Striebel smoother; points before the first observation extend the walk."""
    ms, ps = a.copy(), p.copy()
    for j in range(len(t) - 2, j0 - 1, -1):
        gain = p[j] / pp[j + 1]
        ms[j] = a[j] + gain * (ms[j + 1] - ap[j + 1])
        # = P + J^2 (Ps' - Pp), written without cancellation
        ps[j] = p[j] * q * (t[j + 1] - t[j]) / pp[j + 1] + gain**2 * ps[j + 1]
    ms[:j0] = ms[j0]
    ps[:j0] = ps[j0] + q * (t[j0] - t[:j0])
    return ms, ps


def _fit_q(t: np.ndarray, pos: np.ndarray, y: np.ndarray, r: np.ndarray, vals=None) -> float:
    """ML estimate of q: log-q grid pre-scan, then bounded Brent around the best point.

    ``vals``: negative log-likelihoods at the grid points when already computed.
    """

    def nll(logq: float) -> float:
        return -_filter(t, pos, y, r, float(np.exp(logq)))[4]

    grid = np.linspace(*LOG_Q_BOUNDS, _GRID_POINTS)
    vals = np.array([nll(g) for g in grid]) if vals is None else np.asarray(vals)
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded")
    best = float(res.x) if res.fun <= vals[i] else float(grid[i])
    return float(np.exp(best))


def _mixture(t, pos, y, r, level: float):
    """Smoothed state integrated over the ``log q`` grid (see :mod:`.q_mixture`).

    Returns median, band limits, mean and SD on the logit scale, the ML ``q`` with its
    log-likelihood, and the posterior median and ``level`` interval of ``q``.
    """
    grid = np.linspace(*LOG_Q_BOUNDS, _GRID_POINTS)
    means, vars_, ll = [], [], []
    for g in grid:
        q = float(np.exp(g))
        a, pf, ap, pp, loglik, j0 = _filter(t, pos, y, r, q)
        m, v = _smooth(t, q, a, pf, ap, pp, j0)
        means.append(m), vars_.append(v), ll.append(loglik)
    means, vars_, ll = np.array(means), np.array(vars_), np.array(ll)
    w = grid_weights(grid, ll)
    probs = [0.5, 0.5 - level / 2, 0.5 + level / 2]
    med, lo, hi = mixture_quantiles(w, means, np.sqrt(vars_), probs)
    mean = w @ means
    sd = np.sqrt(np.maximum(w @ (vars_ + means**2) - mean**2, 0.0))
    q_ml = _fit_q(t, pos, y, r, -ll)
    q_mid, q_lo, q_hi = np.exp(log_q_quantiles(grid, w, probs))
    loglik = _filter(t, pos, y, r, q_ml)[4]
    return med, lo, hi, mean, sd, q_ml, loglik, (float(q_mid), float(q_lo), float(q_hi))


def local_level_smoother(
    dates: Sequence[Any] | pd.Index | pd.Series | np.ndarray,
    estimates: Sequence[float] | np.ndarray | pd.Series,
    variances: Sequence[float] | np.ndarray | pd.Series,
    *,
    innovation_var: float | None = None,
    dates_out: Sequence[Any] | pd.Index | pd.Series | np.ndarray | None = None,
    level: float = 0.95,
    q_method: str = "mixture",
) -> SmootherResult:
    """Smoothed poll average of a share: local-level model on the logit scale.

    Parameters
    ----------
    dates : array-like
        Date of each observation (use the fieldwork mid-date). Datetime-like values, or
        numbers read as days; ``dates_out`` must be of the same kind.
    estimates : array-like of float
        Observed proportions ``p_k`` in [0, 1] (not percent).
    variances : array-like of float
        Sampling variances of ``p_k`` on the proportion scale: design-based variances from
        the sampling weights (``se**2`` of :func:`pollwaves.survey.estimation.proportions`), or
        ``deff * p (1 - p) / n`` for published point values (``trend.published_deff``).
    innovation_var : float, optional
        ``q``, variance of the logit walk per day. ``None``: estimated, see ``q_method``.
    dates_out : array-like, optional
        Extra dates (e.g. a monthly grid) where the smoothed state is reported; the walk is
        interpolated exactly by inserting them as time points without observations.
    level : float
        Confidence level of the band.
    q_method : {"mixture", "ml"}
        How an estimated ``q`` enters (ignored when ``innovation_var`` is given).
        ``"mixture"`` (default): integrate over ``q`` - the smoother is run at each of the
        ``_GRID_POINTS`` equally spaced ``log q`` in ``LOG_Q_BOUNDS``, weighted by prior x
        diffuse likelihood (normal prior on ``log q``, :data:`.q_mixture.LOG_Q_PRIOR`); the
        estimate is the mixture median and the band the mixture quantiles, solved on the
        logit scale and back-transformed; ``q`` is the posterior median, ``q_low, q_high``
        the posterior ``level`` interval. ``"ml"``: plug in the maximum-likelihood ``q``
        (grid pre-scan + bounded ``minimize_scalar``); ``q_low = q_high = q``.

    Returns
    -------
    SmootherResult

    Notes
    -----
    Drop rule (no warning; positions in ``SmootherResult.dropped``): an observation with
    a missing estimate, an estimate of exactly 0 or 1 (logit undefined), or a missing or
    infinite variance is left out; its date is not reported unless it is in ``dates_out``.
    Estimates outside [0, 1], negative variances, and zero variances with ``0 < p < 1`` are
    an :class:`InputError`, as is having no usable observation left (or, when ``q`` is
    estimated, fewer than two distinct observation dates).
    """
    idx = dates_index(dates, "dates")
    p = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    if p.ndim != 1 or v.ndim != 1 or not len(idx) == len(p) == len(v):
        raise InputError("dates, estimates, variances differ in length", value=len(idx))
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", value=level)
    if q_method not in Q_METHODS:
        raise InputError("Unknown q_method", value=q_method, hint=f"one of {Q_METHODS}")
    if innovation_var is not None and not (np.isfinite(innovation_var) and innovation_var >= 0):
        raise InputError("innovation_var must be finite and >= 0", value=innovation_var)
    bad = [
        ("Estimate outside [0, 1]", (p < 0) | (p > 1), "give proportions, not percent"),
        ("Negative variance", v < 0, "pass variances (se**2) of the estimates"),
        ("Zero variance with 0 < p < 1", (v == 0) & (p > 0) & (p < 1), "pass se**2 of p"),
    ]
    for problem, mask, hint in bad:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise InputError(problem, row=i + 1, value=(p[i], v[i]), hint=hint)
    keep = (p > 0) & (p < 1) & np.isfinite(v)
    if not keep.any():
        raise InputError("No usable observation", hint="need 0 < p < 1 and a finite variance")
    obs = idx[keep]
    out = idx[:0] if dates_out is None else dates_index(dates_out, "dates_out")
    if isinstance(obs, pd.DatetimeIndex) != isinstance(out, pd.DatetimeIndex):
        raise InputError("dates and dates_out must both be dates or both be numbers (days)")
    times = obs.append(out).unique().sort_values()
    day = pd.Timedelta(days=1) if isinstance(times, pd.DatetimeIndex) else 1.0
    t = np.asarray((times - times[0]) / day, dtype=float)
    pos = times.get_indexer(obs)
    order = np.argsort(pos, kind="stable")
    pk, vk = p[keep][order], v[keep][order]
    pos = pos[order]
    y = np.log(pk / (1 - pk))
    r = vk / (pk * (1 - pk)) ** 2
    if (estimated := innovation_var is None) and len(np.unique(pos)) < 2:
        raise InputError("q needs two observation dates", hint="pass innovation_var")
    method = q_method if estimated else "fixed"
    if method == "mixture":
        med, lo, hi, mean, sd, q_ml, loglik, (q, q_lo, q_hi) = _mixture(t, pos, y, r, level)
    else:
        q = q_ml = q_lo = q_hi = _fit_q(t, pos, y, r) if estimated else float(innovation_var)
        a, pf, ap, pp, loglik, j0 = _filter(t, pos, y, r, q)
        mean, var = _smooth(t, q, a, pf, ap, pp, j0)
        sd = np.sqrt(var)
        z = dist.norm_ppf(0.5 + level / 2)
        med, lo, hi = mean, mean - z * sd, mean + z * sd
    observed = np.isin(np.arange(len(t)), pos)
    cols = [times, expit(med), expit(lo), expit(hi), mean, sd, observed]
    frame = pd.DataFrame(dict(zip(FRAME_COLUMNS, cols, strict=True)))
    dropped = tuple(int(i) for i in np.flatnonzero(~keep))
    return SmootherResult(
        q, float(loglik), frame, level, estimated, dropped, q_ml, q_lo, q_hi, method
    )


def poll_average(
    table: pd.DataFrame,
    *,
    question: str,
    category: str,
    dates: Mapping[str, Any] | pd.Series,
    source: str,
    grid: str | None = "MS",
    domain: str | None = "all",
    innovation_var: float | None = None,
    level: float = 0.95,
    q_method: str = "mixture",
) -> pd.DataFrame:
    """Smoothed trend of one question/category from a tidy estimates table.

    Parameters
    ----------
    table : DataFrame
        One row per wave for the question/category (``question, wave, category,
        estimate``); the variance is ``se**2`` where ``se`` is present (design-based, from
        the sampling weights), else ``deff * p (1 - p) / n`` (published numbers). Rows
        without either are dropped by the smoother's rule. With ``low, high, n, deff``
        columns (published cells as intervals, proportions:
        :func:`pollwaves.analysis.poll_inputs.published_interval_series`) the rows are
        interval-censored observations and the grid smoother
        :func:`pollwaves.analysis.poll_grid.censored_smoother` is used instead (always
        integrated over ``q``; ``innovation_var`` and ``q_method`` are ignored).
    question, category : str
        Series to smooth.
    dates : mapping or Series
        Wave -> fieldwork mid-date (:func:`pollwaves.analysis.poll_inputs.fieldwork_mid_dates`).
    source : str
        Label for the ``source`` column (e.g. ``"simulated"``, ``"published"``).
    grid : str or None
        pandas frequency of extra output dates between the first and last wave (``"MS"``:
        month starts); ``None``: observation dates only.
    domain : str or None
        Keep rows of this ``domain`` when the table has that column (``None``: no filter).
    innovation_var, level, q_method
        Passed to :func:`local_level_smoother` (default: integrate over ``q``).

    Returns
    -------
    DataFrame
        ``source, question, category, date, estimate, ci_low, ci_high, observed, q, q_low,
        q_high``: ``q`` is the posterior median of the walk variance per day (logit scale)
        and ``q_low, q_high`` its posterior ``level`` interval (``"mixture"``), or the ML or
        given ``q`` three times.
    """
    check_columns(table, ["question", "wave", "category", "estimate"])
    sel = (table["question"] == question) & (table["category"] == category)
    if domain is not None and "domain" in table.columns:
        sel &= table["domain"] == domain
    rows = table[sel]
    if rows.empty:
        raise InputError("No rows for the series", value=(question, category, domain))
    one_per_wave(rows, "More than one row per wave")
    dmap = dict(dates)
    missing = [w for w in rows["wave"].astype(str) if w not in dmap]
    if missing:
        raise InputError("No fieldwork date for wave", wave=missing[0], hint="extend dates")
    obs_dates = pd.DatetimeIndex([pd.Timestamp(dmap[w]) for w in rows["wave"].astype(str)])
    out = None
    if grid is not None:
        out = pd.date_range(obs_dates.min().normalize(), obs_dates.max(), freq=grid)
        out = out[out >= obs_dates.min()]
    if {"low", "high"} <= set(rows.columns):  # interval-censored published cells
        from pollwaves.analysis.poll_grid import censored_smoother

        check_columns(rows, ["n", "deff"])
        res = censored_smoother(
            obs_dates, rows["low"], rows["high"], rows["n"], rows["deff"], dates_out=out,
            level=level,
        )  # fmt: skip
        return _frame(res, source, question, category)
    p = rows["estimate"].to_numpy(float)
    var = np.full(len(rows), np.nan)
    if "n" in rows.columns and "deff" in rows.columns:
        var = rows["deff"].to_numpy(float) * p * (1 - p) / rows["n"].to_numpy(float)
    if "se" in rows.columns:
        se = rows["se"].to_numpy(float)
        var = np.where(np.isnan(se), var, se**2)
    elif not {"n", "deff"} <= set(rows.columns):
        raise InputError("Need a variance source", hint="give an se column, or n and deff")
    res = local_level_smoother(
        obs_dates, p, var, innovation_var=innovation_var, dates_out=out, level=level,
        q_method=q_method,
    )  # fmt: skip
    return _frame(res, source, question, category)


def _frame(res: SmootherResult, source: str, question: str, category: str) -> pd.DataFrame:
    frame = res.frame.assign(
        source=source, question=question, category=category, q=res.q, q_low=res.q_low,
        q_high=res.q_high,
    )  # fmt: skip
    return frame[POLL_AVERAGE_COLUMNS]
