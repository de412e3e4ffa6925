"""Unit tests of design-based proportions on tiny inline frames.

Golden values against R `survey` live in tests/survey/test_golden_proportions.py; here the
formulas are checked by hand on frames small enough to compute on paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.estimation import RESULT_COLUMNS, proportions, toplines


def test_unweighted_proportion_matches_srs_formula():
    df = pd.DataFrame({"y": ["a", "a", "b", "b", "b"]})
    res = proportions(df, "y", None)
    a = res.set_index("category").loc["a"]
    p, n = 0.4, 5
    # with equal weights the linearised variance is p(1-p)/(n-1)
    assert a["estimate"] == pytest.approx(p)
    assert a["se"] == pytest.approx(np.sqrt(p * (1 - p) / (n - 1)))
    assert a["n"] == 5


def test_weighted_estimate_and_se_by_hand():
    df = pd.DataFrame({"y": ["a", "b", "a", "b"], "w": [1.0, 1.0, 3.0, 1.0]})
    res = proportions(df, "y", "w").set_index("category")
    p = 4 / 6
    z = np.array([1 * (1 - p), 1 * (0 - p), 3 * (1 - p), 1 * (0 - p)]) / 6
    var = 4 / 3 * np.sum((z - z.mean()) ** 2)
    assert res.loc["a", "estimate"] == pytest.approx(p)
    assert res.loc["a", "se"] == pytest.approx(np.sqrt(var))


def test_missing_answers_are_excluded_from_the_base():
    df = pd.DataFrame({"y": ["a", None, "b", "a"], "w": [1.0, 5.0, 1.0, 2.0]})
    res = proportions(df, "y", "w").set_index("category")
    assert res.loc["a", "estimate"] == pytest.approx(3 / 4)
    assert res.loc["a", "n"] == 3


def test_shares_sum_to_one_within_each_domain_and_order_does_not_matter():
    rng = np.random.default_rng(11)
    df = pd.DataFrame(
        {
            "y": rng.choice(["a", "b", "c"], 200),
            "g": rng.choice(["x", "z"], 200),
            "w": rng.uniform(0.5, 3, 200),
        }
    )
    res = proportions(df, "y", "w", by="g")
    sums = res.groupby("g")["estimate"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert (res["n_eff"] <= res["n"] * 1.5).all()
    perm = proportions(df.sample(frac=1, random_state=1), "y", "w", by="g")
    pd.testing.assert_frame_equal(res, perm)


def test_toplines_has_fixed_result_columns_and_skips_unasked_questions():
    df = pd.DataFrame(
        {
            "q1": ["yes", "no", "yes"],
            "q2": [None, None, None],
            "sex": ["m", "f", "f"],
            "weight": [1.0, 2.0, 1.0],
        }
    )
    res = toplines(df, ["q1", "q2"], "weight", wave="2022-03", by=["sex"])
    assert list(res.columns) == [*RESULT_COLUMNS, "flag"]
    assert set(res["question"]) == {"q1"}
    assert set(res["domain"]) == {"all", "sex=m", "sex=f"}
    assert (res["wave"] == "2022-03").all()


def test_bad_inputs_raise_clear_errors():
    df = pd.DataFrame({"y": ["a", "b"], "w": [1.0, 0.0]})
    with pytest.raises(InputError, match="positive") as e:
        proportions(df, "y", "w")
    assert "row=2" in str(e.value)
    with pytest.raises(InputError, match="Column not found"):
        proportions(df, "nope", "w")
    with pytest.raises(InputError, match="ci_method"):
        proportions(df.assign(w=1.0), "y", "w", ci_method="exact")
