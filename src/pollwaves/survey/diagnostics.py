"""Diagnostics of survey weights: Kish design effect, distance to the targets, margins.

All functions here assume *sampling weights* (probability / calibration weights), never
frequency weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pollwaves.survey.weighting import sampling_weights

__all__ = ["kish", "margin_shares", "weight_agreement", "weight_diagnostics"]


def kish(w: np.ndarray | pd.Series) -> tuple[float, float]:
    """Kish design effect due to unequal weighting and the effective sample size.

    ``deff = n * sum(w^2) / sum(w)^2`` and ``n_eff = sum(w)^2 / sum(w^2)`` (Kish 1965).
    Assumes sampling weights.
    """
    x = np.asarray(w, dtype=float)
    s1, s2 = x.sum(), np.square(x).sum()
    return float(len(x) * s2 / s1**2), float(s1**2 / s2)


def _distance(values: pd.Series, w: np.ndarray, target: Mapping[str, float]) -> float:
    """Total variation distance between the weighted sample and the target shares."""
    t = pd.Series({str(k): float(v) for k, v in target.items()})
    t = t / t.sum()
    s = pd.Series(w, index=values.index).groupby(values.astype(str).to_numpy()).sum()
    s = s / s.sum()
    return float(
        0.5
        * s.reindex(t.index.union(s.index), fill_value=0.0)
        .sub(t.reindex(t.index.union(s.index), fill_value=0.0))
        .abs()
        .sum()
    )


def weight_diagnostics(
    df: pd.DataFrame,
    weight: str,
    margins: Mapping[str, Mapping[str, float]],
    *,
    base_weight: str | None = None,
    iterations: int | None = None,
    share_capped: float | None = None,
) -> pd.DataFrame:
    """One-row summary of a set of raking weights.

    Parameters
    ----------
    df : DataFrame
        Respondents with the final weight column and the raking columns.
    weight : str
        Final sampling-weight column.
    margins : dict
        The raking targets ``{column: {category: target}}`` (totals or shares).
    base_weight : str, optional
        Base weight column (``None``: equal base weights), for the "before" distances.
    iterations, share_capped : optional
        Taken from the ``attrs`` of :func:`rake`'s result when available.

    Returns
    -------
    DataFrame
        One row: ``n, iterations, max_misfit, weight_min, weight_median, weight_max,
        deff_kish, n_eff, share_capped`` and ``tvd_before_<col>``, ``tvd_after_<col>`` (total
        variation distance between sample and target distribution, before and after
        weighting) for each raking column.
    """
    w = df[weight].to_numpy(dtype=float)
    base = sampling_weights(df, base_weight)
    deff, n_eff = kish(w)
    misfit = 0.0
    dist = {}
    for col, tgt in margins.items():
        t = pd.Series({str(k): float(v) for k, v in tgt.items()})
        got = pd.Series(w).groupby(df[col].astype(str).to_numpy()).sum()
        got = got.reindex(t.index, fill_value=0.0) / w.sum()
        misfit = max(misfit, float((got - t / t.sum()).abs().max()))
        dist[f"tvd_before_{col}"] = _distance(df[col], base, tgt)
        dist[f"tvd_after_{col}"] = _distance(df[col], w, tgt)
    row = {
        "n": len(w),
        "iterations": iterations if iterations is not None else df[weight].attrs.get("iterations"),
        "max_misfit": misfit,
        "weight_min": float(w.min()),
        "weight_median": float(np.median(w)),
        "weight_max": float(w.max()),
        "deff_kish": deff,
        "n_eff": n_eff,
        "share_capped": share_capped
        if share_capped is not None
        else df[weight].attrs.get("share_capped", 0.0),
        **dist,
    }
    return pd.DataFrame([row])


def margin_shares(
    df: pd.DataFrame, weight: str, margins: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """Sample, weighted and target shares of every raking category.

    Parameters
    ----------
    df : DataFrame
        Respondents with the raking columns and the final sampling-weight column.
    weight : str
        Final weight column.
    margins : dict
        ``{column: {category: target}}`` (totals or shares).

    Returns
    -------
    DataFrame
        ``variable, category, sample_share, weighted_share, target_share``.
    """
    w = df[weight].to_numpy(dtype=float)
    rows = []
    for col, tgt in margins.items():
        t = pd.Series({str(k): float(v) for k, v in tgt.items()})
        vals = df[col].astype(str).to_numpy()
        n = pd.Series(1.0, index=range(len(vals))).groupby(vals).sum()
        ws = pd.Series(w).groupby(vals).sum()
        for cat in t.index:
            rows.append(
                {
                    "variable": col,
                    "category": cat,
                    "sample_share": float(n.get(cat, 0.0) / len(vals)),
                    "weighted_share": float(ws.get(cat, 0.0) / w.sum()),
                    "target_share": float(t[cat] / t.sum()),
                }
            )
    return pd.DataFrame(rows)


def weight_agreement(
    w: np.ndarray | pd.Series, other: np.ndarray | pd.Series, *, name: str
) -> dict[str, float | int]:
    """How far one set of weights agrees with another (e.g. the pollster's own weight).

    Parameters
    ----------
    w : array-like
        Sampling weights (e.g. the raking weights).
    other : array-like
        The other weights, aligned with ``w``; missing, non-positive or infinite values
        mark respondents without one.
    name : str
        Name of the other weights, used in the keys.

    Returns
    -------
    dict
        ``n_<name>``: respondents with both weights; ``corr_<name>``: Pearson correlation
        of the two weights over them (NaN with fewer than two such respondents or a
        constant weight).
    """
    x = np.asarray(w, dtype=float)
    y = pd.to_numeric(pd.Series(np.asarray(other, dtype=object)), errors="coerce").to_numpy(
        dtype=float
    )
    ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
    corr = np.nan
    if ok.sum() >= 2 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
        corr = float(np.corrcoef(x[ok], y[ok])[0, 1])
    return {f"n_{name}": int(ok.sum()), f"corr_{name}": corr}
