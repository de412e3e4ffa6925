"""Tests of the Rao-Scott tests of independence against R ``survey::svychisq``.

Golden values come from ``tests/survey/reference/raoscott.R`` (run with R, output committed in
``tests/survey/reference/expected``); CI has no R and only reads the CSVs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pollwaves.errors import InputError
from pollwaves.survey.raoscott import RESULT_COLUMNS, rao_scott

REF = Path(__file__).parent / "reference"
CASES = {"weights": (None, None), "design": ("stratum", "psu")}


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "survey.csv")


@pytest.mark.parametrize("case", list(CASES))
def test_matches_r_svychisq(survey, case):
    strata, psu = CASES[case]
    res = rao_scott(survey, "region", "opinion", "weight", strata=strata, psu=psu)
    exp = pd.read_csv(REF / "expected" / "raoscott.csv")
    exp = exp[exp["case"] == case].reset_index(drop=True)
    assert list(res.columns) == RESULT_COLUMNS
    assert list(res["statistic"]) == list(exp["statistic"]) == ["F", "Chisq"]
    cols = ["value", "df1", "df2", "p_value", "chisq_pearson"]
    a, d = res[cols].to_numpy(dtype=float), exp[cols].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        worst = np.nanmax(np.abs(a - d) / np.abs(d))
    print(f"svychisq {case}: largest relative difference vs R {worst:.2e}")
    np.testing.assert_allclose(a, d, rtol=1e-6)  # NaN df2 of Chisq compares equal


def _tiny(n: int = 120, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "r": rng.choice(["a", "b", "c"], n),
            "k": rng.choice(["p", "q", "s", "t"], n),
            "w": rng.uniform(0.5, 3, n),
            "h": np.repeat(["s1", "s2", "s3"], n // 3),
            "c": np.repeat(np.arange(12), n // 12),
        }
    )


def test_simple_random_sample_gives_deff_n_over_n_minus_1():
    # equal weights, ids=~1: Delta = n/(n-1) I exactly, so the corrections are known
    df = _tiny()
    n = len(df)
    x2 = stats.chi2_contingency(pd.crosstab(df["r"], df["k"]), correction=False)[0]
    res = rao_scott(df, "r", "k", None).set_index("statistic")
    k = 2 * 3
    assert res.loc["F", "chisq_pearson"] == pytest.approx(x2)
    assert res.loc["F", "value"] == pytest.approx(x2 / (k * n / (n - 1)))
    assert res.loc["F", "df1"] == pytest.approx(k)
    assert res.loc["F", "df2"] == pytest.approx(k * (n - 1))
    assert res.loc["Chisq", "value"] == pytest.approx(x2 * (n - 1) / n)
    assert res.loc["Chisq", "df1"] == k and np.isnan(res.loc["Chisq", "df2"])
    assert res.loc["Chisq", "p_value"] == pytest.approx(stats.chi2.sf(x2 * (n - 1) / n, k))


def test_row_order_and_category_order_do_not_matter():
    df = _tiny()
    res = rao_scott(df, "r", "k", "w", strata="h", psu="c")
    perm = rao_scott(df.sample(frac=1, random_state=2), "r", "k", "w", strata="h", psu="c")
    pd.testing.assert_frame_equal(res, perm, rtol=1e-9)
    rev = df.assign(r=pd.Categorical(df["r"], categories=["c", "b", "a"]))
    pd.testing.assert_frame_equal(res, rao_scott(rev, "r", "k", "w", "h", "c"), rtol=1e-9)
    swapped = rao_scott(df, "k", "r", "w", strata="h", psu="c")
    pd.testing.assert_frame_equal(res, swapped, rtol=1e-9)


def test_missing_answers_are_excluded_but_stay_in_the_design():
    df = _tiny()
    df.loc[[1, 50, 77], "k"] = None
    df.loc[[9], "r"] = np.nan
    res = rao_scott(df, "r", "k", "w", strata="h", psu="c")
    sub = rao_scott(df.dropna(), "r", "k", "w", strata="h", psu="c")
    # every PSU keeps answered rows, so only the table total N (all rows, as R) differs
    cols = ["value", "df1", "df2", "p_value"]
    pd.testing.assert_frame_equal(res[cols], sub[cols], rtol=1e-9)
    np.testing.assert_allclose(
        res["chisq_pearson"], sub["chisq_pearson"] * len(df) / (len(df) - 4)
    )


def test_bad_inputs_raise_input_errors():
    df = _tiny()
    with pytest.raises(InputError, match="(?i)column not found"):
        rao_scott(df, "r", "nope", "w")
    with pytest.raises(InputError, match="(?i)column not found"):
        rao_scott(df, "r", "k", "weight")
    with pytest.raises(InputError, match="(?i)column not found"):
        rao_scott(df, "r", "k", "w", strata="stratum")
    with pytest.raises(InputError, match="positive") as e:
        rao_scott(df.assign(w=np.where(df.index == 2, -1.0, df["w"])), "r", "k", "w")
    assert "row=3" in str(e.value)
    with pytest.raises(InputError, match="two categories"):
        rao_scott(df.assign(k="p"), "r", "k", "w")
    with pytest.raises(InputError, match="different"):
        rao_scott(df, "r", "r", "w")
    with pytest.raises(InputError, match="single PSU"):
        rao_scott(df.assign(c=np.where(df["h"] == "s1", 0, df["c"])), "r", "k", "w", "h", "c")
