"""Adding a wave: ``pollwaves add-wave`` / ``check-wave`` / ``add-published``.

The end-to-end test follows README section 'Adding a new wave' on the SIMULATED demo delivery
``tests/data/demo_wave.sav`` in a temporary copy of the project (four earlier waves):
add-wave (first refused as mojibake, then with ``--encoding cp1251``), the documented
review (``pollwaves confirm``), check-wave, one ``snakemake`` run. The unit tests need no workflow run.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from demo_project import DEMO, EARLIER, REVIEW, WAVE, demo_project
from project_copy import copy_wave, make_project

from pollwaves.cli import main
from pollwaves.config import load_codebook
from pollwaves.errors import InputError
from pollwaves.intake.addwave import add_wave, check_wave_id
from pollwaves.intake.check import check_wave
from pollwaves.intake.mapping import load_wave_config
from pollwaves.published.parse import RAW_COLUMNS
from pollwaves.published.rows import add_published
from pollwaves.published.select import published_main


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return demo_project(tmp_path_factory)


def test_demo_mojibake_is_refused_with_the_fix(demo: dict) -> None:
    res = demo["mojibake"]
    assert res.returncode == 2
    assert "mojibake" in res.stderr and "--encoding cp1251" in res.stderr
    assert "demo_wave.sav" in res.stderr


def test_demo_add_wave_summary_and_draft(demo: dict) -> None:
    res = demo["added"]
    assert res.returncode == 0, res.stderr
    print(res.stdout)
    assert re.search(r"mapped \(confirmed\):\s+17\b", res.stdout)
    assert re.search(r"needs review:\s+1\s+b_union->alliance$", res.stdout, re.M)
    assert re.search(r"unmapped \(ignored\):\s+1\s+device$", res.stdout, re.M)
    assert "NOT FOUND" not in res.stdout
    assert f"pollwaves check-wave {WAVE}" in res.stdout
    draft = yaml.safe_load(demo["draft"])
    assert draft["wave"] == WAVE and draft["encoding"] == "cp1251" and draft["simulated"] is True
    assert draft["file"] == f"data/raw/waves/{WAVE}.sav"
    assert draft["fieldwork"] == {"start": "2024-05-10", "end": "2024-05-20"}
    assert draft["missing_codes"] == [99]
    cols = draft["columns"]
    assert cols["p_sex"] == {
        "variable": "sex",
        "values": {1: "male", 2: "female"},
        "review": "confirmed",
    }
    assert cols["b_union"]["variable"] == "alliance"  # found by its value labels only
    assert cols["b_union"]["review"] == "needs review" and cols["b_union"]["candidates"]
    assert cols["b_att_ua"]["variable"] == "attitude_ukraine"  # label pattern
    assert cols["b_war"]["values"][5] == "oppose"  # 'Совсем не поддерживаю'
    assert cols["pollster_wt"] == {"variable": "vendor_weight", "review": "confirmed"}
    assert [c for c, s in cols.items() if s["review"] != "confirmed"] == REVIEW
    assert "device" not in cols and "not_asked" not in draft
    copied = demo["proj"] / draft["file"]
    assert copied.read_bytes() == DEMO.read_bytes()


def test_demo_check_wave_passes_after_review(demo: dict) -> None:
    assert demo["confirm"].returncode == 0, demo["confirm"].stdout
    assert "confirmed: b_union" in demo["confirm"].stdout
    assert demo["check"].returncode == 0, demo["check"].stdout
    assert "OK" in demo["check"].stdout


def test_demo_wave_reaches_tables_figures_and_report(demo: dict) -> None:
    run, proj = demo["run"], demo["proj"]
    assert run.returncode == 0, run.stderr[-3000:]
    top = pd.read_csv(proj / "reports/tables/toplines.csv", dtype={"wave": str})
    assert set(top["wave"]) == {*EARLIER, WAVE}
    new = top[(top["wave"] == WAVE) & (top["domain"] == "all")]
    trend = yaml.safe_load((proj / "config/config.yaml").read_text())["report"]["trend_questions"]
    for question in trend:  # what the trend figures draw for the new wave
        shares = new.loc[new["question"] == question, "estimate"]
        assert len(shares) >= 4 and shares.sum() == pytest.approx(1.0)
    war = new.set_index(["question", "category"])["estimate"]
    assert war[("war_support", "oppose")] > 0.3  # codes 4 and 5 ('Совсем не поддерживаю')
    published = pd.read_csv(proj / "data/processed/published/toplines.csv", dtype={"wave": str})
    assert not (published["wave"] == "2024-05").any()  # the 2024-05 bar is the demo wave
    for question in trend:  # matplotlib keeps each tick label as a comment in the SVG
        svg = (proj / f"reports/figures/{question}_trend.svg").read_text(encoding="utf-8")
        assert "<!-- 2024 -->" in svg
    html = (proj / "reports/public_demand.html").read_text(encoding="utf-8")
    assert f">{WAVE}<" in html
    cleaning = pd.read_csv(proj / "reports/tables/cleaning.csv", dtype={"wave": str})
    assert WAVE in set(cleaning["wave"])


# --- unit tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("wave", ["2024-05", "2024-05b", "2024-05_boost", "2024-12-extra"])
def test_safe_wave_ids_accepted(wave: str) -> None:
    assert check_wave_id(wave) == wave


@pytest.mark.parametrize(
    "wave", ["../2024-05", "2024/05", "2024-05/../x", "2024-13", "24-05", "2024-5", "2024-05.b",
             "2024-05B", "", "2024-05\\x", "May 2024"],
)  # fmt: skip
def test_unsafe_wave_id_rejected(tmp_path: Path, wave: str) -> None:
    with pytest.raises(InputError, match="wave id"):
        add_wave(DEMO, wave, root=tmp_path, encoding="cp1251")
    assert not any(tmp_path.rglob("*.yaml"))


def test_suffixed_wave_id_needs_a_workflow_that_accepts_it(small: Path) -> None:
    common = small / "workflow/rules/common.smk"
    text = common.read_text(encoding="utf-8")
    line = re.compile(r"^(\s+wave\s*=\s*)r\"[^\"]*\"", re.M)
    assert line.search(text)
    common.write_text(line.sub(r'\1r"\\d{4}-\\d{2}"', text), encoding="utf-8")
    with pytest.raises(InputError, match="wildcard constraint") as info:
        add_wave(DEMO, "2024-05b", root=small, encoding="cp1251")
    assert "common.smk" in str(info.value)
    assert not (small / "config/waves/2024-05b.yaml").exists()
    common.write_text(line.sub(r'\1r"\\d{4}-\\d{2}[a-z0-9_-]*"', text), encoding="utf-8")
    res = add_wave(DEMO, "2024-05b", root=small, encoding="cp1251")
    assert res.config_path.name == "2024-05b.yaml"
    assert res.delivery_path == small / "data/raw/waves/2024-05b.sav"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A project copy with one earlier wave (no workflow run)."""
    return make_project(tmp_path, ["2023-11"])


def test_overwrite_refused_without_force(small: Path) -> None:
    add_wave(DEMO, WAVE, root=small, encoding="cp1251")
    mapping = small / "config/waves" / f"{WAVE}.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8") + "# my review notes\n", "utf-8")
    before = mapping.read_text(encoding="utf-8")
    with pytest.raises(InputError, match="already exists") as info:
        add_wave(DEMO, WAVE, root=small, encoding="cp1251")
    assert "--force" in str(info.value)
    assert mapping.read_text(encoding="utf-8") == before
    add_wave(DEMO, WAVE, root=small, encoding="cp1251", force=True)
    assert "# my review notes" not in mapping.read_text(encoding="utf-8")


def test_mojibake_detected_in_sav_and_csv(small: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mojibake") as info:
        add_wave(DEMO, WAVE, root=small)
    assert "--encoding cp1251" in str(info.value) and "column=p_sex" in str(info.value)
    # a cp1251 csv read with --encoding utf-8: the fix names cp1251
    raw = ROOT / "data/raw/waves/2021-01.csv"
    with pytest.raises(InputError, match="--encoding cp1251"):
        add_wave(raw, "2024-06", root=small, encoding="utf-8")
    # Cyrillic saved as Latin-1 text and then as UTF-8: garbled before delivery
    garbled = tmp_path / "garbled.csv"
    text = raw.read_bytes().decode("cp1251").encode("cp1251").decode("latin-1")
    garbled.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="mojibake") as info:
        add_wave(garbled, "2024-07", root=small)
    assert "re-export" in str(info.value)
    assert not (small / "config/waves/2024-07.yaml").exists()


def test_csv_encoding_detected_and_labels_mapped(small: Path) -> None:
    res = add_wave(ROOT / "data/raw/waves/2021-01.csv", "2024-06", root=small)
    assert res.encoding == "cp1251"
    cfg = yaml.safe_load(res.config_path.read_text(encoding="utf-8"))
    assert cfg["encoding"] == "cp1251"
    by_var = {spec["variable"]: spec for spec in cfg["columns"].values()}
    assert by_var["sex"].get("labels") is True and by_var["sex"]["review"] == "confirmed"
    assert cfg["columns"]["Отношение к России"]["variable"] == "attitude_russia"


def test_parquet_delivery_uses_earlier_wave_names(small: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(ROOT / "data/raw/waves/2021-04.csv")
    path = tmp_path / "delivery.parquet"
    frame.to_parquet(path)
    copy_wave(small, "2021-04")
    res = add_wave(path, "2024-06", root=small)
    cfg = yaml.safe_load(res.config_path.read_text(encoding="utf-8"))
    assert cfg["format"] == "parquet" and (small / cfg["file"]).is_file()
    gender = cfg["columns"]["Gender"]  # no labels: name and codes as in wave 2021-04
    assert gender["variable"] == "sex" and gender["review"] == "needs review"
    assert gender["values"] == {1: "female", 2: "male"}


def test_check_wave_lists_every_problem(small: Path) -> None:
    add_wave(DEMO, WAVE, root=small, encoding="cp1251")
    mapping = small / "config/waves" / f"{WAVE}.yaml"
    cfg = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    cfg["columns"]["p_sexx"] = cfg["columns"].pop("p_sex")  # column not in the file
    cfg["columns"]["p_edu"]["values"][4] = "university"  # not a category
    del cfg["columns"]["p_town"]  # required demographic
    cfg["cleaning"]["min_completeness"] = 2  # schema: at most 1
    del cfg["columns"]["b_war"]["values"][5]  # raw value 5 left unmapped
    mapping.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), "utf-8")
    problems = check_wave(WAVE, small)
    text = "\n".join(map(str, problems))
    assert all(p.wave == WAVE and p.hint for p in problems)
    assert "column=p_sexx" in text and "not in the delivery" in text
    assert "'university' is not a category of 'education'" in text
    assert "required variable 'settlement' is not mapped" in text
    assert "key=cleaning.min_completeness" in text
    assert "value='5'" in text and "column=b_war" in text  # unmapped raw value
    review = [p for p in problems if "needs review" in p.problem]
    assert {p.column for p in review} == set(REVIEW)
    assert main(["check-wave", WAVE, "--root", str(small)]) == 1


def test_needs_review_refused_by_load_wave_config(small: Path) -> None:
    add_wave(DEMO, WAVE, root=small, encoding="cp1251")
    schemas = small / "workflow/schemas"
    codebook = load_codebook(small / "config/codebook.yaml", schemas / "codebook.schema.yaml")
    mapping = small / "config/waves" / f"{WAVE}.yaml"
    with pytest.raises(InputError) as info:
        load_wave_config(mapping, schemas / "wave.schema.yaml", codebook)
    msg = str(info.value)
    assert f"wave={WAVE}" in msg and "1 column(s)" in msg and "b_union" in msg
    assert "review: confirmed" in msg and "check-wave" in msg
    assert main(["confirm", WAVE, "--root", str(small)]) == 0
    cfg = load_wave_config(mapping, schemas / "wave.schema.yaml", codebook)
    assert {spec["review"] for spec in cfg["columns"].values()} == {"confirmed"}


def _published_project(tmp_path: Path) -> tuple[Path, Path]:
    for rel in ("data/raw/published/toplines.csv", "config/published_labels.yaml",
                "config/codebook.yaml", "config/config.yaml"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    return tmp_path / "data/raw/published/toplines.csv", tmp_path / "config/published_labels.yaml"


def _rows(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=RAW_COLUMNS)
        writer.writeheader()
        writer.writerows({c: "" for c in RAW_COLUMNS} | row for row in rows)
    return path


def test_add_published_rejects_duplicate_and_bad_percent(tmp_path: Path) -> None:
    toplines, labels = _published_project(tmp_path)
    before = toplines.read_bytes()
    first = pd.read_csv(toplines, dtype=str, keep_default_na=False).iloc[0].to_dict()
    new = {"wave_id": "2024-05", "question": "war_support", "answer": "support",
           "percent": "31", "source_url": "https://example.org/poll-2024-05",
           "source_quote": "31% support"}  # fmt: skip
    bad = _rows(tmp_path / "bad.csv", [first, new | {"answer": "oppose", "percent": "about half"}])
    with pytest.raises(InputError) as info:
        add_published(bad, toplines, labels)
    msg = str(info.value)
    assert "2 problems" in msg and "duplicate of row 1 of toplines.csv" in msg
    assert "row=2" in msg and "column=percent" in msg and "'about half'" in msg
    assert toplines.read_bytes() == before  # nothing appended
    assert main(["add-published", str(bad), "--root", str(tmp_path)]) == 2

    good = _rows(tmp_path / "good.csv", [new])
    assert add_published(good, toplines, labels) == 1
    assert toplines.read_bytes().startswith(before) and toplines.read_bytes() != before
    used, _ = published_main(toplines, labels)
    assert "2024-05" in set(used["wave"])
    with pytest.raises(InputError, match="duplicate"):
        add_published(good, toplines, labels)
    # rows appended by hand are validated the same way by the workflow's loader
    with toplines.open("a", encoding="utf-8") as fh:
        fh.write(toplines.read_text(encoding="utf-8").splitlines()[-1] + "\n")
    with pytest.raises(InputError, match="duplicate of row"):
        published_main(toplines, labels)
