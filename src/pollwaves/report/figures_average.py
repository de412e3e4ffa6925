"""Poll-average figure: smoothed trend lines with their bands, published beside simulated.

Panels of one question family (e.g. both war-support series, both alliance series) share one
y-scale, so that their levels and band widths compare at a glance. A span between two polls
of a series longer than ``gap_days`` is shaded: the band widens there because no poll was
fielded, not because opinion became more uncertain. Like the other figures, nothing is
estimated here (the band and the intervals are the tables' ``ci_low``/``ci_high``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from pollwaves.errors import InputError
from pollwaves.report.figures_common import (
    ALLIANCE_BANDS,
    PALETTE,
    WAR_BANDS,
    build_ticks,
    figure_style,
)
from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.tables import level_label
from pollwaves.survey.design import check_columns

__all__ = ["SERIES_COLOURS", "SERIES_TITLES", "data_gaps", "family_limits", "poll_average_figure"]

#: Colour of each (question, category) series, shared with the stacked diagrams.
SERIES_COLOURS: dict[tuple[str, str], str] = {
    **{("war_support", b.key): b.colour for b in WAR_BANDS},
    **{("alliance", b.key): b.colour for b in ALLIANCE_BANDS},
    **{
        (f"attitude_{c}", "good"): PALETTE[4] for c in ("russia", "ukraine", "poland", "eu", "usa")
    },
}
SERIES_TITLES = {
    ("war_support", "support"): "Support Russia's military actions",
    ("war_support", "oppose"): "Do not support Russia's military actions",
    ("alliance", "neutral"): "Neutral union choice (both or outside)",
    ("alliance", "russia"): "Union with Russia",
    ("attitude_russia", "good"): "Good attitude to Russia",
}
FONT = 9.0  # smallest text, in points (>= 10 px as the report renders the figure)
_CI = {"fmt": "none", "elinewidth": 1.0, "capsize": 2.5}
_COLS = ["source", "question", "category", "date", "estimate", "ci_low", "ci_high"]


def _ci(ax, x, y, lo, hi, colour) -> None:
    y, lo, hi = (np.asarray(v, float) for v in (y, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.errorbar(np.asarray(x)[ok], y[ok], yerr=[y[ok] - lo[ok], hi[ok] - y[ok]],
                    ecolor=colour, **_CI)  # fmt: skip


def data_gaps(dates: Sequence, gap_days: float) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Spans between consecutive poll dates that are longer than ``gap_days`` days."""
    d = sorted(set(pd.to_datetime(pd.Series(list(dates), dtype=object))))
    return [(a, b) for a, b in zip(d[:-1], d[1:], strict=True) if (b - a).days > gap_days]


def family_limits(frames: Sequence[pd.DataFrame], series: Sequence[tuple[str, str]]) -> dict:
    """One y-range (percent) per question: from the lowest ``ci_low`` to the highest
    ``ci_high`` of all that question's drawn series, both sources, bands and points."""
    out = {}
    for q in dict.fromkeys(s[0] for s in series):
        cats = {c for qq, c in series if qq == q}
        vals = [
            100 * f.loc[(f["question"] == q) & f["category"].isin(cats), col].to_numpy(float)
            for f in frames
            for col in ("ci_low", "ci_high", "estimate")
        ]
        v = np.concatenate(vals) if vals else np.array([])
        v = v[np.isfinite(v)]
        lo, hi = (float(v.min()), float(v.max())) if len(v) else (0.0, 100.0)
        lo, hi = max(0.0, np.floor(lo / 5) * 5 - 2), min(100.0, np.ceil(hi / 5) * 5 + 2)
        out[q] = (lo - 2.6 * _STRIP * (hi - lo), hi)  # room for the gap strips below
    return out


def _observed_dates(avg: pd.DataFrame, obs: pd.DataFrame) -> pd.Series:
    """Dates with a poll: the smoother's ``observed`` flags where given, else the points."""
    if "observed" in avg.columns and len(avg):
        flag = avg["observed"].astype(str).str.lower().isin(["true", "1"])
        return avg.loc[flag, "date"]
    return obs["date"]


_STRIP = 0.075  # height of a gap strip, as a fraction of the panel


def _shade_gaps(ax, gaps, colour: str, sim: bool) -> None:
    """Mark each gap: a strip at the bottom of the panel (simulated lowest, published above
    it), a faint tint over the panel's height, and "no poll" where the span is wide."""
    y0 = 0.0 if sim else _STRIP
    for a, b in gaps:
        ax.axvspan(a, b, color=colour, alpha=0.06, lw=0, zorder=0)
        strip = {"facecolor": colour, "alpha": 0.55} if sim else {
            "facecolor": "0.85", "edgecolor": "0.35", "hatch": "///"}  # fmt: skip
        ax.axvspan(a, b, ymin=y0, ymax=y0 + _STRIP, lw=0, zorder=1, gid="gap", **strip)
        if (b - a).days >= 250:
            ax.text(a + (b - a) / 2, y0 + _STRIP / 2, "no poll", ha="center", va="center",
                    fontsize=FONT, color="black", transform=ax.get_xaxis_transform(), zorder=2,
                    bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none",
                          "alpha": 0.8})  # fmt: skip


def _bound_bars(ax, bars: pd.DataFrame, colour) -> None:
    """Published bounds and intervals as bars (capped ends; an end above the axis: arrow)."""
    top = ax.get_ylim()[1]
    lo, hi = 100 * bars["ci_low"].to_numpy(float), 100 * bars["ci_high"].to_numpy(float)
    clipped = np.minimum(hi, top)
    lc = ax.vlines(bars["date"], lo, clipped, colors=colour, lw=2.4, alpha=0.55, zorder=3)
    lc.set_gid("published_bound")
    ax.plot(bars["date"], lo, ls="none", marker="_", ms=9, mew=2, color=colour, zorder=3)
    open_end = hi > top
    ax.plot(bars["date"][~open_end], clipped[~open_end], ls="none", marker="_", ms=9, mew=2,
            color=colour, zorder=3)  # fmt: skip
    ax.plot(bars["date"][open_end], clipped[open_end], ls="none", marker="^", ms=6,
            color=colour, zorder=3)  # fmt: skip


def _draw_series(ax, avg, obs, q, cat, colour, gap_days) -> None:
    for source in ("simulated", "published"):
        a = avg[(avg["source"] == source) & (avg["question"] == q) & (avg["category"] == cat)]
        o = obs[(obs["source"] == source) & (obs["question"] == q) & (obs["category"] == cat)]
        a, o = a.sort_values("date"), o.sort_values("date")
        sim = source == "simulated"
        c = colour if sim else "0.15"
        if len(a):
            ax.fill_between(a["date"], 100 * a["ci_low"], 100 * a["ci_high"], color=c,
                            alpha=0.22 if sim else 0.12, lw=0)  # fmt: skip
            ax.plot(a["date"], 100 * a["estimate"], color=c, lw=2, ls="-" if sim else "--")
        if len(a) or len(o):
            _shade_gaps(ax, data_gaps(_observed_dates(a, o), gap_days), c, sim)
        bars = o[o["estimate"].isna()]  # published bounds/intervals: a bar, never a point
        o = o[o["estimate"].notna()]
        if len(bars):
            _bound_bars(ax, bars, c)
        if len(o):
            y = 100 * o["estimate"]
            _ci(ax, o["date"], y, 100 * o["ci_low"], 100 * o["ci_high"], c)
            mk = {"marker": "o", "mfc": c} if sim else {"marker": "D", "mfc": "white"}
            ax.plot(o["date"], y, ls="none", ms=5, mec=c, mew=1.2, **mk)


def poll_average_figure(
    poll_average: pd.DataFrame,
    observed: pd.DataFrame,
    *,
    notice: str,
    series: Sequence[tuple[str, str]] | None = None,
    invasion_date: str | None = None,
    level: float = 0.95,
    prov: Provenance = ALL_SIMULATED,
    gap_days: float = 180.0,
    colours: Mapping[tuple[str, str], str] | None = None,
) -> Figure:
    """Poll-average trend lines with their bands, published beside simulated.

    Parameters
    ----------
    poll_average : DataFrame
        ``source, question, category, date, estimate, ci_low, ci_high`` (the smoothed line
        and its band; ``reports/tables/poll_average.csv``); an ``observed`` column flags the
        dates with a poll.
    observed : DataFrame
        ``source, question, category, date, estimate, ci_low, ci_high``: the observed wave
        estimates with their precomputed intervals (NaN limits: point only).
    notice : str
        Simulated-data notice printed under the plot.
    series : sequence of (question, category), optional
        Panels in this order (default: order of first appearance in ``poll_average``).
    invasion_date : str, optional
        Drawn as a dotted vertical line.
    level : float
        Confidence level of the bands and intervals, as printed in the labels.
    prov : Provenance
        The waves' ``simulated`` flags (:mod:`pollwaves.report.provenance`); they word the
        microdata labels. Default: every wave simulated.
    gap_days : float
        A span between two polls of a series longer than this is shaded (``report.gap_days``).
    colours : mapping, optional
        Colour of each (question, category) series (default :data:`SERIES_COLOURS`).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per series (two columns), the panels of one question on one shared
        y-scale: simulated line and band in the series colour, published line dashed in dark
        grey with open markers; shares in percent; data gaps marked by strips.
    """
    check_columns(poll_average, _COLS)
    check_columns(observed, _COLS)
    avg = poll_average.assign(date=pd.to_datetime(poll_average["date"]))
    obs = observed.assign(date=pd.to_datetime(observed["date"]))
    if series is None:
        series = list(dict.fromkeys(zip(avg["question"], avg["category"], strict=True)))
    series = [tuple(s) for s in series]
    if not series:
        raise InputError("No poll-average series to draw", hint="check trend.series")
    colours = {**SERIES_COLOURS, **(colours or {})}
    limits = family_limits([avg, obs[obs["estimate"].notna()]], series)
    ncol = 2 if len(series) > 1 else 1
    nrow = -(-(len(series) + 1) // ncol)
    lv = level_label(level)
    with figure_style():
        fig = Figure(figsize=(10, 3.0 * nrow + 1.6))
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrow, ncol, sharex=True, squeeze=False).ravel()
        for ax, (q, cat) in zip(axes, series, strict=False):
            ax.set_ylim(*limits[q])  # first: bound bars are clipped at the panel's top
            _draw_series(ax, avg, obs, q, cat, colours.get((q, cat), PALETTE[4]), gap_days)
            if invasion_date:
                ax.axvline(pd.Timestamp(invasion_date), color="0.15", ls=":", lw=1.3)
            ax.set_title(SERIES_TITLES.get((q, cat), f"{q}: {cat}"), fontsize=FONT + 1.5,
                         loc="left")  # fmt: skip
            ax.set_ylabel("% of respondents", fontsize=FONT)
            ax.set_gid(f"panel:{q}:{cat}")
        for ax in axes[len(series) :]:
            ax.set_axis_off()
        for ax in axes:
            ax.tick_params(axis="both", labelbottom=True, labelsize=FONT)
            ax.xaxis.set_major_locator(mdates.YearLocator())
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
            ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=[4, 7, 10]))
            ax.grid(axis="x", which="minor", color="0.93", lw=0.6)
        days = f"{gap_days:g}"
        handles = [
            Line2D([], [], color=PALETTE[0], lw=2, marker="o", mec=PALETTE[0],
                   label=f"{prov.tag} (series colour):\nwave estimate, {lv} CI, poll average"),
            Patch(color=PALETTE[0], alpha=0.22, label=f"{prov.tag}: {lv} band"),
            Line2D([], [], color="0.15", ls="--", lw=2, marker="D", mfc="white",
                   label=f"published (grey, dashed):\nvalue, {lv} CI, poll average"),
            Patch(color="0.15", alpha=0.12, label=f"published: {lv} band"),
            Patch(color=PALETTE[0], alpha=0.55, label=f"strip: more than {days} days without a"
                  f"\n{prov.source} wave (the band widens there)"),
            Patch(facecolor="0.85", edgecolor="0.35", hatch="///", label=f"strip: more than "
                  f"{days} days without a\npublished poll (the band widens there)"),
        ]  # fmt: skip
        if obs["estimate"].isna().any():
            handles.append(Line2D([], [], color="0.15", lw=2.4, alpha=0.55, marker="_", ms=9,
                                  label="published bound or range (no point):\nthe interval "
                                  "the published cell implies"))  # fmt: skip
        if invasion_date:
            handles.append(Line2D([], [], color="0.15", ls=":", lw=1.3, label="invasion"))
        spare = axes[len(series)] if len(axes) > len(series) else None
        if spare is not None:
            spare.legend(handles=handles, loc="center", fontsize=FONT, frameon=False)
        else:
            fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=FONT, frameon=False)
        fig.suptitle(f"Poll averages with {lv} bands", fontsize=FONT + 3.5, fontweight="bold")
        lines = [
            "Published: real Chatham House toplines (sources in the report); their intervals "
            "assume the design effect stated in config.yaml (trend.published_deff). "
            f"{prov.source.capitalize()}: weighted estimates from {prov.microdata} with their "
            f"{lv} confidence intervals. Panels of one question share one vertical scale. "
            f"Strips at the bottom of a panel mark more than {days} days without a poll of that "
            "series; the band widens there because no poll was fielded.",
            notice,
        ]
        text = "\n".join(textwrap.fill(" ".join(str(t).split()), 125) for t in lines if t)
        fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=FONT, color="0.15")
        foot = 0.25 + (text.count("\n") + 1) * FONT * 1.3 / 72
        fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.6 / fig.get_figheight(),
                            bottom=foot / fig.get_figheight(), hspace=0.38, wspace=0.22)  # fmt: skip
        build_ticks(fig)  # tick artists under the seaborn style, not rendered
    return fig
