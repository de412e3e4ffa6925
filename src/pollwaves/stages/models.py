"""Workflow stages of the pooled models and the claims ledger: paths in, files out.

Each function is what one aggregate Snakemake rule runs. The pooled data are the weighted
wave files (``data/processed/waves/*.parquet``; SIMULATED respondents); waves are
independent samples, so every pooled model uses the wave as a stratum.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pollwaves import config, files
from pollwaves.analysis.attitudes import load_pooled, wave_mid_dates
from pollwaves.analysis.claims import Tables, evaluate_claims
from pollwaves.analysis.model_waves import (
    coverage_table,
    exclusion_note,
    model_terms,
    select_waves,
)
from pollwaves.analysis.subgroups import subgroup_model
from pollwaves.analysis.trends import trend_models
from pollwaves.errors import InputError
from pollwaves.stages.flags import parquet_flags, tag_simulated
from pollwaves.stages.pooled import pooled_waves
from pollwaves.survey import dist

PathLike = str | os.PathLike[str]
log = logging.getLogger(__name__)


def _note(coverage: pd.DataFrame) -> None:
    """Log the waves a model leaves out because a term was not asked (none: silent)."""
    note = exclusion_note(coverage)
    if note:
        log.warning("%s.", note)


def _write_all(
    tables: Mapping[str, pd.DataFrame],
    outputs: Mapping[str, PathLike],
    flags: Mapping[str, bool],
    source: str | None = None,
) -> None:
    """Write each table with its ``simulated`` column (:func:`pollwaves.stages.flags.tag_simulated`)."""
    for name, path in outputs.items():
        files.write_table(tag_simulated(tables[name], flags, source=source), path)


def _read(path: PathLike) -> pd.DataFrame:
    return files.read_table(path, dtype={"wave": "string", "category": "string"})


def run_war_models(
    waves: Sequence[PathLike],
    wave_yamls: Sequence[PathLike],
    settings: Mapping[str, Any],
    notice: str,
    outputs: Mapping[str, PathLike],
    forest_png: PathLike,
    forest_svg: PathLike,
    *,
    level: float,
    raking: Sequence[str] = (),
    margins_path: PathLike | None = None,
    root: PathLike | None = None,
) -> None:
    """Trend models (linear, spline, wave effects) and the subgroup model of war support.

    ``level`` is the confidence level of every interval (``estimation.level``). With
    ``raking`` (the ``weighting.variables``, derived columns built from ``margins_path``)
    the pooled design is calibrated per wave on them, so every SE and test accounts for the
    raking (``calibrated_on``, ``calibration_by="wave"``).
    """
    from pollwaves.report import figures_common, figures_models
    from pollwaves.stages.report import provenance

    variables = list(settings["subgroups"])
    pooled, cal = pooled_waves(waves, raking, margins_path, root, ["war_support", *variables])
    dates = wave_mid_dates(wave_yamls)
    war_waves = pooled.loc[pooled["war_support"].notna(), "wave"].unique()
    if len(war_waves) < 3:
        raise InputError(
            f"The war-support models need at least 3 war waves; there are {len(war_waves)}",
            value=sorted(map(str, war_waves)),
            hint="add war waves (from 2022-03 on) to config/waves/",
        )
    # a natural spline with df degrees of freedom needs df + 1 distinct dates
    spline_df = min(int(settings["spline_df"]), len(war_waves) - 1)
    alpha = 1 - float(level)
    grid = int(settings["grid"])
    trend = trend_models(
        pooled, dates=dates, spline_df=spline_df, grid=grid, alpha=alpha, calibrated_on=cal
    )
    sub = subgroup_model(pooled, dates=dates, variables=variables, alpha=alpha, calibrated_on=cal)
    _note(sub["waves"])
    tables = {f"trend_{k}": v for k, v in trend.items()} | {
        f"subgroup_{k}": v for k, v in sub.items()
    }
    _write_all(tables, outputs, parquet_flags(waves))
    prov = provenance(wave_yamls)
    notice = prov.notice(notice)
    fig = figures_models.forest_figure(sub["ame"], notice=notice, level=level, prov=prov)
    figures_common.save_figure(fig, forest_png, forest_svg, description=notice)


def run_alliance_models(
    waves: Sequence[PathLike],
    wave_yamls: Sequence[PathLike],
    settings: Mapping[str, Any],
    invasion_date: str,
    shares_out: PathLike,
    neutral_out: PathLike,
    *,
    level: float,
    raking: Sequence[str] = (),
    margins_path: PathLike | None = None,
    root: PathLike | None = None,
) -> None:
    """Weighted multinomial logit of alliance preference: shares by wave and subgroup, and
    the neutral (both + outside) share before and after the invasion, with ``level``
    intervals (``estimation.level``). The model uses the waves that asked alliance and every
    subgroup variable (:func:`pollwaves.analysis.model_waves.select_waves`). With ``raking``
    the design is calibrated per wave (as :func:`run_war_models`): the wave shares and their
    SEs then equal those of ``toplines.csv``."""
    from pollwaves.survey.mnlogit import weighted_mnlogit

    terms = model_terms(settings)["alliance"]
    pooled, cal = pooled_waves(waves, raking, margins_path, root, terms)
    pooled, coverage = select_waves(pooled, "alliance", terms, min_waves=2)
    _note(coverage)
    dates = wave_mid_dates(wave_yamls)
    pooled["period"] = np.where(
        pooled["wave"].map(dates) < pd.Timestamp(invasion_date), "before", "after"
    )
    terms = " + ".join(f"C({v})" for v in ["wave", *settings["subgroups"]])
    design = {"strata": "wave", "calibrated_on": cal, "calibration_by": "wave" if cal else None}
    fit = weighted_mnlogit(pooled, f"alliance ~ {terms}", "weight", **design)
    parts = [fit.predicted_shares(by="wave", level=level).assign(domain="all")]
    for var in settings["subgroups"]:
        sh = fit.predicted_shares(by=var, level=level)
        parts.append(sh.assign(domain=var + "=" + sh.pop(var).astype(str), wave="pooled"))
    shares = pd.concat(parts, ignore_index=True)
    cols = ["wave", "domain", "category", "estimate", "se", "ci_low", "ci_high"]
    flags = parquet_flags(waves)
    files.write_table(tag_simulated(shares[cols], flags), shares_out)
    neutral = fit.combined_share(None, ["both", "outside"], by="period", level=level)
    neutral = neutral.set_index("period").reindex(["before", "after"]).reset_index()
    neutral["category"] = "both + outside"
    d = neutral["estimate"].iloc[1] - neutral["estimate"].iloc[0]
    se = float(np.hypot(*neutral["se"]))  # waves are independent samples
    z = dist.norm_ppf(0.5 + float(level) / 2)
    diff = {
        "period": "after - before",
        "estimate": d,
        "se": se,
        "ci_low": d - z * se,
        "ci_high": d + z * se,
        "p_value": float(2 * dist.norm_sf(abs(d / se))) if se > 0 else np.nan,
    }
    out = pd.concat([neutral, pd.DataFrame([diff])], ignore_index=True)
    files.write_table(tag_simulated(out, flags), neutral_out)


def run_model_waves(waves: Sequence[PathLike], settings: Mapping[str, Any], out: PathLike) -> None:
    """``reports/tables/model_waves.csv``: per pooled model and wave, used or not and why.

    Columns ``model, outcome, wave, used, not_asked, reason``
    (:func:`pollwaves.analysis.model_waves.coverage_table`, with the terms the model stages
    select their waves by).
    """
    terms = [t for ts in model_terms(settings).values() for t in ts]
    table = coverage_table(load_pooled(waves, columns=["wave", *terms]), settings)
    files.write_table(tag_simulated(table, parquet_flags(waves)), out)


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
    specs = {Path(p).stem: config.load_yaml(p) for p in wave_yamls}
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
    _write_all({k: v for k, v in tables_out.items() if k in outputs}, outputs, flags, "source")
