"""Tests of the design-based logistic regression against R ``survey::svyglm``.

Golden values come from ``tests/survey/reference/models.R`` (run with R, output committed in
``tests/survey/reference/expected``); CI has no R and only reads the CSVs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pollwaves.errors import InputError
from pollwaves.survey.glm import weighted_logit

REF = Path(__file__).parent / "reference"
CASES = {
    "weights": ("vote ~ C(age_group) + x", None, None),
    "design": ("vote ~ C(age_group) + x", "stratum", "psu"),
    "design_bool": ('I(opinion == "agree") ~ C(age_group) + x', "stratum", "psu"),
}


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "survey.csv")


def _expected(name: str, case: str, control: str = "tight") -> pd.DataFrame:
    e = pd.read_csv(REF / "expected" / f"models_{name}.csv")
    return e[(e["case"] == case) & (e["control"] == control)].reset_index(drop=True)


def _max_rel(actual, desired) -> float:
    a, d = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    return float(np.max(np.abs(a - d) / np.abs(d)))


@pytest.mark.parametrize("case", list(CASES))
def test_matches_r_svyglm_and_regtermtest(survey, case):
    formula, strata, psu = CASES[case]
    res = weighted_logit(survey, formula, "weight", strata=strata, psu=psu)
    coef, vcov, wald = _expected("coef", case), _expected("vcov", case), _expected("wald", case)
    ci = res.conf_int(0.05)
    wt = res.wald_test("C(age_group)")
    k = len(res.params)
    r_vcov = np.zeros((k, k))
    r_vcov[vcov["i"] - 1, vcov["j"] - 1] = vcov["value"]
    w = wald.iloc[0]
    pairs = {
        "estimate": (res.params, coef["estimate"]),
        "se": (res.bse, coef["se"]),
        "t": (res.tvalues, coef["t"]),
        "p": (res.pvalues, coef["p"]),
        "ci_low": (ci[0], coef["ci_low"]),
        "ci_high": (ci[1], coef["ci_high"]),
        "vcov": (res.cov_params().to_numpy(), r_vcov),
        "df_resid": (res.df_resid, coef["df_resid"].iloc[0]),
        "nobs": (res.nobs, coef["nobs"].iloc[0]),
        "wald_F": (wt.f_stat, w["f"]),
        "wald_df": ([wt.df_num, wt.df_denom], [w["df"], w["ddf"]]),
        "wald_p": (wt.p_value, w["p"]),
        "wald_chisq": (wt.chisq, w["chisq"]),
        "wald_p_chisq": (wt.p_value_chisq, w["p_chisq"]),
    }
    worst = max((_max_rel(a, d), name) for name, (a, d) in pairs.items())
    print(f"svyglm {case}: largest relative difference vs R {worst[0]:.2e} ({worst[1]})")
    for name, (a, d) in pairs.items():
        np.testing.assert_allclose(np.asarray(a, dtype=float), d, rtol=1e-6, err_msg=name)
    assert list(res.params.index) == [
        "Intercept",
        "C(age_group)[T.35_54]",
        "C(age_group)[T.55_plus]",
        "x",
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_r_default_glm_convergence_differs_only_at_1e_4(survey, case):
    # R's default glm epsilon (1e-8) stops early and svyglm's sandwich then uses the
    # previous iteration's working weights; see tests/survey/reference/models.R.
    formula, strata, psu = CASES[case]
    res = weighted_logit(survey, formula, "weight", strata=strata, psu=psu)
    coef = _expected("coef", case, control="default")
    np.testing.assert_allclose(res.params, coef["estimate"], rtol=1e-6)
    np.testing.assert_allclose(res.bse, coef["se"], rtol=1e-3)


def _tiny(n: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], n),
            "x": rng.normal(size=n),
            "w": rng.uniform(0.5, 4, n),
            "h": np.repeat(["s1", "s2"], n // 2),
            "c": np.repeat(np.arange(12), n // 12),
        }
    )
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + df["x"])))).astype(int)
    return df


def _design_matrix(df: pd.DataFrame) -> pd.DataFrame:
    """Intercept, C(g)[T.b], C(g)[T.c], x: the column order of the formula."""
    dummies = pd.get_dummies(df["g"], prefix="g", drop_first=True, dtype=float)
    return sm.add_constant(pd.concat([dummies, df["x"]], axis=1))


def test_weights_only_equals_hc0_times_n_over_n_minus_1():
    df = _tiny()
    res = weighted_logit(df, "y ~ C(g) + x", "w")
    X = _design_matrix(df)
    hc0 = sm.GLM(df["y"], X, family=sm.families.Binomial(), var_weights=df["w"]).fit(
        cov_type="HC0"
    )
    n = len(df)
    np.testing.assert_allclose(res.params.to_numpy(), hc0.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(res.cov_params().to_numpy(), hc0.cov_params() * n / (n - 1))
    assert res.df_resid == n - 1 + 1 - 4
    assert res.nobs == n


def test_sampling_weights_are_not_frequency_weights():
    df = _tiny()
    res = weighted_logit(df, "y ~ C(g) + x", "w")
    X = _design_matrix(df)
    naive = sm.GLM(df["y"], X, family=sm.families.Binomial(), freq_weights=df["w"]).fit()
    np.testing.assert_allclose(res.params.to_numpy(), naive.params.to_numpy(), rtol=1e-8)
    # same point estimates, but frequency weights pretend sum(w) respondents were observed
    assert np.all(np.abs(res.bse.to_numpy() / naive.bse.to_numpy() - 1) > 0.05)


def test_results_do_not_depend_on_row_order():
    df = _tiny()
    res = weighted_logit(df, "y ~ C(g) + x", "w", strata="h", psu="c")
    perm = weighted_logit(df.sample(frac=1, random_state=5), "y ~ C(g) + x", "w", "h", "c")
    pd.testing.assert_series_equal(res.params, perm.params, rtol=1e-9)
    pd.testing.assert_frame_equal(res.cov_params(), perm.cov_params(), rtol=1e-8)
    assert res.df_resid == perm.df_resid == 12 - 2 + 1 - 4


def test_boolean_response_equals_01_column():
    df = _tiny().assign(v=lambda d: np.where(d["y"] == 1, "yes", "no"))
    a = weighted_logit(df, "y ~ x", "w")
    b = weighted_logit(df, 'I(v == "yes") ~ x', "w")
    pd.testing.assert_series_equal(a.bse, b.bse)


def test_missing_rows_are_dropped_but_stay_in_the_design():
    df = _tiny()
    df.loc[[0, 7, 30], "x"] = np.nan
    res = weighted_logit(df, "y ~ x", "w")
    sub = weighted_logit(df.dropna(), "y ~ x", "w")
    n_all, n = len(df), len(df) - 3
    assert res.nobs == sub.nobs == n
    assert res.df_resid == sub.df_resid == n - 1 + 1 - 2
    pd.testing.assert_series_equal(res.params, sub.params)
    # R keeps the dropped rows as (zero-score) PSUs: n/(n-1) uses the full design's n
    ratio = (n_all / (n_all - 1)) / (n / (n - 1))
    np.testing.assert_allclose(res.bse.to_numpy(), sub.bse.to_numpy() * np.sqrt(ratio))


def test_conf_int_and_wald_test_shapes():
    res = weighted_logit(_tiny(), "y ~ C(g) + x", "w", strata="h", psu="c")
    ci = res.conf_int(0.1)
    assert list(ci.columns) == [0, 1] and (ci[0] < res.params).all() and (ci[1] > res.params).all()
    wt = res.wald_test(["C(g)", "x"])
    assert wt.df_num == 3 and wt.df_denom == res.df_resid
    one = res.wald_test("x")
    assert one.f_stat == pytest.approx(res.tvalues["x"] ** 2)
    assert one.p_value == pytest.approx(res.pvalues["x"])
    assert set(res.summary_frame().columns) == {
        "estimate",
        "se",
        "t",
        "p_value",
        "ci_low",
        "ci_high",
    }


def test_bad_inputs_raise_input_errors():
    df = _tiny()
    with pytest.raises(InputError, match="(?i)column not found"):
        weighted_logit(df, "y ~ x", "weight")
    with pytest.raises(InputError, match="model matrix"):
        weighted_logit(df, "y ~ nope", "w")
    with pytest.raises(InputError, match="positive") as e:
        weighted_logit(df.assign(w=np.where(df.index == 4, 0.0, df["w"])), "y ~ x", "w")
    assert "row=5" in str(e.value)
    with pytest.raises(InputError, match="0/1"):
        weighted_logit(df.assign(y=df["y"] + 1), "y ~ x", "w")
    with pytest.raises(InputError, match="rank deficient"):
        weighted_logit(df.assign(x2=2 * df["x"]), "y ~ x + x2", "w")
    with pytest.raises(InputError, match="single PSU"):
        weighted_logit(df.assign(c=np.where(df["h"] == "s1", 0, df["c"])), "y ~ x", "w", "h", "c")
    with pytest.raises(InputError, match="Unknown model term"):
        weighted_logit(df, "y ~ x", "w").wald_test("C(g)")
    with pytest.raises(InputError, match="formula"):
        weighted_logit(df, "y x", "w")
