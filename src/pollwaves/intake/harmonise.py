"""Raw delivery -> canonical harmonised wave frame (codebook + per-wave mapping).

Implements the mapping rules of ``docs/architecture.md`` ("Per-wave delivery mapping")
and produces the "Harmonised wave frame": columns ``wave, resp_id, duration_sec,
vendor_weight, <demographics in codebook order>, <questions in codebook order>``; ``wave``,
``resp_id`` and category columns have the pandas string dtype ``str`` (missing = NA),
``duration_sec`` and ``vendor_weight`` (the codebook's kind ``weight``) are ``float64``;
rows are sorted by ``resp_id``. A variable that the wave does not map (absent or listed
under ``not_asked``) is an all-NA column.

:func:`harmonise_with_raw` also returns the raw answer codes of requested variables (for
straight-lining on the questionnaire's own scale, :func:`pollwaves.intake.cleaning.clean_wave`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.config import code_key, variables_by_kind
from pollwaves.intake.derive import Where as _Where
from pollwaves.intake.derive import derive_categories, vendor_weights
from pollwaves.intake.derive import show as _show
from pollwaves.intake.mapping import check_wave_against_codebook
from pollwaves.intake.plausible import check_durations, empty_column
from pollwaves.intake.readers import Delivery

__all__ = ["frame_columns", "harmonise_wave", "harmonise_with_raw", "raw_code"]


def frame_columns(codebook: dict) -> list[str]:
    """Return the columns of the harmonised wave frame, in order.

    Parameters
    ----------
    codebook : dict
        The loaded codebook.

    Returns
    -------
    list of str
        ``wave, resp_id, duration_sec, <weights>, <demographics>, <questions>``; with the
        project codebook ``<weights>`` is ``vendor_weight``.
    """
    return [
        "wave",
        "resp_id",
        "duration_sec",
        *variables_by_kind(codebook, "weight"),
        *variables_by_kind(codebook, "demographic"),
        *variables_by_kind(codebook, "question"),
    ]


def _label_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


def _ids(series: pd.Series, raw: str, where: _Where) -> list[str]:
    ids: list[str] = []
    first_row: dict[str, int] = {}
    for pos, val in enumerate(series.tolist()):
        key = val.strip() if isinstance(val, str) else code_key(val)
        if not key:
            raise where.error(
                "empty respondent id",
                column=raw,
                row=pos + 1,
                value=_show(val),
                hint="every row of the delivery needs a respondent id; remove or fix the row",
            )
        if key in first_row:
            raise where.error(
                f"duplicate respondent id {key!r} in rows {first_row[key]} and {pos + 1}",
                column=raw,
                respondent=key,
                row=pos + 1,
                value=key,
                hint="respondent ids must be unique within a wave; ask for a corrected delivery",
            )
        first_row[key] = pos + 1
        ids.append(key)
    return ids


def _duration(series: pd.Series, raw: str, ids: list[str], where: _Where) -> np.ndarray:
    return check_durations(_duration_values(series, raw, ids, where), raw, ids, where)


def _duration_values(series: pd.Series, raw: str, ids: list[str], where: _Where) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype("float64").to_numpy()
    out = np.full(len(series), np.nan)
    for pos, val in enumerate(series.tolist()):
        if val is None or (isinstance(val, float) and np.isnan(val)):
            continue
        try:
            out[pos] = float(val)
        except (TypeError, ValueError):
            raise where.error(
                "interview duration is not a number",
                column=raw,
                respondent=ids[pos],
                value=_show(val),
                hint="duration_sec must hold seconds as numbers; fix the delivery or the mapping",
            ) from None
    return out


def _recode_values(
    series: pd.Series,
    raw: str,
    var: str,
    spec: dict,
    categories: dict,
    missing: set[str],
    value_labels: dict[str | None, str],
    ids: list[str],
    where: _Where,
) -> list[str | None]:
    mapping = {code_key(k): v for k, v in spec["values"].items()}
    out: list[str | None] = []
    for pos, val in enumerate(series.tolist()):
        key = code_key(val)
        if key is None:
            out.append(None)
        elif key in mapping:
            out.append(mapping[key])
        elif key in missing:
            out.append(None)
        else:
            label = value_labels.get(key)
            shown = f" (value label {label!r})" if label else ""
            raise where.error(
                f"unmapped value {_show(val)!r}{shown} in column {raw!r} ({var})",
                column=raw,
                respondent=ids[pos],
                value=_show(val),
                hint=(
                    f"add {key}: <category> to columns.{raw}.values in {where.config} "
                    f"(categories of {var}: {', '.join(categories)}; null = missing), "
                    "or add the code to missing_codes"
                ),
            )
    return out


def _recode_labels(
    series: pd.Series,
    raw: str,
    var: str,
    categories: dict,
    missing: set[str],
    missing_labels: list[re.Pattern[str]],
    value_labels: dict[str | None, str],
    ids: list[str],
    where: _Where,
) -> list[str | None]:
    patterns = [
        (cat, [re.compile(p, re.IGNORECASE) for p in cspec["patterns"]])
        for cat, cspec in categories.items()
    ]
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    for pos, val in enumerate(series.tolist()):
        key = code_key(val)
        if key is None or key in missing:
            out.append(None)
            continue
        if key in cache:
            out.append(cache[key])
            continue
        if value_labels:
            label = value_labels.get(key)
            if label is None and not isinstance(val, str):
                raise where.error(
                    f"code {_show(val)!r} in column {raw!r} ({var}) has no value label",
                    column=raw,
                    respondent=ids[pos],
                    value=_show(val),
                    hint=(
                        f"map the codes explicitly with columns.{raw}.values in {where.config} "
                        "instead of labels: true, or add the code to missing_codes"
                    ),
                )
            text = _label_text(label if label is not None else val)
        else:
            text = _label_text(val if isinstance(val, str) else key)
        if any(p.search(text) for p in missing_labels):
            cache[key] = None
            out.append(None)
            continue
        matched = [cat for cat, pats in patterns if any(p.search(text) for p in pats)]
        if len(matched) != 1:
            problem = "matches no category" if not matched else "matches several categories"
            listed = f" ({', '.join(matched)})" if matched else ""
            raise where.error(
                f"label {text!r} in column {raw!r} ({var}) {problem}{listed}",
                column=raw,
                respondent=ids[pos],
                value=text,
                hint=(
                    f"adjust the patterns under variables.{var}.categories in the codebook so "
                    f"that exactly one category matches, map the codes explicitly with "
                    f"columns.{raw}.values in {where.config}, or add a missing_labels pattern"
                ),
            )
        cache[key] = matched[0]
        out.append(matched[0])
    return out


def raw_code(value: Any) -> str | None:
    """The raw answer as compared by straight-lining: a normalised code, or the text.

    Numeric codes are normalised by :func:`pollwaves.config.code_key` (``1``, ``1.0`` and
    ``"1"`` are one code); answer texts of CSV/Excel deliveries are compared with Unicode,
    white space and case normalised (``"Скорее хорошо"`` equals ``"скорее  хорошо"``).
    """
    key = code_key(value)
    if key is None or not isinstance(value, str):
        return key
    return _label_text(key).casefold()


def harmonise_wave(
    delivery: Delivery,
    wave_cfg: dict,
    codebook: dict,
    *,
    file: str | None = None,
) -> pd.DataFrame:
    """Map a raw delivery onto the canonical variables of the codebook.

    Parameters
    ----------
    delivery : Delivery
        The raw delivery (:func:`pollwaves.intake.readers.read_delivery`).
    wave_cfg : dict
        The wave mapping (:func:`pollwaves.intake.mapping.load_wave_config`).
    codebook : dict
        The codebook (:func:`pollwaves.config.load_codebook`).
    file : str, optional
        Delivery file name for messages (default: ``wave_cfg["file"]``).

    Returns
    -------
    pandas.DataFrame
        The harmonised wave frame (see module docstring); variables not mapped in this
        wave (absent or ``not_asked``) are all-NA columns.

    Raises
    ------
    InputError
        See :func:`harmonise_with_raw`.
    """
    return harmonise_with_raw(delivery, wave_cfg, codebook, file=file)[0]


def harmonise_with_raw(
    delivery: Delivery,
    wave_cfg: dict,
    codebook: dict,
    *,
    file: str | None = None,
    raw_codes: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harmonise a delivery and keep the raw answer codes of some variables.

    Parameters
    ----------
    delivery, wave_cfg, codebook, file
        As for :func:`harmonise_wave`.
    raw_codes : sequence of str, optional
        Codebook variables whose raw answers to return (e.g. the straight-lining grid,
        :func:`pollwaves.intake.cleaning.straightlining_items`).

    Returns
    -------
    frame : pandas.DataFrame
        The harmonised wave frame (:func:`harmonise_wave`).
    raw : pandas.DataFrame
        Columns ``resp_id, <raw_codes>`` (dtype ``str``), rows in the order of ``frame``:
        the raw answer of each variable (:func:`raw_code`: the normalised code, or the
        normalised text of a text-coded CSV/Excel delivery). NA where the harmonised value
        is NA (refusal, missing code, not asked).

    Raises
    ------
    InputError
        On a mapped raw column absent from the delivery, an empty or duplicate respondent
        id, a non-numeric duration, an unmapped raw value, a label matching no or several
        categories, a derived value outside every band, or a non-positive vendor weight.
        The message names wave, file, column, respondent id (1-based row for an empty or
        duplicate id) and value, and how to fix it.
    """
    wave = str(wave_cfg["wave"])
    config_path = f"config/waves/{wave}.yaml"
    where = _Where(wave, str(file if file is not None else wave_cfg.get("file")), config_path)
    check_wave_against_codebook(wave_cfg, codebook, source=config_path)
    data = delivery.data
    available = [str(c) for c in data.columns]
    columns = {str(raw): spec for raw, spec in wave_cfg["columns"].items()}
    for raw in columns:
        if raw not in available:
            raise where.error(
                f"mapped raw column {raw!r} is not in the delivery "
                f"(available: {', '.join(available)})",
                column=raw,
                key=f"columns.{raw}",
                hint=f"correct the raw column name under columns in {config_path}",
            )
    var_to_raw: dict[str, str] = {}
    for raw, spec in columns.items():
        if spec["variable"] in var_to_raw:
            msg = f"variable {spec['variable']!r} is mapped from two raw columns"
            hint = f"map it from one of {var_to_raw[spec['variable']]!r}, {raw!r} only"
            raise where.error(msg, column=raw, key=f"columns.{raw}.variable", hint=hint)
        var_to_raw[spec["variable"]] = raw
    missing = {k for k in (code_key(c) for c in wave_cfg.get("missing_codes") or []) if k}
    missing_labels = [re.compile(p, re.IGNORECASE) for p in wave_cfg.get("missing_labels") or []]
    n = len(data)

    out: dict[str, Any] = {"wave": [wave] * n}
    ids = _ids(data[var_to_raw["resp_id"]], var_to_raw["resp_id"], where)
    out["resp_id"] = ids
    numeric = ["duration_sec", *variables_by_kind(codebook, "weight")]
    for var in numeric:
        raw = var_to_raw.get(var)
        if raw is None:
            out[var] = np.full(n, np.nan)
        elif var == "duration_sec":
            out[var] = _duration(data[raw], raw, ids, where)
        else:
            out[var] = vendor_weights(data[raw], ids=ids, column=raw, where=where)
    variables = codebook["variables"]
    kinds = ("demographic", "question")
    for var in [v for kind in kinds for v in variables_by_kind(codebook, kind)]:
        raw = var_to_raw.get(var)
        if raw is None:
            out[var] = [None] * n
            continue
        empty_column(data[raw], raw, var, where)
        spec = columns[raw]
        categories = variables[var]["categories"]
        labels = {
            code_key(k): v for k, v in delivery.value_labels.get(raw, {}).items() if v is not None
        }
        if "values" in spec:
            out[var] = _recode_values(
                data[raw], raw, var, spec, categories, missing, labels, ids, where
            )
        elif "derive" in spec:
            out[var] = derive_categories(
                data[raw],
                variables[var]["derive"][spec["derive"]],
                ids=ids,
                column=raw,
                variable=var,
                rule_name=spec["derive"],
                missing=missing,
                missing_labels=missing_labels,
                value_labels=labels,
                where=where,
            )
        else:
            out[var] = _recode_labels(
                data[raw], raw, var, categories, missing, missing_labels, labels, ids, where
            )

    raw_out: dict[str, Any] = {"resp_id": ids}
    for var in raw_codes:
        raw = var_to_raw.get(var)
        cats = out.get(var, [None] * n)
        values = data[raw].tolist() if raw is not None else [None] * n
        raw_out[var] = [
            raw_code(v) if c is not None else None for v, c in zip(values, cats, strict=True)
        ]
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    for col in frame.columns:
        frame[col] = frame[col].astype("float64" if col in numeric else "str")
    raw_frame = pd.DataFrame(raw_out, index=pd.RangeIndex(n), dtype=object).astype("str")
    order = frame.sort_values("resp_id", kind="stable").index
    frame = frame.loc[order].reset_index(drop=True)
    return frame[frame_columns(codebook)], raw_frame.loc[order].reset_index(drop=True)
