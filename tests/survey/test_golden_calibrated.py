"""Calibrated pooled designs (``calibrated_on`` / ``calibration_by``) against R ``survey``.

Golden values come from ``tests/survey/reference/pooled_calibrated.R`` (R ``calibrate()`` per
wave on the pooled ``svydesign(ids=~1, strata=~wave, weights=~one)``, then ``svyglm``,
``svychisq``, ``svyby(svymean)`` and ``svytotal`` of the multinomial influence functions;
output committed in ``tests/survey/reference/expected/pooled_*.csv``) on the SIMULATED pooled
waves of ``tests/survey/reference/make_pooled_data.py``; CI has no R and only reads the CSVs.
The weights are the data's own raked weights (each wave raked by
:func:`pollwaves.survey.weighting.rake`), which R's calibrate() reproduces first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollwaves.analysis.attitudes import attitudes_by_stance
from pollwaves.errors import InputError
from pollwaves.survey.calibration import calibration
from pollwaves.survey.estimation import proportions
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.mnlogit import weighted_mnlogit
from pollwaves.survey.raoscott import rao_scott

REF = Path(__file__).parent / "reference"
RAKING = ["sex_age", "education", "settlement"]
DESIGNS = {
    "plain": {"strata": "wave"},
    "cal": {"strata": "wave", "calibrated_on": RAKING, "calibration_by": "wave"},
}
MODELS = {
    "linear": ("y_oppose ~ time", "time"),
    "wave_fe": ("y_oppose ~ C(wave)", "C(wave)"),
    "subgroup": ("y_support ~ C(wave) + C(education) + C(media_diet)", "C(media_diet)"),
}
ALLIANCE = "alliance ~ C(wave) + C(education) + C(media_diet)"


@pytest.fixture(scope="module")
def pooled() -> pd.DataFrame:
    d = pd.read_csv(REF / "data" / "pooled.csv", dtype={"wave": str})
    ws = d["war_support"]
    d["y_oppose"] = (ws == "oppose").astype(float).where(ws.notna())
    d["y_support"] = (ws == "support").astype(float).where(ws.notna())
    return d


def _expected(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "expected" / f"pooled_{name}.csv", dtype={"wave": str})


def _max_rel(actual, desired) -> float:
    a, d = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    return float(np.max(np.abs(a - d) / np.abs(d)))


def test_r_calibrate_reproduces_the_raked_weights(pooled):
    r = _expected("calweights")
    assert len(r) == len(pooled)
    assert _max_rel(pooled["weight"], r["cal_weight"]) < 1e-12


@pytest.mark.parametrize("case", list(DESIGNS))
@pytest.mark.parametrize("model", list(MODELS))
def test_weighted_logit_matches_svyglm_on_the_calibrated_design(pooled, case, model):
    formula, term = MODELS[model]
    res = weighted_logit(pooled, formula, "weight", **DESIGNS[case])
    e = _expected("glm")
    e = e[(e["case"] == case) & (e["model"] == model)].reset_index(drop=True)
    assert len(e) == len(res.params)
    np.testing.assert_allclose(res.params.to_numpy(), e["estimate"], rtol=1e-9, atol=1e-12)
    assert _max_rel(res.bse, e["se"]) < 1e-8
    assert _max_rel(res.pvalues, e["p"]) < 1e-7
    assert res.df_resid == e["df_resid"].iloc[0]
    wt = res.wald_test(term)
    assert _max_rel(wt.f_stat, e["test_f"].iloc[0]) < 1e-8
    assert (wt.df_num, wt.df_denom) == (e["test_df"].iloc[0], e["test_ddf"].iloc[0])
    assert _max_rel(wt.p_value, e["test_p"].iloc[0]) < 1e-7


def test_calibration_changes_the_ses_not_the_coefficients(pooled):
    plain = weighted_logit(pooled, MODELS["subgroup"][0], "weight", **DESIGNS["plain"])
    cal = weighted_logit(pooled, MODELS["subgroup"][0], "weight", **DESIGNS["cal"])
    np.testing.assert_allclose(cal.params, plain.params, rtol=0, atol=0)
    ratio = (cal.bse / plain.bse).to_numpy()
    # the raking explains part of the scores: most SEs shrink (not every one must)
    assert np.all(np.abs(ratio - 1) > 1e-3) and np.median(ratio) < 1 and ratio.min() > 0.5
    # influence() stays the raw linearisation; calibrate() + design variance is cov_params()
    z = cal.calibrate(cal.influence())
    w = pooled.groupby("wave")["weight"].transform("size").to_numpy()
    zc = z - pd.DataFrame(z).groupby(pooled["wave"].to_numpy()).transform("mean").to_numpy()
    v = (zc * (w / (w - 1))[:, None]).T @ zc
    np.testing.assert_allclose(v, cal.cov_params().to_numpy(), rtol=1e-10)


def _cases():
    waves = ["2022-03", "2022-11", "2023-11"]
    return ["plain", "cal", *(f"wave {w}" for w in waves)]


@pytest.mark.parametrize("case", _cases())
def test_rao_scott_matches_svychisq_on_the_calibrated_design(pooled, case):
    if case.startswith("wave "):
        data, opts = pooled[pooled["wave"] == case[5:]], {"calibrated_on": RAKING}
    else:
        data, opts = pooled, DESIGNS[case]
    res = rao_scott(data, "war_support", "attitude_poland", "weight", **opts)
    e = _expected("chisq")
    e = e[e["case"] == case].set_index("statistic")
    res = res.set_index("statistic")
    for stat in ("F", "Chisq"):
        for col in ("value", "df1", "p_value", "chisq_pearson"):
            assert _max_rel(res.loc[stat, col], e.loc[stat, col]) < 1e-8, (stat, col)
    assert _max_rel(res.loc["F", "df2"], e.loc["F", "df2"]) < 1e-8


@pytest.mark.parametrize("case", list(DESIGNS))
def test_mnlogit_wave_shares_and_ses_are_svyby_svymean(pooled, case):
    fit = weighted_mnlogit(pooled, ALLIANCE, "weight", **DESIGNS[case])
    sh = fit.predicted_shares(by="wave")
    e = _expected("shares")
    e = e[(e["case"] == case) & (e["table"] == "alliance")]
    m = sh.merge(e, on=["wave", "category"], suffixes=("", "_r"))
    assert len(m) == len(sh) == 12
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=1e-9)
    assert _max_rel(m["se"], m["se_r"]) < 1e-8
    # the same wave share and SE as the per-wave toplines (proportions, one wave's design)
    for wave, wdf in pooled.groupby("wave"):
        opts = {"calibrated_on": RAKING} if case == "cal" else {}
        top = proportions(wdf, "alliance", "weight", **opts).set_index("category")
        mine = sh[sh["wave"] == wave].set_index("category")
        np.testing.assert_allclose(mine["estimate"], top["estimate"], rtol=1e-10)
        np.testing.assert_allclose(mine["se"], top["se"], rtol=1e-9)


@pytest.mark.parametrize("case", list(DESIGNS))
def test_mnlogit_coefficient_ses_match_the_calibrated_sandwich(pooled, case):
    fit = weighted_mnlogit(pooled, ALLIANCE, "weight", **DESIGNS[case])
    e = _expected("mnlogit")
    e = e[e["case"] == case].reset_index(drop=True)
    b = fit.params.T.to_numpy().ravel()
    se = fit.bse.T.to_numpy().ravel()
    assert len(b) == len(e)
    # R's coefficients come from nnet's BFGS (reltol 1e-16): they agree to 3.5e-7 (relative),
    # and the SEs built on them to 1.5e-8
    np.testing.assert_allclose(b, e["estimate"], rtol=1e-6, atol=1e-8)
    assert _max_rel(se, e["se"]) < 1e-7


def test_attitudes_by_stance_matches_svyby_on_each_calibrated_wave(pooled):
    res = attitudes_by_stance(
        pooled, countries={"poland": "attitude_poland"}, calibrated_on=RAKING
    )
    e = _expected("shares")
    e = e[e["table"] == "attitude_poland"].rename(columns={"group": "war_support"})
    m = res["shares"].merge(e, on=["wave", "war_support"], suffixes=("", "_r"))
    assert len(m) == len(res["shares"]) == 12
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], rtol=1e-10)
    assert _max_rel(m["se"], m["se_r"]) < 1e-9
    chisq = _expected("chisq").set_index(["case", "statistic"])
    for row in res["tests"].itertuples():
        r = chisq.loc[(f"wave {row.wave}", "F")]
        assert (
            _max_rel([row.statistic, row.df2, row.p_value], r[["value", "df2", "p_value"]]) < 1e-8
        )
    plain = attitudes_by_stance(pooled, countries={"poland": "attitude_poland"})
    np.testing.assert_allclose(plain["shares"]["estimate"], res["shares"]["estimate"], rtol=1e-12)
    assert not np.allclose(plain["shares"]["se"], res["shares"]["se"], rtol=1e-3)


def test_calibration_by_equals_the_interacted_model(pooled):
    """One regression per wave = one regression on ~wave + wave:(a + b + c)."""
    z = np.random.default_rng(4).normal(size=(len(pooled), 3))
    per_wave = calibration(pooled, "weight", RAKING, by="wave").residualise(z)
    inter = pooled.assign(**{c: pooled["wave"] + ":" + pooled[c] for c in RAKING})
    mm = pd.get_dummies(inter[["wave", *RAKING]], drop_first=False).to_numpy(float)
    w = pooled["weight"].to_numpy()
    beta, *_ = np.linalg.lstsq(mm, z / w[:, None], rcond=None)
    np.testing.assert_allclose(per_wave, w[:, None] * (z / w[:, None] - mm @ beta), atol=1e-9)
    assert calibration(pooled, "weight", None) is None


def test_calibration_input_errors(pooled):
    with pytest.raises(InputError, match="calibration_by needs calibrated_on"):
        weighted_logit(pooled, "y_oppose ~ time", "weight", calibration_by="wave")
    with pytest.raises(InputError, match="Missing value in a calibration column"):
        weighted_logit(pooled, "y_oppose ~ time", "weight", calibrated_on=["war_support"])
    with pytest.raises(InputError, match="Column not found"):
        rao_scott(pooled, "war_support", "alliance", "weight", calibrated_on=["nope"])
    gap = pooled.assign(wave=pooled["wave"].where(pooled.index != 3))
    with pytest.raises(InputError, match="calibration_by column"):
        weighted_mnlogit(gap.dropna(subset=["alliance"]), ALLIANCE, "weight",
                         calibrated_on=RAKING, calibration_by="wave")  # fmt: skip
