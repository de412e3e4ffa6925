"""pollwaves.survey.dist against scipy.stats: the same values, bit for bit, on a grid with the
edge cases (q = 0 and 1, infinite and invalid parameters, nan), for arrays and scalars."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pollwaves.survey import dist

Q = np.array([0.0, 1e-12, 0.001, 0.025, 0.05, 0.3, 0.5, 0.7, 0.95, 0.975, 0.999, 1 - 1e-12, 1.0,
              -0.1, 1.1, np.nan])  # fmt: skip
X = np.array([-np.inf, -40.0, -3.2, -1.96, -0.5, 0.0, 1e-9, 0.5, 1.96, 3.2, 40.0, np.inf, np.nan])
DF = [0.5, 1.0, 2.7, 10.0, 151.0, 1e6, np.inf, 0.0, -1.0]

CASES = [
    (dist.norm_ppf, stats.norm.ppf, Q, ()),
    (dist.norm_cdf, stats.norm.cdf, X, ()),
    (dist.norm_sf, stats.norm.sf, X, ()),
    *[(dist.t_ppf, stats.t.ppf, Q, (d,)) for d in DF],
    *[(dist.t_isf, stats.t.isf, Q, (d,)) for d in DF],
    *[(dist.t_cdf, stats.t.cdf, X, (d,)) for d in DF],
    *[(dist.t_sf, stats.t.sf, X, (d,)) for d in DF],
    *[(dist.chi2_sf, stats.chi2.sf, np.abs(X), (d,)) for d in DF],
    *[(dist.chi2_sf, stats.chi2.sf, X, (d,)) for d in (1.0, 3.0)],
    *[
        (dist.f_sf, stats.f.sf, np.abs(X), (a, b))
        for a in (1.0, 2.3, 6.0)
        for b in (3.0, 96.5, np.inf, 0.0)
    ],
    *[
        (dist.beta_ppf, stats.beta.ppf, Q, (a, b))
        for a in (0.0, 0.4, 3.0, 250.5)
        for b in (1.0, 7.2, 0.0)
    ],
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_equals_scipy_stats_on_arrays_and_scalars(case):
    ours, theirs, grid, params = CASES[case]
    with np.errstate(all="ignore"):
        want = theirs(grid, *params)
        got = ours(grid, *params)
        np.testing.assert_array_equal(got, want)
        assert (
            np.signbit(got[np.isfinite(got)]).tolist()
            == np.signbit(want[np.isfinite(want)]).tolist()
        )
        for v, w in zip(grid, want, strict=True):
            one = ours(float(v), *params)
            assert np.isscalar(one) or np.ndim(one) == 0
            np.testing.assert_array_equal(one, w)


@pytest.mark.parametrize(("loc", "scale"), [(0.0, 1.0), (-8.1, 2.3), (3.0, 1e-3), (0.0, 0.0),
                                            (1.0, -2.0), (np.nan, 1.0)])  # fmt: skip
def test_norm_logpdf_equals_scipy_bit_for_bit(loc, scale):
    with np.errstate(all="ignore"):
        want = stats.norm.logpdf(X, loc, scale)
        np.testing.assert_array_equal(dist.norm_logpdf(X, loc, scale), want)
        assert dist.norm_logpdf(float(X[3]), loc, scale) == pytest.approx(
            want[3], nan_ok=True, rel=0, abs=0
        )


def test_broadcasts_parameters_like_scipy():
    q = np.array([[0.025], [0.975]])
    df = np.array([1.0, 5.0, 30.0])
    np.testing.assert_array_equal(dist.t_ppf(q, df), stats.t.ppf(q, df))
    a, b = np.array([0.5, 2.0, 10.0]), np.array([[1.0], [4.0]])
    np.testing.assert_array_equal(dist.beta_ppf(0.3, a, b), stats.beta.ppf(0.3, a, b))
