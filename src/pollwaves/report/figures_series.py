"""The microdata panels of a trend figure with many waves: areas and lines, not bars and dots.

Up to ``LABELLED_WAVES`` waves every wave gets its own stacked bar and one dodged dot with its
interval bar per band (:mod:`pollwaves.report.figures_paper`). Beyond that the bars and
dodged dots are too narrow to read, and drawing thousands of separate artists dominates the
figures job. These panels then draw each band as one artist: a stacked area of the
weighted estimates, and a line of the estimates with its confidence interval as a shaded
ribbon. A wave without the question leaves a gap; nothing is interpolated across it. The
estimates are those of ``reports/tables/toplines.csv`` (SIMULATED microdata in the bundled
study), exactly as the bars and dots draw them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["band_series", "draw_estimate_lines", "draw_stack_areas"]


def band_series(
    est: pd.DataFrame, bands: Sequence, xpos: Mapping[str, float]
) -> tuple[np.ndarray, dict[str, pd.DataFrame]]:
    """Wave positions and, per band key, ``estimate, ci_low, ci_high`` at every position.

    ``est`` is :func:`pollwaves.report.figures_intervals.estimate_frame` (percent). Waves
    without a row for a band are NaN there (a gap in the drawing).
    """
    waves = sorted(xpos, key=xpos.get)
    x = np.array([xpos[w] for w in waves], dtype=float)
    frame = est.assign(wave=est["wave"].astype(str))
    out = {}
    for b in bands:
        rows = frame.loc[frame["category"] == b.key].drop_duplicates("wave").set_index("wave")
        out[b.key] = rows[["estimate", "ci_low", "ci_high"]].reindex(waves).astype(float)
    return x, out


def draw_stack_areas(ax, est: pd.DataFrame, bands: Sequence, xpos: Mapping[str, float],
                     highlight: str | None = None) -> None:  # fmt: skip
    """Stacked areas of the bands' estimates, bottom to top (gid ``stack:estimates:{band}``);
    the ``highlight`` band gets a black outline."""
    x, series = band_series(est, bands, xpos)
    bottom = np.zeros(len(x))
    for b in bands:
        v = series[b.key]["estimate"].to_numpy()
        top = bottom + v
        edge = {"edgecolor": "black", "lw": 1.6, "zorder": 3} if b.key == highlight else {}
        poly = ax.fill_between(x, bottom, top, facecolor=b.colour, **({"lw": 0} | edge))
        poly.set_gid(f"stack:estimates:{b.key}")
        bottom = np.where(np.isfinite(v), top, bottom)


def draw_estimate_lines(ax, est: pd.DataFrame, bands: Sequence, xpos: Mapping[str, float],
                        highlight: str | None = None) -> None:  # fmt: skip
    """Per band a line of the estimates (gid ``line:estimates:{band}``) over a ribbon of its
    confidence intervals (gid ``ribbon:estimates:{band}``; none where a band has no CI)."""
    x, series = band_series(est, bands, xpos)
    for b in bands:
        s = series[b.key]
        hl = b.key == highlight
        ok = np.isfinite(s["ci_low"].to_numpy()) & np.isfinite(s["ci_high"].to_numpy())
        if ok.any():
            ribbon = ax.fill_between(x, s["ci_low"], s["ci_high"], where=ok, facecolor=b.colour,
                                     alpha=0.3, lw=0, zorder=2)  # fmt: skip
            ribbon.set_gid(f"ribbon:estimates:{b.key}")
        (line,) = ax.plot(x, s["estimate"], color=b.colour, lw=2.6 if hl else 1.4, zorder=4,
                          marker="o", ms=2.5, mec="black" if hl else b.colour, mew=0.3)  # fmt: skip
        line.set_gid(f"line:estimates:{b.key}")
