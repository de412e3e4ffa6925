"""Self-contained HTML report: the claims ledger, figures, extensions, methods and provenance.

The report is rendered from Jinja2 templates (``pollwaves/templates``, autoescaped) and only
formats precomputed tables: it computes no estimate or interval. Every number is printed by a
:class:`pollwaves.report.tables.Numbers` helper, inside a ``<data value="...">`` element
holding the table cell it came from. Output is deterministic (no timestamps, stable order)
and needs no external resource: images are base64 ``data:`` URIs, the CSS is inline, there
is no script.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from pollwaves.analysis.model_waves import exclusion_notes
from pollwaves.analysis.poll_inputs import moe_deff
from pollwaves.analysis.q_mixture import LOG_Q_PRIOR
from pollwaves.files import atomic_write
from pollwaves.report import sections as rs
from pollwaves.report import validation as rv
from pollwaves.report.figure_specs import FigureSpec, figure_specs
from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.tables import Labels, Numbers, finite, missing_raking_values

__all__ = ["ReportInputs", "build_report", "render_report", "write_report"]

_CI_METHODS = {  # as R survey::svyciprop; see pollwaves.survey.estimation
    "logit": "formed on the logit scale and transformed back, so they stay inside 0-100%",
    "xlogit": "formed on the logit scale and transformed back, so they stay inside 0-100%",
    "beta": "Korn-Graubard beta intervals based on the effective sample size",
    "wilson": "Wilson intervals based on the effective sample size",
}
_SECTIONS = (
    ("reproduces", "What this reproduces"),
    ("claims", "Claims ledger"),
    ("figures", "Figures"),
    ("toplines", "Toplines by wave"),
    ("extensions", "Extensions"),
    ("methods", "Methods and provenance"),
)
_PUBLISHED_ORDER = ["wave", "question", "row_id"]


@dataclass
class ReportInputs:
    """The tables the report formats (as read from ``reports/tables`` and ``data/processed``).

    ``ledger``, ``evidence``, ``sensitivity``, ``changes``: the claims ledger
    (:mod:`pollwaves.analysis.claims`; ``changes``: verdicts changed since the previous build);
    ``published`` / ``excluded``: used and excluded published rows (real, percent);
    ``weighting`` / ``weighting_margins``: raking diagnostics; ``subgroup_*`` and
    ``trend_tests``: the war-support models; ``bounds`` and ``effect``: the report's derived
    tables (:func:`~pollwaves.report.tables.undecided_bounds`,
    :func:`~pollwaves.report.tables.weighting_effect`); ``validation`` (+ ``validation_meta``):
    the coverage benchmark, optional; ``coverage``: all its committed files
    (:func:`pollwaves.report.validation.load_results`; shown beside the estimates), optional; ``vendor``: raked against vendor-weighted toplines
    (:func:`~pollwaves.report.tables.vendor_comparison`), optional; ``model_waves``: the waves each pooled model uses
    (:func:`pollwaves.analysis.model_waves.coverage_table`), optional. Which microdata are
    SIMULATED is given to :func:`render_report` as a
    :class:`~pollwaves.report.provenance.Provenance`.
    """

    ledger: pd.DataFrame
    evidence: pd.DataFrame
    sensitivity: pd.DataFrame
    published: pd.DataFrame
    excluded: pd.DataFrame
    weighting: pd.DataFrame
    weighting_margins: pd.DataFrame
    subgroup_predicted: pd.DataFrame
    subgroup_ame: pd.DataFrame
    subgroup_terms: pd.DataFrame
    trend_tests: pd.DataFrame
    bounds: pd.DataFrame
    effect: pd.DataFrame
    validation: pd.DataFrame | None = None
    validation_meta: Mapping = field(default_factory=dict)
    model_waves: pd.DataFrame | None = None
    vendor: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    toplines: pd.DataFrame | None = None
    coverage: Mapping = field(default_factory=dict)


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG header (0, 0 if not a PNG)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return 0, 0
    return struct.unpack(">II", data[16:24])


def _png_meta(data: bytes) -> tuple[dict[str, str], float]:
    """The PNG's tEXt entries and its resolution in dots per inch (72 if not stated)."""
    text, dpi, pos = {}, 72.0, 8
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if kind == b"tEXt" and b"\0" in body:
            key, val = body.split(b"\0", 1)
            text[key.decode("latin-1")] = val.decode("latin-1")
        elif kind == b"pHYs" and len(body) == 9 and body[8] == 1:  # unit: metre
            dpi = struct.unpack(">I", body[:4])[0] * 0.0254
        elif kind == b"IEND":
            break
        pos += 12 + size
    return text, dpi


#: Smallest in-figure text, in CSS px, that the report keeps readable: a figure whose PNG
#: states its smallest font (``MinFontPt``) never renders narrower than that allows (it
#: scrolls sideways on a narrow screen instead).
MIN_TEXT_PX = 10.0


def _min_width(data: bytes, width: int) -> int | str:
    text, dpi = _png_meta(data)
    try:
        natural_px = float(text["MinFontPt"]) * dpi / 72
    except (KeyError, ValueError):
        return ""
    return int(-(-width * MIN_TEXT_PX // natural_px)) if natural_px > 0 and width else ""


def _figures(paths: Mapping[str, Path], level: float, prov: Provenance) -> list[dict]:
    """Figures in report order (known names first), embedded as base64 ``data:`` URIs."""
    known = figure_specs(level, prov)
    specs = {f.name: f for f in known}
    order = [f.name for f in known if f.name in paths]
    order += sorted(set(paths) - set(order))
    out = []
    for number, name in enumerate(order, start=1):
        path = Path(paths[name])
        data = path.read_bytes()
        svg = path.suffix.lower() == ".svg"
        mime = "image/svg+xml" if svg else "image/png"
        width, height = (0, 0) if svg else _png_size(data)
        spec = specs.get(name) or FigureSpec(
            name, name.replace("_", " "), f"Figure {name.replace('_', ' ')}",
            f"Estimates from {prov.microdata}.",
        )  # fmt: skip
        out.append({
            "name": name, "number": number, "title": spec.title, "alt": spec.alt,
            "caption": spec.caption, "width": width or "", "height": height or "",
            "min_width": "" if svg else _min_width(data, width),
            "uri": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}",
        })  # fmt: skip
    return out


def _environment(labels: Labels) -> Environment:
    env = Environment(
        loader=PackageLoader("pollwaves.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["host"] = lambda url: urlsplit(str(url)).netloc or str(url)
    env.filters["short"] = labels.short
    env.filters["cat"] = lambda c, var: labels.category(var, c)
    env.tests["finite"] = finite
    return env


def render_report(
    inputs: ReportInputs,
    *,
    figures: Mapping[str, Path],
    config: Mapping,
    claims_cfg: Mapping,
    margins_cfg: Mapping,
    codebook: Mapping | None = None,
    provenance: Provenance = ALL_SIMULATED,
) -> tuple[str, Numbers]:
    """Render the report; also return the :class:`Numbers` registry of printed numbers.

    Parameters
    ----------
    inputs : ReportInputs
        The precomputed tables.
    figures : mapping of str to pathlib.Path
        Figure name (file stem, e.g. ``war_support_trend``) to a PNG (or SVG) file; known
        names are shown in the order of :data:`pollwaves.report.figure_specs.FIGURES`.
    config, claims_cfg, margins_cfg, codebook : mapping
        The parsed ``config/config.yaml``, ``config/claims.yaml``, ``config/margins.yaml``
        and ``config/codebook.yaml`` (labels; optional).
    provenance : Provenance
        The waves' ``simulated`` flags: every wave simulated (default) gives the SIMULATED
        banner and wording; a mix names the simulated and the real waves; no simulated wave
        drops the simulated-data banner.

    Returns
    -------
    (str, Numbers)
        The HTML document and the registry of every number it prints.
    """
    labels, n = Labels(codebook), Numbers()
    study = config.get("study", {}) or {}
    notice = " ".join(str(study.get("simulated_notice", "SIMULATED DATA.")).split())
    rest = notice.removeprefix("SIMULATED DATA.").strip()
    prov = provenance
    if prov.mode == "mixed":
        rest = f"{rest} {prov.waves_sentence}"
    sources = {**rs.SOURCES, "simulated": prov.heading}
    est = config.get("estimation", {}) or {}
    wgt = config.get("weighting", {}) or {}
    method = str(est.get("ci_method", "logit"))
    pub = rs.sort_frame(inputs.published, _PUBLISHED_ORDER)
    claims = rs.claims_context(
        inputs.ledger, inputs.evidence, inputs.sensitivity, claims_cfg, labels, sources
    )
    threshold = float(((claims_cfg.get("claims") or {}).get("no_majority_support") or {}).get(
        "threshold", 0.5))  # fmt: skip
    figs = _figures(figures, float(est.get("level", 0.95)), prov)
    sub = rs.subgroup_context(
        inputs.subgroup_predicted, inputs.subgroup_ame, inputs.subgroup_terms,
        inputs.trend_tests, labels,
    )  # fmt: skip
    validation = None if inputs.validation is None else rs.records(inputs.validation)
    results = dict(inputs.coverage or {})
    if not results and inputs.validation is not None:
        results = {"summary": inputs.validation, "meta": dict(inputs.validation_meta or {})}
    coverage = {}
    if results.get("summary") is not None or results.get("poll") is not None:
        coverage = rv.validation_context(results, float(est.get("level", 0.95)))
    context = {
        "n": n, "labels": labels, "verdicts": rs.VERDICTS, "sources": sources, "prov": prov,
        "model_notes": [] if inputs.model_waves is None else exclusion_notes(inputs.model_waves),
        "title": str(study.get("title", "pollwaves report")), "notice_rest": rest,
        "pollster": str(study.get("pollster", "")), "sections": _SECTIONS,
        "level": float(est.get("level", claims_cfg.get("level", 0.95))),
        "invasion": str(claims_cfg.get("invasion_date", "")), "claims": claims,
        "paper_date": str(claims_cfg.get("paper_date", "2022-12-01")),
        "claim_sources": rs.claim_sources(inputs.ledger),
        "claims_changes": rs.records(inputs.changes),
        "published_deff": float((config.get("trend") or {}).get("published_deff", 1.0)),
        "q_prior": {"centre": f"{math.exp(LOG_Q_PRIOR[0]):.0e}".replace("e-0", "e-"),
                    "decades": f"{LOG_Q_PRIOR[1] / math.log(10):g}"},
        "published_moe": _published_moe((config.get("trend") or {}).get("published_moe")),
        "figures": figs, "figure_numbers": {f["name"]: f["number"] for f in figs},
        "sub": sub, "ame_by": {(r["variable"], r["level"]): r for r in sub["ame"]},
        "bounds": rs.bounds_context(inputs.bounds, threshold, sources,
                                    float(est.get("level", 0.95))),
        "effect": rs.effect_context(inputs.effect, list(dict.fromkeys(
            inputs.effect["question"])), ["support", "oppose"]),
        "published_rows": len(pub), "published_waves": pub["wave"].nunique(),
        "excluded_rows": len(inputs.excluded), "raking": list(wgt.get("variables") or []),
        "sources_used": rs.sources_context(pub, labels), "published": rs.records(pub),
        "excluded": rs.records(rs.sort_frame(inputs.excluded, ["row_id"])),
        "targets": rs.margins_context(margins_cfg, labels),
        "weighting": rs.records(rs.sort_frame(inputs.weighting, ["wave"])),
        "missing_rule": str(wgt.get("missing", "impute")),
        "missing_values": missing_raking_values(inputs.weighting),
        "vendor": [] if inputs.vendor is None else rs.records(inputs.vendor),
        "vendor_corr": [r for r in rs.records(rs.sort_frame(inputs.weighting, ["wave"]))
                        if float(r.get("n_vendor_weight", 0) or 0) > 0],
        "cap": wgt.get("cap"), "ci_method": method,
        "ci_text": _CI_METHODS.get(method, method), "validation": validation,
        "validation_columns": [] if inputs.validation is None else [
            str(c) for c in inputs.validation.columns],
        "validation_meta": dict(inputs.validation_meta or {}),
        "toplines": rs.toplines_context(inputs.toplines),
        "coverage": coverage,
    }  # fmt: skip
    html = _environment(labels).get_template("report.html.j2").render(context)
    return html, n


def build_report(inputs: ReportInputs, **kwargs) -> str:
    """Build the self-contained HTML report (see :func:`render_report` for the arguments).

    Returns
    -------
    str
        A complete HTML document; all data-derived text is HTML-escaped and the output is
        byte-identical for identical inputs (no timestamps, stable ordering).
    """
    return render_report(inputs, **kwargs)[0]


def write_report(html_text: str, path: str | Path) -> None:
    """Write the report atomically (temporary file in the same folder, then ``os.replace``).

    Parameters
    ----------
    html_text : str
        The document returned by :func:`build_report`.
    path : str or pathlib.Path
        Output file; parent folders are created.
    """
    atomic_write(path, lambda tmp: tmp.write_text(html_text, encoding="utf-8", newline="\n"))


def _published_moe(moe: Mapping | None) -> dict | None:
    """``trend.published_moe`` with the design effects it implies (``moe_deff``), or None."""
    if not moe:
        return None
    implied = moe_deff(moe["percent"], moe["n"], float(moe["level"]))
    return {"percent": list(moe["percent"]), "n": list(moe["n"]), "level": moe["level"], **implied}
