"""Write the SIMULATED respondents of the crosstab golden test (seeded; run from the root).

``python tests/api/reference/make_crosstab_data.py`` writes
``tests/api/reference/data/crosstab.csv`` (one row per simulated respondent: sex, age,
educ, the derived raking column sex_age, the column variable grp and the answer y, with a
missing answer for a few) and ``crosstab_margins.csv`` (population totals of the raking
margins sex_age and educ). Then ``Rscript tests/api/reference/crosstab.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pollwaves.files import write_table

OUT = Path(__file__).parent / "data"


def main() -> None:
    rng = np.random.default_rng(20261202)
    n = 360
    sex = rng.choice(["f", "m"], n, p=[0.6, 0.4])
    age = rng.choice(["18_34", "35_54", "55_plus"], n, p=[0.4, 0.35, 0.25])
    educ = rng.choice(["low", "mid", "high"], n, p=[0.2, 0.4, 0.4])
    grp = rng.choice(["g1", "g2", "g3", "g4"], n, p=[0.3, 0.3, 0.25, 0.15])
    base = {"g1": [0.5, 0.3, 0.2], "g2": [0.35, 0.4, 0.25], "g3": [0.25, 0.45, 0.3]}
    base["g4"] = [0.3, 0.3, 0.4]
    y = np.array([rng.choice(["yes", "no", "dk"], p=base[g]) for g in grp], dtype=object)
    y[rng.random(n) < 0.03] = None
    df = pd.DataFrame(
        {"id": np.arange(1, n + 1), "sex": sex, "age": age, "educ": educ, "grp": grp, "y": y}
    )
    df["sex_age"] = df["sex"] + "_" + df["age"]
    write_table(df, OUT / "crosstab.csv")
    total = 1_000_000.0
    cells = sorted(df["sex_age"].unique())
    sa = np.array([0.52 * 0.3, 0.52 * 0.35, 0.52 * 0.35, 0.48 * 0.33, 0.48 * 0.36, 0.48 * 0.31])
    margins = [("sex_age", c, s * total) for c, s in zip(cells, sa / sa.sum(), strict=True)]
    margins += [("educ", k, s * total) for k, s in {"high": 0.3, "low": 0.25, "mid": 0.45}.items()]
    write_table(
        pd.DataFrame(margins, columns=["variable", "category", "total"]),
        OUT / "crosstab_margins.csv",
    )


if __name__ == "__main__":
    main()
