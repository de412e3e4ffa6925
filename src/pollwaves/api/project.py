"""What the analyst-facing API reads from a built project: settings, codebook, waves.

:func:`load_project` gathers, from ``config/config.yaml``, ``config/codebook.yaml``,
``config/margins.yaml`` and ``data/processed/waves/{wave}.parquet`` (the weighted wave files
the workflow writes), everything :mod:`pollwaves.api` needs: the raking variables and how
the derived ones (``sex_age``) are built, the variable and answer labels in questionnaire
order, the confidence settings, each wave's ``simulated`` flag and a version key of the
codebook. The bundled respondent-level data are SIMULATED; the flag says so per wave.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pollwaves import config, files
from pollwaves.errors import InputError
from pollwaves.intake.margins import add_derived_columns, load_margins

__all__ = ["Project", "WEIGHT", "load_project", "read_waves", "resolve_waves"]

PathLike = str | os.PathLike[str]
WEIGHT = "weight"
"""The raked sampling-weight column of the weighted wave files."""
WAVES_DIR = Path("data/processed/waves")


@dataclass
class Project:
    """Settings, codebook and waves of a built pollwaves project (see :func:`load_project`)."""

    root: Path
    settings: dict[str, Any]
    codebook: dict[str, Any]
    raking: list[str]
    derived: dict[str, list[str]]
    waves: list[str]
    codebook_version: str
    level: float
    ci_method: str
    lang: str = "en"
    _simulated: dict[str, bool] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        """The codebook's variables, in codebook (questionnaire) order."""
        return self.codebook["variables"]

    def label(self, variable: str) -> str:
        """The variable's label (``label.en``; the name when it has none)."""
        spec = self.variables().get(variable, {})
        return str((spec.get("label") or {}).get(self.lang, variable))

    def categories(self, variable: str) -> list[str]:
        """The variable's answer codes in questionnaire order (codebook order)."""
        spec = self.variables().get(variable, {})
        return [str(c) for c in (spec.get("categories") or {})]

    def category_labels(self, variable: str) -> dict[str, str]:
        """``{code: label}`` in questionnaire order (the code when it has no label)."""
        spec = self.variables().get(variable, {})
        cats = spec.get("categories") or {}
        return {str(c): str((v or {}).get(self.lang, c)) for c, v in cats.items()}

    def simulated(self, wave: str) -> bool:
        """Whether the wave's respondent-level data are SIMULATED (parquet metadata)."""
        if wave not in self._simulated:
            path = self.root / WAVES_DIR / f"{wave}.parquet"
            flag = files.parquet_metadata(path).get("simulated")
            if flag not in ("true", "false"):
                cfg = self.root / self.settings.get("waves_dir", "config/waves") / f"{wave}.yaml"
                if not cfg.is_file():
                    raise InputError(
                        "the wave file does not record whether its data are simulated",
                        wave=wave,
                        file=str(path),
                        hint="rerun the workflow (snakemake --forcerun weight)",
                    )
                flag = "true" if config.load_yaml(cfg).get("simulated") else "false"
            self._simulated[wave] = flag == "true"
        return self._simulated[wave]


def _codebook_version(path: Path, codebook: dict[str, Any]) -> str:
    """``schema_version`` and the first 12 hex digits of the file's SHA-256."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{codebook.get('schema_version', 1)}:sha256:{digest}"


def load_project(root: PathLike = ".") -> Project:
    """Read the settings, codebook, raking margins and the list of weighted waves.

    Parameters
    ----------
    root : str or path-like
        Project root (the folder holding ``config/`` and ``data/``).

    Returns
    -------
    Project

    Raises
    ------
    InputError
        If ``config/config.yaml`` is missing, or no weighted wave file exists (the workflow
        has not been run: ``snakemake --cores all``).
    """
    root = Path(root)
    cfg_path = root / "config" / "config.yaml"
    if not cfg_path.is_file():
        raise InputError(
            "not a pollwaves project: config/config.yaml not found",
            file=str(cfg_path),
            hint="pass root= (or --root) the folder holding config/ and data/",
        )
    settings = config.load_yaml(cfg_path)
    schemas = config.schema_dir(root)
    cb_path = root / settings.get("codebook", "config/codebook.yaml")
    codebook = config.load_codebook(cb_path, schemas / "codebook.schema.yaml")
    margins = load_margins(
        root / settings.get("margins", "config/margins.yaml"), schemas / "margins.schema.yaml"
    )
    raking = [str(v) for v in settings["weighting"]["variables"]]
    derived = {k: list(v) for k, v in margins["derived"].items() if k in raking}
    waves = sorted(p.stem for p in (root / WAVES_DIR).glob("*.parquet"))
    if not waves:
        raise InputError(
            "no weighted wave file found",
            file=str(root / WAVES_DIR),
            hint="build the project first: snakemake --cores all",
        )
    est = settings.get("estimation", {})
    return Project(
        root=root,
        settings=settings,
        codebook=codebook,
        raking=raking,
        derived=derived,
        waves=waves,
        codebook_version=_codebook_version(cb_path, codebook),
        level=float(est.get("level", 0.95)),
        ci_method=str(est.get("ci_method", "logit")),
    )


def resolve_waves(project: Project, waves: str | Sequence[str] | None) -> list[str]:
    """The wave ids asked for (``None`` or ``"all"``: every built wave), checked.

    Raises
    ------
    InputError
        Naming the unknown wave and listing the waves that exist.
    """
    if waves is None or waves == "all" or list(waves) == ["all"]:
        return list(project.waves)
    asked = [waves] if isinstance(waves, str) else [str(w) for w in waves]
    for w in asked:
        if w not in project.waves:
            raise InputError(
                "unknown wave",
                value=w,
                hint=f"the built waves are {', '.join(project.waves)} (or 'all')",
            )
    if not asked:
        raise InputError("no wave given", hint=f"choose from {', '.join(project.waves)}")
    return list(dict.fromkeys(asked))


def read_waves(project: Project, waves: Sequence[str]) -> pd.DataFrame:
    """The weighted respondents of ``waves``, stacked, with the derived raking columns.

    Answer columns become pandas categoricals in questionnaire order (codebook categories).
    """
    parts = [files.read_parquet(project.root / WAVES_DIR / f"{w}.parquet") for w in waves]
    df = pd.concat(parts, ignore_index=True)
    df = add_derived_columns(df, project.derived)
    for name in project.variables():
        cats = project.categories(name)
        if cats and name in df:
            df[name] = pd.Categorical(df[name].astype("string"), categories=cats)
    for name in project.derived:
        df[name] = df[name].astype(str).where(df[name].notna())
    df["wave"] = df["wave"].astype(str)
    return df


def settings_json(project: Project) -> str:
    """The ``weighting`` and ``estimation`` settings as sorted JSON (export metadata)."""
    keep = {k: project.settings.get(k) for k in ("weighting", "estimation")}
    return json.dumps(keep, sort_keys=True, default=str)
