"""Deterministic, atomic file writers shared by every layer (tables, Parquet, any bytes).

A writer writes to a temporary file in the target folder and moves it into place
(``os.replace``): a failure never leaves a half-written file and an earlier good file stays
untouched. CSV tables are UTF-8 with ``\\n`` line endings and floats written with
:data:`FLOAT_FORMAT` (10 significant digits), so that committed numeric files are portable:
compare them by value, not byte for byte, across machines.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from pollwaves.errors import InputError

__all__ = [
    "FLOAT_FORMAT",
    "WriteError",
    "atomic_write",
    "parquet_metadata",
    "read_parquet",
    "write_error",
    "write_parquet",
    "write_table",
]

FLOAT_FORMAT = "%.10g"
"""printf format of every float in a CSV table: 10 significant digits."""


class WriteError(InputError):
    """An output could not be written (read-only folder, disk full, file-size limit).

    The message names the path and the fix; the earlier file at the path is untouched.
    """


def write_error(exc: OSError, path: Path) -> WriteError:
    """A :class:`WriteError` naming ``path`` and the fix for the kind of ``exc``."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM, errno.EROFS):
        problem = "permission denied: the output folder is not writable"
        hint = f"make {path.parent} writable (chmod u+w) or run in a copy of the project you own"
    elif code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        problem = f"the disk is full or a file-size limit was reached ({exc.strerror})"
        hint = "free disk space (or raise the file-size limit: ulimit -f) and rerun"
    else:
        problem = f"cannot write the file ({exc.strerror or exc})"
        hint = "check the path, the free disk space and the folder permissions, then rerun"
    return WriteError(f"{problem}; the earlier file is unchanged", file=str(path), hint=hint)


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Write via ``write(tmp)`` to a temp file next to ``path``, then ``os.replace``.

    A failing ``write`` leaves no temporary file and the previous ``path`` untouched. An
    ``OSError`` (read-only folder, disk full, file-size limit) becomes a
    :class:`WriteError` naming ``path`` and the fix.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(exc, path) from exc
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            raise write_error(exc, path) from exc
        raise
    return path


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a CSV table deterministically and atomically.

    UTF-8, ``\\n`` line endings, floats with 10 significant digits, no index; written to a
    temporary file in the target folder and moved into place (``os.replace``), so a
    failure never leaves a half-written file and an existing file stays untouched.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    path : str or path-like
        Target file; parent folders are created.

    Returns
    -------
    pathlib.Path
        The written path.
    """

    def _write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False, lineterminator="\n", float_format=FLOAT_FORMAT)

    return atomic_write(path, _write)


def write_parquet(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write a Parquet file (pyarrow, no pandas index) deterministically and atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    path : str or path-like
        Target file; parent folders are created.
    metadata : mapping of str to str, optional
        Key-value pairs added to the file's schema metadata (e.g. ``wave``, ``simulated``),
        in sorted key order; read them back with :func:`parquet_metadata`.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def _write(tmp: Path) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        if metadata:
            extra = {str(k).encode(): str(metadata[k]).encode() for k in sorted(metadata)}
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
        pq.write_table(table, tmp)

    return atomic_write(path, _write)


def parquet_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Key-value metadata of a Parquet file written by :func:`write_parquet`.

    pandas' own ``pandas`` entry is left out.

    Raises
    ------
    InputError
        If the file does not exist.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise InputError("parquet file not found", file=str(path), hint="run the step first")
    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if k != b"pandas"}


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_parquet`.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        If the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("parquet file not found", file=str(path), hint="run the step first")
    return pd.read_parquet(path, engine="pyarrow")
