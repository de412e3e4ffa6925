"""What a published row says about a colour band: points, bounds and ranges, in percent.

Turns the published rows of one wave into the values drawn in the paper's diagrams: a
complete stack when every band has a point value; otherwise the dot-and-interval panel of
:mod:`pollwaves.report.figures_intervals` shows each value (bounds drawn as bounds).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from pollwaves.report.figures_common import Band

__all__ = ["Known", "complete_stack", "mark_label", "published_wave"]

_POINT_QUALIFIERS = {"exact": False, "approximate": True, "fraction": True}


@dataclass(frozen=True)
class Known:
    """What is known about one band (or a group of adjacent bands) in one wave, in percent."""

    kind: str  # point | lower | upper | range
    value: float
    lo: float
    hi: float
    approx: bool = False
    strict: bool = False
    bands: tuple[int, ...] = ()


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def mark_label(k: Known) -> str:
    a, (lt, gt) = ("~" if k.approx else ""), (("<", ">") if k.strict else ("≤", "≥"))
    if k.kind == "range":
        return f"{a}{_fmt(k.lo)}–{_fmt(k.hi)}"
    return {"point": "", "lower": gt, "upper": lt}[k.kind] + a + _fmt(k.value)  # value = bound


def _known(row: pd.Series) -> Known:
    """Translate one published row (value/low/high/qualifier/relation) into bounds."""
    q, rel = str(row["qualifier"]), str(row["relation"])
    v, lo, hi = (float(row[c]) for c in ("value", "low", "high"))
    lo, hi = (v if np.isnan(lo) else lo), (v if np.isnan(hi) else hi)
    if rel == "part_of":  # a part of the category: the category is at least this large
        return Known("lower", lo, lo, 100.0, q in ("approximate", "fraction"), q == "lower_bound")
    if q in _POINT_QUALIFIERS:
        return Known("point", v, v, v, _POINT_QUALIFIERS[q])
    if q == "lower_bound":
        return Known("lower", lo, lo, 100.0, strict=True)
    if q == "upper_bound":
        return Known("upper", hi, 0.0, hi, strict=True)
    if q == "range":
        return Known("range", v if not np.isnan(v) else (lo + hi) / 2, lo, hi)
    raise ValueError(f"published row {row.get('row_id')}: unknown qualifier {q!r}")


def _combine(ks: Sequence[Known]) -> Known:
    """Sum the knowledge about disjoint categories (e.g. both + outside = neutral)."""
    lo, hi = sum(k.lo for k in ks), min(100.0, sum(k.hi for k in ks))
    approx, strict = any(k.approx for k in ks), any(k.strict for k in ks)
    if all(k.kind == "point" for k in ks):
        return Known("point", lo, lo, lo, approx)
    if any(k.kind == "lower" for k in ks):
        return Known("lower", lo, lo, 100.0, approx, strict)
    if lo == 0:
        return Known("upper", hi, 0.0, hi, approx, strict)
    return Known("range", (lo + hi) / 2, lo, hi, approx)


def published_wave(rows: pd.DataFrame, bands: Sequence[Band]) -> tuple[dict, list]:
    """Known values per band (``singles``) and per group of bands (e.g. partly+hard_to_say)."""
    cat_band = {c: i for i, b in enumerate(bands) for c in b.categories}
    by_set: dict[frozenset[str], list[pd.Series]] = {}
    for _, row in rows.sort_values("row_id", kind="mergesort").iterrows():
        cats = frozenset(str(row["category"]).split("+"))
        if not cats <= cat_band.keys():
            warnings.warn(f"published row {row['row_id']}: category not drawn", stacklevel=3)
            continue
        by_set.setdefault(cats, []).append(row)
    items: dict[frozenset[str], Known] = {}
    for cats, rs in by_set.items():
        full = [r for r in rs if r["relation"] != "part_of"]
        if len(full) > 1:
            ids = [r["row_id"] for r in full]
            warnings.warn(f"published rows {ids}: same category, using the first", stacklevel=3)
        items[cats] = _known(full[0]) if full else max(map(_known, rs), key=lambda k: k.lo)
    singles: dict[int, Known] = {}
    for i, band in enumerate(bands):
        cb, chosen, used = frozenset(band.categories), [], frozenset()
        for c in sorted((c for c in items if c <= cb), key=lambda c: (-len(c), sorted(c))):
            if not c & used:
                chosen, used = [*chosen, items[c]], used | c
        if not chosen:
            continue
        total = _combine(chosen)
        if used != cb:  # only part of the band is known: a lower bound on the band
            total = replace(total, kind="lower", value=total.lo, hi=100.0)
        if total.lo > 0 or total.kind != "lower":
            singles[i] = replace(total, bands=(i,))
    groups = []
    for cats, k in items.items():
        idx = tuple(sorted({cat_band[c] for c in cats}))
        if len(idx) > 1 and cats == frozenset(c for b in idx for c in bands[b].categories):
            groups.append(replace(k, bands=idx))
    return singles, sorted(groups, key=lambda g: g.bands)


def complete_stack(singles: dict[int, Known], groups: list[Known], nb: int):
    """Segments partitioning all bands with point values, or ``None`` if the wave is partial."""
    points = {b: k for b, k in singles.items() if k.kind == "point"}
    rest = set(range(nb)) - points.keys()
    cands = [g for g in groups if g.kind == "point" and set(g.bands) <= rest]
    for r in range(len(cands) + 1):
        for combo in itertools.combinations(cands, r):
            covered = [b for g in combo for b in g.bands]
            if len(covered) == len(set(covered)) and set(covered) == rest:
                return sorted([*points.values(), *combo], key=lambda s: s.bands[0])
    return None
