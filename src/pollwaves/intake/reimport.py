"""Re-importing a corrected delivery of a reviewed wave (``pollwaves add-wave --force``).

A reviewed column (``review: confirmed``) of the existing mapping is kept as it is when the
corrected delivery still has the column with the same variable label, the same value labels
and, for a column mapped by ``values`` or ``labels``, the same distinct raw codes (for an
id, duration, weight or derived column: still numeric or still text). Everything else is
re-proposed, with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pollwaves.config import code_key, load_yaml
from pollwaves.errors import InputError
from pollwaves.intake.mapping import resolve_delivery
from pollwaves.intake.propose import describe
from pollwaves.intake.readers import Delivery, read_delivery

__all__ = ["Reimport", "reviewed_columns"]


class Reimport:
    """Result of :func:`reviewed_columns`.

    Attributes
    ----------
    keep : dict
        Raw column -> reviewed spec to reuse unchanged.
    changed : dict
        Raw column -> why it is re-proposed.
    old : dict
        The reviewed mapping (``{}`` when there was none).
    note : str or None
        Why nothing could be reused, if so.
    """

    def __init__(self, keep: dict, changed: dict, old: dict, note: str | None = None) -> None:
        self.keep, self.changed, self.old, self.note = keep, changed, old, note


def _label(delivery: Delivery, column: str) -> Any:
    return (delivery.meta.get("column_labels") or {}).get(column)


def _value_labels(delivery: Delivery, column: str) -> dict:
    return {code_key(k): v for k, v in delivery.value_labels.get(column, {}).items()}


def _difference(old: Delivery, new: Delivery, column: str, spec: dict) -> str | None:
    """Why a reviewed column cannot be reused (None = unchanged)."""
    if column not in map(str, new.data.columns):
        return "not in the corrected delivery"
    if column not in map(str, old.data.columns):
        return "new column"
    if _label(old, column) != _label(new, column):
        return f"label changed ({_label(old, column)!r} -> {_label(new, column)!r})"
    if _value_labels(old, column) != _value_labels(new, column):
        return "value labels changed"
    (old_codes, old_num), (new_codes, new_num) = (describe(d.data[column]) for d in (old, new))
    if old_num != new_num:
        return "type changed (numbers / text)"
    if "values" in spec or spec.get("labels"):
        before, after = ({code_key(c) for c in codes} for codes in (old_codes, new_codes))
        if before != after:
            added = sorted(after - before, key=str)[:5]
            gone = sorted(before - after, key=str)[:5]
            return f"raw codes changed (new: {added}, gone: {gone})"
    return None


def reviewed_columns(config_path: Path, root: Path, new: Delivery) -> Reimport:
    """Compare the reviewed mapping ``config_path`` (and its delivery) with a new delivery.

    Parameters
    ----------
    config_path : pathlib.Path
        The existing ``config/waves/{wave}.yaml``.
    root : pathlib.Path
        The project root (the mapping's ``file`` is relative to it).
    new : Delivery
        The corrected delivery.

    Returns
    -------
    Reimport
        Columns to keep, columns to re-propose (with the reason), the old mapping.
    """
    try:
        old_cfg = load_yaml(config_path)
    except InputError as exc:
        return Reimport({}, {}, {}, f"the existing mapping could not be read ({exc.problem})")
    columns = old_cfg.get("columns") if isinstance(old_cfg, dict) else None
    if not isinstance(columns, dict):
        return Reimport({}, {}, {}, "the existing mapping has no columns")
    try:
        old = read_delivery(
            resolve_delivery(root, old_cfg.get("file")),
            str(old_cfg.get("format")),
            encoding=old_cfg.get("encoding"),
            sheet=old_cfg.get("sheet"),
        )
    except InputError as exc:
        note = f"the reviewed delivery could not be read ({exc.problem})"
        return Reimport({}, {}, old_cfg, note)
    keep, changed = {}, {}
    for raw, spec in columns.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("variable"), str):
            continue
        if spec.get("review") != "confirmed":
            changed[str(raw)] = "was not reviewed"
            continue
        why = _difference(old, new, str(raw), spec)
        if why is None:
            keep[str(raw)] = spec
        else:
            changed[str(raw)] = why
    old_names = set(map(str, old.data.columns))
    for column in map(str, new.data.columns):
        if column not in old_names:
            changed.setdefault(column, "new column")
    return Reimport(keep, changed, old_cfg)
