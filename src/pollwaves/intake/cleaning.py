"""Data-quality cleaning of a harmonised wave: speeders, straight-liners, partial completes.

:func:`clean_wave` is a pure function: it returns the kept rows and a per-step log and
neither prints nor mutates its input. Straight-lining compares the raw answer codes of the
grid (:func:`pollwaves.intake.harmonise.harmonise_with_raw`), in the questionnaire's own
scale: "rather good" and "good" are different answers although both are ``good``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pollwaves.config import variables_by_kind
from pollwaves.errors import InputError

__all__ = ["LOG_COLUMNS", "STEPS", "clean_wave", "straightlining_items"]

#: Columns of the cleaning log, in order. ``n_flagged`` counts rows flagged but kept
#: (only ``duration_missing``: interviews without a duration, which are never dropped).
LOG_COLUMNS = ["wave", "step", "n_before", "n_removed", "n_after", "n_flagged"]
#: Rows of the cleaning log, in order.
STEPS = ["speeders", "duration_missing", "straightliners", "partial_completes", "total"]


def _require(df: pd.DataFrame, cols: list[str], key: str, wave: str) -> None:
    absent = [c for c in cols if c not in df.columns]
    if absent:
        raise InputError(
            f"column {absent[0]!r} is not in the harmonised frame",
            wave=wave,
            column=absent[0],
            key=key,
            hint="harmonise the wave with the same codebook before cleaning",
        )


def _speeders(df: pd.DataFrame, cfg: dict, wave: str) -> tuple[pd.Series, int]:
    """Rows to drop (duration below the minimum) and the number of NA durations."""
    _require(df, ["duration_sec"], "cleaning.min_duration_sec", wave)
    duration = pd.to_numeric(df["duration_sec"], errors="raise").astype("float64")
    n_missing = int(duration.isna().sum())
    minimum = cfg.get("min_duration_sec")
    if minimum is None:
        return pd.Series(False, index=df.index), n_missing
    drop = duration.lt(float(minimum)).fillna(False).astype(bool)
    return drop, n_missing


def straightlining_items(cleaning_cfg: dict[str, Any] | None) -> list[str]:
    """Return the grid variables of the straight-lining rule (empty when it is off).

    Parameters
    ----------
    cleaning_cfg : dict or None
        The ``cleaning`` section of the wave configuration.

    Returns
    -------
    list of str
        ``cleaning.straightlining.variables``: the variables whose raw codes
        :func:`clean_wave` needs.
    """
    rule = (cleaning_cfg or {}).get("straightlining") or {}
    return [str(v) for v in rule.get("variables") or []]


def _grid_answers(
    df: pd.DataFrame, raw_codes: pd.DataFrame | None, items: list[str], wave: str
) -> pd.DataFrame:
    """The answers compared: raw codes of the rows of ``df`` (matched by resp_id)."""
    if raw_codes is None:
        return df[items]
    key = "cleaning.straightlining.variables"
    _require(raw_codes, ["resp_id", *items], key, wave)
    raw = raw_codes.drop_duplicates("resp_id").set_index("resp_id")
    absent = ~df["resp_id"].isin(raw.index)
    if absent.any():
        rid = str(df.loc[absent, "resp_id"].iloc[0])
        raise InputError(
            "respondent has no raw answer codes",
            wave=wave,
            respondent=rid,
            key=key,
            hint="pass the raw codes returned with the harmonised frame (harmonise_with_raw)",
        )
    answers = raw.loc[df["resp_id"].to_numpy(), items].set_axis(df.index)
    # an answer counts only where the harmonised value is not missing
    return answers.where(df[items].notna().to_numpy())


def _straightliners(
    df: pd.DataFrame, cfg: dict, wave: str, raw_codes: pd.DataFrame | None
) -> pd.Series:
    """Rows whose answered grid items (>= min_items of them) have one raw code."""
    rule = cfg.get("straightlining")
    if not rule:
        return pd.Series(False, index=df.index)
    items = list(rule["variables"])
    _require(df, items, "cleaning.straightlining.variables", wave)
    if df.empty:
        return pd.Series(False, index=df.index)
    answers = _grid_answers(df, raw_codes, items, wave)
    mask = answers.notna().to_numpy()
    codes = answers.to_numpy(dtype=object)
    codes[~mask] = None
    # one distinct answered code (nunique == 1): every answer equals the row's first one
    first = codes[np.arange(len(codes)), mask.argmax(axis=1)]
    same = ((codes == first[:, None]) | ~mask).all(axis=1) & mask.any(axis=1)
    answered = mask.sum(axis=1)
    return pd.Series((answered >= int(rule["min_items"])) & same, index=df.index)


def _partials(
    df: pd.DataFrame, whole: pd.DataFrame, cfg: dict, codebook: dict, wave: str
) -> pd.Series:
    """Rows whose answered share of this wave's questions is below min_completeness.

    A question is asked in the wave when ``whole`` (the uncleaned wave) has an answer.
    """
    minimum = cfg.get("min_completeness")
    questions = variables_by_kind(codebook, "question")
    _require(whole, questions, "variables", wave)
    asked = [q for q in questions if whole[q].notna().any()]
    if minimum is None or not asked or df.empty:
        return pd.Series(False, index=df.index)
    share = df[asked].notna().sum(axis=1) / len(asked)
    return share < float(minimum)


def clean_wave(
    df: pd.DataFrame,
    cleaning_cfg: dict[str, Any],
    codebook: dict,
    *,
    wave: str,
    raw_codes: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop speeders, straight-liners and partial completes from a harmonised wave.

    Steps, in order (each applied to the rows kept by the previous one):

    1. ``speeders``: ``duration_sec < min_duration_sec``. Interviews without a duration
       are kept and counted in the ``duration_missing`` log row (``n_flagged``).
    2. ``straightliners``: all answered items of the grid ``straightlining.variables``
       have the same raw answer code (``raw_codes``), when at least
       ``straightlining.min_items`` of them are answered (``hard_to_say`` is an answer; a
       refusal is not). Different raw codes of one category ("rather good", "good") are
       different answers.
    3. ``partial_completes``: answered share of the questions asked in this wave below
       ``min_completeness``. A question is asked in the wave when it has at least one
       non-NA answer; ``hard_to_say`` counts as answered, NA does not.

    A rule set to ``null`` in the configuration is skipped (0 removed).

    Parameters
    ----------
    df : pandas.DataFrame
        The harmonised wave frame (:func:`pollwaves.intake.harmonise.harmonise_wave`).
    cleaning_cfg : dict
        The ``cleaning`` section of the wave configuration.
    codebook : dict
        The loaded codebook.
    wave : str
        The wave id (first column of the log).
    raw_codes : pandas.DataFrame, optional
        ``resp_id`` and the raw answer codes of the grid items (the second result of
        :func:`pollwaves.intake.harmonise.harmonise_with_raw`, requested with
        :func:`straightlining_items`). Without it the harmonised categories are compared,
        for frames that have no delivery behind them (e.g. simulated samples drawn in
        the harmonised layout).

    Returns
    -------
    kept : pandas.DataFrame
        The kept rows, in input order, with a fresh ``RangeIndex``.
    log : pandas.DataFrame
        One row per step (``STEPS``) with columns ``LOG_COLUMNS``; the last row, ``total``,
        has the initial and final counts.

    Raises
    ------
    InputError
        If a column needed by a rule is missing from ``df`` or ``raw_codes``, or a
        respondent of ``df`` has no raw codes (names the respondent id).
    """
    rows: list[dict[str, Any]] = []
    n_start = len(df)
    current = df

    def _log(step: str, drop: pd.Series, flagged: int = 0) -> pd.DataFrame:
        n_before = len(current)
        kept = current.loc[~drop.to_numpy(dtype=bool)]
        rows.append(
            {
                "wave": wave,
                "step": step,
                "n_before": n_before,
                "n_removed": n_before - len(kept),
                "n_after": len(kept),
                "n_flagged": flagged,
            }
        )
        return kept

    drop, n_missing = _speeders(current, cleaning_cfg, wave)
    current = _log("speeders", drop)
    current = _log("duration_missing", pd.Series(False, index=current.index), n_missing)
    current = _log("straightliners", _straightliners(current, cleaning_cfg, wave, raw_codes))
    current = _log("partial_completes", _partials(current, df, cleaning_cfg, codebook, wave))
    rows.append(
        {
            "wave": wave,
            "step": "total",
            "n_before": n_start,
            "n_removed": n_start - len(current),
            "n_after": len(current),
            "n_flagged": n_missing,
        }
    )
    log = pd.DataFrame(rows, columns=LOG_COLUMNS)
    log["wave"] = log["wave"].astype("str")
    log["step"] = log["step"].astype("str")
    for col in LOG_COLUMNS[2:]:
        log[col] = log[col].astype("int64")
    return current.reset_index(drop=True), log
