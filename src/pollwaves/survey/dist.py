"""The few distribution functions the estimators need, without importing ``scipy.stats``.

``scipy.stats`` takes about a second to import, and every Snakemake job is a fresh Python
(one per wave, among others). These functions compute what ``scipy.stats.<dist>.<method>``
computes for the standard distributions (``loc=0``, ``scale=1``): the same
``scipy.special`` functions on the valid arguments, ``nan`` for invalid parameters (e.g.
``df <= 0``), the support's ends at ``q = 0`` and ``q = 1``, and a scalar for scalar input.
``tests/survey/test_dist.py`` checks them against ``scipy.stats`` value for value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special
from scipy.special import _ufuncs

__all__ = ["beta_ppf", "chi2_sf", "f_sf", "norm_cdf", "norm_ppf", "norm_sf", "t_cdf", "t_isf",
           "t_ppf", "t_sf"]  # fmt: skip

INF = np.inf


def _arrays(x, params):
    arrays = np.broadcast_arrays(
        np.asarray(x, dtype=float), *(np.asarray(p, dtype=float) for p in params)
    )
    return arrays[0], arrays[1:]


def _out(values: np.ndarray):
    return values[()] if values.ndim == 0 else values


def _positive(*params: np.ndarray) -> np.ndarray:
    ok = np.ones(np.shape(params[0]) if params else (), dtype=bool)
    for p in params:
        ok = ok & (p > 0)
    return ok


def _quantile(fn: Callable, q, params=(), check=None, lower=-INF, upper=INF, inverse=False):
    """``ppf`` (``inverse=False``) or ``isf`` of a distribution on ``[lower, upper]``."""
    q, params = _arrays(q, params)
    ok = check(*params) if check is not None else np.ones(q.shape, dtype=bool)
    out = np.full(q.shape, np.nan)
    out[ok & (q == 0)] = upper if inverse else lower
    out[ok & (q == 1)] = lower if inverse else upper
    inside = ok & (q > 0) & (q < 1)
    if inside.any():
        out[inside] = fn(q[inside], *(p[inside] for p in params)) * 1.0 + 0.0
    return _out(out)


def _tail(fn: Callable, x, params=(), check=None, lower=-INF, upper=INF, upper_tail=True):
    """``sf`` (``upper_tail=True``) or ``cdf`` of a distribution on ``[lower, upper]``."""
    x, params = _arrays(x, params)
    ok = check(*params) if check is not None else np.ones(x.shape, dtype=bool)
    out = np.zeros(x.shape)
    out[~ok | np.isnan(x)] = np.nan
    out[ok & ((x <= lower) if upper_tail else (x >= upper))] = 1.0
    inside = ok & (x > lower) & (x < upper)
    if inside.any():
        out[inside] = fn(x[inside], *(p[inside] for p in params))
    return _out(out)


def norm_ppf(q):
    """Standard normal quantile (``scipy.stats.norm.ppf``)."""
    return _quantile(special.ndtri, q)


def norm_cdf(x):
    """Standard normal distribution function (``scipy.stats.norm.cdf``)."""
    return _tail(special.ndtr, x, upper_tail=False)


_NORM_LOG_C = np.log(np.sqrt(2 * np.pi))


def norm_logpdf(x, loc=0.0, scale=1.0):
    """Normal log density (``scipy.stats.norm.logpdf(x, loc, scale)``: the same operations,
    so the same bits; ``nan`` for ``scale <= 0`` or ``x`` nan)."""
    x, loc, scale = (np.asarray(v, dtype=float) for v in (x, loc, scale))
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (x - loc) / scale
        out = np.where(scale > 0, (-(y**2) / 2.0 - _NORM_LOG_C) - np.log(scale), np.nan)
    return _out(np.asarray(out, dtype=float))


def norm_sf(x):
    """Standard normal upper tail (``scipy.stats.norm.sf``)."""
    return _tail(lambda v: special.ndtr(-v), x)


def t_ppf(q, df):
    """Student t quantile (``scipy.stats.t.ppf``); ``df <= 0`` gives nan."""
    return _quantile(lambda v, d: special.stdtrit(d, v), q, (df,), _positive)


def t_isf(q, df):
    """Student t upper quantile (``scipy.stats.t.isf``)."""
    return _quantile(lambda v, d: -special.stdtrit(d, v), q, (df,), _positive, inverse=True)


def t_cdf(x, df):
    """Student t distribution function (``scipy.stats.t.cdf``)."""
    return _tail(lambda v, d: special.stdtr(d, v), x, (df,), _positive, upper_tail=False)


def t_sf(x, df):
    """Student t upper tail (``scipy.stats.t.sf``)."""
    return _tail(lambda v, d: special.stdtr(d, -v), x, (df,), _positive)


def f_sf(x, dfn, dfd):
    """F upper tail (``scipy.stats.f.sf``), support ``[0, inf)``."""
    return _tail(lambda v, a, b: special.fdtrc(a, b, v), x, (dfn, dfd), _positive, lower=0.0)


def chi2_sf(x, df):
    """Chi-squared upper tail (``scipy.stats.chi2.sf``), support ``[0, inf)``."""
    return _tail(lambda v, d: special.chdtrc(d, v), x, (df,), _positive, lower=0.0)


def beta_ppf(q, a, b):
    """Beta quantile (``scipy.stats.beta.ppf``, the same Boost routine), support ``[0, 1]``."""
    fn = getattr(_ufuncs, "_beta_ppf", None)
    if fn is None:  # a SciPy without the private ufunc: the public (slow-to-import) route
        from scipy import stats

        return stats.beta.ppf(q, a, b)
    return _quantile(fn, q, (a, b), _positive, lower=0.0, upper=1.0)
