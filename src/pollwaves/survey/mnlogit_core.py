"""Numerical core of :mod:`pollwaves.survey.mnlogit`: probabilities, information, Newton.

The weighted log pseudo-likelihood ``sum_i w_i log p_{i,y_i}`` of a multinomial logit with
*sampling weights* (never frequency weights), its information matrix, the Newton-Raphson
maximiser, the logit-scale share interval and the patsy model matrix.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.formula._manager import FormulaManager

from pollwaves.errors import InputError
from pollwaves.survey import dist

__all__ = [
    "information",
    "logit_ci",
    "model_matrix",
    "newton",
    "response_categories",
    "softmax",
    "sparse_design",
]

_TOL, _MAXITER = 1e-11, 100


def softmax(x: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of all K categories (reference first) and the row log-normalisers."""
    eta = np.hstack([np.zeros((x.shape[0], 1)), x @ beta])
    m = eta.max(axis=1, keepdims=True)
    e = np.exp(eta - m)
    tot = e.sum(axis=1, keepdims=True)
    return e / tot, (m + np.log(tot))[:, 0]


#: Model matrices with more entries than this, and at most this share of nonzeros, get their
#: information from sparse products (wave dummies of many pooled waves: O(n nnz^2), not
#: O(n p^2)); smaller or denser ones from dense BLAS products.
_SPARSE_SIZE, _SPARSE_DENSITY = 2_000_000, 0.25


def sparse_design(x: np.ndarray):
    """``x`` as a CSR matrix when it is large and mostly zeros (dummies), else ``None``."""
    if x.size <= _SPARSE_SIZE:
        return None
    nnz = np.count_nonzero(x)
    if nnz > _SPARSE_DENSITY * x.size:
        return None
    from scipy import sparse

    return sparse.csr_matrix(x)


def outer_rows(v: np.ndarray, xs):
    """Row-wise outer products ``v_i (x) x_i`` (column ``m p + j`` = ``v_im x_ij``) as a CSR
    matrix, from ``xs``, the non-zeros of ``x`` as a COO matrix (dummies: mostly zeros)."""
    from scipy import sparse

    k, p = v.shape[1], xs.shape[1]
    vals = (v[xs.row] * xs.data[:, None]).T.ravel()
    cols = (np.arange(k)[:, None] * p + xs.col[None, :]).ravel()
    return sparse.csr_matrix((vals, (np.tile(xs.row, k), cols)), shape=(xs.shape[0], k * p))


def information(x: np.ndarray, w: np.ndarray, prob: np.ndarray, xs=None) -> np.ndarray:
    """Weighted information ``sum_i w_i (diag(p_i) - p_i p_i') (x) x_i x_i'`` (category-major).

    ``xs``: :func:`sparse_design` of ``x`` (``None``: dense products).
    """
    k1, p = prob.shape[1] - 1, x.shape[1]
    a = np.empty((k1 * p, k1 * p))
    for j in range(k1):
        for m in range(j, k1):
            v = w * prob[:, j + 1] * ((j == m) - prob[:, m + 1])
            if xs is None:
                blk = x.T @ (x * v[:, None])
            else:
                blk = (xs.T @ xs.multiply(v[:, None]).tocsr()).toarray()
            a[j * p : (j + 1) * p, m * p : (m + 1) * p] = blk
            a[m * p : (m + 1) * p, j * p : (j + 1) * p] = blk.T
    return a


def newton(x: np.ndarray, yk: np.ndarray, w: np.ndarray, k1: int) -> tuple[np.ndarray, bool]:
    """Maximise ``sum w_i log p_{i,y_i}``; ``yk`` holds category codes (0 = reference)."""
    ymat, beta = np.eye(k1 + 1)[yk][:, 1:], np.zeros((x.shape[1], k1))
    xs = sparse_design(x)

    def loglik(b: np.ndarray) -> tuple[float, np.ndarray]:
        prob, lse = softmax(x, b)
        return float(w @ (np.einsum("ij,ij->i", x @ b, ymat) - lse)), prob

    ll, prob = loglik(beta)
    for _ in range(_MAXITER):
        grad = (x.T @ (w[:, None] * (ymat - prob[:, 1:]))).T.ravel()
        try:
            step = np.linalg.solve(information(x, w, prob, xs), grad).reshape(k1, -1).T
        except np.linalg.LinAlgError:  # information singular: separation
            return beta, False
        for _ in range(40):  # step halving: never accept a lower pseudo-likelihood
            ll_new, prob_new = loglik(beta + step)
            if ll_new >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
        beta, ll, prob = beta + step, ll_new, prob_new
        if np.max(np.abs(step)) < _TOL * (1 + np.max(np.abs(beta))):
            return beta, bool(prob.min() > 1e-12)  # p numerically 0 or 1: separation
    return beta, False


def logit_ci(p: np.ndarray, se: np.ndarray, df: float, level: float):
    """Interval ``expit(logit(p) -+ t_df se / (p (1 - p)))`` (R ``svyciprop``, logit)."""
    if not 0 < level < 1:
        raise InputError("level must be between 0 and 1", value=level)
    tq = dist.t_isf((1 - level) / 2, df) if df > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        eta, half = np.log(p / (1 - p)), tq * se / (p * (1 - p))
        return 1 / (1 + np.exp(-(eta - half))), 1 / (1 + np.exp(-(eta + half)))


def model_matrix(spec: Any, data: pd.DataFrame, na: str, what: str) -> pd.DataFrame:
    manager = FormulaManager(engine="patsy")
    try:
        return manager.get_matrices(
            spec, data, eval_env={"np": np}, pandas=True, na_action=manager.get_na_action(na)
        )
    except Exception as err:  # patsy: unknown columns, bad syntax, new levels, NA (raise)
        raise InputError(
            f"Cannot build the model matrix{what}: {err}",
            hint=f"check the formula terms against the columns {list(data.columns)}",
        ) from err


def response_categories(data: pd.DataFrame, lhs: str, reference: Any) -> tuple[str, list, list]:
    """Response column, its categories, and the model order (reference first)."""
    m = re.fullmatch(r"""Q\((['"])(.+)\1\)""", lhs)
    name = m.group(2) if m else lhs
    if name not in data.columns:
        hint = f"available columns: {list(data.columns)}"
        raise InputError("The response must be a column of the data", column=name, hint=hint)
    y = data[name]
    cats = list(y.cat.categories) if isinstance(y.dtype, pd.CategoricalDtype) else None
    cats = sorted(y.dropna().unique().tolist()) if cats is None else cats
    if len(cats) < 2:
        raise InputError("The response needs at least two categories", column=name, value=cats)
    reference = cats[0] if reference is None else reference
    if reference not in cats:
        raise InputError(
            "Unknown reference category", column=name, value=reference, hint=f"use one of {cats}"
        )
    return name, cats, [reference, *[c for c in cats if c != reference]]
