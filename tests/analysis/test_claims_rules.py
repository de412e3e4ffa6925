"""Tests for pollwaves.analysis.claims_rules: one-sided tests, TOST, Holm, coverage, slope."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pollwaves.analysis import claims_rules as r
from pollwaves.analysis.claims_rules import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    SUPPORTED_WHERE,
    Part,
)

ALPHA = 0.025


def _part(p_for: float, p_against: float, wave: str = "w") -> Part:
    return Part(wave, "item", "part", 0.0, 0.0, 0.0, p_for, p_against)


def test_one_sided_z_and_t():
    assert r.one_sided(0.0, 1.0, 1.96, "below") == pytest.approx(0.025, abs=1e-4)
    assert r.one_sided(3.0, 1.0, 1.0, "above") == pytest.approx(stats.norm.sf(2.0))
    assert r.one_sided(3.0, 1.0, 1.0, "above", df=5) == pytest.approx(stats.t.sf(2.0, 5))
    # exactly at the threshold: no evidence either way
    assert r.one_sided(0.1, 0.01, 0.1, "below") == pytest.approx(0.5)
    assert np.isnan(r.one_sided(0.1, 0.0, 0.2, "below"))  # no SE: untestable


def test_equivalence_tost():
    p_for, p_against = r.equivalence(0.5, 0.01, 0.5, 0.07)
    assert p_for == pytest.approx(stats.norm.sf(7.0)) and p_against > 0.99
    # at the edge of the band: the TOST p is 0.5, the value is not shown outside either
    p_for, p_against = r.equivalence(0.57, 0.01, 0.5, 0.07)
    assert p_for == pytest.approx(0.5) and p_against == pytest.approx(0.5)
    p_for, p_against = r.equivalence(0.70, 0.01, 0.5, 0.07)
    assert p_for > 0.99 and p_against == pytest.approx(stats.norm.sf(13.0))


def test_holm_step_down():
    # sorted p: 0.001 (x4 = 0.004 < .05), 0.02 (x3 = 0.06 >= .05): stop
    assert r.holm([0.02, 0.001, 0.5, 0.03], 0.05) == [False, True, False, False]
    assert r.holm([0.01, 0.015, 0.03], 0.05) == [True, True, True]  # 0.03, 0.03, 0.03
    assert r.holm([np.nan, 0.001], 0.05) == [False, True]
    assert r.holm([], 0.05) == []


def test_decide_coverage_levels():
    passing = [_part(0.001, 0.999, w) for w in "abc"]
    assert r.decide(passing, ALPHA, 3, 3) == SUPPORTED
    # a missing wave: never plain supported
    assert r.decide(passing[:2], ALPHA, 2, 3) == SUPPORTED_WHERE
    assert r.decide([], ALPHA, 0, 3) == INCONCLUSIVE
    assert r.decide(passing, ALPHA, 0, 0) == INCONCLUSIVE
    # one part inconclusive: the conjunction is inconclusive
    parts = [*passing[:2], _part(0.2, 0.8)]
    assert r.decide(parts, ALPHA, 3, 3) == INCONCLUSIVE
    assert [p.verdict for p in parts] == [SUPPORTED, SUPPORTED, INCONCLUSIVE]
    # a contradicted part beats missing waves
    parts = [*passing[:2], _part(0.999, 1e-6)]
    assert r.decide(parts, ALPHA, 3, 5) == NOT_SUPPORTED
    assert parts[2].verdict == NOT_SUPPORTED


def test_decide_needs_multiplicity_controlled_evidence_against():
    # 65 parts, each with p_against 0.01 < alpha: unadjusted this would say "not supported";
    # Holm needs 0.01 * 65 < alpha
    parts = [_part(0.5, 0.01, str(i)) for i in range(65)]
    assert r.decide(parts, ALPHA, 65, 65) == INCONCLUSIVE
    parts[0] = _part(0.999, 1e-5, "0")
    assert r.decide(parts, ALPHA, 65, 65) == NOT_SUPPORTED


def test_claim_exactly_at_threshold_rarely_rejected():
    # every part exactly at its threshold: the p_against are uniform; Holm keeps the
    # family-wise rejection rate at most alpha whatever the number of parts
    rng = np.random.default_rng(1)
    rejected = 0
    for _ in range(300):
        z = rng.standard_normal(65)
        parts = [_part(float(stats.norm.cdf(x)), float(stats.norm.sf(x))) for x in z]
        rejected += r.decide(parts, ALPHA, 65, 65) == NOT_SUPPORTED
    assert rejected / 300 <= ALPHA + 0.03


def test_slope_test_flat_falling_and_lack_of_fit():
    x, se = [0.1, 0.4, 0.7, 1.0], [0.01] * 4
    b, s, p_for, p_against, lof = r.slope_test(x, [0.5] * 4, se, 0.05, ALPHA)  # flat
    assert b == pytest.approx(0.0, abs=1e-12) and lof == pytest.approx(1.0)
    assert p_for < ALPHA and p_against > 0.5
    b, s, p_for, p_against, lof = r.slope_test(x, [0.6, 0.5, 0.4, 0.3], se, 0.05, ALPHA)
    assert b == pytest.approx(-1 / 3) and p_against < 1e-6 and lof == pytest.approx(1.0)
    # a V shape: no linear trend, but the line does not fit
    b, s, p_for, p_against, lof = r.slope_test(x, [0.6, 0.45, 0.45, 0.6], se, 0.05, ALPHA)
    assert lof < 1e-6
    # the weighted least squares slope and its SE, by hand
    y = np.array([0.6, 0.5, 0.45, 0.3])
    b, s, *_ = r.slope_test(x, y, se, 0.05, ALPHA)
    xx = np.array(x) - np.mean(x)
    assert b == pytest.approx(float(xx @ y / (xx @ xx)))
    assert s == pytest.approx(0.01 / np.sqrt(xx @ xx))


def test_interval_rules_kept():
    assert r.below(0.02, 0.08, 0.10) == SUPPORTED
    assert r.below(0.10, 0.20, 0.10) == NOT_SUPPORTED
    assert r.within(0.43, 0.57, 0.5, 0.07) == SUPPORTED
    assert r.within(0.55, 0.65, 0.5, 0.07) == INCONCLUSIVE
    assert r.combine([SUPPORTED, NOT_SUPPORTED]) == NOT_SUPPORTED
    assert r.combine([]) == INCONCLUSIVE
