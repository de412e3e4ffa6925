"""Supporter-minus-opponent differences per wave (``analysis.attitudes.stance_differences``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.analysis.attitudes import DIFF_COLUMNS, stance_differences
from pollwaves.survey.domains import domain_difference

ONE = {"russia": "attitude_russia"}


def _pooled() -> pd.DataFrame:
    stance = ["support"] * 5 + ["oppose"] * 5 + ["partly", None]
    att = ["good", "good", "good", "bad", None, "good", "bad", "bad", "bad", "good", "good", "bad"]
    w1 = pd.DataFrame({"wave": "2022-04", "war_support": stance, "attitude_russia": att,
                       "weight": np.linspace(0.5, 2.0, 12), "sex": list("fm" * 6)})  # fmt: skip
    # 2022-06: nobody opposes -> no row; 2020-09: stance not asked -> no row
    w2 = w1.assign(wave="2022-06", war_support=["support"] * 10 + ["partly", None])
    w3 = w1.assign(wave="2020-09", war_support=None)
    return pd.concat([w1, w2, w3], ignore_index=True)


def test_one_row_per_wave_with_both_groups_and_the_raking_aware_se():
    flags = {"2022-04": True, "2022-06": True, "2020-09": False}
    res = stance_differences(_pooled(), flags, calibrated_on=["sex"], countries=ONE)
    assert list(res.columns) == DIFF_COLUMNS
    assert res["wave"].tolist() == ["2022-04"]
    r = res.iloc[0]
    wave = _pooled().query("wave == '2022-04'").reset_index(drop=True)
    want = domain_difference(wave, "attitude_russia", "good", "war_support", "support",
                             "oppose", "weight", calibrated_on=["sex"])  # fmt: skip
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "n_a", "n_b"):
        assert r[col] == pytest.approx(want[col], rel=1e-12), col
    assert (r["group_a"], r["group_b"], bool(r["simulated"])) == ("support", "oppose", True)
    assert (r["n_a"], r["n_b"]) == (4, 5)  # the refused attitude is not in the base
    plain = stance_differences(_pooled(), flags, countries=ONE).iloc[0]
    assert plain["estimate"] == pytest.approx(r["estimate"])
    assert plain["se"] != pytest.approx(r["se"])
