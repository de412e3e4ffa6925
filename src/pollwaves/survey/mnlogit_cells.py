"""Predicted shares of a multinomial logit fitted on cells, without per-row group arrays.

When :func:`pollwaves.survey.mnlogit.weighted_mnlogit` fits on the cells of distinct
(response, covariate) patterns (:mod:`pollwaves.survey.cells`), the influence value of a row
for the share of category k in group g is its *sampling weight* (never a frequency weight)
times two parts: the coefficient part ``e_c J_gk' / mean(w)`` of its model cell ``c`` and,
in its own group only, ``(p_ck - pbar_gk) / W_g``. The shares' variances are then
``J V J' + 2 J C + O``: ``V`` the coefficients' design covariance (the fit's, already
computed), ``C`` the design cross-covariance of the coefficient and own-group parts and ``O``
the own-group parts' variances, both from cell sums with the own-group parts kept sparse
(:func:`pollwaves.survey.cells.cell_cross`). No pairs x groups array is formed, so every
wave of a pooled study is one product, not a pass over (cells x waves x categories) values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from pollwaves.survey.cells import cell_cross
from pollwaves.survey.mnlogit_core import outer_rows, softmax

__all__ = ["CellZ", "cell_share_influence", "cellz_variance"]


class CellZ:
    """Influence values of shares (groups x categories) of a cell-route fit, in parts.

    ``jac`` (G, K, P): d share / d coefficients; ``own`` (pairs, K): the own-group part of
    each (group, model cell) pair; ``group``: each pair's group (``-1``: rows without a
    group key); ``codes``: each row's pair (``-1``: outside the fit). Indexing ``[:, :, ix]`` and ``sum(axis=2)`` act on the categories of both parts.
    """

    def __init__(self, jac, own, group, codes) -> None:
        self.jac, self.own, self.group, self.codes = jac, own, group, codes

    def _with(self, jac: np.ndarray, own: np.ndarray) -> CellZ:
        return CellZ(jac, own, self.group, self.codes)

    def __getitem__(self, key):
        ix = key[2] if isinstance(key, tuple) and len(key) == 3 else key
        return self._with(self.jac[:, ix], self.own[:, ix])

    def sum(self, axis: int, keepdims: bool = False) -> CellZ:
        if axis != 2:
            raise ValueError("CellZ sums over the categories only (axis=2)")
        jac, own = self.jac.sum(axis=1, keepdims=True), self.own.sum(axis=1, keepdims=True)
        return self._with(jac, own) if keepdims else self._with(jac[:, 0], own[:, 0])


def cell_share_influence(f: dict, sub: pd.DataFrame, by_cols: list[str], ok: np.ndarray, perm):
    """``SurveyMNLogitResult._share_influence`` for a cell-route fit: ``z`` as a :class:`CellZ`.

    Memory: pairs x categories and groups x categories x coefficients, not rows x groups.
    """
    cell_rows, x, w_all, used = f["cell_infl"][1], f["x"], f["w_all"], f["used"]
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
        # cells x (categories x terms): dp_ck x_cj, sparse; then the group means
        jac[:, :, m * p : (m + 1) * p] = (
            (dmat @ outer_rows(dp, f["x_coo"])).toarray().reshape(n_g, k, p)
        )
    # used rows without a group key: only their cells' coefficient part (often none)
    # (as np.setdiff1d(used, rows): sorted and unique, by a mask instead of a hash of n rows)
    mask = np.zeros(len(w_all), dtype=bool)
    mask[used] = True
    mask[rows] = False
    keyless = np.flatnonzero(mask)
    extra, extra_code = np.unique(cell_rows[keyless], return_inverse=True)
    own = np.zeros((len(jkeys) + len(extra), k))
    own[: len(jkeys)] = (prob[j_c] - est[j_g]) / wg[j_g][:, None]
    group = np.concatenate([j_g, np.full(len(extra), -1, dtype=np.int64)])
    row_code = np.full(len(w_all), -1, dtype=np.int64)
    row_code[keyless] = len(jkeys) + extra_code.ravel()
    row_code[rows] = jidx
    labels = [lab if isinstance(lab, tuple) else (lab,) for lab in labels]
    if not np.array_equal(perm, np.arange(k)):
        jac, own = jac[:, perm], own[:, perm]
    return by_cols, labels, est[:, perm], CellZ(jac, own, group, row_code)


def cellz_variance(z: CellZ, f: dict, cov: np.ndarray) -> np.ndarray:
    """Design variances of the shares ``z`` holds (groups x categories, flattened).

    ``cov`` is the fit's coefficient covariance (model order), the design variance of the
    row values ``w_i e_c / mean(w used)``, ``e = u A^-1`` (``u``: the sparse score cells).
    With ``J`` the rows of ``z.jac``, the variance of share ``q`` is
    ``J_q cov J_q' + 2 J_q C_q + O_q`` (module docstring), ``C = A^-1 C_u``.
    """
    u, cell_codes, _, a_inv = f["cell_infl"]
    scale = 1 / f["mean_w"]
    n_g, k, n_par = z.jac.shape
    jq = z.jac.reshape(n_g * k, n_par)
    coef = ((jq @ cov) * jq).sum(axis=1)
    has = np.flatnonzero(z.group >= 0)
    rows = np.repeat(has, k)
    cols = (z.group[has, None] * k + np.arange(k)).ravel()
    own = sparse.csr_matrix((z.own[has].ravel(), (rows, cols)), shape=(len(z.group), n_g * k))
    # the coefficient part of row i is w_i u_c A^-1 J' / mean(w used): the cross scales so
    design = (f["w_all"], f["s"], f["p"], f["cal"])
    cache = f.setdefault("cal_u", {})
    cross_u, var_own = cell_cross(u, cell_codes, own, z.codes, *design, cache, f["groups"])
    cross = a_inv @ cross_u
    return coef + 2 * scale * (jq * cross.T).sum(axis=1) + var_own
