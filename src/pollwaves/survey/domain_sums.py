"""Design variance of the category shares of many domains at once, from grouped sums.

The linearised values of a domain share, ``z_ik = w_i d_i (y_ik - p_k) / sum(w d)``, are zero
outside the domain, so the PSU totals of all domains x categories are sums over the (PSU,
domain) pairs present in the data (at most one per row), and the between-PSU-within-strata
variance (R ``svyrecvar``) follows from per-(stratum, domain) sums: one pass, O(n), instead
of one full-sample variance per domain.

With a calibration (raking-aware SEs) the residualised values ``z_i - w_i x_i b`` are dense,
but ``x_i b`` takes one value per calibration cell (:class:`pollwaves.survey.calibration.
Calibration`), so with ``R`` the (PSU x cell) sums of ``w`` and ``F`` the fitted cell values,
the PSU totals are ``T - R F`` and their variance expands into cross-products of ``T`` (sparse),
``R`` (sparse) and ``F`` (cells x columns): still O(n) plus O(cells^2 x columns).
Every function here assumes *sampling weights*, never frequency weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from pollwaves.errors import InputError
from pollwaves.survey.calibration import Calibration

__all__ = ["domain_moments"]


def _sums(codes: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    """Column sums of ``x`` (rows x columns) within integer ``codes`` (``np.bincount``)."""
    cols = [np.bincount(codes, weights=x[:, j], minlength=n) for j in range(x.shape[1])]
    # float even when no row is given (np.bincount of nothing is int64, weights or not)
    return np.column_stack(cols).reshape(n, x.shape[1]).astype(float, copy=False)


def _pair_codes(a: np.ndarray, b: np.ndarray, nb: int):
    """Codes of the distinct pairs ``(a, b)`` present and each pair's ``a`` and ``b``."""
    idx, keys = pd.factorize(a * nb + b)
    keys = np.asarray(keys, dtype=np.int64)
    return idx.astype(np.int64), keys // nb, keys % nb


def _block_diagonal(m: sparse.spmatrix, big_g: int, k: int, cov: bool) -> np.ndarray:
    """The K x K diagonal blocks (or their diagonals) of a sparse (G K) x (G K) matrix."""
    m = sparse.coo_matrix(m)
    m.sum_duplicates()
    keep = m.row // k == m.col // k if cov else m.row == m.col
    row, col, val = m.row[keep], m.col[keep], m.data[keep]
    out = np.zeros((big_g, k, k)) if cov else np.zeros((big_g, k))
    if cov:
        out[row // k, row % k, col % k] = val
    else:
        out[row // k, row % k] = val
    return out


def _outer_sums(codes, x, weights, n, cov):
    """``sum weights * x x'`` (``cov``) or ``sum weights * x^2`` within ``codes``: (n, K, K)."""
    k = x.shape[1]
    out = np.zeros((n, k, k)) if cov else np.zeros((n, k))
    for a in range(k):
        if not cov:
            out[:, a] = np.bincount(codes, weights=weights * x[:, a] ** 2, minlength=n)
            continue
        for b in range(a, k):
            out[:, a, b] = np.bincount(codes, weights=weights * x[:, a] * x[:, b], minlength=n)
            out[:, b, a] = out[:, a, b]
    return out


def domain_moments(
    w: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    ycode: np.ndarray,
    n_cats: int,
    gcode: np.ndarray,
    n_groups: int,
    cal: Calibration | None,
    *,
    cov: bool = False,
) -> dict[str, np.ndarray]:
    """Shares and their design (co)variances in every domain, in one pass.

    Parameters
    ----------
    w : ndarray
        Sampling weights of all design rows.
    s, p : ndarray
        Stratum and stratum-nested PSU codes (:func:`pollwaves.survey.design.design_codes`).
    ycode : ndarray of int
        Category code of each row's answer (``-1``: missing).
    n_cats : int
        Number of categories K.
    gcode : ndarray of int
        Domain code of each row (``-1``: in no domain).
    n_groups : int
        Number of domains G.
    cal : Calibration or None
        Calibration model (raking-aware SEs) or none.
    cov : bool
        Full K x K covariance per domain instead of the variances.

    Returns
    -------
    dict
        ``est`` (G, K), ``var`` (G, K) or (G, K, K), ``n``, ``df``, ``wsum``, ``kish_n`` (G,).
    """
    big_g, k = n_groups, n_cats
    r = (ycode >= 0) & (gcode >= 0)
    if r.all():
        r, gr, wr, yr = slice(None), gcode, w, ycode
    else:
        gr, wr, yr = gcode[r], w[r], ycode[r]
    n_d = np.bincount(gr, minlength=big_g)
    wsum = np.bincount(gr, weights=wr, minlength=big_g)
    w2 = np.bincount(gr, weights=wr**2, minlength=big_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        a1 = np.bincount(gr * k + yr, weights=wr, minlength=big_g * k).reshape(big_g, k)
        est = a1 / wsum[:, None]
        kish_n = wsum**2 / w2
    n_psu = int(p.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[p] = s
    n_h = np.bincount(psu_stratum)
    if (n_h == 1).any() and big_g:
        raise InputError(
            "A stratum has a single PSU; its variance cannot be estimated",
            value=int(np.flatnonzero(n_h == 1)[0]),
            hint="collapse the lonely-PSU stratum with a neighbouring stratum",
        )
    scale_h = n_h / np.maximum(n_h - 1, 1)
    one_per_row = n_psu == len(p) and bool((p == np.arange(len(p))).all())
    ctx = (s, p, r, gr, wr, yr, k, est, wsum, n_h, scale_h, psu_stratum, big_g, cov)
    var, dof, tsum, hg_h, hg_g, x1 = (_rows_as_psus if one_per_row else _psu_pairs)(*ctx)
    if cal is not None:
        ts = _gk_matrix(tsum, hg_h, hg_g, len(n_h), big_g)
        rows = (r, gr, yr, est)
        var = var + _calibration_terms(w, s, cal, rows, wsum, x1, ts, scale_h, n_h, cov, big_g)
    return {"est": est, "var": var, "n": n_d, "df": dof, "wsum": wsum, "kish_n": kish_n}


def _gk_matrix(vals, rows, g, n_rows, big_g):
    """Sparse (rows x G K) matrix with ``vals[i]`` (K values) at row ``rows[i]``, block ``g[i]``."""
    k = vals.shape[1]
    cols = (g[:, None] * k + np.arange(k)).ravel()
    return sparse.csr_matrix((vals.ravel(), (np.repeat(rows, k), cols)), shape=(n_rows, big_g * k))


def _rows_as_psus(s, p, r, gr, wr, yr, k, est, wsum, n_h, scale_h, psu_stratum, big_g, cov):
    """Each row its own PSU: every sum is a (stratum, domain) cell sum of w, w^2, w y, w^2 y.

    Within a cell ``sum z_k = (sum w y_k - p_k sum w) / W`` and, with one-hot ``y``, ``sum z_k
    z_l = sum w^2 (y_k - p_k)(y_l - p_l) / W^2``, e.g. ``(A_k (1-p_k)^2 + (B - A_k) p_k^2) / W^2``
    for ``k = l`` (``A = sum w^2 y``, ``B = sum w^2``): no per-row linearised values needed.
    """
    hg, hg_h, hg_g = _pair_codes(s[r], gr, big_g)
    n_hg = len(hg_h)
    b1 = np.bincount(hg, weights=wr, minlength=n_hg)
    w2 = wr**2
    b2 = np.bincount(hg, weights=w2, minlength=n_hg)
    code = hg * k + yr
    a1 = np.bincount(code, weights=wr, minlength=n_hg * k).reshape(n_hg, k)
    a2 = np.bincount(code, weights=w2, minlength=n_hg * k).reshape(n_hg, k)
    pk, wg = est[hg_g], wsum[hg_g][:, None]
    tsum = (a1 - pk * b1[:, None]) / wg
    coef = scale_h[hg_h]
    nh = n_h[hg_h]
    if cov:
        zz = (b2[:, None, None] * pk[:, :, None] * pk[:, None, :]) - a2[:, :, None] * pk[
            :, None, :
        ]
        zz = zz - pk[:, :, None] * a2[:, None, :]
        zz[:, np.arange(k), np.arange(k)] += a2
        zz = zz / wg[:, :, None] ** 2 - tsum[:, :, None] * tsum[:, None, :] / nh[:, None, None]
        var = np.zeros((big_g, k, k))
        np.add.at(var, hg_g, coef[:, None, None] * zz)
    else:
        zz = (a2 * (1 - pk) ** 2 + (b2[:, None] - a2) * pk**2) / wg**2 - tsum**2 / nh[:, None]
        var = _sums(hg_g, coef[:, None] * zz, big_g)
    n_d = np.bincount(gr, minlength=big_g)
    dof = n_d - np.bincount(hg_g, minlength=big_g)
    return var, dof, tsum, hg_h, hg_g, None


def _psu_pairs(s, p, r, gr, wr, yr, k, est, wsum, n_h, scale_h, psu_stratum, big_g, cov):
    """PSUs: totals over the (PSU, domain) pairs, then per (stratum, domain), centred."""
    zr = wr[:, None] * (np.eye(k)[yr] - est[gr]) / wsum[gr][:, None]
    pair, pair_psu, pair_g = _pair_codes(p[r], gr, big_g)
    t = _sums(pair, zr, len(pair_psu))
    pair_h = psu_stratum[pair_psu]
    hg, hg_h, hg_g = _pair_codes(pair_h, pair_g, big_g)
    tsum = _sums(hg, t, len(hg_h))
    m = tsum / n_h[hg_h][:, None]
    var = _outer_sums(pair_g, t - m[hg], scale_h[pair_h], big_g, cov)
    empty = scale_h[hg_h] * (n_h[hg_h] - np.bincount(hg, minlength=len(hg_h)))
    var += _outer_sums(hg_g, m, empty, big_g, cov)
    dof = np.bincount(pair_g, minlength=big_g) - np.bincount(hg_g, minlength=big_g)
    n_psu = len(psu_stratum)
    tmat = _gk_matrix(t, pair_psu, pair_g, n_psu, big_g)
    return var, dof, tsum, hg_h, hg_g, (tmat, p)


def _dev_sums(codes, y, v, p, k):
    """``sum v (1[y = k] - p_k)`` within ``codes`` (``p``: one row of shares per code)."""
    n = len(p)
    a = np.bincount(codes * k + y, weights=v, minlength=n * k).reshape(n, k)
    return a - p * np.bincount(codes, weights=v, minlength=n)[:, None]


def _calibration_terms(w, s, cal, rows, wsum, x1, ts, scale_h, n_h, cov, big_g):
    """The change of the variance when the PSU totals ``T`` become ``T - R F``.

    ``sum_j c_j t_j t_j'`` over PSUs minus ``sum_h c_h/n_h S_h S_h'`` over strata (``S_h``
    the stratum sums) is, with ``t = T - R F`` (``R``: PSU x cell sums of ``w``; ``F``: fitted
    cell values): the ``T`` terms minus ``X F + (X F)'`` plus ``F' Q F``, with ``X = T' C R -
    S' (C/n) R_h`` and ``Q = R' C R - R_h' (C/n) R_h`` (``R_h``: stratum x cell sums of ``w``).
    All sparse: a domain touches only its own cells. ``x1`` is ``None`` when every row is a
    PSU (then ``T' C R`` and ``R' C R`` are cell sums), else ``(T, PSU codes)``.
    """
    r, g_r, y_r, est = rows
    n_cells, k = cal.n_cells, est.shape[1]
    cell_r, w_r = cal.cells[r], w[r]
    c_row = scale_h[s]
    c_h = scale_h / n_h
    # base-weighted sums of u = z / w per cell and domain -> fitted cell values F
    cg, cg_c, cg_g = _pair_codes(cell_r, g_r, big_g)
    su = _dev_sums(cg, y_r, cal.base[r], est[cg_g], k) / wsum[cg_g][:, None]
    f = cal.fitted_sparse(_gk_matrix(su, cg_c, cg_g, n_cells, big_g))  # cells x (G K)
    rsum = sparse.csr_matrix((w, (s, cal.cells)), shape=(len(n_h), n_cells))
    if x1 is None:  # rows are PSUs: T' C R and R' C R are cell sums
        cw2 = _dev_sums(cg, y_r, c_row[r] * w_r**2, est[cg_g], k) / wsum[cg_g][:, None]
        x1 = _gk_matrix(cw2, cg_c, cg_g, n_cells, big_g)
        rcr = sparse.diags(np.bincount(cal.cells, weights=c_row * w**2, minlength=n_cells))
    else:
        tmat, p = x1
        n_psu = tmat.shape[0]
        c_psu = np.zeros(n_psu)
        c_psu[p] = c_row
        rmat = sparse.csr_matrix((w, (p, cal.cells)), shape=(n_psu, n_cells))
        x1 = (tmat.T @ sparse.diags(c_psu) @ rmat).T  # cells x (G K)
        rcr = rmat.T @ sparse.diags(c_psu) @ rmat
    x = sparse.csr_matrix(x1.T) - ts.T @ sparse.diags(c_h) @ rsum  # (G K) x cells
    xf = _block_diagonal(x @ f, big_g, k, cov)
    qf = rcr @ f - rsum.T @ (sparse.diags(c_h) @ (rsum @ f))
    fqf = _block_diagonal(f.T @ qf, big_g, k, cov)
    if cov:
        return fqf - xf - xf.transpose(0, 2, 1)
    return fqf - 2 * xf
