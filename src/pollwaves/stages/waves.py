"""Workflow stages: file paths in, files out.

Each function is what one Snakemake rule runs (through a ten-line script in
``workflow/scripts/``). They only read inputs, call the pure functions of the other
modules and write outputs atomically, so a failing stage never leaves a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pollwaves import config, files
from pollwaves.errors import InputError
from pollwaves.intake import cleaning, harmonise, readers
from pollwaves.intake.feasible import cleaning_outcome_problem, min_respondents
from pollwaves.intake.mapping import (
    load_wave_config,
    raking_sources,
    required_variables,
    resolve_delivery,
)
from pollwaves.intake.margins import add_derived_columns, load_margins
from pollwaves.intake.raking import prepare_raking
from pollwaves.published import select as published
from pollwaves.survey.bounds import BOUND_COLUMNS, worst_case_bounds
from pollwaves.survey.diagnostics import margin_shares, weight_agreement, weight_diagnostics
from pollwaves.survey.estimation import RESULT_COLUMNS, share_contrasts, toplines
from pollwaves.survey.weighting import rake

PathLike = str | os.PathLike[str]
#: Worst-case bounds per wave: question -> {outcome: (category, opposite category)}.
BOUNDS = {"war_support": {"support": ("support", "oppose"), "oppose": ("oppose", "support")}}
BOUNDS_COLUMNS = ["source", "wave", "bound", "estimate", "se", "ci_low", "ci_high", "n"]


def run_published(
    toplines_path: PathLike, labels_path: PathLike, codebook_path: PathLike, used_out, excl_out
) -> None:
    """Parse, harmonise and select the published toplines; write used and excluded rows."""
    used, excluded = published.published_main(
        toplines_path, labels_path, codebook_path=codebook_path
    )
    files.write_table(used, used_out)
    files.write_table(excluded, excl_out)


def run_published_intervals(
    published_csv: PathLike, contrasts: Mapping[str, Any] | None, out
) -> pd.DataFrame:
    """:func:`pollwaves.published.intervals.implied_intervals` of the used published cells
    (percent; the table the published figure panels draw, a bound from ``low`` to ``high``)."""
    from pollwaves.published.intervals import implied_intervals

    res = implied_intervals(_read_csv(published_csv), contrasts or {})
    files.write_table(res.assign(simulated=False), out)  # real published numbers
    return res


def run_harmonise(
    wave_yaml: PathLike,
    codebook_path: PathLike,
    root: PathLike,
    out_parquet,
    out_log,
    *,
    weighting_variables: Sequence[str] | None = None,
    margins_path: PathLike | None = None,
) -> pd.DataFrame:
    """Read one wave's delivery, harmonise it to the codebook, clean it, write it.

    The wave must map ``resp_id`` and the raking sources of ``weighting_variables``
    (through ``derived_from`` in the margins file); every other variable may be absent.
    Without ``weighting_variables`` / ``margins_path`` they are read from
    ``<root>/config/config.yaml`` (``weighting.variables``, ``margins``). Straight-lining
    compares the raw answer codes of the grid.
    """
    schemas = config.schema_dir(root)
    if weighting_variables is None or margins_path is None:
        required = required_variables(root)
    else:
        margins_cfg = config.load_yaml(Path(root) / margins_path)
        required = ["resp_id", *raking_sources(list(weighting_variables), margins_cfg)]
    codebook = config.load_codebook(codebook_path, schemas / "codebook.schema.yaml")
    cfg = load_wave_config(wave_yaml, schemas / "wave.schema.yaml", codebook, required=required)
    file = resolve_delivery(root, cfg["file"], wave=cfg["wave"], source=str(wave_yaml))
    delivery = readers.read_delivery(
        file, cfg["format"], encoding=cfg.get("encoding"), sheet=cfg.get("sheet")
    )
    rules = cfg.get("cleaning", {})
    df, raw = harmonise.harmonise_with_raw(
        delivery,
        cfg,
        codebook,
        file=str(cfg["file"]),
        raw_codes=cleaning.straightlining_items(rules),
    )
    kept, log = cleaning.clean_wave(df, rules, codebook, wave=cfg["wave"], raw_codes=raw)
    few = cleaning_outcome_problem(
        log, rules, wave=cfg["wave"], min_n=min_respondents(root), file=str(cfg["file"])
    )
    if few is not None:  # the same words as check-wave, before the weight stage runs
        raise few
    write_harmonised(kept, log, cfg, out_parquet, out_log)
    return kept


def wave_provenance(wave: str, simulated: bool) -> dict[str, str]:
    """Parquet key-value metadata of one wave's files: ``wave`` and ``simulated``."""
    return {"wave": str(wave), "simulated": "true" if simulated else "false"}


def write_harmonised(
    kept: pd.DataFrame, log: pd.DataFrame, cfg: Mapping[str, Any], out_parquet, out_log
) -> None:
    """Write the ``harmonise`` outputs with their provenance (for :func:`run_harmonise`).

    The cleaning log gets a trailing ``simulated`` column and the parquet file the ``wave``
    and ``simulated`` metadata, both from the wave mapping ``cfg``.
    """
    simulated = bool(cfg["simulated"])
    files.write_table(log.assign(simulated=simulated), out_log)
    files.write_parquet(kept, out_parquet, metadata=wave_provenance(cfg["wave"], simulated))


def wave_simulated(wave_yaml: PathLike | None, parquet: PathLike) -> bool:
    """The wave's ``simulated:`` flag: from its mapping, else from the parquet metadata."""
    if wave_yaml is not None:
        return bool(config.load_yaml(wave_yaml, copy=False)["simulated"])
    from pollwaves.stages.flags import parquet_flag

    return parquet_flag(parquet)


def run_weight(
    harmonised: PathLike,
    margins_path: PathLike,
    root: PathLike,
    settings: Mapping[str, Any],
    wave: str,
    out_parquet,
    out_diag,
    out_margins,
    *,
    wave_yaml: PathLike | None = None,
) -> pd.DataFrame:
    """Rake one wave to the urban margins; write the weighted frame and diagnostics.

    Missing raking values are handled by ``settings["missing"]`` (impute, drop, fail;
    :func:`pollwaves.intake.raking.prepare_raking`); the weighted parquet holds the imputed
    values. The diagnostics add ``imputed_<var>``, ``dropped_<var>``, ``n_dropped``,
    ``n_vendor_weight``, ``corr_vendor_weight`` and ``simulated`` (from ``wave_yaml``, else
    from the harmonised parquet's metadata).
    """
    margins = load_margins(margins_path, config.schema_dir(root) / "margins.schema.yaml")
    df = files.read_parquet(harmonised)
    simulated = wave_simulated(wave_yaml, harmonised)
    work, info = prepare_raking(df, margins, settings, wave=wave, file=str(margins_path))
    targets = info["targets"]
    try:
        w = rake(
            work,
            targets,
            max_iter=int(settings["max_iter"]),
            tol=float(settings["tol"]),
            cap=settings.get("cap"),
        )
    except InputError as err:
        rid = err.respondent
        if err.row is not None and "resp_id" in work:
            rid = str(work["resp_id"].iloc[err.row - 1])
        raise InputError(
            err.problem,
            wave=wave,
            file=str(harmonised),
            column=err.column,
            respondent=rid,
            value=err.value,
            hint=err.hint,
        ) from err
    work["weight"] = w
    diag = weight_diagnostics(
        work,
        "weight",
        targets,
        iterations=w.attrs["iterations"],
        share_capped=w.attrs["share_capped"],
    )
    diag.insert(0, "wave", wave)
    for kind in ("imputed", "dropped"):
        for var in info["sources"]:
            diag[f"{kind}_{var}"] = info[kind][var]
    diag["n_dropped"] = info["n_dropped"]
    vendor = work["vendor_weight"] if "vendor_weight" in work else pd.Series(np.nan, work.index)
    diag = diag.assign(**weight_agreement(w, vendor, name="vendor_weight"), simulated=simulated)
    out = work[list(df.columns)].assign(weight=w.to_numpy())
    shares = margin_shares(work, "weight", targets).assign(wave=wave, simulated=simulated)
    files.write_table(shares, out_margins)
    files.write_table(diag, out_diag)
    files.write_parquet(out, out_parquet, metadata=wave_provenance(wave, simulated))
    return out


def run_estimate_wave(
    wave_parquet: PathLike,
    codebook_path: PathLike,
    margins_path: PathLike,
    root: PathLike,
    settings: Mapping[str, Any],
    out,
    contrasts_out,
    unweighted_out,
    vendor_out: PathLike | None = None,
    bounds_out: PathLike | None = None,
) -> pd.DataFrame:
    """Weighted toplines, one-way subgroup tables and share contrasts of one wave.

    Also writes unweighted toplines (equal weights, for the weighted-vs-unweighted check)
    and, to ``vendor_out``, the toplines with the pollster's ``vendor_weight`` (respondents
    with a vendor weight; the design SEs take it as the final weight, without calibration;
    it is scaled to the raked weights' total, which changes no estimate or SE but makes
    ``deff`` and ``n_eff`` comparable; no rows when the delivery has no weight). Every table
    ends with ``simulated`` (from the parquet's metadata). ``bounds_out`` gets the worst-case
    bounds of :data:`BOUNDS` (:func:`pollwaves.survey.bounds.worst_case_bounds`: shares over
    ALL respondents, refusals included, raked weights, raking-aware SEs; no rows when the
    question was not asked, i.e. has no answer in the wave).

    ``settings`` holds ``estimation`` (level, ci_method, the subgroup variables) and ``weighting`` (the raking
    variables, used as ``calibrated_on`` so that the SEs account for the raking).
    """
    schemas = config.schema_dir(root)
    codebook = config.load_codebook(codebook_path, schemas / "codebook.schema.yaml")
    margins = load_margins(margins_path, schemas / "margins.schema.yaml")
    simulated = wave_simulated(None, wave_parquet)
    raking = list(settings["weighting"]["variables"])
    derived = {k: v for k, v in margins["derived"].items() if k in raking}
    df = add_derived_columns(files.read_parquet(wave_parquet), derived)
    est = settings["estimation"]
    questions = config.variables_by_kind(codebook, "question")
    wave = str(df["wave"].iloc[0])
    common = {"wave": wave, "ci_method": est["ci_method"], "level": float(est["level"])}
    res = toplines(
        df, questions, "weight", by=list(est["subgroups"]), calibrated_on=raking, **common
    )
    rows = []
    for q, spec in (est.get("contrasts") or {}).items():
        if q in df and df[q].notna().any():
            c = share_contrasts(
                df, q, "weight", spec, calibrated_on=raking, level=float(est["level"])
            )
            rows.append(c.assign(question=q, wave=wave, domain="all"))
    cols = ["question", "wave", "domain", "contrast", "estimate", "se", "ci_low", "ci_high"]
    cont = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    cont = cont[[*cols, "t", "p_value", "n", "df"]] if rows else cont
    files.write_table(cont.assign(simulated=simulated), contrasts_out)
    plain = toplines(df, questions, None, **common)
    files.write_table(plain[RESULT_COLUMNS].assign(simulated=simulated), unweighted_out)
    if vendor_out is not None:
        vw = df.get("vendor_weight", pd.Series(np.nan, df.index))
        vw = pd.to_numeric(vw, errors="coerce").astype("float64")
        has = np.isfinite(vw) & (vw > 0)
        vcols = [*RESULT_COLUMNS, "weight", "simulated"]
        if has.any():
            # scaled to the raked total: same estimates and SEs, comparable deff and n_eff
            vw = vw[has] * (df["weight"].sum() / vw[has].sum())
            vdf = df.loc[has].assign(vendor_weight=vw)
            vres = toplines(vdf, questions, "vendor_weight", **common)
            vres = vres[RESULT_COLUMNS].assign(weight="vendor_weight", simulated=simulated)
        else:
            vres = pd.DataFrame(columns=vcols)
        files.write_table(vres[vcols], vendor_out)
    if bounds_out is not None:
        parts = [
            worst_case_bounds(df, q, outcomes, "weight", calibrated_on=raking, **common_ci(est))
            for q, outcomes in BOUNDS.items()
            if q in df and df[q].notna().any()
        ]
        bounds = (
            pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BOUND_COLUMNS)
        )
        # source "simulated" names the microdata (as in the report); the flag says if they are
        bounds = bounds.assign(source="simulated", wave=wave)
        files.write_table(bounds[BOUNDS_COLUMNS].assign(simulated=simulated), bounds_out)
    res = res.assign(simulated=simulated)
    files.write_table(res, out)
    return res


def common_ci(est: Mapping[str, Any]) -> dict[str, Any]:
    """``ci_method`` and ``level`` of the ``estimation`` settings, as estimator keywords."""
    return {"ci_method": est["ci_method"], "level": float(est["level"])}


def run_poll_average(
    toplines_csv: PathLike,
    contrasts_csv: PathLike,
    published_csv: PathLike,
    wave_yamls: Sequence[PathLike],
    settings: Mapping[str, Any],
    out,
    *,
    level: float,
    contrasts: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Poll-average trends of the configured series, published and simulated.

    Bands are ``level`` intervals (``estimation.level``). Microdata series: each wave's
    design-based variance (Kalman smoother). Published series: every whole-sample cell as
    the interval it implies (:func:`pollwaves.published.intervals.implied_intervals`), with
    the published N and ``settings["published_deff"]`` (derived from the published margins
    of error), by the grid filter (:mod:`pollwaves.analysis.poll_grid`). Series with fewer
    than two waves have no trend.
    """
    from pollwaves.analysis import poll_average as trend
    from pollwaves.analysis import poll_inputs
    from pollwaves.published.intervals import implied_intervals

    fieldwork = {}
    for p in wave_yamls:
        fw = config.load_yaml(p, copy=False)["fieldwork"]
        fieldwork[Path(p).stem] = (fw["start"], fw["end"])
    dates = poll_inputs.fieldwork_mid_dates(fieldwork)
    top = _read_csv(toplines_csv)
    cont = _read_csv(contrasts_csv).rename(columns={"contrast": "category"})
    intervals = implied_intervals(_read_csv(published_csv), contrasts or {})
    deff = float(settings["published_deff"])
    parts = []
    for item in settings["series"]:
        q, cat = item["question"], item["category"]
        table = cont if cat in set(cont["category"][cont["question"] == q]) else top
        sub = table[(table["question"] == q) & (table["category"] == cat)]
        pub = poll_inputs.published_interval_series(intervals, q, cat, deff)
        pub_dates = poll_inputs.fieldwork_mid_dates(pub) if len(pub) else {}
        for source, rows, when in (("simulated", sub, dates), ("published", pub, pub_dates)):
            if rows["wave"].nunique() >= 2:
                parts.append(trend.poll_average(rows, question=q, category=cat, dates=when,
                                                source=source, level=level))  # fmt: skip
    from pollwaves.stages.flags import tag_simulated, yaml_flags

    res = tag_simulated(
        pd.concat(parts, ignore_index=True), yaml_flags(wave_yamls), source="source"
    )
    files.write_table(res, out)
    return res


def run_collect(tables: Sequence[PathLike], out) -> pd.DataFrame:
    """Stack per-wave one-row tables (e.g. weighting diagnostics) in wave order."""
    df = files.read_tables(tables).sort_values("wave", kind="stable")
    files.write_table(df, out)
    return df


#: How the per-wave estimate tables are read: waves and categories as text.
ESTIMATE_CSV = {"dtype": {"wave": "string", "category": "string"}, "keep_default_na": True}


def _read_csv(path: PathLike) -> pd.DataFrame:
    """Read a table written by :func:`pollwaves.files.write_table` (ids and waves as text)."""
    return files.read_table(path, **ESTIMATE_CSV)


read_estimates = _read_csv  # public name for the other stages
