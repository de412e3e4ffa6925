"""YAML configuration loading and JSON-schema validation with key-naming errors.

Every function takes explicit paths (no current-working-directory magic). Validation
errors are :class:`pollwaves.errors.InputError` whose message names the file, the failing
key path (e.g. ``columns.q3.values``) and the validator message, with a hint.
"""

from __future__ import annotations

import copy as _copy
import datetime as dt
import functools
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
    "code_key",
    "load_codebook",
    "load_yaml",
    "mid_date",
    "schema_dir",
    "validate",
    "variables_by_kind",
]

_YAML_HINT = "quote YAML strings that look like other types (yes/no/null, codes such as '01')"
_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML loader that rejects duplicate mapping keys (merge keys excepted).

    The libyaml parser when PyYAML has it (the same documents, several times faster: every
    workflow job reads the codebook and mappings), else the pure-Python one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()  # equal keys hash equally (1, 1.0 and true are one key, as ==)
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue
        key = loader.construct_object(key_node)
        if not isinstance(key, (str, int, float)):
            continue
        if key in seen:
            msg = f"found duplicate key {key!r}"
            raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_yaml(path: str | os.PathLike[str], *, copy: bool = True) -> Any:
    """Read a YAML file (safe loader, duplicate keys rejected).

    Parameters
    ----------
    path : str or path-like
        The YAML file.
    copy : bool
        Return the caller's own copy (default). ``False`` returns the document cached for
        this file version, shared with later calls: for callers that only read a few
        fields of many files (the wave mappings), which must not modify it.

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
    version = _version(path)
    if version is None:
        return _read_yaml(path, str(path))  # raises the InputError naming the file
    # parsed once per process and file version (jobs read every wave mapping, some twice);
    # each caller gets its own copy unless it asked to share the cached one
    doc = _cached_yaml(*version, str(path))
    return _copy.deepcopy(doc) if copy else doc


def _version(path: str | os.PathLike[str]) -> tuple[str, int, int] | None:
    """The cache key of a file's current version: resolved path, mtime and size (``None``:
    it cannot be read)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=4096)
def _cached_yaml(resolved: str, mtime_ns: int, size: int, shown: str) -> Any:
    return _read_yaml(Path(resolved), shown)


def _read_yaml(path: Path, shown: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", file=shown, hint="check the path") from None
    except UnicodeDecodeError as exc:
        msg = f"file is not UTF-8 ({exc.reason})"
        raise InputError(msg, file=shown, hint="save the file as UTF-8") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        msg = f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}"
        hint = "fix the YAML syntax (indentation, quoting, duplicate keys)"
        if "constructor for the tag" in msg:
            hint = "remove the tag: configuration files are plain YAML (quote a value that starts with !)"
        raise InputError(msg, file=shown, hint=hint) from None


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


@functools.lru_cache(maxsize=64)
def _validator(path: str, mtime_ns: int, size: int) -> Draft202012Validator:
    """The checked validator of one schema file, built once per process and file version
    (the pipeline's preflight validates every wave mapping against one schema)."""
    schema = load_yaml(path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


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
    version = _version(schema_path)
    if version is None:
        load_yaml(schema_path)  # raises the InputError naming the file
        raise InputError("schema file cannot be read", file=str(schema_path))
    validator = _validator(*version)
    errors = list(validator.iter_errors(_jsonable(data)))
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
    kind : {"id", "paradata", "weight", "demographic", "question"}
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


def _check_derive(name: str, spec: dict[str, Any], source: str) -> None:
    """Derive rules of one variable: bands name categories, are ordered and do not overlap."""

    def fail(problem: str, key: str, hint: str) -> InputError:
        return InputError(problem, file=source, key=f"variables.{name}.derive.{key}", hint=hint)

    categories = spec.get("categories") or {}
    for rule, rspec in (spec.get("derive") or {}).items():
        for i, pattern in enumerate(rspec["label_patterns"]):
            try:
                re.compile(pattern)
            except re.error as exc:
                hint = "fix the pattern (Python re syntax; double backslashes in YAML)"
                raise fail(
                    f"invalid regular expression {pattern!r}: {exc}",
                    f"{rule}.label_patterns.{i}",
                    hint,
                ) from None
        low, high = rspec["range"]
        if low > high:
            raise fail(f"range [{low}, {high}] is empty", f"{rule}.range", "write [min, max]")
        bands = []
        for cat, (lo, hi) in rspec["bands"].items():
            key = f"{rule}.bands.{cat}"
            if cat not in categories:
                hint = f"use one of: {', '.join(categories)}"
                raise fail(f"band {cat!r} is not a category of {name!r}", key, hint)
            if hi is not None and lo > hi:
                raise fail(f"band [{lo}, {hi}] is empty", key, "write [low, high]")
            bands.append((lo, math.inf if hi is None else hi, cat))
        bands.sort()
        for (_, prev_hi, prev), (lo, _, cat) in zip(bands, bands[1:], strict=False):
            if lo <= prev_hi:
                msg = f"bands {prev!r} and {cat!r} overlap"
                hint = "make the bands disjoint (each whole number in at most one band)"
                raise fail(msg, f"{rule}.bands.{cat}", hint)


def load_codebook(path: str | os.PathLike[str], schema_path: str | os.PathLike[str]) -> dict:
    """Load and validate ``config/codebook.yaml``.

    Besides the schema, checks that ``resp_id`` is the only variable of kind ``id``, that
    every category and label pattern is a valid regular expression, and that the bands of
    every ``derive`` rule are categories of the variable, non-empty and disjoint.

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
        for i, pattern in enumerate(spec.get("label_patterns") or []):
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                msg = f"invalid regular expression {pattern!r}: {exc}"
                hint = "fix the pattern (Python re syntax; double backslashes in YAML)"
                key = f"variables.{name}.label_patterns.{i}"
                raise InputError(msg, file=source, key=key, hint=hint) from None
        for cat, cat_spec in (spec.get("categories") or {}).items():
            for i, pattern in enumerate(cat_spec["patterns"]):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    key = f"variables.{name}.categories.{cat}.patterns.{i}"
                    msg = f"invalid regular expression {pattern!r}: {exc}"
                    hint = "fix the pattern (Python re syntax; double backslashes in YAML)"
                    raise InputError(msg, file=source, key=key, hint=hint) from None
        _check_derive(name, spec, source)
    return data


def mid_date(fieldwork: list[str]) -> dt.date:
    """Middle day of a fieldwork period ``[start, end]`` (ISO dates)."""
    start, end = (dt.date.fromisoformat(str(d)) for d in fieldwork)
    return start + (end - start) / 2
