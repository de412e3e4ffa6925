"""Small copies of the project in a temporary folder, for the end-to-end workflow tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

# everything the workflow reads except the waves: every config file and raw input folder
COPY = ["Snakefile", "workflow", "benchmarks/results",
        *(p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "config").glob("*.yaml"))),
        *(p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "data/raw").iterdir())
          if p.is_dir() and p.name != "waves")]  # fmt: skip


def make_project(tmp: Path, waves: list[str]) -> Path:
    """Copy the project into ``tmp / "proj"`` with only ``waves``."""
    proj = tmp / "proj"
    for rel in COPY:
        src, dst = ROOT / rel, proj / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    (proj / "config/waves").mkdir(parents=True)
    (proj / "data/raw/waves").mkdir(parents=True)
    for wave in waves:
        copy_wave(proj, wave)
    return proj


def copy_wave(proj: Path, wave: str) -> None:
    """Copy one existing wave (mapping and delivery) into ``proj``."""
    mapping = ROOT / "config/waves" / f"{wave}.yaml"
    shutil.copy2(mapping, proj / "config/waves" / mapping.name)
    delivery = yaml.safe_load(mapping.read_text(encoding="utf-8"))["file"]
    shutil.copy2(ROOT / delivery, proj / delivery)


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run snakemake on ``workdir`` (2 cores), capturing the output."""
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", str(workdir),
           "--snakefile", str(workdir / "Snakefile"), *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)
