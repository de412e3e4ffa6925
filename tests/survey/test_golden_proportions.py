"""Golden tests of ``pollwaves.survey.estimation.proportions`` against R ``survey``.

Golden values come from ``tests/survey/reference/proportions.R`` (``svyciprop``, ``svymean(...,
deff=TRUE)`` and ``svyby``; run with R, output committed in ``tests/survey/reference/expected``); CI
has no R and only reads the CSVs. Inputs are ``tests/survey/reference/data/props.csv`` and
``props_margins.csv`` from ``tests/survey/reference/make_props_data.py``.

Cases: ``weights_only`` (``ids=~1``), ``strata_psu`` (4 strata x 5 PSUs), ``calibrated``
(raking calibration on sex + age + educ with base weights 1, unequal base weights, and unequal
base weights in the stratified design; R's calibrated weights are fed as ``weight``),
``small_domain`` (a domain of 20 respondents) and ``ci_methods`` (logit, beta and xlogit on a
question with a category of 2 answers, absent from most domains).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pollwaves.survey.estimation import proportions

REF = Path(__file__).parent / "reference"
COMPARED = ["estimate", "se", "ci_low", "ci_high", "deff"]
COLUMNS = ["category", "estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff", "flag"]
# design name in proportions.R -> (strata, psu, weights from R's calibration?, base weight)
DESIGNS = {
    "weights": (None, None, False, None),
    "design": ("stratum", "psu", False, None),
    "cal_unif": (None, None, True, None),
    "cal_base": (None, None, True, "base_weight"),
    "cal_design": ("stratum", "psu", True, "base_weight"),
}
CALIBRATED_ON = ["sex", "age", "educ"]
CASES = ["weights_only", "strata_psu", "calibrated", "small_domain", "ci_methods"]


@pytest.fixture(scope="module")
def props() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "props.csv")


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    e = pd.read_csv(REF / "expected" / "proportions.csv")
    e[["by", "domain"]] = e[["by", "domain"]].fillna("")
    return e


def _frame(props: pd.DataFrame, design: str) -> pd.DataFrame:
    """The respondents; for calibrated designs with R's raking weights as ``weight``."""
    if not DESIGNS[design][2]:
        return props
    cw = pd.read_csv(REF / "expected" / "proportions_calweights.csv")
    cw = cw[cw["design"] == design].set_index("id")
    out = props.copy()
    out["base_weight"] = cw.loc[out["id"], "base_weight"].to_numpy()
    out["weight"] = cw.loc[out["id"], "weight"].to_numpy()
    if design != "cal_unif":
        np.testing.assert_array_equal(out["base_weight"], props["weight"])
    return out


def _ours(props: pd.DataFrame, design: str, question: str, by: str, method: str):
    strata, psu, calibrated, base = DESIGNS[design]
    df = _frame(props, design)
    res = proportions(
        df,
        question,
        "weight",
        by=by or None,
        strata=strata,
        psu=psu,
        calibrated_on=CALIBRATED_ON if calibrated else None,
        ci_method=method,
        base_weight=base,
    )
    assert list(res.columns) == ([by] if by else []) + COLUMNS
    res = res.rename(columns={by: "domain"}) if by else res.assign(domain="")
    return res.assign(domain=res["domain"].astype(str))


def _rel(a: np.ndarray, d: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(d) & (d != 0)
    return float(np.max(np.abs(a[ok] - d[ok]) / np.abs(d[ok]), initial=0.0))


@pytest.mark.parametrize("case", CASES)
def test_proportions_match_r_survey(props, expected, case):
    exp_case = expected[expected["case"] == case]
    groups = exp_case.groupby(["design", "question", "by", "method"], sort=False)
    worst: dict[str, dict[str, float]] = {}
    n_checked = 0
    for (design, question, by, method), exp in groups:
        ours = _ours(props, design, question, by, method)
        m = exp.merge(ours, on=["domain", "category"], how="left", suffixes=("_r", ""))
        where = f"{case}/{design}/{question}/by={by or '-'}/{method}"
        assert len(ours) == len(exp), where
        assert m["estimate"].notna().all(), f"{where}: rows missing from our result"
        np.testing.assert_array_equal(m["n"], m["n_r"], err_msg=where)
        # p = 0: R's svyglm cannot converge and svyciprop(method="logit") returns a
        # meaningless ~1e-12-wide interval near 3e-12; we return NaN there, as xlogit and beta
        # (delta method / effective n at p = 0) do in R.
        degenerate = (method == "logit") & (m["estimate_r"] == 0)
        if degenerate.any():
            assert (m.loc[degenerate, ["ci_low_r", "ci_high_r"]].abs() < 1e-9).all(axis=None)
            assert m.loc[degenerate, ["ci_low", "ci_high"]].isna().all(axis=None), where
        for col in COMPARED:
            a = m[col].to_numpy(dtype=float)
            d = m[f"{col}_r"].to_numpy(dtype=float)
            if col in ("ci_low", "ci_high"):
                a, d = a[~degenerate], d[~degenerate]
            # NaN where R has NaN (deff 0/0 at p = 0; beta / xlogit limits at p = 0)
            np.testing.assert_array_equal(np.isnan(a), np.isnan(d), err_msg=f"{where} {col}")
            np.testing.assert_allclose(a, d, rtol=1e-6, atol=0, err_msg=f"{where} {col}")
            by_method = worst.setdefault(method, dict.fromkeys(COMPARED, 0.0))
            by_method[col] = max(by_method[col], _rel(a, d))
        n_checked += len(m)
    for method, cols in worst.items():
        summary = ", ".join(f"{k} {v:.2e}" for k, v in cols.items())
        print(f"proportions {case} [{method}]: largest relative difference vs R: {summary}")
    assert n_checked >= 12


def test_ci_methods_case_covers_rare_and_absent_categories(expected):
    e = expected[expected["case"] == "ci_methods"]
    assert set(e["method"]) == {"logit", "beta", "xlogit"}
    top = e[(e["by"] == "") & (e["category"] == "green")]
    assert ((top["estimate"] > 0) & (top["estimate"] < 0.02)).all()
    absent = e[(e["estimate"] == 0) & (e["method"] != "logit")]
    assert len(absent) > 0 and absent[["ci_low", "ci_high", "deff"]].isna().all(axis=None)
    assert (e.loc[e["estimate"] == 0, "se"] == 0).all()
    small = expected[(expected["case"] == "small_domain") & (expected["domain"] == "yes")]
    assert (small["n"] == 20).all()


def test_n_eff_is_n_over_deff(props, expected):
    # n_eff = n / deff wherever R's deff is defined
    e = expected[(expected["case"] == "strata_psu") & (expected["by"] == "region")]
    ours = _ours(props, "design", "vote3", "region", "logit")
    m = e.merge(ours, on=["domain", "category"], suffixes=("_r", ""))
    ok = m["deff_r"].notna()
    assert ok.sum() >= 8
    np.testing.assert_allclose(m.loc[ok, "n_eff"], m.loc[ok, "n"] / m.loc[ok, "deff_r"], rtol=1e-6)


@pytest.mark.parametrize(("design", "by"), [("weights", ""), ("design", "region"), ("design", "")])
def test_wilson_is_textbook_wilson_with_effective_n_and_t_quantile(props, expected, design, by):
    # R survey has no Wilson interval: check it against the formula, with n replaced by the
    # effective n = p(1-p)/se^2 and z = qt(0.975, df), from R's estimate, se and df.
    e = expected[
        (expected["case"] == "ci_methods")
        & (expected["design"] == design)
        & (expected["by"] == by)
        & (expected["method"] == "logit")
    ]
    ours = _ours(props, design, "party", by, "wilson")
    m = e.merge(ours, on=["domain", "category"], suffixes=("_r", ""))
    m = m[(m["estimate_r"] > 0) & (m["estimate_r"] < 1)]
    assert len(m) >= 4
    p, se, dof = m["estimate_r"], m["se_r"], m["df"]
    n = p * (1 - p) / se**2
    z = stats.t.ppf(0.975, dof)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    np.testing.assert_allclose(m["ci_low"], centre - half, rtol=1e-6)
    np.testing.assert_allclose(m["ci_high"], centre + half, rtol=1e-6)
    assert (m["ci_low"] > 0).all() and (m["ci_high"] < 1).all()
    # Wilson limits are not symmetric about p (unlike a Wald interval)
    assert not np.allclose(m["ci_high"] - p, p - m["ci_low"], rtol=1e-3)
