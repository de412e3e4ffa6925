"""Tests of the figures: the paper's two trend diagrams, their bands and intervals, text size."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
import yaml
from conftest import ROOT
from matplotlib.figure import Figure

from pollwaves.errors import InputError
from pollwaves.report import figures_paper as figures
from pollwaves.report.figures_common import (
    ALLIANCE_BANDS,
    MIN_FONT_KEY,
    WAR_BANDS,
    min_font_pt,
    save_figure,
    stack_bands,
)

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
    return " ".join(" ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text)).split())


def _tick_labels(ax) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]


def _contrasts() -> pd.DataFrame:
    cols = ["question", "wave", "domain", "contrast", "estimate", "se", "ci_low", "ci_high"]
    rows = [
        ("alliance", w, "all", "neutral", 0.5, 0.02, 0.44, 0.53) for w in ("2022-04", "2023-03")
    ]
    return pd.DataFrame(rows, columns=cols)


def _axes(fig: Figure) -> dict[str, object]:
    """The figure's panels by the start of their title."""
    out = {}
    for ax in fig.axes:
        title = ax.get_title(loc="left")
        kind = "pub_stack" if "complete breakdown" in title else "pub_dots" if "every published" \
            in title else "sim_stack" if "stacked" in title else "sim_dots" if "interval" in title \
            else None  # fmt: skip
        if kind:
            out[kind] = ax
    return out


def _gids(ax) -> dict[str, object]:
    return {a.get_gid(): a for a in ax.get_children() if isinstance(a.get_gid(), str)}


def _span(artist) -> tuple[float, float]:
    """(low, high) of a vertical interval artist (a LineCollection of one segment)."""
    (seg,) = artist.get_segments()
    return tuple(np.round(sorted(seg[:, 1]), 6))


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
    panels = _axes(fig)
    assert {"pub_dots", "sim_stack", "sim_dots"} <= panels.keys()
    assert panels["sim_stack"].get_title(loc="left").startswith("SIMULATED microdata, weighted")
    for ax in panels.values():
        assert len(ax.get_xticks()) == len(expected)
        assert _tick_labels(ax) == expected
    text = _texts(fig)
    assert NOTICE in text
    assert "SIMULATED microdata" in text
    assert "data/raw/published/toplines.csv" in text
    for jargon in ("precomputed", "segment boundary"):
        assert jargon not in text


def test_complete_published_wave_is_stacked_partial_wave_is_dots_and_bars():
    fig = figures.war_support_figure(_toplines(), _published(), notice=NOTICE)
    panels = _axes(fig)
    heights = sorted(round(p.get_height(), 6) for p in panels["pub_stack"].patches)
    assert heights == [13, 15, 32, 40]  # only Apr 2022 is a complete breakdown
    labels = {t.get_text() for t in panels["pub_dots"].texts}
    assert {"43", "≥14"} <= labels  # Jun 2022: oppose and the part_of lower bound
    assert "no published numbers" in labels  # Mar 2023 has no published war numbers
    gids = _gids(panels["pub_dots"])
    assert "point:published:2022-06:support" not in gids  # a bound is never a point
    assert _span(gids["interval:published:2022-06:support"]) == (14.0, 100.0)


def test_stack_puts_hard_to_say_last_in_both_panels():
    fig = figures.war_support_figure(_toplines(), _published(), notice=NOTICE)
    panels = _axes(fig)
    grey = matplotlib.colors.to_rgba(WAR_BANDS[-1].colour)
    for ax in (panels["pub_stack"], panels["sim_stack"]):
        by_x: dict[float, list] = {}
        for p in ax.patches:
            by_x.setdefault(round(p.get_x(), 6), []).append(p)
        for bars in by_x.values():
            top = max(bars, key=lambda p: p.get_y())
            assert top.get_facecolor() == grey


def test_alliance_neutral_lower_bound_is_a_bar_to_the_implied_limit_not_a_point():
    fig = figures.alliance_figure(_toplines(), _published(), notice=NOTICE)
    ax = _axes(fig)["pub_dots"]
    labels = {t.get_text() for t in ax.texts}
    assert ">64" in labels  # both > 41 plus outside > 23
    assert "≥23" in labels  # only "outside" published in Mar 2023
    gids = _gids(ax)
    for wave in ("2020-09", "2023-03"):
        assert f"point:published:{wave}:neutral" not in gids
        assert _span(gids[f"interval:published:{wave}:neutral"])[1] == 100.0
    assert _span(gids["interval:published:2020-09:neutral"]) == (64.0, 100.0)
    sim_heights = [round(p.get_height(), 6) for p in _axes(fig)["sim_stack"].patches]
    assert sim_heights.count(50.0) == 2  # neutral = both 35 + outside 15, in both waves


def test_implied_interval_frame_is_drawn_as_given():
    implied = pd.DataFrame({
        "wave": ["2022-04", "2022-04"], "question": ["alliance"] * 2,
        "category": ["neutral", "russia"], "kind": ["lower_bound", "rounded"],
        "value": [25.0, 40.0], "low": [25.0, 39.5], "high": [48.0, 40.5],
        "source_url": ["https://example.org/poll"] * 2,
    })  # fmt: skip
    fig = figures.alliance_figure(_toplines(), _published(), notice=NOTICE,
                                  published_intervals=implied)  # fmt: skip
    ax = _axes(fig)["pub_dots"]
    gids = _gids(ax)
    assert _span(gids["interval:published:2022-04:neutral"]) == (25.0, 48.0)
    assert "point:published:2022-04:neutral" not in gids
    assert _span(gids["interval:published:2022-04:russia"]) == (39.5, 40.5)
    assert gids["point:published:2022-04:russia"].get_ydata()[0] == 40.0
    assert "≥25" in {t.get_text() for t in ax.texts}


@pytest.mark.parametrize("draw", [figures.war_support_figure, figures.alliance_figure])
def test_every_stacked_segment_has_its_own_interval(draw):
    top = _toplines()
    fig = draw(top, _published(), notice=NOTICE, contrasts=_contrasts())
    gids = _gids(_axes(fig)["sim_dots"])
    question = "war_support" if draw is figures.war_support_figure else "alliance"
    bands = WAR_BANDS if question == "war_support" else ALLIANCE_BANDS
    for wave in ("2022-04", "2023-03"):
        for band in bands:
            span = _span(gids[f"interval:estimates:{wave}:{band.key}"])
            if band.key == "neutral":  # from the contrasts table, not a sum of CIs
                assert span == (44.0, 53.0)
            else:
                (row,) = top[(top["question"] == question) & (top["wave"] == wave)
                             & (top["domain"] == "all") & (top["category"] == band.key)
                             ].itertuples()  # fmt: skip
                assert span == (round(100 * row.ci_low, 6), round(100 * row.ci_high, 6))


@pytest.mark.parametrize("draw", [figures.war_support_figure, figures.alliance_figure])
def test_no_marker_sits_where_it_reads_as_another_wave(draw):
    fig = draw(_toplines(), _published(), notice=NOTICE, contrasts=_contrasts())
    for name, ax in _axes(fig).items():
        if not name.endswith("dots"):
            continue
        for line in ax.get_lines():
            if line.get_marker() in (None, "None", "") or not len(line.get_xdata()):
                continue
            x = np.asarray(line.get_xdata(), float)
            if np.ptp(ax.get_ylim()) and line.get_xydata().shape[0] == 2 and x[0] == x[1]:
                continue  # an axvline (separator or invasion)
            assert (np.abs(x - np.round(x)) <= 0.35).all(), (name, line.get_gid(), x)
            assert line.get_markersize() <= 11
            gid = str(line.get_gid() or "")
            if gid.startswith("point:"):  # a dot sits in the slot of the wave it belongs to
                wave = gid.split(":")[2]
                ticks = dict(zip(_tick_labels(ax), ax.get_xticks(), strict=True))
                month = f"{MONTHS[int(wave[5:7]) - 1]} {wave[:4]}"
                assert abs(x[0] - ticks[month]) <= 0.35, (gid, x)


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
CODEBOOK = {
    "missing_patterns": {"dont_know": ["^hard to say", "^don'?t know"]},
    "variables": {
        "q": {"kind": "question", "categories": {
            "yes": {"en": "Yes"}, "dk": {"en": "Don't know"}, "no": {"en": "No"},
            "a": {"en": "A"}, "b": {"en": "B"}}},
    },
}  # fmt: skip


def test_stack_order_comes_from_the_codebook_and_config_with_no_position_last():
    contrasts = {"ab": {"a": 1, "b": 1}, "diff": {"yes": 1, "no": -1}}
    bands = stack_bands(CODEBOOK, "q", contrasts)
    assert [b.key for b in bands] == ["yes", "no", "ab", "dk"]  # codebook order, dk last
    assert bands[2].categories == ("a", "b")
    assert bands[0].label == "Yes"
    order = {"dk": 7, "no": 0, "ab": 2, "yes": 3}  # config puts dk first: still drawn last
    bands = stack_bands(CODEBOOK, "q", contrasts, order)
    assert [b.key for b in bands] == ["no", "ab", "yes", "dk"]
    assert bands[0].colour == sns.color_palette("colorblind").as_hex()[0]
    with pytest.raises(InputError, match="every category"):
        stack_bands(CODEBOOK, "q", contrasts, {"yes": 3, "no": 0})  # a and b missing


def test_bundled_codebook_and_config_give_the_ordinal_stacks():
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    cb = yaml.safe_load((ROOT / "config/codebook.yaml").read_text(encoding="utf-8"))
    for q in cfg["report"]["trend_questions"]:
        contrasts = cfg["estimation"]["contrasts"].get(q)
        for stacks in (cfg["report"].get("stacks", {}).get(q), None):
            bands = stack_bands(cb, q, contrasts, stacks)
            assert bands[-1].key == "hard_to_say"
            cats = sorted(c for b in bands for c in b.categories)
            assert cats == sorted(cb["variables"][q]["categories"])
    war = stack_bands(cb, "war_support", None, cfg["report"]["stacks"]["war_support"])
    assert [b.key for b in war] == ["support", "partly", "oppose", "hard_to_say"]


def test_min_font_is_measured_and_stored_in_the_png(tmp_path):
    from PIL import Image

    fig = figures.alliance_figure(_toplines(), _published(), notice=NOTICE)
    assert min_font_pt(fig) >= figures.FONT - 0.5
    small = Figure(figsize=(2, 1))
    small.text(0.1, 0.5, "tiny", fontsize=5)
    small.text(0.1, 0.2, "large", fontsize=12)
    assert min_font_pt(small) == 5.0  # negative control: the smallest text counts
    save_figure(fig, tmp_path / "a.png", tmp_path / "a.svg")
    with Image.open(tmp_path / "a.png") as im:
        assert float(im.info[MIN_FONT_KEY]) == pytest.approx(min_font_pt(fig))


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


@pytest.mark.parametrize("draw", [figures.war_support_figure, figures.alliance_figure])
def test_confidence_level_in_the_labels_is_the_configured_one(draw):
    assert "95% confidence interval" in _texts(draw(_toplines(), _published(), notice=NOTICE))
    text = _texts(draw(_toplines(), _published(), notice=NOTICE, level=0.9))
    assert "90% confidence interval" in text
    assert "95%" not in text


def _poll_average(gap: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Smoothed lines of three series; the oppose series has a year without a poll."""
    rows, obs = [], []
    dates = pd.date_range("2022-01-01", "2023-12-01", freq="MS")
    polled = {d for d in dates if d.month in (1, 4, 7, 10)}
    for q, cat, level in (("war_support", "support", 0.3), ("war_support", "oppose", 0.6),
                          ("alliance", "neutral", 0.5)):  # fmt: skip
        for d in dates:
            hole = gap and cat == "oppose" and pd.Timestamp("2022-05-01") < d < pd.Timestamp(
                "2023-06-01")  # fmt: skip
            seen = d in polled and not hole
            width = 0.02 if seen else 0.06
            rows.append(("simulated", q, cat, d, level, level - width, level + width, seen))
            if seen:
                obs.append(("simulated", q, cat, d, level, level - 0.03, level + 0.03))
    cols = ["source", "question", "category", "date", "estimate", "ci_low", "ci_high"]
    return (pd.DataFrame(rows, columns=[*cols, "observed"]), pd.DataFrame(obs, columns=cols))


def test_poll_average_panels_share_one_y_scale_per_question():
    from pollwaves.report.figures_average import poll_average_figure

    avg, obs = _poll_average()
    fig = poll_average_figure(avg, obs, notice=NOTICE)
    panels = {ax.get_gid(): ax for ax in fig.axes if str(ax.get_gid()).startswith("panel:")}
    support, oppose = panels["panel:war_support:support"], panels["panel:war_support:oppose"]
    neutral = panels["panel:alliance:neutral"]
    assert support.get_ylim() == oppose.get_ylim()
    lo, hi = support.get_ylim()
    assert lo <= 100 * (0.3 - 0.06) and hi >= 100 * (0.6 + 0.06)  # both series fit
    assert neutral.get_ylim() != support.get_ylim()
    assert neutral.get_ylim()[1] < hi  # its own family's range


@pytest.mark.parametrize("gap", [True, False])
def test_poll_average_marks_a_gap_in_the_data_only_where_there_is_one(gap):
    from pollwaves.report.figures_average import data_gaps, poll_average_figure

    avg, obs = _poll_average(gap)
    fig = poll_average_figure(avg, obs, notice=NOTICE, gap_days=180)
    panels = {ax.get_gid(): ax for ax in fig.axes if str(ax.get_gid()).startswith("panel:")}
    strips = {k: [a for a in ax.patches if a.get_gid() == "gap"] for k, ax in panels.items()}
    assert strips["panel:war_support:support"] == []  # polled every quarter
    assert len(strips["panel:war_support:oppose"]) == (1 if gap else 0)
    text = _texts(fig)
    assert "180 days without a" in text and "no poll was fielded" in text
    assert ("no poll" in {t.get_text() for t in panels["panel:war_support:oppose"].texts}) == gap
    d = pd.to_datetime(["2022-01-01", "2022-04-01", "2023-07-01"])
    assert data_gaps(d, 180) == [(d[1], d[2])]
    assert data_gaps(d, 500) == []


def test_contradictory_implied_interval_warns_and_draws_the_bound_alone():
    implied = pd.DataFrame({
        "wave": ["2022-04"], "question": ["alliance"], "category": ["neutral"],
        "kind": ["lower_bound"], "value": [64.0], "low": [64.0], "high": [63.7],
    })  # fmt: skip
    with pytest.warns(UserWarning, match="implied high 63.7 < low 64"):
        fig = figures.alliance_figure(_toplines(), _published(), notice=NOTICE,
                                      published_intervals=implied)  # fmt: skip
    gids = _gids(_axes(fig)["pub_dots"])
    assert _span(gids["interval:published:2022-04:neutral"]) == (64.0, 64.0)
    assert "point:published:2022-04:neutral" not in gids


def _many_waves(n: int) -> pd.DataFrame:
    base = _toplines()
    base = base[(base["domain"] == "all") & (base["wave"] == "2022-04")]
    waves = [f"{2022 + k // 12}-{k % 12 + 1:02d}" for k in range(n)]
    return pd.concat([base.assign(wave=w) for w in waves], ignore_index=True)


@pytest.mark.parametrize("n", [figures.LABELLED_WAVES, figures.LABELLED_WAVES + 1, 60])
def test_many_waves_drop_the_segment_labels_and_thin_the_wave_labels(n):
    fig = figures.war_support_figure(_many_waves(n), _published(), notice=NOTICE)
    ax = _axes(fig)
    ticks = _tick_labels(ax["sim_stack"])
    segment_labels = [t for t in ax["sim_stack"].texts if t.get_text().strip().isdigit()]
    notes = [t for a in fig.axes for t in a.texts if t.get_text().startswith("no ")]
    if n <= figures.LABELLED_WAVES:
        assert len(ticks) == n and ticks[0] == "Jan 2022"
        assert len(segment_labels) == 4 * n  # every band of every wave is >= 6 %
        assert notes  # the published panels say which waves have no published numbers
    else:
        assert len(ticks) <= figures.LABELLED_WAVES and ticks[0] == "Jan 2022"
        assert segment_labels == [] and notes == []


# n waves from 2022-01 on, all on the axis (2022-04 from the published numbers alone)
@pytest.mark.parametrize("n", [figures.LABELLED_WAVES, figures.LABELLED_WAVES + 1, 60])
def test_many_waves_draw_one_area_and_one_line_per_band(n):
    top = _many_waves(n)
    waves = sorted(top["wave"].unique())
    gap = waves.index("2022-04")  # published, but no microdata wave: a gap, not interpolated
    top = top[top["wave"] != "2022-04"]
    fig = figures.war_support_figure(top, _published(), notice=NOTICE, contrasts=_contrasts())
    ax = _axes(fig)
    stack, dots = _gids(ax["sim_stack"]), _gids(ax["sim_dots"])
    if n <= figures.LABELLED_WAVES:  # a bar and a dodged dot per wave and band
        assert not any(g.startswith(("line:", "stack:", "ribbon:")) for g in dots | stack)
        assert f"point:estimates:{waves[0]}:support" in dots
        return
    assert not any(g.startswith(("point:", "interval:")) for g in dots)
    assert len(ax["sim_stack"].patches) == 0  # no per-wave bars
    for band in WAR_BANDS:
        line = dots[f"line:estimates:{band.key}"]
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.asarray(line.get_xdata(), dtype=float).tolist() == list(range(n))
        assert np.isnan(y[gap]) and np.isfinite(np.delete(y, gap)).all()
        assert f"stack:estimates:{band.key}" in stack
        if band.key != "neutral":
            (row,) = top[(top["question"] == "war_support") & (top["wave"] == waves[0])
                         & (top["category"] == band.key)].itertuples()  # fmt: skip
            assert y[0] == pytest.approx(100 * row.estimate)
            ribbon = dots[f"ribbon:estimates:{band.key}"].get_paths()[0].vertices[:, 1]
            assert ribbon.min() == pytest.approx(100 * row.ci_low)
    text = _texts(fig)
    assert "line and shaded band" in text and "in the line panel" in text


def test_figure_style_is_the_seaborn_theme_it_stands_in_for():
    from pollwaves.report.figures_common import PALETTE, STYLE_RC, figure_style

    theme = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.85)}
    assert theme.pop("image.cmap") == "rocket"  # left out: no figure draws an image
    assert STYLE_RC == theme
    assert PALETTE == sns.color_palette("colorblind").as_hex()
    before = dict(matplotlib.rcParams)
    with figure_style():
        assert all(matplotlib.rcParams[k] == v for k, v in STYLE_RC.items())
    assert dict(matplotlib.rcParams) == before  # restored
