"""The stacked weighted wave files of a stage, with the raking columns the design needs.

Kept apart from :mod:`pollwaves.stages.models` so that the per-wave job, which also reads a
wave this way (:mod:`pollwaves.stages.attitudes`), does not import the model code
(statsmodels) at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from pollwaves import config
from pollwaves.analysis.attitudes import load_pooled
from pollwaves.errors import InputError

__all__ = ["pooled_waves"]

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
