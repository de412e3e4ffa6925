"""Reading the REAL published toplines and parsing their ``percent`` cells.

:func:`load_published` keeps all rows and columns, adds ``row_id`` (1-based data row) and
parses ``percent`` (:func:`parse_percent`) into ``value, low, high, qualifier``:
``27.2``/``27,2`` exact [X, X]; ``>X``/more than/over X ``lower_bound`` [X, 100];
``<X``/fewer than/less than X ``upper_bound`` [0, X]; ``almost X`` ``approximate``
[X-1, X]; ``about X``/``~X`` ``approximate`` [X-1, X+1]; ``a/b`` ``fraction`` 100a/b;
``a-b`` ``range`` (midpoint, [a, b]). Anything else (empty, ``n/a``, text, outside 0-100)
is an :class:`InputError`, never NaN.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from pollwaves.errors import InputError

__all__ = ["PRECISION", "RAW_COLUMNS", "PercentValue", "load_published", "parse_percent"]

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
PRECISION = dict(exact=0, fraction=1, approximate=2, range=3, lower_bound=4, upper_bound=4)
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
