"""Crosstabs out: plain-text tables, CSV and xlsx, written atomically and formula-safe.

Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-`` or
``@``, OWASP "CSV injection") are written as plain text: in CSV with a leading apostrophe,
in xlsx as string cells with Excel's quote prefix (never as formulas). Percentages are
rounded for display only; the tidy CSV keeps the full precision (shares on the 0-1 scale,
floats with :data:`pollwaves.files.FLOAT_FORMAT`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pollwaves import files

__all__ = ["crosstab_text", "escape_text", "tidy_crosstab", "write_crosstab_xlsx", "write_csv"]

PathLike = str | os.PathLike[str]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LETTER_NOTE = (
    "Letters (SPSS Custom Tables convention): each column has a letter; a letter in a cell "
    "names a column whose share of that answer is significantly SMALLER (two-sided "
    "design-based test of the difference of the two domain shares, Holm-adjusted over the "
    "column pairs of the row, alpha = {alpha}). '!': flagged by the NCHS presentation "
    "standard for proportions (shown, not hidden)."
)


def escape_text(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _escaped(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(escape_text)
    return out


def write_csv(df: pd.DataFrame, path: PathLike) -> Path:
    """Write ``df`` as CSV atomically and formula-safe (:func:`pollwaves.files.write_table`
    defuses text cells starting with ``= + - @``; :func:`pollwaves.files.read_table` restores
    them)."""
    return files.write_table(df, path)


def _labels(project: Any, variable: str) -> dict[str, str]:
    return project.category_labels(variable) if project is not None else {}


def tidy_crosstab(ct: Any) -> pd.DataFrame:
    """Long crosstab with labels and each wave's Rao-Scott F test (one row per cell)."""
    t = ct.table.copy()
    rl, cl = _labels(ct.project, ct.variable), _labels(ct.project, ct.by)
    t.insert(0, "question", ct.variable)
    t.insert(1, "question_label", ct.project.label(ct.variable) if ct.project else ct.variable)
    t.insert(2, "by", ct.by)
    t["by_label"] = t["by_category"].map(lambda c: cl.get(str(c), str(c)))
    t["category_label"] = t["category"].map(lambda c: rl.get(str(c), str(c)))
    t["domain"] = ct.domain or "all"
    f = ct.tests[ct.tests["statistic"] == "F"].set_index("wave")
    for src, dst in [("value", "rs_f"), ("df1", "rs_df1"), ("df2", "rs_df2"), ("p_value", "rs_p")]:
        t[dst] = t["wave"].map(f[src]).astype(float)
    t["rs_calibrated"] = t["wave"].map(f["calibrated"]).astype(bool)
    t["level"] = ct.level
    first = ["wave", "question", "question_label", "by", "by_category", "by_label", "column"]
    first += ["category", "category_label"]
    rest = [c for c in t.columns if c not in first and c != "simulated"]
    return t[[*first, *rest, "simulated"]]


def _pct(x: float, digits: int = 1) -> str:
    return "-" if not np.isfinite(x) else f"{100 * x:.{digits}f}"


def _cell(row: pd.Series) -> str:
    lo, hi = _pct(row["ci_low"]), _pct(row["ci_high"])
    mark = "!" if str(row["flag"]).startswith("suppress") else ""
    out = f"{_pct(row['estimate'])}{mark} [{lo}, {hi}]"
    return out + (f" {row['letters']}" if row["letters"] else "")


def _grid(ct: Any, wave: str) -> tuple[list[str], list[list[str]], pd.DataFrame]:
    """Header and body rows (labels, cells, n, weighted N) of one wave's crosstab."""
    t = ct.table[ct.table["wave"] == wave]
    rl, cl = _labels(ct.project, ct.variable), _labels(ct.project, ct.by)
    cols = list(dict.fromkeys(t["by_category"].tolist()))
    letters = dict(zip(t["by_category"], t["column"], strict=True))
    header = [""] + [f"{cl.get(str(c), str(c))} ({letters[c]})" for c in cols]
    body = []
    for cat in dict.fromkeys(t["category"].tolist()):
        sel = t[t["category"] == cat].set_index("by_category")
        body.append([rl.get(str(cat), str(cat))] + [_cell(sel.loc[c]) for c in cols])
    first = t.drop_duplicates("by_category").set_index("by_category")
    body.append(["n"] + [f"{int(first.loc[c, 'n']):,}" for c in cols])
    body.append(["weighted N"] + [f"{first.loc[c, 'weighted_n']:,.0f}" for c in cols])
    return header, body, t


def _test_line(ct: Any, wave: str) -> str:
    tests = ct.tests[(ct.tests["wave"] == wave) & (ct.tests["statistic"] == "F")]
    if tests.empty:
        return "Rao-Scott test: not available"
    r = tests.iloc[0]
    cal = "raking-aware" if r["calibrated"] else "weights taken as fixed (not raking-aware)"
    return (
        f"Rao-Scott test of independence: F({r['df1']:.2f}, {r['df2']:.1f}) = "
        f"{r['value']:.3f}, p = {r['p_value']:.4g} (design-based, {cal})"
    )


def crosstab_text(ct: Any) -> str:
    """The crosstab of every wave as aligned plain text."""
    blocks = []
    q_label = ct.project.label(ct.variable) if ct.project else ct.variable
    by_label = ct.project.label(ct.by) if ct.project else ct.by
    pct = f"{100 * ct.level:g}%"
    for wave in dict.fromkeys(ct.table["wave"].tolist()):
        header, body, t = _grid(ct, wave)
        sim = bool(t["simulated"].iloc[0])
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        lines = [
            f"{ct.variable}: {q_label}",
            f"by {ct.by} ({by_label}); wave {wave}"
            + (f"; domain {ct.domain}" if ct.domain else "")
            + ("; SIMULATED respondent-level data" if sim else ""),
            f"column % [{pct} CI]; letters: see note",
            "",
        ]
        for r in [header, *body]:
            lines.append("  ".join(v.ljust(widths[i]) for i, v in enumerate(r)).rstrip())
        lines += ["", _test_line(ct, wave)]
        flagged = t[t["flag"].astype(str) != ""]
        if len(flagged):
            lines.append(
                f"! NCHS presentation standard: {int(flagged['flag'].str.startswith('suppress').sum())} "
                "cell(s) would be suppressed (shown; see the flag column of --out)"
            )
        blocks.append("\n".join(lines))
    note = LETTER_NOTE.format(alpha=f"{1 - ct.level:g}")
    if getattr(ct, "skipped", None):
        blocks.append(f"{ct.variable}: no valid answer (not asked) in {', '.join(ct.skipped)}")
    return "\n\n".join(blocks) + "\n\n" + note + "\n"


def write_crosstab_xlsx(ct: Any, path: PathLike) -> Path:
    """One formatted sheet per wave, then ``tidy`` (the long table) and ``pairs`` (tests)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)

    def put(ws, r: int, c: int, value: Any, *, font=None) -> None:
        cell = ws.cell(row=r, column=c)
        if isinstance(value, str):
            cell.value = value
            cell.data_type = "s"  # text, never a formula
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True
        elif isinstance(value, (bool, np.bool_)):
            cell.value = bool(value)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            cell.value = None if not np.isfinite(value) else float(value)
        else:
            cell.value = None if value is None or pd.isna(value) else str(value)
        if font is not None:
            cell.font = font

    for wave in dict.fromkeys(ct.table["wave"].tolist()):
        header, body, t = _grid(ct, wave)
        ws = wb.create_sheet(title=str(wave)[:31])
        put(ws, 1, 1, f"{ct.variable}: {ct.project.label(ct.variable)}", font=bold)
        sim = "SIMULATED respondent-level data" if bool(t["simulated"].iloc[0]) else ""
        put(ws, 2, 1, f"by {ct.by}; wave {wave}; column % [{100 * ct.level:g}% CI]; {sim}")
        for j, v in enumerate(header, start=1):
            put(ws, 4, j, v, font=bold)
        for i, row in enumerate(body, start=5):
            for j, v in enumerate(row, start=1):
                put(ws, i, j, v, font=bold if j == 1 else None)
        end = 5 + len(body)
        put(ws, end + 1, 1, _test_line(ct, wave))
        put(ws, end + 2, 1, LETTER_NOTE.format(alpha=f"{1 - ct.level:g}"))
        ws.column_dimensions["A"].width = max(len(r[0]) for r in body) + 2
        for j in range(2, len(header) + 1):
            ws.column_dimensions[ws.cell(row=4, column=j).column_letter].width = 26
            for i in range(4, end):
                ws.cell(row=i, column=j).alignment = Alignment(horizontal="center")
    for title, frame in (("tidy", tidy_crosstab(ct)), ("pairs", ct.pairs)):
        ws = wb.create_sheet(title=title)
        for j, col in enumerate(frame.columns, start=1):
            put(ws, 1, j, col, font=bold)
        for i, rec in enumerate(frame.itertuples(index=False), start=2):
            for j, v in enumerate(rec, start=1):
                put(ws, i, j, v)

    def _save(tmp: Path) -> None:
        wb.save(tmp)

    return files.atomic_write(path, _save)
