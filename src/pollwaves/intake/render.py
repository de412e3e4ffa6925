"""Text of a drafted ``config/waves/{wave}.yaml`` (used by ``pollwaves add-wave``).

The draft follows the documented mapping format (docs/architecture.md) with one line per
column, a comment above each column giving the evidence (and, for ``needs review``
columns, every raw code with its label and proposed category), a ``review:`` marker on
every column and ``candidates:`` on those that need review.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pollwaves.intake.propose import REFUSAL, ColumnProposal
from pollwaves.intake.readers import Delivery

__all__ = ["DEFAULT_CLEANING", "cleaning_rules", "render_mapping"]

DEFAULT_CLEANING: dict[str, Any] = {
    "min_duration_sec": 240,
    "straightlining": {
        "variables": [f"attitude_{x}" for x in ("russia", "ukraine", "poland", "eu", "usa")],
        "min_items": 4,
    },
    "min_completeness": 0.5,
}


def cleaning_rules(earlier: list[dict], wave: str, questions: set[str]) -> dict:
    """Cleaning rules of the latest earlier wave, the grid cut to this wave's questions.

    Parameters
    ----------
    earlier : list of dict
        Mappings of the earlier waves, sorted by wave.
    wave : str
        The new wave id.
    questions : set of str
        The questions mapped in the new wave.

    Returns
    -------
    dict
        The ``cleaning`` block (``straightlining`` None when fewer than 2 grid items).
    """
    before = [
        c for c in earlier if str(c.get("wave")) < wave and isinstance(c.get("cleaning"), dict)
    ]
    rules = dict(before[-1]["cleaning"] if before else DEFAULT_CLEANING)
    grid = dict(rules.get("straightlining") or DEFAULT_CLEANING["straightlining"])
    items = [v for v in grid["variables"] if v in questions]
    rules["straightlining"] = (
        {"variables": items, "min_items": min(int(grid["min_items"]), len(items))}
        if len(items) >= 2
        else None
    )
    return rules


def _y(value: Any) -> str:
    """One YAML scalar or flow collection on a single line."""
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 30
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _header(wave: str, source: Path, rel_file: str, file_label: str | None) -> list[str]:
    label = f' (file label: "{file_label}")' if file_label else ""
    return [
        f"# Mapping of the delivery {rel_file} (wave {wave}), DRAFTED by `pollwaves add-wave`",
        f"# from {source.name}{label}.",
        "#",
        "# HOW TO FINISH THIS FILE (README section 'Adding a new wave'). Every column carries `review:`:",
        "#   confirmed     its label equals the codebook label and every code is mapped;",
        "#   needs review  check it: the comment above it lists the evidence and every raw code.",
        "# For each `needs review` column: keep the proposed variable or change it to one of",
        "# `candidates` (or delete the column line to ignore the column); complete `values`",
        "# (raw code -> category, null = missing) where a comment says NOT MAPPED; then",
        "# replace `review: needs review, candidates: [...]` by `review: confirmed`.",
        "# Check fieldwork, n_published, simulated, missing_codes and cleaning as well, then run",
        f"# `pollwaves check-wave {wave}`. The workflow refuses this wave while any column",
        "# says `needs review`.",
    ]


def render_mapping(
    wave: str,
    rel_file: str,
    fmt: str,
    delivery: Delivery,
    source: Path,
    proposals: list[ColumnProposal],
    fieldwork: tuple[dict[str, str], bool],
    cleaning: dict,
    encoding: str | None,
) -> str:
    """The text of ``config/waves/{wave}.yaml`` (documented format plus review markers).

    Parameters
    ----------
    wave, rel_file, fmt : str
        Wave id, delivery path relative to the project root, delivery format.
    delivery : Delivery
        The delivery (file label and notes decide ``simulated``).
    source : pathlib.Path
        The file given to add-wave (named in the header comment).
    proposals : list of ColumnProposal
        From :func:`pollwaves.intake.propose.propose`.
    fieldwork : (dict, bool)
        ``{start, end}`` and whether they are assumed.
    cleaning : dict
        The ``cleaning`` block (:func:`cleaning_rules`).
    encoding : str or None
        The encoding used to read the delivery (csv, sav, dta).

    Returns
    -------
    str
        The YAML text (refusal codes of every column go to ``missing_codes``; a refusal
        code that is a category elsewhere becomes ``null`` in its own column).
    """
    file_label = delivery.meta.get("file_label")
    notes = " ".join(delivery.meta.get("notes") or [])
    simulated = bool(re.search(r"simulat|симул", f"{file_label or ''} {notes}", re.I))
    mapped = [p for p in proposals if p.variable]
    refusals = {c for p in mapped for c in p.refusals}
    taken = {c for p in mapped for c, v in (p.values or {}).items() if v is not None}
    wave_missing = sorted(c for c in refusals - taken if not isinstance(c, str))
    id_col = next((p.column for p in mapped if p.variable == "resp_id"), None)
    dates, assumed = fieldwork
    lines = _header(wave, source, rel_file, file_label)
    lines += [
        f'wave: "{wave}"',
        f"file: {_y(rel_file)}",
        f"format: {fmt}",
        f"encoding: {_y(encoding if fmt in ('csv', 'sav', 'dta') else None)}",
        "sheet: null",
        f"fieldwork: {_y(dates)}"
        + ("  # ASSUMED: the whole month; set the real dates" if assumed else ""),
        "n_published: null  # N given by the pollster's publication, if any",
        f"simulated: {_y(simulated)}  # from the file label / notes; check",
        f"id_column: {_y(id_col)}" + ("" if id_col else "  # NOT FOUND: name the id column"),
        f"missing_codes: {_y(wave_missing)}  # codes labelled as refusal in every column",
        f"missing_labels: {_y(REFUSAL)}",
        "columns:",
    ]
    for prop in mapped:
        spec: dict[str, Any] = {"variable": prop.variable}
        if prop.use_labels:
            spec["labels"] = True
        elif prop.values is not None:
            values = dict(prop.values)
            values.update({c: None for c in prop.refusals if c not in wave_missing})
            if values:
                spec["values"] = values
        spec["review"] = "confirmed" if prop.confirmed else "needs review"
        if not prop.confirmed:
            spec["candidates"] = prop.candidates
        label = f" {prop.label!r}" if prop.label and prop.label != prop.column else ""
        lines.append(f"  # {prop.column}{label}: {prop.evidence}")
        if not prop.confirmed:
            lines += [f"  #   {note}" for note in prop.notes]
        lines.append(f"  {_y(prop.column)}: {_y(spec)}")
    unmapped = [p for p in proposals if not p.variable]
    if unmapped:
        lines.append("  # Not mapped (ignored by the workflow; add a line to use one):")
        for prop in unmapped:
            label = f" {prop.label!r}" if prop.label and prop.label != prop.column else ""
            cands = f" (weak candidates: {', '.join(prop.candidates)})" if prop.candidates else ""
            lines.append(f"  #   {prop.column}{label}{cands}")
    lines.append("cleaning:  # copied from the latest earlier wave; check")
    for key, rule in cleaning.items():
        if isinstance(rule, dict):
            lines += [f"  {key}:"] + [f"    {k}: {_y(v)}" for k, v in rule.items()]
        else:
            lines.append(f"  {key}: {_y(rule)}")
    return "\n".join(lines) + "\n"
