"""Stage: good attitude to each country by war stance, a wave at a time, then stacked.

Each wave is its own design (``svydesign(ids=~1, weights=~weight)``, raked on the
``weighting.variables`` as the toplines), so nothing in these tables pools waves. The per-wave
job (rule ``process_wave``) therefore writes the wave's shares, Rao-Scott tests and
supporter-opponent differences (:func:`run_attitudes_wave`), and the aggregate rule
``stack_waves`` only stacks them (:func:`run_attitudes`): adding a wave computes that
wave alone, and the study-wide job reads W small tables instead of every respondent. The
numbers are those of :func:`pollwaves.analysis.attitudes.attitudes_by_stance` and
:func:`~pollwaves.analysis.attitudes.stance_differences` on the stacked waves, unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pollwaves import files
from pollwaves.analysis.attitudes import (
    COUNTRIES,
    DIFF_COLUMNS,
    RS_COLUMNS,
    SHARE_COLUMNS,
    attitudes_by_stance,
    stance_differences,
)
from pollwaves.analysis.model_waves import exclusion_note
from pollwaves.errors import InputError
from pollwaves.stages.flags import parquet_flags, tag_simulated
from pollwaves.stages.pooled import pooled_waves

__all__ = ["run_attitudes", "run_attitudes_wave"]

PathLike = str | os.PathLike[str]
log = logging.getLogger(__name__)
STANCE = "war_support"


def run_attitudes_wave(
    data_path: PathLike,
    margins_path: PathLike,
    root: PathLike,
    settings: Mapping[str, Any],
    shares_out: PathLike,
    tests_out: PathLike,
    differences_out: PathLike,
) -> None:
    """One wave's attitude shares by stance, Rao-Scott tests and stance differences.

    ``data_path`` is the weighted wave file (``weight``: raked sampling weights, *not*
    frequency weights); ``settings`` holds ``estimation`` (``level``) and ``weighting``
    (``variables``: the raking columns, so every SE and test accounts for the raking). A wave
    that did not ask the stance question, or no country, gets the three tables with their
    columns and no row. Each row carries the wave's ``simulated`` flag (parquet metadata).
    """
    level = float(settings["estimation"]["level"])
    raking = settings["weighting"]["variables"]
    frame, cal = pooled_waves([data_path], raking, margins_path, root)
    flags = parquet_flags([data_path])
    asked = frame[STANCE].notna().any() and any(frame[c].notna().any() for c in COUNTRIES.values())
    if asked:
        res = attitudes_by_stance(frame, level=level, calibrated_on=cal)
        note = exclusion_note(res["waves"])
        if note:
            log.warning("%s.", note)
        shares, tests = res["shares"], res["tests"]
        diff = stance_differences(frame, flags, calibrated_on=cal, level=level)
    else:
        log.warning("The stance question or every attitude item is not asked in this wave.")
        shares = pd.DataFrame(columns=SHARE_COLUMNS)
        tests = pd.DataFrame(columns=RS_COLUMNS)
        diff = pd.DataFrame(columns=DIFF_COLUMNS)
    files.write_table(tag_simulated(shares, flags), shares_out)
    files.write_table(tag_simulated(tests, flags), tests_out)
    files.write_table(diff, differences_out)


def _stack(paths: Sequence[PathLike]) -> pd.DataFrame:
    """The per-wave tables one under the other, in wave order (tables without rows skipped)."""
    return files.read_tables(sorted(map(str, paths)), skip_empty=True, dtype={"wave": "string"})


def run_attitudes(
    shares: Sequence[PathLike],
    tests: Sequence[PathLike],
    differences: Sequence[PathLike],
    shares_out: PathLike,
    tests_out: PathLike,
    differences_out: PathLike,
) -> None:
    """Stack the per-wave tables of :func:`run_attitudes_wave` into the study-wide ones.

    ``reports/tables/attitudes_by_stance.csv``, ``attitudes_by_stance_tests.csv`` and
    ``stance_differences.csv``; an :class:`~pollwaves.errors.InputError` when no wave asked
    the stance question.
    """
    if not shares:
        raise InputError("No wave files to pool", hint="run the pipeline (snakemake) first")
    table = _stack(shares)
    if table.empty:
        raise InputError("The stance question was not asked in any wave", column=STANCE)
    files.write_table(table, shares_out)
    files.write_table(_stack(tests), tests_out)
    files.write_table(_stack(differences), differences_out)
