"""Up-front validation of every input, run by the workflow before any job starts.

``workflow/rules/common.smk`` calls :func:`check_project` when the workflow is parsed: the
study configuration (``config/config.yaml``, with the project's own validator, so that a
message names the file, the key path and a fix), the codebook, the margins, the claims
and published-label configs, the published toplines, and every wave mapping with its
delivery (inside ``data/raw/waves/``, present). One bad input stops the run before
Snakemake deletes the outputs of any job, so every earlier good output stays in place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pollwaves import config
from pollwaves.errors import InputError
from pollwaves.intake.mapping import load_wave_config, raking_sources, resolve_delivery
from pollwaves.intake.margins import load_margins
from pollwaves.published.labels import load_published_labels
from pollwaves.published.parse import load_published

#: Columns of the grouped model rows (:data:`pollwaves.stages.pooled.GROUP_COLUMNS`), which no
#: codebook variable may take: the driver refuses them before any job starts.
GROUPED_NAMES = ("respondents", "weight_sq")

__all__ = ["PreflightError", "check_project", "load_config"]

CONFIG = "config/config.yaml"


class PreflightError(InputError):
    """Several inputs are bad; the message lists each problem with its own fix."""

    def __init__(self, problems: list[InputError]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) found before any job started (nothing was run, "
            "no output was removed)",
            hint="fix each problem as its message says, then rerun",
        )

    def _format(self) -> str:
        lines = "".join(f"\n  {i}. {p}" for i, p in enumerate(self.problems, start=1))
        return f"{self.problem}:{lines}\nHow to fix: {self.hint}"


def load_config(root: str | os.PathLike[str], path: str = CONFIG) -> dict[str, Any]:
    """Read and validate ``config/config.yaml`` with the project's validator.

    Parameters
    ----------
    root : str or path-like
        The project root.
    path : str
        The configuration file, relative to ``root``.

    Returns
    -------
    dict
        The validated configuration.

    Raises
    ------
    InputError
        Bad YAML (line and column), not a mapping, or a schema violation (key path).
    """
    data = config.load_yaml(Path(root) / path)
    if not isinstance(data, dict):
        raise InputError("the configuration is not a YAML mapping", file=path,
                         hint="see config/README.md for the keys")  # fmt: skip
    schema = config.schema_dir(root) / "config.schema.yaml"
    config.validate(data, schema, source=path)
    return data


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_project(
    root: str | os.PathLike[str], cfg: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate every input of the workflow; raise one error listing every problem.

    Parameters
    ----------
    root : str or path-like
        The project root.
    cfg : dict, optional
        The configuration as Snakemake holds it (``--config`` overrides included); it is
        validated as well. Default: ``config/config.yaml``.

    Returns
    -------
    dict
        The validated configuration.

    Raises
    ------
    InputError
        The configuration file is bad (raised alone: nothing else can be checked), or
        :class:`PreflightError` listing the problems of the other inputs.
    """
    root = Path(root)
    data = load_config(root)
    if cfg is not None and cfg != data:
        config.validate(cfg, config.schema_dir(root) / "config.schema.yaml",
                        source=f"{CONFIG} with --config overrides")  # fmt: skip
        data = cfg
    schemas = config.schema_dir(root)
    problems: list[InputError] = []

    def attempt(fn, *args, **kw) -> Any:
        try:
            return fn(*args, **kw)
        except InputError as exc:
            problems.append(exc)
        except OSError as exc:
            problems.append(InputError(f"cannot read: {exc.strerror}", file=exc.filename,
                                       hint="check that the file exists and is readable"))  # fmt: skip
        return None

    codebook_path = root / data["codebook"]
    codebook = attempt(config.load_codebook, codebook_path, schemas / "codebook.schema.yaml")
    for name in set((codebook or {}).get("variables", {})) & set(GROUPED_NAMES):
        problems.append(InputError(
            "A codebook variable has a name the pipeline uses for its own columns",
            file=data["codebook"], key=f"variables.{name}",
            hint=f"rename it: {', '.join(GROUPED_NAMES)} are the grouped model rows' counts",
        ))  # fmt: skip
    margins = attempt(load_margins, root / data["margins"], schemas / "margins.schema.yaml")
    claims = attempt(config.load_yaml, root / data["claims"])
    if claims is not None:
        attempt(config.validate, claims, schemas / "claims.schema.yaml", source=data["claims"])
    pub = data["published"]
    attempt(load_published_labels, root / pub["labels"], codebook_path=codebook_path)
    attempt(load_published, root / pub["toplines"])
    required = ["resp_id"]
    if margins is not None:
        required += attempt(raking_sources, list(data["weighting"]["variables"]), margins) or []
    waves_dir = root / data["waves_dir"]
    for path in sorted(waves_dir.glob("*.yaml")):
        source = _rel(root, path)
        cfg_wave = attempt(load_wave_config, path, schemas / "wave.schema.yaml", codebook,
                           required=required)  # fmt: skip
        if cfg_wave is not None:
            attempt(resolve_delivery, root, cfg_wave.get("file"), wave=path.stem, source=source)
    if problems:
        raise PreflightError(problems)
    return data
