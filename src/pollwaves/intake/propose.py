"""Propose a codebook mapping for a new delivery (used by ``pollwaves add-wave``).

Evidence, strongest first (scores in brackets; a value-label fit adds 15):

* the column's variable label (sav/dta; the header for csv/xlsx/parquet) equals a codebook
  ``label`` (ru or en, ignoring case, punctuation and ё/е) [100];
* the label matches one of :data:`LABEL_PATTERNS` (extra Russian/Belarusian/English
  patterns kept here, not in the codebook) [80];
* the raw column name or label was mapped in an earlier wave (``config/waves/*.yaml``) [70,
  or 50 when earlier waves disagree] or is the canonical variable name [75];
* the label is similar to a codebook label (difflib ratio >= 0.75) [60 x ratio];
* only the value labels fit the categories of a variable [40];
* ``resp_id`` / ``duration_sec`` by name and content (unique values / numbers) [60 / 55].

Answer codes are mapped by their value label (cell text for csv/xlsx) with the codebook
category patterns, then :data:`CATEGORY_PATTERNS`; refusals (:data:`REFUSAL`) become
missing, "don't know" (:data:`DONT_KNOW`) is ``hard_to_say`` where the variable has it and
missing otherwise; unlabelled 98/99 follow the study convention (hard to say / refusal).
A column is ``confirmed`` only with an exact label match and every code matched by the
codebook patterns or as a labelled refusal; everything else is ``needs review``.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pollwaves.config import code_key

__all__ = ["CATEGORY_PATTERNS", "LABEL_PATTERNS", "ColumnProposal", "describe", "propose"]

#: Extra variable-label patterns (matched on lower-case text with ё -> е).
LABEL_PATTERNS: dict[str, list[str]] = {
    "resp_id": [r"\b(id|respondent id)\b", r"номер анкеты", r"нумар анкеты"],
    "duration_sec": [r"длительн", r"время (заполнения|интервью)", r"працягласц", r"duration"],
    "sex": [r"^пол\b", r"^(sex|gender)\b"],
    "age_group": [r"возраст", r"узрост", r"\bage\b"],
    "education": [r"образовани", r"адукацы", r"education"],
    "settlement": [r"населенн\w* пункт", r"населенага пункта", r"тип поселени", r"settlement"],
    "oblast": [r"област", r"вобласц", r"регион", r"рэгіён", r"\b(region|oblast)\b"],
    "media_diet": [r"источник\w* информаци", r"крыніц\w* інфармацы", r"\bmedia\b"],
    "authorities": [r"отношени\w* к власти", r"стаўленн\w* да ўлад", r"authorities"],
    "war_support": [r"военн\w* действи", r"вайсков\w* дзеянн", r"поддерж\w* войн", r"\bwar\b"],
    "alliance": [r"(союз|саюз)\w*.*беларус", r"беларус\w*.*(союз|саюз)", r"\b(union|alliance)\b"],
    "belarus_army_participation": [r"(белорусск|беларуск)\w* арм", r"belarus\w* army"],
}
_ATTITUDE = r"(относитесь|отношени\w*|ставіцеся|стаўленн\w*|attitude)\s+(к|да|to( the)?)\s+"
for _var, _names in {
    "attitude_russia": r"(росси|расі|russia)",
    "attitude_ukraine": r"(украин|украін|ukraine)",
    "attitude_poland": r"(польш|польшч|poland)",
    "attitude_eu": r"(европейск\w* союз|евросоюз|еўрапейск\w* саюз|еўрасаюз|ес\b|eu\b|european)",
    "attitude_usa": r"(сша|зша|usa|united states)",
}.items():
    LABEL_PATTERNS[_var] = [_ATTITUDE + _names]

_HTS = [r"^цяжка", r"^не ведаю", r"^трудно (сказать|ответить)", r"^не знаю"]
#: Extra answer-label patterns per variable and category (Belarusian and variants).
CATEGORY_PATTERNS: dict[str, dict[str, list[str]]] = {
    "sex": {"male": [r"^мужчын", r"^м$"], "female": [r"^жанчын", r"^ж$"]},
    "age_group": {"55_plus": [r"^55\D*(старше|старэй|older|plus|больше)"]},
    "education": {
        "secondary": [r"^базав", r"^агульн\w* сярэдн"],
        "vocational": [r"^прафесійна", r"спецыяльн"],
        "higher": [r"^(незакончан\w* )?вышэйш"],
    },
    "settlement": {
        "minsk": [r"^(г\.? ?)?мінск$"],
        "oblast_centre": [r"^абласн"],
        "other_town": [r"^(іншы|раённы|малы) (горад|цэнтр)"],
    },
    "oblast": {
        "minsk_city": [r"^(г\.? ?)?мінск$"],
        "brest": [r"^брэсц"],
        "vitebsk": [r"^віцеб"],
        "gomel": [r"^гомел"],
        "grodno": [r"^гродз"],
        "minsk_region": [r"^мінская"],
        "mogilev": [r"^магіл"],
    },
    "media_diet": {
        "state_only": [r"^толькі дзяржаўн"],
        "independent_only": [r"^толькі незалежн"],
        "both": [r"^і дзяржаўн"],
        "inactive": [r"^неактыўн"],
    },
    "authorities": {
        "supporter": [r"^падтрымлівае ўладу"],
        "neutral": [r"^нейтральн"],
        "opponent": [r"^супраць улады"],
    },
    "war_support": {
        "support": [r"^(цалкам |хутчэй )?падтрымліваю"],
        "partly": [r"^часткова"],
        "oppose": [r"^(хутчэй |зусім )?не падтрымліваю"],
        "hard_to_say": _HTS,
    },
    "alliance": {
        "russia": [r"^саюз з расіяй$"],
        "eu": [r"^саюз з (ес|еўрасаюзам)$"],
        "both": [r"^саюз і з расіяй"],
        "outside": [r"^па-?за"],
        "hard_to_say": _HTS,
    },
    "belarus_army_participation": {
        "yes": [r"^так"],
        "no": [r"^не,? (павінна|должна)", r"^не$"],
        "hard_to_say": _HTS,
    },
}
for _var in ("attitude_russia", "attitude_ukraine", "attitude_poland", "attitude_eu"):
    CATEGORY_PATTERNS[_var] = {
        "good": [r"^(вельмі |хутчэй )?добр", r"^(хутчэй )?станоўч"],
        "bad": [r"^(вельмі |хутчэй )?дрэнн", r"^(хутчэй )?адмоўн"],
        "hard_to_say": _HTS,
    }
CATEGORY_PATTERNS["attitude_usa"] = CATEGORY_PATTERNS["attitude_russia"]
#: Labels meaning refusal (-> missing) and "don't know" (-> hard_to_say or missing).
REFUSAL = [r"^отказ", r"^refus", r"^адмов", r"^не хочу отвечать", r"^prefer not", r"^no answer"]
DONT_KNOW = [r"^затрудняюсь", r"^hard to say", r"^don'?t know", *_HTS]
_ID_NAME = re.compile(r"(^|[\s_])(id|resp\w*|anketa\w*|nr|номер\w*|нумар\w*)($|[\s_])", re.I)
_DUR_NAME = re.compile(r"dur|time|len|sec|сек|длит|врем|час", re.I)


def _norm(text: Any) -> str:
    """Lower-case text without punctuation, ``_`` or ё (for comparing labels and names)."""
    text = unicodedata.normalize("NFC", str(text)).lower().replace("ё", "е")
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def _label_text(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


def _any(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


@dataclass
class ColumnProposal:
    """The proposal for one raw column (``variable`` None = unmapped)."""

    column: str
    label: str | None
    variable: str | None = None
    candidates: list[str] = field(default_factory=list)
    evidence: str = ""
    confirmed: bool = False
    values: dict[Any, str | None] | None = None
    use_labels: bool = False
    notes: list[str] = field(default_factory=list)
    refusals: list[Any] = field(default_factory=list)


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
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    seen = pd.Series(series.dropna().tolist(), dtype=object).drop_duplicates().tolist()
    return seen, numeric


def _typed(key: str, numeric: bool) -> Any:
    """A raw code as written in the YAML: ints for integral numeric codes, else text."""
    if numeric:
        number = float(key)
        return int(number) if number.is_integer() else number
    return key


def _categories(var: str, spec: dict, text: str) -> tuple[list[str], list[str]]:
    """Categories whose codebook patterns match ``text``, and those matching extra patterns."""
    cats = spec.get("categories") or {}
    book = [c for c, cs in cats.items() if _any(cs["patterns"], text)]
    extra_text = text.lower().replace("ё", "е")
    more = CATEGORY_PATTERNS.get(var, {})
    extra = [c for c, pats in more.items() if c in cats and _any(pats, extra_text)]
    return book, extra


def _fits(var: str, spec: dict, texts: list[str]) -> bool:
    """Whether most (>= 60%) substantive labels of a column are categories of ``var``."""
    texts = [t for t in texts if not _any(REFUSAL + DONT_KNOW, t)]
    hits = []
    for text in texts:
        book, extra = _categories(var, spec, text)
        if len(set(book or extra)) > 1:
            return False
        hits += list(set(book or extra))
    return len(set(hits)) >= 2 and len(hits) >= 0.6 * len(texts)


def _propose_values(
    var: str, spec: dict, codes: list[Any], numeric: bool, labels: dict[str, str], earlier: dict
) -> tuple[dict[Any, str | None], bool, list[str], bool, list[Any]]:
    """Raw code -> category for one column: (values, labels-ok, notes, exact, refusals)."""
    cats = spec.get("categories") or {}
    keys = list(dict.fromkeys([k for k in (code_key(c) for c in codes) if k] + list(labels)))
    if numeric:
        keys.sort(key=float)
    values: dict[Any, str | None] = {}
    notes, refusals, exact, by_book = [], [], True, True
    for key in keys:
        text = _label_text(labels.get(key, "" if numeric else key))
        code = _typed(key, numeric)
        shown = f"{key} {text!r}" if text and text != key else f"{key!r}"
        book, extra = _categories(var, spec, text) if text else ([], [])
        if text and _any(REFUSAL, text):
            refusals.append(code)
            notes.append(f"{shown} -> missing (refusal)")
        elif len(set(book)) == 1:
            values[code] = book[0]
            notes.append(f"{shown} -> {book[0]}")
        elif len(set(extra)) == 1 and not book:
            values[code], exact, by_book = extra[0], False, False
            notes.append(f"{shown} -> {extra[0]} (extra pattern; check)")
        elif text and _any(DONT_KNOW, text) and "hard_to_say" not in cats:
            values[code], by_book = None, False
            notes.append(f"{shown} -> null (missing: {var} has no hard_to_say; check)")
        elif not text and key in ("98", "99") and numeric:
            cat = "hard_to_say" if key == "98" and "hard_to_say" in cats else None
            values[code], exact, by_book = cat, False, False
            notes.append(f"{shown} (no label) -> {cat or 'null'} by the 98/99 convention; check")
        elif not text and key in earlier:
            values[code], exact, by_book = earlier[key], False, False
            notes.append(f"{shown} (no label) -> {earlier[key]} as in an earlier wave; check")
        else:
            exact, by_book = False, False
            why = f"matches several categories ({', '.join(book)})" if book else "no match"
            notes.append(
                f"{shown} -> NOT MAPPED ({why}): add `{key}: <category>` "
                f"({', '.join(cats)}; null = missing)"
            )
    use_labels = bool(not numeric and not labels and by_book and keys)
    return values, use_labels, notes, exact, refusals


def _label_evidence(
    column: str, label: str | None, variables: dict, earlier_names: dict[str, dict[str, list]]
) -> dict[str, tuple[float, str]]:
    """Variable -> (score, reason) from the column's label and name."""
    found: dict[str, tuple[float, str]] = {}

    def add(var: str, score: float, why: str) -> None:
        if var in variables and score > found.get(var, (0.0, ""))[0]:
            found[var] = (score, why)

    texts = [t for t in dict.fromkeys([label, column]) if t]
    for var, spec in variables.items():
        book = {_norm(spec["label"]["ru"]), _norm(spec["label"]["en"])}
        if label and _norm(label) in book:
            add(var, 100, "label equals the codebook label")
        for text in texts:
            low = str(text).lower().replace("ё", "е")
            if _any(LABEL_PATTERNS.get(var, []), low):
                add(var, 80, f"{text!r} matches an add-wave label pattern")
            if _norm(text) == _norm(var):
                add(var, 75, "raw name is the canonical variable name")
            ratio = max(difflib.SequenceMatcher(None, _norm(text), b).ratio() for b in book)
            if ratio >= 0.75:
                add(var, 60 * ratio, f"{text!r} is similar to the codebook label")
    for text in texts:
        for var, waves in earlier_names.get(_norm(text), {}).items():
            score = 70 if len(earlier_names[_norm(text)]) == 1 else 50
            add(var, score, f"{text!r} was mapped to {var} in wave(s) {', '.join(waves)}")
    return found


def propose(delivery: Any, codebook: dict, earlier: list[dict], wave: str) -> list[ColumnProposal]:
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

    Returns
    -------
    list of ColumnProposal
        One per raw column, in file order.
    """
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
    scored: list[tuple[float, int, str]] = []
    props, evidence = [], []
    for pos, column in enumerate(map(str, delivery.data.columns)):
        has_meta = delivery.meta["format"] in ("sav", "dta")
        label = col_labels.get(column) if has_meta else column
        codes, numeric = describe(delivery.data[column])
        vlabels = {code_key(k): v for k, v in delivery.value_labels.get(column, {}).items() if v}
        found = _label_evidence(column, label, variables, names)
        texts = list(vlabels.values()) if vlabels else [] if numeric else codes[:40]
        for var, spec in variables.items():
            if not spec.get("categories"):
                continue
            if _fits(var, spec, [_label_text(t) for t in texts]):
                score, why = found.get(var, (25.0, "value labels are its categories"))
                found[var] = (score + 15, why + "; value labels fit")
            elif var in found and (len(codes) > 30 and not vlabels):
                del found[var]  # continuous values cannot be a categorical variable
        n = len(delivery.data)
        unique = len(codes) == n and delivery.data[column].notna().all()
        for text in (column, label or ""):
            if unique and not vlabels and _ID_NAME.search(text):
                found.setdefault("resp_id", (60, "unique values; name looks like an id"))
            if numeric and not vlabels and len(codes) > 30 and _DUR_NAME.search(text):
                found.setdefault("duration_sec", (55, "numbers; name looks like a duration"))
        for var in ("resp_id", "duration_sec"):
            if var in found and ((var == "resp_id" and not unique) or vlabels):
                del found[var]
        props.append(ColumnProposal(column, label))
        evidence.append(found)
        scored += [(score, -pos, var) for var, (score, _) in found.items() if score >= 40]
    taken: set[str] = set()
    for _score, neg_pos, var in sorted(scored, reverse=True):
        prop = props[-neg_pos]
        if prop.variable is None and var not in taken:
            prop.variable = var
            taken.add(var)
    exact_count = {v: sum(e.get(v, (0,))[0] >= 100 for e in evidence) for v in variables}
    for prop, found, column in zip(props, evidence, delivery.data.columns, strict=True):
        ranked = sorted(found, key=lambda v: -found[v][0])
        if prop.variable is None:
            prop.candidates = [v for v in ranked if found[v][0] >= 40][:3]
            continue
        best = found[prop.variable][0]
        prop.candidates = [prop.variable] + [
            v for v in ranked if v != prop.variable and found[v][0] >= best - 25
        ][:2]
        prop.evidence = found[prop.variable][1]
        spec = variables[prop.variable]
        exact = best >= 100 and exact_count[prop.variable] == 1
        if spec.get("categories"):
            codes, numeric = describe(delivery.data[column])
            vlabels = {
                code_key(k): _label_text(v)
                for k, v in delivery.value_labels.get(str(column), {}).items()
                if v
            }
            old = old_values.get(_norm(column), {}).get(prop.variable, {})
            vals, use_labels, notes, ok, refusals = _propose_values(
                prop.variable, spec, codes, numeric, vlabels, old
            )
            prop.values, prop.use_labels, prop.notes = vals, use_labels, notes
            prop.refusals = refusals
            exact = exact and ok
        prop.confirmed = exact
    return props
