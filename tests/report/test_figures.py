"""Tests for pollwaves.report.figures_paper: the two published-vs-simulated trend figures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pollwaves.report import figures_paper as figures
from pollwaves.report.figures_common import save_figure

NOTICE = "SIMULATED DATA. These respondent-level data are simulated, not real responses."
COLUMNS = ["question", "wave", "domain", "category", "estimate", "se", "ci_low", "ci_high"]


def _toplines() -> pd.DataFrame:
    rows = []
    shares = {
        "war_support": {"support": 0.3, "partly": 0.2, "hard_to_say": 0.1, "oppose": 0.4},
        "alliance": {"russia": 0.3, "eu": 0.1, "both": 0.35, "outside": 0.15, "hard_to_say": 0.1},
    }
    for question, cats in shares.items():
        for wave in ("2023-03", "2022-04"):  # deliberately not in calendar order
            for cat, p in cats.items():
                # asymmetric precomputed CI: a figure must draw exactly these limits
                rows.append((question, wave, "all", cat, p, 0.02, p - 0.05, p + 0.03))
    rows.append(("war_support", "2022-04", "sex=female", "support", 0.9, 0.1, 0.5, 0.95))
    return pd.DataFrame(rows, columns=COLUMNS).assign(n=800, n_eff=500.0, deff=1.6)


def _published() -> pd.DataFrame:
    rows = [  # wave, question, category, relation, value, low, high, qualifier
        ("2022-04", "war_support", "support", "equals", 32, 32, 32, "exact"),
        ("2022-04", "war_support", "partly", "equals", 15, 15, 15, "exact"),
        ("2022-04", "war_support", "hard_to_say", "equals", 13, 13, 13, "exact"),
        ("2022-04", "war_support", "oppose", "equals", 40, 40, 40, "exact"),
        ("2022-06", "war_support", "oppose", "equals", 43, 43, 43, "exact"),
        ("2022-06", "war_support", "support", "part_of", 14, 14, 14, "exact"),
        ("2020-09", "alliance", "russia", "equals", 27.2, 27.2, 27.2, "exact"),
        ("2020-09", "alliance", "eu", "equals", 9.1, 9.1, 9.1, "exact"),
        ("2020-09", "alliance", "both", "equals", 41, 41, 100, "lower_bound"),
        ("2020-09", "alliance", "outside", "equals", 23, 23, 100, "lower_bound"),
        ("2023-03", "alliance", "outside", "equals", 23, 23, 23, "exact"),
        ("2019-01", "war_support", "support", "equals", 53, 53, 53, "exact"),  # subgroup row
    ]
    cols = ["wave", "question", "category", "relation", "value", "low", "high", "qualifier"]
    pub = pd.DataFrame(rows, columns=cols)
    pub.insert(0, "row_id", range(1, len(pub) + 1))
    pub["subgroup_canonical_variable"] = [pd.NA] * (len(pub) - 1) + ["media_diet"]
    pub["subgroup_category"] = [pd.NA] * (len(pub) - 1) + ["state_only"]
    return pub.assign(source_url="https://example.org/poll", flag=pd.NA)


def _texts(fig: Figure) -> str:
    parts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        parts += [t.get_text() for t in ax.texts]
    return " ".join(" ".join(parts).split())


def _tick_labels(ax) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (figures.war_support_figure, ["Apr 2022", "Jun 2022", "Mar 2023"]),
        (figures.alliance_figure, ["Sep 2020", "Apr 2022", "Mar 2023"]),
    ],
)
def test_figures_have_waves_in_calendar_order_and_notice(build, expected):
    fig = build(_toplines(), _published(), notice=NOTICE)
    assert isinstance(fig, Figure)
    ax_pub, ax_sim = fig.axes[:2]
    assert ax_pub.get_title() == "Published (Chatham House)"
    assert ax_sim.get_title() == "Simulated microdata, weighted"
    for ax in (ax_pub, ax_sim):
        assert len(ax.get_xticks()) == len(expected)
        assert _tick_labels(ax) == expected
    text = _texts(fig)
    assert NOTICE in text
    assert "SIMULATED microdata" in text
    assert "data/raw/published/toplines.csv" in text


def test_complete_published_wave_is_stacked_partial_wave_is_markers():
    fig = figures.war_support_figure(_toplines(), _published(), notice=NOTICE)
    ax_pub = fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax_pub.patches)
    assert heights == [13, 15, 32, 40]  # only Apr 2022 is a complete breakdown
    labels = {t.get_text() for t in ax_pub.texts}
    assert {"43", "≥14"} <= labels  # Jun 2022: oppose and the part_of lower bound
    assert "no published numbers" in labels  # Mar 2023 has no published war numbers


def test_alliance_neutral_band_shows_known_lower_bound():
    fig = figures.alliance_figure(_toplines(), _published(), notice=NOTICE)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert ">64" in labels  # both > 41 plus outside > 23
    assert "≥23" in labels  # only "outside" published in Mar 2023
    sim_heights = [round(p.get_height(), 6) for p in fig.axes[1].patches]
    assert sim_heights.count(50.0) == 2  # neutral = both 35 + outside 15, in both waves


def test_right_panel_draws_only_precomputed_intervals():
    fig = figures.war_support_figure(_toplines(), _published(), notice=NOTICE)
    segments = [s for c in fig.axes[1].collections for s in c.get_segments()]
    limits = sorted({tuple(np.round(sorted(s[:, 1]), 6)) for s in segments})
    # bottom boundary: support CI (25, 33); top boundary: 100 - oppose CI (57, 65)
    assert limits == [(25.0, 33.0), (57.0, 65.0)]


def test_figure_building_leaves_global_rcparams_alone():
    before = dict(matplotlib.rcParams)
    figures.alliance_figure(_toplines(), _published(), notice=NOTICE)
    after = dict(matplotlib.rcParams)
    changed = {k for k in before if before[k] != after[k]}
    assert not changed


def test_unknown_qualifier_is_an_error():
    pub = _published()
    pub.loc[0, "qualifier"] = "roughly"
    with pytest.raises(ValueError, match="unknown qualifier 'roughly'"):
        figures.war_support_figure(_toplines(), pub, notice=NOTICE)


def test_save_figure_is_byte_identical_and_atomic(tmp_path):
    fig = figures.war_support_figure(_toplines(), _published(), notice=NOTICE)
    png, svg = tmp_path / "out" / "war.png", tmp_path / "out" / "war.svg"
    save_figure(fig, png, svg)
    first = (png.read_bytes(), svg.read_bytes())
    save_figure(fig, png, svg)
    assert (png.read_bytes(), svg.read_bytes()) == first
    assert first[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in first[1] and b"<dc:date>" not in first[1]
    assert b"Matplotlib version" not in first[0]
    assert sorted(p.name for p in png.parent.iterdir()) == ["war.png", "war.svg"]


def test_saved_files_carry_the_simulated_notice_in_their_metadata(tmp_path):
    from PIL import Image

    fig = figures.alliance_figure(_toplines(), _published(), notice=NOTICE)
    png, svg = tmp_path / "a.png", tmp_path / "a.svg"
    save_figure(fig, png, svg, description=NOTICE)
    with Image.open(png) as im:
        assert im.info["Description"] == NOTICE
    assert NOTICE.split(".")[0].encode() in svg.read_bytes()


def _texts(fig: Figure) -> str:
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


@pytest.mark.parametrize("draw", [figures.war_support_figure, figures.alliance_figure])
def test_confidence_level_in_the_labels_is_the_configured_one(draw):
    assert "95% CI" in _texts(draw(_toplines(), _published(), notice=NOTICE))
    text = _texts(draw(_toplines(), _published(), notice=NOTICE, level=0.9))
    assert "90% CI" in text
    assert "95%" not in text
