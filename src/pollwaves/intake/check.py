"""``pollwaves check-wave``: validate a finished wave mapping against its delivery.

:func:`check_wave` runs every check the workflow would run on the wave (schema, codebook
cross-check, review markers, columns present, unique ids, every raw value mapped) without
running the pipeline, and returns EVERY problem found instead of stopping at the first.
Each problem is an :class:`~pollwaves.errors.InputError` naming wave, file, column, value
and the fix. When nothing is found it also runs the real loader, harmonisation and
cleaning of the wave, so a passing check means the ``harmonise`` step will pass.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
from jsonschema import Draft202012Validator

from pollwaves.config import (
    _jsonable,
    _key_path,
    code_key,
    load_codebook,
    load_yaml,
)
from pollwaves.errors import InputError
from pollwaves.intake.addwave import check_wave_id, check_workflow_accepts, project_paths
from pollwaves.intake.derive import Where, check_numeric
from pollwaves.intake.feasible import predict_jobs
from pollwaves.intake.mapping import (
    NEEDS_REVIEW,
    required_variables,
    resolve_delivery,
)
from pollwaves.intake.readers import Delivery, read_delivery

__all__ = ["check_wave"]


def _scalar(value: Any) -> Any:
    return value if isinstance(value, (str, int, float)) or value is None else None


def _config_problems(data: dict, codebook: dict, wave: str, add, required: list[str]) -> None:
    """Review markers, wave key, variables, values, not_asked and required variables."""
    variables = codebook["variables"]
    columns = data.get("columns") if isinstance(data.get("columns"), dict) else {}
    if data.get("wave") != wave:
        add(
            f"`wave: {data.get('wave')}` does not equal the file stem",
            key="wave",
            value=_scalar(data.get("wave")),
            hint=f'set wave: "{wave}"',
        )
    seen: dict[str, str] = {}
    for raw, spec in columns.items():
        if not isinstance(spec, dict):
            continue  # reported by the schema
        var, key = spec.get("variable"), f"columns.{raw}"
        if spec.get("review") == NEEDS_REVIEW:
            cands = ", ".join(map(str, spec.get("candidates") or [])) or "none"
            add(
                f"column still marked `review: {NEEDS_REVIEW}` (proposed {var}; candidates: "
                f"{cands})",
                column=raw,
                key=f"{key}.review",
                value=var,
                hint="check its variable and values (see the comment above it), then set "
                "`review: confirmed` and delete `candidates`",
            )
        if not isinstance(var, str):
            continue  # reported by the schema
        if var in seen:
            add(
                f"variable {var!r} is mapped from two raw columns ({seen[var]!r}, {raw!r})",
                column=raw,
                key=f"{key}.variable",
                value=var,
                hint="map each variable from one column only",
            )
        seen.setdefault(str(var), str(raw))
        if var not in variables:
            add(
                f"variable {var!r} is not in the codebook",
                column=raw,
                key=f"{key}.variable",
                value=_scalar(var),
                hint=f"use one of: {', '.join(variables)}",
            )
            continue
        cats = variables[var].get("categories") or {}
        values = spec.get("values")
        rule, rules = spec.get("derive"), variables[var].get("derive") or {}
        if rule is not None and rule not in rules:
            msg = f"variable {var!r} has no derive rule {rule!r} in the codebook"
            hint = f"use one of: {', '.join(rules) or 'none'}"
            add(msg, column=raw, key=f"{key}.derive", value=_scalar(rule), hint=hint)
        if cats and values is None and not spec.get("labels") and rule is None:
            add(
                f"categorical variable {var!r} needs `values:` or `labels: true`",
                column=raw,
                key=key,
                hint="add values: {<raw code>: <category>}",
            )
        if not cats and (values is not None or spec.get("labels") or rule is not None):
            add(
                f"variable {var!r} has no categories",
                column=raw,
                key=key,
                hint="remove values/labels/derive from this column",
            )
        codes: dict[str | None, Any] = {}
        for code, cat in (values or {}).items() if isinstance(values, dict) else []:
            if isinstance(code, bool):
                add(
                    f"raw code {code!r} was read by YAML as a boolean",
                    column=raw,
                    value=code,
                    key=f"{key}.values",
                    hint="quote the code, e.g. 'yes': ...",
                )
            elif code_key(code) in codes:
                add(
                    f"raw codes {codes[code_key(code)]!r} and {code!r} are the same code",
                    column=raw,
                    value=code,
                    key=f"{key}.values",
                    hint="keep one of them",
                )
            codes[code_key(code)] = code
            if cat is not None and cat not in cats:
                add(
                    f"{cat!r} is not a category of {var!r}",
                    column=raw,
                    value=_scalar(cat),
                    key=f"{key}.values.{code}",
                    hint=f"use one of: {', '.join(cats)} (or null for missing)",
                )
        first = variables[var].get("first_wave")
        if first is not None and wave < str(first):
            add(
                f"question {var!r} is mapped but its first_wave is {first}",
                column=raw,
                key=f"{key}.variable",
                hint="remove the column or correct the wave id",
            )
    not_asked = data.get("not_asked") if isinstance(data.get("not_asked"), list) else []
    for i, var in enumerate(not_asked):
        if var not in variables:
            why, fix = "is not in the codebook", f"remove {var} from not_asked"
        elif var in required:
            why, fix = "is required of every wave", f"map {var} and remove it from not_asked"
        elif var in seen:
            why = f"is also mapped from column {seen[var]!r}"
            fix = f"remove {var} from not_asked, or delete column {seen[var]!r}"
        else:
            continue
        add(f"not_asked variable {var!r} {why}", key=f"not_asked.{i}", value=var, hint=fix)
    for var in required:
        if var not in seen:
            add(
                f"required variable {var!r} is not mapped",
                key="columns",
                value=var,
                hint=f"add `<raw column>: {{variable: {var}, ...}}` under columns (resp_id and "
                "the raking variables are required; other variables may be not_asked)",
            )
    if "resp_id" in seen and str(data.get("id_column")) != seen["resp_id"]:
        add(
            f"id_column is not the column mapped to resp_id ({seen['resp_id']!r})",
            key="id_column",
            value=_scalar(data.get("id_column")),
            hint=f"set id_column: {seen['resp_id']}",
        )
    cleaning = data.get("cleaning") if isinstance(data.get("cleaning"), dict) else {}
    rule = cleaning.get("straightlining")
    items = rule.get("variables") if isinstance(rule, dict) else None
    for i, var in enumerate(items if isinstance(items, list) else []):
        if not isinstance(var, str) or variables.get(var, {}).get("kind") != "question":
            add(
                f"straight-lining variable {var!r} is not a question of the codebook",
                key=f"cleaning.straightlining.variables.{i}",
                value=_scalar(var),
                hint="list questions only",
            )


def _text(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _data_problems(data: dict, delivery: Delivery, codebook: dict, add) -> None:
    """Columns present, ids unique and non-empty, durations numeric, every value mapped."""
    frame = delivery.data
    available = [str(c) for c in frame.columns]
    columns = {str(k): v for k, v in data["columns"].items() if isinstance(v, dict)}
    missing = {code_key(c) for c in data.get("missing_codes") or []} - {None}
    miss_labels = [re.compile(p, re.I) for p in data.get("missing_labels") or []]
    variables = codebook["variables"]
    id_raw = next((r for r, sp in columns.items() if sp.get("variable") == "resp_id"), None)
    ids = [code_key(v) for v in frame[id_raw].tolist()] if id_raw in available else None

    def who(pos: int) -> dict[str, Any]:
        """Name the respondent of a 0-based row (the row itself when it has no id)."""
        return {"respondent": ids[pos]} if ids and ids[pos] else {"row": pos + 1}

    wave = str(data.get("wave"))
    where = Where(wave, str(data.get("file")), f"config/waves/{wave}.yaml")
    numeric = {"ids": ids or [None] * len(frame), "missing": missing, "where": where}
    for raw, spec in columns.items():
        var = spec.get("variable")
        if raw not in available:
            close = difflib.get_close_matches(raw, available, n=3)
            add(
                f"mapped raw column {raw!r} is not in the delivery",
                column=raw,
                key=f"columns.{raw}",
                hint=f"correct the column name (close: {', '.join(close) or 'none'})",
            )
            continue
        series = frame[raw]
        if var == "resp_id":
            keys = [v.strip() if isinstance(v, str) else code_key(v) for v in series.tolist()]
            empty = [i + 1 for i, k in enumerate(keys) if not k]
            if empty:
                add(
                    f"{len(empty)} empty respondent id(s)",
                    column=raw,
                    row=empty[0],
                    hint="every row needs a respondent id; ask for a corrected delivery",
                )
            counts = pd.Series([k for k in keys if k]).value_counts()
            dups = counts[counts > 1]
            if len(dups):
                add(
                    f"{len(dups)} duplicate respondent id(s)",
                    column=raw,
                    value=", ".join(map(str, dups.index[:5])),
                    hint="ids must be unique within a wave; ask for a corrected delivery",
                )
        if var == "duration_sec" and not pd.api.types.is_numeric_dtype(series):
            bad = pd.to_numeric(series, errors="coerce").isna() & series.notna()
            if bad.any():
                add(
                    "interview duration is not a number",
                    column=raw,
                    **who(int(bad.to_numpy().argmax())),
                    value=_scalar(series[bad].iloc[0]),
                    hint="duration_sec must hold seconds as numbers",
                )
        vspec = variables.get(var) or {}
        labels = {code_key(k): v for k, v in delivery.value_labels.get(raw, {}).items() if v}
        try:  # derived columns and the vendor weight
            check_numeric(
                series, spec, vspec, missing_labels=miss_labels, value_labels=labels, **numeric
            )
        except InputError as exc:
            kw = {"respondent": exc.respondent, "value": exc.value, "key": exc.key}
            add(exc.problem, column=raw, hint=exc.hint, **kw)
        cats = vspec.get("categories") or {}
        if not cats or not (spec.get("values") or spec.get("labels")):
            continue
        mapping = {code_key(k) for k in (spec.get("values") or {})}
        keys = pd.Series([code_key(v) for v in series.tolist()], dtype=object)
        for key, n in keys.dropna().value_counts(sort=False).items():
            label = labels.get(key)
            shown = f" (value label {label!r})" if label else ""
            row = int((keys == key).to_numpy().argmax()) + 1
            if "values" in spec:
                if key in mapping or key in missing:
                    continue
                add(
                    f"raw value {key!r}{shown} is not mapped ({n} rows)",
                    column=raw,
                    **who(row - 1),
                    value=key,
                    key=f"columns.{raw}.values",
                    hint=f"add {key}: <category> to columns.{raw}.values ({', '.join(cats)}; "
                    "null = missing) or add the code to missing_codes",
                )
                continue
            if key in missing:
                continue
            text = _text(label if label is not None else key)
            if any(p.search(text) for p in miss_labels):
                continue
            hits = [
                c
                for c, cs in cats.items()
                if any(re.search(p, text, re.I) for p in cs["patterns"])
            ]
            if len(hits) != 1:
                why = "matches no category" if not hits else f"matches {', '.join(hits)}"
                add(
                    f"label {text!r} {why} ({n} rows)",
                    column=raw,
                    **who(row - 1),
                    value=key,
                    key=f"columns.{raw}.labels",
                    hint=f"map the codes with columns.{raw}.values instead of labels: true, "
                    "or add a missing_labels pattern",
                )


def check_wave(wave: str, root: str | os.PathLike[str] = ".") -> list[InputError]:
    """Validate ``config/waves/{wave}.yaml`` against the codebook and its delivery.

    Parameters
    ----------
    wave : str
        The wave id.
    root : str or path-like
        The project root.

    Returns
    -------
    list of InputError
        Every problem found (empty when the wave is ready for ``snakemake``).
    """
    try:
        check_wave_id(wave)
        paths = project_paths(root)
    except InputError as exc:
        return [exc]
    problems: list[InputError] = []
    try:
        check_workflow_accepts(wave, root)
    except InputError as exc:
        problems.append(exc)
    path = paths["waves"] / f"{wave}.yaml"
    source = Path(os.path.relpath(path, paths["root"])).as_posix()

    def add(problem: str, **kw: Any) -> None:
        problems.append(InputError(problem, wave=wave, file=kw.pop("file", source), **kw))

    if not path.is_file():
        add("wave mapping not found", hint=f"run `pollwaves add-wave FILE --wave {wave}` first")
        return problems
    try:
        data = load_yaml(path)
        schema_path = paths["schemas"] / "wave.schema.yaml"
        codebook = load_codebook(paths["codebook"], paths["schemas"] / "codebook.schema.yaml")
    except InputError as exc:
        return [exc]
    if not isinstance(data, dict):
        add("the mapping is not a YAML mapping", hint="see docs/architecture.md for the format")
        return problems
    validator = Draft202012Validator(load_yaml(schema_path))
    for err in sorted(
        validator.iter_errors(_jsonable(data)), key=lambda e: list(map(str, e.path))
    ):
        where = [str(p) for p in err.absolute_path]
        if err.validator == "not" and not isinstance(err.instance, dict):
            continue  # a non-mapping column is already reported by its type error
        missing = re.match(r"'(.+)' is a required property", err.message)
        key = ".".join([*where, missing.group(1)]) if missing else _key_path(err)
        column = where[1] if len(where) > 1 and where[0] == "columns" else None
        add(
            f"invalid configuration at key {key}: {err.message}",
            key=key,
            column=column,
            value=_scalar(err.instance),
            hint=f"{'add' if missing else 'correct'} {key} (see {schema_path.name})",
        )
    try:
        required = required_variables(paths["root"])
    except InputError as exc:
        return [*problems, exc]
    _config_problems(data, codebook, wave, add, required)
    file, fmt = data.get("file"), data.get("format")
    if not isinstance(file, str) or not isinstance(data.get("columns"), dict):
        return problems
    try:
        resolved = resolve_delivery(paths["root"], file, wave=wave, source=source)
        delivery = read_delivery(
            resolved, str(fmt), encoding=data.get("encoding"), sheet=data.get("sheet")
        )
    except InputError as exc:
        kw = {"column": exc.column, "row": exc.row, "value": exc.value, "key": exc.key}
        add(exc.problem, file=source if exc.key == "file" else file, hint=exc.hint, **kw)
        return problems
    _data_problems(data, delivery, codebook, lambda msg, **kw: add(msg, file=file, **kw))
    if not problems:  # the real loader, harmonisation, cleaning and weighting must agree
        problems.extend(predict_jobs(path, delivery, codebook, required, paths["root"], file))
    return problems
