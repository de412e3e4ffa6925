"""A synthetic study of many large waves, resampled from the bundled SIMULATED deliveries.

Used by ``benchmarks/scale.py`` and ``benchmarks/slurm_check.py`` (issue 15). Everything it
writes is SIMULATED twice over: each synthetic wave is a seeded bootstrap resample (rows drawn
with replacement, new respondent ids 1..n) of one bundled simulated delivery, written in that
delivery's own format (SPSS, Stata, Excel or CSV with its encoding and delimiter), with the
delivery's mapping copied to ``config/waves/{wave}.yaml`` under the new wave id and dates.

Wave ids are consecutive months. About 5/12 of the waves (the bundled share) fall before the
full-scale invasion (months ending 2022-01, templates: the bundled pre-war waves) and the rest
after it (months from 2022-03, templates: the bundled war waves), so every study size has both
eras and the questions each era asks. Fieldwork keeps the template's day of month and length.

Usage::

    python benchmarks/synthetic.py DEST --waves 100 --n 10000 [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
INVASION = dt.date(2022, 2, 24)
STAMP = dt.datetime(2026, 1, 1, 12, 0, 0)
NOTICE = (
    "SYNTHETIC BENCHMARK DATA: a bootstrap resample of the bundled SIMULATED delivery {src}; "
    "no real survey responses."
)


def copy_project(dest: Path, root: Path = ROOT) -> Path:
    """Copy the tracked files of the project (``git ls-files``) to ``dest``."""
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True)
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, files):
        src = root / rel
        if src.is_file():
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
    return dest


def _months(before: int, after: int) -> list[str]:
    """``before`` months ending 2022-01 and ``after`` months from 2022-03."""
    out = []
    for k in range(before, 0, -1):
        y, m = divmod(2022 * 12 + 1 - 1 - (k - 1), 12)
        out.append(f"{y:04d}-{m + 1:02d}")
    for k in range(after):
        y, m = divmod(2022 * 12 + 3 - 1 + k, 12)
        out.append(f"{y:04d}-{m + 1:02d}")
    return out


def plan(n_waves: int, templates: list[dict]) -> list[tuple[str, dict]]:
    """(new wave id, template mapping) for each synthetic wave, in date order."""
    pre = [t for t in templates if dt.date.fromisoformat(t["fieldwork"]["start"]) < INVASION]
    war = [t for t in templates if t not in pre]
    before = max(1, round(n_waves * len(pre) / len(templates))) if n_waves > 1 else 0
    after = n_waves - before
    months = _months(before, after)
    chosen = [pre[i % len(pre)] for i in range(before)] + [war[i % len(war)] for i in range(after)]
    return list(zip(months, chosen, strict=True))


def _shift(day: str, wave: str) -> dt.date:
    d = dt.date.fromisoformat(day)
    y, m = (int(x) for x in wave.split("-"))
    return dt.date(y, m, min(d.day, 28))


def _resample_csv(src: Path, dest: Path, mapping: dict, rows: np.ndarray) -> None:
    enc = mapping.get("encoding") or "utf-8"
    text = src.read_bytes().decode(enc)
    sep = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
    table = list(csv.reader(io.StringIO(text), delimiter=sep))
    header, body = table[0], [r for r in table[1:] if r]
    idx = header.index(mapping["id_column"])
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    for new_id, r in enumerate(rows, start=1):
        row = list(body[r % len(body)])
        row[idx] = str(new_id)
        writer.writerow(row)
    dest.write_bytes(buf.getvalue().encode(enc))


def _resample_stat(src: Path, dest: Path, mapping: dict, rows: np.ndarray, kind: str) -> None:
    import pyreadstat

    from pollwaves.intake.writers import write_dta, write_sav

    read = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    df, meta = read(str(src), apply_value_formats=False)
    out = df.iloc[rows % len(df)].reset_index(drop=True)
    out[mapping["id_column"]] = np.arange(1, len(out) + 1, dtype=float)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    common = {
        "file_label": NOTICE.format(src=src.name)[:80],
        "column_labels": {k: v for k, v in labels.items() if v},
        "value_labels": meta.variable_value_labels,
        "stamp": STAMP,
    }
    if kind == "sav":
        write_sav(out, dest, note=NOTICE.format(src=src.name), **common)
    else:
        write_dta(out, dest, **common)


def _resample_xlsx(src: Path, dest: Path, mapping: dict, rows: np.ndarray) -> None:
    import pandas as pd
    from openpyxl import load_workbook

    from pollwaves.intake.writers import write_xlsx

    book = load_workbook(src, read_only=True, data_only=True)
    sheet = mapping.get("sheet") or book.sheetnames[0]
    values = [list(r) for r in book[sheet].iter_rows(values_only=True)]
    book.close()
    header, body = values[0], [r for r in values[1:] if any(v is not None for v in r)]
    df = pd.DataFrame([body[r % len(body)] for r in rows], columns=header, dtype=object)
    df[mapping["id_column"]] = list(range(1, len(df) + 1))
    note = NOTICE.format(src=src.name)
    write_xlsx(df, dest, sheet=sheet, title=note, description=note, info=[note], stamp=STAMP)


def make_study(dest: Path, n_waves: int, n: int, seed: int = 1, root: Path = ROOT) -> list[str]:
    """Copy the project to ``dest`` and replace its waves by ``n_waves`` synthetic waves of ``n``.

    Returns the new wave ids. Seeded: the same arguments give the same files.
    """
    dest = Path(dest)
    copy_project(dest, root)
    wave_dir, raw_dir = dest / "config" / "waves", dest / "data" / "raw" / "waves"
    templates = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(wave_dir.glob("*.yaml"))]
    for p in list(wave_dir.glob("*.yaml")) + list(raw_dir.iterdir()):
        p.unlink()
    waves = []
    for k, (wave, tpl) in enumerate(plan(n_waves, templates)):
        add_wave(dest, wave, tpl, n, np.random.default_rng([seed, k]), root)
        waves.append(wave)
    return waves


def add_wave(dest: Path, wave: str, tpl: dict, n: int, rng, root: Path = ROOT) -> None:
    """Write one synthetic wave (delivery + mapping) resampled from the template wave ``tpl``."""
    src = root / tpl["file"]
    ext = src.suffix.lstrip(".")
    rel = f"data/raw/waves/{wave}.{ext}"
    out = Path(dest) / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = rng.integers(0, 1 << 30, size=n)
    if ext == "csv":
        _resample_csv(src, out, tpl, rows)
    elif ext in ("sav", "dta"):
        _resample_stat(src, out, tpl, rows, ext)
    else:
        _resample_xlsx(src, out, tpl, rows)
    start = _shift(tpl["fieldwork"]["start"], wave)
    length = dt.date.fromisoformat(tpl["fieldwork"]["end"]) - dt.date.fromisoformat(
        tpl["fieldwork"]["start"]
    )
    mapping = dict(tpl)
    mapping.update(
        wave=wave,
        file=rel,
        fieldwork={"start": start.isoformat(), "end": (start + length).isoformat()},
        n_published=None,
        simulated=True,
    )
    text = (
        f"# SYNTHETIC benchmark wave {wave}: {NOTICE.format(src=tpl['file'])}\n"
        + yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    )
    (Path(dest) / "config" / "waves" / f"{wave}.yaml").write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest", type=Path)
    ap.add_argument("--waves", type=int, default=10)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    waves = make_study(args.dest, args.waves, args.n, args.seed)
    print(f"{len(waves)} synthetic waves of {args.n} in {args.dest}: {waves[0]} .. {waves[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
