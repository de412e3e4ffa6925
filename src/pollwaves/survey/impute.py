"""Hot-deck imputation of missing categorical values (random donor within matching cells).

A generic, seeded hot deck: each missing value of a column is replaced by the value of a
donor drawn at random (equal probabilities) among the respondents who have that column
observed and share the recipient's *known* values of the other columns. When no such donor
exists, the matching is relaxed one column at a time, dropping the last-listed matching
column first, down to all respondents with the column observed. Donors always give their
observed values, never imputed ones, so the result does not depend on the order in which
the columns are processed (only the random stream does).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pollwaves.errors import InputError

__all__ = ["hot_deck"]


def hot_deck(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    seed: int | Sequence[int],
    id_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill the missing values of ``columns`` by a seeded random hot deck.

    Parameters
    ----------
    df : DataFrame
        Respondents (one row each).
    columns : sequence of str
        The columns to impute, which are also the matching columns, in order of matching
        priority: when a recipient has no donor, the last-listed of its known matching
        columns is dropped first.
    seed : int or sequence of int
        Seed of :func:`numpy.random.default_rng`; the same seed and data give the same
        result.
    id_column : str, optional
        Column holding the respondent id, named in errors.

    Returns
    -------
    imputed : DataFrame
        A copy of ``df`` with no missing value left in ``columns``.
    mask : DataFrame
        Boolean, ``columns`` only, aligned with ``df.index``: True where a value was imputed.
        ``mask.sum()`` gives the number of imputed values per column.

    Raises
    ------
    InputError
        If a column is absent, or has a missing value but no observed value at all.

    Examples
    --------
    >>> d = pd.DataFrame({"sex": ["m", "m", None], "edu": ["hi", "lo", "hi"]})
    >>> out, mask = hot_deck(d, ["sex", "edu"], seed=1)
    >>> out["sex"].tolist(), int(mask["sex"].sum())
    (['m', 'm', 'm'], 1)
    """
    columns = list(columns)
    for col in columns:
        if col not in df.columns:
            raise InputError(
                "Column to impute not found",
                column=col,
                hint=f"available columns: {list(df.columns)}",
            )
    codes = {c: pd.factorize(df[c], use_na_sentinel=True)[0] for c in columns}
    out = df.copy()
    mask = pd.DataFrame(False, index=df.index, columns=columns)
    rng = np.random.default_rng(seed)
    for col in columns:
        has = codes[col] >= 0
        recipients = np.flatnonzero(~has)
        if not len(recipients):
            continue
        if not has.any():
            i = recipients[0]
            raise InputError(
                f"No respondent has a value of {col!r}, so there is no donor",
                column=col,
                respondent=None if id_column is None else str(df[id_column].iloc[i]),
                hint="map the column in the delivery, or leave it out of the imputed columns",
            )
        others = [c for c in columns if c != col]
        values = df[col].to_numpy(dtype=object)
        filled = values.copy()
        for i in recipients:
            match = [c for c in others if codes[c][i] >= 0]
            while True:
                ok = has.copy()
                for c in match:
                    ok &= codes[c] == codes[c][i]
                donors = np.flatnonzero(ok)
                if len(donors) or not match:
                    break
                match = match[:-1]
            filled[i] = values[donors[rng.integers(len(donors))]]
        out[col] = pd.Series(filled, index=df.index, dtype=df[col].dtype)
        mask.iloc[recipients, columns.index(col)] = True
    return out, mask
