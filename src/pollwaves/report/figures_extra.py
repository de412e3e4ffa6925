"""Report figures beyond the paper's two diagrams: attitudes by war stance and weighting
diagnostics (the poll-average figure lives in :mod:`pollwaves.report.figures_average` and is
re-exported here).

Like :mod:`pollwaves.report.figures_paper`, every function takes precomputed tables and draws them; no
estimate or interval is computed here (no seaborn statistics: intervals are the table's
``ci_low``/``ci_high``). Figures are plain :class:`~matplotlib.figure.Figure` objects on an
explicit Agg canvas styled with seaborn's whitegrid theme
(:data:`pollwaves.report.figures_common.STYLE_RC`) in a context; save them with
:func:`pollwaves.report.figures_common.save_figure`. Colours and category order are those of the paper's
diagrams (:data:`pollwaves.report.figures_common.WAR_BANDS`, :data:`~pollwaves.report.figures_common.ALLIANCE_BANDS`,
seaborn's colour-blind palette).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pollwaves.errors import InputError
from pollwaves.report.figures_average import SERIES_COLOURS, poll_average_figure
from pollwaves.report.figures_common import (
    PALETTE,
    WAR_BANDS,
    build_ticks,
    figure_style,
    wave_ticks,
)
from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.tables import level_label
from pollwaves.survey.design import check_columns

__all__ = [
    "SERIES_COLOURS",
    "STANCE_ORDER",
    "attitudes_figure",
    "poll_average_figure",
    "weighting_figure",
]

#: War-stance groups in the order (and colours) of the war-support diagram.
STANCE_ORDER = tuple(b.key for b in WAR_BANDS)
STANCE_LABELS = {b.key: b.label for b in WAR_BANDS}
COUNTRY_LABELS = {"russia": "Russia", "ukraine": "Ukraine", "poland": "Poland",
                  "eu": "European Union", "usa": "USA"}  # fmt: skip
_CI = {"fmt": "none", "elinewidth": 1.0, "capsize": 2.5}
#: At most this many wave labels on an x axis (a half-width panel; the full-width weighting
#: panel); beyond, every k-th wave is labelled so that labels never overlap.
ATTITUDE_LABELS = 8
WEIGHTING_LABELS = 14
_FOOT = {"ha": "left", "va": "bottom", "fontsize": 9, "color": "0.15"}


def _category_name(cat: str) -> str:
    """``female_18_24`` -> ``female 18–24``, ``male_55_plus`` -> ``male 55+``."""
    text = re.sub(r"(\d+)_(\d+)", "\\1\u2013\\2", str(cat)).replace("_plus", "+")
    return text.replace("_", " ")


def _every(step: int) -> str:
    return "the wave" if step == 1 else f"the wave; one in {step} labelled"


def _footer(fig: Figure, lines: Sequence[str], width: int = 150) -> None:
    text = "\n".join(textwrap.fill(" ".join(str(t).split()), width) for t in lines if t)
    fig.text(0.01, 0.005, text, **_FOOT)


def _ci(ax, x, y, lo, hi, colour, **kw) -> None:
    y, lo, hi = (np.asarray(v, float) for v in (y, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        err = [y[ok] - lo[ok], hi[ok] - y[ok]]
        ax.errorbar(np.asarray(x)[ok], y[ok], yerr=err, ecolor=colour, **{**_CI, **kw})


def attitudes_figure(
    shares: pd.DataFrame, *, notice: str, level: float = 0.95, prov: Provenance = ALL_SIMULATED
) -> Figure:
    """Share with a good attitude to each country by war stance and wave, with their CIs.

    Parameters
    ----------
    shares : DataFrame
        ``wave, country, war_support, estimate, ci_low, ci_high``
        (``reports/tables/attitudes_by_stance.csv``; SIMULATED microdata).
    notice : str
        Simulated-data notice printed under the plot.
    level : float
        Confidence level of the precomputed intervals, as printed in the labels.
    prov : Provenance
        The waves' ``simulated`` flags (:mod:`pollwaves.report.provenance`); they word the
        microdata labels. Default: every wave simulated.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per country (in :data:`COUNTRY_LABELS` order), one line per stance group
        in the war-support diagram's colours, dodged so the intervals do not overlap.
    """
    check_columns(shares, ["wave", "country", "war_support", "estimate", "ci_low", "ci_high"])
    if shares.empty:
        raise InputError("The attitudes-by-stance table is empty")
    countries = [c for c in COUNTRY_LABELS if c in set(shares["country"])]
    countries += sorted(set(shares["country"]) - set(countries))
    waves = sorted(set(shares["wave"].astype(str)))
    stances = [s for s in STANCE_ORDER if s in set(shares["war_support"])]
    nrow = -(-(len(countries) + 1) // 2)
    with figure_style():
        fig = Figure(figsize=(10, 2.8 * nrow + 1.0))
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrow, 2, sharey=True, squeeze=False).ravel()
        step = 1
        for ax, country in zip(axes, countries, strict=False):
            sub = shares[shares["country"] == country]
            for k, stance in enumerate(stances):
                s = sub[sub["war_support"] == stance].copy()
                s["x"] = s["wave"].astype(str).map({w: i for i, w in enumerate(waves)})
                s = s.sort_values("x")
                x = s["x"].to_numpy(float) + (k - (len(stances) - 1) / 2) * 0.13
                colour = WAR_BANDS[STANCE_ORDER.index(stance)].colour
                y = 100 * s["estimate"]
                _ci(ax, x, y, 100 * s["ci_low"], 100 * s["ci_high"], colour, alpha=0.8)
                ax.plot(x, y, color=colour, marker="o", ms=4, lw=1.4, mec="black", mew=0.4)
            ax.axhline(50, color="0.3", lw=0.9, ls="--")
            ax.set_title(COUNTRY_LABELS.get(country, country), fontsize=10, loc="left")
            step = wave_ticks(ax, [f"{w[5:7]}/{w[2:4]}" for w in waves], ATTITUDE_LABELS)
            ax.set_ylim(0, 100)
            ax.set_ylabel("% good attitude")
        for ax in axes[len(countries) :]:
            ax.set_axis_off()
        handles = [
            Line2D([], [], color=WAR_BANDS[STANCE_ORDER.index(s)].colour, marker="o",
                   mec="black", mew=0.4, label=STANCE_LABELS[s]) for s in stances
        ] + [Line2D([], [], color="0.3", ls="--", label="50% (majority)")]  # fmt: skip
        title = "Stance on the war"
        axes[len(countries)].legend(handles=handles, loc="center", fontsize=9.5,
                                    frameon=False, title=title, title_fontsize=9.5)  # fmt: skip
        fig.suptitle("Good attitude to each country by stance on the war, per wave",
                     fontsize=12, fontweight="bold")  # fmt: skip
        _footer(fig, [f"Weighted shares from {prov.microdata} with their {level_label(level)} "
                      f"confidence intervals (x axis: month/year of {_every(step)}).", notice],
                width=130)  # fmt: skip
        fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.6 / fig.get_figheight(),
                            bottom=0.85 / fig.get_figheight(), hspace=0.4, wspace=0.08)  # fmt: skip
        build_ticks(fig)  # tick artists under the seaborn style, not rendered
    return fig


def weighting_figure(
    weighting: pd.DataFrame,
    margins: pd.DataFrame,
    *,
    notice: str,
    labels: Mapping[str, str] | None = None,
    prov: Provenance = ALL_SIMULATED,
) -> Figure:
    """Weighting diagnostics: n and effective n per wave, sample against target margins.

    Parameters
    ----------
    weighting : DataFrame
        ``wave, n, deff_kish, n_eff`` (``reports/tables/weighting.csv``).
    margins : DataFrame
        ``variable, category, sample_share, target_share, wave``
        (``reports/tables/weighting_margins.csv``).
    notice : str
        Simulated-data notice printed under the plot.
    labels : mapping, optional
        Display names of margin categories (default: the ids with spaces for underscores).
    prov : Provenance
        The waves' ``simulated`` flags (:mod:`pollwaves.report.provenance`); they word the
        microdata labels. Default: every wave simulated.

    Returns
    -------
    matplotlib.figure.Figure
        Top: bars of n and n_eff per wave, labelled with the Kish design effect. Below: one
        panel per raking variable, the unweighted sample share of each wave (dots) against
        the target share (black bar); the weighted shares equal the targets after raking.
    """
    check_columns(weighting, ["wave", "n", "deff_kish", "n_eff"])
    check_columns(margins, ["variable", "category", "sample_share", "target_share", "wave"])
    labels = dict(labels or {})
    w = weighting.assign(wave=weighting["wave"].astype(str)).sort_values("wave")
    variables = list(dict.fromkeys(margins["variable"]))
    sizes = [margins.loc[margins["variable"] == v, "category"].nunique() for v in variables]
    heights = [max(sizes) * 0.42 + 1.0, *[s * 0.32 + 0.6 for s in sizes]]
    with figure_style():
        fig = Figure(figsize=(10, sum(heights) + 2.2))
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(heights), 1, gridspec_kw={"height_ratios": heights})
        ax = axes[0]
        x = np.arange(len(w))
        ax.bar(x - 0.2, w["n"], width=0.4, color=PALETTE[7], label="n (respondents)")
        ax.bar(x + 0.2, w["n_eff"], width=0.4, color=PALETTE[0], label="n_eff = n / deff")
        step = wave_ticks(ax, [f"{v[5:7]}/{v[2:4]}" for v in w["wave"]], WEIGHTING_LABELS)
        where = "above the bars"
        if step == 1:  # room for a label per bar
            for xi, n, d in zip(x, w["n"], w["deff_kish"], strict=True):
                ax.text(xi, n * 1.02, f"deff {d:.2f}", ha="center", va="bottom", fontsize=9)
        else:  # too many waves for a label each: the deff as a line on its own axis
            where = "black line, right axis"
            right = ax.twinx()
            right.plot(x, w["deff_kish"], color="black", lw=1.0, marker="o", ms=2.5)
            top = float(w["deff_kish"].max())  # NaN only when no wave has a deff
            right.set_ylim(0, 1.32 * max(top, 1.0) if np.isfinite(top) else 2.0)
            right.set_ylabel("Kish deff")
            right.grid(False)
        ax.set_ylim(0, 1.32 * float(w["n"].max()))
        ax.set_ylabel("respondents")
        ax.set_title(f"Sample size and effective sample size per wave (Kish deff {where}"
                     f"{f'; one wave in {step} labelled' if step > 1 else ''})",
                     fontsize=10, loc="left")  # fmt: skip
        ax.legend(loc="upper right", ncol=2, fontsize=9, frameon=True)
        waves = sorted(set(margins["wave"].astype(str)))
        for ax, var in zip(axes[1:], variables, strict=True):
            m = margins[margins["variable"] == var]
            cats = list(dict.fromkeys(m["category"]))
            y = {c: len(cats) - 1 - i for i, c in enumerate(cats)}
            # each wave's dots a little above or below the row, all within +-0.3 of it
            gap = min(0.03, 0.6 / max(len(waves) - 1, 1))
            order = {w: k for k, w in enumerate(waves)}
            k = m["wave"].astype(str).map(order).to_numpy(float)
            idx = np.argsort(k, kind="stable")  # wave by wave, in the table's order within
            s = m.iloc[idx]
            dy = (k[idx] - (len(waves) - 1) / 2) * gap
            ax.plot(100 * s["sample_share"].to_numpy(float), s["category"].map(y).to_numpy() + dy,
                    ls="none", marker="o", ms=3.5, color=PALETTE[1], alpha=0.75)  # fmt: skip
            t = m.drop_duplicates("category")
            ax.plot(100 * t["target_share"], t["category"].map(y), ls="none", marker="|",
                    ms=14, mew=2.5, color="black")  # fmt: skip
            names = [labels.get(c, _category_name(c)) for c in cats]
            ax.set_yticks(list(y.values()), names, fontsize=9)
            ax.set_ylim(-0.6, len(cats) - 0.4)
            ax.set_xlim(0, None)
            ax.set_title(f"Margin: {labels.get(var, var.replace('_', ' '))}", fontsize=10,
                         loc="left")  # fmt: skip
        axes[-1].set_xlabel("share of respondents (%)")
        handles = [
            Line2D([], [], ls="none", marker="o", ms=4, color=PALETTE[1],
                   label="unweighted sample share, one dot per wave"),
            Line2D([], [], ls="none", marker="|", ms=12, mew=2.5, color="black",
                   label="raking target (derived assumption, config/margins.yaml)"),
        ]  # fmt: skip
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.9 / fig.get_figheight()),
                   ncol=2, fontsize=9, frameon=False, borderaxespad=0.2)  # fmt: skip
        _footer(fig, [f"Raking diagnostics of the {prov.microdata}.", notice], width=130)
        fig.subplots_adjust(left=0.16, right=0.98 if step == 1 else 0.93,
                            top=1 - 0.3 / fig.get_figheight(),
                            bottom=1.75 / fig.get_figheight(), hspace=0.55)  # fmt: skip
        build_ticks(fig)  # tick artists under the seaborn style, not rendered
    return fig
