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

__all__ = ["pooled_waves", "run_model_waves"]

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


def run_model_waves(waves: Sequence[PathLike], settings: Mapping[str, Any], out: PathLike) -> None:
    """``reports/tables/model_waves.csv``: per pooled model and wave, used or not and why.

    Columns ``model, outcome, wave, used, not_asked, reason``
    (:func:`pollwaves.analysis.model_waves.coverage_table`, with the terms the model stages
    select their waves by).
    """
    terms = [t for ts in model_terms(settings).values() for t in ts]
    table = coverage_table(load_pooled(waves, columns=["wave", *terms]), settings)
    files.write_table(tag_simulated(table, parquet_flags(waves)), out)
