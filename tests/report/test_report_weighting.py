"""The report's weighting section: missing raking values and the vendor's weight."""

from __future__ import annotations

import pandas as pd
import pytest
from test_report import build, make_figures, make_inputs, section

from pollwaves.report.tables import missing_raking_values, vendor_comparison

KEYS = ["question", "wave", "domain", "category"]


def _top(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*KEYS, "estimate"])


def test_vendor_comparison_pairs_whole_sample_shares():
    raked = _top([("war_support", "2024-06", "all", "support", 0.30),
                  ("war_support", "2024-06", "all", "oppose", 0.50),
                  ("war_support", "2024-06", "sex=male", "support", 0.40),
                  ("war_support", "2023-11", "all", "support", 0.35)])  # fmt: skip
    vendor = _top([("war_support", "2024-06", "all", "support", 0.28),
                   ("war_support", "2024-06", "all", "oppose", 0.53),
                   ("war_support", "2024-06", "sex=male", "support", 0.10)])  # fmt: skip
    out = vendor_comparison(raked, vendor)
    assert list(out.columns) == ["question", "wave", "category", "raked", "vendor", "difference"]
    assert out["category"].tolist() == ["support", "oppose"]  # no subgroup, no other wave
    assert out["difference"].tolist() == pytest.approx([0.02, -0.03])
    assert vendor_comparison(raked, vendor.iloc[:0]).empty


def test_missing_raking_values_lists_only_what_happened():
    weighting = pd.DataFrame({
        "wave": ["2024-07", "2024-06"], "imputed_education": [0, 6], "dropped_education": [0, 0],
        "imputed_sex": [0, 0], "dropped_sex": [2, 0]})  # fmt: skip
    assert missing_raking_values(weighting) == [
        {"wave": "2024-06", "variable": "education", "imputed": 6, "dropped": 0},
        {"wave": "2024-07", "variable": "sex", "imputed": 0, "dropped": 2},
    ]
    assert missing_raking_values(weighting.drop(columns=[c for c in weighting if "_" in c])) == []


def test_report_shows_imputed_values_and_the_vendor_weight(tmp_path):
    inp = make_inputs()
    weighting = inp.weighting.assign(
        imputed_education=[6, 0],
        dropped_education=[0, 0],
        n_vendor_weight=[804, 0],
        corr_vendor_weight=[0.873, float("nan")],
    )
    vendor = pd.DataFrame({"question": ["war_support"], "wave": ["2023-03"],
                           "category": ["support"], "raked": [0.301], "vendor": [0.322],
                           "difference": [-0.021]})  # fmt: skip
    inputs = make_inputs(weighting=weighting, vendor=vendor)
    html, _ = build(make_figures(tmp_path), inputs=inputs)
    methods = section(html, "methods-weighting")
    assert 'id="missing-raking"' in methods and "weighting.missing = impute" in methods
    assert "0.87" in methods and "vendor-weight" in methods
    assert "30.1" in methods and "32.2" in methods
    (tmp_path / "plain").mkdir()
    plain, _ = build(make_figures(tmp_path / "plain"))
    assert 'id="missing-raking"' not in plain and 'id="vendor-weight"' not in plain
