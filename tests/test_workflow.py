"""End-to-end: the Snakemake workflow on a small copy of the project in a temporary folder.

One test, in stages, because each stage needs the previous one's outputs: a full run, a
no-op dry run, byte-identical reruns, and a bad delivery that must fail loudly without
touching the earlier good report.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

WAVES = ["2021-01", "2022-04", "2022-06", "2023-03", "2023-11"]  # csv cp1251 x2, dta, sav, xlsx
COPY = ["Snakefile", "config/config.yaml", "config/codebook.yaml", "config/margins.yaml",
        "config/published_labels.yaml", "config/claims.yaml", "workflow", "data/raw/published",
        "data/raw/population", "benchmarks/results"]  # fmt: skip


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", str(workdir),
           "--snakefile", str(workdir / "Snakefile"), *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def _make_copy(tmp: Path) -> Path:
    proj = tmp / "proj"
    for rel in COPY:
        src, dst = ROOT / rel, proj / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    (proj / "config/waves").mkdir(parents=True)
    (proj / "data/raw/waves").mkdir(parents=True)
    for wave in WAVES:
        mapping = ROOT / "config/waves" / f"{wave}.yaml"
        shutil.copy2(mapping, proj / "config/waves" / mapping.name)
        delivery = yaml.safe_load(mapping.read_text(encoding="utf-8"))["file"]
        shutil.copy2(ROOT / delivery, proj / delivery)
    return proj


def _digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_workflow_end_to_end(tmp_path):
    proj = _make_copy(tmp_path)

    run = _snakemake(proj)
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
    assert header == "question,wave,domain,category,estimate,se,ci_low,ci_high,n,n_eff,deff"
    waves_in_table = {line.split(",")[1] for line in top.read_text().splitlines()[1:]}
    assert waves_in_table == set(WAVES)

    # nothing to do right after a full run
    dry = _snakemake(proj, "-n")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr

    # forced rerun gives byte-identical outputs
    outputs = [html, top, *figs, proj / "reports/tables/weighting.csv"]
    before = _digest(outputs)
    rerun = _snakemake(proj, "--forceall")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _digest(outputs) == before

    # a bad delivery mapping: clear error, non-zero exit, earlier report intact
    bad_yaml = proj / "config/waves/2022-04.yaml"
    cfg = yaml.safe_load(bad_yaml.read_text(encoding="utf-8"))
    col = next(c for c, spec in cfg["columns"].items() if spec["variable"] == "war_support")
    code = next(k for k, v in cfg["columns"][col]["values"].items() if v == "oppose")
    del cfg["columns"][col]["values"][code]
    bad_yaml.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    fail = _snakemake(proj)
    assert fail.returncode != 0
    message = fail.stdout + fail.stderr
    for part in ("2022-04", cfg["file"], col, "row=", f"value={code!r}"):
        assert str(part) in message, part
    assert _digest(outputs) == before
