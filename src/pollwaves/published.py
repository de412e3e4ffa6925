"""Loader for the REAL published poll toplines: qualifiers, label mapping, selection rule.

:func:`published_main` chains three steps:

1. :func:`load_published` keeps all rows and columns, adds ``row_id`` (1-based data row)
   and parses ``percent`` (:func:`parse_percent`) into ``value, low, high, qualifier``:
   ``27.2``/``27,2`` exact [X, X]; ``>X``/more than/over X ``lower_bound`` [X, 100];
   ``<X``/fewer than/less than X ``upper_bound`` [0, X]; ``almost X`` ``approximate``
   [X-1, X]; ``about X``/``~X`` ``approximate`` [X-1, X+1]; ``a/b`` ``fraction`` 100a/b;
   ``a-b`` ``range`` (midpoint, [a, b]). Anything else (empty, ``n/a``, text, outside
   0-100) is an :class:`InputError`, never NaN.
2. :func:`harmonise_published` maps (question, answer) and the subgroup onto the codebook
   with ``config/published_labels.yaml``; a number valid for several codebook questions
   (``expand_to``) becomes one row each, keeping ``row_id``, with an ``expanded_from`` note.
3. :func:`select_published` puts every row in exactly one of (used, excluded) by this rule
   (also under ``rules:`` in the YAML), applied in order:

   - R1: ``wave_id`` not ``YYYY-MM`` -> ``ambiguous wave attribution``.
   - R2: question not mapped -> ``question not in codebook``; a modelled row whose subgroup
     variable is not mapped -> ``subgroup not in codebook``. Then ``overrides:`` entries
     of the YAML -> ``override: <reason>``.
   - R3: per (wave, question, category, relation, subgroup variable and category) keep the
     best row: contemporaneous before retrospective, not machine-translated before
     machine-translated (both read from ``flag``), then precision exact < fraction <
     approximate < range < bound; then lowest ``row_id``. Others: ``duplicate of row N``
     (same value and interval) or ``superseded by row N (<why>)``, ``superseded_by`` = N.
     Equal rank with a different value is an InputError (settle it with an override).
     Retrospective or wave-inferred rows alone for their key are kept, ``flag`` visible.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from pollwaves.config import load_yaml, validate
from pollwaves.errors import InputError

RAW_COLUMNS = [
    "wave_id",
    "fieldwork_start",
    "fieldwork_end",
    "n_respondents",
    "question",
    "answer",
    "percent",
    "subgroup_variable",
    "subgroup_value",
    "source_url",
    "source_quote",
    "flag",
]
OUTPUT_COLUMNS = [
    "row_id",
    "wave",
    "fieldwork_start",
    "fieldwork_end",
    "n_respondents",
    "question",
    "answer",
    "category",
    "relation",
    "value",
    "low",
    "high",
    "qualifier",
    "subgroup_variable",
    "subgroup_value",
    "source_url",
    "source_quote",
    "flag",
    "published_question",
    "published_subgroup_variable",
    "published_subgroup_value",
    "expanded_from",
    "percent",
]
HARMONISED_COLUMNS = ["canonical_question", "category", "relation"]
HARMONISED_COLUMNS += ["subgroup_canonical_variable", "subgroup_category", "expanded_from"]
R3_KEY = ["wave_id", "canonical_question", "category", "relation"] + HARMONISED_COLUMNS[3:5]
PRECISION = dict(exact=0, fraction=1, approximate=2, range=3, lower_bound=4, upper_bound=4)
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow/schemas/published_labels.schema.yaml"
LABELS_FILE = "config/published_labels.yaml"
LABELS_HINT = f"add it to {LABELS_FILE}"
RENAMES = {
    "wave_id": "wave",
    "question": "published_question",
    "canonical_question": "question",
    "subgroup_variable": "published_subgroup_variable",
    "subgroup_value": "published_subgroup_value",
    "subgroup_canonical_variable": "subgroup_variable",
    "subgroup_category": "subgroup_value",
}
PathLike = str | Path
_NUM = r"(\d+(?:[.,]\d+)?)"
_FORMS = [  # (cell pattern, qualifier, numbers -> (value, low, high)); see module docstring
    (_NUM, "exact", lambda x: (x, x, x)),
    (rf"(?:>|more than|over)\s*{_NUM}", "lower_bound", lambda x: (x, x, 100.0)),
    (rf"(?:<|fewer than|less than)\s*{_NUM}", "upper_bound", lambda x: (x, 0.0, x)),
    (rf"almost\s+{_NUM}", "approximate", lambda x: (x, x - 1, x)),
    (rf"(?:about\s+|~\s*){_NUM}", "approximate", lambda x: (x, x - 1, x + 1)),
    (r"(\d+)\s*/\s*(\d+)", "fraction", lambda a, b: (100 * a / b if b else -1.0,) * 3),
    (rf"{_NUM}\s*[-–]\s*{_NUM}", "range", lambda a, b: ((a + b) / 2, a, b)),
]
_PERCENT_HINT = (
    "write 27.2 or 27,2, '>X'/'more than X'/'over X', '<X'/'fewer than X', 'almost X', "
    "'about X'/'~X', a fraction 'a/b' or a range 'a-b' in 0-100, or remove the row with a note"
)


class PercentValue(NamedTuple):
    """A parsed published percentage: point value, interval and qualifier (percent units)."""

    value: float
    low: float
    high: float
    qualifier: str


def parse_percent(cell: str, *, row: int | None = None, file: str | None = None) -> PercentValue:
    """Parse one published ``percent`` cell (forms and intervals: see the module docstring).

    Any other form, or a share outside 0-100, raises :class:`InputError` naming file,
    column, row and value.

    Parameters
    ----------
    cell : str
        The cell as published, e.g. ``"27,2"``, ``">41"``, ``"almost 42"``, ``"1/4"``.
    row, file : optional
        1-based data row and file name, for the error message.

    Returns
    -------
    PercentValue
        ``value, low, high`` in percent (interval clipped to [0, 100]) and ``qualifier``.
    """

    def fail(problem: str) -> InputError:
        kw = {"file": file, "column": "percent", "row": row, "value": cell}
        return InputError(f"percent cell {problem}", hint=_PERCENT_HINT, **kw)

    text = " ".join(cell.strip().lower().split()) if isinstance(cell, str) else ""
    for pattern, qualifier, bounds in _FORMS:
        if match := re.fullmatch(pattern, text):
            value, low, high = bounds(*(float(g.replace(",", ".")) for g in match.groups()))
            out = PercentValue(value, max(low, 0.0), min(high, 100.0), qualifier)
            if not 0.0 <= out.low <= out.value <= out.high <= 100.0:
                raise fail("is not a share in 0-100 (or a/b with b = 0, or a reversed range)")
            return out
    raise fail("is not a number or a known qualifier")


def load_published(path: PathLike) -> pd.DataFrame:
    """Read the published toplines CSV (UTF-8) and parse its ``percent`` column.

    An unreadable file, a missing column, an empty required cell (wave_id, question,
    answer, source_url), a non-integer ``n_respondents`` or a bad ``percent`` cell raises
    :class:`InputError`.

    Parameters
    ----------
    path : str or Path
        CSV with the columns of ``data/raw/published/toplines.csv``.

    Returns
    -------
    pandas.DataFrame
        Every row and original column, text verbatim (empty cells NA, ``n_respondents``
        Int64), plus ``row_id`` (first column) and ``value, low, high, qualifier``.
    """
    file = str(path)
    try:
        kw = {"dtype": str, "encoding": "utf-8-sig", "keep_default_na": False}
        df = pd.read_csv(path, na_values=[""], **kw)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=file, hint="give a UTF-8 CSV") from exc
    for col in RAW_COLUMNS:
        if col not in df.columns:
            hint = f"the header must contain {', '.join(RAW_COLUMNS)}"
            raise InputError("required column is missing", file=file, column=col, hint=hint)
    df.insert(0, "row_id", pd.array(range(1, len(df) + 1), dtype="Int64"))
    for col in ("wave_id", "question", "answer", "source_url", "n_respondents"):
        bad = df[col].isna() if col != "n_respondents" else ~df[col].str.fullmatch(r"\d*", na=True)
        if bad.any():
            row, value = int(df.loc[bad, "row_id"].iloc[0]), df.loc[bad, col].iloc[0]
            hint = "every number needs a wave, question, answer, source URL; N is digits or empty"
            kw = {"file": file, "column": col, "row": row, "value": value, "hint": hint}
            raise InputError("required cell is empty or malformed", **kw)
    df["n_respondents"] = df["n_respondents"].astype("Int64")
    fields, cells = list(PercentValue._fields), enumerate(df["percent"].fillna(""), start=1)
    parsed = [parse_percent(c, row=i, file=file) for i, c in cells]
    df[fields] = pd.DataFrame(parsed, index=df.index, columns=fields)
    return df


#: Two rows with the same values here are duplicates (rejected on load and by add-published).
def _targets(spec: dict) -> list[str]:
    return list(spec["expand_to"]) if "expand_to" in spec else [spec["canonical"]]


def _check_codebook(labels: dict, codebook_path: Path, file: str) -> None:
    """Every canonical name and category id of ``labels`` must exist in the codebook."""
    variables = (load_yaml(codebook_path) or {}).get("variables", {})
    items = []  # (key path, codebook variable, kind, {key path: category id})
    for q, spec in labels["questions"].items():
        cats = {f"questions.{q}.answers.{a}": e["category"] for a, e in spec["answers"].items()}
        key = f"questions.{q}.{'expand_to' if 'expand_to' in spec else 'canonical'}"
        items += [(key, t, "question", cats) for t in _targets(spec)]
    for v, spec in labels["subgroups"].items():
        cats = {f"subgroups.{v}.values.{k}": c for k, c in spec["values"].items()}
        items.append((f"subgroups.{v}.canonical", spec["canonical"], "demographic", cats))
    for key, name, kind, cats in items:
        var = variables.get(name) if isinstance(variables.get(name), dict) else {}
        known = var.get("categories") or {}
        bad = [(k, c) for k, cs in cats.items() for c in cs.split("+") if c not in known]
        if var.get("kind") != kind or bad:
            key, value = (key, name) if var.get("kind") != kind else bad[0]
            hint = f"use a codebook {kind} and its category ids ({codebook_path})"
            msg = f"not a codebook {kind} or not one of its categories"
            raise InputError(msg, file=file, key=key, value=value, hint=hint)


def load_published_labels(
    path: PathLike, *, schema_path: PathLike | None = None, codebook_path: PathLike | None = None
) -> dict:
    """Load ``config/published_labels.yaml``; validate it (Draft 2020-12, pollwaves.config).

    Bad YAML, a duplicate key, a schema violation or (with ``codebook_path``) a name unknown
    to the codebook raises :class:`InputError` naming the key path.

    Parameters
    ----------
    path : str or Path
        The label mapping file.
    schema_path, codebook_path : str or Path, optional
        Schema (default ``workflow/schemas/published_labels.schema.yaml``); if a codebook
        is given, every canonical name and category id must exist in it.

    Returns
    -------
    dict
        The validated mapping (``schema_version, rules, questions, subgroups, overrides``).
    """
    labels = load_yaml(path)
    validate(labels, schema_path or SCHEMA_PATH, source=str(path))
    if codebook_path is not None:
        _check_codebook(labels, Path(codebook_path), str(path))
    return labels


def harmonise_published(df: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """Map published questions, answers and subgroups onto the codebook.

    An unmapped answer or subgroup value of a modelled question raises :class:`InputError`
    naming wave, row and value.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`load_published`.
    labels : dict
        Output of :func:`load_published_labels`.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``canonical_question, category, relation, subgroup_canonical_variable,
        subgroup_category, expanded_from`` (NA for unmapped questions); ``expand_to`` rows
        are repeated once per target question, keeping ``row_id``.
    """
    questions, subgroups = labels["questions"], labels.get("subgroups") or {}
    canonical_names = {t for spec in questions.values() for t in _targets(spec)}
    values: list[list] = []
    for rec in df.to_dict("records"):
        q, answer, raw_var, raw_val = (rec[c] for c in ("question", "answer", *RAW_COLUMNS[7:9]))
        kw = {"wave": rec["wave_id"], "row": int(rec["row_id"])}
        spec = questions.get(q)
        if spec is None:
            if q in canonical_names:  # e.g. a future `attitude_eu` row: never drop it silently
                raise InputError("codebook question not mapped", value=q, hint=LABELS_HINT, **kw)
            values.append([[pd.NA]] + [pd.NA] * 5)
            continue
        ans = spec["answers"].get(str(answer).strip())
        if ans is None:
            hint, msg = f"{LABELS_HINT} under questions.{q}.answers", "answer label not mapped"
            raise InputError(msg, column="answer", value=answer, hint=hint, **kw)
        sub_var = subgroups[raw_var]["canonical"] if raw_var in subgroups else pd.NA
        sub_cat = subgroups[raw_var]["values"].get(raw_val) if raw_var in subgroups else pd.NA
        if sub_cat is None:
            hint, msg = f"{LABELS_HINT} under subgroups.{raw_var}.values", "subgroup not mapped"
            raise InputError(msg, column="subgroup_value", value=raw_val, hint=hint, **kw)
        note = f"{q} (row {kw['row']}): {spec['expand_note']}" if "expand_to" in spec else pd.NA
        values.append([_targets(spec), ans["category"], ans["relation"], sub_var, sub_cat, note])
    out = df.copy()
    for j, name in enumerate(HARMONISED_COLUMNS):
        out[name] = [v[j] for v in values]
    out = out.explode("canonical_question", ignore_index=True)
    return out.astype(dict.fromkeys(HARMONISED_COLUMNS, "str"))


def _rank(row: pd.Series) -> tuple[bool, bool, int]:
    flag = str(row["flag"]).lower() if pd.notna(row["flag"]) else ""
    return ("retrospective" in flag, "machine-translated" in flag, PRECISION[row["qualifier"]])


def _why(loser: pd.Series, winner: pd.Series) -> str:
    whys = (
        f"retrospective citation; row {winner['row_id']} is contemporaneous",
        f"machine-translated; row {winner['row_id']} is not",
        f"{loser['qualifier']} is less precise than {winner['qualifier']}",
    )
    return next(w for w, a, b in zip(whys, _rank(loser), _rank(winner), strict=True) if a != b)


def _output(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns=RENAMES)
    columns = OUTPUT_COLUMNS + [c for c in ("reason", "superseded_by") if c in out.columns]
    return out[columns].sort_values("row_id", kind="stable").reset_index(drop=True)


def select_published(
    df: pd.DataFrame, overrides: list[dict] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split harmonised published rows into (used, excluded) by the module docstring's rule.

    An override naming no row, or an R3 tie between different values, raises InputError.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`harmonise_published`.
    overrides : list of dict, optional
        The label file's ``overrides`` (``row_id, action, reason[, canonical_question]``).

    Returns
    -------
    used, excluded : pandas.DataFrame
        "Published (processed)" columns of docs/architecture.md (``question``, subgroup
        canonical) plus ``published_question, published_subgroup_variable/_value,
        expanded_from, percent`` (as published); excluded adds ``reason, superseded_by``.
    """
    df = df.reset_index(drop=True)
    reason = pd.Series(pd.NA, index=df.index, dtype="object")
    superseded = pd.Series(pd.NA, index=df.index, dtype="Int64")
    wave_ok = df["wave_id"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", na=False).astype(bool)
    reason[~wave_ok] = "ambiguous wave attribution"
    reason[wave_ok & df["canonical_question"].isna()] = "question not in codebook"
    bad_sub = df["subgroup_variable"].notna() & df["subgroup_canonical_variable"].isna()
    reason[reason.isna() & bad_sub] = "subgroup not in codebook"
    for ov in overrides or []:
        hit = df["row_id"] == ov["row_id"]
        if ov.get("canonical_question") is not None:
            hit &= df["canonical_question"] == ov["canonical_question"]
        if not hit.any():
            hint = f"fix or delete the entry in {LABELS_FILE}"
            raise InputError("override names no row", key="overrides", row=ov["row_id"], hint=hint)
        reason[hit & reason.isna()] = f"override: {ov['reason']}"
    for _, group in df[reason.isna()].groupby(R3_KEY, dropna=False, sort=False):
        ranked = sorted(group.index, key=lambda i: (_rank(df.loc[i]), df.at[i, "row_id"]))
        top = df.loc[ranked[0]]
        for i in ranked[1:]:
            row = df.loc[i]
            if all(row[c] == top[c] for c in ("value", "low", "high")):
                reason[i] = f"duplicate of row {top['row_id']}"
            elif _rank(row) == _rank(top):
                a, b, what = top["row_id"], row["row_id"], top[R3_KEY[1:4]].tolist()
                msg = f"rows {a} and {b} rank equally but disagree on {what}"
                ovr = f"overrides: [{{row_id: {b}, action: exclude, reason: ...}}]"
                hint = f"trust one source: add `{ovr}` (or row {a}) to {LABELS_FILE}"
                kw = {"wave": top["wave_id"], "row": int(b), "hint": hint}
                raise InputError(msg, value=f"{top['percent']} vs {row['percent']}", **kw)
            else:
                reason[i] = f"superseded by row {top['row_id']} ({_why(row, top)})"
            superseded[i] = top["row_id"]
    out = reason.notna()
    excluded = df[out].assign(reason=reason[out].astype("str"), superseded_by=superseded[out])
    return _output(df[~out]), _output(excluded)


def published_main(
    toplines_path: PathLike, labels_path: PathLike, *, codebook_path: PathLike | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load, validate, harmonise and select the published toplines in one call.

    Rows are validated with :func:`published_row_problems` (also used by
    :func:`add_published`), so rows appended by hand fail the same way.

    Parameters
    ----------
    toplines_path, labels_path : str or Path
        ``data/raw/published/toplines.csv`` and ``config/published_labels.yaml``.
    codebook_path : str or Path, optional
        Codebook to check the labels against; default ``codebook.yaml`` beside the labels.

    Returns
    -------
    used, excluded : pandas.DataFrame
        See :func:`select_published`.
    """
    from pollwaves.published_rows import _raise_all, published_row_problems

    codebook = Path(codebook_path or Path(labels_path).with_name("codebook.yaml"))
    labels = load_published_labels(labels_path, codebook_path=codebook)
    raw = load_published(toplines_path)
    hint = "fix the listed rows (`pollwaves add-published` checks new rows the same way)"
    _raise_all(
        published_row_problems(raw, labels, file=str(toplines_path)), str(toplines_path), hint
    )
    df = harmonise_published(raw, labels)
    return select_published(df, overrides=labels.get("overrides"))
