"""Tests for pollwaves.intake.harmonise: raw delivery -> canonical wave frame."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pollwaves.config import load_yaml
from pollwaves.errors import InputError
from pollwaves.intake.harmonise import frame_columns, harmonise_wave, harmonise_with_raw
from pollwaves.intake.mapping import check_wave_against_codebook, raking_sources
from pollwaves.intake.readers import Delivery, read_delivery

ROOT = Path(__file__).resolve().parents[2]
# The project codebook (parsed only): the label tests exercise its real patterns.
CODEBOOK = load_yaml(ROOT / "config" / "codebook.yaml")
FILE = "data/raw/waves/2022-03.sav"

ATT = {1: "good", 2: "bad", 98: "hard_to_say"}


def _cfg(**changes) -> dict:
    cfg = {
        "wave": "2022-03",
        "file": FILE,
        "format": "sav",
        "id_column": "id",
        "missing_codes": [99],
        "missing_labels": ["^отказ", "^refus"],
        "columns": {
            "id": {"variable": "resp_id"},
            "dur_s": {"variable": "duration_sec"},
            "q1": {"variable": "sex", "values": {1: "male", 2: "female"}},
            "q2": {"variable": "age_group", "labels": True},
            "q3": {"variable": "education", "labels": True},
            "q4": {"variable": "settlement", "values": {1: "minsk", 2: "oblast_centre"}},
            "q5": {"variable": "oblast", "labels": True},
            "q6": {"variable": "media_diet", "labels": True},
            "q7": {"variable": "authorities", "values": {1: "supporter", 2: "neutral"}},
            "q8": {
                "variable": "war_support",
                "values": {1: "support", 2: "partly", 3: "oppose", 98: "hard_to_say"},
            },
            "q9": {"variable": "attitude_russia", "values": dict(ATT)},
        },
    }
    cfg.update(changes)
    return cfg


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [30, 10, 20],
            "dur_s": [300.0, 120.5, np.nan],
            "q1": [1, 2, 1],
            "q2": ["18-24", "55 и старше", "25 – 34"],
            "q3": ["Высшее", "Vocational school", "General secondary or lower"],
            "q4": [1, 2, 2],
            "q5": ["г. Минск", "Brest Oblast", "Гомельская область"],
            "q6": ["Только независимые СМИ", "state media only", "Отказ от ответа"],
            "q7": [1, 2, 99],
            "q8": [1, 98, 99],
            "q9": ["1", "2.0", " 98 "],
        }
    )


def _delivery(frame: pd.DataFrame | None = None, labels: dict | None = None) -> Delivery:
    frame = _frame() if frame is None else frame
    return Delivery(frame, labels or {}, {"format": "csv"})


def test_output_columns_dtypes_and_order():
    out = harmonise_wave(_delivery(), _cfg(), CODEBOOK)
    assert list(out.columns) == frame_columns(CODEBOOK)
    assert out.columns[:5].tolist() == ["wave", "resp_id", "duration_sec", "vendor_weight", "sex"]
    assert out["resp_id"].tolist() == ["10", "20", "30"]  # sorted, ids as strings
    assert out["duration_sec"].dtype == "float64"
    assert out["duration_sec"].iloc[0] == 120.5 and out["duration_sec"].iloc[2] == 300.0
    assert np.isnan(out["duration_sec"].iloc[1])
    # no weight delivered: an all-NA float column
    assert out["vendor_weight"].dtype == "float64" and out["vendor_weight"].isna().all()
    for col in out.columns.drop(["duration_sec", "vendor_weight"]):
        assert out[col].dtype == "str", col
    assert out["wave"].unique().tolist() == ["2022-03"]
    assert isinstance(out.index, pd.RangeIndex)


def test_values_labels_and_missing():
    out = harmonise_wave(_delivery(), _cfg(), CODEBOOK).set_index("resp_id")
    assert out.loc["30", "sex"] == "male" and out.loc["10", "sex"] == "female"
    assert out["age_group"].to_dict() == {"10": "55_plus", "20": "25_34", "30": "18_24"}
    assert out["education"].to_dict() == {"10": "vocational", "20": "secondary", "30": "higher"}
    assert out["oblast"].to_dict() == {"10": "brest", "20": "gomel", "30": "minsk_city"}
    assert out.loc["30", "media_diet"] == "independent_only"
    assert pd.isna(out.loc["20", "media_diet"])  # missing_labels
    assert pd.isna(out.loc["20", "authorities"])  # missing_codes
    assert out.loc["10", "war_support"] == "hard_to_say"  # 98 is substantive
    assert pd.isna(out.loc["20", "war_support"])  # 99 refusal
    # text codes "1", "2.0", " 98 " match int keys 1, 2, 98
    assert out["attitude_russia"].to_dict() == {"10": "bad", "20": "hard_to_say", "30": "good"}
    # questions not mapped in this wave are all-NA
    assert out["alliance"].isna().all() and out["belarus_army_participation"].isna().all()


def test_string_keys_match_numeric_cells_and_null_is_missing():
    cfg = _cfg()
    cfg["columns"]["q9"]["values"] = {"1": "good", "2": "bad", "98": None}
    out = harmonise_wave(_delivery(_frame().assign(q9=[1.0, 2, 98])), cfg, CODEBOOK)
    assert out["attitude_russia"].isna().tolist() == [False, True, False]
    assert out["attitude_russia"].iloc[0] == "bad" and out["attitude_russia"].iloc[2] == "good"


def test_value_labels_matched_in_russian_and_english():
    frame = _frame().assign(q2=[1, 2, 3], q9=[1, 2, 3])
    cfg = _cfg()
    cfg["columns"]["q9"] = {"variable": "attitude_russia", "labels": True}
    labels = {
        "q2": {1.0: "18 - 24", 2.0: "55 and older", 3.0: "35-44"},
        "q9": {1.0: "Скорее хорошо", 2.0: "Very bad", 3.0: "ОТКАЗ"},
    }
    out = harmonise_wave(_delivery(frame, labels), cfg, CODEBOOK).set_index("resp_id")
    assert out["age_group"].to_dict() == {"30": "18_24", "10": "55_plus", "20": "35_44"}
    assert out.loc["30", "attitude_russia"] == "good"
    assert out.loc["10", "attitude_russia"] == "bad"
    assert pd.isna(out.loc["20", "attitude_russia"])


def _error(frame=None, cfg=None, labels=None) -> InputError:
    with pytest.raises(InputError) as err:
        harmonise_wave(_delivery(frame, labels), cfg or _cfg(), CODEBOOK)
    return err.value


def _assert_located(err: InputError, column: str, respondent: str, value) -> str:
    msg = str(err)
    assert "2022-03" in msg and FILE in msg
    assert f"column={column}" in msg and f"respondent={respondent}" in msg
    assert repr(value) in msg
    assert "How to fix" in msg
    assert (err.wave, err.file, err.column, err.respondent, err.value) == (
        "2022-03",
        FILE,
        column,
        respondent,
        value,
    )
    return msg


def test_unmapped_value_error():
    err = _error(_frame().assign(q8=[1, 7, 2]))
    msg = _assert_located(err, "q8", "10", 7)
    assert "add 7: <category> to columns.q8.values in config/waves/2022-03.yaml" in msg
    assert "support, partly, oppose, hard_to_say" in msg


def test_unmapped_value_error_shows_value_label():
    labels = {"q8": {7.0: "Не знаю"}}
    err = _error(_frame().assign(q8=[1.0, 1.0, 7.0]), labels=labels)
    msg = _assert_located(err, "q8", "20", 7)
    assert "Не знаю" in msg


def test_label_matching_no_category():
    msg = _assert_located(
        _error(_frame().assign(q3=["Высшее", "PhD", "Высшее"])), "q3", "10", "PhD"
    )
    assert "matches no category" in msg and "education" in msg


def test_ambiguous_label_is_an_error():
    frame = _frame().assign(q3=["Высшее", "Высшее", "Общее среднее специальное"])
    msg = _assert_located(_error(frame), "q3", "20", "Общее среднее специальное")
    assert "several categories (secondary, vocational)" in msg


def test_code_without_value_label():
    frame = _frame().assign(q2=[1, 2, 5])
    labels = {"q2": {1: "18-24", 2: "25-34"}}
    msg = _assert_located(_error(frame, labels=labels), "q2", "20", 5)
    assert "no value label" in msg


def test_missing_raw_column_lists_available():
    err = _error(_frame().drop(columns="q5"))
    msg = str(err)
    assert err.column == "q5" and "2022-03" in msg and FILE in msg
    assert "available: id, dur_s, q1, q2, q3, q4, q6" in msg


def test_duplicate_id_names_both_rows():
    err = _error(_frame().assign(id=[5, 6, 5.0]))
    msg = _assert_located(err, "id", "5", "5")
    assert "rows 1 and 3" in msg and err.row == 3


def test_empty_id():
    err = _error(_frame().assign(id=pd.Series(["a", None, "c"], dtype="str")))
    assert err.row == 2 and err.column == "id" and "empty respondent id" in str(err)


def test_non_numeric_duration():
    err = _error(_frame().assign(dur_s=pd.Series(["300", "5 min", None], dtype=object)))
    _assert_located(err, "dur_s", "10", "5 min")


def test_unknown_category_in_config_is_caught():
    cfg = _cfg()
    cfg["columns"]["q1"]["values"] = {1: "man", 2: "female"}
    err = _error(cfg=cfg)
    assert err.key == "columns.q1.values.1" and "config/waves/2022-03.yaml" in str(err)


def test_input_not_mutated():
    frame = _frame()
    cfg = _cfg()
    before_frame, before_cfg = frame.copy(), copy.deepcopy(cfg)
    harmonise_wave(_delivery(frame), cfg, CODEBOOK)
    pd.testing.assert_frame_equal(frame, before_frame)
    assert cfg == before_cfg


def test_sav_file_end_to_end(tmp_path):
    raw = pd.DataFrame(
        {
            "id": [2, 1],
            "dur_s": [250.0, 400.0],
            "q1": [2, 1],
            "q2": [1, 5],
            "q3": [3, 1],
            "q4": [1, 2],
            "q5": [1, 2],
            "q6": [3, 4],
            "q7": [1, 2],
            "q8": [3, 99],
            "q9": [98, 1],
        }
    )
    value_labels = {
        "q2": {1: "18-24", 5: "55+"},
        "q3": {1: "Общее среднее или ниже", 3: "Высшее (включая неоконченное)"},
        "q5": {1: "г. Минск", 2: "Могилёвская область"},
        "q6": {3: "И государственные, и независимые", 4: "Неактивный пользователь"},
        "q8": {3: "Не поддерживаю", 99: "Отказ"},
    }
    path = tmp_path / "2022-03.sav"
    pyreadstat.write_sav(
        raw, path, variable_value_labels=value_labels, missing_ranges={"q8": [99]}
    )
    out = harmonise_wave(read_delivery(path, "sav"), _cfg(), CODEBOOK, file=str(path))
    assert out["resp_id"].tolist() == ["1", "2"]
    assert out["age_group"].tolist() == ["55_plus", "18_24"]
    assert out["education"].tolist() == ["secondary", "higher"]
    assert out["oblast"].tolist() == ["mogilev", "minsk_city"]
    assert out["media_diet"].tolist() == ["inactive", "both"]
    assert out["war_support"].isna().tolist() == [True, False]
    assert out["war_support"].iloc[1] == "oppose"
    assert out["attitude_russia"].tolist() == ["good", "hard_to_say"]


def test_cp1251_csv_end_to_end(tmp_path):
    text = (
        "ид,время,пол,возраст,образование,тип,регион,сми,власть,война,россия\n"
        "b2,301,Женский,25-34,Высшее,1,Витебская область,Почти не слежу,1,Отчасти,Хорошо\n"
        "a1,99,мужской,55+,Среднее специальное,2,Brest,Both,2,Затрудняюсь ответить,Отказ\n"
    )
    path = tmp_path / "2022-03.csv"
    path.write_bytes(text.encode("cp1251"))
    cfg = _cfg(id_column="ид", format="csv", encoding="cp1251")
    cfg["columns"] = {
        "ид": {"variable": "resp_id"},
        "время": {"variable": "duration_sec"},
        "пол": {"variable": "sex", "labels": True},
        "возраст": {"variable": "age_group", "labels": True},
        "образование": {"variable": "education", "labels": True},
        "тип": {"variable": "settlement", "values": {"1": "minsk", "2": "other_town"}},
        "регион": {"variable": "oblast", "labels": True},
        "сми": {"variable": "media_diet", "labels": True},
        "власть": {"variable": "authorities", "values": {1: "supporter", 2: "opponent"}},
        "война": {"variable": "war_support", "labels": True},
        "россия": {"variable": "attitude_russia", "labels": True},
    }
    out = harmonise_wave(read_delivery(path, "csv", encoding="cp1251"), cfg, CODEBOOK)
    assert out["resp_id"].tolist() == ["a1", "b2"]
    assert out["duration_sec"].tolist() == [99.0, 301.0]  # 99 s is a duration, not a refusal
    assert out["sex"].tolist() == ["male", "female"]
    assert out["education"].tolist() == ["vocational", "higher"]
    assert out["oblast"].tolist() == ["brest", "vitebsk"]
    assert out["media_diet"].tolist() == ["both", "inactive"]
    assert out["settlement"].tolist() == ["other_town", "minsk"]
    assert out["authorities"].tolist() == ["opponent", "supporter"]
    assert out["war_support"].tolist() == ["hard_to_say", "partly"]
    assert pd.isna(out["attitude_russia"].iloc[0]) and out["attitude_russia"].iloc[1] == "good"


def test_xlsx_end_to_end_with_english_text(tmp_path):
    frame = _frame().assign(
        q1=[" Male", "FEMALE", "female"], q9=["Mostly good", "Hard to say", "refused"]
    )
    path = tmp_path / "2022-03.xlsx"
    frame.to_excel(path, index=False, sheet_name="data")
    cfg = _cfg(format="xlsx", sheet="data")
    cfg["columns"]["q1"] = {"variable": "sex", "labels": True}
    cfg["columns"]["q9"] = {"variable": "attitude_russia", "labels": True}
    out = harmonise_wave(read_delivery(path, "xlsx", sheet="data"), cfg, CODEBOOK)
    assert out["sex"].tolist() == ["female", "female", "male"]
    assert out["attitude_russia"].iloc[0] == "hard_to_say"
    assert pd.isna(out["attitude_russia"].iloc[1])
    assert out["attitude_russia"].iloc[2] == "good"


def test_variable_mapped_twice_is_an_error():
    cfg = _cfg()
    cfg["columns"]["q9"] = {"variable": "war_support", "values": {1: "support"}}
    err = _error(cfg=cfg)
    assert err.key == "columns.q9.variable" and "'q8', 'q9'" in str(err)


# --- items not asked, required variables -----------------------------------------------------


def test_absent_and_not_asked_variables_are_all_na():
    cfg = _cfg(not_asked=["media_diet", "alliance"])
    del cfg["columns"]["q6"], cfg["columns"]["q7"]  # media_diet not asked, authorities absent
    out = harmonise_wave(_delivery(), cfg, CODEBOOK)
    for var in ("media_diet", "authorities", "alliance"):
        assert out[var].isna().all() and out[var].dtype == "str", var
    assert out["sex"].notna().all()


@pytest.mark.parametrize(
    ("not_asked", "required", "text"),
    [
        (["media_diet"], ("resp_id",), "mapped from column 'q6'"),
        (["religion"], ("resp_id",), "not in the codebook"),
        (["settlement"], ("resp_id", "settlement"), "required of every wave"),
    ],
)
def test_bad_not_asked_is_refused(not_asked, required, text):
    cfg = _cfg(not_asked=not_asked)
    del cfg["columns"]["q4"]  # settlement
    with pytest.raises(InputError) as err:
        check_wave_against_codebook(cfg, CODEBOOK, source="config/waves/2022-03.yaml",
                                    required=required)  # fmt: skip
    msg = str(err.value)
    assert text in msg and err.value.key == "not_asked.0"
    assert "wave=2022-03" in msg and "config/waves/2022-03.yaml" in msg and "How to fix" in msg


def test_only_required_variables_must_be_mapped():
    cfg = _cfg()
    del cfg["columns"]["q4"], cfg["columns"]["q5"]  # settlement, oblast
    check_wave_against_codebook(cfg, CODEBOOK, source="w.yaml", required=["resp_id", "sex"])
    with pytest.raises(InputError) as err:
        check_wave_against_codebook(cfg, CODEBOOK, source="w.yaml",
                                    required=["resp_id", "settlement"])  # fmt: skip
    assert "required variable 'settlement' is not mapped" in str(err.value)
    assert "weighting.variables" in str(err.value)


def test_raking_sources_expand_derived_columns():
    margins_yaml = {
        "margins": {
            "sex_age": {"derived_from": ["sex", "age_group"], "targets": {}},
            "education": {"targets": {}},
        }
    }
    loaded = {"targets": {}, "derived": {"sex_age": ["sex", "age_group"]}}
    variables = ["sex_age", "education", "settlement"]
    expected = ["sex", "age_group", "education", "settlement"]
    assert raking_sources(variables, margins_yaml) == expected
    assert raking_sources(variables, loaded) == expected
    assert raking_sources(["sex", "sex_age"], loaded) == ["sex", "age_group"]


# --- derived variables: age in years ---------------------------------------------------------


def _years(ages, labels=None, **changes) -> pd.DataFrame:
    cfg = _cfg(**changes)
    cfg["columns"]["q2"] = {"variable": "age_group", "derive": "years"}
    delivery = _delivery(_frame().assign(q2=ages), labels)
    return harmonise_wave(delivery, cfg, CODEBOOK).set_index("resp_id")["age_group"]


def test_age_in_years_derives_the_age_group():
    out = _years([24, 55.0, "35"])  # ids 30, 10, 20
    assert out.to_dict() == {"10": "55_plus", "20": "35_44", "30": "18_24"}
    assert _years([18, 104, 25]).to_dict() == {"10": "55_plus", "20": "25_34", "30": "18_24"}
    # missing codes and empty cells are NA; a labelled refusal code is NA too
    out = _years([99, np.nan, 97], labels={"q2": {97: "Отказ от ответа"}})
    assert out.isna().all()


@pytest.mark.parametrize(
    ("ages", "respondent", "value", "text"),
    [
        ([30, 16, 40], "10", 16, "outside every band"),
        ([30, 40, 130], "20", 130, "outside the plausible range [14, 110]"),
        ([30, 24.5, 40], "10", 24.5, "not a whole number"),
        ([30, 40, "сорок"], "20", "сорок", "not a number"),
    ],
)
def test_age_in_years_refuses_bad_values(ages, respondent, value, text):
    with pytest.raises(InputError) as err:
        _years(pd.Series(ages, dtype=object))
    msg = _assert_located(err.value, "q2", respondent, value)
    assert text in msg and "age_group" in msg and err.value.key == "columns.q2.derive"
    assert "18_24 18-24" in msg or "missing_codes" in msg


def test_labelled_non_number_code_in_a_derived_column_is_an_error():
    with pytest.raises(InputError) as err:
        _years([30, 98, 40], labels={"q2": {98: "Затрудняюсь ответить"}})
    msg = _assert_located(err.value, "q2", "10", 98)
    assert "Затрудняюсь ответить" in msg and "add 98 to missing_codes" in msg


def test_unknown_derive_rule_is_refused():
    cfg = _cfg()
    cfg["columns"]["q3"] = {"variable": "education", "derive": "years"}
    err = _error(cfg=cfg)
    assert err.key == "columns.q3.derive" and "no derive rule 'years'" in str(err)


# --- the vendor's weight ---------------------------------------------------------------------


def _weighted(weights) -> pd.DataFrame:
    cfg = _cfg()
    cfg["columns"]["wt"] = {"variable": "vendor_weight"}
    frame = _frame().assign(wt=pd.Series(weights, dtype=object))
    return harmonise_wave(_delivery(frame), cfg, CODEBOOK)


def test_vendor_weight_is_copied_as_float_after_duration():
    out = _weighted([1.25, "0,8", None]).set_index("resp_id")  # ids 30, 10, 20
    assert out.columns.tolist().index("vendor_weight") == 2  # after wave (index), duration_sec
    assert out["vendor_weight"].dtype == "float64"
    assert out.loc["30", "vendor_weight"] == 1.25 and out.loc["10", "vendor_weight"] == 0.8
    assert np.isnan(out.loc["20", "vendor_weight"])


@pytest.mark.parametrize(("bad", "text"), [(0, "not positive"), (-1.5, "not positive"),
                                           ("n/a", "not a number")])  # fmt: skip
def test_bad_vendor_weight_names_the_respondent(bad, text):
    with pytest.raises(InputError) as err:
        _weighted([1.0, 1.1, bad])
    msg = _assert_located(err.value, "wt", "20", bad)
    assert text in msg and "vendor_weight" in msg


# --- raw answer codes for straight-lining ----------------------------------------------------


def test_raw_codes_follow_the_frame_and_keep_the_questionnaire_scale():
    cfg = _cfg()
    cfg["columns"]["q9"]["values"] = {1: "good", 2: "good", 3: "bad", 98: "hard_to_say"}
    cfg["columns"]["q8"] = {"variable": "attitude_ukraine", "labels": True}
    frame = _frame().assign(q9=[2, 1, 99], q8=["Скорее  хорошо", "ХОРОШО", "Отказ"])
    items = ["attitude_russia", "attitude_ukraine", "attitude_usa"]
    out, raw = harmonise_with_raw(_delivery(frame), cfg, CODEBOOK, raw_codes=items)
    assert raw.columns.tolist() == ["resp_id", *items]
    assert raw["resp_id"].tolist() == out["resp_id"].tolist() == ["10", "20", "30"]
    assert out["attitude_russia"].tolist()[::2] == ["good", "good"]  # both "good" ...
    assert raw["attitude_russia"].tolist()[::2] == ["1", "2"]  # ... with different raw codes
    assert raw["attitude_ukraine"].tolist()[::2] == ["хорошо", "скорее хорошо"]
    assert raw.loc[1, ["attitude_russia", "attitude_ukraine"]].isna().all()  # refusals
    assert raw["attitude_usa"].isna().all()  # not asked
    assert (raw.dtypes == "str").all()
