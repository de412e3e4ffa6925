"""Unseen deliveries go in as the README says, and one run builds only what they change.

The three SIMULATED deliveries of ``tests/data/make_new_waves.py`` (SPSS with Russian labels,
a ``;``-separated cp1251 CSV with Russian headers and text answers, Stata with Belarusian
labels; age in years, items not asked, refusals in education, a vendor weight) are added
with ``pollwaves add-wave`` and ``pollwaves check-wave`` to a copy of the built project of
tests/intake/test_addwave.py. Then ``snakemake -n`` must plan the per-wave jobs of exactly
the new waves plus the aggregates, and one ``snakemake`` run must bring the new waves into
the tables and the report, with the imputed refusals, the vendor weight and the models'
left-out waves on record.
"""

from __future__ import annotations

import re
import shutil
import time

import pandas as pd
import pytest
from conftest import ROOT
from demo_project import demo_project, pollwaves
from project_copy import snakemake
from test_incremental import assert_up_to_date, per_wave_rules, planned

NEW = {"2024-06": "simulated_ru.sav", "2024-07": "simulated_ru.csv", "2024-08": "simulated_be.dta"}


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> dict:
    built = demo_project(tmp_path_factory)
    assert built["run"].returncode == 0, built["run"].stderr[-3000:]
    proj = tmp_path_factory.mktemp("new_deliveries") / "proj"
    shutil.copytree(built["proj"], proj, symlinks=True)
    out: dict = {"proj": proj, "add": {}, "check": {}}
    out["before"] = snakemake(proj, "-n")
    for wave, name in NEW.items():
        out["add"][wave] = pollwaves(
            "add-wave", str(ROOT / "tests/data" / name), "--wave", wave,
            "--fieldwork", f"{wave}-05", f"{wave}-15", "--root", str(proj),
        )  # fmt: skip
        out["check"][wave] = pollwaves("check-wave", wave, "--root", str(proj))
    out["plan"] = planned(proj)
    start = time.perf_counter()
    out["run"] = snakemake(proj)
    out["seconds"] = time.perf_counter() - start
    print(f"incremental run with {len(NEW)} new waves: {out['seconds']:.1f} s")
    return out


def test_the_copy_starts_up_to_date(added: dict) -> None:
    assert "Nothing to be done" in added["before"].stdout + added["before"].stderr


@pytest.mark.parametrize("wave", list(NEW))
def test_add_wave_needs_no_review_and_finds_everything_required(added: dict, wave: str) -> None:
    res = added["add"][wave]
    print(res.stdout)
    assert res.returncode == 0, res.stderr
    assert re.search(r"needs review:\s+0\b", res.stdout)
    assert "NOT FOUND" not in res.stdout + res.stderr
    assert "not asked (not_asked):" in res.stdout
    assert re.search(r"->age_group \(derive: years\)", res.stdout)
    assert re.search(r"->vendor_weight", res.stdout)
    check = added["check"][wave]
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout


def test_one_run_plans_only_the_new_waves_per_wave_jobs(added: dict) -> None:
    per_wave, aggregate = added["plan"]
    assert per_wave == {(rule, wave) for rule in per_wave_rules(added["proj"]) for wave in NEW}
    assert {"toplines", "stack_waves", "public_demand_report"} <= aggregate
    assert "published" not in aggregate


def test_new_waves_reach_tables_and_report(added: dict) -> None:
    proj = added["proj"]
    assert added["run"].returncode == 0, added["run"].stderr[-4000:]
    assert_up_to_date(proj)
    top = pd.read_csv(proj / "reports/tables/toplines.csv", dtype={"wave": str})
    assert set(NEW) <= set(top["wave"])
    # items not asked have no rows: 2024-07 did not ask war_support, 2024-06 not media_diet
    assert top[(top["wave"] == "2024-07") & (top["question"] == "war_support")].empty
    sub = pd.read_csv(proj / "reports/tables/subgroups.csv", dtype={"wave": str})
    assert sub[(sub["wave"] == "2024-06") & sub["domain"].str.startswith("media_diet=")].empty
    weighting = pd.read_csv(proj / "reports/tables/weighting.csv", dtype={"wave": str})
    new = weighting.set_index("wave").loc[list(NEW)]
    assert new["imputed_education"].sum() > 0  # refusals in education were imputed
    assert (new["n_vendor_weight"] > 0).all()
    assert new["corr_vendor_weight"].between(-1, 1).all()
    vendor = pd.read_csv(proj / "reports/tables/toplines_vendor_weight.csv", dtype={"wave": str})
    assert set(NEW) <= set(vendor["wave"])
    waves = pd.read_csv(proj / "reports/tables/model_waves.csv", dtype={"wave": str})
    left_out = waves[(waves["model"] == "subgroup") & (waves["wave"] == "2024-06")]
    assert len(left_out) == 1 and not left_out["used"].iloc[0]
    assert "media_diet" in left_out["reason"].iloc[0]
    html = (proj / "reports/public_demand.html").read_text(encoding="utf-8")
    for wave in NEW:
        assert wave in html
