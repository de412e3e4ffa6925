"""Incremental reruns: a new wave or one changed mapping reruns only that wave's jobs.

In a temporary copy of the project after one full ``snakemake`` run (shared with
tests/intake/test_addwave.py: four copied waves plus the demo wave added with add-wave; the
workflow's war models need a pre-war and four war waves), ``snakemake -n`` must list the
per-wave jobs (every rule whose output has ``{wave}``, read from workflow/rules/*.smk:
process_wave: harmonise + weight + estimate) of exactly the new or changed wave, plus aggregate
jobs, and never a per-wave job of another wave. The job list is parsed from the dry run's
job blocks and cross-checked against its "Job stats" table.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from demo_project import demo_project
from project_copy import copy_wave, snakemake

NEW = "2022-08"
CHANGED = "2022-04"
_JOB = re.compile(r"^\s*(?:local)?rule (\w+):\s*$")


def dry_run_jobs(text: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job block of a ``snakemake -n`` output."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        if match := _JOB.match(line):
            jobs.append((match.group(1), {}))
        elif jobs and line.strip().startswith("wildcards:"):
            for part in line.split(":", 1)[1].split(","):
                key, _, value = part.strip().partition("=")
                jobs[-1][1][key] = value
    return jobs


def job_stats(text: str) -> Counter:
    """Job counts per rule from the first "Job stats" table of a dry run."""
    block = text.split("Job stats:", 1)[1].split("total", 1)[0]
    rows = [line.split() for line in block.splitlines()[3:] if line.strip()]
    return Counter({name: int(count) for name, count in rows})


def per_wave_rules(proj: Path) -> set[str]:
    """Rules whose output contains ``{wave}`` (read from workflow/rules/*.smk)."""
    rules = set()
    for smk in sorted((proj / "workflow/rules").glob("*.smk")):
        text = smk.read_text(encoding="utf-8")
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S):
            output = re.search(r"^    output:\n(.*?)(?=^    \w+:|\Z)", match.group(2), re.M | re.S)
            if output and "{wave}" in output.group(1):
                rules.add(match.group(1))
    return rules


def planned(proj: Path) -> tuple[set[tuple[str, str]], set[str]]:
    """Dry run: {(per-wave rule, wave)} and {aggregate rule}, cross-checked with Job stats."""
    dry = snakemake(proj, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    text = dry.stdout + dry.stderr
    jobs = dry_run_jobs(text)
    assert jobs, text[-3000:]
    assert Counter(rule for rule, _ in jobs) == job_stats(text)
    per_wave = {(rule, wc["wave"]) for rule, wc in jobs if "wave" in wc}
    aggregate = {rule for rule, wc in jobs if "wave" not in wc}
    print(f"per-wave jobs: {sorted(per_wave)}\naggregate jobs: {sorted(aggregate)}")
    return per_wave, aggregate


def assert_up_to_date(proj: Path) -> None:
    dry = snakemake(proj, "-n")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr


@pytest.fixture
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = demo_project(tmp_path_factory)
    assert shared["run"].returncode == 0, shared["run"].stderr[-3000:]
    return shared["proj"]


def _check_aggregates(aggregate: set[str], proj: Path) -> None:
    assert {"toplines", "stack_waves", "public_demand_report"} <= aggregate
    assert "published" not in aggregate  # the published toplines do not depend on waves
    assert not aggregate & per_wave_rules(proj)


def test_new_wave_runs_only_its_own_per_wave_jobs(built: Path) -> None:
    assert_up_to_date(built)
    rules = per_wave_rules(built)
    assert "process_wave" in rules  # harmonise + weight + estimate: one job per wave
    copy_wave(built, NEW)
    try:
        per_wave, aggregate = planned(built)
        assert per_wave == {(rule, NEW) for rule in rules}
        _check_aggregates(aggregate, built)
    finally:
        (built / "config/waves" / f"{NEW}.yaml").unlink()
        for path in (built / "data/raw/waves").glob(f"{NEW}.*"):
            path.unlink()
    assert_up_to_date(built)  # removing the wave again leaves nothing to do


def test_changed_mapping_reruns_only_that_wave(built: Path) -> None:
    assert_up_to_date(built)
    mapping = built / "config/waves" / f"{CHANGED}.yaml"
    original = mapping.read_text(encoding="utf-8")
    backup = mapping.with_suffix(".bak")
    shutil.copy2(mapping, backup)
    assert "min_duration_sec: 240" in original
    mapping.write_text(original.replace("min_duration_sec: 240", "min_duration_sec: 230"), "utf-8")
    try:
        per_wave, aggregate = planned(built)
        assert per_wave == {(rule, CHANGED) for rule in per_wave_rules(built)}
        _check_aggregates(aggregate, built)
    finally:
        shutil.move(backup, mapping)
