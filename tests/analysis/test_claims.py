"""Tests for pollwaves.analysis.claims: windows, coverage, sources and each claim's rule.

Tiny constructed result tables; the thresholds are fixed here (not read from
config/claims.yaml) so that the logic, not the configuration, is under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.analysis import claims
from pollwaves.analysis.claims import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    SUPPORTED_WHERE,
    Tables,
)
from pollwaves.analysis.claims_history import ledger_changes

CFG = {
    "paper_date": "2022-12-01",
    "invasion_date": "2022-02-24",
    "claims": {
        "army_small": {"statement": "army", "question": "belarus_army_participation",
                       "category": "yes", "threshold": 0.10, "sensitivity": [0.05, 0.15],
                       "published_items": [{"published_question": "belarus_position",
                                            "answer": "join on Russia's side",
                                            "wording": "narrower wording"}]},
        "no_majority_support": {"statement": "support", "question": "war_support",
                                "category": "support", "threshold": 0.5},
        "attitudes_not_radically_changed": {
            "statement": "attitudes", "questions": ["attitude_russia"], "category": "good",
            "majority": 0.5, "radical_change": 0.15, "sensitivity": [0.05, 0.25]},
        "stance_gap": {"statement": "gap", "worse_among_opponents": ["attitude_russia"],
                       "worse_among_supporters": ["attitude_ukraine"], "alpha": 0.05},
        "neutral_shift": {"statement": "shift", "question": "alliance",
                          "categories": ["both", "outside"], "before": 0.667, "after": 0.5,
                          "tolerance": 0.07, "sensitivity": [0.03, 0.10]},
        "neutral_stable": {"statement": "stable", "question": "alliance",
                           "categories": ["both", "outside"], "max_abs_slope_per_year": 0.05},
    },
}  # fmt: skip
DATES = {"2022-01": "2022-01-15", "2022-04": "2022-04-10", "2022-08": "2022-08-10",
         "2022-11": "2022-11-10", "2023-03": "2023-03-15", "2023-11": "2023-11-05"}  # fmt: skip
FIELDWORK = {w: pd.Timestamp(d) for w, d in DATES.items()}
PRE, WAR = ["2022-01"], ["2022-04", "2022-08", "2022-11", "2023-03", "2023-11"]
REPRO_WAR = WAR[:3]  # before the paper (2022-12-01)
TOP_COLS = ["question", "wave", "domain", "category", "estimate", "se", "ci_low", "ci_high"]
CONT_COLS = ["question", "wave", "domain", "contrast", "estimate", "se", "ci_low", "ci_high",
             "df"]  # fmt: skip
PUB_COLS = ["wave", "fieldwork_start", "question", "category", "relation", "value", "low",
            "high", "qualifier", "n_respondents", "subgroup_variable", "published_question",
            "answer"]  # fmt: skip
DIFF_COLS = ["wave", "country", "question", "group_a", "group_b", "estimate", "se", "df",
             "ci_low", "ci_high", "n_a", "n_b", "simulated"]  # fmt: skip


def _top(rows) -> pd.DataFrame:
    """(question, wave, category, estimate, se): logit-free CIs are not needed by the rules."""
    return pd.DataFrame([(q, w, "all", c, e, se, e - 2 * se, e + 2 * se)
                         for q, w, c, e, se in rows], columns=TOP_COLS)  # fmt: skip


def _cont(rows) -> pd.DataFrame:
    return pd.DataFrame([(q, w, "all", c, e, se, e - 2 * se, e + 2 * se, 800)
                         for q, w, c, e, se in rows], columns=CONT_COLS)  # fmt: skip


def _pub(rows) -> pd.DataFrame:
    """(wave, question, category, value %, qualifier, n[, published_question, answer])."""
    out = []
    for wave, q, cat, value, qual, n, *raw in rows:
        high = 100.0 if qual == "lower_bound" else value
        pq, ans = raw or (q, cat)
        out.append((wave, DATES.get(wave, "2024-06-01"), q, cat, "equals", value, value, high,
                    qual, n, np.nan, pq, ans))  # fmt: skip
    return pd.DataFrame(out, columns=PUB_COLS)


def _tables(**kw) -> Tables:
    base = {
        "published": _pub([]), "toplines": _top([]), "contrasts": _cont([]),
        "stance_shares": pd.DataFrame(columns=["wave", "question", "war_support", "estimate",
                                               "se"]),
        "stance_tests": pd.DataFrame(columns=["wave", "question", "p_value"]),
        "fieldwork": FIELDWORK, "published_deff": 1.0,
    }  # fmt: skip
    return Tables(**{**base, **kw})


def _ledger(tables: Tables, cfg=CFG):
    ledger, evidence, sens = claims.evaluate_claims(tables, cfg, level=0.95)
    assert list(ledger.columns) == claims.LEDGER_COLUMNS
    # every claim x window x source, always (here: published and simulated)
    assert len(ledger) == len(cfg["claims"]) * 2 * 2
    return ledger, evidence, sens


def _verdict(tables, claim, source="simulated", window="reproduction", cfg=CFG):
    led = _ledger(tables, cfg)[0].set_index(["claim", "window", "source"])
    row = led.loc[(claim, window, source)]
    return row["verdict"], int(row["k"]), int(row["K"])


# -- windows and coverage ---------------------------------------------------------------------

Q_ARMY = "belarus_army_participation"


def test_every_wave_claim_with_a_missing_wave_is_supported_where_published():
    top = _top([(Q_ARMY, w, "yes", 0.04, 0.005) for w in WAR])
    assert _verdict(_tables(toplines=top), "army_small", window="follow-up") == (SUPPORTED, 5, 5)
    top = _top([(Q_ARMY, w, "yes", 0.04, 0.005) for w in WAR if w != "2022-08"])
    assert _verdict(_tables(toplines=top), "army_small") == (SUPPORTED_WHERE, 2, 3)
    led = _ledger(_tables(toplines=top))[0]
    row = led[(led["claim"] == "army_small") & (led["window"] == "reproduction")
              & (led["source"] == "simulated")].iloc[0]  # fmt: skip
    assert row["waves_used"] == "2022-04 2022-11" and row["waves_missing"] == "2022-08"


def test_windows_separate_reproduction_from_follow_up():
    # the claim holds until 2022-11 and fails in 2023-11
    vals = {"2022-04": 0.04, "2022-08": 0.04, "2022-11": 0.04, "2023-03": 0.04, "2023-11": 0.2}
    top = _top([(Q_ARMY, w, "yes", v, 0.005) for w, v in vals.items()])
    assert _verdict(_tables(toplines=top), "army_small") == (SUPPORTED, 3, 3)
    assert _verdict(_tables(toplines=top), "army_small", window="follow-up")[0] == NOT_SUPPORTED


def test_claim_exactly_at_its_threshold_is_inconclusive():
    top = _top([(Q_ARMY, w, "yes", 0.10, 0.005) for w in WAR])
    assert _verdict(_tables(toplines=top), "army_small")[0] == INCONCLUSIVE


def test_published_coverage_lower_bound_and_published_item():
    pub = _pub([("2022-04", Q_ARMY, "yes", 3.0, "exact", 800),
                ("2022-08", Q_ARMY, "yes", 2.0, "lower_bound", 800),
                # the related item, used for a wave without the codebook question
                ("2022-11", "belarus_position", "x", 3.0, "exact", 900, "belarus_position",
                 "Join on Russia's side"),
                ("2024-06", "war_support", "support", 20.0, "exact", 700)])  # fmt: skip
    tables = _tables(published=pub)
    # the lower bound cannot show "below": inconclusive
    assert _verdict(tables, "army_small", "published") == (INCONCLUSIVE, 3, 3)
    _, ev, _ = _ledger(tables)
    ev = ev[(ev["claim"] == "army_small") & (ev["window"] == "reproduction")
            & (ev["source"] == "published")].set_index("wave")  # fmt: skip
    assert ev.loc["2022-08", "bound"] == "≥" and ev.loc["2022-08", "ci_high"] == 1.0
    assert ev.loc["2022-08", "estimate"] == pytest.approx(0.02)
    assert "narrower wording" in ev.loc["2022-11", "note"]
    assert ev.loc["2022-11", "verdict"] == SUPPORTED
    # follow-up: the published-only 2024 wave joins the window (K grows, no data: k stays)
    assert _verdict(tables, "army_small", "published", "follow-up") == (INCONCLUSIVE, 3, 6)


# -- no_majority_support ----------------------------------------------------------------------


def test_no_majority_support_needs_both_parts_in_every_wave():
    q = "war_support"
    top = _top([(q, w, "support", 0.30, 0.01) for w in WAR])
    cont = _cont([(q, w, "oppose_minus_support", 0.15, 0.02) for w in WAR])
    assert _verdict(_tables(toplines=top, contrasts=cont), "no_majority_support") == (
        SUPPORTED,
        3,
        3,
    )
    cont = _cont([(q, w, "oppose_minus_support", 0.15, 0.02) for w in WAR if w != "2022-04"])
    assert _verdict(_tables(toplines=top, contrasts=cont), "no_majority_support") == (
        SUPPORTED_WHERE,
        2,
        3,
    )
    # published: oppose - support from the two shares with their multinomial covariance
    pub = _pub([("2022-04", q, "support", 30.0, "exact", 800),
                ("2022-04", q, "oppose", 50.0, "exact", 800)])  # fmt: skip
    v, k, big = _verdict(_tables(published=pub), "no_majority_support", "published")
    assert (v, k, big) == (SUPPORTED_WHERE, 1, 3)
    _, ev, _ = _ledger(_tables(published=pub))
    gap = ev[(ev["item"] == "oppose - support") & (ev["window"] == "reproduction")].iloc[0]
    se = np.sqrt((0.5 + 0.3 - 0.2**2) / 800)
    assert gap["estimate"] == pytest.approx(0.2)
    assert gap["ci_low"] == pytest.approx(0.2 - 1.959964 * se, rel=1e-5)


# -- stance_gap -------------------------------------------------------------------------------


def _diffs(russia: float, ukraine: float, se: float = 0.03) -> pd.DataFrame:
    rows = []
    for w in WAR:
        for q, d in (("attitude_russia", russia), ("attitude_ukraine", ukraine)):
            rows.append((w, q[9:], q, "support", "oppose", d, se, 800, d - 2 * se, d + 2 * se,
                         300, 400, True))  # fmt: skip
    return pd.DataFrame(rows, columns=DIFF_COLS)


@pytest.mark.parametrize(
    ("russia", "ukraine", "expected"),
    [(0.30, -0.30, SUPPORTED),
     (-0.30, -0.30, NOT_SUPPORTED),  # opponents like Russia more: a Holm-significant reversal
     (0.03, -0.30, INCONCLUSIVE)],  # gap in the claimed direction but not significant
)  # fmt: skip
def test_stance_gap_one_sided_domain_difference(russia, ukraine, expected):
    tables = _tables(stance_differences=_diffs(russia, ukraine))
    assert _verdict(tables, "stance_gap") == (expected, 3, 3)
    assert _verdict(tables, "stance_gap", "published") == (INCONCLUSIVE, 0, 3)


def test_stance_gap_min_gap_sensitivity_and_fallback_without_covariance():
    tables = _tables(stance_differences=_diffs(0.12, -0.12, se=0.01))
    _, _, sens = _ledger(tables)
    s = sens[(sens["claim"] == "stance_gap") & (sens["source"] == "simulated")
             & (sens["window"] == "reproduction")].set_index("value")["verdict"]  # fmt: skip
    assert s[0.0] == SUPPORTED  # configured: any gap
    shares = pd.DataFrame([(w, q, g, e, 0.02) for w in WAR for q, (a, b) in
                           (("attitude_russia", (0.9, 0.5)), ("attitude_ukraine", (0.4, 0.8)))
                           for g, e in (("support", a), ("oppose", b))],
                          columns=["wave", "question", "war_support", "estimate", "se"])  # fmt: skip
    tables = _tables(stance_shares=shares)
    assert _verdict(tables, "stance_gap")[0] == SUPPORTED
    _, ev, _ = _ledger(tables)
    assert ev[ev["claim"] == "stance_gap"]["note"].str.contains("covariance").any()


# -- neutral_shift: every wave on its own -----------------------------------------------------


def _neutral(values: dict[str, float], se: float = 0.01) -> pd.DataFrame:
    return _cont([("alliance", w, "neutral", v, se) for w, v in values.items()])


def test_neutral_shift_tests_each_wave_not_the_mean():
    ok = {"2022-01": 0.66, "2022-04": 0.50, "2022-08": 0.50, "2022-11": 0.50}
    assert _verdict(_tables(contrasts=_neutral(ok)), "neutral_shift") == (SUPPORTED, 4, 4)
    # a moving series whose mean (0.50) is on target, but whose first and last waves are not
    moving = {"2022-01": 0.66, "2022-04": 0.62, "2022-08": 0.50, "2022-11": 0.38}
    assert _verdict(_tables(contrasts=_neutral(moving)), "neutral_shift")[0] == NOT_SUPPORTED
    # exactly at the edge of the band (0.5 + 0.07): inconclusive
    edge = {**ok, "2022-11": 0.57}
    assert _verdict(_tables(contrasts=_neutral(edge)), "neutral_shift")[0] == INCONCLUSIVE


def test_neutral_shift_published_partial_share_is_a_lower_bound():
    pub = _pub([("2022-01", "alliance", "both", 40.0, "exact", 900),
                ("2022-01", "alliance", "outside", 26.0, "exact", 900),
                ("2022-04", "alliance", "both", 30.0, "exact", 900)])  # fmt: skip
    v, k, big = _verdict(_tables(published=pub), "neutral_shift", "published")
    assert (v, k, big) == (INCONCLUSIVE, 2, 4)
    _, ev, _ = _ledger(_tables(published=pub))
    ev = ev[(ev["claim"] == "neutral_shift") & (ev["source"] == "published")
            & (ev["window"] == "reproduction")].set_index("wave")  # fmt: skip
    assert ev.loc["2022-04", "bound"] == "≥" and ev.loc["2022-04", "estimate"] == 0.3
    assert ev.loc["2022-01", "verdict"] == SUPPORTED  # 0.66 within 0.667 +- 0.07


# -- neutral_stable ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected", "lof_note"),
    [([0.50, 0.50, 0.50, 0.50, 0.50], SUPPORTED, False),  # flat
     ([0.602, 0.556, 0.520, 0.473, 0.382], NOT_SUPPORTED, False),  # -0.14 a year
     ([0.60, 0.40, 0.60, 0.40, 0.60], INCONCLUSIVE, True)],  # no line fits
)  # fmt: skip
def test_neutral_stable_slope_equivalence_and_lack_of_fit(values, expected, lof_note):
    tables = _tables(contrasts=_neutral(dict(zip(WAR, values, strict=True)), se=0.005))
    assert _verdict(tables, "neutral_stable", window="follow-up") == (expected, 5, 5)
    _, ev, _ = _ledger(tables)
    note = ev[(ev["claim"] == "neutral_stable") & (ev["window"] == "follow-up")
              & (ev["source"] == "simulated")]["note"].iloc[0]  # fmt: skip
    assert ("does not fit" in note) == lof_note


def test_neutral_stable_needs_three_waves():
    tables = _tables(contrasts=_neutral({"2022-04": 0.5, "2022-08": 0.5}))
    assert _verdict(tables, "neutral_stable") == (INCONCLUSIVE, 2, 3)


# -- attitudes, sensitivity, sources, history -------------------------------------------------


def test_attitudes_and_sensitivity_for_every_claim():
    top = _top([("attitude_russia", w, "good", 0.80 if w != "2022-11" else 0.55, 0.01)
                for w in [*PRE, *WAR]])  # fmt: skip
    tables = _tables(toplines=top)
    assert _verdict(tables, "attitudes_not_radically_changed")[0] == NOT_SUPPORTED
    _, _, sens = _ledger(tables)
    assert set(sens["claim"]) == set(CFG["claims"])
    s = sens[(sens["claim"] == "attitudes_not_radically_changed") & (sens["source"] ==
             "simulated") & (sens["window"] == "reproduction")]  # fmt: skip
    assert s.set_index("value")["verdict"].to_dict() == {
        0.05: NOT_SUPPORTED,
        0.15: NOT_SUPPORTED,
        0.25: INCONCLUSIVE,
    }
    assert s.loc[s["configured"], "value"].tolist() == [0.15]


def test_real_microdata_waves_are_evidence():
    top = _top([(Q_ARMY, w, "yes", 0.04, 0.005) for w in WAR])
    tables = _tables(toplines=top, simulated={w: w != "2022-04" for w in FIELDWORK})
    ledger, _, _ = claims.evaluate_claims(tables, CFG, level=0.95)
    real = ledger[(ledger["source"] == "microdata") & (ledger["claim"] == "army_small")]
    assert set(real["evidence"]) == {True}
    assert real.set_index("window").loc["reproduction", "K"] == 1
    assert not ledger[ledger["source"] == "simulated"]["evidence"].any()


def test_ledger_changes_name_the_reason():
    cols = claims.LEDGER_COLUMNS
    prev = pd.DataFrame([("a", "s", "follow-up", "published", True, SUPPORTED, 3, 3,
                          "w1 w2 w3", "")], columns=cols)  # fmt: skip
    cur = pd.DataFrame([("a", "s", "follow-up", "published", True, SUPPORTED_WHERE, 3, 4,
                         "w1 w2 w3", "w4")], columns=cols)  # fmt: skip
    ch = ledger_changes(prev, cur)
    assert ch["reason"].tolist() == ["waves in the window: 3 -> 4"]
    assert ledger_changes(None, cur).empty and ledger_changes(cur, cur).empty
