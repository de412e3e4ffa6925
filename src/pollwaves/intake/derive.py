"""Numeric raw columns: derived categories (``derive: years``) and the vendor's weight.

:func:`derive_categories` maps whole numbers (age in completed years) to the categories of a
codebook ``derive`` rule; :func:`vendor_weights` copies the pollster's own weight as floats.
Both refuse bad values with an :class:`~pollwaves.errors.InputError` that names the wave,
file, column, respondent id and value, with a hint. They are used by
:func:`pollwaves.intake.harmonise.harmonise_wave` and by ``pollwaves check-wave``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.config import code_key
from pollwaves.errors import InputError

__all__ = ["Where", "check_numeric", "derive_categories", "number", "show", "vendor_weights"]


@dataclass(frozen=True)
class Where:
    """Where a column comes from, for error messages.

    Parameters
    ----------
    wave, file, config : str
        The wave id, the delivery file and the wave mapping file
        (``config/waves/{wave}.yaml``).
    """

    wave: str
    file: str
    config: str

    def error(self, problem: str, **kwargs: Any) -> InputError:
        """Return an :class:`InputError` located in this wave and file."""
        return InputError(problem, wave=self.wave, file=self.file, **kwargs)


def show(value: Any) -> Any:
    """Raw value for messages: integral floats and numpy integers shown as ints."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def number(value: Any) -> float | None:
    """A raw cell as a float (``None`` if it is not a number).

    Text is accepted with a decimal point or a decimal comma (``"0,87"``, common in
    ``;``-separated CSV files).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        value = text
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _missing_cell(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and pd.isna(value))


def band_table(rule: Mapping[str, Any]) -> list[tuple[int, float, str]]:
    """``(low, high, category)`` of a derive rule's bands, sorted (open band: high = inf)."""
    out = [
        (int(lo), math.inf if hi is None else int(hi), str(cat))
        for cat, (lo, hi) in rule["bands"].items()
    ]
    return sorted(out)


def _describe(bands: list[tuple[int, float, str]]) -> str:
    return ", ".join(
        f"{cat} {lo}+" if hi == math.inf else f"{cat} {lo}-{int(hi)}" for lo, hi, cat in bands
    )


def derive_categories(
    series: pd.Series,
    rule: Mapping[str, Any],
    *,
    ids: Sequence[str],
    column: str,
    variable: str,
    rule_name: str,
    missing: set[str],
    missing_labels: Sequence[re.Pattern[str]],
    value_labels: Mapping[str | None, str],
    where: Where,
) -> list[str | None]:
    """Map whole numbers to the categories of a codebook ``derive`` rule.

    Parameters
    ----------
    series : pandas.Series
        The raw column (e.g. age in completed years).
    rule : mapping
        The codebook rule ``variables.<variable>.derive.<rule_name>`` (``bands``:
        category -> ``[low, high]``, inclusive, ``high`` null = no upper bound; ``range``:
        the plausible ``[min, max]``).
    ids : sequence of str
        The respondent ids, in the order of ``series``.
    column, variable, rule_name : str
        The raw column, the codebook variable and the rule name, for messages.
    missing : set of str
        Normalised raw missing codes (:func:`pollwaves.config.code_key`); they become NA.
    missing_labels : sequence of compiled patterns
        A code whose value label matches one of them becomes NA.
    value_labels : mapping
        Normalised raw code -> value label of the column (sav/dta).
    where : Where
        Wave, delivery and mapping file, for messages.

    Returns
    -------
    list of str or None
        The category of each row (``None`` = NA).

    Raises
    ------
    InputError
        For a value outside every band or outside the rule's plausible ``range``, a
        fraction, a non-number, or a labelled code that is not a number (e.g. 98 "Hard
        to say" not declared missing). The message names wave, file, column, respondent
        id and value.
    """
    bands = band_table(rule)
    listed = _describe(bands)
    low, high = rule["range"]
    out: list[str | None] = []
    cache: dict[str, str | None] = {}
    for pos, val in enumerate(series.tolist()):
        key = code_key(val)
        if _missing_cell(val) or key is None or key in missing:
            out.append(None)
            continue
        if key not in cache:
            label = value_labels.get(key)
            cat, problem, hint = _band_of(val, key, label, missing_labels, bands, (low, high))
            if problem:
                hint = hint.format(
                    listed=listed, config=where.config, var=variable, rule=rule_name, key=key
                )
                if problem == "outside":
                    inside = low <= float(number(val) or 0) <= high
                    span = "every band" if inside else f"the plausible range [{low}, {high}]"
                    problem = f"value {show(val)!r} is outside {span}"
                raise where.error(
                    f"{problem} in column {column!r} ({variable}, derive: {rule_name})",
                    column=column,
                    respondent=ids[pos],
                    value=show(val),
                    key=f"columns.{column}.derive",
                    hint=hint,
                )
            cache[key] = cat
        out.append(cache[key])
    return out


_OUTSIDE = (
    "bands of variables.{var}.derive.{rule} in the codebook: {listed}; correct the value in "
    "the delivery, drop the respondent (outside the target population), or add the code to "
    "missing_codes in {config} if it means a refusal"
)


def _band_of(
    val: Any,
    key: str,
    label: str | None,
    missing_labels: Sequence[re.Pattern[str]],
    bands: list[tuple[int, float, str]],
    bounds: tuple[float, float],
) -> tuple[str | None, str, str]:
    """``(category, problem, hint template)`` of one raw value; no problem = empty string."""
    if label is not None:
        text = " ".join(unicodedata.normalize("NFC", str(label)).split())
        if any(p.search(text) for p in missing_labels):
            return None, "", ""
        if not re.search(rf"(?<!\d){re.escape(key)}(?!\d)", text):
            return (
                None,
                f"code {show(val)!r} has the value label {text!r}, not a number",
                "add {key} to missing_codes in {config} (or a missing_labels pattern "
                "matching its label), or map the column with values:",
            )
    value = number(val)
    if value is None:
        return (
            None,
            "value is not a number",
            "{var} is derived from numbers ({listed}); correct the delivery, add the code "
            "to missing_codes in {config}, or map the column with values:",
        )
    if not value.is_integer():
        return None, "value is not a whole number", "deliver whole numbers; bands: {listed}"
    inside = bounds[0] <= value <= bounds[1]
    cat = next((c for lo, hi, c in bands if lo <= value <= hi), None) if inside else None
    if cat is None:
        return None, "outside", _OUTSIDE
    return cat, "", ""


def vendor_weights(
    series: pd.Series, *, ids: Sequence[str], column: str, where: Where
) -> np.ndarray:
    """Copy the pollster's own weight as floats (empty cells = NA).

    Parameters
    ----------
    series : pandas.Series
        The raw weight column.
    ids : sequence of str
        The respondent ids, in the order of ``series``.
    column : str
        The raw column, for messages.
    where : Where
        Wave, delivery and mapping file, for messages.

    Returns
    -------
    numpy.ndarray
        ``float64`` weights.

    Raises
    ------
    InputError
        For a non-numeric, non-finite, zero or negative weight; the message names wave,
        file, column, respondent id and value.
    """
    out = np.full(len(series), np.nan)
    for pos, val in enumerate(series.tolist()):
        if _missing_cell(val) or (isinstance(val, str) and not val.strip()):
            continue
        value = number(val)
        if value is None or value <= 0:
            problem = "is not a number" if value is None else "is not positive"
            raise where.error(
                f"vendor weight {show(val)!r} {problem}",
                column=column,
                respondent=ids[pos],
                value=show(val),
                key=f"columns.{column}",
                hint=(
                    "vendor_weight must hold the pollster's weights as positive numbers; "
                    "ask for a corrected delivery, or delete the column from "
                    f"{where.config} (the weight is only compared, never used)"
                ),
            )
        out[pos] = value
    return out


def check_numeric(
    series: pd.Series,
    spec: Mapping[str, Any],
    vspec: Mapping[str, Any],
    *,
    ids: Sequence[str | None],
    missing: set[str],
    missing_labels: Sequence[re.Pattern[str]],
    value_labels: Mapping[str | None, str],
    where: Where,
) -> None:
    """Check a mapped column that is derived (``derive:``) or a vendor weight.

    Parameters
    ----------
    series : pandas.Series
        The raw column.
    spec, vspec : mapping
        Its wave mapping (``columns.<raw>``) and its codebook variable.
    ids, missing, missing_labels, value_labels, where
        As for :func:`derive_categories`.

    Raises
    ------
    InputError
        As :func:`derive_categories` or :func:`vendor_weights`; other columns pass.
    """
    column = str(series.name)
    rule = (vspec.get("derive") or {}).get(spec.get("derive"))
    if vspec.get("kind") == "weight":
        vendor_weights(series, ids=ids, column=column, where=where)
    elif rule:
        derive_categories(
            series,
            rule,
            ids=ids,
            column=column,
            variable=str(spec["variable"]),
            rule_name=str(spec["derive"]),
            missing=missing,
            missing_labels=missing_labels,
            value_labels=value_labels,
            where=where,
        )
