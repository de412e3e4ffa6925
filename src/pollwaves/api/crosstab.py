"""Crosstabs as SPSS Custom Tables users expect them: column %, intervals, tests, letters.

:func:`crosstab_frame` tabulates one sample (one wave) with *sampling* weights (never
frequency weights): the column percentages of ``variable`` within each category of ``by``
with design-based (raking-aware) intervals, ``n`` and weighted N per column, the Rao-Scott
test of independence (:func:`pollwaves.survey.raoscott.rao_scott`) and significance letters
for the column pairs that differ (:func:`pollwaves.survey.domains.domain_difference`,
Holm-adjusted within a row).

Letter convention (SPSS Custom Tables, "Compare column proportions"): every column gets a
letter (A, B, C, ... in the order of the ``by`` categories). For each answer (row) and each
pair of columns the two column shares are compared with a two-sided design-based t test of
their difference (the covariance of the two domain shares of one sample included); the
p-values of the pairs of one row are Holm-adjusted. When a pair differs at ``alpha = 1 -
level``, the letter of the column with the SMALLER share is written in the cell of the
column with the LARGER share. So "45.0 BC" in column A means column A's share is
significantly larger than the shares in columns B and C.
"""

from __future__ import annotations

import inspect
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.api import output
from pollwaves.errors import InputError
from pollwaves.survey.design import check_columns
from pollwaves.survey.differences import holm_adjusted as holm
from pollwaves.survey.domains import domain_difference
from pollwaves.survey.estimation import proportions
from pollwaves.survey.raoscott import rao_scott
from pollwaves.survey.weighting import sampling_weights

__all__ = ["Crosstab", "crosstab_frame", "holm", "letters_for", "supported_keywords"]

TABLE_COLUMNS = [
    "by_category",
    "column",
    "category",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "n",
    "weighted_n",
    "n_eff",
    "deff",
    "flag",
    "letters",
]

PAIR_COLUMNS = [
    "category",
    "by_a",
    "by_b",
    "column_a",
    "column_b",
    "estimate",
    "se",
    "df",
    "p_value",
    "p_holm",
    "significant",
]


def column_letters(n: int) -> list[str]:
    """``A, B, ..., Z, AA, AB, ...`` for ``n`` columns."""
    letters = list(string.ascii_uppercase)
    out = []
    for i in range(n):
        out.append(letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26])
    return out


def letters_for(
    shares: Sequence[float], pairs: Sequence[tuple[int, int]], p_adj: Sequence[float], alpha
) -> list[str]:
    """Per column, the letters of the columns with a significantly smaller share."""
    marks: list[list[int]] = [[] for _ in shares]
    for (i, j), p in zip(pairs, p_adj, strict=True):
        if np.isfinite(p) and p < alpha:
            big, small = (i, j) if shares[i] > shares[j] else (j, i)
            marks[big].append(small)
    names = column_letters(len(shares))
    return ["".join(names[k] for k in sorted(m)) for m in marks]


def crosstab_frame(
    df: pd.DataFrame,
    variable: str,
    by: str,
    weight: str | None,
    *,
    calibrated_on: Sequence[str] | None = None,
    base_weight: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    level: float = 0.95,
    ci_method: str = "logit",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Column percentages of ``variable`` within the categories of ``by``, with tests.

    Parameters
    ----------
    df : DataFrame
        One sample (one wave), one row per respondent; all rows define the design. Rows with
        a missing ``variable`` or ``by`` are excluded as a domain (zero contribution).
    variable, by : str
        Row and column variables (categorical; categorical order, else sorted).
    weight : str or None
        Sampling-weight column (raked weights); ``None``: equal weights.
    calibrated_on, base_weight : optional
        Raking columns and base weights, for raking-aware SEs (see
        :func:`pollwaves.survey.estimation.proportions`). Passed to the Rao-Scott test only
        if :func:`pollwaves.survey.raoscott.rao_scott` accepts ``calibrated_on``.
    strata, psu : str, optional
        Design columns.
    level : float
        Confidence level; the letters use ``alpha = 1 - level``.
    ci_method : str
        Interval method of :func:`pollwaves.survey.estimation.proportions`.

    Returns
    -------
    (table, tests, pairs)
        ``table``: one row per column x answer with :data:`TABLE_COLUMNS` (shares on the 0-1
        scale; ``n`` the column's unweighted valid answers, ``weighted_n`` their weight sum,
        ``flag`` the NCHS presentation flags, ``letters`` as the module docstring says).
        ``tests``: :func:`rao_scott`'s rows plus ``calibrated`` (whether the test's
        covariance accounts for the raking). ``pairs``: one row per answer and column pair
        ``a < b``: ``category, by_a, by_b, column_a, column_b, estimate`` (``p_a - p_b``),
        ``se, df, p_value`` (two-sided), ``p_holm`` (Holm within the answer) and
        ``significant`` (``p_holm < 1 - level``).

    Notes
    -----
    Matches R ``svyby(~factor(y), ~by, design, svymean)`` for the shares and SEs and
    ``svychisq(~y + by, design)`` for the test.
    """
    check_columns(df, [variable, by])
    if df[variable].notna().sum() == 0:
        raise InputError("no valid answer", column=variable)
    common = {"calibrated_on": calibrated_on, "base_weight": base_weight}
    design = {"strata": strata, "psu": psu}
    ok = df[[variable, by]].notna().all(axis=1)
    data = df.assign(**{variable: df[variable].where(ok), by: df[by].where(ok)})
    props = proportions(
        data, variable, weight, by=by, ci_method=ci_method, level=level, **design, **common
    )
    cols = list(dict.fromkeys(props[by].tolist()))
    if len(cols) < 2:
        raise InputError("a crosstab needs at least two columns with answers", column=by)
    w = sampling_weights(data, weight)
    wn = pd.Series(w[ok.to_numpy()], index=data.loc[ok, by].astype(object)).groupby(level=0).sum()
    names = column_letters(len(cols))
    pairs = list(combinations(range(len(cols)), 2))
    props["column"] = props[by].map(dict(zip(cols, names, strict=True)))
    props["weighted_n"] = props[by].map(wn).astype(float)
    props["letters"] = ""
    pair_rows = []
    for cat in dict.fromkeys(props["category"].tolist()):
        rows = props.index[props["category"] == cat]
        share = dict(zip(props.loc[rows, by], props.loc[rows, "estimate"], strict=True))
        pvals, found = [], []
        for i, j in pairs:
            d = domain_difference(
                data, variable, cat, by, cols[i], cols[j], weight, level=level, **design, **common
            )
            pg = d["p_greater"]
            pvals.append(2 * min(pg, 1 - pg) if np.isfinite(pg) else np.nan)
            found.append((cols[i], cols[j], names[i], names[j], d["estimate"], d["se"], d["df"]))
        p_adj = holm(pvals)
        for rec, p, pa in zip(found, pvals, p_adj, strict=True):
            pair_rows.append((cat, *rec, p, pa, bool(np.isfinite(pa) and pa < 1 - level)))
        marks = letters_for([share[c] for c in cols], pairs, p_adj, 1 - level)
        props.loc[rows, "letters"] = props.loc[rows, by].map(dict(zip(cols, marks, strict=True)))
    table = props.rename(columns={by: "by_category"})[TABLE_COLUMNS]
    params = _rs_keywords(calibrated_on, base_weight)
    tests = rao_scott(data, variable, by, weight, **design, **params)
    pair_table = pd.DataFrame(pair_rows, columns=PAIR_COLUMNS)
    return table.reset_index(drop=True), tests.assign(calibrated=bool(params)), pair_table


def supported_keywords(func: Any, **kwargs: Any) -> dict[str, Any]:
    """The keyword arguments ``func`` accepts (by its signature), the others dropped.

    Lets the API pass ``calibrated_on=`` / ``calibration_by=`` to estimators that have them
    and still work with versions that do not.
    """
    params = inspect.signature(func).parameters
    return {k: v for k, v in kwargs.items() if k in params}


def _rs_keywords(calibrated_on, base_weight) -> dict[str, Any]:
    """Calibration keywords for :func:`rao_scott`, if its signature has them."""
    if not calibrated_on:
        return {}
    return supported_keywords(rao_scott, calibrated_on=calibrated_on, base_weight=base_weight)


@dataclass
class Crosstab:
    """The crosstab of one variable by another in one or more waves.

    Attributes
    ----------
    table : DataFrame
        Long table: ``wave``, :data:`TABLE_COLUMNS`, ``simulated`` (shares on the 0-1 scale).
    tests : DataFrame
        Rao-Scott tests per wave (:func:`pollwaves.survey.raoscott.rao_scott` columns,
        ``calibrated``, ``wave``, ``simulated``).
    pairs : DataFrame
        The column-pair difference tests behind the letters (``wave``, :data:`PAIR_COLUMNS`).
    skipped : list of str
        Waves of the design without a valid answer (question not asked there).
    """

    project: Any
    variable: str
    by: str
    level: float
    table: pd.DataFrame
    tests: pd.DataFrame
    pairs: pd.DataFrame
    domain: str | None = None
    skipped: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """The long table with labels and the Rao-Scott F test per wave (CSV layout)."""
        return output.tidy_crosstab(self)

    def text(self) -> str:
        """A readable plain-text table per wave (what ``pollwaves crosstab`` prints)."""
        return output.crosstab_text(self)

    def to_csv(self, path) -> None:
        """Write :meth:`tidy` as CSV (atomically; text cells escaped against formulas)."""
        output.write_csv(self.tidy(), path)

    def to_xlsx(self, path) -> None:
        """Write one formatted sheet per wave plus the tidy table (openpyxl, atomic)."""
        output.write_crosstab_xlsx(self, path)
