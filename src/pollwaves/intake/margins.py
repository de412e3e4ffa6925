"""Raking margins ``config/margins.yaml`` and the derived raking columns (``sex_age``).

The margins are documented assumptions (derived urban targets); :func:`load_margins` turns
them into population totals for :func:`pollwaves.survey.weighting.rake`, and
:func:`add_derived_columns` builds the joined columns that some margins are defined on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pollwaves import config
from pollwaves.errors import InputError

__all__ = ["add_derived_columns", "load_margins"]

PathLike = str | os.PathLike[str]


def load_margins(path: PathLike, schema_path: PathLike) -> dict[str, Any]:
    """Load and validate ``config/margins.yaml``.

    Returns
    -------
    dict
        ``{"total": population_total, "targets": {column: {category: total}},
        "derived": {column: [source columns]}}`` with targets as population totals (shares
        times the population total), ready for :func:`pollwaves.survey.weighting.rake`.
    """
    data = config.load_yaml(path)
    config.validate(data, schema_path, source=str(path))
    total = float(data["population_total"]["value"])
    targets, derived = {}, {}
    for name, spec in data["margins"].items():
        shares = {str(k): float(v) for k, v in spec["targets"].items()}
        s = sum(shares.values())
        if abs(s - 1) > 1e-6:
            raise InputError(
                f"Margin shares sum to {s:.6f}, not 1",
                file=str(path),
                key=f"margins.{name}.targets",
                hint="correct the shares so that they sum to 1",
            )
        targets[name] = {k: v * total for k, v in shares.items()}
        if "derived_from" in spec:
            derived[name] = list(spec["derived_from"])
    return {"total": total, "targets": targets, "derived": derived}


def add_derived_columns(df: pd.DataFrame, derived: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Add raking columns built by joining source columns with ``_`` (e.g. ``sex_age``)."""
    out = df.copy()
    for name, cols in derived.items():
        parts = [out[c].astype("string") for c in cols]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined + "_" + p
        out[name] = joined
    return out
