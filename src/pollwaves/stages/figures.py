"""The figures job: every report figure drawn in one process (paths in, files out).

Each figure is drawn by its own stage function (:mod:`pollwaves.stages.report`) from the
tables the earlier jobs wrote; one job draws them all so that the workflow pays the Python,
pandas and matplotlib start-up once rather than once per figure (issue 15). A failing figure
fails the job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from pollwaves.stages.report import (
    run_attitudes_figure,
    run_poll_average_figure,
    run_trend_figure,
    run_weighting_figure,
)

__all__ = ["run_figures"]

PathLike = str | os.PathLike[str]


def run_figures(
    inputs: Mapping[str, Any], outputs: Mapping[str, Any], params: Mapping[str, Any]
) -> None:
    """Draw the trend figures of ``params["trend_questions"]``, the poll averages, attitudes
    by war stance and the weighting diagnostics (PNG and SVG each).

    ``inputs`` and ``outputs`` are the ``figures`` rule's named files
    (workflow/rules/figures.smk); ``trend_png`` and ``trend_svg`` list one file per trend
    question, in ``trend_questions`` order. ``params``: ``trend_questions``, ``notice``,
    ``level``, ``contrasts`` (``estimation.contrasts``), ``stacks`` (``report.stacks``),
    ``trend`` (the ``trend`` settings) and ``gap_days``.
    """
    level, notice, mappings = float(params["level"]), params["notice"], inputs["mappings"]
    questions: Sequence[str] = list(params["trend_questions"])
    pngs, svgs = _listed(outputs["trend_png"]), _listed(outputs["trend_svg"])
    for question, png, svg in zip(questions, pngs, svgs, strict=True):
        run_trend_figure(
            question, inputs["toplines"], inputs["published"], notice, png, svg,
            inputs["claims"], level=level, wave_yamls=mappings,
            contrasts_csv=inputs["contrasts"], codebook_yaml=inputs["codebook"],
            contrasts=params["contrasts"], stacks=params["stacks"],
            published_intervals_csv=inputs["published_intervals"],
        )  # fmt: skip
    run_poll_average_figure(
        inputs["poll_average"], inputs["toplines"], inputs["contrasts"], inputs["published"],
        mappings, inputs["claims"], params["trend"], notice, outputs["poll_average_png"],
        outputs["poll_average_svg"], level=level, gap_days=params["gap_days"],
        published_intervals_csv=inputs["published_intervals"],
    )  # fmt: skip
    run_attitudes_figure(
        inputs["attitudes"], notice, outputs["attitudes_png"], outputs["attitudes_svg"],
        level=level, wave_yamls=mappings,
    )  # fmt: skip
    run_weighting_figure(
        inputs["weighting"], inputs["weighting_margins"], notice, outputs["weighting_png"],
        outputs["weighting_svg"], wave_yamls=mappings,
    )  # fmt: skip


def _listed(value: Any) -> list[PathLike]:
    """A named output holding one file or a list of them, as a list."""
    return [value] if isinstance(value, (str, os.PathLike)) else list(value)
