"""Attitudes by war stance a wave at a time (process_wave), stacked by attitudes_by_stance.

Each wave is its own design, so the stacked per-wave tables must be the tables of the pooled
functions on all waves at once (to the 10 significant digits of the CSV files).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pollwaves import files
from pollwaves.analysis.attitudes import attitudes_by_stance, stance_differences
from pollwaves.errors import InputError
from pollwaves.stages.attitudes import run_attitudes, run_attitudes_wave

SETTINGS = {"estimation": {"level": 0.9}, "weighting": {"variables": []}}
COUNTRIES = ["russia", "ukraine", "poland", "eu", "usa"]


def _wave(wave: str, n: int, seed: int, stance: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    war = rng.choice(["support", "partly", "oppose", "hard_to_say"], n, p=[0.3, 0.2, 0.4, 0.1])
    war = war.astype(object)
    war[rng.random(n) < 0.05] = None
    if not stance:
        war[:] = None
    frame = pd.DataFrame({"wave": wave, "resp_id": [f"{wave}-{i}" for i in range(n)],
                          "war_support": pd.array(war, dtype="str")})  # fmt: skip
    for k, country in enumerate(COUNTRIES):
        p_good = np.where(war == "support", 0.8 - 0.1 * k, 0.3 + 0.05 * k)
        att = np.where(rng.random(n) < p_good, "good", rng.choice(["bad", "hard_to_say"], n))
        att = att.astype(object)
        att[rng.random(n) < 0.03] = None
        frame[f"attitude_{country}"] = pd.array(att, dtype="str")
    w = rng.lognormal(0, 0.5, n)
    frame["weight"] = w / w.mean()
    return frame


@pytest.fixture
def waves(tmp_path):
    frames = {"2021-06": _wave("2021-06", 120, 1, stance=False),
              "2022-05": _wave("2022-05", 160, 2), "2023-01": _wave("2023-01", 140, 3)}  # fmt: skip
    simulated = {"2021-06": "true", "2022-05": "false", "2023-01": "true"}
    paths = {}
    for wave, frame in frames.items():
        paths[wave] = tmp_path / "waves" / f"{wave}.parquet"
        files.write_parquet(
            frame, paths[wave], metadata={"wave": wave, "simulated": simulated[wave]}
        )
    return frames, paths, simulated


def _per_wave(tmp_path, paths):
    out = {"shares": [], "tests": [], "differences": []}
    for wave, path in paths.items():
        names = {"shares": f"{wave}.csv", "tests": f"{wave}.tests.csv",
                 "differences": f"{wave}.differences.csv"}  # fmt: skip
        targets = {k: tmp_path / "attitudes" / v for k, v in names.items()}
        run_attitudes_wave(path, "unused.yaml", tmp_path, SETTINGS, targets["shares"],
                           targets["tests"], targets["differences"])  # fmt: skip
        for k, p in targets.items():
            out[k].append(p)
    return out


def _close(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for c in want.columns:
        if pd.api.types.is_numeric_dtype(want[c]) and not pd.api.types.is_bool_dtype(want[c]):
            np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float),
                                       rtol=1e-9, atol=1e-12)  # fmt: skip
        else:
            # an empty text cell reads back as NA
            assert got[c].fillna("").astype(str).tolist() == want[c].astype(str).tolist(), c


def test_stacked_waves_equal_the_pooled_tables(tmp_path, waves):
    frames, paths, simulated = waves
    parts = _per_wave(tmp_path, paths)
    # the wave without the stance question: the tables with their columns, no row
    assert files.read_table(parts["shares"][0]).empty
    assert "estimate" in files.read_table(parts["differences"][0]).columns
    outs = {k: tmp_path / "tables" / f"{k}.csv" for k in parts}
    run_attitudes(parts["shares"], parts["tests"], parts["differences"], outs["shares"],
                  outs["tests"], outs["differences"])  # fmt: skip
    pooled = pd.concat(frames.values(), ignore_index=True)
    flags = {w: f == "true" for w, f in simulated.items()}
    want = attitudes_by_stance(pooled, level=0.9)
    got = {k: files.read_table(p, dtype={"wave": "string"}) for k, p in outs.items()}
    _close(got["shares"].drop(columns="simulated"), want["shares"])
    _close(got["tests"].drop(columns="simulated"), want["tests"])
    _close(got["differences"], stance_differences(pooled, flags, level=0.9))
    # each row keeps its own wave's flag: one real wave, one simulated
    by_wave = got["shares"].groupby("wave")["simulated"].unique().map(list).to_dict()
    assert by_wave == {"2022-05": [False], "2023-01": [True]}


def test_no_wave_with_the_stance_question_is_an_error(tmp_path, waves):
    _, paths, _ = waves
    parts = _per_wave(tmp_path, {"2021-06": paths["2021-06"]})
    outs = [tmp_path / f"{k}.csv" for k in ("s", "t", "d")]
    with pytest.raises(InputError, match="stance question was not asked in any wave"):
        run_attitudes(parts["shares"], parts["tests"], parts["differences"], *outs)
    assert not any(p.exists() for p in outs)
