"""Reading raw survey deliveries (sav/dta/csv/xlsx/parquet).

Deliveries are read so that codes compare reliably: numeric columns stay numeric, text is
stripped, empty text is missing, and columns of number-like text become numeric (unless
they carry leading zeros, such as ids ``"007"``). Value labels of SPSS/Stata files are kept
separately; codes are never replaced by labels here.
"""

from __future__ import annotations

import csv
import io as _io
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from pollwaves.errors import InputError

__all__ = ["ENCODINGS", "FORMATS", "Delivery", "read_delivery", "refuse_foreign_bytes"]

FORMATS = ("sav", "dta", "csv", "xlsx", "parquet")
ENCODINGS = ("utf-8", "cp1251")


class Delivery(NamedTuple):
    """A raw survey delivery.

    Attributes
    ----------
    data : pandas.DataFrame
        Raw values (codes or text), one row per respondent, in file order.
    value_labels : dict
        ``{column: {code: label}}`` (SPSS/Stata value labels; empty for csv/xlsx).
    meta : dict
        File metadata: ``path``, ``format``, ``encoding``, ``n_rows`` and, where the format
        has them, ``file_label``, ``notes``, ``column_labels``, ``sheet``.
    """

    data: pd.DataFrame
    value_labels: dict[str, dict[Any, str]]
    meta: dict[str, Any]


# --- mojibake detection ------------------------------------------------------------------

# UTF-8 Cyrillic bytes decoded as cp1251: lead byte D0/D1 -> "Р"/"С", continuation 80-BF.
_CONT_CP1251 = bytes(range(0x80, 0xC0)).decode("cp1251", errors="ignore")
_UTF8_AS_CP1251 = re.compile("[РС][" + re.escape(_CONT_CP1251) + "]")
# UTF-8 Cyrillic bytes decoded as Latin-1/cp1252: "Ð"/"Ñ" followed by a continuation byte.
_UTF8_AS_LATIN1 = re.compile("[ÐÑ][\u0080-\u00bf\u0152-\u02dc\u2013-\u2122]")
# cp1251 Cyrillic decoded as Latin-1: runs of accented Latin letters, no Cyrillic at all.
_CP1251_AS_LATIN1 = re.compile("[\u00c0-\u00ff]{3,}")
_CYRILLIC = re.compile("[\u0400-\u04ff]")


def _mojibake(text: str) -> str | None:
    """Return the kind of encoding garbage found in ``text`` (None if it looks clean)."""
    if len(_UTF8_AS_CP1251.findall(text)) >= 2:
        return "utf-8 read as cp1251"
    if len(_UTF8_AS_LATIN1.findall(text)) >= 2:
        return "utf-8 read as latin-1"
    if _CP1251_AS_LATIN1.search(text) and not _CYRILLIC.search(text):
        return "cp1251 read as latin-1"
    return None


_MOJIBAKE_HINTS = {
    "utf-8 read as cp1251": "the file is UTF-8: set `encoding: utf-8` in the wave configuration",
    "cp1251 read as latin-1": "the file is cp1251: set `encoding: cp1251` in the wave config",
}
_REEXPORT = "the text was garbled before delivery; ask for a re-export without a Latin-1 step"


def _check_mojibake(texts: list[tuple], path: Path, fmt: str, encoding: str | None) -> None:
    """Raise InputError at the first (where, column, 1-based row, text) that is mojibake."""
    for where, column, row, text in texts:
        kind = _mojibake(text)
        if kind is not None:
            # sav/dta: the file may declare the wrong code page; `encoding` overrides it
            recodable = fmt in ("csv", "sav", "dta")
            hint = _MOJIBAKE_HINTS.get(kind, _REEXPORT) if recodable else _REEXPORT
            raise InputError(
                f"garbled text ({kind}) in a {where} read with encoding {encoding or 'default'}",
                file=str(path),
                column=column,
                row=row,
                value=text,
                hint=hint,
            )


def _texts(df: pd.DataFrame, value_labels: dict[str, dict[Any, str]]) -> list[tuple]:
    """Collect headers, distinct text cells (first occurrence) and value labels."""
    out: list[tuple] = [("header", str(c), None, str(c)) for c in df.columns]
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]):
            firsts = pd.Series(df[col].tolist()).drop_duplicates()
            out += [("cell", col, i + 1, v) for i, v in firsts.items() if isinstance(v, str)]
    for col, labels in value_labels.items():
        out += [("value label", col, None, str(label)) for label in labels.values()]
    return out


# --- tidying -----------------------------------------------------------------------------

_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def _clean_text(val: Any) -> Any:
    """NFC-normalise and strip text; empty text and NaN become None."""
    if isinstance(val, str):
        return unicodedata.normalize("NFC", val).strip() or None
    return None if isinstance(val, float) and val != val else val


def _number(val: Any, decimal_comma: bool) -> float | int | None:
    """The number held by a cell (number or number-like text), else None."""
    if isinstance(val, (int, float)) and not isinstance(val, bool):
        return val
    if not isinstance(val, str) or _LEADING_ZERO.match(val):
        return None
    text = val.replace(",", ".") if decimal_comma else val
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        return number if number == number and abs(number) != float("inf") else None
    return None


def _tidy_column(s: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Strip text, empty -> NA, and make number-like text columns numeric."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s
    values = [_clean_text(v) for v in s.tolist()]
    present = [v for v in values if v is not None]
    numbers = [None if v is None else _number(v, decimal_comma) for v in values]
    if present and all(
        n is not None for n, v in zip(numbers, values, strict=True) if v is not None
    ):
        return pd.to_numeric(pd.Series(numbers, index=s.index, dtype=object))
    dtype = "str" if all(isinstance(v, str) for v in present) else object
    return pd.Series(values, index=s.index, dtype=dtype)


def _tidy(df: pd.DataFrame, path: Path, decimal_comma: bool = False) -> pd.DataFrame:
    """Tidy every column; header names are NFC-normalised, stripped and must be unique."""
    names = [unicodedata.normalize("NFC", str(c)).strip() for c in df.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        hint = "ask for a delivery with unique column names"
        raise InputError("duplicate column name", file=str(path), column=dup[0], hint=hint)
    df = df.reset_index(drop=True)
    cols = {n: _tidy_column(df.iloc[:, i], decimal_comma) for i, n in enumerate(names)}
    return pd.DataFrame(cols, index=pd.RangeIndex(len(df)))


# --- readers -----------------------------------------------------------------------------


def _header_from_first_row(df: pd.DataFrame) -> pd.DataFrame:
    """Use the first row as header (read with ``header=None`` so duplicates are not renamed)."""
    if df.empty:
        return pd.DataFrame()
    header = [_clean_text(v) for v in df.iloc[0].tolist()]
    names = [f"Unnamed: {i}" if v is None else str(v) for i, v in enumerate(header)]
    return df.iloc[1:].reset_index(drop=True).set_axis(names, axis=1)


def _read_spss_stata(
    path: Path, fmt: str, encoding: str | None = None
) -> tuple[pd.DataFrame, dict, dict]:
    import pyreadstat

    reader: Callable[..., Any] = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    # sav: user_missing=True keeps user-defined missing codes (98/99) as raw codes, so the
    # wave mapping decides what is missing.
    kwargs: dict[str, Any] = {"user_missing": True} if fmt == "sav" else {}
    if encoding is not None:  # overrides the code page declared in the file
        kwargs["encoding"] = encoding
    try:
        df, meta = reader(str(path), apply_value_formats=False, **kwargs)
    except Exception as exc:  # pyreadstat raises its own error types
        hint = f"check that the file is a valid {fmt.upper()} file and `format` is right"
        raise InputError(f"cannot read the {fmt} file: {exc}", file=str(path), hint=hint) from None
    labels = {
        str(col): {code: _clean_text(str(lab)) for code, lab in mapping.items()}
        for col, mapping in (meta.variable_value_labels or {}).items()
    }
    info = {
        "file_label": meta.file_label or None,
        "notes": list(getattr(meta, "notes", None) or []),
        "column_labels": dict(meta.column_names_to_labels or {}),
    }
    return df, labels, info


def refuse_foreign_bytes(raw: bytes, path: Path) -> None:
    """Refuse a "csv" that is UTF-16/UTF-32 text, a workbook or other binary data.

    Raises
    ------
    InputError
        Naming the file, what it is, and how to export a CSV that can be read.
    """
    fix = "re-export the delivery as 'CSV UTF-8' (Excel: Save As > CSV UTF-8 (Comma delimited))"
    boms = (b"\xff\xfe", b"\xfe\xff")
    wide = len(raw) >= 4 and ((raw[1], raw[3]) == (0, 0) or (raw[0], raw[2]) == (0, 0))
    if raw.startswith(boms) or wide:
        kind = "UTF-16 or UTF-32 text (an Excel 'Unicode text' export)"
        raise InputError(f"the csv is {kind}, not UTF-8 or cp1251", file=str(path), hint=fix)
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError("the csv is an Excel workbook, not a text file", file=str(path),
                         hint="rename it to .xlsx, or " + fix)  # fmt: skip
    if b"\x00" in raw[:65536]:
        raise InputError("the csv holds binary data (NUL bytes)", file=str(path), hint=fix)


def _decode(path: Path, encoding: str | None) -> str:
    if encoding is None or encoding.lower() not in ENCODINGS:
        problem = "a csv delivery needs an encoding" if encoding is None else "unknown encoding"
        hint = "set `encoding: utf-8` or `encoding: cp1251` in the wave configuration"
        raise InputError(problem, file=str(path), value=encoding, hint=hint)
    raw = path.read_bytes()
    refuse_foreign_bytes(raw, path)
    codec = "utf-8-sig" if encoding.lower() == "utf-8" else encoding
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        other = "cp1251" if encoding.lower() == "utf-8" else "utf-8"
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"the file does not decode as {encoding} (byte {raw[exc.start]:#04x} at line {line})",
            file=str(path),
            value=raw[max(0, exc.start - 10) : exc.start + 10],
            hint=f"check the encoding; try `encoding: {other}` in the wave configuration",
        ) from None


def _check_fields(text: str, sep: str, path: Path) -> None:
    """Refuse a csv cut off mid-row or with a ragged row (field count unlike the header's)."""
    hint = (
        "the file looks cut off (an interrupted upload or copy) or a row lost fields; "
        "ask the vendor for a complete re-export (every row has as many fields as the header)"
    )
    try:
        rows = list(csv.reader(_io.StringIO(text), delimiter=sep, strict=True))
    except csv.Error as exc:
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
        raise InputError(f"cannot parse the csv file near line {line}: {exc} (an unclosed "
                         "quote: the last row is cut off)", file=str(path), hint=hint) from None  # fmt: skip
    if not rows:
        return
    width = len(rows[0])
    for i, row in enumerate(rows[1:], start=1):
        if row and len(row) != width and any(cell.strip() for cell in row):
            last = i == len(rows) - 1
            where = "the last row is cut off: " if last and len(row) < width else ""
            raise InputError(
                f"{where}data row {i} (line {i + 1}) has {len(row)} field(s), the header has "
                f"{width}",
                file=str(path),
                row=i,
                hint=hint,
            )


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    text = _decode(path, encoding)
    try:  # delimiter from the header line: "," (default), ";" or tab
        sep = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    _check_fields(text, sep, path)
    try:
        df = pd.read_csv(_io.StringIO(text), sep=sep, header=None, dtype=str, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        hint = "check the delimiter, quoting and the number of fields per line"
        raise InputError(f"cannot parse the csv file: {exc}", file=str(path), hint=hint) from None
    return _tidy(_header_from_first_row(df), path, decimal_comma=sep != ",")


def _read_xlsx(path: Path, sheet: str | None) -> tuple[pd.DataFrame, dict]:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl/zipfile raise various types
        hint = "check that the file is an .xlsx workbook and `format` is right"
        raise InputError(f"cannot read the xlsx file: {exc}", file=str(path), hint=hint) from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is not None and sheet not in names:
            raise InputError(
                f"sheet {sheet!r} not found (sheets: {', '.join(names)})",
                file=str(path),
                value=sheet,
                hint="set `sheet:` to one of the sheet names in the wave configuration",
            )
        use = sheet if sheet is not None else names[0]
        df = pd.read_excel(book, sheet_name=use, header=None, dtype=object)
    return _tidy(_header_from_first_row(df), path), {"sheet": use}


def _read_parquet_delivery(path: Path) -> pd.DataFrame:
    """Read a Parquet delivery; categorical columns become plain values (codes or text)."""
    try:
        df = pd.read_parquet(path, engine="pyarrow")
    except Exception as exc:  # pyarrow raises various types
        hint = "check that the file is a Parquet file and `format` is right"
        raise InputError(
            f"cannot read the parquet file: {exc}", file=str(path), hint=hint
        ) from None
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(object)
    return df


def read_delivery(
    path: str | os.PathLike[str],
    fmt: str,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Delivery:
    """Read a raw survey delivery.

    Parameters
    ----------
    path : str or path-like
        The delivery file.
    fmt : {"sav", "dta", "csv", "xlsx", "parquet"}
        The file format.
    encoding : {"utf-8", "cp1251"}, optional
        Text encoding; required for csv; for sav/dta it overrides the code page declared
        in the file (legacy files that declare the wrong one); ignored otherwise.
    sheet : str, optional
        xlsx only: the sheet name (default: the first sheet).

    Returns
    -------
    Delivery
        Raw values, value labels and file metadata.

    Raises
    ------
    InputError
        If the file is missing or unreadable, does not decode with ``encoding``, or holds
        garbled (mojibake) text; the message names the file and suggests a fix.
    """
    path = Path(path)
    if fmt not in FORMATS:
        hint = f"use one of: {', '.join(FORMATS)}"
        raise InputError(f"unknown delivery format {fmt!r}", file=str(path), hint=hint)
    if not path.is_file():
        hint = "check `file:` in the wave configuration"
        raise InputError("delivery file not found", file=str(path), hint=hint)
    meta: dict[str, Any] = {"path": str(path), "format": fmt, "encoding": None}
    labels: dict[str, dict[Any, str]] = {}
    if fmt in ("sav", "dta"):
        raw, labels, info = _read_spss_stata(path, fmt, encoding)
        data = _tidy(raw, path)
        meta.update(info)
        meta["encoding"] = encoding
    elif fmt == "csv":
        data = _read_csv(path, encoding)
        meta["encoding"] = encoding
    elif fmt == "parquet":
        data = _tidy(_read_parquet_delivery(path), path)
    else:
        data, info = _read_xlsx(path, sheet)
        meta.update(info)
    _check_mojibake(_texts(data, labels), path, fmt, encoding)
    meta["n_rows"] = len(data)
    return Delivery(data=data, value_labels=labels, meta=meta)
