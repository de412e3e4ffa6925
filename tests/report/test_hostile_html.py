"""Hostile text in the report (issue 14): labels, quotes and URLs carrying ``<script>``.

Published rows are real data copied by hand: a source quote, an answer label or a URL may
hold markup. The report escapes every data-derived text and links only http(s) URLs.
"""

from __future__ import annotations

import re

from test_report import build, make_figures, make_inputs

SCRIPT = "<script>alert('x')</script>"


def test_script_in_labels_quotes_and_urls_is_escaped(tmp_path):
    inputs = make_inputs()
    pub = inputs.published.copy()
    pub["source_quote"] = f'said "yes" {SCRIPT} & more'
    pub.loc[pub.index[0], "source_url"] = 'https://example.org/"><script>alert(1)</script>'
    pub.loc[pub.index[1], "source_url"] = "javascript:alert(document.cookie)"
    pub["answer"] = pub["answer"] + f" {SCRIPT}"
    inputs.published = pub
    ex = inputs.excluded.copy()
    ex["reason"] = f"reason {SCRIPT}"
    ex["source_url"] = f"https://e.org/{SCRIPT}"
    inputs.excluded = ex
    title = {"study": {"title": f'Polls {SCRIPT} "q"', "pollster": f"P {SCRIPT}",
                       "simulated_notice": f"SIMULATED {SCRIPT}"}}  # fmt: skip
    from test_report import CONFIG

    html, _ = build(make_figures(tmp_path), inputs, config={**CONFIG, **title})
    assert "<script" not in html.lower()  # no markup from the data, and the report has none
    assert "&lt;script&gt;alert(" in html
    assert 'href="javascript' not in html.lower()
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("https://", "http://", "#")), href
        assert "<" not in href and '"' not in href
    assert "said &#34;yes&#34;" in html or "said &quot;yes&quot;" in html
