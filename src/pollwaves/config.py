"""YAML configuration loading and JSON-schema validation with key-naming errors.

Every function takes explicit paths (no current-working-directory magic). Validation
errors are :class:`pollwaves.errors.InputError` whose message names the file, the failing
key path (e.g. ``columns.q3.values``) and the validator message, with a hint.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from pollwaves.errors import InputError

__all__ = [
    "check_wave_against_codebook",
    "code_key",
    "load_codebook",
    "load_wave_config",
    "load_yaml",
    "schema_dir",
    "validate",
    "variables_by_kind",
]

_YAML_HINT = "quote YAML strings that look like other types (yes/no/null, codes such as '01')"
_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate mapping keys (merge keys excepted)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    keys = [(k, loader.construct_object(k)) for k, _ in node.value if k.tag != _MERGE]
    scalars = [(k, key) for k, key in keys if isinstance(key, (str, int, float))]
    for i, (key_node, key) in enumerate(scalars):
        if key in [other for _, other in scalars[:i]]:
            msg = f"found duplicate key {key!r}"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Read a YAML file (safe loader, duplicate keys rejected).

    Parameters
    ----------
    path : str or path-like
        The YAML file.

    Returns
    -------
    Any
        The parsed document (``None`` for an empty file).

    Raises
    ------
    InputError
        If the file is missing, not UTF-8, or not valid YAML (with line and column).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=str(path), hint="check the path") from None
    except UnicodeDecodeError as exc:
        msg = f"file is not UTF-8 ({exc.reason})"
        raise InputError(msg, file=str(path), hint="save the file as UTF-8") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        msg = f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}"
        hint = "fix the YAML syntax (indentation, quoting, duplicate keys)"
        raise InputError(msg, file=str(path), hint=hint) from None


def schema_dir(root: str | os.PathLike[str]) -> Path:
    """Return the folder of JSON schemas (``workflow/schemas``) of a project.

    Parameters
    ----------
    root : str or path-like
        The project root (the folder holding ``workflow/`` and ``config/``).

    Returns
    -------
    pathlib.Path
        ``<root>/workflow/schemas`` (InputError if it does not exist).
    """
    path = Path(root) / "workflow" / "schemas"
    if not path.is_dir():
        hint = "pass the project root (the folder holding workflow/schemas)"
        raise InputError("schema folder not found", file=str(path), hint=hint)
    return path


def _jsonable(obj: Any) -> Any:
    """Copy ``obj`` with mapping keys turned into strings (JSON data model)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _key_path(error: ValidationError) -> str:
    """Dotted key path of an error, down to the missing or unexpected key."""
    parts = [str(p) for p in error.absolute_path]
    inst = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        parts += [k for k in error.validator_value if k not in inst][:1]
    elif error.validator == "additionalProperties":
        allowed = error.schema.get("properties") or {}
        patterns = error.schema.get("patternProperties") or {}
        extra = [
            k for k in inst if k not in allowed and not any(re.search(p, k) for p in patterns)
        ]
        parts += sorted(extra)[:1]
    return ".".join(parts) if parts else "(top level)"


def validate(data: Any, schema_path: str | os.PathLike[str], *, source: str) -> None:
    """Validate ``data`` against a JSON schema (Draft 2020-12) stored as YAML.

    Mapping keys are validated as strings (YAML ``{1: male}`` has the key ``"1"``).

    Parameters
    ----------
    data : Any
        The parsed configuration.
    schema_path : str or path-like
        The schema file (YAML).
    source : str
        The configuration file name, used in error messages.

    Raises
    ------
    InputError
        On the most relevant validation error; the message names ``source``, the key path
        and the validator message.
    """
    schema = load_yaml(schema_path)
    Draft202012Validator.check_schema(schema)
    errors = list(Draft202012Validator(schema).iter_errors(_jsonable(data)))
    if not errors:
        return
    error = best_match(errors)
    key = _key_path(error)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise InputError(
        f"invalid configuration at key {key}: {error.message}{more}",
        file=source,
        key=key,
        hint=f"correct {key} in {source} (see {Path(schema_path).name}); {_YAML_HINT}",
    )


def variables_by_kind(codebook: dict[str, Any], kind: str) -> list[str]:
    """Return the codebook variables of one ``kind``, in codebook order.

    Parameters
    ----------
    codebook : dict
        A loaded codebook.
    kind : {"id", "paradata", "demographic", "question"}
        The kind.

    Returns
    -------
    list of str
    """
    return [name for name, spec in codebook["variables"].items() if spec.get("kind") == kind]


def code_key(value: Any) -> str | None:
    """Normalise a raw code so that ``1``, ``1.0``, ``"1"`` and ``" 1 "`` compare equal.

    Parameters
    ----------
    value : Any
        A raw cell value or a configuration key.

    Returns
    -------
    str or None
        The normalised code; ``None`` for missing values and empty strings.
    """
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    if not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    text = value.strip() if isinstance(value, str) else value
    try:
        number = float(text)
    except (TypeError, ValueError):
        return str(text).strip() or None
    if not math.isfinite(number):
        return text if isinstance(text, str) else None
    return str(int(number)) if number.is_integer() else repr(number)


def load_codebook(path: str | os.PathLike[str], schema_path: str | os.PathLike[str]) -> dict:
    """Load and validate ``config/codebook.yaml``.

    Besides the schema, checks that ``resp_id`` is the only variable of kind ``id`` and
    that every category pattern is a valid regular expression.

    Parameters
    ----------
    path : str or path-like
        The codebook file.
    schema_path : str or path-like
        ``workflow/schemas/codebook.schema.yaml``.

    Returns
    -------
    dict
        The codebook as parsed from YAML.

    Raises
    ------
    InputError
        On any problem; the message names the file and the key.
    """
    source = str(path)
    data = load_yaml(path)
    validate(data, schema_path, source=source)
    ids = variables_by_kind(data, "id")
    if ids != ["resp_id"]:
        key = f"variables.{next((v for v in ids if v != 'resp_id'), 'resp_id')}"
        msg = f"resp_id must be the only variable of kind id (found {ids})"
        hint = "define `resp_id: {kind: id, ...}` and use kind: id for nothing else"
        raise InputError(msg, file=source, key=key, hint=hint)
    for name, spec in data["variables"].items():
        for cat, cat_spec in (spec.get("categories") or {}).items():
            for i, pattern in enumerate(cat_spec["patterns"]):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    key = f"variables.{name}.categories.{cat}.patterns.{i}"
                    msg = f"invalid regular expression {pattern!r}: {exc}"
                    hint = "fix the pattern (Python re syntax; double backslashes in YAML)"
                    raise InputError(msg, file=source, key=key, hint=hint) from None
    return data


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
