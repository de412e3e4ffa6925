"""Formatted Excel workbooks of display tables: safe text, fixed bytes.

Every cell is written as a literal value: a text starting with ``=``, ``+``, ``-`` or ``@``
(a delivery label such as ``=HYPERLINK(...)``) is stored as a string with Excel's quote
prefix, never as a formula. The workbook's document properties and the zip entries carry a
fixed timestamp, so the same tables give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from pollwaves.files import atomic_write

__all__ = ["FORMULA_PREFIXES", "safe_sheet_title", "write_workbook"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FIXED = dt.datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_BAD_TITLE = str.maketrans({c: "_" for c in "[]:*?/\\"})


def safe_sheet_title(name: str, used: set[str]) -> str:
    """An Excel sheet title (<= 31 characters, no ``[]:*?/\\``), unique within ``used``."""
    base = str(name).translate(_BAD_TITLE)[:31] or "Sheet"
    title, i = base, 2
    while title.lower() in used:
        suffix = f" ({i})"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(title.lower())
    return title


def _put(ws, row: int, col: int, value, number_format: str | None = None):
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return cell
    if isinstance(value, (bool, np.bool_)):
        cell.value = "yes" if value else "no"
    elif isinstance(value, (int, np.integer)):
        cell.value = int(value)
    elif isinstance(value, (float, np.floating)):
        cell.value = float(value)
        if number_format:
            cell.number_format = number_format
    else:
        text = str(value)
        cell.value = text
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if text.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    return cell


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    headers: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    number_formats: Mapping[str, str] | None = None,
) -> Path:
    """Write one formatted sheet per table, atomically and deterministically.

    Parameters
    ----------
    sheets : mapping
        Sheet name -> table (written in the mapping's order).
    path : path
        The ``.xlsx`` file.
    headers : mapping, optional
        Column name -> header text shown in the sheet (default: the column name).
    notes : list of str
        Lines written above every table (title, data provenance such as the SIMULATED-data
        notice, the confidence level).
    number_formats : mapping, optional
        Column name -> Excel number format of float cells (e.g. ``"0.0"``).
    """
    headers = dict(headers or {})
    formats = dict(number_formats or {})
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, table in sheets.items():
        ws = wb.create_sheet(safe_sheet_title(name, used))
        r = 1
        for line in notes:
            _put(ws, r, 1, line).font = Font(italic=True)
            r += 1
        if notes:
            r += 1
        for j, col in enumerate(table.columns, start=1):
            cell = _put(ws, r, j, headers.get(col, col))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = ws.cell(row=r + 1, column=1)
        for values in table.itertuples(index=False):
            r += 1
            for j, (col, v) in enumerate(zip(table.columns, values, strict=True), start=1):
                _put(ws, r, j, v, formats.get(col))
        for j, col in enumerate(table.columns, start=1):
            texts = [str(headers.get(col, col))] + [str(v) for v in table[col].tolist()]
            ws.column_dimensions[get_column_letter(j)].width = min(
                60, max(8, max(len(t) for t in texts) + 2)
            )
    wb.properties.creator = "pollwaves"
    wb.properties.created = wb.properties.modified = _FIXED
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write(path, lambda tmp: tmp.write_bytes(_fixed_zip(buf.getvalue())))


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed entry timestamps (openpyxl stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                body = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            dst.writestr(fixed, body)
    return out.getvalue()
