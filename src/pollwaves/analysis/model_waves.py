"""Which waves each pooled model uses: a wave enters a model only if it asked every term.

A wave may lack any demographic or question other than the raking sources: its column in
``data/processed/waves/{wave}.parquet`` is then all NA ("not asked"). A pooled model needs
every one of its terms in every wave it pools (a wave without the term would be dropped
whole by the complete-case rule and leave an empty wave level, i.e. a rank-deficient model
matrix). So each model uses the waves that asked all its terms and names the others, with
the reason, in ``reports/tables/model_waves.csv``. Respondents with a refusal (NA) on a term
in a wave that asked it are handled as before: they are left out of the fit (complete
cases) but stay in the design.

- :func:`model_terms`: the terms (outcome first) of each pooled model, from the ``models``
  block of config.yaml.
- :func:`wave_coverage`: one row per wave: used, the terms not asked, the reason.
- :func:`select_waves`: the rows of the used waves and their coverage rows; an
  :class:`~pollwaves.errors.InputError` naming the term and the waves when too few remain.
- :func:`coverage_table`: ``model_waves.csv`` for every pooled model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey.design import check_columns

__all__ = [
    "MODEL_WAVES_COLUMNS",
    "check_estimable",
    "coverage_table",
    "exclusion_note",
    "exclusion_notes",
    "model_terms",
    "select_waves",
    "wave_coverage",
]

MODEL_WAVES_COLUMNS = ["model", "outcome", "wave", "used", "not_asked", "reason"]
#: model -> what its table rows say when a wave is left out
MODEL_NAMES = {
    "trend": "trend models",
    "subgroup": "subgroup model",
    "alliance": "alliance model",
    "attitudes_by_stance": "attitudes-by-stance comparison",
}
ATTITUDE_COLUMNS = ("attitude_russia", "attitude_ukraine", "attitude_poland", "attitude_eu",
                    "attitude_usa")  # fmt: skip


def model_terms(settings: Mapping[str, Any]) -> dict[str, list[str]]:
    """The variables of each pooled model, outcome first (``models`` block of config.yaml).

    ``trend``: war support on time; ``subgroup``: war support on the wave and
    ``settings["subgroups"]``; ``alliance``: alliance preference on the same; and
    ``attitudes_by_stance``: the stance question and the five country attitudes (compared
    per wave and country, so a wave is used when it asked the stance and any country).
    """
    subgroups = [str(v) for v in settings.get("subgroups", [])]
    return {
        "trend": ["war_support"],
        "subgroup": ["war_support", *subgroups],
        "alliance": ["alliance", *subgroups],
        "attitudes_by_stance": ["war_support", *ATTITUDE_COLUMNS],
    }


def _asked(pooled: pd.DataFrame, terms: Sequence[str]) -> pd.DataFrame:
    """``wave x term`` booleans: the term has at least one answer in the wave."""
    check_columns(pooled, ["wave", *terms])
    waves = pooled["wave"].astype(str)
    return pooled[list(terms)].notna().groupby(waves, sort=True).any()


def wave_coverage(
    pooled: pd.DataFrame, model: str, terms: Sequence[str], *, any_of: Sequence[str] = ()
) -> pd.DataFrame:
    """One row per wave of ``pooled``: does ``model`` use it, and if not, why.

    Parameters
    ----------
    pooled : DataFrame
        The wave files stacked: ``wave`` and the ``terms`` columns.
    model : str
        Model name (a key of :data:`MODEL_NAMES`, or any label).
    terms : list of str
        The model's variables, outcome first. A term entirely NA in a wave is "not asked".
    any_of : list of str
        Terms of which one is enough (the others are left out of that wave's comparison);
        a wave that asked none of them is not used.

    Returns
    -------
    DataFrame
        ``model, outcome, wave, used, not_asked, reason``: ``not_asked`` the terms not asked
        (``; ``-separated, empty if none); ``reason`` says why the wave is left out (or,
        for ``any_of`` terms, which parts are), empty when the wave is used in full.
    """
    terms = list(dict.fromkeys(terms))
    asked = _asked(pooled, terms)
    name = MODEL_NAMES.get(model, model)
    rows = []
    for wave, row in asked.iterrows():
        missing = [t for t in terms if not row[t]]
        hard = [t for t in missing if t not in any_of]
        used = not hard and not (any_of and all(t in missing for t in any_of))
        if used and missing:
            reason = f"{', '.join(missing)} not asked in this wave; left out of the {name} there"
        elif not used:
            what = ", ".join(hard or list(any_of))
            verb = "is" if len(hard) == 1 else "are"
            reason = f"{what} {verb} not asked in this wave; the wave is left out of the {name}"
            if not hard:
                reason = (
                    f"none of {what} is asked in this wave; the wave is left out of the {name}"
                )
        else:
            reason = ""
        rows.append((model, terms[0], str(wave), used, "; ".join(missing), reason))
    return pd.DataFrame(rows, columns=MODEL_WAVES_COLUMNS)


def exclusion_notes(coverage: pd.DataFrame) -> list[str]:
    """One sentence per model and term naming the waves that lack the term.

    E.g. ``media_diet is not asked in waves 2024-05, 2024-07; those waves are left out of
    the subgroup model``. Waves that did not ask the model's outcome are not named (there
    is nothing to model in them); for a wave used in part (``any_of`` terms) the sentence
    says the term is left out there. Empty when every wave that asked the outcome is used
    in full.
    """
    notes = []
    for model, cov in coverage.groupby("model", sort=False):
        outcome = str(cov["outcome"].iloc[0])
        name = MODEL_NAMES.get(str(model), str(model))
        by_term: dict[tuple[str, bool], list[str]] = {}
        for r in cov.itertuples(index=False):
            terms = [t for t in str(r.not_asked).split("; ") if t and str(r.not_asked) != "nan"]
            if outcome in terms:
                continue  # the outcome itself was not asked: nothing to model in that wave
            for t in terms:
                by_term.setdefault((t, str(r.used) == "True"), []).append(str(r.wave))
        for (term, used), waves in by_term.items():
            one = len(waves) == 1
            head = f"{term} is not asked in wave{'' if one else 's'} {', '.join(waves)}; "
            if used:
                notes.append(head + f"it is left out of the {name} there")
            else:
                what = "that wave is" if one else "those waves are"
                notes.append(head + f"{what} left out of the {name}")
    return notes


def exclusion_note(coverage: pd.DataFrame) -> str:
    """:func:`exclusion_notes` joined into one text (``""`` when there are none)."""
    return ". ".join(exclusion_notes(coverage))


def select_waves(
    pooled: pd.DataFrame,
    model: str,
    terms: Sequence[str],
    *,
    min_waves: int = 1,
    any_of: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the waves that ``model`` can use, and the coverage rows of every wave.

    Parameters
    ----------
    pooled : DataFrame
        The wave files stacked.
    model : str
        Model name (for the coverage rows and messages).
    terms : list of str
        The model's variables, outcome first.
    min_waves : int
        Fewest waves the model needs; fewer is an :class:`InputError` that names each term
        not asked and the waves lacking it.
    any_of : list of str
        See :func:`wave_coverage`.

    Returns
    -------
    (DataFrame, DataFrame)
        ``pooled`` restricted to the used waves (index reset) and :func:`wave_coverage`.
    """
    cov = wave_coverage(pooled, model, terms, any_of=any_of)
    used = set(cov.loc[cov["used"], "wave"])
    if len(used) < min_waves:
        name = MODEL_NAMES.get(model, model)
        note = exclusion_note(cov) or f"{terms[0]} is asked in {len(used)} wave(s)"
        raise InputError(
            f"The {name} needs at least {min_waves} waves that asked every one of its terms "
            f"({', '.join(terms)}); {len(used)} remain: {note}",
            value=sorted(used),
            hint="add waves that asked these items, or drop the term from `models.subgroups` "
            "in config/config.yaml",
        )
    keep = pooled["wave"].astype(str).isin(used)
    return pooled.loc[keep].reset_index(drop=True), cov


def coverage_table(pooled: pd.DataFrame, settings: Mapping[str, Any]) -> pd.DataFrame:
    """``reports/tables/model_waves.csv``: :func:`wave_coverage` of every pooled model.

    Uses :func:`model_terms`, the same terms the model stages select their waves with.
    """
    parts = []
    for model, terms in model_terms(settings).items():
        any_of = ATTITUDE_COLUMNS if model == "attitudes_by_stance" else ()
        parts.append(wave_coverage(pooled, model, terms, any_of=any_of))
    return pd.concat(parts, ignore_index=True)[MODEL_WAVES_COLUMNS]


def check_estimable(
    data: pd.DataFrame, model: str, outcome: str, variables: Sequence[str]
) -> None:
    """Each factor needs two levels among the complete cases; else an :class:`InputError`.

    A factor with one level left (after the complete-case rule) has no contrast to
    estimate; the message names the term, the level and the waves, instead of a
    rank-deficiency error of the model matrix.
    """
    complete = data[[outcome, *variables]].notna().all(axis=1)
    waves = sorted(set(data.loc[complete, "wave"].astype(str).unique()))
    for v in variables:
        levels = sorted(set(data.loc[complete, v].dropna().astype(str).unique()))
        if len(levels) < 2:
            raise InputError(
                f"{v} cannot be estimated in the {MODEL_NAMES.get(model, model)}: among the "
                f"respondents with every term answered (waves {', '.join(waves)}) it has "
                f"{len(levels)} level(s), so no contrast between levels is identified",
                column=v,
                value=levels,
                hint=f"drop {v} from `models.subgroups` in config/config.yaml, or merge its "
                "categories in the codebook",
            )
