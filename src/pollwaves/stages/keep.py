"""Keep the last good published outputs (``reports/``) across a failed run (issue 14).

Snakemake removes a job's outputs before the job runs, so a job that then fails (disk
full, a bad input found late) would leave the report missing. The workflow therefore
keeps every file under ``reports/`` in ``.snakemake/pollwaves-last-good/`` when a run
starts (``onstart:``) and, when a run fails (``onerror:``), puts back every kept file that
is missing or different, atomically. The kept files are hard links (a plain copy where
the file system has none): they need no disk space, so they work on a full disk too, and
they stay intact because Snakemake removes an output before its job writes a new file
(every writer of the project writes a new file and renames it into place). After a failed run ``reports/`` is the set of
the last run that got that far: the last good report next to its own tables. Files the
failed run created that had no earlier version stay. Restored files keep their old
modification times, so the next run rebuilds them from the current inputs.

The kept copy of ``reports/tables/claims_ledger.csv`` is also the previous build's ledger
that the ``claims`` job compares with (read only), so no job writes a file outside its
declared outputs.

Nothing outside the working directory is touched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pollwaves.files import WriteError, write_error

__all__ = ["BACKUP", "KEPT", "WriteError", "backup_outputs", "restore_outputs"]

#: Folders whose files are kept (relative to the working directory).
KEPT = ("reports",)
#: Where the copies go (relative to the working directory).
BACKUP = ".snakemake/pollwaves-last-good"


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _same(a: Path, b: Path) -> bool:
    if os.path.samefile(a, b):
        return True
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()


def _place(src: Path, dst: Path) -> None:
    """Make ``dst`` a hard link to ``src`` (else a copy), atomically, times kept."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.keep.tmp")
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(exc, dst) from exc


def backup_outputs(root: str | os.PathLike[str] = ".") -> list[Path]:
    """Keep every file under :data:`KEPT` in :data:`BACKUP` (changed files only).

    A file missing now (removed by an interrupted run) keeps its earlier copy.

    Parameters
    ----------
    root : str or path-like
        The working directory of the run.

    Returns
    -------
    list of pathlib.Path
        The files kept anew.

    Raises
    ------
    WriteError
        If a file can be neither linked nor copied.
    """
    root = Path(root)
    copied = []
    for folder in KEPT:
        for src in _files(root / folder):
            dst = root / BACKUP / src.relative_to(root)
            if dst.is_file() and _same(src, dst):
                continue
            _place(src, dst)
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

    Raises
    ------
    WriteError
        If a file can be neither linked nor copied back.
    """
    root = Path(root)
    base = root / BACKUP
    restored = []
    for copy in _files(base):
        dst = root / copy.relative_to(base)
        if dst.is_file() and _same(copy, dst):
            continue
        _place(copy, dst)
        restored.append(dst)
    return restored
