"""Raking-aware linearisation: residuals of influence values on the calibration model.

A raked (calibrated) weight is ``w_i = g_i w0_i``, with base weights ``w0`` and the
calibration factors ``g`` chosen so that the weighted totals of the calibration model
matrix (intercept and dummies of the raking variables) meet population totals. To first
order the calibration removes from every estimator the part of its linearised values that
the calibration variables explain, so the design variance is that of the residuals of the
base-weighted least-squares regression of ``z_i / w_i`` on the calibration model matrix,
multiplied back by ``w_i``: what R ``survey:::svyrecvar`` does for a design from
``calibrate(design, formula, population, calfun = "raking")`` (``qr.resid`` of
``x / (g sqrt(w0))`` on ``qr(mm * sqrt(w0))``, times ``g sqrt(w0)``; Deville and Sarndal
1992). Every function here assumes *sampling weights* (inverse-probability or calibration
weights), never frequency weights.

When each level of a column (the wave of a pooled data set) was calibrated separately, the
calibration model is ``~ by + by:(a + b + ...)`` (R ``calibrate(pooled, ~ wave +
wave:(a + b), ...)``); its column space is the direct sum of the per-level models
``~ a + b``, so the residuals are those of one regression per level (:func:`calibration`
with ``by``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from pollwaves.errors import InputError
from pollwaves.survey.design import as_list, check_columns
from pollwaves.survey.weighting import sampling_weights

__all__ = ["Calibration", "calibration", "calibration_matrix", "calibration_residuals"]


def _check_complete(df: pd.DataFrame, columns: Sequence[str]) -> None:
    for c in columns:
        if df[c].isna().any():
            i = int(np.flatnonzero(df[c].isna().to_numpy())[0])
            raise InputError(
                "Missing value in a calibration column",
                column=c,
                row=i + 1,
                hint="every respondent needs the raking variables the weights were built on",
            )


def calibration_matrix(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Model matrix ``~ a + b + ...`` (intercept and treatment dummies) of the raking columns."""
    _check_complete(df, columns)
    parts = [np.ones((len(df), 1))]
    for c in columns:
        codes, _ = pd.factorize(df[c], sort=True)
        dummies = np.eye(codes.max() + 1)[codes][:, 1:]
        parts.append(dummies)
    return np.hstack(parts)


def calibration_residuals(u: np.ndarray, mm: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Residuals of the base-weighted least-squares regression of ``u`` on ``mm``.

    R ``svyrecvar`` applies this to calibrated designs (``qr.resid`` on ``mm * sqrt(w0)``).
    """
    root = np.sqrt(w0)[:, None]
    beta, *_ = np.linalg.lstsq(mm * root, u * root, rcond=None)
    return u - mm @ beta


def _cells(level: np.ndarray, codes: list[np.ndarray]):
    """Cell code of each row (cells sorted by ``level``, then the raking columns' codes), and
    per cell its level and its code in each raking column."""
    joint = level.astype(np.int64)
    for c in codes:
        joint = joint * (int(c.max()) + 1) + c
    size = int(joint.max()) + 1
    if size <= 4 * len(joint) + 1024:  # few combinations: O(n) by counting
        seen = np.bincount(joint, minlength=size) > 0
        cells = (np.cumsum(seen) - 1)[joint]
    else:
        cells = np.unique(joint, return_inverse=True)[1].astype(np.int64)
    rep = np.zeros(int(cells.max()) + 1, dtype=np.int64)
    rep[cells] = np.arange(len(cells))  # any row of a cell: all share its codes
    return cells, level[rep], [c[rep] for c in codes]


def _cell_blocks(cell_level: np.ndarray, cell_codes: list[np.ndarray]):
    """Per level: its cells and their rows of the model matrix ``~ a + b + ...``.

    Treatment dummies of the levels present in the block (the first one dropped), as
    :func:`calibration_matrix` builds them from the block's rows.
    """
    blocks = []
    for k in np.unique(cell_level):
        idx = np.flatnonzero(cell_level == k)
        parts = [np.ones((len(idx), 1))]
        for c in cell_codes:
            ck = c[idx]
            present = np.unique(ck)
            parts.append((ck[:, None] == present[1:]).astype(float))
        blocks.append((idx, np.hstack(parts)))
    return blocks


@dataclass(frozen=True)
class Calibration:
    """The calibration model of a design, one block of cells per separately raked level.

    The model matrix of a raking has few distinct rows: one per calibration cell (the joint
    pattern of the raking columns). Its base-weighted cross-products are cell sums, so the
    regression of any number of columns is one least-squares solve on the cells.

    Attributes
    ----------
    weights : ndarray
        The final (calibrated) sampling weights ``w`` of all rows.
    base : ndarray
        The base weights ``w0`` of all rows.
    cells : ndarray
        Global cell code of each row (cells of different blocks are distinct).
    blocks : list of (cell indices, cell model matrix)
        Per separately raked level: its global cell codes and their model-matrix rows.
    """

    weights: np.ndarray
    base: np.ndarray
    cells: np.ndarray
    blocks: list[tuple[np.ndarray, np.ndarray]]

    @property
    def n_cells(self) -> int:
        return int(self.cells.max()) + 1

    def cell_weights(self) -> np.ndarray:
        """Sum of the base weights per cell."""
        return np.bincount(self.cells, weights=self.base, minlength=self.n_cells)

    def fitted(self, sums: np.ndarray) -> np.ndarray:
        """Fitted values per cell of the base-weighted regression of ``u`` on the model.

        ``sums`` holds per cell the totals ``sum w0_i u_i`` (cells x columns); the result has
        the fitted value ``x_c beta`` of every cell and column. ``sum_i w0_i (u_i - x_i b)^2
        = sum_c W_c (x_c b - S_c / W_c)^2 + const``, so one least-squares solve on the cells
        (weights ``W_c``, the base-weight sums) gives the row-level coefficients.
        """
        wc = self.cell_weights()
        out = np.zeros_like(sums, dtype=float)
        for idx, xc in self.blocks:
            root = np.sqrt(wc[idx])[:, None]
            beta, *_ = np.linalg.lstsq(xc * root, sums[idx] / root, rcond=None)
            out[idx] = xc @ beta
        return out

    def fitted_sparse(self, sums: sparse.csr_matrix) -> sparse.csr_matrix:
        """:meth:`fitted` for sparse ``sums`` (cells x columns), solving each block only for
        the columns with a non-zero sum in it (a domain inside one wave: one block)."""
        wc = self.cell_weights()
        sums = sparse.csr_matrix(sums)
        rows, cols, vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for idx, xc in self.blocks:
            sub = sums[idx]
            if sub.nnz == 0:
                continue
            used = np.unique(sub.indices)
            root = np.sqrt(wc[idx])[:, None]
            beta, *_ = np.linalg.lstsq(xc * root, sub[:, used].toarray() / root, rcond=None)
            rows.append(np.repeat(idx, len(used)))
            cols.append(np.tile(used, len(idx)))
            vals.append((xc @ beta).ravel())
        data = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
        return sparse.csr_matrix(data, shape=sums.shape)

    def residualise(self, z: np.ndarray) -> np.ndarray:
        """``w * resid(z / w)`` per block: the linearised values after the calibration.

        ``z`` holds one row per design row and any number of columns (a 1-D array is one
        column); the result has its shape.
        """
        z = np.asarray(z, dtype=float)
        flat = z.reshape(len(z), -1)
        ratio = self.base / self.weights
        sums = np.empty((self.n_cells, flat.shape[1]))
        for j in range(flat.shape[1]):
            sums[:, j] = np.bincount(self.cells, weights=flat[:, j] * ratio, minlength=len(sums))
        fit = self.fitted(sums)
        return (flat - self.weights[:, None] * fit[self.cells]).reshape(z.shape)


def calibration(
    df: pd.DataFrame,
    weight: str | None,
    calibrated_on: Sequence[str] | None,
    *,
    by: str | None = None,
    base_weight: str | None = None,
    group_size: str | None = None,
) -> Calibration | None:
    """The calibration model of ``df`` (``None`` when ``calibrated_on`` is empty).

    Parameters
    ----------
    df : DataFrame
        All rows of the design (row order as the linearised values).
    weight : str or None
        The calibrated sampling-weight column (``None``: equal weights).
    calibrated_on : list of str
        The raking columns (e.g. config ``weighting.variables``, derived ``sex_age``
        included); every row needs a value.
    by : str, optional
        Column within whose levels the weights were calibrated separately (``"wave"`` for
        pooled waves); ``None``: one calibration of all rows.
    base_weight : str, optional
        The weights before calibration (``None``: equal). Only their ratios within a level
        matter. With ``group_size``, the groups' summed base weights.
    group_size : str, optional
        Rows that stand for groups of respondents sharing every raking column
        (:class:`pollwaves.survey.design.RowGroups`): the column of respondents per row. The
        equal base weights of ``base_weight=None`` then sum to it.

    Returns
    -------
    Calibration or None
    """
    cols = as_list(calibrated_on)
    if not cols:
        if by is not None:
            raise InputError(
                "calibration_by needs calibrated_on", column=by, hint="name the raking columns"
            )
        return None
    check_columns(df, [*cols, *as_list(by)])
    w = sampling_weights(df, weight)
    if group_size is not None and base_weight is None:
        w0 = sampling_weights(df, group_size)
    else:
        w0 = sampling_weights(df, base_weight)
    _check_complete(df, cols)
    level = np.zeros(len(df), dtype=np.int64)
    if by is not None:
        if df[by].isna().any():
            i = int(np.flatnonzero(df[by].isna().to_numpy())[0])
            raise InputError("Missing value in the calibration_by column", column=by, row=i + 1)
        level = pd.factorize(df[by], sort=True)[0].astype(np.int64)
    codes = [pd.factorize(df[c], sort=True)[0].astype(np.int64) for c in cols]
    cells, cell_level, cell_codes = _cells(level, codes)
    blocks = _cell_blocks(cell_level, cell_codes)
    return Calibration(w, w0, cells, blocks)
