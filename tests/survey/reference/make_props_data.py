"""Generate the seeded input CSVs of the proportions / raking golden tests (output committed).

Run from the project root::

    python tests/survey/reference/make_props_data.py

Writes

``tests/survey/reference/data/props.csv``
    400 respondents (``id`` 1..400) in 4 strata of 5 PSUs each (PSU ids unique across
    strata, 14-26 interviews per PSU) with realistic unequal sampling weights ``weight``
    (log-normal, informative: they depend on stratum, sex and age; summing to about
    1,000,000), the raking variables ``sex`` (2 levels), ``age`` (3) and ``educ`` (3), the
    domain variables ``region`` (4 levels) and ``club`` (``"yes"`` for exactly 20
    respondents: the small domain), and two questions:

    * ``vote3``: 3 categories (``con``, ``lab``, ``other``), 14 missing answers;
    * ``party``: 4 categories, of which ``green`` has exactly 2 answers, both in the north
      and given by men (so ``green`` has p near 0 overall and p = 0 in the east, south and
      west and among women), 8 missing answers.

``tests/survey/reference/data/props_margins.csv``
    Population totals (``variable, category, total``) of ``sex``, ``age`` and ``educ``;
    every margin sums to the same total (1,000,000), and the shares differ from the sample's
    so that raking moves the weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"
POPULATION = 1_000_000
MARGINS = {
    "sex": {"f": 0.515, "m": 0.485},
    "age": {"18_34": 0.27, "35_54": 0.33, "55_plus": 0.40},
    "educ": {"high": 0.29, "low": 0.31, "mid": 0.40},
}


def make(seed: int = 20240917) -> pd.DataFrame:
    """Seeded stratified two-stage sample with informative weights and PSU effects."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(14, 27, size=20)
    sizes[-1] += 400 - sizes.sum()  # exactly 400 respondents
    assert sizes.min() >= 2
    stratum = np.repeat(
        [f"s{h + 1}" for h in range(4)], [sizes[h * 5 : h * 5 + 5].sum() for h in range(4)]
    )
    psu = np.repeat(np.arange(1, 21), sizes)
    n = len(psu)
    psu_effect = np.repeat(rng.normal(0, 0.5, 20), sizes)
    df = pd.DataFrame({"id": np.arange(1, n + 1), "stratum": stratum, "psu": psu})
    df["sex"] = rng.choice(["f", "m"], n, p=[0.56, 0.44])
    df["age"] = rng.choice(["18_34", "35_54", "55_plus"], n, p=[0.2, 0.32, 0.48])
    df["educ"] = rng.choice(["high", "low", "mid"], n, p=[0.4, 0.22, 0.38])
    df["region"] = np.where(
        psu_effect > 0,
        rng.choice(["east", "north", "south", "west"], n, p=[0.4, 0.3, 0.2, 0.1]),
        rng.choice(["east", "north", "south", "west"], n, p=[0.15, 0.25, 0.3, 0.3]),
    )
    club = np.full(n, "no", dtype=object)
    club[rng.choice(n, 20, replace=False)] = "yes"
    df["club"] = club
    # informative weights: under-covered young men and stratum-specific selection rates
    h = df["stratum"].str[1].astype(int).to_numpy()
    young_men = ((df["sex"] == "m") & (df["age"] == "18_34")).to_numpy()
    raw = rng.lognormal(0.25 * h + 0.6 * young_men, 0.45, n)
    df["weight"] = np.round(raw * POPULATION / raw.sum(), 3)
    # vote3: depends on age, region and the PSU
    age_eff = df["age"].map({"18_34": -0.6, "35_54": 0.0, "55_plus": 0.7}).to_numpy()
    reg_eff = df["region"].map({"east": 0.3, "north": -0.4, "south": 0.5, "west": 0.0})
    eta_con = age_eff + reg_eff.to_numpy() + psu_effect
    eta_lab = -0.5 * age_eff - psu_effect
    ex = np.column_stack([np.exp(eta_con), np.exp(eta_lab), np.full(n, 0.6)])
    prob = ex / ex.sum(axis=1, keepdims=True)
    u = rng.uniform(size=n)[:, None]
    pick = (u > np.cumsum(prob, axis=1)).sum(axis=1)
    vote3 = np.array(["con", "lab", "other"], dtype=object)[pick]
    vote3[rng.choice(n, 14, replace=False)] = None
    df["vote3"] = vote3
    # party: a rare category "green" (2 answers, both men in the north)
    party = np.where(
        pick == 0, "con", np.where(pick == 1, "lab", rng.choice(["lab", "lib"], n, p=[0.3, 0.7]))
    ).astype(object)
    north_men = np.flatnonzero(((df["region"] == "north") & (df["sex"] == "m")).to_numpy())
    green = rng.choice(north_men, 2, replace=False)
    party[green] = "green"
    others = np.setdiff1d(np.arange(n), green)
    party[rng.choice(others, 8, replace=False)] = None
    df["party"] = party
    return df


def margins_frame() -> pd.DataFrame:
    rows = [
        {"variable": var, "category": cat, "total": share * POPULATION}
        for var, shares in MARGINS.items()
        for cat, share in shares.items()
    ]
    return pd.DataFrame(rows)


if __name__ == "__main__":
    DATA.mkdir(parents=True, exist_ok=True)
    make().to_csv(DATA / "props.csv", index=False)
    margins_frame().to_csv(DATA / "props_margins.csv", index=False)
    print(f"wrote {DATA / 'props.csv'} and {DATA / 'props_margins.csv'}")
