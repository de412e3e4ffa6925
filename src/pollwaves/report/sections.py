"""Context of the report's sections: plain data for the Jinja2 templates (no HTML here).

Each function selects and orders rows of the precomputed tables; none estimates anything.
Numbers stay raw here and are formatted (and registered) by the templates' helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from pollwaves.report.tables import Labels, finite

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
SUPPORTED_WHERE = "supported where published"
#: verdict -> (css class, symbol, text); the symbol and text carry the meaning, not the colour.
VERDICTS = {
    SUPPORTED: ("supported", "\u2714", "Supported"),
    SUPPORTED_WHERE: ("supported-where", "\u2714?", "Supported where published"),
    NOT_SUPPORTED: ("not-supported", "\u2718", "Not supported"),
    INCONCLUSIVE: ("inconclusive", "?", "Inconclusive"),
}
SOURCES = {
    "published": "Published toplines (real)",
    "microdata": "Microdata (real waves)",
    "simulated": "SIMULATED microdata",
}
WINDOWS = (("reproduction", "Reproduction"), ("follow-up", "Follow-up"))
_DIFF_PARTS = ("opponents outnumber supporters", "no radical change", "share fell")


def unit(claim: str, part: str) -> str:
    """Unit of an evidence estimate: ``pct`` (share), ``pp`` (difference) or ``ppy``."""
    if str(part).startswith("trend per year"):
        return "ppy"
    if claim == "stance_gap" or str(part) in _DIFF_PARTS:
        return "pp"
    return "pct"


def _py(v: object) -> object:
    """Numpy scalars as Python scalars; missing values as None."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):  # type: ignore[arg-type]
        return None
    return v.item() if hasattr(v, "item") else v


def _records(frame: pd.DataFrame) -> list[dict]:
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, map(_py, r), strict=True)) for r in frame.itertuples(index=False)]


def sparse_note(ev: pd.DataFrame, verdict: str) -> dict | None:
    """Why the published evidence cannot decide a claim (None unless inconclusive)."""
    if verdict != INCONCLUSIVE:
        return None
    has = ev["estimate"].map(finite)
    lo, hi = ev["ci_low"], ev["ci_high"]
    one_sided = has & ((hi >= 1) | (lo <= 0))
    no_n = has & ~lo.map(finite) & ~one_sided
    decisive = ev["verdict"].isin([SUPPORTED, NOT_SUPPORTED])
    straddle = has & ~one_sided & ~no_n & (ev["verdict"] == INCONCLUSIVE)
    reasons: dict[str, list[str]] = {}
    for _, r in ev[~has].iterrows():
        detail = r["note"] if isinstance(r["note"], str) and r["note"] else r["wave"]
        text = str(r["part"]) + (f": {detail}" if isinstance(detail, str) and detail else "")
        items = reasons.setdefault(text, [])
        if isinstance(r["item"], str) and r["item"] and r["item"] not in items:
            items.append(r["item"])
    sparse = int((~has).sum() + one_sided.sum() + no_n.sum()) > 0 or not len(ev)
    return {
        "tests": len(ev),
        "decisive": int(decisive.sum()),
        "missing": int((~has).sum()),
        "reasons": [{"text": k, "questions": v} for k, v in reasons.items()],
        "one_sided": int(one_sided.sum()),
        "no_n": int(no_n.sum()),
        "straddle": int(straddle.sum()),
        "too_sparse": sparse,
    }


def claim_sources(ledger: pd.DataFrame) -> dict[str, list[str]]:
    """The ledger's sources split into evidence (real data) and demonstration (SIMULATED)."""
    have = list(dict.fromkeys(ledger["source"])) if "source" in ledger.columns else []
    return {"evidence": [s for s in ("published", "microdata") if s in have] or ["published"],
            "demo": [s for s in ("simulated",) if s in have]}  # fmt: skip


def _cell(row: Mapping | None) -> dict:
    if row is None:
        return {"verdict": INCONCLUSIVE, "k": 0, "K": 0, "waves_used": "", "waves_missing": ""}
    return {"verdict": row["verdict"], "k": int(row.get("k") or 0), "K": int(row.get("K") or 0),
            "waves_used": row.get("waves_used") or "", "waves_missing":
            row.get("waves_missing") or ""}  # fmt: skip


def claims_context(
    ledger: pd.DataFrame,
    evidence: pd.DataFrame,
    sensitivity: pd.DataFrame,
    claims_cfg: Mapping,
    labels: Labels,
    sources: Mapping[str, str] = SOURCES,
) -> list[dict]:
    """One entry per configured claim, in config order: the verdict of every window and
    source (``cells[source][window]``, with coverage k of K and the waves used), the evidence
    grouped by source and window, the sensitivity table and the sparse note."""
    out = []
    led_rows = _records(ledger)
    for key, cfg in (claims_cfg.get("claims") or {}).items():
        mine = [r for r in led_rows if r["claim"] == key]
        cells = {s: {w: _cell(next((r for r in mine if r["source"] == s and r.get("window",
                 "follow-up") == w), None)) for w, _ in WINDOWS} for s in SOURCES}  # fmt: skip
        ev = evidence[evidence["claim"] == key]
        groups = []
        for source in SOURCES:
            for window, wlabel in WINDOWS:
                sub = ev[(ev["source"] == source) & (ev.get("window", window) == window)]
                if not len(sub):
                    continue
                rows = _records(sub)
                for r in rows:
                    r["unit"] = unit(key, r["part"])
                    r["item_label"] = labels.item(r["item"])
                groups.append({"source": source, "window": window, "rows": rows,
                               "label": f"{sources.get(source, source)}, {wlabel.lower()}"})  # fmt: skip
        sens = []
        s_rows = (
            sensitivity[sensitivity["claim"] == key] if "claim" in sensitivity else sensitivity
        )
        for val, g in s_rows.groupby("value", sort=True) if len(s_rows) else []:
            sens.append({"threshold": float(val), "parameter": str(g["parameter"].iloc[0]),
                         "current": bool(g["configured"].astype(bool).any()),
                         "cells": {(r["source"], r["window"]): _cell(r)
                                   for r in _records(g)}})  # fmt: skip
        statement = " ".join(
            str(mine[0]["statement"] if mine else cfg.get("statement", "")).split()
        )
        pub = cells["published"]["follow-up"]["verdict"]
        out.append({
            "key": key, "cfg": cfg, "statement": statement, "cells": cells,
            "published": pub, "simulated": cells["simulated"]["follow-up"]["verdict"],
            "evidence": groups, "n_evidence": len(ev), "sensitivity": sens,
            "sparse": sparse_note(ev[(ev["source"] == "published") & (ev.get(
                "window", "follow-up") == "follow-up")], pub),
        })  # fmt: skip
    return out


def subgroup_context(
    predicted: pd.DataFrame,
    ame: pd.DataFrame,
    terms: pd.DataFrame,
    trend_tests: pd.DataFrame,
    labels: Labels,
) -> dict:
    """Plain-words summary of the subgroup model: terms by strength, extremes, tests."""
    main = terms[~terms["term"].astype(str).str.contains(":") & (terms["term"] != "wave")]
    main = main.sort_values(["p_value", "term"], kind="mergesort")
    strong = _records(main)
    for r in strong:
        r["label"] = labels.variable(r["term"])
    other = _records(
        terms[(terms["term"] == "wave") | terms["term"].astype(str).str.contains(":")]
    )
    for r in other:
        r["label"] = " × ".join(labels.variable(t) for t in str(r["term"]).split(":"))
    pred = _records(predicted)
    for r in pred:
        r["var_label"], r["level_label"] = labels.variable(r["variable"]), labels.category(
            r["variable"], r["level"])  # fmt: skip
    top = max(pred, key=lambda r: (r["estimate"], r["variable"], r["level"]), default=None)
    low = min(pred, key=lambda r: (r["estimate"], r["variable"], r["level"]), default=None)
    effects = _records(ame)
    for r in effects:
        r["var_label"] = labels.variable(r["variable"])
        r["level_label"] = labels.category(r["variable"], r["level"])
        r["ref_label"] = labels.category(r["variable"], r["reference"])
    outcome = str(predicted["outcome"].iloc[0]) if len(predicted) else "support"
    return {"terms": strong, "other_terms": other, "predicted": pred, "top": top, "low": low,
            "ame": effects, "trend_tests": _records(trend_tests), "outcome": outcome}  # fmt: skip


def bounds_context(
    bounds: pd.DataFrame,
    threshold: float,
    sources: Mapping[str, str] = SOURCES,
    level: float = 0.95,
) -> dict:
    """Worst-case bounds per source and wave (one row per wave, the four bounds with their
    ``level`` intervals) and, per source, the widest upper bound of support and the lowest
    lower bound of opposition (``undecided_bounds.csv``)."""
    out = {"rows": [], "threshold": threshold, "summary": [], "level": float(level)}
    for source in ("published", "simulated"):
        b = bounds[bounds["source"] == source]
        if b.empty:
            continue
        waves = sorted(set(b["wave"].astype(str)))
        rows = []
        for wave in waves:
            w = b[b["wave"].astype(str) == wave].set_index("bound")
            rows.append({"source": source, "wave": wave, "n": w["n"].iloc[0],
                         **{k: w.loc[k].to_dict() for k in w.index}})  # fmt: skip
        out["rows"] += rows
        s_high = max(rows, key=lambda r: (r["support_high"]["estimate"], r["wave"]))
        o_low = min(rows, key=lambda r: (r["oppose_low"]["estimate"], r["wave"]))
        out["summary"].append({
            "source": source, "label": sources[source], "waves": len(rows),
            "max_support": s_high, "min_oppose": o_low,
            "majority_ruled_out": all(r["support_high"]["ci_high"] < threshold for r in rows),
            "any_majority_bound": any(r["support_high"]["estimate"] >= threshold for r in rows),
        })  # fmt: skip
    return out


def effect_context(effect: pd.DataFrame, questions: Sequence[str], show: Sequence[str]) -> dict:
    """Weighted-vs-unweighted rows of ``show`` categories of war support, and per question
    the row with the largest absolute difference."""
    war = effect[(effect["question"] == "war_support") & effect["category"].isin(list(show))]
    war = war.sort_values(["wave", "category"], kind="mergesort")
    largest = []
    for q in questions:
        e = effect[effect["question"] == q]
        if len(e):
            largest.append(_records(e.loc[[e["difference"].abs().idxmax()]])[0])
    return {"rows": _records(war), "largest": largest}


def sources_context(published: pd.DataFrame, labels: Labels) -> list[dict]:
    """One row per source URL of the used published numbers: waves, questions, row count."""
    out = []
    for url, g in published.groupby("source_url", sort=True):
        qs = sorted({labels.topic(q) for q in g["question"]})
        out.append({"url": url, "waves": sorted(set(g["wave"].astype(str))),
                    "questions": qs, "rows": int(g["row_id"].nunique())})  # fmt: skip
    return out


def margins_context(margins_cfg: Mapping, labels: Labels) -> dict:
    """The raking targets of config/margins.yaml with their status and derivation."""
    total = dict(margins_cfg.get("population_total") or {})
    rows = []
    for name, spec in (margins_cfg.get("margins") or {}).items():
        cats = [{"id": str(c), "share": float(v)} for c, v in (spec.get("targets") or {}).items()]
        rows.append({"name": name, "description": spec.get("description", ""),
                     "status": spec.get("status", ""), "derivation": " ".join(str(
                         spec.get("derivation", "")).split()), "targets": cats,
                     "sources": list(spec.get("sources") or [])})  # fmt: skip
    total["derivation"] = " ".join(str(total.get("derivation", "")).split())
    return {"total": total, "margins": rows}


def sort_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Stable sort by the given columns that exist (``row_id`` numerically)."""
    cols = [c for c in columns if c in frame.columns]
    if not cols:
        return frame.reset_index(drop=True)

    def key(s: pd.Series) -> pd.Series:
        if s.name == "row_id":
            n = pd.to_numeric(s, errors="coerce")
            return n if n.notna().all() else s.astype(str)
        return s.astype(str)

    return frame.sort_values(cols, key=key, kind="mergesort").reset_index(drop=True)


def records(frame: pd.DataFrame | None) -> list[dict]:
    """Rows as dicts (empty list for None)."""
    return [] if frame is None else _records(frame)


def toplines_context(frame: pd.DataFrame | None) -> list[dict]:
    """The display toplines grouped by wave and question (empty list for None)."""
    if frame is None or frame.empty:
        return []
    # one pass over the rows (not a filter per wave and question): waves sorted, questions in
    # order of first appearance within the wave, rows by ``order`` (stable)
    groups: dict[object, dict[object, list[dict]]] = {}
    first_flag: dict[object, object] = {}
    for r in _records(frame):
        for k in ("previous_wave", "change_mark"):  # no previous wave: empty text, not NaN
            r[k] = r[k] if isinstance(r[k], str) else ""
        groups.setdefault(r["wave"], {}).setdefault(r["question"], []).append(r)
        first_flag.setdefault(r["wave"], r["simulated"])
    waves = []
    for wave in sorted(groups):
        questions = []
        for q, part in groups[wave].items():
            part.sort(key=lambda r: r["order"])
            head = part[0]
            questions.append({
                "question": q, "question_label": head["question_label"], "rows": part,
                "n": head["n"], "weighted_n": head["weighted_n"], "wave_moe": head["wave_moe"],
                "previous_wave": head["previous_wave"],
            })  # fmt: skip
        sim = str(first_flag[wave]).lower() == "true"
        waves.append({"wave": str(wave), "simulated": sim, "questions": questions})
    return waves
