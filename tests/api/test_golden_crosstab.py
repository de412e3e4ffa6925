"""Golden test of ``pollwaves.api.crosstab.crosstab_frame`` against R ``survey``.

Expected values come from ``tests/api/reference/crosstab.R`` (``svyby(~factor(y), ~grp,
calibrated design, svymean)``, pair differences by ``svycontrast`` on ``svytotal``, Holm
adjustment, ``svychisq``), committed in ``tests/api/reference/expected``; the SIMULATED input
is ``tests/api/reference/data/crosstab.csv`` (``make_crosstab_data.py``). R's raking weights
(calibrated on the derived column ``sex_age`` and ``educ`` from equal base weights) are fed as
the sampling weight, with ``calibrated_on=["sex_age", "educ"]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollwaves.api.crosstab import column_letters, crosstab_frame, holm, letters_for
from pollwaves.survey.raoscott import rao_scott

REF = Path(__file__).parent / "reference"
CATS = ["yes", "no", "dk"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    df = pd.read_csv(REF / "data" / "crosstab.csv")
    w = pd.read_csv(REF / "expected" / "crosstab_calweights.csv").set_index("id")["weight"]
    df["weight"] = w.loc[df["id"]].to_numpy()
    df["y"] = pd.Categorical(df["y"], categories=CATS)
    return df


@pytest.fixture(scope="module")
def result(data):
    return crosstab_frame(data, "y", "grp", "weight", calibrated_on=["sex_age", "educ"])


def test_column_shares_and_ses_match_svyby(result):
    table = result[0]
    want = pd.read_csv(REF / "expected" / "crosstab_shares.csv")
    got = table.set_index(["by_category", "category"]).loc[
        list(zip(want["grp"], want["category"], strict=True))
    ]
    diff_est = np.abs(got["estimate"].to_numpy() - want["estimate"].to_numpy()).max()
    diff_se = np.abs(got["se"].to_numpy() - want["se"].to_numpy()).max()
    print(f"max |estimate - R| = {diff_est:.2e}, max |se - R| = {diff_se:.2e}")
    assert diff_est < 1e-9
    assert diff_se < 1e-9
    assert len(table) == len(want) == 12


def test_pair_tests_match_r(result):
    _, _, pairs = result
    want = pd.read_csv(REF / "expected" / "crosstab_pairs.csv")
    got = pairs.set_index(["category", "by_a", "by_b"]).loc[
        list(zip(want["category"], want["a"], want["b"], strict=True))
    ]
    for col in ("estimate", "se", "p_value", "p_holm"):
        diff = np.abs(got[col].to_numpy() - want[col].to_numpy()).max()
        print(f"pairs: max |{col} - R| = {diff:.2e}")
        assert diff < 1e-9
    assert (got["df"].to_numpy() == want["df"].to_numpy()).all()
    assert (got["significant"].to_numpy() == (want["p_holm"] < 0.05).to_numpy()).all()


def test_letters_follow_r_holm_adjusted_pair_tests(data, result):
    table = result[0]
    pairs = pd.read_csv(REF / "expected" / "crosstab_pairs.csv")
    grps = sorted(data["grp"].unique())
    names = dict(zip(grps, column_letters(len(grps)), strict=True))
    assert (pairs["p_holm"] < 0.05).any()  # the data have at least one letter
    for cat, rows in pairs.groupby("category", sort=False):
        assert np.allclose(holm(rows["p_value"]), rows["p_holm"], atol=1e-12)
        share = table[table["category"] == cat].set_index("by_category")["estimate"]
        idx = [(grps.index(a), grps.index(b)) for a, b in zip(rows["a"], rows["b"], strict=True)]
        want = letters_for([share[g] for g in grps], idx, rows["p_holm"].to_numpy(), 0.05)
        got = table[table["category"] == cat].set_index("by_category")["letters"]
        assert [got[g] for g in grps] == want
    assert set(table["column"]) == set(names.values())


def test_rao_scott_matches_svychisq(data, result):
    tests = result[1]
    want = pd.read_csv(REF / "expected" / "crosstab_tests.csv")
    design = "calibrated" if bool(tests["calibrated"].iloc[0]) else "fixed_weights"
    w = want[want["design"] == design].set_index("statistic")
    f = tests.set_index("statistic")
    for col in ("value", "df1", "df2", "p_value"):
        assert f.loc["F", col] == pytest.approx(w.loc["F", col], rel=1e-9)
    assert f.loc["Chisq", "p_value"] == pytest.approx(w.loc["Chisq", "p_value"], rel=1e-9)
    assert f.loc["Chisq", "chisq_pearson"] == pytest.approx(w.loc["Chisq", "value"], rel=1e-9)
    # the fixed-weight test is what rao_scott gives without calibration keywords
    plain = rao_scott(data, "y", "grp", "weight").set_index("statistic")
    fw = want[want["design"] == "fixed_weights"].set_index("statistic")
    assert plain.loc["F", "value"] == pytest.approx(fw.loc["F", "value"], rel=1e-9)


def test_columns_n_and_weighted_n(data, result):
    table = result[0]
    valid = data[data["y"].notna()]
    first = table.drop_duplicates("by_category").set_index("by_category")
    for g, grp in valid.groupby("grp"):
        assert first.loc[g, "n"] == len(grp)
        assert first.loc[g, "weighted_n"] == pytest.approx(grp["weight"].sum(), rel=1e-12)
