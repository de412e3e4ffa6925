"""The by-value comparison of committed numeric files (tests/numeric_files.py)."""

from __future__ import annotations

import pytest
from numeric_files import PERCENT_ATOL, SHARE_ATOL, assert_same_values, value_differences

HEAD = "wave,question,category,share,target_percent\n"


def test_last_digit_noise_matches():
    a = HEAD + "2020-09,war,support,0.1234567895,support=26.80; oppose=8.70\n"
    b = HEAD + "2020-09,war,support,0.1234567894,support=26.80; oppose=8.70\n"
    assert value_differences(a, b, SHARE_ATOL) == []


@pytest.mark.parametrize(
    ("cell_a", "cell_b", "what"),
    [
        ("0.12345,x=1.00", "0.12346,x=1.00", "share"),  # 1e-5 apart: a real change
        ("0.12345,x=1.00", "0.12345,y=1.00", "text"),  # the text around a number
        ("0.12345,x=1.00", "0.12345,x=1.00; y=2", "count"),  # a number more
    ],
)
def test_real_differences_are_reported(cell_a, cell_b, what):
    a = HEAD + f"2020-09,war,support,{cell_a}\n"
    b = HEAD + f"2020-09,war,support,{cell_b}\n"
    diffs = value_differences(a, b, SHARE_ATOL)
    assert len(diffs) == 1, what
    assert "row 1" in diffs[0]


def test_percent_tolerance_is_one_unit_of_the_last_digit():
    a = HEAD + "2020-09,war,support,0.5,x=26.80\n"
    assert value_differences(a, a.replace("26.80", "26.81"), PERCENT_ATOL) == []
    assert value_differences(a, a.replace("26.80", "26.82"), PERCENT_ATOL) != []


def test_shape_differences_are_reported(tmp_path):
    a = HEAD + "2020-09,war,support,0.5,x=1\n"
    assert value_differences(a, a + "2020-09,war,oppose,0.5,x=1\n")[0].startswith("row counts")
    assert value_differences(a, a.replace("share", "value"))[0].startswith("headers")
    pa, pb = tmp_path / "a.csv", tmp_path / "b.csv"
    pa.write_text(a, encoding="utf-8")
    pb.write_text(a.replace("0.5", "0.6"), encoding="utf-8")
    with pytest.raises(AssertionError, match="differs .* by value"):
        assert_same_values(pa, pb)
