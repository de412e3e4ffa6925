"""Per-wave delivery mappings ``config/waves/{wave}.yaml``: loading and every check.

The schema (``workflow/schemas/wave.schema.yaml``), the checks that need no codebook (wave
equals the file stem, no variable mapped twice, ``id_column``, distinct codes), the checks
against the codebook, and the refusal of a draft still marked ``review: needs review``.
Errors are :class:`pollwaves.errors.InputError` naming the wave, the file and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pollwaves.config import code_key, load_yaml, validate
from pollwaves.errors import InputError

__all__ = [
    "NEEDS_REVIEW",
    "check_wave_against_codebook",
    "load_wave_config",
    "raking_sources",
    "required_variables",
    "resolve_delivery",
]

#: The folder, relative to the project root, that every delivery must be inside.
DELIVERY_DIR = "data/raw/waves"


def resolve_delivery(
    root: str | os.PathLike[str], file: Any, *, wave: str | None = None, source: str | None = None
) -> Path:
    """Resolve a mapping's ``file:`` to a delivery inside ``<root>/data/raw/waves/``.

    Symlinks are followed (:meth:`pathlib.Path.resolve`); an absolute path, a path with
    ``..`` or one that resolves outside the folder is refused, and so is a missing file.
    The message never shows the contents of the refused file.

    Parameters
    ----------
    root : str or path-like
        The project root.
    file : str
        The ``file:`` value of the mapping (relative to the root).
    wave, source : str, optional
        Wave id and mapping file, named in the error.

    Returns
    -------
    pathlib.Path
        The resolved delivery path.

    Raises
    ------
    InputError
        If ``file`` is not a relative path inside ``data/raw/waves/`` or does not exist.
    """
    where = {"wave": wave, "file": source, "key": "file"}
    hint = (
        f"put the delivery in {DELIVERY_DIR}/ (pollwaves add-wave copies it there) and set "
        f"`file: {DELIVERY_DIR}/<wave>.<ext>`"
    )
    if not isinstance(file, str) or not file.strip():
        raise InputError("`file:` must name the delivery", value=file, hint=hint, **where)
    if "\x00" in file or Path(file).is_absolute() or file.startswith(("/", "\\", "~")):
        raise InputError("`file:` must be a path relative to the project root", value=file,
                         hint=hint, **where)  # fmt: skip
    if ".." in Path(file).parts or ".." in file.replace("\\", "/").split("/"):
        raise InputError("`file:` must not contain '..'", value=file, hint=hint, **where)
    base = (Path(root) / DELIVERY_DIR).resolve()
    path = (Path(root) / file).resolve()
    if base not in path.parents:
        problem = f"`file:` resolves (symlinks followed) outside {DELIVERY_DIR}/"
        raise InputError(problem, value=file, hint=hint, **where)
    if not path.is_file():
        problem = "the delivery named by `file:` does not exist"
        fix = f"copy the delivery to {file} or correct `file:` (or run pollwaves add-wave)"
        raise InputError(problem, value=file, hint=fix, **where)
    return path


def _check_wave_keys(data: dict, source: str) -> None:
    """Checks of a wave mapping that do not need the codebook."""
    wave = data["wave"]

    def fail(problem: str, key: str, hint: str) -> InputError:
        return InputError(problem, wave=wave, file=source, key=key, hint=hint)

    stem = Path(source).stem
    if wave != stem:
        raise fail(
            f"wave {wave!r} does not equal the file stem {stem!r}",
            "wave",
            f"set wave: {stem!r} or rename the file to {wave}.yaml",
        )
    seen: dict[str, str] = {}
    missing = {code_key(c): c for c in data.get("missing_codes") or []}
    for raw, spec in data["columns"].items():
        for code, category in (spec.get("values") or {}).items():
            if category is not None and code_key(code) in missing:
                raise InputError(
                    f"code {code!r} of column {raw!r} is both mapped (to {category!r}) and "
                    "listed in missing_codes: which one wins is not decided",
                    wave=wave,
                    file=source,
                    column=str(raw),
                    key=f"columns.{raw}.values.{code}",
                    value=code,
                    hint=f"either delete {code!r} from missing_codes (and write `{code}: null` "
                    "in the columns where it means a refusal) or delete the mapping "
                    f"`{code}: {category}` from columns.{raw}.values",
                )
        var = spec["variable"]
        if var in seen:
            msg = f"variable {var!r} is mapped from two raw columns ({seen[var]!r}, {raw!r})"
            raise fail(msg, f"columns.{raw}.variable", "map each variable from one column only")
        seen[var] = str(raw)
        codes: dict[str | None, Any] = {}
        for code in spec.get("values") or {}:
            key = f"columns.{raw}.values.{code}"
            if isinstance(code, bool):
                msg = f"raw code {code!r} was read by YAML as a boolean"
                raise fail(msg, key, "quote the code, e.g. 'yes': ... or 'no': ...")
            if code_key(code) in codes:
                msg = f"raw codes {codes[code_key(code)]!r} and {code!r} are the same code"
                raise fail(msg, key, "keep one of them")
            codes[code_key(code)] = code
    id_raw = seen.get("resp_id")
    if id_raw is not None and id_raw != str(data["id_column"]):
        msg = f"id_column {data['id_column']!r} is not the column mapped to resp_id ({id_raw!r})"
        raise fail(msg, "id_column", f"set id_column: {id_raw}")


def raking_sources(
    weighting_variables: Sequence[str], margins_cfg: Mapping[str, Any]
) -> list[str]:
    """Return the harmonised variables that the raking columns are built from.

    A raking column defined on other columns (``derived_from`` in ``config/margins.yaml``,
    e.g. ``sex_age`` from ``sex`` and ``age_group``) is replaced by its sources; any other
    raking column is its own source. Every wave must map these variables.

    Parameters
    ----------
    weighting_variables : sequence of str
        The raking columns (``weighting.variables`` of ``config/config.yaml``).
    margins_cfg : mapping
        The parsed ``config/margins.yaml`` (with its ``margins`` section), or the result of
        :func:`pollwaves.intake.margins.load_margins` (with ``derived``).

    Returns
    -------
    list of str
        The source variables, in order, without duplicates (today ``sex, age_group,
        education, settlement``).
    """
    if "margins" in margins_cfg:
        derived = {
            str(name): list(spec.get("derived_from") or [])
            for name, spec in (margins_cfg.get("margins") or {}).items()
            if isinstance(spec, Mapping)
        }
    else:
        derived = {str(k): list(v) for k, v in (margins_cfg.get("derived") or {}).items()}
    out: list[str] = []
    for var in weighting_variables:
        for source in derived.get(str(var)) or [str(var)]:
            if source not in out:
                out.append(source)
    return out


def required_variables(root: str | os.PathLike[str]) -> list[str]:
    """Return the variables every wave of a project must map.

    ``resp_id`` and the raking sources (:func:`raking_sources`) of ``weighting.variables``
    in ``<root>/config/config.yaml``, with the margins file it names.

    Parameters
    ----------
    root : str or path-like
        The project root.

    Returns
    -------
    list of str
        ``["resp_id", <raking sources>]`` (only ``resp_id`` without a config file).
    """
    cfg_file = Path(root) / "config" / "config.yaml"
    study = load_yaml(cfg_file) if cfg_file.is_file() else {}
    study = study if isinstance(study, dict) else {}
    variables = (study.get("weighting") or {}).get("variables") or []
    margins_file = Path(root) / str(study.get("margins", "config/margins.yaml"))
    margins = load_yaml(margins_file) if variables and margins_file.is_file() else {}
    margins = margins if isinstance(margins, dict) else {}
    return ["resp_id", *[v for v in raking_sources(variables, margins) if v != "resp_id"]]


def _check_not_asked(data: dict, variables: dict, required: Sequence[str], fail) -> None:
    """``not_asked`` variables exist, are not mapped and are not required."""
    mapped = {str(spec["variable"]): str(raw) for raw, spec in data["columns"].items()}
    for i, var in enumerate(data.get("not_asked") or []):
        key = f"not_asked.{i}"
        if var not in variables:
            msg = f"not_asked variable {var!r} is not in the codebook"
            raise fail(msg, key, f"use one of: {', '.join(variables)}", var)
        if var == "resp_id" or var in required:
            msg = f"variable {var!r} is required of every wave and cannot be not_asked"
            hint = (
                f"map a raw column to {var} under columns and remove it from not_asked "
                "(resp_id and the raking variables, config.yaml weighting.variables, are "
                "required)"
            )
            raise fail(msg, key, hint, var)
        if var in mapped:
            msg = f"variable {var!r} is declared not_asked but mapped from column {mapped[var]!r}"
            hint = f"remove {var} from not_asked, or delete the column {mapped[var]!r}"
            raise fail(msg, key, hint, var)


def check_wave_against_codebook(
    data: dict,
    codebook: dict,
    *,
    source: str,
    required: Sequence[str] = ("resp_id",),
) -> None:
    """Check a (schema-valid) wave mapping against the codebook.

    Mapped variables must exist; categorical ones need ``values``, ``labels: true`` or a
    ``derive`` rule of the codebook (others none of them); ``values`` categories must
    exist; no question before its ``first_wave``; every ``required`` variable mapped;
    ``not_asked`` variables exist, are neither mapped nor required; grid items are
    questions. Variables neither mapped nor required are not asked (all NA).

    Parameters
    ----------
    data : dict
        The wave configuration.
    codebook : dict
        The loaded codebook.
    source : str
        The wave configuration file name, used in error messages.
    required : sequence of str, default ("resp_id",)
        Variables every wave must map: ``resp_id`` and the raking sources
        (:func:`raking_sources`).

    Raises
    ------
    InputError
        On the first mismatch; the message names the file, the wave and the key.
    """
    wave = data["wave"]
    variables = codebook["variables"]

    def fail(problem: str, key: str, hint: str, value: Any = None) -> InputError:
        return InputError(problem, wave=wave, file=source, key=key, value=value, hint=hint)

    for raw, spec in data["columns"].items():
        var, key = spec["variable"], f"columns.{raw}"
        if var not in variables:
            msg = f"variable {var!r} is not in the codebook"
            raise fail(msg, f"{key}.variable", f"use one of: {', '.join(variables)}")
        vspec = variables[var]
        categories = vspec.get("categories") or {}
        how = next((h for h in ("values", "labels", "derive") if spec.get(h)), None)
        if not categories and how:
            msg = f"variable {var!r} (kind {vspec['kind']}) has no categories"
            raise fail(msg, f"{key}.{how}", f"remove {how} from this column")
        if categories and not how:
            msg = f"categorical variable {var!r} needs `values:` or `labels: true`"
            raise fail(msg, key, "add values: {<raw code>: <category>} or labels: true")
        rules = vspec.get("derive") or {}
        if how == "derive" and spec["derive"] not in rules:
            known = ", ".join(rules) or "none"
            msg = f"variable {var!r} has no derive rule {spec['derive']!r} in the codebook"
            hint = f"use one of its rules ({known}) or map the codes with values:"
            raise fail(msg, f"{key}.derive", hint, spec["derive"])
        for code, cat in (spec.get("values") or {}).items():
            if cat is not None and cat not in categories:
                hint = f"use one of: {', '.join(categories)} (or null for missing)"
                msg = f"category {cat!r} is not a category of {var!r}"
                raise fail(msg, f"{key}.values.{code}", hint, value=cat)
        first = vspec.get("first_wave")
        if first is not None and wave < first:
            msg = f"question {var!r} is mapped but its first_wave is {first}"
            raise fail(msg, f"{key}.variable", "remove the mapping or correct the codebook")
    _check_not_asked(data, variables, required, fail)
    mapped = {spec["variable"] for spec in data["columns"].values()}
    for var in dict.fromkeys(["resp_id", *required]):
        if var not in mapped:
            hint = (
                f"add `<raw column>: {{variable: {var}, ...}}` under columns; resp_id and "
                "the raking variables (config.yaml weighting.variables) are required of "
                "every wave, other variables may be absent or listed under not_asked"
            )
            raise fail(f"required variable {var!r} is not mapped", "columns", hint, var)
    rule = (data.get("cleaning") or {}).get("straightlining") or {}
    for i, var in enumerate(rule.get("variables") or []):
        if variables.get(var, {}).get("kind") != "question":
            msg = f"straight-lining variable {var!r} is not a question of the codebook"
            raise fail(msg, f"cleaning.straightlining.variables.{i}", "list questions only")


NEEDS_REVIEW = "needs review"


def _refuse_unreviewed(data: Any, source: str) -> None:
    """Refuse a mapping drafted by ``pollwaves add-wave`` that still has unreviewed columns."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict):
        return
    pending = [
        (str(raw), spec.get("candidates") or [])
        for raw, spec in columns.items()
        if isinstance(spec, dict) and spec.get("review") == NEEDS_REVIEW
    ]
    if not pending:
        return
    wave = str(data.get("wave") or Path(source).stem)
    listed = "; ".join(
        f"{raw} (candidates: {', '.join(map(str, cands))})" if cands else raw
        for raw, cands in pending
    )
    raise InputError(
        f"wave {wave} is not reviewed: {len(pending)} column(s) still marked "
        f"`review: {NEEDS_REVIEW}`: {listed}",
        wave=wave,
        file=source,
        column=", ".join(raw for raw, _ in pending),
        key="columns.<column>.review",
        hint=(
            f"in {source}, check each marked column (pick its variable from the candidates, "
            "complete `values`), then replace `review: needs review` by `review: confirmed` "
            f"and delete `candidates`; `pollwaves check-wave {wave}` lists what is left "
            "(README section 'Adding a new wave')"
        ),
    )


def load_wave_config(
    path: str | os.PathLike[str],
    schema_path: str | os.PathLike[str],
    codebook: dict | None = None,
    *,
    required: Sequence[str] = ("resp_id",),
) -> dict:
    """Load and validate a per-wave delivery mapping ``config/waves/{wave}.yaml``.

    Refuses a mapping with columns still marked ``review: needs review`` (drafted by
    ``pollwaves add-wave``); checks the schema; ``wave`` equals the file stem; no variable
    mapped twice; ``id_column`` is the column mapped to ``resp_id``; no two ``values`` keys
    are the same code; with a codebook also :func:`check_wave_against_codebook`.

    Parameters
    ----------
    path : str or path-like
        The wave configuration file.
    schema_path : str or path-like
        ``workflow/schemas/wave.schema.yaml``.
    codebook : dict, optional
        A loaded codebook to cross-check against.
    required : sequence of str, default ("resp_id",)
        Variables the wave must map (with a codebook): ``resp_id`` and the raking sources
        (:func:`raking_sources`).

    Returns
    -------
    dict
        The wave configuration as parsed from YAML.

    Raises
    ------
    InputError
        On any problem; the message names the file, the wave and the key.
    """
    source = str(path)
    data = load_yaml(path)
    _refuse_unreviewed(data, source)
    validate(data, schema_path, source=source)
    _check_wave_keys(data, source)
    if codebook is not None:
        check_wave_against_codebook(data, codebook, source=source, required=required)
    return data
