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


@dataclass(frozen=True)
class Calibration:
    """The calibration model of a design, one block of rows per separately raked level.

    Attributes
    ----------
    weights : ndarray
        The final (calibrated) sampling weights ``w`` of all rows.
    blocks : list of (rows, model matrix, base weights)
        ``rows`` indexes the rows of one level (``None``: all rows, a single calibration).
    """

    weights: np.ndarray
    blocks: list[tuple[np.ndarray | None, np.ndarray, np.ndarray]]

    def residualise(self, z: np.ndarray) -> np.ndarray:
        """``w * resid(z / w)`` per block: the linearised values after the calibration.

        ``z`` holds one row per design row and any number of columns (a 1-D array is one
        column); the result has its shape.
        """
        z = np.asarray(z, dtype=float)
        flat = z.reshape(len(z), -1)
        w = self.weights[:, None]
        out = np.empty_like(flat)
        for rows, mm, w0 in self.blocks:
            if rows is None:
                out = w * calibration_residuals(flat / w, mm, w0)
            else:
                wr = w[rows]
                out[rows] = wr * calibration_residuals(flat[rows] / wr, mm, w0)
        return out.reshape(z.shape)


def calibration(
    df: pd.DataFrame,
    weight: str | None,
    calibrated_on: Sequence[str] | None,
    *,
    by: str | None = None,
    base_weight: str | None = None,
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
        matter.

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
    w0 = sampling_weights(df, base_weight)
    if by is None:
        return Calibration(w, [(None, calibration_matrix(df, cols), w0)])
    _check_complete(df, cols)
    if df[by].isna().any():
        i = int(np.flatnonzero(df[by].isna().to_numpy())[0])
        raise InputError("Missing value in the calibration_by column", column=by, row=i + 1)
    codes, _ = pd.factorize(df[by], sort=True)
    blocks = []
    for k in range(int(codes.max()) + 1):
        rows = np.flatnonzero(codes == k)
        blocks.append((rows, calibration_matrix(df.iloc[rows], cols), w0[rows]))
    return Calibration(w, blocks)
