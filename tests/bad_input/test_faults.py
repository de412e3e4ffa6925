"""Faults during a workflow run (issue 14): nothing earlier is lost, reruns are identical.

On a copy of the shared demo build (tests/demo_project.py, one full run per session): a
report job that hits a file-size limit (disk full), SIGTERM and SIGKILL in the middle of
the report job followed by a rerun, a concurrent run refused by Snakemake's lock, and a
bad mapping refused up front with every earlier output in place. Only the report job is
rerun (``--forcerun public_demand_report``), so each case costs one job.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from demo_project import demo_project

REPORT = "reports/public_demand.html"


def digest(proj: Path) -> dict[str, str]:
    """sha256 of every file under reports/ and data/processed/."""
    out = {}
    for folder in ("reports", "data/processed"):
        for p in sorted((proj / folder).rglob("*")):
            if p.is_file():
                out[p.relative_to(proj).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def command(proj: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "1", "--directory", str(proj),
            "--snakefile", str(proj / "Snakefile"), *args]  # fmt: skip


def run(proj: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(command(proj, *args), capture_output=True, text=True, timeout=900,
                          **kw)  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    shared = demo_project(tmp_path_factory)
    assert shared["run"].returncode == 0, shared["run"].stderr[-3000:]
    proj = tmp_path_factory.mktemp("faults") / "proj"
    shutil.copytree(shared["proj"], proj, symlinks=True)  # times kept: up to date
    return proj, digest(proj)


def start_report(proj: Path) -> subprocess.Popen:
    """Start a run that rebuilds the report; return once the report job is running."""
    proc = subprocess.Popen(command(proj, "--forcerun", "public_demand_report"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 600
    while (proj / REPORT).exists():  # Snakemake removes the output when the job starts
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


def test_disk_full_in_the_report_job_keeps_the_last_report(built) -> None:
    proj, before = built
    limit = (proj / REPORT).stat().st_size // 2

    def fsize() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    fail = run(proj, "--forcerun", "public_demand_report", preexec_fn=fsize)
    out = fail.stdout + fail.stderr
    assert fail.returncode != 0
    assert "file-size limit" in out and REPORT in out and "How to fix" in out
    assert "Traceback" not in out
    assert digest(proj) == before  # the last good report is back, byte-identical
    assert not list((proj / "reports").glob(".*.tmp"))  # no temporary file left


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_run_then_a_rerun_gives_identical_outputs(built, sig) -> None:
    proj, before = built
    proc = start_report(proj)
    os.killpg(proc.pid, sig)
    proc.wait(timeout=300)
    assert proc.returncode != 0
    if sig == signal.SIGKILL:  # no handler ran: the lock stays, the report job is lost
        assert not (proj / REPORT).exists() or digest(proj)[REPORT] == before[REPORT]
        unlock = run(proj, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = run(proj, "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert digest(proj) == before


def test_a_concurrent_run_is_refused_by_the_lock(built) -> None:
    proj, before = built
    first = start_report(proj)
    os.killpg(first.pid, signal.SIGSTOP)  # hold the first run (and its lock) still
    try:
        second = run(proj, "--forcerun", "public_demand_report")
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    out = second.stdout + second.stderr
    assert second.returncode != 0
    assert "lock" in out.lower(), out[-2000:]
    assert first.wait(timeout=900) == 0, first.stdout.read()[-3000:]
    assert digest(proj) == before


def test_a_bad_mapping_is_refused_before_any_job(built) -> None:
    proj, before = built
    mapping = proj / "config/waves/2022-04.yaml"
    good = mapping.read_bytes()
    mapping.write_bytes(good.replace(b"format: dta", b"format: !!python/name:os.system"))
    try:
        fail = run(proj)
    finally:
        mapping.write_bytes(good)
    out = fail.stdout + fail.stderr
    assert fail.returncode != 0
    assert "before any job started" in out and "2022-04.yaml" in out and "tag" in out
    assert "Traceback" not in out
    assert digest(proj) == before
