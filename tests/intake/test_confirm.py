"""``pollwaves confirm``, ``pollwaves --version`` and ``add-wave --force`` on a corrected delivery."""

from __future__ import annotations

from pathlib import Path

import pyreadstat
import pytest
import yaml
from conftest import ROOT
from project_copy import make_project

from pollwaves.cli import main
from pollwaves.errors import InputError
from pollwaves.intake.addwave import add_wave
from pollwaves.intake.confirm import confirm_wave
from pollwaves.intake.writers import write_sav

DEMO = ROOT / "tests" / "data" / "demo_wave.sav"
WAVE = "2024-05"


@pytest.fixture
def drafted(tmp_path: Path) -> Path:
    """A project copy with the demo delivery added (b_union needs review)."""
    proj = make_project(tmp_path, ["2023-11"])
    add_wave(DEMO, WAVE, root=proj, encoding="cp1251", fieldwork=("2024-05-10", "2024-05-20"))
    return proj


def _mapping(proj: Path) -> Path:
    return proj / "config/waves" / f"{WAVE}.yaml"


def test_confirm_marks_columns_and_keeps_comments(drafted: Path, capsys) -> None:
    path = _mapping(drafted)
    before = path.read_text(encoding="utf-8")
    assert main(["confirm", WAVE, "--root", str(drafted)]) == 0
    out = capsys.readouterr().out
    assert "1 column(s) confirmed" in out and "confirmed: b_union" in out
    after = path.read_text(encoding="utf-8")
    cfg = yaml.safe_load(after)
    assert cfg["columns"]["b_union"] == {
        "variable": "alliance",
        "values": {1: "russia", 2: "eu", 3: "both", 4: "outside", 98: "hard_to_say"},
        "review": "confirmed",
    }
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1 and changed[0][1].startswith("  b_union:")  # comments kept
    assert not list(path.parent.glob(".*tmp"))
    assert confirm_wave(WAVE, drafted).confirmed == []  # nothing left to confirm


def test_confirm_refuses_unmapped_codes(drafted: Path, capsys) -> None:
    path = _mapping(drafted)
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "4: outside, 98: hard_to_say}, review: needs review",
        "98: hard_to_say}, review: needs review",
    )
    path.write_text(text, encoding="utf-8")
    assert main(["confirm", WAVE, "b_union", "--root", str(drafted)]) == 1
    out = capsys.readouterr().out
    assert "REFUSED: b_union" in out and "4 'Вне каких-либо союзов'" in out
    assert path.read_text(encoding="utf-8") == text  # nothing written
    result = confirm_wave(WAVE, drafted, ["p_sex"])
    assert result.already == ["p_sex"] and not result.refused
    with pytest.raises(InputError, match="not in the mapping") as info:
        confirm_wave(WAVE, drafted, ["nonexistent"])
    assert "b_union" in str(info.value)


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("pollwaves 0.1.")


def test_force_reimport_keeps_reviewed_columns(drafted: Path, tmp_path: Path) -> None:
    path = _mapping(drafted)
    confirm_wave(WAVE, drafted)
    # a reviewed edit: the person decided that code 4 of p_edu is vocational
    text = path.read_text(encoding="utf-8").replace(
        "3: higher, 4: higher}", "3: higher, 4: vocational}"
    )
    text = text.replace("n_published: null", "n_published: 1000")
    path.write_text(text, encoding="utf-8")
    # the corrected delivery: b_war gets a new label for code 5, a new column appears
    df, meta = pyreadstat.read_sav(DEMO, encoding="cp1251", user_missing=True)
    labels = {k: dict(v) for k, v in meta.variable_value_labels.items()}
    labels["b_war"][5.0] = "Категорически не поддерживаю"
    df["extra"] = 1.0
    fixed = write_sav(
        df, tmp_path / "corrected.sav", file_label=meta.file_label, note=meta.notes,
        column_labels={**meta.column_names_to_labels, "extra": "Тип устройства 2"},
        value_labels=labels, stamp=__import__("datetime").datetime(2024, 6, 1),
    )  # fmt: skip
    res = add_wave(fixed, WAVE, root=drafted, force=True, fieldwork=None)
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert cfg["columns"]["p_edu"]["values"][4] == "vocational"  # the review is kept
    assert cfg["n_published"] == 1000 and cfg["fieldwork"] == {
        "start": "2024-05-10",
        "end": "2024-05-20",
    }
    assert cfg["columns"]["b_union"]["review"] == "confirmed"
    assert res.reimport.changed == {"b_war": "value labels changed", "extra": "new column"}
    kept = [p.column for p in res.proposals if p.kept is not None]
    assert "p_edu" in kept and "b_union" in kept and "b_war" not in kept
    summary = res.summary()
    assert "re-proposed:          2  b_war (value labels changed); extra (new column)" in summary
    assert f"kept as reviewed:    {len(kept)}" in summary
    assert cfg["missing_codes"] == [99]
