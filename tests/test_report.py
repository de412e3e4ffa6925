"""Tests for pollwaves.report: the self-contained HTML report."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest
from matplotlib.figure import Figure

from pollwaves import report

NOTICE = "SIMULATED DATA. The respondent-level data are simulated & not real."
CONFIG = {
    "study": {"title": "Belarus polls <test> & trends", "simulated_notice": NOTICE},
    "estimation": {"level": 0.95, "ci_method": "logit"},
    "weighting": {"variables": ["sex_age", "education"], "cap": 5.0},
    "report": {"trend_questions": ["war_support", "alliance"]},
}


def _toplines() -> pd.DataFrame:
    cols = ["question", "wave", "domain", "category", "estimate", "se", "ci_low", "ci_high"]
    rows = [
        ("war_support", "2022-04", "all", "oppose", 0.317, 0.024, 0.270, 0.365),
        ("war_support", "2022-04", "all", "support", 0.300, 0.020, 0.262, 0.341),
        ("alliance", "2022-04", "all", "both", 0.350, 0.020, 0.311, 0.391),
        ("attitude_russia", "2022-04", "all", "good", 0.700, 0.020, 0.66, 0.74),
        ("war_support", "2022-04", "sex=male", "support", 0.990, 0.020, 0.9, 0.999),
    ]
    return pd.DataFrame(rows, columns=cols).assign(n=812, n_eff=507.5, deff=1.6)


def _published() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": [92, 3],
            "wave": ["2022-04", "2020-09"],
            "question": ["war_support", "alliance"],
            "category": ["support", "both"],
            "relation": ["equals", "equals"],
            "value": [32.0, 41.0],
            "low": [32.0, 41.0],
            "high": [32.0, 100.0],
            "qualifier": ["exact", "lower_bound"],
            "subgroup_variable": [pd.NA, pd.NA],
            "subgroup_value": [pd.NA, pd.NA],
            "source_url": ["https://example.org/a?x=1&y=2", "https://example.org/b"],
            "source_quote": ["fewer than <5% & more", "Ponad 41 proc."],
            "flag": [pd.NA, "published as 'more than 41'"],
        }
    )


def _excluded() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": [12, 5],
            "wave": ["undated", "2020-09"],
            "question": ["alliance", "alliance"],
            "answer": ["union with EU", "union with both Russia and EU (West)"],
            "percent": ["27", "almost 42"],
            "reason": ["ambiguous wave attribution", "superseded by row 3"],
        }
    )


def _weighting() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "wave": ["2022-04", "2020-09"],
            "n": [812, 899],
            "iterations": [11, 9],
            "max_misfit": [3e-11, 8e-12],
            "weight_min": [812.25, 700.5],
            "weight_median": [7001.2, 6800.0],
            "weight_max": [30100.5, 28000.0],
            "deff_kish": [1.61, 1.55],
            "n_eff": [504.3, 580.0],
            "trim_share": [0.0, 0.01],
        }
    )


@pytest.fixture
def figure_paths(tmp_path):
    paths = {}
    for name in ("alliance_trend", "war_support_trend"):
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, 1], [0, 1 if name.startswith("war") else 2])
        path = tmp_path / f"{name}.png"
        fig.savefig(path, format="png", dpi=20, metadata={"Software": None})
        paths[name] = path
    return paths


def _build(figure_paths, **changes) -> str:
    kwargs = dict(
        toplines=_toplines(),
        published=_published(),
        excluded=_excluded(),
        weighting=_weighting(),
        figures=figure_paths,
        config=CONFIG,
    )
    kwargs.update(changes)
    return report.build_report(**kwargs)


def _section(html: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}">(.*?)</section>', html, flags=re.S)
    assert match, sid
    return match.group(1)


def test_banner_comes_first_and_holds_the_escaped_notice(figure_paths):
    html = _build(figure_paths)
    assert html.startswith("<!DOCTYPE html>")
    body = html.split("<body>", 1)[1].lstrip()
    assert body.startswith('<div class="banner simulated"')
    assert "SIMULATED DATA. The respondent-level data are simulated &amp; not real." in body
    assert "<title>Belarus polls &lt;test&gt; &amp; trends</title>" in html


def test_report_is_self_contained_with_embedded_images(figure_paths):
    html = _build(figure_paths)
    for name, path in figure_paths.items():
        uri = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        assert f'src="{uri}"' in html, name
    assert 'src="http' not in html
    assert "<link" not in html
    assert "<script" not in html
    assert "@import" not in html and "url(" not in html
    # figures appear in config order: war support first
    assert html.index('id="fig-war_support_trend"') < html.index('id="fig-alliance_trend"')


def test_published_quote_is_escaped_and_source_is_a_link(figure_paths):
    html = _build(figure_paths)
    published = _section(html, "published")
    assert "fewer than &lt;5% &amp; more" in published
    assert "<5%" not in html
    assert '<a href="https://example.org/a?x=1&amp;y=2">example.org</a>' in published
    assert published.index("2020-09") < published.index("2022-04")  # sorted by wave


def test_toplines_table_is_simulated_trend_questions_only(figure_paths):
    html = _build(figure_paths)
    top = _section(html, "toplines")
    assert '<table class="simulated"><caption>Toplines from SIMULATED microdata' in top
    assert "31.7" in top and "27.0–36.5" in top and "1.60" in top and "508" in top
    assert "Union with both Russia and the EU" in top
    assert "attitude" not in top.lower() and "99.0" not in top  # other questions, subgroups
    assert top.index(">Support<") < top.index(">Do not support<")  # codebook order


def test_weighting_excluded_and_methods_sections(figure_paths):
    html = _build(figure_paths)
    weighting = _section(html, "weighting")
    for col in _weighting().columns:
        assert f">{col}</th>" in weighting
    assert "3.00e-11" in weighting and "30\u2009100" in weighting
    excluded = _section(html, "excluded")
    assert "ambiguous wave attribution" in excluded and "almost 42" in excluded
    assert excluded.index(">5<") < excluded.index(">12<")  # by row_id
    methods = _section(html, "methods")
    assert "Taylor-linearisation" in methods and "logit" in methods
    assert "assumption" in methods and "sex_age, education" in methods
    reproduces = _section(html, "reproduces")
    assert "Astapenia" in reproduces and "Matsukevich" in reproduces


def test_report_is_deterministic_and_independent_of_row_order(figure_paths):
    first = _build(figure_paths)
    assert _build(figure_paths) == first
    shuffled = _build(
        figure_paths,
        toplines=_toplines().iloc[::-1],
        published=_published().iloc[::-1],
        excluded=_excluded().iloc[::-1],
        weighting=_weighting().iloc[::-1],
        figures=dict(reversed(list(figure_paths.items()))),
    )
    assert shuffled == first


def test_write_report_is_atomic(tmp_path, figure_paths):
    html = _build(figure_paths)
    out = tmp_path / "reports" / "public_demand.html"
    report.write_report(html, out)
    report.write_report(html, out)
    assert out.read_text(encoding="utf-8") == html
    assert [p.name for p in out.parent.iterdir()] == ["public_demand.html"]
