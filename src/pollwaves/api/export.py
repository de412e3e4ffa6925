"""Labelled exports of the stacked weighted waves for SPSS, Stata, R and Arrow users.

:func:`export_waves` stacks the weighted, harmonised wave files
(``data/processed/waves/{wave}.parquet``), adds the derived raking columns (``sex_age``) and
a ``simulated`` column, and writes

- ``sav`` / ``dta``: every codebook variable as numeric codes ``1..k`` in questionnaire
  (codebook) order with value labels, and variable labels (pyreadstat; R ``haven`` reads
  them as ``labelled`` vectors);
- ``parquet``: answers as categoricals in questionnaire order; the schema metadata holds
  ``simulated`` (JSON ``{wave: true|false}``), ``codebook_version``, ``weighting`` and
  ``estimation`` (JSON settings), ``labels`` (JSON), ``weight_kind`` and the pollwaves version;
- ``csv``: the codebook codes as text.

``weight`` is the raked SAMPLING weight (not a frequency weight): declare it as such
(``svydesign(ids = ~1, strata = ~wave, weights = ~weight)``; Stata ``svyset [pweight=weight],
strata(wave)``; SPSS Complex Samples), and calibrate on the raking columns per wave for
raking-aware standard errors. The bundled respondent-level data are SIMULATED. Every file is
written atomically (:func:`pollwaves.files.atomic_write`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pollwaves import __version__, files
from pollwaves.api.output import write_csv
from pollwaves.api.project import (
    Project,
    load_project,
    read_waves,
    resolve_waves,
    settings_json,
)
from pollwaves.errors import InputError

__all__ = ["FORMATS", "export_frame", "export_waves", "labelled_codes", "variable_labels"]

FORMATS = ("sav", "dta", "parquet", "csv")
STATA_LABEL_MAX = 80
SIMULATED_LABELS = {0: "real respondent-level data", 1: "SIMULATED respondent-level data"}


def export_frame(project: Project, waves: Sequence[str]) -> pd.DataFrame:
    """The stacked weighted waves, answers as ordered codebook categoricals, ``simulated``."""
    df = read_waves(project, waves)
    df["simulated"] = df["wave"].map({w: project.simulated(w) for w in waves}).astype(bool)
    first = [c for c in ("wave", "resp_id") if c in df]
    rest = [c for c in df.columns if c not in first and c != "simulated"]
    return df[[*first, *rest, "simulated"]].reset_index(drop=True)


def variable_labels(project: Project, columns: Sequence[str]) -> dict[str, str]:
    """Variable labels: the codebook's, else descriptions of the columns pollwaves adds."""
    extra = {
        "wave": "Wave (YYYY-MM): pooled waves are independent samples (strata)",
        "weight": "Raked sampling weight (not a frequency weight)",
        "simulated": "Respondent-level data of this wave are SIMULATED (1) or real (0)",
    }
    for name, src in project.derived.items():
        extra[name] = "Raking cell " + " x ".join(src) + " (derived)"
    out = {}
    for c in columns:
        out[c] = project.label(c) if c in project.variables() else extra.get(c, c)
    return out


def labelled_codes(project: Project, df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Codebook categoricals as numbers ``1..k`` (questionnaire order) and their labels."""
    out = df.copy()
    value_labels: dict[str, dict[int, str]] = {}
    for col in out.columns:
        cats = project.categories(col)
        if not cats:
            continue
        labels = project.category_labels(col)
        codes = pd.Categorical(out[col].astype("string"), categories=cats).codes
        out[col] = np.where(codes >= 0, codes + 1, np.nan)
        value_labels[col] = {i + 1: labels[c] for i, c in enumerate(cats)}
    out["simulated"] = out["simulated"].astype(int)
    value_labels["simulated"] = dict(SIMULATED_LABELS)
    for col in out.columns:
        if col not in value_labels and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    return out, value_labels


def _metadata(project: Project, waves: Sequence[str]) -> dict[str, str]:
    labels = {
        v: {"label": project.label(v), "categories": project.category_labels(v)}
        for v in project.variables()
    }
    return {
        "simulated": json.dumps({w: project.simulated(w) for w in waves}, sort_keys=True),
        "waves": json.dumps(list(waves)),
        "codebook_version": project.codebook_version,
        "settings": settings_json(project),
        "weighting": json.dumps(project.settings.get("weighting"), sort_keys=True),
        "raking_variables": json.dumps(project.raking),
        "derived_raking_columns": json.dumps(project.derived, sort_keys=True),
        "labels": json.dumps(labels, ensure_ascii=False),
        "weight_kind": "sampling weight (raked), not a frequency weight; strata = wave",
        "pollwaves_version": __version__,
    }


def _file_label(project: Project, waves: Sequence[str]) -> str:
    sim = any(project.simulated(w) for w in waves)
    return ("pollwaves export" + (", SIMULATED data" if sim else ""))[:STATA_LABEL_MAX]


def default_path(root: Path, fmt: str) -> Path:
    """``exports/pollwaves.{fmt}`` under the project root."""
    return root / "exports" / f"pollwaves.{fmt}"


def export_waves(
    fmt: str,
    waves: str | Sequence[str] | None = "all",
    root: str | os.PathLike[str] = ".",
    out: str | os.PathLike[str] | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the stacked, harmonised, weighted waves with labels (see the module docstring).

    Parameters
    ----------
    fmt : {"sav", "dta", "parquet", "csv"}
        Output format.
    waves : str or list of str
        Wave ids or ``"all"``.
    root : str or path-like
        Project root.
    out : path-like, optional
        Output file (default ``exports/pollwaves.{fmt}`` under ``root``).
    progress : callable, optional
        Called with a short message at each step (the CLI prints them to stderr).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputError
        For an unknown format or wave (listing what exists).
    """
    if fmt not in FORMATS:
        raise InputError("unknown export format", value=fmt, hint=f"use {', '.join(FORMATS)}")
    say = progress or (lambda _msg: None)
    project = load_project(root)
    chosen = resolve_waves(project, waves)
    say(f"reading {len(chosen)} weighted wave(s): {', '.join(chosen)}")
    df = export_frame(project, chosen)
    path = Path(out) if out is not None else default_path(Path(root), fmt)
    say(f"writing {len(df):,} respondents x {df.shape[1]} columns to {path}")
    if fmt == "parquet":
        return files.write_parquet(df, path, metadata=_metadata(project, chosen))
    if fmt == "csv":
        return write_csv(df.astype({c: object for c in df.select_dtypes("category")}), path)
    return _write_labelled(project, df, chosen, fmt, path)


def _write_labelled(
    project: Project, df: pd.DataFrame, waves: Sequence[str], fmt: str, path: Path
) -> Path:
    import pyreadstat

    data, value_labels = labelled_codes(project, df)
    labels = variable_labels(project, list(data.columns))
    kwargs: dict[str, Any] = {
        "file_label": _file_label(project, waves),
        "column_labels": labels,
        "variable_value_labels": value_labels,
    }
    if fmt == "dta":
        kwargs["column_labels"] = {k: v[:STATA_LABEL_MAX] for k, v in labels.items()}
        writer = pyreadstat.write_dta
    else:
        # SPSS document lines hold at most 80 characters each
        kwargs["note"] = [
            f"pollwaves {__version__}; codebook {project.codebook_version}",
            "weight = raked sampling weight (not frequency), strata = wave",
            "simulated = 1: SIMULATED respondent-level data",
        ]
        writer = pyreadstat.write_sav

    def _write(tmp: Path) -> None:
        writer(data, str(tmp), **kwargs)

    return files.atomic_write(path, _write)
