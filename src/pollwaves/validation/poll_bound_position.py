"""Where inside the published bounds the truth sits: coverage of partial-information dates.

At a date where the published cells only bound a series (the neutral alliance share in Jan
2022 is known only to be at least the published "both" share, 31 %), the simulator's true
value is one ASSUMED point inside the range the published categories allow, and the
coverage of the poll-average band there measures that assumption as much as the method
(:mod:`.poll_average_coverage`, ``information="partial"``). This module moves the truth
across that range and reruns the published replicates, so the benchmark can show how the
coverage at those dates depends on the position.

Shift rule, per published wave of the series' question: the categories NOT published in that
wave (as a number or a bound) are split into those inside the series (a part of a contrast,
e.g. ``outside`` of neutral = both + outside) and the others; their total true mass ``M``
is kept and re-divided, ``position * M`` to the inside ones and ``(1 - position) * M`` to the
others, each group in its simulated proportions. Published categories keep their simulated
truth, so every replicate's published cells are drawn exactly as in the main benchmark.
``position = 0`` puts the truth at the lower end of the range the published truth allows,
``1`` at the upper end. Waves without unpublished categories on both sides are not moved. A
wave after the last simulated wave carries the truth of the last simulated wave (the
benchmark's flat-truth assumption), so it moves with it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from pollwaves.errors import InputError
from pollwaves.validation.poll_average_coverage import (
    PollStudy,
    published_fits,
    scored_bands,
    summarise_bands,
)

__all__ = ["POSITION_COLUMNS", "position_coverage", "shifted_truth", "simulator_positions"]

POSITION_COLUMNS = ["question", "category", "position", "wave", "date", "truth", "replicates"]
POSITION_COLUMNS += ["coverage", "mean_ci_width", "information"]


def _groups(study: PollStudy, question: str, category: str):
    """(truth wave, inside, outside) unpublished categories per published wave."""
    inside = set(study.contrasts.get(question, {}).get(category, {category: 1.0}))
    pub = study.published[study.published["question"] == question]
    for wave, g in pub.groupby("wave", sort=True):
        tw = study.truth_wave(str(wave))
        cats = {k for c in g["category"] for k in str(c).split("+")}
        allc = [k for (w, q, k) in study.truth if w == tw and q == question]
        ins = [k for k in allc if k in inside and k not in cats]
        out = [k for k in allc if k not in inside and k not in cats]
        if tw is not None and ins and out:
            yield tw, ins, out


def shifted_truth(study: PollStudy, question: str, category: str, position: float) -> dict:
    """The study's truth with the unpublished mass re-divided (module docstring)."""
    if not 0 <= position <= 1:
        raise InputError("position must be in [0, 1]", value=position)
    truth = dict(study.truth)
    for tw, ins, out in _groups(study, question, category):
        m_in = sum(study.truth[(tw, question, k)] for k in ins)
        m_out = sum(study.truth[(tw, question, k)] for k in out)
        total = m_in + m_out
        for keys, mass, new in (
            (ins, m_in, position * total),
            (out, m_out, (1 - position) * total),
        ):
            for k in keys:
                share = study.truth[(tw, question, k)] / mass if mass > 0 else 1 / len(keys)
                truth[(tw, question, k)] = share * new
    return truth


def simulator_positions(study: PollStudy, question: str, category: str) -> dict[str, float]:
    """Truth wave -> the position of the simulator's own truth (``M_in / M``)."""
    out = {}
    for tw, ins, others in _groups(study, question, category):
        m_in = sum(study.truth[(tw, question, k)] for k in ins)
        total = m_in + sum(study.truth[(tw, question, k)] for k in others)
        out[tw] = m_in / total if total > 0 else np.nan
    return out


def _chunk(args: tuple) -> pd.DataFrame:
    root, question, category, position, reps, seed = args
    study = PollStudy(root)
    study.truth = shifted_truth(study, question, category, position)
    parts = []
    for r in reps:
        rng = np.random.default_rng(np.random.SeedSequence([seed, r]))
        parts.append(scored_bands(published_fits(study, rng, [(question, category)]), r))
    return pd.concat(parts, ignore_index=True)


def position_coverage(
    root: str | os.PathLike[str],
    question: str,
    category: str,
    positions: Sequence[float],
    *,
    replicates: int,
    seed: int,
    workers: int = 1,
) -> pd.DataFrame:
    """Coverage per date of the published band of one series, the truth moved to ``positions``.

    Returns
    -------
    DataFrame
        :data:`POSITION_COLUMNS`: per position and date the (moved, SIMULATED) truth, the
        coverage over ``replicates`` and the ``information`` class of the date.
    """
    if replicates < 1 or workers < 1:
        raise InputError("replicates and workers must be >= 1", value=(replicates, workers))
    study = PollStudy(root)
    chunks = [c.tolist() for c in np.array_split(np.arange(replicates), workers) if len(c)]
    jobs = [(str(root), question, category, float(p), c, seed) for p in positions for c in chunks]
    if workers == 1:
        parts = [_chunk(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_chunk, jobs))
    out = []
    for i, p in enumerate(positions):
        reps = pd.concat(parts[i * len(chunks) : (i + 1) * len(chunks)], ignore_index=True)
        detail = summarise_bands(reps, study.level)["detail"]
        out.append(detail.assign(position=float(p)))
    return pd.concat(out, ignore_index=True)[POSITION_COLUMNS]
