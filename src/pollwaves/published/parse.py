"""Reading the REAL published toplines and parsing their ``percent`` cells.

:func:`load_published` keeps all rows and columns, adds ``row_id`` (1-based data row) and
parses ``percent`` (:func:`parse_percent`) into ``value, low, high, qualifier``:
``27.2``/``27,2`` exact [X, X]; ``>X``/more than/over X ``lower_bound`` [X, 100];
``<X``/fewer than/less than X ``upper_bound`` [0, X]; ``almost X`` ``approximate``
[X-1, X]; ``about X``/``~X`` ``approximate`` [X-1, X+1]; ``a/b`` ``fraction`` 100a/b;
``a-b`` ``range`` (midpoint, [a, b]). A cell holding several numbers (``8 / 12``, one per
part of a two-part answer) is not a fraction: it is rejected (give each part its own row).
Anything else (empty, ``n/a``, text, outside 0-100) is an :class:`InputError`, never NaN.

``n_respondents`` is parsed the same way (:func:`parse_n`) into the CONSERVATIVE whole
number and ``n_qualifier``: digits ``exact``; ``>N``/``≥N``/more than/over/at least N
``lower_bound`` (N); ``a-b``/``a or b`` ``range`` (the smaller, a); ``about N``/``~N``
``approximate`` (N minus half its rounding unit: about 800 -> 750); empty ``unknown`` (NA).
A smaller N gives a wider interval, so every interval computed from ``n_respondents`` is
conservative for a qualified N.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from pollwaves.errors import InputError

__all__ = [
    "N_QUALIFIERS",
    "WAVE_ID",
    "wave_id_problem",
    "PRECISION",
    "RAW_COLUMNS",
    "NValue",
    "PercentValue",
    "load_published",
    "parse_n",
    "parse_percent",
]

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
    (r"(\d+)/(\d+)", "fraction", lambda a, b: (100 * a / b if b else -1.0,) * 3),
    (rf"{_NUM}\s*[-–]\s*{_NUM}", "range", lambda a, b: ((a + b) / 2, a, b)),
]
_PERCENT_HINT = (
    "write 27.2 or 27,2, '>X'/'more than X'/'over X', '<X'/'fewer than X', 'almost X', "
    "'about X'/'~X', a fraction 'a/b' or a range 'a-b' in 0-100, or remove the row with a note"
)
_SEVERAL = rf"{_NUM}(?:\s+/\s+{_NUM})+"  # '8 / 12': one number per answer part, not a/b
_SEVERAL_HINT = "give each number its own row (one answer part per row, same source_url)"
N_QUALIFIERS = ("exact", "lower_bound", "range", "approximate", "unknown")
_N_FORMS = [  # (cell pattern, n_qualifier, numbers -> conservative whole N)
    (r"(\d+)", "exact", lambda n: n),
    (r"(?:>|>=|≥|more than|over|at least)\s*(\d+)", "lower_bound", lambda n: n),
    (r"(\d+)\s*(?:[-–]|or)\s*(\d+)", "range", min),
    (r"(?:about\s+|around\s+|approximately\s+|~\s*)(\d+)", "approximate",
     lambda n: n - _unit(n) // 2),
]  # fmt: skip
_N_HINT = (
    "write digits (899), a lower bound ('>700', 'more than 700', 'at least 700'), a range "
    "('755-767', '755 or 767'), 'about 800', or leave empty"
)


#: A published wave id: ``YYYY-MM``, ``YYYY-MM?`` (month uncertain), ``YYYY-MM/MM`` (fieldwork
#: across two months) or ``undated``.
WAVE_ID = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])(\?|/(0[1-9]|1[0-2]))?|undated")
WAVE_ID_HINT = "write the wave as YYYY-MM (e.g. 2020-09), YYYY-MM/MM, YYYY-MM? or undated"


def wave_id_problem(cell: object) -> str | None:
    """Why a published ``wave_id`` cell is malformed (None when it is well formed)."""
    text = "" if cell is None or (not isinstance(cell, str) and pd.isna(cell)) else str(cell)
    if not text.strip():
        return None  # an empty cell is reported as empty
    if not WAVE_ID.fullmatch(text.strip()):
        return "malformed wave_id"
    return None


def _unit(n: int) -> int:
    """Rounding unit of a rounded count: 10 ** (trailing zeros), e.g. 800 -> 100, 850 -> 10."""
    digits = str(n)
    return 10 ** (len(digits) - len(digits.rstrip("0"))) if n else 1


class NValue(NamedTuple):
    """A parsed published sample size: conservative whole number (None if unknown), qualifier."""

    n: int | None
    qualifier: str


def parse_n(cell: str | None, *, row: int | None = None, file: str | None = None) -> NValue:
    """Parse one ``n_respondents`` cell into the conservative whole N and ``n_qualifier``.

    The conservative N is the smallest sample size the cell allows (``>700`` -> 700,
    ``755 or 767`` -> 755, ``about 800`` -> 750): an interval computed with it is at least
    as wide as with the true N. Any other form (text, zero) raises :class:`InputError`.

    Parameters
    ----------
    cell : str or None
        The cell as published; empty or None means unknown.
    row, file : optional
        1-based data row and file name, for the error message.

    Returns
    -------
    NValue
        ``n`` (int, or None when unknown) and ``qualifier`` (one of :data:`N_QUALIFIERS`).
    """
    text = " ".join(cell.strip().lower().split()) if isinstance(cell, str) else ""
    if not text:
        return NValue(None, "unknown")
    for pattern, qualifier, conservative in _N_FORMS:
        if match := re.fullmatch(pattern, text):
            n = int(conservative(*(int(g) for g in match.groups())))
            if n > 0:
                return NValue(n, qualifier)
    kw = {"file": file, "column": "n_respondents", "row": row, "value": cell}
    raise InputError("n_respondents is not a sample size", hint=_N_HINT, **kw)


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
    if re.fullmatch(_SEVERAL, text):
        kw = {"file": file, "column": "percent", "row": row, "value": cell}
        raise InputError("percent cell holds several numbers", hint=_SEVERAL_HINT, **kw)
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
    answer, source_url), a bad ``n_respondents`` (:func:`parse_n`) or a bad ``percent``
    cell raises :class:`InputError`.

    Parameters
    ----------
    path : str or Path
        CSV with the columns of ``data/raw/published/toplines.csv``.

    Returns
    -------
    pandas.DataFrame
        Every row and original column, text verbatim (empty cells NA), plus ``row_id``
        (first column), ``n_published`` (the N cell as published), ``n_qualifier`` and
        ``value, low, high, qualifier``; ``n_respondents`` is the conservative whole N
        (Int64, NA if unknown).
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
    for col in ("wave_id", "question", "answer", "source_url"):
        bad = df[col].isna()
        if bad.any():
            row, value = int(df.loc[bad, "row_id"].iloc[0]), df.loc[bad, col].iloc[0]
            hint = "every number needs a wave, question, answer and source URL"
            kw = {"file": file, "column": col, "row": row, "value": value, "hint": hint}
            raise InputError("required cell is empty or malformed", **kw)
    for i, cell in enumerate(df["wave_id"], start=1):
        if wave_id_problem(cell):
            kw = {"file": file, "column": "wave_id", "row": i, "value": cell}
            raise InputError("malformed wave_id", hint=WAVE_ID_HINT, **kw)
    ns = [parse_n(c, row=i, file=file) for i, c in enumerate(df["n_respondents"], start=1)]
    df["n_published"] = df["n_respondents"]
    df["n_respondents"] = pd.array([v.n for v in ns], dtype="Int64")
    df["n_qualifier"] = [v.qualifier for v in ns]
    fields, cells = list(PercentValue._fields), enumerate(df["percent"].fillna(""), start=1)
    parsed = [parse_percent(c, row=i, file=file) for i, c in cells]
    df[fields] = pd.DataFrame(parsed, index=df.index, columns=fields)
    return df


#: Two rows with the same values here are duplicates (rejected on load and by add-published).
