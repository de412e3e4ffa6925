"""Reduced validation against the simulated truth (the full run is benchmarks/coverage.py).

Replicate samples of a few waves with a smaller simulated population: a loose check that
the raked estimators (toplines and the pooled models as reported) are close to unbiased and
their intervals cover about as they should, and that the unweighted ones are biased by the
built-in selection. The truth of the model estimands (the same model fitted to the whole
population) is checked on tiny hand-made populations whose answer probabilities follow a
known logit model, where the census margins can be computed by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pollwaves.validation import model_coverage as mc
from pollwaves.validation.coverage import (
    Study,
    binomial_band,
    kind_summary,
    run_replicate,
    summarise,
)

MODEL_KINDS = list(mc.KINDS)


def _summary(study: Study, waves: list[str], replicates: int, checks) -> pd.DataFrame:
    results = [run_replicate(study, waves, r, checks) for r in range(replicates)]
    failures = [res.pop("failures") for res in results]
    assert sum(len(f) for f in failures) == 0
    tables = []
    for kind in results[0]:
        est = pd.concat([res[kind] for res in results], ignore_index=True)
        truth, keys = study.truth_for(kind, waves)
        tables.append(summarise(est, truth, kind=kind, keys=keys))
    return kind_summary(pd.concat(tables, ignore_index=True)).set_index(["kind", "method"])


@pytest.fixture(scope="module")
def study() -> Study:
    return Study(ROOT, size=60_000)


@pytest.fixture(scope="module")
def summary(study) -> pd.DataFrame:
    return _summary(study, ["2022-04", "2023-03"], 30, [])


@pytest.fixture(scope="module")
def model_summary(study) -> pd.DataFrame:
    # one pre-invasion wave (the neutral share before) and three war waves (the spline)
    return _summary(study, ["2021-04", "2022-04", "2022-11", "2023-03"], 10, list(mc.CHECKS))


def test_raked_toplines_cover_and_beat_unweighted(summary):
    raked, plain = summary.loc[("topline", "raked")], summary.loc[("topline", "unweighted")]
    assert 0.88 <= raked["mean_coverage"] <= 0.99
    assert plain["mean_coverage"] < raked["mean_coverage"] - 0.1
    assert raked["mean_abs_bias"] < plain["mean_abs_bias"] / 2
    assert raked["replicates"] == 30


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_reported_model_estimates_cover(model_summary, kind):
    row = model_summary.loc[(kind, "raked")]
    assert row["replicates"] == 10  # the population's model was selected in every replicate
    assert 0.8 <= row["mean_coverage"] <= 1.0
    assert row["mean_abs_bias"] < 0.02


def test_reported_estimates_all_present(study, model_summary):
    counts = model_summary["estimates"]
    subs = study.subgroups
    n_levels = sum(len(study.sim.levels[v]) for v in subs)
    assert counts[("subgroup_margin", "raked")] == n_levels
    assert counts[("subgroup_ame", "raked")] == n_levels - len(subs)
    assert counts[("alliance_neutral", "raked")] == 3  # before, after, after - before


def test_binomial_band_contains_nominal_level():
    lo, hi = binomial_band(200)
    assert lo < 0.95 < hi
    assert 0.9 < lo and hi < 0.99


def test_summarise_keeps_negative_differences_and_drops_other_models():
    est = pd.DataFrame(
        {
            "model_spec": ["a", "a", "b"],
            "variable": "v",
            "replicate": [0, 1, 2],
            "estimate": [-0.1, -0.3, -0.2],
            "ci_low": [-0.2, -0.35, -0.3],
            "ci_high": [0.0, -0.25, 0.0],
        }
    )
    truth = pd.Series([-0.12], index=pd.MultiIndex.from_tuples([("a", "v")]))
    truth.index.names = ["model_spec", "variable"]
    out = summarise(est, truth, kind="subgroup_ame", keys=["model_spec", "variable"])
    row = out.iloc[0]
    assert len(out) == 1 and row["replicates"] == 2  # the model-b replicate has no truth
    assert row["coverage"] == pytest.approx(0.5)
    assert row["bias"] == pytest.approx(-0.2 + 0.12)
    bounded = summarise(est, truth, kind="subgroup_ame", keys=["model_spec", "variable"],
                        bounded=True)  # fmt: skip
    assert bounded.empty  # a share's truth must lie in (0, 1)


# -- the truth: the census version of each model on hand-made populations --------------
WAR = {"2022-03": 800, "2022-09": 1000, "2023-03": 600}  # war waves and their sample sizes
PRE = {"2021-04": 900}  # before the invasion (alliance only)
DATES = {"2021-04": "2021-04-15", "2022-03": "2022-03-15", "2022-09": "2022-09-15",
         "2023-03": "2023-03-15"}  # fmt: skip
LEVELS = {"sex": ["female", "male"], "media_diet": ["independent", "mixed", "state"]}
CELL_COUNTS = np.array([[30, 50, 20], [20, 45, 35]])  # persons per sex x media_diet cell
ALLIANCE = ["both", "eu", "outside", "russia"]


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _fake_study(intercept, sex_effect, media_effect):
    """A Study-like object over a population with a known logit model of war support.

    ``P(support) = expit(intercept[wave] + sex_effect[sex] + media_effect[media])``; the
    other answers share the rest. Alliance answers depend on the wave and media diet.
    """
    sex, media = np.nonzero(CELL_COUNTS)
    reps = CELL_COUNTS[sex, media]
    codes = {"sex": np.repeat(sex, reps), "media_diet": np.repeat(media, reps)}
    size = len(codes["sex"])
    probs = {}
    for w, a in intercept.items():
        p = _expit(
            a
            + np.asarray(sex_effect)[codes["sex"]]
            + np.asarray(media_effect)[codes["media_diet"]]
        )
        probs[(w, "war_support")] = np.column_stack([p, 0.7 * (1 - p), 0.3 * (1 - p)])
    for i, w in enumerate([*PRE, *WAR]):
        base = np.array([[0.5, 0.1, 0.2, 0.2], [0.3, 0.1, 0.2, 0.4], [0.2, 0.05, 0.15, 0.6]])
        shift = np.array([-0.05, 0, -0.05, 0.1]) * (i > 0)
        probs[(w, "alliance")] = (base + shift)[codes["media_diet"]]
    cats = {"war_support": ["support", "oppose", "hard_to_say"], "alliance": ALLIANCE}
    sim = SimpleNamespace(
        waves=[*PRE, *WAR], grid=[], levels=LEVELS, codes=codes, population=np.zeros(size),
        probs=probs, categories=lambda q: cats[q], person_probs=lambda w, q: probs[(w, q)],
    )  # fmt: skip
    n = PRE | WAR
    return SimpleNamespace(
        sim=sim, cfg={"waves": {w: {"n": n[w]} for w in n}}, subgroups=list(LEVELS),
        dates={w: pd.Timestamp(d) for w, d in DATES.items()}, estimation={"level": 0.95},
        weighting={"variables": ["sex"]}, invasion_date="2022-02-24",
        models={"spline_df": 3, "grid": 5, "subgroups": list(LEVELS)},
    ), codes, probs  # fmt: skip


INTERCEPT = {"2022-03": -0.6, "2022-09": -0.2, "2023-03": 0.3}


def test_population_frame_weights_are_wave_sizes_times_person_shares():
    study, codes, probs = _fake_study(INTERCEPT, [0.0, 0.4], [0.0, 0.8, 1.6])
    frame = mc.population_frame(study, "war_support", ["sex", "media_diet"])
    size = len(codes["sex"])
    assert frame.groupby("wave")["weight"].sum().to_dict() == pytest.approx(WAR)
    w = "2022-09"
    sub = frame[(frame["wave"] == w) & (frame["sex"] == "male") & (frame["media_diet"] == "mixed")]
    cell = (codes["sex"] == 1) & (codes["media_diet"] == 1)
    expected = probs[(w, "war_support")][cell].sum(axis=0) * WAR[w] / size
    got = sub.set_index("war_support")["weight"].reindex(["support", "oppose", "hard_to_say"])
    assert got.to_numpy() == pytest.approx(expected)
    padded = mc.population_frame(
        study, "war_support", ["sex", "media_diet"], rows_per_respondent=2
    )
    assert padded.groupby("wave").size().to_dict() == {k: 2 * v for k, v in WAR.items()}
    assert padded.groupby(["wave", "war_support"])["weight"].sum().to_numpy() == pytest.approx(
        frame.groupby(["wave", "war_support"])["weight"].sum().to_numpy()
    )


def test_subgroup_truth_is_the_census_predictive_margin():
    """With a correctly specified logit the census fit recovers it: margins by hand."""
    sex_eff, media_eff = np.array([0.0, 0.4]), np.array([0.0, 0.8, 1.6])
    study, codes, _ = _fake_study(INTERCEPT, sex_eff, media_eff)
    truth = mc.model_truths(study, ["subgroup"])
    margin, ame = truth["subgroup_margin"], truth["subgroup_ame"]
    n_total = sum(WAR.values())

    def by_hand(var: str, lev: int) -> float:
        s = sex_eff[codes["sex"]] if var != "sex" else sex_eff[lev]
        m = media_eff[codes["media_diet"]] if var != "media_diet" else media_eff[lev]
        return sum(n * _expit(INTERCEPT[w] + s + m).mean() for w, n in WAR.items()) / n_total

    spec = margin.index.get_level_values("model_spec")[0]
    assert spec == "time:media_diet"  # the strongest association
    for var, levs in LEVELS.items():
        for j, lev in enumerate(levs):
            assert margin[(spec, var, lev)] == pytest.approx(by_hand(var, j), abs=1e-7)
            if j:
                diff = by_hand(var, j) - by_hand(var, 0)
                assert ame[(spec, var, lev, levs[0])] == pytest.approx(diff, abs=1e-7)


def test_trend_truth_linear_model_and_wave_effects():
    """No demographic effects and a logit-linear time path: the census linear trend is it."""
    t = {w: (pd.Timestamp(DATES[w]) - pd.Timestamp(DATES["2022-03"])).days / 365.25 for w in WAR}
    a, b = -0.5, 0.6
    study, _, _ = _fake_study({w: a + b * t[w] for w in WAR}, [0.0, 0.0], [0.0, 0.0, 0.0])
    truth = mc.model_truths(study, ["trend"])["trend_prediction"].droplevel("model_spec")
    truth = truth.sort_index()
    for date in truth.loc[("linear", "support")].index:
        years = (pd.Timestamp(date) - pd.Timestamp(DATES["2022-03"])).days / 365.25
        assert truth[("linear", "support", date)] == pytest.approx(_expit(a + b * years), abs=1e-6)
    for w in WAR:  # wave effects: the population share of the wave
        share = _expit(a + b * t[w])
        assert truth[("wave_fe", "support", DATES[w])] == pytest.approx(share, abs=1e-7)
        assert truth[("wave_fe", "oppose", DATES[w])] == pytest.approx(0.7 * (1 - share), abs=1e-7)


def test_alliance_truth_is_the_population_share():
    study, codes, probs = _fake_study(INTERCEPT, [0.0, 0.4], [0.0, 0.8, 1.6])
    truth = mc.model_truths(study, ["alliance"])
    shares, neutral = truth["alliance_share"], truth["alliance_neutral"]
    n = PRE | WAR
    for w in n:
        pop = probs[(w, "alliance")].mean(axis=0)
        for k, cat in enumerate(ALLIANCE):
            assert shares[(w, "all", cat)] == pytest.approx(pop[k], abs=1e-7)
    state = codes["media_diet"] == 2  # pooled over waves, each with its sample's weight
    pooled = sum(n[w] * probs[(w, "alliance")][state].mean(axis=0) for w in n) / sum(n.values())
    for k, cat in enumerate(ALLIANCE):
        assert shares[("pooled", "media_diet=state", cat)] == pytest.approx(pooled[k], abs=1e-7)
    neut = {w: probs[(w, "alliance")][:, [0, 2]].sum(axis=1).mean() for w in n}
    before = neut["2021-04"]
    after = sum(WAR[w] * neut[w] for w in WAR) / sum(WAR.values())
    assert neutral[("before", "both + outside")] == pytest.approx(before, abs=1e-7)
    assert neutral[("after", "both + outside")] == pytest.approx(after, abs=1e-7)
    assert neutral[("after - before", "both + outside")] == pytest.approx(after - before, abs=1e-7)


def test_calibration_keywords_follow_the_signature():
    def plain(data, *, weight):
        return data

    def calibrated(data, *, weight, calibrated_on=None, calibration_by=None):
        return data

    weighting = {"variables": ["sex_age", "education"]}
    assert mc.calibration_keywords(plain, weighting) == {}
    assert mc.calibration_keywords(calibrated, weighting) == {
        "calibrated_on": ["sex_age", "education"],
        "calibration_by": "wave",
    }
