"""The ``simulated`` column of every output table: where the numbers come from.

A CSV copied out of the project must still say whether it rests on SIMULATED respondent
data. Per-wave rows take their wave's flag; rows from the real published toplines
(``source == "published"``) are ``False``; pooled results (models over several waves) are
``True`` when any wave they pool is simulated.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from pollwaves import config, files
from pollwaves.errors import InputError

__all__ = ["parquet_flag", "parquet_flags", "tag_simulated", "write_tagged", "yaml_flags"]

PathLike = str | os.PathLike[str]


def parquet_flag(path: PathLike) -> bool:
    """Whether one weighted wave file is SIMULATED, from its parquet metadata."""
    flag = files.parquet_metadata(path).get("simulated")
    if flag not in ("true", "false"):
        raise InputError(
            "the parquet file does not record whether the wave is simulated",
            file=str(path),
            hint="rerun the step that wrote it (snakemake --forcerun harmonise weight)",
        )
    return flag == "true"


def parquet_flags(paths: Sequence[PathLike]) -> dict[str, bool]:
    """Wave -> ``simulated`` from the weighted wave files' parquet metadata."""
    return {
        str(files.parquet_metadata(p).get("wave", Path(p).stem)): parquet_flag(p) for p in paths
    }


def yaml_flags(wave_yamls: Sequence[PathLike]) -> dict[str, bool]:
    """Wave -> ``simulated`` from the wave mappings (``config/waves/{wave}.yaml``)."""
    return {
        Path(p).stem: bool(config.load_yaml(p, copy=False).get("simulated", True))
        for p in wave_yamls
    }


def tag_simulated(
    table: pd.DataFrame, flags: Mapping[str, bool], *, source: str | None = None
) -> pd.DataFrame:
    """``table`` with a last column ``simulated`` (kept as it is when already there).

    Parameters
    ----------
    table : DataFrame
        An output table.
    flags : mapping
        Wave -> whether its respondent data are simulated.
    source : str, optional
        Column naming the evidence (``published`` rows are real published numbers).
    """
    if "simulated" in table.columns:
        cols = [c for c in table.columns if c != "simulated"]
        return table[[*cols, "simulated"]]
    pooled = any(flags.values())
    if "wave" in table.columns:
        flag = table["wave"].astype(str).map(lambda w: flags.get(w, pooled)).astype(bool)
    else:
        flag = pd.Series(pooled, index=table.index, dtype=bool)
    if source is not None and source in table.columns:
        flag = flag & (table[source].astype(str) != "published")
    return table.assign(simulated=flag.to_numpy(bool))


def write_tagged(
    tables: Mapping[str, pd.DataFrame],
    outputs: Mapping[str, PathLike],
    flags: Mapping[str, bool],
    source: str | None = None,
) -> None:
    """Write ``tables[name]`` to ``outputs[name]`` for every output, each with its
    ``simulated`` column (:func:`tag_simulated`)."""
    for name, path in outputs.items():
        files.write_table(tag_simulated(tables[name], flags, source=source), path)
