"""Inputs of the poll average: fieldwork mid-dates and the published series.

:func:`published_series` turns the used published toplines of one series into the frame the
smoother (:func:`pollwaves.analysis.poll_average.poll_average`) takes, with the variance of a
published share from its N and the ASSUMED design effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey.design import check_columns

__all__ = ["PUBLISHED_QUALIFIERS", "fieldwork_mid_dates", "one_per_wave", "published_series"]

PUBLISHED_QUALIFIERS = ("exact", "approximate", "fraction")


def one_per_wave(rows: pd.DataFrame, problem: str) -> None:
    dup = rows["wave"].duplicated()
    if dup.any():
        raise InputError(problem, wave=str(rows.loc[dup, "wave"].iloc[0]), hint="one per wave")


def fieldwork_mid_dates(
    fieldwork: pd.DataFrame | Mapping[str, Sequence[Any]],
) -> dict[str, pd.Timestamp]:
    """Wave -> fieldwork mid-date (``start + (end - start) / 2``, may fall at noon).

    Parameters
    ----------
    fieldwork : DataFrame or mapping
        A table with ``wave, fieldwork_start, fieldwork_end`` (one date pair per wave), or
        a mapping wave -> ``[start, end]`` (as ``waves`` in ``config/simulation.yaml``).
    """
    if isinstance(fieldwork, pd.DataFrame):
        check_columns(fieldwork, ["wave", "fieldwork_start", "fieldwork_end"])
        pairs = fieldwork[["wave", "fieldwork_start", "fieldwork_end"]].drop_duplicates()
        one_per_wave(pairs, "Conflicting fieldwork dates")
        items = [(str(w), (s, e)) for w, s, e in pairs.itertuples(index=False)]
    else:
        items = [(str(w), tuple(se)) for w, se in fieldwork.items()]
    mids = {}
    for wave, pair in items:
        if len(pair) != 2:
            raise InputError("Fieldwork needs [start, end]", wave=wave, value=pair)
        start, end = pd.to_datetime(pd.Series(pair), errors="coerce").tolist()
        if pd.isna(start) or pd.isna(end) or end < start:
            raise InputError("Missing or reversed fieldwork dates", wave=wave, value=pair)
        mids[wave] = start + (end - start) / 2
    return mids


def published_series(
    published_used: pd.DataFrame, question: str, category: str, deff: float
) -> pd.DataFrame:
    """One published point estimate per wave, with an assumed design effect.

    Keeps rows with ``relation == "equals"``, ``qualifier`` in exact/approximate/fraction
    and no subgroup; ``estimate = value / 100``. The published numbers carry no variance,
    so ``var = deff * p (1 - p) / n_respondents`` is an ASSUMPTION stated by ``deff``.
    ``n_respondents`` is the conservative whole N of a qualified N (``>700`` -> 700), so the
    variance is conservative; rows without a published N (``n_qualifier`` unknown) carry no
    variance and are left out.

    Parameters
    ----------
    published_used : DataFrame
        Published toplines kept by :func:`pollwaves.published.select.select_published`.
    question, category : str
        Codebook question and category.
    deff : float
        Assumed design effect (> 0); no default on purpose: callers must state it.

    Returns
    -------
    DataFrame
        ``question, wave, domain, category, estimate, n, deff, fieldwork_start,
        fieldwork_end``, one row per wave, sorted by wave.
    """
    cols_fw = ["fieldwork_start", "fieldwork_end"]
    check_columns(published_used, ["wave", "n_respondents", "question", "category", *cols_fw])
    check_columns(published_used, ["relation", "value", "qualifier", "subgroup_variable"])
    if not (np.isfinite(deff) and deff > 0):
        raise InputError("deff must be a positive number", value=deff)
    pub = published_used
    sub = pub["subgroup_variable"].isna() | (pub["subgroup_variable"].astype(str) == "")
    rows = pub[
        (pub["question"] == question)
        & (pub["category"] == category)
        & (pub["relation"] == "equals")
        & pub["qualifier"].isin(PUBLISHED_QUALIFIERS)
        & sub
    ]
    if rows.empty:
        raise InputError("No published point estimate", value=(question, category))
    rows = rows[rows["n_respondents"].notna()]  # no published N: no variance, not smoothed
    if rows.empty:
        raise InputError(
            "No published point estimate with a published N", value=(question, category)
        )
    rows = rows.drop_duplicates(["wave", "value"])
    one_per_wave(rows, "Several published values for one wave")
    n = rows["n_respondents"].astype(float)
    if not (n > 0).all():
        wave = str(rows.loc[~(n > 0), "wave"].iloc[0])
        raise InputError("Missing or non-positive n_respondents", wave=wave)
    out = rows.assign(wave=rows["wave"].astype(str), domain="all", n=n, deff=float(deff))
    out["estimate"] = rows["value"].astype(float) / 100
    cols = ["question", "wave", "domain", "category", "estimate", "n", "deff"]
    return out[cols + cols_fw].sort_values("wave", ignore_index=True)
