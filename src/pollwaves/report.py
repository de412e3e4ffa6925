"""Self-contained HTML report: simulated-data banner, the two figures, tables and methods.

The report only formats precomputed design-based estimates and diagnostics; it computes no
estimate or interval. Output is deterministic (no timestamps, stable row order) and needs no
external resource to render: images are embedded as ``data:`` URIs and the CSS is inline.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from pollwaves.figures import PUBLISHED_SOURCE
from pollwaves.io import atomic_write

#: Short question titles and English category labels (as in config/codebook.yaml), in order.
QUESTION_LABELS = {
    "war_support": "Support for Russia's military actions in Ukraine",
    "alliance": "Preferred geopolitical union",
}
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "war_support": {
        "support": "Support",
        "partly": "Partly support, partly not",
        "hard_to_say": "Hard to say",
        "oppose": "Do not support",
    },
    "alliance": {
        "russia": "Union with Russia",
        "both": "Union with both Russia and the EU",
        "outside": "Outside any unions",
        "eu": "Union with the EU",
        "hard_to_say": "Hard to say",
    },
}
_CAPTIONS = {
    "war_support": (
        "Support for Russia's military actions in Ukraine by wave, as stacked shares (support, "
        "partly, hard to say, do not support). Left panel: real numbers as published by the "
        "Chatham House Belarus Initiative; only waves with a complete breakdown are stacked, "
        "partial waves are markers with their bounds. Right panel: weighted estimates from "
        "SIMULATED microdata with precomputed 95% confidence intervals."
    ),
    "alliance": (
        "Preferred geopolitical union by wave; the two neutral options (a union with both "
        "Russia and the EU, or outside any union) form one band. Left panel: real numbers as "
        "published (a partly published neutral band shows its known lower bound). Right panel: "
        "weighted estimates from SIMULATED microdata with precomputed 95% confidence intervals."
    ),
}
_CI_METHODS = {  # as R survey::svyciprop; see pollwaves.estimation
    "logit": "formed on the logit scale and transformed back, so they stay inside 0-100%",
    "xlogit": "formed on the logit scale and transformed back, so they stay inside 0-100%",
    "beta": "Korn-Graubard beta intervals based on the effective sample size",
    "wilson": "Wilson intervals based on the effective sample size",
}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0 auto;
max-width:1200px;padding:0 1.2em 3em;color:#1a1a1a;line-height:1.45}
.banner.simulated{position:sticky;top:0;z-index:2;background:#fff3cd;border:3px solid #b45309;
color:#5c2c00;font-weight:600;padding:.8em 1em;margin:0 0 1em}
h1{font-size:1.6em;margin:.4em 0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.8em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.92em;color:#333}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
th,td{border:1px solid #d0d0d0;padding:.25em .5em;vertical-align:top}
th{background:#f2f2f2;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
table.simulated caption{color:#7c2d12}.note{font-size:.92em;color:#333}
.scroll{overflow-x:auto}
"""


def _e(x: object) -> str:
    """HTML-escape ``x``; missing values become an empty string."""
    if x is None or (not isinstance(x, (str, list, tuple, dict)) and pd.isna(x)):
        return ""
    return html.escape(str(x), quote=True)


def _num(x: object, digits: int | None = None) -> str:
    """Format a number deterministically (``digits`` fixed decimals, or a readable default)."""
    if x is None or isinstance(x, str) or pd.isna(x):
        return _e(x)
    v = float(x)  # type: ignore[arg-type]
    if digits is not None:
        return f"{v:.{digits}f}"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}".replace(",", "\u2009")
    if abs(v) >= 1000:
        return f"{v:,.0f}".replace(",", "\u2009")
    if abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.{2 if abs(v) >= 1 else 4}f}".rstrip("0").rstrip(".")


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    caption: str = "",
    cls: str = "",
    numeric: Sequence[int] = (),
) -> str:
    """HTML table; ``headers``/``caption`` are plain text, ``rows`` hold ready HTML cells."""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
            for j, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    klass = f' class="{_e(cls)}"' if cls else ""
    return (
        f'<div class="scroll"><table{klass}>{cap}\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _stable_sort(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Sort by the given columns that exist (text as text, ``row_id`` numerically)."""
    cols = [c for c in columns if c in frame.columns]
    if not cols:
        return frame.reset_index(drop=True)

    def key(s: pd.Series) -> pd.Series:
        if s.name == "row_id":
            n = pd.to_numeric(s, errors="coerce")
            return n if n.notna().all() else s.astype(str)
        return s.astype(str)

    return frame.sort_values(cols, key=key, kind="mergesort").reset_index(drop=True)


def _link(url: object) -> str:
    text = "" if url is None or pd.isna(url) else str(url)
    if not text.startswith(("http://", "https://")):
        return _e(text)
    return f'<a href="{_e(text)}">{_e(urlsplit(text).netloc or text)}</a>'


def _figure(name: str, path: Path) -> str:
    path = Path(path)
    mime = "image/svg+xml" if path.suffix.lower() == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    key = name.removesuffix("_trend")
    caption = _CAPTIONS.get(key, f"Figure {name}. Right panel: SIMULATED microdata.")
    alt = f"{QUESTION_LABELS.get(key, name)}: published (left) and simulated (right) by wave"
    return (
        f'<figure id="fig-{_e(name)}"><img src="data:{mime};base64,{data}" alt="{_e(alt)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _toplines_table(toplines: pd.DataFrame, questions: Sequence[str], level: float) -> str:
    top = toplines.loc[toplines["question"].isin(questions) & (toplines["domain"] == "all")]
    top = top.loc[top["estimate"].notna()]
    order = {q: i for i, q in enumerate(questions)}

    def rank(row: pd.Series) -> tuple:
        cats = list(CATEGORY_LABELS.get(row["question"], {}))
        c = str(row["category"])
        return (order[row["question"]], str(row["wave"]), cats.index(c) if c in cats else 99, c)

    if not top.empty:
        top = top.assign(_rank=top.apply(rank, axis=1)).sort_values("_rank", kind="mergesort")
    rows = [
        [
            _e(QUESTION_LABELS.get(r.question, r.question)),
            _e(r.wave),
            _e(CATEGORY_LABELS.get(r.question, {}).get(r.category, r.category)),
            _num(100 * r.estimate, 1),
            f"{_num(100 * r.ci_low, 1)}–{_num(100 * r.ci_high, 1)}" if pd.notna(r.ci_low) else "",
            _num(r.n, 0),
            _num(r.n_eff, 0),
            _num(r.deff, 2),
        ]
        for r in top.itertuples(index=False)
    ]
    ci = f"{level:.0%} CI (%)"
    headers = ["Question", "Wave", "Answer", "Estimate (%)", ci, "n", "n_eff", "deff"]
    caption = "Toplines from SIMULATED microdata (weighted; not real survey responses)"
    return _table(headers, rows, caption=caption, cls="simulated", numeric=range(3, 8))


def _frame_table(frame: pd.DataFrame, *, caption: str, cls: str = "", links=()) -> str:
    """Render all columns of ``frame`` (numbers formatted, ``links`` columns as <a href>)."""
    rows = [
        [
            _link(v) if c in links else _num(v) if _is_number(v) else _e(v)
            for c, v in zip(frame.columns, r, strict=True)
        ]
        for r in frame.itertuples(index=False)
    ]
    numeric = [j for j, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c])]
    return _table(list(map(str, frame.columns)), rows, caption=caption, cls=cls, numeric=numeric)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) or (hasattr(v, "dtype") and not isinstance(v, str))


def _methods(config: Mapping) -> str:
    w, est = config.get("weighting", {}) or {}, config.get("estimation", {}) or {}
    variables = ", ".join(map(str, w.get("variables", []))) or "the configured margins"
    level, method = float(est.get("level", 0.95)), str(est.get("ci_method", "logit"))
    cap = w.get("cap")
    cap_text = f" Weights are bounded at {cap} times the base weight." if cap else ""
    paras = [
        f"Data source. Left panels and the published-numbers table: {PUBLISHED_SOURCE}. "
        "These numbers are real; every row keeps its source URL. Right panels, the toplines "
        "and the weighting diagnostics come from respondent-level data SIMULATED by "
        "pollwaves.simulate and calibrated to the published toplines where they exist.",
        f"Weighting targets. Each wave is raked (iterative proportional fitting) to margins of "
        f"{variables}. Only whole-country 2019 census totals were found, so the urban targets "
        "are derived, and each derived target is an assumption documented in "
        f"config/margins.yaml that official urban tables can replace.{cap_text}",
        f"Standard errors and intervals. Weighted shares get Taylor-linearisation standard "
        f"errors (the weighted share treated as a ratio estimator); {level:.0%} confidence "
        f"intervals use the {method} method: {_CI_METHODS.get(method, method)}. deff is the "
        "design effect against simple random sampling of the same n, and n_eff = n / deff. "
        "'Hard to say' is a substantive answer; refusals are left out of the base. The "
        "figures and this report draw these precomputed intervals and compute none.",
        "Published numbers. Values are shown as published (percent, not rescaled); qualifiers "
        "mark lower/upper bounds, approximations, fractions and ranges. Rows are selected by "
        "the documented rule in config/published_labels.yaml; excluded rows are listed above "
        "with their reasons.",
    ]
    return "\n".join(f'<p class="note">{_e(p)}</p>' for p in paras)


_REPRODUCES = (
    "This report redraws the two charts in the public-demand section of a December 2022 "
    "briefing paper on Belarusian foreign policy by R. Astapenia and P. Matsukevich (Center "
    "for New Ideas). Both charts use Chatham House CAWI polls of the urban population of "
    "Belarus. In our own words, the paper argues that:",
    [
        "Russia's war against Ukraine does not have majority backing among Belarusians; its "
        "supporters are a minority.",
        "The war changed views on which union Belarus should belong to: in polls before the "
        "war about two in three respondents picked one of the two neutral answers (a union "
        "with both Russia and the EU, or staying outside all unions), after the invasion "
        "about one in two did.",
        "Even so, most Belarusians keep a positive attitude towards every party to the conflict.",
    ],
    "The paper does not print the numbers behind its charts. The left panels therefore show "
    "the published poll numbers that could be traced to a source; the right panels show "
    "estimates from simulated microdata, which demonstrate the pipeline and are not evidence "
    "for or against these claims.",
)

_CAPTION_W = "Raking diagnostics per wave of the SIMULATED microdata"
_CAPTION_P = "Published Chatham House numbers, as used (percent; real data)"
_CAPTION_X = "Published rows not used, with the reason (by row_id)"
_PUBLISHED_COLUMNS = [
    "row_id", "wave", "question", "answer", "percent", "category", "relation", "value", "low",
    "high", "qualifier", "subgroup_canonical_variable", "subgroup_category", "subgroup_variable",
    "subgroup_value", "source_url", "source_quote", "flag",
]  # fmt: skip
_EXCLUDED_COLUMNS = [
    "row_id", "wave", "question", "published_question", "answer", "percent", "reason",
    "superseded_by", "source_url",
]  # fmt: skip


def _columns(frame: pd.DataFrame, wanted: Sequence[str]) -> pd.DataFrame:
    """The ``wanted`` columns that ``frame`` has, in that order (all columns if none match)."""
    cols = [c for c in wanted if c in frame.columns]
    return frame[cols] if cols else frame


def build_report(
    *,
    toplines: pd.DataFrame,
    published: pd.DataFrame,
    excluded: pd.DataFrame,
    weighting: pd.DataFrame,
    figures: Mapping[str, Path],
    config: Mapping,
) -> str:
    """Build the self-contained HTML report.

    The report formats precomputed design-based estimates (``toplines``: Taylor-linearisation
    SEs and CIs from the estimation step) and never computes an estimate or interval itself.

    Parameters
    ----------
    toplines : pandas.DataFrame
        Result table (``question, wave, domain, category, estimate, se, ci_low, ci_high, n,
        n_eff, deff``; shares in [0, 1]) from the SIMULATED microdata.
    published : pandas.DataFrame
        Used published numbers (real; percent), with ``source_url``.
    excluded : pandas.DataFrame
        Excluded published rows with their ``reason``.
    weighting : pandas.DataFrame
        Weighting diagnostics, one row per wave; every column is shown.
    figures : mapping of str to pathlib.Path
        Figure name (``war_support``, ``alliance``, optionally with ``_trend``) to a PNG or SVG
        file, embedded as a base64 ``data:`` URI in config order, then by name.
    config : mapping
        The parsed config/config.yaml (``study.title``, ``study.simulated_notice``, ...).

    Returns
    -------
    str
        A complete HTML document. All text is HTML-escaped; the output is byte-identical for
        identical inputs (no timestamps, stable ordering).
    """
    study = config.get("study", {}) or {}
    title = str(study.get("title", "pollwaves report"))
    notice = " ".join(str(study.get("simulated_notice", "SIMULATED DATA.")).split())
    level = float((config.get("estimation", {}) or {}).get("level", 0.95))
    questions = list((config.get("report", {}) or {}).get("trend_questions") or QUESTION_LABELS)
    order = {q: i for i, q in enumerate(questions)}
    names = sorted(figures, key=lambda n: (order.get(n.removesuffix("_trend"), len(order)), n))
    intro, claims, outro = _REPRODUCES
    items = "".join(f"<li>{_e(c)}</li>" for c in claims)
    pub = _stable_sort(_columns(published, _PUBLISHED_COLUMNS), ["wave", "question", "row_id"])
    exc = _stable_sort(_columns(excluded, _EXCLUDED_COLUMNS), ["row_id"])
    wgt = _stable_sort(weighting, ["wave"])
    tables = {
        "weighting": _frame_table(wgt, caption=_CAPTION_W, cls="simulated"),
        "published": _frame_table(pub, caption=_CAPTION_P, links={"source_url"}),
        "excluded": _frame_table(exc, caption=_CAPTION_X, links={"source_url"}),
    }
    sections = [
        ("reproduces", "What this reproduces",
         f"<p>{_e(intro)}</p>\n<ul>{items}</ul>\n<p>{_e(outro)}</p>"),
        ("figures", "Figures", "\n".join(_figure(n, figures[n]) for n in names)),
        ("toplines", "Toplines (SIMULATED data)", _toplines_table(toplines, questions, level)),
        ("weighting", "Weighting diagnostics (SIMULATED data)", tables["weighting"]),
        ("published", "Published numbers used (real)", tables["published"]),
        ("excluded", "Published rows excluded", tables["excluded"]),
        ("methods", "Methods", _methods(config)),
    ]  # fmt: skip
    nav = " · ".join(f'<a href="#{sid}">{_e(h)}</a>' for sid, h, _ in sections)
    body = "\n".join(
        f'<section id="{sid}">\n<h2>{_e(h)}</h2>\n{content}\n</section>'
        for sid, h, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<div class="banner simulated" role="note">{_e(notice)}</div>\n'
        f"<h1>{_e(title)}</h1>\n"
        f'<p class="note">Pollster: {_e(study.get("pollster", ""))}</p>\n'
        f"<nav>{nav}</nav>\n{body}\n</body>\n</html>\n"
    )


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
