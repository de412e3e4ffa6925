"""The pure parts of benchmarks/slurm_check.py: the tree comparison and the profile's partition."""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import slurm_check

ROOT = slurm_check.ROOT


def _write(base, rel, data):
    path = base / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_compare_counts_identical_files_and_ignores_logs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for base in (a, b):
        _write(base, "reports/tables/x.csv", b"q,share\nwar,0.25\n")
        _write(base, "data/processed/waves/w.parquet", b"\x00\x01\x02")
    _write(a, "logs/x.log", b"local")
    _write(b, "logs/x.log", b"slurm")
    same, problems, notes = slurm_check.compare(a, b)
    assert (same, problems, notes) == (2, [], [])


def test_compare_names_missing_and_differing_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "reports/tables/x.csv", b"q,share\nwar,0.25\n")
    _write(b, "reports/tables/x.csv", b"q,share\nwar,0.26\n")
    _write(a, "reports/only_here.csv", b"1\n")
    _write(b, "data/processed/extra.csv", b"2\n")
    same, problems, _ = slurm_check.compare(a, b)
    assert same == 0
    assert "only in the local build: reports/only_here.csv" in problems
    assert "only in the SLURM build: data/processed/extra.csv" in problems
    (diff,) = [p for p in problems if p.startswith("differs")]
    assert "reports/tables/x.csv" in diff and "line 2" in diff and "0.26" in diff


def test_compare_says_which_file_holds_its_build_directory(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "reports/p.txt", f"root={a}\n".encode())
    _write(b, "reports/p.txt", f"root={b}\n".encode())
    _, problems, _ = slurm_check.compare(a, b)
    assert len(problems) == 1 and "contains its build directory" in problems[0]


def test_first_difference_of_binary_files_gives_the_offset(tmp_path):
    x, y = tmp_path / "x", tmp_path / "y"
    x.write_bytes(b"\xff\x00\x01\x02")
    y.write_bytes(b"\xff\x00\x09\x02")
    assert "first difference at byte 2" in slurm_check.first_difference(x, y)


def test_profile_partition_reads_the_default_resources(tmp_path):
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump({"executor": "slurm", "default-resources": {"slurm_partition": "short"}})
    )
    assert slurm_check.profile_partition(tmp_path) == "short"


def test_shipped_profile_uses_the_slurm_executor_with_every_knob():
    cfg = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert cfg["executor"] == "slurm"
    assert {"jobs", "latency-wait", "retries"} <= set(cfg)
    assert {"slurm_partition", "mem_mb", "runtime", "cpus_per_task"} <= set(
        cfg["default-resources"]
    )


def test_sizing_compares_benchmark_use_with_the_request(tmp_path, capsys):
    log = tmp_path / "slurm.log"
    log.write_text(
        "rule weight:\n    wildcards: wave=2021-01\n"
        "    resources: tmpdir=<TBD>, mem_mb=100, mem=100 MB, runtime=1, cpus_per_task=1\n"
        "rule toplines:\n    resources: tmpdir=<TBD>, mem_mb=4000, runtime=30\n"
    )
    header = "s\th:m:s\tmax_rss\n"
    _write(
        tmp_path,
        "b/logs/benchmarks/weight/2021-01.tsv",
        (header + "75.5\t0:01:15\t150.2\n").encode(),
    )
    _write(
        tmp_path,
        "b/logs/benchmarks/weight/2021-02.tsv",
        (header + "2.0\t0:00:02\t90.0\n").encode(),
    )
    _write(tmp_path, "b/logs/benchmarks/toplines.tsv", (header + "3.0\t0:00:03\t300.0\n").encode())
    over = slurm_check.print_sizing(tmp_path / "b", log)
    assert over == ["weight: max RSS 150 MB > mem_mb 100", "weight: 76 s > runtime 1 min"]
    out = capsys.readouterr().out
    assert "toplines" in out and "weight" in out and "  2  " in out
