"""The one per-wave job of the workflow: harmonise, weight and estimate a wave in one process.

Snakemake starts a fresh Python for every ``script:`` job (about 2 s of start-up and imports
here), so the four per-wave steps run in one job (rule ``process_wave``): a study of W waves
has W per-wave jobs, not 4 W. The steps and their files are those of
:func:`pollwaves.stages.waves.run_harmonise`, :func:`~pollwaves.stages.waves.run_weight`,
:func:`~pollwaves.stages.waves.run_estimate_wave`,
:func:`pollwaves.stages.attitudes.run_attitudes_wave` (each wave is its own design there) and
:func:`pollwaves.stages.pooled.run_wave_model_coverage` (the wave's rows of model_waves.csv)
and :func:`pollwaves.stages.pooled.run_wave_model_rows` (the wave's respondents grouped for
the pooled models), unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pollwaves.stages.attitudes import run_attitudes_wave
from pollwaves.stages.pooled import run_wave_model_coverage, run_wave_model_rows
from pollwaves.stages.waves import run_estimate_wave, run_harmonise, run_weight

PathLike = str | os.PathLike[str]


def run_wave(
    wave: str,
    wave_yaml: PathLike,
    codebook_path: PathLike,
    margins_path: PathLike,
    root: PathLike,
    settings: Mapping[str, Any],
    outputs: Mapping[str, PathLike],
) -> None:
    """Harmonise, rake and estimate one wave; write every per-wave file.

    Parameters
    ----------
    wave : str
        The wave id (``config/waves/{wave}.yaml``).
    wave_yaml, codebook_path, margins_path : path-like
        The wave mapping, the codebook and the margins file.
    root : path-like
        Project root.
    settings : mapping
        ``weighting``, ``estimation`` and ``models`` of config.yaml (the raked weights are
        sampling weights; the estimates' SEs account for the raking; ``models`` names the
        pooled models' terms, whose coverage in this wave is written to ``model_coverage``).
    outputs : mapping
        The rule's outputs by name: ``harmonised, cleaning`` (harmonise), ``data,
        diagnostics, margins`` (weight), ``estimates, contrasts, unweighted, vendor, bounds``
        (estimate), ``stance_shares, stance_tests, stance_differences``
        (:func:`pollwaves.stages.attitudes.run_attitudes_wave`) and ``model_coverage``
        (:func:`pollwaves.stages.pooled.run_wave_model_coverage`: which pooled models can use
        the wave) and ``model_rows`` (:func:`pollwaves.stages.pooled.run_wave_model_rows`).
    """
    weighting = settings["weighting"]
    run_harmonise(wave_yaml, codebook_path, root, outputs["harmonised"], outputs["cleaning"],
                  weighting_variables=weighting["variables"], margins_path=margins_path)  # fmt: skip
    run_weight(outputs["harmonised"], margins_path, root, weighting, wave, outputs["data"],
               outputs["diagnostics"], outputs["margins"], wave_yaml=wave_yaml)  # fmt: skip
    run_estimate_wave(
        outputs["data"],
        codebook_path,
        margins_path,
        root,
        settings,
        outputs["estimates"],
        outputs["contrasts"],
        outputs["unweighted"],
        outputs["vendor"],
        outputs["bounds"],
    )
    run_attitudes_wave(outputs["data"], margins_path, root, settings, outputs["stance_shares"],
                       outputs["stance_tests"], outputs["stance_differences"])  # fmt: skip
    run_wave_model_coverage(outputs["data"], settings["models"], outputs["model_coverage"])
    run_wave_model_rows(outputs["data"], settings["models"], weighting["variables"],
                        margins_path, root, outputs["model_rows"])  # fmt: skip
