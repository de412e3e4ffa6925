"""One share, one SE: the alliance model's wave shares equal the per-wave toplines.

``run_alliance_models`` calibrates the pooled multinomial logit per wave on the raking
variables (``weighting.variables``, ``sex_age`` derived from config/margins.yaml); with wave
fixed effects its predicted wave shares and their SEs are those of the toplines
(:func:`pollwaves.survey.estimation.proportions` with ``calibrated_on`` on each wave). The
respondents here are SIMULATED.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from pollwaves import config, files
from pollwaves.intake.margins import add_derived_columns, load_margins
from pollwaves.stages.models import run_alliance_models
from pollwaves.survey.estimation import proportions

RAKING = ["sex_age", "education", "settlement"]
WAVES = {"2022-01": "2022-01-10", "2022-06": "2022-06-10", "2023-03": "2023-03-10"}
SETTINGS = {"subgroups": ["sex", "media_diet"]}


def _wave(rng: np.random.Generator, wave: str, n: int = 220) -> pd.DataFrame:
    d = pd.DataFrame(
        {
            "wave": wave,
            "sex": rng.choice(["female", "male"], n),
            "age_group": rng.choice(["18_24", "25_34", "35_44", "45_54", "55_plus"], n),
            "education": rng.choice(["basic", "secondary", "higher"], n),
            "settlement": rng.choice(["capital", "city", "town"], n),
            "media_diet": rng.choice(["tv", "online", "mixed"], n),
        }
    )
    eta = np.column_stack([np.zeros(n), 0.5 + 0.8 * (d["education"] == "higher"),
                           0.3 * (d["sex"] == "male"), np.full(n, -0.4)])  # fmt: skip
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    cats = np.array(["russia", "eu", "both", "outside"], dtype=object)
    d["alliance"] = cats[(rng.random(n)[:, None] > p.cumsum(axis=1)).sum(axis=1)]
    d.loc[rng.random(n) < 0.03, "alliance"] = None
    d["weight"] = rng.lognormal(0, 0.4, n) * 1e4
    return d


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alliance")
    rng = np.random.default_rng(12)
    waves, yamls, frames = [], [], []
    for wave, start in WAVES.items():
        frame = _wave(rng, wave)
        frames.append(frame)
        waves.append(tmp / f"{wave}.parquet")
        files.write_parquet(frame, waves[-1], {"wave": str(wave), "simulated": "true"})
        yamls.append(tmp / f"{wave}.yaml")
        spec = {"wave": wave, "fieldwork": {"start": start, "end": start}}
        yamls[-1].write_text(yaml.safe_dump(spec))
    out = {k: tmp / f"{k}.csv" for k in ("shares", "neutral")}
    run_alliance_models(waves, yamls, SETTINGS, "2022-02-24", out["shares"], out["neutral"],
                        level=0.95, raking=RAKING, margins_path=ROOT / "config" / "margins.yaml",
                        root=ROOT)  # fmt: skip
    shares = pd.read_csv(out["shares"], dtype={"wave": str})
    return pd.concat(frames, ignore_index=True), shares


def test_alliance_wave_shares_and_ses_are_the_calibrated_toplines(built):
    pooled, shares = built
    margins = load_margins(ROOT / "config" / "margins.yaml",
                           config.schema_dir(ROOT) / "margins.schema.yaml")  # fmt: skip
    pooled = add_derived_columns(pooled, {"sex_age": margins["derived"]["sex_age"]})
    mine = shares[shares["domain"] == "all"]
    assert len(mine) == 12
    for wave, frame in pooled.groupby("wave"):
        top = proportions(frame, "alliance", "weight", calibrated_on=RAKING).set_index("category")
        plain = proportions(frame, "alliance", "weight").set_index("category")
        got = mine[mine["wave"] == wave].set_index("category").loc[top.index]
        np.testing.assert_allclose(got["estimate"], top["estimate"], rtol=1e-8)
        np.testing.assert_allclose(got["se"], top["se"], rtol=1e-8)
        assert not np.allclose(got["se"], plain["se"], rtol=1e-4)


def test_alliance_models_need_the_margins_for_the_raking_columns(tmp_path):
    from pollwaves.errors import InputError

    frame = _wave(np.random.default_rng(1), "2022-01")
    frame.to_parquet(tmp_path / "w.parquet")
    with pytest.raises(InputError, match="margins file"):
        run_alliance_models([tmp_path / "w.parquet"], [], SETTINGS, "2022-02-24",
                            tmp_path / "s.csv", tmp_path / "n.csv", level=0.95,
                            raking=RAKING)  # fmt: skip
