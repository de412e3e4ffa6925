"""Tests for pollwaves.report.html: the self-contained HTML report (claims ledger and the rest).

The inline inputs defined here (:func:`make_inputs`, :func:`build`) are also used by
tests/report/test_report_numbers.py and tests/report/test_browser.py.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pollwaves.analysis.topline_tables import pollster_toplines
from pollwaves.errors import InputError
from pollwaves.report import html as report
from pollwaves.report import tables as report_tables

NOTICE = "SIMULATED DATA. The respondent-level data are simulated & not real."
CONFIG = {
    "study": {"title": "Belarus polls <test> & trends", "pollster": "Chatham House (CAWI)",
              "simulated_notice": NOTICE},
    "estimation": {"level": 0.95, "ci_method": "logit"},
    "weighting": {"variables": ["sex_age", "education"], "cap": 5.0},
    "trend": {"published_deff": 1.5},
    "report": {"trend_questions": ["war_support", "alliance"]},
}  # fmt: skip
CLAIMS = ["army_small", "no_majority_support", "attitudes_not_radically_changed", "stance_gap",
          "neutral_shift", "neutral_stable"]  # fmt: skip
CLAIMS_CFG = {
    "level": 0.95,
    "invasion_date": "2022-02-24",
    "claims": {
        "army_small": {"statement": "Few want the army <in> the war & say so.",
                       "question": "belarus_army_participation", "category": "yes",
                       "threshold": 0.10},
        "no_majority_support": {"statement": "No majority supports the war.",
                                "question": "war_support", "category": "support",
                                "threshold": 0.5},
        "attitudes_not_radically_changed": {
            "statement": "Attitudes did not change radically.",
            "questions": ["attitude_russia", "attitude_ukraine"], "category": "good",
            "majority": 0.5, "radical_change": 0.15, "sensitivity": [0.05, 0.15, 0.25]},
        "stance_gap": {"statement": "Opponents rate Russia worse.",
                       "worse_among_opponents": ["attitude_russia"],
                       "worse_among_supporters": ["attitude_ukraine"], "alpha": 0.05},
        "neutral_shift": {"statement": "Neutral share fell from two thirds to half.",
                          "question": "alliance", "categories": ["both", "outside"],
                          "before": 0.667, "after": 0.5, "tolerance": 0.07},
        "neutral_stable": {"statement": "The neutral preference is stable.",
                           "question": "alliance", "categories": ["both", "outside"],
                           "max_abs_slope_per_year": 0.05},
    },
}  # fmt: skip
VERDICTS = {  # claim -> (published, simulated)
    "army_small": ("supported", "supported"),
    "no_majority_support": ("supported", "inconclusive"),
    "attitudes_not_radically_changed": ("inconclusive", "inconclusive"),
    "stance_gap": ("inconclusive", "supported"),
    "neutral_shift": ("inconclusive", "supported"),
    "neutral_stable": ("inconclusive", "not supported"),
}
CODEBOOK = {"variables": {
    "age_group": {"label": {"en": "Age group"}, "categories": {
        "18_24": {"en": "18-24"}, "55_plus": {"en": "55+"}}},
    "media_diet": {"label": {"en": "Media diet"}, "categories": {
        "state_only": {"en": "State media only"}, "independent_only": {
            "en": "Independent media only"}, "both": {"en": "Both state and independent"}}},
    "war_support": {"label": {"en": "Do you support Russia's military actions?"}, "categories": {
        "support": {"en": "Support"}, "partly": {"en": "Partly support, partly not"},
        "oppose": {"en": "Do not support"}, "hard_to_say": {"en": "Hard to say"}}},
    "alliance": {"label": {"en": "Which union should Belarus be in?"}, "categories": {
        "russia": {"en": "Union with Russia"}, "both": {"en": "Union with both"},
        "outside": {"en": "Outside any unions"}}},
    "attitude_russia": {"label": {"en": "What is your attitude to Russia?"},
                        "categories": {"good": {"en": "Good"}}},
    "belarus_army_participation": {"label": {"en": "Should the army take part?"},
                                   "categories": {"yes": {"en": "Yes, it should"}}},
}}  # fmt: skip
MARGINS_CFG = {
    "population_total": {"value": 5840000, "status": "assumption",
                         "derivation": "Urban population times an assumed adult share."},
    "margins": {"education": {"description": "Highest completed education.",
                              "status": "assumption", "derivation": "Derived <from> census.",
                              "targets": {"secondary": 0.29, "vocational": 0.40,
                                          "higher": 0.31}}},
}  # fmt: skip
EVIDENCE_COLS = ["claim", "source", "part", "wave", "item", "estimate", "ci_low", "ci_high",
                 "p_value", "verdict", "note"]  # fmt: skip
WAR_WAVES = ["2022-04", "2023-03"]


def _toplines() -> pd.DataFrame:
    shares = {"2022-04": (0.3641, 0.1358, 0.1402, 0.3599), "2023-03": (0.3312, 0.118, 0.1278,
                                                                       0.423)}  # fmt: skip
    rows = []
    for wave, vals in shares.items():
        for cat, p in zip(["support", "partly", "hard_to_say", "oppose"], vals, strict=True):
            rows.append(("war_support", wave, "all", cat, p, 0.015, p - 0.03, p + 0.03))
        rows.append(("alliance", wave, "all", "russia", 0.3, 0.02, 0.26, 0.34))
    cols = ["question", "wave", "domain", "category", "estimate", "se", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols).assign(n=800, n_eff=640.0, deff=1.25)


def _published() -> pd.DataFrame:
    rows = [  # row_id, wave, question, answer, category, value, qualifier, url, quote
        ("92", "2022-04", "war_support", "support", "support", 32.0, "exact",
         "https://example.org/a?x=1&y=2", "fewer than <5% & more"),
        ("93", "2022-04", "war_support", "hard to say", "hard_to_say", 13.0, "exact",
         "https://example.org/a?x=1&y=2", "13 percent"),
        ("94", "2022-04", "war_support", "partly", "partly", 15.0, "exact",
         "https://example.org/a?x=1&y=2", "15 percent"),
        ("91", "2022-04", "war_support", "oppose", "oppose", 40.0, "exact",
         "https://example.org/a?x=1&y=2", "40 percent"),
        ("3", "2020-09", "alliance", "both", "both", 41.0, "lower_bound",
         "https://example.org/b", "Ponad 41 proc."),
    ]  # fmt: skip
    cols = ["row_id", "wave", "question", "answer", "category", "value", "qualifier",
            "source_url", "source_quote"]  # fmt: skip
    pub = pd.DataFrame(rows, columns=cols)
    return pub.assign(relation="equals", low=pub["value"], high=pub["value"], n_respondents=823,
                      subgroup_variable=pd.NA, subgroup_value=pd.NA, flag=pd.NA)  # fmt: skip


def _wave_bounds(top: pd.DataFrame) -> pd.DataFrame:
    """Per-wave microdata worst-case bounds of the inline toplines (no refusals inline)."""
    rows = []
    for wave, g in top[top["question"] == "war_support"].groupby("wave"):
        p = g.set_index("category")["estimate"]
        for name, val in (
            ("support_low", p["support"]),
            ("support_high", 1 - p["oppose"]),
            ("oppose_low", p["oppose"]),
            ("oppose_high", 1 - p["support"]),
        ):
            rows.append(("simulated", wave, name, val, 0.017, val - 0.033, val + 0.033, 800,
                         True))  # fmt: skip
    return pd.DataFrame(rows, columns=report_tables.BOUND_COLUMNS)


def _evidence() -> pd.DataFrame:
    rows = [
        ("army_small", "published", "share below threshold", "2022-04", "yes", 0.06, 0.0429,
         0.0832, np.nan, "supported", ""),
        ("army_small", "simulated", "share below threshold", "2022-04", "yes", 0.0576, 0.0416,
         0.0792, np.nan, "supported", ""),
        ("no_majority_support", "published", "support below a majority", "2022-04", "support",
         0.32, 0.2823, 0.3602, np.nan, "supported", ""),
        ("no_majority_support", "simulated", "opponents outnumber supporters", "2022-04",
         "oppose - support", -0.0039, -0.0616, 0.0537, 0.8932, "inconclusive", ""),
        ("attitudes_not_radically_changed", "published", "majority good", "2021-04",
         "attitude_ukraine", 0.6, 0.561, 1.0, np.nan, "supported", ""),
        ("attitudes_not_radically_changed", "published", "no radical change",
         "no wave before and after", "attitude_ukraine", np.nan, np.nan, np.nan, np.nan,
         "inconclusive", ""),
        ("attitudes_not_radically_changed", "simulated", "no radical change",
         "2022-01 to 2023-11", "attitude_ukraine", -0.1609, -0.211, -0.1108, np.nan,
         "inconclusive", ""),
        ("stance_gap", "simulated", "good share lower among oppose", "2022-04",
         "attitude_russia", -0.4697, np.nan, np.nan, 6.013e-36, "supported", ""),
        ("stance_gap", "published", "no published numbers by war stance", "", "", np.nan,
         np.nan, np.nan, np.nan, "inconclusive", "too sparse"),
        ("neutral_shift", "simulated", "share fell", "after - before", "both + outside",
         -0.0868, -0.1079, -0.0657, np.nan, "supported", ""),
        ("neutral_shift", "published", "before the invasion about 0.667", "before",
         "both + outside", 0.64, 0.5693, 1.0, np.nan, "inconclusive", ""),
        ("neutral_stable", "simulated", "trend per year after the invasion",
         "2022-03 to 2023-11", "both + outside", -0.1262, -0.1506, -0.1019, np.nan,
         "not supported", ""),
        ("neutral_stable", "published", "trend per year after the invasion", "",
         "both + outside", np.nan, np.nan, np.nan, np.nan, "inconclusive",
         "fewer than 3 waves with the full neutral share"),
    ]  # fmt: skip
    ev = pd.DataFrame(rows, columns=EVIDENCE_COLS).replace({"note": {"": pd.NA}})
    # the claims engine's format: per window, p for / against, published bounds
    ev = ev.rename(columns={"p_value": "p_for"}).assign(p_against=np.nan, bound="")
    return pd.concat(
        [ev.assign(window=w) for w in ("reproduction", "follow-up")], ignore_index=True
    )


def make_inputs(**changes) -> report.ReportInputs:
    """Small inline tables for every section of the report."""
    ledger = pd.DataFrame(
        [(c, CLAIMS_CFG["claims"][c]["statement"], w, s, s == "published", VERDICTS[c][i],
          2, 2, "2022-04 2023-03", "")
         for c in CLAIMS for i, s in enumerate(("published", "simulated"))
         for w in ("reproduction", "follow-up")],
        columns=["claim", "statement", "window", "source", "evidence", "verdict", "k", "K",
                 "waves_used", "waves_missing"],
    )  # fmt: skip
    sens = pd.DataFrame(
        [("attitudes_not_radically_changed", w, s, "radical_change", t, t == 0.15, v, 2, 2)
         for w in ("reproduction", "follow-up")
         for s, t, v in [("simulated", 0.05, "not supported"),
                         ("simulated", 0.15, "inconclusive"), ("simulated", 0.25, "supported"),
                         ("published", 0.05, "inconclusive"), ("published", 0.15, "inconclusive"),
                         ("published", 0.25, "inconclusive")]],
        columns=["claim", "window", "source", "parameter", "value", "configured", "verdict",
                 "k", "K"],
    )  # fmt: skip
    top, pub = _toplines(), _published()
    unweighted = top.assign(estimate=top["estimate"] - np.where(top["category"] == "support",
                                                                0.05, -0.02))  # fmt: skip
    excluded = pd.DataFrame({
        "row_id": ["12", "5"], "wave": ["undated", "2020-09"], "question": ["alliance"] * 2,
        "answer": ["union with EU", "union with both"], "percent": ["27", "almost 42"],
        "reason": ["ambiguous wave attribution", "superseded by row 3"],
        "source_url": ["https://example.org/x", "javascript:alert(1)"]})  # fmt: skip
    weighting = pd.DataFrame({
        "wave": ["2023-03", "2022-04"], "n": [804, 815], "iterations": [9, 11],
        "max_misfit": [8e-12, 3e-11], "weight_min": [2500.5, 2400.25],
        "weight_median": [6000.0, 6100.5], "weight_max": [30100.5, 28000.0],
        "deff_kish": [1.19, 1.16], "n_eff": [675.6, 702.6], "share_capped": [0.0, 0.01]})  # fmt: skip
    margins = pd.DataFrame({
        "variable": ["education"] * 3, "category": ["secondary", "vocational", "higher"],
        "sample_share": [0.2, 0.35, 0.45], "weighted_share": [0.29, 0.4, 0.31],
        "target_share": [0.29, 0.4, 0.31], "wave": ["2022-04"] * 3})  # fmt: skip
    predicted = pd.DataFrame({
        "outcome": ["support"] * 3, "variable": ["media_diet"] * 3,
        "level": ["both", "independent_only", "state_only"],
        "estimate": [0.3427, 0.0812, 0.5076], "se": [0.013, 0.009, 0.012],
        "ci_low": [0.3166, 0.0643, 0.4827], "ci_high": [0.3698, 0.1022, 0.5326],
        "n": [1538, 1331, 1705]})  # fmt: skip
    ame = pd.DataFrame({
        "outcome": ["support"] * 2, "variable": ["media_diet"] * 2,
        "level": ["independent_only", "state_only"], "reference": ["both"] * 2,
        "estimate": [-0.2615, 0.165], "se": [0.016, 0.019], "ci_low": [-0.2928, 0.1272],
        "ci_high": [-0.2302, 0.2027], "p_value": [6.5e-59, 1.5e-17]})  # fmt: skip
    terms = pd.DataFrame({
        "term": ["wave", "age_group", "media_diet", "time:media_diet"],
        "f_stat": [1.18, 1.34, 71.59, 0.447], "df1": [6, 4, 3, 3], "df2": [5703] * 4,
        "p_value": [0.312, 0.2526, 1.93e-45, 0.7194], "test": ["Wald"] * 4})  # fmt: skip
    tests = pd.DataFrame({
        "outcome": ["support", "oppose"], "test": ["linear slope (time, per year)",
                                                   "spline vs linear (2 non-linear terms)"],
        "statistic": [0.193, 5.22], "df1": [1, 2], "df2": [5723, 5721],
        "p_value": [0.6604, 0.0054]})  # fmt: skip
    validation = pd.DataFrame({
        "kind": ["topline"], "method": ["raked"], "estimates": [120], "replicates": [20],
        "mean_coverage": [0.948], "mean_abs_bias": [0.0021]})  # fmt: skip
    base = dict(
        ledger=ledger, evidence=_evidence(), sensitivity=sens, published=pub,
        excluded=excluded, weighting=weighting, weighting_margins=margins,
        subgroup_predicted=predicted, subgroup_ame=ame, subgroup_terms=terms,
        trend_tests=tests, bounds=report_tables.undecided_bounds(_wave_bounds(top), pub, deff=1.5,
                                                             level=0.95),
        effect=report_tables.weighting_effect(top, unweighted), validation=validation,
        validation_meta={"command": "python benchmarks/coverage.py --replicates 20",
                         "code_revision": "abc123", "wall_time_seconds": 12.5,
                         "replicates": 20},
    )  # fmt: skip
    base.setdefault("changes", pd.DataFrame(
        [("army_small", "follow-up", "published", "supported", "supported where published",
          "2 of 2", "2 of 3", "waves in the window: 2 -> 3")],
        columns=["claim", "window", "source", "previous_verdict", "verdict",
                 "previous_coverage", "coverage", "reason"]))  # fmt: skip
    bases = top.groupby(["wave", "question"], as_index=False)["n"].first()
    bases = bases.assign(weighted_n=bases["n"] * 7300.0, wave_deff=1.2)
    base["toplines"] = pollster_toplines(top.assign(simulated=True), bases, CODEBOOK, level=0.95)
    base.update(changes)
    return report.ReportInputs(**base)


def make_figures(folder: Path) -> dict[str, Path]:
    """Tiny PNG figures under the report's figure names."""
    paths = {}
    names = ["war_support_trend", "alliance_trend", "poll_average", "subgroup_effects",
             "attitudes_by_stance", "weighting"]  # fmt: skip
    for k, name in enumerate(names):
        fig = Figure(figsize=(2, 1))
        fig.add_subplot().plot([0, 1], [0, k + 1])
        path = folder / f"{name}.png"
        fig.savefig(path, format="png", dpi=40, metadata={"Software": None})
        paths[name] = path
    return paths


def build(figures: dict[str, Path], inputs=None, **kw) -> tuple[str, report_tables.Numbers]:
    """Render the report from the inline inputs (keyword overrides: config, claims_cfg...)."""
    args = {"config": CONFIG, "claims_cfg": CLAIMS_CFG, "margins_cfg": MARGINS_CFG,
            "codebook": CODEBOOK, **kw}  # fmt: skip
    return report.render_report(inputs or make_inputs(), figures=figures, **args)


def section(html: str, sid: str) -> str:
    """Inner HTML of ``<section id="sid">`` (nested sections included)."""
    start = html.index(f'<section id="{sid}">')
    depth, pos = 0, start
    for m in re.finditer(r"<section\b|</section>", html[start:]):
        depth += 1 if m.group(0) == "<section" else -1
        if depth == 0:
            pos = start + m.end()
            break
    return html[start:pos]


@pytest.fixture
def figure_paths(tmp_path):
    return make_figures(tmp_path)


def test_banner_comes_first_and_holds_the_escaped_notice(figure_paths):
    html, _ = build(figure_paths)
    assert html.startswith("<!DOCTYPE html>")
    body = html.split("<body>", 1)[1].lstrip()
    assert body.startswith('<div class="banner simulated"')
    banner = body.split("</div>", 1)[0]
    assert "SIMULATED DATA." in banner
    assert "The respondent-level data are simulated &amp; not real." in banner
    assert "<title>Belarus polls &lt;test&gt; &amp; trends</title>" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_report_is_self_contained(figure_paths):
    html, _ = build(figure_paths)
    for name, path in figure_paths.items():
        uri = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
        assert f'src="{uri}"' in html, name
    srcs = re.findall(r'\bsrc="([^"]*)"', html)
    assert len(srcs) == len(figure_paths) and all(s.startswith("data:image/") for s in srcs)
    for bad in ("<script", "<link", "@import", "url(", "@font-face", "<iframe", "<object"):
        assert bad not in html.lower(), bad
    # every image has a non-empty alt text and its intrinsic size
    for tag in re.findall(r"<img [^>]*>", html):
        assert re.search(r'alt="[^"]{40,}"', tag), tag[:80]
        assert 'width="80"' in tag and 'height="40"' in tag


def test_figures_in_report_order_with_numbered_captions(figure_paths):
    html, _ = build(dict(reversed(list(figure_paths.items()))))
    ids = re.findall(r'<figure id="fig-([a-z_]+)">', html)
    assert ids == ["war_support_trend", "alliance_trend", "poll_average", "subgroup_effects",
                   "attitudes_by_stance", "weighting"]  # fmt: skip
    assert "Figure 6. Weighting diagnostics" in html
    assert html.count("SIMULATED microdata") > 6


def test_sections_in_the_required_order(figure_paths):
    html, _ = build(figure_paths)
    order = ["reproduces", "claims", "figures", "extensions", "ext-who", "ext-undecided",
             "ext-limits", "methods", "methods-sources", "methods-excluded", "methods-targets",
             "methods-weighting", "methods-estimation", "methods-validation"]  # fmt: skip
    pos = [html.index(f'<section id="{s}">') for s in order]
    assert pos == sorted(pos)
    reproduces = section(html, "reproduces")
    assert "Astapenia" in reproduces and "Matsukevich" in reproduces
    assert "Center for New Ideas" in reproduces


def test_ledger_has_one_row_per_claim_with_both_verdicts(figure_paths):
    html, _ = build(figure_paths)
    ledger = html[html.index('<table class="ledger'): html.index("</table>", html.index(
        '<table class="ledger'))]  # fmt: skip
    assert re.findall(r'data-claim="([a-z_]+)"', ledger) == CLAIMS
    for claim, (pub, sim) in VERDICTS.items():
        row = re.search(rf'<tr id="ledger-{claim}".*?</tr>', ledger, flags=re.S).group(0)
        got = re.findall(r'data-verdict="([a-z ]+)"', row)
        # evidence first: the main table holds the real (published) verdicts of both windows
        assert got == [pub, pub], claim
        demo = re.search(rf'<tr id="ledger-demo-{claim}".*?</tr>', html, flags=re.S).group(0)
        assert re.findall(r'data-verdict="([a-z ]+)"', demo) == [sim, sim], claim
        assert re.findall(r'data-window="([a-z-]+)"', row) == ["reproduction", "follow-up"]
        assert 'value="2">2</data> of <data class="count" value="2">2</data> waves with' in row
        # colour-blind safe: every badge carries its verdict as text and a symbol
        text = {"supported": "Supported", "not supported": "Not supported",
                "inconclusive": "Inconclusive"}  # fmt: skip
        assert f"</span> {text[pub]}</span>" in row
        assert f"</span> {text[sim]}</span>" in demo
    assert "Few want the army &lt;in&gt; the war &amp; say so." in ledger
    assert "<in>" not in html


def test_operational_tests_render_thresholds_from_the_config(figure_paths):
    html, _ = build(figure_paths)
    row = re.search(r'<tr id="ledger-army_small".*?</tr>', html, flags=re.S).group(0)
    assert 'below <data value="0.1">10</data>%' in row
    cfg = {**CLAIMS_CFG, "claims": {**CLAIMS_CFG["claims"], "army_small": {
        **CLAIMS_CFG["claims"]["army_small"], "threshold": 0.125}}}  # fmt: skip
    html2, _ = build(figure_paths, claims_cfg=cfg)
    row2 = re.search(r'<tr id="ledger-army_small".*?</tr>', html2, flags=re.S).group(0)
    assert 'below <data value="0.125">12.5</data>%' in row2
    shift = re.search(r'<tr id="ledger-neutral_shift".*?</tr>', html, flags=re.S).group(0)
    assert '<data value="0.667">66.7</data> ± <data value="0.07">7</data>%' in shift


def test_sparse_published_data_are_said_plainly(figure_paths):
    html, _ = build(figure_paths)
    stance = section_claim(html, "stance_gap")
    assert "The published data are too sparse to decide this claim." in stance
    assert "no published numbers by war stance: too sparse" in stance
    stable = section_claim(html, "neutral_stable")
    assert "fewer than 3 waves with the full neutral share" in stable
    army = section_claim(html, "army_small")
    assert "too sparse" not in army  # supported on the published data
    demo = section(html, "claims-demo")
    assert "not evidence" in demo
    changes = section(html, "claims-changes")
    assert "waves in the window: 2 -&gt; 3" in changes


def section_claim(html: str, claim: str) -> str:
    start = html.index(f'<div class="claim" id="claim-{claim}">')
    end = html.find('<div class="claim"', start + 10)
    return html[start : end if end > 0 else html.index("</section>", start)]


def test_sensitivity_table_marks_the_configured_threshold(figure_paths):
    html, _ = build(figure_paths)
    block = section_claim(html, "attitudes_not_radically_changed")
    table = block[block.index('<table class="sensitivity"') : block.index("</table>")]
    rows = re.findall(r"<tr(?: class=\"current\")?><td class=\"num\">.*?</tr>", table)
    assert len(rows) == 3
    assert rows[1].startswith('<tr class="current">') and "(configured)" in rows[1]
    assert "Not supported" in rows[0] and "Supported" in rows[2]
    assert "sensitivity" not in section_claim(html, "army_small")


def test_published_sources_are_links_and_quotes_escaped(figure_paths):
    html, _ = build(figure_paths)
    methods = section(html, "methods")
    assert (
        '<a href="https://example.org/a?x=1&amp;y=2" rel="noreferrer">example.org</a>' in methods
    )
    assert "fewer than &lt;5% &amp; more" in methods and "<5%" not in html
    assert 'href="javascript' not in html  # not an http(s) URL: shown as text, not a link
    excluded = section(html, "methods-excluded")
    assert excluded.index(">5<") < excluded.index(">12<")  # by row_id, numerically
    assert "almost 42" in excluded and "ambiguous wave attribution" in excluded
    targets = section(html, "methods-targets")
    assert "Derived &lt;from&gt; census." in targets and "assumption" in targets
    assert '<data value="0.29">29.00</data>' in targets


def test_extensions_and_methods_content(figure_paths):
    html, _ = build(figure_paths)
    who = section(html, "ext-who")
    assert who.index("media diet (F =") < who.index("age group (F =")  # strongest first
    assert '“<span class="t">State media only</span>”' in who
    undecided = section(html, "ext-undecided")
    assert "hidden" in undecided and "Published toplines (real)" in undecided
    limits = section(html, "ext-limits")
    for words in ("internet users", "SIMULATED", "assumption", "select on the attitudes"):
        assert words in limits, words
    assert "sex_age, education" in limits
    validation = section(html, "methods-validation")
    assert "python benchmarks/coverage.py --replicates 20" in validation
    assert "abc123" in validation and '<data value="0.948">0.948</data>' in validation
    html2, _ = build(figure_paths, inputs=make_inputs(validation=None, validation_meta={}))
    assert "No validation table was given." in section(html2, "methods-validation")
    weighting = section(html, "methods-weighting")
    assert weighting.index("2022-04") < weighting.index("2023-03")  # sorted by wave


def test_report_is_deterministic_and_independent_of_row_order(figure_paths):
    first, _ = build(figure_paths)
    assert build(figure_paths)[0] == first
    inp = make_inputs()
    shuffled = make_inputs(
        published=inp.published.iloc[::-1], excluded=inp.excluded.iloc[::-1],
        weighting=inp.weighting.iloc[::-1],
    )  # fmt: skip
    assert build(figure_paths, inputs=shuffled)[0] == first


def test_write_report_is_atomic(tmp_path, figure_paths):
    html, _ = build(figure_paths)
    out = tmp_path / "reports" / "public_demand.html"
    report.write_report(html, out)
    report.write_report(html, out)
    assert out.read_text(encoding="utf-8") == html
    assert [p.name for p in out.parent.iterdir()] == ["public_demand.html"]


def test_toplines_section_has_one_table_per_wave_and_question(figure_paths):
    html, numbers = build(figure_paths)
    part = section(html, "toplines")
    for wave in ("2022-04", "2023-03"):
        for q in ("war_support", "alliance"):
            assert f'id="topline-{wave}-{q}"' in part
    war = part[part.index('id="topline-2023-03-war_support"') :]
    war = war[: war.index("</table>")]
    labels = ["Support", "Partly support, partly not", "Do not support", "Hard to say"]
    pos = [war.index(f"<td>{lab}</td>") for lab in labels]
    assert pos == sorted(pos)  # questionnaire order: hard to say last
    assert '<data value="0.423">42</data>' in war  # whole percent, value kept
    assert "change since 2022-04" in war and "(SIMULATED data)" in part
    assert part.count("<details") == 2 and part.count(" open>") == 1


def test_run_report_fails_clearly_without_the_validation_table(tmp_path, figure_paths):
    from pollwaves.stages.report import REPORT_TABLES, run_report

    inp = make_inputs()
    tables = {}
    for name in REPORT_TABLES:
        tables[name] = tmp_path / f"{name}.csv"
        getattr(inp, name).to_csv(tables[name], index=False)
    missing = tmp_path / "benchmarks" / "validation_coverage.csv"
    with pytest.raises(InputError, match="validation table is missing") as err:
        run_report(tables, [], CONFIG, "config/claims.yaml", "config/margins.yaml",
                   "config/codebook.yaml", tmp_path / "r.html", missing, None)  # fmt: skip
    assert "benchmarks/coverage.py" in str(err.value)
    assert not (tmp_path / "r.html").exists()


def test_figure_captions_print_the_configured_confidence_level():
    from pollwaves.report.figure_specs import FIGURES, figure_specs

    specs = figure_specs(0.9)
    assert [s.name for s in specs] == [f.name for f in FIGURES]
    texts = " ".join(s.title + s.alt + s.caption for s in specs)
    assert "90% " in texts
    assert "95%" not in texts and "{level}" not in texts
    assert "95% " in " ".join(s.caption for s in figure_specs(0.95))
