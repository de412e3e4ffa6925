"""Text of a drafted ``config/waves/{wave}.yaml`` (used by ``pollwaves add-wave``).

The draft follows the documented mapping format (docs/architecture.md) with one line per
column, a comment above each column giving the evidence (and, for ``needs review``
columns, every raw code with its label and proposed category), a ``review:`` marker on
every column and ``candidates:`` on those that need review, and ``not_asked:`` listing the
codebook demographics and questions that the delivery does not have.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pollwaves.errors import InputError
from pollwaves.intake.propose import ColumnProposal
from pollwaves.intake.readers import Delivery

__all__ = ["DEFAULT_CLEANING", "check_round_trip", "cleaning_rules", "printable", "render_mapping"]

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


#: Characters that would break a line (or a comment) of the draft: escaped in every string.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


class _OneLineDumper(yaml.SafeDumper):
    """Safe dumper that writes a string holding a line break or control character in
    double quotes with escapes (``"a\\nb"``), so every value stays on one line."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if _UNSAFE.search(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_OneLineDumper.add_representer(str, _represent_str)


def _y(value: Any) -> str:
    """One YAML scalar or flow collection on a single line (through the YAML emitter)."""
    text = yaml.dump(
        value,
        Dumper=_OneLineDumper,
        default_flow_style=True,
        allow_unicode=True,
        sort_keys=False,
        width=1 << 30,
    )
    text = text.removesuffix("\n").removesuffix("\n...").strip()
    if "\n" in text:  # never: _represent_str escapes every line break
        raise ValueError(f"YAML value does not fit on one line: {value!r}")
    return text


def printable(text: Any) -> str:
    """One line of text: line breaks and control characters escaped (``\\n``)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def check_round_trip(text: str, expected: dict, *, wave: str, file: str) -> None:
    """Re-read a drafted mapping; refuse it unless it parses back to ``expected``.

    Raises
    ------
    InputError
        If the text is not valid YAML or parses to anything else (a header crafted with YAML
        syntax or a line break would otherwise add keys of its own).
    """
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        parsed = exc
    if parsed != expected:
        raise InputError(
            "the drafted mapping does not read back as written (a column header, label or "
            "value holds YAML syntax or line breaks); nothing was written",
            wave=wave,
            file=file,
            hint="rename the offending column headers in the delivery (plain text, no line "
            "breaks) and rerun add-wave; please report this as a bug",
        )


def _header(wave: str, source: Path, rel_file: str, file_label: str | None) -> list[str]:
    label = f' (file label: "{printable(file_label)}")' if file_label else ""
    return [
        f"# Mapping of the delivery {rel_file} (wave {wave}), DRAFTED by `pollwaves add-wave`",
        f"# from {printable(source.name)}{label}.",
        "#",
        "# HOW TO FINISH THIS FILE (README section 'Adding a new wave'). Every column carries `review:`:",
        "#   confirmed     its label names one codebook variable and every code is mapped;",
        "#   needs review  check it: the comment above it lists the evidence and every raw code.",
        "# For each `needs review` column: keep the proposed variable or change it to one of",
        "# `candidates` (or delete the column line to ignore the column); complete `values`",
        "# (raw code -> category, null = missing) where a comment says NOT MAPPED; then",
        "# replace `review: needs review, candidates: [...]` by `review: confirmed` (or run",
        f"# `pollwaves confirm {wave} COLUMN ...`). `not_asked` lists the codebook variables",
        "# that were not found; map a column instead if one of them is in the delivery.",
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
    *,
    not_asked: list[str] = (),
    refusal_patterns: list[str] = (),
    n_published: int | None = None,
    missing_codes: list = (),
) -> str:
    """The text of ``config/waves/{wave}.yaml`` (documented format plus review markers).

    Parameters
    ----------
    wave, rel_file, fmt : str
        Wave id, delivery path relative to the project root, delivery format.
    delivery : Delivery
        The delivery (file label, notes and the file name decide ``simulated``).
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
    not_asked : list of str
        Codebook variables not found in the delivery (``not_asked:``).
    refusal_patterns : list of str
        The codebook's refusal patterns (``missing_labels:``).
    n_published : int, optional
        ``n_published`` (kept from the reviewed mapping on re-import).
    missing_codes : list
        Missing codes to keep (from the reviewed mapping on re-import).

    Returns
    -------
    str
        The YAML text (refusal codes of every column go to ``missing_codes``; a refusal
        code that is a category elsewhere becomes ``null`` in its own column).
    """
    file_label = delivery.meta.get("file_label")
    notes = " ".join(delivery.meta.get("notes") or [])
    marks = f"{file_label or ''} {notes} {source.name}"
    simulated = bool(re.search(r"simulat|симул", marks, re.I))
    mapped = [p for p in proposals if p.variable]
    refusals = {c for p in mapped for c in p.refusals}
    taken = {c for p in mapped for c, v in (p.values or {}).items() if v is not None}
    wave_missing = sorted(
        {c for c in refusals - taken if not isinstance(c, str)} | set(missing_codes),
        key=lambda c: (isinstance(c, str), str(c) if isinstance(c, str) else c),
    )
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
        f"n_published: {_y(n_published)}  # N given by the pollster's publication, if any",
        f"simulated: {_y(simulated)}  # from the file label / notes / file name; check",
        f"id_column: {_y(id_col)}" + ("" if id_col else "  # NOT FOUND: name the id column"),
        f"missing_codes: {_y(wave_missing)}  # codes labelled as refusal in every column",
        f"missing_labels: {_y(list(refusal_patterns))}",
    ]
    if not_asked:
        lines.append(f"not_asked: {_y(list(not_asked))}  # not found in the delivery; check")
    lines.append("columns:")
    columns: dict[Any, Any] = {}
    for prop in mapped:
        spec: dict[str, Any] = {"variable": prop.variable}
        if prop.kept is not None:
            spec = {k: v for k, v in prop.kept.items() if k not in ("review", "candidates")}
        elif prop.derive:
            spec["derive"] = prop.derive
        elif prop.use_labels:
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
        lines.append(f"  # {printable(prop.column)}{printable(label)}: {printable(prop.evidence)}")
        if not prop.confirmed or prop.derive:
            lines += [f"  #   {printable(note)}" for note in prop.notes]
        lines.append(f"  {_y(prop.column)}: {_y(spec)}")
        columns[prop.column] = spec
    unmapped = [p for p in proposals if not p.variable]
    if unmapped:
        lines.append("  # Not mapped (ignored by the workflow; add a line to use one):")
        for prop in unmapped:
            label = f" {prop.label!r}" if prop.label and prop.label != prop.column else ""
            cands = f" (weak candidates: {', '.join(prop.candidates)})" if prop.candidates else ""
            lines.append(f"  #   {printable(prop.column)}{printable(label)}{printable(cands)}")
    lines.append("cleaning:  # copied from the latest earlier wave; check")
    for key, rule in cleaning.items():
        if isinstance(rule, dict):
            lines += [f"  {_y(key)}:"] + [f"    {_y(k)}: {_y(v)}" for k, v in rule.items()]
        else:
            lines.append(f"  {_y(key)}: {_y(rule)}")
    text = "\n".join(lines) + "\n"
    expected = {
        "wave": wave,
        "file": rel_file,
        "format": fmt,
        "encoding": encoding if fmt in ("csv", "sav", "dta") else None,
        "sheet": None,
        "fieldwork": dates,
        "n_published": n_published,
        "simulated": simulated,
        "id_column": id_col,
        "missing_codes": wave_missing,
        "missing_labels": list(refusal_patterns),
        **({"not_asked": list(not_asked)} if not_asked else {}),
        "columns": columns or None,
        "cleaning": dict(cleaning) or None,
    }
    check_round_trip(text, yaml.safe_load(yaml.safe_dump(expected)), wave=wave, file=rel_file)
    return text
