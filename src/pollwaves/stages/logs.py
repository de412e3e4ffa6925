"""The log file of a Snakemake rule: every failure goes there with its traceback."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pollwaves.errors import InputError

__all__ = ["log_errors"]


@contextmanager
def log_errors(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Run the body of a rule script; on an error write it and its traceback to ``path``.

    The log file is emptied on entry, so it never shows the error of an earlier run. An
    :class:`~pollwaves.errors.InputError` (bad input, or an output that cannot be written:
    read-only folder, disk full) is printed as one message without a traceback on the
    console (the traceback stays in the log) and the script exits with status 1; a
    programming error (anything else) is re-raised unchanged. Either way the rule fails
    with a non-zero exit.

    Parameters
    ----------
    path : str or path-like or None
        The rule's log file (``snakemake.log[0]``); ``None`` logs nothing.

    Examples
    --------
    In ``workflow/scripts/weight.py``::

        with log_errors(snakemake.log[0]):
            run_weight(...)
    """
    log = Path(path) if path is not None else None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("", encoding="utf-8")
    try:
        yield
    except BaseException as exc:
        if log is not None:
            text = "".join(traceback.format_exception(exc))
            try:
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write(f"ERROR: {exc}\n\n{text}")
            except OSError:
                pass  # a full disk must not hide the real error
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            from pollwaves.files import write_error

            exc = write_error(exc, Path(exc.filename or "(unknown file)"))
        if isinstance(exc, InputError):
            where = f" (details: {log})" if log is not None else ""
            print(f"error: {exc}{where}", file=sys.stderr)
            raise SystemExit(1) from None
        raise
