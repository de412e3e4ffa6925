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

__all__ = [
    "GROUP_COLUMNS",
    "group_rows",
    "pooled_waves",
    "run_model_waves",
    "run_wave_model_coverage",
    "run_wave_model_rows",
]

PathLike = str | os.PathLike[str]
#: The grouped model rows' columns: respondents per row and their summed squared weights
#: (no codebook variable may take these names: :data:`pollwaves.stages.preflight.GROUPED_NAMES`).
GROUP_COLUMNS = ("respondents", "weight_sq")
#: The pooled models fitted on the grouped rows (:func:`run_wave_model_rows`).
GROUPED_MODELS = ("trend", "subgroup", "alliance")


def _margins(
    raking: Sequence[str], margins_path: PathLike | None, root: PathLike | None
) -> dict[str, Any] | None:
    """The loaded margins file the raking columns are defined in (``None`` without raking)."""
    from pollwaves.intake.margins import load_margins

    if not raking:
        return None
    if margins_path is None or root is None:
        raise InputError("The raking columns need the margins file", value=list(raking))
    return load_margins(margins_path, config.schema_dir(root) / "margins.schema.yaml")


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
    from pollwaves.intake.mapping import raking_sources
    from pollwaves.intake.margins import add_derived_columns

    raking = list(raking)
    margins = _margins(raking, margins_path, root)
    needed = None
    if columns is not None:
        sources = raking_sources(raking, margins) if margins else []
        needed = ["wave", "weight", *columns, *sources]
        needed += list(GROUP_COLUMNS)  # grouped model rows (none in the wave files)
    pooled = load_pooled(waves, columns=needed)
    if margins is None:
        return pooled, None
    derived = {k: v for k, v in margins["derived"].items() if k in raking}
    return add_derived_columns(pooled, derived), raking


def group_rows(frame: pd.DataFrame, keys: Sequence[str], weight: str = "weight") -> pd.DataFrame:
    """One row per distinct pattern of ``keys`` (missing values a pattern of their own).

    The patterns are sorted; ``weight`` becomes the sum of the respondents' sampling weights
    (never frequency weights), ``respondents`` their number and ``weight_sq`` the sum of
    their squared weights (:data:`GROUP_COLUMNS`): the grouped rows of
    :class:`pollwaves.survey.design.RowGroups`, on which the design-based estimates and SEs
    equal those of the respondents when ``keys`` hold the stratum and every variable of
    the analysis.
    """
    w = frame[weight].to_numpy(dtype=float)
    sums = pd.DataFrame({weight: w, GROUP_COLUMNS[0]: 1, GROUP_COLUMNS[1]: w * w})
    grouped = sums.groupby([frame[k] for k in keys], sort=True, observed=True, dropna=False)
    out = grouped.sum().reset_index()
    return out[[*keys, weight, *GROUP_COLUMNS]]


def run_wave_model_rows(
    data: PathLike,
    settings: Mapping[str, Any],
    raking: Sequence[str],
    margins_path: PathLike | None,
    root: PathLike | None,
    out: PathLike,
) -> None:
    """The wave's respondents grouped for the pooled models (``data/processed/model_rows/``).

    One row per distinct pattern of the wave, the trend, subgroup and alliance models' terms
    (``settings``: the ``models`` block) and the raking columns' sources (``raking``, derived
    ones from ``margins_path``): :func:`group_rows`. Written by the wave's own job, so the
    pooled model jobs read a few hundred rows per wave instead of every respondent. A term
    the wave did not ask is left out, as in the wave file. The parquet metadata (``wave``,
    ``simulated``) are those of the wave file: the rows are as simulated as it is.
    """
    from pollwaves.intake.mapping import raking_sources

    terms = model_terms(settings)
    margins = _margins(raking, margins_path, root)
    cols = ["wave", *(t for m in GROUPED_MODELS for t in terms[m])]
    cols = list(dict.fromkeys([*cols, *(raking_sources(raking, margins) if margins else [])]))
    clash = [c for c in GROUP_COLUMNS if c in files.parquet_columns(data)]
    if clash:
        raise InputError(
            "A wave file has a column named like a grouped-rows column",
            file=str(data),
            column=clash[0],
            hint="rename that variable in config/codebook.yaml (the names "
            f"{', '.join(GROUP_COLUMNS)} are taken by data/processed/model_rows/)",
        )
    frame = files.read_parquet(data, [*cols, "weight"])
    keys = [c for c in cols if c in frame.columns]
    meta = files.parquet_metadata(data)
    files.write_parquet(group_rows(frame, keys), out, metadata=meta)


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
    if not coverages:
        raise InputError("No per-wave model coverage tables", hint="run the pipeline first")
    table = files.read_tables(coverages, dtype=text, keep_default_na=False)
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
