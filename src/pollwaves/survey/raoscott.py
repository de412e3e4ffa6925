"""Rao-Scott corrected tests of independence in a weighted two-way table (R ``svychisq``).

Every function here assumes *sampling weights* (inverse-probability or calibration
weights), never frequency weights. The Pearson X^2 of the weighted table is corrected by
the generalised design effects of the cell proportions, whose design-based covariance is
estimated by linearisation (between PSUs within strata), exactly as R ``survey::svychisq``
does for ``svydesign(ids=~psu, strata=~strata, weights=~weight)`` (``ids=~1`` when no PSU
is given). ``svychisq`` also takes a calibrated design (R ``calibrate(..., calfun =
"raking")``): it then uses the calibrated ``svymean`` covariance of the cell proportions, so
the design effects (and the F statistic and its df) change while the weighted table does
not; ``calibrated_on`` does the same here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.survey import dist
from pollwaves.survey.calibration import calibration
from pollwaves.survey.design import check_columns, design_codes, design_variance
from pollwaves.survey.weighting import sampling_weights

__all__ = ["RESULT_COLUMNS", "rao_scott"]

RESULT_COLUMNS = ["statistic", "value", "df1", "df2", "p_value", "chisq_pearson"]


def _levels(values: pd.Series, name: str) -> list:
    """Categories in R ``factor()`` order: categorical order, else sorted; unused dropped."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        used = set(present.tolist())
        levels = [c for c in values.cat.categories if c in used]
    else:
        levels = sorted(present.unique().tolist())
    if len(levels) < 2:
        raise InputError(
            "A table variable needs at least two categories among the complete rows",
            column=name,
            value=levels,
            hint="a test of independence is undefined for a constant variable",
        )
    return levels


def _contrasts(nr: int, nc: int) -> np.ndarray:
    """Interaction contrasts orthogonal to the main effects (R ``qr.resid(qr(X1), X12)``).

    Cells are ordered with the row index varying fastest, as ``interaction(row, col)``.
    """
    rows = np.tile(np.arange(nr), nc)
    cols = np.repeat(np.arange(nc), nr)
    row_d = (rows[:, None] == np.arange(1, nr)).astype(float)
    col_d = (cols[:, None] == np.arange(1, nc)).astype(float)
    x1 = np.column_stack([np.ones(nr * nc), row_d, col_d])
    inter = np.column_stack(
        [row_d[:, i] * col_d[:, j] for j in range(nc - 1) for i in range(nr - 1)]
    )
    q, _ = np.linalg.qr(x1)
    return inter - q @ (q.T @ inter)


def rao_scott(
    df: pd.DataFrame,
    row: str,
    col: str,
    weight: str | None,
    strata: str | None = None,
    psu: str | None = None,
    *,
    calibrated_on: Sequence[str] | None = None,
    calibration_by: str | None = None,
    base_weight: str | None = None,
) -> pd.DataFrame:
    """Rao-Scott tests of independence of two categorical variables (R ``svychisq``).

    Parameters
    ----------
    df : DataFrame
        One row per respondent; *all* rows define the sample design.
    row, col : str
        The two categorical columns. Rows with a missing value in either are excluded from
        the table (``na.rm=TRUE``), as a domain: they stay in the design with zero
        contribution.
    weight : str or None
        Sampling-weight column (inverse selection probabilities or calibration weights;
        *not* frequency weights). ``None``: equal weights.
    strata, psu : str, optional
        Stratum and primary-sampling-unit columns (PSUs are nested in strata).
    calibrated_on : list of str, optional
        Raking columns the weights were calibrated on: the linearised cell proportions are
        residualised on the calibration model (base-weighted) before their design
        covariance, as ``svychisq`` on a design from R ``calibrate(design, ~a + b + c,
        population, calfun="raking")``. Rows with a missing ``row``/``col`` stay in the
        calibration with zero contribution (R's subsetted calibrated design).
    calibration_by : str, optional
        Column within whose levels the weights were calibrated separately (``"wave"`` for
        pooled waves): one residual regression per level (:mod:`pollwaves.survey.calibration`).
    base_weight : str, optional
        With ``calibrated_on``: the weights before calibration (``None``: equal).

    Returns
    -------
    DataFrame
        Columns ``statistic, value, df1, df2, p_value, chisq_pearson``, one row each for

        - ``"F"``: second-order Rao-Scott F, ``X^2 / sum(delta)`` on ``d0`` and ``d0 * nu``
          df with ``d0 = sum(delta)^2 / sum(delta^2)``: ``svychisq(..., statistic="F")``;
        - ``"Chisq"``: first-order corrected chi-square ``X^2 / mean(delta)`` on
          ``(r-1)(c-1)`` df (``df2`` is NaN): the p-value of
          ``svychisq(..., statistic="Chisq")``.

        ``delta`` are the generalised design effects (eigenvalues of ``Delta``) and ``nu`` the
        design df (#PSUs - #strata). ``chisq_pearson`` is the Pearson X^2 of the weighted
        table scaled to the number of rows, the statistic ``svychisq`` prints for "Chisq".

    Notes
    -----
    Following ``survey:::svychisq.survey.design``: ``p`` are the estimated cell proportions
    with design covariance ``V`` (linearised ratio means); ``C`` the interaction contrasts
    orthogonal to the main effects; ``Delta = (C' D^-1 C / N)^-1 (C' D^-1 V D^-1 C)`` with
    ``D = diag(p)`` (empty cells get ``1/p = 0``). As in R, ``N`` (the table total) and
    ``nu`` count every row of the design, including rows with a missing ``row``/``col``;
    only ``chisq_pearson`` depends on ``N``. Calibration changes ``V`` only (R computes
    ``svymean(mm, design, na.rm=TRUE)`` on the calibrated design). Categories are those seen in complete rows
    (R would return NaN when a category occurs only next to a missing value).
    """
    check_columns(df, [row, col, *(c for c in (strata, psu) if c)])
    if row == col:
        raise InputError("row and col must be different columns", column=row)
    data = df.reset_index(drop=True)
    w = sampling_weights(data, weight)
    s, p_codes = design_codes(data, strata, psu)
    cal = calibration(data, weight, calibrated_on, by=calibration_by, base_weight=base_weight)
    ok = (data[row].notna() & data[col].notna()).to_numpy()
    if not ok.any():
        raise InputError("No rows with both variables answered", column=f"{row}, {col}")
    r_levels = _levels(data.loc[ok, row], row)
    c_levels = _levels(data.loc[ok, col], col)
    nr, nc = len(r_levels), len(c_levels)
    ri = pd.Categorical(data[row], categories=r_levels).codes
    ci = pd.Categorical(data[col], categories=c_levels).codes
    cell = np.where(ok, ri + nr * ci, -1)
    mm = (cell[:, None] == np.arange(nr * nc)).astype(float)
    n_all = len(data)

    # design-based covariance of the cell proportions (svymean(mm, design, na.rm=TRUE))
    wd = w * ok
    psum = wd.sum()
    mean2 = wd @ mm / psum
    z = wd[:, None] * (mm - mean2) / psum
    if cal is not None:
        z = cal.residualise(z)
    v = design_variance(z, s, p_codes, cov=True)
    nu = (int(p_codes.max()) + 1) - (int(s.max()) + 1)

    cmat = _contrasts(nr, nc)
    inv_p = np.divide(1.0, mean2, out=np.zeros_like(mean2), where=mean2 != 0)
    cd = cmat * inv_p[:, None]
    denom = cmat.T @ cd / n_all
    numr = cd.T @ v @ cd
    delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(delta))
    d0 = tr**2 / float(np.trace(delta @ delta))

    # Pearson X^2 of the weighted table scaled to N (svytable(..., Ntotal=N), chisq.test)
    table = (wd @ mm).reshape(nc, nr).T
    table = table * n_all / table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n_all
    pearson = float(((table - expected) ** 2 / expected).sum())

    k = (nr - 1) * (nc - 1)
    f_stat = pearson / tr
    chisq = pearson / (tr / k)
    out = [
        ("F", f_stat, d0, d0 * nu, dist.f_sf(f_stat, d0, d0 * nu), pearson),
        ("Chisq", chisq, float(k), np.nan, dist.chi2_sf(chisq, k), pearson),
    ]
    return pd.DataFrame(out, columns=RESULT_COLUMNS).astype({"p_value": float})
