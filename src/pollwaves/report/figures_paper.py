"""The paper's two trend diagrams: published numbers above simulated-data estimates.

Each source gets a stacked bar per wave (the paper's diagram) and, below it, a
dot-and-interval panel with every band's value and interval, so every stacked segment has
its interval. Published bounds are bars from the bound to the limit the cell implies, never
points. The figures draw precomputed estimates and intervals and never compute any. They
are plain :class:`~matplotlib.figure.Figure` objects on an explicit Agg canvas (no pyplot
state).
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Sequence

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from pollwaves.report import figures_intervals as fi
from pollwaves.report import figures_series as fs
from pollwaves.report.figures_common import (
    ALLIANCE_BANDS,
    WAR_BANDS,
    Band,
    build_ticks,
    figure_style,
    wave_ticks,
)
from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.published_marks import Known, complete_stack, mark_label, published_wave
from pollwaves.report.tables import level_label

PUBLISHED_SOURCE = (
    "Chatham House Belarus Initiative polls, as published (each number's source URL is in "
    "data/raw/published/toplines.csv and the report's sources table)"
)
FONT = 9.0  # smallest text of the figure, in points (>= 10 px as the report renders it)
_WAVE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
#: With more waves than this the bars are too narrow for their value labels and the wave labels
#: overlap: the published segments go unlabelled, a wave without data is left empty instead of
#: carrying a note, every n-th wave is labelled on the x axis, and the microdata panels draw
#: each band as one stacked area and one line with a shaded CI band
#: (:mod:`pollwaves.report.figures_series`) instead of a bar and a dot per wave.
LABELLED_WAVES = 24
_NOTE_KW = {"rotation": 90, "ha": "center", "va": "center", "fontsize": FONT, "color": "0.45"}
_LEGEND_KW = {"loc": "lower center", "ncol": 2, "frameon": False, "fontsize": FONT}
_MARKS = {  # used kind -> legend handle
    "point": lambda: Line2D([], [], ls="none", marker="o", ms=6.5, mfc="0.55", mec="black",
                            label="published value (dot)"),
    "approximate": lambda: Line2D([], [], ls="none", marker="o", ms=6.5, mfc="white",
                                  mec="black", label="published as approximate (~) or fraction"),
    "group": lambda: Line2D([], [], ls="none", marker="o", ms=6.5, mfc="0.55", mfcalt="white",
                            fillstyle="left", mec="black",
                            label="two answers published together"),
    "lower_bound": lambda: Line2D([], [], color="0.4", lw=2.4, marker="^", ms=6,
                                  label="published lower bound (≥ x): open bar upward from x; "
                                  "the share lies on the bar"),
    "upper_bound": lambda: Line2D([], [], color="0.4", lw=2.4, marker="v", ms=6,
                                  label="published upper bound: bar from ≤ x down"),
    "interval": lambda: Line2D([], [], color="0.4", lw=2.4, marker="_", ms=9,
                               label="published range"),
}  # fmt: skip


def _footer(level: float, prov: Provenance = ALL_SIMULATED, panel: str = "dot") -> tuple[str, str]:
    lv = level_label(level)
    return (
        f"Published rows: real numbers from the {PUBLISHED_SOURCE}, in % as published (not "
        "rescaled). Stacked only where a wave was published with a complete breakdown; below, "
        "every published number; a bound (≥ x) is a bar from x up to the highest value the "
        "published cell admits (100% unless the other published answers set a lower ceiling), "
        "not a measured value.",
        f"{prov.source.capitalize()} rows: weighted estimates from {prov.microdata}, with "
        f"the {lv} confidence interval of every segment in the {panel} panel.",
    )


def _draw_stack(ax, x, segs, bands: Sequence[Band], used: set, fmt=mark_label, highlight=None):
    """Stacked bar of ``segs`` (group segments hatched in their second band's colour).

    The band whose key is ``highlight`` gets a heavy black outline and a bold label.
    """
    bottom = 0.0
    for s in segs:
        c, kw = bands[s.bands[0]].colour, {}
        if len(s.bands) > 1:
            kw = {"hatch": "///", "hatchcolor": bands[s.bands[-1]].colour}
            used.add("hatched")
        hl = highlight is not None and bands[s.bands[0]].key == highlight and len(s.bands) == 1
        edge = {"edgecolor": "black", "lw": 2.2, "zorder": 3} if hl else {"edgecolor": "white"}
        ax.bar(x, s.value, bottom=bottom, width=0.62, color=c, **{"lw": 0.8, **edge}, **kw)
        if s.value >= 6 and fmt is not None:
            box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"} if kw else None
            tc = "black" if kw else bands[s.bands[0]].text
            kws = {"ha": "center", "va": "center", "fontsize": FONT, "color": tc, "bbox": box}
            ax.text(x, bottom + s.value / 2, fmt(s), fontweight="bold" if hl else None, **kws)
        bottom += s.value


def _valid_waves(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    ok = frame["wave"].astype(str).str.match(_WAVE)
    if (~ok).any():
        bad = sorted(set(frame.loc[~ok, "wave"].astype(str)))
        warnings.warn(f"{what}: waves {bad} are not YYYY-MM and are not drawn", stacklevel=3)
    return frame.loc[ok]


def _published_toplines(published: pd.DataFrame, question: str) -> pd.DataFrame:
    pub = published.loc[published["question"] == question].copy()
    for col in ("value", "low", "high"):
        pub[col] = pd.to_numeric(pub[col], errors="coerce").astype(float)
    for col in ("subgroup_canonical_variable", "subgroup_variable"):
        if col in pub.columns:
            pub = pub.loc[pub[col].isna() | (pub[col].astype(str).str.strip() == "")]
    return _valid_waves(pub, "published")


def _legend_handles(bands, used: set, level: float, highlight=None, invasion=None,
                    source: str = "simulated", lines: bool = False) -> list:  # fmt: skip
    handles: list = [
        Patch(facecolor=b.colour, edgecolor="black", lw=2.2, label=f"{b.label} (outlined)")
        if b.key == highlight
        else Patch(facecolor=b.colour, label=b.label)
        for b in bands
    ]
    if "hatched" in used:
        label = "two answers published together (bar)"
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="///", label=label))
    handles += [make() for k, make in _MARKS.items() if k in used]
    ci = f"{source} estimate with its {level_label(level)} confidence interval"
    if lines:  # many waves: a line over a shaded ribbon
        handles.append(Patch(facecolor="0.55", alpha=0.3, label=f"{ci} (shaded)"))
        handles.append(Line2D([], [], color="0.4", lw=1.4, label=f"{source} estimate (line)"))
    else:
        handles.append(Line2D([], [], color="0.4", lw=1.8, marker="o", mfc="0.55",
                              mec="black", ms=5.5, label=ci))  # fmt: skip
    if invasion is not None:
        handles.append(Line2D([], [], color="0.15", ls="--", lw=1.3, label=invasion))
    return handles


def _invasion_x(waves: Sequence[str], date: str | None) -> float | None:
    """Midway between the last wave starting before ``date`` and the next wave, or None."""
    if date is None or len(waves) < 2:
        return None
    d = pd.Timestamp(date).to_period("M")
    months = [pd.Period(w, "M") for w in waves]
    for i in range(len(waves) - 1):
        if months[i] <= d < months[i + 1]:
            return i + 0.5
    return None


def _mark_invasion(axes, x: float | None, date: str | None) -> str | None:
    """Dashed vertical line at the invasion date on every axis; returns the legend label."""
    if x is None or date is None:
        return None
    d = pd.Timestamp(date)
    label = f"full-scale invasion ({d.day} {_MONTHS[d.month - 1]} {d.year})"
    for ax in axes:
        ax.axvline(x, color="0.15", ls="--", lw=1.3, zorder=5)
    kws = {"ha": "left", "va": "top", "fontsize": FONT, "color": "0.15", "zorder": 6,
           "bbox": {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"}}  # fmt: skip
    axes[0].text(x + 0.04, 0.97, "invasion", transform=axes[0].get_xaxis_transform(), **kws)
    return label


def _note(ax, x: float, text: str) -> None:
    ax.text(x, 0.5, text, transform=ax.get_xaxis_transform(), **_NOTE_KW)


def _style_axis(ax, waves: Sequence[str], title: str, ylabel: str, dots: bool,
                separators: bool = True) -> None:  # fmt: skip
    labels = [f"{_MONTHS[int(w[5:7]) - 1]}\n{w[:4]}" for w in waves]
    ax.set_title(title, fontsize=FONT + 1.5, fontweight="bold", loc="left")
    wave_ticks(ax, labels, LABELLED_WAVES, FONT)  # every wave up to LABELLED_WAVES waves
    ax.tick_params(axis="y", labelsize=FONT)
    ax.set(xlim=(-0.6, len(waves) - 0.4), ylim=(0, 106 if not dots else 103))
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel(ylabel, fontsize=FONT)
    ax.grid(axis="x", visible=False)
    ax.grid(axis="y", color="0.88", lw=0.8)
    if dots and separators and len(waves) > 1:  # thin separators: each dot's wave between two
        ax.vlines([x + 0.5 for x in range(len(waves) - 1)], 0, 1, transform=ax.get_xaxis_transform(),
                  colors="0.8", lw=0.8, zorder=0)  # fmt: skip


def _trend_figure(toplines, published, question, bands, title, notice, *, level,
                  highlight=None, invasion=None, prov: Provenance = ALL_SIMULATED,
                  contrasts=None, published_intervals=None) -> Figure:  # fmt: skip
    bands = tuple(bands)
    pub = _published_toplines(published, question)
    sim = toplines.loc[(toplines["question"] == question) & (toplines["domain"] == "all")]
    sim = _valid_waves(sim.loc[sim["estimate"].notna()], "toplines")
    if published_intervals is None:
        published_intervals = fi.published_interval_frame(pub, bands)
    else:
        published_intervals = published_intervals[published_intervals["question"] == question]
    waves = sorted(set(pub["wave"].astype(str)) | set(sim["wave"].astype(str))
                   | set(published_intervals["wave"].astype(str)))  # fmt: skip
    xpos = {w: float(i) for i, w in enumerate(waves)}
    labelled = len(waves) <= LABELLED_WAVES
    noted = waves if labelled else []  # the waves that may carry a "no data" note
    stacks = {}
    for w in waves:
        rows = pub.loc[pub["wave"].astype(str) == w]
        if len(rows):
            singles, groups = published_wave(rows, bands)
            stacks[w] = complete_stack(singles, groups, len(bands))
    full = {w: s for w, s in stacks.items() if s is not None}
    kinds = ["pub_stack"] * bool(full) + ["pub_dots", "sim_stack", "sim_dots"]
    ratios = {"pub_stack": 3.0, "pub_dots": 2.8, "sim_stack": 3.0, "sim_dots": 2.8}
    height = sum(ratios[k] for k in kinds) * 0.8 + 4.6
    with figure_style():
        fig = Figure(figsize=(11, height))
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(kinds), 1, sharex=True,
                            gridspec_kw={"height_ratios": [ratios[k] for k in kinds]})  # fmt: skip
        ax = dict(zip(kinds, axes, strict=True))
        used: set[str] = set()
        right = "SIMULATED microdata" if prov.mode == "simulated" else "Microdata"
        titles = {
            "pub_stack": "Published (Chatham House): waves with a complete breakdown",
            "pub_dots": "Published (Chatham House): every published number",
            "sim_stack": f"{right}, weighted: stacked shares" + ("" if labelled else " (areas)"),
            "sim_dots": f"{right}, weighted: each segment with its {level_label(level)} "
            "confidence interval" + ("" if labelled else " (line and shaded band)"),
        }
        for w, segs in full.items():
            _draw_stack(ax["pub_stack"], xpos[w], segs, bands, used, highlight=highlight,
                        fmt=mark_label if labelled else None)  # fmt: skip
        if "pub_stack" in ax:
            for w in noted:
                if w not in full:
                    note = "partial: see below" if w in stacks else "no published numbers"
                    _note(ax["pub_stack"], xpos[w], note)
        fi.draw_published(ax["pub_dots"], published_intervals, bands, xpos, used, highlight)
        for w in noted:
            if w not in set(published_intervals["wave"].astype(str)):
                _note(ax["pub_dots"], xpos[w], "no published numbers")
        est = fi.estimate_frame(sim, contrasts, question, bands)
        fmt = lambda s: f"{s.value:.0f}"  # noqa: E731
        if not labelled:  # many waves: one area and one line per band (figures_series)
            fs.draw_stack_areas(ax["sim_stack"], est, bands, xpos, highlight)
            fs.draw_estimate_lines(ax["sim_dots"], est, bands, xpos, highlight)
        for w, e in est.groupby("wave", sort=True) if labelled else ():
            vals = dict(zip(e["category"], e["estimate"], strict=True))
            segs = [Known("point", vals[b.key], vals[b.key], vals[b.key], bands=(j,))
                    for j, b in enumerate(bands)]  # fmt: skip
            _draw_stack(ax["sim_stack"], xpos[w], segs, bands, used, fmt=fmt,
                        highlight=highlight)  # fmt: skip
        if labelled:
            fi.draw_estimates(ax["sim_dots"], est, bands, xpos, highlight)
        for w in noted:
            if w not in set(est["wave"]):
                for k in ("sim_stack", "sim_dots"):
                    _note(ax[k], xpos[w], f"no {prov.source} wave")
        for k, a in ax.items():
            # the separators tell dodged dots apart: none under the lines of many waves
            dots = k.endswith("dots")
            _style_axis(a, waves, titles[k], "% of respondents", dots, labelled or k != "sim_dots")
            a.tick_params(axis="x", labelbottom=True)
        tops = {
            "sim_dots": est["ci_high"].where(est["ci_high"].notna(), est["estimate"]).max(),
            "pub_dots": pd.to_numeric(published_intervals["high"], errors="coerce").max(),
        }
        for k, top in tops.items():  # the data's range, so that the intervals are visible
            if pd.notna(top):
                ax[k].set_ylim(0, min(103.0, 10 * (float(top) // 10) + 12))
        inv = _mark_invasion(list(ax.values()), _invasion_x(waves, invasion), invasion)
        handles = _legend_handles(bands, used, level, highlight, inv, prov.source, not labelled)
        panel = "dot" if labelled else "line"
        footer = [t for t in (*_footer(level, prov, panel), " ".join(str(notice).split())) if t]
        text = "\n".join(textwrap.fill(t, 150) for t in footer)
        foot_h = 0.1 + text.count("\n") * FONT * 1.25 / 72 + 0.2
        legend_h = 0.25 * -(-len(handles) // 2) + 0.1
        fig.legend(handles=handles, bbox_to_anchor=(0.5, foot_h / height), **_LEGEND_KW)
        fig.suptitle(title, fontsize=FONT + 4, fontweight="bold", y=1 - 0.12 / height)
        fig.text(0.01, 0.008, text, ha="left", va="bottom", fontsize=FONT, color="0.15")
        fig.subplots_adjust(left=0.07, right=0.99, top=1 - 0.65 / height,
                            bottom=(foot_h + legend_h + 0.55) / height, hspace=0.55)  # fmt: skip
        build_ticks(fig)  # tick artists under the seaborn style, not rendered
    return fig


_COMMON_DOC = """
    toplines : pandas.DataFrame
        Precomputed design-based estimates (result-table columns, shares in [0, 1]); rows of
        the question with ``domain == "all"`` are drawn.
    published : pandas.DataFrame
        Used published numbers in percent (``relation``, ``qualifier``, ``value/low/high``);
        subgroup rows are ignored.
    notice : str
        Simulated-data notice printed in the figure footer.
    level : float
        Confidence level of the precomputed intervals, as printed in the labels
        (``estimation.level`` of config.yaml).
    prov : Provenance
        The waves' ``simulated`` flags (:mod:`pollwaves.report.provenance`); they word the
        microdata labels. Default: every wave simulated.
    bands : sequence of Band, optional
        The stack's bands bottom to top (:func:`pollwaves.report.figures_common.stack_bands`
        from the codebook and ``report.stacks``; "hard to say" last). Default: the bundled
        study's bands.
    contrasts : pandas.DataFrame, optional
        ``reports/tables/contrasts.csv``: the CI of a band of several categories (e.g.
        ``alliance / neutral``); without it such a band is drawn without an interval.
    published_intervals : pandas.DataFrame, optional
        ``wave, question, category, kind, value, low, high`` in percent (the implied intervals
        of the published cells); default: built from ``published``
        (:func:`pollwaves.report.figures_intervals.published_interval_frame`).
"""


def war_support_figure(
    toplines: pd.DataFrame,
    published: pd.DataFrame,
    *,
    notice: str,
    level: float = 0.95,
    prov: Provenance = ALL_SIMULATED,
    bands: Sequence[Band] = WAR_BANDS,
    contrasts: pd.DataFrame | None = None,
    published_intervals: pd.DataFrame | None = None,
) -> Figure:
    """War support by wave: published numbers (top rows) and weighted estimates (bottom rows).

    Parameters
    ----------{common}
    Returns
    -------
    matplotlib.figure.Figure
        Per source a stack by wave (complete published breakdowns only) and a dot-and-interval
        panel with every band's value and interval (published bounds as bars, ``≥14``). No
        interval is computed: only the precomputed ``ci_low``/``ci_high`` are drawn.
    """
    title = "Do you or do you not support Russia's military actions in Ukraine?"
    return _trend_figure(
        toplines, published, "war_support", bands, title, notice, level=level, prov=prov,
        contrasts=contrasts, published_intervals=published_intervals,
    )  # fmt: skip


def alliance_figure(
    toplines: pd.DataFrame,
    published: pd.DataFrame,
    *,
    notice: str,
    invasion_date: str | None = None,
    level: float = 0.95,
    prov: Provenance = ALL_SIMULATED,
    bands: Sequence[Band] = ALLIANCE_BANDS,
    contrasts: pd.DataFrame | None = None,
    published_intervals: pd.DataFrame | None = None,
    highlight: str | None = "neutral",
) -> Figure:
    """Preferred geopolitical union by wave: published (top rows) and weighted estimates.

    Parameters
    ----------{common}    invasion_date : str, optional
        ``YYYY-MM-DD`` of the full-scale invasion, drawn as a dashed line midway between the
        last wave whose month is not later and the next wave (a wave in the invasion month
        counts as before it); nothing is drawn when the date is outside the waves.
    highlight : str, optional
        Key of the band outlined in black (default ``neutral``: both or outside).

    Returns
    -------
    matplotlib.figure.Figure
        Like :func:`war_support_figure`; the neutral band is outlined, its interval comes
        from ``contrasts``, and a partly published neutral band is a bar from its lower bound
        (``>64`` in Sep 2020) up to the ``high`` of its interval.
    """
    title = "Which union should Belarus be in? (neutral options outlined)"
    return _trend_figure(
        toplines, published, "alliance", bands, title, notice, level=level,
        highlight=highlight, invasion=invasion_date, prov=prov, contrasts=contrasts,
        published_intervals=published_intervals,
    )  # fmt: skip


war_support_figure.__doc__ = war_support_figure.__doc__.replace("{common}", _COMMON_DOC)
alliance_figure.__doc__ = alliance_figure.__doc__.replace("{common}", _COMMON_DOC)
