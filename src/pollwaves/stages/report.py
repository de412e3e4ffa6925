"""Workflow stages of the figures and the HTML report: file paths in, files out.

Each function is what one Snakemake rule runs (through a short script in
``workflow/scripts/``). They read precomputed tables, call the pure functions of
:mod:`pollwaves.report.figures_paper`, :mod:`pollwaves.report.figures_extra`, :mod:`pollwaves.report.tables`
and :mod:`pollwaves.report.html`, and write their outputs atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pollwaves import config, files
from pollwaves.errors import InputError
from pollwaves.report.provenance import Provenance
from pollwaves.survey import dist

PathLike = str | os.PathLike[str]

__all__ = [
    "observed_points",
    "provenance",
    "run_attitudes_figure",
    "run_poll_average_figure",
    "run_report",
    "run_report_tables",
    "run_trend_figure",
    "run_weighting_figure",
]


def read_table(path: PathLike) -> pd.DataFrame:
    """Read a table written by :func:`pollwaves.files.write_table` (ids and waves as text)."""
    text = {c: "string" for c in ("wave", "category", "item", "level", "reference", "row_id")}
    return files.read_table(path, dtype=text, keep_default_na=True)


def provenance(wave_yamls: Sequence[PathLike] | None) -> Provenance:
    """The waves' ``simulated`` flags from their mappings (``config/waves/{wave}.yaml``).

    ``None`` (no mappings given) means every wave simulated, the bundled study's wording.
    """
    if wave_yamls is None:
        return Provenance()
    flags = {}
    for path in wave_yamls:
        spec = config.load_yaml(path, copy=False)  # read only
        if not isinstance(spec.get("simulated"), bool):
            raise InputError(
                "The wave mapping has no true/false `simulated` flag",
                file=str(path),
                key="simulated",
                value=spec.get("simulated"),
                hint="set `simulated: true` (simulated delivery) or `simulated: false` (real)",
            )
        flags[str(spec.get("wave", Path(path).stem))] = spec["simulated"]
    return Provenance(flags)


def _invasion(claims_yaml: PathLike | None) -> str | None:
    return None if claims_yaml is None else str(config.load_yaml(claims_yaml)["invasion_date"])


def run_trend_figure(
    question: str,
    toplines_csv: PathLike,
    published_csv: PathLike,
    notice: str,
    png: PathLike,
    svg: PathLike,
    claims_yaml: PathLike | None = None,
    *,
    level: float,
    wave_yamls: Sequence[PathLike] | None = None,
    contrasts_csv: PathLike | None = None,
    codebook_yaml: PathLike | None = None,
    contrasts: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    stacks: Mapping[str, Mapping[str, int]] | None = None,
    published_intervals_csv: PathLike | None = None,
) -> None:
    """Draw the paper's diagram for one question: published above the weighted estimates.

    ``published_intervals_csv`` (``reports/tables/published_intervals.csv``,
    :func:`pollwaves.published.intervals.implied_intervals`) gives each published cell's
    implied interval (rounding, bounds tightened by the other published answers).

    The alliance diagram marks the invasion date of ``claims_yaml`` (``invasion_date``);
    ``level`` is the confidence level of the toplines' intervals (``estimation.level``);
    the ``simulated`` flags of ``wave_yamls`` word the microdata labels and the notice.
    ``contrasts_csv`` (``reports/tables/contrasts.csv``) gives the interval of a band of
    several categories (neutral = both + outside). With ``codebook_yaml`` the bands and their
    order come from the codebook, ``contrasts`` (``estimation.contrasts``) and ``stacks``
    (``report.stacks``: band -> palette index, in scale order; "hard to say" always last).
    """
    from pollwaves.report import figures_common, figures_paper

    draw = {
        "war_support": figures_paper.war_support_figure,
        "alliance": figures_paper.alliance_figure,
    }
    if question not in draw:
        raise InputError(
            "No trend figure is defined for this question",
            value=question,
            hint=f"report.trend_questions may hold {sorted(draw)}",
        )
    kw: dict[str, Any] = (
        {"invasion_date": _invasion(claims_yaml)} if question == "alliance" else {}
    )
    if codebook_yaml is not None:
        kw["bands"] = figures_common.stack_bands(
            config.load_yaml(codebook_yaml), question, (contrasts or {}).get(question),
            (stacks or {}).get(question),
        )  # fmt: skip
    if contrasts_csv is not None:
        kw["contrasts"] = read_table(contrasts_csv)
    if published_intervals_csv is not None:
        kw["published_intervals"] = read_table(published_intervals_csv)
    top, pub = read_table(toplines_csv), read_table(published_csv)
    prov = provenance(wave_yamls)
    notice = prov.notice(notice)
    fig = draw[question](top, pub, notice=notice, level=level, prov=prov, **kw)
    figures_common.save_figure(fig, png, svg, description=notice)


def observed_points(
    toplines: pd.DataFrame,
    contrasts: pd.DataFrame,
    published: pd.DataFrame,
    series: Sequence[Mapping[str, str]],
    fieldwork: Mapping[str, Sequence[Any]],
    published_deff: float,
    level: float = 0.95,
) -> pd.DataFrame:
    """Observed wave estimates of the poll-average series, with their intervals.

    Simulated points are the design-based estimates of the toplines (or of the share
    contrasts, e.g. ``alliance / neutral``) with their CIs. Published points are the exact
    published values (:func:`pollwaves.analysis.poll_inputs.published_series`) with the same logit
    interval from the published N and the assumed ``published_deff`` that the claims ledger
    uses (:func:`pollwaves.analysis.claims_windows.published_interval`).

    Returns
    -------
    DataFrame
        ``source, question, category, wave, date, estimate, ci_low, ci_high``.
    """
    from pollwaves.analysis import poll_inputs
    from pollwaves.analysis.claims_windows import published_interval

    z = float(dist.norm_ppf(0.5 + level / 2))
    dates = poll_inputs.fieldwork_mid_dates(fieldwork)
    cols = ["source", "question", "category", "wave", "date", "estimate", "ci_low", "ci_high"]
    rows: list[tuple] = []
    cont = contrasts.rename(columns={"contrast": "category"})
    for item in series:
        q, cat = item["question"], item["category"]
        table = cont if cat in set(cont["category"][cont["question"] == q]) else toplines
        sub = table[(table["question"] == q) & (table["category"] == cat)]
        if "domain" in sub.columns:
            sub = sub[sub["domain"] == "all"]
        for r in sub.sort_values("wave").itertuples(index=False):
            if str(r.wave) in dates:
                rows.append(("simulated", q, cat, str(r.wave), dates[str(r.wave)], r.estimate,
                             r.ci_low, r.ci_high))  # fmt: skip
        try:
            pub = poll_inputs.published_series(published, q, cat, published_deff)
        except InputError:
            continue  # no exact published value of this series
        pdates = poll_inputs.fieldwork_mid_dates(pub)
        for r in pub.itertuples(index=False):
            fake = pd.Series({"value": 100 * r.estimate, "n_respondents": r.n, "low": np.nan,
                              "high": np.nan, "qualifier": "exact", "relation": "equals"})  # fmt: skip
            est, lo, hi = published_interval(fake, float(published_deff), z)
            rows.append(("published", q, cat, str(r.wave), pdates[str(r.wave)], est, lo, hi))
    return pd.DataFrame(rows, columns=cols)


def _fieldwork(wave_yamls: Sequence[PathLike]) -> dict[str, tuple[str, str]]:
    out = {}
    for p in wave_yamls:
        fw = config.load_yaml(p, copy=False)["fieldwork"]
        out[Path(p).stem] = (str(fw["start"]), str(fw["end"]))
    return out


def run_poll_average_figure(
    poll_average_csv: PathLike,
    toplines_csv: PathLike,
    contrasts_csv: PathLike,
    published_csv: PathLike,
    wave_yamls: Sequence[PathLike],
    claims_yaml: PathLike,
    settings: Mapping[str, Any],
    notice: str,
    png: PathLike,
    svg: PathLike,
    *,
    level: float,
    gap_days: float = 180.0,
    published_intervals_csv: PathLike | None = None,
) -> None:
    """Poll-average trend lines with their bands and the observed points (published, simulated).

    ``settings`` is the ``trend`` block of config.yaml (``series``, ``published_deff``);
    ``level`` the confidence level of the bands and intervals (``estimation.level``);
    ``gap_days`` (``report.gap_days``) the longest span between polls that is not shaded;
    ``published_intervals_csv`` adds the published bounds and intervals of the series as bars.
    """
    from pollwaves.report import figures_common, figures_extra

    series = list(settings["series"])
    cfg = config.load_yaml(claims_yaml)
    prov = provenance(wave_yamls)
    notice = prov.notice(notice)
    obs = observed_points(
        read_table(toplines_csv), read_table(contrasts_csv), read_table(published_csv),
        series, _fieldwork(wave_yamls), float(settings["published_deff"]),
        level=float(level),
    )  # fmt: skip
    if published_intervals_csv is not None:
        from pollwaves.analysis.poll_inputs import published_bound_points

        bars = published_bound_points(read_table(published_intervals_csv), series)
        obs = pd.concat([obs, bars], ignore_index=True) if len(bars) else obs
    fig = figures_extra.poll_average_figure(
        read_table(poll_average_csv), obs, notice=notice,
        series=[(s["question"], s["category"]) for s in series],
        invasion_date=str(cfg["invasion_date"]), level=float(level), prov=prov,
        gap_days=float(gap_days),
    )  # fmt: skip
    figures_common.save_figure(fig, png, svg, description=notice)


def run_attitudes_figure(
    shares_csv: PathLike,
    notice: str,
    png: PathLike,
    svg: PathLike,
    *,
    level: float,
    wave_yamls: Sequence[PathLike] | None = None,
) -> None:
    """Good attitude to each country by war stance (microdata), ``level`` CIs; the wording
    follows the ``simulated`` flags of ``wave_yamls``."""
    from pollwaves.report import figures_common, figures_extra

    prov = provenance(wave_yamls)
    notice = prov.notice(notice)
    fig = figures_extra.attitudes_figure(
        read_table(shares_csv), notice=notice, level=level, prov=prov
    )
    figures_common.save_figure(fig, png, svg, description=notice)


def run_weighting_figure(
    weighting_csv: PathLike,
    margins_csv: PathLike,
    notice: str,
    png: PathLike,
    svg: PathLike,
    *,
    wave_yamls: Sequence[PathLike] | None = None,
) -> None:
    """Weighting diagnostics: n and n_eff per wave; sample against target margins (wording
    from the ``simulated`` flags of ``wave_yamls``)."""
    from pollwaves.report import figures_common, figures_extra

    prov = provenance(wave_yamls)
    notice = prov.notice(notice)
    fig = figures_extra.weighting_figure(
        read_table(weighting_csv), read_table(margins_csv), notice=notice, prov=prov
    )
    figures_common.save_figure(fig, png, svg, description=notice)


def run_report_tables(
    toplines_csv: PathLike,
    unweighted_csv: PathLike,
    published_csv: PathLike,
    bounds_out: PathLike,
    effect_out: PathLike,
    vendor_csv: PathLike | None = None,
    vendor_out: PathLike | None = None,
    *,
    wave_bounds: Sequence[PathLike] = (),
    published_deff: float,
    level: float,
) -> None:
    """The report's derived tables: worst-case bounds under "hard to say" (the per-wave
    microdata bounds ``wave_bounds`` and the published ones, with ``level`` intervals from
    the assumed ``published_deff``), weighted vs unweighted, and (with ``vendor_csv``) our
    raked toplines against the vendor-weighted ones."""
    from pollwaves.report import tables as report_tables

    top, pub = read_table(toplines_csv), read_table(published_csv)
    parts = [b for b in (read_table(p) for p in wave_bounds) if len(b)]
    cols = report_tables.BOUND_COLUMNS
    micro = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    bounds = report_tables.undecided_bounds(
        micro, pub, deff=float(published_deff), level=float(level)
    )
    files.write_table(bounds, bounds_out)
    from pollwaves.stages.flags import tag_simulated

    sim = top["simulated"].astype(str).str.lower() == "true"
    flags = dict(zip(top["wave"].astype(str), sim, strict=True))
    effect = report_tables.weighting_effect(top, read_table(unweighted_csv))
    files.write_table(tag_simulated(effect, flags), effect_out)
    if vendor_csv is not None and vendor_out is not None:
        comparison = report_tables.vendor_comparison(top, read_table(vendor_csv))
        files.write_table(tag_simulated(comparison, flags), vendor_out)


#: ``run_report`` table inputs: keyword -> ReportInputs field.
REPORT_TABLES = ("ledger", "evidence", "sensitivity", "published", "excluded", "weighting",
                 "weighting_margins", "subgroup_predicted", "subgroup_ame", "subgroup_terms",
                 "trend_tests", "bounds", "effect", "changes", "toplines")  # fmt: skip


def run_report(
    tables: Mapping[str, PathLike],
    figure_paths: Sequence[PathLike],
    settings: Mapping[str, Any],
    claims_yaml: PathLike,
    margins_yaml: PathLike,
    codebook_yaml: PathLike,
    out: PathLike,
    validation_csv: PathLike | None = None,
    validation_meta: PathLike | None = None,
    *,
    model_waves_csv: PathLike | None = None,
    wave_yamls: Sequence[PathLike] | None = None,
    vendor_csv: PathLike | None = None,
    coverage_files: Mapping[str, PathLike] | None = None,
) -> None:
    """Build ``reports/public_demand.html`` from the tables and figures.

    ``tables`` maps every name of :data:`REPORT_TABLES` to a CSV file. A given
    ``validation_csv`` (and its ``.meta.json``) must exist: a missing file is an error.
    ``model_waves_csv`` (``reports/tables/model_waves.csv``) lists the waves the pooled
    models leave out; the ``simulated`` flags of ``wave_yamls`` word the banner and the
    captions (none given: every wave simulated). ``vendor_csv``
    (``reports/tables/vendor_weight_comparison.csv``) compares the raked with the vendor's
    weights. ``coverage_files`` (keywords of :func:`pollwaves.report.validation.load_results`:
    ``poll``, ``poll_meta``; files that do not exist are skipped) are the poll-average
    coverage results; with the validation table they are shown beside the estimates they
    validate.
    """
    from pollwaves.report import html as report
    from pollwaves.report.validation import load_results

    missing = [k for k in REPORT_TABLES if k not in tables]
    if missing:
        raise InputError("Report table not given", value=missing[0], hint="see REPORT_TABLES")
    validation, meta = None, {}
    if validation_csv is not None:
        for p in (validation_csv, validation_meta):
            if p is not None and not Path(p).exists():
                raise InputError(
                    "The validation table is missing: the report shows the coverage "
                    "benchmark, which is made outside the workflow",
                    file=str(p),
                    hint="run `python benchmarks/coverage.py --replicates 200 --workers 2` "
                    "(writes benchmarks/results/validation_coverage.csv and its .meta.json), "
                    "then rerun snakemake",
                )
        validation = files.read_table(validation_csv)
        if validation_meta is not None:
            meta = json.loads(Path(validation_meta).read_text(encoding="utf-8"))
    inputs = report.ReportInputs(
        **{k: read_table(tables[k]) for k in REPORT_TABLES},
        validation=validation,
        validation_meta=meta,
        model_waves=None if model_waves_csv is None else read_table(model_waves_csv),
        vendor=None if vendor_csv is None else read_table(vendor_csv),
        coverage=load_results(validation_csv, validation_meta, **(coverage_files or {})),
    )
    html = report.build_report(
        inputs,
        figures={Path(p).stem: Path(p) for p in figure_paths},
        config=settings,
        claims_cfg=config.load_yaml(claims_yaml),
        margins_cfg=config.load_yaml(margins_yaml),
        codebook=config.load_yaml(codebook_yaml),
        provenance=provenance(wave_yamls),
    )
    report.write_report(html, out)
