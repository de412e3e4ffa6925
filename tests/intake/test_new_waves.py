"""add-wave on deliveries it has never seen: confident mapping, items not asked, age in years,
refusals in education and the vendor's weight (issue 10).

The three SIMULATED deliveries come from ``tests/data/make_new_waves.py`` (seeded). Each must
go in with no ``needs review`` and no ``NOT FOUND``. The unit tests feed tiny inline
deliveries to :func:`pollwaves.intake.propose.propose`.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from project_copy import make_project

from pollwaves.config import load_codebook
from pollwaves.intake import propose as propose_module
from pollwaves.intake.addwave import add_wave
from pollwaves.intake.mapping import required_variables
from pollwaves.intake.propose import propose
from pollwaves.intake.readers import Delivery

DATA = ROOT / "tests" / "data"
# delivery, wave, age column, weight column, not asked
NEW = {
    "simulated_ru.sav": ("2024-06", "s2", "wt",
                         ["media_diet", "authorities", "attitude_poland", "attitude_usa",
                          "belarus_army_participation"]),
    "simulated_ru.csv": ("2024-07", "Возраст (полных лет)", "Вес", ["authorities", "war_support"]),
    "simulated_be.dta": ("2024-08", "uzrost", "vaga",
                         ["media_diet", "attitude_ukraine", "attitude_eu", "attitude_usa"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The three deliveries added to one project copy (one earlier wave)."""
    proj = make_project(tmp_path_factory.mktemp("new"), ["2023-11"])
    out = {}
    for name, (wave, *_rest) in NEW.items():
        res = add_wave(DATA / name, wave, root=proj, fieldwork=(f"{wave}-05", f"{wave}-15"))
        out[name] = (res, yaml.safe_load(res.config_path.read_text(encoding="utf-8")))
    return out


@pytest.mark.parametrize("name", list(NEW))
def test_new_delivery_goes_in_without_review(added: dict, name: str) -> None:
    res, cfg = added[name]
    wave, age, weight, not_asked = NEW[name]
    summary = res.summary()
    print(summary)
    assert re.search(r"needs review:\s+0\b", summary) and "NOT FOUND" not in summary
    assert res.missing_required == []
    assert {spec["review"] for spec in cfg["columns"].values()} == {"confirmed"}
    assert not any("candidates" in spec for spec in cfg["columns"].values())
    assert cfg["columns"][age] == {
        "variable": "age_group",
        "derive": "years",
        "review": "confirmed",
    }
    assert cfg["columns"][weight] == {"variable": "vendor_weight", "review": "confirmed"}
    assert (
        cfg["not_asked"] == not_asked
        and f"not asked (not_asked): {', '.join(not_asked)}" in summary
    )
    assert cfg["simulated"] is True and cfg["wave"] == wave
    mapped = {spec["variable"] for spec in cfg["columns"].values()}
    assert set(required_variables(res.root)) <= mapped
    assert not set(not_asked) & mapped


def test_refusals_in_education_are_missing(added: dict) -> None:
    sav, dta, csv = (
        added[n][1] for n in ("simulated_ru.sav", "simulated_be.dta", "simulated_ru.csv")
    )
    assert sav["missing_codes"] == [99] and 99 not in sav["columns"]["s3"]["values"]
    assert dta["missing_codes"] == [99] and set(dta["columns"]["adu"]["values"]) == {1, 2, 3}
    edu = csv["columns"]["Образование"]  # text answers: 'Отказ от ответа' is a missing label
    assert edu == {"variable": "education", "labels": True, "review": "confirmed"}
    assert any(re.search(p, "Отказ от ответа", re.I) for p in csv["missing_labels"])


def test_issue_forms_are_recognised(added: dict) -> None:
    csv = added["simulated_ru.csv"][1]["columns"]
    assert csv["Номер анкеты"]["variable"] == "resp_id"
    assert csv["Время заполнения (сек)"]["variable"] == "duration_sec"
    dta = added["simulated_be.dta"][1]["columns"]
    assert dta["sajuz"]["values"][2] == "eu"  # 'Саюз з Еўрасаюзам'
    assert dta["armija"]["values"][2] == "no"  # 'Не, не павінна'
    assert dta["pol"]["values"] == {1: "male", 2: "female"}  # 'Мужчына', 'Жанчына'
    sav = added["simulated_ru.sav"][1]["columns"]
    assert sav["q2"]["values"][2] == "eu"  # 'В союзе с Европейским союзом'


def test_make_new_waves_is_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_new_waves", DATA / "make_new_waves.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    rng = module.np.random.default_rng(module.SEED)
    for make, name in ((module.make_sav, "simulated_ru.sav"), (module.make_csv, "simulated_ru.csv"),
                       (module.make_dta, "simulated_be.dta")):  # fmt: skip
        assert make(rng).read_bytes() == (DATA / name).read_bytes(), name


# --- unit tests on inline deliveries ---------------------------------------------------------


@pytest.fixture(scope="module")
def codebook() -> dict:
    return load_codebook(
        ROOT / "config/codebook.yaml", ROOT / "workflow/schemas/codebook.schema.yaml"
    )


def _csv(columns: dict) -> Delivery:
    return Delivery(pd.DataFrame(columns), {}, {"format": "csv"})


def _by_column(delivery: Delivery, codebook: dict, earlier=()) -> dict:
    return {p.column: p for p in propose(delivery, codebook, list(earlier), "2024-05")}


IDS = list(range(1, 9))


def test_text_answers_of_the_issue_map_to_categories(codebook: dict) -> None:
    props = _by_column(_csv({
        "Номер анкеты": IDS,
        "Источники информации": ["Не следят за новостями", "Только независимые СМИ"] * 4,
        "В каком союзе должна быть Беларусь?": ["В союзе с Европейским союзом", "Саюз з Еўрасаюзам",
                                               "Союз с Россией", "Затрудняюсь ответить"] * 2,
        "Ці павінна беларуская армія ўдзельнічаць у вайне?": ["Не, не павінна", "Так, павінна"] * 4,
    }), codebook)  # fmt: skip
    assert all(p.confirmed and p.use_labels for c, p in props.items() if c != "Номер анкеты")
    assert props["Номер анкеты"].variable == "resp_id" and props["Номер анкеты"].confirmed


def test_two_columns_naming_one_variable_need_review(codebook: dict) -> None:
    props = _by_column(_csv({"id": IDS, "Пол": ["Мужской", "Женский"] * 4,
                             "Пол (интервьюер)": ["Мужской", "Женский"] * 4}), codebook)  # fmt: skip
    assert props["Пол"].variable == "sex" and not props["Пол"].confirmed
    assert props["Пол (интервьюер)"].variable is None


def test_unmatched_answer_or_rival_variable_needs_review(codebook: dict) -> None:
    props = _by_column(
        _csv({"id": IDS, "Пол": ["Мужской", "Женский", "Другое", "Мужской"] * 2}), codebook
    )
    assert props["Пол"].variable == "sex" and not props["Пол"].confirmed
    assert any("NOT MAPPED" in note for note in props["Пол"].notes)
    column = "Возраст и образование"  # the label names two variables: a close second
    props = _by_column(_csv({"id": IDS, column: ["Высшее", "18-24"] * 4}), codebook)
    assert props[column].variable in ("age_group", "education") and not props[column].confirmed
    assert set(props[column].candidates) == {"age_group", "education"}


def test_age_in_years_only_for_whole_numbers_in_range(codebook: dict) -> None:
    years = [18, 25, 33, 47, 52, 61, 70, 89]
    props = _by_column(_csv({"id": IDS, "Узрост (поўных гадоў)": years}), codebook)
    assert (
        props["Узрост (поўных гадоў)"].derive == "years"
        and props["Узрост (поўных гадоў)"].confirmed
    )
    props = _by_column(_csv({"id": IDS, "Age": [y + 0.5 for y in years]}), codebook)
    assert props["Age"].derive is None and not props["Age"].confirmed
    props = _by_column(_csv({"id": IDS, "Возраст": [1, 2, 3, 4, 5, 1, 2, 3]}), codebook)
    assert props["Возраст"].derive is None


def test_vendor_weight_needs_weight_like_values(codebook: dict) -> None:
    props = _by_column(
        _csv({"id": IDS, "Weight": [0.8, 1.2, 0.9, 1.1, 1.0, 0.95, 1.05, 1.0]}), codebook
    )
    assert props["Weight"].variable == "vendor_weight" and props["Weight"].confirmed
    props = _by_column(_csv({"id": IDS, "Вес": [1, 2, 1, 3, 1, 2, 1, 1]}), codebook)
    assert props["Вес"].variable == "vendor_weight" and not props["Вес"].confirmed
    props = _by_column(_csv({"id": IDS, "Вага": [-1.0, 1.5, 0.5, 1, 1, 1, 1, 1]}), codebook)
    assert props["Вага"].variable is None


def test_patterns_live_in_the_codebook(codebook: dict) -> None:
    for name in ("LABEL_PATTERNS", "CATEGORY_PATTERNS", "REFUSAL", "DONT_KNOW"):
        assert not hasattr(propose_module, name)
    delivery = _csv(
        {"id": IDS, "Какой союз Вы бы выбрали для Беларуси?": ["Союз с ЕС", "Союз с Россией"] * 4}
    )
    column = "Какой союз Вы бы выбрали для Беларуси?"
    assert _by_column(delivery, codebook)[column].confirmed
    without = copy.deepcopy(codebook)
    del without["variables"]["alliance"]["label_patterns"]
    prop = _by_column(delivery, without)[column]
    assert prop.variable == "alliance" and not prop.confirmed  # value labels only
