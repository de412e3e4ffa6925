"""Tests for pollwaves.config: YAML loading, schema validation, codebook cross-checks."""

from __future__ import annotations

import copy
import os
import textwrap
from pathlib import Path

import pytest

from pollwaves.config import (
    code_key,
    load_codebook,
    load_yaml,
    schema_dir,
    validate,
    variables_by_kind,
)
from pollwaves.errors import InputError
from pollwaves.intake.mapping import load_wave_config, required_variables

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"
WAVE_SCHEMA = SCHEMAS / "wave.schema.yaml"
CODEBOOK_SCHEMA = SCHEMAS / "codebook.schema.yaml"

MINI_CODEBOOK = """\
schema_version: 1
variables:
  resp_id: {kind: id, label: {en: Id, ru: ID}}
  duration_sec: {kind: paradata, label: {en: Duration, ru: Длительность}}
  sex:
    kind: demographic
    label: {en: Sex, ru: Пол}
    categories:
      male: {en: Male, ru: Мужской, patterns: ["^male$", "^муж"]}
      female: {en: Female, ru: Женский, patterns: ["^female$", "^жен"]}
  war_support:
    kind: question
    first_wave: "2022-03"
    label: {en: War, ru: Война}
    categories:
      support: {en: Support, ru: Поддерживаю, patterns: ["^support", "^поддерживаю"]}
      hard_to_say: {en: Hard to say, ru: Затрудняюсь ответить, patterns: ["^затрудняюсь"]}
  alliance:
    kind: question
    label: {en: Union, ru: Союз}
    categories:
      russia: {en: Russia, ru: Россия, patterns: ["росси"]}
      eu: {en: EU, ru: ЕС, patterns: ["ес"]}
"""

WAVE = """\
wave: "2022-03"
file: data/raw/waves/2022-03.sav
format: sav
encoding: null
sheet: null
fieldwork: {start: "2022-03-01", end: "2022-03-07"}
n_published: 900
simulated: true
id_column: id
missing_codes: [99]
missing_labels: ["^отказ"]
columns:
  id: {variable: resp_id}
  dur: {variable: duration_sec}
  q1: {variable: sex, values: {1: male, 2: female}}
  q2: {variable: war_support, labels: true}
  q3: {variable: alliance, values: {1: russia, 2: eu, 98: null}}
cleaning:
  min_duration_sec: 240
  straightlining: null
  min_completeness: 0.8
"""


@pytest.fixture
def codebook(tmp_path) -> dict:
    path = tmp_path / "codebook.yaml"
    path.write_text(MINI_CODEBOOK, encoding="utf-8")
    return load_codebook(path, CODEBOOK_SCHEMA)


def _write_wave(tmp_path: Path, text: str, name: str = "2022-03") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_schema_dir_and_missing_root(tmp_path):
    assert schema_dir(ROOT) == SCHEMAS
    with pytest.raises(InputError, match="schema folder not found"):
        schema_dir(tmp_path)


def test_load_yaml_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_yaml(bad)
    assert "bad.yaml" in str(err.value) and "line" in str(err.value)
    dup = tmp_path / "dup.yaml"
    dup.write_text("columns:\n  q1: 1\n  q1: 2\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate key 'q1'"):
        load_yaml(dup)
    with pytest.raises(InputError, match="not found"):
        load_yaml(tmp_path / "none.yaml")


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("a: &x {k: 1, l: 2}\nb:\n  <<: *x\n  k: 3\n", encoding="utf-8")
    assert load_yaml(path) == {"a": {"k": 1, "l": 2}, "b": {"k": 3, "l": 2}}


def test_code_key_equivalence():
    assert code_key(1) == code_key(1.0) == code_key("1") == code_key(" 1 ") == code_key("01")
    assert code_key(1.5) == code_key("1.5") == "1.5"
    assert code_key("Да ") == "Да"
    assert code_key(float("nan")) is None and code_key("  ") is None and code_key(None) is None


def test_codebook_and_kinds(codebook):
    assert variables_by_kind(codebook, "question") == ["war_support", "alliance"]
    assert variables_by_kind(codebook, "demographic") == ["sex"]


def test_codebook_bad_pattern_names_key(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(MINI_CODEBOOK.replace('"^male$"', '"^(male"'), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_codebook(path, CODEBOOK_SCHEMA)
    assert err.value.key == "variables.sex.categories.male.patterns.0"
    assert "codebook.yaml" in str(err.value)


def test_codebook_category_without_patterns_names_key(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(
        MINI_CODEBOOK.replace(', patterns: ["^female$", "^жен"]', ""), encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        load_codebook(path, CODEBOOK_SCHEMA)
    assert err.value.key == "variables.sex.categories.female.patterns"
    assert "'patterns' is a required property" in str(err.value)


def test_project_codebook_validates():
    cb = load_codebook(ROOT / "config" / "codebook.yaml", CODEBOOK_SCHEMA)
    assert "resp_id" in cb["variables"]
    assert variables_by_kind(cb, "demographic") == [
        "sex",
        "age_group",
        "education",
        "settlement",
        "oblast",
        "media_diet",
        "authorities",
    ]
    assert variables_by_kind(cb, "weight") == ["vendor_weight"]
    bands = cb["variables"]["age_group"]["derive"]["years"]["bands"]
    assert set(bands) == set(cb["variables"]["age_group"]["categories"])


def _walk_properties(node, path="$"):
    """Yield (path, schema) of every declared property (``if`` conditions excepted)."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            if key != "if":
                yield from _walk_properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _walk_properties(sub, f"{path}[{i}]")


@pytest.mark.parametrize("schema", ["wave.schema.yaml", "codebook.schema.yaml"])
def test_schemas_are_2020_12_and_describe_every_key(schema):
    data = load_yaml(SCHEMAS / schema)
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    props = list(_walk_properties(data))
    assert props, "schema declares no properties"
    undocumented = [p for p, sub in props if not (sub or {}).get("description")]
    assert undocumented == []


def test_load_valid_wave(tmp_path, codebook):
    cfg = load_wave_config(_write_wave(tmp_path, WAVE), WAVE_SCHEMA, codebook)
    assert cfg["wave"] == "2022-03"
    assert cfg["columns"]["q1"]["values"] == {1: "male", 2: "female"}
    assert cfg["columns"]["q3"]["values"][98] is None


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("values: {1: male, 2: female}", "values: [male, female]", "columns.q1.values"),
        ("values: {1: male, 2: female}", "values: {1: Male, 2: female}", "columns.q1.values.1"),
        ("labels: true", "labels: yes_please", "columns.q2.labels"),
        ("format: sav", "format: spss", "format"),
        ("simulated: true\n", "", "simulated"),
        ("n_published: 900", "n_published: 900\ncolour: red", "colour"),
        ("min_completeness: 0.8", "min_completeness: 1.5", "cleaning.min_completeness"),
        ("{variable: resp_id}", "{variable: resp_id, label: true}", "columns.id.label"),
    ],
)
def test_bad_config_key_is_named(tmp_path, old, new, key):
    assert old in WAVE
    path = _write_wave(tmp_path, WAVE.replace(old, new))
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA)
    assert err.value.key == key
    assert key in str(err.value)
    assert str(path) in str(err.value)
    assert "How to fix" in str(err.value)


def test_csv_requires_encoding(tmp_path):
    path = _write_wave(tmp_path, WAVE.replace("format: sav", "format: csv"))
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA)
    assert err.value.key == "encoding"


def test_wave_must_equal_file_stem(tmp_path):
    path = _write_wave(tmp_path, WAVE, name="2022-04")
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA)
    assert err.value.key == "wave" and "2022-04" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "key", "text"),
    [
        ("{variable: sex,", "{variable: gender,", "columns.q1.variable", "not in the codebook"),
        ("1: male, 2: female", "1: male, 3: other", "columns.q1.values.3", "'other'"),
        ("{variable: alliance, values", "{variable: sex, values", "columns.q3.variable", "q1"),
        ("q2: {variable: war_support, labels: true}", "q2: {variable: war_support}", "columns.q2", "needs"),
        ("{variable: duration_sec}", "{variable: duration_sec, labels: true}", "columns.dur.labels", "no categories"),
        ("id_column: id", "id_column: ID", "id_column", "'id'"),
        ("1: male, 2: female", "1: male, '1.0': female", "columns.q1.values.1.0", "same code"),
        ("1: male, 2: female", "yes: male, 2: female", "columns.q1.values.True", "quote"),
    ],
)  # fmt: skip
def test_cross_check_against_codebook_names_key(tmp_path, codebook, old, new, key, text):
    assert old in WAVE
    path = _write_wave(tmp_path, WAVE.replace(old, new))
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA, codebook)
    assert err.value.key == key
    assert text in str(err.value)
    assert "2022-03" in str(err.value) and str(path) in str(err.value)


def test_required_variables_must_be_mapped(tmp_path, codebook):
    path = _write_wave(
        tmp_path, WAVE.replace("  q1: {variable: sex, values: {1: male, 2: female}}\n", "")
    )
    load_wave_config(path, WAVE_SCHEMA, codebook)  # only resp_id is required by default
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA, codebook, required=["resp_id", "sex"])
    assert err.value.key == "columns" and "required variable 'sex' is not mapped" in str(err.value)
    assert "2022-03" in str(err.value) and str(path) in str(err.value)


def test_project_requires_resp_id_and_raking_sources():
    assert required_variables(ROOT) == ["resp_id", "sex", "age_group", "education", "settlement"]


@pytest.mark.parametrize(
    ("not_asked", "required", "text"),
    [
        ("[alliance]", [], "mapped from column 'q3'"),
        ("[religion]", [], "not in the codebook"),
        ("[sex]", ["sex"], "required of every wave"),
    ],
)
def test_not_asked_is_checked(tmp_path, codebook, not_asked, required, text):
    path = _write_wave(tmp_path, WAVE.replace("columns:\n", f"not_asked: {not_asked}\ncolumns:\n"))
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA, codebook, required=["resp_id", *required])
    assert err.value.key == "not_asked.0" and text in str(err.value)
    assert "How to fix" in str(err.value) and str(path) in str(err.value)


def test_not_asked_and_derive_are_valid_wave_keys(tmp_path, codebook):
    text = WAVE.replace("columns:\n", "not_asked: [war_support]\ncolumns:\n").replace(
        "  q2: {variable: war_support, labels: true}\n", ""
    )
    cfg = load_wave_config(_write_wave(tmp_path, text), WAVE_SCHEMA, codebook, required=["sex"])
    assert cfg["not_asked"] == ["war_support"]
    both = WAVE.replace("{variable: sex, values: {1: male, 2: female}}",
                        "{variable: sex, derive: years, values: {1: male}}")  # fmt: skip
    with pytest.raises(InputError) as err:
        load_wave_config(_write_wave(tmp_path, both), WAVE_SCHEMA)
    assert err.value.key == "columns.q1"


DERIVE = """\
    derive:
      years:
        label_patterns: ["возраст", "^age\\\\b"]
        range: [14, 110]
        bands: {male: [18, 54], female: [55, null]}
"""


def _codebook_with(tmp_path, text: str) -> dict:
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return load_codebook(path, CODEBOOK_SCHEMA)


def test_codebook_derive_rules_and_weight_kind(tmp_path):
    text = MINI_CODEBOOK.replace("  war_support:\n", DERIVE + "  war_support:\n").replace(
        "  sex:\n", "  vendor_weight: {kind: weight, label: {en: Weight, ru: Вес}}\n  sex:\n"
    )
    cb = _codebook_with(tmp_path, text)
    assert cb["variables"]["sex"]["derive"]["years"]["bands"]["female"] == [55, None]
    assert variables_by_kind(cb, "weight") == ["vendor_weight"]


@pytest.mark.parametrize(
    ("old", "new", "key", "text"),
    [
        ("female: [55, null]", "other: [55, null]", "variables.sex.derive.years.bands.other", "not a category"),
        ("female: [55, null]", "female: [50, null]", "variables.sex.derive.years.bands.female", "overlap"),
        ("male: [18, 54]", "male: [54, 18]", "variables.sex.derive.years.bands.male", "empty"),
        ("range: [14, 110]", "range: [110, 14]", "variables.sex.derive.years.range", "empty"),
        ('"возраст"', '"(возраст"', "variables.sex.derive.years.label_patterns.0", "regular expression"),
        ("male: [18, 54]", "male: [18.5, 54]", "variables.sex.derive.years.bands.male.0", "integer"),
    ],
)  # fmt: skip
def test_codebook_bad_derive_rule_names_key(tmp_path, old, new, key, text):
    assert old in DERIVE
    bad = MINI_CODEBOOK.replace("  war_support:\n", DERIVE.replace(old, new) + "  war_support:\n")
    with pytest.raises(InputError) as err:
        _codebook_with(tmp_path, bad)
    assert err.value.key == key and text in str(err.value)
    assert "codebook.yaml" in str(err.value)


def test_derive_only_for_categorical_variables(tmp_path):
    text = MINI_CODEBOOK.replace(
        "  duration_sec: {kind: paradata, label: {en: Duration, ru: Длительность}}\n",
        "  duration_sec:\n    kind: paradata\n    label: {en: Duration, ru: Длительность}\n"
        + DERIVE.replace("male: [18, 54], female: [55, null]", "short: [0, 10]"),
    )
    with pytest.raises(InputError) as err:
        _codebook_with(tmp_path, text)
    assert err.value.key.startswith("variables.duration_sec")


def test_question_mapped_before_first_wave(tmp_path, codebook):
    text = WAVE.replace('"2022-03"', '"2021-01"').replace("2022-03.sav", "2021-01.sav")
    path = _write_wave(tmp_path, text, name="2021-01")
    with pytest.raises(InputError) as err:
        load_wave_config(path, WAVE_SCHEMA, codebook)
    assert err.value.key == "columns.q2.variable" and "first_wave" in str(err.value)
    load_wave_config(path, WAVE_SCHEMA)  # without a codebook only the schema applies


def test_straightlining_variables_must_be_questions(tmp_path, codebook):
    text = WAVE.replace(
        "straightlining: null", "straightlining: {variables: [alliance, sex], min_items: 2}"
    )
    with pytest.raises(InputError) as err:
        load_wave_config(_write_wave(tmp_path, text), WAVE_SCHEMA, codebook)
    assert err.value.key == "cleaning.straightlining.variables.1"


def test_validate_reports_top_level_type(tmp_path):
    with pytest.raises(InputError) as err:
        validate([1, 2], WAVE_SCHEMA, source="x.yaml")
    assert err.value.key == "(top level)" and "x.yaml" in str(err.value)


def test_validate_does_not_mutate(codebook):
    before = copy.deepcopy(codebook)
    validate(codebook, CODEBOOK_SCHEMA, source="codebook.yaml")
    assert codebook == before


def test_an_edited_schema_is_read_again_and_a_missing_one_named(tmp_path):
    schema = tmp_path / "s.schema.yaml"
    schema.write_text("type: object\nproperties: {a: {type: integer}}\n", encoding="utf-8")
    validate({"a": 1}, schema, source="c.yaml")
    validate({"a": 2}, schema, source="c.yaml")  # the cached validator
    schema.write_text("type: object\nproperties: {a: {type: string}}\n", encoding="utf-8")
    os.utime(schema, ns=(1, 1))  # a new version, whatever the clock's resolution
    with pytest.raises(InputError, match="key a"):
        validate({"a": 1}, schema, source="c.yaml")
    with pytest.raises(InputError, match="file not found"):
        validate({"a": 1}, tmp_path / "missing.yaml", source="c.yaml")


def test_yaml_is_read_again_when_edited_and_each_caller_gets_its_own_copy(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("a: [1, 2]\n", encoding="utf-8")
    first = load_yaml(f)
    first["a"].append(3)  # a caller's change stays its own
    assert load_yaml(f) == {"a": [1, 2]}
    f.write_text("a: [1, 2, 4]\n", encoding="utf-8")
    assert load_yaml(f) == {"a": [1, 2, 4]}
    f.write_text("a: [1, 2, 5]\n", encoding="utf-8")  # same size: a new time stamp
    os.utime(f, ns=(2, 2))
    assert load_yaml(f) == {"a": [1, 2, 5]}
    f.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(InputError, match="invalid YAML"):
        load_yaml(f)


def test_shared_yaml_is_the_cached_document_and_still_follows_edits(tmp_path):
    f = tmp_path / "w.yaml"
    f.write_text("simulated: true\nfieldwork: {start: 2022-01-01}\n", encoding="utf-8")
    shared = load_yaml(f, copy=False)
    assert load_yaml(f, copy=False) is shared  # read-only callers share one parse
    own = load_yaml(f)
    assert own == shared and own is not shared and own["fieldwork"] is not shared["fieldwork"]
    f.write_text("simulated: false\nfieldwork: {start: 2022-01-01}\n", encoding="utf-8")
    os.utime(f, ns=(3, 3))
    assert load_yaml(f, copy=False)["simulated"] is False
