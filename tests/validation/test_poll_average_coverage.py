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
from scipy import stats

from pollwaves.published.intervals import implied_intervals
from pollwaves.validation.poll_average_coverage import (
    DETAIL_COLUMNS,
    POINT_RATIO,
    PollStudy,
    _republish,
    replicate_coverage,
    run_poll_average_coverage,
    summarise_bands,
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


def test_dates_split_into_point_and_partial_information(result):
    summary, detail = result["summary"], result["detail"]
    assert set(detail["information"]) <= {"point", "partial"}
    assert (detail.loc[detail["source"] == "simulated", "information"] == "point").all()
    neutral = detail[(detail["source"] == "published") & (detail["category"] == "neutral")]
    info = dict(zip(neutral["wave"], neutral["information"], strict=True))
    # Jan 2022: only "both" (31 %) is published, a lower bound on neutral = both + outside
    assert info["2022-01"] == "partial"
    assert neutral.set_index("wave").loc["2022-01", "kind"] == "lower_bound"
    # Nov 2025: the neutral sum itself is published as a whole number
    assert info["2025-11"] == "point"
    assert (summary["point_dates"] + summary["partial_dates"] == summary["dates"]).all()
    for row in summary.itertuples(index=False):
        d = detail[(detail["source"] == row.source) & (detail["question"] == row.question)
                   & (detail["category"] == row.category)]  # fmt: skip
        point = d[d["information"] == "point"]
        assert row.point_mean_coverage == pytest.approx(point["coverage"].mean())
        assert row.point_min_coverage == pytest.approx(point["coverage"].min())


def _reps(ratio: float, covered: list[bool], wave: str, low=0.37, high=0.43) -> pd.DataFrame:
    n = len(covered)
    jitter = np.linspace(-0.01, 0.01, n)  # band ends vary by about 0.006 (SD)
    return pd.DataFrame({
        "source": "published", "question": "q", "category": "c", "wave": wave,
        "date": pd.Timestamp(f"{wave}-15"), "truth": 0.4, "replicate": range(n),
        "covered": covered, "estimate": 0.41, "width": 0.06, "kind": "rounded",
        "interval_sd_ratio": ratio, "ci_low": low + jitter, "ci_high": high + jitter,
    })  # fmt: skip


def test_summary_checks_the_target_on_point_dates_alone():
    # two point dates at 95 % and three bound-only dates at 100 %: the all-date mean (98 %)
    # misses the target, the point dates alone meet it
    point = [_reps(0.5, [True] * 19 + [False], w) for w in ("2020-01", "2020-06")]
    waves = ("2021-01", "2021-06", "2022-01")
    bound = [_reps(20.0, [True] * 20, w, low=0.25, high=0.65) for w in waves]
    res = summarise_bands(pd.concat(point + bound, ignore_index=True), 0.95)
    detail, row = res["detail"], res["summary"].iloc[0]
    assert list(detail["information"]) == ["point"] * 2 + ["partial"] * 3
    assert row["mean_coverage"] == pytest.approx(0.98)
    assert not row["target_met"]
    assert (row["point_dates"], row["partial_dates"]) == (2, 3)
    assert row["point_mean_coverage"] == pytest.approx(0.95)
    assert row["partial_mean_coverage"] == pytest.approx(1.0)
    assert row["target_met_point"]
    # truth 0.4; point bands 0.37-0.43, bound bands 0.25-0.65, ends jittered alike
    sd = np.std(np.linspace(-0.01, 0.01, 20), ddof=1)
    point_row = detail.iloc[0]
    assert point_row["truth_margin_sd"] == pytest.approx(0.03 / sd)
    assert point_row["normal_coverage"] == pytest.approx(2 * stats.norm.cdf(0.03 / sd) - 1)
    part_row = detail.iloc[2]  # 0.15 inside the lower end: about 25 SD, always covered
    assert part_row["truth_margin_sd"] == pytest.approx(0.15 / sd)
    assert part_row["normal_coverage"] == pytest.approx(1.0)
    assert row["partial_min_truth_margin_sd"] == pytest.approx(0.15 / sd)
    # a series with bound-only dates alone has no point check
    only = summarise_bands(pd.concat(bound, ignore_index=True), 0.95)["summary"].iloc[0]
    assert only["point_dates"] == 0 and not only["target_met_point"]


def test_point_ratio_separates_rounding_from_bounds():
    # a whole number (width 1 pp) at N 900, p 0.4, deff 1.27: SD 1.84 pp, ratio 0.54
    sd = np.sqrt(1.27 * 0.4 * 0.6 / 900)
    assert 0.01 / sd < POINT_RATIO
    # Nov 2023 neutral 22.5-48 % (a fraction and a complement): ratio about 14
    assert (0.48 - 0.225) / np.sqrt(1.27 * 0.35 * 0.65 / 868) > POINT_RATIO
