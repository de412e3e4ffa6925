"""Command-line interface: ``pollwaves simulate [--config ...] [--root ...]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pollwaves.errors import InputError

__all__ = ["main"]


def _simulate(args: argparse.Namespace) -> int:
    from pollwaves.deliver import generate, write_outputs

    start = time.perf_counter()
    root = Path(args.root)
    gen = generate(args.config, root, size=args.size, seed=args.seed)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pollwaves`` console script."""
    parser = argparse.ArgumentParser(prog="pollwaves", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser(
        "simulate",
        help="(re)generate the SIMULATED deliveries, wave mappings and population truths",
        description=(
            "Simulate the population, calibrate it to the published toplines and write "
            "data/raw/waves/*, config/waves/*.yaml and data/raw/simulation/*."
        ),
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
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
