"""Everything ``weight`` checks and does to a wave before raking it, shared with check-wave.

:func:`prepare_raking` applies the missing-value rule (``weighting.missing``: ``impute``,
``drop`` or ``fail``) to the raking source variables (``sex, age_group, education,
settlement``: the variables behind ``weighting.variables`` through ``derived_from`` in
``config/margins.yaml``), builds the derived raking columns (``sex_age``) and runs the
completeness and feasibility checks. :func:`raking_problems` runs the same steps and returns
every problem, for ``pollwaves check-wave``: when it finds none, ``weight`` will rake the
wave.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pollwaves import config
from pollwaves.errors import InputError
from pollwaves.intake.margins import add_derived_columns, load_margins
from pollwaves.survey.impute import hot_deck

__all__ = [
    "MISSING_RULES",
    "check_wave_raking",
    "prepare_raking",
    "raking_problems",
    "raking_setup",
    "wave_seed",
    "too_few_message",
]

PathLike = str | os.PathLike[str]

MISSING_RULES = ("impute", "drop", "fail")
"""Values of ``weighting.missing``."""

DEFAULTS = {"missing": "impute", "seed": 20240501, "min_respondents": 30}
"""Defaults of the optional ``weighting:`` settings (as in the config schema)."""


def wave_seed(seed: int, wave: str) -> list[int]:
    """Seed of one wave's hot deck: ``[seed, crc32(wave)]``, stable across runs and machines."""
    return [int(seed), zlib.crc32(str(wave).encode("utf-8"))]


def raking_setup(
    margins: Mapping[str, Any], variables: Sequence[str], *, file: str | None = None
) -> tuple[dict, dict, list[str]]:
    """Targets, derived columns and source variables of the raking variables.

    Parameters
    ----------
    margins : dict
        The result of :func:`pollwaves.intake.margins.load_margins`.
    variables : sequence of str
        ``weighting.variables``.
    file : str, optional
        The margins file, named in errors.

    Returns
    -------
    targets : dict
        ``{raking column: {category: total}}``.
    derived : dict
        ``{derived raking column: [source columns]}``.
    sources : list of str
        The variables of the harmonised frame behind the raking columns, in order.

    Raises
    ------
    InputError
        If a raking variable has no margin.
    """
    unknown = [v for v in variables if v not in margins["targets"]]
    if unknown:
        raise InputError(
            "Raking variable has no margin",
            value=unknown[0],
            file=file,
            hint=f"add it under margins: or remove it from weighting.variables; "
            f"margins: {list(margins['targets'])}",
        )
    targets = {v: margins["targets"][v] for v in variables}
    derived = {k: list(v) for k, v in margins["derived"].items() if k in targets}
    sources: list[str] = []
    for v in variables:
        sources += [s for s in derived.get(v, [v]) if s not in sources]
    return targets, derived, sources


def _ids(df: pd.DataFrame, mask: pd.Series) -> list[str]:
    col = "resp_id" if "resp_id" in df.columns else None
    rows = df.index[mask.to_numpy()]
    return [str(df.at[i, col]) if col else str(i) for i in rows]


def too_few_message(wave: str, n: int, min_n: int, detail: str = "") -> str:
    """The one sentence for a wave with fewer than ``min_n`` respondents."""
    return (
        f"wave {wave} has {n} respondent{'s' if n != 1 else ''} after cleaning{detail}; "
        f"weighting needs at least {min_n} (weighting.min_respondents)"
    )


def _run(
    df: pd.DataFrame,
    margins: Mapping[str, Any],
    settings: Mapping[str, Any],
    wave: str,
    file: str | None,
) -> tuple[pd.DataFrame | None, dict[str, Any], list[InputError]]:
    """The shared steps; stops at the first step with problems, returns them all."""
    opts = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    rule = str(opts["missing"])
    if rule not in MISSING_RULES:
        err = InputError(
            f"weighting.missing is {rule!r}",
            key="weighting.missing",
            hint=f"use one of {', '.join(MISSING_RULES)}",
        )
        return None, {}, [err]
    targets, derived, sources = raking_setup(margins, list(settings["variables"]), file=file)
    info: dict[str, Any] = {"sources": sources, "targets": targets, "derived": derived}
    if len(df) < int(opts["min_respondents"]):
        return (
            None,
            info,
            _feasibility(df, targets, derived, wave, file, int(opts["min_respondents"])),
        )
    problems: list[InputError] = []
    fix_map = f"map it in config/waves/{wave}.yaml, or drop it from weighting.variables"
    for var in sources:
        if var not in df.columns:
            problems.append(
                InputError(
                    f"raking variable {var!r} is not in the wave",
                    wave=wave,
                    column=var,
                    hint=fix_map,
                )  # fmt: skip
            )
        elif df[var].isna().all():
            problems.append(
                InputError(
                    f"all {len(df)} respondents of wave {wave} miss the raking variable "
                    f"{var!r}, so the wave cannot be raked",
                    wave=wave,
                    column=var,
                    hint=f"{fix_map} (a raking variable must be asked)",
                )
            )
    if problems:
        return None, info, problems
    missing = df[sources].isna()
    info["imputed"] = dict.fromkeys(sources, 0)
    info["dropped"] = dict.fromkeys(sources, 0)
    info["n_dropped"] = 0
    work = df
    if missing.to_numpy().any():
        if rule == "fail":
            for var in sources:
                ids = _ids(df, missing[var])
                if ids:
                    problems.append(
                        InputError(
                            f"{len(ids)} respondent(s) of wave {wave} miss the raking "
                            f"variable {var!r} (a refusal or missing code in the delivery; "
                            f"first: {ids[0]})",
                            wave=wave,
                            column=var,
                            respondent=ids[0],
                            value="NA",
                            hint="set weighting.missing: impute or drop in config/config.yaml, "
                            "or ask the vendor for the values",
                        )
                    )
            return None, info, problems
        if rule == "drop":
            info["dropped"] = {v: int(missing[v].sum()) for v in sources}
            keep = ~missing.any(axis=1)
            info["n_dropped"] = int((~keep).sum())
            work = df.loc[keep].reset_index(drop=True)
        else:
            work, mask = hot_deck(
                df, sources, seed=wave_seed(int(opts["seed"]), wave),
                id_column="resp_id" if "resp_id" in df.columns else None,
            )  # fmt: skip
            info["imputed"] = {v: int(mask[v].sum()) for v in sources}
    return (
        work,
        info,
        _feasibility(work, targets, derived, wave, file, int(opts["min_respondents"])),
    )


def _feasibility(
    df: pd.DataFrame,
    targets: Mapping[str, Mapping[str, float]],
    derived: Mapping[str, Sequence[str]],
    wave: str,
    file: str | None,
    min_n: int,
) -> list[InputError]:
    """Too few respondents; categories without a target; target categories not in the sample."""
    if len(df) < min_n:  # the cause; the empty categories would only be its consequences
        return [
            InputError(
                too_few_message(wave, len(df), min_n),
                wave=wave,
                value=len(df),
                hint=f"check the delivery and data/processed/cleaning/{wave}.csv (cleaning may "
                "have dropped most respondents), or lower weighting.min_respondents",
            )
        ]
    problems = []
    work = add_derived_columns(df, derived)
    for col, tgt in targets.items():
        source = f" (from {', '.join(derived[col])})" if col in derived else ""
        values = work[col].astype("string")
        counts = values.value_counts()
        for cat in sorted(set(counts.index) - {str(k) for k in tgt}):
            first = _ids(work, values == cat)[0]
            problems.append(
                InputError(
                    f"category {cat} of {col}{source} is in the sample of wave {wave} "
                    f"({int(counts[cat])} respondents) but has no target",
                    wave=wave,
                    file=file,
                    column=col,
                    respondent=first,
                    value=cat,
                    hint=f"add a target for {cat} under margins.{col} in config/margins.yaml, "
                    f"or recode it in config/waves/{wave}.yaml; targets: {list(tgt)}",
                )
            )
        for cat, total in tgt.items():
            if float(total) > 0 and str(cat) not in counts.index:
                problems.append(
                    InputError(
                        f"no respondent of wave {wave} in category {cat} of {col}{source}, "
                        "which has a target",
                        wave=wave,
                        file=file,
                        column=col,
                        value=str(cat),
                        hint="collapse the category with a neighbouring one in both the "
                        "margins (config/margins.yaml) and the codebook, or check the "
                        f"mapping of {col}{source} in config/waves/{wave}.yaml",
                    )
                )
    return problems


def prepare_raking(
    df: pd.DataFrame,
    margins: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    wave: str,
    file: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Apply the missing-value rule, derive the raking columns, check feasibility.

    Parameters
    ----------
    df : DataFrame
        The harmonised, cleaned wave.
    margins : dict
        The result of :func:`pollwaves.intake.margins.load_margins`.
    settings : dict
        ``weighting:`` of config/config.yaml (``variables``; optional ``missing``, ``seed``,
        ``min_respondents``).
    wave : str
        The wave id (seeds the hot deck and is named in errors).
    file : str, optional
        The margins file, named in errors.

    Returns
    -------
    work : DataFrame
        The wave with no missing raking source value (imputed, or respondents dropped;
        index reset when dropping) and the derived raking columns added.
    info : dict
        ``sources``, ``targets``, ``derived``, ``imputed`` and ``dropped`` (``{variable:
        count}``) and ``n_dropped`` (respondents dropped).

    Raises
    ------
    InputError
        The first problem :func:`raking_problems` would report.
    """
    work, info, problems = _run(df, margins, settings, wave, file)
    if problems:
        raise problems[0]
    return add_derived_columns(work, info["derived"]), info


def raking_problems(
    df: pd.DataFrame,
    margins: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    wave: str,
    file: str | None = None,
) -> list[InputError]:
    """Every problem :func:`prepare_raking` would stop at (empty: the wave can be raked)."""
    try:
        return _run(df, margins, settings, wave, file)[2]
    except InputError as exc:
        return [exc]


def check_wave_raking(df: pd.DataFrame, wave: str, root: PathLike) -> list[InputError]:
    """:func:`raking_problems` with the project's config/config.yaml and margins (check-wave).

    Parameters
    ----------
    df : DataFrame
        The harmonised, cleaned wave.
    wave : str
        The wave id.
    root : str or path-like
        The project root.

    Returns
    -------
    list of InputError
    """
    root = Path(root)
    try:
        cfg = config.load_yaml(root / "config" / "config.yaml")
        rel = str(cfg.get("margins", "config/margins.yaml"))
        margins = load_margins(root / rel, config.schema_dir(root) / "margins.schema.yaml")
    except InputError as exc:
        return [exc]
    return raking_problems(df, margins, cfg["weighting"], wave=wave, file=rel)
