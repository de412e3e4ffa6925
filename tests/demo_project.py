"""The demo delivery added as README section 'Adding a new wave' says, built once a session.

Shared by tests/intake/test_addwave.py, tests/stages/test_incremental.py and
tests/stages/test_new_deliveries.py: the full ``snakemake`` run is the expensive part.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from project_copy import make_project, snakemake

DEMO = ROOT / "tests" / "data" / "demo_wave.sav"
WAVE = "2024-05"
EARLIER = ["2021-01", "2022-04", "2023-03", "2023-11"]  # csv cp1251, dta, sav, xlsx
REVIEW = ["b_union"]  # found by its value labels only: the one column that needs review


def pollwaves(*args: str) -> subprocess.CompletedProcess:
    """Run the ``pollwaves`` command line in a fresh interpreter."""
    cmd = [sys.executable, "-m", "pollwaves.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def resolve_demo(proj: Path) -> subprocess.CompletedProcess:
    """The review README section 'Adding a new wave' shows for the demo: `pollwaves confirm`."""
    return pollwaves("confirm", WAVE, *REVIEW, "--root", str(proj))


def add_demo(proj: Path, *extra: str) -> subprocess.CompletedProcess:
    fieldwork = ["--fieldwork", "2024-05-10", "2024-05-20"]
    return pollwaves(
        "add-wave", str(DEMO), "--wave", WAVE, *fieldwork, "--root", str(proj), *extra
    )


_SHARED: dict = {}


def demo_project(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The documented flow on the demo delivery; one full snakemake run for the session.

    A copy with the EARLIER waves; add-wave (without, then with ``--encoding cp1251``),
    the documented review edits, check-wave and one ``snakemake`` run. The built project
    (five waves, up to date) is shared with tests/stages/test_incremental.py, which needs "a
    project after a full run": the full run is the expensive part of the suite. (The war
    models of the workflow need a pre-war wave and four war waves, hence five.)
    """
    if not _SHARED:
        proj = make_project(tmp_path_factory.mktemp("demo"), EARLIER)
        out: dict = {"proj": proj, "mojibake": add_demo(proj)}
        out["added"] = add_demo(proj, "--encoding", "cp1251")
        mapping = proj / "config/waves" / f"{WAVE}.yaml"
        out["draft"] = mapping.read_text(encoding="utf-8") if mapping.exists() else ""
        out["confirm"] = resolve_demo(proj)
        out["check"] = pollwaves("check-wave", WAVE, "--root", str(proj))
        out["run"] = snakemake(proj)
        _SHARED.update(out)
    return _SHARED
