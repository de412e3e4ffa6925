"""The stacked weighted wave files of a stage, with the raking columns the design needs.

Kept apart from :mod:`pollwaves.stages.models` so that the per-wave job, which also reads a
wave this way (:mod:`pollwaves.stages.attitudes`), does not import the model code
(statsmodels) at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pollwaves import config, files
from pollwaves.analysis.attitudes import load_pooled
from pollwaves.analysis.model_waves import coverage_table, model_terms
from pollwaves.errors import InputError
from pollwaves.stages.flags import parquet_flags, tag_simulated

__all__ = ["pooled_waves", "run_model_waves", "run_wave_model_coverage"]

PathLike = str | os.PathLike[str]


def pooled_waves(
    waves: Sequence[PathLike],
    raking: Sequence[str],
    margins_path: PathLike | None,
    root: PathLike | None,
    columns: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, list[str] | None]:
    """The stacked wave files with the raking columns (derived ones such as ``sex_age`` added
    from config/margins.yaml) and the list of those columns (``None`` when ``raking`` is
    empty). With ``columns`` only those, ``wave``, ``weight`` and the raking columns' sources
    are read from the files."""
    from pollwaves.intake.margins import add_derived_columns, load_margins

    raking = list(raking)
    derived: dict[str, Sequence[str]] = {}
    if raking:
        if margins_path is None or root is None:
            raise InputError("The raking columns need the margins file", value=raking)
        margins = load_margins(margins_path, config.schema_dir(root) / "margins.schema.yaml")
        derived = {k: v for k, v in margins["derived"].items() if k in raking}
    needed = None
    if columns is not None:
        sources = [c for r in raking for c in derived.get(r, [r])]
        needed = ["wave", "weight", *columns, *sources]
    pooled = load_pooled(waves, columns=needed)
    if not raking:
        return pooled, None
    return add_derived_columns(pooled, derived), raking


def run_wave_model_coverage(data: PathLike, settings: Mapping[str, Any], out: PathLike) -> None:
    """One wave's rows of ``reports/tables/model_waves.csv``, written by the wave's own job.

    ``data`` is the weighted wave file (``data/processed/waves/{wave}.parquet``); a model
    term the file lacks was not asked in the wave (the stacked waves would hold it as NA
    there). Columns ``model, outcome, wave, used, not_asked, reason, simulated``
    (:func:`pollwaves.analysis.model_waves.coverage_table`).
    """
    terms = list(dict.fromkeys(t for ts in model_terms(settings).values() for t in ts))
    frame = files.read_parquet(data, ["wave", *terms])
    for t in terms:
        if t not in frame.columns:
            frame[t] = pd.NA
    table = coverage_table(frame, settings)
    files.write_table(tag_simulated(table, parquet_flags([data])), out)


def run_model_waves(
    coverages: Sequence[PathLike], settings: Mapping[str, Any], out: PathLike
) -> None:
    """``reports/tables/model_waves.csv``: per pooled model and wave, used or not and why.

    Stacks the per-wave tables of :func:`run_wave_model_coverage` (one file per wave), model
    by model in :func:`pollwaves.analysis.model_waves.model_terms` order and waves sorted
    within each, as :func:`~pollwaves.analysis.model_waves.coverage_table` orders the
    stacked waves. The pooled microdata are not read.
    """
    order = {m: i for i, m in enumerate(model_terms(settings))}
    text = {c: "string" for c in ("model", "outcome", "wave", "not_asked", "reason")}
    parts = [files.read_table(p, dtype=text, keep_default_na=False) for p in coverages]
    if not parts:
        raise InputError("No per-wave model coverage tables", hint="run the pipeline first")
    table = pd.concat(parts, ignore_index=True)
    rank = table["model"].map(order)
    if rank.isna().any():
        bad = sorted(set(table.loc[rank.isna(), "model"]))
        raise InputError(
            "A per-wave model coverage table names models the settings do not have",
            value=bad,
            hint="rerun the per-wave jobs (snakemake) after editing `models` in config.yaml",
        )
    table = table.assign(_rank=rank).sort_values(["_rank", "wave"], kind="stable")
    files.write_table(table.drop(columns="_rank"), out)
