"""Coverage checks of the pooled models as the report shows them (SIMULATED data only).

Each check runs the analysis function the workflow runs (:func:`pollwaves.analysis.subgroups.
subgroup_model`, :func:`pollwaves.analysis.trends.trend_models`, and the weighted multinomial
logit of ``stages.models.run_alliance_models`` with its shares) on one replicate's pooled
raked sample, with the settings of ``config/config.yaml`` (``models``, ``estimation.level``).
Each keyword the analysis functions accept for calibration-aware SEs (``calibrated_on``:
``weighting.variables``; ``calibration_by``: ``"wave"``) is passed, so the checks test the
intervals the workflow reports.

The estimand and its true value
-------------------------------
A counterfactual predictive margin (and an average marginal effect, a trend prediction, a
multinomial share) is a function of the model's coefficients and the covariate
distribution. Its TRUE value is the census parameter the survey estimator targets: the
same model fitted to the whole SIMULATED population (every person, population weight 1),
then the same margins computed. The simulator gives each person answer probabilities
``p_ik`` per wave, and every sample draws fresh answers from them, so the census fit is the
fit whose score equations hold in expectation: ``sum_i x_i (p_i - mu_i(beta)) = 0``. As the
model's covariates are categorical, this is the same as fitting the model to the collapsed
population, one row per wave x demographic cell x answer with sampling weight
``(n_w / N) * sum_{i in cell} p_ik`` (:func:`population_frame`): each wave's population
enters the pooled fit with the weight its sample has (the raked weights of a wave sum to the
wave's sample size ``n_w``). The check functions then run unchanged on that frame; only
their point estimates are used as the truth. Where the reported model depends on the data
(the subgroup model's strongest predictor, the spline knots at quantiles of the respondents'
dates) the estimates carry a ``model_spec`` label, the truth is that of the population's
model, and replicates whose model differs are not counted (their number is reported).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pollwaves.analysis.model_waves import model_terms, select_waves
from pollwaves.analysis.subgroups import subgroup_model
from pollwaves.analysis.trends import add_time, trend_models
from pollwaves.errors import InputError

__all__ = [
    "CHECKS",
    "KINDS",
    "UNBOUNDED_KINDS",
    "alliance_estimates",
    "alliance_check",
    "calibration_keywords",
    "model_truths",
    "population_frame",
    "subgroup_check",
    "trend_check",
]

#: Estimate kinds whose truth may lie outside (0, 1) (differences): kept whatever its value.
UNBOUNDED_KINDS = frozenset({"subgroup_ame", "alliance_neutral"})


def calibration_keywords(func: Callable, weighting: Mapping) -> dict:
    """The calibration keywords ``func`` accepts: ``calibrated_on``, ``calibration_by``.

    ``calibrated_on`` is ``weighting.variables`` (the raking columns, derived ones included),
    ``calibration_by`` is ``"wave"`` (each wave raked on its own): contract interface 1.
    Functions without those keywords get none (today's uncalibrated SEs).
    """
    params = inspect.signature(func).parameters
    kw: dict = {}
    if "calibrated_on" in params:
        kw["calibrated_on"] = list(weighting["variables"])
    if "calibration_by" in params:
        kw["calibration_by"] = "wave"
    return kw


def _level(study) -> float:
    return float(study.estimation["level"])


# -- checks: (study, pooled sample, calibrate) -> {kind: estimates} ------------------------
def subgroup_check(study, pooled: pd.DataFrame, calibrate: bool = True) -> dict:
    """Predictive margins and AMEs of the reported subgroup model (with its time interaction).

    Calls :func:`~pollwaves.analysis.subgroups.subgroup_model` as ``run_war_models`` does;
    ``pooled`` holds sampling weights in ``weight``. Returns ``subgroup_margin``
    (``variable, level``) and ``subgroup_ame`` (``variable, level, reference``) with
    ``model_spec`` = ``time:<strongest predictor>``.
    """
    kw = calibration_keywords(subgroup_model, study.weighting) if calibrate else {}
    sub = subgroup_model(
        pooled, dates=study.dates, variables=study.subgroups, alpha=1 - _level(study), **kw
    )
    sel = sub["selection"]
    spec = "time:" + str(sel.loc[sel["strongest"], "term"].iloc[0])
    cols = ["estimate", "se", "ci_low", "ci_high"]
    margin = sub["predicted"][["variable", "level", *cols]].assign(model_spec=spec)
    ame = sub["ame"][["variable", "level", "reference", *cols]].assign(model_spec=spec)
    return {"subgroup_margin": margin, "subgroup_ame": ame}


def _knots_label(pooled: pd.DataFrame, study, spline_df: int) -> str:
    """The spline knots ``trend_models`` places (quantiles of the respondents' dates)."""
    asked, _ = select_waves(pooled, "trend", ["war_support"])
    data, _ = add_time(asked, study.dates)
    t = data.loc[data["war_support"].notna(), "time_years"].to_numpy(float)
    knots = np.quantile(t, np.linspace(0, 1, spline_df + 1))
    return "knots=" + ",".join(f"{k:.4f}" for k in knots)


def trend_check(study, pooled: pd.DataFrame, calibrate: bool = True) -> dict:
    """Trend predictions (linear, spline, wave effects; support and oppose) as reported.

    Calls :func:`~pollwaves.analysis.trends.trend_models` as ``run_war_models`` does
    (``spline_df`` capped at the number of war waves - 1). Returns ``trend_prediction``
    (``model, outcome, date``) with ``model_spec`` = the spline knots.
    """
    settings = study.models
    waves = pooled.loc[pooled["war_support"].notna(), "wave"].unique()
    spline_df = min(int(settings["spline_df"]), len(waves) - 1)
    kw = calibration_keywords(trend_models, study.weighting) if calibrate else {}
    tr = trend_models(
        pooled, dates=study.dates, spline_df=spline_df, grid=int(settings["grid"]),
        alpha=1 - _level(study), **kw,
    )  # fmt: skip
    pred = tr["predictions"].copy()
    pred["date"] = pd.to_datetime(pred["date"]).dt.strftime("%Y-%m-%d")
    cols = ["model", "outcome", "date", "estimate", "se", "ci_low", "ci_high"]
    return {
        "trend_prediction": pred[cols].assign(model_spec=_knots_label(pooled, study, spline_df))
    }


def alliance_estimates(
    pooled: pd.DataFrame,
    *,
    dates: Mapping[str, pd.Timestamp],
    settings: Mapping,
    invasion_date: str,
    level: float,
    weight: str = "weight",
    **keywords,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The alliance tables of ``stages.models.run_alliance_models``, without the files.

    The same calls in the same order: :func:`~pollwaves.analysis.model_waves.select_waves`,
    :func:`pollwaves.survey.mnlogit.weighted_mnlogit` (wave strata, ``weight`` = sampling
    weights; ``keywords`` = its calibration keywords), ``predicted_shares`` by wave and by
    each subgroup variable (pooled), ``combined_share`` of both + outside by period.

    Returns
    -------
    (DataFrame, DataFrame)
        Shares ``wave, domain, category, estimate, se, ci_low, ci_high`` (as
        alliance_shares.csv) and the neutral share ``period, category, estimate, se, ci_low,
        ci_high`` for ``before``, ``after`` and ``after - before`` (normal interval of the
        difference of the two independent period shares, as alliance_neutral.csv).
    """
    from scipy import stats

    from pollwaves.survey.mnlogit import weighted_mnlogit

    data, _ = select_waves(pooled, "alliance", model_terms(settings)["alliance"], min_waves=2)
    data["period"] = np.where(
        data["wave"].astype(str).map(dates) < pd.Timestamp(invasion_date), "before", "after"
    )
    terms = " + ".join(f"C({v})" for v in ["wave", *settings["subgroups"]])
    fit = weighted_mnlogit(data, f"alliance ~ {terms}", weight, strata="wave", **keywords)
    parts = [fit.predicted_shares(by="wave", level=level).assign(domain="all")]
    for var in settings["subgroups"]:
        sh = fit.predicted_shares(by=var, level=level)
        parts.append(sh.assign(domain=var + "=" + sh.pop(var).astype(str), wave="pooled"))
    shares = pd.concat(parts, ignore_index=True)
    shares["wave"] = shares["wave"].astype(str)
    cols = ["wave", "domain", "category", "estimate", "se", "ci_low", "ci_high"]
    neutral = fit.combined_share(None, ["both", "outside"], by="period", level=level)
    neutral = neutral.set_index("period").reindex(["before", "after"]).reset_index()
    d = neutral["estimate"].iloc[1] - neutral["estimate"].iloc[0]
    se = float(np.hypot(*neutral["se"]))
    z = stats.norm.ppf(0.5 + float(level) / 2)
    diff = {"period": "after - before", "estimate": d, "se": se, "ci_low": d - z * se,
            "ci_high": d + z * se}  # fmt: skip
    neutral = pd.concat([neutral, pd.DataFrame([diff])], ignore_index=True)
    neutral["category"] = "both + outside"
    return shares[cols], neutral[["period", "category", "estimate", "se", "ci_low", "ci_high"]]


def alliance_check(study, pooled: pd.DataFrame, calibrate: bool = True) -> dict:
    """Multinomial alliance shares as reported: ``alliance_share`` and ``alliance_neutral``."""
    from pollwaves.survey.mnlogit import weighted_mnlogit

    kw = calibration_keywords(weighted_mnlogit, study.weighting) if calibrate else {}
    shares, neutral = alliance_estimates(
        pooled, dates=study.dates, settings=study.models, invasion_date=study.invasion_date,
        level=_level(study), **kw,
    )  # fmt: skip
    return {"alliance_share": shares, "alliance_neutral": neutral}


#: check name -> (function, kinds it returns, keys of each kind, question it models)
CHECKS: dict[str, tuple[Callable, tuple[str, ...], str]] = {
    "subgroup": (subgroup_check, ("subgroup_margin", "subgroup_ame"), "war_support"),
    "trend": (trend_check, ("trend_prediction",), "war_support"),
    "alliance": (alliance_check, ("alliance_share", "alliance_neutral"), "alliance"),
}
#: kind -> the columns that identify one estimate of it
KINDS: dict[str, list[str]] = {
    "subgroup_margin": ["model_spec", "variable", "level"],
    "subgroup_ame": ["model_spec", "variable", "level", "reference"],
    "trend_prediction": ["model_spec", "model", "outcome", "date"],
    "alliance_share": ["wave", "domain", "category"],
    "alliance_neutral": ["period", "category"],
}


# -- the population version of the models --------------------------------------------------
def population_frame(
    study,
    question: str,
    variables: Sequence[str],
    *,
    waves: Sequence[str] | None = None,
    rows_per_respondent: int | None = None,
) -> pd.DataFrame:
    """The SIMULATED population collapsed to wave x cell x answer rows with weights.

    Parameters
    ----------
    study : Study
        :class:`pollwaves.validation.coverage.Study`.
    question : str
        The modelled question (not a grid item).
    variables : list of str
        The model's demographic covariates (the cells).
    waves : list of str, optional
        The waves pooled (default: every simulated wave); those that did not ask
        ``question`` are left out.
    rows_per_respondent : int, optional
        Split rows (equal parts of their weight, which leaves every fit unchanged) so that
        each wave has exactly ``rows_per_respondent * n_w`` rows: quantiles of the rows'
        dates (the spline knots) then fall where the sample's do.

    Returns
    -------
    DataFrame
        ``wave, <question>, <variables>, weight`` (category ids as ``str``). ``weight`` is a
        sampling weight (never a frequency weight): ``(n_w / N) * sum_{i in cell} p_ik``
        over the waves that asked ``question``, ``n_w`` the wave's sample size, ``N`` the
        population size; see the module docstring for why this is the census fit.
    """
    sim = study.sim
    if question in sim.grid:
        raise InputError("population_frame does not collapse grid items", value=question)
    dims = [len(sim.levels[v]) for v in variables]
    cell = np.ravel_multi_index([sim.codes[v] for v in variables], dims)
    n_cells, size = int(np.prod(dims)), len(sim.population)
    levels = np.array(np.unravel_index(np.arange(n_cells), dims)).T
    cats = sim.categories(question)
    parts = []
    for wave in sim.waves if waves is None else waves:
        if (wave, question) not in sim.probs:  # not asked in the wave
            continue
        p = sim.person_probs(wave, question)
        n_w = int(study.cfg["waves"][wave]["n"])
        sums = np.stack([np.bincount(cell, p[:, k], n_cells) for k in range(len(cats))], 1)
        c_idx, k_idx = np.nonzero(sums > 0)
        frame = pd.DataFrame({"wave": wave, question: np.array(cats)[k_idx]})
        for j, v in enumerate(variables):
            frame[v] = np.array(sim.levels[v])[levels[c_idx, j]]
        frame["weight"] = sums[c_idx, k_idx] * n_w / size
        if rows_per_respondent is not None:
            target = int(rows_per_respondent) * n_w
            if target < len(frame):
                raise InputError("rows_per_respondent too small", value=rows_per_respondent)
            reps = np.full(len(frame), target // len(frame))
            reps[: target % len(frame)] += 1
            frame = frame.loc[frame.index.repeat(reps)].reset_index(drop=True)
            frame["weight"] /= np.repeat(reps, reps)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def model_truths(
    study, names: Sequence[str] = tuple(CHECKS), waves: Sequence[str] | None = None
) -> dict[str, pd.Series]:
    """The true value of every estimate of the checks ``names``, indexed by ``KINDS`` keys.

    Runs each check on :func:`population_frame` of ``waves`` (default: every simulated
    wave; the waves the replicate samples pool), without calibration keywords (only the
    point estimates are used); cached on ``study``.
    """
    cache = study.__dict__.setdefault("_model_truths", {})
    waves = tuple(study.sim.waves if waves is None else waves)
    for name in names:
        if (name, waves) in cache:
            continue
        func, kinds, question = CHECKS[name]
        pad = 8 if name == "trend" else None
        frame = population_frame(
            study, question, study.subgroups, waves=waves, rows_per_respondent=pad
        )
        out = func(study, frame, calibrate=False)
        cache[(name, waves)] = {k: out[k].set_index(KINDS[k])["estimate"] for k in kinds}
    return {k: v for name in names for k, v in cache[(name, waves)].items()}
