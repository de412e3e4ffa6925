"""Numerical core of :mod:`pollwaves.simulate`: logit helpers and the calibration solver.

Everything works on *collapsed* populations: unique rows of the features a model uses,
with a weight (number of persons, or a cell probability) per row. Expected shares are
weighted means of the row probabilities, so calibrating on the rows is exact for the
population they were collapsed from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pollwaves.errors import InputError

__all__ = [
    "Constraint",
    "calibrate_block",
    "calibrate_grid",
    "effect_matrix",
    "gauss_newton",
    "grid_conditional",
    "ipf",
    "softmax",
]


def softmax(eta: np.ndarray) -> np.ndarray:
    """Row-wise softmax over the last axis."""
    e = np.exp(eta - eta.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def effect_matrix(
    effects: Mapping | None,
    codes: Mapping[str, np.ndarray],
    levels: Mapping[str, Sequence[str]],
    categories: Sequence[str],
    *,
    where: str,
) -> np.ndarray:
    """Sum of log-odds effects ``{variable: {level: {category: coef}}}`` per row.

    Parameters
    ----------
    effects : mapping or None
        The effects; unlisted levels/categories contribute 0.
    codes : mapping
        Integer level codes per variable, one array of equal length per variable.
    levels, categories : sequences
        Level names per variable, and the outcome categories (columns of the result).
    where : str
        Configuration key of ``effects`` for error messages.

    Returns
    -------
    numpy.ndarray
        ``(rows, len(categories))`` log-odds contributions.
    """
    n = len(next(iter(codes.values()))) if codes else 0
    out = np.zeros((n, len(categories)))
    for var, by_level in (effects or {}).items():
        if var not in codes:
            raise InputError(
                f"unknown variable {var!r} in effects",
                key=f"{where}.{var}",
                hint=f"use one of: {', '.join(codes)}",
            )
        for level, by_cat in by_level.items():
            if str(level) not in levels[var]:
                raise InputError(
                    f"unknown level {level!r} of {var}",
                    key=f"{where}.{var}.{level}",
                    hint=f"use one of: {', '.join(levels[var])}",
                )
            rows = codes[var] == list(levels[var]).index(str(level))
            for cat, coef in by_cat.items():
                if str(cat) not in categories:
                    raise InputError(
                        f"unknown category {cat!r}",
                        key=f"{where}.{var}.{level}.{cat}",
                        hint=f"use one of: {', '.join(categories)}",
                    )
                out[rows, list(categories).index(str(cat))] += float(coef)
    return out


def ipf(table: np.ndarray, margins: Sequence[np.ndarray], *, tol: float = 1e-13) -> np.ndarray:
    """Rake a probability table to one-way margins (one margin per axis)."""
    t = table / table.sum()
    for _ in range(10_000):
        for axis, target in enumerate(margins):
            other = tuple(a for a in range(t.ndim) if a != axis)
            current = t.sum(axis=other)
            shape = [1] * t.ndim
            shape[axis] = -1
            t = t * (np.asarray(target) / current).reshape(shape)
        worst = max(
            np.abs(t.sum(axis=tuple(a for a in range(t.ndim) if a != ax)) - m).max()
            for ax, m in enumerate(margins)
        )
        if worst < tol:
            return t
    raise RuntimeError("IPF did not converge")  # pragma: no cover - margins are consistent


def gauss_newton(
    fun: Callable[[np.ndarray], np.ndarray],
    theta0: np.ndarray,
    target: np.ndarray,
    *,
    tol: float = 1e-12,
    max_iter: int = 200,
    h: float = 1e-7,
    rcond: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``fun(theta) = target`` (least squares if over-determined).

    Gauss-Newton with a forward-difference Jacobian, truncated-SVD ``lstsq`` steps and
    step halving. Singular values below ``rcond`` times the largest are treated as zero:
    a direction that the targets cannot pin down (an overall share together with the
    shares of subgroups that partition it, say) keeps its start value instead of being
    fitted to rounding noise, which differs between CPUs and BLAS builds. Stops when the
    largest residual is below ``tol``, or at the least-squares optimum: when no step
    improves the sum of squares, or a full step improves it by less than 1e-12 of itself.

    Returns
    -------
    theta, residual : numpy.ndarray
    """
    theta = np.asarray(theta0, dtype=float).copy()
    r = fun(theta) - target
    for _ in range(max_iter):
        if np.abs(r).max() < tol:
            break
        jac = np.empty((r.size, theta.size))
        for j in range(theta.size):
            t2 = theta.copy()
            t2[j] += h
            jac[:, j] = (fun(t2) - target - r) / h
        step = np.linalg.lstsq(jac, -r, rcond=rcond)[0]
        ss, lam, improved = float(np.sum(r**2)), 1.0, False
        while lam > 1e-6:
            t_new = theta + lam * step
            r_new = fun(t_new) - target
            if np.sum(r_new**2) < ss:
                improved = True
                break
            lam /= 2
        if not improved:
            break
        theta, r = t_new, r_new
        if ss - float(np.sum(r**2)) <= 1e-12 * ss:
            break
    return theta, r


@dataclass(frozen=True)
class Constraint:
    """Expected share of ``categories`` among the rows in ``mask`` (None = all rows)."""

    categories: tuple[int, ...]
    target: float
    mask: np.ndarray | None = None


def calibrate_block(
    base: np.ndarray, weights: np.ndarray, constraints: Sequence[Constraint]
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrate one multinomial logit so that its expected shares meet ``constraints``.

    One parameter per constraint shifts the log-odds of the constraint's categories for
    the rows of its domain (for the overall constraints: the wave x category intercepts).

    Parameters
    ----------
    base : numpy.ndarray
        ``(rows, K)`` log-odds without the calibrated terms.
    weights : numpy.ndarray
        ``(rows,)`` row weights.
    constraints : sequence of Constraint
        Targets (proportions).

    Returns
    -------
    probs, residual : numpy.ndarray
        Calibrated ``(rows, K)`` probabilities and the residual per constraint.
    """
    rows, k = base.shape
    shift = np.zeros((len(constraints), rows, k))
    sel = np.zeros((len(constraints), rows, k))
    for j, c in enumerate(constraints):
        mask = np.ones(rows) if c.mask is None else c.mask.astype(float)
        cats = np.zeros(k)
        cats[list(c.categories)] = 1.0
        shift[j] = mask[:, None] * cats[None, :]
        sel[j] = (weights * mask)[:, None] * cats[None, :] / np.sum(weights * mask)
    target = np.array([c.target for c in constraints])

    def fun(theta: np.ndarray) -> np.ndarray:
        p = softmax(base + np.tensordot(theta, shift, axes=1))
        return np.einsum("jrk,rk->j", sel, p)

    # start: intercepts at the log-odds of the overall targets
    theta0 = np.zeros(len(constraints))
    ref = np.setdiff1d(np.arange(k), [c.categories[0] for c in constraints if c.mask is None])
    ref_share = 1.0 - sum(c.target for c in constraints if c.mask is None)
    if ref.size == 1 and ref_share > 0:
        mean_base = weights @ base / weights.sum()
        for j, c in enumerate(constraints):
            if c.mask is None and len(c.categories) == 1:
                cat = c.categories[0]
                theta0[j] = np.log(c.target / ref_share) - (mean_base[cat] - mean_base[ref[0]])
    theta, resid = gauss_newton(fun, theta0, target)
    return softmax(base + np.tensordot(theta, shift, axes=1)), resid


def grid_conditional(p: np.ndarray) -> np.ndarray:
    """Item marginals of a grid drawn item-wise, conditional on not all answers identical.

    Parameters
    ----------
    p : numpy.ndarray
        ``(rows, items, K)`` unconditional item probabilities.

    Returns
    -------
    numpy.ndarray
        ``(rows, items, K)``: ``(p_jk - P(all = k)) / (1 - sum_k P(all = k))``.
    """
    all_same = np.prod(p, axis=1)  # (rows, K)
    return (p - all_same[:, None, :]) / (1.0 - all_same.sum(axis=1))[:, None, None]


def calibrate_grid(
    base: np.ndarray, weights: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrate the item intercepts of a grid to conditional (not straight-lined) targets.

    Parameters
    ----------
    base : numpy.ndarray
        ``(rows, items, K)`` log-odds without intercepts (last category = reference).
    weights : numpy.ndarray
        ``(rows,)`` row weights.
    targets : numpy.ndarray
        ``(items, K)`` target shares (proportions, rows sum to 1).

    Returns
    -------
    probs, residual : numpy.ndarray
        Calibrated unconditional ``(rows, items, K)`` item probabilities and the residual
        of the conditional shares (``items * (K - 1)``).
    """
    items, k = targets.shape
    w = weights / weights.sum()

    def eta(theta: np.ndarray) -> np.ndarray:
        alpha = np.concatenate([theta.reshape(items, k - 1), np.zeros((items, 1))], axis=1)
        return base + alpha[None, :, :]

    def fun(theta: np.ndarray) -> np.ndarray:
        q = grid_conditional(softmax(eta(theta)))
        return np.einsum("r,rjk->jk", w, q)[:, : k - 1].ravel()

    mean_base = np.einsum("r,rjk->jk", w, base)
    theta0 = (
        np.log(targets[:, : k - 1] / targets[:, k - 1 :])
        - (mean_base[:, : k - 1] - mean_base[:, k - 1 :])
    ).ravel()
    theta, resid = gauss_newton(fun, theta0, targets[:, : k - 1].ravel())
    return softmax(eta(theta)), resid
