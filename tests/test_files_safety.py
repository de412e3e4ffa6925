"""CSV formula injection and failing writes (issue 14): pollwaves.files."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pandas as pd
import pytest

from pollwaves import files
from pollwaves.errors import InputError
from pollwaves.files import WriteError, defuse_cell, read_table, restore_cell, write_table

HOSTILE = ['=HYPERLINK("http://x.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\tx", "\rx", "'=already", "''=twice", "plain", "-", "'", ""]  # fmt: skip


def test_formula_cells_are_prefixed_and_restored():
    for cell in HOSTILE:
        safe = defuse_cell(cell)
        assert restore_cell(safe) == cell
        if (cell and cell[0] in "=+-@\t\r") or cell.startswith("'="):
            assert safe.startswith("'"), cell
    for number in ["-1.5", "+2", "-0", "-1e-5", "-inf"]:
        assert defuse_cell(number) == number


def test_write_table_defuses_every_text_cell_and_read_table_round_trips(tmp_path):
    df = pd.DataFrame({"text": HOSTILE, "n": range(len(HOSTILE)),
                       "x": [-0.5] * len(HOSTILE)})  # fmt: skip
    df["cat"] = pd.Categorical(["=1+1"] * len(HOSTILE))
    df["=name"] = "a"
    path = write_table(df, tmp_path / "t.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in raw.columns:  # what a spreadsheet sees: no cell starts a formula
        for cell in [col, *raw[col]]:
            assert not (cell and cell[0] in "=+@\t\r"), cell
            assert not (cell.startswith("-") and cell != "-0.5"), cell
    back = read_table(path, keep_default_na=False)
    assert list(back.columns) == list(df.columns)
    assert back["text"].tolist() == HOSTILE
    assert back["cat"].tolist() == ["=1+1"] * len(HOSTILE)
    assert back["x"].tolist() == [-0.5] * len(HOSTILE) and back["n"].dtype.kind == "i"


def test_read_only_folder_gives_a_write_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out" / "t.csv"
    write_table(pd.DataFrame({"a": [1]}), path)
    before = path.read_bytes()
    os.chmod(path.parent, 0o555)  # read-only for a user; root ignores it, so also patch:
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path.parent))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    try:
        with pytest.raises(WriteError) as info:
            write_table(pd.DataFrame({"a": [2]}), path)
    finally:
        os.chmod(path.parent, 0o755)
    err = str(info.value)
    assert str(path) in err and "chmod" in err and "unchanged" in err
    assert path.read_bytes() == before


def test_file_size_limit_gives_a_write_error_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "t.csv"
    write_table(pd.DataFrame({"a": [1]}), path)
    before = path.read_bytes()
    code = (
        "import pandas as pd, sys\n"
        "from pollwaves.files import write_table, WriteError\n"
        "try:\n"
        f"    write_table(pd.DataFrame({{'a': ['x' * 100] * 2000}}), {str(path)!r})\n"
        "except WriteError as e:\n"
        "    print(e); sys.exit(3)\n"
    )

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         preexec_fn=limit, timeout=120)  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "file-size limit" in run.stdout and str(path) in run.stdout
    assert "Traceback" not in run.stderr
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left


def test_published_formula_text_is_defused_in_the_stage_output(root, tmp_path):
    """=HYPERLINK / +cmd in a real published row reach data/processed/published defused."""
    from pollwaves.stages.waves import read_estimates, run_published

    src = (root / "data/raw/published/toplines.csv").read_text(encoding="utf-8").splitlines()
    head, first = src[0], src[1]
    cells = next(__import__("csv").reader([first]))
    cells[-2] = '=HYPERLINK("http://evil.example","x")'  # source_quote
    cells[-1] = "+cmd|' /C calc'!A0"  # flag
    buf = __import__("io").StringIO()
    __import__("csv").writer(buf, lineterminator="\n").writerow(cells)
    toplines = tmp_path / "toplines.csv"
    toplines.write_text("\n".join([head, buf.getvalue().rstrip("\n"), *src[2:]]) + "\n",
                        encoding="utf-8")  # fmt: skip
    used, excluded = tmp_path / "used.csv", tmp_path / "excluded.csv"
    run_published(toplines, root / "config/published_labels.yaml",
                  root / "config/codebook.yaml", used, excluded)  # fmt: skip
    text = used.read_text(encoding="utf-8") + excluded.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+cmd" in text
    assert ",=HYPERLINK" not in text and ",+cmd" not in text and '"=HYPERLINK' not in text
    back = pd.concat([read_estimates(used), read_estimates(excluded)])
    assert '=HYPERLINK("http://evil.example","x")' in set(back["source_quote"])


def test_read_tables_equals_stacking_read_table(tmp_path):
    a = pd.DataFrame({"wave": ["2022-01"], "label": ["=cmd|' /C calc'!A0"], "x": [0.5]})
    b = pd.DataFrame({"wave": ["2022-02"], "label": ["plain"], "x": [1.25]})
    empty = a.iloc[:0]
    paths = [tmp_path / f"{k}.csv" for k in "abe"]
    for frame, path in zip((a, b, empty), paths, strict=True):
        files.write_table(frame, path)
    kw = {"dtype": {"wave": "string"}}
    each = [files.read_table(p, **kw) for p in paths]
    got = files.read_tables(paths, **kw)
    pd.testing.assert_frame_equal(got, pd.concat(each, ignore_index=True))
    assert got["label"].tolist() == ["=cmd|' /C calc'!A0", "plain"]  # restored, as written
    kept = files.read_tables(paths, skip_empty=True, **kw)
    pd.testing.assert_frame_equal(kept, pd.concat(each[:2], ignore_index=True))
    only_empty = files.read_tables(paths[2:], skip_empty=True, **kw)
    assert list(only_empty.columns) == ["wave", "label", "x"] and only_empty.empty
    with pytest.raises(InputError, match="table not found"):
        files.read_tables([tmp_path / "missing.csv"])
    with pytest.raises(InputError, match="No tables"):
        files.read_tables([])
