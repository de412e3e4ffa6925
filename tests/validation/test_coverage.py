"""Reduced validation against the simulated truth (the full run is benchmarks/coverage.py).

30 replicate samples of two waves with a smaller simulated population: a loose check that
the raked estimators are close to unbiased and their intervals cover about as they should,
and that the unweighted ones are biased by the built-in selection.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT

from pollwaves.validation.coverage import (
    MODEL_CHECKS,
    Study,
    binomial_band,
    kind_summary,
    run_replicate,
    summarise,
)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    study = Study(ROOT, size=60_000)
    waves = ["2022-04", "2023-03"]
    results = [run_replicate(study, waves, r, MODEL_CHECKS) for r in range(30)]
    tables = []
    failures = [res.pop("failures") for res in results]
    assert sum(len(f) for f in failures) == 0
    for kind in results[0]:
        est = pd.concat([res[kind] for res in results], ignore_index=True)
        truth, keys = study.truth_for(kind)
        tables.append(summarise(est, truth, kind=kind, keys=keys))
    return kind_summary(pd.concat(tables, ignore_index=True)).set_index(["kind", "method"])


def test_raked_toplines_cover_and_beat_unweighted(summary):
    raked, plain = summary.loc[("topline", "raked")], summary.loc[("topline", "unweighted")]
    assert 0.88 <= raked["mean_coverage"] <= 0.99
    assert plain["mean_coverage"] < raked["mean_coverage"] - 0.1
    assert raked["mean_abs_bias"] < plain["mean_abs_bias"] / 2
    assert raked["replicates"] == 30


@pytest.mark.parametrize("kind", ["mnlogit_share", "subgroup_prediction"])
def test_model_estimates_cover(summary, kind):
    row = summary.loc[(kind, "raked")]
    assert 0.85 <= row["mean_coverage"] <= 1.0
    assert row["mean_abs_bias"] < 0.02


def test_binomial_band_contains_nominal_level():
    lo, hi = binomial_band(200)
    assert lo < 0.95 < hi
    assert 0.9 < lo and hi < 0.99
