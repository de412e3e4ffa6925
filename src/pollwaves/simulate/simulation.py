"""Seeded simulator of the poll deliveries (the bundled respondent-level data are SIMULATED).

1. :func:`make_population`: a synthetic urban adult population. The joint sex x age x
   education x settlement table is raked to ``config/margins.yaml`` (expected shares equal
   the targets); oblast, media diet, attitude to the authorities and a latent pro-Russian
   position ``z`` are drawn given the demographics.
2. :class:`Simulation`: the question model (multinomial logit: wave x category intercepts +
   loading * z + subgroup effects), calibrated so that the population TRUE shares (means
   of the person probabilities) equal the targets of :mod:`pollwaves.simulate.targets`;
   :meth:`Simulation.truth` tabulates them, :meth:`Simulation.sample_wave` draws an online
   sample with selection bias, the answers, and the bad interviews that cleaning removes.

All randomness comes from ``SeedSequence(seed).spawn(1 + n_waves)``: child 0 draws the
population, child ``1 + i`` is the single generator of the i-th wave of the config.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from pollwaves.config import load_yaml
from pollwaves.errors import InputError
from pollwaves.simulate.calibrate import (
    Constraint,
    calibrate_block,
    calibrate_grid,
    effect_matrix,
    grid_conditional,
)
from pollwaves.simulate.population import DEMOGRAPHICS, draw_categorical, levels, make_population
from pollwaves.simulate.targets import asked_questions, scenario_table, wave_targets

__all__ = [
    "DEMOGRAPHICS",
    "TRUTH_DOMAINS",
    "Simulation",
    "load_simulation_config",
]

#: Demographic domains of the truth table.
TRUTH_DOMAINS = ["sex", "age_group", "education", "settlement", "media_diet", "authorities"]
REFUSED = "refused"  # canonical frame marker of a refusal (raw code 99); missing after mapping


def load_simulation_config(path: str | os.PathLike[str]) -> dict:
    """Read ``config/simulation.yaml`` (waves as strings, sorted)."""
    cfg = load_yaml(path)
    if not isinstance(cfg, dict) or "waves" not in cfg:
        raise InputError(
            "not a simulation config", file=str(path), hint="see config/simulation.yaml"
        )
    cfg["waves"] = {str(w): spec for w, spec in sorted(cfg["waves"].items())}
    return cfg


class Simulation:
    """Population + calibrated question model of all waves of ``cfg``.

    Parameters
    ----------
    cfg : dict
        The simulation config (:func:`load_simulation_config`).
    codebook : dict
        The codebook.
    root : path
        Project root (for the margins and census files named in ``cfg``).
    size : int, optional
        Population size (default ``cfg["population"]["size"]``).
    seed : int, optional
        Master seed (default ``cfg["seed"]``).
    """

    def __init__(self, cfg: dict, codebook: dict, root, *, size: int | None = None, seed=None):
        self.cfg, self.codebook = cfg, codebook
        self.waves = list(cfg["waves"])
        seed = int(cfg["seed"] if seed is None else seed)
        self._children = np.random.SeedSequence(seed).spawn(1 + len(self.waves))
        size = int(cfg["population"]["size"] if size is None else size)
        self.population = make_population(
            cfg, codebook, root, np.random.default_rng(self._children[0]), size
        )
        self.levels = levels(codebook)
        self.codes = {
            v: pd.Categorical(self.population[v], categories=self.levels[v]).codes.astype(np.int64)
            for v in DEMOGRAPHICS
        }
        self.targets = wave_targets(cfg, codebook)
        self.scenario = scenario_table(cfg, codebook, self.targets)
        self.grid = [str(q) for q in cfg["grid"]]
        self.residuals: dict[tuple[str, str], float] = {}
        self._calibrate()

    # -- model ---------------------------------------------------------------------------
    def categories(self, q: str) -> list[str]:
        return [str(c) for c in self.codebook["variables"][q]["categories"]]

    def _rows(self, variables: list[str]) -> tuple[np.ndarray, np.ndarray, dict]:
        """Collapse persons to unique (z, variables) rows: inverse index, weights, codes."""
        z_idx = np.round(self.population["z"].to_numpy() / float(self.cfg["latent"]["step"]))
        key = np.column_stack([z_idx.astype(np.int64)] + [self.codes[v] for v in variables])
        uniq, inverse = np.unique(key, axis=0, return_inverse=True)
        weights = np.bincount(inverse.ravel(), minlength=len(uniq)).astype(float)
        codes = {v: uniq[:, i + 1] for i, v in enumerate(variables)}
        codes["z"] = uniq[:, 0] * float(self.cfg["latent"]["step"])
        return inverse.ravel(), weights, codes

    def _base(self, q: str, codes: dict) -> np.ndarray:
        qcfg = self.cfg["questions"][q]
        cats = self.categories(q)
        load = np.array([float(qcfg.get("loading", {}).get(c, 0.0)) for c in cats])
        eff = effect_matrix(
            qcfg.get("effects"), codes, self.levels, cats, where=f"questions.{q}.effects"
        )
        return codes["z"][:, None] * load[None, :] + eff

    def _calibrate(self) -> None:
        self.blocks: dict[str, dict[str, Any]] = {}
        self.probs: dict[tuple[str, str], np.ndarray] = {}
        questions = [q for q in self.codebook["variables"] if q in self.cfg["questions"]]
        subs = self.cfg.get("subgroup_targets") or []
        for q in [q for q in questions if q not in self.grid] + ["grid"]:
            items = self.grid if q == "grid" else [q]
            variables: set[str] = set()
            for item in items:
                variables |= set(self.cfg["questions"][item].get("effects") or {})
            variables |= {s["variable"] for s in subs if s["question"] in items}
            inverse, weights, codes = self._rows(sorted(variables))
            base = np.stack([self._base(item, codes) for item in items], axis=1)
            self.blocks[q] = {
                "items": items,
                "inverse": inverse,
                "weights": weights,
                "codes": codes,
            }
            for wave in self.waves:
                if items[0] not in asked_questions(self.codebook, wave):
                    continue
                tv = [
                    np.array(list(self.targets[(wave, i)]["values"].values())) / 100 for i in items
                ]
                if q == "grid":
                    probs, resid = calibrate_grid(base, weights, np.stack(tv))
                    for j, item in enumerate(items):
                        self.probs[(wave, item)] = probs[:, j, :]
                        self.residuals[(wave, item)] = float(np.abs(resid).max())
                    continue
                cats = self.categories(q)
                cons = [Constraint((k,), float(tv[0][k])) for k in range(len(cats) - 1)]
                for s in subs:
                    if s["wave"] == wave and s["question"] == q:
                        lev = self.levels[s["variable"]].index(str(s["level"]))
                        mask = codes[s["variable"]] == lev
                        cons.append(
                            Constraint((cats.index(str(s["category"])),), s["value"] / 100, mask)
                        )
                probs, resid = calibrate_block(base[:, 0, :], weights, cons)
                self.probs[(wave, q)] = probs
                self.residuals[(wave, q)] = float(np.abs(resid).max())

    def _block(self, q: str) -> dict[str, Any]:
        return self.blocks["grid" if q in self.grid else q]

    def person_probs(self, wave: str, q: str, persons: np.ndarray | None = None) -> np.ndarray:
        """``(persons, K)`` answer probabilities (unconditional for grid items)."""
        inv = self._block(q)["inverse"]
        return self.probs[(wave, q)][inv if persons is None else inv[persons]]

    # -- truth ---------------------------------------------------------------------------
    def truth(self) -> pd.DataFrame:
        """Population true shares per wave, question, domain (``all``, ``var=level``), category.

        Grid items use the conditional (not straight-lined) probabilities. Sorted by wave,
        then codebook order of question, domain variable, level and category.
        """
        out = []
        for q, block in self.blocks.items():
            inv, w = block["inverse"], block["weights"]
            counts = {
                v: np.stack(
                    [np.bincount(inv, weights=(self.codes[v] == i), minlength=w.size)
                     for i in range(len(self.levels[v]))], axis=1)
                for v in TRUTH_DOMAINS
            }  # fmt: skip
            for wave in self.waves:
                if (wave, block["items"][0]) not in self.probs:
                    continue
                p = np.stack([self.probs[(wave, i)] for i in block["items"]], axis=1)
                if q == "grid":
                    p = grid_conditional(p)
                for j, item in enumerate(block["items"]):
                    cats = self.categories(item)
                    pj = p[:, j, :]
                    domains = [("all", w @ pj / w.sum())]
                    for v in TRUTH_DOMAINS:
                        shares = counts[v].T @ pj / counts[v].sum(axis=0)[:, None]
                        domains += [
                            (f"{v}={lev}", shares[i]) for i, lev in enumerate(self.levels[v])
                        ]
                    for d, (dom, share) in enumerate(domains):
                        for k, cat in enumerate(cats):
                            out.append((wave, item, d, k, dom, cat, float(share[k])))
        qorder = {q: i for i, q in enumerate(self.codebook["variables"])}
        out.sort(key=lambda r: (r[0], qorder[r[1]], r[2], r[3]))
        df = pd.DataFrame(
            [(r[0], r[1], r[4], r[5], r[6]) for r in out],
            columns=["wave", "question", "domain", "category", "share"],
        )
        return df.astype({c: "str" for c in ("wave", "question", "domain", "category")})

    # -- samples -------------------------------------------------------------------------
    def wave_rng(self, wave: str) -> np.random.Generator:
        """The single generator of ``wave`` (child ``1 + index`` of the master seed)."""
        return np.random.default_rng(self._children[1 + self.waves.index(wave)])

    def inclusion_weights(self) -> np.ndarray:
        """Relative inclusion probabilities exp(gamma . x) of the online panel."""
        gamma = self.cfg["selection"]["gamma"]
        eff = effect_matrix(
            {v: {lev: {"x": c} for lev, c in by.items()} for v, by in gamma.items()},
            self.codes, self.levels, ["x"], where="selection.gamma",
        )[:, 0]  # fmt: skip
        return np.exp(eff)

    def sample_wave(self, wave: str, rng: np.random.Generator, order: list[str]) -> pd.DataFrame:
        """Draw one wave: sample, answers, refusals, durations and bad interviews.

        Parameters
        ----------
        wave : str
            The wave.
        rng : numpy.random.Generator
            The wave's generator (:meth:`wave_rng`); used in a fixed order.
        order : list of str
            Questions in questionnaire order (partial completes stop early in it).

        Returns
        -------
        pandas.DataFrame
            ``person, quality, duration_sec, <demographics>, <questions asked>``; quality is
            ``clean``, ``speeder``, ``straightliner`` or ``partial``; answers are category
            ids, ``"refused"`` or None (not reached by a partial complete).
        """
        spec, qual = self.cfg["waves"][wave], self.cfg["quality"]
        n = int(spec["n"])
        kinds = [
            ("speeder", "speeders"),
            ("straightliner", "straightliners"),
            ("partial", "partials"),
        ]
        counts = {k: round(float(qual[key]["rate"]) * n) for k, key in kinds}
        n_tot = n + sum(counts.values())
        keys = rng.exponential(size=len(self.population)) / self.inclusion_weights()
        persons = np.sort(np.argpartition(keys, n_tot)[:n_tot])
        quality = np.array(["clean"] * n + [k for k, _ in kinds for _ in range(counts[k])])
        quality = quality[rng.permutation(n_tot)]
        asked = asked_questions(self.codebook, wave)
        if sorted(order) != sorted(asked):
            raise InputError(
                f"questionnaire order {order} does not list the asked questions {asked}",
                wave=wave, key=f"deliveries.waves.{wave}.columns",
            )  # fmt: skip
        answers: dict[str, np.ndarray] = {}
        for q in [q for q in asked if q not in self.grid]:
            answers[q] = np.array(self.categories(q), dtype=object)[
                draw_categorical(rng, self.person_probs(wave, q, persons))
            ]
        grid = [q for q in self.grid if q in asked]
        p = np.stack([self.person_probs(wave, q, persons) for q in grid], axis=1)
        draws = np.zeros((n_tot, len(grid)), dtype=np.int64)
        todo = np.arange(n_tot)
        while todo.size:  # rejection: redraw grids with one identical answer to every item
            for j in range(len(grid)):
                draws[todo, j] = draw_categorical(rng, p[todo, j, :])
            todo = todo[(draws[todo] == draws[todo, :1]).all(axis=1)]
        for j, q in enumerate(grid):
            answers[q] = np.array(self.categories(q), dtype=object)[draws[:, j]]
        for q, rate in (qual.get("refusal_rate") or {}).items():
            if q in answers:
                answers[q][rng.random(n_tot) < float(rate)] = REFUSED
        dur = qual["duration"]
        duration = float(dur["min_sec"]) + float(dur["median_extra_sec"]) * np.exp(
            float(dur["sigma_log"]) * rng.normal(size=n_tot)
        )
        for kind, key in kinds:
            rows = np.flatnonzero(quality == kind)
            lo, hi = qual[key]["duration_sec"]
            duration[rows] = rng.uniform(float(lo), float(hi), size=rows.size)
            if kind == "speeder":  # random clicking
                for q in order:
                    cats = np.array(self.categories(q), dtype=object)
                    answers[q][rows] = cats[rng.integers(0, len(cats), size=rows.size)]
            elif kind == "straightliner":
                sl = qual[key]["categories"]
                choice = np.array(list(sl), dtype=object)[
                    draw_categorical(
                        rng, np.tile(np.array(list(sl.values()), float), (rows.size, 1))
                    )
                ]
                for q in grid:
                    answers[q][rows] = choice
            else:  # partial completes: answer only the first k questions
                k_max = max(1, int(np.floor(float(qual[key]["max_share"]) * len(order))))
                k = rng.integers(1, k_max + 1, size=rows.size)
                for pos, q in enumerate(order):
                    answers[q][rows[k <= pos]] = None
        frame = pd.DataFrame({"person": persons, "quality": quality})
        frame["duration_sec"] = np.round(duration).astype(np.int64)
        for v in DEMOGRAPHICS:
            frame[v] = self.population[v].to_numpy()[persons]
        for q in asked:
            frame[q] = pd.Series(answers[q], dtype=object)
        return frame
