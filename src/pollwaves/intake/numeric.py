"""Numeric raw columns that add-wave recognises by content: derived variables and weights.

* **Derived variables.** A codebook variable may declare ``derive: {<name>: {label_patterns,
  range, bands}}`` (e.g. ``age_group.derive.years``). A numeric column without value labels
  for its substantive values, whose label matches the rule's ``label_patterns`` (or names the
  variable) and whose values are whole numbers within ``range``, is proposed as
  ``{variable: age_group, derive: years}``. It is confident when every value also falls in
  a band.
* **The pollster's weight.** A numeric column whose label names a variable of kind
  ``weight`` (``vendor_weight``: weight / вес / вага), with positive values that are not all
  whole numbers and a mean near 1, is proposed as ``{variable: vendor_weight}``.

Codes whose value label is a refusal or "don't know" (codebook ``missing_patterns``) are set
aside: they become missing codes of the wave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.config import code_key
from pollwaves.intake.derive import band_table

__all__ = ["MEAN_TOLERANCE", "NumericFit", "classify"]

#: A normalised weight has a mean within this distance of 1.
MEAN_TOLERANCE = 0.25


@dataclass
class NumericFit:
    """What the content of a numeric column says (``variable`` None = nothing)."""

    variable: str | None = None
    derive: str | None = None
    why: str = ""
    confident: bool = False
    notes: list[str] = field(default_factory=list)
    refusals: list[Any] = field(default_factory=list)


def _number(key: str) -> Any:
    value = float(key)
    return int(value) if value.is_integer() else value


def _derive(
    var: str, name: str, rule: dict, values: np.ndarray, text: str, named: set
) -> NumericFit | None:
    """The derive rule ``var.derive.name`` for these values, if the label and values fit."""
    says = any(re.search(p, text, re.I) for p in rule["label_patterns"]) or var in named
    low, high = rule["range"]
    if not says or not len(values) or not np.all(np.mod(values, 1) == 0):
        return None
    if values.min() < low or values.max() > high:
        return None
    table = band_table(rule)
    outside = sorted({int(v) for v in values if not any(lo <= v <= hi for lo, hi, _ in table)})
    span = f"whole numbers {int(values.min())}..{int(values.max())} within {[low, high]}"
    notes = [
        f"values outside every band of {var}.derive.{name}: {outside[:10]} "
        "(harmonising refuses them; drop or recode those respondents)"
    ][: bool(outside)]
    why = f"label says {var} in {name}; {span}"
    return NumericFit(var, name, why, not outside, notes)


def classify(
    series: pd.Series, text: str, vlabels: dict, variables: dict, named: set, pats: Any
) -> NumericFit:
    """Recognise a derived variable or a weight from a numeric column's label and values.

    Parameters
    ----------
    series : pandas.Series
        The raw column.
    text : str
        Its variable label (or header).
    vlabels : dict
        Its value labels, ``{code_key: label}``.
    variables : dict
        The codebook variables eligible in this wave.
    named : set of str
        The variables that the label names (exact label or label pattern).
    pats : pollwaves.intake.propose.Patterns
        Compiled refusal / don't-know patterns.

    Returns
    -------
    NumericFit
        The variable, derive rule, evidence and whether the content is unambiguous.
    """
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return NumericFit()
    absent = [
        k
        for k, lab in vlabels.items()
        if any(p.search(str(lab)) for p in pats.refusal + pats.dont_know)
    ]
    if set(vlabels) - set(absent):
        return NumericFit()  # labelled substantive codes: a categorical column
    keys = series.map(code_key)
    values = series[~keys.isin(absent)].dropna().to_numpy(dtype=float)
    refusals = [_number(k) for k in absent if k in set(keys)]
    low_text = str(text).lower().replace("ё", "е")
    for var, spec in variables.items():
        for name, rule in (spec.get("derive") or {}).items():
            fit = _derive(var, name, rule, values, low_text, named)
            if fit is not None:
                fit.refusals = refusals
                return fit
    for var, spec in variables.items():
        if spec.get("kind") != "weight" or var not in named or not len(values):
            continue
        if values.min() <= 0:
            return NumericFit()
        mean, whole = float(values.mean()), bool(np.all(np.mod(values, 1) == 0))
        ok = not whole and abs(mean - 1) <= MEAN_TOLERANCE
        note = f"positive numbers, mean {mean:.3g}" + ("" if not whole else ", all whole")
        notes = [] if ok else [f"{note}: not like a normalised weight (mean near 1); check"]
        return NumericFit(var, None, f"label names the weight; {note}", ok, notes, refusals)
    return NumericFit()
