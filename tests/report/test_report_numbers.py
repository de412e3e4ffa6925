"""Every number in the report's claims and extension sections traces to a table cell.

How: the template helpers (:class:`pollwaves.report.tables.Numbers`) print each number inside
``<data value="...">`` holding the exact cell (or configuration value) it came from, and
register it. The checks below (1) find every digit in those sections outside ``<data>``,
wave/date ``<time>`` elements and ``<span class="t">`` table or codebook text (there must be
none), (2) check that each printed number is its ``value`` correctly rounded, (3) check that
each ``value`` is a cell of an input table or a configuration value (counts of rows are
marked ``class="count"`` and recomputed separately), (4) check that the HTML holds exactly
the registered numbers, and (5) recompute a few numbers from the tables. Tampered HTML must
fail the checks.
"""

from __future__ import annotations

import html as htmlmod
import math
import re

import pandas as pd
import pytest
from test_report import (
    CLAIMS_CFG,
    CODEBOOK,
    CONFIG,
    MARGINS_CFG,
    build,
    make_figures,
    make_inputs,
    section,
)

from pollwaves.report.tables import Labels

DATA = re.compile(
    r'<data(?: class="(?P<cls>[a-z]+)")? value="(?P<value>[^"]+)">(?P<text>.*?)</data>'
)
SECTIONS = ("claims", "extensions")


def _config_values(obj) -> set[float]:
    if isinstance(obj, dict):
        return set().union(*(_config_values(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list | tuple):
        return set().union(*(_config_values(v) for v in obj)) if obj else set()
    if isinstance(obj, bool) or not isinstance(obj, int | float):
        return set()
    return {float(obj)}


def _table_values(inputs) -> set[float]:
    out: set[float] = set()
    for name in vars(inputs):
        frame = getattr(inputs, name)
        if isinstance(frame, pd.DataFrame):
            for col in frame.columns:
                vals = pd.to_numeric(frame[col], errors="coerce").dropna()
                out |= {float(v) for v in vals}
    return out


def _strings(obj) -> set[str]:
    if isinstance(obj, dict):
        return set().union(*(_strings(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list | tuple):
        return set().union(*(_strings(v) for v in obj)) if obj else set()
    return {" ".join(obj.split())} if isinstance(obj, str) else set()


def stray_numbers(fragment: str) -> list[str]:
    """Digits outside <data>, <time> and <span class="t"> (and outside tags)."""
    text = DATA.sub(" ", fragment)
    text = re.sub(r"<time [^>]*>.*?</time>", " ", text, flags=re.S)
    text = re.sub(r'<span class="t">.*?</span>', " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.findall(r"\d+(?:[.,]\d+)?", htmlmod.unescape(text))


def rounding_errors(fragment: str) -> list[str]:
    """Printed numbers that are not their value correctly rounded (as % or as is)."""
    bad = []
    for m in DATA.finditer(fragment):
        value, shown = float(m["value"]), htmlmod.unescape(m["text"])
        t = shown.replace("\u2212", "-").replace("\u2009", "").replace("+", "")
        t = t.replace(" ", "").removeprefix("=")
        if t == "<0.001":
            ok = value < 0.001
        elif "e" in t:
            ok = math.isclose(float(t), value, rel_tol=5e-3)
        else:
            decimals = len(t.split(".")[1]) if "." in t else 0
            tol = 0.5 * 10**-decimals + 1e-9
            ok = any(abs(c - float(t)) <= tol for c in (100 * value, value))
        if not ok:
            bad.append(f"{shown} shown for {m['value']}")
    return bad


def untraced_values(fragment: str, allowed: set[float]) -> list[str]:
    """<data> values that are neither a table cell nor a config value (counts excepted)."""
    bad = []
    for m in DATA.finditer(fragment):
        value = float(m["value"])
        if m["cls"] == "count":
            if not (value.is_integer() and value >= 0):
                bad.append(f"count {m['value']}")
        elif value not in allowed:
            bad.append(m["value"])
    return bad


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    inputs = make_inputs()
    html, numbers = build(make_figures(tmp_path_factory.mktemp("figs")), inputs=inputs)
    allowed = _table_values(inputs) | _config_values([CONFIG, CLAIMS_CFG, MARGINS_CFG])
    return html, numbers, inputs, allowed


def test_no_number_outside_the_helpers(built):
    html, _, _, _ = built
    for sid in SECTIONS:
        assert stray_numbers(section(html, sid)) == [], sid


def test_table_text_comes_from_tables_codebook_or_labels(built):
    html, _, inputs, _ = built
    known = _strings([CODEBOOK, CLAIMS_CFG, Labels.SHORT, Labels.ITEMS])
    for name in vars(inputs):
        frame = getattr(inputs, name)
        if isinstance(frame, pd.DataFrame):
            known |= {" ".join(str(v).split()) for v in frame.to_numpy().ravel() if
                      isinstance(v, str)}  # fmt: skip
    for sid in SECTIONS:
        texts = re.findall(r'<span class="t">(.*?)</span>', section(html, sid), flags=re.S)
        assert texts, sid
        unknown = {htmlmod.unescape(t) for t in texts} - known
        # evidence parts are shown with their detail ("part: note")
        unknown = {t for t in unknown if not all(p in known for p in t.split(": ", 1))}
        assert unknown == set(), sid


def test_every_number_is_its_value_rounded(built):
    html, _, _, _ = built
    assert rounding_errors(html) == []  # whole document, methods included


def test_every_value_is_a_table_cell_or_config_value(built):
    html, _, _, allowed = built
    for sid in SECTIONS:
        frag = section(html, sid)
        assert DATA.search(frag), sid
        assert untraced_values(frag, allowed) == [], sid


def test_html_holds_exactly_the_registered_numbers(built):
    html, numbers, _, _ = built
    printed = [(htmlmod.unescape(m["text"]), float(m["value"])) for m in DATA.finditer(html)]
    assert printed == numbers.registry
    assert len(printed) > 100


def test_recomputed_bounds_and_weighting_effect(built):
    html, _, inputs, _ = built
    ext = section(html, "ext-undecided")
    b = inputs.bounds
    assert set(b["bound"]) == {"support_low", "support_high", "oppose_low", "oppose_high"}
    for r in b.itertuples():
        for v in (r.estimate, r.ci_low, r.ci_high):
            assert f'<data value="{float(v)!r}">{100 * v:.1f}</data>' in ext, (r.source, r.bound)
    # the published bounds recomputed from the inline published shares (32/15/13/40, N 823)
    pub = b[b["source"] == "published"].set_index("bound")
    assert math.isclose(pub.loc["support_high", "estimate"], 0.32 + 0.15 + 0.13)
    assert math.isclose(pub.loc["oppose_high", "estimate"], 0.40 + 0.15 + 0.13)
    p = 0.6
    se = math.sqrt(1.5 * p * (1 - p) / 823)  # published_deff 1.5 of CONFIG
    assert math.isclose(pub.loc["support_high", "se"], se)
    half = 1.959963984540054 * se / (p * (1 - p))
    lo = 1 / (1 + math.exp(-(math.log(p / (1 - p)) - half)))
    assert math.isclose(pub.loc["support_high", "ci_low"], lo)
    sim = b[(b["source"] == "simulated") & (b["bound"] == "support_high")]
    best = sim.loc[sim["estimate"].idxmax()]
    assert f'highest in <time datetime="{best.wave}">{best.wave}</time>, <data value="' in ext
    # the inline simulated upper bound (64.0%) reaches 50%: the worst case does not rule it out
    assert "the worst case does not rule out majority support" in ext
    assert "at most" not in ext and "worst-case" in ext.lower()
    assert ext.count('<data value="0.95">95</data>% interval') >= 5  # estimation.level
    assert "cannot include refusals" in ext

    eff = inputs.effect
    for r in eff[(eff["question"] == "war_support") & (eff["category"] == "support")].itertuples():
        assert math.isclose(r.difference, r.weighted - r.unweighted)
        assert f'<data value="{r.difference!r}">{100 * r.difference:+.1f}</data>' in ext


def test_bounds_labels_follow_the_configured_level(tmp_path):
    cfg = {**CONFIG, "estimation": {**CONFIG["estimation"], "level": 0.9}}
    html, _ = build(make_figures(tmp_path), config=cfg)
    ext = section(html, "ext-undecided")
    assert '<data value="0.9">90</data>% interval' in ext
    assert '<data value="0.95">95</data>% interval' not in ext


def test_evidence_numbers_appear_under_their_claim(built):
    html, _, inputs, _ = built
    claims = section(html, "claims")
    ev = inputs.evidence
    for claim, rows in ev.groupby("claim", sort=False):
        start = claims.index(f'id="claim-{claim}"')
        end = claims.find('<div class="claim"', start)
        block = claims[start : end if end > 0 else len(claims)]
        for r in rows.itertuples():
            for v in (r.estimate, r.ci_low, r.ci_high, r.p_for, r.p_against):
                if pd.notna(v):
                    assert f'value="{float(v)!r}"' in block, (claim, v)
        counts = re.search(r"Evidence: <data class=\"count\" value=\"(\d+)\">", block)
        assert int(counts.group(1)) == len(rows)


def test_tampered_reports_fail_the_checks(built):
    html, _, _, allowed = built
    claims = section(html, "claims")
    # a number typed into the text
    assert stray_numbers(claims.replace("</h4>", " (about 42.0%)</h4>", 1)) == ["42.0"]
    # a printed number that does not match its cell
    m = next(DATA.finditer(claims))
    wrong = claims.replace(m.group(0), m.group(0).replace(f">{m['text']}<", ">99.9<"), 1)
    assert rounding_errors(wrong)
    # a value that is in no table
    fake = claims.replace('value="0.0576"', 'value="0.0577"', 1)
    assert fake != claims and untraced_values(fake, allowed) == ["0.0577"]
