"""End-to-end: the Snakemake workflow on a small copy of the project in a temporary folder.

One test, in stages, because each stage needs the previous one's outputs: a full run, a
no-op dry run, byte-identical reruns, and a bad delivery that must fail loudly without
touching the earlier good report.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml
from project_copy import make_project, snakemake

WAVES = ["2021-01", "2022-04", "2022-06", "2023-03", "2023-11"]  # csv cp1251 x2, dta, sav, xlsx


def _digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_workflow_end_to_end(tmp_path):
    proj = make_project(tmp_path, WAVES)

    run = snakemake(proj)
    assert run.returncode == 0, run.stderr[-3000:]
    html = proj / "reports/public_demand.html"
    top = proj / "reports/tables/toplines.csv"
    figs = sorted((proj / "reports/figures").glob("*_trend.*"))
    assert html.exists() and top.exists()
    assert {p.name for p in figs} == {
        "war_support_trend.png", "war_support_trend.svg",
        "alliance_trend.png", "alliance_trend.svg",
    }  # fmt: skip
    text = html.read_text(encoding="utf-8")
    assert "SIMULATED" in text and 'class="banner' in text
    assert not re.search(r"""(src|href)=["']https?://[^"']+\.(css|js|png|svg)""", text)
    header = top.read_text(encoding="utf-8").splitlines()[0]
    result = "question,wave,domain,category,estimate,se,ci_low,ci_high,n,n_eff,deff"
    assert header == (f"{result},question_label,category_label,moe,estimate_unweighted,simulated")
    for table in sorted((proj / "reports/tables").glob("*.csv")):  # provenance everywhere
        first = table.read_text(encoding="utf-8").splitlines()[0]
        assert first.endswith(",simulated"), table.name
    weighting = (proj / "reports/tables/weighting.csv").read_text(encoding="utf-8")
    for col in ("imputed_education", "dropped_sex", "n_dropped", "corr_vendor_weight"):
        assert col in weighting.splitlines()[0], col
    assert weighting.splitlines()[0].endswith(",simulated")
    vendor = proj / "reports/tables/toplines_vendor_weight.csv"
    assert vendor.read_text(encoding="utf-8").splitlines()[0] == f"{result},weight,simulated"
    waves_in_table = {line.split(",")[1] for line in top.read_text().splitlines()[1:]}
    assert waves_in_table == set(WAVES)

    # nothing to do right after a full run
    dry = snakemake(proj, "-n")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr

    # forced rerun gives byte-identical outputs
    outputs = [html, top, *figs, proj / "reports/tables/weighting.csv"]
    before = _digest(outputs)
    ledger = proj / "reports/tables/claims_ledger.csv"
    first_ledger = ledger.read_bytes()
    previous = proj / ".snakemake/pollwaves-last-good/reports/tables/claims_ledger.csv"
    assert not previous.exists()  # a first build has no earlier ledger
    rerun = snakemake(proj, "--forceall")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _digest(outputs) == before
    # the driver (onstart) kept the first build's ledger; the claims job only read it
    assert previous.read_bytes() == first_ledger == ledger.read_bytes()
    changes = (proj / "reports/tables/claims_changes.csv").read_text(encoding="utf-8")
    assert len(changes.splitlines()) == 1  # same inputs: no verdict changed, header only

    # a bad delivery mapping: clear error, non-zero exit, earlier report intact
    bad_yaml = proj / "config/waves/2022-04.yaml"
    cfg = yaml.safe_load(bad_yaml.read_text(encoding="utf-8"))
    col = next(c for c, spec in cfg["columns"].items() if spec["variable"] == "war_support")
    code = next(k for k, v in cfg["columns"][col]["values"].items() if v == "oppose")
    del cfg["columns"][col]["values"][code]
    bad_yaml.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    fail = snakemake(proj)
    assert fail.returncode != 0
    message = fail.stdout + fail.stderr
    for part in ("2022-04", cfg["file"], col, "respondent=", f"value={code!r}"):
        assert str(part) in message, part
    log = (proj / "logs/process_wave/2022-04.log").read_text(encoding="utf-8")
    assert log.startswith("ERROR: ") and "Traceback (most recent call last)" in log
    assert f"value={code!r}" in log
    assert _digest(outputs) == before
