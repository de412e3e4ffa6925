"""Tests for the grid filter of interval-censored published numbers (analysis.poll_grid)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from scipy import stats
from scipy.special import logit

from pollwaves import config
from pollwaves.analysis import poll_average as pa
from pollwaves.analysis.poll_grid import (
    censored_smoother,
    grid_fit,
    grid_states,
    interval_likelihood,
)
from pollwaves.analysis.poll_inputs import (
    POINT_RATIO,
    interval_information,
    interval_sd_ratio,
    moe_deff,
    published_interval_series,
)
from pollwaves.errors import InputError

DAYS = np.array([0.0, 40.0, 95.0, 150.0, 230.0, 300.0, 380.0, 460.0, 500.0, 620.0])
LOG_Q = np.linspace(*pa.LOG_Q_BOUNDS, pa._GRID_POINTS)


def gaussian_case(seed: int = 1):
    rng = np.random.default_rng(seed)
    y = logit(0.33) + np.linspace(0, 0.3, len(DAYS)) + rng.normal(0, 0.08, len(DAYS))
    r = np.full(len(DAYS), 0.08**2)
    t = np.union1d(DAYS, np.arange(0.0, 620.0, 30.0))
    return t, np.searchsorted(t, DAYS), y, r


def test_grid_matches_kalman_mixture_for_gaussian_observations():
    t, pos, y, r = gaussian_case()
    med, lo, hi, mean, sd, q_ml, _, (q_mid, q_lo, q_hi) = pa._mixture(t, pos, y, r, 0.95)
    lik = stats.norm.pdf(y[:, None], grid_states()[None, :], np.sqrt(r)[:, None])
    fit = grid_fit(t, pos, lik, LOG_Q, 0.95)
    np.testing.assert_allclose(fit.mean, mean, atol=1e-5)
    np.testing.assert_allclose(fit.sd, sd, atol=1e-5)
    for got, want in ((fit.median, med), (fit.low, lo), (fit.high, hi)):
        np.testing.assert_allclose(got, want, atol=2e-3)  # quantiles to the grid spacing
    assert fit.q_mid == pytest.approx(q_mid, rel=0.01)
    assert (fit.q_low, fit.q_high) == pytest.approx((q_lo, q_hi), rel=0.01)
    assert fit.q_ml == pytest.approx(q_ml, rel=0.05)
    # the diffuse likelihood is the Kalman one wherever the walk stays on the grid
    ll = np.array([pa._filter(t, pos, y, r, float(np.exp(g)))[4] for g in LOG_Q])
    mid = np.exp(LOG_Q) < 0.1
    np.testing.assert_allclose(fit.loglik[mid], ll[mid], atol=1e-2)


def test_grid_matches_kalman_at_fixed_q_with_repeated_dates():
    t = np.array([0.0, 30.0, 60.0, 200.0])
    pos = np.array([0, 0, 2, 3])
    y, r = np.array([-0.6, -0.5, -0.45, -0.2]), np.array([0.01, 0.02, 0.01, 0.015])
    q = 2e-4
    a, pf, ap, pp, loglik, j0 = pa._filter(t, pos, y, r, q)
    m, v = pa._smooth(t, q, a, pf, ap, pp, j0)
    lik = stats.norm.pdf(y[:, None], grid_states()[None, :], np.sqrt(r)[:, None])
    fit = grid_fit(t, pos, lik, np.array([np.log(q)]), 0.95)
    np.testing.assert_allclose(fit.mean, m, atol=1e-6)
    np.testing.assert_allclose(fit.sd, np.sqrt(v), atol=1e-6)
    assert fit.loglik[0] == pytest.approx(loglik, abs=1e-6)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(fit.high, m + z * np.sqrt(v), atol=2e-3)


def test_interval_likelihood_is_a_censored_normal():
    x = np.array([logit(0.3), logit(0.5)])
    lik = interval_likelihood(x, np.array([0.295]), np.array([0.305]), np.array([800]), [1.2])
    s = np.sqrt(1.2 * 0.3 * 0.7 / 800)
    assert lik[0, 0] == pytest.approx(stats.norm.cdf(0.005 / s) - stats.norm.cdf(-0.005 / s))
    low = interval_likelihood(x, np.array([0.45]), np.array([1.0]), np.array([800]), [1.0])
    assert low[0, 1] == pytest.approx(stats.norm.cdf(0.05 / np.sqrt(0.25 / 800)))


def test_narrow_intervals_reproduce_the_point_smoother_and_bounds_add_information():
    dates = pd.to_datetime(["2022-04-13", "2022-06-11", "2023-03-21", "2023-11-11"])
    p, n = np.array([0.32, 0.33, 0.33, 0.36]), np.array([823, 804, 804, 868])
    var = 1.27 * p * (1 - p) / n
    kal = pa.local_level_smoother(dates, p, var, level=0.95).frame
    grid = censored_smoother(dates, p - 5e-4, p + 5e-4, n, 1.27, level=0.95).frame
    # the censored likelihood is normal on the share scale, Kalman's on the logit: close
    np.testing.assert_allclose(grid["estimate"], kal["estimate"], atol=2e-3)
    np.testing.assert_allclose(grid["ci_high"] - grid["ci_low"], kal["ci_high"] - kal["ci_low"],
                               rtol=0.05)  # fmt: skip
    # replacing the last point by a lower bound (>= 35.5) keeps its information one-sided
    lo, hi = p - 5e-4, p + 5e-4
    lo[-1], hi[-1] = 0.355, 1.0
    bound = censored_smoother(dates, lo, hi, n, 1.27).frame
    assert bound["estimate"].iloc[-1] > grid["estimate"].iloc[0]
    assert (bound["ci_high"] - bound["ci_low"]).iloc[-1] > (grid["ci_high"] - grid["ci_low"]).iloc[
        -1
    ]


def test_poll_average_routes_intervals_and_is_fast():
    intervals = pd.DataFrame({
        "wave": ["2020-09", "2021-04", "2023-11"], "question": "alliance", "category": "neutral",
        "kind": ["interval", "interval", "interval"], "value": np.nan,
        "low": [63.0, 45.5, 22.5], "high": [63.8, 68.5, 48.0], "n_respondents": [899, 937, 868],
        "fieldwork_start": ["2020-09-22", "2021-04-20", "2023-11-08"],
        "fieldwork_end": ["2020-09-28", "2021-04-30", "2023-11-14"],
    })  # fmt: skip
    series = published_interval_series(intervals, "alliance", "neutral", 1.27)
    assert list(series["low"]) == pytest.approx([0.63, 0.455, 0.225])
    from pollwaves.analysis.poll_inputs import fieldwork_mid_dates

    start = time.perf_counter()
    res = pa.poll_average(series, question="alliance", category="neutral",
                          dates=fieldwork_mid_dates(series), source="published")  # fmt: skip
    assert time.perf_counter() - start < 2.0
    assert list(res.columns) == pa.POLL_AVERAGE_COLUMNS
    assert res["observed"].sum() == 3 and len(res) > 30  # monthly grid
    assert (res["ci_low"] <= res["estimate"]).all() and (res["estimate"] <= res["ci_high"]).all()
    first = res.iloc[0]
    assert 0.58 < first["estimate"] < 0.66  # pulled to the tight Sep 2020 interval
    assert (res["q_low"] <= res["q"]).all() and (res["q"] <= res["q_high"]).all()


def test_bad_censored_input():
    d = [0.0, 10.0]
    with pytest.raises(InputError):
        censored_smoother(d, [0.4, 0.5], [0.3, 0.6], [800, 800], 1.2)
    with pytest.raises(InputError):
        censored_smoother(d, [0.4, 0.5], [0.45, 1.2], [800, 800], 1.2)
    with pytest.raises(InputError):
        censored_smoother([0.0], [0.4], [0.45], [800], 1.2)
    with pytest.raises(InputError):
        moe_deff([3.2], [800, 940], 0.95)


def test_published_deff_is_the_one_the_published_margins_imply():
    cfg = config.load_yaml(ROOT / "config" / "config.yaml")["trend"]
    moe = cfg["published_moe"]
    implied = moe_deff(moe["percent"], moe["n"], moe["level"])
    assert cfg["published_deff"] == pytest.approx(np.ceil(100 * implied["high"]) / 100)
    # the matched pairs are about the simple-random-sampling value
    assert 0.95 < implied["matched_low"] < implied["matched_high"] < 1.15
    z = stats.norm.ppf(0.975)
    assert implied["high"] == pytest.approx(940 * (0.036 / z) ** 2 / 0.25)


def test_interval_information_tells_numbers_from_bounds():
    # Nov 2023 alliance, N 868, deff 1.27: Russia "40" is a number up to rounding; neutral
    # 22.5-48 % (both "1/4" and the complement 100 - 40 - 13) is a bound
    low, high = np.array([0.395, 0.225]), np.array([0.405, 0.48])
    ratio = interval_sd_ratio(low, high, 868, 1.27)
    assert ratio[0] == pytest.approx(0.01 / np.sqrt(1.27 * 0.4 * 0.6 / 868))
    assert ratio[0] < 1 < POINT_RATIO < ratio[1]
    assert list(interval_information(low, high, 868, 1.27)) == ["point", "partial"]
    # either side of the threshold (width sqrt(12) SD at p = 0.5)
    sd = np.sqrt(1.27 * 0.25 / 900)
    half = POINT_RATIO * sd / 2 * np.array([0.999, 1.001])
    got = interval_information(0.5 - half, 0.5 + half, 900, 1.27)
    assert list(got) == ["point", "partial"]
