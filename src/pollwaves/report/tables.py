"""Number formatting and table preparation for the HTML report (no estimation here).

Every number the report prints goes through a :class:`Numbers` helper. It renders the number
inside an HTML ``<data value="...">`` element whose ``value`` is the exact table cell (or
configuration value) it came from, and registers it, so that tests can trace each printed
number back to a table. The derived tables of the report (worst-case bounds under the
undecided answers, weighted against unweighted estimates) are built here from the result
tables (the published bounds' intervals by :mod:`pollwaves.survey.bounds`) and written by the
workflow before the report reads them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup, escape

from pollwaves.survey.bounds import bounds_from_shares

__all__ = [
    "Labels",
    "Numbers",
    "level_label",
    "missing_raking_values",
    "undecided_bounds",
    "vendor_comparison",
    "weighting_effect",
]


def level_label(level: float) -> str:
    """A confidence level as printed in labels: ``0.95 -> "95%"``, ``0.9 -> "90%"``."""
    return f"{100 * float(level):.10g}%"


_WAVE = re.compile(r"\b(\d{4}-(?:0[1-9]|1[0-2]))\b")
MINUS = "\u2212"


def _missing(v: object) -> bool:
    if v is None or isinstance(v, str):
        return v is None or v.strip() == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


@dataclass
class Numbers:
    """Formatting helpers for the templates; each printed number is registered.

    ``registry`` holds ``(text, value)`` for every number rendered, in output order.
    """

    registry: list[tuple[str, float]] = field(default_factory=list)

    def _data(self, value: object, text: str, cls: str = "") -> Markup:
        v = float(value)  # type: ignore[arg-type]
        raw = repr(int(v)) if isinstance(value, int) and not isinstance(value, bool) else repr(v)
        self.registry.append((text, v))
        if cls:
            return Markup('<data class="{}" value="{}">{}</data>').format(cls, raw, text)
        return Markup('<data value="{}">{}</data>').format(raw, text)

    def count(self, k: int) -> Markup:
        """A count of rows or tests (not a table cell), marked ``class="count"``."""
        return self._data(int(k), str(int(k)), cls="count")

    @staticmethod
    def dash() -> Markup:
        return Markup('<span class="na">–</span>')

    def pct(self, share: object, digits: int = 1) -> Markup:
        """A share in [0, 1] as a percentage without the % sign (``0.3341`` -> ``33.4``)."""
        if _missing(share):
            return self.dash()
        return self._data(share, f"{100 * float(share):.{digits}f}".replace("-", MINUS))

    def thr(self, share: object) -> Markup:
        """A threshold share as a percentage with the digits it needs (``0.667`` -> ``66.7``)."""
        if _missing(share):
            return self.dash()
        text = f"{100 * float(share):.1f}".removesuffix(".0")
        return self._data(share, text)

    def pp(self, diff: object, digits: int = 1) -> Markup:
        """A difference of shares in signed percentage points (``-0.087`` -> ``−8.7``)."""
        if _missing(diff):
            return self.dash()
        text = f"{100 * float(diff):+.{digits}f}".replace("-", MINUS)
        return self._data(diff, text)

    def percent(self, value: object) -> Markup:
        """A number already in percent (published values), as published (``27.2``)."""
        if _missing(value):
            return self.dash()
        return self._data(value, f"{float(value):g}")

    def num(self, value: object, digits: int | None = None) -> Markup:
        """A plain number: counts with thin-space thousands, else ``digits`` decimals."""
        if _missing(value):
            return self.dash()
        v = float(value)
        if digits is None and v.is_integer() and abs(v) < 1e15:
            text = f"{int(v):,}".replace(",", "\u2009")
        elif digits is None:
            text = f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:,.2f}".replace(",", "\u2009")
        else:
            text = f"{v:,.{digits}f}".replace(",", "\u2009")
        return self._data(value, text.replace("-", MINUS))

    def sig(self, value: object, digits: int = 3) -> Markup:
        """A number with ``digits`` significant digits (``0.0021``, ``0.948``)."""
        if _missing(value):
            return self.dash()
        text = f"{float(value):#.{digits}g}".removesuffix(".")  # keeps trailing zeros
        return self._data(value, text.replace("-", MINUS))

    def pval(self, p: object, eq: bool = False) -> Markup:
        """A p-value: three decimals, or ``<0.001`` (``eq``: ``= 0.127`` / ``< 0.001``)."""
        if _missing(p):
            return self.dash()
        v = float(p)
        if eq:
            return self._data(p, "< 0.001" if v < 0.001 else f"= {v:.3f}")
        return self._data(p, "<0.001" if v < 0.001 else f"{v:.3f}")  # escaped by _data

    def ci(self, lo: object, hi: object, kind: str = "pct") -> Markup:
        """An interval ``lo–hi`` (``kind``: pct, pp or num)."""
        if _missing(lo) and _missing(hi):
            return self.dash()
        fmt = {"pct": self.pct, "pp": self.pp, "num": self.num}[kind]
        negative = any(not _missing(v) and float(v) < 0 for v in (lo, hi))  # type: ignore[arg-type]
        sep = " to " if negative else "\u2013"
        return Markup("{}{}{}").format(fmt(lo), sep, fmt(hi))

    @staticmethod
    def text(value: object) -> Markup:
        """Text taken from a table cell or the codebook, marked ``<span class="t">``."""
        if _missing(value):
            return Markup("")
        return Markup('<span class="t">{}</span>').format(str(value))

    @staticmethod
    def wave(text: object) -> Markup:
        """Text with every ``YYYY-MM`` wave id marked up as ``<time>``."""
        if _missing(text):
            return Markup("")
        return Markup(_WAVE.sub(r'<time datetime="\1">\1</time>', str(escape(str(text)))))


class Labels:
    """English labels of questions, variables and categories from the codebook."""

    SHORT = {"attitude_russia": "Russia", "attitude_ukraine": "Ukraine",
             "attitude_poland": "Poland", "attitude_eu": "the EU", "attitude_usa": "the USA",
             "war_support": "support for the war", "alliance": "preferred union",
             "belarus_army_participation": "Belarusian army joining the war"}  # fmt: skip
    ITEMS = {"yes": "wants the army to join", "support": "support",
             "oppose - support": "oppose minus support", "both + outside": "neutral (both + "
             "outside)"}  # fmt: skip

    def __init__(self, codebook: Mapping | None = None):
        self.variables = dict((codebook or {}).get("variables", {}) or {})

    def question(self, q: object) -> str:
        spec = self.variables.get(str(q), {}) or {}
        return str((spec.get("label") or {}).get("en", str(q).replace("_", " ")))

    def short(self, q: object) -> str:
        return self.SHORT.get(str(q), self.question(q))

    def topic(self, q: object) -> str:
        """Short topic of a question (``attitude_russia`` -> ``attitude to Russia``)."""
        text = str(q)
        return f"attitude to {self.short(q)}" if text.startswith("attitude_") else self.short(q)

    def category(self, var: object, cat: object) -> str:
        spec = ((self.variables.get(str(var), {}) or {}).get("categories") or {}).get(str(cat))
        return str(spec["en"]) if spec else str(cat).replace("_", " ")

    def variable(self, var: object) -> str:
        return self.question(var).lower() if var in self.variables else str(var).replace("_", " ")

    def item(self, item: object) -> str:
        text = "" if _missing(item) else str(item)
        if text in self.SHORT:
            return self.SHORT[text]
        return self.ITEMS.get(text, text.replace("_", " "))


BOUND_COLUMNS = ["source", "wave", "bound", "estimate", "se", "ci_low", "ci_high", "n"]
BOUND_COLUMNS += ["simulated"]
#: Published worst-case bounds: outcome -> (category, the middle categories added for "high").
PUBLISHED_BOUNDS = {"support": ("support", ("partly", "hard_to_say")),
                    "oppose": ("oppose", ("partly", "hard_to_say"))}  # fmt: skip


def undecided_bounds(
    microdata: pd.DataFrame, published: pd.DataFrame, *, deff: float, level: float
) -> pd.DataFrame:
    """Worst-case (Manski-type) bounds of war support and opposition, with intervals.

    Parameters
    ----------
    microdata : DataFrame
        The per-wave bounds of the microdata (``data/processed/estimates/{wave}.bounds.csv``,
        :func:`pollwaves.survey.bounds.worst_case_bounds`: shares over all respondents,
        refusals included, raked weights as sampling weights, raking-aware SEs).
    published : DataFrame
        Used published rows (percent). Waves where support, partly, hard to say and oppose
        are all published as exact whole-sample values (``relation == "equals"``) get published bounds from the published N (the conservative whole number
        of a qualified N) and the ASSUMED design effect ``deff``
        (:func:`pollwaves.survey.bounds.bounds_from_shares`). No refusal share is published,
        so the published upper bounds cannot include refusals.
    deff : float
        Assumed design effect of the published numbers (``trend.published_deff``).
    level : float
        Confidence level of the published intervals (``estimation.level``).

    Returns
    -------
    DataFrame
        ``source, wave, bound, estimate, se, ci_low, ci_high, n, simulated`` with bound in
        support_low, support_high, oppose_low, oppose_high (``*_low`` = the share stating the
        view; ``*_high`` = everyone but those stating the opposite view); published rows
        first, waves in order.
    """
    cats = ["support", "partly", "hard_to_say", "oppose"]
    pub = published
    if "subgroup_variable" in pub.columns:
        pub = pub[pub["subgroup_variable"].isna() | (pub["subgroup_variable"].astype(str) == "")]
    keep = (pub["relation"] == "equals") & (pub["qualifier"] == "exact")
    pub = pub[keep & (pub["question"] == "war_support") & pub["category"].isin(cats)]
    parts = []
    for wave, g in pub.groupby(pub["wave"].astype(str), sort=True):
        shares = (pd.to_numeric(g["value"]) / 100).groupby(g["category"]).first().to_dict()
        n = pd.to_numeric(g["n_respondents"], errors="coerce").dropna()
        if set(cats) - set(shares) or n.empty:
            continue
        b = bounds_from_shares(shares, PUBLISHED_BOUNDS, float(n.min()), deff, level)
        parts.append(b.assign(source="published", wave=wave, simulated=False))
    micro = microdata.assign(wave=microdata["wave"].astype(str))
    parts.append(micro)
    out = pd.concat([p for p in parts if len(p)] or [micro], ignore_index=True)
    out["simulated"] = out["simulated"].astype(bool)
    rank = out["source"].map({"published": 0}).fillna(1)
    order = out.assign(_r=rank).sort_values(["_r", "wave"], kind="mergesort").index
    return out.loc[order, BOUND_COLUMNS].reset_index(drop=True)


def weighting_effect(toplines: pd.DataFrame, unweighted: pd.DataFrame) -> pd.DataFrame:
    """Weighted against unweighted toplines of the same waves (SIMULATED microdata).

    Returns
    -------
    DataFrame
        ``question, wave, category, weighted, unweighted, difference`` (shares; difference
        = weighted - unweighted), whole-sample rows present in both tables, in the toplines'
        row order.
    """
    keys = ["question", "wave", "category"]
    w = toplines[toplines["domain"] == "all"][[*keys, "estimate"]]
    u = unweighted[unweighted["domain"] == "all"][[*keys, "estimate"]]
    out = w.merge(u, on=keys, suffixes=("_w", "_u"), how="inner", sort=False)
    out = out.rename(columns={"estimate_w": "weighted", "estimate_u": "unweighted"})
    out = out.dropna(subset=["weighted", "unweighted"])
    out["difference"] = out["weighted"] - out["unweighted"]
    return out.reset_index(drop=True)


def vendor_comparison(toplines: pd.DataFrame, vendor: pd.DataFrame) -> pd.DataFrame:
    """Toplines with our raked weights against the same toplines with the vendor's weight.

    Returns
    -------
    DataFrame
        ``question, wave, category, raked, vendor, difference`` (shares; difference = raked -
        vendor), whole-sample rows of the waves delivered with a vendor weight, in the
        toplines' row order; empty when no wave has one.
    """
    keys = ["question", "wave", "category"]
    r = toplines[toplines["domain"] == "all"][[*keys, "estimate"]]
    v = vendor[vendor["domain"] == "all"][[*keys, "estimate"]]
    out = r.merge(v, on=keys, suffixes=("_r", "_v"), how="inner", sort=False)
    out = out.rename(columns={"estimate_r": "raked", "estimate_v": "vendor"})
    out = out.dropna(subset=["raked", "vendor"])
    out["difference"] = out["raked"] - out["vendor"]
    return out.reset_index(drop=True)


def missing_raking_values(weighting: pd.DataFrame) -> list[dict]:
    """Per wave and raking variable: respondents imputed or dropped for a missing value.

    Reads the ``imputed_<var>`` and ``dropped_<var>`` columns of ``weighting.csv``; only
    waves and variables with a count above zero are listed.
    """
    out = []
    variables = [c.removeprefix("imputed_") for c in weighting.columns if c.startswith("imputed_")]
    for _, row in weighting.sort_values("wave", kind="mergesort").iterrows():
        for var in variables:
            imputed = int(row.get(f"imputed_{var}", 0) or 0)
            dropped = int(row.get(f"dropped_{var}", 0) or 0)
            if imputed or dropped:
                out.append({"wave": str(row["wave"]), "variable": var, "imputed": imputed,
                            "dropped": dropped})  # fmt: skip
    return out


def finite(v: object) -> bool:
    """True for a finite number (template test)."""
    try:
        return math.isfinite(float(v))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
