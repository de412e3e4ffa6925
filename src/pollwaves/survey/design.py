"""Shared pieces of design-based variance estimation (Taylor linearisation).

The sample design is described by integer stratum codes and stratum-nested PSU codes per
row; ``design_variance`` then gives the with-replacement between-PSU variance of weighted
totals, as R ``survey:::svyrecvar`` does. Estimators build their linearised influence
values ``z`` (one column per statistic) and pass them here. All functions assume sampling
weights.

A data row may also stand for a *group* of respondents (:class:`RowGroups`): respondents of
one stratum, each its own PSU, who share every variable of the analysis. Their weights are
summed into the row's weight (sampling weights, never frequency weights) and their squared
weights into a second column. Every linearised value of such respondents is their own
weight times one common factor, so the row's total ``z_r`` and the ratio
``sum w^2 / (sum w)^2`` give the within-stratum sum of squares exactly: the variance of the
grouped rows equals that of the respondents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pollwaves.errors import InputError

__all__ = [
    "RowGroups",
    "as_list",
    "check_columns",
    "design_codes",
    "design_variance",
    "row_groups",
]


@dataclass(frozen=True)
class RowGroups:
    """Rows that each stand for a group of respondents (see the module docstring).

    Attributes
    ----------
    size : ndarray
        Respondents per row (float, >= 1).
    sq : ndarray
        Per row ``sum w_i^2 / (sum w_i)^2`` over its respondents' sampling weights (1 for a
        single respondent).
    """

    size: np.ndarray
    sq: np.ndarray


def row_groups(
    df: pd.DataFrame,
    weight: str | None,
    group_size: str | None,
    group_weight_sq: str | None,
    psu: str | None = None,
) -> RowGroups | None:
    """The :class:`RowGroups` of ``df`` (``None`` when ``group_size`` is ``None``).

    ``group_size`` names the column of respondents per row, ``group_weight_sq`` that of
    their summed squared sampling weights; ``weight`` (their summed weights) is required.
    Grouped rows need each respondent to be its own PSU (``psu=None``).
    """
    if group_size is None:
        if group_weight_sq is not None:
            raise InputError("group_weight_sq needs group_size", column=group_weight_sq)
        return None
    if weight is None or group_weight_sq is None or psu is not None:
        raise InputError(
            "Grouped rows need the summed weights and squared weights, and no PSU column",
            column=group_size,
            hint="pass weight= and group_weight_sq=; respondents are their own PSUs",
        )
    check_columns(df, [weight, group_size, group_weight_sq])
    size = pd.to_numeric(df[group_size], errors="coerce").to_numpy(dtype=float)
    w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
    w2 = pd.to_numeric(df[group_weight_sq], errors="coerce").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sq = w2 / (w * w)
    # Cauchy-Schwarz: (sum w)^2 / n <= sum w^2 <= (sum w)^2
    slack = 1e-9
    bad = ~(np.isfinite(size) & (size >= 1) & (size == np.round(size)))
    bad |= ~(np.isfinite(sq) & (sq * size >= 1 - slack) & (sq <= 1 + slack))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "A grouped row has an impossible size or squared-weight sum",
            column=group_weight_sq,
            row=i + 1,
            value=(df[group_size].iloc[i], df[weight].iloc[i], df[group_weight_sq].iloc[i]),
            hint="the size must be a whole number >= 1 and (sum w)^2/n <= sum w^2 <= (sum w)^2",
        )
    return RowGroups(size, sq)


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
    z: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    *,
    cov: bool = False,
    groups: RowGroups | None = None,
) -> np.ndarray:
    """Between-PSU-within-strata variance of the totals of the columns of ``z``.

    With ``cov=True`` the full covariance matrix of the column totals is returned.

    ``V = sum_h n_h/(n_h-1) sum_j (t_hj - mean_h t)^2`` with ``t_hj`` the PSU totals, as
    R ``svyrecvar`` (with replacement at the first stage, no finite population correction).
    PSUs outside a domain contribute zero totals (domain estimation by zero-padding).
    With ``groups`` each row is a group of respondents, each its own PSU (module
    docstring): ``n_h`` counts respondents, and the sum of squares is
    ``sum_r sq_r z_r z_r' - S_h S_h' / n_h``.
    """
    if groups is not None:
        return _grouped_variance(np.asarray(z, dtype=float), s, groups, cov)
    n_psu = int(p.max()) + 1
    totals = _group_sums(z, p, n_psu)
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[p] = s
    n_h = np.bincount(psu_stratum)
    if (n_h == 1).any():
        raise _lonely_psu(int(np.flatnonzero(n_h == 1)[0]))
    sums = _group_sums(totals, psu_stratum, len(n_h))
    centred = totals - (sums / np.maximum(n_h, 1)[:, None])[psu_stratum]
    scale = (n_h / np.maximum(n_h - 1, 1))[psu_stratum]
    if cov:
        return (scale[:, None] * centred).T @ centred
    return (scale[:, None] * centred**2).sum(axis=0)


def _lonely_psu(stratum: int) -> InputError:
    return InputError(
        "A stratum has a single PSU; its variance cannot be estimated",
        value=stratum,
        hint="collapse the lonely-PSU stratum with a neighbouring stratum",
    )


def _grouped_variance(z: np.ndarray, s: np.ndarray, groups: RowGroups, cov: bool) -> np.ndarray:
    flat = z.reshape(len(z), -1)
    n_h = np.bincount(s, weights=groups.size)
    if ((n_h > 0) & (n_h < 2)).any():
        raise _lonely_psu(int(np.flatnonzero((n_h > 0) & (n_h < 2))[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, n_h / (n_h - 1), 0.0)
        per_n = np.where(n_h > 0, scale / n_h, 0.0)
    sums = _group_sums(flat, s, len(n_h))
    row = scale[s] * groups.sq
    if cov:
        return (flat * row[:, None]).T @ flat - (sums * per_n[:, None]).T @ sums
    out = row @ flat**2 - per_n @ sums**2
    return out if z.ndim > 1 else out[0]
