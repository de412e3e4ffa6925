"""The synthetic scale study (benchmarks/synthetic.py): readable waves, both eras, seeded."""

import sys
from pathlib import Path

import yaml

from pollwaves.intake.readers import read_delivery

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import synthetic


def test_make_study_writes_resampled_waves_of_both_eras(tmp_path):
    waves = synthetic.make_study(tmp_path / "a", 6, 40, seed=3)
    assert waves == sorted(waves) and len(set(waves)) == 6
    starts = []
    for wave in waves:
        mapping = yaml.safe_load((tmp_path / "a/config/waves" / f"{wave}.yaml").read_text())
        assert mapping["wave"] == wave and mapping["simulated"] is True
        assert mapping["fieldwork"]["start"].startswith(wave)
        starts.append(mapping["fieldwork"]["start"])
        got = read_delivery(
            tmp_path / "a" / mapping["file"],
            mapping["format"],
            encoding=mapping["encoding"],
            sheet=mapping["sheet"],
        )
        ids = got.data[mapping["id_column"]].astype(float).astype(int).tolist()
        assert ids == list(range(1, 41))
    assert min(starts) < "2022-02-24" < max(starts)


def test_make_study_is_seeded(tmp_path):
    synthetic.make_study(tmp_path / "a", 3, 30, seed=5)
    synthetic.make_study(tmp_path / "b", 3, 30, seed=5)
    synthetic.make_study(tmp_path / "c", 3, 30, seed=6)
    files = sorted(p.name for p in (tmp_path / "a/data/raw/waves").iterdir())
    same = [
        (tmp_path / "a/data/raw/waves" / f).read_bytes()
        == (tmp_path / "b/data/raw/waves" / f).read_bytes()
        for f in files
    ]
    other = [
        (tmp_path / "a/data/raw/waves" / f).read_bytes()
        == (tmp_path / "c/data/raw/waves" / f).read_bytes()
        for f in files
    ]
    assert all(same) and not all(other)
