"""Pooled models with items not asked: the waves used, the waves left out and why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves import files
from pollwaves.analysis.attitudes import attitudes_by_stance
from pollwaves.analysis.model_waves import (
    MODEL_WAVES_COLUMNS,
    coverage_table,
    exclusion_note,
    select_waves,
)
from pollwaves.analysis.subgroups import subgroup_model
from pollwaves.analysis.trends import trend_models
from pollwaves.errors import InputError
from pollwaves.stages.pooled import run_model_waves, run_wave_model_coverage
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.mnlogit import weighted_mnlogit

WAVES = ["2021-06", "2022-03", "2022-08", "2023-03", "2023-11"]
DATES = {w: pd.Timestamp(f"{w}-15") for w in WAVES}
NO_MEDIA = "2022-08"  # this wave did not ask media_diet
VARIABLES = ["sex", "media_diet"]


def make_pooled(seed: int = 3, n: int = 160) -> pd.DataFrame:
    """A pre-war wave (no war question), then four war waves; one lacks media_diet."""
    rng = np.random.default_rng(seed)
    frames = []
    for wave in WAVES:
        diet = rng.choice(["state_only", "independent_only", "inactive"], n).astype(object)
        eta = -0.5 + np.where(diet == "state_only", 1.0, -0.8)
        support = rng.random(n) < 1 / (1 + np.exp(-eta))
        war = np.where(support, "support", rng.choice(["oppose", "hard_to_say"], n))
        war = war.astype(object)
        war[rng.random(n) < 0.03] = None  # refusals
        diet[rng.random(n) < 0.03] = None  # refusals where the item was asked
        if wave == WAVES[0]:
            war[:] = None
        if wave == NO_MEDIA:
            diet[:] = None
        frame = pd.DataFrame({
            "wave": wave, "resp_id": [f"{wave}-{i}" for i in range(n)],
            "sex": rng.choice(["male", "female"], n),
            "media_diet": pd.array(diet, dtype="str"),
            "war_support": pd.array(war, dtype="str"),
            "alliance": rng.choice(["russia", "eu", "both", "outside"], n),
            "attitude_russia": rng.choice(["good", "bad"], n),
            **{f"attitude_{c}": rng.choice(["good", "bad"], n)
               for c in ("ukraine", "poland", "eu")},
            "attitude_usa": pd.array([None] * n if wave == "2023-03" else
                                     rng.choice(["good", "bad"], n), dtype="str"),
            "weight": rng.lognormal(0, 0.3, n),
        })  # fmt: skip
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def pooled() -> pd.DataFrame:
    return make_pooled()


@pytest.fixture(scope="module")
def sub(pooled) -> dict[str, pd.DataFrame]:
    return subgroup_model(pooled, dates=DATES, variables=VARIABLES)


def test_subgroup_model_runs_on_the_waves_that_asked_every_term(pooled, sub):
    waves = sub["waves"].set_index("wave")
    assert list(sub["waves"].columns) == MODEL_WAVES_COLUMNS
    assert list(waves.index) == WAVES
    assert not waves.loc[NO_MEDIA, "used"] and not waves.loc[WAVES[0], "used"]
    assert waves.loc[NO_MEDIA, "not_asked"] == "media_diet"
    assert "media_diet is not asked" in waves.loc[NO_MEDIA, "reason"]
    assert "subgroup model" in waves.loc[NO_MEDIA, "reason"]
    assert waves.loc[WAVES[0], "not_asked"] == "war_support"
    assert waves.loc[["2022-03", "2023-03", "2023-11"], "used"].all()
    # the same fit as on the frame without the wave that lacks the item
    alone = subgroup_model(
        pooled.loc[pooled["wave"] != NO_MEDIA], dates=DATES, variables=VARIABLES
    )
    for key in ("terms", "predicted", "ame"):
        pd.testing.assert_frame_equal(sub[key], alone[key])
    # n counts the answers to the outcome in the waves used
    used = pooled["wave"].isin(["2022-03", "2023-03", "2023-11"])
    n = sub["predicted"].query("variable == 'sex'")["n"].sum()
    assert n == (used & pooled["war_support"].notna()).sum()


def test_exclusion_note_names_the_term_the_waves_and_the_model(sub):
    note = exclusion_note(sub["waves"])
    assert note == (
        f"media_diet is not asked in wave {NO_MEDIA}; that wave is left out of the subgroup model"
    )
    two = sub["waves"].copy()
    two.loc[two["wave"] == "2023-11", ["used", "not_asked"]] = (False, "media_diet")
    assert exclusion_note(two) == (
        f"media_diet is not asked in waves {NO_MEDIA}, 2023-11; those waves are left out of "
        "the subgroup model"
    )


def test_without_the_selection_the_rank_deficiency_error_names_the_term(pooled):
    data = pooled.loc[pooled["war_support"].notna()].copy()
    data["wave"] = pd.Categorical(data["wave"])  # as the models code it: every wave a level
    data["y"] = (data["war_support"] == "support").astype(float).where(data["war_support"].notna())
    with pytest.raises(InputError, match=r"term wave has no cases \(column wave\[T\.2022-08\]\)"):
        weighted_logit(data, "y ~ wave + sex + media_diet", "weight", strata="wave")
    data["sex2"] = data["sex"]
    with pytest.raises(InputError, match="term sex2 is collinear with earlier terms"):
        weighted_logit(data, "y ~ sex + sex2", "weight", strata="wave")
    with pytest.raises(InputError, match=r"term C\(wave\) has no cases"):
        weighted_mnlogit(data, "alliance ~ C(wave) + C(media_diet)", "weight", strata="wave")


def test_too_few_waves_is_an_error_naming_the_term_and_waves(pooled):
    few = pooled.loc[pooled["wave"].isin(WAVES[:3])]
    with pytest.raises(InputError) as err:
        subgroup_model(few, dates=DATES, variables=VARIABLES)
    msg = str(err.value)
    assert "subgroup model needs at least 2 waves" in msg
    assert f"media_diet is not asked in wave {NO_MEDIA}" in msg
    assert "models.subgroups" in msg


def test_a_term_with_one_level_left_is_named(pooled):
    one = pooled.assign(sex="female")
    with pytest.raises(InputError, match="sex cannot be estimated in the subgroup model"):
        subgroup_model(one, dates=DATES, variables=VARIABLES)


def test_trend_models_record_the_waves_without_the_question(pooled):
    res = trend_models(pooled, dates=DATES, outcome_category="support", spline_df=2, grid=5)
    waves = res["waves"].set_index("wave")
    assert not waves.loc[WAVES[0], "used"] and waves.drop(WAVES[0])["used"].all()
    assert set(res["predictions"].dropna(subset=["wave"])["wave"]) == set(WAVES[1:])
    assert exclusion_note(res["waves"]) == ""  # the outcome itself was not asked: no note


def test_attitudes_leave_out_only_the_country_not_asked(pooled):
    res = attitudes_by_stance(pooled, countries={"russia": "attitude_russia",
                                                 "usa": "attitude_usa"})  # fmt: skip
    waves = res["waves"].set_index("wave")
    assert waves.loc["2023-03", "used"] and waves.loc["2023-03", "not_asked"] == "attitude_usa"
    assert "left out of the attitudes-by-stance comparison there" in waves.loc["2023-03", "reason"]
    assert ("2023-03", "usa") not in set(
        zip(res["shares"]["wave"], res["shares"]["country"], strict=True)
    )
    assert ("2023-03", "russia") in set(
        zip(res["shares"]["wave"], res["shares"]["country"], strict=True)
    )


def test_alliance_selection_and_the_model_waves_table(pooled, tmp_path):
    data, cov = select_waves(pooled, "alliance", ["alliance", *VARIABLES], min_waves=2)
    assert NO_MEDIA not in set(data["wave"]) and WAVES[0] in set(data["wave"])
    fit = weighted_mnlogit(data, "alliance ~ C(wave) + C(sex) + C(media_diet)", "weight",
                           strata="wave")  # fmt: skip
    assert set(fit.predicted_shares(by="wave")["wave"]) == set(WAVES) - {NO_MEDIA}
    coverages = []
    for wave, frame in pooled.groupby("wave"):
        path = tmp_path / f"{wave}.parquet"
        if wave == NO_MEDIA:  # a wave file without the column at all: not asked there
            frame = frame.drop(columns="media_diet")
        files.write_parquet(frame, path, {"wave": str(wave), "simulated": "true"})
        coverages.append(tmp_path / f"{wave}.coverage.csv")
        run_wave_model_coverage(path, {"subgroups": VARIABLES}, coverages[-1])
    out = tmp_path / "model_waves.csv"
    run_model_waves(coverages[::-1], {"subgroups": VARIABLES}, out)  # any file order
    table = pd.read_csv(out, dtype={"wave": "string"}, keep_default_na=False)
    expected = coverage_table(pooled, {"subgroups": VARIABLES})
    assert list(table.columns) == [*MODEL_WAVES_COLUMNS, "simulated"]
    assert (table["simulated"].astype(str) == "True").all()
    assert len(table) == 4 * len(WAVES) == len(expected)
    got = table[MODEL_WAVES_COLUMNS].astype(str).reset_index(drop=True)
    want = expected.astype(str).replace({"nan": "", "<NA>": ""}).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)  # per-wave tables, stacked = the pooled table
    left_out = table.loc[table["used"].astype(str) == "False"]
    assert set(zip(left_out["model"], left_out["wave"], strict=True)) == {
        ("trend", WAVES[0]), ("subgroup", WAVES[0]), ("subgroup", NO_MEDIA),
        ("alliance", NO_MEDIA), ("attitudes_by_stance", WAVES[0]),
    }  # fmt: skip


def test_model_waves_refuses_a_coverage_table_of_other_settings(tmp_path):
    path = tmp_path / "2023-03.csv"
    pd.DataFrame(
        [("gone_model", "war_support", "2023-03", True, "", "", True)],
        columns=[*MODEL_WAVES_COLUMNS, "simulated"],
    ).to_csv(path, index=False)
    with pytest.raises(InputError, match="models the settings do not have") as err:
        run_model_waves([path], {"subgroups": VARIABLES}, tmp_path / "out.csv")
    assert "gone_model" in str(err.value) and not (tmp_path / "out.csv").exists()
