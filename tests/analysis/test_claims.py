"""Tests for pollwaves.analysis.claims: the three-valued verdict logic of the claims ledger.

Each claim is evaluated on tiny constructed result tables that make it supported, not
supported and inconclusive, on both sources (published toplines, simulated microdata).
The thresholds are fixed here (not read from config/claims.yaml) so that the logic, not the
configuration, is under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.analysis import claims
from pollwaves.analysis.claims import INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED, Tables

CFG = {
    "level": 0.95,
    "invasion_date": "2022-02-24",
    "claims": {
        "army_small": {"statement": "army", "question": "belarus_army_participation",
                       "category": "yes", "threshold": 0.10},
        "no_majority_support": {"statement": "support", "question": "war_support",
                                "category": "support", "threshold": 0.5},
        "attitudes_not_radically_changed": {
            "statement": "attitudes", "questions": ["attitude_russia", "attitude_usa"],
            "category": "good", "majority": 0.5, "radical_change": 0.15,
            "sensitivity": [0.05, 0.15, 0.25]},
        "stance_gap": {"statement": "gap", "worse_among_opponents": ["attitude_russia"],
                       "worse_among_supporters": ["attitude_ukraine"], "alpha": 0.05},
        "neutral_shift": {"statement": "shift", "question": "alliance",
                          "categories": ["both", "outside"], "before": 0.667, "after": 0.5,
                          "tolerance": 0.07},
        "neutral_stable": {"statement": "stable", "question": "alliance",
                           "categories": ["both", "outside"], "max_abs_slope_per_year": 0.05},
    },
}  # fmt: skip
FIELDWORK = {
    w: pd.Timestamp(d)
    for w, d in {
        "2021-04": "2021-04-10",
        "2022-01": "2022-01-15",
        "2022-04": "2022-04-10",
        "2022-11": "2022-11-10",
        "2023-03": "2023-03-15",
        "2023-11": "2023-11-05",
    }.items()
}
PRE, WAR = ["2021-04", "2022-01"], ["2022-04", "2022-11", "2023-03", "2023-11"]
TOP_COLS = ["question", "wave", "domain", "category", "estimate", "ci_low", "ci_high"]
CONT_COLS = ["question", "wave", "domain", "contrast", "estimate", "ci_low", "ci_high", "p_value"]
PUB_COLS = ["wave", "question", "category", "relation", "value", "low", "high", "qualifier",
            "n_respondents", "subgroup_variable"]  # fmt: skip


def _top(rows) -> pd.DataFrame:
    return pd.DataFrame([(q, w, "all", c, e, lo, hi) for q, w, c, e, lo, hi in rows],
                        columns=TOP_COLS)  # fmt: skip


def _cont(rows) -> pd.DataFrame:
    return pd.DataFrame([(q, w, "all", c, e, lo, hi, p) for q, w, c, e, lo, hi, p in rows],
                        columns=CONT_COLS)  # fmt: skip


def _pub(rows) -> pd.DataFrame:
    """Published rows: (wave, question, category, value, qualifier, n)."""
    out = []
    for wave, q, cat, value, qual, n in rows:
        high = 100.0 if qual == "lower_bound" else value
        out.append((wave, q, cat, "equals", value, value, high, qual, n, np.nan))
    return pd.DataFrame(out, columns=PUB_COLS)


def _tables(**kw) -> Tables:
    base = {
        "published": _pub([]),
        "toplines": _top([]),
        "contrasts": _cont([]),
        "stance_shares": pd.DataFrame(columns=["wave", "question", "war_support", "estimate"]),
        "stance_tests": pd.DataFrame(columns=["wave", "question", "p_value"]),
        "fieldwork": FIELDWORK,
        "published_deff": 1.5,
    }
    return Tables(**{**base, **kw})


def _verdicts(tables: Tables, claim: str) -> dict[str, str]:
    ledger, evidence, _ = claims.evaluate_claims(tables, CFG)
    assert list(ledger.columns) == ["claim", "statement", "source", "verdict"]
    assert len(ledger) == 2 * len(CFG["claims"])  # every claim, both sources, always
    rows = ledger[ledger["claim"] == claim]
    return dict(zip(rows["source"], rows["verdict"], strict=True))


# -- primitives ------------------------------------------------------------------------------


def test_below_three_values_and_boundaries():
    assert claims.below(0.02, 0.08, 0.10) == SUPPORTED
    assert claims.below(0.10, 0.20, 0.10) == NOT_SUPPORTED  # lower limit at the threshold
    assert claims.below(0.08, 0.12, 0.10) == INCONCLUSIVE
    assert claims.below(0.05, 0.10, 0.10) == INCONCLUSIVE  # upper limit touches: not below
    assert claims.below(np.nan, np.nan, 0.10) == INCONCLUSIVE


def test_within_three_values_and_boundaries():
    assert claims.within(0.45, 0.55, 0.5, 0.07) == SUPPORTED
    assert claims.within(0.43, 0.57, 0.5, 0.07) == SUPPORTED  # limits exactly at target±tol
    assert claims.within(0.60, 0.70, 0.5, 0.07) == NOT_SUPPORTED
    assert claims.within(0.20, 0.40, 0.5, 0.07) == NOT_SUPPORTED
    assert claims.within(0.40, 0.60, 0.5, 0.07) == INCONCLUSIVE  # wider than the band
    assert claims.within(0.55, 0.65, 0.5, 0.07) == INCONCLUSIVE  # straddles the edge
    assert claims.within(np.nan, 1.0, 0.5, 0.07) == INCONCLUSIVE


def test_combine():
    assert claims.combine([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert claims.combine([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert claims.combine([INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED]) == NOT_SUPPORTED
    assert claims.combine([]) == INCONCLUSIVE  # no evidence: too sparse to decide


# -- army_small ------------------------------------------------------------------------------

Q_ARMY = "belarus_army_participation"


@pytest.mark.parametrize(
    ("sim", "pub", "expected"),
    [
        # the pre-war wave (0.5) is not a war wave and must be ignored
        ([(0.05, 0.03, 0.07)] * 4, [("2022-04", 5.0, "exact", 800)], SUPPORTED),
        ([(0.05, 0.03, 0.07)] * 3 + [(0.15, 0.12, 0.18)],
         [("2022-04", 5.0, "exact", 800), ("2023-03", 20.0, "exact", 800)], NOT_SUPPORTED),
        ([(0.05, 0.03, 0.07)] * 3 + [(0.10, 0.08, 0.12)], [("2022-04", 10.0, "exact", 800)],
         INCONCLUSIVE),
    ],
)  # fmt: skip
def test_army_small(sim, pub, expected):
    top = _top([(Q_ARMY, "2022-01", "yes", 0.5, 0.45, 0.55)]
               + [(Q_ARMY, w, "yes", *v) for w, v in zip(WAR, sim, strict=True)])  # fmt: skip
    pub_rows = [("2022-01", Q_ARMY, "yes", 50.0, "exact", 800)]
    pub_rows += [(w, Q_ARMY, "yes", v, q, n) for w, v, q, n in pub]
    got = _verdicts(_tables(toplines=top, published=_pub(pub_rows)), "army_small")
    assert got == {"simulated": expected, "published": expected}


def test_army_small_without_published_numbers_is_inconclusive():
    top = _top([(Q_ARMY, w, "yes", 0.05, 0.03, 0.07) for w in WAR])
    assert _verdicts(_tables(toplines=top), "army_small") == {
        "simulated": SUPPORTED,
        "published": INCONCLUSIVE,
    }


def test_published_lower_bound_cannot_support_a_below_claim():
    pub = _pub([("2022-04", Q_ARMY, "yes", 3.0, "lower_bound", 800)])
    assert _verdicts(_tables(published=pub), "army_small")["published"] == INCONCLUSIVE


# -- no_majority_support ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("support", "gap", "pub", "expected"),
    [
        ((0.33, 0.30, 0.36), (0.10, 0.05, 0.15), (32.0, 40.0), SUPPORTED),
        ((0.55, 0.52, 0.58), (-0.2, -0.25, -0.15), (60.0, 30.0), NOT_SUPPORTED),
        # support is a minority, but opponents do not clearly outnumber supporters
        ((0.33, 0.30, 0.36), (0.02, -0.02, 0.06), (45.0, 46.0), INCONCLUSIVE),
    ],
)
def test_no_majority_support(support, gap, pub, expected):
    q = "war_support"
    top = _top([(q, w, "support", *support) for w in WAR])
    cont = _cont([(q, w, "oppose_minus_support", *gap, 0.01) for w in WAR])
    s, o = pub
    published = _pub(
        [("2022-04", q, "support", s, "exact", 823), ("2022-04", q, "oppose", o, "exact", 823)]
    )
    tables = _tables(toplines=top, contrasts=cont, published=published)
    assert _verdicts(tables, "no_majority_support") == {
        "simulated": expected,
        "published": expected,
    }


# -- attitudes_not_radically_changed ---------------------------------------------------------


def _attitudes(usa: tuple[float, float, float], russia_last: float) -> pd.DataFrame:
    rows = []
    for w in [*PRE, *WAR]:
        e = russia_last if w == WAR[-1] else 0.80
        rows.append(("attitude_russia", w, "good", e, e - 0.03, e + 0.03))
        rows.append(("attitude_usa", w, "good", *usa))
    return _top(rows)


def test_attitudes_supported_not_supported_and_sensitivity():
    tables = _tables(toplines=_attitudes((0.70, 0.66, 0.74), russia_last=0.75))
    assert _verdicts(tables, "attitudes_not_radically_changed")["simulated"] == SUPPORTED
    # a radical fall: Russia from 0.80 to 0.55 (change -0.25, CI within about +-0.04)
    tables = _tables(toplines=_attitudes((0.70, 0.66, 0.74), russia_last=0.55))
    assert _verdicts(tables, "attitudes_not_radically_changed")["simulated"] == NOT_SUPPORTED
    _, _, sens = claims.evaluate_claims(tables, CFG)
    sim = sens[sens["source"] == "simulated"].set_index("radical_change")["verdict"]
    # a 0.25 change is radical at thresholds 0.05 and 0.15; at 0.25 the CI straddles the edge
    assert sim.to_dict() == {0.05: NOT_SUPPORTED, 0.15: NOT_SUPPORTED, 0.25: INCONCLUSIVE}


def test_attitudes_majority_needs_the_whole_interval_above_half():
    # regression: an interval (0.457, 0.527) straddles 0.5 and must not count as a majority
    tables = _tables(toplines=_attitudes((0.49, 0.457, 0.527), russia_last=0.78))
    verdict = _verdicts(tables, "attitudes_not_radically_changed")["simulated"]
    assert verdict == INCONCLUSIVE
    _, evidence, _ = claims.evaluate_claims(tables, CFG)
    usa = evidence[(evidence["item"] == "attitude_usa") & (evidence["part"] == "majority good")]
    assert set(usa["verdict"]) == {INCONCLUSIVE}
    tables = _tables(toplines=_attitudes((0.40, 0.36, 0.44), russia_last=0.78))
    assert _verdicts(tables, "attitudes_not_radically_changed")["simulated"] == NOT_SUPPORTED


def test_attitudes_published_without_before_and_after_is_too_sparse():
    pub = _pub([("2023-03", "attitude_russia", "good", 76.0, "exact", 804)])
    tables = _tables(published=pub)
    assert _verdicts(tables, "attitudes_not_radically_changed")["published"] == INCONCLUSIVE
    _, evidence, _ = claims.evaluate_claims(tables, CFG)
    spans = evidence[
        (evidence["source"] == "published") & (evidence["part"] == "no radical change")
    ]
    assert "no wave before and after" in set(spans["wave"])


# -- stance_gap ------------------------------------------------------------------------------


def _stance(russia: tuple[float, float], ukraine: tuple[float, float], p: float) -> Tables:
    """Good shares (supporters, opponents) per country in every war wave, one p-value."""
    shares, tests = [], []
    for w in WAR:
        for q, (sup, opp) in (("attitude_russia", russia), ("attitude_ukraine", ukraine)):
            shares += [(w, q, "support", sup), (w, q, "oppose", opp)]
            tests.append((w, q, p))
    return _tables(
        stance_shares=pd.DataFrame(
            shares, columns=["wave", "question", "war_support", "estimate"]
        ),
        stance_tests=pd.DataFrame(tests, columns=["wave", "question", "p_value"]),
    )


@pytest.mark.parametrize(
    ("russia", "ukraine", "p", "expected"),
    [
        ((0.95, 0.55), (0.45, 0.80), 1e-6, SUPPORTED),
        ((0.55, 0.95), (0.45, 0.80), 1e-6, NOT_SUPPORTED),  # opponents like Russia more
        ((0.95, 0.55), (0.45, 0.80), 0.30, INCONCLUSIVE),  # gap not significant
    ],
)
def test_stance_gap(russia, ukraine, p, expected):
    tables = _stance(russia, ukraine, p)
    got = _verdicts(tables, "stance_gap")
    assert got == {"simulated": expected, "published": INCONCLUSIVE}
    _, evidence, _ = claims.evaluate_claims(tables, CFG)
    note = evidence.loc[(evidence["claim"] == "stance_gap") & (evidence["source"] == "published")]
    assert list(note["note"]) == ["too sparse"]


# -- neutral_shift and neutral_stable --------------------------------------------------------


def _neutral(before: float, after: list[tuple[float, float, float]]) -> pd.DataFrame:
    rows = [("alliance", w, "neutral", before, before - 0.02, before + 0.02, 0.0) for w in PRE]
    rows += [("alliance", w, "neutral", *v, 0.0) for w, v in zip(WAR, after, strict=True)]
    return _cont(rows)


@pytest.mark.parametrize(
    ("before", "after", "pub_after", "expected"),
    [
        (0.66, [(0.50, 0.48, 0.52)] * 4, (25.0, 25.0), SUPPORTED),
        (0.66, [(0.66, 0.64, 0.68)] * 4, (35.0, 30.0), NOT_SUPPORTED),  # no shift at all
        # the pooled after-share straddles 0.57; published: only "both" is known after
        (0.66, [(0.56, 0.50, 0.62)] * 4, (25.0, None), INCONCLUSIVE),
    ],
)
def test_neutral_shift(before, after, pub_after, expected):
    both, outside = pub_after
    rows = [("2021-04", "alliance", "both", 40.0, "exact", 3000),
            ("2021-04", "alliance", "outside", 26.0, "exact", 3000),
            ("2023-03", "alliance", "both", both, "exact", 3000)]  # fmt: skip
    if outside is not None:
        rows.append(("2023-03", "alliance", "outside", outside, "exact", 3000))
    tables = _tables(contrasts=_neutral(before, after), published=_pub(rows))
    assert _verdicts(tables, "neutral_shift") == {"simulated": expected, "published": expected}


def test_neutral_shift_published_lower_bounds_without_n_are_inconclusive():
    # 2020-09-like bounds before; after, one value without a published N, one with
    rows = [("2021-04", "alliance", "both", 41.0, "lower_bound", 899),
            ("2021-04", "alliance", "outside", 23.0, "lower_bound", 899),
            ("2022-11", "alliance", "both", 25.0, "exact", np.nan),
            ("2023-03", "alliance", "outside", 23.0, "exact", 804)]  # fmt: skip
    tables = _tables(published=_pub(rows))
    assert _verdicts(tables, "neutral_shift")["published"] == INCONCLUSIVE
    _, evidence, _ = claims.evaluate_claims(tables, CFG)
    pub = evidence[(evidence["claim"] == "neutral_shift") & (evidence["source"] == "published")]
    after = pub[pub["wave"] == "after"]
    assert len(after) == 1
    # the known lower limit comes from the wave with an N, not a NaN from the wave without
    assert after["ci_low"].notna().all() and (after["ci_high"] == 1.0).all()


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ([(0.50, 0.48, 0.52)] * 4, SUPPORTED),
        ([(0.60, 0.58, 0.62), (0.52, 0.50, 0.54), (0.46, 0.44, 0.48), (0.38, 0.36, 0.40)],
         NOT_SUPPORTED),  # about -0.13 per year
        ([(0.60, 0.50, 0.70), (0.50, 0.40, 0.60), (0.55, 0.45, 0.65), (0.50, 0.40, 0.60)],
         INCONCLUSIVE),  # too noisy to tell
    ],
)  # fmt: skip
def test_neutral_stable(after, expected):
    tables = _tables(contrasts=_neutral(0.66, after))
    assert _verdicts(tables, "neutral_stable") == {
        "simulated": expected,
        "published": INCONCLUSIVE,  # no published wave with the full neutral share
    }
