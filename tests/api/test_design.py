"""The design object of the Python API: load_design, proportions, subset (domains), logit."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from tiny_project import WAVES, make_tiny_project

import pollwaves
from pollwaves.errors import InputError
from pollwaves.intake.margins import add_derived_columns
from pollwaves.survey.estimation import proportions
from pollwaves.survey.glm import weighted_logit

RAKING = ["sex_age", "education", "settlement"]


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    return make_tiny_project(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def design(proj):
    return pollwaves.load_design("all", root=proj)


def test_load_design_knows_weights_raking_and_strata(design):
    assert design.weight == "weight"
    assert design.calibrated_on == RAKING
    assert design.strata == "wave"
    assert design.waves == list(WAVES)
    assert "sex_age" in design.data
    assert (design.data["sex_age"] == design.data["sex"].astype(str) + "_"
            + design.data["age_group"].astype(str)).all()  # fmt: skip
    assert list(design.data["war_support"].cat.categories) == [
        "support", "partly", "oppose", "hard_to_say"
    ]  # fmt: skip


def test_proportions_are_the_raking_aware_estimator_per_wave(proj, design):
    got = design.proportions("war_support", by="sex")
    assert list(got["wave"].unique()) == list(WAVES)
    assert got["simulated"].all()
    raw = pd.read_parquet(proj / "data/processed/waves/2023-03.parquet")
    raw = add_derived_columns(raw, {"sex_age": ["sex", "age_group"]})
    want = proportions(raw, "war_support", "weight", by="sex", calibrated_on=RAKING)
    mine = got[got["wave"] == "2023-03"].reset_index(drop=True)
    assert np.allclose(mine["estimate"], want.sort_values(["sex", "category"])
                       .set_index(["sex", "category"]).loc[list(zip(mine["sex"], mine["category"],
                       strict=True))]["estimate"])  # fmt: skip
    m = mine.set_index(["sex", "category"])
    w = want.set_index(["sex", "category"])
    for col in ("estimate", "se", "ci_low", "ci_high", "n_eff"):
        assert np.allclose(m[col], w.loc[m.index, col], rtol=1e-12)
    assert m.loc[("female", "oppose"), "label"] == "Do not support"


def test_subset_is_a_domain_not_a_filtered_frame(design):
    female = design.subset("sex == 'female'")
    dom = female.proportions("war_support")
    by = design.proportions("war_support", by="sex")
    by = by[by["sex"] == "female"].drop(columns="sex").reset_index(drop=True)
    cols = ["estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff"]
    assert np.allclose(dom[cols], by[cols], rtol=1e-12, equal_nan=True)
    # naive filtering of the frame: same shares, but the raking residuals then use only the
    # women, so the SEs and n_eff differ from the domain estimator's
    frame = design.data[design.data["sex"] == "female"]
    naive = pd.concat(
        [
            proportions(frame[frame["wave"] == w], "war_support", "weight", calibrated_on=RAKING)
            for w in design.waves
        ],
        ignore_index=True,
    )
    assert np.allclose(dom["estimate"], naive["estimate"], rtol=1e-12)
    assert np.abs(dom["se"] - naive["se"]).max() > 1e-4
    assert np.abs(dom["n_eff"] - naive["n_eff"]).max() > 1.0
    assert len(female.data) == len(design.data)  # every row stays in the design


def test_subset_twice_combines_and_matches_two_way_domains(design):
    sub = design.subset("sex == 'male'").subset("settlement == 'minsk'")
    got = sub.proportions("war_support")
    two = design.proportions("war_support", by=["sex", "settlement"])
    two = two[(two["sex"] == "male") & (two["settlement"] == "minsk")]
    assert np.allclose(got["se"].to_numpy(), two["se"].to_numpy(), rtol=1e-12)
    assert "male" in sub.domain and "minsk" in sub.domain


def test_small_domains_are_flagged_not_hidden(design):
    tiny = design.subset("age_group == '18_24' and settlement == 'minsk'")
    res = tiny.proportions("war_support")
    assert len(res) > 0
    assert res["n_eff"].lt(30).any()
    flagged = res[res["n_eff"] < 30]
    assert flagged["flag"].str.contains("suppress_n_eff").all()
    assert flagged["estimate"].notna().all()


def test_unknown_variable_wave_and_category_list_what_exists(proj, design):
    with pytest.raises(InputError, match="war_support"):
        design.proportions("war_suport")
    with pytest.raises(InputError, match="2023-03, 2023-11"):
        pollwaves.load_design("2019-01", root=proj)
    with pytest.raises(InputError, match="female"):
        design.subset("sex == 'femal'")
    with pytest.raises(InputError, match="categories of age_group are 18_24, 25_34"):
        design.subset("sex == 'male' or age_group in ['18_24', '18-24']")
    with pytest.raises(InputError, match="selects no respondent"):
        design.subset("sex == 'male' and sex == 'female'")
    with pytest.raises(InputError, match="age_group"):
        design.crosstab("war_support", by="agegroup")


def test_logit_uses_strata_wave_and_calibration_when_available(design):
    fit = design.logit("I(war_support == 'support') ~ C(sex)")
    data = design.data.dropna(subset=["war_support"])
    assert fit.nobs == len(data)
    params = inspect.signature(weighted_logit).parameters
    extra = (
        {"calibrated_on": RAKING, "calibration_by": "wave"} if "calibrated_on" in params else {}
    )
    want = weighted_logit(
        design.data, "I(war_support == 'support') ~ C(sex)", "weight", strata="wave", **extra
    )
    assert np.allclose(fit.params, want.params) and np.allclose(fit.bse, want.bse)
    assert fit.params["C(sex)[T.female]"] < 0  # women support less in the tiny data
    # a domain: the rows outside leave the fit but stay in the design (zero scores)
    sub = design.subset("settlement == 'minsk'").logit("I(war_support == 'support') ~ C(sex)")
    inside = design.data["settlement"] == "minsk"
    masked = design.data.assign(war_support=design.data["war_support"].where(inside))
    want = weighted_logit(
        masked, "I(war_support == 'support') ~ C(sex)", "weight", strata="wave", **extra
    )
    assert sub.nobs == int(inside.sum())
    assert np.allclose(sub.bse, want.bse, rtol=1e-10)
    alone = weighted_logit(
        design.data[inside], "I(war_support == 'support') ~ C(sex)", "weight", strata="wave",
        **extra,
    )  # fmt: skip
    assert np.allclose(sub.params, alone.params, rtol=1e-8)


def test_level_comes_from_the_config_and_can_be_overridden(design):
    a = design.proportions("war_support")
    b = design.proportions("war_support", level=0.9)
    assert ((b["ci_high"] - b["ci_low"]) < (a["ci_high"] - a["ci_low"])).all()
    with pytest.raises(InputError):
        design.proportions("war_support", level=95)
