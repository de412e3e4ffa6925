"""Property-style invariants of raking and design-based proportions over seeded random samples.

What is asserted is what holds mathematically for *every* sample:

* raked weights add up to the target total and meet every margin;
* Kish's deff ``n sum(w^2) / sum(w)^2 >= 1`` (Cauchy-Schwarz), so Kish's ``n_eff <= n``;
* the design effect of a proportion is *not* bounded below by 1: with ``ids=~1`` it equals
  ``sum_i w_i^2 e_i^2 n / (W sum_i w_i e_i^2) * W / (W - n)`` with ``e_i = y_i - p``, the
  mean weight of the respondents weighted by ``w e^2`` over the mean weight, which is < 1
  when the answers far from ``p`` come from low-weight respondents (shown below). So only
  ``n_eff = n / deff`` is asserted, which gives ``n_eff <= n`` exactly when ``deff >= 1``;
  where the deff is undefined (p = 0 or 1) ``n_eff`` is Kish's and so ``<= n``;
* with equal weights ``c > 1`` the deff of a whole-sample estimate is ``W / (W - n) > 1``,
  but that of a domain of ``n_d`` rows is ``(n_d-1)/n_d * n/(n-1) * W_d/(W_d-n_d)``, below 1
  for most domain sizes: another reason not to assert ``deff >= 1``;
* category shares sum to 1 within every domain;
* results do not depend on the order of the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves.survey.diagnostics import kish
from pollwaves.survey.estimation import proportions
from pollwaves.survey.weighting import rake

SEEDS = [3, 17, 29, 101, 2024]
MARGIN_COLS = ["sex", "age", "region"]
LEVELS = {"sex": ["f", "m"], "age": ["a1", "a2", "a3", "a4"], "region": ["n", "s", "e"]}


def _sample(seed: int, n: int = 300) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """A stratified clustered sample with skewed raking variables, a question and margins."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "stratum": np.repeat(["h1", "h2", "h3"], n // 3),
            "psu": np.repeat(np.arange(15), n // 15),
        }
    )
    for col, levels in LEVELS.items():
        p = rng.dirichlet(np.full(len(levels), 4.0))
        df[col] = rng.choice(levels, n, p=p)
        df.loc[rng.choice(n, len(levels), replace=False), col] = levels  # every level present
    psu_eff = rng.normal(0, 0.5, 15)[df["psu"]]
    eta = np.column_stack(
        [psu_eff + (df["age"] == "a1") * 0.8, -psu_eff, np.full(n, 0.3), np.full(n, -1.0)]
    )
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    pick = (rng.uniform(size=n)[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    y = np.array(["yes", "no", "dk", "rare"], dtype=object)[pick]
    y[rng.choice(n, 12, replace=False)] = None
    df["y"] = y
    df["base"] = rng.lognormal(0, 0.4, n)
    total = float(rng.integers(50_000, 5_000_000))
    margins = {
        col: dict(zip(levels, rng.dirichlet(np.full(len(levels), 6.0)) * total, strict=True))
        for col, levels in LEVELS.items()
    }
    return df, margins


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("base", [None, "base"])
def test_rake_weights_sum_to_the_target_total_and_meet_every_margin(seed, base):
    df, margins = _sample(seed)
    total = sum(margins["sex"].values())
    w = rake(df, margins, weight=base)
    assert w.sum() == pytest.approx(total, rel=1e-9)
    assert (w > 0).all()
    for col, tgt in margins.items():
        got = w.groupby(df[col]).sum()
        for cat, t in tgt.items():
            assert got[cat] == pytest.approx(t, rel=1e-8)
    # shares are scaled to the total of the base weights
    shares = {c: {k: v / total for k, v in m.items()} for c, m in margins.items()}
    base_total = len(df) if base is None else df[base].sum()
    assert rake(df, shares, weight=base).sum() == pytest.approx(base_total, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_kish_deff_is_at_least_one_for_raked_weights(seed):
    df, margins = _sample(seed)
    w = rake(df, margins)
    deff, n_eff = kish(w)
    assert deff >= 1 - 1e-12
    assert n_eff <= len(w) * (1 + 1e-12)
    assert deff * n_eff == pytest.approx(len(w), rel=1e-12)
    # raking a skewed sample makes the weights unequal, so here the inequality is strict
    assert deff > 1.01
    # and equality holds for equal weights
    assert kish(np.full(len(w), w.mean()))[0] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("calibrated", [False, True])
def test_n_eff_is_n_over_deff_and_at_most_n_whenever_deff_is_at_least_one(seed, calibrated):
    df, margins = _sample(seed)
    df["w"] = rake(df, margins)  # uniform base
    # y2: "rare" is never the answer of women (p = 0 there, deff undefined)
    df["y2"] = df["y"].where((df["y"] != "rare") | (df["sex"] == "m"), "dk")
    res = pd.concat(
        [
            proportions(
                df,
                q,
                "w",
                by=by,
                strata="stratum",
                psu="psu",
                calibrated_on=MARGIN_COLS if calibrated else None,
            )
            for q in ("y", "y2")
            for by in (None, "sex", "age")
        ],
        ignore_index=True,
    )
    defined = np.isfinite(res["deff"]) & (res["deff"] > 0)
    assert defined.sum() >= 20
    d = res[defined]
    np.testing.assert_allclose(d["n_eff"] * d["deff"], d["n"], rtol=1e-10)
    at_least_one = d["deff"] >= 1
    assert (d.loc[at_least_one, "n_eff"] <= d.loc[at_least_one, "n"] * (1 + 1e-12)).all()
    assert (d.loc[~at_least_one, "n_eff"] > d.loc[~at_least_one, "n"]).all()
    # undefined deff (p = 0 or 1): n_eff is Kish's effective n of the domain, <= n
    undefined = res[~defined]
    assert len(undefined) >= 1
    assert (undefined["n_eff"] <= undefined["n"] * (1 + 1e-12)).all()


def test_design_deff_of_a_proportion_can_fall_below_one_with_raked_weights():
    # Half the sample has a degree but the target is 20%: graduates get small weights. The
    # answer "yes" (= graduate) has p = 0.2 and its residuals (1 - p)^2 are large exactly
    # where the weights are small, so deff = 0.64 * W / (W - n) < 1 although Kish's deff > 1.
    n, total = 200, 1_000_000.0
    df = pd.DataFrame({"grad": np.repeat(["y", "n"], n // 2)})
    df["y"] = np.where(df["grad"] == "y", "yes", "no")
    df["w"] = rake(df, {"grad": {"y": 0.2 * total, "n": 0.8 * total}})
    res = proportions(df, "y", "w").set_index("category")
    assert res.loc["yes", "estimate"] == pytest.approx(0.2)
    assert res.loc["yes", "deff"] == pytest.approx(0.64 * total / (total - n), rel=1e-10)
    assert res.loc["yes", "deff"] < 1 and res.loc["yes", "n_eff"] > n
    assert kish(df["w"])[0] > 1


@pytest.mark.parametrize("seed", SEEDS)
def test_equal_weights_give_deff_w_over_w_minus_n_but_domains_can_fall_below_one(seed):
    df, _ = _sample(seed)
    df = df[df["y"].notna()].reset_index(drop=True)
    n, c = len(df), 2500.0
    df["w"] = c
    # whole sample, ids=~1: V = p(1-p)/(n-1), Vsrs = p(1-p)/(n-1) (W-n)/W
    top = proportions(df, "y", "w")
    np.testing.assert_allclose(top["deff"], c * n / (c * n - n), rtol=1e-10)
    assert (top["deff"] > 1).all() and (top["n_eff"] < top["n"]).all()
    # a domain of n_d rows (zero-padded over all n rows) has V = p(1-p)/n_d * n/(n-1), so
    # deff = (n_d-1)/n_d * n/(n-1) * W_d/(W_d-n_d): below 1 for most domain sizes
    dom = proportions(df, "y", "w", by="region")
    dom = dom[(dom["estimate"] > 0) & (dom["estimate"] < 1)]
    assert len(dom) >= 6
    n_d = dom["n"].to_numpy(dtype=float)
    want = (n_d - 1) / n_d * n / (n - 1) * c / (c - 1)
    np.testing.assert_allclose(dom["deff"], want, rtol=1e-10)
    assert (dom["deff"] < 1).any()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("by", [None, "region", ["sex", "age"]])
def test_category_shares_sum_to_one_within_each_group(seed, by):
    df, margins = _sample(seed)
    df["w"] = rake(df, margins, weight="base")
    res = proportions(df, "y", "w", by=by, strata="stratum", psu="psu")
    keys = [by] if isinstance(by, str) else list(by or [])
    sums = res.groupby(keys)["estimate"].sum() if keys else res["estimate"].sum()
    np.testing.assert_allclose(np.atleast_1d(sums), 1.0, rtol=1e-12)
    n_groups = len(df[keys].drop_duplicates()) if keys else 1
    assert len(res) == n_groups * df["y"].nunique()


@pytest.mark.parametrize("seed", SEEDS)
def test_results_do_not_depend_on_row_order(seed):
    df, margins = _sample(seed)
    perm = df.sample(frac=1, random_state=seed)
    w, w_perm = rake(df, margins, weight="base"), rake(perm, margins, weight="base")
    pd.testing.assert_series_equal(w, w_perm.loc[w.index], check_exact=False, rtol=1e-12)
    df["w"], perm["w"] = w, w_perm
    for method in ("logit", "beta", "wilson", "xlogit"):
        kw = {
            "by": ["region", "sex"],
            "strata": "stratum",
            "psu": "psu",
            "calibrated_on": MARGIN_COLS,
            "base_weight": "base",
            "ci_method": method,
        }
        a = proportions(df, "y", "w", **kw)
        b = proportions(perm, "y", "w", **kw)
        keys = ["region", "sex", "category"]
        a = a.sort_values(keys).reset_index(drop=True)
        b = b.sort_values(keys).reset_index(drop=True)
        assert len(a) == 6 * 4
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-15)
