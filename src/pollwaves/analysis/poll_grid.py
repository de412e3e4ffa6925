"""Poll average of interval-censored (published) numbers: a grid filter on the logit state.

Same model as :mod:`pollwaves.analysis.poll_average` (logit random walk with variance
``q`` per day, exact diffuse start, ``q`` integrated over the same ``log q`` grid and prior),
but the observation of a published cell is the interval it implies
(:func:`pollwaves.published.intervals.implied_intervals`): the pollster's estimate ``p_hat``
is modelled as ``N(p, deff p (1 - p) / n)`` on the share scale and observed only as
``low <= p_hat <= high``, so its likelihood is
``Phi((high - p) / s) - Phi((low - p) / s)``, ``s^2 = deff p (1 - p) / n``. That is not
Gaussian, so the Kalman filter cannot take it; the state density is carried on a fixed,
equally spaced grid of the logit instead (:data:`X_RANGE`, spacing :data:`DX`).

Between time points the density is convolved with the exact Gaussian transition kernel of
variance ``q * dt``, applied in Fourier space (``exp(-q dt w^2 / 2)``) on a zero-padded grid,
so mass that walks off the grid is lost instead of wrapping round. The forward pass gives the
filtered densities and the marginal likelihood (the product of the normalising constants;
the first observation enters with a flat, Lebesgue prior, so for Gaussian observations this
equals the Kalman diffuse likelihood); the backward pass gives the likelihood of the later
observations, and the smoothed density at each time point is their normalised product. The
grid points of ``log q`` are weighted by prior x marginal likelihood
(:func:`pollwaves.analysis.q_mixture.grid_weights`) and the smoothed densities mixed; the
estimate is the mixture median and the band its quantiles, back-transformed.

A bound is partial information: above a lower bound the likelihood is flat, so between the
dates that publish a number the smoothed density there is the walk (with its ``q`` prior)
cut by the bound, and the band may be far wider than at a published number (Jan 2022
neutral, known only to be at least 30.5 %: about 34 pp against 8 pp). The data cannot say
where inside the bounds the truth lies; the band says what the bounds and the walk allow.

Accuracy: the densities are resolved to the grid spacing (0.015 on the logit, about 0.35 pp
at a 30 % share); the tests check the grid against the Kalman smoother for Gaussian
observations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import fft
from scipy.special import expit, ndtr

from pollwaves.analysis.poll_inputs import dates_index
from pollwaves.analysis.q_mixture import grid_weights, log_q_quantiles
from pollwaves.analysis.smoother_base import (
    FRAME_COLUMNS,
    GRID_POINTS,
    LOG_Q_BOUNDS,
    SmootherResult,
)
from pollwaves.errors import InputError

__all__ = [
    "DX", "X_RANGE", "GridFit", "censored_smoother", "grid_fit", "grid_states",
    "interval_likelihood",
]  # fmt: skip

#: Logit range of the state grid (shares 0.09 % to 99.91 %) and its spacing.
X_RANGE = (-7.0, 7.0)
DX = 0.015
_MIN_WEIGHT = 1e-12  # q grid points below this posterior weight are left out of the mixture


def grid_states() -> np.ndarray:
    """The logit grid of the state."""
    n = int(np.floor((X_RANGE[1] - X_RANGE[0]) / DX + 1e-9)) + 1
    return X_RANGE[0] + DX * np.arange(n)


def interval_likelihood(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, n: np.ndarray, deff: np.ndarray
) -> np.ndarray:
    """``(K, G)`` likelihood of ``low_k <= p_hat_k <= high_k`` at the logit grid ``x``.

    ``p_hat ~ N(p, deff p (1 - p) / n)`` with ``p = expit(x)``: ``n`` is the published number
    of respondents and ``deff`` the design effect of the published estimate (sampling
    weights, not frequency weights). ``low, high`` are proportions.
    """
    p = expit(x)[None, :]
    s = np.sqrt(np.asarray(deff, float)[:, None] * p * (1 - p) / np.asarray(n, float)[:, None])
    lo, hi = np.asarray(low, float)[:, None], np.asarray(high, float)[:, None]
    return np.maximum(ndtr((hi - p) / s) - ndtr((lo - p) / s), 0.0)


@dataclass(frozen=True)
class GridFit:
    """Smoothed state of :func:`grid_fit` (logit scale), one value per time point.

    ``median, low, high``: mixture median and ``(1 -/+ level) / 2`` quantiles; ``mean, sd``:
    mixture moments; ``loglik``: marginal log-likelihood per ``log q`` grid point;
    ``weights``: posterior weights of the grid points; ``q_ml``: the grid point of highest
    likelihood, refined by a parabola through it and its neighbours; ``q_mid, q_low,
    q_high``: posterior median and ``level`` interval of ``q``.
    """

    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    loglik: np.ndarray
    weights: np.ndarray
    q_ml: float
    q_mid: float
    q_low: float
    q_high: float


def _kernels(omega2: np.ndarray, q: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Fourier transforms ``(T, Q, F)`` of the transition kernels (``dt[0]`` unused)."""
    return np.exp(-0.5 * (q[None, :, None] * dt[:, None, None]) * omega2[None, None, :])


def _convolve(dens: np.ndarray, kern: np.ndarray, npad: int, g: int) -> np.ndarray:
    out = fft.irfft(fft.rfft(dens, n=npad, axis=-1) * kern, n=npad, axis=-1)[..., :g]
    return np.maximum(out, 0.0)


def _q_ml(log_q: np.ndarray, ll: np.ndarray) -> float:
    i = int(np.argmax(ll))
    if 0 < i < len(ll) - 1:
        a, b, c = ll[i - 1], ll[i], ll[i + 1]
        den = a - 2 * b + c
        if den < 0:
            step = log_q[1] - log_q[0]
            return float(np.exp(log_q[i] + 0.5 * step * (a - c) / den))
    return float(np.exp(log_q[i]))


def grid_fit(
    t: np.ndarray, pos: np.ndarray, lik: np.ndarray, log_q: np.ndarray, level: float
) -> GridFit:
    """Grid forward-backward smoother integrated over ``log q``.

    Parameters
    ----------
    t : array (T,)
        Sorted time points in days.
    pos : array (K,) of int
        Time-point index of each observation (sorted).
    lik : array (K, G)
        Likelihood of each observation at the grid :func:`grid_states`.
    log_q : array (Q,)
        Equally spaced grid of ``log q`` (q per day, logit scale).
    level : float
        Level of the band and of the ``q`` interval.
    """
    x = grid_states()
    g = len(x)
    if lik.shape != (len(pos), g):
        raise InputError("Likelihood rows must match observations x grid", value=lik.shape)
    npad = int(2 ** np.ceil(np.log2(2 * g)))
    omega2 = (2 * np.pi * fft.rfftfreq(npad, d=DX)) ** 2
    tn = len(t)
    lt = np.ones((tn, g))
    for k, j in enumerate(pos):
        lt[j] *= lik[k]
    j0 = int(pos[0])
    dt = np.diff(t, prepend=t[0])
    q = np.exp(log_q)
    kern = _kernels(omega2, q, dt)
    alpha = np.ones((tn, len(q), g))
    ll = np.zeros(len(q))
    for j in range(j0, tn):
        a = lt[j][None, :] if j == j0 else _convolve(alpha[j - 1], kern[j], npad, g) * lt[j]
        c = a.sum(axis=-1) * DX
        if np.any(c <= 0):
            raise InputError("An observation has no likelihood on the state grid", row=j + 1)
        ll += np.log(c)
        alpha[j] = a / c[:, None]
    w = grid_weights(log_q, ll)
    keep = w > _MIN_WEIGHT
    wk = w[keep] / w[keep].sum()
    alpha, kern = alpha[:, keep], kern[:, keep]
    beta = np.ones((len(wk), g))
    dens = np.empty((tn, g))
    for j in range(tn - 1, -1, -1):
        if j < tn - 1:
            beta = _convolve(beta * lt[j + 1], kern[j + 1], npad, g)
            beta /= beta.max(axis=-1, keepdims=True)
        s = alpha[j] * beta
        s /= s.sum(axis=-1, keepdims=True)
        dens[j] = wk @ s
    probs = np.array([0.5, 0.5 - level / 2, 0.5 + level / 2])
    cdf = np.concatenate([np.zeros((tn, 1)), np.cumsum(dens, axis=1)], axis=1)
    edges = np.concatenate([[x[0] - DX / 2], x + DX / 2])
    quant = np.array([np.interp(probs, c / c[-1], edges) for c in cdf])
    mean = dens @ x
    sd = np.sqrt(np.maximum(dens @ x**2 - mean**2, 0.0))
    q_mid, q_lo, q_hi = np.exp(log_q_quantiles(log_q, w, probs))
    return GridFit(
        quant[:, 0], quant[:, 1], quant[:, 2], mean, sd, ll, w, _q_ml(log_q, ll),
        float(q_mid), float(q_lo), float(q_hi),
    )  # fmt: skip


def censored_smoother(
    dates: Sequence[Any] | pd.Index | np.ndarray,
    low: Sequence[float] | np.ndarray,
    high: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    deff: float | Sequence[float] | np.ndarray,
    *,
    dates_out: Sequence[Any] | pd.Index | np.ndarray | None = None,
    level: float = 0.95,
) -> SmootherResult:
    """Poll average of interval-censored published shares, integrated over ``q``.

    Parameters
    ----------
    dates : array-like
        Fieldwork mid-date of each observation (datetime-like, or numbers read as days).
    low, high : array-like of float
        Interval (proportions) the published cell implies for the pollster's estimate
        (``implied_intervals`` / 100); ``low == high`` is an exact value (use a tiny width).
    n : array-like of float
        Published number of respondents (the conservative whole N of a qualified N).
    deff : float or array-like
        Design effect of the published estimate: its variance is ``deff p (1 - p) / n``.
    dates_out : array-like, optional
        Extra dates where the smoothed state is reported.
    level : float
        Level of the band.

    Returns
    -------
    SmootherResult
        As :func:`pollwaves.analysis.poll_average.local_level_smoother` with
        ``q_method="mixture"``: ``estimate`` the back-transformed mixture median, the band
        its quantiles; ``loglik`` at the grid ML ``q``; ``method = "grid"``.

    Notes
    -----
    Rows with a missing bound or N are left out (``dropped``); ``low > high``, bounds outside
    [0, 1], ``n <= 0`` or ``deff <= 0`` are an :class:`InputError`, as are fewer than two
    distinct observation dates.
    """
    idx = dates_index(dates, "dates")
    lo, hi = np.asarray(low, float), np.asarray(high, float)
    nn = np.asarray(n, float)
    dd = np.broadcast_to(np.asarray(deff, float), nn.shape).astype(float)
    if not len(idx) == len(lo) == len(hi) == len(nn):
        raise InputError("dates, low, high, n differ in length", value=len(idx))
    if not 0 < level < 1:
        raise InputError("level must be in (0, 1)", value=level)
    keep = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(nn)
    bad = [
        ("low above high", keep & (lo > hi)),
        ("Bound outside [0, 1]", keep & ((lo < 0) | (hi > 1))),
        ("n must be positive", keep & (nn <= 0)),
        ("deff must be positive", keep & ~(dd > 0)),
    ]
    for problem, mask in bad:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise InputError(problem, row=i + 1, value=(lo[i], hi[i], nn[i], dd[i]))
    obs = idx[keep]
    out = idx[:0] if dates_out is None else dates_index(dates_out, "dates_out")
    if isinstance(obs, pd.DatetimeIndex) != isinstance(out, pd.DatetimeIndex):
        raise InputError("dates and dates_out must both be dates or both be numbers (days)")
    times = obs.append(out).unique().sort_values()
    if len(obs.unique()) < 2:
        raise InputError("q needs two observation dates", hint="publish or keep more waves")
    day = pd.Timedelta(days=1) if isinstance(times, pd.DatetimeIndex) else 1.0
    t = np.asarray((times - times[0]) / day, dtype=float)
    pos = times.get_indexer(obs)
    order = np.argsort(pos, kind="stable")
    lik = interval_likelihood(grid_states(), lo[keep], hi[keep], nn[keep], dd[keep])[order]
    fit = grid_fit(t, pos[order], lik, np.linspace(*LOG_Q_BOUNDS, GRID_POINTS), level)
    observed = np.isin(np.arange(len(t)), pos)
    cols = [times, expit(fit.median), expit(fit.low), expit(fit.high), fit.mean, fit.sd, observed]
    frame = pd.DataFrame(dict(zip(FRAME_COLUMNS, cols, strict=True)))
    i = int(np.argmax(fit.loglik))
    return SmootherResult(
        fit.q_mid, float(fit.loglik[i]), frame, level, True,
        tuple(int(k) for k in np.flatnonzero(~keep)), fit.q_ml, fit.q_low, fit.q_high, "grid",
    )  # fmt: skip
