"""Generate the seeded input CSV of the multinomial-logit golden test (run once, committed).

Run from the project root::

    python tests/survey/reference/make_mnlogit_data.py

Writes ``tests/survey/reference/data/mnlogit.csv``: 480 respondents in 4 strata of 10 PSUs each
(12 respondents per PSU, PSU ids unique across strata), unequal sampling weights, a
5-category response ``alliance`` (russia, eu, both, outside, hard_to_say; a few missing),
a 3-level factor ``wave``, a 2-level factor ``sex``, a continuous ``x`` (a few missing) and a
3-level ``region`` that is not in the model (a domain for predicted shares), for
``tests/survey/reference/mnlogit.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "data" / "mnlogit.csv"
CATEGORIES = ["russia", "eu", "both", "outside", "hard_to_say"]


def make(seed: int = 20240917) -> pd.DataFrame:
    """Seeded stratified two-stage sample with PSU effects and informative weights."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(4):
        for j in range(10):
            effect = rng.normal(0, 0.4, len(CATEGORIES) - 1)
            for _ in range(12):
                rows.append({"stratum": f"h{h + 1}", "psu": h * 10 + j + 1, "eff": effect})
    df = pd.DataFrame(rows)
    n = len(df)
    df["wave"] = rng.choice(["2022-03", "2023-05", "2024-02"], n, p=[0.3, 0.35, 0.35])
    df["sex"] = rng.choice(["female", "male"], n, p=[0.55, 0.45])
    df["x"] = np.round(rng.normal(0, 1, n), 4)
    df["region"] = rng.choice(["centre", "north", "south"], n, p=[0.4, 0.3, 0.3])
    stratum_no = df["stratum"].str[1].astype(int).to_numpy()
    df["weight"] = np.round(rng.lognormal(0.2 * stratum_no, 0.45, n), 4)
    # linear predictors of eu, both, outside, hard_to_say against russia
    wave_eff = {"2022-03": 0.0, "2023-05": 0.4, "2024-02": 0.7}
    w_e = df["wave"].map(wave_eff).to_numpy()
    male = (df["sex"] == "male").to_numpy(dtype=float)
    x = df["x"].to_numpy()
    eff = np.vstack(df["eff"].to_numpy())
    eta = np.column_stack(
        [
            0.3 + w_e + 0.2 * male + 0.5 * x,
            -0.2 + 0.5 * w_e - 0.3 * male + 0.1 * x,
            -0.5 + 0.3 * w_e + 0.4 * male - 0.2 * x,
            0.1 + 0.2 * w_e - 0.4 * male - 0.4 * x,
        ]
    )
    eta = np.column_stack([np.zeros(n), eta + eff])
    prob = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    draw = (rng.uniform(size=n)[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    df["alliance"] = np.array(CATEGORIES)[draw]
    df.loc[rng.choice(n, 8, replace=False), "x"] = np.nan
    df.loc[rng.choice(n, 6, replace=False), "alliance"] = np.nan
    cols = ["stratum", "psu", "weight", "alliance", "wave", "sex", "x", "region"]
    return df[cols]


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    make().to_csv(OUT, index=False)
    print(f"wrote {OUT}")
