"""The large-study routes (many pooled waves) equal the small-study ones they stand in for.

Sparse information products of the multinomial logit (the variances of its shares from
cell-sum cross-covariances: tests/survey/test_fast_paths.py) and the logit's average
predictions on predictor patterns are taken only for large model matrices; here their
thresholds are lowered so that tiny inline frames run both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _frame(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "wave": rng.choice(["w1", "w2", "w3", "w4"], n),
            "sex": rng.choice(["f", "m"], n),
            "edu": rng.choice(["lo", "mid", "hi"], n),
            "w": rng.uniform(0.3, 3.0, n),
        }
    )
    df["y"] = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    df["vote"] = (rng.random(n) < 0.3 + 0.2 * df["sex"].eq("f")).astype(float)
    df.loc[rng.random(n) < 0.05, "edu"] = None  # refusals: dropped from the fits
    return df


DESIGN = {"strata": "wave", "calibrated_on": ["sex"], "calibration_by": "wave"}


def test_mnlogit_sparse_information_equals_the_dense_route(monkeypatch):
    from pollwaves.survey import cells, mnlogit_core
    from pollwaves.survey.mnlogit import weighted_mnlogit

    df = _frame(3)
    formula = "y ~ C(wave) + C(sex) + C(edu)"
    monkeypatch.setattr(cells, "ROWS_PER_CELL", 1)  # the cell route, as at scale
    dense = weighted_mnlogit(df, formula, "w", **DESIGN)
    expected = [dense.predicted_shares(by=by) for by in ("wave", "edu")]
    monkeypatch.setattr(mnlogit_core, "_SPARSE_SIZE", 0)
    monkeypatch.setattr(mnlogit_core, "_SPARSE_DENSITY", 1.0)
    fast = weighted_mnlogit(df, formula, "w", **DESIGN)
    assert mnlogit_core.sparse_design(fast._f["x"]) is not None  # the sparse route ran
    np.testing.assert_allclose(fast.params, dense.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.cov_params(), dense.cov_params(), rtol=1e-10, atol=1e-14)
    for by, exp in zip(("wave", "edu"), expected, strict=True):
        got = fast.predicted_shares(by=by)
        assert got[[by, "category"]].equals(exp[[by, "category"]])
        np.testing.assert_allclose(got["estimate"], exp["estimate"], rtol=1e-10)
        np.testing.assert_allclose(got["se"], exp["se"], rtol=1e-10)


@pytest.mark.parametrize("collapse", [True, False])
def test_average_predictions_on_predictor_patterns(collapse, monkeypatch):
    from pollwaves.analysis import subgroups
    from pollwaves.survey import cells
    from pollwaves.survey.glm import weighted_logit

    df = _frame(5)
    for v in ("wave", "sex", "edu"):
        df[v] = pd.Categorical(df[v], categories=sorted(df[v].dropna().unique()))
    monkeypatch.setattr(cells, "ROWS_PER_CELL", 1 if collapse else 10**9)
    rhs = "wave + sex + edu"
    fit = weighted_logit(df, f"vote ~ {rhs}", "w", **DESIGN)
    assert (fit.influence_cells() is not None) == collapse
    settings = [{"sex": "f"}, {"sex": "m"}, {"edu": "hi"}, {"edu": "lo"}]
    data = df[["vote", "wave", "sex", "edu", "w"]]
    kw = {"weight": "w", "strata": "wave"}
    est, cov = subgroups.average_predictions(fit, rhs, data, settings, **kw)
    monkeypatch.setattr(subgroups, "PATTERN_SIZE", 0)  # patterns whenever fitted on cells
    est_p, cov_p = subgroups.average_predictions(fit, rhs, data, settings, **kw)
    np.testing.assert_allclose(est_p, est, rtol=1e-12)
    np.testing.assert_allclose(cov_p, cov, rtol=1e-10, atol=1e-16)
