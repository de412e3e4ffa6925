"""A tiny built project for the API tests: the real config and codebook, two small waves.

The respondents are SIMULATED here (seeded draws), raked to config/margins.yaml with the
workflow's own raking settings, and written as the workflow writes weighted waves
(``data/processed/waves/{wave}.parquet`` with ``wave`` and ``simulated`` metadata).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import ROOT

from pollwaves import config, files
from pollwaves.intake.margins import add_derived_columns, load_margins
from pollwaves.survey.weighting import rake

WAVES = {"2023-03": 160, "2023-11": 140}


def _wave(wave: str, n: int, seed: int, codebook: dict) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cats = {v: list(s.get("categories") or {}) for v, s in codebook["variables"].items()}
    df = pd.DataFrame({"wave": wave, "resp_id": [str(i) for i in range(1, n + 1)]})
    for v in ("sex", "age_group", "education", "settlement"):
        df[v] = rng.choice(cats[v], n)
    # war support depends on sex, so that domains differ
    p_f, p_m = [0.2, 0.1, 0.5, 0.2], [0.35, 0.15, 0.35, 0.15]
    df["war_support"] = [
        rng.choice(cats["war_support"], p=p_f if s == "female" else p_m) for s in df["sex"]
    ]
    df["alliance"] = rng.choice(cats["alliance"], n)
    df.loc[rng.random(n) < 0.05, "alliance"] = None
    return df


def make_tiny_project(tmp: Path) -> Path:
    """Copy the config and schemas into ``tmp / "proj"`` and write two raked SIMULATED waves."""
    proj = tmp / "proj"
    shutil.copytree(ROOT / "workflow" / "schemas", proj / "workflow" / "schemas")
    for name in ("config.yaml", "codebook.yaml", "margins.yaml"):
        (proj / "config").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "config" / name, proj / "config" / name)
    schemas = proj / "workflow" / "schemas"
    codebook = config.load_codebook(
        proj / "config/codebook.yaml", schemas / "codebook.schema.yaml"
    )
    margins = load_margins(proj / "config/margins.yaml", schemas / "margins.schema.yaml")
    settings = config.load_yaml(proj / "config/config.yaml")["weighting"]
    for k, (wave, n) in enumerate(WAVES.items()):
        df = _wave(wave, n, 100 + k, codebook)
        work = add_derived_columns(df, margins["derived"])
        targets = {v: margins["targets"][v] for v in settings["variables"]}
        w = rake(work, targets, max_iter=200, tol=1e-12, cap=None)
        out = df.assign(weight=w.to_numpy())
        path = proj / "data/processed/waves" / f"{wave}.parquet"
        files.write_parquet(out, path, metadata={"wave": wave, "simulated": "true"})
    return proj
