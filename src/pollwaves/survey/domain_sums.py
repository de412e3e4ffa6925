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
    return np.column_stack(
        [np.bincount(codes, weights=x[:, j], minlength=n) for j in range(x.shape[1])]
    ).reshape(n, x.shape[1])


def _pair_codes(a: np.ndarray, b: np.ndarray, nb: int):
    """Codes of the distinct pairs ``(a, b)`` present and each pair's ``a`` and ``b``."""
    idx, keys = pd.factorize(a * nb + b)
    keys = np.asarray(keys, dtype=np.int64)
    return idx.astype(np.int64), keys // nb, keys % nb


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
    ymat: np.ndarray,
    valid: np.ndarray,
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
    ymat : ndarray
        Rows x categories 0/1 indicators of the answer.
    valid : ndarray of bool
        Rows with a valid answer.
    gcode : ndarray of int
        Domain code of each row (``-1``: in no domain).
    n_groups : int
        Number of domains.
    cal : Calibration or None
        Calibration model (raking-aware SEs) or none.
    cov : bool
        Full K x K covariance per domain instead of the variances.

    Returns
    -------
    dict
        ``est`` (G, K), ``var`` (G, K) or (G, K, K), ``n``, ``df``, ``wsum``, ``kish_n`` (G,).
    """
    big_g, k = n_groups, ymat.shape[1]
    r = valid & (gcode >= 0)
    gr, wr, yr, pr = gcode[r], w[r], ymat[r], p[r]
    n_d = np.bincount(gr, minlength=big_g)
    wsum = np.bincount(gr, weights=wr, minlength=big_g)
    w2 = np.bincount(gr, weights=wr**2, minlength=big_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = _sums(gr, wr[:, None] * yr, big_g) / wsum[:, None]
        kish_n = wsum**2 / w2
    zr = wr[:, None] * (yr - est[gr]) / wsum[gr][:, None]

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
    # PSU x domain totals, then their (stratum, domain) sums and the centred variance
    pair, pair_psu, pair_g = _pair_codes(pr, gr, big_g)
    t = _sums(pair, zr, len(pair_psu))
    pair_h = psu_stratum[pair_psu]
    hg, hg_h, hg_g = _pair_codes(pair_h, pair_g, big_g)
    tsum = _sums(hg, t, len(hg_h))
    m = tsum / n_h[hg_h][:, None]
    centred = t - m[hg]
    var = _outer_sums(pair_g, centred, scale_h[pair_h], big_g, cov)
    empty = scale_h[hg_h] * (n_h[hg_h] - np.bincount(hg, minlength=len(hg_h)))
    var += _outer_sums(hg_g, m, empty, big_g, cov)
    dof = np.bincount(pair_g, minlength=big_g) - np.bincount(hg_g, minlength=big_g)
    if cal is not None:
        tmat = sparse.csr_matrix(
            (t.ravel(), (np.repeat(pair_psu, k), (pair_g[:, None] * k + np.arange(k)).ravel())),
            shape=(n_psu, big_g * k),
        )
        tsmat = sparse.csr_matrix(
            (tsum.ravel(), (np.repeat(hg_h, k), (hg_g[:, None] * k + np.arange(k)).ravel())),
            shape=(len(n_h), big_g * k),
        )
        cells = (cal.cells[r], gr, zr * (cal.base[r] / wr)[:, None])
        var += _calibration_terms(w, s, p, cal, cells, tmat, tsmat, scale_h, n_h, cov, big_g)
    return {"est": est, "var": var, "n": n_d, "df": dof, "wsum": wsum, "kish_n": kish_n}


def _calibration_terms(w, s, p, cal, cells, tmat, tsmat, scale_h, n_h, cov, big_g):
    """The change of the variance when the PSU totals ``T`` become ``T - R F``.

    ``sum_j c_j t_j t_j'`` over PSUs minus ``sum_h c_h/n_h S_h S_h'`` over strata (``S_h``
    the stratum sums) is, with ``t = T - R F``: the ``T`` terms (computed by the caller) minus
    ``X F + (X F)'`` plus ``F' Q F``, where ``X = T' C R - S_T' (C/n) R_h`` and ``Q = R' C R -
    R_h' (C/n) R_h``.
    """
    cell_r, g_r, u_r = cells
    n_cells, k = cal.n_cells, u_r.shape[1]
    # base-weighted sums of u = z / w per cell and domain -> fitted cell values F
    cg, cg_c, cg_g = _pair_codes(cell_r, g_r, big_g)
    su = _sums(cg, u_r, len(cg_c))
    sums = np.zeros((n_cells, big_g, k))
    sums[cg_c, cg_g] = su
    f = cal.fitted(sums.reshape(n_cells, big_g * k))  # cells x (G K)
    n_psu = int(p.max()) + 1
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[p] = s
    c_psu = scale_h[psu_stratum]
    c_h = scale_h / n_h
    rmat = sparse.csr_matrix((w, (p, cal.cells)), shape=(n_psu, n_cells))
    rsum = sparse.csr_matrix((w, (s, cal.cells)), shape=(len(n_h), n_cells))
    x = (tmat.T @ sparse.diags(c_psu) @ rmat).toarray()
    x -= (tsmat.T @ sparse.diags(c_h) @ rsum).toarray()
    q = (rmat.T @ sparse.diags(c_psu) @ rmat).toarray()
    q -= (rsum.T @ sparse.diags(c_h) @ rsum).toarray()
    x3 = x.reshape(big_g, k, n_cells)
    f3 = f.reshape(n_cells, big_g, k)
    qf3 = (q @ f).reshape(n_cells, big_g, k)
    if cov:
        xf = np.einsum("gkc,cgl->gkl", x3, f3)
        return np.einsum("cgk,cgl->gkl", f3, qf3) - xf - xf.transpose(0, 2, 1)
    return np.einsum("cgk,cgk->gk", f3, qf3) - 2 * np.einsum("gkc,cgk->gk", x3, f3)
