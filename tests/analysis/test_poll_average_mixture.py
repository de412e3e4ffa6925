"""Tests for the poll average integrated over q (pollwaves.analysis.q_mixture)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import expit, logit

from pollwaves.analysis.poll_average import LOG_Q_BOUNDS, local_level_smoother
from pollwaves.analysis.q_mixture import (
    LOG_Q_PRIOR,
    grid_weights,
    log_q_quantiles,
    mixture_quantiles,
)

FLAT_DAYS = np.array([0.0, 40.0, 95.0, 150.0, 230.0, 300.0, 380.0, 460.0])


def test_mixture_quantiles_match_root_finding():
    w = np.array([0.2, 0.5, 0.3])
    means = np.array([[0.0, 1.0], [0.4, 1.0], [-1.0, 1.0]])
    sds = np.array([[0.5, 0.2], [0.1, 0.2], [1.5, 0.2]])
    got = mixture_quantiles(w, means, sds, [0.025, 0.5, 0.975])
    for j in range(2):
        for i, prob in enumerate([0.025, 0.5, 0.975]):

            def cdf(x, j=j, prob=prob):
                return w @ stats.norm.cdf((x - means[:, j]) / sds[:, j]) - prob

            assert got[i, j] == pytest.approx(optimize.brentq(cdf, -20, 20), abs=1e-9)
    # identical components: the mixture is that normal
    np.testing.assert_allclose(got[:, 1], 1.0 + 0.2 * stats.norm.ppf([0.025, 0.5, 0.975]))


def test_grid_weights_and_log_q_quantiles():
    grid = np.linspace(-2.0, 2.0, 5)
    w = grid_weights(grid, np.zeros(5))  # flat likelihood: weights follow the prior
    prior = stats.norm.pdf(grid, *LOG_Q_PRIOR)
    np.testing.assert_allclose(w, prior / prior.sum())
    w = grid_weights(grid, np.array([0.0, 0.0, -np.inf, 0.0, 0.0]))
    assert w[2] == 0.0 and w.sum() == pytest.approx(1.0)
    w = np.full(5, 0.2)
    assert log_q_quantiles(grid, w, [0.5])[0] == pytest.approx(0.0)
    assert log_q_quantiles(grid, w, [0.4])[0] == pytest.approx(-0.5)


def test_flat_series_band_wider_than_plug_in_and_q_interval():
    var = np.array([2e-4, 3e-4, 2.5e-4, 4e-4, 3e-4])
    p = np.array([0.30, 0.305, 0.298, 0.301, 0.30])
    days = [0, 30, 75, 100, 160]
    mix = local_level_smoother(days, p, var, dates_out=[50.0, 130.0])
    ml = local_level_smoother(days, p, var, dates_out=[50.0, 130.0], q_method="ml")
    assert ml.q == ml.q_ml < 10 * np.exp(LOG_Q_BOUNDS[0])  # plug-in on the lower bound
    assert mix.q_ml == ml.q_ml and mix.loglik == ml.loglik
    width_mix = mix.frame["ci_high"] - mix.frame["ci_low"]
    width_ml = ml.frame["ci_high"] - ml.frame["ci_low"]
    assert (width_mix >= width_ml - 1e-12).all() and (width_mix > width_ml * 1.05).any()
    assert mix.q_low < mix.q < mix.q_high
    assert np.exp(LOG_Q_BOUNDS[0]) < mix.q_low and mix.q_high < np.exp(LOG_Q_BOUNDS[1])
    f = mix.frame
    assert ((f["ci_low"] < f["estimate"]) & (f["estimate"] < f["ci_high"])).all()


def test_informative_long_series_close_to_plug_in():
    rng = np.random.default_rng(20240501)
    days = np.concatenate([[0.0], np.cumsum(rng.integers(10, 30, 79))]).astype(float)
    x = logit(0.35) + np.concatenate([[0.0], np.cumsum(rng.normal(0, np.sqrt(1e-3 * 20), 79))])
    n, deff = 1500, 1.2
    p = expit(x + rng.normal(0, np.sqrt(deff / (n * expit(x) * (1 - expit(x))))))
    var = deff * p * (1 - p) / n
    mix = local_level_smoother(days, p, var)
    ml = local_level_smoother(days, p, var, q_method="ml")
    assert mix.q_low < ml.q < mix.q_high and mix.q_high / mix.q_low < 10
    assert mix.q == pytest.approx(ml.q, rel=0.5)
    np.testing.assert_allclose(mix.frame["estimate"], ml.frame["estimate"], atol=2e-3)
    ratio = (mix.frame["ci_high"] - mix.frame["ci_low"]) / (
        ml.frame["ci_high"] - ml.frame["ci_low"]
    )
    assert ratio.between(0.95, 1.1).all()


def test_fixed_q_ignores_method_and_mixture_is_deterministic():
    p = np.array([0.31, 0.36, 0.33, 0.29, 0.34])
    var = np.array([3.1e-4, 2.4e-4, 3.6e-4, 2.9e-4, 2.6e-4])
    days = [0.0, 17.0, 45.0, 52.5, 120.0]
    a = local_level_smoother(days, p, var, innovation_var=1e-3)
    b = local_level_smoother(days, p, var, innovation_var=1e-3, q_method="ml")
    assert a.method == "fixed" and a.q == a.q_low == a.q_high == 1e-3
    assert a.frame.equals(b.frame)
    c, d = (local_level_smoother(days, p, var, dates_out=[30.0]) for _ in range(2))
    assert c.frame.equals(d.frame) and (c.q, c.q_low, c.q_high) == (d.q, d.q_low, d.q_high)


def coverage(q_true, method, reps=200, seed=12):
    """Average coverage of the 95 % band over the dates of 8 waves (n 800, deff 1.3)."""
    rng = np.random.default_rng(seed)
    n, deff, out = 800, 1.3, []
    for _ in range(reps):
        steps = rng.normal(0, np.sqrt(q_true * np.diff(FLAT_DAYS)))
        share = expit(logit(0.35) + np.concatenate([[0.0], np.cumsum(steps)]))
        p = expit(logit(share) + rng.normal(0, np.sqrt(deff / (n * share * (1 - share)))))
        f = local_level_smoother(FLAT_DAYS, p, deff * p * (1 - p) / n, q_method=method).frame
        out.append(np.mean((f["ci_low"] <= share) & (share <= f["ci_high"])))
    return float(np.mean(out))


@pytest.mark.parametrize("q_true", [0.0, 1e-5])
def test_monte_carlo_coverage_of_mixture_band(q_true):
    mix, ml = coverage(q_true, "mixture"), coverage(q_true, "ml")
    assert 0.90 <= mix <= 0.99
    assert mix >= ml
