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

import pandas as pd

from pollwaves import config, files
from pollwaves.errors import InputError
from pollwaves.intake import cleaning, harmonise, readers
from pollwaves.intake.mapping import load_wave_config, raking_sources, required_variables
from pollwaves.intake.margins import add_derived_columns, load_margins
from pollwaves.published import select as published
from pollwaves.survey.diagnostics import margin_shares, weight_diagnostics
from pollwaves.survey.estimation import RESULT_COLUMNS, share_contrasts, toplines
from pollwaves.survey.weighting import rake

PathLike = str | os.PathLike[str]


def run_published(
    toplines_path: PathLike, labels_path: PathLike, codebook_path: PathLike, used_out, excl_out
) -> None:
    """Parse, harmonise and select the published toplines; write used and excluded rows."""
    used, excluded = published.published_main(
        toplines_path, labels_path, codebook_path=codebook_path
    )
    files.write_table(used, used_out)
    files.write_table(excluded, excl_out)


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
    file = Path(root) / cfg["file"]
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
    files.write_table(log, out_log)
    files.write_parquet(kept, out_parquet)
    return kept


def run_weight(
    harmonised: PathLike,
    margins_path: PathLike,
    root: PathLike,
    settings: Mapping[str, Any],
    wave: str,
    out_parquet,
    out_diag,
    out_margins,
) -> pd.DataFrame:
    """Rake one wave to the urban margins; write the weighted frame and diagnostics."""
    margins = load_margins(margins_path, config.schema_dir(root) / "margins.schema.yaml")
    df = files.read_parquet(harmonised)
    variables = list(settings["variables"])
    unknown = [v for v in variables if v not in margins["targets"]]
    if unknown:
        raise InputError(
            "Raking variable has no margin",
            value=unknown[0],
            file=str(margins_path),
            hint=f"add it under margins: or remove it from weighting.variables; "
            f"margins: {list(margins['targets'])}",
        )
    targets = {v: margins["targets"][v] for v in variables}
    work = add_derived_columns(df, {k: v for k, v in margins["derived"].items() if k in targets})
    try:
        w = rake(
            work,
            targets,
            max_iter=int(settings["max_iter"]),
            tol=float(settings["tol"]),
            cap=settings.get("cap"),
        )
    except InputError as err:
        raise InputError(
            err.problem,
            wave=wave,
            file=str(harmonised),
            column=err.column,
            row=err.row,
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
    out = df.assign(weight=w.to_numpy())
    files.write_table(margin_shares(work, "weight", targets).assign(wave=wave), out_margins)
    files.write_table(diag, out_diag)
    files.write_parquet(out, out_parquet)
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
) -> pd.DataFrame:
    """Weighted toplines, one-way subgroup tables and share contrasts of one wave.

    Also writes unweighted toplines (equal weights, for the weighted-vs-unweighted check).

    ``settings`` holds ``estimation`` (level, ci_method, the subgroup variables) and ``weighting`` (the raking
    variables, used as ``calibrated_on`` so that the SEs account for the raking).
    """
    schemas = config.schema_dir(root)
    codebook = config.load_codebook(codebook_path, schemas / "codebook.schema.yaml")
    margins = load_margins(margins_path, schemas / "margins.schema.yaml")
    raking = list(settings["weighting"]["variables"])
    derived = {k: v for k, v in margins["derived"].items() if k in raking}
    df = add_derived_columns(files.read_parquet(wave_parquet), derived)
    est = settings["estimation"]
    res = toplines(
        df,
        config.variables_by_kind(codebook, "question"),
        "weight",
        wave=str(df["wave"].iloc[0]),
        by=list(est["subgroups"]),
        calibrated_on=raking,
        ci_method=est["ci_method"],
        level=float(est["level"]),
    )
    rows = []
    for q, spec in (est.get("contrasts") or {}).items():
        if q in df and df[q].notna().any():
            c = share_contrasts(
                df, q, "weight", spec, calibrated_on=raking, level=float(est["level"])
            )
            rows.append(c.assign(question=q, wave=res["wave"].iloc[0], domain="all"))
    cols = ["question", "wave", "domain", "contrast", "estimate", "se", "ci_low", "ci_high"]
    cont = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    files.write_table(cont[[*cols, "t", "p_value", "n", "df"]] if rows else cont, contrasts_out)
    plain = toplines(
        df,
        config.variables_by_kind(codebook, "question"),
        None,
        wave=str(df["wave"].iloc[0]),
        ci_method=est["ci_method"],
        level=float(est["level"]),
    )
    files.write_table(plain[RESULT_COLUMNS], unweighted_out)
    files.write_table(res, out)
    return res


def run_toplines(
    estimates: Sequence[PathLike],
    contrasts: Sequence[PathLike],
    codebook_path: PathLike,
    root: PathLike,
    toplines_out,
    subgroups_out,
    contrasts_out,
    unweighted: Sequence[PathLike] = (),
    unweighted_out: PathLike | None = None,
) -> pd.DataFrame:
    """Stack the per-wave estimates into the toplines, subgroup and contrast tables."""
    schemas = config.schema_dir(root)
    codebook = config.load_codebook(codebook_path, schemas / "codebook.schema.yaml")
    order = {q: i for i, q in enumerate(config.variables_by_kind(codebook, "question"))}
    res = pd.concat([_read_csv(p) for p in estimates], ignore_index=True)
    res = res.sort_values(
        ["question", "wave", "domain", "category"],
        key=lambda s: s.map(order) if s.name == "question" else s,
        kind="stable",
    )
    res["flag"] = res["flag"].fillna("")
    top = res.loc[res["domain"] == "all", RESULT_COLUMNS]
    files.write_table(top, toplines_out)
    files.write_table(res[res["domain"] != "all"], subgroups_out)
    cont = pd.concat([_read_csv(p) for p in contrasts], ignore_index=True)
    cont = cont.sort_values(["question", "contrast", "wave"], kind="stable")
    files.write_table(cont, contrasts_out)
    if unweighted and unweighted_out:
        plain = pd.concat([_read_csv(p) for p in unweighted], ignore_index=True)
        plain = plain.sort_values(
            ["question", "wave", "category"],
            key=lambda s: s.map(order) if s.name == "question" else s,
            kind="stable",
        )
        files.write_table(plain, unweighted_out)
    return top


def run_poll_average(
    toplines_csv: PathLike,
    contrasts_csv: PathLike,
    published_csv: PathLike,
    wave_yamls: Sequence[PathLike],
    settings: Mapping[str, Any],
    out,
    *,
    level: float,
) -> pd.DataFrame:
    """Poll-average trends (Kalman smoother) of the configured series, published and simulated.

    Bands are ``level`` intervals (``estimation.level``).

    Microdata series use each wave's design-based variance; published series use the
    published N with the design effect ``settings["published_deff"]`` (an assumption).
    Series with fewer than two published waves have no published trend.
    """
    from pollwaves.analysis import poll_average as trend

    fieldwork = {}
    for p in wave_yamls:
        fw = config.load_yaml(p)["fieldwork"]
        fieldwork[Path(p).stem] = (fw["start"], fw["end"])
    dates = trend.fieldwork_mid_dates(fieldwork)
    top = _read_csv(toplines_csv)
    cont = _read_csv(contrasts_csv).rename(columns={"contrast": "category"})
    pub = _read_csv(published_csv)
    deff = float(settings["published_deff"])
    parts = []
    for item in settings["series"]:
        q, cat = item["question"], item["category"]
        table = cont if cat in set(cont["category"][cont["question"] == q]) else top
        sub = table[(table["question"] == q) & (table["category"] == cat)]
        if sub["wave"].nunique() >= 2:
            parts.append(
                trend.poll_average(
                    sub, question=q, category=cat, dates=dates, source="simulated", level=level
                )
            )
        have = pub[
            (pub["question"] == q) & (pub["category"] == cat) & (pub["relation"] == "equals")
        ]
        series = trend.published_series(pub, q, cat, deff) if len(have) else have
        if series["wave"].nunique() >= 2:
            parts.append(
                trend.poll_average(
                    series,
                    question=q,
                    category=cat,
                    dates=trend.fieldwork_mid_dates(series),
                    source="published",
                    level=level,
                )
            )
    res = pd.concat(parts, ignore_index=True)
    files.write_table(res, out)
    return res


def run_collect(tables: Sequence[PathLike], out) -> pd.DataFrame:
    """Stack per-wave one-row tables (e.g. weighting diagnostics) in wave order."""
    df = pd.concat([pd.read_csv(p) for p in tables], ignore_index=True)
    df = df.sort_values("wave", kind="stable")
    files.write_table(df, out)
    return df


def _read_csv(path: PathLike) -> pd.DataFrame:
    """Read a table written by :func:`pollwaves.files.write_table` (ids and waves as text)."""
    return pd.read_csv(path, dtype={"wave": "string", "category": "string"}, keep_default_na=True)
