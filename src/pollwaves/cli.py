"""Command-line interface of the ``pollwaves`` command.

``pollwaves simulate`` regenerates the SIMULATED deliveries; ``pollwaves add-wave``,
``confirm``, ``check-wave`` and ``add-published`` add a new poll wave or published numbers
(README section 'Adding a new wave'); ``pollwaves crosstab`` and ``pollwaves export`` read a
built project (docs/api.md). ``pollwaves --version`` prints the version. Progress messages of
the long commands go to stderr; results to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pollwaves import __version__
from pollwaves.errors import InputError

__all__ = ["main"]


def progress(message: str) -> None:
    """Print a progress message of a long command to stderr (flushed)."""
    print(f"pollwaves: {message}", file=sys.stderr, flush=True)


class _Formatter(argparse.HelpFormatter):
    """Wraps descriptions as argparse does, but keeps the example epilogs verbatim."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _example(*lines: str) -> str:
    return "example:\n" + "\n".join(f"  {line}" for line in lines)


def _simulate(args: argparse.Namespace) -> int:
    from pollwaves.simulate.deliver import generate, write_outputs

    start = time.perf_counter()
    root = Path(args.root)
    progress("simulating the population, calibrating it and drawing the waves ...")
    gen = generate(args.config, root, size=args.size, seed=args.seed)
    progress(f"writing {len(gen.raws)} SIMULATED deliveries ({time.perf_counter() - start:.1f} s)")
    paths = write_outputs(gen, root)
    worst = max(gen.sim.residuals.values()) * 100
    for path in paths:
        rel = path.resolve().relative_to(root.resolve()) if path.is_absolute() else path
        print(f"wrote {rel} ({path.stat().st_size:,} bytes)")
    print(
        f"SIMULATED data: {len(gen.sim.population):,} persons, {len(gen.raws)} waves; "
        f"largest calibration residual {worst:.4f} pp; {time.perf_counter() - start:.1f} s"
    )
    return 0


def _add_wave(args: argparse.Namespace) -> int:
    from pollwaves.intake.addwave import add_wave

    result = add_wave(
        args.file,
        args.wave,
        root=args.root,
        fieldwork=tuple(args.fieldwork) if args.fieldwork else None,
        encoding=args.encoding,
        force=args.force,
    )
    print(result.summary())
    return 0


def _confirm(args: argparse.Namespace) -> int:
    from pollwaves.intake.confirm import confirm_wave

    result = confirm_wave(args.wave, args.root, args.columns or None)
    print(result.summary())
    return 1 if result.refused else 0


def _check_wave(args: argparse.Namespace) -> int:
    from pollwaves.intake.check import check_wave

    problems = check_wave(args.wave, args.root)
    if not problems:
        print(f"check-wave {args.wave}: OK, no problems. Next: snakemake --cores all")
        return 0
    print(f"check-wave {args.wave}: {len(problems)} problem(s)")
    for i, problem in enumerate(problems, start=1):
        print(f"{i:3d}. {problem}")
    return 1


def _add_published(args: argparse.Namespace) -> int:
    from pollwaves.config import load_yaml
    from pollwaves.published.rows import add_published

    root = Path(args.root)
    cfg = load_yaml(root / "config" / "config.yaml")
    pub = cfg["published"]
    codebook = root / cfg.get("codebook", "config/codebook.yaml")
    n = add_published(
        args.file, root / pub["toplines"], root / pub["labels"], codebook_path=codebook
    )
    print(f"add-published: appended {n} row(s) to {pub['toplines']}. Next: snakemake --cores all")
    return 0


def _crosstab(args: argparse.Namespace) -> int:
    from pollwaves.api.design import load_design

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError("--out must end in .csv or .xlsx", value=str(out))
    waves = args.wave or ["all"]
    design = load_design("all" if "all" in waves else waves, root=args.root)
    progress(f"{len(design.waves)} wave(s): {', '.join(design.waves)}")
    ct = design.crosstab(args.variable, args.by, level=args.level, progress=progress)
    print(ct.text(), end="")
    if out is not None:
        (ct.to_xlsx if out.suffix.lower() == ".xlsx" else ct.to_csv)(out)
        progress(f"wrote {out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from pollwaves.api.export import export_waves

    start = time.perf_counter()
    path = export_waves(
        args.format, args.waves or "all", root=args.root, out=args.out, progress=progress
    )
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {time.perf_counter() - start:.1f} s)")
    return 0


def _api_subcommands(sub: argparse._SubParsersAction) -> None:
    fmt = _Formatter
    ct = sub.add_parser(
        "crosstab",
        help="column percentages of a question by a variable, with tests (built project)",
        formatter_class=fmt,
        description=(
            "Weighted column percentages of VARIABLE within the categories of --by, per wave, "
            "with raking-aware confidence intervals, n and weighted N per column, the "
            "Rao-Scott test of independence and SPSS-style significance letters (Holm-adjusted "
            "design-based tests of the column pairs; see docs/api.md). Needs a built project "
            "(snakemake --cores all). The bundled respondent-level data are SIMULATED."
        ),
        epilog=_example(
            "pollwaves crosstab --wave 2023-03 war_support --by age_group",
            "pollwaves crosstab --wave all alliance --by sex --out alliance_by_sex.xlsx",
        ),
    )
    ct.add_argument("variable", help="row variable (a question of config/codebook.yaml)")
    ct.add_argument("--by", required=True, help="column variable (e.g. age_group, sex)")
    ct.add_argument(
        "--wave",
        action="append",
        metavar="WAVE",
        help="wave id, repeatable, or 'all' (default: all; one crosstab per wave)",
    )
    ct.add_argument("--out", help="also write the crosstab to a .csv or .xlsx file")
    ct.add_argument("--level", type=float, default=None, help="confidence level (default: config)")
    ct.add_argument("--root", default=".", help="project root (default: current folder)")
    ct.set_defaults(func=_crosstab)
    ex = sub.add_parser(
        "export",
        help="write the stacked weighted waves with labels (sav, dta, parquet, csv)",
        formatter_class=fmt,
        description=(
            "Stack the harmonised, weighted waves (data/processed/waves) and write them with "
            "variable and value labels in questionnaire order (sav, dta), as categoricals with "
            "metadata (parquet: simulated flag per wave, codebook version, weighting "
            "settings) or as codes (csv). `weight` is a SAMPLING weight; the bundled "
            "respondent-level data are SIMULATED (column `simulated`)."
        ),
        epilog=_example(
            "pollwaves export --format sav --waves 2023-03 2023-11 --out exports/late.sav",
            "pollwaves export --format parquet        # every wave, exports/pollwaves.parquet",
        ),
    )
    ex.add_argument("--format", required=True, choices=["sav", "dta", "parquet", "csv"])
    ex.add_argument("--waves", nargs="+", metavar="WAVE", help="wave ids (default: all)")
    ex.add_argument("--out", help="output file (default: exports/pollwaves.FORMAT under --root)")
    ex.add_argument("--root", default=".", help="project root (default: current folder)")
    ex.set_defaults(func=_export)


def _add_subcommands(sub: argparse._SubParsersAction) -> None:
    fmt = _Formatter
    add = sub.add_parser(
        "add-wave",
        help="draft config/waves/{wave}.yaml for a new delivery and copy the delivery",
        description=(
            "Read a delivery (.sav, .dta, .csv, .xlsx, .parquet), propose its mapping onto "
            "the codebook with a review marker on every column, write config/waves/{wave}.yaml "
            "and copy the file to data/raw/waves/{wave}.{ext}. See README section 'Adding a new wave'."
        ),
        formatter_class=fmt,
        epilog=_example(
            "pollwaves add-wave delivery.sav --wave 2024-05 --fieldwork 2024-05-10 2024-05-20"
        ),
    )
    add.add_argument("file", help="the delivery file")
    add.add_argument("--wave", required=True, help="wave id, YYYY-MM (optionally a suffix)")
    add.add_argument(
        "--fieldwork", nargs=2, metavar=("START", "END"), help="fieldwork dates YYYY-MM-DD"
    )
    add.add_argument(
        "--encoding",
        choices=["utf-8", "cp1251"],
        help="code page of the text (default: detected for csv, as declared for sav/dta)",
    )
    add.add_argument("--force", action="store_true", help="overwrite an existing wave")
    add.add_argument("--root", default=".", help="project root (default: current folder)")
    add.set_defaults(func=_add_wave)
    conf = sub.add_parser(
        "confirm",
        help="mark reviewed columns of config/waves/{wave}.yaml as confirmed",
        description=(
            "Set `review: confirmed` (and drop `candidates`) on the named columns of "
            "config/waves/{wave}.yaml, default: every `needs review` column. A column whose "
            "raw values are not all mapped is refused (exit 1). Comments are kept."
        ),
        formatter_class=fmt,
        epilog=_example("pollwaves confirm 2024-05 b_union"),
    )
    conf.add_argument("wave", help="wave id")
    conf.add_argument("columns", nargs="*", metavar="COLUMN", help="raw columns (default: all)")
    conf.add_argument("--root", default=".", help="project root (default: current folder)")
    conf.set_defaults(func=_confirm)
    check = sub.add_parser(
        "check-wave",
        help="validate a wave mapping against its delivery, listing every problem",
        description=(
            "Check config/waves/{wave}.yaml (schema, codebook, review markers, columns, ids, "
            "every raw value mapped) without running the pipeline. Exit 1 on problems."
        ),
        formatter_class=fmt,
        epilog=_example("pollwaves check-wave 2024-05"),
    )
    check.add_argument("wave", help="wave id")
    check.add_argument("--root", default=".", help="project root (default: current folder)")
    check.set_defaults(func=_check_wave)
    pub = sub.add_parser(
        "add-published",
        help="append validated rows to the published toplines",
        description=(
            "Validate the rows of FILE (same columns as data/raw/published/toplines.csv) and "
            "append them; nothing is appended when any row has a problem."
        ),
        formatter_class=fmt,
        epilog=_example("pollwaves add-published new_rows.csv"),
    )
    pub.add_argument("file", help="CSV with the new published rows")
    pub.add_argument("--root", default=".", help="project root (default: current folder)")
    pub.set_defaults(func=_add_published)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pollwaves`` console script."""
    parser = argparse.ArgumentParser(
        prog="pollwaves",
        description=__doc__,
        formatter_class=_Formatter,
        epilog=_example(
            "pollwaves crosstab --wave 2023-03 war_support --by age_group",
            "pollwaves SUBCOMMAND --help      # each subcommand's options and an example",
        ),
    )
    parser.add_argument("--version", action="version", version=f"pollwaves {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser(
        "simulate",
        help="(re)generate the SIMULATED deliveries, wave mappings and population truths",
        description=(
            "Simulate the population, calibrate it to the published toplines and write "
            "data/raw/waves/*, config/waves/*.yaml and data/raw/simulation/*."
        ),
        formatter_class=_Formatter,
        epilog=_example("pollwaves simulate --size 200000 --seed 7"),
    )
    sim.add_argument(
        "--config", default="config/simulation.yaml", help="simulation config (relative to --root)"
    )
    sim.add_argument("--root", default=".", help="project root (default: current folder)")
    sim.add_argument(
        "--size", type=int, default=None, help="population size (default: from the config)"
    )
    sim.add_argument(
        "--seed", type=int, default=None, help="master seed (default: from the config)"
    )
    sim.set_defaults(func=_simulate)
    _add_subcommands(sub)
    _api_subcommands(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # read-only folder, disk full, file-size limit, unreadable file
        from pollwaves.files import write_error

        print(f"error: {write_error(exc, Path(exc.filename or '.'))}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
