"""Pieces shared by the design-based models: the Wald test result and formula parsing.

Used by :mod:`pollwaves.survey.glm` and :mod:`pollwaves.survey.mnlogit`, so that neither
imports the other.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pollwaves.errors import InputError

__all__ = ["WaldTest", "aliased_terms", "formula_columns", "rank_deficiency_error"]


@dataclass(frozen=True)
class WaldTest:
    """Design-based Wald test that a group of coefficients is zero (R ``regTermTest``).

    Attributes
    ----------
    terms : tuple of str
        The tested formula terms.
    f_stat : float
        ``chisq / df_num``, referred to F(``df_num``, ``df_denom``).
    df_num : int
        Number of tested coefficients.
    df_denom : float
        Denominator degrees of freedom (the design residual df unless overridden).
    p_value : float
        Upper-tail F probability (``regTermTest(fit, ~term)``).
    chisq : float
        Wald statistic ``b' V^-1 b``.
    p_value_chisq : float
        Upper-tail chi-square probability on ``df_num`` df (``regTermTest(..., df=Inf)``).
    """

    terms: tuple[str, ...]
    f_stat: float
    df_num: int
    df_denom: float
    p_value: float
    chisq: float
    p_value_chisq: float


def formula_columns(formula: str, columns: Sequence[str]) -> list[str]:
    """Data columns a formula refers to (bare names and ``Q("...")`` strings)."""
    toks = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    found = []
    for k, t in enumerate(toks):
        prev = toks[k - 1].string if k else ""
        if t.type == tokenize.NAME and prev != ".":
            found.append(t.string)
        elif t.type == tokenize.STRING and prev == "(" and k > 1 and toks[k - 2].string == "Q":
            found.append(t.string[1:-1])
    return [c for c in dict.fromkeys(found) if c in set(columns)]


def aliased_terms(
    x: np.ndarray, names: Sequence[str], term_slices: Mapping[str, slice]
) -> list[tuple[str, list[str], str]]:
    """The terms whose columns are not identified, in model-matrix order.

    Columns are taken left to right; a column is aliased when it adds nothing to the rank
    of the columns before it. Returns ``(term, columns, why)`` per term with an aliased
    column, ``why`` being ``"has no cases"`` (an all-zero column: a factor level that no
    complete row has) or ``"is collinear with earlier terms"``.
    """
    x = np.asarray(x, dtype=float)
    col_term = {}
    for term, sl in term_slices.items():
        for j in range(*sl.indices(x.shape[1])):
            col_term[j] = str(term)
    found: dict[str, tuple[list[str], set[str]]] = {}
    kept: list[int] = []
    rank = 0
    for j in range(x.shape[1]):
        r = int(np.linalg.matrix_rank(x[:, [*kept, j]]))
        if r > rank:
            kept.append(j)
            rank = r
            continue
        term = col_term.get(j, str(names[j]))
        cols, why = found.setdefault(term, ([], set()))
        cols.append(str(names[j]))
        why.add("has no cases" if not np.any(x[:, j]) else "is collinear with earlier terms")
    return [(t, cols, " and ".join(sorted(why))) for t, (cols, why) in found.items()]


def rank_deficiency_error(
    x: np.ndarray, names: Sequence[str], term_slices: Mapping[str, slice], formula: str
) -> InputError:
    """:class:`InputError` for a rank-deficient model matrix that names the aliased terms."""
    parts = [
        f"term {term} {why} (column{'s' if len(cols) > 1 else ''} {', '.join(cols)})"
        for term, cols, why in aliased_terms(x, names, term_slices)
    ]
    detail = "; ".join(parts) or "collinear terms or empty factor levels"
    return InputError(
        f"The model matrix is rank deficient: {detail}",
        value=formula,
        hint="drop or merge the aliased terms; a term not asked in some waves (all NA there) "
        "leaves those waves without complete rows: fit the waves that asked it",
    )
