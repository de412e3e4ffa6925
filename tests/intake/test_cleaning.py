"""Tests for pollwaves.intake.cleaning: speeders, straight-liners, partial completes, log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.intake.cleaning import LOG_COLUMNS, STEPS, clean_wave

CATS = {"good": {}, "bad": {}, "hard_to_say": {}}
CODEBOOK = {
    "variables": {
        "resp_id": {"kind": "id"},
        "duration_sec": {"kind": "paradata"},
        "sex": {"kind": "demographic", "categories": {"male": {}, "female": {}}},
        "a1": {"kind": "question", "categories": CATS},
        "a2": {"kind": "question", "categories": CATS},
        "a3": {"kind": "question", "categories": CATS},
        "a4": {"kind": "question", "categories": CATS},
        "war": {"kind": "question", "categories": CATS},
    }
}
GRID = ["a1", "a2", "a3", "a4"]
CFG = {
    "min_duration_sec": 240,
    "straightlining": {"variables": GRID, "min_items": 3},
    "min_completeness": 0.75,
}


def _frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["resp_id", "duration_sec", "a1", "a2", "a3", "a4", "war"]
    df = pd.DataFrame(rows, columns=cols)
    df.insert(0, "wave", "2021-01")
    df.insert(3, "sex", "male")
    for col in df.columns:
        df[col] = df[col].astype("float64" if col == "duration_sec" else "str")
    return df


G, B, H, NA = "good", "bad", "hard_to_say", None
ROWS = [
    ("01", 300.0, G, B, G, B, NA),  # kept; "war" not asked in this wave
    ("02", 100.0, G, B, G, B, NA),  # speeder
    ("03", np.nan, G, B, H, B, NA),  # no duration: kept, flagged
    ("04", 500.0, G, G, G, G, NA),  # straight-liner
    ("05", 500.0, H, H, H, NA, NA),  # straight-liner on hard_to_say (3 answered)
    ("06", 500.0, B, B, NA, NA, NA),  # only 2 answered: not a straight-liner, but partial
    ("07", 239.9, G, G, G, G, NA),  # speeder first (also a straight-liner)
    ("08", 240.0, G, B, NA, B, NA),  # 3/4 answered = 0.75: kept
]


def _log(log: pd.DataFrame) -> dict[str, tuple[int, int, int, int]]:
    return {r.step: (r.n_before, r.n_removed, r.n_after, r.n_flagged) for r in log.itertuples()}


def test_each_step_counts_and_kept_rows():
    df = _frame(ROWS)
    kept, log = clean_wave(df, CFG, CODEBOOK, wave="2021-01")
    assert kept["resp_id"].tolist() == ["01", "03", "08"]
    assert list(log.columns) == LOG_COLUMNS
    assert log["step"].tolist() == STEPS
    assert (log["wave"] == "2021-01").all()
    assert _log(log) == {
        "speeders": (8, 2, 6, 0),
        "duration_missing": (6, 0, 6, 1),
        "straightliners": (6, 2, 4, 0),
        "partial_completes": (4, 1, 3, 0),
        "total": (8, 5, 3, 1),
    }
    for col in ["n_before", "n_removed", "n_after", "n_flagged"]:
        assert log[col].dtype == "int64"
    assert isinstance(kept.index, pd.RangeIndex)
    assert list(kept.columns) == list(df.columns)
    assert kept["duration_sec"].dtype == "float64" and kept["a1"].dtype == "str"


def test_pure_function_does_not_mutate_input():
    df = _frame(ROWS)
    before = df.copy()
    clean_wave(df, CFG, CODEBOOK, wave="2021-01")
    pd.testing.assert_frame_equal(df, before)


def test_completeness_counts_only_questions_asked_in_wave():
    rows = [
        ("1", 300.0, G, B, G, B, NA),
        ("2", 300.0, G, B, NA, NA, G),  # 3/5 = 0.6 < 0.75
        ("3", 300.0, G, B, G, B, H),  # hard_to_say counts as answered
        ("4", 300.0, G, B, G, NA, H),  # 4/5 = 0.8
    ]
    kept, log = clean_wave(_frame(rows), CFG, CODEBOOK, wave="2022-03")
    assert kept["resp_id"].tolist() == ["1", "3", "4"]
    assert _log(log)["partial_completes"] == (4, 1, 3, 0)


def test_null_rules_are_skipped():
    cfg = {"min_duration_sec": None, "straightlining": None, "min_completeness": None}
    kept, log = clean_wave(_frame(ROWS), cfg, CODEBOOK, wave="2021-01")
    assert len(kept) == len(ROWS)
    assert log["n_removed"].tolist() == [0, 0, 0, 0, 0]
    assert _log(log)["duration_missing"] == (8, 0, 8, 1)


def test_min_items_threshold():
    rows = [("1", 300.0, G, G, G, NA, NA), ("2", 300.0, G, G, G, G, NA)]
    cfg = {**CFG, "straightlining": {"variables": GRID, "min_items": 4}, "min_completeness": 0}
    kept, log = clean_wave(_frame(rows), cfg, CODEBOOK, wave="2021-01")
    assert kept["resp_id"].tolist() == ["1"]
    assert _log(log)["straightliners"] == (2, 1, 1, 0)


def test_empty_frame():
    kept, log = clean_wave(_frame([]), CFG, CODEBOOK, wave="2021-01")
    assert kept.empty
    assert log["n_after"].tolist() == [0, 0, 0, 0, 0]


def test_missing_grid_column_is_an_input_error():
    cfg = {**CFG, "straightlining": {"variables": [*GRID, "a9"], "min_items": 3}}
    with pytest.raises(InputError) as err:
        clean_wave(_frame(ROWS), cfg, CODEBOOK, wave="2021-01")
    assert err.value.column == "a9" and err.value.wave == "2021-01"
    assert "cleaning.straightlining.variables" in str(err.value)


def _raw(rows: list[tuple]) -> pd.DataFrame:
    """Raw answer codes: resp_id and the grid items, as harmonise_with_raw returns them."""
    return pd.DataFrame(rows, columns=["resp_id", *GRID]).astype("str")


def test_straightlining_compares_raw_codes_not_categories():
    # 1 = "good", 2 = "rather good", 3 = "rather bad", 4 = "bad", 98 = "hard to say"
    rows = [
        ("likes", 300.0, G, G, G, G, NA),  # every country well, with different raw codes
        ("ones", 300.0, G, G, G, G, NA),  # true straight-liner: code 1 on every item
        ("twos", 300.0, G, G, G, G, NA),  # true straight-liner: code 2 on every item
        ("mixed", 300.0, G, B, G, B, NA),
        ("dk", 300.0, H, H, H, NA, NA),  # 98 on the three answered items
        ("refusal", 300.0, G, G, G, NA, NA),  # 2, 2, 2 and a refusal: three answered
        ("short", 300.0, G, G, NA, NA, NA),  # only two answered
    ]
    raw = _raw(
        [
            ("twos", "2", "2", "2", "2"),  # any row order; matched by resp_id
            ("likes", "2", "1", "1", "1"),
            ("ones", "1", "1", "1", "1"),
            ("mixed", "1", "4", "1", "3"),
            ("dk", "98", "98", "98", None),
            ("refusal", "2", "2", "2", "99"),  # 99 is NA in the harmonised frame
            ("short", "1", "1", None, None),
        ]
    )
    cfg = {**CFG, "min_duration_sec": None, "min_completeness": None}
    kept, log = clean_wave(_frame(rows), cfg, CODEBOOK, wave="2021-01", raw_codes=raw)
    assert kept["resp_id"].tolist() == ["likes", "mixed", "short"]
    assert _log(log)["straightliners"] == (7, 4, 3, 0)
    # on the collapsed categories "likes" would have been dropped too
    kept, _ = clean_wave(_frame(rows), cfg, CODEBOOK, wave="2021-01")
    assert kept["resp_id"].tolist() == ["mixed", "short"]


def test_raw_codes_after_speeders_are_matched_by_respondent():
    rows = [("1", 100.0, G, G, G, G, NA), ("2", 300.0, G, G, G, G, NA)]
    raw = _raw([("1", "1", "1", "1", "1"), ("2", "1", "2", "1", "1")])
    kept, log = clean_wave(_frame(rows), CFG, CODEBOOK, wave="2021-01", raw_codes=raw)
    assert kept["resp_id"].tolist() == ["2"]
    assert _log(log)["speeders"][1] == 1 and _log(log)["straightliners"][1] == 0


def test_raw_codes_missing_a_respondent_or_an_item():
    rows = [("1", 300.0, G, B, G, B, NA), ("2", 300.0, G, B, G, B, NA)]
    with pytest.raises(InputError) as err:
        clean_wave(_frame(rows), CFG, CODEBOOK, wave="2021-01",
                   raw_codes=_raw([("1", "1", "2", "1", "2")]))  # fmt: skip
    assert err.value.respondent == "2" and "respondent=2" in str(err.value)
    with pytest.raises(InputError) as err:
        raw = _raw([("1", "1", "2", "1", "2"), ("2", "1", "2", "1", "2")]).drop(columns="a4")
        clean_wave(_frame(rows), CFG, CODEBOOK, wave="2021-01", raw_codes=raw)
    assert err.value.column == "a4" and err.value.wave == "2021-01"


def test_vendor_weight_does_not_count_for_completeness():
    codebook = {"variables": {**CODEBOOK["variables"], "vendor_weight": {"kind": "weight"}}}
    df = _frame([("1", 300.0, G, B, G, NA, NA), ("2", 300.0, G, B, G, B, NA)])
    df.insert(3, "vendor_weight", np.nan)
    cfg = {**CFG, "straightlining": None}
    kept, log = clean_wave(df, cfg, codebook, wave="2021-01")
    assert kept["resp_id"].tolist() == ["1", "2"] and "vendor_weight" in kept
    assert _log(log)["partial_completes"] == (2, 0, 2, 0)
