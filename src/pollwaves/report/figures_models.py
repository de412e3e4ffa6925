"""Forest plot of average marginal effects from the subgroup model.

The figure draws precomputed estimates and intervals only (no interval is computed here). It
is a plain :class:`~matplotlib.figure.Figure` on an explicit Agg canvas (no pyplot state),
styled with seaborn's whitegrid theme (:data:`pollwaves.report.figures_common.STYLE_RC`) in
a context, like :mod:`pollwaves.report.figures_paper`; save it with
:func:`pollwaves.report.figures_common.save_figure`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pollwaves.errors import InputError
from pollwaves.report.figures_common import PALETTE, build_ticks, figure_style
from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.tables import level_label
from pollwaves.survey.design import check_columns

__all__ = ["forest_figure"]

AME_COLUMNS = ["variable", "level", "reference", "estimate", "ci_low", "ci_high"]
DEFAULT_LABELS = {
    "18_24": "18–24",
    "25_34": "25–34",
    "35_44": "35–44",
    "45_54": "45–54",
    "55_plus": "55+",
    "media_diet": "media diet",
    "age_group": "age group",
}


def _label(value: object, labels: Mapping[str, str]) -> str:
    text = str(value)
    return labels.get(text, text.replace("_", " "))


def forest_figure(
    ame_table: pd.DataFrame,
    *,
    notice: str,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    level: float = 0.95,
    prov: Provenance = ALL_SIMULATED,
) -> Figure:
    """Forest plot of average marginal effects (percentage points) with precomputed CIs.

    Parameters
    ----------
    ame_table : DataFrame
        ``variable, level, reference, estimate, ci_low, ci_high`` (differences of predictive
        margins as proportions, e.g. the ``ame`` table of
        :func:`pollwaves.analysis.subgroups.subgroup_model`); an ``outcome`` column, if present, names
        the outcome in the title. Rows are drawn in table order, grouped by variable.
    notice : str
        Simulated-data notice printed under the plot.
    labels : mapping, optional
        Display names of variables and levels (default: :data:`DEFAULT_LABELS`, else the ids
        with spaces for underscores).
    title : str, optional
        Figure title.
    level : float
        Confidence level of the precomputed intervals, as printed in the labels.
    prov : Provenance
        The waves' ``simulated`` flags (:mod:`pollwaves.report.provenance`); they word the
        microdata labels. Default: every wave simulated.

    Returns
    -------
    matplotlib.figure.Figure
        One row per level (point and horizontal interval), a header per variable naming
        its reference level, and a dashed zero line.
    """
    check_columns(ame_table, AME_COLUMNS)
    if ame_table.empty:
        raise InputError("The marginal-effects table is empty", hint="fit the subgroup model")
    vals = ame_table[["estimate", "ci_low", "ci_high"]].to_numpy(float)
    if not np.isfinite(vals).all():
        raise InputError("Non-finite estimate or CI in the marginal-effects table")
    labels = {**DEFAULT_LABELS, **(labels or {})}
    variables = list(dict.fromkeys(ame_table["variable"]))
    rows: list[tuple[str, int, pd.Series | None]] = []  # (text, colour index, data row)
    for k, var in enumerate(variables):
        block = ame_table.loc[ame_table["variable"] == var]
        ref = _label(block["reference"].iloc[0], labels)
        rows.append((f"{_label(var, labels)} (vs {ref})", k, None))
        rows += [(f"  {_label(r['level'], labels)}", k, r) for _, r in block.iterrows()]
    outcome = ""
    if "outcome" in ame_table.columns:
        outcome = ", ".join(dict.fromkeys(ame_table["outcome"].astype(str)))
    if title is None:
        title = f"Average marginal effects on the probability of '{outcome or 'the outcome'}'"
    height = 2.0 + 0.28 * len(rows)
    with figure_style():
        fig = Figure(figsize=(8.5, height))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        y = np.arange(len(rows))[::-1]
        for pos, (text, k, row) in zip(y, rows, strict=True):
            colour = PALETTE[k % len(PALETTE)]
            if row is None:
                ax.text(
                    0.0,
                    pos,
                    text,
                    transform=ax.get_yaxis_transform(),
                    ha="right",
                    va="center",
                    fontweight="bold",
                    fontsize=9,
                )
                continue
            est, lo, hi = (100 * float(row[c]) for c in ("estimate", "ci_low", "ci_high"))
            ax.hlines(pos, lo, hi, color=colour, lw=1.8)
            ax.plot([est], [pos], marker="o", ms=6, color=colour, mec="black", mew=0.5)
        ax.axvline(0, color="0.2", lw=1.1, ls="--", zorder=1.5)
        ticks = [
            (pos, text) for pos, (text, _, row) in zip(y, rows, strict=True) if row is not None
        ]
        ax.set_yticks([p for p, _ in ticks], [t for _, t in ticks], fontsize=9.5)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        lv = level_label(level)
        ax.set_xlabel(f"Difference from the reference level (percentage points), {lv} CI")
        ax.grid(axis="y", visible=False)
        ax.set_title(title, fontsize=11, fontweight="bold", loc="left")
        note = (
            "Predictive margins (marginal standardisation) from a design-based logistic "
            f"regression on the pooled waves, with {lv} confidence intervals (linearisation). "
            + ("SIMULATED data, not real survey responses. " if prov.mode == "simulated" else "")
            + " ".join(str(notice).split())
        )
        fig.text(
            0.01,
            0.01,
            textwrap.fill(note, 120),
            ha="left",
            va="bottom",
            fontsize=9,
            color="0.15",
        )
        lines = textwrap.fill(note, 120).count("\n") + 1
        bottom = 0.65 + lines * 9 * 1.3 / 72  # the x label and the wrapped note below it
        fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.55 / height, bottom=bottom / height)
        build_ticks(fig)  # tick artists under the seaborn style, not rendered
    return fig
