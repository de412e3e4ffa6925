"""Pollster-style SIMULATED deliveries and their wave mappings (``config/waves/*.yaml``).

:func:`generate` runs the whole simulation in memory (population, calibration, one
sample per wave, raw delivery frames, wave mappings); :func:`write_outputs` writes the
deliveries ``data/raw/waves/{wave}.{sav,dta,csv,xlsx}``, ``config/waves/{wave}.yaml``
and ``data/raw/simulation/{truth.csv,scenario.csv,README.md}``. Each wave uses exactly one
generator (:meth:`pollwaves.simulate.simulation.Simulation.wave_rng`): first for the sample and the
answers, then for the raw-code splits (very/rather good, ...) and the row order.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from pollwaves.config import load_yaml
from pollwaves.errors import InputError
from pollwaves.intake.writers import write_csv, write_dta, write_sav, write_xlsx
from pollwaves.simulate.simulation import REFUSED, Simulation, load_simulation_config

__all__ = ["Generated", "RawDelivery", "build_raw", "generate", "wave_mapping", "write_outputs"]

PathLike = str | os.PathLike[str]
MISSING_LABELS = ["^отказ", "^refus"]
FILE_LABEL = "SIMULATED DATA (pollwaves) - not real survey responses"
SIMULATED_NOTICE = (
    "SIMULATED DATA: the respondent-level poll data bundled with pollwaves are simulated "
    "(calibrated to published Chatham House toplines); they are not real survey responses."
)
WAVES_DIR, SIM_DIR = Path("data/raw/waves"), Path("data/raw/simulation")


@dataclass
class RawDelivery:
    """A raw delivery frame plus its labels; ``frame`` = the canonical rows in file order."""

    data: pd.DataFrame
    frame: pd.DataFrame
    value_labels: dict[str, dict[Any, str]]
    column_labels: dict[str, str]
    layout: dict[str, Any]


def _layout(cfg: dict, wave: str) -> dict[str, Any]:
    spec = dict(cfg["deliveries"]["waves"][wave])
    cols = {}
    for var, item in spec["columns"].items():
        raw, scheme = (item, None) if isinstance(item, str) else (str(item[0]), str(item[1]))
        if scheme not in (None, "text") and scheme not in cfg["deliveries"]["schemes"]:
            raise InputError(
                f"unknown scheme {scheme!r}", key=f"deliveries.waves.{wave}.columns.{var}"
            )
        cols[str(var)] = (str(raw), scheme)
    spec["columns"] = cols
    return spec


def questionnaire_order(cfg: dict, codebook: dict, wave: str) -> list[str]:
    """Questions of ``wave`` in delivery (questionnaire) order."""
    kinds = codebook["variables"]
    return [v for v in _layout(cfg, wave)["columns"] if kinds[v]["kind"] == "question"]


def _label(codebook: dict, var: str, cat: str, lang: str) -> str:
    return str(codebook["variables"][var]["categories"][cat][lang])


def build_raw(
    frame: pd.DataFrame, wave: str, cfg: dict, codebook: dict, rng: np.random.Generator
) -> RawDelivery:
    """Turn a canonical wave sample into the raw delivery frame of its layout.

    Rows are shuffled; ids follow the layout template; categories become raw codes of the
    scheme (split at random where a category has several codes; a straight-liner keeps
    one code over the whole grid), or Russian answer text for ``text`` columns. Refusals
    become the refusal code/label, questions not reached by a partial complete are empty.
    """
    dcfg, lay = cfg["deliveries"], _layout(cfg, wave)
    fmt, grid = lay["format"], [str(q) for q in cfg["grid"]]
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    template, start = lay["id"]["template"], int(lay["id"]["start"])
    ids = [template.format(start + i) for i in range(len(frame))]
    numeric_id = template == "{:d}"
    frame.insert(0, "resp_id", pd.Series(ids, dtype="str"))
    u_grid = rng.random(len(frame))  # straight-liners: one raw code for the whole grid
    coded = fmt in ("sav", "dta")
    lang = "ru" if fmt == "sav" else "en"
    data, value_labels, column_labels = {}, {}, {}
    for var, (raw, scheme) in lay["columns"].items():
        column_labels[raw] = str(
            codebook["variables"][var]["label"]["ru" if fmt != "dta" else "en"]
        )
        if var == "resp_id":
            data[raw] = [int(i) for i in ids] if numeric_id else ids
            continue
        if var == "duration_sec":
            data[raw] = frame["duration_sec"].astype("int64").tolist()
            continue
        values = frame[var].tolist()
        is_question = codebook["variables"][var]["kind"] == "question"
        if scheme == "text":
            data[raw] = [
                None if v is None else dcfg["refusal_label"]["ru"] if v == REFUSED else _label(codebook, var, v, "ru")
                for v in values
            ]  # fmt: skip
            continue
        sch = dcfg["schemes"][scheme]
        codes_of: dict[str, list] = {}
        for code, cat in sch["values"].items():
            codes_of.setdefault(str(cat), []).append(code)
        u = rng.random(len(frame))
        if var in grid:
            u = np.where(frame["quality"].to_numpy() == "straightliner", u_grid, u)
        out = []
        for i, v in enumerate(values):
            if v is None:
                out.append(None)
            elif v == REFUSED:
                out.append(int(dcfg["refusal_code"]))
            else:
                options = codes_of[v]
                if len(options) == 1:
                    out.append(options[0])
                else:
                    cum = np.cumsum(sch["split"][v])
                    out.append(
                        options[
                            min(
                                int(np.searchsorted(cum, u[i] * cum[-1], side="right")),
                                len(options) - 1,
                            )
                        ]
                    )
        data[raw] = out
        if coded:
            labels = {}
            for code, cat in sch["values"].items():
                custom = (sch.get("labels") or {}).get(lang, {})
                labels[code] = str(custom.get(code, _label(codebook, var, str(cat), lang)))
            if is_question:
                labels[int(dcfg["refusal_code"])] = str(dcfg["refusal_label"][lang])
            value_labels[raw] = labels
    df = pd.DataFrame({raw: pd.Series(vals, dtype=object) for raw, vals in data.items()})
    if coded:
        for raw, (var, _) in zip(df.columns, lay["columns"].items(), strict=True):
            if var != "resp_id" or numeric_id:
                df[raw] = pd.to_numeric(
                    df[raw].astype(object).where(df[raw].notna(), np.nan)
                ).astype("float64")
    else:
        df["data_status"] = "SIMULATED"
        df = df.astype(object)
    return RawDelivery(df, frame, value_labels, column_labels, lay)


def wave_mapping(wave: str, cfg: dict) -> dict[str, Any]:
    """The ``config/waves/{wave}.yaml`` mapping of a simulated delivery (architecture format)."""
    lay, wspec, qual = _layout(cfg, wave), cfg["waves"][wave], cfg["quality"]
    fmt = lay["format"]
    columns: dict[str, Any] = {}
    has_codes = False
    for var, (raw, scheme) in lay["columns"].items():
        if scheme is None:
            columns[raw] = {"variable": var}
        elif scheme == "text":
            columns[raw] = {"variable": var, "labels": True}
        else:
            has_codes = True
            columns[raw] = {
                "variable": var,
                "values": dict(cfg["deliveries"]["schemes"][scheme]["values"]),
            }
    start, end = (str(d) for d in wspec["fieldwork"])
    return {
        "wave": wave,
        "file": f"{WAVES_DIR.as_posix()}/{wave}.{fmt}",
        "format": fmt,
        "encoding": lay.get("encoding") if fmt == "csv" else None,
        "sheet": lay.get("sheet") if fmt == "xlsx" else None,
        "fieldwork": {"start": start, "end": end},
        "n_published": None if wspec.get("n_assumed") else int(wspec["n"]),
        "simulated": True,
        "id_column": lay["columns"]["resp_id"][0],
        "missing_codes": [int(cfg["deliveries"]["refusal_code"])] if has_codes else [],
        "missing_labels": list(MISSING_LABELS),
        "columns": columns,
        "cleaning": {
            "min_duration_sec": qual["min_duration_sec"],
            "straightlining": {"variables": [str(q) for q in cfg["grid"]], "min_items": 4},
            "min_completeness": qual["min_completeness"],
        },
    }


def _flow(obj: Any) -> str:
    text = yaml.safe_dump(
        [obj], default_flow_style=True, allow_unicode=True, width=10**6, sort_keys=False
    )
    return text.strip()[1:-1]


def mapping_yaml(mapping: dict[str, Any], cfg: dict, counts: dict[str, int]) -> str:
    """Readable, deterministic YAML text of a wave mapping, with explanatory comments."""
    wave, wspec = mapping["wave"], cfg["waves"][mapping["wave"]]
    q = cfg["quality"]
    lines = [
        f"# Mapping of the SIMULATED delivery {mapping['file']} (wave {wave}).",
        "# The delivery is simulated by `pollwaves simulate` (config/simulation.yaml), calibrated",
        "# to published toplines; it holds no real survey responses (data/raw/simulation/README.md).",
        "# Generated file: change config/simulation.yaml and re-run instead of editing it.",
        "# Raw code 98 / 'hard to say' is a category; 99 / 'Отказ от ответа' (refusal) is missing.",
        f"# Cleaning removes exactly the simulated bad interviews: {counts['speeder']} speeders "
        f"(< {q['min_duration_sec']} s),",
        f"# {counts['straightliner']} straight-liners (one answer on the whole attitude grid) and "
        f"{counts['partial']} partial completes",
        f"# (answered share < {q['min_completeness']}); {counts['clean']} clean interviews remain.",
    ]
    if wspec.get("note"):
        lines.append(f"# NOTE: {wspec['note']}")
    lines.append(f'wave: "{wave}"')
    for key in ("file", "format", "encoding", "sheet"):
        lines.append(f"{key}: {_flow(mapping[key])}")
    fw = f"fieldwork: {_flow(mapping['fieldwork'])}"
    lines.append(
        fw + ("  # ASSUMPTION: fieldwork not published" if wspec.get("fieldwork_assumed") else "")
    )
    n_line = f"n_published: {_flow(mapping['n_published'])}"
    if wspec.get("n_assumed"):
        n_line += f"  # N not published; the simulation ASSUMES {wspec['n']} clean interviews"
    lines.append(n_line)
    for key in ("simulated", "id_column", "missing_codes", "missing_labels"):
        lines.append(f"{key}: {_flow(mapping[key])}")
    lines.append("columns:")
    lines += [f"  {_flow(raw)}: {_flow(spec)}" for raw, spec in mapping["columns"].items()]
    cl = mapping["cleaning"]
    lines += [
        "cleaning:",
        f"  min_duration_sec: {_flow(cl['min_duration_sec'])}",
        "  straightlining:",
        f"    variables: {_flow(cl['straightlining']['variables'])}",
        f"    min_items: {cl['straightlining']['min_items']}",
        f"  min_completeness: {_flow(cl['min_completeness'])}",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Generated:
    """Everything :func:`generate` computes (nothing written yet)."""

    sim: Simulation
    cfg: dict
    codebook: dict
    raws: dict[str, RawDelivery] = field(default_factory=dict)
    mappings: dict[str, dict[str, Any]] = field(default_factory=dict)


def generate(
    config_path: PathLike = "config/simulation.yaml",
    root: PathLike = ".",
    *,
    size: int | None = None,
    seed: int | None = None,
    waves: list[str] | None = None,
) -> Generated:
    """Simulate the population, calibrate, and build the deliveries of ``waves`` (default all)."""
    root = Path(root)
    config_path = Path(config_path)
    cfg = load_simulation_config(config_path if config_path.is_absolute() else root / config_path)
    codebook = load_yaml(root / "config" / "codebook.yaml")
    sim = Simulation(cfg, codebook, root, size=size, seed=seed)
    gen = Generated(sim, cfg, codebook)
    for wave in waves or sim.waves:
        if wave not in sim.waves:
            raise InputError(f"unknown wave {wave!r}", hint=f"use one of: {', '.join(sim.waves)}")
        rng = sim.wave_rng(wave)
        frame = sim.sample_wave(wave, rng, questionnaire_order(cfg, codebook, wave))
        gen.raws[wave] = build_raw(frame, wave, cfg, codebook, rng)
        gen.mappings[wave] = wave_mapping(wave, cfg)
    return gen


def _stamp(cfg: dict, wave: str) -> dt.datetime:
    end = dt.date.fromisoformat(str(cfg["waves"][wave]["fieldwork"][1]))
    return dt.datetime.fromisoformat(end.isoformat() + str(cfg["deliveries"]["created"]))


def write_delivery(raw: RawDelivery, wave: str, cfg: dict, path: PathLike) -> Path:
    """Write one raw delivery in its format, with the 'simulated' markers."""
    lay, stamp = raw.layout, _stamp(cfg, wave)
    label = f"{FILE_LABEL}; wave {wave}"
    if lay["format"] == "sav":
        return write_sav(raw.data, path, file_label=FILE_LABEL, note=f"{SIMULATED_NOTICE} Wave {wave}.",
                         column_labels=raw.column_labels, value_labels=raw.value_labels, stamp=stamp)  # fmt: skip
    if lay["format"] == "dta":
        return write_dta(raw.data, path, file_label=label[:80], column_labels=raw.column_labels,
                         value_labels=raw.value_labels, stamp=stamp)  # fmt: skip
    if lay["format"] == "csv":
        return write_csv(raw.data, path, encoding=lay["encoding"], sep=lay.get("sep", ","))
    return write_xlsx(raw.data, path, sheet=lay["sheet"], title=f"SIMULATED poll delivery, wave {wave}",
                      description=SIMULATED_NOTICE, info=[SIMULATED_NOTICE, f"Wave {wave}."], stamp=stamp)  # fmt: skip


def write_outputs(gen: Generated, root: PathLike = ".") -> list[Path]:
    """Write deliveries, wave mappings, truth, scenario and the README; return the paths."""
    from pollwaves.files import write_table

    root = Path(root)
    written = []
    for wave, raw in gen.raws.items():
        mapping = gen.mappings[wave]
        written.append(write_delivery(raw, wave, gen.cfg, root / mapping["file"]))
        counts = raw.frame["quality"].value_counts().to_dict()
        counts = {
            k: int(counts.get(k, 0)) for k in ("clean", "speeder", "straightliner", "partial")
        }
        path = root / "config" / "waves" / f"{wave}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(mapping_yaml(mapping, gen.cfg, counts), encoding="utf-8")
        written.append(path)
    written.append(write_table(gen.sim.truth(), root / SIM_DIR / "truth.csv"))
    written.append(write_table(gen.sim.scenario, root / SIM_DIR / "scenario.csv"))
    readme = root / SIM_DIR / "README.md"
    readme.write_text(
        README.format(size=len(gen.sim.population), seed=gen.cfg["seed"]), encoding="utf-8"
    )
    written.append(readme)
    return written


README = """# SIMULATED data: population truths for validation

**Everything in this folder and in `data/raw/waves/` is SIMULATED.** Real respondent-level
data of the Chatham House Belarus polls are not public. `pollwaves simulate` (module
`pollwaves.simulate`, parameters in `config/simulation.yaml`, seed {seed}) draws a synthetic
urban adult population of {size:,} persons, gives every person answer probabilities per wave
from a calibrated multinomial logit, and draws one online (CAWI) sample per wave with
selection bias (too young, too educated, too much Minsk). The deliveries mimic what a
pollster sends (SPSS, Stata, CSV in cp1251/UTF-8, Excel; changing column names and codes;
98 = hard to say, 99 = refusal; speeders, straight-liners and partial completes that the
cleaning thresholds of `config/waves/*.yaml` remove).

## Files

- `truth.csv`: the population TRUE shares (proportions in [0, 1]) per `wave, question,
  domain, category`: `domain` is `all` or `variable=category` for sex, age_group,
  education, settlement, media_diet and authorities. A share is the population mean of the
  person probabilities; for the five attitude items it is the mean of the probabilities
  conditional on not answering all five identically (genuine respondents never straight-line;
  that pattern is simulated only for the straight-liners that cleaning removes). Sorted by
  wave, then codebook order of question, domain and category. Use it to validate the
  pipeline: weighted estimates should cover these values. Shares are written with 10
  significant digits; floating-point text differs between CPUs and BLAS builds in the last
  digits, so compare a regenerated file with this one by value (the tests allow an absolute
  difference of 1e-8), not byte for byte.
- `scenario.csv`: one row per simulated (wave, question) with `status` `published` (at
  least one published number constrains the targets) or `assumed` (interpolated between or
  carried from anchor waves, or an assumed anchor), the `basis`, and the target vector in
  percent (two decimals; compared by value, one unit of the last digit); plus
  `not_simulated` rows for published numbers that are not simulated, with the reason.

The population true shares match every used published number (data/raw/published/toplines.csv
after the project's selection rule) within 0.5 percentage points; the categories that were
not published are documented assumptions (`config/simulation.yaml`, `targets:`). These are
simulated truths, not estimates of real opinion.
"""
