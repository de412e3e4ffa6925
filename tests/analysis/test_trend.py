"""Tests for pollwaves.analysis.poll_average: local-level Kalman smoother against dense Gaussian algebra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit, logit

from pollwaves.analysis.poll_average import (
    FRAME_COLUMNS,
    LOG_Q_BOUNDS,
    POLL_AVERAGE_COLUMNS,
    local_level_smoother,
    poll_average,
)
from pollwaves.analysis.poll_inputs import fieldwork_mid_dates, published_series
from pollwaves.errors import InputError

P = np.array([0.31, 0.36, 0.33, 0.29, 0.34])
VAR = np.array([3.1e-4, 2.4e-4, 3.6e-4, 2.9e-4, 2.6e-4])
DAYS = np.array([0.0, 17.0, 45.0, 52.5, 120.0])
GRID = np.array([-10.0, 30.0, 150.0])  # before, inside and after the observations


def dense_posterior(times, obs_pos, y, r, q):
    """Exact flat-prior posterior of the walk at ``times`` (sorted, distinct), dense algebra.

    u = (x(t_0), W_1..W_{m-1}) with W_i = x(t_i) - x(t_0) ~ N(0, q min(tau_i, tau_j)) and a
    flat prior on x(t_0): posterior precision = blockdiag(0, Sigma_W^-1) + A' R^-1 A.
    """
    m = len(times)
    tau = times[1:] - times[0]
    b = np.zeros((m, m))
    b[:, 0] = 1.0
    b[1:, 1:] = np.eye(m - 1)
    a = b[obs_pos]
    prior_prec = np.zeros((m, m))
    prior_prec[1:, 1:] = np.linalg.inv(q * np.minimum.outer(tau, tau))
    rinv = np.diag(1 / r)
    cov_u = np.linalg.inv(prior_prec + a.T @ rinv @ a)
    mean = b @ (cov_u @ a.T @ rinv @ y)
    var = np.diag(b @ cov_u @ b.T)
    # log-likelihood: density of the contrasts y_k - y_1 (independent of the flat level)
    sigma_w = np.zeros((m, m))
    sigma_w[1:, 1:] = q * np.minimum.outer(tau, tau)
    cov_y = a @ sigma_w @ a.T + np.diag(r)
    c = np.hstack([-np.ones((len(y) - 1, 1)), np.eye(len(y) - 1)])
    loglik = stats.multivariate_normal(np.zeros(len(y) - 1), c @ cov_y @ c.T).logpdf(c @ y)
    return mean, var, loglik, cov_y


def logit_obs(p, var):
    return logit(p), var / (p * (1 - p)) ** 2


@pytest.mark.parametrize("q", [2e-5, 4e-4, 0.02])
def test_matches_dense_gaussian(q):
    res = local_level_smoother(DAYS, P, VAR, innovation_var=q, dates_out=GRID)
    times = np.sort(np.concatenate([DAYS, GRID]))
    y, r = logit_obs(P, VAR)
    mean, var, loglik, _ = dense_posterior(times, np.searchsorted(times, DAYS), y, r, q)
    f = res.frame
    assert list(f.columns) == FRAME_COLUMNS
    np.testing.assert_allclose(f["date"], times)
    np.testing.assert_allclose(f["logit_mean"], mean, rtol=0, atol=1e-8)
    np.testing.assert_allclose(f["logit_sd"] ** 2, var, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.loglik, loglik, rtol=0, atol=1e-8)
    assert f["observed"].tolist() == [t in DAYS for t in times]
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(f["ci_low"], expit(mean - z * np.sqrt(var)), atol=1e-8)
    np.testing.assert_allclose(f["estimate"], expit(mean), atol=1e-8)


def test_ties_and_grid_on_observation_date_match_dense():
    days = np.array([0.0, 20.0, 20.0, 60.0, 61.0, 90.0])
    p = np.array([0.40, 0.44, 0.41, 0.38, 0.43, 0.39])
    var = np.full(6, 3e-4)
    q = 1e-3
    res = local_level_smoother(days, p, var, innovation_var=q, dates_out=[20.0, 75.0, 90.0])
    times = np.array([0.0, 20.0, 60.0, 61.0, 75.0, 90.0])
    y, r = logit_obs(p, var)
    mean, var_s, loglik, _ = dense_posterior(times, np.searchsorted(times, days), y, r, q)
    assert len(res.frame) == len(times)  # one row per distinct date
    np.testing.assert_allclose(res.frame["logit_mean"], mean, atol=1e-8)
    np.testing.assert_allclose(res.frame["logit_sd"] ** 2, var_s, atol=1e-8)
    np.testing.assert_allclose(res.loglik, loglik, atol=1e-8)
    assert res.frame["observed"].tolist() == [True, True, True, True, False, True]


def test_loglik_is_limit_of_large_proper_prior():
    q = 4e-4
    res = local_level_smoother(DAYS, P, VAR, innovation_var=q)
    y, r = logit_obs(P, VAR)
    *_, cov_y = dense_posterior(DAYS, np.arange(5), y, r, q)
    kappa = 1e6  # log L_kappa + log(2 pi kappa) / 2 -> diffuse log-likelihood
    cov = cov_y + kappa * np.ones((5, 5))
    proper = stats.multivariate_normal(np.full(5, y[0]), cov).logpdf(y)
    assert res.loglik == pytest.approx(proper + 0.5 * np.log(2 * np.pi * kappa), abs=1e-4)


def test_datetime_input_equals_numeric_days():
    origin = pd.Timestamp("2022-03-01")
    dates = origin + pd.to_timedelta(DAYS, unit="D")
    grid = origin + pd.to_timedelta(GRID, unit="D")
    a = local_level_smoother(DAYS, P, VAR, innovation_var=1e-3, dates_out=GRID).frame
    b = local_level_smoother(list(dates), P, VAR, innovation_var=1e-3, dates_out=grid).frame
    assert isinstance(b["date"].iloc[0], pd.Timestamp)
    assert b["date"].iloc[2] == pd.Timestamp("2022-03-18")
    np.testing.assert_allclose(b["logit_mean"], a["logit_mean"], atol=1e-12)
    np.testing.assert_allclose(b["logit_sd"], a["logit_sd"], atol=1e-12)


def simulated_walk(q_true, n_obs=40, seed=20240501):
    rng = np.random.default_rng(seed)
    days = np.concatenate([[0.0], np.cumsum(rng.integers(10, 60, n_obs - 1))]).astype(float)
    steps = rng.normal(0, np.sqrt(q_true * np.diff(days)))
    x = logit(0.35) + np.concatenate([[0.0], np.cumsum(steps)])
    n, deff = 800, 1.3
    r_true = deff / (n * expit(x) * (1 - expit(x)))
    p = expit(x + rng.normal(0, np.sqrt(r_true)))
    return days, p, deff * p * (1 - p) / n


def test_q_estimate_recovers_simulated_walk_and_maximises_loglik():
    q_true = 5e-4
    days, p, var = simulated_walk(q_true)
    res = local_level_smoother(days, p, var, q_method="ml")
    assert res.estimated and res.method == "ml" and res.q == res.q_ml
    assert q_true / 4 < res.q < q_true * 4
    for q in np.geomspace(1e-7, 1e-1, 25):
        assert local_level_smoother(days, p, var, innovation_var=q).loglik <= res.loglik + 1e-9
    assert res.loglik == pytest.approx(
        local_level_smoother(days, p, var, innovation_var=res.q).loglik, abs=1e-12
    )
    mix = local_level_smoother(days, p, var)  # default: integrate over q, same ML fit inside
    assert mix.method == "mixture" and mix.q_ml == res.q and mix.loglik == res.loglik


def test_q_zero_gives_precision_weighted_mean():
    y, r = logit_obs(P, VAR)
    pooled = np.sum(y / r) / np.sum(1 / r)
    res = local_level_smoother(DAYS, P, VAR, innovation_var=0.0, dates_out=GRID)
    np.testing.assert_allclose(res.frame["logit_mean"], pooled, atol=1e-12)
    np.testing.assert_allclose(res.frame["logit_sd"], np.sqrt(1 / np.sum(1 / r)), atol=1e-12)


def test_ml_q_at_lower_bound_for_identical_polls():
    var = np.array([2e-4, 3e-4, 2.5e-4, 4e-4])
    res = local_level_smoother([0, 30, 75, 100], np.full(4, 0.3), var)
    assert res.q_ml < 10 * np.exp(LOG_Q_BOUNDS[0])
    np.testing.assert_allclose(res.frame["estimate"], 0.3, atol=1e-10)


def test_large_q_reproduces_observations():
    y, r = logit_obs(P, VAR)
    res = local_level_smoother(DAYS, P, VAR, innovation_var=1e4)
    np.testing.assert_allclose(res.frame["logit_mean"], y, atol=1e-6)
    np.testing.assert_allclose(res.frame["logit_sd"], np.sqrt(r), rtol=1e-6)
    np.testing.assert_allclose(res.frame["estimate"], P, atol=1e-6)


def test_deterministic():
    days, p, var = simulated_walk(5e-4, n_obs=25, seed=7)
    a = local_level_smoother(days, p, var, dates_out=np.arange(0.0, days[-1], 30.0))
    b = local_level_smoother(days, p, var, dates_out=np.arange(0.0, days[-1], 30.0))
    assert a.q == b.q and a.loglik == b.loglik
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_longer_gap_gives_larger_smoothed_variance_in_the_middle():
    days = [0.0, 30.0, 60.0, 120.0, 150.0]  # gaps 30 and 60 days in the middle
    res = local_level_smoother(
        days, np.full(5, 0.4), np.full(5, 3e-4), innovation_var=1e-3, dates_out=[45.0, 90.0]
    )
    sd = res.frame.set_index("date")["logit_sd"]
    assert sd[90.0] > sd[45.0] > sd[30.0]
    assert sd[90.0] > sd[60.0]


def test_drop_rule_for_zero_one_and_missing_variance():
    p = np.concatenate([P, [0.0, 1.0, 0.5, np.nan]])
    var = np.concatenate([VAR, [0.0, 0.0, np.nan, 1e-4]])
    days = np.concatenate([DAYS, [60.0, 70.0, 80.0, 90.0]])
    full = local_level_smoother(days, p, var, innovation_var=1e-3)
    ref = local_level_smoother(DAYS, P, VAR, innovation_var=1e-3)
    assert full.dropped == (5, 6, 7, 8)
    pd.testing.assert_frame_equal(full.frame, ref.frame)
    assert full.loglik == ref.loglik


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(dates=DAYS[:4]), "length"),
        (dict(variances=np.array([1e-4, -1e-4, 1e-4, 1e-4, 1e-4])), "Negative variance"),
        (dict(estimates=P * 100), "outside"),
        (dict(variances=np.array([1e-4, 0.0, 1e-4, 1e-4, 1e-4])), "Zero variance"),
        (dict(estimates=np.zeros(5)), "No usable"),
        (dict(innovation_var=-1.0), "innovation_var"),
        (dict(dates=[0.0, 1.0, np.nan, 3.0, 4.0]), "Missing date"),
        (dict(dates_out=["2022-01-01"]), "both be dates"),
        (dict(dates=np.zeros(5)), "two observation dates"),
        (dict(level=1.5), "level"),
        (dict(q_method="profile"), "q_method"),
    ],
)
def test_input_errors(kwargs, match):
    args = dict(dates=DAYS, estimates=P, variances=VAR) | kwargs
    with pytest.raises(InputError, match=match):
        local_level_smoother(**args)


def published_table():
    base = dict(
        fieldwork_start="2022-04-08",
        fieldwork_end="2022-04-18",
        n_respondents=823.0,
        question="war_support",
        category="support",
        relation="equals",
        qualifier="exact",
        subgroup_variable=np.nan,
    )
    rows = [
        dict(base, wave="2022-04", value=32.0),
        dict(base, wave="2022-04", value=53.0, subgroup_variable="media_diet"),
        dict(base, wave="2022-06", value=14.0, relation="part_of"),
        dict(base, wave="2022-06", value=41.0, qualifier="lower_bound"),
        dict(
            base,
            wave="2022-06",
            value=33.0,
            fieldwork_start="2022-06-06",
            fieldwork_end="2022-06-17",
            n_respondents=804.0,
        ),
        dict(
            base,
            wave="2023-03",
            value=100 / 3,
            qualifier="fraction",
            fieldwork_start="2023-03-15",
            fieldwork_end="2023-03-27",
            n_respondents=804.0,
        ),
        dict(
            base,
            wave="2023-03",
            value=44.0,
            category="oppose",
            fieldwork_start="2023-03-15",
            fieldwork_end="2023-03-27",
            n_respondents=804.0,
        ),
    ]
    return pd.DataFrame(rows)


def test_published_series_rule_and_poll_average_with_assumed_deff():
    ser = published_series(published_table(), "war_support", "support", 1.5)
    assert ser["wave"].tolist() == ["2022-04", "2022-06", "2023-03"]
    np.testing.assert_allclose(ser["estimate"], [0.32, 0.33, 1 / 3])
    assert ser["n"].tolist() == [823.0, 804.0, 804.0] and (ser["deff"] == 1.5).all()
    mids = fieldwork_mid_dates(ser)
    assert mids["2022-04"] == pd.Timestamp("2022-04-13")
    assert mids["2022-06"] == pd.Timestamp("2022-06-11 12:00")
    avg = poll_average(
        ser,
        question="war_support",
        category="support",
        dates=mids,
        source="published",
        innovation_var=1e-4,
    )
    assert list(avg.columns) == POLL_AVERAGE_COLUMNS
    assert (avg["source"] == "published").all() and (avg["q"] == 1e-4).all()
    assert (avg["q_low"] == 1e-4).all() and (avg["q_high"] == 1e-4).all()  # q given
    assert avg["date"].is_monotonic_increasing
    assert avg.loc[~avg["observed"], "date"].dt.is_month_start.all()  # monthly grid
    p = ser["estimate"].to_numpy()
    ref = local_level_smoother(
        list(mids.values()), p, 1.5 * p * (1 - p) / ser["n"], innovation_var=1e-4
    )
    obs = avg[avg["observed"]].reset_index(drop=True)
    np.testing.assert_allclose(obs["estimate"], ref.frame["estimate"], atol=1e-12)
    with pytest.raises(TypeError):
        published_series(published_table(), "war_support", "support")  # deff is required
    with pytest.raises(InputError, match="deff"):
        published_series(published_table(), "war_support", "support", 0.0)


def test_poll_average_uses_design_based_se():
    table = pd.DataFrame(
        {
            "question": "q",
            "wave": ["w1", "w2", "w3", "w4", "w5"],
            "domain": "all",
            "category": "yes",
            "estimate": P,
            "se": np.sqrt(VAR),
        }
    )
    other = table.assign(domain="men", estimate=0.9)
    mid = pd.Timestamp("2022-01-01") + pd.to_timedelta(DAYS, "D")
    dates = dict(zip(table["wave"], mid, strict=True))
    avg = poll_average(
        pd.concat([table, other]),
        question="q",
        category="yes",
        dates=dates,
        source="simulated",
        grid=None,
    )
    ref = local_level_smoother(DAYS, P, VAR)
    assert avg["q"].iloc[0] == pytest.approx(ref.q, rel=1e-6)
    assert avg["q_low"].iloc[0] == pytest.approx(ref.q_low, rel=1e-6)
    assert avg["q_high"].iloc[0] == pytest.approx(ref.q_high, rel=1e-6)
    assert avg["q_low"].iloc[0] < avg["q"].iloc[0] < avg["q_high"].iloc[0]
    np.testing.assert_allclose(avg["ci_high"], ref.frame["ci_high"], atol=1e-8)
    with pytest.raises(InputError, match="No fieldwork date"):
        poll_average(table, question="q", category="yes", dates={}, source="s")
    with pytest.raises(InputError, match="More than one row"):
        poll_average(
            pd.concat([table, table]), question="q", category="yes", dates=dates, source="s"
        )
