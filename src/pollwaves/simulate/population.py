"""Synthetic urban adult population of :mod:`pollwaves.simulate` (SIMULATED data).

The joint sex x age x education x settlement table is raked to ``config/margins.yaml``
(expected shares equal the targets); oblast, media diet, attitude to the authorities and a
latent pro-Russian position ``z`` are then drawn given the demographics.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from pollwaves.config import load_yaml
from pollwaves.simulate.calibrate import Constraint, calibrate_block, effect_matrix, ipf

__all__ = ["DEMOGRAPHICS", "draw_categorical", "expected_tables", "levels", "make_population"]

DEMOGRAPHICS = [
    "sex",
    "age_group",
    "education",
    "settlement",
    "oblast",
    "media_diet",
    "authorities",
]
_CENSUS_OBLASTS = {
    "Brest Oblast (thousand)": "brest",
    "Vitebsk Oblast (thousand)": "vitebsk",
    "Gomel Oblast (thousand)": "gomel",
    "Grodno Oblast (thousand)": "grodno",
    "Minsk Oblast (thousand)": "minsk_region",
    "Mogilev Oblast (thousand)": "mogilev",
}


def draw_categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (inverse CDF)."""
    u = rng.random(probs.shape[0])
    cum = np.cumsum(probs, axis=1)
    return np.minimum((cum < u[:, None] * cum[:, -1:]).sum(axis=1), probs.shape[1] - 1)


def levels(codebook: dict) -> dict[str, list[str]]:
    """Category ids of the demographics, in codebook order."""
    return {v: [str(c) for c in codebook["variables"][v]["categories"]] for v in DEMOGRAPHICS}


def _conditional_logit(cfg_part: dict, codes: dict, levels: dict, cats: list[str], weights, key):
    """Calibrated P(category | row) of a demographic logit with overall targets."""
    base = effect_matrix(cfg_part.get("effects"), codes, levels, cats, where=f"{key}.effects")
    targets = [float(cfg_part["targets"][c]) for c in cats]
    cons = [Constraint((k,), targets[k]) for k in range(len(cats) - 1)]
    probs, _ = calibrate_block(base, np.asarray(weights, dtype=float), cons)
    return probs


def expected_tables(cfg: dict, codebook: dict, root: str | os.PathLike[str]) -> dict:
    """Exact expected distribution of the demographics the population is drawn from.

    Returns
    -------
    dict
        ``codes`` (level codes of sex, age_group, education, settlement per cell),
        ``cell`` (cell probabilities of the raked sex x age x education x settlement
        table), ``media`` (P(media diet | cell)) and ``authorities`` (P(authorities |
        cell, media diet), rows ordered cell-major).
    """
    margins = load_yaml(Path(root) / cfg["population"]["margins"])["margins"]
    lv = levels(codebook)
    sex_age = [str(k) for k in margins["sex_age"]["targets"]]
    sa_sex = [lv["sex"].index(s.split("_", 1)[0]) for s in sex_age]
    sa_age = [lv["age_group"].index(s.split("_", 1)[1]) for s in sex_age]
    edu_t = np.array([margins["education"]["targets"][c] for c in lv["education"]], float)
    set_t = np.array([margins["settlement"]["targets"][c] for c in lv["settlement"]], float)
    sa_t = np.array([margins["sex_age"]["targets"][c] for c in sex_age], float)
    # joint table: log-linear association terms, raked to the three margins
    grid = np.indices((len(sex_age), len(edu_t), len(set_t))).reshape(3, -1)
    codes = {
        "sex": np.array(sa_sex)[grid[0]],
        "age_group": np.array(sa_age)[grid[0]],
        "education": grid[1],
        "settlement": grid[2],
    }
    assoc = cfg["population"].get("association") or {}
    log_t = np.zeros(grid.shape[1])
    for var in ("education", "settlement"):
        where = f"population.association.{var}"
        eff = effect_matrix(assoc.get(var), codes, lv, lv[var], where=where)
        log_t += eff[np.arange(grid.shape[1]), codes[var]]
    table = ipf(np.exp(log_t).reshape(len(sex_age), len(edu_t), len(set_t)), [sa_t, edu_t, set_t])
    cell_p = table.ravel()
    # media diet | cell, authorities | cell x media (calibrated over the exact cell table)
    media_p = _conditional_logit(
        cfg["media_diet"], codes, lv, lv["media_diet"], cell_p, "media_diet"
    )
    n_m = len(lv["media_diet"])
    codes_cm = {k: np.repeat(v, n_m) for k, v in codes.items()}
    codes_cm["media_diet"] = np.tile(np.arange(n_m), grid.shape[1])
    w_cm = (cell_p[:, None] * media_p).ravel()
    auth_p = _conditional_logit(
        cfg["authorities"], codes_cm, lv, lv["authorities"], w_cm, "authorities"
    )
    return {"codes": codes, "cell": cell_p, "media": media_p, "authorities": auth_p}


def make_population(
    cfg: dict, codebook: dict, root: str | os.PathLike[str], rng: np.random.Generator, size: int
) -> pd.DataFrame:
    """Draw the synthetic urban adult population (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per person: the codebook demographics (category ids, ``str``) and the
        latent position ``z`` (float).
    """
    root = Path(root)
    pcfg = cfg["population"]
    lv = levels(codebook)
    exp = expected_tables(cfg, codebook, root)
    codes, cell_p, media_p, auth_p = exp["codes"], exp["cell"], exp["media"], exp["authorities"]
    n_m = len(lv["media_diet"])
    # persons
    cell = rng.choice(cell_p.size, size=size, p=cell_p / cell_p.sum())
    pc = {k: v[cell] for k, v in codes.items()}
    pc["media_diet"] = draw_categorical(rng, media_p[cell])
    pc["authorities"] = draw_categorical(rng, auth_p[cell * n_m + pc["media_diet"]])
    pc["oblast"] = _draw_oblast(pcfg, root, lv, pc["settlement"], rng)
    lat = cfg["latent"]
    z_lin = effect_matrix(
        {v: {lev: {"z": c} for lev, c in by.items()} for v, by in lat["effects"].items()},
        pc, lv, ["z"], where="latent.effects",
    )[:, 0]  # fmt: skip
    z = z_lin + rng.normal(0.0, float(lat["noise_sd"]), size=size)
    step = float(lat["step"])
    pop = pd.DataFrame({v: pd.Series(np.array(lv[v])[pc[v]], dtype="str") for v in DEMOGRAPHICS})
    pop["z"] = np.round(z / step) * step
    return pop


def _draw_oblast(pcfg: dict, root: Path, lv: dict, settlement: np.ndarray, rng) -> np.ndarray:
    census = pd.read_csv(root / pcfg["census"], dtype=str)
    rows = census[census["variable"] == "region"].set_index("category")["share_or_count"]
    size = {ob: float(rows[label]) for label, ob in _CENSUS_OBLASTS.items()}
    n_ob = len(lv["oblast"])
    probs = np.zeros((len(lv["settlement"]), n_ob))
    probs[lv["settlement"].index("minsk"), lv["oblast"].index("minsk_city")] = 1.0
    for st, key in (
        ("oblast_centre", "oblast_centre_oblasts"),
        ("other_town", "other_town_oblasts"),
    ):
        for ob in pcfg[key]:
            probs[lv["settlement"].index(st), lv["oblast"].index(ob)] = size[ob]
    probs /= probs.sum(axis=1, keepdims=True)
    return draw_categorical(rng, probs[settlement])
