"""Moving the truth inside the published bounds (pollwaves.validation.poll_bound_position)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import ROOT

from pollwaves.errors import InputError
from pollwaves.validation.poll_bound_position import (
    POSITION_COLUMNS,
    position_coverage,
    shifted_truth,
    simulator_positions,
)

Q = "alliance"


def _study() -> SimpleNamespace:
    """Two waves: in w1 only "both" is published (neutral = both + outside is bounded), in w2
    every category but "hard" is published (nothing inside neutral is unpublished)."""
    shares = {"russia": 0.3, "eu": 0.1, "both": 0.3, "outside": 0.25, "hard": 0.05}
    truth = {(w, Q, k): v for w in ("w1", "w2") for k, v in shares.items()}
    published = pd.DataFrame({
        "wave": ["w1", "w2", "w2", "w2", "w2"], "question": Q,
        "category": ["both", "russia", "eu", "both", "outside"],
    })  # fmt: skip
    return SimpleNamespace(
        truth=truth, published=published, truth_wave=lambda w: w,
        contrasts={Q: {"neutral": {"both": 1, "outside": 1}}},
    )  # fmt: skip


def _neutral(truth: dict, wave: str) -> float:
    return truth[(wave, Q, "both")] + truth[(wave, Q, "outside")]


def test_positions_span_the_range_the_published_cells_allow():
    study = _study()
    low, high = (shifted_truth(study, Q, "neutral", p) for p in (0.0, 1.0))
    # w1: both 0.3 published, so neutral ranges from 0.3 (outside 0) to 1 - 0 = 1 (all of
    # the unpublished russia, eu, hard, outside given to outside)
    assert _neutral(low, "w1") == pytest.approx(0.3)
    assert _neutral(high, "w1") == pytest.approx(1.0)
    mid = shifted_truth(study, Q, "neutral", 0.5)
    assert _neutral(mid, "w1") == pytest.approx(0.3 + 0.5 * 0.7)
    # unpublished others keep their simulated proportions (russia : eu : hard = 6 : 2 : 1)
    assert mid[("w1", Q, "russia")] / mid[("w1", Q, "hard")] == pytest.approx(6.0)
    for t in (low, mid, high):
        assert t[("w1", Q, "both")] == 0.3  # published: never moved
        assert sum(v for (w, _, _), v in t.items() if w == "w1") == pytest.approx(1.0)
        # w2: nothing of neutral is unpublished, the wave is not moved
        assert {k: v for k, v in t.items() if k[0] == "w2"} == {
            k: v for k, v in study.truth.items() if k[0] == "w2"
        }


def test_simulator_position_reproduces_the_simulated_truth():
    study = _study()
    own = simulator_positions(study, Q, "neutral")
    assert own == {"w1": pytest.approx(0.25 / 0.7)}
    back = shifted_truth(study, Q, "neutral", own["w1"])
    assert back == pytest.approx(study.truth)
    with pytest.raises(InputError):
        shifted_truth(study, Q, "neutral", 1.5)


def test_position_coverage_moves_only_partial_dates():
    res = position_coverage(ROOT, Q, "neutral", [0.0, 1.0], replicates=2, seed=3)
    assert list(res.columns) == POSITION_COLUMNS
    truth = res.pivot_table(index="wave", columns="position", values="truth")
    # Sep 2020: every category published (as numbers or bounds): its truth does not move
    assert truth.loc["2020-09", 0.0] == pytest.approx(truth.loc["2020-09", 1.0])
    # Jan 2022: only "both" published: position 0 is the published-truth lower end
    assert truth.loc["2022-01", 0.0] == pytest.approx(0.31)
    assert truth.loc["2022-01", 1.0] > 0.9
    assert (res["replicates"] == 2).all() and res["coverage"].between(0, 1).all()
