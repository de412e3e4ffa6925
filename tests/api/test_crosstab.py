"""Crosstabs of the design object and the ``crosstab`` / ``export`` commands (tiny project)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from tiny_project import WAVES, make_tiny_project

import pollwaves
from pollwaves.api.output import escape_text
from pollwaves.cli import main
from pollwaves.errors import InputError

TRAP = '=HYPERLINK("http://x")'  # a label a spreadsheet would run as a formula


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    proj = make_tiny_project(tmp_path_factory.mktemp("ct"))
    path = proj / "config/codebook.yaml"
    cb = yaml.safe_load(path.read_text(encoding="utf-8"))
    cb["variables"]["war_support"]["categories"]["support"]["en"] = TRAP
    cb["variables"]["war_support"]["categories"]["partly"]["en"] = "-partly"
    path.write_text(yaml.safe_dump(cb, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return proj


@pytest.fixture(scope="module")
def design(proj):
    return pollwaves.load_design("all", root=proj)


def test_crosstab_cells_are_the_domain_proportions(design):
    ct = design.crosstab("war_support", "sex")
    props = design.proportions("war_support", by="sex")
    got = ct.table.set_index(["wave", "by_category", "category"]).sort_index()
    want = props.set_index(["wave", "sex", "category"])
    for col in ("estimate", "se", "ci_low", "ci_high", "n", "n_eff", "flag"):
        assert got[col].tolist() == want.loc[got.index, col].tolist()
    data = design.data
    for (wave, sex), grp in data[data["war_support"].notna()].groupby(
        ["wave", "sex"], observed=True
    ):
        row = got.loc[(wave, sex)].iloc[0]
        assert row["n"] == len(grp)
        assert row["weighted_n"] == pytest.approx(grp["weight"].sum(), rel=1e-12)
    assert list(ct.tests["wave"].unique()) == list(WAVES)  # one crosstab per wave
    assert set(ct.tests["statistic"]) == {"F", "Chisq"}
    assert ct.table.groupby(["wave", "by_category"])["estimate"].sum().to_numpy() == pytest.approx(
        1
    )
    assert len(ct.pairs) == 2 * 4  # two waves x four answers x one pair


def test_letters_mark_the_larger_share_of_a_significant_pair(design):
    ct = design.crosstab("war_support", "sex")
    sig = ct.pairs[ct.pairs["significant"]]
    assert len(sig)  # the tiny data are built with a sex difference
    for r in sig.itertuples():
        cells = ct.table[(ct.table["wave"] == r.wave) & (ct.table["category"] == r.category)]
        cells = cells.set_index("column")
        big, small = (r.column_a, r.column_b) if r.estimate > 0 else (r.column_b, r.column_a)
        assert small in cells.loc[big, "letters"] and cells.loc[small, "letters"] == ""
    assert (ct.pairs["p_holm"] >= ct.pairs["p_value"] - 1e-15).all()


def test_crosstab_of_a_domain_and_bad_input(design):
    ct = design.subset("settlement != 'minsk'").crosstab("war_support", "sex")
    props = design.subset("settlement != 'minsk'").proportions("war_support", by="sex")
    assert np.allclose(ct.table["se"], props["se"], rtol=1e-12)
    assert "minsk" in ct.text()
    with pytest.raises(InputError, match="war_support"):
        design.crosstab("war", "sex")
    with pytest.raises(InputError):
        design.crosstab("sex", "sex")


def test_text_csv_and_xlsx_outputs(design, tmp_path):
    ct = design.crosstab("war_support", "age_group")
    text = ct.text()
    for part in ("Do not support", "weighted N", "Rao-Scott", "SIMULATED", "2023-11", "(A)"):
        assert part in text
    assert "Letters (SPSS Custom Tables convention)" in text
    ct.to_csv(tmp_path / "ct.csv")
    csv = pd.read_csv(tmp_path / "ct.csv")
    assert "'" + TRAP in set(csv["category_label"]) and "'-partly" in set(csv["category_label"])
    assert {"rs_f", "rs_p", "weighted_n", "letters", "flag", "simulated"} <= set(csv.columns)
    assert csv["estimate"].to_numpy() == pytest.approx(ct.table["estimate"].to_numpy(), rel=1e-9)
    ct.to_xlsx(tmp_path / "ct.xlsx")
    wb = load_workbook(tmp_path / "ct.xlsx")
    assert wb.sheetnames == [*WAVES, "tidy", "pairs"]
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]  # nothing is a formula
    trap = [c for c in cells if c.value == TRAP]
    assert trap and all(c.quotePrefix for c in trap)
    assert escape_text("-1") == "'-1" and escape_text(-1.0) == -1.0


def test_crosstab_command(proj, tmp_path, capsys):
    out = tmp_path / "ct.xlsx"
    rc = main(["crosstab", "--wave", "2023-03", "war_support", "--by", "sex",
               "--root", str(proj), "--out", str(out)])  # fmt: skip
    cap = capsys.readouterr()
    assert rc == 0 and out.is_file()
    assert "Rao-Scott" in cap.out and "2023-11" not in cap.out
    assert "pollwaves: crosstab war_support by sex: wave 2023-03" in cap.err  # progress
    rc = main(["crosstab", "war_support", "--by", "sex", "--root", str(proj)])
    assert rc == 0 and "2023-11" in capsys.readouterr().out  # default: every wave
    rc = main(["crosstab", "--wave", "2020-01", "war_support", "--by", "sex", "--root", str(proj)])
    err = capsys.readouterr().err
    assert rc == 2 and "2023-03, 2023-11" in err
    rc = main(["crosstab", "war_support", "--by", "sexx", "--root", str(proj)])
    assert rc == 2 and "age_group" in capsys.readouterr().err
    rc = main(["crosstab", "war_support", "--by", "sex", "--root", str(proj), "--out", "x.txt"])
    assert rc == 2


def test_export_command(proj, tmp_path, capsys):
    out = tmp_path / "all.dta"
    rc = main(["export", "--format", "dta", "--root", str(proj), "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0 and out.is_file() and "wrote" in cap.out
    assert "pollwaves: reading 2 weighted wave(s)" in cap.err
    rc = main(["export", "--format", "csv", "--waves", "1999-01", "--root", str(proj)])
    assert rc == 2 and "2023-03, 2023-11" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    ["simulate", "add-wave", "confirm", "check-wave", "add-published", "crosstab", "export"],
)
def test_every_subcommand_help_has_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    example = text.split("example:", 1)[1]
    assert f"pollwaves {command}" in example
