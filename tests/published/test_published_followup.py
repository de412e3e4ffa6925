"""Issue 11, published side: qualified N, label variants, the flagged-row rule, pooled
reports, items that bear on a claim, and how bounds are shown. Tiny inline rows."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_published import (
    CODEBOOK,
    LABELS,
    SCHEMA,
    TOPLINES,
    run,
    write_toplines,
)

from pollwaves.analysis.poll_inputs import published_series
from pollwaves.errors import InputError
from pollwaves.published.labels import load_published_labels
from pollwaves.published.parse import N_QUALIFIERS, load_published, parse_n, parse_percent
from pollwaves.published.rows import add_published
from pollwaves.published.select import published_main, shown_as


@pytest.fixture(scope="module")
def labels() -> dict:
    return load_published_labels(LABELS, codebook_path=CODEBOOK)


AGGREGATOR = "pro-Kremlin aggregator; not confirmed by an independent source"


# --- qualified sample sizes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "n", "qualifier"),
    [
        ("899", 899, "exact"),
        (" 1233 ", 1233, "exact"),
        (">700", 700, "lower_bound"),
        ("more than 700", 700, "lower_bound"),
        ("Over 700", 700, "lower_bound"),
        ("at least 700", 700, "lower_bound"),
        ("≥700", 700, "lower_bound"),
        ("755 or 767", 755, "range"),
        ("767-755", 755, "range"),
        ("about 800", 750, "approximate"),
        ("~850", 845, "approximate"),
        ("", None, "unknown"),
    ],
)
def test_parse_n_conservative_whole_number(cell: str, n: int | None, qualifier: str) -> None:
    got = parse_n(cell)
    assert (got.n, got.qualifier) == (n, qualifier)
    assert got.qualifier in N_QUALIFIERS
    if n is not None and qualifier != "exact":  # never above any N the cell allows
        allowed = [int(x) for x in cell.replace("~", " ").replace(">", " ").split() if x.isdigit()]
        assert got.n <= min(allowed) if allowed else True


@pytest.mark.parametrize("cell", ["n/a", "0", "seven hundred", ">0", "700.5"])
def test_parse_n_rejects_with_location(cell: str) -> None:
    with pytest.raises(InputError) as info:
        parse_n(cell, row=4, file="new.csv")
    msg = str(info.value)
    assert "column=n_respondents" in msg and "row=4" in msg and f"value={cell!r}" in msg


def test_qualified_n_reaches_processed_table(tmp_path: Path, labels: dict) -> None:
    rows = [
        {"n_respondents": ">700", "answer": "support", "percent": "27"},
        {"n_respondents": "804", "answer": "oppose", "percent": "44"},
        {"n_respondents": "", "answer": "hard to say", "percent": "13"},
    ]
    used, excluded = run(tmp_path, rows, labels)
    assert excluded.empty
    cols = list(used.columns)
    assert cols[cols.index("n_respondents") + 1] == "n_qualifier"
    assert used["n_respondents"].tolist()[:2] == [700, 804]
    assert pd.isna(used["n_respondents"].iloc[2])
    assert used["n_qualifier"].tolist() == ["lower_bound", "exact", "unknown"]
    assert used["n_published"].fillna("").tolist() == [">700", "804", ""]


def test_conservative_n_gives_wider_interval(tmp_path: Path, labels: dict) -> None:
    rows = [
        {"n_respondents": ">700", "wave_id": w, "percent": "30"} for w in ("2024-12", "2025-11")
    ]
    rows.append({"n_respondents": "", "wave_id": "2025-12", "percent": "30"})
    used, _ = run(tmp_path, rows, labels)
    series = published_series(used, "war_support", "support", deff=1.5)
    assert series["wave"].tolist() == ["2024-12", "2025-11"]  # no N: no variance, left out
    assert (series["n"] == 700).all()
    p = 0.30
    var_used = 1.5 * p * (1 - p) / series["n"].iloc[0]
    for true_n in (701, 750, 1000):  # any N the cell ">700" allows
        assert var_used > 1.5 * p * (1 - p) / true_n


def test_add_published_accepts_qualified_n_and_rejects_bad(tmp_path: Path) -> None:
    toplines = write_toplines(tmp_path, [{}])
    good = write_toplines(tmp_path, [{"wave_id": "2025-11", "n_respondents": ">700"}], "good.csv")
    bad = write_toplines(tmp_path, [{"wave_id": "2025-12", "n_respondents": "many"}], "bad.csv")
    before = toplines.read_bytes()
    with pytest.raises(InputError, match="n_respondents is not a sample size"):
        add_published(bad, toplines, LABELS, codebook_path=CODEBOOK)
    assert toplines.read_bytes() == before
    assert add_published(good, toplines, LABELS, codebook_path=CODEBOOK) == 1
    assert load_published(toplines)["n_qualifier"].tolist() == ["unknown", "lower_bound"]


def test_several_numbers_in_one_cell_are_rejected_not_a_fraction() -> None:
    with pytest.raises(InputError, match="several numbers"):
        parse_percent("8 / 12", row=3)
    assert parse_percent("1/4").value == pytest.approx(25.0)


# --- label variants ----------------------------------------------------------------------------


def test_new_label_variants(tmp_path: Path, labels: dict) -> None:
    rows = [
        {"wave_id": "2024-12", "answer": "support", "percent": "32"},
        {"wave_id": "2024-12", "answer": "fully or partially support", "percent": "32",
         "source_url": "https://example.org/b"},
        {"wave_id": "2025-11", "question": "alliance", "answer": "neutrality", "percent": "41"},
    ]  # fmt: skip
    used, excluded = run(tmp_path, rows, labels)
    assert used[["category", "relation"]].values.tolist() == [
        ["support", "equals"],
        ["both+outside", "sum_of"],
    ]
    assert excluded["reason"].tolist() == ["duplicate of row 1"]
    assert "rather support" in excluded["mapping_note"].iloc[0]  # the wording, documented
    assert "non-aligned" in used["mapping_note"].iloc[1]


# --- the flagged-row rule --------------------------------------------------------------------


def test_unconfirmed_source_alone_is_kept_with_flag(tmp_path: Path, labels: dict) -> None:
    rows = [{"question": "alliance", "answer": "neutrality", "percent": "41", "flag": AGGREGATOR}]
    used, excluded = run(tmp_path, rows, labels)
    assert excluded.empty
    assert used["flag"].tolist() == [AGGREGATOR]


def test_unconfirmed_source_in_conflict_needs_override(tmp_path: Path, labels: dict) -> None:
    rows = [
        {"question": "alliance", "answer": "union with EU", "percent": "15"},
        {"question": "alliance", "answer": "union with EU", "percent": "19", "flag": AGGREGATOR,
         "source_url": "https://example.org/aggregator"},
    ]  # fmt: skip
    with pytest.raises(InputError, match="rank equally"):
        run(tmp_path, rows, labels)
    override = [{"row_id": 2, "action": "exclude", "reason": "aggregator not confirmed"}]
    used, excluded = run(tmp_path, rows, labels, overrides=override)
    assert used["value"].tolist() == [15.0]
    assert excluded["reason"].tolist() == ["override: aggregator not confirmed"]


def test_flag_rule_is_documented(labels: dict) -> None:
    rule = labels["rules"]["R4_single_values"]
    assert "never excludes" in rule and "not confirmed" in rule
    assert "conservative" in labels["rules"]["N_qualified"]


# --- pooled reports of two surveys -------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "wave"),
    [("2025-08", "2025-11", "2025-11"), ("2025-08-04", "2025-11-20", "2025-11"),
     ("", "", None), ("2025-09", "2025-11", None)],
)  # fmt: skip
def test_pooled_report_wave(
    tmp_path: Path, labels: dict, start: str, end: str, wave: str | None
) -> None:
    rows = [{"wave_id": "2025-08/11", "fieldwork_start": start, "fieldwork_end": end}]
    used, excluded = run(tmp_path, rows, labels)
    if wave is None:
        assert excluded["reason"].tolist() == ["ambiguous wave attribution"]
    else:
        assert used["wave"].tolist() == [wave]
        assert used["published_wave"].tolist() == ["2025-08/11"]
        assert used["fieldwork_start"].tolist() == [start]


# --- items that bear on a claim --------------------------------------------------------------


def test_bearing_item_reaches_used_table(tmp_path: Path, labels: dict) -> None:
    army = "Belarus army should join war on Russia's side"
    rows = [
        {"wave_id": "2022-03", "question": "belarus_position", "answer": army, "percent": "3"},
        {"wave_id": "2022-03", "question": "belarus_position", "answer": "condemn Russia's actions",
         "percent": "15"},
        {"wave_id": "2022-03", "question": "belarus_army_participation", "answer": "in favour",
         "percent": "6"},
    ]  # fmt: skip
    used, excluded = run(tmp_path, rows, labels)
    bear = used[used["relation"] == "bears_on"].iloc[0]
    assert (bear["question"], bear["category"], bear["published_question"]) == (
        "belarus_army_participation",
        "yes",
        "belarus_position",
    )
    assert "multi-option" in bear["mapping_note"]
    # the same-question "yes" share is a separate key: both kept, never pooled
    assert sorted(used["relation"]) == ["bears_on", "equals"]
    assert excluded["reason"].tolist() == ["question not in codebook"]


def test_bearing_needs_wording_note(tmp_path: Path, labels: dict) -> None:
    data = copy.deepcopy(labels)
    del data["bearing"]["belarus_position"]["answers"][
        "Belarus army should join war on Russia's side"
    ]["note"]
    path = tmp_path / "labels.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="bearing.belarus_position"):
        load_published_labels(path, schema_path=SCHEMA)


# --- bounds are shown as bounds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("lower_bound", "equals", 41.0, 41.0, 100.0), "≥41"),
        (("exact", "part_of", 14.0, 14.0, 14.0), "≥14"),
        (("upper_bound", "equals", 20.0, 0.0, 20.0), "≤20"),
        (("range", "equals", 12.0, 11.0, 13.0), "11–13"),
        (("approximate", "equals", 42.0, 41.0, 42.0), "~42"),
        (("exact", "equals", 27.2, 27.2, 27.2), "27.2"),
    ],
)
def test_shown_as(args: tuple, text: str) -> None:
    assert shown_as(*args) == text


# --- the real 2024-2025 rows -----------------------------------------------------------------


def test_real_followup_rows() -> None:
    used, excluded = published_main(TOPLINES, LABELS)
    new = used[used["wave"] >= "2024"]
    war = new[new["question"] == "war_support"].set_index(["wave", "category"])["value"]
    assert set(war.index) >= {
        ("2024-12", "support"),
        ("2024-12", "oppose"),
        ("2025-11", "support"),
    }
    pooled = new[new["published_wave"] == "2025-08/11"]
    assert (pooled["n_qualifier"] == "lower_bound").all() and (
        pooled["n_respondents"] == 700
    ).all()
    assert pooled["source_url"].str.startswith("https://").all()
    agg = pooled[pooled["flag"].fillna("").str.contains("aggregator")]
    assert agg["category"].tolist() == ["both+outside"] and agg["relation"].tolist() == ["sum_of"]
    mar22 = used[(used["wave"] == "2022-03") & (used["relation"] == "bears_on")]
    assert mar22["value"].tolist() == [3.0] and mar22["question"].tolist() == [
        "belarus_army_participation"
    ]
    assert not any(math.isnan(v) for v in used["value"])
    lower = used[used["qualifier"] == "lower_bound"]
    assert lower["shown_as"].str.startswith("≥").all()
