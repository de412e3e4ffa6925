"""Golden test of ``pollwaves.survey.domains.domain_difference`` against R ``survey``.

Expected values: ``tests/survey/reference/domain_differences.R`` (``svyby(..., covmat=TRUE)``
then ``svycontrast``, and the delta method on ``svytotal``; run with R, output committed).
Three cases (a domain variable without and one with missing values, missing answers too, and
a domain share of exactly 1) on weights-only, strata + PSU and three
raking-calibrated designs (R's calibrated weights fed as ``weight``, the base weights as
``base_weight``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.domains import domain_difference

REF = Path(__file__).parent / "reference"
CALIBRATED_ON = ["sex", "age", "educ"]
DESIGNS = {
    "weights": {"weight": "weight"},
    "design": {"weight": "weight", "strata": "stratum", "psu": "psu"},
    "cal_unif": {"weight": "calw", "calibrated_on": CALIBRATED_ON, "base_weight": "basew"},
    "cal_base": {"weight": "calw", "calibrated_on": CALIBRATED_ON, "base_weight": "basew"},
    "cal_design": {
        "weight": "calw",
        "calibrated_on": CALIBRATED_ON,
        "base_weight": "basew",
        "strata": "stratum",
        "psu": "psu",
    },
}
CASES = {
    "lab_east_west": ("vote3", "lab", "region", "east", "west"),
    "con_south_north": ("vote3", "con", "region_na", "south", "north"),
    "other_lab_lib": ("vote3", "other", "party", "lab", "lib"),
}
COMPARED = ["estimate", "se", "ci_low", "ci_high", "estimate_a", "estimate_b", "se_a", "se_b"]


def _frame(design: str) -> pd.DataFrame:
    d = pd.read_csv(REF / "data" / "props.csv")
    d["region_na"] = d["region"].where(d["party"].notna())  # as domain_differences.R
    if not design.startswith("cal_"):
        return d
    cw = pd.read_csv(REF / "expected" / "proportions_calweights.csv")
    cw = cw[cw["design"] == design].set_index("id")
    return d.assign(
        calw=cw.loc[d["id"], "weight"].to_numpy(), basew=cw.loc[d["id"], "base_weight"].to_numpy()
    )


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(REF / "expected" / "domain_differences.csv")


@pytest.mark.parametrize("design", sorted(DESIGNS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_domain_difference_matches_r(expected, design, case):
    exp = expected[(expected["design"] == design) & (expected["case"] == case)]
    assert len(exp) == 1
    exp = exp.iloc[0]
    var, cat, dom, a, b = CASES[case]
    got = domain_difference(_frame(design), var, cat, dom, a, b, **DESIGNS[design])
    worst = 0.0
    for col in COMPARED:
        assert got[col] == pytest.approx(exp[col], abs=1e-9, rel=1e-9), col
        worst = max(worst, abs(got[col] - exp[col]))
    assert got["cov_ab"] == pytest.approx(exp["cov_ab"], abs=1e-12), "cov_ab"
    assert (got["df"], got["n_a"], got["n_b"]) == (exp["df"], exp["n_a"], exp["n_b"])
    print(f"{design}/{case}: largest absolute difference vs R {worst:.1e}")


def test_difference_is_difference_of_domain_shares():
    d = _frame("design")
    got = domain_difference(d, "vote3", "lab", "region", "east", "west", "weight")
    for g, key in (("east", "estimate_a"), ("west", "estimate_b")):
        sub = d[(d["region"] == g) & d["vote3"].notna()]
        share = np.average(sub["vote3"] == "lab", weights=sub["weight"])
        assert got[key] == pytest.approx(share, abs=1e-12)
    assert got["estimate"] == pytest.approx(got["estimate_a"] - got["estimate_b"], abs=1e-15)


def test_calibration_makes_the_domain_shares_covary():
    # disjoint domains of an ids=~1 design are uncorrelated; raking residuals correlate them
    plain = domain_difference(
        _frame("weights"), "vote3", "lab", "region", "east", "west", "weight"
    )
    cal = domain_difference(
        _frame("cal_unif"), "vote3", "lab", "region", "east", "west", **DESIGNS["cal_unif"]
    )
    assert plain["cov_ab"] == pytest.approx(0.0, abs=1e-15)
    assert abs(cal["cov_ab"]) > 1e-6
    se = np.sqrt(cal["se_a"] ** 2 + cal["se_b"] ** 2 - 2 * cal["cov_ab"])
    assert cal["se"] == pytest.approx(se, rel=1e-12)


def test_one_sided_p_value():
    frame = pd.DataFrame({
        "y": ["good"] * 8 + ["bad"] * 2 + ["good"] * 3 + ["bad"] * 7,
        "g": ["support"] * 10 + ["oppose"] * 10,
        "w": np.linspace(1, 2, 20),
    })  # fmt: skip
    res = domain_difference(frame, "y", "good", "g", "support", "oppose", "w")
    assert res["estimate"] > 0
    assert 0 < res["p_greater"] < 0.05
    flipped = domain_difference(frame, "y", "good", "g", "oppose", "support", "w")
    assert flipped["p_greater"] == pytest.approx(1 - res["p_greater"], abs=1e-12)


def test_empty_domain_is_a_clear_error():
    frame = pd.DataFrame({
        "y": ["good", "bad", "good", None],
        "g": ["support", "support", "oppose", "partly"],
        "w": [1.0, 2.0, 1.5, 1.0],
    })  # fmt: skip
    with pytest.raises(InputError, match="no respondent with a valid answer") as err:
        domain_difference(frame, "y", "good", "g", "support", "partly", "w")
    assert err.value.value == "partly"
    with pytest.raises(InputError, match="no respondent"):
        domain_difference(frame, "y", "good", "g", "support", "hard_to_say", "w")
    with pytest.raises(InputError, match="must differ"):
        domain_difference(frame, "y", "good", "g", "support", "support", "w")
