"""config/README.md documents every key of the configuration schemas."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def _paths(schema: dict, prefix: str = "", defs: dict | None = None) -> list[str]:
    """Dotted key paths of a JSON schema (``[]`` for list items, ``*`` for mapping values)."""
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    out = []
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        out.append(path)
        if isinstance(sub, dict):
            out += _paths(sub, path, defs)
            if isinstance(sub.get("items"), dict):
                out += _paths(sub["items"], f"{path}[]", defs)
            extra = sub.get("additionalProperties")
            if isinstance(extra, dict):
                out += _paths(extra, f"{path}.*", defs)
    return out


def _documented() -> set[str]:
    text = (ROOT / "config" / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"`([^`]+)`", text))


def test_path_walker_sees_nested_keys():
    schema = {
        "properties": {
            "a": {"properties": {"b": {}}},
            "s": {"items": {"properties": {"q": {}}}},
            "m": {"additionalProperties": {"$ref": "#/$defs/c"}},
        },
        "$defs": {"c": {"properties": {"v": {}}}},
    }
    assert _paths(schema) == ["a", "a.b", "s", "s[].q", "m", "m.*.v"]


def test_every_study_and_wave_key_is_documented():
    documented = _documented()
    for name in ("config", "wave"):
        schema = yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text(encoding="utf-8"))
        missing = [p for p in _paths(schema) if p not in documented]
        assert not missing, f"{name}.schema.yaml keys missing from config/README.md: {missing}"


def test_every_top_level_key_of_the_other_configs_is_documented():
    documented = _documented()
    for name in ("codebook", "margins", "claims", "published_labels"):
        schema = yaml.safe_load((SCHEMAS / f"{name}.schema.yaml").read_text(encoding="utf-8"))
        missing = [k for k in schema.get("properties", {}) if k not in documented]
        assert not missing, f"{name}.schema.yaml top-level keys undocumented: {missing}"


def test_every_schema_file_is_listed():
    documented = _documented()
    for path in sorted(SCHEMAS.glob("*.schema.yaml")):
        assert path.name in documented, f"{path.name} is not in config/README.md's table"
