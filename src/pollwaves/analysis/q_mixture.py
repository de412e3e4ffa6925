"""Integrating the poll-average smoother over its process-noise variance ``q``.

The plug-in smoother fixes ``q`` at its maximum-likelihood value; for flat series that value
sits on the lower search bound and the band ignores that larger ``q`` fit the data almost as
well, so it under-covers. Here ``log q`` gets a prior on a deterministic grid, the posterior
weights are ``prior x marginal likelihood`` (the exact diffuse prediction-error likelihood of
the Kalman filter), and the smoothed state is the Gaussian mixture over the grid.

Prior: ``log q ~ N(log 3e-4, (ln 10)^2)`` (q per day, logit scale), truncated to the grid.
Its centre lets the logit walk move ``sqrt(3e-4 * 365) = 0.33`` per year (about 7-8 pp at a
30 to 50 % share: the scale of the real published changes, e.g. war opposition 40 -> 43 % in
two months of 2022, the neutral alliance share about 64 -> 47 % across the invasion); one
decade either side (``3e-5`` to ``3e-3``/day) spans "about 1 pp a year" to "several pp a
month". The prior was first two decades wide around ``1e-4``; in the coverage benchmark
(:mod:`pollwaves.validation.poll_average_coverage`, SIMULATED truth) that band covered the
war-support series only 88-95 % on average and 77-82 % at their worst dates, because it gave
much weight to an almost constant average where the truth steps by 3 pp; the narrower prior
keeps every series in 93-97 % at the dates where a number is published. Where the published
cells only bound a series (the neutral alliance share between Apr 2021 and Nov 2023), the
band is set by the bounds and by this prior through the neighbouring dates; its coverage of
the simulator's truth there (about 100 %) reflects where that assumed truth sits inside the
bounds, not the width of the prior (the benchmark's ``information`` split and
:mod:`pollwaves.validation.poll_bound_position`). A prior uniform on the grid is not used: the likelihood is flat for every
``q`` too small to matter, so its many decades below ``1e-8`` would put a mass on
"constant" that depends only on where the search bound is.
"""

from __future__ import annotations

import numpy as np

from pollwaves.survey import dist

__all__ = ["LOG_Q_PRIOR", "grid_weights", "log_q_quantiles", "mixture_quantiles"]

#: Mean and SD of the normal prior on ``log q`` (natural log, q per day, logit scale).
LOG_Q_PRIOR = (float(np.log(3e-4)), float(np.log(10.0)))
_BISECTIONS = 80  # interval halvings of the mixture-quantile search (width / 2**80)
_MIN_WEIGHT = 1e-12  # grid points below this posterior weight are left out of the mixture


def grid_weights(log_q: np.ndarray, loglik: np.ndarray) -> np.ndarray:
    """Posterior weights of the ``log q`` grid points: prior density x likelihood, normalised.

    The grid is equally spaced, so the prior density stands for the prior mass of a cell.
    """
    log_post = dist.norm_logpdf(log_q, *LOG_Q_PRIOR) + np.asarray(loglik, dtype=float)
    w = np.exp(log_post - np.max(log_post))
    return w / w.sum()


def log_q_quantiles(log_q: np.ndarray, w: np.ndarray, probs) -> np.ndarray:
    """Quantiles of ``log q`` under the grid weights ``w``.

    Each grid point's weight is spread evenly over its cell (half-way to its neighbours),
    so the distribution function is piecewise linear between cell midpoints.
    """
    c = np.cumsum(w) - w / 2
    return np.interp(np.asarray(probs, dtype=float), c, log_q)


def mixture_quantiles(w: np.ndarray, means: np.ndarray, sds: np.ndarray, probs) -> np.ndarray:
    """Quantiles of Gaussian mixtures by bisection (deterministic).

    Parameters
    ----------
    w : array (G,)
        Mixture weights (sum to one).
    means, sds : arrays (G, T)
        Component means and SDs for each of ``T`` mixtures (one per date).
    probs : array-like (P,)
        Probabilities.

    Returns
    -------
    array (P, T)
    """
    keep = w > _MIN_WEIGHT
    w, m, s = w[keep] / w[keep].sum(), means[keep], sds[keep]
    probs = np.asarray(probs, dtype=float)[:, None]
    lo = np.broadcast_to(np.min(m - 10 * s, axis=0), (len(probs), m.shape[1])).copy()
    hi = np.broadcast_to(np.max(m + 10 * s, axis=0), lo.shape).copy()
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        cdf = np.einsum("g,pgt->pt", w, dist.norm_cdf((mid[:, None, :] - m) / s))
        below = cdf < probs
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2
