"""Per-wave delivery mappings ``config/waves/{wave}.yaml``: loading and every check.

The schema (``workflow/schemas/wave.schema.yaml``), the checks that need no codebook (wave
equals the file stem, no variable mapped twice, ``id_column``, distinct codes), the checks
against the codebook, and the refusal of a draft still marked ``review: needs review``.
Errors are :class:`pollwaves.errors.InputError` naming the wave, the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pollwaves.config import code_key, load_yaml, validate, variables_by_kind
from pollwaves.errors import InputError

__all__ = ["NEEDS_REVIEW", "check_wave_against_codebook", "load_wave_config"]


def _check_wave_keys(data: dict, source: str) -> None:
    """Checks of a wave mapping that do not need the codebook."""
    wave = data["wave"]

    def fail(problem: str, key: str, hint: str) -> InputError:
        return InputError(problem, wave=wave, file=source, key=key, hint=hint)

    stem = Path(source).stem
    if wave != stem:
        raise fail(
            f"wave {wave!r} does not equal the file stem {stem!r}",
            "wave",
            f"set wave: {stem!r} or rename the file to {wave}.yaml",
        )
    seen: dict[str, str] = {}
    for raw, spec in data["columns"].items():
        var = spec["variable"]
        if var in seen:
            msg = f"variable {var!r} is mapped from two raw columns ({seen[var]!r}, {raw!r})"
            raise fail(msg, f"columns.{raw}.variable", "map each variable from one column only")
        seen[var] = str(raw)
        codes: dict[str | None, Any] = {}
        for code in spec.get("values") or {}:
            key = f"columns.{raw}.values.{code}"
            if isinstance(code, bool):
                msg = f"raw code {code!r} was read by YAML as a boolean"
                raise fail(msg, key, "quote the code, e.g. 'yes': ... or 'no': ...")
            if code_key(code) in codes:
                msg = f"raw codes {codes[code_key(code)]!r} and {code!r} are the same code"
                raise fail(msg, key, "keep one of them")
            codes[code_key(code)] = code
    id_raw = seen.get("resp_id")
    if id_raw is not None and id_raw != str(data["id_column"]):
        msg = f"id_column {data['id_column']!r} is not the column mapped to resp_id ({id_raw!r})"
        raise fail(msg, "id_column", f"set id_column: {id_raw}")


def check_wave_against_codebook(data: dict, codebook: dict, *, source: str) -> None:
    """Check a (schema-valid) wave mapping against the codebook.

    Mapped variables must exist; categorical ones need ``values`` or ``labels: true``
    (others neither); ``values`` categories must exist; no question before its
    ``first_wave``; ``resp_id`` and all demographics mapped; grid items are questions.

    Parameters
    ----------
    data : dict
        The wave configuration.
    codebook : dict
        The loaded codebook.
    source : str
        The wave configuration file name, used in error messages.

    Raises
    ------
    InputError
        On the first mismatch; the message names the file, the wave and the key.
    """
    wave = data["wave"]
    variables = codebook["variables"]

    def fail(problem: str, key: str, hint: str, value: Any = None) -> InputError:
        return InputError(problem, wave=wave, file=source, key=key, value=value, hint=hint)

    for raw, spec in data["columns"].items():
        var, key = spec["variable"], f"columns.{raw}"
        if var not in variables:
            msg = f"variable {var!r} is not in the codebook"
            raise fail(msg, f"{key}.variable", f"use one of: {', '.join(variables)}")
        vspec = variables[var]
        categories = vspec.get("categories") or {}
        how = "values" if "values" in spec else "labels" if spec.get("labels") else None
        if not categories and how:
            msg = f"variable {var!r} (kind {vspec['kind']}) has no categories"
            raise fail(msg, f"{key}.{how}", f"remove {how} from this column")
        if categories and not how:
            msg = f"categorical variable {var!r} needs `values:` or `labels: true`"
            raise fail(msg, key, "add values: {<raw code>: <category>} or labels: true")
        for code, cat in (spec.get("values") or {}).items():
            if cat is not None and cat not in categories:
                hint = f"use one of: {', '.join(categories)} (or null for missing)"
                msg = f"category {cat!r} is not a category of {var!r}"
                raise fail(msg, f"{key}.values.{code}", hint, value=cat)
        first = vspec.get("first_wave")
        if first is not None and wave < first:
            msg = f"question {var!r} is mapped but its first_wave is {first}"
            raise fail(msg, f"{key}.variable", "remove the mapping or correct the codebook")
    mapped = {spec["variable"] for spec in data["columns"].values()}
    for var in ["resp_id", *variables_by_kind(codebook, "demographic")]:
        if var not in mapped:
            hint = f"add `<raw column>: {{variable: {var}, ...}}` under columns"
            raise fail(f"required variable {var!r} is not mapped", "columns", hint)
    rule = (data.get("cleaning") or {}).get("straightlining") or {}
    for i, var in enumerate(rule.get("variables") or []):
        if variables.get(var, {}).get("kind") != "question":
            msg = f"straight-lining variable {var!r} is not a question of the codebook"
            raise fail(msg, f"cleaning.straightlining.variables.{i}", "list questions only")


NEEDS_REVIEW = "needs review"


def _refuse_unreviewed(data: Any, source: str) -> None:
    """Refuse a mapping drafted by ``pollwaves add-wave`` that still has unreviewed columns."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict):
        return
    pending = [
        (str(raw), spec.get("candidates") or [])
        for raw, spec in columns.items()
        if isinstance(spec, dict) and spec.get("review") == NEEDS_REVIEW
    ]
    if not pending:
        return
    wave = str(data.get("wave") or Path(source).stem)
    listed = "; ".join(
        f"{raw} (candidates: {', '.join(map(str, cands))})" if cands else raw
        for raw, cands in pending
    )
    raise InputError(
        f"wave {wave} is not reviewed: {len(pending)} column(s) still marked "
        f"`review: {NEEDS_REVIEW}`: {listed}",
        wave=wave,
        file=source,
        column=", ".join(raw for raw, _ in pending),
        key="columns.<column>.review",
        hint=(
            f"in {source}, check each marked column (pick its variable from the candidates, "
            "complete `values`), then replace `review: needs review` by `review: confirmed` "
            f"and delete `candidates`; `pollwaves check-wave {wave}` lists what is left "
            "(README section 'Adding a new wave')"
        ),
    )


def load_wave_config(
    path: str | os.PathLike[str],
    schema_path: str | os.PathLike[str],
    codebook: dict | None = None,
) -> dict:
    """Load and validate a per-wave delivery mapping ``config/waves/{wave}.yaml``.

    Refuses a mapping with columns still marked ``review: needs review`` (drafted by
    ``pollwaves add-wave``); checks the schema; ``wave`` equals the file stem; no variable
    mapped twice; ``id_column`` is the column mapped to ``resp_id``; no two ``values`` keys
    are the same code; with a codebook also :func:`check_wave_against_codebook`.

    Parameters
    ----------
    path : str or path-like
        The wave configuration file.
    schema_path : str or path-like
        ``workflow/schemas/wave.schema.yaml``.
    codebook : dict, optional
        A loaded codebook to cross-check against.

    Returns
    -------
    dict
        The wave configuration as parsed from YAML.

    Raises
    ------
    InputError
        On any problem; the message names the file, the wave and the key.
    """
    source = str(path)
    data = load_yaml(path)
    _refuse_unreviewed(data, source)
    validate(data, schema_path, source=source)
    _check_wave_keys(data, source)
    if codebook is not None:
        check_wave_against_codebook(data, codebook, source=source)
    return data
