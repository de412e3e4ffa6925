"""Worst-case bounds for "hard to say" (``pollwaves.survey.bounds``) on tiny inline frames.

The bounds are shares of indicators over all respondents, so their values and SEs are
checked against :func:`pollwaves.survey.estimation.proportions` (itself golden-tested
against R ``svyciprop``) and against hand arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.bounds import bounds_from_shares, edge_interval, worst_case_bounds
from pollwaves.survey.estimation import proportions

OUTCOMES = {"support": ("support", "oppose"), "oppose": ("oppose", "support")}
MIDDLE = {"support": ("support", ["partly", "hard_to_say"]),
          "oppose": ("oppose", ["partly", "hard_to_say"])}  # fmt: skip


def _frame() -> pd.DataFrame:
    answers = ["support"] * 3 + ["partly"] * 2 + ["hard_to_say"] * 2 + ["oppose"] * 4 + [None] * 2
    return pd.DataFrame({
        "war_support": answers,
        "w": [1.0, 2.0, 1.5, 1.0, 0.5, 2.0, 1.0, 1.0, 3.0, 1.0, 2.0, 1.0, 1.5],
        "sex": list("fmfmfmfmfmfmf"),
    })  # fmt: skip


def _share(df, mask):
    return float(np.sum(df["w"][mask]) / df["w"].sum())


def test_bounds_count_refusals_in_the_base():
    df = _frame()
    res = worst_case_bounds(df, "war_support", OUTCOMES, "w").set_index("bound")
    ws = df["war_support"]
    assert res.loc["support_low", "estimate"] == pytest.approx(_share(df, ws == "support"))
    assert res.loc["oppose_low", "estimate"] == pytest.approx(_share(df, ws == "oppose"))
    # high = support + partly + hard to say + refusals = 1 - oppose
    high = ws.isin(["support", "partly", "hard_to_say"]) | ws.isna()
    assert res.loc["support_high", "estimate"] == pytest.approx(_share(df, high))
    assert res.loc["support_high", "estimate"] == pytest.approx(1 - _share(df, ws == "oppose"))
    assert (res["n"] == len(df)).all()  # refusals are respondents of the base
    # a refusal-excluding share (proportions) is larger than the worst-case low bound
    excl = proportions(df, "war_support", "w").set_index("category")
    assert excl.loc["support", "estimate"] > res.loc["support_low", "estimate"]


def test_bound_intervals_are_design_based_and_raking_aware():
    df = _frame()
    res = worst_case_bounds(df, "war_support", OUTCOMES, "w", calibrated_on=["sex"])
    res = res.set_index("bound")
    ind = df.assign(x=(df["war_support"] == "oppose").astype(int))
    p = proportions(ind, "x", "w", calibrated_on=["sex"]).set_index("category").loc[1]
    for col in ("estimate", "se", "ci_low", "ci_high"):
        assert res.loc["oppose_low", col] == pytest.approx(p[col], rel=1e-12)
    plain = worst_case_bounds(df, "war_support", OUTCOMES, "w").set_index("bound")
    assert res.loc["oppose_low", "se"] != pytest.approx(plain.loc["oppose_low", "se"])
    for b in res.index:
        assert res.loc[b, "ci_low"] <= res.loc[b, "estimate"] <= res.loc[b, "ci_high"]


def test_all_refusals_give_the_vacuous_bounds():
    df = _frame().assign(war_support=None)
    res = worst_case_bounds(df, "war_support", OUTCOMES, "w").set_index("bound")
    assert res.loc["support_low", "estimate"] == 0.0
    assert res.loc["support_high", "estimate"] == 1.0
    assert res.loc["support_low", "se"] == 0.0
    n_eff = df["w"].sum() ** 2 / (df["w"] ** 2).sum()  # Kish
    assert res.loc["support_low", "n_eff"] == pytest.approx(n_eff)
    upper = 1 - 0.025 ** (1 / n_eff)
    assert (res.loc["support_low", "ci_low"], res.loc["support_low", "ci_high"]) == (
        0.0,
        pytest.approx(upper),
    )
    assert (res.loc["oppose_high", "ci_low"], res.loc["oppose_high", "ci_high"]) == (
        pytest.approx(1 - upper),
        1.0,
    )


def test_a_bound_at_zero_when_nobody_supports():
    df = _frame()
    df.loc[df["war_support"] == "support", "war_support"] = "partly"
    res = worst_case_bounds(df, "war_support", OUTCOMES, "w", level=0.9).set_index("bound")
    assert res.loc["support_low", "estimate"] == 0.0
    assert res.loc["oppose_high", "estimate"] == 1.0
    lo, hi = edge_interval(0.0, float(res.loc["support_low", "n_eff"]), 0.9)
    assert (res.loc["support_low", "ci_low"], res.loc["support_low", "ci_high"]) == (lo, hi)
    assert 0 < hi < 1
    assert res.loc["oppose_low", "ci_low"] < res.loc["oppose_low", "estimate"]


def test_edge_interval_level():
    lo95 = edge_interval(0.0, 100, 0.95)[1]
    lo90 = edge_interval(0.0, 100, 0.90)[1]
    assert lo95 == pytest.approx(1 - 0.025**0.01)
    assert lo90 < lo95
    assert np.isnan(edge_interval(0.0, 0.0, 0.95)[0])


def test_published_bounds_from_shares():
    shares = {"support": 0.32, "partly": 0.15, "hard_to_say": 0.13, "oppose": 0.40}
    res = bounds_from_shares(shares, MIDDLE, n=823, deff=1.5).set_index("bound")
    assert res.loc["support_low", "estimate"] == pytest.approx(0.32)
    assert res.loc["support_high", "estimate"] == pytest.approx(0.60)
    assert res.loc["oppose_high", "estimate"] == pytest.approx(0.68)
    assert res.loc["support_high", "se"] == pytest.approx(np.sqrt(1.5 * 0.6 * 0.4 / 823))
    assert res.loc["support_high", "ci_low"] < 0.6 < res.loc["support_high", "ci_high"]
    wide = bounds_from_shares(shares, MIDDLE, n=823, deff=3.0).set_index("bound")
    assert wide.loc["support_high", "ci_low"] < res.loc["support_high", "ci_low"]


def test_published_bounds_reject_bad_input():
    shares = {"support": 0.32, "partly": 0.15, "oppose": 0.40}
    with pytest.raises(InputError, match="missing"):
        bounds_from_shares(shares, MIDDLE, n=823, deff=1.5)
    with pytest.raises(InputError, match="deff"):
        bounds_from_shares({**shares, "hard_to_say": 0.13}, MIDDLE, n=823, deff=0)
    with pytest.raises(InputError, match="sample size"):
        bounds_from_shares({**shares, "hard_to_say": 0.13}, MIDDLE, n=0, deff=1.5)
