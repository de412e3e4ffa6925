"""The interval each published cell implies for the published estimate (percent).

A published number is a rounded, bounded or approximate report of the pollster's estimate.
:func:`implied_intervals` turns every whole-sample cell of the used published toplines into
the interval ``[low, high]`` (percent) that the pollster's estimate must lie in:

==============  =====================================================  ==================
kind            published cell                                         interval
==============  =====================================================  ==================
``rounded``     a whole number ``x``                                   ``[x - 0.5, x + 0.5]``
``exact``       a number with decimals (``27.2``)                      ``x`` +/- half a unit
                                                                       of its last digit
``lower_bound`` ``>x`` / "more than x"; a part of the category         ``[x - 0.5, 100]``
                (``relation == "part_of"``)
``upper_bound`` ``<x`` / "fewer than x"                                ``[0, x + 0.5]``
``approximate`` ``about x`` (parser ``[x-1, x+1]``), ``almost x``      parser interval,
                (parser ``[x-1, x]``)                                  widened by 0.5 for
                                                                       rounding (not above
                                                                       ``x`` for "almost")
``fraction``    ``a/b`` ("every fourth")                               between the midpoints
                                                                       to the neighbouring
                                                                       simple fractions
``interval``    a range ``a-b``; a contrast built from its parts       see below
==============  =====================================================  ==================

The half-unit widening of a bound (``>41`` -> ``>= 40.5``) treats the stated bound as a
rounded number too. The real cells need it: Sep 2020 publishes Russia 27.2, EU 9.1, both
``>41`` and outside ``>23``, whose lower ends sum to 100.3 % unless the bounds are rounded.
Simple fractions are those with a denominator of at most ``max(b, 5)`` (halves, thirds,
quarters, fifths: the fractions prose uses); ``1/4`` -> ``[22.5, 29.17]`` (midpoints to
1/5 and 1/3). These choices are documented assumptions, not facts about the pollster.

Complement: shares of one question are non-negative and sum to at most 100, so a cell's
``high`` is tightened to ``100 - (sum of the lows of disjoint other published cells)`` (the
largest such sum). Nov 2023 alliance: neutral (both + outside) <= 100 - 39.5 - 12.5 = 48.
If the tightening would leave an empty interval (inconsistent cells), the cell keeps its own
interval and ``basis`` says so.

Contrasts (``estimation.contrasts``): a contrast that is a plain sum of categories
(alliance neutral = both + outside) gets a row when it is published itself
(``relation == "sum_of"``) or when any of its parts or complement is published: ``low`` is
the largest sum of lows of disjoint published cells inside it, ``high`` the smallest sum of
highs of published cells that make it up, tightened by the complement. Other contrasts
(with negative coefficients) get a row when all parts are published, from the parts' limits.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

from pollwaves.errors import InputError

__all__ = ["INTERVAL_COLUMNS", "KINDS", "fraction_interval", "implied_intervals"]

INTERVAL_COLUMNS = ["wave", "question", "category", "kind", "value", "low", "high"]
INTERVAL_COLUMNS += ["source_url", "basis", "n_respondents", "fieldwork_start", "fieldwork_end"]
KINDS = ("exact", "rounded", "approximate", "fraction", "lower_bound", "upper_bound", "interval")
_RELATIONS = ("equals", "sum_of", "part_of")
_EPS = 1e-9


def fraction_interval(a: int, b: int) -> tuple[float, float]:
    """Percent interval of a published fraction ``a/b``: midpoints to its neighbours.

    The neighbours are the next smaller and larger fractions with a denominator of at most
    ``max(b, 5)`` (0 and 1 at the ends).
    """
    if not (0 < a < b):
        raise InputError("A fraction a/b needs 0 < a < b", value=(a, b))
    x, d = Fraction(a, b), max(b, 5)
    cands = {Fraction(i, j) for j in range(1, d + 1) for i in range(0, j + 1)}
    below = max(c for c in cands if c < x)
    above = min(c for c in cands if c > x)
    return float(100 * (below + x) / 2), float(100 * (above + x) / 2)


def _half_unit(value: float) -> float:
    """Half a unit of the last published digit (0.5 for a whole number, 0.05 for 27.2)."""
    for d in range(4):
        if abs(value * 10**d - round(value * 10**d)) < 1e-6:
            return 0.5 / 10**d
    return 0.0


def _cell(row) -> tuple[str, float, float]:
    """(kind, low, high) in percent of one published row."""
    value, qual, rel = float(row.value), str(row.qualifier), str(row.relation)
    half = _half_unit(value)
    if rel == "part_of":
        return "lower_bound", max(value - half, 0.0), 100.0
    if qual == "exact":
        return ("rounded" if half == 0.5 else "exact"), value - half, value + half
    if qual == "lower_bound":
        return "lower_bound", max(value - half, 0.0), 100.0
    if qual == "upper_bound":
        return "upper_bound", 0.0, min(value + half, 100.0)
    if qual == "approximate":
        high = float(row.high) + 0.5 if float(row.high) > value + _EPS else value
        return "approximate", max(float(row.low) - 0.5, 0.0), min(high, 100.0)
    if qual == "fraction":
        frac = Fraction(value / 100).limit_denominator(20)
        low, high = fraction_interval(frac.numerator, frac.denominator)
        return "fraction", low, high
    if qual == "range":
        return "interval", max(float(row.low) - 0.5, 0.0), min(float(row.high) + 0.5, 100.0)
    raise InputError("Unknown published qualifier", row=getattr(row, "row_id", None), value=qual)


def _cells(group: pd.DataFrame) -> list[dict]:
    """Published cells of one wave/question: set of categories, kind, interval, value."""
    cells: dict[frozenset, dict] = {}
    for row in group.itertuples(index=False):
        cats = frozenset(str(row.category).split("+"))
        kind, low, high = _cell(row)
        new = dict(cats=cats, kind=kind, value=float(row.value), low=low, high=high)
        new.update(urls=[str(row.source_url)], basis=f"published {row.percent}")
        old = cells.get(cats)
        if old is None:
            cells[cats] = new
            continue
        lo, hi = max(old["low"], low), min(old["high"], high)
        primary = old if old["kind"] != "lower_bound" or kind == "lower_bound" else new
        if lo <= hi + _EPS:  # both rows hold: intersect, keep the stronger row's kind
            primary = {**primary, "low": lo, "high": hi}
        other = new if primary is old else old
        primary["urls"] = primary["urls"] + [u for u in other["urls"] if u not in primary["urls"]]
        primary["basis"] = f"{primary['basis']}; {other['basis']}"
        cells[cats] = primary
    return list(cells.values())


def _best_sum(cells: list[dict], allowed, key: str, best) -> tuple[float, list[dict]]:
    """Best (``max``/``min``) sum of ``key`` over collections of disjoint cells in ``allowed``."""
    pool = [c for c in cells if allowed(c["cats"])]
    result, used = (0.0, []) if best is max else (math.inf, [])
    for k in range(1, len(pool) + 1):
        for combo in itertools.combinations(pool, k):
            cats = [c["cats"] for c in combo]
            if sum(len(s) for s in cats) != len(frozenset().union(*cats)):
                continue
            total = sum(c[key] for c in combo)
            if best(total, result) != result:
                result, used = total, list(combo)
    return result, used


def _partition_high(cells: list[dict], target: frozenset) -> tuple[float, list[dict]]:
    """Smallest sum of highs of disjoint published cells that together make up ``target``."""
    pool = [c for c in cells if c["cats"] <= target]
    best, used = 100.0, []
    for k in range(1, len(pool) + 1):
        for combo in itertools.combinations(pool, k):
            cats = [c["cats"] for c in combo]
            union = frozenset().union(*cats)
            if sum(map(len, cats)) == len(union) == len(target) and union == target:
                total = sum(c["high"] for c in combo)
                if total < best:
                    best, used = total, list(combo)
    return best, used


def _complement(cells: list[dict], target: frozenset) -> tuple[float, list[dict]]:
    """Upper limit of ``target`` from the other cells: 100 - their largest sum of lows."""
    total, used = _best_sum(cells, lambda s: not (s & target), "low", max)
    return 100.0 - total, used


def _label(c: dict) -> str:
    return f"{'+'.join(sorted(c['cats']))} {c['basis'].split(';')[0].removeprefix('published ')}"


def _tighten(cells: list[dict], cell: dict) -> dict:
    high, used = _complement(cells, cell["cats"])
    if used and high < cell["high"] - _EPS:
        parts = " - ".join(f"({_label(c)})" for c in used)
        if high + _EPS < cell["low"]:
            return {**cell, "basis": f"{cell['basis']}; complement 100 - {parts} inconsistent"}
        urls = cell["urls"] + [u for c in used for u in c["urls"] if u not in cell["urls"]]
        return {**cell, "high": high, "urls": urls, "basis": f"{cell['basis']}; <= 100 - {parts}"}
    return cell


def _kind(low: float, high: float) -> str:
    if high >= 100 - _EPS:
        return "lower_bound"
    return "upper_bound" if low <= _EPS else "interval"


def _contrast(cells: list[dict], name: str, coefs: Mapping[str, float]) -> dict | None:
    coefs = {str(k): float(v) for k, v in coefs.items()}
    target = frozenset(coefs)
    if all(v == 1.0 for v in coefs.values()):  # a plain sum of categories
        low, lows = _best_sum(cells, lambda s: s <= target, "low", max)
        high, highs = _partition_high(cells, target)
        comp, used = _complement(cells, target)
        if not (lows or used):
            return None
        basis = " + ".join(f"({_label(c)})" for c in lows) or "no part published"
        if used and comp < high - _EPS and comp + _EPS >= low:
            high, highs = comp, used
            basis += "; <= 100 - " + " - ".join(f"({_label(c)})" for c in used)
        parts = lows + [c for c in highs if c not in lows]
        whole = frozenset().union(*[c["cats"] for c in lows]) == target
        plain = all(c["kind"] in ("exact", "rounded", "approximate", "fraction") for c in lows)
        value = sum(c["value"] for c in lows) if whole and plain else np.nan
        kind = _kind(low, high)
    else:
        parts = [next((c for c in cells if c["cats"] == {k}), None) for k in coefs]
        if any(p is None for p in parts):
            return None
        lim = [(v * p["low"], v * p["high"]) for v, p in zip(coefs.values(), parts, strict=True)]
        low, high = sum(min(a) for a in lim), sum(max(a) for a in lim)
        value = sum(v * p["value"] for v, p in zip(coefs.values(), parts, strict=True))
        basis = " + ".join(
            f"{v:g} x ({_label(p)})" for v, p in zip(coefs.values(), parts, strict=True)
        )
        kind = "interval"
    urls = list(dict.fromkeys(u for c in parts for u in c["urls"]))
    return dict(cats=target, name=name, kind=kind, value=value, low=low, high=high,
                urls=urls, basis=basis)  # fmt: skip


def implied_intervals(published: pd.DataFrame, contrasts: Mapping) -> pd.DataFrame:
    """Interval (percent) each published whole-sample cell implies, with contrast rows.

    Parameters
    ----------
    published : DataFrame
        Used published toplines (``data/processed/published/toplines.csv``): ``wave,
        question, category, relation, value, low, high, qualifier, percent,
        subgroup_variable, source_url, n_respondents, fieldwork_start, fieldwork_end``.
        Subgroup rows and relations other than ``equals, sum_of, part_of`` are left out.
    contrasts : mapping
        ``estimation.contrasts``: ``{question: {name: {category: coefficient}}}``.

    Returns
    -------
    DataFrame
        :data:`INTERVAL_COLUMNS`, one row per (wave, question, category or contrast name),
        sorted by question, wave, category; ``value`` is the published number (NaN for a
        contrast built from bounds), ``low, high`` the implied interval of the published
        estimate (percent), ``source_url`` the sources used (``" ; "``-joined), ``basis``
        how the interval was derived. Kinds as in the module docstring.
    """
    need = ["wave", "question", "category", "relation", "value", "low", "high", "qualifier"]
    need += ["source_url", "n_respondents", "fieldwork_start", "fieldwork_end"]
    missing = [c for c in need if c not in published.columns]
    if missing:
        raise InputError("Published toplines lack columns", value=missing)
    pub = published.copy()
    if "percent" not in pub.columns:
        pub["percent"] = pub["value"].map(lambda v: f"{v:g}")
    if "subgroup_variable" in pub.columns:
        sub = pub["subgroup_variable"]
        pub = pub[sub.isna() | (sub.astype(str) == "")]
    pub = pub[pub["relation"].isin(_RELATIONS)]
    out = []
    for (wave, question), group in pub.groupby(["wave", "question"], sort=True):
        cells = _cells(group)
        names = {frozenset(map(str, c)): n for n, c in contrasts.get(question, {}).items()}
        meta = group.iloc[0]
        rows = []
        for cell in cells:
            cell = _tighten(cells, cell)
            name = names.get(cell["cats"], "+".join(sorted(cell["cats"])))
            rows.append({**cell, "name": name})
        for name, coefs in contrasts.get(question, {}).items():
            if any(r["name"] == name for r in rows):
                continue
            row = _contrast(cells, name, coefs)
            if row is not None:
                rows.append(row)
        for r in rows:
            out.append(dict(
                wave=str(wave), question=str(question), category=r["name"], kind=r["kind"],
                value=r["value"], low=round(r["low"], 10), high=round(r["high"], 10),
                source_url=" ; ".join(r["urls"]), basis=r["basis"],
                n_respondents=meta["n_respondents"], fieldwork_start=meta["fieldwork_start"],
                fieldwork_end=meta["fieldwork_end"],
            ))  # fmt: skip
    res = pd.DataFrame(out, columns=INTERVAL_COLUMNS)
    return res.sort_values(["question", "wave", "category"], kind="stable", ignore_index=True)
