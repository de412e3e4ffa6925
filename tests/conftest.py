"""Shared test setup: headless plotting backend and the project root."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    """The project root (the folder holding Snakefile, config/ and data/)."""
    return ROOT
