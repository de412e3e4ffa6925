"""The pooled models read each wave's grouped rows and give the respondents' results.

``run_wave_model_rows`` writes one row per distinct pattern of a wave's model terms and
raking sources (summed weights, respondents, summed squared weights). The war-support
models (trends, subgroup model, average predictions) and the alliance model run on these
files must write the tables they write from the weighted wave files, value for value. The
respondents here are SIMULATED.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT

from pollwaves import files
from pollwaves.errors import InputError
from pollwaves.stages.models import run_alliance_models, run_war_models
from pollwaves.stages.pooled import GROUP_COLUMNS, run_wave_model_rows

RAKING = ["sex_age", "education", "settlement"]
WAVES = {"2022-03": "2022-03-10", "2022-09": "2022-09-10", "2023-03": "2023-03-10",
         "2023-09": "2023-09-10"}  # fmt: skip
SETTINGS = {"subgroups": ["sex", "media_diet"], "spline_df": 2, "grid": 5}
WAR = ["trend_predictions", "trend_tests", "trend_coefficients", "subgroup_selection",
       "subgroup_terms", "subgroup_predicted", "subgroup_ame"]  # fmt: skip


def _wave(rng: np.random.Generator, wave: str, n: int = 400) -> pd.DataFrame:
    d = pd.DataFrame(
        {
            "wave": wave,
            "resp_id": [f"{wave}-{i}" for i in range(n)],
            "sex": rng.choice(["female", "male"], n),
            "age_group": rng.choice(["18_24", "25_34", "35_44", "45_54", "55_plus"], n),
            "education": rng.choice(["basic", "secondary", "higher"], n),
            "settlement": rng.choice(["capital", "city", "town"], n),
            "media_diet": rng.choice(["tv", "online", "mixed"], n),
            "alliance": rng.choice(["russia", "eu", "both", "outside"], n),
            "war_support": rng.choice(["support", "oppose", "neutral"], n, p=[0.3, 0.5, 0.2]),
            "attitude_eu": rng.choice(["good", "bad"], n),  # not a pooled-model term
        }
    )
    d.loc[rng.random(n) < 0.04, "war_support"] = None
    d["weight"] = rng.choice([0.6, 0.9, 1.0, 1.4, 2.1], n) * 1e3
    return d


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grouped")
    rng = np.random.default_rng(7)
    margins = ROOT / "config" / "margins.yaml"
    waves, rows, yamls = [], [], []
    for wave, start in WAVES.items():
        waves.append(tmp / "waves" / f"{wave}.parquet")
        files.write_parquet(_wave(rng, wave), waves[-1], {"wave": wave, "simulated": "true"})
        rows.append(tmp / "rows" / f"{wave}.parquet")
        models = {"subgroups": SETTINGS["subgroups"]}
        run_wave_model_rows(waves[-1], models, RAKING, margins, ROOT, rows[-1])
        yamls.append(tmp / f"{wave}.yaml")
        spec = {"wave": wave, "simulated": True, "fieldwork": {"start": start, "end": start}}
        yamls[-1].write_text(yaml.safe_dump(spec))
    out = {}
    for name, inputs in (("waves", waves), ("rows", rows)):
        d = tmp / name / "out"
        d.mkdir()
        tables = {k: d / f"{k}.csv" for k in WAR}
        run_war_models(inputs, yamls, SETTINGS, "SIMULATED", tables, d / "f.png", d / "f.svg",
                       level=0.95, raking=RAKING, margins_path=margins, root=ROOT)  # fmt: skip
        run_alliance_models(inputs, yamls, SETTINGS, "2022-02-24", d / "shares.csv",
                            d / "neutral.csv", level=0.95, raking=RAKING, margins_path=margins,
                            root=ROOT)  # fmt: skip
        out[name] = d
    return waves, rows, out


def test_grouped_rows_sum_the_respondents_and_keep_the_metadata(built):
    waves, rows, _ = built
    for wave_file, row_file in zip(waves, rows, strict=True):
        resp, grouped = files.read_parquet(wave_file), files.read_parquet(row_file)
        assert files.parquet_metadata(row_file) == files.parquet_metadata(wave_file)
        assert len(grouped) < len(resp)
        assert "attitude_eu" not in grouped.columns and "resp_id" not in grouped.columns
        assert grouped[GROUP_COLUMNS[0]].sum() == len(resp)
        assert grouped["weight"].sum() == pytest.approx(resp["weight"].sum(), rel=1e-12)
        assert grouped[GROUP_COLUMNS[1]].sum() == pytest.approx((resp["weight"] ** 2).sum())
        keys = [c for c in grouped.columns if c not in ("weight", *GROUP_COLUMNS)]
        assert not grouped.duplicated(keys).any()  # one row per pattern, NA a pattern
        refusals = resp["war_support"].isna().sum()
        assert grouped.loc[grouped["war_support"].isna(), GROUP_COLUMNS[0]].sum() == refusals


@pytest.mark.parametrize("table", [*WAR, "shares", "neutral"])
def test_models_on_grouped_rows_write_the_respondents_tables(built, table):
    _, _, out = built
    want = pd.read_csv(out["waves"] / f"{table}.csv")
    got = pd.read_csv(out["rows"] / f"{table}.csv")
    assert list(got.columns) == list(want.columns) and len(got) == len(want) > 0
    num = [c for c in want.columns if want[c].dtype.kind in "fi"]
    pd.testing.assert_frame_equal(got.drop(columns=num), want.drop(columns=num))
    np.testing.assert_allclose(got[num].to_numpy(float), want[num].to_numpy(float),
                               rtol=1e-8, atol=1e-11)  # fmt: skip


def test_a_wave_column_named_like_a_grouped_column_is_refused(tmp_path):
    frame = _wave(np.random.default_rng(3), "2022-03", n=20).assign(respondents=1.0)
    wave = tmp_path / "2022-03.parquet"
    files.write_parquet(frame, wave, {"wave": "2022-03", "simulated": "true"})
    out = tmp_path / "rows" / "2022-03.parquet"
    with pytest.raises(InputError) as err:
        run_wave_model_rows(wave, {"subgroups": ["sex"]}, RAKING, ROOT / "config" /
                            "margins.yaml", ROOT, out)  # fmt: skip
    assert err.value.column == "respondents" and "codebook" in err.value.hint
    assert not out.exists()


def test_preflight_refuses_a_codebook_variable_named_like_a_grouped_column(tmp_path):
    from project_copy import make_project

    from pollwaves.stages.preflight import GROUPED_NAMES, check_project

    assert GROUPED_NAMES == GROUP_COLUMNS
    proj = make_project(tmp_path, ["2021-04"])
    path = proj / "config" / "codebook.yaml"
    book = yaml.safe_load(path.read_text(encoding="utf-8"))
    book["variables"]["weight_sq"] = book["variables"]["duration_sec"]
    path.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match="variables.weight_sq"):
        check_project(proj)
