"""The missing-value rule and feasibility checks shared by `weight` and check-wave."""

from __future__ import annotations

import shutil
import zlib

import numpy as np
import pandas as pd
import pytest
import yaml

from pollwaves.errors import InputError
from pollwaves.intake.raking import (
    check_wave_raking,
    prepare_raking,
    raking_problems,
    raking_setup,
    wave_seed,
)

MARGINS = {
    "total": 100.0,
    "targets": {
        "sex_age": {"m_y": 25.0, "m_o": 25.0, "f_y": 25.0, "f_o": 25.0},
        "edu": {"lo": 50.0, "hi": 50.0},
    },
    "derived": {"sex_age": ["sex", "age"]},
}
SETTINGS = {"variables": ["sex_age", "edu"], "min_respondents": 8, "seed": 5}


def _wave(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "wave": "2024-05",
            "resp_id": [f"{1000 + i}" for i in range(n)],
            "sex": np.tile(["m", "f"], n // 2),
            "age": np.repeat(["y", "o"], n // 2),
            "edu": rng.choice(["lo", "hi"], n),
        }
    ).astype("string")
    df.loc[[3, 17], "edu"] = pd.NA
    df.loc[[9], "sex"] = pd.NA
    return df


def test_setup_expands_derived_variables():
    targets, derived, sources = raking_setup(MARGINS, ["sex_age", "edu"])
    assert sources == ["sex", "age", "edu"] and derived == {"sex_age": ["sex", "age"]}
    with pytest.raises(InputError, match="no margin"):
        raking_setup(MARGINS, ["sex_age", "town"])


def test_wave_seed_is_stable_and_per_wave():
    assert wave_seed(5, "2024-05") == [5, zlib.crc32(b"2024-05")]
    assert wave_seed(5, "2024-05") != wave_seed(5, "2024-06")


def test_impute_fills_and_counts():
    df = _wave()
    work, info = prepare_raking(df, MARGINS, SETTINGS, wave="2024-05")
    again, _ = prepare_raking(df, MARGINS, SETTINGS, wave="2024-05")
    pd.testing.assert_frame_equal(work, again)
    assert len(work) == len(df) and not work[["sex", "age", "edu", "sex_age"]].isna().any().any()
    assert info["imputed"] == {"sex": 1, "age": 0, "edu": 2}
    assert info["dropped"] == {"sex": 0, "age": 0, "edu": 0} and info["n_dropped"] == 0
    assert work.loc[9, "sex_age"] == f"{work.loc[9, 'sex']}_y"


def test_drop_removes_the_respondents():
    work, info = prepare_raking(_wave(), MARGINS, {**SETTINGS, "missing": "drop"}, wave="2024-05")
    assert len(work) == 37 and info["n_dropped"] == 3
    assert info["dropped"] == {"sex": 1, "age": 0, "edu": 2}
    assert not {"1003", "1009", "1017"} & set(work["resp_id"])


def test_fail_names_wave_column_respondent_and_value():
    with pytest.raises(InputError) as err:
        prepare_raking(_wave(), MARGINS, {**SETTINGS, "missing": "fail"}, wave="2024-05")
    e = err.value
    assert (e.wave, e.column, e.respondent, e.value) == ("2024-05", "sex", "1009", "NA")
    problems = raking_problems(_wave(), MARGINS, {**SETTINGS, "missing": "fail"}, wave="2024-05")
    assert [(p.column, p.respondent) for p in problems] == [("sex", "1009"), ("edu", "1003")]
    assert "2 respondent(s)" in str(problems[1])


def test_too_few_respondents():
    with pytest.raises(InputError, match="wave 2024-05 has 6 respondents"):
        prepare_raking(_wave().iloc[18:24], MARGINS, SETTINGS, wave="2024-05")


def test_all_respondents_missing_a_raking_variable():
    df = _wave().assign(edu=pd.NA)
    problems = raking_problems(df, MARGINS, SETTINGS, wave="2024-05")
    assert len(problems) == 1 and problems[0].column == "edu"
    assert "all 40 respondents of wave 2024-05 miss the raking variable 'edu'" in str(problems[0])
    missing_column = raking_problems(df.drop(columns="age"), MARGINS, SETTINGS, wave="2024-05")
    assert [p.column for p in missing_column] == ["age", "edu"]


def test_categories_without_target_and_targets_without_respondents():
    df = _wave()
    df.loc[df["sex"] == "f", "age"] = "o"  # no f_y respondent
    df.loc[0, "edu"] = "phd"  # no target
    problems = raking_problems(df, MARGINS, {**SETTINGS, "missing": "drop"}, wave="2024-05")
    text = [str(p) for p in problems]
    assert any("no respondent of wave 2024-05 in category f_y of sex_age (from sex, age)" in t
               for t in text)  # fmt: skip
    extra = next(p for p in problems if p.value == "phd")
    assert extra.column == "edu" and extra.respondent == "1000" and "has no target" in str(extra)
    with pytest.raises(InputError, match="f_y"):
        prepare_raking(df.drop(index=0), MARGINS, {**SETTINGS, "missing": "drop"}, wave="2024-05")


def test_unknown_rule_is_an_error():
    problems = raking_problems(_wave(), MARGINS, {**SETTINGS, "missing": "guess"}, wave="2024-05")
    assert problems[0].key == "weighting.missing"


def test_check_wave_raking_reads_the_project_config(tmp_path, root):
    for rel in ["config/config.yaml", "config/margins.yaml", "workflow/schemas"]:
        src, dst = root / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    rng = np.random.default_rng(1)
    n = 200
    df = pd.DataFrame(
        {
            "resp_id": [str(i) for i in range(n)],
            "sex": rng.choice(["male", "female"], n),
            "age_group": rng.choice(["18_24", "25_34", "35_44", "45_54", "55_plus"], n),
            "education": rng.choice(["secondary", "vocational", "higher"], n),
            "settlement": rng.choice(["minsk", "oblast_centre", "other_town"], n),
        }
    ).astype("string")
    df.loc[5, "education"] = pd.NA
    assert check_wave_raking(df, "2024-05", tmp_path) == []
    cfg_path = tmp_path / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["weighting"]["missing"] = "fail"
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    [problem] = check_wave_raking(df, "2024-05", tmp_path)
    assert (problem.column, problem.respondent) == ("education", "5")
    few = check_wave_raking(df.iloc[6:9], "2024-05", tmp_path)
    assert any("wave 2024-05 has 3 respondents" in str(p) for p in few)
