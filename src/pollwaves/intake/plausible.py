"""Plausibility checks of a harmonised delivery: durations and empty columns (issue 14).

Used by :mod:`pollwaves.intake.harmonise`, hence by the harmonise stage and ``check-wave``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pollwaves.config import code_key

__all__ = ["MAX_DURATION_SEC", "check_durations", "empty_column"]

#: Longest plausible interview (seconds): 7 days. A longer or negative duration is refused.
MAX_DURATION_SEC = 7 * 24 * 3600


def check_durations(out: np.ndarray, raw: str, ids: list[str], where: Any) -> np.ndarray:
    """Refuse a negative or absurd (over 7 days, infinite) interview duration.

    ``where.error`` builds the :class:`~pollwaves.errors.InputError` (wave, file named);
    the message names the column, the respondent id and the value.
    """
    bad = np.flatnonzero(~np.isnan(out) & ((out < 0) | (out > MAX_DURATION_SEC)))
    if bad.size:
        pos = int(bad[0])
        more = f" ({bad.size} interviews in all)" if bad.size > 1 else ""
        raise where.error(
            f"implausible interview duration {out[pos]:.15g} s: negative or longer than "
            f"{MAX_DURATION_SEC:,} s (7 days){more}",
            column=raw,
            respondent=ids[pos],
            value=float(out[pos]),
            hint="durations are seconds from 0 to 7 days; ask the vendor to correct them, or "
            "blank the cell (a missing duration is kept and counted)",
        )
    return out


def empty_column(series: pd.Series, raw: str, var: str, where: Any) -> None:
    """Refuse a mapped column that is empty in every row."""
    if len(series) and all(code_key(v) is None for v in series.tolist()):
        raise where.error(
            f"mapped column {raw!r} ({var}) is empty in every row",
            column=raw,
            key=f"columns.{raw}",
            hint=f"ask the vendor for the missing answers, or, if the wave did not ask {var}, "
            f"delete the columns.{raw} line and list {var} under not_asked",
        )
