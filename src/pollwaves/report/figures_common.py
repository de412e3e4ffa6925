"""Shared pieces of the figures: palette, colour bands (from the codebook), saving.

Figures are plain :class:`~matplotlib.figure.Figure` objects on an explicit Agg canvas (no
pyplot state); :func:`save_figure` writes them byte-identically (no time stamp) and records
the size of the figure's smallest text in the PNG metadata, so that the report's browser test
can measure how large that text renders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from pollwaves.errors import InputError
from pollwaves.files import atomic_write

__all__ = [
    "ALLIANCE_BANDS",
    "DPI",
    "MIN_FONT_KEY",
    "PALETTE",
    "WAR_BANDS",
    "STYLE_RC",
    "Band",
    "build_ticks",
    "figure_style",
    "min_font_pt",
    "save_figure",
    "stack_bands",
    "wave_ticks",
]

_SVG_META = {"Date": None, "Creator": "pollwaves"}  # no timestamp: byte-identical output
#: seaborn's "colorblind" palette (seaborn 0.13).
PALETTE = [
    "#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc",
    "#ca9161", "#fbafe4", "#949494", "#ece133", "#56b4e9",
]  # fmt: skip
#: The figures' style: seaborn's "whitegrid" axes style with its "notebook" context at
#: font_scale 0.85 (seaborn 0.13), as plain rcParams. Importing seaborn (and scipy.stats
#: with it) cost every figure job about 0.6 s; tests/report/test_figures.py checks these
#: against seaborn. Its "image.cmap" (seaborn's "rocket") is left out: no figure draws an
#: image, and matplotlib knows that colour map only once seaborn is imported.
STYLE_RC = {
    "figure.facecolor": "white",
    "axes.labelcolor": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "axes.axisbelow": True,
    "grid.linestyle": "-",
    "text.color": ".15",
    "font.family": ["sans-serif"],
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "xtick.top": False,
    "ytick.right": False,
    "axes.grid": True,
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "grid.color": ".8",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "xtick.bottom": False,
    "ytick.left": False,
    "axes.linewidth": 1.25,
    "grid.linewidth": 1,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "patch.linewidth": 1,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1,
    "ytick.minor.width": 1,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 4,
    "ytick.minor.size": 4,
    "font.size": 10.2,
    "axes.labelsize": 10.2,
    "axes.titlesize": 10.2,
    "xtick.labelsize": 9.35,
    "ytick.labelsize": 9.35,
    "legend.fontsize": 9.35,
    "legend.title_fontsize": 10.2,
}
#: Resolution of the PNG files (pixels per inch).
DPI = 150
#: PNG metadata key holding the smallest font size of the figure, in points.
MIN_FONT_KEY = "MinFontPt"
_GREY = 7  # palette index of "hard to say" (an answer that takes no position)


@dataclass(frozen=True)
class Band:
    """A stacked segment: one or more codebook categories drawn as one colour band."""

    key: str
    label: str
    categories: tuple[str, ...]
    colour: str
    text: str = "white"  # colour of value labels on the band


def figure_style():
    """Context manager: :data:`STYLE_RC` while a figure is drawn (rcParams restored after)."""
    return matplotlib.rc_context(STYLE_RC)


def wave_ticks(ax, labels: Sequence[str], most: int, fontsize: float = 9) -> int:
    """Tick the x positions ``0 .. len(labels) - 1`` (one per wave), labelling every k-th
    wave so that at most ``most`` labels show and none overlap; every wave while there are
    at most ``most``. Returns k (1: every wave labelled)."""
    step = max(1, -(-len(labels) // most))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=fontsize)
    return step


def build_ticks(fig: Figure) -> None:
    """Create every axis's tick artists (labels, tick lines, grid lines) now, under the
    current rcParams, as a draw would, without rendering the figure.

    Called by each figure function as its last step inside :func:`figure_style`, so that the
    returned figure is complete and styled whenever and wherever it is saved, and
    :func:`min_font_pt` sees the tick labels. A full ``canvas.draw()`` did the same at the
    cost of one more rendering of every artist (issue 15).
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_majorticklabels()
            axis.get_minorticklabels()


def _text_colour(index: int) -> str:
    return "black" if index in (1, 2, 7, 8, 9) else "white"


def _band(key, label, cats, index) -> Band:
    return Band(key, label, tuple(cats), PALETTE[index % len(PALETTE)], _text_colour(index))


#: Default bands of the bundled study (the pipeline builds them with :func:`stack_bands`).
WAR_BANDS = (
    _band("support", "Support", ("support",), 3),
    _band("partly", "Partly support, partly not", ("partly",), 1),
    _band("oppose", "Do not support", ("oppose",), 0),
    _band("hard_to_say", "Hard to say", ("hard_to_say",), _GREY),
)
ALLIANCE_BANDS = (
    _band("russia", "Union with Russia", ("russia",), 3),
    _band("neutral", "Neutral (both or outside)", ("both", "outside"), 2),
    _band("eu", "Union with the EU", ("eu",), 0),
    _band("hard_to_say", "Hard to say", ("hard_to_say",), _GREY),
)


def _no_position(key: str, spec: Mapping, patterns: Sequence[str]) -> bool:
    """True for the category that takes no position ("hard to say", "don't know")."""
    texts = [
        key.replace("_", " "),
        str((spec.get("en") if isinstance(spec, Mapping) else "") or ""),
    ]
    return any(re.search(p, t, re.IGNORECASE) for p in patterns for t in texts)


def stack_bands(
    codebook: Mapping,
    question: str,
    contrasts: Mapping[str, Mapping[str, float]] | None = None,
    colours: Mapping[str, int] | None = None,
) -> tuple[Band, ...]:
    """The colour bands of one question's stack, bottom to top, from the codebook and config.

    Parameters
    ----------
    codebook : mapping
        The loaded codebook: ``variables[question].categories`` (keys and ``en`` labels, in
        codebook order) and ``missing_patterns.dont_know`` (the patterns that name the answer
        taking no position, e.g. "hard to say").
    question : str
        A codebook question.
    contrasts : mapping, optional
        ``estimation.contrasts[question]`` of config.yaml: a contrast whose weights are all
        +1 (e.g. ``neutral: {both: 1, outside: 1}``) is one band made of its categories.
    colours : mapping of str to int, optional
        ``report.stacks[question]`` of config.yaml: band keys (codebook categories or
        contrasts) in the order of the ordinal scale, each with its palette index. Default:
        codebook order, contrast bands at the place of their first category.

    Returns
    -------
    tuple of Band
        The bands in scale order; the no-position answer is always the last band, whatever
        the order given.
    """
    spec = (codebook.get("variables") or {}).get(question)
    if not spec or not spec.get("categories"):
        raise InputError("Not a codebook question with categories", value=question)
    cats = dict(spec["categories"])
    patterns = list((codebook.get("missing_patterns") or {}).get("dont_know") or [])
    groups = {
        name: tuple(w)
        for name, w in (contrasts or {}).items()
        if len(w) > 1 and all(float(v) == 1 for v in w.values()) and set(w) <= cats.keys()
    }
    if colours:
        keys = list(colours)
    else:
        keys, seen = [], set()
        for c in cats:
            g = next((n for n, m in groups.items() if c in m), None)
            if (g or c) not in seen:
                keys.append(g or c)
                seen.add(g or c)
    unknown = [k for k in keys if k not in cats and k not in groups]
    members = [c for k in keys for c in groups.get(k, (k,))]
    if unknown or sorted(members) != sorted(cats):
        raise InputError(
            "report.stacks must list every category of the question once (a category or a "
            "contrast of estimation.contrasts that sums categories)",
            key=f"report.stacks.{question}",
            value=unknown or keys,
            hint=f"categories: {list(cats)}; contrasts: {sorted(groups)}",
        )
    last = [k for k in keys if k in cats and _no_position(k, cats[k], patterns)]
    keys = [k for k in keys if k not in last] + last
    substantive = [k for k in keys if k not in last]
    default = {k: i for k, i in zip(substantive, [3, 1, 2, 4, 5, 6, 8, 9], strict=False)}
    if len(substantive) > 1:
        default[substantive[-1]] = 0
    out = []
    for k in keys:
        if k in groups:
            label = f"{k.replace('_', ' ').capitalize()} ({' or '.join(groups[k])})"
            label = label.replace("_", " ")
            members_k = groups[k]
        else:
            en = cats[k].get("en") if isinstance(cats[k], Mapping) else None
            label, members_k = str(en or k.replace("_", " ")), (k,)
        index = int((colours or {}).get(k, _GREY if k in last else default.get(k, 4)))
        out.append(_band(k, label, members_k, index))
    return tuple(out)


def min_font_pt(fig: Figure) -> float:
    """Size in points of the smallest visible, non-empty text of ``fig``.

    Lazily built texts (tick labels) count once they exist: every figure function of this
    package creates them (:func:`build_ticks`) before returning.
    """
    sizes = [
        float(t.get_fontsize())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None
    ]
    return min(sizes) if sizes else 0.0


def save_figure(
    fig: Figure, png_path: str | Path, svg_path: str | Path, *, description: str = ""
) -> None:
    """Write ``fig`` as PNG and SVG, byte-identical across calls (atomic replace).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to save (rendered with an explicit Agg canvas; no global backend is set).
    png_path, svg_path : str or pathlib.Path
        Output files (PNG at a fixed :data:`DPI`); parent folders are created.
    description : str
        Stored in the files' metadata (PNG ``Description``, SVG ``dc:description``), e.g.
        the notice that the data are simulated. The PNG also stores :data:`MIN_FONT_KEY`,
        the smallest font size in points (a deterministic function of the figure).
    """
    FigureCanvasAgg(fig)
    png_meta = {"Software": None, "Description": description or None,
                MIN_FONT_KEY: f"{min_font_pt(fig):.2f}"}  # fmt: skip
    svg_meta = {**_SVG_META, "Description": description or None}
    with matplotlib.rc_context({"svg.hashsalt": "pollwaves", "svg.fonttype": "path"}):
        for path, fmt, meta in ((png_path, "png", png_meta), (svg_path, "svg", svg_meta)):
            atomic_write(
                path, lambda tmp, f=fmt, m=meta: fig.savefig(tmp, format=f, dpi=DPI, metadata=m)
            )
