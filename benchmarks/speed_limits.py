"""Plain-numpy sketches of the benchmark tasks: the arithmetic each needs, no more.

The "numpy limit" of ``benchmarks/speed.py`` (issue 15): bincount raking and grouped
linearised variances on integer-coded columns, and Newton fits with their sandwich on the
cells of distinct (stratum, covariate, response) patterns. No input checks, no labels, no
data frames: a lower bound for what a library that does those things can cost. All weights
are sampling weights. The design is the benchmark's: strata = waves, each respondent its own
PSU.
"""

from __future__ import annotations

import numpy as np


def rake_all(codes: list[np.ndarray], targets: list[np.ndarray], wave: np.ndarray, n_waves):
    """Rake every wave to its margins at once: ``codes[m]`` level codes, ``targets[m]`` shares."""
    w = np.ones(len(wave))
    keys = [wave * len(t) + c for c, t in zip(codes, targets, strict=True)]
    size = np.bincount(wave, minlength=n_waves).astype(float)
    goal = [np.outer(size, t).ravel() for t in targets]
    for _ in range(100):
        worst = 0.0
        for k, g in zip(keys, goal, strict=True):
            tot = np.bincount(k, weights=w, minlength=len(g))
            worst = max(worst, float(np.max(np.abs(tot - g) / size.repeat(len(g) // n_waves))))
            w *= (g / tot)[k]
        if worst < 1e-10:
            break
    return w


def _share_sums(y, k, dom, n_dom, w):
    wsum = np.bincount(dom, weights=w, minlength=n_dom)
    w2 = np.bincount(dom, weights=w * w, minlength=n_dom)
    wy = np.column_stack(
        [np.bincount(dom, weights=w * (y == j), minlength=n_dom) for j in range(k)]
    )
    w2y = np.column_stack(
        [np.bincount(dom, weights=w * w * (y == j), minlength=n_dom) for j in range(k)]
    )
    return wsum, w2, wy, w2y


def shares(y, k, dom, dom_stratum, n_h, w):
    """Shares of ``k`` categories per domain, linearised SEs (strata, one PSU per row).

    ``sum z = 0`` within a domain, so ``V = n_h/(n_h - 1) sum z^2``, and ``sum z^2`` is a
    combination of the sums of ``w^2 y`` and ``w^2`` per domain.
    """
    n_dom = len(dom_stratum)
    wsum, w2, wy, w2y = _share_sums(y, k, dom, n_dom, w)
    p = wy / wsum[:, None]
    z2 = (w2y * (1 - 2 * p) + p * p * w2[:, None]) / wsum[:, None] ** 2
    nh = n_h[dom_stratum][:, None]
    return p, np.sqrt(nh / (nh - 1) * z2)


def shares_calibrated(y, k, dom, dom_stratum, n_h, w, cell, n_cells, cell_x, cell_stratum):
    """As :func:`shares`, the linearised values residualised on the per-stratum raking model.

    ``cell``: calibration cell of each row (cells nested in strata); ``cell_x``: the model row
    of each cell. The residual of row i is ``z_i - w_i F_c(i)``, ``F`` fitted on the cells.
    """
    n_dom = len(dom_stratum)
    wsum, w2, wy, w2y = _share_sums(y, k, dom, n_dom, w)
    p = wy / wsum[:, None]
    z2 = (w2y * (1 - 2 * p) + p * p * w2[:, None]) / wsum[:, None] ** 2
    cd = cell * n_dom + dom
    size = n_cells * n_dom
    c_n = np.bincount(cd, minlength=size).reshape(n_cells, n_dom)
    c_w2 = np.bincount(cd, weights=w * w, minlength=size).reshape(n_cells, n_dom)
    c_y = np.stack(
        [np.bincount(cd, weights=(y == j), minlength=size) for j in range(k)], -1
    ).reshape(n_cells, n_dom, k)
    c_w2y = np.stack(
        [np.bincount(cd, weights=w * w * (y == j), minlength=size) for j in range(k)], -1
    ).reshape(n_cells, n_dom, k)
    s_u = (c_y - c_n[:, :, None] * p) / wsum[:, None]  # sum w0 u per cell (w0 = 1)
    s_wz = (c_w2y - c_w2[:, :, None] * p) / wsum[:, None]  # sum w z per cell
    cell_w = np.bincount(cell, minlength=n_cells).astype(float)
    cell_w2 = np.bincount(cell, weights=w * w, minlength=n_cells)
    cell_ww = np.bincount(cell, weights=w, minlength=n_cells)
    fit = np.zeros_like(s_u)
    for h in range(len(n_h)):
        cs = np.flatnonzero(cell_stratum == h)
        ds = np.flatnonzero(dom_stratum == h)
        root = np.sqrt(cell_w[cs])[:, None]
        rhs = s_u[np.ix_(cs, ds)].reshape(len(cs), -1)
        beta = np.linalg.lstsq(cell_x[cs] * root, rhs / root, rcond=None)[0]
        fit[np.ix_(cs, ds)] = (cell_x[cs] @ beta).reshape(len(cs), len(ds), k)
    r2 = z2 - 2 * np.einsum("cdk,cdk->dk", fit, s_wz) + np.einsum("cdk,c->dk", fit**2, cell_w2)
    r1 = -np.einsum("cdk,c->dk", fit, cell_ww)
    nh = n_h[dom_stratum][:, None]
    return p, np.sqrt(nh / (nh - 1) * (r2 - r1**2 / nh))


def _cell_meat(e, cw, cw2, cell_stratum, n_h):
    """Between-row-within-strata variance of row values ``w_i e_c(i)`` from cell sums.

    ``sum_i w_i^2 e e'`` is ``sum_c (sum_c w^2) e_c e_c'``; the stratum totals are
    ``sum_c (sum_c w) e_c``.
    """
    scale = n_h / (n_h - 1)
    tot = np.zeros((len(n_h), e.shape[1]))
    np.add.at(tot, cell_stratum, e * cw[:, None])
    within = (e * (cw2 * scale[cell_stratum])[:, None]).T @ e
    return within - (tot * (scale / n_h)[:, None]).T @ tot


def logit_cells(x, y, cw, cw2, cell_stratum, n_h):
    """IRLS on cells (rows of ``x`` with response ``y``, weight sums ``cw``) and the sandwich."""
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        mu = 1 / (1 + np.exp(-(x @ beta)))
        info = x.T @ (x * (cw * mu * (1 - mu))[:, None])
        step = np.linalg.solve(info, x.T @ (cw * (y - mu)))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    mu = 1 / (1 + np.exp(-(x @ beta)))
    a_inv = np.linalg.inv(x.T @ (x * (cw * mu * (1 - mu))[:, None]))
    e = (x * (y - mu)[:, None]) @ a_inv
    return beta, _cell_meat(e, cw, cw2, cell_stratum, n_h)


def mnlogit_cells(x, yk, k, cw, cw2, cell_stratum, n_h):
    """Newton on cells for a K-category logit (reference 0) and the sandwich."""
    p, k1 = x.shape[1], k - 1
    ymat = np.eye(k)[yk][:, 1:]
    beta = np.zeros((p, k1))
    for _ in range(50):
        eta = np.hstack([np.zeros((len(x), 1)), x @ beta])
        prob = np.exp(eta - eta.max(1, keepdims=True))
        prob /= prob.sum(1, keepdims=True)
        info = np.empty((k1 * p, k1 * p))
        for j in range(k1):
            for m in range(k1):
                wt = cw * prob[:, j + 1] * ((j == m) - prob[:, m + 1])
                info[j * p : (j + 1) * p, m * p : (m + 1) * p] = x.T @ (x * wt[:, None])
        grad = (x.T @ (cw[:, None] * (ymat - prob[:, 1:]))).T.ravel()
        step = np.linalg.solve(info, grad)
        beta += step.reshape(k1, p).T
        if np.max(np.abs(step)) < 1e-11:
            break
    e = ((ymat - prob[:, 1:])[:, :, None] * x[:, None, :]).reshape(len(x), -1)
    e = e @ np.linalg.inv(info)
    return beta, _cell_meat(e, cw, cw2, cell_stratum, n_h)
