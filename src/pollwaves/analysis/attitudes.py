"""Attitudes to countries by stance on the war, and loading the pooled waves.

The waves are independent samples of the urban adult population. Pooled analyses treat
each wave as a stratum with its respondents as PSUs and use the raked weights as *sampling
weights* (never frequency weights): R ``svydesign(ids=~1, strata=~wave, weights=~weight)``.
The pooled models are in :mod:`pollwaves.analysis.trends` (linear, natural-spline and wave
fixed-effects trends) and :mod:`pollwaves.analysis.subgroups` (the demographic model).

- :func:`load_pooled`, :func:`wave_mid_dates`: the stacked wave files and their fieldwork
  mid-dates.
- :func:`attitudes_by_stance`: per wave, shares with a good attitude to five countries by
  war stance, with Rao-Scott tests (R ``svyby(svyciprop)`` and ``svychisq``), raking-aware
  with ``calibrated_on``.
- :func:`stance_differences`: per wave, the share with a good attitude among war supporters
  minus that among opponents, with the design covariance of the two domain shares
  (raking-aware; R ``svyby(..., covmat=TRUE)`` + ``svycontrast``).

The respondent data of this project are SIMULATED.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from pollwaves import files
from pollwaves.analysis.model_waves import wave_coverage
from pollwaves.config import load_yaml, mid_date
from pollwaves.errors import InputError
from pollwaves.survey.design import check_columns
from pollwaves.survey.domains import domain_difference
from pollwaves.survey.estimation import proportions
from pollwaves.survey.raoscott import rao_scott

__all__ = [
    "COUNTRIES",
    "STANCES",
    "attitudes_by_stance",
    "load_pooled",
    "stance_differences",
    "wave_mid_dates",
]

COUNTRIES = {
    "russia": "attitude_russia",
    "ukraine": "attitude_ukraine",
    "poland": "attitude_poland",
    "eu": "attitude_eu",
    "usa": "attitude_usa",
}
STANCES = ("support", "partly", "oppose", "hard_to_say")
SHARE_COLUMNS = [
    "wave",
    "country",
    "question",
    "war_support",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "deff",
    "flag",
]
RS_COLUMNS = ["wave", "country", "question", "statistic", "df1", "df2", "p_value"]
DIFF_COLUMNS = ["wave", "country", "question", "group_a", "group_b", "estimate", "se", "df"]
DIFF_COLUMNS += ["ci_low", "ci_high", "n_a", "n_b", "simulated"]


def load_pooled(
    paths: Iterable[str | os.PathLike[str]], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Stack the weighted wave files (``data/processed/waves/*.parquet``) into one frame.

    With ``columns`` only those columns are read (the ones a file lacks are left out of it,
    as the stacking of whole files would leave them NA there): less to read and to hold.
    """
    frames = [files.read_parquet(p, columns) for p in sorted(map(str, paths))]
    if not frames:
        raise InputError("No wave files to pool", hint="run the pipeline (snakemake) first")
    return pd.concat(frames, ignore_index=True)


def wave_mid_dates(config_paths: Iterable[str | os.PathLike[str]]) -> dict[str, pd.Timestamp]:
    """``wave -> fieldwork mid-date`` from the wave mappings (``config/waves/*.yaml``)."""
    out = {}
    for path in sorted(map(str, config_paths)):
        spec = load_yaml(path, copy=False)  # read only
        fieldwork = spec["fieldwork"]
        out[str(spec["wave"])] = pd.Timestamp(mid_date([fieldwork["start"], fieldwork["end"]]))
    return out


def attitudes_by_stance(
    pooled: pd.DataFrame,
    *,
    weight: str = "weight",
    stance: str = "war_support",
    countries: Mapping[str, str] = COUNTRIES,
    category: str = "good",
    level: float = 0.95,
    calibrated_on: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Per wave: share with a good attitude to each country by war stance, and Rao-Scott F.

    Parameters
    ----------
    pooled : DataFrame
        The wave files stacked; each wave is analysed on its own (weights only, no strata:
        ``svydesign(ids=~1, weights=~weight)``). Waves without the stance question are skipped,
        as are countries not asked in a wave.
    weight : str
        Sampling-weight column (raked weights; *not* frequency weights).
    stance : str
        The grouping question (war support: support / partly / oppose / hard_to_say).
    countries : mapping
        ``country -> attitude column``.
    category : str
        The attitude category whose share is reported.
    level : float
        Confidence level of the intervals.
    calibrated_on : list of str, optional
        The raking columns of the weights (``weighting.variables``, derived columns added):
        each wave's design is then raked on them as the toplines (R ``calibrate(design,
        ~a + b + c, population, calfun="raking")``, equal base weights), so the share SEs
        and the Rao-Scott design effects account for the raking. ``None``: the raked weights
        are taken as plain sampling weights.

    Returns
    -------
    dict of DataFrame
        ``shares``: ``wave, country, question, war_support, estimate, se, ci_low, ci_high,
        n, deff, flag`` (:func:`pollwaves.survey.estimation.proportions` with ``by=stance``,
        R ``svyby(~I(x == "good"), ~war_support, design, svyciprop, method="logit")``; refusals
        of either question are excluded as domains); ``tests``: ``wave, country, question,
        statistic, df1, df2, p_value``, the second-order Rao-Scott F of stance x attitude
        (all attitude categories; :func:`pollwaves.survey.raoscott.rao_scott`, R
        ``svychisq(~war_support + x, design, statistic="F")``); ``waves``: the waves used
        and the items not asked (:func:`pollwaves.analysis.model_waves.wave_coverage`).

    Notes
    -----
    With ``calibrated_on`` the shares and their SEs equal the domain shares of
    :func:`stance_differences` (same design) and the tests are ``svychisq`` on the
    calibrated design: R uses the calibrated ``svymean`` covariance of the cell
    proportions, so the design effects change, the weighted table does not.
    """
    check_columns(pooled, ["wave", weight, stance, *countries.values(), *(calibrated_on or [])])
    cal = {"calibrated_on": list(calibrated_on) if calibrated_on else None}
    order = {s: k for k, s in enumerate(STANCES)}
    shares, tests = [], []
    for wave, wdf in pooled.groupby("wave", sort=True, observed=True):
        if wdf[stance].notna().sum() == 0:
            continue
        for country, col in countries.items():
            if wdf[col].notna().sum() == 0:
                continue
            props = proportions(wdf, col, weight, by=stance, level=level, **cal)
            good = props.loc[props["category"] == category].drop(columns="category")
            shares.append(good.assign(wave=wave, country=country, question=col))
            rs = rao_scott(wdf, stance, col, weight, **cal)
            f_row = rs.loc[rs["statistic"] == "F"].iloc[0]
            tests.append((wave, country, col, *f_row[["value", "df1", "df2", "p_value"]]))
    if not shares:
        raise InputError("The stance question was not asked in any wave", column=stance)
    out = pd.concat(shares, ignore_index=True).rename(columns={stance: "war_support"})
    country_rank = {c: k for k, c in enumerate(countries)}
    keys = pd.DataFrame(
        {
            "wave": out["wave"],
            "country": out["country"].map(country_rank),
            "stance": out["war_support"].map(order).fillna(len(order)),
        }
    )
    out = out.loc[keys.sort_values(list(keys.columns), kind="mergesort").index]
    cols = list(countries.values())
    return {
        "shares": out[SHARE_COLUMNS].reset_index(drop=True),
        "tests": pd.DataFrame(tests, columns=RS_COLUMNS),
        "waves": wave_coverage(pooled, "attitudes_by_stance", [stance, *cols], any_of=cols),
    }


def stance_differences(
    pooled: pd.DataFrame,
    simulated: Mapping[str, bool],
    *,
    weight: str = "weight",
    calibrated_on: Sequence[str] | None = None,
    stance: str = "war_support",
    groups: tuple[str, str] = ("support", "oppose"),
    countries: Mapping[str, str] = COUNTRIES,
    category: str = "good",
    level: float = 0.95,
) -> pd.DataFrame:
    """Per wave: share of ``category`` among ``groups[0]`` minus that among ``groups[1]``.

    Parameters
    ----------
    pooled : DataFrame
        The wave files stacked; each wave is its own design, ``svydesign(ids=~1,
        weights=~weight)`` raked on ``calibrated_on`` as the toplines (equal base weights).
    simulated : mapping
        ``wave -> simulated`` flag (from the wave files' metadata), written per row.
    weight : str
        Sampling-weight column (raked weights; *not* frequency weights).
    calibrated_on : list of str, optional
        The raking columns (``weighting.variables``, derived columns added): the SEs then
        account for the raking (:func:`pollwaves.survey.domains.domain_difference`). With
        ``None`` the plain weighted design of :func:`attitudes_by_stance` is used.
    stance, groups : str, (str, str)
        The domain question and the two domains compared (default: supporters minus
        opponents of the war).
    countries, category, level
        As :func:`attitudes_by_stance`.

    Returns
    -------
    DataFrame
        ``wave, country, question, group_a, group_b, estimate, se, df, ci_low, ci_high, n_a,
        n_b, simulated``: the difference with the covariance of the two domain shares of the
        same wave, the design df and a t interval. Refusals of either question are excluded
        as domains. Waves without the stance question, countries not asked and waves where a
        group has no respondent with an answer are left out (no row).
    """
    check_columns(pooled, ["wave", weight, stance, *countries.values(), *(calibrated_on or [])])
    rows = []
    for wave, wdf in pooled.groupby("wave", sort=True, observed=True):
        wdf = wdf.reset_index(drop=True)
        for country, col in countries.items():
            valid = wdf[col].notna() & wdf[stance].notna()
            if any(not (valid & (wdf[stance] == g)).any() for g in groups):
                continue
            res = domain_difference(wdf, col, category, stance, *groups, weight,
                                    calibrated_on=calibrated_on, level=level)  # fmt: skip
            rows.append({"wave": str(wave), "country": country, "question": col,
                         "group_a": groups[0], "group_b": groups[1],
                         **{k: res[k] for k in DIFF_COLUMNS[5:-1]},
                         "simulated": bool(simulated[str(wave)])})  # fmt: skip
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)
