"""The README's scaling table says what benchmarks/results/scale.csv holds (issue 15): every
number of the table equals the committed result it was rounded from, and the revisions it
names are those the results' metadata recorded. Fails when either is edited alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Running at scale", 1)[1].split("\n## ", 1)[0]


def _table_rows() -> list[list[str]]:
    lines = _section().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| study | jobs |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _study(cell: str) -> tuple[str, str]:
    label = "before" if "(`before`)" in cell else "after"
    if cell.startswith("bundled"):
        return label, "bundled"
    m = re.match(r"(\d+) × ([\d,]+)", cell)
    assert m, cell
    return label, f"{m.group(1)}x{m.group(2).replace(',', '')}"


def _num(cell: str, unit: str) -> float:
    m = re.fullmatch(rf"([\d.]+) {re.escape(unit)}", cell)
    assert m, (cell, unit)
    return float(m.group(1))


def test_the_scaling_table_equals_the_committed_results():
    results = pd.read_csv(RESULTS / "scale.csv").set_index(["label", "study"])
    rows = _table_rows()
    assert len(rows) >= 4
    for cells in rows:
        key = _study(cells[0])
        r = results.loc[key]
        assert int(cells[1]) == int(r["jobs"]), key
        assert _num(cells[2], "s") == pytest.approx(round(r["cold_wall_s"], 1)), key
        assert _num(cells[3], "s") == pytest.approx(round(r["cold_cpu_s"])), key
        assert _num(cells[4], "GiB") == pytest.approx(round(r["peak_rss_tree_mb"] / 1024, 2)), key
        assert _num(cells[5], "s") == pytest.approx(round(r["noop_s"], 1)), key
        if cells[6] == "–":
            assert pd.isna(r["add_wave_s"]), key
            continue
        m = re.fullmatch(r"([\d.]+) s \(([\d.]+) %\)", cells[6])
        assert m, cells[6]
        assert float(m.group(1)) == pytest.approx(round(r["add_wave_s"], 1)), key
        assert float(m.group(2)) == pytest.approx(round(r["add_wave_pct_of_cold"], 1)), key


def test_the_revisions_named_are_those_measured():
    meta = json.loads((RESULTS / "scale.meta.json").read_text(encoding="utf-8"))
    m = re.search(r"Measured on \S+ at ([0-9a-f]{7}) \(`--label after`\), and at ([0-9a-f]{7}) "
                  r"\(`before`", " ".join(_section().split()))  # fmt: skip
    assert m
    assert meta["after"][-1]["source_revision"].startswith(m.group(1))
    assert meta["before"][-1]["source_revision"].startswith(m.group(2))


def test_the_rerun_floor_figures_are_those_measured():
    """The README's floor of the add-wave rerun equals rerun_floor.meta.json (and the cold
    build and add-wave time it is compared with, the scale.csv row of the same label)."""
    meta = json.loads((RESULTS / "rerun_floor.meta.json").read_text(encoding="utf-8"))
    text = " ".join(_section().split())
    m = re.search(r"the cold build at ([0-9a-f]{7}) \(label `(\w+)` in `scale.csv`\), the "
                  r"replay at ([0-9a-f]{7}) \(`rerun_floor.meta.json`\)", text)  # fmt: skip
    assert m
    entry = meta[m.group(2)]
    b = entry["bounds"]
    assert entry["git_revision"].startswith(m.group(3))
    scale_meta = json.loads((RESULTS / "scale.meta.json").read_text(encoding="utf-8"))
    assert scale_meta[m.group(2)][-1]["source_revision"].startswith(m.group(1))
    row = (
        pd.read_csv(RESULTS / "scale.csv")
        .set_index(["label", "study"])
        .loc[(m.group(2), entry["study"])]
    )
    assert row["cold_wall_s"] == pytest.approx(b["cold_s"])

    def figures(pattern: str) -> list[float]:
        found = re.search(pattern, text)
        assert found, pattern
        return [float(g) for g in found.groups()]

    cold, target, added, replay = figures(
        r"The cold build took ([\d.]+) s, so the target is ([\d.]+) s\. Adding one wave took "
        r"([\d.]+) s, and the replayed rerun ([\d.]+) s"
    )
    assert (cold, target, replay) == pytest.approx(
        (round(b["cold_s"], 1), round(b["target_s"], 1), round(b["measured_rerun_s"], 1))
    )
    assert added == pytest.approx(round(row["add_wave_s"], 1))
    start, serial = figures(r"preflight and DAG, ([\d.]+) s\).*?: ([\d.]+) s in all")
    assert (start, serial) == pytest.approx(
        (round(b["driver_start_s"], 2), round(b["serial_s"], 2))
    )
    jobs, cpu, imports, driver = figures(
        r"The (\d+) pooled jobs then use ([\d.]+) CPU s, ([\d.]+) of them in imports; the "
        r"driver uses ([\d.]+) CPU s"
    )
    assert jobs == b["pooled_jobs"]
    assert (cpu, imports, driver) == pytest.approx(
        (round(b["pooled_cpu_s"], 1), round(b["pooled_import_cpu_s"], 1),
         round(b["driver_cpu_after_start_s"], 1))
    )  # fmt: skip
    (idle,) = figures(r"the cores sat idle for ([\d.]+) core-s")
    assert idle == pytest.approx(round(b["idle_core_s"], 1))
    for name, key in (("packed", "floor_packed"), ("pandas start", "floor_pandas_start"),
                      ("no imports", "floor_no_imports")):  # fmt: skip
        s, pct = figures(rf"`{name}` ([\d.]+) s \(([\d.]+) %\)")
        assert (s, pct) == pytest.approx((round(b[f"{key}_s"], 1), round(b[f"{key}_pct"], 1)))
        assert pct > 10.0  # the README's claim: every bound is above the target
