"""Tests of the pooled trend and subgroup analyses on small seeded synthetic frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pollwaves.analysis.attitudes import attitudes_by_stance
from pollwaves.analysis.subgroups import WALD_LABEL, average_predictions, subgroup_model
from pollwaves.analysis.trends import natural_spline_terms, trend_models
from pollwaves.errors import InputError
from pollwaves.report.figures_models import forest_figure
from pollwaves.survey.design import design_codes, design_variance
from pollwaves.survey.estimation import proportions
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.raoscott import rao_scott

WAVES = ["2022-03", "2022-05", "2022-08", "2022-12", "2023-03", "2023-07", "2023-11"]
DATES = {w: pd.Timestamp(f"{w}-15") for w in ["2021-06", *WAVES]}
MEDIA = np.array(["state_only", "independent_only", "both", "inactive"])
MEDIA_EFFECT = {"state_only": 1.0, "independent_only": -2.0, "both": 0.0, "inactive": -1.0}
NOTICE = "The respondent data are SIMULATED."


def make_pooled(seed: int, shape=lambda t: 0.0 * t, n: int = 250, media: bool = False):
    """Pooled frame: a pre-war wave without the war question, then the war waves.

    ``shape(t)`` is added to the logit of support (t in years since the first war wave);
    with ``media=True`` the media diet shifts the logit strongly. ~3% refusals (NA).
    """
    rng = np.random.default_rng(seed)
    frames = []
    origin = DATES[WAVES[0]]
    for wave in ["2021-06", *WAVES]:
        t = (DATES[wave] - origin).days / 365.25
        diet = rng.choice(MEDIA, n)
        eta = -0.7 + shape(np.full(n, t))
        if media:
            eta = eta + np.vectorize(MEDIA_EFFECT.get)(diet)
        support = rng.random(n) < 1 / (1 + np.exp(-eta))
        other = rng.choice(["partly", "oppose", "hard_to_say"], n, p=[0.2, 0.6, 0.2])
        war = np.where(support, "support", other).astype(object)
        war[rng.random(n) < 0.03] = None
        if wave < WAVES[0]:
            war[:] = None
        frame = pd.DataFrame(
            {
                "wave": wave,
                "resp_id": [f"{wave}-{i}" for i in range(n)],
                "sex": rng.choice(["male", "female"], n),
                "age_group": rng.choice(["18_34", "35_54", "55_plus"], n),
                "education": rng.choice(["secondary", "vocational", "higher"], n),
                "settlement": rng.choice(["minsk", "oblast_centre", "other_town"], n),
                "media_diet": diet,
                "war_support": pd.array(war, dtype="str"),
            }
        )
        for k, country in enumerate(["russia", "ukraine", "poland", "eu", "usa"]):
            p_good = np.where(support, 0.9 - 0.1 * k, 0.3 + 0.05 * k)
            att = np.where(rng.random(n) < p_good, "good", rng.choice(["bad", "hard_to_say"], n))
            att = att.astype(object)
            att[rng.random(n) < 0.02] = None
            frame[f"attitude_{country}"] = pd.array(att, dtype="str")
        w = rng.lognormal(0, 0.4, n)
        frame["weight"] = w / w.sum() * 1e6
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def wave_share(pooled: pd.DataFrame, wave: str, category: str = "support") -> pd.Series:
    """``proportions`` row of ``category`` in one wave (its own design)."""
    res = proportions(pooled.loc[pooled["wave"] == wave], "war_support", "weight")
    return res.loc[res["category"] == category].iloc[0]


@pytest.fixture(scope="module")
def flat() -> pd.DataFrame:
    return make_pooled(1)


@pytest.fixture(scope="module")
def flat_trends(flat) -> dict[str, pd.DataFrame]:
    return trend_models(flat, dates=DATES)


def _test_row(tests: pd.DataFrame, outcome: str, start: str) -> pd.Series:
    hit = tests.loc[(tests["outcome"] == outcome) & tests["test"].str.startswith(start)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_influence_reproduces_the_design_covariance(flat):
    data = flat.assign(y=(flat["war_support"] == "support").astype(float))
    data.loc[flat["war_support"].isna(), "y"] = np.nan
    fit = weighted_logit(data, "y ~ C(media_diet) + C(sex)", "weight", strata="wave")
    infl = fit.influence()
    assert infl.shape == (len(data), len(fit.params))
    assert np.all(infl[data["y"].isna().to_numpy()] == 0)
    s, p = design_codes(data, "wave", None)
    cov = design_variance(infl, s, p, cov=True)
    np.testing.assert_allclose(cov, fit.cov_params().to_numpy(), rtol=1e-12, atol=1e-15)


def test_fixed_effect_predictions_are_the_weighted_wave_shares(flat, flat_trends):
    pred = flat_trends["predictions"]
    assert list(pred.columns) == [
        *["model", "outcome", "date", "wave", "estimate", "se", "ci_low", "ci_high"]
    ]
    assert set(pred["model"]) == {"linear", "spline", "wave_fe"}
    assert set(pred["outcome"]) == {"support", "oppose"}
    fe = pred.loc[pred["model"] == "wave_fe"]
    assert sorted(fe["wave"].unique()) == WAVES  # the pre-war wave is not modelled
    for outcome in ("support", "oppose"):
        for wave in WAVES:
            row = fe.loc[(fe["outcome"] == outcome) & (fe["wave"] == wave)].iloc[0]
            ref = wave_share(flat, wave, outcome)
            assert row["estimate"] == pytest.approx(ref["estimate"], rel=1e-9)
            # saturated model, each wave its own stratum: the SE is the wave's svymean SE
            assert row["se"] == pytest.approx(ref["se"], rel=1e-7)
            assert row["ci_low"] < row["estimate"] < row["ci_high"]
    grid = pred.loc[pred["model"] == "linear"]
    assert grid["date"].min() == DATES[WAVES[0]] and grid["date"].max() == DATES[WAVES[-1]]
    assert set(grid["wave"].dropna()) == set(WAVES)


def test_first_vs_last_wave_test_is_the_logit_difference_of_the_two_shares(flat, flat_trends):
    first, last = wave_share(flat, WAVES[0]), wave_share(flat, WAVES[-1])

    def logit_var(r):
        return (r["se"] / (r["estimate"] * (1 - r["estimate"]))) ** 2

    diff = np.log(last["estimate"] / (1 - last["estimate"])) - np.log(
        first["estimate"] / (1 - first["estimate"])
    )
    expected = diff**2 / (logit_var(first) + logit_var(last))
    row = _test_row(flat_trends["tests"], "support", "first vs last wave")
    assert row["statistic"] == pytest.approx(expected, rel=1e-6)
    assert row["df1"] == 1
    n_used = int(flat.loc[flat["wave"].isin(WAVES), "war_support"].notna().sum())
    assert row["df2"] == n_used - len(WAVES) + 1 - len(WAVES)


def test_linear_trend_test_detects_a_trend_and_not_a_flat_series(flat_trends):
    rising = trend_models(
        make_pooled(2, lambda t: 1.2 * t), dates=DATES, outcome_category="support"
    )
    assert set(rising["tests"]["outcome"]) == {"support"}
    assert _test_row(rising["tests"], "support", "linear slope")["p_value"] < 1e-4
    assert _test_row(flat_trends["tests"], "support", "linear slope")["p_value"] > 0.05
    lin = rising["predictions"].query("model == 'linear'").sort_values("date")
    assert lin["estimate"].is_monotonic_increasing


def test_spline_versus_linear_detects_curvature():
    curved = trend_models(make_pooled(3, lambda t: 6 * (t - 0.85) ** 2), dates=DATES)
    row = _test_row(curved["tests"], "support", "spline vs linear")
    assert row["df1"] == 2 and row["p_value"] < 1e-4
    assert _test_row(curved["tests"], "support", "any wave difference")["p_value"] < 1e-4
    straight = trend_models(make_pooled(4, lambda t: 1.0 * t), dates=DATES)
    assert _test_row(straight["tests"], "support", "spline vs linear")["p_value"] > 0.05


def test_spline_with_as_many_parameters_as_waves_is_saturated():
    pooled = make_pooled(5, lambda t: np.sin(3 * t))
    four = pooled.loc[pooled["wave"].isin(WAVES[:4])]
    pred = trend_models(four, dates=DATES, outcome_category="support")["predictions"]
    spl = pred.loc[(pred["model"] == "spline") & pred["wave"].notna()].set_index("wave")
    fe = pred.loc[pred["model"] == "wave_fe"].set_index("wave")
    np.testing.assert_allclose(spl.loc[WAVES[:4], "estimate"], fe.loc[WAVES[:4], "estimate"])


def test_natural_spline_basis_is_linear_beyond_the_boundary_knots():
    knots = [0.0, 0.4, 0.9, 1.5]
    x = np.array([-2.0, -1.0, 0.0, 1.5, 2.5, 3.5])
    basis = natural_spline_terms(x, knots)
    assert basis.shape == (6, 2)
    np.testing.assert_allclose(np.diff(basis[:3], 2, axis=0), 0, atol=1e-12)  # below
    np.testing.assert_allclose(np.diff(basis[3:], 2, axis=0), 0, atol=1e-12)  # above
    inner = natural_spline_terms(np.array([0.5, 0.7, 0.9]), knots)
    assert np.abs(np.diff(inner, 2, axis=0)).max() > 1e-3  # curved between the knots
    with pytest.raises(InputError):
        natural_spline_terms(x, [0.0, 0.0, 1.0])


def _binary_frame(pooled: pd.DataFrame) -> pd.DataFrame:
    data = pooled.loc[pooled["wave"].isin(WAVES)].reset_index(drop=True)
    y = (data["war_support"] == "support").astype(float).where(data["war_support"].notna())
    return data.assign(outcome_y=y, support=y.map({1.0: "yes", 0.0: "no"}))


def test_average_prediction_se_of_an_intercept_only_model_is_the_pooled_share_se(flat):
    data = _binary_frame(flat)
    fit = weighted_logit(data, "outcome_y ~ 1", "weight", strata="wave")
    est, cov = average_predictions(
        fit, "1", data[["outcome_y", "weight", "wave"]], [{}], weight="weight", strata="wave"
    )
    ref = proportions(data, "support", "weight", strata="wave")
    ref = ref.loc[ref["category"] == "yes"].iloc[0]
    assert est[0] == pytest.approx(ref["estimate"], rel=1e-10)
    assert np.sqrt(cov[0, 0]) == pytest.approx(ref["se"], rel=1e-8)


def test_average_predictions_of_a_saturated_model_are_domain_shares(flat):
    data = _binary_frame(flat).assign(media_diet=lambda d: pd.Categorical(d["media_diet"]))
    fit = weighted_logit(data, "outcome_y ~ media_diet", "weight", strata="wave")
    levels = list(data["media_diet"].cat.categories)
    cols = ["outcome_y", "media_diet", "weight", "wave"]
    est, cov = average_predictions(
        fit,
        "media_diet",
        data[cols],
        [{"media_diet": lev} for lev in levels],
        weight="weight",
        strata="wave",
    )
    ref = proportions(data, "support", "weight", by="media_diet", strata="wave")
    ref = ref.loc[ref["category"] == "yes"].set_index("media_diet").loc[levels]
    np.testing.assert_allclose(est, ref["estimate"], rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref["se"], rtol=1e-7)
    # the difference of two domain shares: direct linearisation
    ok = data["outcome_y"].notna().to_numpy()
    w, y = data["weight"].to_numpy() * ok, data["outcome_y"].fillna(0).to_numpy()
    zs = []
    for lev in levels[:2]:
        d = (data["media_diet"] == lev).to_numpy() * w
        zs.append(d * (y - (d @ y) / d.sum()) / d.sum())
    s, p = design_codes(data, "wave", None)
    direct = design_variance((zs[1] - zs[0])[:, None], s, p)[0]
    assert cov[1, 1] + cov[0, 0] - 2 * cov[0, 1] == pytest.approx(direct, rel=1e-7)


def _logit_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    beta = np.zeros(x.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-x @ beta))
        step = np.linalg.solve(x.T @ (x * (w * p * (1 - p))[:, None]), x.T @ (w * (y - p)))
        beta += step
        if np.abs(step).max() < 1e-12:
            break
    return beta


def test_average_prediction_se_matches_the_stratified_jackknife():
    rng = np.random.default_rng(7)
    n = 240
    data = pd.DataFrame(
        {
            "wave": np.repeat(["a", "b", "c"], n // 3),
            "g": pd.Categorical(rng.choice(["u", "v"], n)),
            "x": rng.normal(size=n),
            "weight": rng.lognormal(0, 0.5, n),
        }
    )
    eta = -0.3 + 0.8 * (data["g"] == "v") + 1.2 * data["x"]
    data["outcome_y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    fit = weighted_logit(data, "outcome_y ~ C(g) + x", "weight", strata="wave")
    settings = [{"g": "u"}, {"g": "v"}]
    est, cov = average_predictions(fit, "C(g) + x", data, settings, weight="weight", strata="wave")

    def margins(w: np.ndarray) -> np.ndarray:
        xs = [np.column_stack([np.ones(n), np.full(n, k), data["x"]]) for k in (0.0, 1.0)]
        beta = _logit_fit(
            np.column_stack([np.ones(n), data["g"] == "v", data["x"]]),
            data["outcome_y"].to_numpy(),
            w,
        )
        return np.array([w @ (1 / (1 + np.exp(-xk @ beta))) / w.sum() for xk in xs])

    w0 = data["weight"].to_numpy()
    np.testing.assert_allclose(margins(w0), est, rtol=1e-8)
    var = np.zeros((2, 2))
    for _, idx in data.groupby("wave").indices.items():
        n_h = len(idx)
        reps = []
        for i in idx:
            w = w0.copy()
            w[idx] *= n_h / (n_h - 1)
            w[i] = 0
            reps.append(margins(w))
        dev = np.array(reps) - np.mean(reps, axis=0)
        var += (n_h - 1) / n_h * dev.T @ dev
    # 3%: dropping the averaging term (-11%) or the covariance of the two parts, as R
    # svypredmeans does (-5%), would fail
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), np.sqrt(np.diag(var)), rtol=0.03)
    d_lin = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    d_jk = var[0, 0] + var[1, 1] - 2 * var[0, 1]
    assert np.sqrt(d_lin) == pytest.approx(np.sqrt(d_jk), rel=0.03)


@pytest.fixture(scope="module")
def subgroups() -> dict[str, pd.DataFrame]:
    return subgroup_model(
        make_pooled(8, lambda t: 0.3 * t, n=300, media=True),
        dates=DATES,
        levels={"media_diet": list(MEDIA)},
    )


def test_subgroup_model_picks_the_strongest_predictor(subgroups):
    sel = subgroups["selection"]
    assert sel.loc[sel["strongest"], "term"].tolist() == ["media_diet"]
    assert sel.loc[sel["strongest"], "f_stat"].iloc[0] == sel["f_stat"].max()
    terms = subgroups["terms"]
    assert list(terms.columns) == ["term", "f_stat", "df1", "df2", "p_value", "test"]
    assert (terms["test"] == WALD_LABEL).all()
    inter = terms.loc[terms["term"] == "time:media_diet"].iloc[0]
    assert inter["df1"] == 3
    assert terms.loc[terms["term"] == "media_diet", "p_value"].iloc[0] < 1e-10
    assert terms.loc[terms["term"] == "wave", "df1"].iloc[0] == len(WAVES) - 1


def test_subgroup_predictions_and_marginal_effects(subgroups):
    pred, ame = subgroups["predicted"], subgroups["ame"]
    media = pred.loc[pred["variable"] == "media_diet"].set_index("level")
    assert list(media.index) == list(MEDIA)  # the given level order, reference first
    assert media["estimate"].idxmax() == "state_only"
    assert media["estimate"].idxmin() == "independent_only"
    assert ((pred["ci_low"] < pred["estimate"]) & (pred["estimate"] < pred["ci_high"])).all()
    assert list(ame.columns) == [
        *["outcome", "variable", "level", "reference", "estimate", "se", "ci_low", "ci_high"],
        "p_value",
    ]
    for _, row in ame.iterrows():
        block = pred.loc[pred["variable"] == row["variable"]].set_index("level")["estimate"]
        assert row["reference"] == block.index[0]
        assert row["estimate"] == pytest.approx(block[row["level"]] - block.iloc[0], abs=1e-12)
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
    indep = ame.loc[ame["level"] == "independent_only"].iloc[0]
    assert indep["estimate"] < -0.3 and indep["p_value"] < 1e-10
    assert len(ame) == sum(pred.groupby("variable").size() - 1)


def test_attitudes_by_stance_matches_proportions_and_rao_scott(flat):
    res = attitudes_by_stance(flat)
    shares, tests = res["shares"], res["tests"]
    assert list(shares.columns[:8]) == [
        *["wave", "country", "question", "war_support", "estimate", "se", "ci_low", "ci_high"]
    ]
    assert list(tests.columns) == [
        *["wave", "country", "question", "statistic", "df1", "df2", "p_value"]
    ]
    assert sorted(shares["wave"].unique()) == WAVES and len(tests) == 5 * len(WAVES)
    first = shares.loc[(shares["wave"] == WAVES[0]) & (shares["country"] == "russia")]
    assert first["war_support"].tolist() == ["support", "partly", "oppose", "hard_to_say"]
    wave = flat.loc[flat["wave"] == WAVES[2]]
    direct = rao_scott(wave, "war_support", "attitude_poland", "weight")
    direct = direct.loc[direct["statistic"] == "F"].iloc[0]
    row = tests.loc[(tests["wave"] == WAVES[2]) & (tests["country"] == "poland")].iloc[0]
    assert row["statistic"] == pytest.approx(direct["value"], rel=1e-12)
    assert row["p_value"] == pytest.approx(direct["p_value"], rel=1e-12)
    props = proportions(wave, "attitude_poland", "weight", by="war_support")
    good = props.loc[props["category"] == "good"].set_index("war_support")
    mine = shares.loc[(shares["wave"] == WAVES[2]) & (shares["country"] == "poland")]
    mine = mine.set_index("war_support")
    np.testing.assert_allclose(mine["estimate"], good.loc[mine.index, "estimate"], rtol=1e-12)
    np.testing.assert_allclose(mine["se"], good.loc[mine.index, "se"], rtol=1e-12)
    # support and good attitude to Russia are associated in the synthetic data
    assert tests.loc[tests["country"] == "russia", "p_value"].max() < 1e-3


def test_forest_figure_builds(subgroups):
    fig = forest_figure(subgroups["ame"], notice=NOTICE)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == len(subgroups["ame"])
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "SIMULATED" in texts
    headers = [t.get_text() for t in ax.texts]
    assert "media diet (vs state only)" in headers
    assert "95% CI" in ax.get_xlabel()
    fig90 = forest_figure(subgroups["ame"], notice=NOTICE, level=0.9)
    assert "90% CI" in fig90.axes[0].get_xlabel()
    assert "95%" not in " ".join(t.get_text() for t in fig90.texts)
    with pytest.raises(InputError):
        forest_figure(subgroups["ame"].drop(columns="ci_low"), notice=NOTICE)


RAKING = ["sex", "age_group", "education", "settlement"]


def test_calibrated_trends_give_each_wave_share_its_topline_se(flat, flat_trends):
    """With wave fixed effects the calibrated pooled model reproduces the per-wave share and
    the SE of the per-wave calibrated design (proportions with calibrated_on)."""
    cal = trend_models(flat, dates=DATES, calibrated_on=RAKING)
    fe = cal["predictions"].query("model == 'wave_fe' and outcome == 'support'")
    for wave, row in fe.set_index("wave").iterrows():
        frame = flat.loc[flat["wave"] == wave]
        ref = proportions(frame, "war_support", "weight", calibrated_on=RAKING)
        ref = ref.loc[ref["category"] == "support"].iloc[0]
        assert row["estimate"] == pytest.approx(ref["estimate"], rel=1e-9)
        assert row["se"] == pytest.approx(ref["se"], rel=1e-7)
        assert row["se"] != pytest.approx(wave_share(flat, wave)["se"], rel=1e-4)
    plain, calc = flat_trends["coefficients"], cal["coefficients"]
    np.testing.assert_allclose(calc["estimate"], plain["estimate"], rtol=1e-12)
    assert not np.allclose(calc["se"], plain["se"], rtol=1e-4)
    assert list(cal["tests"].columns) == list(flat_trends["tests"].columns)
    with pytest.raises(InputError, match="Column not found"):
        trend_models(flat, dates=DATES, calibrated_on=["sex_age"])


def test_calibrated_average_predictions_residualise_the_whole_linearisation(flat):
    data = _binary_frame(flat).assign(wave=lambda d: pd.Categorical(d["wave"]))
    opts = {"strata": "wave", "calibrated_on": RAKING, "calibration_by": "wave"}
    fit = weighted_logit(data, "outcome_y ~ wave", "weight", **opts)
    cols = ["outcome_y", "wave", "weight"]
    est, cov = average_predictions(
        fit, "wave", data[cols], [{"wave": w} for w in WAVES], weight="weight", strata="wave"
    )
    for k, wave in enumerate(WAVES):
        frame = data.loc[data["wave"] == wave]
        ref = proportions(frame, "support", "weight", calibrated_on=RAKING)
        ref = ref.loc[ref["category"] == "yes"].iloc[0]
        assert est[k] == pytest.approx(ref["estimate"], rel=1e-9)
        assert np.sqrt(cov[k, k]) == pytest.approx(ref["se"], rel=1e-7)
    # the intercept-only model: the averaging part is residualised too
    one = weighted_logit(data, "outcome_y ~ 1", "weight", **opts)
    est1, cov1 = average_predictions(one, "1", data[cols], [{}], weight="weight", strata="wave")
    z = np.zeros(len(data))
    ok = data["outcome_y"].notna().to_numpy()
    w = data["weight"].to_numpy()
    z[ok] = w[ok] * (data["outcome_y"].to_numpy()[ok] - est1[0]) / w[ok].sum()
    s, p = design_codes(data, "wave", None)
    direct = design_variance(one.calibrate(z)[:, None], s, p)[0]
    assert cov1[0, 0] == pytest.approx(direct, rel=1e-8)


def test_calibrated_subgroup_model_keeps_estimates_and_changes_ses():
    pooled = make_pooled(5, media=True)
    variables = ["sex", "media_diet"]
    plain = subgroup_model(pooled, dates=DATES, variables=variables)
    cal = subgroup_model(pooled, dates=DATES, variables=variables, calibrated_on=RAKING)
    for key in ("predicted", "ame"):
        np.testing.assert_allclose(cal[key]["estimate"], plain[key]["estimate"], rtol=1e-10)
        assert not np.allclose(cal[key]["se"], plain[key]["se"], rtol=1e-4)
    assert cal["selection"]["term"].tolist() == plain["selection"]["term"].tolist()


def test_calibrated_attitudes_by_stance_share_the_domain_difference_ses(flat):
    from pollwaves.survey.domains import domain_difference

    res = attitudes_by_stance(flat, calibrated_on=RAKING)
    plain = attitudes_by_stance(flat)
    np.testing.assert_allclose(res["shares"]["estimate"], plain["shares"]["estimate"], rtol=1e-12)
    assert not np.allclose(res["shares"]["se"], plain["shares"]["se"], rtol=1e-4)
    wave = flat.loc[flat["wave"] == WAVES[3]].reset_index(drop=True)
    diff = domain_difference(wave, "attitude_eu", "good", "war_support", "support", "oppose",
                             "weight", calibrated_on=RAKING)  # fmt: skip
    mine = res["shares"].query("wave == @WAVES[3] and country == 'eu'").set_index("war_support")
    assert mine.loc["support", "se"] == pytest.approx(diff["se_a"], rel=1e-10)
    assert mine.loc["oppose", "se"] == pytest.approx(diff["se_b"], rel=1e-10)
    direct = rao_scott(wave, "war_support", "attitude_eu", "weight", calibrated_on=RAKING)
    row = res["tests"].query("wave == @WAVES[3] and country == 'eu'").iloc[0]
    assert row["statistic"] == pytest.approx(direct["value"].iloc[0], rel=1e-12)
    uncal = plain["tests"].query("wave == @WAVES[3] and country == 'eu'").iloc[0]
    assert row["statistic"] != pytest.approx(uncal["statistic"], rel=1e-6)
