"""Validation of published-topline rows, and ``pollwaves add-published``.

Rows appended to ``data/raw/published/toplines.csv`` (by hand or with
:func:`add_published`) are checked the same way on load (:func:`pollwaves.published.select.
published_main`): required cells, a parseable percent, an http(s) source URL, known answer
and subgroup labels for modelled questions, and no duplicates. Every problem is reported at
once.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pandas as pd

from pollwaves.errors import InputError
from pollwaves.files import atomic_write
from pollwaves.published.labels import LABELS_HINT, _targets, load_published_labels
from pollwaves.published.parse import (
    RAW_COLUMNS,
    WAVE_ID_HINT,
    PathLike,
    parse_n,
    parse_percent,
    wave_id_problem,
)

__all__ = ["DUPLICATE_KEY", "add_published", "published_row_problems"]


DUPLICATE_KEY = [
    "wave_id",
    "question",
    "answer",
    "subgroup_variable",
    "subgroup_value",
    "source_url",
]
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?")
_REQUIRED = ("wave_id", "question", "answer", "percent", "source_url")


def published_row_problems(
    df: pd.DataFrame,
    labels: dict,
    *,
    file: str,
    existing: pd.DataFrame | None = None,
    existing_file: str | None = None,
) -> list[InputError]:
    """Every problem of raw published rows, collected (not raised).

    Per row: a required cell (wave_id, question, answer, percent, source_url) empty;
    ``n_respondents`` not a sample size (:func:`parse_n`: digits, ``>700``, ``755 or 767``,
    ``about 800`` or empty); ``percent`` not parseable (:func:`parse_percent`);
    ``source_url`` not an http(s) URL; for a modelled question (``labels``) an unknown
    answer label or subgroup value, or a codebook question that is not mapped; a duplicate
    (same :data:`DUPLICATE_KEY`) of an earlier row or of a row of ``existing``.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with the columns of ``data/raw/published/toplines.csv`` (extra columns ignored).
    labels : dict
        Output of :func:`load_published_labels`.
    file : str
        Name of the file ``df`` came from (rows are numbered 1.. in it).
    existing, existing_file : optional
        Rows already in the toplines file, and its name, for the duplicate check.

    Returns
    -------
    list of InputError
        One per problem, each naming file, row, column, value and the fix.
    """
    questions, subgroups = labels["questions"], labels.get("subgroups") or {}
    canonical_names = {t for spec in questions.values() for t in _targets(spec)}
    text = df.reindex(columns=RAW_COLUMNS).astype("string").fillna("")
    seen: dict[tuple, str] = {}
    if existing is not None:
        old = existing.reindex(columns=DUPLICATE_KEY).astype("string").fillna("")
        for i, key in enumerate(old.itertuples(index=False, name=None), start=1):
            seen.setdefault(key, f"row {i} of {existing_file}")
    problems: list[InputError] = []
    for i, rec in enumerate(text.to_dict("records"), start=1):

        def add(problem: str, column: str, hint: str, rec: dict = rec, i: int = i) -> None:
            kw = {"wave": rec["wave_id"] or None, "file": file, "row": i, "column": column}
            problems.append(InputError(problem, value=rec[column], hint=hint, **kw))

        for col in _REQUIRED:
            if not rec[col].strip():
                add(
                    "required cell is empty",
                    col,
                    "give every number a wave, question, answer, percent and source URL",
                )
        if wave_id_problem(rec["wave_id"]):
            add("malformed wave_id", "wave_id", WAVE_ID_HINT)
        for col, parse in (("n_respondents", parse_n), ("percent", parse_percent)):
            if col == "n_respondents" or rec[col].strip():
                try:
                    parse(rec[col], row=i, file=file)
                except InputError as exc:
                    kw = {"wave": rec["wave_id"] or None, "file": file, "row": i}
                    problems.append(
                        InputError(exc.problem, column=col, value=exc.value, hint=exc.hint, **kw)
                    )
        if rec["source_url"].strip() and not _URL.fullmatch(rec["source_url"].strip()):
            add("source_url is not an http(s) URL", "source_url", "give the page's full URL")
        spec = questions.get(rec["question"])
        if spec is None and rec["question"] in canonical_names:
            add("codebook question not mapped", "question", LABELS_HINT)
        if spec is not None and rec["answer"].strip() not in spec["answers"]:
            known = "; ".join(spec["answers"])
            add(
                f"answer label not mapped (known: {known})",
                "answer",
                f"use a known label or {LABELS_HINT} under questions.{rec['question']}.answers",
            )
        sub = subgroups.get(rec["subgroup_variable"])
        if spec is not None and sub is not None and rec["subgroup_value"] not in sub["values"]:
            add(
                "subgroup not mapped",
                "subgroup_value",
                f"{LABELS_HINT} under subgroups.{rec['subgroup_variable']}.values",
            )
        key = tuple(rec[c] for c in DUPLICATE_KEY)
        if key in seen:
            add(
                f"duplicate of {seen[key]} (same {', '.join(DUPLICATE_KEY)})",
                "answer",
                "remove the row (a number from another source needs its own source_url)",
            )
        seen.setdefault(key, f"row {i} of {file}")
    return problems


def _raise_all(problems: list[InputError], file: str, hint: str) -> None:
    """Raise one InputError for a list of problems (the problem itself if there is one)."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        listing = "\n".join(f"  {i}. {p}" for i, p in enumerate(problems, start=1))
        raise InputError(
            f"{len(problems)} problems in published rows:\n{listing}\n", file=file, hint=hint
        )


def _read_raw(path: PathLike) -> pd.DataFrame:
    try:
        kw = {"dtype": str, "encoding": "utf-8-sig", "keep_default_na": False}
        return pd.read_csv(path, **kw)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"cannot read CSV: {exc}", file=str(path), hint="give a UTF-8 CSV"
        ) from exc


def add_published(
    new_path: PathLike,
    toplines_path: PathLike,
    labels_path: PathLike,
    *,
    codebook_path: PathLike | None = None,
) -> int:
    """Validate the rows of ``new_path`` and append them to the published toplines file.

    The new file must have exactly the columns of the toplines file; every row is checked
    with :func:`published_row_problems` (duplicates also against the existing rows). With
    any problem nothing is appended and one :class:`InputError` lists them all.

    Parameters
    ----------
    new_path : str or Path
        CSV (UTF-8) with the new rows.
    toplines_path, labels_path : str or Path
        ``data/raw/published/toplines.csv`` and ``config/published_labels.yaml``.
    codebook_path : str or Path, optional
        Codebook to check the labels against.

    Returns
    -------
    int
        The number of rows appended (the file keeps its bytes, mode and line endings).
    """
    labels = load_published_labels(labels_path, codebook_path=codebook_path)
    new, old = _read_raw(new_path), _read_raw(toplines_path)
    file = str(new_path)
    missing = [c for c in old.columns if c not in new.columns]
    extra = [c for c in new.columns if c not in old.columns]
    if missing or extra:
        what = f"missing {missing}" if missing else f"unknown {extra}"
        hint = f"use the header of {toplines_path}: {','.join(old.columns)}"
        raise InputError(f"columns do not match the toplines file ({what})", file=file, hint=hint)
    if new.empty:
        raise InputError("no rows to add", file=file, hint="add rows below the header")
    problems = published_row_problems(
        new, labels, file=file, existing=old, existing_file=Path(toplines_path).name
    )
    _raise_all(problems, file, "fix or remove the listed rows; nothing was appended")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(new[list(old.columns)].itertuples(index=False))
    target = Path(toplines_path)
    before = target.read_bytes()
    sep = b"" if not before or before.endswith(b"\n") else b"\n"
    mode = target.stat().st_mode & 0o777
    atomic_write(target, lambda tmp: tmp.write_bytes(before + sep + buf.getvalue().encode()))
    os.chmod(target, mode)
    return len(new)
