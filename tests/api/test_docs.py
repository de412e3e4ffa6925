"""Run the examples of docs/api.md on the built demo project (tests/demo_project.py).

The ``python`` blocks run in order in one namespace from the project root; a ``text`` block
right after a ``python`` block is its expected output; every ``console`` line ``$ pollwaves
...`` runs as a command and must succeed. The demo project is copied first, so the files the
examples write do not touch the shared build.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
import sys

from conftest import ROOT
from demo_project import demo_project
from openpyxl import load_workbook

BLOCK = re.compile(r"```(python|console|text)\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    return BLOCK.findall((ROOT / "docs" / "api.md").read_text(encoding="utf-8"))


def test_docs_have_the_required_examples():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert "Support among women in 2023-03, with a 95% CI" in text
    kinds = [k for k, _ in _blocks()]
    assert kinds.count("python") >= 6 and kinds.count("console") >= 2


def test_docs_examples_run(tmp_path_factory, monkeypatch):
    built = demo_project(tmp_path_factory)
    assert built["run"].returncode == 0, built["run"].stderr[-2000:]
    proj = tmp_path_factory.mktemp("docs") / "proj"
    shutil.copytree(built["proj"], proj, ignore=shutil.ignore_patterns(".snakemake"))
    monkeypatch.chdir(proj)
    namespace: dict = {}
    last_out = None
    for kind, code in _blocks():
        if kind == "python":
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                exec(compile(code, "docs/api.md", "exec"), namespace)
            last_out = buf.getvalue()
        elif kind == "text":
            assert last_out is not None and last_out.strip() == code.strip()
            last_out = None
        else:
            for line in code.strip().splitlines():
                args = shlex.split(line.removeprefix("$ "))
                assert args[0] == "pollwaves"
                run = subprocess.run(
                    [sys.executable, "-m", "pollwaves.cli", *args[1:]],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                assert run.returncode == 0, f"{line}\n{run.stderr}"
                assert "pollwaves:" in run.stderr  # progress on stderr
            last_out = None
    # what the examples claim
    assert namespace["same"].to_numpy().max() < 1e-12  # subset == by= for the domain
    assert (namespace["small"]["flag"] != "").any()
    assert namespace["fit"].nobs > 0
    assert (proj / "exports/late.sav").is_file() and (proj / "exports/pollwaves.parquet").is_file()
    assert load_workbook(proj / "alliance_by_sex.xlsx").sheetnames[-2:] == ["tidy", "pairs"]
    assert (proj / "war_support_by_age.csv").is_file()
