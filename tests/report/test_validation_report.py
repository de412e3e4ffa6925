"""The coverage results (SIMULATED validation study) as the report places them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from jinja2 import DictLoader, Environment, PackageLoader
from scipy import stats

from pollwaves.report import validation as rv
from pollwaves.report.tables import Numbers


def _detail() -> pd.DataFrame:
    rows = []
    for kind, question, cov in [
        ("topline", "war_support", [0.9, 0.96]),
        ("topline", "alliance", [0.97, 0.95]),
        ("subgroup_margin", None, [0.95, 0.935, 0.96]),
        ("subgroup_ame", None, [0.94, 0.99]),
    ]:
        for c in cov:
            rows.append({"kind": kind, "method": "raked", "question": question,
                         "replicates": 200, "coverage": c, "bias": 0.001})  # fmt: skip
    rows.append({"kind": "topline", "method": "unweighted", "question": "alliance",
                 "replicates": 200, "coverage": 0.2, "bias": 0.05})  # fmt: skip
    return pd.DataFrame(rows)


def test_band_is_the_binomial_range_of_a_correct_interval():
    lo, hi = rv.band(200, 0.95)
    assert lo < 0.95 < hi
    # 99% of Binomial(200, 0.95) counts of covering intervals lie in [181, 197]
    assert stats.binom.cdf(lo * 200 - 1, 200, 0.95) < 0.005 <= stats.binom.cdf(lo * 200, 200, 0.95)
    assert stats.binom.cdf(hi * 200 - 1, 200, 0.95) < 0.995 <= stats.binom.cdf(hi * 200, 200, 0.95)


def test_context_summarises_each_kind_beside_its_estimate():
    results = {"detail": _detail(), "summary": None, "meta": {"level": 0.95}, "poll": None}
    ctx = rv.validation_context(results, 0.95)
    assert set(ctx) == set(rv.BLOCKS)
    sub = {r["kind"]: r for r in ctx["subgroup"]["rows"]}
    assert sub["subgroup_margin"]["estimates"] == 3
    assert sub["subgroup_margin"]["mean_coverage"] == pytest.approx((0.95 + 0.935 + 0.96) / 3)
    assert sub["subgroup_margin"]["min_coverage"] == pytest.approx(0.935)
    assert sub["subgroup_ame"]["outside_band"] == 1  # 0.99 is above the 99% band
    war = ctx["war_support_trend"]["rows"][0]
    assert war["estimates"] == 2 and war["min_coverage"] == pytest.approx(0.9)
    alliance = {r["kind"]: r for r in ctx["alliance_trend"]["rows"]}
    assert alliance["topline"]["mean_coverage"] == pytest.approx(0.96)  # raked rows only
    assert alliance["alliance_share"].get("missing")  # not run yet: shown as such
    assert ctx["poll_average"]["rows"][0].get("missing")


def test_poll_average_rows_per_series(tmp_path):
    poll = pd.DataFrame({"kind": "poll_average_band", "source": ["published", "simulated"],
                         "question": "war_support", "category": "support", "replicates": 300,
                         "mean_coverage": [0.95, 0.86], "min_date_coverage": [0.9, 0.7],
                         "mean_ci_width": 0.05})  # fmt: skip
    poll.to_csv(tmp_path / "poll.csv", index=False)
    (tmp_path / "poll.json").write_text(json.dumps({"date": "2026-12-01T00:00:00Z"}))
    results = rv.load_results(poll=tmp_path / "poll.csv", poll_meta=tmp_path / "poll.json",
                              summary=tmp_path / "absent.csv")  # fmt: skip
    assert results["summary"] is None and results["meta"] == {}
    ctx = rv.validation_context(results, 0.95)["poll_average"]
    assert [r["outside_band"] for r in ctx["rows"]] == [0, 1]
    assert ctx["rows"][1]["min_coverage"] == pytest.approx(0.7)
    assert ctx["run"]["date"] == "2026-12-01T00:00:00Z"


def test_block_says_simulated_and_prints_every_number_through_numbers():
    results = {"detail": _detail(), "summary": None,
               "meta": {"level": 0.95, "date": "2026-12-01T00:00:00Z", "code_revision": "abc123",
                        "replicates": 200}}  # fmt: skip
    env = Environment(loader=PackageLoader("pollwaves.report", "templates"), autoescape=True)
    env.tests["finite"] = lambda v: isinstance(v, int | float)
    env.loader = DictLoader({
        "page": '{% import "validation.html.j2" as v with context %}{{ v.block("subgroup") }}',
        "validation.html.j2": PackageLoader("pollwaves.report", "templates").get_source(
            env, "validation.html.j2")[0],
    })  # fmt: skip
    n = Numbers()
    html = env.get_template("page").render(n=n, coverage=rv.validation_context(results, 0.95))
    assert "Coverage check (SIMULATED data)" in html
    assert "99% binomial band" in html and "abc123" in html and "2026-12-01" in html
    assert "census predictive margin" in html
    assert '<data value="0.935">93.5</data>' in html  # the lowest coverage of the margins
    lo, hi = rv.band(200, 0.95)
    assert f'<data value="{lo!r}">{100 * lo:.1f}</data>' in html  # the band, 200 replicates
