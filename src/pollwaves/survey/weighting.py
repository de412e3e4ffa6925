"""Raking (iterative proportional fitting) of survey weights and trimming.

Diagnostics of the result (Kish deff, distance to the targets) are in
:mod:`pollwaves.survey.diagnostics`.

All functions here work with *sampling weights* (probability / calibration weights: the
number of population members a respondent stands for). They are not frequency weights:
a weight of 3 does not mean three identical interviews.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pollwaves.errors import InputError

__all__ = [
    "RakingError",
    "rake",
    "sampling_weights",
    "trim_weights",
]

_TOTAL_RTOL = 1e-6


class RakingError(InputError):
    """Raking cannot produce weights that meet the margins."""


def sampling_weights(df: pd.DataFrame, weight: str | None) -> np.ndarray:
    """Validated sampling weights of ``df`` as a float array (``None``: all equal to 1).

    Raises
    ------
    InputError
        If the column is missing, or a weight is missing, non-positive or infinite; the
        message names the column, the 1-based row and the value.
    """
    if weight is None:
        return np.ones(len(df))
    if weight not in df.columns:
        raise InputError(
            "Weight column not found",
            column=weight,
            hint=f"pass one of {list(df.columns)} or weight=None for equal weights",
        )
    w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            "Sampling weights must be positive and finite",
            column=weight,
            row=i + 1,
            value=df[weight].iloc[i],
            hint="repair the weights or drop those respondents first",
        )
    return w


def _labels(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Code of each value and the distinct values as strings (one conversion per level)."""
    level, uniques = pd.factorize(values)
    return level, np.asarray(pd.Index(uniques).astype(str))


def _targets(
    df: pd.DataFrame,
    margins: Mapping[str, Mapping[str, float]],
    base_total: float,
    codes: dict | None = None,
) -> dict[str, pd.Series]:
    """Validate margins against the sample; return target totals per raking column.

    ``codes``, when given, receives ``{column: (level codes, level labels)}``.
    """
    if not margins:
        raise InputError("No raking margins given", hint="pass {column: {category: target}}")
    totals = {}
    out = {}
    coded = {} if codes is None else codes
    for col, tgt in margins.items():
        if col not in df.columns:
            raise RakingError(
                "Raking column not found in the data",
                column=col,
                hint=f"available columns: {list(df.columns)}",
            )
        tdict = {str(k): float(v) for k, v in tgt.items()}
        tval = np.fromiter(tdict.values(), dtype=float, count=len(tdict))
        t = pd.Series(tval, index=pd.Index(list(tdict), dtype=object), dtype=float)
        if (tval < 0).any() or not np.isfinite(tval).all():
            raise RakingError(
                "Raking targets must be finite and non-negative", column=col, value=dict(t)
            )
        level, labels = _labels(df[col])
        if (level < 0).any():
            i = int(np.flatnonzero(level < 0)[0])
            raise RakingError(
                "Missing value in a raking column",
                column=col,
                row=i + 1,
                hint="impute or drop respondents with a missing raking variable before raking",
            )
        extra = sorted(set(labels) - set(tdict))
        if len(extra):
            raise RakingError(
                "The sample has a category that the targets lack",
                column=col,
                value=extra[0],
                hint=f"add it to the margins for {col!r} or recode it; targets: {list(t.index)}",
            )
        seen = set(labels)
        absent = [k for k, v in tdict.items() if v > 0 and k not in seen]
        if len(absent):
            raise RakingError(
                "A target category is absent from the sample",
                column=col,
                value=absent[0],
                hint="collapse it with a neighbouring category in both sample and margins",
            )
        totals[col] = float(tval.sum())
        out[col] = t
        coded[col] = (level, labels)
    share_cols = [c for c, s in totals.items() if abs(s - 1.0) <= _TOTAL_RTOL]
    if len(share_cols) == len(totals):
        return {c: pd.Series(t.to_numpy() * base_total, index=t.index) for c, t in out.items()}
    if share_cols:
        raise RakingError(
            "Margins mix shares and totals",
            column=share_cols[0],
            hint="give every margin as shares (summing to 1) or every margin as totals",
        )
    ref_col, ref = next(iter(totals.items()))
    for col, s in totals.items():
        if abs(s - ref) > _TOTAL_RTOL * ref:
            raise RakingError(
                f"Margins disagree on the total: {col!r} sums to {s:g} but {ref_col!r} "
                f"sums to {ref:g}",
                column=col,
                hint="scale all margins to the same population total",
            )
    return out


def rake(
    df: pd.DataFrame,
    margins: Mapping[str, Mapping[str, float]],
    weight: str | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
    cap: float | None = None,
) -> pd.Series:
    """Rake weights to marginal targets by iterative proportional fitting.

    Parameters
    ----------
    df : DataFrame
        Respondent-level data holding the raking columns (no missing values).
    margins : dict
        ``{column: {category: target}}``. Targets are population totals, or shares that sum
        to 1 (shares are scaled to the sum of the base weights). All margins must agree on
        the total.
    weight : str, optional
        Column of base (design) weights; ``None`` means equal base weights of 1.
    max_iter : int
        Maximum number of full raking cycles.
    tol : float
        Convergence criterion: the largest absolute margin misfit, as a share of the total.
    cap : float, optional
        Upper bound on the ratio final weight / base weight (anesrake-style). Weights above
        it are set to the bound and the raking continues, until both the margins and the
        bound hold.

    Returns
    -------
    Series
        Final sampling weights aligned with ``df.index``, named ``weight``. ``attrs`` holds
        ``iterations``, ``max_misfit`` and ``share_capped``.

    Raises
    ------
    RakingError
        If the raking does not converge, the margins disagree on the total, a target category
        is absent from the sample, or the sample has a category the targets lack.

    Notes
    -----
    Matches R ``survey::rake()`` / ``calibrate(..., calfun="raking")`` weights. Weights are
    sampling weights (not frequency weights).

    Examples
    --------
    >>> d = pd.DataFrame({"sex": ["m", "m", "f"]})
    >>> rake(d, {"sex": {"m": 0.5, "f": 0.5}}).tolist()
    [0.75, 0.75, 1.5]
    """
    base = sampling_weights(df, weight)
    total = float(base.sum())
    coded: dict = {}
    targets = _targets(df, margins, total, coded)
    grand = float(next(iter(targets.values())).sum())
    codes = {}
    for col, t in targets.items():
        level, labels = coded[col]
        idx = pd.Index(t.index).get_indexer(labels)[level]
        codes[col] = (idx, t.to_numpy())
    if cap is not None and cap <= 1:
        raise InputError("cap must be greater than 1", value=cap, hint="use e.g. cap=5")
    w = base * (grand / total)
    capped = np.zeros(len(w), dtype=bool)
    misfit = np.inf
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        for idx, tvec in codes.values():
            cur = np.bincount(idx, weights=w, minlength=len(tvec))
            ratio = np.divide(tvec, cur, out=np.zeros_like(tvec), where=cur > 0)
            w = w * ratio[idx]
        if cap is not None:
            limit = cap * base * (grand / total)
            capped = w > limit * (1 + 1e-12)
            w = np.minimum(w, limit)
        misfit = (
            max(
                float(np.abs(np.bincount(idx, weights=w, minlength=len(tvec)) - tvec).max())
                for idx, tvec in codes.values()
            )
            / grand
        )
        if misfit <= tol:
            break
    if misfit > tol:
        raise RakingError(
            f"Raking did not converge in {max_iter} iterations (largest margin misfit "
            f"{misfit:.3g} of the total, tolerance {tol:g})",
            hint="raise max_iter, loosen cap, or collapse sparse categories",
        )
    out = pd.Series(w, index=df.index, name="weight")
    out.attrs.update(iterations=iterations, max_misfit=misfit, share_capped=float(capped.mean()))
    return out


def trim_weights(
    w: pd.Series,
    lower_quantile: float | None = None,
    upper_quantile: float | None = None,
    cap: float | None = None,
) -> pd.Series:
    """Trim extreme sampling weights and rescale so the weight total is unchanged.

    Parameters
    ----------
    w : Series
        Sampling weights (positive).
    lower_quantile, upper_quantile : float, optional
        Weights below / above these quantiles of ``w`` are set to the quantile (Pew-style
        1%/99% trimming uses 0.01 / 0.99).
    cap : float, optional
        Upper bound on ``w / mean(w)``.

    Returns
    -------
    Series
        Trimmed weights with the same total as ``w``; ``attrs["share_trimmed"]`` holds the
        share of weights that were changed by the bounds.

    Notes
    -----
    One pass of bounding followed by rescaling every weight by a common factor (Pew-style
    trimming); rescaling can push weights slightly past the bounds again. Re-rake after
    trimming when the margins must hold exactly (or use ``rake(..., cap=)``, which bounds
    and re-rakes until both hold). R ``survey::trimWeights`` differs: it hands the trimmed
    excess to the untrimmed weights only.
    """
    x = w.to_numpy(dtype=float)
    lo, hi = -np.inf, np.inf
    if lower_quantile is not None:
        lo = float(np.quantile(x, lower_quantile))
    if upper_quantile is not None:
        hi = float(np.quantile(x, upper_quantile))
    if cap is not None:
        hi = min(hi, cap * float(x.mean()))
    y = np.clip(x, lo, hi)
    changed = ~np.isclose(y, x, rtol=0, atol=0)
    y = y * (x.sum() / y.sum())
    out = pd.Series(y, index=w.index, name=w.name)
    out.attrs["share_trimmed"] = float(changed.mean())
    return out
