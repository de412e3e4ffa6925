"""Stage: pollster-style topline tables (CSV and a formatted Excel workbook).

Reads the tidy toplines (design-based, raking-aware SEs from the sampling weights) and each
wave's weighted file for the question bases; writes ``reports/tables/topline_report.csv``
and ``reports/toplines.xlsx`` (one sheet per wave). Every row and sheet says whether the
wave's respondent-level data are SIMULATED.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pollwaves import config, files
from pollwaves.analysis.topline_tables import label_toplines, pollster_toplines, question_bases
from pollwaves.stages.waves import ESTIMATE_CSV
from pollwaves.survey.estimation import RESULT_COLUMNS

__all__ = ["WORKBOOK_HEADERS", "run_topline_report", "run_toplines"]

PathLike = str | os.PathLike[str]

WORKBOOK_HEADERS = {
    "question_label": "Question",
    "category_label": "Answer",
    "percent": "%",
    "ci_low": "CI low (%)",
    "ci_high": "CI high (%)",
    "moe": "MOE (± pp)",
    "n": "Unweighted n",
    "weighted_n": "Weighted N",
    "deff": "Design effect",
    "previous_wave": "Previous wave",
    "change": "Change (pp)",
    "change_mark": "Significant change",
    "flag": "Reliability flag",
    "simulated": "Simulated data",
}
_SHEET_COLUMNS = list(WORKBOOK_HEADERS)


def run_topline_report(
    toplines_csv: PathLike,
    waves: Sequence[PathLike],
    codebook_path: PathLike,
    root: PathLike,
    settings: Mapping[str, Any],
    csv_out: PathLike,
    xlsx_out: PathLike,
) -> pd.DataFrame:
    """Write the display toplines of every wave as a CSV and an Excel workbook.

    ``waves`` are the weighted wave files (``data/processed/waves/{wave}.parquet``, column
    ``weight`` = raked sampling weights); ``settings`` is config.yaml (``estimation.level``
    and ``study.simulated_notice`` are used).
    """
    from pollwaves.report.workbook import write_workbook  # openpyxl: not for the toplines job

    schemas = config.schema_dir(root)
    codebook = config.load_codebook(codebook_path, schemas / "codebook.schema.yaml")
    questions = config.variables_by_kind(codebook, "question")
    level = float(settings["estimation"]["level"])
    top = files.read_table(toplines_csv, dtype={"wave": "string", "category": "string"})
    bases = pd.concat(
        [
            question_bases(
                files.read_parquet(p, ["wave", "weight", *questions]), questions, "weight"
            )
            for p in waves
        ],
        ignore_index=True,
    )
    table = pollster_toplines(top, bases, codebook, level=level)
    files.write_table(table, csv_out)
    pct = f"{100 * level:g}%"
    notice = " ".join(str(settings["study"].get("simulated_notice", "")).split())
    sheets = {}
    for wave, rows in table.groupby("wave", sort=True):
        out = rows[_SHEET_COLUMNS].copy()
        out["ci_low"] = 100 * out["ci_low"]
        out["ci_high"] = 100 * out["ci_high"]
        sheets[str(wave)] = out
    simulated = table.groupby("wave")["simulated"].first().astype(str).str.lower() == "true"
    notes = [
        f"{settings['study'].get('title', 'Toplines')}: toplines by wave",
        f"Weighted percentages (raked sampling weights), {pct} intervals and margins of error "
        "from design-based standard errors that account for the raking. Weighted N is the "
        "sum of the weights (scaled to the population). Change: percentage points since the "
        "previous wave that asked the question; ▲/▼ significant after Holm adjustment within "
        "the question.",
    ]
    if simulated.any():
        notes.append(notice or "SIMULATED DATA: the respondent-level data are simulated.")
    files_fmt = {"moe": "0.0", "ci_low": "0.0", "ci_high": "0.0", "change": "+0.0;-0.0;0.0",
                 "deff": "0.00", "weighted_n": "#,##0"}  # fmt: skip
    write_workbook(
        sheets, xlsx_out, headers=WORKBOOK_HEADERS, notes=notes, number_formats=files_fmt
    )
    return table


def run_toplines(
    estimates: Sequence[PathLike],
    contrasts: Sequence[PathLike],
    codebook_path: PathLike,
    root: PathLike,
    toplines_out,
    subgroups_out,
    contrasts_out,
    unweighted: Sequence[PathLike] = (),
    unweighted_out: PathLike | None = None,
    vendor: Sequence[PathLike] = (),
    vendor_out: PathLike | None = None,
    *,
    level: float | None = None,
) -> pd.DataFrame:
    """Stack the per-wave estimates into the toplines, subgroup and contrast tables.

    With ``level``, the toplines also get the codebook labels, ``moe`` at ``level`` and the
    unweighted share (``estimate_unweighted``) beside the weighted one.

    Also stacks the unweighted toplines and the toplines with the vendor's weight (into
    ``vendor_out``, header only when no wave has a vendor weight) when given.
    """
    schemas = config.schema_dir(root)
    codebook = config.load_codebook(codebook_path, schemas / "codebook.schema.yaml")
    order = {q: i for i, q in enumerate(config.variables_by_kind(codebook, "question"))}

    def stack(paths: Sequence[PathLike], keys: list[str]) -> pd.DataFrame:
        df = files.read_tables(paths, skip_empty=True, **ESTIMATE_CSV)
        return df.sort_values(
            keys, key=lambda s: s.map(order) if s.name == "question" else s, kind="stable"
        )

    res = stack(estimates, ["question", "wave", "domain", "category"])
    res["flag"] = res["flag"].fillna("")
    extra = ["simulated"] if "simulated" in res else []
    top = res.loc[res["domain"] == "all", [*RESULT_COLUMNS, *extra]]
    if level is not None:
        plain = stack(unweighted, ["question", "wave", "category"]) if unweighted else None
        top = label_toplines(top, codebook, level=level, unweighted=plain)
    files.write_table(top, toplines_out)
    files.write_table(res[res["domain"] != "all"], subgroups_out)
    cont = files.read_tables(contrasts, **ESTIMATE_CSV)
    cont = cont.sort_values(["question", "contrast", "wave"], kind="stable")
    files.write_table(cont, contrasts_out)
    for paths, path in ((unweighted, unweighted_out), (vendor, vendor_out)):
        if paths and path:
            files.write_table(stack(paths, ["question", "wave", "category"]), path)
    return top
