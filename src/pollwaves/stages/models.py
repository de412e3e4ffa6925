"""Workflow stages of the pooled models: paths in, files out (the claims ledger: stages/claims.py).

Each function is what one aggregate Snakemake rule runs. The pooled data are the wave's
respondents grouped by every model variable (``data/processed/model_rows/*.parquet``,
:func:`pollwaves.stages.pooled.run_wave_model_rows`; SIMULATED respondents), or the weighted
wave files themselves (``data/processed/waves/*.parquet``): the estimates and SEs are the
same. Waves are independent samples, so every pooled model uses the wave as a stratum.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pollwaves import files
from pollwaves.analysis.attitudes import wave_mid_dates
from pollwaves.analysis.model_waves import (
    exclusion_note,
    model_terms,
    select_waves,
)
from pollwaves.errors import InputError
from pollwaves.stages.flags import parquet_flags, tag_simulated, write_tagged
from pollwaves.stages.pooled import GROUP_COLUMNS, pooled_waves
from pollwaves.survey import dist

PathLike = str | os.PathLike[str]
log = logging.getLogger(__name__)


def _groups(pooled: pd.DataFrame) -> tuple[str, str] | None:
    """The grouped rows' columns when ``pooled`` holds grouped rows, else ``None``."""
    return GROUP_COLUMNS if set(GROUP_COLUMNS) <= set(pooled.columns) else None


def _note(coverage: pd.DataFrame) -> None:
    """Log the waves a model leaves out because a term was not asked (none: silent)."""
    note = exclusion_note(coverage)
    if note:
        log.warning("%s.", note)


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

    ``waves``: the grouped model rows of each wave (``data/processed/model_rows/``) or the
    weighted wave files. ``level`` is the confidence level of every interval
    (``estimation.level``). With
    ``raking`` (the ``weighting.variables``, derived columns built from ``margins_path``)
    the pooled design is calibrated per wave on them, so every SE and test accounts for the
    raking (``calibrated_on``, ``calibration_by="wave"``).
    """
    # the logit models (statsmodels) only here: the alliance job does not import them
    from pollwaves.analysis.subgroups import subgroup_model
    from pollwaves.analysis.trends import trend_models
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
    design = {"alpha": alpha, "calibrated_on": cal, "groups": _groups(pooled)}
    trend = trend_models(pooled, dates=dates, spline_df=spline_df, grid=grid, **design)
    sub = subgroup_model(pooled, dates=dates, variables=variables, **design)
    _note(sub["waves"])
    tables = {f"trend_{k}": v for k, v in trend.items()} | {
        f"subgroup_{k}": v for k, v in sub.items()
    }
    write_tagged(tables, outputs, parquet_flags(waves))
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
    SEs then equal those of ``toplines.csv``. ``waves``: as :func:`run_war_models`."""
    from pollwaves.survey.mnlogit import weighted_mnlogit

    terms = model_terms(settings)["alliance"]
    pooled, cal = pooled_waves(waves, raking, margins_path, root, terms)
    pooled, coverage = select_waves(pooled, "alliance", terms, min_waves=2)
    _note(coverage)
    dates = wave_mid_dates(wave_yamls)
    pooled["period"] = np.where(
        pooled["wave"].map(dates) < pd.Timestamp(invasion_date), "before", "after"
    )
    factors = ["wave", *settings["subgroups"]]
    for v in factors:  # categorical columns enter the formula bare: patsy codes them fast
        pooled[v] = pd.Categorical(pooled[v], categories=sorted(pooled[v].dropna().unique()))
    terms = " + ".join(factors)
    design = {"strata": "wave", "calibrated_on": cal, "calibration_by": "wave" if cal else None}
    size, sq = _groups(pooled) or (None, None)
    design |= {"group_size": size, "group_weight_sq": sq}
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
