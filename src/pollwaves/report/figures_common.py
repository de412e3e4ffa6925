"""Shared pieces of the figures: palette, colour bands, saving.

Figures are plain :class:`~matplotlib.figure.Figure` objects on an explicit Agg canvas (no
pyplot state); :func:`save_figure` writes them byte-identically (no time stamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pollwaves.files import atomic_write

__all__ = ["ALLIANCE_BANDS", "PALETTE", "WAR_BANDS", "Band", "save_figure"]

_SVG_META = {"Date": None, "Creator": "pollwaves"}  # no timestamp: byte-identical output
PALETTE = sns.color_palette("colorblind").as_hex()


@dataclass(frozen=True)
class Band:
    """A stacked segment: one or more codebook categories drawn as one colour band."""

    key: str
    label: str
    categories: tuple[str, ...]
    colour: str
    text: str = "white"  # colour of value labels on the band


WAR_BANDS = (
    Band("support", "Support", ("support",), PALETTE[3]),
    Band("partly", "Partly support, partly not", ("partly",), PALETTE[1], "black"),
    Band("hard_to_say", "Hard to say", ("hard_to_say",), PALETTE[7], "black"),
    Band("oppose", "Do not support", ("oppose",), PALETTE[0]),
)
ALLIANCE_BANDS = (
    Band("russia", "Union with Russia", ("russia",), PALETTE[3]),
    Band("neutral", "Neutral (both or outside)", ("both", "outside"), PALETTE[2]),
    Band("eu", "Union with the EU", ("eu",), PALETTE[0]),
    Band("hard_to_say", "Hard to say", ("hard_to_say",), PALETTE[7], "black"),
)


def save_figure(
    fig: Figure, png_path: str | Path, svg_path: str | Path, *, description: str = ""
) -> None:
    """Write ``fig`` as PNG and SVG, byte-identical across calls (atomic replace).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to save (rendered with an explicit Agg canvas; no global backend is set).
    png_path, svg_path : str or pathlib.Path
        Output files (PNG at a fixed 150 dpi); parent folders are created.
    description : str
        Stored in the files' metadata (PNG ``Description``, SVG ``dc:description``), e.g.
        the notice that the data are simulated.
    """
    FigureCanvasAgg(fig)
    png_meta = {"Software": None, "Description": description or None}
    svg_meta = {**_SVG_META, "Description": description or None}
    with matplotlib.rc_context({"svg.hashsalt": "pollwaves", "svg.fonttype": "path"}):
        for path, fmt, meta in ((png_path, "png", png_meta), (svg_path, "svg", svg_meta)):
            atomic_write(
                path, lambda tmp, f=fmt, m=meta: fig.savefig(tmp, format=f, dpi=150, metadata=m)
            )
