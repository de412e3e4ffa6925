"""Wave-to-wave differences of independent cross-sectional estimates.

Each wave is a separate sample, so the estimates of two waves are independent and the
variance of their difference is the sum of the two design-based variances. The inputs
are design-based estimates (from sampling weights); nothing here touches respondents.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist

__all__ = ["adjust_p", "holm_adjusted", "wave_differences"]

_KEYS = ["question", "domain", "category"]


def wave_differences(
    tab: pd.DataFrame,
    *,
    pairs: str | Sequence[tuple[str, str]] = "consecutive",
    family: Sequence[str] = ("question", "domain"),
    correction: str = "holm",
    level: float = 0.95,
) -> pd.DataFrame:
    """Differences between waves with standard errors, intervals and adjusted p-values.

    Parameters
    ----------
    tab : DataFrame
        Estimates with columns ``question, wave, domain, category, estimate, se`` (e.g.
        ``reports/tables/toplines.csv``), design-based SEs from sampling weights.
    pairs : "consecutive", "first" or list of (wave_from, wave_to)
        Which waves to compare: each wave with the previous one in which the question was
        asked, each wave with the first one, or the listed pairs.
    family : list of str
        Columns defining a family of comparisons within which p-values are adjusted
        (default: all categories and wave pairs of one question in one domain).
    correction : {"holm", "fdr_bh", "bonf", "none"}
        Multiple-comparison adjustment (``pingouin.multicomp``): Holm or Benjamini–Hochberg.
    level : float
        Confidence level of the normal-theory interval of the difference.

    Returns
    -------
    DataFrame
        ``question, domain, category, wave_from, wave_to, estimate_from, estimate_to,
        difference, se, ci_low, ci_high, z, p_value, p_adjusted, significant``.

    Notes
    -----
    ``se = sqrt(se_from^2 + se_to^2)`` because waves are independent samples; the test is
    the Wald z-test ``difference / se``. This equals R ``svycontrast`` on two independent
    designs combined with ``p.adjust(method = "holm" | "BH")``.
    """
    need = [*_KEYS, "wave", "estimate", "se"]
    missing = [c for c in need if c not in tab.columns]
    if missing:
        raise InputError(
            "Estimates table lacks columns",
            column=missing[0],
            hint=f"wave_differences needs {need}",
        )
    if correction not in ("holm", "fdr_bh", "bonf", "none"):
        raise InputError(
            "Unknown correction", value=correction, hint="use holm, fdr_bh, bonf or none"
        )
    d = tab[need].copy()
    d["wave"] = d["wave"].astype(str)
    rows = []
    for key, g in d.groupby(_KEYS, sort=True):
        g = g.drop_duplicates("wave").set_index("wave").sort_index()
        waves = list(g.index)
        if pairs == "consecutive":
            todo = list(zip(waves[:-1], waves[1:], strict=True))
        elif pairs == "first":
            todo = [(waves[0], w) for w in waves[1:]]
        else:
            todo = [(a, b) for a, b in pairs if a in g.index and b in g.index]
        for a, b in todo:
            rows.append(
                (
                    *key,
                    a,
                    b,
                    g.at[a, "estimate"],
                    g.at[b, "estimate"],
                    g.at[a, "se"],
                    g.at[b, "se"],
                )
            )
    cols = [*_KEYS, "wave_from", "wave_to", "estimate_from", "estimate_to", "se_from", "se_to"]
    out = pd.DataFrame(rows, columns=cols)
    out["difference"] = out["estimate_to"] - out["estimate_from"]
    out["se"] = np.sqrt(out.pop("se_from") ** 2 + out.pop("se_to") ** 2)
    zq = dist.norm_ppf(0.5 + level / 2)
    out["ci_low"] = out["difference"] - zq * out["se"]
    out["ci_high"] = out["difference"] + zq * out["se"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = out["difference"] / out["se"]
    out["p_value"] = 2 * dist.norm_sf(np.abs(out["z"]))
    out["p_adjusted"] = out["p_value"]
    if correction != "none" and len(out):
        for _, idx in out.groupby(list(family), sort=False).groups.items():
            pv = out.loc[idx, "p_value"].to_numpy()
            ok = np.isfinite(pv)
            if ok.any():
                adj = np.full(len(pv), np.nan)
                adj[ok] = adjust_p(pv[ok], correction, 1 - level)
                out.loc[idx, "p_adjusted"] = adj
    out["significant"] = out["p_adjusted"] < 1 - level
    return out.reset_index(drop=True)


def holm_adjusted(p: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (R ``p.adjust(p, "holm")``, equal to
    ``pingouin.multicomp``): ``max_{j <= i} min(1, (m - j + 1) p_(j))`` over the ``m``
    finite p-values; NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.minimum(np.maximum.accumulate(p[order] * np.arange(len(order), 0, -1)), 1)
    return out


def adjust_p(p: np.ndarray, method: str, alpha: float) -> np.ndarray:
    """Adjusted p-values of one family (finite ``p``): Holm here (the default: no import of
    pingouin, about 1.7 s), any other ``pingouin.multicomp`` method through pingouin."""
    if method == "holm":
        return holm_adjusted(p)
    import pingouin as pg

    return pg.multicomp(p, alpha=alpha, method=method)[1]
