"""``pollwaves confirm``: mark reviewed columns of a drafted wave mapping as confirmed.

:func:`confirm_wave` sets ``review: confirmed`` (and drops ``candidates``) on the named
columns of ``config/waves/{wave}.yaml`` (default: every ``needs review`` column). A column
is refused while a raw value of the delivery is still not mapped: a code that is neither in
``values`` nor in ``missing_codes``, or (``labels: true``) a label that matches no category
or several. The file is rewritten atomically, line by line, so that its comments stay; only
when a column is not written on one line is the whole file re-dumped (comments lost).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pollwaves.config import code_key, load_codebook, load_yaml
from pollwaves.errors import InputError
from pollwaves.files import atomic_write
from pollwaves.intake.addwave import check_wave_id, project_paths
from pollwaves.intake.mapping import NEEDS_REVIEW, resolve_delivery
from pollwaves.intake.readers import Delivery, read_delivery

__all__ = ["ConfirmResult", "confirm_wave"]

_LINE = re.compile(r"^  (?P<key>[^\s#].*?): (?P<spec>\{.*\})\s*$")


@dataclass
class ConfirmResult:
    """What :func:`confirm_wave` changed."""

    wave: str
    path: Path
    confirmed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    comments_kept: bool = True

    def summary(self) -> str:
        """The lines ``pollwaves confirm`` prints."""
        lines = [f"confirm {self.wave}: {len(self.confirmed)} column(s) confirmed"]
        lines += [f"  confirmed: {col}" for col in self.confirmed]
        lines += [f"  already confirmed: {col}" for col in self.already]
        lines += [f"  REFUSED: {col}: {why}" for col, why in self.refused.items()]
        if not self.comments_kept:
            lines.append(
                "  (a column was not on one line: the file was re-written without comments)"
            )
        if self.refused:
            lines.append(
                f"Next: map the values named above in {self.path.name}, then run "
                f"`pollwaves confirm {self.wave}` again."
            )
        else:
            lines.append(f"Next: pollwaves check-wave {self.wave}")
        return "\n".join(lines)


def _texts(delivery: Delivery, column: str) -> dict[str, str]:
    """Raw code -> its label (value label, else the cell text), distinct codes only."""
    labels = {code_key(k): v for k, v in delivery.value_labels.get(column, {}).items() if v}
    out = {}
    for value in delivery.data[column].dropna().tolist():
        key = code_key(value)
        if key is not None and key not in out:
            text = labels.get(key, value if isinstance(value, str) else "")
            out[key] = " ".join(unicodedata.normalize("NFC", str(text)).split())
    return out


def _unmapped(spec: dict, texts: dict[str, str], data: dict, codebook: dict) -> list[str]:
    """Raw codes (with labels) of one column that the mapping does not map yet."""
    var = codebook["variables"].get(spec.get("variable"))
    if var is None:
        return [f"variable {spec.get('variable')!r} is not in the codebook"]
    missing = {code_key(c) for c in data.get("missing_codes") or []}
    cats = var.get("categories") or {}
    if "values" in spec:
        mapped = {code_key(c) for c in spec.get("values") or {}} | missing
        return [f"{k} {t!r}" if t else k for k, t in texts.items() if k not in mapped]
    if spec.get("labels"):
        miss = [re.compile(p, re.I) for p in data.get("missing_labels") or []]
        out = []
        for key, text in texts.items():
            if key in missing or any(p.search(text) for p in miss):
                continue
            hits = [
                c
                for c, cs in cats.items()
                if any(re.search(p, text, re.I) for p in cs["patterns"])
            ]
            if len(hits) != 1:
                out.append(f"{key} {text!r} ({'several categories' if hits else 'no category'})")
        return out
    return []


def _y(value: Any) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 30
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _rewrite(text: str, targets: set[str]) -> tuple[str, set[str]]:
    """Set the review marker on the one-line column specs; the columns rewritten."""
    lines, done, in_columns = text.splitlines(keepends=True), set(), False
    for i, line in enumerate(lines):
        if re.match(r"^\S", line):
            in_columns = line.startswith("columns:")
            continue
        found = _LINE.match(line.rstrip("\n")) if in_columns else None
        if not found:
            continue
        try:
            parsed = yaml.safe_load(f"{found['key']}: {found['spec']}")
        except yaml.YAMLError:
            continue  # not a one-line spec: the whole file is re-emitted instead
        if not isinstance(parsed, dict) or len(parsed) != 1:
            continue
        ((key, spec),) = parsed.items()
        if str(key) in targets and isinstance(spec, dict):
            spec["review"] = "confirmed"
            spec.pop("candidates", None)
            lines[i] = f"  {found['key']}: {_y(spec)}\n"
            done.add(str(key))
    return "".join(lines), done


def confirm_wave(
    wave: str, root: str | os.PathLike[str] = ".", columns: list[str] | None = None
) -> ConfirmResult:
    """Mark reviewed columns of ``config/waves/{wave}.yaml`` as confirmed.

    Parameters
    ----------
    wave : str
        The wave id.
    root : str or path-like
        The project root.
    columns : list of str, optional
        Raw columns to confirm (default: every column marked ``needs review``).

    Returns
    -------
    ConfirmResult
        Columns confirmed, refused (with their unmapped codes) and already confirmed.

    Raises
    ------
    InputError
        If the mapping does not exist, a named column is not in it, or the delivery
        cannot be read.
    """
    check_wave_id(wave)
    paths = project_paths(root)
    path = paths["waves"] / f"{wave}.yaml"
    if not path.is_file():
        hint = f"run `pollwaves add-wave FILE --wave {wave}` first"
        raise InputError("wave mapping not found", wave=wave, file=str(path), hint=hint)
    data = load_yaml(path)
    specs = {str(k): v for k, v in (data.get("columns") or {}).items() if isinstance(v, dict)}
    unknown = [c for c in columns or [] if c not in specs]
    if unknown:
        raise InputError(
            f"column(s) not in the mapping: {', '.join(unknown)}",
            wave=wave,
            file=str(path),
            column=unknown[0],
            hint=f"name columns listed under `columns:` ({', '.join(specs)})",
        )
    wanted = columns or [c for c, s in specs.items() if s.get("review") == NEEDS_REVIEW]
    result = ConfirmResult(wave, path)
    result.already = [c for c in wanted if specs[c].get("review") == "confirmed"]
    todo = [c for c in wanted if c not in result.already]
    if todo:
        codebook = load_codebook(paths["codebook"], paths["schemas"] / "codebook.schema.yaml")
        delivery = read_delivery(
            resolve_delivery(paths["root"], data.get("file"), wave=wave, source=str(path)),
            str(data.get("format")),
            encoding=data.get("encoding"),
            sheet=data.get("sheet"),
        )
    for col in todo:
        if col not in map(str, delivery.data.columns):
            result.refused[col] = "not a column of the delivery"
            continue
        left = _unmapped(specs[col], _texts(delivery, col), data, codebook)
        if left:
            result.refused[col] = f"not mapped yet: {', '.join(left[:10])}"
        else:
            result.confirmed.append(col)
    if not result.confirmed:
        return result
    text, done = _rewrite(path.read_text(encoding="utf-8"), set(result.confirmed))
    for col in result.confirmed:
        specs[col]["review"] = "confirmed"
        specs[col].pop("candidates", None)
    if done != set(result.confirmed) or yaml.safe_load(text) != data:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        result.comments_kept = False
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return result
