"""Propose a codebook mapping for a new delivery (used by ``pollwaves add-wave``).

All study knowledge comes from the codebook (``config/codebook.yaml``): variable labels and
``label_patterns``, category ``patterns``, ``missing_patterns`` (refusal, don't know) and
``derive`` rules. Evidence for the variable of a column, strongest first (scores in
brackets; a value-label fit adds 15):

* the column's variable label (sav/dta; the header for csv/xlsx/parquet) equals a codebook
  ``label`` (ru or en, ignoring case, punctuation and ё/е) [100];
* the label matches the variable's ``label_patterns`` (ru/be/en) [90];
* the raw column name or label was mapped in an earlier wave (``config/waves/*.yaml``) [70,
  or 50 when earlier waves disagree] or is the canonical variable name [75];
* the label is similar to a codebook label (difflib ratio >= 0.75) [60 x ratio];
* only the value labels fit the categories of a variable [40];
* ``resp_id`` / ``duration_sec`` by name and content (unique values / numbers) [60 / 55].

Answer codes are mapped by their value label (cell text for csv/xlsx) with the codebook
category patterns, exactly as harmonisation matches them; refusals become missing, "don't
know" is ``hard_to_say`` where the variable has it and missing otherwise; unlabelled 98/99
follow the study convention (hard to say / refusal, to be checked). Numeric columns are
checked by content (:mod:`pollwaves.intake.numeric`): age in years gets ``derive: years``,
a weight column ``vendor_weight``.

A column is ``confirmed`` when its label names exactly one variable (exact label or label
pattern), no other column's label names that variable, no other variable scores within
25 points, and every raw code is matched to a category or a missing value (or its content
fits the variable: unique ids, numeric durations and weights, whole years in range).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pollwaves.config import code_key
from pollwaves.intake import numeric
from pollwaves.intake.patterns import Patterns, matches_any, patterns

__all__ = ["CLOSE_SECOND", "ColumnProposal", "describe", "propose"]

#: A rival variable scoring within this many points makes a column ambiguous.
CLOSE_SECOND = 25
_ID_NAME = re.compile(r"(^|[\s_])(id|resp\w*|anketa\w*|nr|номер\w*|нумар\w*)($|[\s_])", re.I)
_DUR_NAME = re.compile(r"dur|time|len|sec|сек|длит|врем|час", re.I)


def _norm(text: Any) -> str:
    """Lower-case text without punctuation, ``_`` or ё (for comparing labels and names)."""
    text = unicodedata.normalize("NFC", str(text)).lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def _label_text(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


@dataclass
class ColumnProposal:
    """The proposal for one raw column (``variable`` None = unmapped).

    ``derive`` names a codebook derive rule (e.g. ``years``); ``kept`` holds the reviewed
    spec of a re-imported column that is reused unchanged.
    """

    column: str
    label: str | None
    variable: str | None = None
    candidates: list[str] = field(default_factory=list)
    evidence: str = ""
    confirmed: bool = False
    values: dict[Any, str | None] | None = None
    use_labels: bool = False
    derive: str | None = None
    notes: list[str] = field(default_factory=list)
    refusals: list[Any] = field(default_factory=list)
    kept: dict | None = None


def describe(series: pd.Series) -> tuple[list[Any], bool]:
    """Distinct non-missing raw values (file order) and whether the column is numeric.

    Parameters
    ----------
    series : pandas.Series
        One raw column of a delivery.

    Returns
    -------
    (list, bool)
        The distinct values and whether the column has a numeric dtype.
    """
    is_num = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    seen = pd.Series(series.dropna().tolist(), dtype=object).drop_duplicates().tolist()
    return seen, is_num


def _typed(key: str, is_num: bool) -> Any:
    """A raw code as written in the YAML: ints for integral numeric codes, else text."""
    if is_num:
        number = float(key)
        return int(number) if number.is_integer() else number
    return key


def _categories(spec: dict, text: str) -> list[str]:
    """Categories whose codebook patterns match ``text`` (as harmonisation matches them)."""
    cats = spec.get("categories") or {}
    return [c for c, cs in cats.items() if any(re.search(p, text, re.I) for p in cs["patterns"])]


def _fits(spec: dict, texts: list[str], pats: Patterns) -> bool:
    """Whether most (>= 60%) substantive labels of a column are categories of the variable."""
    texts = [t for t in texts if not matches_any(pats.refusal + pats.dont_know, t)]
    hits = []
    for text in texts:
        found = _categories(spec, text)
        if len(found) > 1:
            return False
        hits += found
    return len(set(hits)) >= 2 and len(hits) >= 0.6 * len(texts)


def _propose_values(
    var: str, spec: dict, codes: list[Any], is_num: bool, labels: dict, earlier: dict, pats
) -> tuple[dict[Any, str | None], bool, list[str], bool, list[Any]]:
    """Raw code -> category for one column: (values, labels-ok, notes, all-matched, refusals)."""
    cats = spec.get("categories") or {}
    keys = list(dict.fromkeys([k for k in (code_key(c) for c in codes) if k] + list(labels)))
    if is_num:
        keys.sort(key=float)
    values: dict[Any, str | None] = {}
    notes, refusals, matched, by_book = [], [], True, True
    for key in keys:
        text = _label_text(labels.get(key, "" if is_num else key))
        code = _typed(key, is_num)
        shown = f"{key} {text!r}" if text and text != key else f"{key!r}"
        book = _categories(spec, text) if text else []
        if text and matches_any(pats.refusal, text):
            refusals.append(code)
            notes.append(f"{shown} -> missing (refusal)")
        elif len(book) == 1:
            values[code] = book[0]
            notes.append(f"{shown} -> {book[0]}")
        elif text and not book and matches_any(pats.dont_know, text) and "hard_to_say" not in cats:
            values[code], by_book = None, False
            notes.append(f"{shown} -> null (missing: {var} has no hard_to_say)")
        elif not text and key in ("98", "99") and is_num:
            cat = "hard_to_say" if key == "98" and "hard_to_say" in cats else None
            values[code], matched, by_book = cat, False, False
            notes.append(f"{shown} (no label) -> {cat or 'null'} by the 98/99 convention; check")
        elif not text and key in earlier:
            values[code], matched, by_book = earlier[key], False, False
            notes.append(f"{shown} (no label) -> {earlier[key]} as in an earlier wave; check")
        else:
            matched, by_book = False, False
            why = f"matches several categories ({', '.join(book)})" if book else "no match"
            notes.append(
                f"{shown} -> NOT MAPPED ({why}): add `{key}: <category>` "
                f"({', '.join(cats)}; null = missing)"
            )
    use_labels = bool(not is_num and not labels and by_book and keys)
    return values, use_labels, notes, matched, refusals


def _label_evidence(
    column: str, label: str | None, variables: dict, earlier_names: dict, pats: Patterns
) -> tuple[dict[str, tuple[float, str]], set[str]]:
    """Variable -> (score, reason) from the column's label and name; variables it names."""
    found: dict[str, tuple[float, str]] = {}
    named: set[str] = set()

    def add(var: str, score: float, why: str) -> None:
        if var in variables and score > found.get(var, (0.0, ""))[0]:
            found[var] = (score, why)

    texts = [t for t in dict.fromkeys([label, column]) if t]
    for var, spec in variables.items():
        book = {_norm(spec["label"]["ru"]), _norm(spec["label"]["en"])}
        if label and _norm(label) in book:
            add(var, 100, "label equals the codebook label")
            named.add(var)
        for text in texts:
            low = str(text).lower().replace("ё", "е")
            if matches_any(pats.label.get(var, []), low):
                add(var, 90, f"{text!r} matches a codebook label pattern")
                named.add(var)
            if _norm(text) == _norm(var):
                add(var, 75, "raw name is the canonical variable name")
            ratio = max(difflib.SequenceMatcher(None, _norm(text), b).ratio() for b in book)
            if ratio >= 0.75:
                add(var, 60 * ratio, f"{text!r} is similar to the codebook label")
    for text in texts:
        for var, waves in earlier_names.get(_norm(text), {}).items():
            score = 70 if len(earlier_names[_norm(text)]) == 1 else 50
            add(var, score, f"{text!r} was mapped to {var} in wave(s) {', '.join(waves)}")
    return found, named


def _evidence(delivery: Any, column: str, label, variables, names, pats) -> tuple[dict, set, Any]:
    """Scores of every variable for one column, the variables its label names, numeric fit."""
    series = delivery.data[column]
    codes, is_num = describe(series)
    vlabels = {code_key(k): v for k, v in delivery.value_labels.get(column, {}).items() if v}
    found, named = _label_evidence(column, label, variables, names, pats)
    fit = numeric.classify(series, label or column, vlabels, variables, named, pats)
    texts = list(vlabels.values()) if vlabels else [] if is_num else codes[:40]
    for var, spec in variables.items():
        if not spec.get("categories"):
            continue
        if _fits(spec, [_label_text(t) for t in texts], pats):
            score, why = found.get(var, (25.0, "value labels are its categories"))
            found[var] = (score + 15, why + "; value labels fit")
        elif var in found and len(codes) > 30 and not vlabels and fit.variable != var:
            del found[var]  # continuous values cannot be a categorical variable
    unique = len(codes) == len(series) and series.notna().all()
    for text in (column, label or ""):
        if unique and not vlabels and _ID_NAME.search(text):
            found.setdefault("resp_id", (60, "unique values; name looks like an id"))
        if is_num and not vlabels and len(codes) > 30 and _DUR_NAME.search(text):
            found.setdefault("duration_sec", (55, "numbers; name looks like a duration"))
    for var in ("resp_id", "duration_sec", "vendor_weight"):
        content_ok = {"resp_id": unique, "duration_sec": is_num}.get(var, fit.variable == var)
        if var in found and (not content_ok or vlabels):
            del found[var]
    if fit.variable and fit.variable in found:
        found[fit.variable] = (found[fit.variable][0], f"{found[fit.variable][1]}; {fit.why}")
    return found, named, fit


def propose(
    delivery: Any, codebook: dict, earlier: list[dict], wave: str, keep: dict | None = None
) -> list[ColumnProposal]:
    """Propose a mapping of every raw column of ``delivery`` (see the module docstring).

    Parameters
    ----------
    delivery : pollwaves.intake.readers.Delivery
        The new delivery.
    codebook : dict
        The loaded codebook.
    earlier : list of dict
        Mappings of earlier waves (``config/waves/*.yaml``).
    wave : str
        The new wave id (questions whose ``first_wave`` is later are not proposed).
    keep : dict, optional
        Raw column -> reviewed column spec to reuse unchanged (``add-wave --force`` on a
        corrected delivery); these columns are confirmed and their variables taken.

    Returns
    -------
    list of ColumnProposal
        One per raw column, in file order.
    """
    keep = keep or {}
    pats = patterns(codebook)
    variables = {
        v: s for v, s in codebook["variables"].items() if str(s.get("first_wave", "")) <= wave
    }
    names: dict[str, dict[str, list]] = {}
    old_values: dict[str, dict[str, dict[str, str]]] = {}
    for cfg in earlier:
        for raw, spec in (cfg.get("columns") or {}).items():
            entry = names.setdefault(_norm(raw), {}).setdefault(spec["variable"], [])
            entry.append(str(cfg["wave"]))
            vals = {code_key(k): v for k, v in (spec.get("values") or {}).items()}
            old_values.setdefault(_norm(raw), {})[spec["variable"]] = vals
    col_labels = delivery.meta.get("column_labels") or {}
    has_meta = delivery.meta["format"] in ("sav", "dta")
    props, evidence = [], []
    scored: list[tuple[float, int, str]] = []
    for pos, column in enumerate(map(str, delivery.data.columns)):
        label = col_labels.get(column) if has_meta else column
        found, named, fit = _evidence(delivery, column, label, variables, names, pats)
        props.append(ColumnProposal(column, label))
        evidence.append((found, named, fit))
        scored += [(score, -pos, var) for var, (score, _) in found.items() if score >= 40]
    taken: set[str] = set()
    for prop in props:
        if prop.column in keep and keep[prop.column]["variable"] in variables:
            prop.kept = dict(keep[prop.column])
            prop.variable, prop.confirmed = prop.kept["variable"], True
            prop.evidence = "kept from the reviewed mapping (label and codes unchanged)"
            taken.add(prop.variable)
    for _score, neg_pos, var in sorted(scored, reverse=True):
        prop = props[-neg_pos]
        if prop.variable is None and var not in taken:
            prop.variable = var
            taken.add(var)
    naming = {v: sum(v in named for _, named, _ in evidence) for v in variables}
    for prop, (found, named, fit) in zip(props, evidence, strict=True):
        ranked = sorted(found, key=lambda v: -found[v][0])
        if prop.kept is not None:
            _refusals(prop, delivery, variables, pats)
            continue
        if prop.variable is None:
            prop.candidates = [v for v in ranked if found[v][0] >= 40][:3]
            continue
        best = found[prop.variable][0]
        rivals = [v for v in ranked if v != prop.variable and found[v][0] >= best - CLOSE_SECOND]
        prop.candidates = [prop.variable, *rivals[:2]]
        prop.evidence = found[prop.variable][1]
        confident = named == {prop.variable} and naming[prop.variable] == 1 and not rivals
        spec = variables[prop.variable]
        if fit.variable == prop.variable:
            prop.derive, prop.notes = fit.derive, list(fit.notes)
            prop.refusals = list(fit.refusals)
            confident = confident and fit.confident
        elif spec.get("categories"):
            vals, use_labels, notes, ok, refusals = _column_values(
                prop, delivery, spec, old_values, pats
            )
            prop.values, prop.use_labels, prop.notes, prop.refusals = (
                vals,
                use_labels,
                notes,
                refusals,
            )
            confident = confident and ok
        prop.confirmed = confident
    return props


def _column_values(prop, delivery, spec: dict, old_values: dict, pats: Patterns):
    codes, is_num = describe(delivery.data[prop.column])
    vlabels = {
        code_key(k): _label_text(v)
        for k, v in delivery.value_labels.get(prop.column, {}).items()
        if v
    }
    old = old_values.get(_norm(prop.column), {}).get(prop.variable, {})
    return _propose_values(prop.variable, spec, codes, is_num, vlabels, old, pats)


def _refusals(prop: ColumnProposal, delivery: Any, variables: dict, pats: Patterns) -> None:
    """Refusal codes of a kept column (they go into the wave's ``missing_codes``)."""
    labels = delivery.value_labels.get(prop.column, {})
    codes, is_num = describe(delivery.data[prop.column])
    texts = {code_key(k): _label_text(v) for k, v in labels.items() if v}
    if not is_num:
        texts.update({code_key(c): _label_text(c) for c in codes})
    prop.refusals = [
        _typed(k, is_num) for k, t in texts.items() if k and matches_any(pats.refusal, t)
    ]
