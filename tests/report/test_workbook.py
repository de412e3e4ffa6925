"""Excel workbooks: literal text (never formulas), fixed bytes, valid sheet names."""

from __future__ import annotations

import openpyxl
import pandas as pd

from pollwaves.report.workbook import safe_sheet_title, write_workbook


def test_hostile_text_stays_text_and_bytes_are_fixed(tmp_path):
    table = pd.DataFrame({
        "answer": ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-1", "@SUM(A1)",
                   "ok"],
        "share": [0.1, 0.2, float("nan"), 0.3, 0.4], "n": [1, 2, 3, 4, 5],
        "simulated": [True] * 5})  # fmt: skip
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook({"2023-03": table}, a, notes=["=not a formula either"])
    write_workbook({"2023-03": table}, b, notes=["=not a formula either"])
    assert a.read_bytes() == b.read_bytes()
    ws = openpyxl.load_workbook(a)["2023-03"]
    assert ws.cell(1, 1).data_type == "s" and ws.cell(1, 1).value.startswith("=")
    cells = [ws.cell(r, 1) for r in range(4, 9)]
    assert [c.value for c in cells] == list(table["answer"])
    assert all(c.data_type == "s" for c in cells)
    assert ws.cell(4, 2).value == 0.1 and ws.cell(6, 2).value is None
    assert ws.cell(4, 4).value == "yes"
    assert not list(tmp_path.glob(".*.tmp"))


def test_sheet_titles_are_valid_and_unique():
    used: set[str] = set()
    assert safe_sheet_title("a/b:c", used) == "a_b_c"
    assert safe_sheet_title("A/B:C", used) == "A_B_C (2)"
    assert len(safe_sheet_title("x" * 40, used)) == 31
