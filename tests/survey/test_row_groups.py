"""Grouped rows (:class:`pollwaves.survey.design.RowGroups`) give the respondents' results.

Respondents of one stratum who share every model variable and raking column are collapsed
to one row with their summed weights, their number and their summed squared weights. The
design-based logit and multinomial logit, their predicted shares and the design variance
must then equal those of the respondents' rows (to rounding), on the cell route and on the
row route, with and without calibration. Inline SIMULATED frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.design import design_codes, design_variance, row_groups
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.mnlogit import weighted_mnlogit

KEYS = ["wave", "sex", "edu", "age", "y", "al"]
GROUPS = {"group_size": "n", "group_weight_sq": "w2"}


def _respondents(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "wave": rng.choice(["a", "b", "c"], n),
            "sex": rng.choice(["m", "f"], n),
            "edu": rng.choice(["lo", "mid", "hi"], n),
            "age": rng.choice(["young", "old"], n),
            "al": rng.choice(["east", "west", "both", "none"], n),
        }
    )
    d["y"] = (rng.random(n) < 0.3 + 0.2 * (d["sex"] == "m")).astype(float)
    d.loc[rng.random(n) < 0.05, "y"] = np.nan  # refusals stay in the design
    d["w"] = rng.choice([0.5, 1.0, 1.7, 2.2, 0.8], n) * rng.uniform(0.9, 1.1, n).round(1)
    return d


def _grouped(d: pd.DataFrame) -> pd.DataFrame:
    parts = d.assign(w2=d["w"] ** 2, n=1.0)
    grouped = parts.groupby(KEYS, dropna=False, observed=True, sort=True)
    return grouped.agg(w=("w", "sum"), w2=("w2", "sum"), n=("n", "sum")).reset_index()


DESIGNS = {
    "strata": {"strata": "wave"},
    "calibrated": {"strata": "wave", "calibrated_on": ["sex", "edu"], "calibration_by": "wave"},
}


# 4,000 respondents in ~400 patterns: the cell route; 60 in ~55: the row route
@pytest.mark.parametrize("n", [4000, 60])
@pytest.mark.parametrize("design", list(DESIGNS))
def test_grouped_logit_equals_respondents(n, design):
    d = _respondents(n)
    g = _grouped(d)
    assert len(g) < len(d)
    formula = "y ~ C(wave) + C(sex) + C(edu)"
    a = weighted_logit(d, formula, "w", **DESIGNS[design])
    b = weighted_logit(g, formula, "w", **DESIGNS[design], **GROUPS)
    assert (a.influence_cells() is None) == (b.influence_cells() is None) == (n == 60)
    np.testing.assert_allclose(b.params, a.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.cov_params(), a.cov_params(), rtol=1e-10, atol=1e-14)
    assert (b.df_resid, b.nobs, b.n_rows) == (a.df_resid, a.nobs, len(g) - g["y"].isna().sum())
    assert b.wald_test("C(edu)").p_value == pytest.approx(a.wald_test("C(edu)").p_value, rel=1e-9)


@pytest.mark.parametrize("n", [4000, 60])
@pytest.mark.parametrize("design", list(DESIGNS))
def test_grouped_mnlogit_and_its_shares_equal_respondents(n, design):
    d = _respondents(n)
    g = _grouped(d)
    formula = "al ~ C(wave) + C(sex) + C(edu)"
    a = weighted_mnlogit(d, formula, "w", **DESIGNS[design])
    b = weighted_mnlogit(g, formula, "w", **DESIGNS[design], **GROUPS)
    np.testing.assert_allclose(b.params, a.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.cov_params(), a.cov_params(), rtol=1e-10, atol=1e-14)
    assert (b.df_resid, b.design_df, b.nobs) == (a.df_resid, a.design_df, a.nobs)
    assert b.llf == pytest.approx(a.llf, rel=1e-12)
    for by in ("wave", "age", None):  # age: a variable outside the model
        x, y = a.predicted_shares(by=by), b.predicted_shares(by=by)
        np.testing.assert_allclose(y["estimate"], x["estimate"], rtol=1e-10)
        np.testing.assert_allclose(y["se"], x["se"], rtol=1e-9)
        np.testing.assert_allclose(y["ci_low"], x["ci_low"], rtol=1e-9)
    x = a.combined_share(None, ["both", "none"], by="wave")
    y = b.combined_share(None, ["both", "none"], by="wave")
    np.testing.assert_allclose(y["se"], x["se"], rtol=1e-9)


def test_grouped_design_variance_equals_respondents():
    d = _respondents(500, seed=4)
    g = _grouped(d)
    # linearised values of a weighted total: each respondent's weight times a function of
    # its variables, here of (edu, y)
    f = {"lo": 0.3, "mid": -1.2, "hi": 2.0}

    def vals(fr: pd.DataFrame) -> np.ndarray:
        return fr["edu"].map(f).to_numpy(float) + fr["y"].fillna(0.5).to_numpy(float)

    z_rows = (d["w"].to_numpy() * vals(d))[:, None] * [1.0, -2.0]
    z_groups = (g["w"].to_numpy() * vals(g))[:, None] * [1.0, -2.0]
    s, p = design_codes(d, "wave", None)
    sg, pg = design_codes(g, "wave", None)
    groups = row_groups(g, "w", "n", "w2")
    want = design_variance(z_rows, s, p, cov=True)
    got = design_variance(z_groups, sg, pg, cov=True, groups=groups)
    np.testing.assert_allclose(got, want, rtol=1e-11)
    np.testing.assert_allclose(
        design_variance(z_groups[:, 0], sg, pg, groups=groups), want[0, 0], rtol=1e-11
    )


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"n": 0.0}, "w2"),  # no respondents
        ({"n": 2.5}, "w2"),  # not a whole number
        ({"w2": 1e-6}, "w2"),  # below (sum w)^2 / n: impossible
        ({"w2": 1e6}, "w2"),  # above (sum w)^2
    ],
)
def test_impossible_grouped_rows_are_refused_with_the_row(change, column):
    g = _grouped(_respondents(200))
    for k, v in change.items():
        g.loc[3, k] = v
    with pytest.raises(InputError) as err:
        weighted_logit(g, "y ~ C(sex)", "w", strata="wave", **GROUPS)
    assert err.value.column == column and err.value.row == 4


def test_grouped_rows_need_their_columns_and_no_psu():
    g = _grouped(_respondents(200)).assign(psu=1)
    with pytest.raises(InputError, match="no PSU column"):
        weighted_logit(g, "y ~ C(sex)", "w", strata="wave", psu="psu", **GROUPS)
    with pytest.raises(InputError, match="summed weights"):
        weighted_logit(g, "y ~ C(sex)", None, group_size="n", group_weight_sq="w2")
    with pytest.raises(InputError, match="needs group_size"):
        weighted_logit(g, "y ~ C(sex)", "w", group_weight_sq="w2")
