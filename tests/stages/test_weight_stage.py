"""The `weight` and `estimate_wave` stages on a small synthetic wave, and the rule logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from pollwaves import config, files
from pollwaves.errors import InputError
from pollwaves.stages import waves
from pollwaves.stages.logs import log_errors
from pollwaves.stages.toplines import run_toplines

WAVE = "2024-05"


@pytest.fixture
def study(root):
    return config.load_yaml(root / "config/config.yaml")


def _harmonised(root, tmp_path, n=160, vendor=True):
    """A synthetic harmonised wave with every codebook variable, written as parquet."""
    codebook = config.load_codebook(
        root / "config/codebook.yaml", root / "workflow/schemas/codebook.schema.yaml"
    )
    rng = np.random.default_rng(4)
    data = {"wave": [WAVE] * n, "resp_id": [f"id{i:03d}" for i in range(n)]}
    for var, spec in codebook["variables"].items():
        if spec.get("categories"):
            data[var] = rng.choice(list(spec["categories"]), n)
    df = pd.DataFrame(data).astype("string")
    df["vendor_weight"] = rng.uniform(0.5, 2.0, n) if vendor else np.nan
    df.loc[[7, 8], "education"] = pd.NA
    path = tmp_path / "harmonised.parquet"
    files.write_parquet(df, path, metadata={"wave": WAVE, "simulated": "false"})
    mapping = tmp_path / f"{WAVE}.yaml"
    mapping.write_text(yaml.safe_dump({"wave": WAVE, "simulated": False}), encoding="utf-8")
    return df, path, mapping


def _weight(root, tmp_path, harmonised, mapping, settings):
    out = {k: tmp_path / f"{k}.{ext}" for k, ext in
           [("data", "parquet"), ("diag", "csv"), ("margins", "csv")]}  # fmt: skip
    waves.run_weight(harmonised, root / "config/margins.yaml", root, settings, WAVE,
                     out["data"], out["diag"], out["margins"], wave_yaml=mapping)  # fmt: skip
    return out


def test_weight_imputes_counts_and_records_provenance(root, tmp_path, study):
    df, harmonised, mapping = _harmonised(root, tmp_path)
    out = _weight(root, tmp_path, harmonised, mapping, study["weighting"])
    diag = pd.read_csv(out["diag"])
    cols = list(diag.columns)
    assert cols[:10] == ["wave", "n", "iterations", "max_misfit", "weight_min", "weight_median",
                         "weight_max", "deff_kish", "n_eff", "share_capped"]  # fmt: skip
    sources = ["sex", "age_group", "education", "settlement"]
    assert cols[-(2 * len(sources) + 4):] == [
        *(f"imputed_{v}" for v in sources), *(f"dropped_{v}" for v in sources),
        "n_dropped", "n_vendor_weight", "corr_vendor_weight", "simulated",
    ]  # fmt: skip
    row = diag.iloc[0]
    assert row["imputed_education"] == 2 and row["imputed_sex"] == 0 and row["n_dropped"] == 0
    assert row["n"] == len(df) and row["n_vendor_weight"] == len(df)
    weighted = files.read_parquet(out["data"])
    expected = np.corrcoef(weighted["weight"], df["vendor_weight"])[0, 1]
    assert row["corr_vendor_weight"] == pytest.approx(expected)
    assert not bool(row["simulated"])
    assert files.parquet_metadata(out["data"]) == {"simulated": "false", "wave": WAVE}
    assert weighted["education"].notna().all() and list(weighted.columns) == [
        *df.columns,
        "weight",
    ]
    assert pd.read_csv(out["margins"])["simulated"].eq(False).all()
    # reruns are byte-identical (the hot deck is seeded per wave)
    first = {k: p.read_bytes() for k, p in out.items()}
    _weight(root, tmp_path, harmonised, mapping, study["weighting"])
    assert {k: p.read_bytes() for k, p in out.items()} == first


def test_weight_drop_and_fail(root, tmp_path, study):
    _, harmonised, mapping = _harmonised(root, tmp_path)
    out = _weight(root, tmp_path, harmonised, mapping, {**study["weighting"], "missing": "drop"})
    row = pd.read_csv(out["diag"]).iloc[0]
    assert row["n"] == 158 and row["dropped_education"] == 2 and row["n_dropped"] == 2
    with pytest.raises(InputError) as err:
        _weight(root, tmp_path, harmonised, mapping, {**study["weighting"], "missing": "fail"})
    assert (err.value.wave, err.value.column, err.value.respondent) == (WAVE, "education", "id007")


def test_rake_errors_name_the_respondent_not_the_row(root, tmp_path, study, monkeypatch):
    _, harmonised, mapping = _harmonised(root, tmp_path)

    def broken(df, *args, **kwargs):
        raise InputError("Sampling weights must be positive and finite", column="w", row=3)

    monkeypatch.setattr(waves, "rake", broken)
    with pytest.raises(InputError) as err:
        _weight(root, tmp_path, harmonised, mapping, study["weighting"])
    assert err.value.respondent == "id002" and err.value.row is None
    assert "respondent=id002" in str(err.value) and "row=" not in str(err.value)


def test_estimate_wave_with_the_vendor_weight_and_stacking(root, tmp_path, study):
    tables = {}
    for vendor in (True, False):
        sub = tmp_path / str(vendor)
        sub.mkdir()
        _, harmonised, mapping = _harmonised(root, sub, vendor=vendor)
        out = _weight(root, sub, harmonised, mapping, study["weighting"])
        paths = {k: sub / f"{k}.csv" for k in ("est", "cont", "plain", "vendor")}
        cfg = {k: root / f"config/{k}.yaml" for k in ("codebook", "margins")}
        waves.run_estimate_wave(
            out["data"], cfg["codebook"], cfg["margins"], root, study, *paths.values()
        )
        tables[vendor] = paths
    with_vendor = pd.read_csv(tables[True]["vendor"])
    weighted = pd.read_csv(tables[True]["est"])
    assert list(with_vendor.columns)[-2:] == ["weight", "simulated"]
    assert set(with_vendor["weight"]) == {"vendor_weight"} and len(with_vendor)
    assert with_vendor["deff"].between(1, 2).all()  # scaled: comparable to the raked deff
    top = weighted[weighted["domain"] == "all"]
    assert len(with_vendor) == len(top)
    assert not (with_vendor["estimate"].to_numpy() == top["estimate"].to_numpy()).all()
    for name in ("est", "cont", "plain"):
        assert list(pd.read_csv(tables[True][name]).columns)[-1] == "simulated"
    assert pd.read_csv(tables[False]["vendor"]).empty
    stacked = {k: tmp_path / f"{k}.csv" for k in ("top", "sub", "cont", "plain", "vendor")}
    run_toplines(
        [tables[False]["est"]], [tables[False]["cont"]], root / "config/codebook.yaml", root,
        stacked["top"], stacked["sub"], stacked["cont"], [tables[False]["plain"]], stacked["plain"],
        [tables[False]["vendor"], tables[True]["vendor"]], stacked["vendor"],
    )  # fmt: skip
    assert len(pd.read_csv(stacked["vendor"])) == len(with_vendor)
    assert list(pd.read_csv(stacked["top"]).columns)[-1] == "simulated"
    run_toplines(
        [tables[False]["est"]], [tables[False]["cont"]], root / "config/codebook.yaml", root,
        stacked["top"], stacked["sub"], stacked["cont"], vendor=[tables[False]["vendor"]],
        vendor_out=stacked["vendor"],
    )  # fmt: skip
    assert pd.read_csv(stacked["vendor"]).columns[-1] == "simulated"


def test_log_errors_writes_the_traceback_and_reraises(tmp_path, capsys):
    log = tmp_path / "logs/weight/x.log"
    with pytest.raises(SystemExit) as info:  # an InputError: one message, no traceback
        with log_errors(log):
            raise InputError("no respondent in category f_y", wave=WAVE, respondent="r1")
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no respondent in category f_y") and str(log) in err
    assert "Traceback" not in err
    with pytest.raises(ZeroDivisionError):  # a programming error is re-raised unchanged
        with log_errors(log):
            1 / 0  # noqa: B018
    with pytest.raises(SystemExit):
        with log_errors(log):
            raise InputError("no respondent in category f_y", wave=WAVE, respondent="r1")
    text = log.read_text(encoding="utf-8")
    assert text.startswith("ERROR: no respondent in category f_y [wave=2024-05, respondent=r1]")
    assert "Traceback (most recent call last)" in text and "test_log_errors" in text
    with log_errors(log):
        pass
    assert log.read_text(encoding="utf-8") == ""


def test_write_harmonised_records_provenance(tmp_path):
    kept = pd.DataFrame({"wave": [WAVE], "resp_id": ["a"]})
    log = pd.DataFrame({"wave": [WAVE], "step": ["total"], "n_before": [1]})
    out_parquet, out_log = tmp_path / "h.parquet", tmp_path / "c.csv"
    waves.write_harmonised(kept, log, {"wave": WAVE, "simulated": True}, out_parquet, out_log)
    assert files.parquet_metadata(out_parquet) == {"simulated": "true", "wave": WAVE}
    pd.testing.assert_frame_equal(files.read_parquet(out_parquet), kept)
    assert pd.read_csv(out_log).columns[-1] == "simulated"
    # without a mapping, the weight stage takes the flag from the harmonised metadata
    assert waves.wave_simulated(None, out_parquet) is True
    files.write_parquet(kept, out_parquet)
    with pytest.raises(InputError, match="does not record whether the wave is simulated"):
        waves.wave_simulated(None, out_parquet)
