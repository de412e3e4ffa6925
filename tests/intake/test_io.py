"""Tests for pollwaves.intake.readers: delivery readers and deterministic writers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from pollwaves.errors import InputError
from pollwaves.files import read_parquet, write_parquet, write_table
from pollwaves.intake.readers import Delivery, read_delivery

RU_LABELS = {1: "Мужской", 2: "Женский", 99: "Отказ от ответа"}


def _raw_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [101, 102, 103],
            "q1": [1, 2, 99],
            "dur_s": [312.5, np.nan, 48.0],
            "note": ["  да ", "", "нет"],
        }
    )


def test_read_sav_keeps_codes_labels_and_user_missing(tmp_path):
    path = tmp_path / "w.sav"
    pyreadstat.write_sav(
        _raw_frame(),
        path,
        file_label="Волна 1",
        note="simulated",
        variable_value_labels={"q1": RU_LABELS},
        missing_ranges={"q1": [99]},
    )
    d = read_delivery(path, "sav")
    assert isinstance(d, Delivery)
    assert d.data["q1"].tolist() == [1, 2, 99]  # user-missing 99 kept as a code
    assert d.data["id"].tolist() == [101, 102, 103]
    assert math.isnan(d.data["dur_s"].iloc[1])
    assert d.data["note"].tolist()[0] == "да"  # stripped
    assert pd.isna(d.data["note"].iloc[1])  # empty text is missing
    assert {float(k): v for k, v in d.value_labels["q1"].items()} == {
        1.0: "Мужской",
        2.0: "Женский",
        99.0: "Отказ от ответа",
    }
    assert d.meta["file_label"] == "Волна 1"
    assert d.meta["notes"] == ["simulated"]
    assert d.meta["format"] == "sav"
    assert d.meta["n_rows"] == 3


def test_read_dta_round_trip_with_russian_labels(tmp_path):
    path = tmp_path / "w.dta"
    frame = _raw_frame().assign(note=["да", "", "нет"])
    pyreadstat.write_dta(frame, path, variable_value_labels={"q1": RU_LABELS})
    d = read_delivery(path, "dta")
    assert d.data["q1"].tolist() == [1, 2, 99]
    assert d.data["dur_s"].iloc[0] == pytest.approx(312.5)
    assert {int(k): v for k, v in d.value_labels["q1"].items()} == RU_LABELS
    assert d.data["note"].tolist()[2] == "нет"


def test_read_cp1251_csv_with_russian_headers_and_text(tmp_path):
    path = tmp_path / "w.csv"
    text = "ид,Пол,Возраст,длительность\n007,Мужской,18-24,300\n008, Женский ,55 и старше,\n"
    path.write_bytes(text.encode("cp1251"))
    d = read_delivery(path, "csv", encoding="cp1251")
    assert list(d.data.columns) == ["ид", "Пол", "Возраст", "длительность"]
    assert d.data["ид"].tolist() == ["007", "008"]  # leading zeros keep ids as text
    assert d.data["Пол"].tolist() == ["Мужской", "Женский"]
    assert d.data["длительность"].iloc[0] == 300
    assert pd.isna(d.data["длительность"].iloc[1])
    assert d.value_labels == {}
    assert d.meta["encoding"] == "cp1251"


def test_read_utf8_csv_with_bom_and_numeric_codes(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("\ufeffid,q1,q2\n1,1,support\n2,2.0, Oppose \n".encode())
    d = read_delivery(path, "csv", encoding="utf-8")
    assert list(d.data.columns) == ["id", "q1", "q2"]  # BOM removed from first header
    assert pd.api.types.is_numeric_dtype(d.data["q1"])
    assert d.data["q1"].tolist() == [1.0, 2.0]
    assert d.data["q2"].tolist() == ["support", "Oppose"]


def test_read_semicolon_csv_with_decimal_comma(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("id;dur\n1;300,5\n2;12\n".encode("cp1251"))
    d = read_delivery(path, "csv", encoding="cp1251")
    assert d.data["dur"].tolist() == [300.5, 12.0]


def test_read_xlsx_round_trip_and_sheet(tmp_path):
    path = tmp_path / "w.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"x": [1]}).to_excel(xw, sheet_name="readme", index=False)
        pd.DataFrame({"id": [1, 2], "sex": [" Женский", "Male "], "q": [1, 98]}).to_excel(
            xw, sheet_name="data", index=False
        )
    d = read_delivery(path, "xlsx", sheet="data")
    assert d.data["sex"].tolist() == ["Женский", "Male"]
    assert d.data["q"].tolist() == [1, 98]
    assert d.meta["sheet"] == "data"
    first = read_delivery(path, "xlsx")
    assert list(first.data.columns) == ["x"]
    with pytest.raises(InputError) as err:
        read_delivery(path, "xlsx", sheet="Лист1")
    assert "Лист1" in str(err.value) and "readme, data" in str(err.value)


def test_wrong_encoding_names_file_and_encoding(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("ид,Пол\n1,Мужской\n".encode("cp1251"))
    with pytest.raises(InputError) as err:
        read_delivery(path, "csv", encoding="utf-8")
    msg = str(err.value)
    assert str(path) in msg
    assert "utf-8" in msg
    assert "encoding: cp1251" in msg


def test_utf8_read_as_cp1251_is_detected_as_mojibake(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("id,sex\n1,Женский\n".encode())
    with pytest.raises(InputError) as err:
        read_delivery(path, "csv", encoding="cp1251")
    msg = str(err.value)
    assert str(path) in msg
    assert "encoding: utf-8" in msg
    assert err.value.column == "sex" and err.value.row == 1
    assert "Р–" in msg  # the garbled text is shown


def test_double_encoded_latin1_text_is_detected(tmp_path):
    path = tmp_path / "w.csv"
    garbled = "Поддерживаю".encode().decode("latin-1")  # 'Ð\x9fÐ¾Ð´...'
    path.write_bytes(f"id,q\n1,{garbled}\n".encode())
    with pytest.raises(InputError) as err:
        read_delivery(path, "csv", encoding="utf-8")
    assert "latin-1" in str(err.value)
    assert err.value.row == 1 and err.value.column == "q"


def test_cp1251_read_as_latin1_text_is_detected(tmp_path):
    path = tmp_path / "w.csv"
    garbled = "Мужской".encode("cp1251").decode("latin-1")  # 'Ìóæñêîé'
    path.write_bytes(f"id,{garbled}\n1,2\n".encode())
    with pytest.raises(InputError) as err:
        read_delivery(path, "csv", encoding="utf-8")
    assert "cp1251" in str(err.value)
    assert "header" in str(err.value)


def test_csv_needs_encoding_and_known_format(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs an encoding"):
        read_delivery(path, "csv")
    with pytest.raises(InputError, match="unknown delivery format"):
        read_delivery(path, "json")
    with pytest.raises(InputError, match="not found"):
        read_delivery(tmp_path / "nope.sav", "sav")


def test_duplicate_header_is_rejected(tmp_path):
    path = tmp_path / "w.xlsx"
    pd.DataFrame([[1, 2]], columns=["q1", "q1 "]).to_excel(path, index=False)
    with pytest.raises(InputError) as err:
        read_delivery(path, "xlsx")
    assert err.value.column == "q1"


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "wave": pd.Series(["2020-09", "2020-09"], dtype="str"),
            "x": [1 / 3, 2.0],
            "cat": pd.Series(["да", None], dtype="str"),
        }
    )


def test_write_table_format_and_determinism(tmp_path):
    path = tmp_path / "sub" / "dir" / "t.csv"
    write_table(_table(), path)
    first = path.read_bytes()
    write_table(_table(), path)
    assert path.read_bytes() == first
    assert b"\r\n" not in first
    assert first.decode("utf-8") == "wave,x,cat\n2020-09,0.3333333333,да\n2020-09,2,\n"


def test_write_table_failure_leaves_previous_file(tmp_path):
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot format")

        __repr__ = __str__

    path = tmp_path / "t.csv"
    write_table(_table(), path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        write_table(pd.DataFrame({"a": [Unprintable()]}), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]  # no temp file left


def test_write_parquet_round_trip_determinism_and_atomicity(tmp_path):
    path = tmp_path / "out" / "t.parquet"
    write_parquet(_table(), path)
    first = path.read_bytes()
    write_parquet(_table(), path)
    assert path.read_bytes() == first
    back = read_parquet(path)
    assert list(back.columns) == ["wave", "x", "cat"]  # no index column
    assert back["cat"].tolist()[0] == "да" and pd.isna(back["cat"].iloc[1])
    assert back["x"].dtype == "float64"
    with pytest.raises(Exception, match="Conversion failed|convert"):
        write_parquet(pd.DataFrame({"a": [object()]}), path)
    assert path.read_bytes() == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.parquet"]


def test_read_parquet_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_parquet(tmp_path / "none.parquet")


def test_exact_duplicate_csv_header_is_rejected_not_renamed(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("id,q1,q1\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_delivery(path, "csv", encoding="utf-8")
    assert err.value.column == "q1" and "duplicate column" in str(err.value)
