"""Reduced poll-average coverage run (the full run is benchmarks/coverage.py --part poll_average).

A few replicates of every configured series, both sources, against the SIMULATED truth: the
structure of the result and a loose coverage sanity bound (a correct 95 % band covers far
more than 70 % of the time; the committed benchmark checks the 93-97 % target).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pollwaves.published.intervals import implied_intervals
from pollwaves.validation.poll_average_coverage import (
    DETAIL_COLUMNS,
    PollStudy,
    _republish,
    replicate_coverage,
    run_poll_average_coverage,
    synthetic_published,
)

REPLICATES = 6


@pytest.fixture(scope="module")
def result():
    return run_poll_average_coverage(ROOT, replicates=REPLICATES, seed=11)


def test_structure_every_series_both_sources(result):
    summary, detail = result["summary"], result["detail"]
    study = PollStudy(ROOT)
    want = {(s, q, c) for s in ("simulated", "published") for q, c in study.series}
    got = set(summary[["source", "question", "category"]].itertuples(index=False, name=None))
    assert got == want
    assert (summary["kind"] == "poll_average_band").all()
    assert (summary["replicates"] == REPLICATES).all()
    assert list(detail.columns) == DETAIL_COLUMNS
    assert (detail["replicates"] == REPLICATES).all()
    assert summary["mean_coverage"].between(0, 1).all()
    assert (summary["min_date_coverage"] <= summary["mean_coverage"]).all()
    # the published neutral series exists only through intervals built from its parts
    neutral = detail[(detail["source"] == "published") & (detail["category"] == "neutral")]
    assert neutral["wave"].nunique() >= 4
    assert (detail["truth"].between(0, 1)).all()


def test_loose_coverage_sanity(result):
    cov = result["detail"]["coverage"]
    assert cov.mean() > 0.8
    assert (result["summary"]["mean_ci_width"] < 0.3).all()


def test_replicates_are_reproducible():
    study = PollStudy(ROOT)
    a, b = replicate_coverage(study, 3, 5), replicate_coverage(study, 3, 5)
    pd.testing.assert_frame_equal(a, b)
    c = replicate_coverage(study, 4, 5)
    assert not np.allclose(a["estimate"], c["estimate"])


def test_republished_forms_contain_the_drawn_value():
    class Row:
        value, qualifier, relation, high = 41.0, "lower_bound", "equals", 100.0

    assert _republish(Row, 43.7)["value"] == 43.0
    Row.qualifier = "fraction"
    assert _republish(Row, 26.0)["percent"] == "1/4"
    Row.value, Row.qualifier = 27.2, "exact"
    assert _republish(Row, 30.04)["value"] == pytest.approx(30.0)
    study = PollStudy(ROOT)
    table = synthetic_published(study, np.random.default_rng(0))
    assert len(table) == len(study.published)
    iv = implied_intervals(table, study.contrasts)
    assert ((iv["low"] <= iv["high"]) | iv["basis"].str.contains("inconsistent")).all()
