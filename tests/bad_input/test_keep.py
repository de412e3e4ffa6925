"""pollwaves.stages.keep: the last good reports/ survive a failed run (issue 14)."""

from __future__ import annotations

import os

from pollwaves.stages.keep import BACKUP, backup_outputs, restore_outputs


def test_a_removed_or_changed_report_is_put_back_byte_identical(tmp_path):
    report = tmp_path / "reports/public_demand.html"
    table = tmp_path / "reports/tables/toplines.csv"
    for path, text in ((report, "<html>good</html>"), (table, "a,b\n1,2\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    os.utime(report, (1_000_000_000, 1_000_000_000))
    assert sorted(p.name for p in backup_outputs(tmp_path)) == ["public_demand.html",
                                                                "toplines.csv"]  # fmt: skip
    assert backup_outputs(tmp_path) == []  # unchanged files are not kept twice
    report.unlink()  # what Snakemake does before the report job runs
    half = table.with_name("tmp")  # a new version written and renamed into place
    half.write_text("half", encoding="utf-8")
    os.replace(half, table)
    new = tmp_path / "reports/tables/new.csv"
    new.write_text("x\n", encoding="utf-8")
    restored = restore_outputs(tmp_path)
    assert sorted(p.name for p in restored) == ["public_demand.html", "toplines.csv"]
    assert report.read_text(encoding="utf-8") == "<html>good</html>"
    assert table.read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert report.stat().st_mtime == 1_000_000_000  # old time: the next run rebuilds it
    assert new.is_file()  # a file with no earlier version stays
    assert (tmp_path / BACKUP / "reports/public_demand.html").is_file()
    assert restore_outputs(tmp_path) == []


def test_an_interrupted_run_keeps_the_earlier_copy(tmp_path):
    report = tmp_path / "reports/public_demand.html"
    report.parent.mkdir(parents=True)
    report.write_text("v1", encoding="utf-8")
    backup_outputs(tmp_path)
    report.unlink()  # a killed run removed it; the next run starts without it
    backup_outputs(tmp_path)
    restore_outputs(tmp_path)
    assert report.read_text(encoding="utf-8") == "v1"
