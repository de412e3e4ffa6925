"""Byte-reproducible writers of SIMULATED deliveries: SPSS, Stata, CSV and Excel.

pyreadstat stamps the writing time into SPSS and Stata headers and openpyxl stamps it
into the xlsx core properties and zip entries; these writers replace every such stamp by
a fixed datetime, so that re-running the simulator rewrites identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import textwrap
import zipfile
from pathlib import Path

import pandas as pd

__all__ = ["write_csv", "write_dta", "write_sav", "write_xlsx"]

PathLike = str | os.PathLike[str]
_SAV_DATE = slice(92, 101)  # "dd mmm yy" in the SAV file header
_SAV_TIME = slice(101, 109)  # "hh:mm:ss"


def _tmp(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp")


def write_sav(
    df: pd.DataFrame,
    path: PathLike,
    *,
    file_label: str,
    note: str | list[str],
    column_labels: dict[str, str],
    value_labels: dict[str, dict],
    stamp: dt.datetime,
) -> Path:
    """Write an SPSS file with labels, a note and a fixed creation stamp."""
    import pyreadstat

    if isinstance(note, str):  # SPSS document lines hold at most 80 bytes
        note = textwrap.wrap(note, width=38)
    path = Path(path)
    tmp = _tmp(path)
    pyreadstat.write_sav(
        df,
        str(tmp),
        file_label=file_label,
        note=note,
        column_labels=[column_labels.get(c) for c in df.columns],
        variable_value_labels=value_labels,
    )
    raw = bytearray(tmp.read_bytes())
    if raw[:4] != b"$FL2":  # pragma: no cover - pyreadstat always writes $FL2
        raise RuntimeError("unexpected SPSS header")
    raw[_SAV_DATE] = stamp.strftime("%d %b %y").encode("ascii")
    raw[_SAV_TIME] = stamp.strftime("%H:%M:%S").encode("ascii")
    tmp.write_bytes(bytes(raw))
    os.replace(tmp, path)
    return path


def write_dta(
    df: pd.DataFrame,
    path: PathLike,
    *,
    file_label: str,
    column_labels: dict[str, str],
    value_labels: dict[str, dict],
    stamp: dt.datetime,
) -> Path:
    """Write a Stata file (ASCII names; label sets named by pyreadstat) with a fixed stamp."""
    import pyreadstat

    path = Path(path)
    tmp = _tmp(path)
    pyreadstat.write_dta(
        df,
        str(tmp),
        file_label=file_label,
        column_labels=[column_labels.get(c) for c in df.columns],
        variable_value_labels=value_labels,
        version=15,
    )
    text = stamp.strftime("%d %b %Y %H:%M").encode("ascii")
    raw = re.sub(
        rb"<timestamp>.[^<]*</timestamp>",
        b"<timestamp>" + bytes([len(text)]) + text + b"</timestamp>",
        tmp.read_bytes(),
        count=1,
        flags=re.DOTALL,
    )
    tmp.write_bytes(raw)
    os.replace(tmp, path)
    return path


def write_csv(df: pd.DataFrame, path: PathLike, *, encoding: str, sep: str) -> Path:
    """Write a CSV delivery (``\\n`` line ends, empty cells for missing values)."""
    path = Path(path)
    tmp = _tmp(path)
    with open(tmp, "w", encoding=encoding, newline="") as fh:
        df.to_csv(fh, sep=sep, index=False, lineterminator="\n")
    os.replace(tmp, path)
    return path


def write_xlsx(
    df: pd.DataFrame,
    path: PathLike,
    *,
    sheet: str,
    title: str,
    description: str,
    info: list[str],
    stamp: dt.datetime,
) -> Path:
    """Write an Excel delivery: data sheet first, an ``info`` sheet, fixed properties.

    Cells hold Python ints/str; missing values are empty cells.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append(
            [
                None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else v
                for v in row
            ]
        )
    info_ws = wb.create_sheet("info")
    for line in info:
        info_ws.append([line])
    props = wb.properties
    props.title, props.description, props.subject = title, description, "SIMULATED DATA"
    props.creator = props.lastModifiedBy = "pollwaves.simulate"
    props.created = props.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl sets `modified` to now on save and zip entries carry the writing time
    stamp_xml = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    path = Path(path)
    tmp = _tmp(path)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp_xml + rb"\g<2>",
                    data,
                )
            info_z = zipfile.ZipInfo(item.filename, date_time=stamp.timetuple()[:6])
            info_z.compress_type = zipfile.ZIP_DEFLATED
            info_z.external_attr = 0o644 << 16
            dst.writestr(info_z, data)
    os.replace(tmp, path)
    return path
