"""Predicted shares of a multinomial logit fitted on cells, without per-row group arrays.

When :func:`pollwaves.survey.mnlogit.weighted_mnlogit` fits on the cells of distinct
(response, covariate) patterns (:mod:`pollwaves.survey.cells`), the influence value of a row
for the share of category k in group g is its *sampling weight* (never a frequency weight)
times a value of its (group, model cell) pair: the coefficient part ``e_c J_g' / mean(w)``
plus, in its own group, ``(p_c - pbar_g) / W_g``. So the influence values of all groups are
held per pair (pairs x groups x categories), not per row (rows x groups x categories), and
their design variance comes from cell sums (:func:`pollwaves.survey.cells.cell_variance`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from pollwaves.survey.cells import cell_variance
from pollwaves.survey.mnlogit_core import softmax

__all__ = ["CellZ", "cell_share_influence", "cellz_variance"]

#: Cell values (pairs x groups x categories) above this are given their variances a block of
#: groups at a time, so the calibration and variance work arrays stay this small.
CHUNK_SIZE = 4_000_000


class CellZ:
    """Influence values ``w_i h[codes_i]`` of shares, held as cell values (see
    :func:`cell_share_influence`); ``[:, :, ix]`` slices categories."""

    def __init__(self, h: np.ndarray, codes: np.ndarray) -> None:
        self.h, self.codes = h, codes

    def __getitem__(self, key):
        return CellZ(self.h[key], self.codes)

    def sum(self, axis: int, keepdims: bool = False) -> CellZ:
        return CellZ(self.h.sum(axis=axis, keepdims=keepdims), self.codes)


def cell_share_influence(f: dict, sub: pd.DataFrame, by_cols: list[str], ok: np.ndarray, perm):
    """``SurveyMNLogitResult._share_influence`` for a cell-route fit: ``z`` as cell values.

    A row's influence value for every group is its weight times the value of its
    (group, model cell) pair, so ``z`` is ``(H, codes)``: (pairs, G, K) values and each
    row's pair (``-1``: rows outside the fit). Memory: pairs x groups, not rows x groups.
    """
    e, cell_rows, v = f["cell_infl"]
    x, w_all, used = f["x"], f["w_all"], f["used"]
    n_c, rows = len(x), used[ok]
    codes, labels = np.zeros(len(rows), dtype=np.int64), [()]
    if by_cols:
        grp = sub.groupby(by_cols, sort=True, observed=True)
        codes, labels = grp.ngroup().to_numpy(), list(grp.size().index)
    n_g = len(labels)
    jidx, jkeys = pd.factorize(codes * n_c + cell_rows[rows])
    j_g, j_c = np.asarray(jkeys) // n_c, np.asarray(jkeys) % n_c
    wj = np.bincount(jidx, weights=w_all[rows], minlength=len(jkeys))
    wg = np.bincount(j_g, weights=wj, minlength=n_g)
    # groups x cells: each pair's share of its group's weight (the pairs are distinct
    # (group, cell) combinations, so no entries are summed; each row keeps the pair order)
    dmat = sparse.csr_matrix((wj / wg[j_g], (j_g, j_c)), (n_g, n_c))
    prob, _ = softmax(x, f["beta"])
    est = dmat @ prob  # (G, K), model order
    k, p = prob.shape[1], x.shape[1]
    jac = np.empty((n_g, k, (k - 1) * p))
    for m in range(k - 1):  # d p_k / d beta_m = p_k (1[k = m] - p_m) x
        dp = prob * (np.eye(k)[m + 1] - prob[:, [m + 1]])
        prod = (dp[:, :, None] * x[:, None, :]).reshape(n_c, k * p)
        jac[:, :, m * p : (m + 1) * p] = (dmat @ prod).reshape(n_g, k, p)
    scale = 1 / w_all[used].mean()  # the influence functions use w / mean(w used)
    coef = (e @ jac.reshape(-1, jac.shape[2]).T).reshape(n_c, n_g, k) * scale
    # used rows without a group key: only their cells' coefficient part (often none)
    # (as np.setdiff1d(used, rows): sorted and unique, by a mask instead of a hash of n rows)
    mask = np.zeros(len(w_all), dtype=bool)
    mask[used] = True
    mask[rows] = False
    keyless = np.flatnonzero(mask)
    extra, extra_code = np.unique(cell_rows[keyless], return_inverse=True)
    h = np.empty((len(jkeys) + len(extra), n_g, k))
    h[: len(jkeys)] = coef[j_c]
    h[len(jkeys) :] = coef[extra]
    del coef
    h[np.arange(len(jkeys)), j_g] += (prob[j_c] - est[j_g]) / wg[j_g][:, None]
    row_code = np.full(len(w_all), -1, dtype=np.int64)
    row_code[keyless] = len(jkeys) + extra_code.ravel()
    row_code[rows] = jidx
    labels = [lab if isinstance(lab, tuple) else (lab,) for lab in labels]
    if not np.array_equal(perm, np.arange(k)):
        h = h[:, :, perm]
    return by_cols, labels, est[:, perm], CellZ(h, row_code)


def cellz_variance(z: CellZ, f: dict) -> np.ndarray:
    """Design variances of the shares ``z`` holds (groups x categories, flattened), from cell
    sums (:func:`pollwaves.survey.cells.cell_variance`, after the fit's calibration).

    Large ``z`` (many groups, e.g. every wave of a pooled study) is done a block of groups at
    a time: each variance is that of its own column, so the blocks give the same values with
    working memory of one block."""
    n_pairs, n_g, k = z.h.shape
    step = n_g if n_pairs * n_g * k <= CHUNK_SIZE else max(1, CHUNK_SIZE // (n_pairs * k))
    parts = []
    for g0 in range(0, n_g, step):
        h = z.h[:, g0 : g0 + step].reshape(n_pairs, -1)
        parts.append(cell_variance(h, z.codes, f["w_all"], f["s"], f["p"], f["cal"], diag=True))
    return np.concatenate(parts)
