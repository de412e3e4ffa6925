"""Tests of the design-based multinomial logit (``pollwaves.survey.mnlogit.weighted_mnlogit``).

Golden values come from ``tests/survey/reference/mnlogit.R`` (R ``nnet::multinom`` and ``survey``;
output committed in ``tests/survey/reference/expected/mnlogit_*.csv``); CI has no R and only reads
the CSVs. The design SEs are also checked against an independent method, the delete-one-PSU
jackknife (JK1), on a larger simulated sample.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.estimation import proportions
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.mnlogit import weighted_mnlogit
from pollwaves.survey.mnlogit_core import information as _information
from pollwaves.survey.mnlogit_core import newton as _newton
from pollwaves.survey.mnlogit_core import softmax as _softmax

REF = Path(__file__).parent / "reference"
FORMULA = "alliance ~ C(wave) + C(sex) + x"
CASES = {"weights": (None, None, None), "design": ("russia", "stratum", "psu")}
TERMS = ["Intercept", "C(wave)[T.2023-05]", "C(wave)[T.2024-02]", "C(sex)[T.male]", "x"]
CATS = ["both", "eu", "hard_to_say", "outside", "russia"]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "mnlogit.csv")


def _expected(name: str, case: str) -> pd.DataFrame:
    e = pd.read_csv(REF / "expected" / f"mnlogit_{name}.csv")
    return e[e["case"] == case].reset_index(drop=True)


def _max_rel(actual, desired) -> float:
    a, d = np.asarray(actual, dtype=float), np.asarray(desired, dtype=float)
    return float(np.max(np.abs(a - d) / np.abs(d)))


def _flat(frame: pd.DataFrame) -> np.ndarray:
    """Category-major coefficient vector (R multinom's ``as.vector(t(coef(fit)))``)."""
    return frame.T.to_numpy().ravel()


@pytest.mark.parametrize("case", list(CASES))
def test_matches_r_multinom_and_survey(survey, case):
    reference, strata, psu = CASES[case]
    res = weighted_mnlogit(survey, FORMULA, "weight", reference, strata=strata, psu=psu)
    coef, vcov = _expected("coef", case), _expected("vcov", case)
    k = len(coef)
    r_vcov = np.zeros((k, k))
    r_vcov[vcov["i"] - 1, vcov["j"] - 1] = vcov["value"]
    # model-based (case-weight) covariance solve(multinom Hessian): checks the information
    f = res._f
    prob, _ = _softmax(f["x"], f["beta"])
    a = _information(f["x"], f["w_all"][f["used"]], prob)
    pairs = {
        "estimate": (_flat(res.params), coef["estimate"]),
        "se": (_flat(res.bse), coef["se"]),
        "vcov": (res.cov_params().to_numpy(), r_vcov),
        "se_model": (np.sqrt(np.diag(np.linalg.inv(a))), coef["se_model"]),
        "loglik": (res.llf, coef["loglik"].iloc[0]),
    }
    # vcov: relative to its largest element (some covariances are ~1e-4 of it)
    rel = {n: _max_rel(a, d) for n, (a, d) in pairs.items() if n != "vcov"}
    rel["vcov"] = float(np.max(np.abs(pairs["vcov"][0] - r_vcov)) / np.max(np.abs(r_vcov)))
    worst = max((v, n) for n, v in rel.items())
    print(f"multinom {case}: largest relative difference vs R {worst[0]:.2e} ({worst[1]})")
    print(", ".join(f"{n} {v:.1e}" for n, v in rel.items()))
    assert worst[0] < 1e-5
    assert res.nobs == coef["nobs"].iloc[0] == 466
    assert res.df_resid == coef["df_resid"].iloc[0]
    assert res.design_df == coef["design_df"].iloc[0]
    ref = reference or "both"
    assert res.reference == ref and res.categories == CATS
    assert list(res.params.columns) == [c for c in CATS if c != ref]
    assert list(res.params.index) == TERMS == list(res.bse.index)
    assert list(coef["category"]) == [c for c in CATS if c != ref for _ in TERMS]
    assert res.cov_params().index[0] == (CATS[1] if ref == "both" else "both", "Intercept")


@pytest.mark.parametrize("case", list(CASES))
def test_predicted_shares_by_model_factor_match_r_svyciprop(survey, case):
    # with wave in the model, predicted shares by wave are the observed weighted shares
    reference, strata, psu = CASES[case]
    res = weighted_mnlogit(survey, FORMULA, "weight", reference, strata=strata, psu=psu)
    exp = _expected("shares", case)
    got = pd.concat(
        [
            res.predicted_shares(by="wave"),
            res.predicted_shares().assign(wave="all"),
            res.combined_share(None, ["both", "outside"], by="wave"),
            res.combined_share(survey, ["both", "outside"]).assign(wave="all"),
        ]
    )
    m = exp.merge(got, on=["wave", "category"], suffixes=("_r", ""), validate="1:1")
    assert len(m) == len(exp) == 6 * 4
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(m[col], m[f"{col}_r"], rtol=1e-9, err_msg=col)


def _jk_sample(n_psu: int = 100, m: int = 40, seed: int = 11) -> pd.DataFrame:
    """4,000 respondents in 100 PSUs with PSU effects; 24 coefficients."""
    rng = np.random.default_rng(seed)
    n = n_psu * m
    psu = np.repeat(np.arange(n_psu), m)
    eff = rng.normal(0, 0.3, (n_psu, 4))[psu]
    wave = rng.choice(["2021", "2022", "2023", "2024"], n)
    sex = rng.choice(["f", "m"], n)
    x = rng.normal(size=n)
    region = rng.choice(["a", "b", "c"], n)
    we = pd.Series(wave).map({"2021": 0, "2022": 0.3, "2023": 0.5, "2024": 0.8}).to_numpy()
    male = (sex == "m") * 1.0
    eta = np.column_stack(
        [
            np.zeros(n),
            0.5 + we + 0.3 * male + 0.4 * x + eff[:, 0],
            0.1 + 0.5 * we - 0.2 * male + eff[:, 1],
            -0.2 + 0.2 * we + 0.3 * male - 0.3 * x + eff[:, 2],
            0.2 - 0.4 * male - 0.2 * x + eff[:, 3],
        ]
    )
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    y = (rng.uniform(size=n)[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    cats = np.array(["russia", "eu", "both", "outside", "hard_to_say"])
    return pd.DataFrame(
        {"psu": psu, "w": rng.lognormal(0, 0.5, n), "alliance": cats[y], "wave": wave}
        | {"sex": sex, "x": x, "region": region}
    )


def test_linearisation_ses_agree_with_jk1_jackknife_within_2_percent():
    df = _jk_sample()
    n_psu = df["psu"].nunique()
    res = weighted_mnlogit(df, "alliance ~ C(wave) + C(sex) + x", "w", psu="psu")
    shares = res.predicted_shares(by="region")
    # replicate fits on the model matrix (delete one PSU; replicate weights n/(n-1) w are
    # irrelevant to the point estimates), then the replicate predicted shares by region
    f = res._f
    x, w, psu = f["x"], df["w"].to_numpy(), df["psu"].to_numpy()
    yk = pd.Categorical(df["alliance"], categories=f["order"]).codes
    region = pd.factorize(df["region"], sort=True)[0]
    perm = [f["order"].index(c) for c in res.categories]
    thetas, reps = [], []
    for r in range(n_psu):
        keep = psu != r
        beta, ok = _newton(x[keep], yk[keep], w[keep] / w[keep].mean(), 4)
        assert ok
        prob = _softmax(x[keep], beta)[0][:, perm]
        wk, g = w[keep], region[keep]
        thetas.append(beta.T.ravel())
        reps.append([np.average(prob[g == j], axis=0, weights=wk[g == j]) for j in range(3)])
        if r == 0:  # the shortcut is the public fit on the data without the PSU
            sub = weighted_mnlogit(df[keep], "alliance ~ C(wave) + C(sex) + x", "w")
            np.testing.assert_allclose(_flat(sub.params), thetas[0], rtol=1e-10)
    ratios = {}
    for name, reps_, lin in [
        ("coefficients", np.array(thetas), _flat(res.bse)),
        ("shares by region", np.array(reps).reshape(n_psu, -1), shares["se"].to_numpy()),
    ]:
        v_jk1 = (n_psu - 1) / n_psu * ((reps_ - reps_.mean(axis=0)) ** 2).sum(axis=0)
        ratios[name] = np.sqrt(v_jk1) / lin
        print(f"JK1/linearisation SE, {name}: {ratios[name].min():.4f}-{ratios[name].max():.4f}")
    assert len(ratios["coefficients"]) == 24 and len(ratios["shares by region"]) == 15
    for name, ratio in ratios.items():
        assert np.all(np.abs(ratio - 1) < 0.02), (name, ratio)


def _tiny(n: int = 120, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "g": rng.choice(["a", "b", "c"], n),
            "x": rng.normal(size=n),
            "w": rng.choice([1.0, 2.0, 3.0], n),
            "h": np.repeat(["s1", "s2"], n // 2),
            "c": np.repeat(np.arange(12), n // 12),
        }
    )
    eta = np.column_stack([np.zeros(n), 0.3 + df["x"], -0.2 + 0.5 * (df["g"] == "b")])
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    df["y"] = np.array(["p", "q", "r"])[(rng.uniform(size=n)[:, None] > prob.cumsum(1)).sum(1)]
    return df


def test_weights_matter_and_equal_frequency_replication_for_the_estimates():
    df = _tiny()
    res = weighted_mnlogit(df, "y ~ C(g) + x", "w")
    unweighted = weighted_mnlogit(df, "y ~ C(g) + x", None)
    assert np.max(np.abs(res.params - unweighted.params).to_numpy()) > 0.05
    expanded = df.loc[df.index.repeat(df["w"].astype(int))]
    freq = weighted_mnlogit(expanded, "y ~ C(g) + x", None)
    pd.testing.assert_frame_equal(res.params, freq.params, rtol=1e-8)
    # sampling weights are not frequency weights: sum(w) respondents were not observed
    assert np.all((res.bse / freq.bse).to_numpy() > 1.1)
    assert res.nobs == len(df) and freq.nobs == len(expanded)


def test_results_do_not_depend_on_row_order():
    df = _tiny()
    args = ("y ~ C(g) + x", "w", None, "h", "c")
    res = weighted_mnlogit(df, *args)
    perm = weighted_mnlogit(df.sample(frac=1, random_state=5), *args)
    pd.testing.assert_frame_equal(res.params, perm.params, rtol=1e-9)
    pd.testing.assert_frame_equal(res.cov_params(), perm.cov_params(), rtol=1e-8)
    pd.testing.assert_frame_equal(
        res.predicted_shares(by="h"), perm.predicted_shares(by="h"), rtol=1e-8
    )
    assert res.df_resid == perm.df_resid == 12 - 2 + 1 - 8


def test_two_categories_equal_weighted_logit():
    df = _tiny().assign(y=lambda d: np.where(d["y"] == "q", "yes", "no"))
    mn = weighted_mnlogit(df, "y ~ C(g) + x", "w", strata="h", psu="c")
    lo = weighted_logit(df.assign(v=(df["y"] == "yes") * 1), "v ~ C(g) + x", "w", "h", "c")
    np.testing.assert_allclose(mn.params["yes"], lo.params, rtol=1e-8)
    np.testing.assert_allclose(mn.cov_params().to_numpy(), lo.cov_params().to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(mn.pvalues["yes"], lo.pvalues, rtol=1e-6)
    assert mn.df_resid == lo.df_resid
    assert mn.wald_test("C(g)").f_stat == pytest.approx(lo.wald_test("C(g)").f_stat)


def test_reference_changes_parametrisation_not_probabilities():
    df = _tiny()
    a = weighted_mnlogit(df, "y ~ C(g) + x", "w")
    b = weighted_mnlogit(df, "y ~ C(g) + x", "w", reference="r")
    assert a.reference == "p" and b.reference == "r" and a.categories == b.categories
    assert list(b.params.columns) == ["p", "q"]
    np.testing.assert_allclose(b.params["q"], a.params["q"] - a.params["r"], atol=1e-8)
    pd.testing.assert_frame_equal(a.predict(df), b.predict(df), atol=1e-10)
    cat = df.assign(y=pd.Categorical(df["y"], categories=["r", "q", "p"]))
    c = weighted_mnlogit(cat, "y ~ C(g) + x", "w")  # categorical order: "r" first
    assert c.reference == "r" and c.categories == ["r", "q", "p"]
    pd.testing.assert_frame_equal(c.params[["p", "q"]], b.params)


def test_missing_rows_are_dropped_but_stay_in_the_design():
    df = _tiny()
    df.loc[[0, 7], "x"] = np.nan
    df.loc[30, "y"] = None
    res = weighted_mnlogit(df, "y ~ x", "w")
    sub = weighted_mnlogit(df.dropna(), "y ~ x", "w")
    n_all, n = len(df), len(df) - 3
    assert res.nobs == sub.nobs == n
    pd.testing.assert_frame_equal(res.params, sub.params)
    ratio = (n_all / (n_all - 1)) / (n / (n - 1))  # n/(n-1) with the full design's n
    np.testing.assert_allclose(res.bse.to_numpy(), sub.bse.to_numpy() * np.sqrt(ratio))
    pred = res.predict(df)
    assert pred.loc[[0, 7]].isna().all().all() and pred.loc[30].notna().all()
    np.testing.assert_allclose(pred.drop(index=[0, 7]).sum(axis=1), 1.0)
    assert list(pred.columns) == ["p", "q", "r"] and pred.index.equals(df.index)


def test_predicted_shares_and_combined_share():
    df = _tiny().assign(region=lambda d: np.where(d["c"] % 3 == 0, "n", "s"))
    res = weighted_mnlogit(df, "y ~ C(g) + x", "w", strata="h", psu="c")
    by_g = res.predicted_shares(by="g")
    # g is in the model: predicted shares by g are the observed weighted shares (same SEs)
    obs = proportions(df, "y", "w", by="g", strata="h", psu="c")
    np.testing.assert_allclose(by_g["estimate"], obs["estimate"], rtol=1e-9)
    np.testing.assert_allclose(by_g["se"], obs["se"], rtol=1e-8)
    by_r = res.predicted_shares(df, by=["region", "h"])
    assert list(by_r.columns) == ["region", "h", "category", "estimate", "se", "ci_low", "ci_high"]
    assert len(by_r) == 4 * 3
    np.testing.assert_allclose(by_r.groupby(["region", "h"])["estimate"].sum(), 1.0)
    assert (by_r["ci_low"] < by_r["estimate"]).all() and (by_r["estimate"] < by_r["ci_high"]).all()
    comb = res.combined_share(df, ["p", "r"], by="region")
    parts = res.predicted_shares(df, by="region").query("category != 'q'")
    sums = parts.groupby("region")[["estimate", "se"]].sum()
    np.testing.assert_allclose(comb["estimate"], sums["estimate"], rtol=1e-12)
    # the union's share is 1 - share(q): same SE, not the sum of the parts' SEs
    q = res.predicted_shares(df, by="region").query("category == 'q'")
    np.testing.assert_allclose(comb["se"], q["se"], rtol=1e-10)
    assert np.all(comb["se"].to_numpy() < sums["se"].to_numpy() * 0.9)
    assert list(comb["category"]) == ["p + r", "p + r"]
    # counterfactual margins: everyone in group "a"
    cf = res.predicted_shares(df.assign(g="a"))
    assert not np.allclose(cf["estimate"], res.predicted_shares()["estimate"], atol=1e-3)
    wide = res.predicted_shares(level=0.99)
    narrow = res.predicted_shares(level=0.5)
    assert ((wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])).all()


def test_wald_test_and_conf_int():
    res = weighted_mnlogit(_tiny(), "y ~ C(g) + x", "w", strata="h", psu="c")
    wt = res.wald_test("C(g)")
    assert wt.df_num == 2 * 2 and wt.df_denom == res.df_resid
    idx = [(c, t) for c in ("q", "r") for t in ("C(g)[T.b]", "C(g)[T.c]")]
    b = res.params.T.stack().loc[idx].to_numpy()
    v = res.cov_params().loc[idx, idx].to_numpy()
    assert wt.chisq == pytest.approx(b @ np.linalg.solve(v, b))
    assert res.wald_test(["C(g)", "x"]).df_num == 6
    ci = res.conf_int(0.1)
    assert list(ci.columns) == [0, 1] and ci.index.names == ["category", "term"]
    est = res.params.T.stack()
    assert (ci[0] < est).all() and (ci[1] > est).all()
    assert res.pvalues.shape == (4, 2) and ((res.pvalues > 0) & (res.pvalues < 1)).all().all()


def test_bad_inputs_raise_input_errors():
    df = _tiny()
    f = "y ~ C(g) + x"
    with pytest.raises(InputError, match="Weight column not found"):
        weighted_mnlogit(df, f, "weight")
    with pytest.raises(InputError, match="response must be a column"):
        weighted_mnlogit(df, "vote ~ x", "w")
    with pytest.raises(InputError, match="model matrix"):
        weighted_mnlogit(df, "y ~ nope", "w")
    with pytest.raises(InputError, match="Column not found"):
        weighted_mnlogit(df, f, "w", psu="cluster")
    with pytest.raises(InputError, match="positive") as e:
        weighted_mnlogit(df.assign(w=np.where(df.index == 4, -1.0, df["w"])), f, "w")
    assert "row=5" in str(e.value)
    unused = df.assign(y=pd.Categorical(df["y"], categories=["p", "q", "r", "s"]))
    with pytest.raises(InputError, match="no cases") as e:
        weighted_mnlogit(unused, f, "w")
    assert "'s'" in str(e.value)
    only_na = df.assign(x=df["x"].where(df["y"] != "r"))  # every "r" lacks x
    with pytest.raises(InputError, match="no cases"):
        weighted_mnlogit(only_na, f, "w")
    with pytest.raises(InputError, match="at least two categories"):
        weighted_mnlogit(df.assign(y="p"), f, "w")
    with pytest.raises(InputError, match="Unknown reference"):
        weighted_mnlogit(df, f, "w", reference="s")
    with pytest.raises(InputError, match="rank deficient"):
        weighted_mnlogit(df.assign(x2=2 * df["x"]), "y ~ x + x2", "w")
    separated = df.assign(y=np.where(df["g"] == "a", "p", df["y"]))
    with pytest.raises(InputError, match="did not converge"):
        weighted_mnlogit(separated, f, "w")
    with pytest.raises(InputError, match="formula"):
        weighted_mnlogit(df, "y x", "w")
    res = weighted_mnlogit(df, f, "w")
    with pytest.raises(InputError, match="Unknown model term"):
        res.wald_test("C(h)")
    with pytest.raises(InputError, match="rows of the fitted sample"):
        res.predicted_shares(df.iloc[1:])
    with pytest.raises(InputError, match="rows of the fitted sample"):
        res.predicted_shares(df.sample(frac=1, random_state=1))
    with pytest.raises(InputError, match="Column not found"):
        res.predicted_shares(by="region")
    with pytest.raises(InputError, match="Unknown, repeated"):
        res.combined_share(None, ["p", "s"])
    with pytest.raises(InputError, match="model matrix for prediction"):
        res.predict(df.assign(g="zzz"))


def test_importing_the_module_first_has_no_import_cycle():
    code = "import pollwaves.survey.mnlogit as m, pollwaves.survey.glm as p; assert m.weighted_mnlogit, p.weighted_logit"
    subprocess.run([sys.executable, "-c", code], check=True)
