"""The seeded hot deck (survey.impute) and the vendor-weight agreement, on tiny frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.errors import InputError
from pollwaves.survey.diagnostics import weight_agreement
from pollwaves.survey.impute import hot_deck

COLS = ["sex", "age", "edu"]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["id", *COLS])
    return df.astype({c: "string" for c in COLS})


@pytest.fixture
def sample() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "sex": rng.choice(["m", "f"], n),
            "age": rng.choice(["y", "o"], n),
            "edu": rng.choice(["lo", "mid", "hi"], n),
        }
    ).astype({c: "string" for c in COLS})
    for col, rows in {"sex": [1, 7, 30], "age": [2, 7], "edu": [4, 5, 6, 40, 41]}.items():
        df.loc[rows, col] = pd.NA
    return df


def test_same_seed_same_result_and_seed_matters(sample):
    a, mask_a = hot_deck(sample, COLS, seed=[11, 12345])
    b, mask_b = hot_deck(sample, COLS, seed=[11, 12345])
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(mask_a, mask_b)
    assert not a[COLS].isna().any().any()
    assert mask_a.sum().to_dict() == {"sex": 3, "age": 2, "edu": 5}
    # observed values are untouched, and only missing cells are flagged
    observed = sample[COLS].notna()
    assert (a[COLS][observed] == sample[COLS][observed]).fillna(True).all().all()
    assert (mask_a == ~observed).all().all()
    draws = {
        tuple(hot_deck(sample, COLS, seed=s)[0]["edu"].iloc[[4, 5, 6, 40, 41]]) for s in range(20)
    }
    assert len(draws) > 1


def test_donors_share_the_known_cells():
    # the only respondents with sex f and age y have edu hi; everybody else lo
    rows = [("a", "f", "y", "hi"), ("b", "f", "y", "hi"), ("c", "f", "o", "lo"),
            ("d", "m", "y", "lo"), ("e", "m", "o", "lo"), ("x", "f", "y", None),
            ("z", None, "y", None)]  # fmt: skip
    df = _frame(rows)
    for seed in range(25):
        out, mask = hot_deck(df, COLS, seed=seed, id_column="id")
        assert out.loc[5, "edu"] == "hi"
        # z: sex unknown, so it matches on age y only: donors a, b (hi) and d (lo)
        assert out.loc[6, "edu"] in {"hi", "lo"}
        # z's sex comes from donors with age y and any edu (z's edu is not known)
        assert out.loc[6, "sex"] in {"f", "m"}
        assert mask["edu"].tolist() == [False] * 5 + [True, True]
    z_edu = {hot_deck(df, COLS, seed=s)[0].loc[6, "edu"] for s in range(40)}
    assert z_edu == {"hi", "lo"}


def test_matching_is_relaxed_last_column_first():
    # no donor is (f, o): the matching drops age (listed after sex) and keeps sex
    rows = [("a", "f", "y", "hi"), ("b", "m", "o", "lo"), ("c", "m", "o", "lo"),
            ("x", "f", "o", None)]  # fmt: skip
    df = _frame(rows)
    for seed in range(15):
        out, _ = hot_deck(df, COLS, seed=seed)
        assert out.loc[3, "edu"] == "hi"  # matched on sex (kept) after dropping age


def test_nothing_missing_nothing_imputed():
    df = _frame([("a", "f", "y", "hi"), ("b", "m", "o", "lo")])
    out, mask = hot_deck(df, COLS, seed=1)
    pd.testing.assert_frame_equal(out, df)
    assert not mask.to_numpy().any()


def test_no_donor_at_all_is_an_error_naming_the_respondent():
    df = _frame([("a", "f", "y", None), ("b", "m", "o", None)])
    with pytest.raises(InputError) as err:
        hot_deck(df, COLS, seed=1, id_column="id")
    assert err.value.column == "edu" and err.value.respondent == "a"
    with pytest.raises(InputError, match="not found"):
        hot_deck(df, ["sex", "town"], seed=1)


def test_weight_agreement():
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    got = weight_agreement(w, pd.Series([2.0, 4.0, 6.0, np.nan, 10.0]), name="vendor_weight")
    assert got["n_vendor_weight"] == 4
    assert got["corr_vendor_weight"] == pytest.approx(1.0)
    none = weight_agreement(w, [np.nan] * 5, name="vendor_weight")
    assert none["n_vendor_weight"] == 0 and np.isnan(none["corr_vendor_weight"])
    neg = weight_agreement(w, w[::-1], name="v")
    assert neg["corr_v"] == pytest.approx(-1.0)
