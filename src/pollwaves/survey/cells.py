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
from scipy import sparse

from pollwaves.survey.calibration import Calibration
from pollwaves.survey.design import RowGroups, design_variance

__all__ = [
    "ROWS_PER_CELL",
    "STATEFUL",
    "cell_cross",
    "cell_variance",
    "n_distinct",
    "pattern_cells",
    "psu_count",
    "rows_used",
]

#: The cell route is taken when the rows outnumber the cells at least this many times.
ROWS_PER_CELL = 4
#: Transforms whose result depends on the whole column (mean, quantiles): rows != cells.
STATEFUL = ("center(", "standardize(", "scale(", "bs(", "cr(", "cc(", "te(")


def pattern_cells(
    frame: pd.DataFrame, columns: Sequence[str], formula: str, n_rows: float | None = None
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
    n_rows : float, optional
        The respondents the rows stand for (grouped rows; default ``len(frame)``).

    Returns
    -------
    tuple of ndarray or None
        ``codes`` (cells numbered in order of first appearance) and ``first`` (row position
        of each cell's first row), when there are at most ``len(frame) / ROWS_PER_CELL``
        cells.
    """
    compact = formula.replace(" ", "")
    if not columns or not len(frame) or any(t in compact for t in STATEFUL):
        return None
    joint = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        codes, uniques = pd.factorize(frame[c])
        joint = pd.factorize(joint * (len(uniques) + 1) + codes)[0].astype(np.int64)
    n_cells = int(joint.max()) + 1
    if n_cells * ROWS_PER_CELL > (len(frame) if n_rows is None else n_rows):
        return None
    # codes are numbered in order of first appearance: a row opens a cell when its code
    # exceeds every earlier code
    running = np.maximum.accumulate(joint)
    first = np.flatnonzero(np.concatenate([[True], joint[1:] > running[:-1]]))
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


def n_distinct(codes: np.ndarray) -> int:
    """Number of distinct non-negative integer codes (by counting: O(n), no sort)."""
    return int(np.count_nonzero(np.bincount(codes))) if len(codes) else 0


def psu_count(p: np.ndarray, rows: np.ndarray, groups: RowGroups | None = None) -> int:
    """Distinct PSUs among ``rows`` (positions); with ``groups`` (each respondent its own
    PSU) the respondents the rows stand for."""
    return n_distinct(p[rows]) if groups is None else int(groups.size[rows].sum())


def cell_variance(
    e: np.ndarray,
    codes: np.ndarray,
    w: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    cal: Calibration | None = None,
    *,
    diag: bool = False,
    groups: RowGroups | None = None,
) -> np.ndarray:
    """Design covariance of the row values ``w_i e[codes_i]`` (zero where ``codes_i < 0``).

    With ``diag=True`` only the variances (the diagonal).

    The per-row influence values of a model fitted on cells are the row's sampling weight
    times its cell's value, so their design variance (as
    :func:`pollwaves.survey.design.design_variance`, after the residualisation on the
    calibration model ``cal`` when given) needs only cell sums: with each row its own PSU,
    ``sum_h n_h/(n_h-1) [sum_c (sum w^2) e_c e_c' - S_h S_h' / n_h]`` over the (stratum, cell)
    cells, ``S_h = sum_c (sum w) e_c``; with PSUs, the PSU totals ``R e`` (``R``: PSU x cell
    sums of ``w``). The residuals ``u - x b`` of the calibration regression take one value per
    (cell, calibration cell), so the joint cells carry them. With ``groups`` (each row a
    group of respondents, :class:`pollwaves.survey.design.RowGroups`) ``w`` holds the
    groups' summed weights, ``n_h`` counts respondents and ``sum w^2`` is ``sq w^2``.
    """
    e = np.vstack([e, np.zeros((1, e.shape[1]))])  # the last cell: rows outside the fit
    codes = np.where(codes >= 0, codes, len(e) - 1)
    if cal is not None:
        joint, j_model, j_cal = _pairs(codes, cal.cells, cal.n_cells)
        b0 = np.bincount(joint, weights=cal.base, minlength=len(j_model))
        # calibration cell sums of b0 e (as np.add.at, in the same order; pairs distinct)
        sums = sparse.csr_matrix((b0, (j_cal, j_model)), shape=(cal.n_cells, len(e))) @ e
        e, codes = e[j_model] - cal.fitted(sums)[j_cal], joint
    n_psu = int(p.max()) + 1
    if groups is not None or (n_psu == len(p) and bool((p == np.arange(len(p))).all())):
        n_h, w2 = _own_psu(s, w, groups)
        hc, hc_h, hc_c = _pairs(s, codes, len(e))
        b1 = np.bincount(hc, weights=w, minlength=len(hc_h))
        b2 = np.bincount(hc, weights=w2, minlength=len(hc_h))
        if (n_h == 1).any():
            return design_variance(w[:, None] * e[codes], s, p, cov=True, groups=groups)
        scale = n_h / (n_h - 1)
        ec = e[hc_c]
        tot = sparse.csr_matrix((b1, (hc_h, hc_c)), shape=(len(n_h), len(e))) @ e
        if diag:
            within = (scale[hc_h] * b2) @ ec**2
            return within - (scale / n_h) @ tot**2
        within = (ec * (scale[hc_h] * b2)[:, None]).T @ ec
        return within - (tot * (scale / n_h)[:, None]).T @ tot
    rmat = sparse.csr_matrix((w, (p, codes)), shape=(n_psu, len(e)))
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[p] = s
    return design_variance(rmat @ e, psu_stratum, np.arange(n_psu), cov=not diag)


def cell_cross(
    a: np.ndarray,
    a_codes: np.ndarray,
    b: sparse.spmatrix,
    b_codes: np.ndarray,
    w: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    cal: Calibration | None = None,
    cache: dict | None = None,
    groups: RowGroups | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Design cross-covariances of two sets of row values given by cell values.

    The row values are ``w_i a[a_codes_i]`` (cells x P, dense or sparse) and
    ``w_i b[b_codes_i]`` (sparse, cells x Q), zero where a code is ``< 0``; ``w`` are
    sampling weights; the cells of ``b`` refine those of ``a`` (rows with one ``b`` cell share one ``a`` cell). As
    :func:`cell_variance` (residualised on the calibration model ``cal`` when given, then
    the between-PSU-within-strata covariance), but returns the P x Q cross-covariance of the
    two sets' totals and the Q variances of ``b``'s. ``a`` is never gathered to rows or
    cells of ``b``: every sum over them is a sparse matrix applied to ``a`` (and to the
    fitted values of its calibration regression), so the work is ``nnz(b) x P``. Those
    fitted values depend on ``a``, ``a_codes`` and ``cal`` only: with ``cache`` (a dict
    kept while these stay the same) they are computed once. ``groups``: as
    :func:`cell_variance`.
    """
    dense = not sparse.issparse(a)
    n_a, n_b = a.shape[0], b.shape[0]
    ca = np.where(a_codes >= 0, a_codes, n_a)  # n_a, n_b: the zero cells of rows outside
    cb = np.where(b_codes >= 0, b_codes, n_b)
    # unit cells: the distinct (b cell, calibration cell) of the rows (b cell alone without
    # calibration); each unit has one a cell. Unit values: a[unit_a] - fit_a[unit_cal].
    cal_cells = cal.cells if cal is not None else np.zeros(len(ca), dtype=np.int64)
    n_cal = cal.n_cells if cal is not None else 1
    unit, u_b, u_cal = _pairs(cb, cal_cells, n_cal)
    u_a = np.zeros(len(u_b), dtype=np.int64)
    u_a[unit] = ca
    sel_a = _select(u_a, n_a + 1)[:, :n_a]  # units x a cells (the zero cell dropped)
    b = sparse.vstack([sparse.csr_matrix(b), sparse.csr_matrix((1, b.shape[1]))], format="csr")
    b = b[u_b]
    fit_a, sel_f = np.zeros((1, a.shape[1])), sparse.csr_matrix((len(u_b), 1))
    if cal is not None:
        b0 = np.bincount(unit, weights=cal.base, minlength=len(u_b))
        to_cal = sparse.csr_matrix((b0, (u_cal, np.arange(len(u_b)))), shape=(n_cal, len(u_b)))
        sel_f = _select(u_cal, n_cal)
        cache = {} if cache is None else cache
        if "fit_a" not in cache:
            sums = to_cal @ sel_a @ a  # sum_i w0_i a[codes_i] per calibration cell
            cache["fit_a"] = cal.fitted(sums) if dense else cal.fitted_sparse(sums)
        fit_a = cache["fit_a"]
        b = (b - cal.fitted_sparse(to_cal @ b)[u_cal]).tocsr()
    n_psu = int(p.max()) + 1
    if groups is not None or (n_psu == len(p) and bool((p == np.arange(len(p))).all())):
        hc, strata, hc_u = _pairs(s, unit, len(u_b))  # each respondent its own PSU
        n_h, w2 = _own_psu(s, w, groups)
        c1 = np.bincount(hc, weights=w, minlength=len(strata))
        c2 = np.bincount(hc, weights=w2, minlength=len(strata))
        to_rows = _select(hc_u, len(u_b))
    else:  # PSU totals, one row per PSU
        to_rows = sparse.csr_matrix((w, (p, unit)), shape=(n_psu, len(u_b)))
        strata = np.zeros(n_psu, dtype=np.int64)
        strata[p] = s
        c1 = c2 = np.ones(n_psu)
        n_h = np.bincount(strata).astype(float)
    if (n_h == 1).any():
        design_variance(np.zeros((len(p), 1)), s, p, groups=groups)  # raises: a lonely PSU
    scale = n_h / (n_h - 1)
    b = sparse.csr_matrix(to_rows @ b)
    to_h = sparse.csr_matrix((c1, (strata, np.arange(len(strata)))), shape=(len(n_h), len(c1)))
    tot_b = sparse.csr_matrix(to_h @ b)
    wt, wt_h = scale[strata] * c2, scale / n_h

    def applied(left: sparse.spmatrix) -> np.ndarray:  # left @ (the rows' a values)
        left = sparse.csr_matrix(left @ to_rows)
        return _dense(left @ sel_a @ a) - _dense(left @ sel_f @ fit_a)

    cross = applied(b.T.multiply(wt[None, :])).T
    cross -= np.asarray(tot_b.T @ (applied(to_h) * wt_h[:, None])).T
    var_b = np.asarray(b.multiply(b).T @ wt).ravel()
    var_b -= np.asarray(tot_b.multiply(tot_b).T @ wt_h).ravel()
    return cross, var_b


def _own_psu(s: np.ndarray, w: np.ndarray, groups: RowGroups | None):
    """Respondents per stratum and each row's sum of squared weights (respondents: w^2)."""
    if groups is None:
        return np.bincount(s).astype(float), w * w
    return np.bincount(s, weights=groups.size), groups.sq * w * w


def _dense(m) -> np.ndarray:
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def _select(codes: np.ndarray, n: int) -> sparse.csr_matrix:
    """The 0/1 matrix (len(codes) x n) that picks row ``codes[i]`` for row ``i``."""
    ones = np.ones(len(codes))
    return sparse.csr_matrix((ones, (np.arange(len(codes)), codes)), shape=(len(codes), n))


def _pairs(a: np.ndarray, b: np.ndarray, nb: int):
    """Codes of the distinct pairs ``(a, b)`` and each pair's ``a`` and ``b``."""
    idx, keys = pd.factorize(a.astype(np.int64) * nb + b)
    keys = np.asarray(keys, dtype=np.int64)
    return idx.astype(np.int64), keys // nb, keys % nb
