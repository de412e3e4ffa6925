"""The one-pass kernels equal the per-domain / per-row computations they replace.

Tiny inline frames with strata, PSUs, missing answers, missing domain keys, empty domains and
calibration (one raking, and per-wave raking). The references below are the straightforward
per-domain loop (one full-sample design variance per domain) and the row-level least-squares
residuals that the cell-sum kernels replace.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.survey.calibration import calibration, calibration_matrix, calibration_residuals
from pollwaves.survey.design import design_codes, design_variance
from pollwaves.survey.estimation import _domains, proportions, share_contrasts
from pollwaves.survey.weighting import sampling_weights


def _frame(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "y": rng.choice(["a", "b", "c", None], n, p=[0.4, 0.3, 0.2, 0.1]),
            "g": rng.choice(["x", "y", "z"], n),
            "h": rng.choice([1, 2], n),
            "sex": rng.choice(["f", "m"], n),
            "age": rng.choice(["1", "2", "3"], n),
            "wave": rng.choice(["w1", "w2"], n),
            "st": rng.choice(["s1", "s2", "s3"], n),
            "w": rng.uniform(0.3, 3.0, n),
            "w0": rng.uniform(0.8, 1.2, n),
        }
    )
    df["psu"] = rng.integers(0, 8, n)
    df.loc[rng.random(n) < 0.05, "g"] = None  # missing domain keys
    df.loc[df["g"].eq("z") & df["h"].eq(2), "y"] = None  # a domain with no valid answer
    return df


def _reference(df, variable, weight, by_cols, strata, psu, cal_cols, base_weight, cov):
    """The per-domain loop: one full-sample design variance per domain (the old code)."""
    w = sampling_weights(df, weight)
    s, p_codes = design_codes(df, strata, psu)
    w0 = sampling_weights(df, base_weight)
    mm = calibration_matrix(df, cal_cols) if cal_cols else None
    y = df[variable]
    valid = y.notna().to_numpy()
    cats = sorted(y.dropna().unique().tolist())
    ymat = np.column_stack([(y == c).fillna(False).to_numpy(dtype=float) for c in cats])
    keys = df[by_cols]
    key_ok = keys.notna().all(axis=1).to_numpy()
    groups = [()]
    if by_cols:
        uniq = keys[key_ok].drop_duplicates().sort_values(by_cols)
        groups = [tuple(g) for g in uniq.to_numpy()]
    for g in groups:
        d = valid & key_ok
        for col, val in zip(by_cols, g, strict=True):
            d = d & (df[col] == val).fillna(False).to_numpy()
        if d.sum() == 0:
            continue
        wd = w * d
        est = (wd[:, None] * ymat).sum(axis=0) / wd.sum()
        z = wd[:, None] * (ymat - est) / wd.sum()
        if mm is not None:
            z = w[:, None] * calibration_residuals(z / w[:, None], mm, w0)
        var = design_variance(z, s, p_codes, cov=cov)
        dof = len(np.unique(p_codes[d])) - len(np.unique(s[d]))
        yield g, est, var, int(d.sum()), dof


DESIGNS = [
    (None, None, None, None),
    ("st", None, None, None),
    ("st", "psu", None, None),
    (None, None, ["sex", "age"], None),
    ("st", None, ["sex", "age"], "w0"),
    ("st", "psu", ["sex", "age"], "w0"),
]


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("cov", [False, True])
@pytest.mark.parametrize("by", [["g"], ["g", "h"], []])
def test_one_pass_domains_equal_the_per_domain_loop(design, cov, by):
    strata, psu, cal_cols, base = design
    df = _frame(7)
    fast = list(_domains(df, "y", "w", by, strata, psu, cal_cols, base, cov=cov))
    slow = list(_reference(df, "y", "w", by, strata, psu, cal_cols, base, cov))
    assert [f[0] for f in fast] == [s[0] for s in slow]
    if by == ["g", "h"]:
        assert ("z", 2) not in [f[0] for f in fast]  # the empty domain is left out
    for f, s in zip(fast, slow, strict=True):
        np.testing.assert_allclose(f[2], s[1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(f[3], s[2], rtol=1e-12, atol=1e-18)
        assert f[4][:2] == (s[3], s[4])


def test_domains_of_an_unasked_question_and_public_functions_agree():
    df = _frame(3)
    out = proportions(df, "y", "w", by=["wave", "g"], strata="st", calibrated_on=["sex", "age"])
    ref = list(_reference(df, "y", "w", ["wave", "g"], "st", None, ["sex", "age"], None, False))
    np.testing.assert_allclose(out["se"], np.concatenate([np.sqrt(r[2]) for r in ref]), rtol=1e-12)
    con = share_contrasts(df, "y", "w", {"a_minus_b": {"a": 1, "b": -1}}, by="g", psu="psu")
    ref = list(_reference(df, "y", "w", ["g"], None, "psu", None, None, True))
    c = np.array([1.0, -1.0, 0.0])
    np.testing.assert_allclose(con["se"], [np.sqrt(c @ r[2] @ c) for r in ref], rtol=1e-12)


@pytest.mark.parametrize("by", [None, "wave"])
def test_cell_sum_residuals_equal_the_row_level_regression(by):
    df = _frame(11)
    rng = np.random.default_rng(5)
    z = rng.normal(size=(len(df), 4))
    cal = calibration(df, "w", ["sex", "age"], by=by, base_weight="w0")
    w, w0 = df["w"].to_numpy(), df["w0"].to_numpy()
    expected = np.empty_like(z)
    levels = [np.ones(len(df), bool)] if by is None else [df[by].eq(v) for v in ("w1", "w2")]
    for rows in levels:
        rows = np.asarray(rows)
        mm = calibration_matrix(df[rows], ["sex", "age"])
        expected[rows] = w[rows, None] * calibration_residuals(
            z[rows] / w[rows, None], mm, w0[rows]
        )
    np.testing.assert_allclose(cal.residualise(z), expected, rtol=1e-10, atol=1e-13)


def _model_frame(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = _frame(seed, n)
    df["vote"] = (rng.random(n) < 0.3 + 0.2 * df["sex"].eq("f")).astype(float)
    df["edu"] = rng.choice(["lo", "mid", "hi"], n)
    df.loc[rng.random(n) < 0.03, "edu"] = None  # rows dropped from the fit, kept in the design
    return df


LOGIT_DESIGNS = [
    {},
    {"strata": "st"},
    {"strata": "st", "psu": "psu"},
    {"calibrated_on": ["sex", "age"], "base_weight": "w0"},
    {"strata": "wave", "calibrated_on": ["sex", "age"], "calibration_by": "wave"},
    {"strata": "st", "psu": "psu", "calibrated_on": ["age"], "calibration_by": "wave"},
]


@pytest.mark.parametrize("design", LOGIT_DESIGNS)
def test_logit_on_pattern_cells_equals_the_per_respondent_fit(design, monkeypatch):
    from pollwaves.survey import cells
    from pollwaves.survey.glm import weighted_logit

    df = _model_frame(13)
    formula = "vote ~ C(wave) + C(sex) + C(edu) + C(age)"
    monkeypatch.setattr(cells, "ROWS_PER_CELL", 10**9)  # never collapse
    rows = weighted_logit(df, formula, "w", **design)
    monkeypatch.setattr(cells, "ROWS_PER_CELL", 1)  # always collapse
    fast = weighted_logit(df, formula, "w", **design)
    assert len(fast.glm.fittedvalues) < len(rows.glm.fittedvalues)  # the cell route ran
    assert fast.nobs == rows.nobs and fast.df_resid == rows.df_resid
    np.testing.assert_allclose(fast.params, rows.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.cov_params(), rows.cov_params(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fast.influence(), rows.influence(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("psu", [None, "psu"])
def test_per_wave_calibration_of_pooled_shares_equals_one_design_per_wave(psu):
    df = _frame(21, 800)
    df["psu"] = df["wave"] + "-" + df["psu"].astype(str)  # PSUs nested in waves
    opts = {"calibrated_on": ["sex", "age"], "base_weight": "w0", "psu": psu}
    pooled = proportions(
        df, "y", "w", by=["wave", "g"], strata="wave", calibration_by="wave", **opts
    )
    per_wave = pd.concat(
        [proportions(d, "y", "w", by="g", **opts).assign(wave=v) for v, d in df.groupby("wave")]
    )
    np.testing.assert_allclose(pooled["estimate"], per_wave["estimate"], rtol=1e-12)
    np.testing.assert_allclose(pooled["se"], per_wave["se"], rtol=1e-10)
    assert pooled["n"].tolist() == per_wave["n"].tolist()


@pytest.mark.parametrize("design", LOGIT_DESIGNS)
def test_mnlogit_on_pattern_cells_equals_the_per_respondent_fit(design, monkeypatch):
    from pollwaves.survey import cells
    from pollwaves.survey.mnlogit import weighted_mnlogit

    df = _model_frame(17).dropna(subset=["y"]).reset_index(drop=True)
    formula = "y ~ C(wave) + C(sex) + C(edu)"
    monkeypatch.setattr(cells, "ROWS_PER_CELL", 10**9)
    rows = weighted_mnlogit(df, formula, "w", **design)
    margins = [(by, lambda fit, by=by: fit.predicted_shares(by=by)) for by in ("g", "wave", None)]
    margins.append(("a+b", lambda fit: fit.combined_share(None, ["a", "b"], by=["wave", "h"])))
    expected = {name: fn(rows) for name, fn in margins}
    monkeypatch.setattr(cells, "ROWS_PER_CELL", 1)
    fast = weighted_mnlogit(df, formula, "w", **design)
    assert fast._f["cell_of"] is not None  # the cell route ran
    for name, fn in margins:  # shares by a non-model column, a model factor, all; a union
        got = fn(fast)
        assert got.drop(columns=["estimate", "se", "ci_low", "ci_high"]).equals(
            expected[name].drop(columns=["estimate", "se", "ci_low", "ci_high"])
        )
        np.testing.assert_allclose(got["estimate"], expected[name]["estimate"], rtol=1e-10)
        np.testing.assert_allclose(got["se"], expected[name]["se"], rtol=1e-10)
    assert fast.nobs == rows.nobs and fast.df_resid == rows.df_resid
    np.testing.assert_allclose(fast.params, rows.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.cov_params(), rows.cov_params(), rtol=1e-10, atol=1e-14)
    assert fast.llf == pytest.approx(rows.llf, rel=1e-12)


def test_grouped_sums_of_no_rows_are_float_zeros():
    # np.bincount of nothing is int64 even with weights; the variance sums must stay float
    from pollwaves.survey.domain_sums import _sums

    out = _sums(np.array([], dtype=np.int64), np.zeros((0, 3)), 2)
    assert out.dtype == float and out.shape == (2, 3) and not out.any()


CROSS_DESIGNS = [
    ({}, None),
    ({"strata": "st", "psu": "psu"}, None),
    ({"strata": "wave"}, {"calibrated_on": ["sex", "age"], "by": "wave", "base_weight": "w0"}),
    ({"strata": "st", "psu": "psu"}, {"calibrated_on": ["age"], "base_weight": "w0"}),
]


@pytest.mark.parametrize(("design", "cal_opts"), CROSS_DESIGNS)
def test_cell_cross_covariances_equal_the_row_level_ones(design, cal_opts):
    from scipy import sparse

    from pollwaves.survey.cells import cell_cross

    df = _frame(31)
    rng = np.random.default_rng(32)
    n = len(df)
    b_of_a = np.array([0, 0, 1, 2, 2, 2, 3, 4, 4])  # b cells refine a cells: a cell of each
    b_codes = rng.integers(0, len(b_of_a), n)
    b_codes[rng.random(n) < 0.1] = -1  # rows outside both
    a_codes = np.where(b_codes >= 0, b_of_a[np.maximum(b_codes, 0)], -1)
    a = rng.normal(size=(b_of_a.max() + 1, 3))
    b = sparse.random(len(b_of_a), 4, density=0.4, random_state=33, format="csr")
    w = sampling_weights(df, "w")
    s, p = design_codes(df, design.get("strata"), design.get("psu"))
    cal = None if cal_opts is None else calibration(df, "w", **cal_opts)
    inside = b_codes >= 0
    za, zb = np.zeros((n, 3)), np.zeros((n, 4))
    za[inside] = w[inside, None] * a[a_codes[inside]]
    zb[inside] = w[inside, None] * b.toarray()[b_codes[inside]]
    z = np.hstack([za, zb]) if cal is None else cal.residualise(np.hstack([za, zb]))
    full = design_variance(z, s, p, cov=True)
    for a_in in (a, sparse.csr_matrix(a)):  # a dense or sparse
        cache: dict = {}
        for _ in range(2):  # the second call takes the calibration fit of a from the cache
            cross, var_b = cell_cross(a_in, a_codes, b, b_codes, w, s, p, cal, cache)
            np.testing.assert_allclose(cross, full[:3, 3:], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(var_b, np.diag(full)[3:], rtol=1e-10, atol=1e-12)
        assert ("fit_a" in cache) == (cal is not None)


def test_mnlogit_cell_route_with_another_reference_category(monkeypatch):
    from pollwaves.survey import cells
    from pollwaves.survey.mnlogit import weighted_mnlogit

    df = _model_frame(19).dropna(subset=["y"]).reset_index(drop=True)
    design = {"strata": "wave", "calibrated_on": ["sex", "age"], "calibration_by": "wave"}
    formula = "y ~ C(wave) + C(sex) + C(edu)"
    tables = {}
    for route, rows_per_cell in (("rows", 10**9), ("cells", 1)):
        monkeypatch.setattr(cells, "ROWS_PER_CELL", rows_per_cell)
        fit = weighted_mnlogit(df, formula, "w", reference="c", **design)
        assert (fit._f["cell_of"] is not None) == (route == "cells")
        tables[route] = [fit.predicted_shares(by=by) for by in ("g", "wave")]
        tables[route].append(fit.combined_share(None, ["a", "c"], by="h"))
    for got, exp in zip(tables["cells"], tables["rows"], strict=True):
        assert got["category"].tolist() == exp["category"].tolist()
        np.testing.assert_allclose(got["estimate"], exp["estimate"], rtol=1e-10)
        np.testing.assert_allclose(got["se"], exp["se"], rtol=1e-10)
