"""The per-wave figures stay legible with many waves (issue 15): no overlapping wave labels,
margin dots within their own row, the design effect on its own axis instead of a label per
bar. Tiny inline tables; the figures are built, not rendered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.report import figures_extra
from pollwaves.report.figures_common import wave_ticks

NOTICE = "SIMULATED DATA (test)."


def _months(n: int) -> list[str]:
    return [f"{2018 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


def _labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def _footer(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts)


@pytest.mark.parametrize(("n", "most", "step"), [(5, 8, 1), (8, 8, 1), (9, 8, 2), (100, 8, 13)])
def test_wave_ticks_label_every_kth_wave_and_at_most_most(n, most, step):
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    labels = [f"w{i}" for i in range(n)]
    assert wave_ticks(ax, labels, most) == step
    assert list(ax.get_xticks()) == list(range(0, n, step))
    assert _labels(ax) == labels[::step] and len(_labels(ax)) <= most


def _shares(waves):
    rows = [(w, c, s, 0.5, 0.45, 0.55) for w in waves for c in ("russia", "poland")
            for s in ("support", "oppose")]  # fmt: skip
    return pd.DataFrame(rows, columns=["wave", "country", "war_support", "estimate", "ci_low",
                                       "ci_high"])  # fmt: skip


def test_attitudes_with_many_waves_label_few_and_say_so():
    waves = _months(60)
    fig = figures_extra.attitudes_figure(_shares(waves), notice=NOTICE)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert panels
    for ax in panels:
        assert len(_labels(ax)) <= figures_extra.ATTITUDE_LABELS
        assert _labels(ax)[0] == "01/18"  # the first wave is labelled
    step = -(-len(waves) // figures_extra.ATTITUDE_LABELS)
    assert step > 1 and f"one in {step} labelled" in _footer(fig)
    few = figures_extra.attitudes_figure(_shares(waves[:4]), notice=NOTICE)
    assert all(len(_labels(ax)) == 4 for ax in few.axes if ax.get_title(loc="left"))
    assert "labelled" not in _footer(few)


def _weighting(waves):
    n = len(waves)
    deff = np.linspace(1.1, 1.5, n)
    wt = pd.DataFrame({"wave": waves, "n": 1000, "deff_kish": deff, "n_eff": 1000 / deff})
    cats = ("male", "female")
    margins = pd.DataFrame([("sex", c, w, 0.5 + (0.02 if c == "male" else -0.02), 0.47)
                            for w in waves for c in cats],
                           columns=["variable", "category", "wave", "sample_share",
                                    "target_share"])  # fmt: skip
    return wt, margins


def _margin_rows(ax) -> np.ndarray:
    ys = [line.get_ydata() for line in ax.get_lines() if line.get_marker() == "o"]
    return np.concatenate([np.asarray(y, float) for y in ys])


@pytest.mark.parametrize("n", [3, 40, 150])
def test_weighting_margin_dots_stay_within_their_row(n):
    fig = figures_extra.weighting_figure(*_weighting(_months(n)), notice=NOTICE)
    margin_ax = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("Margin"))
    y = _margin_rows(margin_ax)
    assert len(y) == 2 * n
    assert np.all(np.abs(y - np.round(y)) <= 0.3 + 1e-12)  # a dot sits in its category's row


def test_weighting_with_many_waves_draws_deff_on_its_own_axis():
    waves = _months(40)
    wt, margins = _weighting(waves)
    fig = figures_extra.weighting_figure(wt, margins, notice=NOTICE)
    top = fig.axes[0]
    assert not [t for t in top.texts if t.get_text().startswith("deff")]  # no label per bar
    assert len(_labels(top)) <= figures_extra.WEIGHTING_LABELS
    right = [ax for ax in fig.axes if ax.get_ylabel() == "Kish deff"]
    assert len(right) == 1
    (line,) = right[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), wt["deff_kish"])
    assert "right axis" in top.get_title(loc="left")
    few = figures_extra.weighting_figure(*_weighting(waves[:5]), notice=NOTICE)
    labels = [t.get_text() for t in few.axes[0].texts]
    assert labels == [f"deff {d:.2f}" for d in np.linspace(1.1, 1.5, 5)]
    assert not [ax for ax in few.axes if ax.get_ylabel() == "Kish deff"]


def test_weighting_with_many_waves_and_no_deff_still_draws():
    wt, margins = _weighting(_months(30))
    fig = figures_extra.weighting_figure(wt.assign(deff_kish=np.nan), margins, notice=NOTICE)
    (right,) = [ax for ax in fig.axes if ax.get_ylabel() == "Kish deff"]
    assert right.get_ylim() == (0.0, 2.0)
