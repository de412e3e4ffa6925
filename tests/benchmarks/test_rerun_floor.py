"""The rerun floor (benchmarks/rerun_floor.py): its bounds, the start-up clock, its refusals.

No timed asserts: the bounds are checked on a tiny inline table against arithmetic done by
hand, and the clock on two short Python processes (what it records, not how fast).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import rerun_floor

JOBS = pd.DataFrame(
    {
        "job": ["process_wave", "war_models", "figures", "report"],
        "wall_s": [2.0, 4.0, 5.0, 1.0],
        "cpu_s": [1.8, 3.6, 4.6, 0.8],
        "import_cpu_s": [0.5, 1.2, 0.8, 0.3],
    }
)


def test_bounds_are_the_serial_start_plus_the_pooled_cpu_over_the_cores():
    b = rerun_floor.bounds(JOBS, driver_start_s=1.5, driver_cpu_s=1.0, cores=2,
                           wave_job="process_wave", pandas_start_s=0.4, cold_s=100.0)  # fmt: skip
    assert b["serial_s"] == pytest.approx(1.5 + 2.0)  # the new wave's wall time, not its CPU
    assert b["pooled_jobs"] == 3
    pooled = 3.6 + 4.6 + 0.8 + 1.0  # the driver's scheduling competes for the cores
    assert b["floor_packed_s"] == pytest.approx(3.5 + pooled / 2)
    # imports cut to 0.4 s where they took longer (0.3 s stays 0.3 s)
    assert b["floor_pandas_start_s"] == pytest.approx(3.5 + (pooled - 0.8 - 0.4) / 2)
    assert b["floor_no_imports_s"] == pytest.approx(3.5 + (pooled - 2.3) / 2)
    assert b["target_s"] == pytest.approx(10.0)
    assert b["floor_no_imports_pct"] == pytest.approx(b["floor_no_imports_s"])
    assert b["floor_packed_s"] > b["floor_pandas_start_s"] > b["floor_no_imports_s"]


def test_more_cores_lower_the_floor_but_not_the_serial_start():
    two, four = (
        rerun_floor.bounds(
            JOBS,
            driver_start_s=1.5,
            driver_cpu_s=0.0,
            cores=c,
            wave_job="process_wave",
            pandas_start_s=0.4,
            cold_s=None,
        )  # fmt: skip
        for c in (2, 4)
    )
    assert four["floor_packed_s"] < two["floor_packed_s"]
    assert four["serial_s"] == two["serial_s"]
    assert "target_s" not in two  # no cold build, no percentage


def test_bounds_refuse_a_rerun_without_the_wave_job_and_zero_cores():
    with pytest.raises(ValueError, match="no 'harmonise' job"):
        rerun_floor.bounds(JOBS, driver_start_s=1, driver_cpu_s=0, cores=2,
                           wave_job="harmonise", pandas_start_s=0.4, cold_s=None)  # fmt: skip
    with pytest.raises(ValueError, match="cores"):
        rerun_floor.bounds(JOBS, driver_start_s=1, driver_cpu_s=0, cores=0,
                           wave_job="process_wave", pandas_start_s=0.4, cold_s=None)  # fmt: skip


def test_the_clock_records_each_process_and_read_clock_tells_jobs_from_the_driver(tmp_path):
    clock = tmp_path / "clock"
    clock.mkdir()
    env = os.environ | {"PYTHONPATH": str(rerun_floor.CLOCK), "POLLWAVES_IMPORT_CLOCK": str(clock)}
    job = tmp_path / "tmpab12cd.war_models.py"  # how Snakemake names a job's script
    job.write_text("import json, decimal\nsum(range(10**5))\n", encoding="utf-8")
    subprocess.run([sys.executable, str(job)], env=env, check=True)
    # the "driver": a process that is not a job script and runs longest
    driver = "import time, fractions; time.sleep(0.3)"
    subprocess.run([sys.executable, "-c", driver], env=env, check=True)
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)  # a short helper
    records = [json.loads(p.read_text()) for p in clock.glob("*.json")]
    assert len(records) == 3
    for r in records:
        assert r["wall_s"] >= r["import_wall_s"] >= 0
        assert r["cpu_s"] >= 0 and r["import_cpu_s"] >= 0
    found, jobs = rerun_floor.read_clock(clock)
    assert found["wall_s"] >= 0.3
    assert jobs["job"].tolist() == ["war_models"]
    assert jobs.columns.tolist() == ["job", "start_s", "wall_s", "cpu_s", "import_cpu_s"]
    assert jobs["start_s"].iloc[0] < 0  # the job ran before the process taken as the driver


def test_idle_core_seconds_count_the_cores_without_a_job():
    timeline = pd.DataFrame({"start_s": [0.0, 0.0, 3.0, 4.0], "wall_s": [3.0, 1.0, 1.0, 2.0]})
    # 2 cores: from 0 to 1 both busy; then one job at a time (the third starts as the first
    # ends, the fourth as the third ends), so one core idles from 1 to 6: 5 core-s
    assert rerun_floor.idle_core_seconds(timeline, 2) == pytest.approx(5.0)
    assert rerun_floor.idle_core_seconds(timeline, 1) == pytest.approx(0.0)
    assert rerun_floor.idle_core_seconds(timeline.iloc[:0], 2) == 0.0


def test_without_the_variable_the_clock_writes_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "POLLWAVES_IMPORT_CLOCK"}
    env["PYTHONPATH"] = str(rerun_floor.CLOCK)
    subprocess.run([sys.executable, "-c", "import json"], env=env, check=True, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_read_clock_refuses_a_folder_without_a_driver(tmp_path):
    record = {"script": "tmpx.figures.py", "pid": 1, "wall_s": 1.0, "cpu_s": 1.0,
              "import_wall_s": 0.5, "import_cpu_s": 0.5}  # fmt: skip
    (tmp_path / "1.json").write_text(json.dumps(record))
    with pytest.raises(RuntimeError, match="driver"):
        rerun_floor.read_clock(tmp_path)


def test_a_study_without_built_waves_is_refused(tmp_path, capsys):
    assert rerun_floor.main([str(tmp_path), "--out", str(tmp_path / "out.csv")]) == 2
    assert "scale.py --keep" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_the_cold_build_is_the_scale_row_of_the_label_and_the_study(tmp_path):
    results = tmp_path / "scale.csv"
    pd.DataFrame(
        {
            "label": ["after", "floor", "floor"],
            "study": ["100x10000", "100x10000", "10x10000"],
            "cold_wall_s": [125.2, 123.7, 21.5],
        }  # fmt: skip
    ).to_csv(results, index=False)
    assert rerun_floor._cold_s(results, "floor", "100x10000") == pytest.approx(123.7)
    assert rerun_floor._cold_s(results, "floor", "30x10000") is None
    assert rerun_floor._cold_s(tmp_path / "missing.csv", "floor", "100x10000") is None
