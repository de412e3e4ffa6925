"""Too few respondents left to weight a wave, said in words (issue 14).

``check-wave`` and the harmonise stage call :func:`cleaning_outcome_problem` after cleaning,
so both say *why* a wave cannot be weighted (a header-only delivery, three respondents,
every interview a speeder) instead of the consequence (a raking category with nobody in
it). The weight stage gives the same first message (:mod:`pollwaves.intake.raking`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from pollwaves.config import load_yaml
from pollwaves.errors import InputError
from pollwaves.intake.cleaning import clean_wave, straightlining_items
from pollwaves.intake.harmonise import harmonise_with_raw
from pollwaves.intake.mapping import load_wave_config
from pollwaves.intake.raking import check_wave_raking, too_few_message
from pollwaves.intake.readers import Delivery

__all__ = ["cleaning_outcome_problem", "min_respondents", "predict_jobs"]

DEFAULT_MIN = 30


def min_respondents(root: str | os.PathLike[str]) -> int:
    """``weighting.min_respondents`` of ``<root>/config/config.yaml`` (default 30)."""
    path = Path(root) / "config" / "config.yaml"
    cfg = load_yaml(path) if path.is_file() else {}
    weighting = (cfg or {}).get("weighting") or {}
    value = weighting.get("min_respondents")
    return DEFAULT_MIN if value is None else int(value)


def _describe(step: str, rules: dict[str, Any]) -> str:
    if step == "speeders":
        return f"speeders (< {rules.get('min_duration_sec')} s)"
    if step == "straightliners":
        return "straight-liners (one answer on the whole grid)"
    return f"partial completes (answered share < {rules.get('min_completeness')})"


def cleaning_outcome_problem(
    log: pd.DataFrame, rules: dict[str, Any], *, wave: str, min_n: int, file: str | None = None
) -> InputError | None:
    """The problem of a wave left with fewer than ``min_n`` respondents, or None.

    Parameters
    ----------
    log : DataFrame
        The cleaning log (:func:`pollwaves.intake.cleaning.clean_wave`).
    rules : dict
        The ``cleaning`` block of the wave mapping (thresholds named in the message).
    wave : str
        The wave id.
    min_n : int
        ``weighting.min_respondents``.
    file : str, optional
        The delivery, named in the message.

    Returns
    -------
    InputError or None
    """
    total = log.loc[log["step"] == "total"].iloc[0]
    n0, n = int(total["n_before"]), int(total["n_after"])
    config = f"config/waves/{wave}.yaml"
    if n0 == 0:
        return InputError(
            "the delivery has no data rows (only a header)",
            wave=wave,
            file=file,
            hint="ask the vendor for the complete export (the upload may have been cut off)",
        )
    if n >= min_n:
        return None
    steps = log.loc[(log["step"] != "total") & (log["n_removed"] > 0)]
    removed = [(str(s), int(k)) for s, k in zip(steps["step"], steps["n_removed"], strict=True)]
    if n == 0 and len(removed) == 1:
        step, k = removed[0]
        problem = f"all {k} interviews were removed as {_describe(step, rules)}"
        hint = (
            f"check cleaning in {config} (is duration_sec in seconds? is the threshold "
            "right?) and the delivery's duration column"
            if step == "speeders"
            else f"check cleaning in {config} and the delivery"
        )
        return InputError(problem, wave=wave, file=file, value=k, hint=hint)
    detail = ""
    if removed:
        parts = ", ".join(f"{k} {_describe(s, rules)}" for s, k in removed)
        detail = f" (of {n0} delivered; removed: {parts})"
    hint = (
        f"check cleaning in {config} and data/processed/cleaning/{wave}.csv"
        if removed
        else "ask the vendor for the complete delivery"
    ) + ", or lower weighting.min_respondents in config/config.yaml"
    return InputError(
        too_few_message(wave, n, min_n, detail), wave=wave, file=file, value=n, hint=hint
    )


def predict_jobs(
    path: Path, delivery: Delivery, codebook: dict, required: list[str], root: Path, file: str
) -> list[InputError]:
    """What the harmonise and weight jobs of the wave would refuse (empty: they run).

    Parameters
    ----------
    path : pathlib.Path
        The wave mapping.
    delivery : Delivery
        The delivery, read.
    codebook : dict
        The loaded codebook.
    required : list of str
        Variables the wave must map.
    root : pathlib.Path
        The project root.
    file : str
        The delivery path as named in the mapping.

    Returns
    -------
    list of InputError
    """
    wave = path.stem
    schema_path = root / "workflow" / "schemas" / "wave.schema.yaml"
    try:
        cfg = load_wave_config(path, schema_path, codebook, required=required)
        rules = cfg.get("cleaning", {})
        frame, raw = harmonise_with_raw(
            delivery, cfg, codebook, file=file, raw_codes=straightlining_items(rules)
        )
        kept, log = clean_wave(frame, rules, codebook, wave=wave, raw_codes=raw)
        few = cleaning_outcome_problem(
            log, rules, wave=wave, min_n=min_respondents(root), file=file
        )
    except InputError as exc:
        return [exc]
    if few is not None:  # the cause, not its consequences (empty raking cells)
        return [few]
    return check_wave_raking(kept, wave, root)
