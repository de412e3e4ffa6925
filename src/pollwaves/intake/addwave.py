"""``pollwaves add-wave``: draft ``config/waves/{wave}.yaml`` for a new delivery and copy it.

:func:`add_wave` reads the delivery (sav, dta, csv, xlsx or parquet; the code page of a csv
is detected, ``encoding`` overrides it and the code page a sav/dta file declares), refuses
mojibake with the ``--encoding`` that fixes it, proposes a mapping onto the codebook
(:mod:`pollwaves.intake.propose`), writes the mapping with a ``review:`` marker on every
column and ``not_asked:`` for the codebook variables it cannot find, and copies the
delivery to ``data/raw/waves/{wave}.{ext}``. Only ``resp_id`` and the sources of the raking
variables (:func:`required_variables`) are required of a wave. With ``force`` on a wave that
was reviewed, every reviewed column whose label and codes are unchanged is kept
(:mod:`pollwaves.intake.reimport`). The workflow refuses the wave until no column says
``needs review`` (README section 'Adding a new wave').
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import shutil
from pathlib import Path

from pollwaves.config import load_codebook, load_yaml, schema_dir, variables_by_kind
from pollwaves.errors import InputError
from pollwaves.files import atomic_write
from pollwaves.intake.mapping import required_variables
from pollwaves.intake.patterns import patterns
from pollwaves.intake.propose import propose
from pollwaves.intake.readers import ENCODINGS, Delivery, read_delivery, refuse_foreign_bytes
from pollwaves.intake.reimport import reviewed_columns
from pollwaves.intake.render import cleaning_rules, render_mapping
from pollwaves.intake.summary import AddWaveResult

__all__ = [
    "EXTENSIONS",
    "WAVE_ID",
    "AddWaveResult",
    "add_wave",
    "check_wave_id",
    "check_workflow_accepts",
    "project_paths",
    "required_variables",
]

#: Safe wave ids: ``YYYY-MM`` with an optional suffix of ``[a-z0-9_-]``.
WAVE_ID = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])[a-z0-9_-]*$")
#: Delivery file extension -> format.
EXTENSIONS = {".sav": "sav", ".dta": "dta", ".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
PathLike = str | os.PathLike[str]


def check_wave_id(wave: str) -> str:
    """Return ``wave`` if it is a safe wave id (``YYYY-MM`` or ``YYYY-MM<suffix>``).

    Parameters
    ----------
    wave : str
        The proposed id; the suffix may hold ``[a-z0-9_-]`` (at most 40 characters in all).

    Returns
    -------
    str
        ``wave`` unchanged.

    Raises
    ------
    InputError
        For anything else (path separators, ``..``, upper case, another date format).
    """
    if not isinstance(wave, str) or not WAVE_ID.fullmatch(wave) or len(wave) > 40:
        raise InputError(
            "unsafe or malformed wave id",
            value=wave,
            hint="use YYYY-MM (e.g. 2024-05), optionally followed by lower-case letters, "
            "digits, '_' or '-' (e.g. 2024-05b); no path separators",
        )
    return wave


def check_workflow_accepts(wave: str, root: PathLike) -> None:
    """Refuse a wave id that the workflow's ``wave`` wildcard constraint does not match.

    The constraint is read from ``wildcard_constraints:`` in ``workflow/rules/*.smk`` or
    the ``Snakefile``; without one every safe id is accepted.

    Parameters
    ----------
    wave : str
        A safe wave id (:func:`check_wave_id`).
    root : str or path-like
        The project root.

    Raises
    ------
    InputError
        Naming the constraint, its file and the fix.
    """
    root = Path(root)
    for path in [*sorted((root / "workflow" / "rules").glob("*.smk")), root / "Snakefile"]:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        block = re.search(r"^wildcard_constraints:\n((?:[ \t]+.*\n?)+)", text, re.M)
        found = block and re.search(r"\bwave\s*=\s*r?[\"']([^\"']+)[\"']", block.group(1))
        if found and not re.fullmatch(found.group(1), wave):
            rel = path.relative_to(root).as_posix()
            raise InputError(
                f"the workflow does not accept wave id {wave!r} (its wildcard constraint is "
                f"wave={found.group(1)} in {rel})",
                wave=wave,
                file=rel,
                hint="use a plain YYYY-MM id, or widen that constraint (e.g. to "
                "\\d{4}-\\d{2}[a-z0-9_-]*) before adding the wave",
            )


def project_paths(root: PathLike) -> dict[str, Path]:
    """Codebook, waves folder and schema folder of a project (from config/config.yaml).

    Parameters
    ----------
    root : str or path-like
        The project root (holding ``config/`` and ``workflow/schemas``).

    Returns
    -------
    dict of pathlib.Path
        ``root``, ``codebook``, ``waves`` (the folder of wave mappings) and ``schemas``.
    """
    root = Path(root)
    cfg_file = root / "config" / "config.yaml"
    cfg = load_yaml(cfg_file) if cfg_file.is_file() else {}
    return {
        "root": root,
        "codebook": root / cfg.get("codebook", "config/codebook.yaml"),
        "waves": root / cfg.get("waves_dir", "config/waves"),
        "schemas": schema_dir(root),
    }


def _detect_csv_encoding(path: Path) -> str:
    raw = path.read_bytes()
    refuse_foreign_bytes(raw, path)
    for encoding in ("utf-8", "cp1251"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    hint = "pass --encoding utf-8 or --encoding cp1251, or ask for a UTF-8 export"
    raise InputError("the csv decodes neither as utf-8 nor as cp1251", file=str(path), hint=hint)


def _read(path: Path, fmt: str, encoding: str | None, given: bool) -> Delivery:
    """Read the delivery; on mojibake or a decode error, name the ``--encoding`` that works."""
    try:
        return read_delivery(path, fmt, encoding=encoding)
    except InputError as exc:
        if not exc.problem.startswith(("garbled text", "the file does not decode")):
            raise
        fixes = []
        for other in (e for e in ENCODINGS if e != encoding):
            try:
                read_delivery(path, fmt, encoding=other)
            except InputError:
                continue
            fixes.append(other)
        how = (
            f"re-run add-wave with --encoding {fixes[0]}"
            if fixes
            else "no supported code page reads it cleanly; ask for a UTF-8 re-export"
        )
        used = (
            f"--encoding {encoding}"
            if given
            else f"detected encoding {encoding}"
            if encoding
            else "the code page declared in the file"
        )
        problem = f"{exc.problem.split(' read with ')[0]} (read with {used})"
        if exc.problem.startswith("garbled"):
            problem = f"mojibake: Cyrillic text decoded with the wrong code page: {problem}"
        kw = {"column": exc.column, "row": exc.row, "value": exc.value}
        raise InputError(problem, file=str(path), hint=how, **kw) from None


def _fieldwork(wave: str, fieldwork: tuple[str, str] | None) -> tuple[dict[str, str], bool]:
    """Fieldwork dates (validated) or the whole month of the wave id (assumed)."""
    if fieldwork is None:
        year, month = int(wave[:4]), int(wave[5:7])
        last = calendar.monthrange(year, month)[1]
        return {"start": f"{wave[:7]}-01", "end": f"{wave[:7]}-{last:02d}"}, True
    try:
        start, end = (dt.date.fromisoformat(d) for d in fieldwork)
    except ValueError:
        hint = "give two dates YYYY-MM-DD: --fieldwork 2024-05-10 2024-05-20"
        raise InputError("bad --fieldwork date", value=list(fieldwork), hint=hint) from None
    if end < start:
        hint = "give the first day first"
        raise InputError("--fieldwork ends before it starts", value=list(fieldwork), hint=hint)
    return {"start": start.isoformat(), "end": end.isoformat()}, False


def add_wave(
    file: PathLike,
    wave: str,
    *,
    root: PathLike = ".",
    fieldwork: tuple[str, str] | None = None,
    encoding: str | None = None,
    force: bool = False,
) -> AddWaveResult:
    """Draft the mapping of a new delivery and copy the delivery into the project.

    Parameters
    ----------
    file : str or path-like
        The delivery (``.sav``, ``.dta``, ``.csv``, ``.xlsx`` or ``.parquet``).
    wave : str
        The wave id (``YYYY-MM`` or ``YYYY-MM<suffix>``, see :func:`check_wave_id`).
    root : str or path-like
        The project root.
    fieldwork : (str, str), optional
        First and last fieldwork day (ISO); default: the whole month (marked ASSUMED).
    encoding : {"utf-8", "cp1251"}, optional
        Code page of the text; default: detected (csv) or as declared in the file.
    force : bool
        Overwrite an existing wave mapping and delivery.

    Returns
    -------
    AddWaveResult
        Paths written and the proposals (``summary()`` gives the printed summary).

    Raises
    ------
    InputError
        Unsafe wave id (or one the workflow's wildcard constraint rejects), unknown
        extension, unreadable file, mojibake (naming the ``--encoding`` that fixes it), or
        an existing wave without ``force``.
    """
    wave = check_wave_id(wave)
    check_workflow_accepts(wave, root)
    source = Path(file)
    fmt = EXTENSIONS.get(source.suffix.lower())
    if fmt is None:
        hint = f"give a file ending in {', '.join(EXTENSIONS)}"
        raise InputError("unsupported delivery type", file=str(source), hint=hint)
    if not source.is_file():
        raise InputError("delivery file not found", file=str(source), hint="check the path")
    if encoding is not None and encoding.lower() not in ENCODINGS:
        hint = f"use one of: {', '.join(ENCODINGS)}"
        raise InputError("unsupported --encoding", value=encoding, hint=hint)
    paths = project_paths(root)
    config_path = paths["waves"] / f"{wave}.yaml"
    rel_file = f"data/raw/waves/{wave}.{fmt}"
    target = paths["root"] / rel_file
    same = target.exists() and target.resolve() == source.resolve()
    existing = [p for p in (config_path, target) if p.exists() and not (p == target and same)]
    if existing and not force:
        raise InputError(
            f"wave {wave} already exists ({', '.join(map(str, existing))})",
            wave=wave,
            hint="pass --force to overwrite it, or choose another --wave",
        )
    given = encoding is not None
    if encoding is None and fmt == "csv":
        encoding = _detect_csv_encoding(source)
    delivery = _read(source, fmt, encoding.lower() if encoding else None, given)
    codebook = load_codebook(paths["codebook"], paths["schemas"] / "codebook.schema.yaml")
    reimport = (
        reviewed_columns(config_path, paths["root"], delivery) if config_path.is_file() else None
    )
    old = reimport.old if reimport else {}
    earlier = []
    for path in sorted(paths["waves"].glob("*.yaml")):
        if path.stem != wave:
            try:
                cfg = load_yaml(path)
            except InputError:
                continue
            if isinstance(cfg, dict) and isinstance(cfg.get("columns"), dict):
                earlier.append(cfg)
    proposals = propose(
        delivery, codebook, earlier, wave, keep=reimport.keep if reimport else None
    )
    mapped = {p.variable for p in proposals if p.variable}
    questions = set(variables_by_kind(codebook, "question"))
    required = required_variables(paths["root"])
    not_asked = [
        v
        for v in [*variables_by_kind(codebook, "demographic"), *questions_of(codebook, wave)]
        if v not in mapped and v not in required
    ]
    dates = _fieldwork(wave, fieldwork)
    if fieldwork is None and isinstance(old.get("fieldwork"), dict):
        dates = (old["fieldwork"], False)
    cleaning = cleaning_rules(earlier, wave, questions & mapped)
    if reimport and reimport.keep and isinstance(old.get("cleaning"), dict):
        cleaning = old["cleaning"]
    text = render_mapping(
        wave,
        rel_file,
        fmt,
        delivery,
        source,
        proposals,
        dates,
        cleaning,
        encoding,
        not_asked=not_asked,
        refusal_patterns=patterns(codebook).refusal_text,
        n_published=old.get("n_published") if reimport and reimport.keep else None,
        missing_codes=list(old.get("missing_codes") or []) if reimport and reimport.keep else [],
    )
    if not same:
        atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))
    atomic_write(config_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return AddWaveResult(
        wave=wave,
        root=paths["root"],
        source=source,
        config_path=config_path,
        delivery_path=target,
        fmt=fmt,
        encoding=encoding,
        n_rows=len(delivery.data),
        proposals=proposals,
        fieldwork_assumed=dates[1],
        missing_required=[v for v in required if v not in mapped],
        not_asked=not_asked,
        reimport=reimport,
    )


def questions_of(codebook: dict, wave: str) -> list[str]:
    """The codebook questions that a wave may have (``first_wave`` not after it).

    Parameters
    ----------
    codebook : dict
        The loaded codebook.
    wave : str
        The wave id.

    Returns
    -------
    list of str
    """
    return [
        q
        for q in variables_by_kind(codebook, "question")
        if str(codebook["variables"][q].get("first_wave", "")) <= wave
    ]
