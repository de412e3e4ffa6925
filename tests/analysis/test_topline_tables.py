"""Pollster-style toplines: labels, rounding, MOE, bases and the change since the last wave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pollwaves.analysis.topline_tables import (
    display_percent,
    label_toplines,
    pollster_toplines,
    question_bases,
)
from pollwaves.errors import InputError

CODEBOOK = {"variables": {
    "sex": {"kind": "demographic", "label": {"en": "Sex"}, "categories": {"male": {"en": "M"}}},
    "war": {"kind": "question", "label": {"en": "Do you support the war?"}, "categories": {
        "support": {"en": "Support"}, "oppose": {"en": "Oppose"},
        "hard_to_say": {"en": "Hard to say"}}},
}}  # fmt: skip


def _top(shares: dict[str, tuple[float, float, float]], se: float = 0.01) -> pd.DataFrame:
    rows = []
    for wave, vals in shares.items():  # alphabetical category order on purpose
        for cat, p in sorted(zip(["support", "oppose", "hard_to_say"], vals, strict=True)):
            rows.append(("war", wave, "all", cat, p, se, p - 0.02, p + 0.02, 500, 400.0, 1.25))
    cols = ["question", "wave", "domain", "category", "estimate", "se", "ci_low", "ci_high",
            "n", "n_eff", "deff"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols).assign(simulated=True)


@pytest.mark.parametrize(
    ("share", "text"),
    [(0.0, "0"), (0.004, "<1"), (0.0051, "1"), (0.334, "33"), (0.3351, "34"), (1.0, "100"),
     (float("nan"), "")],
)  # fmt: skip
def test_display_percent(share, text):
    assert display_percent(share) == text


def test_labels_moe_questionnaire_order_and_unweighted_beside():
    top = _top({"2022-03": (0.3, 0.5, 0.2)})
    plain = top.assign(estimate=top["estimate"] + 0.05)
    out = label_toplines(top, CODEBOOK, level=0.9, unweighted=plain)
    assert list(out["category"]) == ["support", "oppose", "hard_to_say"]
    assert list(out["category_label"]) == ["Support", "Oppose", "Hard to say"]
    assert (out["question_label"] == "Do you support the war?").all()
    assert np.allclose(out["moe"], stats.norm.ppf(0.95) * 0.01)
    assert np.allclose(out["estimate_unweighted"] - out["estimate"], 0.05)
    assert out.columns[-1] == "simulated"


def test_change_since_previous_wave_holm_within_question():
    top = _top({"2022-03": (0.30, 0.50, 0.20), "2022-06": (0.40, 0.41, 0.19)}, se=0.01)
    bases = pd.DataFrame({"wave": ["2022-03", "2022-06"], "question": "war", "n": [500, 480],
                          "weighted_n": [6e6, 5.9e6], "wave_deff": [1.3, 1.2]})  # fmt: skip
    out = pollster_toplines(top, bases, CODEBOOK, level=0.95)
    first = out[out["wave"] == "2022-03"]
    assert (first["previous_wave"] == "").all() and first["change"].isna().all()
    later = out[out["wave"] == "2022-06"].set_index("category")
    assert later.loc["support", "change"] == pytest.approx(10.0)
    assert later.loc["support", "change_mark"] == "▲"  # z = 7.1: significant after Holm
    assert later.loc["oppose", "change_mark"] == "▼"
    assert later.loc["hard_to_say", "change_mark"] == ""  # 1 pp on se 1.4 pp
    p_raw = 2 * stats.norm.sf(0.01 / np.hypot(0.01, 0.01))
    # Holm: the largest of the 3 p-values of the question keeps its raw value
    assert later.loc["hard_to_say", "change_p_adjusted"] == pytest.approx(p_raw)
    assert later.loc["support", "wave_moe"] == pytest.approx(
        100 * stats.norm.ppf(0.975) * np.sqrt(1.2 * 0.25 / 480)
    )
    assert later.loc["support", "percent"] == "40" and later.loc["support", "n"] == 480
    assert list(out["category"][:3]) == ["support", "oppose", "hard_to_say"]


def test_no_rows_is_a_clear_error():
    bases = pd.DataFrame(columns=["wave", "question", "n", "weighted_n", "wave_deff"])
    with pytest.raises(InputError, match="No topline rows"):
        pollster_toplines(_top({}).iloc[:0], bases, CODEBOOK, level=0.95)


def test_question_bases_count_answers_and_sum_weights():
    df = pd.DataFrame({"wave": "2022-03", "war": ["support", None, "oppose", "support"],
                       "weight": [1.0, 5.0, 2.0, 3.0]})  # fmt: skip
    out = question_bases(df, ["war", "not_in_file"], "weight").iloc[0]
    assert (out["n"], out["weighted_n"]) == (3, 6.0)
    assert out["wave_deff"] == pytest.approx(3 * (1 + 4 + 9) / 36)
