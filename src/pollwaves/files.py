"""Deterministic, atomic file writers shared by every layer (tables, Parquet, any bytes).

A writer writes to a temporary file in the target folder and moves it into place
(``os.replace``): a failure never leaves a half-written file and an earlier good file stays
untouched. CSV tables are UTF-8 with ``\\n`` line endings and floats written with
:data:`FLOAT_FORMAT` (10 significant digits), so that committed numeric files are portable:
compare them by value, not byte for byte, across machines.
"""

from __future__ import annotations

import csv
import errno
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pollwaves.errors import InputError

__all__ = [
    "FLOAT_FORMAT",
    "WriteError",
    "atomic_write",
    "parquet_columns",
    "parquet_metadata",
    "defuse_cell",
    "read_parquet",
    "read_table",
    "read_tables",
    "restore_cell",
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


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?|[+-]?(inf|infinity|nan)", re.I)


def _is_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula (a plain number is harmless)."""
    if text[:1] == "'":
        return _is_formula(text[1:])
    return text[:1] in FORMULA_TRIGGERS and not _NUMBER.fullmatch(text)


def defuse_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with ``'`` (OWASP).

    A cell starting with ``= + - @``, a tab or a carriage return (and not a plain number
    such as ``-1.5``) gets a leading single quote; so does a cell that already starts with
    ``'`` followed by such text, so that :func:`restore_cell` undoes it exactly. Other
    values are returned unchanged.
    """
    if isinstance(value, str) and _is_formula(value):
        return "'" + value
    return value


def restore_cell(value: object) -> object:
    """Undo :func:`defuse_cell` (``restore_cell(defuse_cell(x)) == x`` for every ``x``)."""
    if isinstance(value, str) and value[:1] == "'" and _is_formula(value[1:]):
        return value[1:]
    return value


def _text_columns(df: pd.DataFrame) -> list:
    return [
        c
        for c in df.columns
        if df[c].dtype == object or isinstance(df[c].dtype, (pd.StringDtype, pd.CategoricalDtype))
    ]


def _map_text(
    df: pd.DataFrame, fn: Callable[[object], object], first: tuple[str, ...]
) -> pd.DataFrame:
    """``df`` with ``fn`` applied to every text cell and column name (a copy if changed).

    ``fn`` must return every text that does not start with one of ``first`` unchanged: it
    is called only on the cells that do (one vectorised first-character test per column).
    """
    names = [fn(c) for c in df.columns]
    todo = {}
    for c in _text_columns(df):
        col = df[c]
        text = col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col
        hit = _starts(text, first)
        if hit.any():
            todo[c] = (text, hit)
    if not todo and names == list(df.columns):
        return df
    out = df.copy()
    for c, (text, hit) in todo.items():
        values = text.to_numpy(dtype=object, copy=True)
        values[hit] = [fn(v) for v in values[hit]]
        mapped = pd.Series(values, index=df.index, name=c, dtype=object)
        if isinstance(df[c].dtype, pd.StringDtype):
            mapped = mapped.astype(df[c].dtype)
        out[c] = mapped
    out.columns = names
    return out


def _starts(col: pd.Series, first: tuple[str, ...]) -> np.ndarray:
    """Which cells of ``col`` are text starting with one of ``first`` (vectorised for text
    dtypes; other cells, numbers or missing, are never hits)."""
    if isinstance(col.dtype, pd.StringDtype):
        return col.str.startswith(first).fillna(False).to_numpy(dtype=bool)
    return np.fromiter((isinstance(v, str) and v.startswith(first) for v in col), bool, len(col))


def _table_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path; an :class:`InputError` naming it when the table does not exist."""
    path = Path(path)
    if not path.is_file():
        raise InputError("table not found", file=str(path), hint="run the step that writes it")
    return path


def _parquet_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path; an :class:`InputError` naming it when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        raise InputError("parquet file not found", file=str(path), hint="run the step first")
    return path


def read_table(path: str | os.PathLike[str], **kwargs: object) -> pd.DataFrame:
    """Read a CSV table written by :func:`write_table` (formula-defused cells restored).

    Parameters
    ----------
    path : str or path-like
        The table.
    **kwargs
        Passed to :func:`pandas.read_csv` (``dtype``, ``keep_default_na``, ...).

    Returns
    -------
    pandas.DataFrame
        The table as it was written: numeric columns unaffected, text cells and column
        names that :func:`write_table` prefixed with ``'`` restored.

    Raises
    ------
    InputError
        If the file does not exist.
    """
    path = _table_file(path)
    return _map_text(pd.read_csv(path, **kwargs), restore_cell, ("'",))


def read_tables(
    paths: Sequence[str | os.PathLike[str]], *, skip_empty: bool = False, **kwargs: object
) -> pd.DataFrame:
    """The tables of :func:`read_table` one under the other (``pd.concat``, index reset).

    With ``skip_empty`` the tables without rows are left out (all of them empty: the first,
    for its columns). The defused cells are restored once, on the stacked table: the same
    result as restoring each table, without a pass over every file's text columns.

    Raises
    ------
    InputError
        If no path is given or a file does not exist.
    """
    frames = [pd.read_csv(_table_file(p), **kwargs) for p in paths]
    if not frames:
        raise InputError("No tables to stack", hint="run the pipeline (snakemake) first")
    kept = ([f for f in frames if len(f)] or frames[:1]) if skip_empty else frames
    return _map_text(pd.concat(kept, ignore_index=True), restore_cell, ("'",))


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a CSV table deterministically and atomically, formula cells defused.

    UTF-8, ``\\n`` line endings, floats with 10 significant digits, no index; written to a
    temporary file in the target folder and moved into place (``os.replace``), so a
    failure never leaves a half-written file and an existing file stays untouched. Text
    cells and column names that a spreadsheet would run as a formula (``=HYPERLINK(...)``,
    ``+cmd|...``, ``@SUM``, ``-2+3``) get a leading ``'`` (:func:`defuse_cell`, OWASP CSV
    injection advice); :func:`read_table` removes it again, so tables round-trip.

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

    safe = _map_text(df, defuse_cell, (*FORMULA_TRIGGERS, "'"))
    # Python < 3.12 does not quote a bare carriage return when the line ends in "\n": such
    # a cell would split its row. Then every text cell is quoted (numbers stay bare).
    cr = any(
        isinstance(v, str) and "\r" in v for c in _text_columns(safe) for v in safe[c].tolist()
    )
    quoting = csv.QUOTE_NONNUMERIC if cr else csv.QUOTE_MINIMAL

    def _write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            safe.to_csv(
                fh,
                index=False,
                lineterminator="\n",
                float_format=FLOAT_FORMAT,
                quoting=quoting,
            )

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


def parquet_columns(path: str | os.PathLike[str]) -> list[str]:
    """Column names of a Parquet file (its schema only; no data is read).

    Raises
    ------
    InputError
        If the file does not exist.
    """
    import pyarrow.parquet as pq

    path = _parquet_file(path)
    return list(pq.read_schema(path).names)


def parquet_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """Key-value metadata of a Parquet file written by :func:`write_parquet`.

    pandas' own ``pandas`` entry is left out.

    Raises
    ------
    InputError
        If the file does not exist.
    """
    import pyarrow.parquet as pq

    path = _parquet_file(path)
    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if k != b"pandas"}


def read_parquet(
    path: str | os.PathLike[str], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_parquet`.

    Parameters
    ----------
    path : str or path-like
        The file.
    columns : list of str, optional
        Read only these columns, those of them the file has (``None``: all).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        If the file does not exist.
    """
    path = _parquet_file(path)
    if columns is not None:
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
        columns = [c for c in dict.fromkeys(columns) if c in names]
    return pd.read_parquet(path, engine="pyarrow", columns=columns)
