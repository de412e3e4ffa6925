"""NCHS 2017 presentation flags on hand-made inputs."""

from __future__ import annotations

import numpy as np

from pollwaves.survey.reliability import FLAG_CODES, nchs_flags


def _flag(p, se, n=1000, df=999):
    return nchs_flags(np.array([p]), np.array([se]), np.array([n]), np.array([df]))[0]


def test_precise_estimate_is_presented():
    assert _flag(0.40, 0.01) == ""


def test_small_effective_n_is_suppressed():
    # n_eff = p(1-p)/se^2 = 0.25 / 0.01 = 25 < 30
    assert _flag(0.5, 0.1) == "suppress_n_eff"


def test_wide_interval_is_suppressed():
    # n_eff = 0.25/0.0064 = 39 (>= 30) but the Korn-Graubard width is about 0.31
    assert _flag(0.5, 0.08) == "suppress_width"


def test_relative_width_rule_applies_to_small_shares():
    # p = 0.06 with se 0.025: n_eff ~ 90, width ~ 0.11 < 0.30 but relative width > 1.30
    assert _flag(0.06, 0.025) == "suppress_relative_width"


def test_complement_footnote_and_review_flags():
    assert _flag(0.94, 0.025) == "footnote_complement"
    assert _flag(0.40, 0.01, df=5) == "review_df"
    assert _flag(0.0, 0.0, n=200) == "review_0_100"
    assert _flag(0.0, 0.0, n=20) == "suppress_n_eff"


def test_flag_codes_are_documented():
    flags = nchs_flags(
        np.array([0.4, 0.5, 0.06, 0.94]),
        np.array([0.01, 0.1, 0.025, 0.025]),
        np.full(4, 1000),
        np.full(4, 999),
    )
    for f in flags:
        for code in filter(None, f.split(";")):
            assert code in FLAG_CODES
