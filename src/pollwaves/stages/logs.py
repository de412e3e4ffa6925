"""The log file of a Snakemake rule: every failure goes there with its traceback."""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["log_errors"]


@contextmanager
def log_errors(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Run the body of a rule script; on an error write it and its traceback to ``path``.

    The log file is emptied on entry, so it never shows the error of an earlier run. The
    exception is re-raised unchanged: the rule still fails with a non-zero exit and
    Snakemake still prints the message on the console.

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
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"ERROR: {exc}\n\n{text}")
        raise
