"""Shared pieces of design-based variance estimation (Taylor linearisation).

The sample design is described by integer stratum codes and stratum-nested PSU codes per
row; ``design_variance`` then gives the with-replacement between-PSU variance of weighted
totals, as R ``survey:::svyrecvar`` does. Estimators build their linearised influence
values ``z`` (one column per statistic) and pass them here. All functions assume sampling
weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError

__all__ = ["as_list", "check_columns", "design_codes", "design_variance"]


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    for c in cols:
        if c not in df.columns:
            raise InputError(
                "Column not found", column=c, hint=f"available columns: {list(df.columns)}"
            )


def design_codes(
    df: pd.DataFrame, strata: str | None, psu: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Integer stratum and (stratum-nested) PSU codes for each row."""
    n = len(df)
    s = np.zeros(n, dtype=np.int64)
    if strata is not None:
        s = pd.factorize(df[strata], sort=True)[0].astype(np.int64)
    if psu is None:
        p = np.arange(n, dtype=np.int64)
    else:
        p = pd.factorize(pd.MultiIndex.from_arrays([s, df[psu].to_numpy()]), sort=True)[0]
    if (s < 0).any() or (p < 0).any():
        raise InputError("Missing stratum or PSU identifier", column=strata or psu)
    return s, p.astype(np.int64)


def _group_sums(x: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``x`` within integer ``groups`` (``np.bincount`` per column: fast)."""
    if n_groups == len(groups) and (groups == np.arange(n_groups)).all():
        return np.asarray(x, dtype=float)
    return np.column_stack(
        [np.bincount(groups, weights=x[:, j], minlength=n_groups) for j in range(x.shape[1])]
    ).reshape(n_groups, x.shape[1])


def design_variance(
    z: np.ndarray, s: np.ndarray, p: np.ndarray, *, cov: bool = False
) -> np.ndarray:
    """Between-PSU-within-strata variance of the totals of the columns of ``z``.

    With ``cov=True`` the full covariance matrix of the column totals is returned.

    ``V = sum_h n_h/(n_h-1) sum_j (t_hj - mean_h t)^2`` with ``t_hj`` the PSU totals, as
    R ``svyrecvar`` (with replacement at the first stage, no finite population correction).
    PSUs outside a domain contribute zero totals (domain estimation by zero-padding).
    """
    n_psu = int(p.max()) + 1
    totals = _group_sums(z, p, n_psu)
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[p] = s
    n_h = np.bincount(psu_stratum)
    if (n_h == 1).any():
        raise InputError(
            "A stratum has a single PSU; its variance cannot be estimated",
            value=int(np.flatnonzero(n_h == 1)[0]),
            hint="collapse the lonely-PSU stratum with a neighbouring stratum",
        )
    sums = _group_sums(totals, psu_stratum, len(n_h))
    centred = totals - (sums / np.maximum(n_h, 1)[:, None])[psu_stratum]
    scale = (n_h / np.maximum(n_h - 1, 1))[psu_stratum]
    if cov:
        return (scale[:, None] * centred).T @ centred
    return (scale[:, None] * centred**2).sum(axis=0)
