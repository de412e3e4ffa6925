"""The paper's two trend diagrams: published numbers next to simulated-data estimates.

The figures take precomputed design-based estimates and never compute intervals. They are
plain :class:`~matplotlib.figure.Figure` objects on an explicit Agg canvas (no pyplot state).
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from pollwaves.report.figures_common import ALLIANCE_BANDS, WAR_BANDS, Band
from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.published_marks import Known, complete_stack, mark_label, published_wave
from pollwaves.report.tables import level_label

PUBLISHED_SOURCE = (
    "Chatham House Belarus Initiative polls, as published; see reports/tables and "
    "data/raw/published/toplines.csv for URLs"
)


def _footer(level: float, prov: Provenance = ALL_SIMULATED) -> tuple[str, str]:
    return (
        f"Left panel: {PUBLISHED_SOURCE}. Values in % as published (not rescaled); waves "
        "without a complete breakdown are shown as markers; ~ approximate.",
        f"Right panel: weighted estimates from {prov.microdata}. Error bars are precomputed "
        f"{level_label(level)} CIs of the share below a segment boundary, drawn only where the "
        "toplines table holds that share (here: lowest and highest band).",
    )


_WAVE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_NOTE_KW = {"rotation": 90, "ha": "center", "va": "center", "fontsize": 7.5, "color": "0.45"}
_CI_KW = {"fmt": "none", "ecolor": "black", "elinewidth": 1.1, "capsize": 3}
_LEGEND_KW = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.25), "ncol": 4, "frameon": False}
_MARKERS = {  # kind -> (marker, legend label)
    "point": ("o", "published value (wave without complete breakdown)"),
    "lower": ("^", "published lower bound (> more than, ≥ at least)"),
    "upper": ("v", "published upper bound"),
    "range": ("D", "published range"),
    "group": ("o", "two categories published together (marker)"),
}


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
        if s.value >= 4.5:
            box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"} if kw else None
            tc = "black" if kw else bands[s.bands[0]].text
            kws = {"ha": "center", "va": "center", "fontsize": 8, "color": tc, "bbox": box}
            ax.text(x, bottom + s.value / 2, fmt(s), fontweight="bold" if hl else None, **kws)
        bottom += s.value


def _draw_markers(ax, x, items: list[Known], bands: Sequence[Band], used: set, highlight=None):
    """Markers for a partial wave: one x offset per band, labels alternate above/below."""
    for k in items:
        dx = (float(np.mean(k.bands)) - (len(bands) - 1) / 2) * 0.22
        y = k.value  # the point, the bound, or the middle of a range
        c1, c2 = bands[k.bands[0]].colour, bands[k.bands[-1]].colour
        if k.kind == "range":
            ax.vlines(x + dx, k.lo, k.hi, colors=c1, lw=2)
        fill = "left" if len(k.bands) > 1 else "full"
        mk = {"ms": 7, "ls": "none", "mfc": c1, "mec": "black", "mew": 0.6, "mfcalt": c2}
        if highlight is not None and bands[k.bands[0]].key == highlight:
            mk.update(ms=9, mew=1.8)
        ax.plot([x + dx], [y], marker=_MARKERS[k.kind][0], fillstyle=fill, **mk)
        below = k.kind == "upper" or k.bands[0] % 2 == 1
        off, va = (-7, "top") if below else (6, "bottom")
        kws = {"textcoords": "offset points", "ha": "center", "va": va, "fontsize": 7.5}
        ax.annotate(mark_label(k), (x + dx, y), xytext=(0, off), **kws)
        used.update([k.kind, "group"] if len(k.bands) > 1 else [k.kind])


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


def _boundary_cis(rows: pd.DataFrame, bands: Sequence[Band]) -> list[tuple[float, float, float]]:
    """(boundary, ci_low, ci_high) in percent, for boundaries whose share has a precomputed CI."""
    est = {str(c): 100 * e for c, e in zip(rows["category"], rows["estimate"], strict=True)}
    cis = {
        frozenset(str(c).split("+")): (100 * lo, 100 * hi)
        for c, lo, hi in zip(rows["category"], rows["ci_low"], rows["ci_high"], strict=True)
        if pd.notna(lo) and pd.notna(hi)
    }
    everything, out = frozenset(c for b in bands for c in b.categories), []
    for k in range(1, len(bands)):  # boundary below band k: share of bands[:k] or its complement
        cum = frozenset(c for b in bands[:k] for c in b.categories)
        for cats, below in ((cum, True), (everything - cum, False)):
            if cats in cis:
                y, (lo, hi) = sum(est.get(c, 0.0) for c in cats), cis[cats]
                out.append((y, lo, hi) if below else (100 - y, 100 - hi, 100 - lo))
                break
    return out


def _legend_handles(
    bands: Sequence[Band],
    used: set,
    level: float,
    highlight=None,
    invasion=None,
    source: str = "simulated",
) -> list:
    handles: list = [
        Patch(facecolor=b.colour, edgecolor="black", lw=2.2, label=f"{b.label}, highlighted")
        if b.key == highlight
        else Patch(facecolor=b.colour, label=b.label)
        for b in bands
    ]
    if invasion is not None:
        handles.append(Line2D([], [], color="0.15", ls="--", lw=1.3, label=invasion))
    if "hatched" in used:
        label = "two categories published together (bar)"
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="///", label=label))
    mk = {"ls": "none", "mfc": "0.6", "mec": "black", "ms": 7, "mfcalt": "white"}
    for k, (m, label) in _MARKERS.items():
        if k in used:
            fill = "left" if k == "group" else "full"
            handles.append(Line2D([], [], marker=m, fillstyle=fill, label=label, **mk))
    ci = f"{level_label(level)} CI ({source}; precomputed)"
    return [*handles, Line2D([], [], color="black", marker="_", ms=8, lw=1.1, label=ci)]


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
        ax.axvline(x, color="0.15", ls="--", lw=1.3, zorder=4)
        kws = {"ha": "center", "va": "bottom", "fontsize": 7.5, "color": "0.15"}
        ax.text(x, 101, "invasion", **kws)
    return label


def _trend_figure(
    toplines,
    published,
    question,
    bands,
    title,
    notice,
    *,
    level,
    highlight=None,
    invasion=None,
    prov: Provenance = ALL_SIMULATED,
) -> Figure:
    pub = _published_toplines(published, question)
    sim = toplines.loc[(toplines["question"] == question) & (toplines["domain"] == "all")]
    sim = _valid_waves(sim.loc[sim["estimate"].notna()], "toplines")
    waves = sorted(set(pub["wave"].astype(str)) | set(sim["wave"].astype(str)))
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.85):
        fig = Figure(figsize=(13, 6.6))
        FigureCanvasAgg(fig)
        ax_pub, ax_sim = fig.subplots(1, 2, sharey=True)
        used: set[str] = set()
        for i, w in enumerate(waves):
            rows = pub.loc[pub["wave"].astype(str) == w]
            if rows.empty:
                ax_pub.text(i, 50, "no published numbers", **_NOTE_KW)
                continue
            singles, groups = published_wave(rows, bands)
            segs = complete_stack(singles, groups, len(bands))
            if segs is not None:
                _draw_stack(ax_pub, i, segs, bands, used, highlight=highlight)
            else:
                extra = [g for g in groups if not set(g.bands) <= singles.keys()]
                items = [*singles.values(), *extra]
                _draw_markers(ax_pub, i, items, bands, used, highlight=highlight)
        for i, w in enumerate(waves):
            rows = sim.loc[sim["wave"].astype(str) == w]
            if rows.empty:
                ax_sim.text(i, 50, f"no {prov.source} wave", **_NOTE_KW)
                continue
            est = dict(zip(rows["category"].astype(str), 100 * rows["estimate"], strict=True))
            vals = [float(sum(est.get(c, 0.0) for c in b.categories)) for b in bands]
            segs = [Known("point", v, v, v, bands=(j,)) for j, v in enumerate(vals)]
            fmt = lambda s: f"{s.value:.0f}"  # noqa: E731
            _draw_stack(ax_sim, i, segs, bands, used, fmt=fmt, highlight=highlight)
            for y, lo, hi in _boundary_cis(rows, bands):
                ax_sim.errorbar(i + 0.22, y, yerr=[[y - lo], [hi - y]], **_CI_KW)
        right = "Simulated microdata" if prov.mode == "simulated" else "Microdata"
        titles = ("Published (Chatham House)", f"{right}, weighted")
        labels = [f"{_MONTHS[int(w[5:7]) - 1]}\n{w[:4]}" for w in waves]
        for ax, name in zip((ax_pub, ax_sim), titles, strict=True):
            ax.set_title(name, fontsize=11, fontweight="bold")
            ax.set_xticks(range(len(waves)), labels, fontsize=8)
            ax.set(xlim=(-0.6, len(waves) - 0.4), ylim=(0, 106), yticks=range(0, 101, 20))
            ax.grid(axis="x", visible=False)
            ax.grid(axis="y", color="0.88", lw=0.8)
        ax_pub.set_ylabel("% of respondents")
        inv = _mark_invasion((ax_pub, ax_sim), _invasion_x(waves, invasion), invasion)
        handles = _legend_handles(bands, used, level, highlight, inv, prov.source)
        fig.legend(handles=handles, fontsize=8.5, **_LEGEND_KW)
        fig.suptitle(title, fontsize=13, fontweight="bold", y=0.975)
        footer = [t for t in (*_footer(level, prov), " ".join(str(notice).split())) if t]
        text = "\n".join(textwrap.fill(t, 175) for t in footer)
        fig.text(0.01, 0.012, text, ha="left", va="bottom", fontsize=7.5, color="0.15")
        fig.subplots_adjust(left=0.055, right=0.99, top=0.885, bottom=0.3, wspace=0.06)
        fig.canvas.draw()  # create lazily built artists (ticks) under the seaborn style
    return fig


def war_support_figure(
    toplines: pd.DataFrame,
    published: pd.DataFrame,
    *,
    notice: str,
    level: float = 0.95,
    prov: Provenance = ALL_SIMULATED,
) -> Figure:
    """War support by wave: published numbers (left) and simulated-data estimates (right).

    Parameters
    ----------
    toplines : pandas.DataFrame
        Precomputed design-based estimates (result-table columns, shares in [0, 1]); rows with
        ``question == "war_support"`` and ``domain == "all"`` are drawn.
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

    Returns
    -------
    matplotlib.figure.Figure
        Stacks support / partly / hard to say / do not support by wave (calendar order).
        Complete published waves are stacked, partial ones are markers with bounds (``≥14``).
        No interval is computed: only the precomputed ``ci_low``/``ci_high`` are drawn.
    """
    title = "Do you or do you not support Russia's military actions in Ukraine?"
    return _trend_figure(
        toplines, published, "war_support", WAR_BANDS, title, notice, level=level, prov=prov
    )


def alliance_figure(
    toplines: pd.DataFrame,
    published: pd.DataFrame,
    *,
    notice: str,
    invasion_date: str | None = None,
    level: float = 0.95,
    prov: Provenance = ALL_SIMULATED,
) -> Figure:
    """Preferred geopolitical union by wave: published (left) and simulated (right).

    Parameters
    ----------
    toplines : pandas.DataFrame
        Precomputed design-based estimates; rows with ``question == "alliance"`` and
        ``domain == "all"`` are drawn.
    published : pandas.DataFrame
        Used published numbers in percent; subgroup rows are ignored.
    notice : str
        Simulated-data notice printed in the figure footer.
    invasion_date : str, optional
        ``YYYY-MM-DD`` of the full-scale invasion, drawn as a dashed line midway between the
        last wave whose month is not later and the next wave (a wave in the invasion month
        counts as before it); nothing is drawn when the date is outside the waves.
    level : float
        Confidence level of the precomputed intervals, as printed in the labels.
    prov : Provenance
        The waves' ``simulated`` flags (:mod:`pollwaves.report.provenance`); they word the
        microdata labels. Default: every wave simulated.

    Returns
    -------
    matplotlib.figure.Figure
        Stacks Russia / neutral (both + outside) / EU / hard to say; the neutral band is
        highlighted (heavy outline, bold labels); a partly published neutral band shows its
        known lower bound (``>64`` in Sep 2020). Only precomputed CIs are drawn.
    """
    title = "Which union should Belarus be in? (neutral options highlighted)"
    return _trend_figure(
        toplines, published, "alliance", ALLIANCE_BANDS, title, notice,
        level=level, highlight="neutral", invasion=invasion_date, prov=prov,
    )  # fmt: skip
