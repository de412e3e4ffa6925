"""Dot-and-interval panels of the trend figures: every band's value with its interval.

Two frames are drawn, both in percent and one row per (wave, band):

- published numbers, ``wave, category, kind, value, low, high`` (optional ``label``), where
  ``kind`` is ``exact | rounded | approximate | fraction | lower_bound | upper_bound |
  interval`` and ``low, high`` is the interval the published cell implies. A bound is drawn
  as a bar from the bound to the implied limit (open-ended: an arrow head at the open end)
  with its ``≥ x`` label, never as a point. :func:`published_interval_frame` builds this frame
  from the processed published columns (``value, low, high, qualifier``; a lower bound has
  ``high = 100``); the implied intervals of :mod:`pollwaves.published` have the same columns.
- estimates, ``wave, category, estimate, ci_low, ci_high`` (:func:`estimate_frame`), drawn as
  a dot with its precomputed confidence interval.

``category`` is a band key, a codebook category of a band, or several joined by ``+`` (two
bands published together). Every artist carries a ``gid`` ``"<what>:<panel>:<wave>:<band>"``
(``what`` = ``point`` or ``interval``) so tests can find it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from pollwaves.report.figures_common import Band
from pollwaves.report.published_marks import Known, mark_label, published_wave

__all__ = [
    "POINT_KINDS",
    "band_index",
    "dodge",
    "draw_estimates",
    "draw_published",
    "estimate_frame",
    "published_interval_frame",
]

POINT_KINDS = ("exact", "rounded", "approximate", "fraction")
_KIND = {"lower": "lower_bound", "upper": "upper_bound", "range": "interval"}
LABEL_PT = 8.5  # value labels in the panels (the report renders them at >= 10 px)


def dodge(idx: Sequence[int], nb: int) -> float:
    """x offset of a band (or the middle of a group of bands) within its wave's slot."""
    return (float(np.mean(idx)) - (nb - 1) / 2) * 0.8 / max(nb, 1)


def band_index(category: str, bands: Sequence[Band]) -> tuple[int, ...] | None:
    """Bands named by ``category`` (keys or codebook categories joined by ``+``), or None
    when it names only part of a band (that row does not describe a whole segment)."""
    by_key = {b.key: i for i, b in enumerate(bands)}
    by_cat = {c: i for i, b in enumerate(bands) for c in b.categories}
    parts = str(category).split("+")
    idx = sorted({by_key.get(p, by_cat.get(p, -1)) for p in parts})
    if -1 in idx:
        return None
    named = {c for p in parts for c in (bands[by_key[p]].categories if p in by_key else (p,))}
    whole = {c for i in idx for c in bands[i].categories}
    return tuple(idx) if named == whole else None


def published_interval_frame(rows: pd.DataFrame, bands: Sequence[Band]) -> pd.DataFrame:
    """The published rows of one question as ``wave, category, kind, value, low, high, label``.

    Uses the processed published columns (``value/low/high/qualifier/relation``) through
    :func:`pollwaves.report.published_marks.published_wave`: a band published only in part
    is a lower bound on the band, two bands published together are one row ``a+b``.
    """
    out = []
    for wave, w in rows.groupby(rows["wave"].astype(str), sort=True):
        singles, groups = published_wave(w, bands)
        extra = [g for g in groups if not set(g.bands) <= singles.keys()]
        for k in [*singles.values(), *extra]:
            out.append(_row(wave, k, bands))
    cols = ["wave", "category", "kind", "value", "low", "high", "label"]
    return pd.DataFrame(out, columns=cols)


def _row(wave: str, k: Known, bands: Sequence[Band]) -> tuple:
    kind = _KIND.get(k.kind) or ("approximate" if k.approx else "exact")
    cat = "+".join(bands[i].key for i in k.bands)
    return (wave, cat, kind, k.value, k.lo, k.hi, mark_label(k))


def estimate_frame(
    toplines: pd.DataFrame, contrasts: pd.DataFrame | None, question: str, bands: Sequence[Band]
) -> pd.DataFrame:
    """Each band's estimate and precomputed CI per wave (``domain == "all"``), in percent.

    A one-category band comes from ``toplines`` (``category``), a band of several categories
    from ``contrasts`` (``contrast`` equal to the band key, e.g. ``alliance / neutral``); a
    band without a CI row gets its estimate as the sum of its categories and NaN limits.
    """
    top = toplines[(toplines["question"] == question) & (toplines["domain"] == "all")]
    con = pd.DataFrame(columns=["wave", "contrast", "estimate", "ci_low", "ci_high"])
    if contrasts is not None and len(contrasts):
        con = contrasts[(contrasts["question"] == question) & (contrasts["domain"] == "all")]
    out = []
    by_wave = {str(k): c for k, c in con.groupby(con["wave"].astype(str), sort=False)}
    none = con.iloc[:0]
    for wave, w in top.groupby(top["wave"].astype(str), sort=True):
        est = dict(zip(w["category"].astype(str), w["estimate"].astype(float), strict=True))
        cis = {str(r.category): (r.ci_low, r.ci_high) for r in w.itertuples(index=False)}
        c = by_wave.get(wave, none)
        ccis = {str(r.contrast): (r.estimate, r.ci_low, r.ci_high) for r in c.itertuples()}
        for b in bands:
            if len(b.categories) == 1 and b.categories[0] in est:
                e, (lo, hi) = est[b.categories[0]], cis[b.categories[0]]
            elif b.key in ccis:
                e, lo, hi = ccis[b.key]
            else:
                e, lo, hi = sum(est.get(x, 0.0) for x in b.categories), np.nan, np.nan
            out.append((wave, b.key, *(100 * float(v) for v in (e, lo, hi))))
    return pd.DataFrame(out, columns=["wave", "category", "estimate", "ci_low", "ci_high"])


def _vline(ax, x, lo, hi, colour, gid, lw=2.2):
    lc = ax.vlines(x, lo, hi, colors=colour, lw=lw, zorder=3)
    lc.set_gid(gid)
    return lc


def draw_published(ax, frame: pd.DataFrame, bands: Sequence[Band], xpos: Mapping[str, float],
                   used: set, highlight: str | None = None, panel: str = "published") -> None:  # fmt: skip
    """Draw the published frame: points (exact, rounded, approximate, fraction) as dots with
    their implied interval, bounds and intervals as bars with their label, never as dots."""
    nb = len(bands)
    for r in frame.itertuples(index=False):
        idx = band_index(r.category, bands)
        if idx is None or str(r.wave) not in xpos:
            continue
        x = xpos[str(r.wave)] + dodge(idx, nb)
        c1, c2 = bands[idx[0]].colour, bands[idx[-1]].colour
        key = "+".join(bands[i].key for i in idx)
        gid = f"{{}}:{panel}:{r.wave}:{key}"
        lo, hi, v = float(r.low), float(r.high), float(r.value)
        if hi < lo:  # the published cells contradict each other (e.g. bounds summing > 100)
            warnings.warn(f"published {r.wave} {key}: implied high {hi} < low {lo}; "
                          "drawing the bound alone", stacklevel=2)  # fmt: skip
            hi = lo
        hl = highlight is not None and key == highlight
        label = getattr(r, "label", None) or _label(r.kind, v, lo, hi)
        if r.kind in POINT_KINDS:
            if hi > lo:
                _vline(ax, x, lo, hi, c1, gid.format("interval"))
            fill = "left" if len(idx) > 1 else "full"
            mfc = c1 if r.kind in ("exact", "rounded") else "white"
            mk = {"ms": 8 if hl else 6.5, "mec": "black", "mew": 1.6 if hl else 0.7}
            (p,) = ax.plot([x], [v], ls="none", marker="o", mfc=mfc, mfcalt=c2,
                           fillstyle=fill, zorder=4, **mk)  # fmt: skip
            p.set_gid(gid.format("point"))
            used.add("approximate" if mfc == "white" else "point")
            if len(idx) > 1:
                used.add("group")
            left = idx[0] % 2 == 0  # labels alternate sides, away from the neighbour bands
            ax.annotate(label, (x, v), xytext=(-5 if left else 5, 0), textcoords="offset points",
                        ha="right" if left else "left", va="center", fontsize=LABEL_PT)  # fmt: skip
            continue
        lc = _vline(ax, x, lo, hi, c1, gid.format("interval"), lw=3.2 if hl else 2.4)
        lc.set_alpha(0.85)
        ends = {"lower_bound": (lo, "_", hi, "^"), "upper_bound": (hi, "_", lo, "v")}
        if r.kind in ends:
            at, cap, far, arrow = ends[r.kind]
            ax.plot([x], [at], ls="none", marker=cap, ms=11, mew=2.6, color=c1, zorder=4)
            ax.plot([x], [far], ls="none", marker=arrow, ms=6, color=c1, zorder=4)
            used.add(r.kind)
        else:
            ax.plot([x, x], [lo, hi], ls="none", marker="_", ms=9, mew=2, color=c1, zorder=4)
            used.add("interval")
            at = lo
        va, dy = ("top", -3) if r.kind != "upper_bound" else ("bottom", 3)
        left = idx[0] % 2 == 0
        ax.annotate(label, (x, at), xytext=(-4 if left else 4, dy), textcoords="offset points",
                    ha="right" if left else "left", va=va, fontsize=LABEL_PT,
                    fontweight="bold" if hl else None)  # fmt: skip


def _label(kind: str, v: float, lo: float, hi: float) -> str:
    f = lambda y: f"{y:.1f}".rstrip("0").rstrip(".")  # noqa: E731
    if kind == "lower_bound":  # the published number when there is one (">30" -> "≥30")
        return f"≥{f(v if np.isfinite(v) else lo)}"
    if kind == "upper_bound":
        return f"≤{f(v if np.isfinite(v) else hi)}"
    if kind == "interval":
        return f"{f(lo)}–{f(hi)}"
    return ("~" if kind in ("approximate", "fraction") else "") + f(v)


def draw_estimates(ax, frame: pd.DataFrame, bands: Sequence[Band], xpos: Mapping[str, float],
                   highlight: str | None = None, panel: str = "estimates") -> None:  # fmt: skip
    """Draw each band's estimate (dot) and precomputed CI (vertical bar) per wave."""
    nb = len(bands)
    for r in frame.itertuples(index=False):
        idx = band_index(r.category, bands)
        if idx is None or str(r.wave) not in xpos:
            continue
        x = xpos[str(r.wave)] + dodge(idx, nb)
        c = bands[idx[0]].colour
        hl = highlight is not None and r.category == highlight
        gid = f"{{}}:{panel}:{r.wave}:{r.category}"
        if np.isfinite(r.ci_low) and np.isfinite(r.ci_high):
            _vline(ax, x, r.ci_low, r.ci_high, c, gid.format("interval"), lw=3 if hl else 2.2)
            caps = {"ls": "none", "marker": "_", "ms": 7, "mew": 1.6, "color": c, "zorder": 3}
            ax.plot([x, x], [r.ci_low, r.ci_high], **caps)  # both caps, one artist
        mk = {"ms": 5.5 if hl else 4.5, "mec": "black", "mew": 1.2 if hl else 0.5}
        (p,) = ax.plot([x], [r.estimate], ls="none", marker="o", mfc=c, zorder=4, **mk)
        p.set_gid(gid.format("point"))
