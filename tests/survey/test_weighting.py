"""Unit tests of raking, trimming and weight diagnostics on tiny inline frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.diagnostics import kish, weight_diagnostics
from pollwaves.survey.weighting import RakingError, rake, trim_weights


@pytest.fixture
def sample() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    return pd.DataFrame(
        {
            "sex": rng.choice(["m", "f"], n, p=[0.6, 0.4]),
            "age": rng.choice(["y", "m", "o"], n, p=[0.5, 0.3, 0.2]),
            "edu": rng.choice(["low", "high"], n, p=[0.3, 0.7]),
        }
    )


MARGINS = {
    "sex": {"m": 0.46, "f": 0.54},
    "age": {"y": 0.3, "m": 0.35, "o": 0.35},
    "edu": {"low": 0.7, "high": 0.3},
}


def _shares(df: pd.DataFrame, w: pd.Series, col: str) -> pd.Series:
    return w.groupby(df[col]).sum() / w.sum()


def test_rake_meets_every_margin_and_keeps_weights_positive(sample):
    w = rake(sample, MARGINS)
    assert (w > 0).all()
    assert w.index.equals(sample.index)
    assert w.sum() == pytest.approx(len(sample))  # shares scale to the base-weight total
    for col, tgt in MARGINS.items():
        got = _shares(sample, w, col)
        for cat, share in tgt.items():
            assert got[cat] == pytest.approx(share, abs=1e-9)
    assert w.attrs["iterations"] >= 2
    assert w.attrs["max_misfit"] <= 1e-10


def test_rake_with_totals_scales_to_population(sample):
    total = 5_000_000
    margins = {c: {k: v * total for k, v in t.items()} for c, t in MARGINS.items()}
    w = rake(sample, margins)
    assert w.sum() == pytest.approx(total, rel=1e-9)


def test_rake_respects_base_weights_and_cap(sample):
    df = sample.assign(base=np.where(sample["sex"] == "m", 1.0, 2.0))
    uncapped = rake(df, MARGINS, weight="base")
    w = rake(df, MARGINS, weight="base", cap=3.5)
    ratio = lambda x: x / (df["base"] * x.sum() / df["base"].sum())  # noqa: E731
    assert ratio(uncapped).max() > 4  # the cap binds
    assert ratio(w).max() <= 3.5 * (1 + 1e-6)
    assert w.attrs["share_capped"] > 0
    assert _shares(df, w, "edu")["low"] == pytest.approx(0.7, abs=1e-9)


def test_rake_is_invariant_to_row_order(sample):
    w1 = rake(sample, MARGINS)
    perm = sample.sample(frac=1, random_state=3)
    w2 = rake(perm, MARGINS)
    np.testing.assert_allclose(w2.loc[w1.index].to_numpy(), w1.to_numpy(), rtol=1e-12)


def test_rake_errors_are_explicit(sample):
    with pytest.raises(RakingError, match="disagree on the total"):
        rake(sample, {"sex": {"m": 10, "f": 10}, "age": {"y": 10, "m": 10, "o": 11}})
    with pytest.raises(RakingError, match="absent from the sample") as e:
        rake(sample, {"sex": {"m": 0.4, "f": 0.4, "x": 0.2}})
    assert "x" in str(e.value)
    with pytest.raises(RakingError, match="category that the targets lack") as e:
        rake(sample, {"age": {"y": 0.5, "m": 0.5}})
    assert "'o'" in str(e.value)
    with pytest.raises(RakingError, match="did not converge"):
        rake(sample, MARGINS, max_iter=1)
    with pytest.raises(RakingError, match="mix shares and totals"):
        rake(sample, {"sex": {"m": 0.5, "f": 0.5}, "edu": {"low": 100, "high": 300}})


def test_rake_rejects_missing_values_and_bad_base_weights(sample):
    df = sample.copy()
    df.loc[5, "sex"] = None
    with pytest.raises(RakingError, match="Missing value") as e:
        rake(df, MARGINS)
    assert "row=6" in str(e.value)
    bad = sample.assign(base=1.0)
    bad.loc[3, "base"] = -1.0
    with pytest.raises(InputError, match="positive"):
        rake(bad, MARGINS, weight="base")


def test_trim_weights_keeps_total_and_bounds():
    w = pd.Series([1.0, 1.0, 1.0, 1.0, 20.0])
    t = trim_weights(w, cap=2.0)
    assert t.sum() == pytest.approx(w.sum())
    assert t.max() < w.max()
    assert t.attrs["share_trimmed"] == pytest.approx(0.2)


def test_kish_and_diagnostics(sample):
    assert kish(np.ones(10)) == pytest.approx((1.0, 10.0))
    deff, n_eff = kish(np.array([1.0, 3.0]))
    assert deff == pytest.approx(2 * 10 / 16)
    assert n_eff == pytest.approx(16 / 10)
    w = rake(sample, MARGINS)
    df = sample.assign(weight=w)
    d = weight_diagnostics(df, "weight", MARGINS, iterations=w.attrs["iterations"])
    assert len(d) == 1
    row = d.iloc[0]
    assert row["max_misfit"] < 1e-9
    assert row["deff_kish"] >= 1
    assert row["n_eff"] <= len(sample)
    for col in MARGINS:
        assert row[f"tvd_before_{col}"] > 0.05
        assert row[f"tvd_after_{col}"] < 1e-9
