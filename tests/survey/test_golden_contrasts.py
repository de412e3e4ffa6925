"""Golden test of ``pollwaves.survey.estimation.share_contrasts`` against R ``svycontrast``.

Expected values: ``tests/survey/reference/contrasts.R`` (run with R; output committed). A difference
of two shares of the same sample (its SE needs their covariance) and a combined share, as
toplines and by region, on weights-only, strata + PSU and raking-calibrated designs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollwaves.survey.estimation import share_contrasts

REF = Path(__file__).parent / "reference"
CONTRASTS = {
    "lab_minus_con": {"lab": 1, "con": -1},
    "lab_plus_other": {"lab": 1, "other": 1},
}
DESIGNS = {
    "weights": {"weight": "weight"},
    "design": {"weight": "weight", "strata": "stratum", "psu": "psu"},
    "cal_unif": {"weight": "calw", "calibrated_on": ["sex", "age", "educ"]},
}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = pd.read_csv(REF / "data" / "props.csv")
    cw = pd.read_csv(REF / "expected" / "proportions_calweights.csv")
    cw = cw[cw["design"] == "cal_unif"].set_index("id")
    return d.assign(calw=cw.loc[d["id"], "weight"].to_numpy())


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_share_contrasts_match_r_svycontrast(data, design):
    exp = pd.read_csv(REF / "expected" / "contrasts.csv")
    exp = exp[exp["design"] == design]
    opts = DESIGNS[design]
    top = share_contrasts(data, "vote3", contrasts=CONTRASTS, **opts).assign(region="all")
    dom = share_contrasts(data, "vote3", contrasts=CONTRASTS, by="region", **opts)
    got = pd.concat([top, dom], ignore_index=True).rename(columns={"region": "domain"})
    merged = exp.merge(got, on=["domain", "contrast"], suffixes=("_r", ""))
    assert len(merged) == len(exp) == 10
    for col in ["estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=1e-6, err_msg=col)
    assert (merged["df"] == merged["df_r"]).all()
    worst = max(
        float(np.max(np.abs(merged[c] / merged[f"{c}_r"] - 1)))
        for c in ["estimate", "se", "ci_low", "ci_high"]
    )
    print(f"{design}: largest relative difference vs R {worst:.1e}")


def test_difference_se_uses_the_covariance(data):
    res = share_contrasts(data, "vote3", "weight", {"d": {"lab": 1, "con": -1}})
    from pollwaves.survey.estimation import proportions

    p = proportions(data, "vote3", "weight").set_index("category")
    naive = np.sqrt(p.loc["lab", "se"] ** 2 + p.loc["con", "se"] ** 2)
    # shares of one sample are negatively correlated: the true SE exceeds the naive one
    assert res["se"].iloc[0] > naive * 1.05
