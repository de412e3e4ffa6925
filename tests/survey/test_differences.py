"""Wave-to-wave differences of independent samples, with multiplicity adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pollwaves.errors import InputError
from pollwaves.survey.differences import wave_differences


def _tab() -> pd.DataFrame:
    rows = []
    for wave, est, se in [
        ("2022-04", 0.32, 0.02),
        ("2022-06", 0.33, 0.02),
        ("2023-03", 0.40, 0.02),
    ]:
        rows.append(("war_support", wave, "all", "support", est, se))
        rows.append(("war_support", wave, "all", "oppose", 1 - est - 0.2, se))
    return pd.DataFrame(rows, columns=["question", "wave", "domain", "category", "estimate", "se"])


def test_consecutive_differences_use_independent_variances():
    res = wave_differences(_tab(), correction="none")
    sup = res[res["category"] == "support"].reset_index(drop=True)
    assert list(zip(sup["wave_from"], sup["wave_to"], strict=True)) == [
        ("2022-04", "2022-06"),
        ("2022-06", "2023-03"),
    ]
    assert sup.loc[1, "difference"] == pytest.approx(0.07)
    assert sup.loc[1, "se"] == pytest.approx(np.sqrt(2) * 0.02)
    z = 0.07 / (np.sqrt(2) * 0.02)
    assert sup.loc[1, "p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert sup.loc[1, "ci_low"] == pytest.approx(0.07 - 1.959964 * np.sqrt(2) * 0.02, abs=1e-6)


def test_holm_and_bh_adjust_within_each_family():
    tab = _tab()
    raw = wave_differences(tab, correction="none")["p_value"].to_numpy()
    holm = wave_differences(tab, correction="holm")["p_adjusted"].to_numpy()
    bh = wave_differences(tab, correction="fdr_bh")["p_adjusted"].to_numpy()
    order = np.argsort(raw)
    m = len(raw)
    expected = np.maximum.accumulate(np.minimum(1, raw[order] * (m - np.arange(m))))
    np.testing.assert_allclose(holm[order], expected)
    assert (bh >= raw - 1e-15).all() and (bh <= holm + 1e-15).all()


def test_first_wave_pairs_and_missing_columns():
    res = wave_differences(_tab(), pairs="first")
    assert set(res["wave_from"]) == {"2022-04"}
    with pytest.raises(InputError, match="lacks columns"):
        wave_differences(_tab().drop(columns="se"))


def test_holm_equals_pingouin_multicomp_value_for_value():
    import pingouin as pg

    from pollwaves.survey.differences import adjust_p
    from pollwaves.survey.differences import holm_adjusted as holm

    rng = np.random.default_rng(7)
    for m in (1, 2, 5, 40):
        p = rng.uniform(0, 0.2, m) ** 2
        p[: m // 3] = p[0]  # ties
        want = pg.multicomp(p, alpha=0.05, method="holm")[1]
        np.testing.assert_array_equal(holm(p), want)
        np.testing.assert_array_equal(adjust_p(p, "holm", 0.05), want)
        bh = pg.multicomp(p, alpha=0.05, method="fdr_bh")[1]
        np.testing.assert_array_equal(adjust_p(p, "fdr_bh", 0.05), bh)
    # Holm's steps: 3 p-values 0.01, 0.04, 0.03 -> 0.03, 0.06, 0.06
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])
