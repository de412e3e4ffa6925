"""The REAL published toplines: from the raw CSV to used and excluded rows.

:func:`published_main` chains three steps:

1. :func:`pollwaves.published.parse.load_published` keeps all rows and columns, adds
   ``row_id`` (1-based data row) and parses ``percent`` into ``value, low, high,
   qualifier`` (forms: :mod:`pollwaves.published.parse`).
2. :func:`pollwaves.published.labels.harmonise_published` maps (question, answer) and the
   subgroup onto the codebook with ``config/published_labels.yaml``.
3. :func:`select_published` puts every row in exactly one of (used, excluded) by this rule
   (also under ``rules:`` in the YAML), applied in order:

   - R1: ``wave_id`` not ``YYYY-MM`` -> ``ambiguous wave attribution``, except a pooled
     report of two surveys of one year, ``YYYY-MM/MM`` (e.g. ``2025-08/11``), whose
     ``fieldwork_start`` and ``fieldwork_end`` fall in exactly those two months: it is placed
     at its last survey month (``wave`` = ``2025-11``; ``published_wave`` keeps the id,
     the fieldwork dates keep the span).
   - R2: question not mapped -> ``question not in codebook``; a modelled row whose subgroup
     variable is not mapped -> ``subgroup not in codebook``. Then ``overrides:`` entries
     of the YAML -> ``override: <reason>``.
   - R3: per (wave, question, category, relation, subgroup variable and category) keep the
     best row: contemporaneous before retrospective, not machine-translated before
     machine-translated (both read from ``flag``), then precision exact < fraction <
     approximate < range < bound; then lowest ``row_id``. Others: ``duplicate of row N``
     (same value and interval) or ``superseded by row N (<why>)``, ``superseded_by`` = N.
     Equal rank with a different value is an InputError (settle it with an override).
     R4: a flagged row (retrospective, wave-inferred, from a source not confirmed
     independently, ...) alone for its key is kept, ``flag`` visible.

``shown_as`` is how the number must be printed for its category: ``≥x`` for a lower bound
or a part (``part_of``), ``≤x`` for an upper bound, ``a–b`` for a range, ``~x`` for an
approximate value, ``x`` otherwise. ``value`` of a bound is the bound, never an estimate.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pollwaves.errors import InputError
from pollwaves.published.labels import (
    HARMONISED_COLUMNS,
    LABELS_FILE,
    harmonise_published,
    load_published_labels,
)
from pollwaves.published.parse import PRECISION, PathLike, load_published
from pollwaves.published.rows import _raise_all, published_row_problems

OUTPUT_COLUMNS = [
    "row_id",
    "wave",
    "fieldwork_start",
    "fieldwork_end",
    "n_respondents",
    "n_qualifier",
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
    "published_wave",
    "n_published",
    "mapping_note",
    "shown_as",
]
_POOLED = r"(\d{4})-(0[1-9]|1[0-2])/(0[1-9]|1[0-2])"
R3_KEY = ["wave_id", "canonical_question", "category", "relation"] + HARMONISED_COLUMNS[3:5]
RENAMES = {
    "wave_id": "wave",
    "question": "published_question",
    "canonical_question": "question",
    "subgroup_variable": "published_subgroup_variable",
    "subgroup_value": "published_subgroup_value",
    "subgroup_canonical_variable": "subgroup_variable",
    "subgroup_category": "subgroup_value",
}


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


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def shown_as(qualifier: str, relation: str, value: float, low: float, high: float) -> str:
    """How a published number is printed for its category (module docstring): never a
    bound as a point."""
    if qualifier == "lower_bound" or relation == "part_of":
        return f"≥{_fmt(low)}"
    if qualifier == "upper_bound":
        return f"≤{_fmt(high)}"
    if qualifier == "range":
        return f"{_fmt(low)}–{_fmt(high)}"
    return f"~{_fmt(value)}" if qualifier == "approximate" else _fmt(value)


def _pooled_wave(rec: pd.Series) -> str | None:
    """Last month of a pooled report ``YYYY-MM/MM`` whose fieldwork spans those months."""
    m = re.fullmatch(_POOLED, str(rec["wave_id"]))
    if m is None or m[2] >= m[3]:
        return None
    start, end = (
        str(rec[c]) if pd.notna(rec[c]) else "" for c in ("fieldwork_start", "fieldwork_end")
    )
    ok = start.startswith(f"{m[1]}-{m[2]}") and end.startswith(f"{m[1]}-{m[3]}")
    return f"{m[1]}-{m[3]}" if ok else None


def _output(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["qualifier", "relation", "value", "low", "high"]
    shown = [shown_as(*r) for r in df[cols].itertuples(index=False, name=None)]
    df = df.assign(published_wave=df["wave_id"], shown_as=pd.array(shown, dtype="str"))
    pooled = df["pooled_wave"].notna()
    df.loc[pooled, "wave_id"] = df.loc[pooled, "pooled_wave"]
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
        expanded_from, percent, published_wave, n_published, mapping_note, shown_as`` (as
        published, and the printed form); excluded adds ``reason, superseded_by``.
    """
    df = df.reset_index(drop=True)
    reason = pd.Series(pd.NA, index=df.index, dtype="object")
    superseded = pd.Series(pd.NA, index=df.index, dtype="Int64")
    df["pooled_wave"] = pd.array([_pooled_wave(r) for _, r in df.iterrows()], dtype="str")
    wave_ok = df["wave_id"].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", na=False).astype(bool)
    reason[~wave_ok & df["pooled_wave"].isna()] = "ambiguous wave attribution"
    wave_ok |= df["pooled_wave"].notna()
    key_wave = df["pooled_wave"].fillna(df["wave_id"])
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
    keyed = df.assign(wave_id=key_wave)[reason.isna()]
    for _, group in keyed.groupby(R3_KEY, dropna=False, sort=False):
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
    codebook = Path(codebook_path or Path(labels_path).with_name("codebook.yaml"))
    labels = load_published_labels(labels_path, codebook_path=codebook)
    raw = load_published(toplines_path)
    hint = "fix the listed rows (`pollwaves add-published` checks new rows the same way)"
    _raise_all(
        published_row_problems(raw, labels, file=str(toplines_path)), str(toplines_path), hint
    )
    df = harmonise_published(raw, labels)
    return select_published(df, overrides=labels.get("overrides"))
