"""Stage: the claims ledger, from the result tables (never respondents).

Kept apart from :mod:`pollwaves.stages.models`: the claims job reads tables only, so it does
not import the model code (statsmodels) at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from pollwaves import config, files
from pollwaves.analysis.claims import Tables, evaluate_claims
from pollwaves.errors import InputError
from pollwaves.stages.flags import write_tagged

__all__ = ["run_claims"]

PathLike = str | os.PathLike[str]


def _read(path: PathLike) -> pd.DataFrame:
    return files.read_table(path, dtype={"wave": "string", "category": "string"})


def run_claims(
    published_csv: PathLike,
    toplines_csv: PathLike,
    contrasts_csv: PathLike,
    stance_csv: PathLike,
    stance_tests_csv: PathLike,
    wave_yamls: Sequence[PathLike],
    claims_yaml: PathLike,
    root: PathLike,
    published_deff: float,
    outputs: Mapping[str, PathLike],
    *,
    level: float = 0.95,
    stance_differences_csv: PathLike | None = None,
    history_csv: PathLike | None = None,
) -> None:
    """Evaluate the claims ledger per window and source (published, real and simulated microdata).

    ``level`` is ``estimation.level`` (config.yaml), the level of every interval of the input
    tables; ``config/claims.yaml`` may repeat it as ``level`` but must then agree.
    ``stance_differences_csv`` (``reports/tables/stance_differences.csv``, a co-output of the
    rule that writes ``stance_csv``) is used when it exists; otherwise the stance gap uses the
    domain shares with zero covariance and says so. ``history_csv`` is the previous
    build's ledger, read only (the workflow's ``onstart:`` keeps it with
    :func:`pollwaves.stages.keep.backup_outputs`), for ``outputs["changes"]``
    (:mod:`pollwaves.analysis.claims_history`); when missing, nothing has changed.
    """
    from pollwaves.analysis.claims_history import ledger_changes

    cfg = config.load_yaml(claims_yaml)
    config.validate(cfg, config.schema_dir(root) / "claims.schema.yaml", source=str(claims_yaml))
    if "level" in cfg and abs(float(cfg["level"]) - float(level)) > 1e-12:
        raise InputError(
            "config/claims.yaml `level` differs from estimation.level in config.yaml",
            value=cfg["level"],
            hint=f"remove `level` from {claims_yaml} or set it to {level}",
        )
    specs = {Path(p).stem: config.load_yaml(p, copy=False) for p in wave_yamls}
    fieldwork = {w: pd.Timestamp(s["fieldwork"]["start"]) for w, s in specs.items()}
    diffs = None
    if stance_differences_csv is not None and Path(stance_differences_csv).exists():
        diffs = _read(stance_differences_csv)
    tables = Tables(
        published=_read(published_csv),
        toplines=_read(toplines_csv),
        contrasts=_read(contrasts_csv),
        stance_shares=_read(stance_csv),
        stance_tests=_read(stance_tests_csv),
        fieldwork=fieldwork,
        published_deff=float(published_deff),
        simulated={w: bool(s.get("simulated", True)) for w, s in specs.items()},
        stance_differences=diffs,
    )
    ledger, evidence, sens = evaluate_claims(tables, cfg, level=float(level))
    previous = None
    if history_csv is not None and Path(history_csv).exists():
        previous = files.read_table(
            history_csv, dtype={"waves_used": "string"}, keep_default_na=False
        )
        if not set(ledger.columns) <= set(previous.columns):
            previous = None  # a ledger of an older format: nothing to compare with
    tables_out = {"ledger": ledger, "evidence": evidence, "sensitivity": sens,
                  "changes": ledger_changes(previous, ledger)}  # fmt: skip
    flags = {w: bool(s.get("simulated", True)) for w, s in specs.items()}
    write_tagged({k: v for k, v in tables_out.items() if k in outputs}, outputs, flags, "source")
