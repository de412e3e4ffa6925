"""Generate the seeded pooled-waves input of the calibrated-model golden test (run once, committed).

Run from the project root::

    python tests/survey/reference/make_pooled_data.py

Writes ``tests/survey/reference/data/pooled.csv``: 420 SIMULATED respondents in three waves
(130, 150 and 140), with the raking columns ``sex_age`` (sex x age group, 6 cells),
``education`` (3) and ``settlement`` (2), a predictor ``media_diet`` that is not a raking
variable, the answers ``war_support`` (4 categories), ``alliance`` (4) and
``attitude_poland`` (3), each with a few refusals (empty), the wave's ``time`` in years, and
``weight``: the wave raked to its own population margins (different per wave, equal base
weights, the same population total 1e6) by :func:`pollwaves.survey.weighting.rake`, as the
pipeline rakes each wave. Read by ``tests/survey/reference/pooled_calibrated.R`` and
``tests/survey/test_golden_calibrated.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pollwaves.survey.weighting import rake

OUT = Path(__file__).parent / "data" / "pooled.csv"
WAVES = {"2022-03": (130, 0.0), "2022-11": (150, 0.7), "2023-11": (140, 1.7)}
SEX_AGE = ["female_18-34", "female_35-54", "female_55+", "male_18-34", "male_35-54", "male_55+"]
EDUCATION = ["basic", "higher", "secondary"]
SETTLEMENT = ["city", "town"]
POPULATION = 1_000_000.0


def _choice(rng: np.random.Generator, eta: np.ndarray, cats: list[str]) -> np.ndarray:
    """One draw per row from the multinomial logit with log-odds ``eta`` (n x K)."""
    p = np.exp(eta - eta.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.random(len(p))[:, None]
    return np.asarray(cats, dtype=object)[(u > p.cumsum(axis=1)).sum(axis=1)]


def make(seed: int = 20261202) -> pd.DataFrame:
    """Seeded samples whose demographics differ from the (wave-specific) margins."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (wave, (n, time)) in enumerate(WAVES.items()):
        d = pd.DataFrame({"wave": wave, "time": time}, index=range(n))
        d["sex_age"] = rng.choice(SEX_AGE, n, p=[0.22, 0.2, 0.14, 0.17, 0.15, 0.12])
        d["education"] = rng.choice(EDUCATION, n, p=[0.2, 0.45, 0.35])
        d["settlement"] = rng.choice(SETTLEMENT, n, p=[0.7, 0.3])
        d["media_diet"] = rng.choice(["mixed", "online", "tv"], n, p=[0.4, 0.35, 0.25])
        old = d["sex_age"].str.endswith("55+").to_numpy(float)
        higher = (d["education"] == "higher").to_numpy(float)
        tv = (d["media_diet"] == "tv").to_numpy(float)
        town = (d["settlement"] == "town").to_numpy(float)
        # support / partly / oppose / hard_to_say against support (0)
        eta = np.column_stack(
            [
                np.zeros(n),
                -0.3 + 0.3 * old + rng.normal(0, 0.1, n),
                -0.8 + 0.25 * time - 0.9 * old + 0.6 * higher - 0.7 * tv,
                -1.2 + 0.4 * town,
            ]
        )
        d["war_support"] = _choice(rng, eta, ["support", "partly", "oppose", "hard_to_say"])
        eta = np.column_stack(
            [
                np.zeros(n),
                0.8 + 0.3 * time + 0.7 * higher - 0.8 * old,
                0.2 - 0.2 * time + 0.3 * town,
                -0.2 + 0.5 * tv,
            ]
        )
        d["alliance"] = _choice(rng, eta, ["russia", "eu", "both", "outside"])
        oppose = (d["war_support"] == "oppose").to_numpy(float)
        eta = np.column_stack(
            [np.zeros(n), -0.5 + 1.0 * oppose - 0.6 * old, -1.0 + 0.3 * tv + 0.2 * k]
        )
        d["attitude_poland"] = _choice(rng, eta, ["good", "bad", "hard_to_say"])
        for col, share in (("war_support", 0.04), ("alliance", 0.03), ("attitude_poland", 0.05)):
            d.loc[rng.random(n) < share, col] = np.nan
        margins = {
            "sex_age": dict(zip(SEX_AGE, rng.dirichlet(np.full(6, 30.0)), strict=True)),
            "education": dict(
                zip(EDUCATION, [0.3, 0.3, 0.4] + rng.normal(0, 0.03, 3), strict=True)
            ),
            "settlement": {"city": 0.6 + 0.05 * k, "town": 0.4 - 0.05 * k},
        }
        margins["education"] = {
            c: v / sum(margins["education"].values()) for c, v in margins["education"].items()
        }
        d["base"] = POPULATION / n
        d["weight"] = rake(d, margins, "base", max_iter=2000, tol=1e-14).to_numpy()
        parts.append(d.drop(columns="base"))
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    make().to_csv(OUT, index=False, float_format="%.17g")
    print(f"wrote {OUT}")
