"""Validation against known truth: bias and CI coverage over repeated simulated samples.

The simulator (:mod:`pollwaves.simulate`) knows the population truth of every wave, so the
workflow's estimators can be checked the way a methods paper would: draw many online
samples per wave with the same selection bias, put each through the same cleaning, raking
and estimation code as the workflow, and compare with the truth. Everything here uses
SIMULATED data; ``benchmarks/coverage.py`` is the command-line entry point.

Each replicate sample skips only the file round trip (writing and re-reading a delivery):
the simulated answers are put straight into the harmonised layout, then
:func:`pollwaves.intake.cleaning.clean_wave`, :func:`pollwaves.survey.weighting.rake` and
:func:`pollwaves.survey.estimation.proportions` run exactly as in the workflow. The pooled
model checks (:mod:`pollwaves.validation.model_coverage`) run the workflow's analysis
functions on each replicate's pooled raked samples and compare with the census version of
the same model (fitted to the whole simulated population).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from pollwaves import config
from pollwaves.analysis.attitudes import wave_mid_dates
from pollwaves.errors import InputError
from pollwaves.intake import cleaning
from pollwaves.intake.margins import add_derived_columns, load_margins
from pollwaves.simulate.deliver import questionnaire_order
from pollwaves.simulate.simulation import REFUSED, Simulation, load_simulation_config
from pollwaves.survey.estimation import proportions
from pollwaves.survey.weighting import rake

__all__ = [
    "Study",
    "binomial_band",
    "harmonised_sample",
    "kind_summary",
    "replicate_wave",
    "run_replicate",
    "summarise",
]


class Study:
    """Everything a replicate needs, loaded once: simulation, codebook, margins, settings.

    Parameters
    ----------
    root : path
        Project root.
    size, seed : int, optional
        Population size and master seed of the simulation (default: config values).
    """

    def __init__(
        self, root: str | Path = ".", *, size: int | None = None, seed: int | None = None
    ):
        root = Path(root)
        schemas = config.schema_dir(root)
        self.root = root
        self.cfg = load_simulation_config(root / "config" / "simulation.yaml")
        self.codebook = config.load_codebook(
            root / "config" / "codebook.yaml", schemas / "codebook.schema.yaml"
        )
        study = config.load_yaml(root / "config" / "config.yaml")
        self.weighting = study["weighting"]
        self.estimation = study["estimation"]
        self.models = dict(study["models"])
        self.subgroups = list(self.models["subgroups"])
        claims = config.load_yaml(root / study["claims"])
        self.invasion_date = str(claims["invasion_date"])
        self.margins = load_margins(root / study["margins"], schemas / "margins.schema.yaml")
        self.sim = Simulation(self.cfg, self.codebook, root, size=size, seed=seed)
        truth = self.sim.truth()
        self.truth = truth[truth["domain"] == "all"].set_index(["wave", "question", "category"])[
            "share"
        ]
        self.subgroup_truth = truth
        self.cleaning = {
            w: config.load_yaml(root / "config" / "waves" / f"{w}.yaml")["cleaning"]
            for w in self.sim.waves
        }
        self.questions = config.variables_by_kind(self.codebook, "question")
        waves_dir = root / study["waves_dir"]
        self.dates = wave_mid_dates(waves_dir / f"{w}.yaml" for w in self.sim.waves)
        self.seed = int(self.cfg["seed"] if seed is None else seed)

    def truth_for(
        self, kind: str, waves: Sequence[str] | None = None
    ) -> tuple[pd.Series, list[str]]:
        """Truth table and its keys for an estimate kind (``topline`` or a kind of
        :data:`pollwaves.validation.model_coverage.KINDS`: the population version of the
        model pooling ``waves``, default every simulated wave,
        :func:`~pollwaves.validation.model_coverage.model_truths`)."""
        if kind == "topline":
            return self.truth, ["wave", "question", "category"]
        from pollwaves.validation import model_coverage as mc

        name = next((n for n, (_, kinds, _) in mc.CHECKS.items() if kind in kinds), None)
        if name is None:
            raise InputError(
                "Unknown estimate kind", value=kind, hint=f"use topline or one of {list(mc.KINDS)}"
            )
        return mc.model_truths(self, [name], waves)[kind], mc.KINDS[kind]


def harmonised_sample(study: Study, wave: str, rng: np.random.Generator) -> pd.DataFrame:
    """One simulated online sample of ``wave`` in the harmonised layout (before cleaning)."""
    frame = study.sim.sample_wave(wave, rng, questionnaire_order(study.cfg, study.codebook, wave))
    out = pd.DataFrame({"wave": wave, "resp_id": frame["person"].astype(str)})
    out["duration_sec"] = frame["duration_sec"].astype(float)
    for v, spec in study.codebook["variables"].items():
        if spec["kind"] == "demographic":
            out[v] = frame[v].astype(str)
        elif spec["kind"] == "question":
            col = frame[v] if v in frame else pd.Series(None, index=frame.index, dtype=object)
            col = col.where(col.notna() & (col != REFUSED))
            out[v] = col.astype("str").where(col.notna())
    return out


def replicate_wave(study: Study, wave: str, replicate: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estimate every question of one replicate sample, raked and unweighted.

    Returns
    -------
    estimates : DataFrame
        ``wave, replicate, method, question, category, estimate, se, ci_low, ci_high, n``
        with ``method`` ``raked`` (the workflow's estimator: raked weights, SEs that
        account for the raking) or ``unweighted``.
    sample : DataFrame
        The cleaned, raked sample (harmonised columns plus ``weight``).
    """
    seq = np.random.SeedSequence([study.seed, 7919, replicate, study.sim.waves.index(wave)])
    df = harmonised_sample(study, wave, np.random.default_rng(seq))
    df, _ = cleaning.clean_wave(df, study.cleaning[wave], study.codebook, wave=wave)
    variables = list(study.weighting["variables"])
    derived = {k: v for k, v in study.margins["derived"].items() if k in variables}
    df = add_derived_columns(df, derived)
    targets = {v: study.margins["targets"][v] for v in variables}
    df["weight"] = rake(
        df,
        targets,
        max_iter=int(study.weighting["max_iter"]),
        tol=float(study.weighting["tol"]),
        cap=study.weighting.get("cap"),
    ).to_numpy()
    level = float(study.estimation["level"])
    parts = []
    for q in study.questions:
        if df[q].notna().sum() == 0:
            continue
        raked = proportions(
            df, q, "weight", calibrated_on=variables, ci_method=study.estimation["ci_method"],
            level=level,
        )  # fmt: skip
        plain = proportions(df, q, None, ci_method=study.estimation["ci_method"], level=level)
        parts += [raked.assign(method="raked"), plain.assign(method="unweighted")]
        parts[-1]["question"] = parts[-2]["question"] = q
    out = pd.concat(parts, ignore_index=True).assign(wave=wave, replicate=replicate)
    cols = ["wave", "replicate", "method", "question", "category", "estimate", "se"]
    return out[[*cols, "ci_low", "ci_high", "n"]], df


def binomial_band(replicates: int, level: float = 0.95, band: float = 0.99) -> tuple[float, float]:
    """Central ``band`` range of the coverage rate of a correct ``level`` interval."""
    lo = stats.binom.ppf((1 - band) / 2, replicates, level) / replicates
    hi = stats.binom.ppf(1 - (1 - band) / 2, replicates, level) / replicates
    return float(lo), float(hi)


def summarise(
    estimates: pd.DataFrame,
    truth: pd.Series,
    *,
    kind: str,
    keys: Sequence[str],
    bounded: bool | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per-estimate bias, coverage and CI width over replicates.

    Parameters
    ----------
    estimates : DataFrame
        Replicate estimates with ``keys``, ``replicate``, ``estimate``, ``ci_low``,
        ``ci_high`` (and optionally ``method``).
    truth : Series
        Population truth indexed by ``keys``.
    kind : str
        Label of the estimate kind (e.g. ``topline``).
    bounded : bool, optional
        The estimate is a share: truths of exactly 0 or 1 are left out (their intervals are
        undefined by construction). Default: true except for the differences of
        :data:`pollwaves.validation.model_coverage.UNBOUNDED_KINDS`, whose estimates are kept
        whenever their truth is finite.
    level : float
        Confidence level of the intervals (``estimation.level``): the 99% band is that of a
        correct ``level`` interval.

    Returns
    -------
    DataFrame
        ``kind, method, <keys>, truth, replicates, mean_estimate, bias, coverage,
        mean_ci_width, band_low, band_high, outside_band``. Replicate estimates without a
        truth (e.g. of a model the population version does not select) are not counted, so
        ``replicates`` can be smaller than the number of replicates run.
    """
    from pollwaves.validation.model_coverage import UNBOUNDED_KINDS

    if bounded is None:
        bounded = kind not in UNBOUNDED_KINDS
    est = estimates.join(truth.rename("truth"), on=list(keys))
    if bounded:
        est = est[est["truth"].between(0, 1, inclusive="neither")]
    else:
        est = est[np.isfinite(est["truth"].to_numpy(float))]
    est = est.assign(
        covered=(est["ci_low"] <= est["truth"]) & (est["truth"] <= est["ci_high"]),
        width=est["ci_high"] - est["ci_low"],
    )
    if "method" not in est:
        est = est.assign(method="raked")
    g = est.groupby(["method", *keys], sort=True)
    out = g.agg(
        truth=("truth", "first"),
        replicates=("replicate", "nunique"),
        mean_estimate=("estimate", "mean"),
        coverage=("covered", "mean"),
        mean_ci_width=("width", "mean"),
    ).reset_index()
    out["bias"] = out["mean_estimate"] - out["truth"]
    bands = out["replicates"].map(lambda r: binomial_band(int(r), level))
    out["band_low"] = [b[0] for b in bands]
    out["band_high"] = [b[1] for b in bands]
    out["outside_band"] = (out["coverage"] < out["band_low"]) | (
        out["coverage"] > out["band_high"]
    )
    out.insert(0, "kind", kind)
    return out


def kind_summary(table: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per (kind, method): mean coverage, share outside the 99% band, bias, width.

    Also the lowest coverage of an estimate (``min_coverage``), the number of estimates
    outside their band (``n_outside_band``) and the ``band_level`` (0.99) binomial band
    ``band_low, band_high`` of a correct ``level`` interval for the kind's (fewest)
    ``replicates``: what the report prints beside the estimates. For kinds estimated both raked and unweighted, ``raked_bias_ok`` is the share of the
    estimates whose unweighted bias exceeds 1 pp that have a raked bias under 1 pp (target:
    all of them), over ``n_unweighted_biased`` such estimates.
    """
    g = table.groupby(["kind", "method"], sort=True)
    out = g.agg(
        estimates=("coverage", "size"),
        replicates=("replicates", "min"),
        mean_coverage=("coverage", "mean"),
        share_outside_band=("outside_band", "mean"),
        mean_abs_bias=("bias", lambda b: float(np.abs(b).mean())),
        max_abs_bias=("bias", lambda b: float(np.abs(b).max())),
        mean_ci_width=("mean_ci_width", "mean"),
        min_coverage=("coverage", "min"),
        n_outside_band=("outside_band", "sum"),
    ).reset_index()
    bands = [binomial_band(int(r), level) for r in out["replicates"]]
    out["band_low"] = [b[0] for b in bands]
    out["band_high"] = [b[1] for b in bands]
    out["band_level"] = 0.99
    keys = [c for c in table.columns if c in ("wave", "question", "category", "domain")]
    both_kinds = table.groupby("kind")["method"].nunique()
    paired = table[table["kind"].isin(both_kinds.index[both_kinds > 1])]
    raked = paired[paired["method"] == "raked"].set_index(["kind", *keys])["bias"]
    plain = paired[paired["method"] == "unweighted"].set_index(["kind", *keys])["bias"]
    both = pd.concat({"raked": raked, "plain": plain}, axis=1).dropna()
    biased = both[both["plain"].abs() > 0.01]
    ok = (biased["raked"].abs() < 0.01).groupby(level="kind").agg(["mean", "size"])
    out["raked_bias_ok"] = out["kind"].map(ok["mean"]).where(out["method"] == "raked")
    out["n_unweighted_biased"] = out["kind"].map(ok["size"]).where(out["method"] == "raked")
    return out


def run_replicate(
    study: Study, waves: Sequence[str], replicate: int, checks: Sequence[str] = ()
) -> dict[str, pd.DataFrame]:
    """One replicate of every wave: topline estimates plus the pooled model checks.

    ``checks`` are names of :data:`pollwaves.validation.model_coverage.CHECKS`; each runs
    the workflow's analysis function on the pooled raked samples of the replicate (waves are
    independent samples: pooled with wave strata) and returns its estimate kinds. A check
    that raises :class:`InputError` (e.g. separation in a small replicate) is counted in
    ``failures`` (``check, replicate, error``), not fatal.
    """
    from pollwaves.validation.model_coverage import CHECKS

    parts, samples = [], []
    for wave in waves:
        est, df = replicate_wave(study, wave, replicate)
        parts.append(est)
        samples.append(df)
    out = {"topline": pd.concat(parts, ignore_index=True)}
    pooled = pd.concat(samples, ignore_index=True)
    failures = []
    for name in checks:
        try:
            res = CHECKS[name][0](study, pooled)
        except InputError as err:
            failures.append({"check": name, "replicate": replicate, "error": str(err)})
            continue
        out |= {kind: est.assign(replicate=replicate) for kind, est in res.items()}
    out["failures"] = pd.DataFrame(failures, columns=["check", "replicate", "error"])
    return out
