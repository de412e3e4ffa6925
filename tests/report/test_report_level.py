"""The confidence level of config.yaml (estimation.level) is the one printed everywhere."""

from __future__ import annotations

import re

from test_report import CLAIMS_CFG, CONFIG, build, make_figures


def _text(html: str) -> str:
    body = html.split("<body", 1)[1]
    body = re.sub(r"data:image/[^\"']+", "", body)
    return re.sub(r"<[^>]+>", " ", body)


def test_no_other_level_is_printed(tmp_path):
    cfg = {**CONFIG, "estimation": {**CONFIG["estimation"], "level": 0.9}}
    claims = {k: v for k, v in CLAIMS_CFG.items() if k != "level"}
    html, _ = build(make_figures(tmp_path), config=cfg, claims_cfg=claims)
    text = _text(html)
    assert "90%" in text
    assert "95%" not in text and "95 %" not in text
