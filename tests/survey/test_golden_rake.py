"""Golden tests of ``pollwaves.survey.weighting.rake`` against R ``survey::calibrate(calfun="raking")``.

Golden weights come from ``tests/survey/reference/rake.R`` (run with R, output committed in
``tests/survey/reference/expected/rake_weights.csv``; R's ``rake()`` reaches the same weights, which the
script checks); CI has no R and only reads the CSVs. Inputs are
``tests/survey/reference/data/props.csv`` and ``props_margins.csv`` from ``make_props_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pollwaves.survey.weighting import rake

REF = Path(__file__).parent / "reference"
# case -> base-weight column of props.csv (None: base weights 1)
CASES = {"base_one": None, "base_weight": "weight", "subset": "weight"}


@pytest.fixture(scope="module")
def props() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "props.csv")


@pytest.fixture(scope="module")
def margins() -> dict[str, dict[str, float]]:
    m = pd.read_csv(REF / "data" / "props_margins.csv")
    return {
        var: dict(zip(g["category"], g["total"], strict=True)) for var, g in m.groupby("variable")
    }


def _expected(case: str) -> pd.DataFrame:
    e = pd.read_csv(REF / "expected" / "rake_weights.csv")
    return e[e["case"] == case].reset_index(drop=True)


def _sample(props: pd.DataFrame, exp: pd.DataFrame) -> pd.DataFrame:
    return props.set_index("id").loc[exp["id"]].reset_index()


@pytest.mark.parametrize("case", list(CASES))
def test_rake_matches_r_calibrate_raking(props, margins, case):
    exp = _expected(case)
    df = _sample(props, exp)
    assert len(df) == len(exp) == (120 if case == "subset" else 400)
    if CASES[case] is not None:
        np.testing.assert_array_equal(df[CASES[case]].to_numpy(), exp["base_weight"].to_numpy())
    w = rake(df, margins, weight=CASES[case])
    rel = np.abs(w.to_numpy() / exp["weight"].to_numpy() - 1)
    print(f"rake {case}: largest relative difference vs R {rel.max():.2e} (weights)")
    np.testing.assert_allclose(w.to_numpy(), exp["weight"].to_numpy(), rtol=1e-6)
    assert w.index.equals(df.index)
    # the weights moved: raking is not a no-op on this sample
    base = np.ones(len(df)) if CASES[case] is None else df[CASES[case]].to_numpy()
    assert np.ptp(w.to_numpy() / base) > 0.1 * np.mean(w.to_numpy() / base)


@pytest.mark.parametrize("case", list(CASES))
def test_rake_with_shares_is_r_weights_scaled_to_the_base_total(props, margins, case):
    exp = _expected(case)
    df = _sample(props, exp)
    shares = {v: {k: t / sum(m.values()) for k, t in m.items()} for v, m in margins.items()}
    w = rake(df, shares, weight=CASES[case])
    base_total = len(df) if CASES[case] is None else df[CASES[case]].sum()
    scaled = exp["weight"].to_numpy() * base_total / exp["weight"].sum()
    np.testing.assert_allclose(w.to_numpy(), scaled, rtol=1e-6)
    assert w.sum() == pytest.approx(base_total, rel=1e-9)
