"""Collapse respondents to the distinct patterns of a model's variables (sufficient statistics).

When every term of a model is categorical (or takes few values), the rows take few distinct
patterns of (response, covariates). The weighted pseudo-likelihood, its score and its
information are then sums over these cells with the summed *sampling weights* (never
frequency weights) of their rows, so the fit runs on the cells; only the design variance
needs the rows again (per-row scores are the cell's score times the row's weight).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["ROWS_PER_CELL", "pattern_cells", "rows_used"]

#: The cell route is taken when the rows outnumber the cells at least this many times.
ROWS_PER_CELL = 4
# transforms whose result depends on the whole column (mean, quantiles): rows != cells
_STATEFUL = ("center(", "standardize(", "scale(", "bs(", "cr(", "cc(", "te(")


def pattern_cells(
    frame: pd.DataFrame, columns: Sequence[str], formula: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Cell code of each row and the first row of each cell, or ``None`` (use the rows).

    Parameters
    ----------
    frame : DataFrame
        Complete rows of the model variables.
    columns : list of str
        The columns the formula names (response included).
    formula : str
        The model formula; formulas with data-dependent (stateful) transforms are not
        collapsed.

    Returns
    -------
    tuple of ndarray or None
        ``codes`` (cells numbered in order of first appearance) and ``first`` (row position
        of each cell's first row), when there are at most ``len(frame) / ROWS_PER_CELL``
        cells.
    """
    compact = formula.replace(" ", "")
    if not columns or not len(frame) or any(t in compact for t in _STATEFUL):
        return None
    joint = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        codes, uniques = pd.factorize(frame[c])
        joint = pd.factorize(joint * (len(uniques) + 1) + codes)[0].astype(np.int64)
    n_cells = int(joint.max()) + 1
    if n_cells * ROWS_PER_CELL > len(frame):
        return None
    first = np.unique(joint, return_index=True)[1]
    return joint, first


def rows_used(kept: np.ndarray, complete_rows: np.ndarray, cells) -> tuple[np.ndarray, object]:
    """Rows in the fit and, on the cell route, each row's position among the kept cells.

    ``kept`` holds the frame labels patsy kept (rows, or the first row of each kept cell),
    ``complete_rows`` the positions of the complete rows; ``cells`` is
    :func:`pattern_cells`' result (``None``: rows).
    """
    if cells is None:
        return kept, None
    codes, first = cells
    keep = np.isin(complete_rows[first], kept)
    inside = keep[codes]
    return complete_rows[inside], (np.cumsum(keep) - 1)[codes[inside]]
