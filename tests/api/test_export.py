"""Labelled exports: sav/dta read back with pyreadstat and R haven, parquet metadata, csv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from tiny_project import WAVES, make_tiny_project

from pollwaves import config, files
from pollwaves.api.export import export_waves
from pollwaves.errors import InputError

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    return make_tiny_project(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def codebook(proj):
    return config.load_yaml(proj / "config/codebook.yaml")["variables"]


def _expected_value_labels(codebook, var):
    cats = codebook[var]["categories"]
    return {i + 1: spec["en"] for i, spec in enumerate(cats.values())}


def _weighted(proj) -> pd.DataFrame:
    parts = [pd.read_parquet(proj / "data/processed/waves" / f"{w}.parquet") for w in WAVES]
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_labelled_file_round_trips_with_pyreadstat(proj, codebook, tmp_path, fmt):
    path = export_waves(fmt, "all", root=proj, out=tmp_path / f"x.{fmt}")
    read = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    df, meta = read(str(path))
    src = _weighted(proj)
    assert len(df) == len(src)
    for var in ("war_support", "sex", "age_group", "alliance"):
        assert meta.variable_value_labels[var] == _expected_value_labels(codebook, var)
        assert meta.column_names_to_labels[var] == codebook[var]["label"]["en"][:80]
        # codes in questionnaire order: code k is the k-th codebook category
        cats = list(codebook[var]["categories"])
        back = df[var].map(lambda c, cats=cats: cats[int(c) - 1] if pd.notna(c) else None)
        assert back.tolist() == src[var].where(src[var].notna(), None).tolist()
    assert meta.variable_value_labels["simulated"][1].startswith("SIMULATED")
    assert (df["simulated"] == 1).all()
    assert df["weight"].to_numpy() == pytest.approx(src["weight"].to_numpy(), rel=1e-12)
    assert "sex_age" in df and df["wave"].tolist() == src["wave"].tolist()
    assert not list(path.parent.glob(".*.tmp"))  # written atomically, no leftovers


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_r_haven_reads_the_labels(proj, codebook, tmp_path, fmt):
    path = export_waves(fmt, ["2023-03"], root=proj, out=tmp_path / f"x.{fmt}")
    out = tmp_path / "labels.csv"
    run = subprocess.run(
        ["Rscript", str(REF / "haven_labels.R"), str(path), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    got = pd.read_csv(out, keep_default_na=False)
    for var in ("war_support", "education", "alliance"):
        rows = got[got["variable"] == var]
        assert "haven_labelled" in rows["class"].iloc[0]
        assert rows["label"].iloc[0] == codebook[var]["label"]["en"][:80]
        want = _expected_value_labels(codebook, var)
        assert (
            dict(zip(rows["code"].astype(float).astype(int), rows["value_label"], strict=True))
            == want
        )
    assert (got["n_rows"] == WAVES["2023-03"]).all()
    weight = got[got["variable"] == "weight"]
    assert weight["label"].iloc[0].startswith("Raked sampling weight")


def test_parquet_carries_metadata_and_questionnaire_order(proj, tmp_path):
    path = export_waves("parquet", "all", root=proj, out=tmp_path / "x.parquet")
    meta = files.parquet_metadata(path)
    assert json.loads(meta["simulated"]) == dict.fromkeys(WAVES, True)
    assert meta["codebook_version"].startswith("1:sha256:")
    weighting = json.loads(meta["weighting"])
    assert weighting["variables"] == ["sex_age", "education", "settlement"]
    assert json.loads(meta["labels"])["war_support"]["categories"]["oppose"] == "Do not support"
    df = pd.read_parquet(path)
    assert list(df["war_support"].cat.categories) == ["support", "partly", "oppose", "hard_to_say"]
    assert df["simulated"].all()


def test_csv_has_codes_and_the_simulated_column(proj, tmp_path):
    path = export_waves("csv", ["2023-11"], root=proj, out=tmp_path / "x.csv")
    df = pd.read_csv(path)
    assert len(df) == WAVES["2023-11"]
    assert set(df["war_support"]) <= {"support", "partly", "oppose", "hard_to_say"}
    assert df["simulated"].all()


def test_unknown_wave_or_format_lists_what_exists(proj, tmp_path):
    with pytest.raises(InputError, match="2023-03, 2023-11"):
        export_waves("sav", ["2022-01"], root=proj, out=tmp_path / "x.sav")
    with pytest.raises(InputError, match="sav, dta, parquet, csv"):
        export_waves("xls", "all", root=proj, out=tmp_path / "x.xls")
    assert not (tmp_path / "x.sav").exists()
