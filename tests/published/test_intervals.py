"""Tests for pollwaves.published.intervals: the interval each published cell implies."""

from __future__ import annotations

import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.published.intervals import INTERVAL_COLUMNS, fraction_interval, implied_intervals

CONTRASTS = {"alliance": {"neutral": {"both": 1, "outside": 1}}}
WAR = {"war_support": {"gap": {"oppose": 1, "support": -1}}}


def frame(rows, wave="2023-11", question="alliance", n=868):
    out = []
    for category, relation, value, qualifier, percent, *lh in rows:
        low, high = lh or (value, 100.0 if qualifier == "lower_bound" else value)
        out.append(dict(
            wave=wave, question=question, category=category, relation=relation, value=value,
            low=low, high=high, qualifier=qualifier, percent=percent, subgroup_variable=None,
            source_url=f"https://example.org/{category}", n_respondents=n,
            fieldwork_start="2023-11-08", fieldwork_end="2023-11-14",
        ))  # fmt: skip
    return pd.DataFrame(out)


def one(res, category):
    row = res[res["category"] == category]
    assert len(row) == 1
    return row.iloc[0]


def test_nov_2023_neutral_upper_bound_from_the_complement():
    pub = frame([
        ("russia", "equals", 40.0, "exact", "40"),
        ("eu", "equals", 13.0, "exact", "13"),
        ("both", "equals", 25.0, "fraction", "1/4"),
    ])  # fmt: skip
    res = implied_intervals(pub, CONTRASTS)
    assert list(res.columns) == INTERVAL_COLUMNS
    neutral = one(res, "neutral")
    assert neutral["high"] == pytest.approx(100 - (40 - 0.5) - (13 - 0.5))
    assert neutral["low"] == pytest.approx(22.5)  # both >= midpoint of 1/5 and 1/4
    assert neutral["kind"] == "interval"
    assert "russia" in neutral["source_url"] and "both" in neutral["source_url"]
    both = one(res, "both")
    assert (both["kind"], both["low"]) == ("fraction", pytest.approx(22.5))
    assert both["high"] == pytest.approx(100 * (1 / 4 + 1 / 3) / 2)
    russia = one(res, "russia")
    assert (russia["kind"], russia["low"], russia["high"]) == ("rounded", 39.5, 40.5)


def test_bounds_are_rounded_and_tightened_by_the_other_cells():
    pub = frame([
        ("russia", "equals", 27.2, "exact", "27.2"),
        ("eu", "equals", 9.1, "exact", "9.1"),
        ("both", "equals", 41.0, "lower_bound", ">41"),
        ("outside", "equals", 23.0, "lower_bound", ">23"),
    ], wave="2020-09")  # fmt: skip
    res = implied_intervals(pub, CONTRASTS)
    russia = one(res, "russia")
    assert (russia["kind"], russia["low"], russia["high"]) == ("exact", 27.15, 27.25)
    both = one(res, "both")
    assert both["kind"] == "lower_bound" and both["low"] == 40.5
    assert both["high"] == pytest.approx(100 - 27.15 - 9.05 - 22.5)
    neutral = one(res, "neutral")
    assert neutral["low"] == pytest.approx(63.0)
    assert neutral["high"] == pytest.approx(100 - 27.15 - 9.05)
    assert pd.isna(neutral["value"])  # a sum of bounds is no point


def test_contrast_from_one_part_is_a_lower_bound_and_published_sum_is_used():
    res = implied_intervals(frame([("both", "equals", 31.0, "exact", "31")]), CONTRASTS)
    neutral = one(res, "neutral")
    assert (neutral["kind"], neutral["low"], neutral["high"]) == ("lower_bound", 30.5, 100.0)
    res = implied_intervals(frame([("both+outside", "sum_of", 41.0, "exact", "41")]), CONTRASTS)
    neutral = one(res, "neutral")
    assert (neutral["kind"], neutral["value"], neutral["low"]) == ("rounded", 41.0, 40.5)


def test_difference_contrast_needs_both_parts_and_uses_opposite_limits():
    rows = [("oppose", "equals", 40.0, "exact", "40"), ("support", "equals", 32.0, "exact", "32")]
    res = implied_intervals(frame(rows, question="war_support"), WAR)
    gap = one(res, "gap")
    assert (gap["value"], gap["low"], gap["high"]) == (8.0, 7.0, 9.0)
    res = implied_intervals(frame(rows[:1], question="war_support"), WAR)
    assert "gap" not in set(res["category"])


def test_part_of_row_is_a_lower_bound_and_an_equals_row_wins():
    rows = [("oppose", "part_of", 35.0, "exact", "35"), ("oppose", "equals", 43.0, "exact", "43")]
    res = implied_intervals(frame(rows, question="war_support"), {})
    oppose = one(res, "oppose")
    assert (oppose["kind"], oppose["low"], oppose["high"]) == ("rounded", 42.5, 43.5)
    res = implied_intervals(frame(rows[:1], question="war_support"), {})
    assert one(res, "oppose")["kind"] == "lower_bound"


def test_approximate_upper_bound_and_subgroups():
    pub = frame([
        ("good", "equals", 42.0, "approximate", "almost 42", 41.0, 42.0),
        ("bad", "equals", 20.0, "upper_bound", "<20", 0.0, 20.0),
    ], question="attitude_eu")  # fmt: skip
    sub = frame([("good", "equals", 7.0, "exact", "7")], question="attitude_eu")
    sub["subgroup_variable"] = "media_diet"
    res = implied_intervals(pd.concat([pub, sub]), {})
    good, bad = one(res, "good"), one(res, "bad")
    assert (good["kind"], good["low"], good["high"]) == ("approximate", 40.5, 42.0)
    assert (bad["kind"], bad["low"], bad["high"]) == ("upper_bound", 0.0, 20.5)


def test_fraction_interval_and_bad_input():
    assert fraction_interval(1, 2) == pytest.approx((45.0, 55.0))  # neighbours 2/5, 3/5
    assert fraction_interval(1, 3) == pytest.approx(
        (100 * (1 / 4 + 1 / 3) / 2, 100 * 0.5 * (1 / 3 + 2 / 5))
    )
    with pytest.raises(InputError):
        fraction_interval(3, 2)
    with pytest.raises(InputError):
        implied_intervals(frame([("both", "equals", 31.0, "exact", "31")]).drop(columns="low"), {})
