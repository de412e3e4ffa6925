"""Pieces shared by the design-based models: the Wald test result and formula parsing.

Used by :mod:`pollwaves.survey.glm` and :mod:`pollwaves.survey.mnlogit`, so that neither
imports the other.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["WaldTest", "formula_columns"]


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
