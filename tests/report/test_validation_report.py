"""The coverage results (SIMULATED validation study) as the report places them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from jinja2 import DictLoader, Environment, PackageLoader

from pollwaves.report import validation as rv
from pollwaves.report.tables import Numbers


def _summary() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": ["subgroup_margin", "subgroup_ame", "topline", "topline"],
        "method": ["raked", "raked", "raked", "unweighted"],
        "estimates": [17, 12, 289, 289], "replicates": [200, 198, 200, 200],
        "mean_coverage": [0.951, 0.947, 0.9497, 0.604], "min_coverage": [0.935, 0.91, 0.9, 0.1],
        "n_outside_band": [0, 1, 3, 201], "band_low": [0.905, 0.904, 0.905, 0.905],
        "band_high": [0.985, 0.985, 0.985, 0.985], "band_level": 0.99,
    })  # fmt: skip


def test_context_takes_each_kind_from_the_summary_beside_its_estimate():
    meta = {"level": 0.95, "kinds": {"subgroup_margin": {"date": "2026-12-01T00:00:00Z",
                                                         "code_revision": "abc"}}}  # fmt: skip
    ctx = rv.validation_context({"summary": _summary(), "meta": meta}, 0.95)
    assert set(ctx) == set(rv.BLOCKS)
    sub = {r["kind"]: r for r in ctx["subgroup"]["rows"]}
    assert sub["subgroup_margin"]["mean_coverage"] == 0.951
    assert sub["subgroup_ame"]["replicates"] == 198 and sub["subgroup_ame"]["n_outside_band"] == 1
    assert ctx["subgroup"]["run"]["code_revision"] == "abc"
    assert ctx["subgroup"]["band_level"] == 0.99
    alliance = {r["kind"]: r for r in ctx["alliance_trend"]["rows"]}
    assert alliance["topline"]["mean_coverage"] == 0.9497  # the raked row, not unweighted
    assert alliance["alliance_share"].get("missing")  # not run yet: shown as such
    assert ctx["poll_average"]["rows"][0].get("missing") and not ctx["poll_average"]["any"]


def test_poll_average_rows_per_series(tmp_path):
    poll = pd.DataFrame({"kind": "poll_average_band", "source": ["simulated", "published"],
                         "question": "war_support", "category": "support", "replicates": 300,
                         "mean_coverage": [0.86, 0.95], "min_date_coverage": [0.7, 0.9],
                         "band_low": 0.92, "band_high": 0.977, "outside_band": [True, False],
                         "band_level": 0.99})  # fmt: skip
    poll.to_csv(tmp_path / "poll.csv", index=False)
    (tmp_path / "poll.json").write_text(json.dumps({"date": "2026-12-01T00:00:00Z"}))
    results = rv.load_results(poll=tmp_path / "poll.csv", poll_meta=tmp_path / "poll.json",
                              summary=tmp_path / "absent.csv")  # fmt: skip
    assert results["summary"] is None and results["meta"] == {}
    ctx = rv.validation_context(results, 0.95)["poll_average"]
    assert [r["label"].split(":")[0] for r in ctx["rows"]] == ["published", "simulated"]
    assert [r["n_outside_band"] for r in ctx["rows"]] == [0, 1]
    assert ctx["rows"][1]["min_coverage"] == pytest.approx(0.7)
    assert ctx["run"]["date"] == "2026-12-01T00:00:00Z"


def _render(coverage: dict, key: str) -> str:
    source = PackageLoader("pollwaves.report", "templates")
    env = Environment(autoescape=True)
    env.loader = DictLoader({
        "page": '{% import "validation.html.j2" as v with context %}{{ v.block(key) }}',
        "validation.html.j2": source.get_source(env, "validation.html.j2")[0],
    })  # fmt: skip
    return env.get_template("page").render(n=Numbers(), coverage=coverage, key=key)


def test_block_says_simulated_gives_band_date_and_revision():
    meta = {
        "level": 0.95,
        "date": "2026-12-01T00:00:00Z",
        "code_revision": "abc",
        "replicates": 200,
    }
    html = _render(rv.validation_context({"summary": _summary(), "meta": meta}, 0.95), "subgroup")
    assert "Coverage check (SIMULATED data)" in html and "binomial band" in html
    assert "abc" in html and "2026-12-01" in html and "census predictive margin" in html
    assert '<data value="0.935">93.5</data>' in html  # the lowest coverage of the margins
    assert '<data value="0.905">90.5</data>' in html and '<data value="0.99">99</data>' in html
    missing = _render(rv.validation_context({"summary": _summary(), "meta": meta}, 0.95),
                      "trend")  # fmt: skip
    assert "not yet run" in missing
    assert _render({}, "subgroup").strip() == ""  # no benchmark given: nothing shown


def test_poll_average_row_splits_point_and_bound_only_dates(tmp_path):
    poll = pd.DataFrame({"kind": "poll_average_band", "source": "published",
                         "question": "alliance", "category": ["neutral", "russia"],
                         "replicates": 400, "mean_coverage": [0.985, 0.96],
                         "min_date_coverage": [0.95, 0.92], "band_low": 0.92,
                         "band_high": 0.975, "outside_band": [True, False], "band_level": 0.99,
                         "point_dates": [2, 5], "point_mean_coverage": [0.955, 0.96],
                         "point_min_coverage": [0.95, 0.92], "partial_dates": [4, 0],
                         "partial_mean_coverage": [0.999, float("nan")]})  # fmt: skip
    poll.to_csv(tmp_path / "poll.csv", index=False)
    results = rv.load_results(poll=tmp_path / "poll.csv", summary=tmp_path / "absent.csv")
    html = _render(rv.validation_context(results, 0.95), "poll_average")
    assert html.count('class="partial"') == 1  # only the series with bound-only dates
    assert "partially identified" in html and '<data value="0.955">95.5</data>' in html
    assert '<data value="0.999">99.9</data>' in html and "positions.csv" in html
