"""The scaling benchmark (benchmarks/scale.py): parsers, targets, the next wave, the outputs.

No timed asserts: a stand-in for snakemake (a few lines of Python writing benchmark files)
runs the benchmark end to end on a tiny synthetic study in seconds.
"""

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import scale
import scale_run
import synthetic

JOB_STATS = """Building DAG of jobs...
Job stats:
job                     count
--------------------  -------
harmonise                   3
weight                      3
alliance_models             1
all                         1
total                       8

Select jobs to execute...
1 of 8 steps (12%) done
7 of 8 steps (88%) done
"""

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path: Path, *rows: tuple) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"{s}\t0:00:01\t{rss}\t1.0\t1.0\t1.0\t0.0\t0.0\t1.0\t{cpu}\n" for s, rss, cpu in rows
    )
    path.write_text(HEADER + body)


def test_job_stats_and_steps_are_parsed():
    assert scale_run.parse_job_stats(JOB_STATS) == {
        "harmonise": 3,
        "weight": 3,
        "alliance_models": 1,
        "all": 1,
    }
    assert scale_run.steps_done(JOB_STATS) == 7
    assert scale_run.parse_job_stats("Building DAG of jobs...\n" + scale_run.NOTHING) == {}
    assert scale_run.steps_done("no progress") == 0


def test_benchmark_files_sum_per_rule(tmp_path):
    logs = tmp_path / "logs" / "benchmarks"
    _bench(logs / "harmonise" / "2022-01.tsv", (2.0, 100.0, 1.5))
    _bench(logs / "harmonise" / "2022-03.tsv", (3.0, 300.0, 2.5))
    _bench(logs / "toplines.tsv", (1.0, 50.0, "NA"))
    _bench(logs / "weight" / "2022-01.tsv", (4.0, 80.0, 3.0), (6.0, 90.0, 5.0))  # repeat: 2 rows
    bench = scale_run.read_benchmarks(logs)
    assert sorted(bench["rule"]) == ["harmonise", "harmonise", "toplines", "weight"]
    stages = scale_run.stage_table(bench).set_index("rule")
    assert stages.loc["harmonise", "jobs"] == 2
    assert math.isclose(stages.loc["harmonise", "wall_s"], 5.0)
    assert math.isclose(stages.loc["harmonise", "cpu_s"], 4.0)
    assert stages.loc["harmonise", "max_rss_mb"] == 300.0
    assert math.isnan(stages.loc["toplines", "cpu_s"])  # NA stays missing, not 0
    assert stages.loc["weight", "jobs"] == 1  # one file, one job: its mean
    assert math.isclose(stages.loc["weight", "wall_s"], 5.0)
    assert stages.loc["weight", "max_rss_mb"] == 90.0
    assert list(stages.index) == ["harmonise", "weight", "toplines"]  # by wall time


def test_benchmark_files_since_a_time_and_none_at_all(tmp_path):
    logs = tmp_path / "b"
    _bench(logs / "old.tsv", (1.0, 1.0, 1.0))
    cut = (logs / "old.tsv").stat().st_mtime + 10
    _bench(logs / "new" / "x.tsv", (2.0, 2.0, 2.0))
    os.utime(logs / "new" / "x.tsv", (cut + 1, cut + 1))
    assert list(scale_run.read_benchmarks(logs, since=cut)["rule"]) == ["new"]
    assert scale_run.read_benchmarks(tmp_path / "missing").empty
    assert scale_run.stage_table(scale_run.read_benchmarks(tmp_path / "missing")).empty


def test_targets_met_not_met_and_not_measured():
    row = {"cold_wall_s": 600.0, "peak_rss_tree_mb": 5000.0, "add_wave_pct_of_cold": math.nan}
    assert scale.target_status(row) == {
        "cold_wall_s": "met",
        "peak_rss_tree_mb": "not met",
        "add_wave_pct_of_cold": "not measured",
    }
    done = scale.finish_row(row | {"study": "s", "label": "x", "cold_cpu_s": 1.23456})
    assert done["cold_target"] == "met" and done["rss_target"] == "not met"
    assert done["add_wave_target"] == "not measured" and done["cold_cpu_s"] == 1.2
    text = scale.format_report([done], pd.DataFrame(columns=scale.STAGE_COLUMNS))
    assert "cold build <= 600 s: met" in text and "4096 MB: not met" in text


def _templates():
    return [
        {"fieldwork": {"start": "2021-01-10", "end": "2021-01-20"}, "id": "pre1"},
        {"fieldwork": {"start": "2021-06-10", "end": "2021-06-20"}, "id": "pre2"},
        {"fieldwork": {"start": "2022-04-10", "end": "2022-04-20"}, "id": "war1"},
        {"fieldwork": {"start": "2022-08-10", "end": "2022-08-20"}, "id": "war2"},
        {"fieldwork": {"start": "2023-01-10", "end": "2023-01-20"}, "id": "war3"},
    ]


def test_next_wave_is_the_next_month_and_the_next_war_template():
    tpl = _templates()
    waves = [w for w, _ in synthetic.plan(6, tpl)]
    wave, chosen = scale.next_wave(waves, tpl)
    y, m = map(int, waves[-1].split("-"))
    assert wave == (f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}")
    used = sum(t["id"].startswith("war") for _, t in synthetic.plan(6, tpl))
    assert chosen["id"] == f"war{used % 3 + 1}"
    # the month after December is January of the next year
    assert scale.next_month("2022-12") == "2023-01" and scale.next_month("2022-01") == "2022-02"


FAKE = textwrap.dedent(
    """
    # stand-in for snakemake: one harmonise job per new wave and a pooled job
    import sys, time
    from pathlib import Path
    if sys.argv[1:] == ["--version"]:
        sys.exit(print("fake 0"))
    waves = sorted(p.stem for p in Path("config/waves").glob("*.yaml"))
    state = Path(".fake_built")
    built = state.read_text().split() if state.exists() else []
    if built == waves:
        print("Building DAG of jobs...\\nNothing to be done (all requested files are present)")
        sys.exit(0)
    new = [w for w in waves if w not in built]
    print("Job stats:\\njob count\\n--- -----")
    print(f"harmonise {len(new)}\\npooled 1\\nall 1\\ntotal {len(new) + 2}\\n")
    block = bytearray(30 * 2**20)
    time.sleep(0.6)
    head = "s\\th:m:s\\tmax_rss\\tmax_vms\\tmax_uss\\tmax_pss\\tio_in\\tio_out\\tmean_load\\tcpu_time\\n"
    for name in [f"harmonise/{w}" for w in new] + ["pooled"]:
        path = Path("logs/benchmarks") / f"{name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(head + f"0.5\\t0:00:00\\t{40 + len(waves)}\\t1\\t1\\t1\\t0\\t0\\t1\\t0.25\\n")
    print(f"{len(new) + 2} of {len(new) + 2} steps (100%) done")
    state.write_text(" ".join(waves))
    """
)


def test_benchmark_runs_end_to_end_with_a_stand_in_snakemake(tmp_path, capsys):
    fake = tmp_path / "fake_snakemake.py"
    fake.write_text(FAKE)
    out = tmp_path / "results" / "scale.csv"
    out.parent.mkdir()
    other = {"label": "other", "study": "5x20", "waves": 5, "jobs": 99}
    pd.DataFrame([other], columns=scale.ROW_COLUMNS).to_csv(out, index=False)
    args = ["--waves", "5", "--n", "20", "--label", "t", "--workdir", str(tmp_path / "w"),
            "--snakemake", f"{sys.executable} {fake}", "--out", str(out), "--keep"]  # fmt: skip
    assert scale.main(args) == 0
    rows = pd.read_csv(out)
    assert sorted(rows["label"]) == ["other", "t"]  # the other label's row is kept
    row = rows.set_index("label").loc["t"]
    assert row["study"] == "5x20" and row["waves"] == 5 and row["status"] == "cold ok"
    assert row["jobs"] == 7 and row["jobs_done"] == 7 and row["noop_jobs"] == 0
    assert row["add_wave_jobs"] == 3  # the new wave's harmonise, the pooled job, all
    assert row["peak_rss_job_mb"] == 45.0 and row["peak_rss_job_rule"] == "harmonise"
    assert row["peak_rss_tree_mb"] >= 30.0  # the stand-in holds a 30 MB block while sampled
    assert math.isclose(row["per_wave_s"], round(row["cold_wall_s"] / 5, 1), abs_tol=0.11)
    assert row["cold_target"] == "met" and row["rss_target"] == "met"
    stages = pd.read_csv(out.with_name("scale_stages.csv"))
    cold = stages[stages["phase"] == "cold"].set_index("rule")
    assert cold.loc["harmonise", "jobs"] == 5 and cold.loc["harmonise", "wall_s"] == 2.5
    added = stages[stages["phase"] == "add_wave"].set_index("rule")
    assert added.loc["harmonise", "jobs"] == 1 and added.loc["pooled", "max_rss_mb"] == 46.0
    study = tmp_path / "w" / "5x20"
    planned = [w for w, _ in synthetic.plan(5, scale._templates(scale.ROOT))]
    new_wave = scale.next_wave(planned, scale._templates(scale.ROOT))[0]
    assert (study / "config" / "waves" / f"{new_wave}.yaml").exists()
    mapping = yaml.safe_load((study / "config" / "waves" / f"{new_wave}.yaml").read_text())
    assert mapping["simulated"] is True and mapping["wave"] == new_wave
    meta = json.loads(out.with_suffix(".meta.json").read_text())
    run = meta["t"][-1]
    assert "SYNTHETIC" in run["data"] and "SIMULATED" in run["data"]
    assert run["studies"] == ["5x20"]
    assert run["cpu_count"] >= 1 and len(run["load_average_start"]) == 3
    assert 0 < run["snakemake_startup_s"] < math.inf  # measured with the stand-in's --version
    assert (
        run["git_revision"]
        == subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=scale.ROOT, capture_output=True, text=True
        ).stdout.strip()
    )
    printed = capsys.readouterr().out
    assert f"snakemake start-up (--version, best of 2): {run['snakemake_startup_s']} s" in printed
    assert (
        "targets (printed, never asserted)" in printed
        and "add one wave <= 10 % of cold" in printed
    )


def test_a_run_over_the_rss_limit_or_the_timeout_is_killed_and_says_so(tmp_path):
    hog = [sys.executable, "-c", "import time; b = bytearray(200 * 2**20); time.sleep(60)"]
    res = scale_run.run_snakemake(tmp_path, hog, tmp_path / "hog.log", rss_limit_mb=100)
    assert res["status"] == "killed: process tree RSS over 100 MB"
    assert res["peak_rss_tree_mb"] > 100
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    res = scale_run.run_snakemake(tmp_path, sleeper, tmp_path / "sleep.log", timeout=1)
    assert res["status"] == "killed: over the 1 s timeout"
    fail = [sys.executable, "-c", "print('error: no waves'); raise SystemExit(1)"]
    res = scale_run.run_snakemake(tmp_path, fail, tmp_path / "fail.log")
    assert res["status"] == "failed: error: no waves" and res["jobs"] == {}
