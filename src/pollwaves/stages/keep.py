"""Keep the last good published outputs (``reports/``) across a failed run (issue 14).

Snakemake removes a job's outputs before the job runs, so a job that then fails (disk
full, a bad input found late) would leave the report missing. The workflow therefore
copies every file under ``reports/`` to ``.snakemake/pollwaves-last-good/`` when a run
starts (``onstart:``) and, when a run fails (``onerror:``), puts back every copied file
that is missing or different, atomically. After a failed run ``reports/`` is the set of
the last run that got that far: the last good report next to its own tables. Files the
failed run created that had no earlier version stay. Restored files keep their old
modification times, so the next run rebuilds them from the current inputs.

The copies are plain files in the working directory; nothing else is kept.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pollwaves.files import atomic_write

__all__ = ["BACKUP", "KEPT", "backup_outputs", "restore_outputs"]

#: Folders whose files are kept (relative to the working directory).
KEPT = ("reports",)
#: Where the copies go (relative to the working directory).
BACKUP = ".snakemake/pollwaves-last-good"


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()


def backup_outputs(root: str | os.PathLike[str] = ".") -> list[Path]:
    """Copy every file under :data:`KEPT` to :data:`BACKUP` (changed files only).

    A file missing now (removed by an interrupted run) keeps its earlier copy.

    Parameters
    ----------
    root : str or path-like
        The working directory of the run.

    Returns
    -------
    list of pathlib.Path
        The files copied.
    """
    root = Path(root)
    copied = []
    for folder in KEPT:
        for src in _files(root / folder):
            dst = root / BACKUP / src.relative_to(root)
            if dst.is_file() and _same(src, dst):
                continue
            atomic_write(dst, lambda tmp, src=src: shutil.copy2(src, tmp))
            shutil.copystat(src, dst)
            copied.append(src)
    return copied


def restore_outputs(root: str | os.PathLike[str] = ".") -> list[Path]:
    """Put back every kept file that is missing or differs from its copy (atomically).

    Parameters
    ----------
    root : str or path-like
        The working directory of the run.

    Returns
    -------
    list of pathlib.Path
        The files restored.
    """
    root = Path(root)
    base = root / BACKUP
    restored = []
    for copy in _files(base):
        dst = root / copy.relative_to(base)
        if dst.is_file() and _same(copy, dst):
            continue
        atomic_write(dst, lambda tmp, copy=copy: shutil.copy2(copy, tmp))
        shutil.copystat(copy, dst)
        restored.append(dst)
    return restored
