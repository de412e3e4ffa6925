"""Workflow-catalog conventions: every rule has a log and a benchmark file of its own."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rules() -> dict[str, str]:
    rules = {}
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        text = path.read_text(encoding="utf-8")
        parts = re.split(r"^(?:local)?rule (\w+):\n", text, flags=re.MULTILINE)
        rules.update(dict(zip(parts[1::2], parts[2::2], strict=True)))
    return rules


def test_every_rule_logs_and_records_its_benchmark():
    rules = _rules()
    assert len(rules) >= 10
    for name, body in rules.items():
        log = re.search(r'    log:\n        "logs/([^"]+)\.log"', body)
        bench = re.search(r'    benchmark:\n        "logs/benchmarks/([^"]+)\.tsv"', body)
        assert log, f"rule {name} has no log: file"
        assert bench, f"rule {name} has no benchmark: file under logs/benchmarks/"
        assert bench.group(1) == log.group(1), f"rule {name}: benchmark and log names differ"
