"""The inputs of the claims ledger and their look-ups: one source's numbers by wave.

:class:`Tables` holds the result tables the ledger reads (never respondents);
:class:`SourceData` gives one source's share, contrast, published item or stance difference
for a question and wave, through indexes built once (O(1) look-ups, not scans of every
wave's rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from pollwaves.analysis.claims_windows import Value, estimate_value, published_share

__all__ = ["SourceData", "Tables"]


@dataclass
class Tables:
    """Inputs of the ledger (result tables of the workflow).

    ``published``: used published rows (value in percent); ``toplines`` and ``contrasts``:
    per-wave design-based estimates from sampling (raked) weights; ``stance_shares``: good
    attitude by war stance; ``stance_differences``: the design-based domain differences
    (supporters minus opponents, with their covariance; ``reports/tables/stance_differences.csv``)
    or None; ``fieldwork``: microdata wave -> fieldwork start; ``simulated``: microdata wave ->
    its ``simulated`` flag (missing: simulated).
    """

    published: pd.DataFrame
    toplines: pd.DataFrame
    contrasts: pd.DataFrame
    stance_shares: pd.DataFrame
    stance_tests: pd.DataFrame
    fieldwork: dict[str, pd.Timestamp]
    published_deff: float
    simulated: dict[str, bool] = field(default_factory=dict)
    stance_differences: pd.DataFrame | None = None


class SourceData:
    """The numbers of one source, by wave."""

    def __init__(self, t: Tables, source: str, z: float):
        self.t, self.source, self.z = t, source, z
        self._pub_rows: dict = {}
        if source == "published":
            pub = t.published
            blank = pub["subgroup_variable"].isna() | (pub["subgroup_variable"].astype(str) == "")
            self.pub = pub[blank]
            self.waves: set[str] = set(map(str, self.pub["wave"]))
            usable = self.pub[self.pub["relation"].isin(["equals", "part_of"])]
            keys = ["question", "category", "wave"]
            # (question, category, wave) -> its rows, built once: O(1) look-ups, not scans
            self._pub_rows = {k: g for k, g in usable.groupby(keys, sort=False, dropna=True)}
        else:
            flag = source == "simulated"
            self.waves = {w for w in t.fieldwork if bool(t.simulated.get(w, True)) == flag}
        self._cache: dict = {}

    def _pub(self, q: str, cat: str, wave: str) -> pd.DataFrame:
        """The usable (``equals``/``part_of``) whole-sample published rows of one number."""
        rows = self._pub_rows.get((q, cat, wave))
        return self.pub.iloc[:0] if rows is None else rows

    def share(self, q: str, cat: str, wave: str) -> Value | None:
        """The share of ``cat`` in ``q`` at ``wave`` (None: not available); computed once per
        key (the values are never modified by the callers)."""
        key = ("share", q, cat, wave)
        if key not in self._cache:
            self._cache[key] = self._share(q, cat, wave)
        return self._cache[key]

    def _share(self, q: str, cat: str, wave: str) -> Value | None:
        if wave not in self.waves:
            return None
        if self.source == "published":
            rows = self._pub(q, cat, wave)
            if rows.empty:
                return None
            rows = rows.assign(_o=(rows["qualifier"] != "exact") | (rows["relation"] != "equals"))
            return published_share(rows.sort_values("_o", kind="mergesort").iloc[0],
                                   self.t.published_deff, self.z)  # fmt: skip
        i = self._whole_sample.get((q, cat, wave))
        return None if i is None else estimate_value(*self._values[i])

    @cached_property
    def _whole_sample(self) -> dict:
        """``(question, category, wave) -> position`` of the first whole-sample toplines row."""
        t = self.t.toplines
        return _first_rows(t, ["question", "category", "wave"], (t["domain"] == "all").to_numpy())

    @cached_property
    def _values(self) -> np.ndarray:
        return self.t.toplines[["estimate", "se", "ci_low", "ci_high"]].to_numpy(dtype=float)

    @cached_property
    def _contrast_rows(self) -> dict:
        return _first_rows(self.t.contrasts, ["question", "contrast", "wave"])

    @cached_property
    def _diff_rows(self) -> dict:
        return _first_rows(self.t.stance_differences, ["question", "wave"])

    def item(self, spec: dict, wave: str) -> Value | None:
        """A published item that bears on a claim (``published_items``), matched by
        ``published_question`` + ``answer`` or by ``question`` + ``category``."""
        if self.source != "published" or wave not in self.waves:
            return None
        p = self.pub[self.pub["wave"] == wave]
        for key in ("published_question", "answer", "question", "category"):
            if key in spec and key in p.columns:
                p = p[p[key].astype(str).str.lower() == str(spec[key]).lower()]
        if p.empty:
            return None
        v = published_share(p.iloc[0], self.t.published_deff, self.z)
        v.note = "published item: " + " ".join(str(spec.get("wording", "")).split())
        return v

    def contrast(self, q: str, name: str, wave: str) -> Value | None:
        if wave not in self.waves:
            return None
        if self.source == "published":
            return self._pub_contrast(q, name, wave)
        i = self._contrast_rows.get((q, name, wave))
        if i is None:
            return None
        r = self.t.contrasts.iloc[i]
        return estimate_value(r["estimate"], r["se"], r["ci_low"], r["ci_high"],
                              "linear" if name != "neutral" else "logit", r.get("df"))  # fmt: skip

    def _pub_contrast(self, q: str, name: str, wave: str) -> Value | None:
        cats = {"oppose_minus_support": ("oppose", "support"), "neutral": ("both", "outside")}
        a, b = (self.share(q, c, wave) for c in cats[name])
        if name == "neutral":  # both + outside: a sum of the two, a lower bound if one is
            known = [v for v in (a, b) if v is not None]
            if not known:
                return None
            row = self._pub(q, cats[name][0] if a is not None else cats[name][1], wave).iloc[0]
            s = sum(v.vlow for v in known)
            bound = len(known) < 2 or any(v.bound for v in known)
            fake = {"value": 100 * s, "n_respondents": row["n_respondents"], "relation": "equals",
                    "qualifier": "lower_bound" if bound else "exact"}  # fmt: skip
            return published_share(pd.Series(fake), self.t.published_deff, self.z)
        if a is None or b is None or a.bound or b.bound:
            return None
        o, s = a.estimate, b.estimate
        n = float(self._pub(q, "oppose", wave)["n_respondents"].iloc[0])
        se = float(np.sqrt(self.t.published_deff * (o + s - (o - s) ** 2) / n))
        return Value(o - s, o - s, o - s, se, se, o - s - self.z * se, o - s + self.z * se,
                     "linear")  # fmt: skip

    def stance_diff(self, q: str, wave: str) -> Value | None:
        if self.source == "published" or wave not in self.waves:
            return None
        d = self.t.stance_differences
        if d is not None:
            i = self._diff_rows.get((q, wave))
            if i is None:
                return None
            r = d.iloc[i]
            return estimate_value(r["estimate"], r["se"], r["ci_low"], r["ci_high"], "linear",
                                  r["df"])  # fmt: skip
        sh = self.t.stance_shares
        g = sh[(sh["question"] == q) & (sh["wave"] == wave)].set_index("war_support")
        if not {"support", "oppose"} <= set(g.index):
            return None
        est = float(g.loc["support", "estimate"] - g.loc["oppose", "estimate"])
        se = float(np.hypot(g.loc["support", "se"], g.loc["oppose", "se"]))
        return estimate_value(est, se, est - self.z * se, est + self.z * se, "linear",
                              note="covariance of the two domains taken as 0 "
                                   "(stance_differences.csv not available)")  # fmt: skip


def _first_rows(frame: pd.DataFrame, keys: list[str], keep: np.ndarray | None = None) -> dict:
    """``key tuple -> position`` of the first row of ``frame`` with that key (rows with a
    missing key, or outside ``keep``, left out): built once, each look-up is then O(1), not a
    scan of every wave's rows."""
    index: dict = {}
    for i, k in enumerate(zip(*(frame[c] for c in keys), strict=True)):
        if (keep is None or keep[i]) and not any(pd.isna(x) for x in k):
            index.setdefault(k, i)
    return index
