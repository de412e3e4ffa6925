"""Generate the small seeded input CSVs of the R golden tests (run once, output committed).

Run from the project root::

    python tests/survey/reference/make_data.py

Writes ``tests/survey/reference/data/survey.csv``: 360 respondents in 3 strata of 6 PSUs each
(PSU ids unique across strata), positive sampling weights, a 0/1 response ``vote``, a
3-level factor ``age_group``, a continuous ``x`` (a few missing), and the two variables of a
3 x 4 table, ``region`` and ``opinion`` (a few missing), for ``tests/survey/reference/*.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "data" / "survey.csv"


def make(seed: int = 20240611) -> pd.DataFrame:
    """Seeded two-stage stratified sample with informative weights and PSU effects."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(3):
        for j in range(6):
            psu = h * 6 + j + 1
            effect = rng.normal(0, 0.6)
            for _ in range(20):
                rows.append({"stratum": f"s{h + 1}", "psu": psu, "psu_effect": effect})
    df = pd.DataFrame(rows)
    n = len(df)
    df["age_group"] = rng.choice(["18_34", "35_54", "55_plus"], n, p=[0.3, 0.35, 0.35])
    df["x"] = np.round(rng.normal(0, 1, n), 4)
    stratum_no = df["stratum"].str[1].astype(int).to_numpy()
    df["weight"] = np.round(rng.lognormal(0.3 * stratum_no, 0.5, n), 4)
    age_eff = df["age_group"].map({"18_34": -0.4, "35_54": 0.0, "55_plus": 0.5}).to_numpy()
    eta = -0.2 + age_eff + 0.7 * df["x"].to_numpy() + df["psu_effect"].to_numpy()
    df["vote"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["region"] = np.where(
        df["psu_effect"] > 0.3,
        rng.choice(["east", "north", "south"], n, p=[0.5, 0.3, 0.2]),
        rng.choice(["east", "north", "south"], n, p=[0.25, 0.4, 0.35]),
    )
    df["opinion"] = np.where(
        df["vote"] == 1,
        rng.choice(["agree", "disagree", "neutral", "unsure"], n, p=[0.4, 0.2, 0.25, 0.15]),
        rng.choice(["agree", "disagree", "neutral", "unsure"], n, p=[0.25, 0.35, 0.25, 0.15]),
    )
    df.loc[rng.choice(n, 9, replace=False), "x"] = np.nan
    df.loc[rng.choice(n, 7, replace=False), "opinion"] = np.nan
    df.loc[rng.choice(n, 5, replace=False), "region"] = np.nan
    cols = ["stratum", "psu", "weight", "vote", "age_group", "x", "region", "opinion"]
    return df[cols]


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    make().to_csv(OUT, index=False)
    print(f"wrote {OUT}")
