"""Tests for pollwaves.published.select: qualifiers, label mapping, expansion and selection rule."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pollwaves.errors import InputError
from pollwaves.published.labels import harmonise_published, load_published_labels
from pollwaves.published.parse import RAW_COLUMNS, PercentValue, load_published, parse_percent
from pollwaves.published.select import published_main, select_published

ROOT = Path(__file__).parents[2]
TOPLINES = ROOT / "data" / "raw" / "published" / "toplines.csv"
LABELS = ROOT / "config" / "published_labels.yaml"
CODEBOOK = ROOT / "config" / "codebook.yaml"
SCHEMA = ROOT / "workflow" / "schemas" / "published_labels.schema.yaml"
MODELLED = [
    "war_support",
    "alliance",
    "attitude_russia",
    "attitude_ukraine",
    "attitude_poland",
    "attitude_usa",
    "attitude_eu",
    "belarus_army_participation",
    "attitude_ukraine_lithuania_poland_eu",
]


def write_toplines(tmp_path: Path, rows: list[dict], name: str = "toplines.csv") -> Path:
    """Write a tiny toplines CSV; unspecified columns get sensible defaults."""
    defaults = {
        "wave_id": "2022-04",
        "question": "war_support",
        "answer": "support",
        "percent": "32",
        "source_url": "https://example.org/a",
        "source_quote": "quote",
    }
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=RAW_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" for c in RAW_COLUMNS} | defaults | row)
    return path


@pytest.fixture(scope="module")
def labels() -> dict:
    return load_published_labels(LABELS, codebook_path=CODEBOOK)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return load_published(TOPLINES)


def run(tmp_path: Path, rows: list[dict], labels: dict, **kw) -> tuple:
    df = harmonise_published(load_published(write_toplines(tmp_path, rows)), labels)
    return select_published(df, **kw)


# --- parse_percent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("27.2", (27.2, 27.2, 27.2, "exact")),
        ("27,2", (27.2, 27.2, 27.2, "exact")),
        (" 44 ", (44.0, 44.0, 44.0, "exact")),
        (">41", (41.0, 41.0, 100.0, "lower_bound")),
        ("more than 41", (41.0, 41.0, 100.0, "lower_bound")),
        ("Over 30", (30.0, 30.0, 100.0, "lower_bound")),
        ("<20", (20.0, 0.0, 20.0, "upper_bound")),
        ("fewer than 20", (20.0, 0.0, 20.0, "upper_bound")),
        ("almost 42", (42.0, 41.0, 42.0, "approximate")),
        ("about 42", (42.0, 41.0, 43.0, "approximate")),
        ("~92", (92.0, 91.0, 93.0, "approximate")),
        ("1/4", (25.0, 25.0, 25.0, "fraction")),
        ("11-13", (12.0, 11.0, 13.0, "range")),
        ("11–13", (12.0, 11.0, 13.0, "range")),
    ],
)
def test_parse_percent_qualifiers(cell: str, expected: tuple) -> None:
    got = parse_percent(cell)
    assert isinstance(got, PercentValue)
    assert got.value == pytest.approx(expected[0])
    assert (got.low, got.high) == pytest.approx(expected[1:3])
    assert got.qualifier == expected[3]


@pytest.mark.parametrize("cell", ["", "n/a", "NA", "about half", "27.2%", "150", "3/0", "13-11"])
def test_parse_percent_rejects_with_location(cell: str) -> None:
    with pytest.raises(InputError) as info:
        parse_percent(cell, row=7, file="toplines.csv")
    msg = str(info.value)
    assert "row=7" in msg and "file=toplines.csv" in msg and "column=percent" in msg
    assert f"value={cell!r}" in msg
    assert "How to fix" in msg


# --- load_published ------------------------------------------------------------------------


def test_load_published_keeps_rows_and_columns(tmp_path: Path) -> None:
    rows = [
        {"percent": "27,2", "flag": "retrospective citation", "source_quote": "27,2 proc."},
        {"percent": ">41", "subgroup_variable": "media_consumption"},
        {"percent": "1/4", "n_respondents": "868"},
    ]
    df = load_published(write_toplines(tmp_path, rows))
    assert list(df.columns[:13]) == ["row_id", *RAW_COLUMNS]
    assert df["row_id"].tolist() == [1, 2, 3]
    assert df["value"].tolist() == [27.2, 41.0, 25.0]
    assert df["qualifier"].tolist() == ["exact", "lower_bound", "fraction"]
    assert df["percent"].tolist() == ["27,2", ">41", "1/4"]  # kept as published
    assert df.loc[0, "flag"] == "retrospective citation"
    assert df.loc[0, "source_quote"] == "27,2 proc."
    assert pd.isna(df.loc[1, "flag"])
    assert df["n_respondents"].tolist()[2] == 868


def test_load_published_bad_percent_names_row(tmp_path: Path) -> None:
    path = write_toplines(tmp_path, [{"percent": "32"}, {"percent": "n/a"}])
    with pytest.raises(InputError, match=r"row=2.*value='n/a'"):
        load_published(path)


def test_load_published_empty_percent_is_error_not_nan(tmp_path: Path) -> None:
    path = write_toplines(tmp_path, [{"percent": ""}])
    with pytest.raises(InputError, match=r"column=percent, row=1, value=''"):
        load_published(path)


def test_load_published_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("wave_id,question\n2022-04,war_support\n", encoding="utf-8")
    with pytest.raises(InputError, match="column=fieldwork_start"):
        load_published(path)


def test_load_published_real_file(real: pd.DataFrame) -> None:
    raw_lines = TOPLINES.read_text(encoding="utf-8").splitlines()
    assert len(real) == len(raw_lines) - 1  # every data row, none dropped
    assert real["row_id"].tolist() == list(range(1, len(real) + 1))
    assert real[["value", "low", "high"]].notna().all().all()
    raw = pd.read_csv(TOPLINES, dtype=str, keep_default_na=False)
    for col in ("source_url", "source_quote", "percent"):
        assert real[col].tolist() == raw[col].tolist()
    assert real["flag"].fillna("").tolist() == raw["flag"].tolist()


# --- labels ----------------------------------------------------------------------------------

# Every distinct modelled (question, answer) in the real file -> (targets, category, relation).
EXPECTED = {
    ("war_support", "support"): ("war_support", "support", "equals"),
    ("war_support", "definitely or rather support"): ("war_support", "support", "equals"),
    ("war_support", "fully or rather support"): ("war_support", "support", "equals"),
    ("war_support", "support to some degree"): ("war_support", "support", "equals"),
    ("war_support", "fully or partially support"): ("war_support", "support", "equals"),
    ("war_support", "do not support"): ("war_support", "oppose", "equals"),
    ("war_support", "oppose"): ("war_support", "oppose", "equals"),
    ("war_support", "partly support, partly not"): ("war_support", "partly", "equals"),
    ("war_support", "hard to say"): ("war_support", "hard_to_say", "equals"),
    ("war_support", "hard to say or partly support"): (
        "war_support", "partly+hard_to_say", "sum_of"),
    ("war_support", "no clear answer"): ("war_support", "partly+hard_to_say", "sum_of"),
    ("war_support", "definitely support (unequivocal supporters)"): (
        "war_support", "support", "part_of"),
    ("war_support", "definitely do not support (unequivocal opponents)"): (
        "war_support", "oppose", "part_of"),
    ("alliance", "union with Russia only"): ("alliance", "russia", "equals"),
    ("alliance", "union with Russia"): ("alliance", "russia", "equals"),
    ("alliance", "union with EU only"): ("alliance", "eu", "equals"),
    ("alliance", "union with EU"): ("alliance", "eu", "equals"),
    ("alliance", "union with both Russia and EU"): ("alliance", "both", "equals"),
    ("alliance", "union with both Russia and EU (West)"): ("alliance", "both", "equals"),
    ("alliance", "outside any unions"): ("alliance", "outside", "equals"),
    ("alliance", "neutrality"): ("alliance", "both+outside", "sum_of"),
    ("attitude_russia", "positive"): ("attitude_russia", "good", "equals"),
    ("attitude_russia", "positive (total)"): ("attitude_russia", "good", "equals"),
    ("attitude_russia", "very good or mostly good"): ("attitude_russia", "good", "equals"),
    ("attitude_russia", "negative"): ("attitude_russia", "bad", "equals"),
    ("attitude_russia", "good (earlier value)"): ("attitude_russia", "good", "equals"),
    ("attitude_russia", "good (later value)"): ("attitude_russia", "good", "equals"),
    ("attitude_ukraine", "good (earlier value)"): ("attitude_ukraine", "good", "equals"),
    ("attitude_ukraine", "good (later value)"): ("attitude_ukraine", "good", "equals"),
    ("attitude_poland", "positive"): ("attitude_poland", "good", "equals"),
    ("attitude_usa", "good"): ("attitude_usa", "good", "equals"),
    ("attitude_ukraine_lithuania_poland_eu", "positive (each)"): (
        "attitude_ukraine|attitude_poland|attitude_eu", "good", "equals"),
    ("attitude_ukraine_lithuania_poland_eu", "negative (each)"): (
        "attitude_ukraine|attitude_poland|attitude_eu", "bad", "equals"),
    ("belarus_army_participation", "in favour"): ("belarus_army_participation", "yes", "equals"),
    ("belarus_army_participation", "in favour of Belarus' participation in war"): (
        "belarus_army_participation", "yes", "equals"),
    ("belarus_army_participation", "Belarusians should take part in hostilities"): (
        "belarus_army_participation", "yes", "equals"),
    ("belarus_army_participation", "army should join on Russia's side"): (
        "belarus_army_participation", "yes", "bears_on"),
}  # fmt: skip


def test_expected_covers_every_modelled_pair_in_real_file(real: pd.DataFrame) -> None:
    modelled = real[real["question"].isin(MODELLED)]
    pairs = set(modelled[["question", "answer"]].itertuples(index=False, name=None))
    assert pairs == set(EXPECTED)


@pytest.mark.parametrize(("pair", "expected"), list(EXPECTED.items()), ids=lambda x: str(x))
def test_label_mapping_of_real_pairs(
    pair: tuple, expected: tuple, real: pd.DataFrame, labels: dict
) -> None:
    rows = real[(real["question"] == pair[0]) & (real["answer"] == pair[1])]
    out = harmonise_published(rows, labels)
    n_targets = len(expected[0].split("|"))
    assert len(out) == len(rows) * n_targets
    assert set(out["canonical_question"]) == set(expected[0].split("|"))
    assert set(out["category"]) == {expected[1]}
    assert set(out["relation"]) == {expected[2]}


def test_unmodelled_questions_stay_with_na_category(real: pd.DataFrame, labels: dict) -> None:
    out = harmonise_published(real, labels)
    other = out[~out["question"].isin(MODELLED) & out["relation"].ne("bears_on")]
    assert {"vote_2020_recalled", "nuclear_weapons_deployment"} <= set(other["question"])
    assert other["category"].isna().all() and other["canonical_question"].isna().all()
    assert len(out) == len(real) + 4  # two rows expanded into three each


def test_expansion_row(real: pd.DataFrame, labels: dict) -> None:
    out = harmonise_published(real, labels)
    exp = out[out["question"] == "attitude_ukraine_lithuania_poland_eu"]
    assert sorted(exp["row_id"].unique()) == [45, 46]
    for _, group in exp.groupby("row_id"):
        targets = ["attitude_ukraine", "attitude_poland", "attitude_eu"]
        assert group["canonical_question"].tolist() == targets
        assert group["expanded_from"].str.contains("Lithuania is not in the codebook").all()
    assert out.loc[~out["row_id"].isin([45, 46]), "expanded_from"].isna().all()
    pos = exp[exp["answer"] == "positive (each)"]
    assert (pos["qualifier"] == "lower_bound").all() and (pos["value"] == 60).all()


def test_subgroup_mapping(real: pd.DataFrame, labels: dict) -> None:
    out = harmonise_published(real, labels)
    sub = out[out["subgroup_variable"] == "media_consumption"]
    mapping = dict(zip(sub["subgroup_value"], sub["subgroup_category"], strict=True))
    assert mapping == {
        "state media only": "state_only",
        "independent media only": "independent_only",
        "both state and independent": "both",
        "inactive media users": "inactive",
    }
    assert set(sub["subgroup_canonical_variable"]) == {"media_diet"}


def test_unmapped_answer_is_error(tmp_path: Path, labels: dict) -> None:
    df = load_published(write_toplines(tmp_path, [{"answer": "strongly support"}]))
    with pytest.raises(InputError) as info:
        harmonise_published(df, labels)
    msg = str(info.value)
    assert "wave=2022-04" in msg and "row=1" in msg and "'strongly support'" in msg
    assert "config/published_labels.yaml" in msg


def test_unmapped_subgroup_value_is_error(tmp_path: Path, labels: dict) -> None:
    row = {"subgroup_variable": "media_consumption", "subgroup_value": "radio only"}
    df = load_published(write_toplines(tmp_path, [row]))
    with pytest.raises(InputError, match="radio only"):
        harmonise_published(df, labels)


def _write_labels(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


DELETE = object()


@pytest.mark.parametrize(
    ("where", "value", "key"),
    [
        (
            ("questions", "alliance", "answers", "union with EU", "relation"),
            "is",
            "questions.alliance.answers.union with EU.relation",
        ),
        (  # sum_of needs a '+' category; equals/part_of must not have one
            ("questions", "war_support", "answers", "no clear answer", "category"),
            "hard_to_say",
            "questions.war_support.answers.no clear answer.category",
        ),
        (("questions", "alliance", "canonical"), DELETE, "questions.alliance.canonical"),
        (("questions", "alliance", "expand_note"), "x", "questions.alliance.expand_note"),
        (("rules",), DELETE, "rules"),
        (
            ("overrides",),
            [{"row_id": 0, "action": "exclude", "reason": "x"}],
            "overrides.0.row_id",
        ),
        (("subgroups", "media_consumption", "values", "both"), 3, "subgroups.media_consumption"),
    ],
)
def test_labels_schema_errors_name_key_path(
    tmp_path: Path, labels: dict, where: tuple, value: object, key: str
) -> None:
    data = copy.deepcopy(labels)
    parent = data
    for part in where[:-1]:
        parent = parent[part]
    if value is DELETE:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    with pytest.raises(InputError) as info:
        load_published_labels(_write_labels(tmp_path, data), schema_path=SCHEMA)
    assert f"key={key}" in str(info.value)
    assert "invalid configuration" in str(info.value)


def test_labels_unknown_codebook_category(tmp_path: Path, labels: dict) -> None:
    data = copy.deepcopy(labels)
    data["questions"]["alliance"]["answers"]["union with EU"]["category"] = "europe"
    path = _write_labels(tmp_path, data)
    load_published_labels(path)  # schema-valid
    with pytest.raises(InputError, match=r"key=questions.alliance.answers.union with EU"):
        load_published_labels(path, codebook_path=CODEBOOK)


def test_labels_duplicate_key_rejected(tmp_path: Path) -> None:
    text = LABELS.read_text(encoding="utf-8").replace(
        "      oppose: {category: oppose, relation: equals}\n",
        "      oppose: {category: oppose, relation: equals}\n"
        "      oppose: {category: support, relation: equals}\n",
    )
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="duplicate key 'oppose'"):
        load_published_labels(path)


def test_labels_rules_documented(labels: dict) -> None:
    text = " ".join(labels["rules"].values())
    phrases = [
        "ambiguous wave attribution",
        "question not in codebook",
        "retrospective",
        "machine-translated",
        "duplicate of row N",
        "superseded by row N",
    ]
    for phrase in phrases:
        assert phrase in text


# --- select_published ------------------------------------------------------------------------


def test_r1_ambiguous_waves(tmp_path: Path, labels: dict) -> None:
    rows = [{"wave_id": w} for w in ("undated", "2021-12?", "2022-11/12", "2022-04")]
    used, excluded = run(tmp_path, rows, labels)
    assert excluded["row_id"].tolist() == [1, 2, 3]
    assert set(excluded["reason"]) == {"ambiguous wave attribution"}
    assert used["row_id"].tolist() == [4]


def test_r2_question_not_in_codebook(tmp_path: Path, labels: dict) -> None:
    rows = [{"question": "nuclear_weapons_deployment", "answer": "against"}, {}]
    used, excluded = run(tmp_path, rows, labels)
    assert excluded["reason"].tolist() == ["question not in codebook"]
    assert excluded["published_question"].tolist() == ["nuclear_weapons_deployment"]
    assert excluded["question"].isna().all()
    assert used["question"].tolist() == ["war_support"]


def test_r2_subgroup_not_in_codebook(tmp_path: Path, labels: dict) -> None:
    rows = [{"subgroup_variable": "political_camp", "subgroup_value": "protest supporters"}]
    used, excluded = run(tmp_path, rows, labels)
    assert used.empty
    assert excluded["reason"].tolist() == ["subgroup not in codebook"]


def test_r3_duplicate_and_superseded_reasons(tmp_path: Path, labels: dict) -> None:
    rows = [
        {"percent": "32"},  # 1: kept
        {"percent": "32", "answer": "definitely or rather support"},  # 2: duplicate of 1
        {"percent": "31", "flag": "retrospective citation"},  # 3: superseded (retrospective)
        {"percent": "33", "flag": "machine-translated text"},  # 4: superseded (MT)
        {"percent": "about 32"},  # 5: superseded (precision)
    ]
    used, excluded = run(tmp_path, rows, labels)
    assert used["row_id"].tolist() == [1]
    reasons = dict(zip(excluded["row_id"], excluded["reason"], strict=True))
    assert reasons[2] == "duplicate of row 1"
    assert reasons[3].startswith("superseded by row 1 (retrospective")
    assert reasons[4].startswith("superseded by row 1 (machine-translated")
    assert reasons[5] == "superseded by row 1 (approximate is less precise than exact)"
    assert excluded["superseded_by"].tolist() == [1, 1, 1, 1]


def test_r3_precision_order(tmp_path: Path, labels: dict) -> None:
    rows = [{"percent": ">30"}, {"percent": "30-34"}, {"percent": "1/3"}, {"percent": "~31"}]
    used, excluded = run(tmp_path, rows, labels)
    assert used["qualifier"].tolist() == ["fraction"]
    assert excluded["superseded_by"].tolist() == [3, 3, 3]


def test_r3_different_relation_or_subgroup_is_not_duplicate(tmp_path: Path, labels: dict) -> None:
    rows = [
        {"percent": "32"},
        {"percent": "14", "answer": "definitely support (unequivocal supporters)"},
        {
            "percent": "53",
            "subgroup_variable": "media_consumption",
            "subgroup_value": "state media only",
        },
    ]
    used, excluded = run(tmp_path, rows, labels)
    assert used["relation"].tolist() == ["equals", "part_of", "equals"]
    assert used["subgroup_variable"].tolist()[2] == "media_diet"
    assert used["subgroup_value"].tolist()[2] == "state_only"
    assert excluded.empty


def test_retrospective_single_value_kept_with_flag(tmp_path: Path, labels: dict) -> None:
    rows = [{"percent": "33", "flag": "retrospective value; wave inferred"}]
    used, excluded = run(tmp_path, rows, labels)
    assert excluded.empty
    assert used["flag"].tolist() == ["retrospective value; wave inferred"]


def test_r3_tie_conflict_and_override(tmp_path: Path, labels: dict) -> None:
    rows = [{"percent": "32"}, {"percent": "35"}]
    with pytest.raises(InputError) as info:
        run(tmp_path, rows, labels)
    msg = str(info.value)
    assert "rows 1 and 2" in msg and "overrides" in msg and "published_labels.yaml" in msg
    override = [{"row_id": 2, "action": "exclude", "reason": "typo in the aggregator"}]
    used, excluded = run(tmp_path, rows, labels, overrides=override)
    assert used["row_id"].tolist() == [1]
    assert excluded["reason"].tolist() == ["override: typo in the aggregator"]


def test_override_unknown_row_is_error(tmp_path: Path, labels: dict) -> None:
    override = [{"row_id": 99, "action": "exclude", "reason": "x"}]
    with pytest.raises(InputError, match="row=99"):
        run(tmp_path, [{}], labels, overrides=override)


def test_output_columns_and_order(tmp_path: Path, labels: dict) -> None:
    rows = [{"wave_id": "undated"}, {"percent": "40", "answer": "oppose"}, {}]
    used, excluded = run(tmp_path, rows, labels)
    contract = (
        "row_id, wave, fieldwork_start, fieldwork_end, n_respondents, n_qualifier, question, "
        "answer, "
        "category, relation, value, low, high, qualifier, subgroup_variable, subgroup_value, "
        "source_url, source_quote, flag"
    ).split(", ")
    assert list(used.columns[: len(contract)]) == contract
    assert list(excluded.columns[-2:]) == ["reason", "superseded_by"]
    assert used["row_id"].tolist() == [2, 3]
    assert "published_question" in used.columns


# --- real data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def selected() -> tuple[pd.DataFrame, pd.DataFrame]:
    return published_main(TOPLINES, LABELS)


def test_real_used_and_excluded_cover_every_row_once(selected: tuple, real: pd.DataFrame) -> None:
    used, excluded = selected
    both = pd.concat([used, excluded])
    keys = list(zip(both["row_id"], both["question"].fillna(""), strict=True))
    assert len(keys) == len(set(keys)) == len(real) + 4
    assert set(both["row_id"]) == set(real["row_id"])
    assert set(zip(used["row_id"], used["question"], strict=True)).isdisjoint(
        zip(excluded["row_id"], excluded["question"].fillna(""), strict=True)
    )
    assert used["row_id"].is_monotonic_increasing and excluded["row_id"].is_monotonic_increasing
    assert excluded["reason"].notna().all()


def test_real_sep2020_alliance(selected: tuple) -> None:
    used, excluded = selected
    u = used[(used["wave"] == "2020-09") & (used["question"] == "alliance")]
    assert u["percent"].tolist() == ["27.2", "9.1", ">41", ">23"]
    assert u["category"].tolist() == ["russia", "eu", "both", "outside"]
    assert u["source_url"].str.contains("rp.pl/Bialorus").all()
    assert u["flag"].fillna("").str.contains("retrospective|machine-translated").sum() == 0
    e = excluded[(excluded["wave"] == "2020-09") & (excluded["question"] == "alliance")]
    assert e["row_id"].tolist() == [5, 6, 7, 8, 9]
    assert e["reason"].str.contains("machine-translated").sum() == 2
    assert e["reason"].str.contains("retrospective").sum() == 3
    assert set(e["superseded_by"]) <= set(u["row_id"])


def test_real_used_rows_are_modelled_and_dated(selected: tuple) -> None:
    used, excluded = selected
    assert used["question"].notna().all() and used["category"].notna().all()
    assert used["wave"].str.fullmatch(r"\d{4}-\d{2}").all()
    key = ["wave", "question", "category", "relation", "subgroup_variable", "subgroup_value"]
    assert not used.duplicated(key).any()
    # retrospective / wave-inferred single values stay, with their flag visible
    mar22 = used[(used["wave"] == "2022-03") & (used["question"] == "attitude_russia")]
    assert mar22["value"].tolist() == [79.0] and "wave inferred" in mar22["flag"].iloc[0]
    assert set(
        excluded["reason"].str.replace(r"\d+", "N", regex=True).str.split(" \\(").str[0]
    ) == {
        "ambiguous wave attribution",
        "question not in codebook",
        "duplicate of row N",
        "superseded by row N",
    }
