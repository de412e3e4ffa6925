"""The simulator's least-squares solver (pollwaves.simulate.calibrate.gauss_newton).

Its result must not depend on rounding noise: the committed simulated truth is compared
across machines by value (tests/simulate/test_simulate.py), so an inconsistent, nearly
rank-deficient system (an overall share and the shares of subgroups that partition it,
as in the 2023-03 war-support targets) has to stop at the same least-squares optimum.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from pollwaves.simulate.calibrate import gauss_newton

_X = np.random.default_rng(1).normal(size=(400, 2))
_HALF = (_X[:, 0] > 0).astype(float)


def _shares(theta: np.ndarray) -> np.ndarray:
    """Overall share and the shares of two halves: the first is almost the mean of the others."""
    eta = theta[0] + theta[1] * _HALF + theta[2] * (1 - _HALF) + 1e-9 * theta[2] * _X[:, 1]
    p = expit(eta)
    return np.array([p.mean(), p[_HALF == 1].mean(), p[_HALF == 0].mean()])


def test_consistent_targets_are_met():
    target = _shares(np.array([0.2, 0.3, -0.4]))
    theta, resid = gauss_newton(_shares, np.zeros(3), target)
    assert np.abs(resid).max() < 1e-12
    np.testing.assert_allclose(_shares(theta), target, atol=1e-12)


def test_inconsistent_targets_stop_at_a_stable_least_squares_optimum():
    target = np.array([0.40, 0.52, 0.30])  # the halves' mean is 0.41, not 0.40
    fits = []
    for noise in (0.0, 1e-13, -1e-13):
        theta, resid = gauss_newton(_shares, np.zeros(3), target + noise)
        fits.append(_shares(theta))
        # the optimum spreads the misfit: no share is met exactly, none is far off
        assert 1e-4 < np.abs(resid).max() < 1e-3
    # rounding-level noise in the targets moves the fitted shares by rounding only
    assert np.abs(np.array(fits) - fits[0]).max() < 1e-9
    # a least-squares optimum: no descent direction left
    jac = np.column_stack(
        [(_shares(theta + 1e-6 * e) - _shares(theta - 1e-6 * e)) / 2e-6 for e in np.eye(3)]
    )
    assert np.abs(jac.T @ (_shares(theta) - target)).max() < 1e-9
