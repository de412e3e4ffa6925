"""Published bounds and intervals of poll-average series become bars, never points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pollwaves.analysis.poll_inputs import published_bound_points
from pollwaves.report.figures_average import poll_average_figure

SERIES = [{"question": "alliance", "category": "neutral"}]


def _intervals() -> pd.DataFrame:
    return pd.DataFrame({
        "wave": ["2023-11", "2023-11", "2022-01", "2022-11"],
        "question": "alliance", "category": ["neutral", "russia", "neutral", "neutral"],
        "kind": ["interval", "rounded", "lower_bound", "interval"],
        "value": [np.nan, 40.0, np.nan, np.nan], "low": [22.5, 39.5, 30.5, 24.5],
        "high": [48.0, 40.5, 100.0, 70.5],
        "fieldwork_start": ["2023-11-08", "2023-11-08", "2022-01-20", None],
        "fieldwork_end": ["2023-11-14", "2023-11-14", "2022-02-09", None],
    })  # fmt: skip


def test_bounds_of_the_series_only_with_dates_as_shares():
    out = published_bound_points(_intervals(), SERIES)
    assert list(out["wave"]) == ["2023-11", "2022-01"]  # 2022-11 has no fieldwork dates
    assert out["estimate"].isna().all() and (out["source"] == "published").all()
    assert out.loc[0, "ci_low"] == 0.225 and out.loc[0, "ci_high"] == 0.48
    assert out.loc[0, "date"] == pd.Timestamp("2023-11-11")


def test_figure_draws_a_bar_and_no_marker_for_a_bound():
    avg = pd.DataFrame({
        "source": "published", "question": "alliance", "category": "neutral",
        "date": pd.to_datetime(["2022-01-30", "2023-11-11"]), "estimate": [0.55, 0.4],
        "ci_low": [0.3, 0.25], "ci_high": [0.8, 0.55], "observed": [True, True]})  # fmt: skip
    obs = published_bound_points(_intervals(), SERIES)
    fig = poll_average_figure(avg, obs, series=[("alliance", "neutral")], notice="SIMULATED DATA.")
    ax = fig.axes[0]
    bars = [c for c in ax.collections if c.get_gid() == "published_bound"]
    assert len(bars) == 1
    segs = bars[0].get_segments()
    assert sorted(round(s[0][1], 6) for s in segs) == [22.5, 30.5]
    top = ax.get_ylim()[1]
    assert max(s[1][1] for s in segs) <= top  # the open bound is clipped, with an arrow
    diamonds = [ln for ln in ax.lines if ln.get_marker() == "D" and len(ln.get_xdata())]
    assert not diamonds  # no published point drawn for a bound
