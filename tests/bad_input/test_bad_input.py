"""The bad-input corpus (issue 14): every case refused clearly or accepted correctly.

Each case of corpus.py runs on a fresh copy of a one-wave project (bundled SIMULATED wave
2021-04) holding earlier outputs. Asserted: the exit code; the words of the message (wave,
file, column, respondent id, value, "How to fix"); no traceback; every file that existed
before the command byte-identical afterwards (and, on a refusal, no new file). The runs are
in-process (no Snakemake); tests/bad_input/test_faults.py runs the workflow itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
import shutil
from pathlib import Path

import pytest
import yaml
from corpus import CASES, CSV, SECRET, Case
from project_copy import make_project

from pollwaves.cli import main
from pollwaves.errors import InputError
from pollwaves.stages.preflight import check_project

EARLIER = {  # earlier good outputs that no refused input may touch
    "reports/public_demand.html": b"<html>earlier report</html>\n",
    "reports/tables/toplines.csv": b"question,wave,category,estimate\nalliance,2021-04,eu,0.1\n",
    "data/processed/waves/2021-04.parquet": b"PAR1 earlier",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    proj = make_project(tmp_path_factory.mktemp("bad_input"), ["2021-04"])
    for rel, data in EARLIER.items():
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_bytes(data)
    return proj


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (symlinks as their target text)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[p.relative_to(root).as_posix()] = "link:" + str(p.readlink())
        elif p.is_file():
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run(case: Case, proj: Path) -> tuple[int, str]:
    """Run the case's command in-process: exit code and everything printed."""
    if case.command == ["preflight"]:
        try:
            check_project(proj)
        except InputError as exc:
            return 1, str(exc)
        return 0, "OK"
    argv = [a.format(root=proj, parent=proj.parent) for a in case.command]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, template: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    shutil.copytree(template, proj, symlinks=True)
    info = case.mutate(proj, random.Random(f"issue14-{case.name}")) or {}
    before = snapshot(proj)
    code, message = run(case, proj)
    print(f"[{case.kind}] {case.name}: exit {code}\n{message}")
    assert code == case.code, message
    assert "Traceback" not in message and 'File "' not in message
    for word in case.words:
        assert word.format(**info) in message, word
    for word in [*case.absent, SECRET]:
        assert word not in message, word
    after = snapshot(proj)
    kept = {k: v for k, v in before.items() if k not in case.writes}
    assert {k: after.get(k) for k in kept} == kept  # nothing earlier changed or lost
    if code != 0:
        assert after == before  # a refusal writes nothing
    if case.command[0] in ("add-wave", "confirm") and code == 0:
        draft_is_plain(proj)


def draft_is_plain(proj: Path) -> None:
    """A hostile header stays one plain string key of ``columns``: nothing injected."""
    draft = proj / "config/waves/2024-09.yaml"
    data = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert set(data) <= {"wave", "file", "format", "encoding", "sheet", "fieldwork",
                         "n_published", "simulated", "id_column", "missing_codes",
                         "missing_labels", "not_asked", "columns", "cleaning"}  # fmt: skip
    assert data["wave"] == "2024-09" and data["file"] == "data/raw/waves/2024-09.csv"
    assert data["id_column"] == "RespondentID"
    header = (proj / "data/raw/waves/2024-09.csv").read_text(encoding="utf-8")
    columns = set(next(iter(__import__("csv").reader(io.StringIO(header)))))
    for key, spec in data["columns"].items():
        assert isinstance(key, str) and key in columns, key
        assert set(spec) <= {"variable", "values", "labels", "derive", "review", "candidates"}
    assert [k for k, s in data["columns"].items() if s["variable"] == "resp_id"] == [
        "RespondentID"
    ]


def test_the_corpus_is_large_and_covers_every_class() -> None:
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)
    assert {"silent", "predict", "crash", "refused", "attack", "accepted", "config"} <= kinds


def test_bundled_delivery_is_accepted(template: Path) -> None:
    """The unmutated wave passes: the corpus refuses mutations, not the bundled file."""
    code, message = run(Case("ok", "accepted", lambda p, r: None,
                             ["check-wave", "2021-04", "--root", "{root}"], 0), template)  # fmt: skip
    assert code == 0, message
    assert (template / CSV).is_file()
    code, message = run(Case("ok", "accepted", lambda p, r: None, ["preflight"], 0), template)
    assert code == 0, message


def test_read_only_project_gives_a_clean_message(template: Path, tmp_path: Path, monkeypatch):
    """add-wave into a folder it may not write: the path and the fix, no traceback."""
    import tempfile

    proj = tmp_path / "proj"
    shutil.copytree(template, proj, symlinks=True)
    new = tmp_path / "new.csv"
    shutil.copy2(proj / CSV, new)
    before = snapshot(proj)

    def denied(*args, dir=None, **kwargs):  # root ignores chmod: refuse as a read-only fs
        raise PermissionError(13, "Permission denied", str(dir))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    case = Case("read_only", "crash", lambda p, r: None,
                ["add-wave", str(new), "--wave", "2024-09", "--root", "{root}"], 2)  # fmt: skip
    code, message = run(case, proj)
    assert code == 2, message
    assert "permission denied" in message and "data/raw/waves" in message
    assert "chmod" in message and "Traceback" not in message
    assert snapshot(proj) == before
