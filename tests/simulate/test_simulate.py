"""Tests of the SIMULATED deliveries: pollwaves.simulate / simulate_* / deliver / cli."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from numeric_files import PERCENT_ATOL, SHARE_ATOL, assert_same_values
from openpyxl import load_workbook

from pollwaves import config
from pollwaves.cli import main
from pollwaves.intake import cleaning, harmonise, readers
from pollwaves.intake.mapping import load_wave_config
from pollwaves.published.select import published_main
from pollwaves.simulate.calibrate import grid_conditional
from pollwaves.simulate.deliver import SIM_DIR, generate, write_outputs
from pollwaves.simulate.population import expected_tables, levels
from pollwaves.simulate.simulation import REFUSED, TRUTH_DOMAINS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "simulation.yaml"
SMALL = 20_000
# one wave of every format / encoding / coding style
SMALL_WAVES = ["2020-09", "2020-11", "2021-01", "2022-01", "2022-06", "2022-11"]
WAR_WAVES = ["2022-03", "2022-04", "2022-06", "2022-08", "2022-11", "2023-03", "2023-11"]


def _codebook() -> dict:
    return config.load_yaml(ROOT / "config" / "codebook.yaml")


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The default configuration, generated and written to a temporary root."""
    out = tmp_path_factory.mktemp("sim_full")
    gen = generate(CONFIG, ROOT)
    write_outputs(gen, out)
    return gen, out, gen.sim.truth()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim_small")
    gen = generate(CONFIG, ROOT, size=SMALL, waves=SMALL_WAVES)
    write_outputs(gen, out)
    return gen, out


def _truth(truth: pd.DataFrame, wave: str, q: str, domain: str = "all") -> pd.Series:
    sel = truth[(truth["wave"] == wave) & (truth["question"] == q) & (truth["domain"] == domain)]
    return sel.set_index("category")["share"] * 100


def _read_back(path: Path, mapping: dict) -> tuple[pd.DataFrame, dict]:
    fmt = mapping["format"]
    if fmt == "sav":
        df, meta = pyreadstat.read_sav(str(path))
        return df, {"label": meta.file_label, "notes": " ".join(meta.notes or [])}
    if fmt == "dta":
        df, meta = pyreadstat.read_dta(str(path))
        return df, {"label": meta.file_label, "notes": ""}
    if fmt == "csv":
        sep = ";" if mapping["encoding"] == "cp1251" else ","
        return pd.read_csv(path, encoding=mapping["encoding"], sep=sep, dtype=str), {}
    props = load_workbook(path, read_only=True).properties
    df = pd.read_excel(path, sheet_name=mapping["sheet"], dtype=str)
    return df, {"label": props.title, "notes": props.description, "created": props.created}


# -- reproducibility ----------------------------------------------------------------------


def test_same_seed_identical_different_seed_differs(tmp_path):
    waves = ["2021-01", "2022-08"]
    a = generate(CONFIG, ROOT, size=SMALL, waves=waves)
    b = generate(CONFIG, ROOT, size=SMALL, waves=waves)
    c = generate(CONFIG, ROOT, size=SMALL, waves=waves, seed=12345)
    pd.testing.assert_frame_equal(a.sim.population, b.sim.population)
    pd.testing.assert_frame_equal(a.sim.truth(), b.sim.truth())
    assert not a.sim.population.equals(c.sim.population)
    for wave in waves:
        pd.testing.assert_frame_equal(a.raws[wave].frame, b.raws[wave].frame)
        pd.testing.assert_frame_equal(a.raws[wave].data, b.raws[wave].data)
        assert not a.raws[wave].data.equals(c.raws[wave].data)
    write_outputs(a, tmp_path / "a")
    write_outputs(b, tmp_path / "b")
    write_outputs(c, tmp_path / "c")
    for wave in waves:
        mapping = a.mappings[wave]
        da, _ = _read_back(tmp_path / "a" / mapping["file"], mapping)
        db, _ = _read_back(tmp_path / "b" / mapping["file"], mapping)
        dc, _ = _read_back(tmp_path / "c" / mapping["file"], mapping)
        pd.testing.assert_frame_equal(da, db)
        assert not da.equals(dc)
        # byte-identical files (no writing time stamped into sav/dta/xlsx)
        assert (tmp_path / "a" / mapping["file"]).read_bytes() == (
            tmp_path / "b" / mapping["file"]
        ).read_bytes()


def test_waves_are_independent_streams():
    one = generate(CONFIG, ROOT, size=SMALL, waves=["2022-06"])
    two = generate(CONFIG, ROOT, size=SMALL, waves=["2021-01", "2022-06"])
    pd.testing.assert_frame_equal(one.raws["2022-06"].frame, two.raws["2022-06"].frame)


#: Committed numeric tables of the simulation, compared by value with a stated tolerance.
BY_VALUE = {"truth.csv": SHARE_ATOL, "scenario.csv": PERCENT_ATOL}


def test_committed_outputs_are_reproduced(full):
    """Deliveries, mappings and the README byte for byte; the numeric tables by value.

    Floating-point text is not bit-identical across CPUs and BLAS builds, so the population
    truth (shares, 10 significant digits) and the scenario (percent, two decimals) are
    compared by value; the integer-coded deliveries stay byte-compared.
    """
    _, out, _ = full
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert len(files) == 2 * 12 + 3
    by_value = [rel for rel in files if rel.parent == SIM_DIR and rel.name in BY_VALUE]
    assert len(by_value) == len(BY_VALUE)
    for rel in files:
        if rel in by_value:
            assert_same_values(ROOT / rel, out / rel, atol=BY_VALUE[rel.name])
        else:
            assert (ROOT / rel).read_bytes() == (out / rel).read_bytes(), (
                f"{rel} is stale: run `pollwaves simulate`"
            )


# -- population ---------------------------------------------------------------------------


def test_expected_shares_equal_margins_exactly(full):
    gen, _, _ = full
    codebook = _codebook()
    lv = levels(codebook)
    exp = expected_tables(gen.cfg, codebook, ROOT)
    codes, cell = exp["codes"], exp["cell"]
    margins = config.load_yaml(ROOT / "config" / "margins.yaml")["margins"]
    sex_age = np.array(
        [
            f"{lv['sex'][s]}_{lv['age_group'][a]}"
            for s, a in zip(codes["sex"], codes["age_group"], strict=True)
        ]
    )
    for cat, target in margins["sex_age"]["targets"].items():
        assert abs(cell[sex_age == cat].sum() - target) < 1e-10, cat
    for var in ("education", "settlement"):
        for i, cat in enumerate(lv[var]):
            assert abs(cell[codes[var] == i].sum() - margins[var]["targets"][cat]) < 1e-10
    media = cell @ exp["media"]
    assert np.allclose(
        media, [gen.cfg["media_diet"]["targets"][c] for c in lv["media_diet"]], atol=1e-10
    )
    auth = (cell[:, None] * exp["media"]).ravel() @ exp["authorities"]
    assert np.allclose(
        auth, [gen.cfg["authorities"]["targets"][c] for c in lv["authorities"]], atol=1e-10
    )
    # associations survive the raking: Minsk is more educated than other towns
    higher = codes["education"] == lv["education"].index("higher")
    share = [
        cell[higher & (codes["settlement"] == i)].sum() / cell[codes["settlement"] == i].sum()
        for i in range(3)
    ]
    assert (
        share[lv["settlement"].index("minsk")] > share[lv["settlement"].index("other_town")] + 0.1
    )


def test_population_matches_margins(full):
    gen, _, _ = full
    pop = gen.sim.population
    n = len(pop)
    margins = config.load_yaml(ROOT / "config" / "margins.yaml")["margins"]
    observed = {
        "sex_age": (pop["sex"] + "_" + pop["age_group"]).value_counts(normalize=True),
        "education": pop["education"].value_counts(normalize=True),
        "settlement": pop["settlement"].value_counts(normalize=True),
    }
    for name, shares in observed.items():
        for cat, target in margins[name]["targets"].items():
            se = np.sqrt(target * (1 - target) / n)
            assert abs(shares[cat] - target) < 4 * se, (name, cat)
    for var in ("media_diet", "authorities"):
        shares = pop[var].value_counts(normalize=True)
        for cat, target in gen.cfg[var]["targets"].items():
            assert abs(shares[cat] - target) < 4 * np.sqrt(target * (1 - target) / n), (var, cat)
    assert ((pop["settlement"] == "minsk") == (pop["oblast"] == "minsk_city")).all()
    assert not ((pop["settlement"] == "oblast_centre") & (pop["oblast"] == "minsk_region")).any()
    assert set(pop["oblast"]) == set(_codebook()["variables"]["oblast"]["categories"])
    # media diet depends on age: the old watch state media more than the young
    share = pop.groupby("age_group")["media_diet"].apply(lambda s: (s == "state_only").mean())
    assert share["55_plus"] > share["18_24"] + 0.15


# -- calibration --------------------------------------------------------------------------


def test_truth_matches_every_used_published_number(full):
    gen, _, truth = full
    used, _ = published_main(
        ROOT / "data/raw/published/toplines.csv", ROOT / "config/published_labels.yaml"
    )
    assert len(used) > 40
    scenario = gen.sim.scenario
    status = {
        (w, q): s for w, q, s in scenario[["wave", "question", "status"]].itertuples(index=False)
    }
    not_simulated = set()
    checked = 0
    simulated_waves = set(gen.sim.waves)
    for row in used.itertuples(index=False):
        key = (row.wave, row.question)
        if row.relation == "bears_on":
            continue  # another question's option that bounds this one: not a target
        if row.wave not in simulated_waves:
            continue  # published after the simulated waves (2024-2025): nothing to match
        if status.get(key) == "not_simulated":
            not_simulated.add(key)
            continue
        assert status.get(key) == "published", f"{key} constrained by row {row.row_id}"
        domain = (
            "all"
            if pd.isna(row.subgroup_variable)
            else f"{row.subgroup_variable}={row.subgroup_value}"
        )
        shares = _truth(truth, row.wave, row.question, domain)
        value = sum(shares[c] for c in row.category.split("+"))
        if row.relation == "part_of":
            assert value >= row.low - 0.5, row
        else:
            assert row.relation in ("equals", "sum_of")
            assert row.low - 0.5 <= value <= row.high + 0.5, (row.row_id, key, row.category, value)
        checked += 1
    relevant = [
        r for r in used.itertuples() if r.relation != "bears_on" and r.wave in simulated_waves
    ]
    assert checked == len(relevant) - sum(
        1 for r in relevant if (r.wave, r.question) in not_simulated
    )
    listed = {k for k, s in status.items() if s == "not_simulated"}
    assert listed == not_simulated == {("2022-01", "belarus_army_participation")}
    # every (wave, question) marked published is constrained by a used published number; an
    # item that only bears on the question (another question's option) may anchor it too
    published = {k for k, s in status.items() if s == "published"}
    anchors = {(r.wave, r.question) for r in relevant} - not_simulated
    bearing = {(r.wave, r.question) for r in used.itertuples() if r.relation == "bears_on"}
    assert anchors <= published and published - anchors <= bearing


def test_calibration_is_exact_and_fast(full):
    gen, _, truth = full
    assert max(gen.sim.residuals.values()) < 5e-4  # proportions; 0.05 pp
    for (wave, q), spec in gen.sim.targets.items():
        got = _truth(truth, wave, q)
        want = pd.Series(spec["values"])
        tol = 0.06 if (wave, q) == ("2023-03", "war_support") else 1e-6
        assert (got[want.index] - want).abs().max() < tol, (wave, q)
    sums = truth.groupby(["wave", "question", "domain"])["share"].sum()
    assert np.allclose(sums, 1.0)


def test_targets_interpolate_and_carry(full):
    gen, _, _ = full
    t = {k: v["values"] for k, v in gen.sim.targets.items()}
    assert t[("2022-03", "war_support")] == t[("2022-04", "war_support")]  # carried
    a, b, m = (t[(w, "war_support")]["support"] for w in ("2022-06", "2023-03", "2022-08"))
    assert min(a, b) < m < max(a, b)
    assert ("2021-04", "war_support") not in t  # not asked before 2022-03
    scen = gen.sim.scenario
    assert set(scen["status"]) == {"published", "assumed", "not_simulated"}
    assert not scen.duplicated(["wave", "question"]).any()
    assert len(scen) == len(t) + 1


def test_seed_paper_shares(full):
    _, _, truth = full
    for wave in ["2020-09", "2020-11", "2021-01", "2021-04", "2022-01"]:
        s = _truth(truth, wave, "alliance")
        assert 63.0 <= s["both"] + s["outside"] <= 67.5, wave  # about two thirds
    s = _truth(truth, "2022-11", "alliance")
    assert abs(s["both"] + s["outside"] - 50) <= 1
    att = truth[truth["question"].str.startswith("attitude_") & (truth["domain"] == "all")]
    assert (att.loc[att["category"] == "good", "share"] > 0.5).all()


# -- subgroup patterns --------------------------------------------------------------------


def _cross(gen, wave: str) -> dict[str, np.ndarray]:
    """Person probabilities of war_support and the (conditional) grid items in ``wave``."""
    sim = gen.sim
    grid = grid_conditional(np.stack([sim.person_probs(wave, g) for g in sim.grid], axis=1))
    out = {g: grid[:, j, :] for j, g in enumerate(sim.grid)}
    out["war_support"] = sim.person_probs(wave, "war_support")
    return out


def _conditional(gen, probs: dict, q1: str, c1: str, q2: str, c2: str) -> float:
    """P(q2 = c2 | q1 = c1) in the population (answers independent given the person)."""
    p1 = probs[q1][:, gen.sim.categories(q1).index(c1)]
    p2 = probs[q2][:, gen.sim.categories(q2).index(c2)]
    return float(p1 @ p2 / p1.sum())


def test_subgroup_directions(full):
    gen, _, truth = full
    for wave in WAR_WAVES:

        def sup(domain: str, cat: str = "support", wave: str = wave) -> float:
            return _truth(truth, wave, "war_support", domain)[cat]

        assert (
            sup("media_diet=state_only")
            > sup("media_diet=both")
            > sup("media_diet=independent_only")
        )
        assert sup("age_group=55_plus") > sup("age_group=18_24")
        assert sup("education=secondary") > sup("education=higher")
        assert sup("settlement=other_town") > sup("settlement=minsk")
        assert sup("authorities=supporter") > sup("authorities=opponent")
        assert sup("settlement=minsk", "oppose") > sup("settlement=other_town", "oppose")
        assert sup("sex=female", "hard_to_say") > sup("sex=male", "hard_to_say")
        ally = _truth(truth, wave, "alliance", "media_diet=state_only")
        assert (
            ally["russia"]
            > _truth(truth, wave, "alliance", "media_diet=independent_only")["russia"]
        )
        # war opponents rate Russia worse; war supporters rate Ukraine, Poland, EU, USA worse
        probs = _cross(gen, wave)
        assert _conditional(gen, probs, "war_support", "oppose", "attitude_russia", "bad") > (
            _conditional(gen, probs, "war_support", "support", "attitude_russia", "bad") + 0.1
        )
        for q in ("attitude_ukraine", "attitude_poland", "attitude_eu", "attitude_usa"):
            assert _conditional(gen, probs, "war_support", "support", q, "bad") > (
                _conditional(gen, probs, "war_support", "oppose", q, "bad") + 0.1
            )
    m = _truth(truth, "2023-03", "war_support", "media_diet=independent_only")
    assert abs(m["oppose"] - 81) <= 0.5 and abs(m["support"] - 7) <= 0.5
    domains = set(truth["domain"])
    assert {d.split("=")[0] for d in domains if d != "all"} == set(TRUTH_DOMAINS)


# -- samples ------------------------------------------------------------------------------


def test_selection_bias(small):
    gen, _ = small
    pop = gen.sim.population
    clean = pd.concat([r.frame[r.frame["quality"] == "clean"] for r in gen.raws.values()])
    for var, cat in [
        ("education", "higher"),
        ("settlement", "minsk"),
        ("media_diet", "independent_only"),
    ]:
        assert (clean[var] == cat).mean() > (pop[var] == cat).mean() + 0.03, (var, cat)
    assert (clean["age_group"] == "55_plus").mean() < (pop["age_group"] == "55_plus").mean() - 0.05
    for r in gen.raws.values():
        assert r.frame["person"].is_unique  # without replacement within a wave


def test_bad_interview_counts(small):
    gen, _ = small
    for wave, r in gen.raws.items():
        q = r.frame["quality"].value_counts()
        n = gen.cfg["waves"][wave]["n"]
        assert q["clean"] == n
        assert 0.05 <= (len(r.frame) - n) / n <= 0.08
        assert set(q.index) == {"clean", "speeder", "straightliner", "partial"}
        f = r.frame
        assert (f.loc[f["quality"] == "speeder", "duration_sec"] < 240).all()
        assert (f.loc[f["quality"] != "speeder", "duration_sec"] >= 240).all()
        clean_grid = f.loc[f["quality"] == "clean", gen.sim.grid]
        assert (clean_grid.nunique(axis=1) > 1).all()  # genuine respondents never straight-line
        assert (f.loc[f["quality"] == "straightliner", gen.sim.grid].nunique(axis=1) == 1).all()
        assert (f["alliance"] == REFUSED).any()
        assert not (f[gen.sim.grid] == REFUSED).any().any()  # no refusals on the grid


# -- deliveries ---------------------------------------------------------------------------


def test_delivery_round_trip_and_markers(small):
    gen, out = small
    codebook = _codebook()
    formats = set()
    for wave in SMALL_WAVES:
        mapping = config.load_yaml(out / "config" / "waves" / f"{wave}.yaml")
        assert mapping == gen.mappings[wave] and mapping["simulated"] is True
        text = (out / "config" / "waves" / f"{wave}.yaml").read_text(encoding="utf-8")
        assert text.startswith("# Mapping of the SIMULATED delivery")
        path = out / mapping["file"]
        formats.add((mapping["format"], mapping.get("encoding")))
        df, meta = _read_back(path, mapping)
        assert set(mapping["columns"]) <= set(df.columns), wave
        assert len(df) == len(gen.raws[wave].frame)
        if mapping["format"] in ("csv", "xlsx"):
            assert (df["data_status"] == "SIMULATED").all()
        if mapping["format"] != "csv":
            assert "SIMULATED" in meta["label"]
        if mapping["format"] in ("sav", "xlsx"):
            assert "SIMULATED" in meta["notes"]
        ids = df[mapping["id_column"]]
        assert ids.is_unique
        for raw, spec in mapping["columns"].items():
            values = spec.get("values")
            if values:
                present = {re.sub(r"\.0$", "", str(v)) for v in df[raw].dropna()}
                allowed = {str(k) for k in values} | {str(c) for c in mapping["missing_codes"]}
                assert present <= allowed, (wave, raw)
    assert {f for f, _ in formats} == {"sav", "dta", "csv", "xlsx"}
    assert {"cp1251", "utf-8"} <= {e for _, e in formats}
    # Russian answer text of the label-mapped wave matches exactly one codebook pattern
    mapping = gen.mappings["2021-01"]
    df, _ = _read_back(out / mapping["file"], mapping)
    for raw, spec in mapping["columns"].items():
        if not spec.get("labels"):
            continue
        cats = codebook["variables"][spec["variable"]]["categories"]
        for text in set(df[raw].dropna()):
            if re.search(mapping["missing_labels"][0], text, re.I):
                continue
            hits = [
                c for c, s in cats.items() if any(re.search(p, text, re.I) for p in s["patterns"])
            ]
            assert len(hits) == 1, (raw, text, hits)
    assert (df == "Отказ от ответа").to_numpy().any()


def test_value_labels_agree_with_values_mapping(full):
    gen, out, _ = full
    codebook = _codebook()
    for wave, mapping in gen.mappings.items():
        if mapping["format"] not in ("sav", "dta"):
            continue
        reader = pyreadstat.read_sav if mapping["format"] == "sav" else pyreadstat.read_dta
        _, meta = reader(str(out / mapping["file"]), metadataonly=True)
        for raw, spec in mapping["columns"].items():
            if "values" not in spec:
                continue
            labels = meta.variable_value_labels[raw]
            cats = codebook["variables"][spec["variable"]]["categories"]
            for code, label in labels.items():
                hits = [
                    c
                    for c, s in cats.items()
                    if any(re.search(p, label, re.I) for p in s["patterns"])
                ]
                if int(code) in mapping["missing_codes"]:
                    assert re.search("|".join(mapping["missing_labels"]), label, re.I)
                else:
                    assert hits == [spec["values"][int(code)]], (wave, raw, code, label)


def test_pipeline_harmonise_and_clean_recover_the_simulation(full):
    """The project's reader, harmoniser and cleaner recover exactly the clean respondents."""
    gen, out, _ = full
    codebook = _codebook()
    schema = ROOT / "workflow" / "schemas" / "wave.schema.yaml"
    for wave, raw in gen.raws.items():
        cfg = load_wave_config(out / "config" / "waves" / f"{wave}.yaml", schema, codebook)
        delivery = readers.read_delivery(
            out / cfg["file"], cfg["format"], encoding=cfg.get("encoding"), sheet=cfg.get("sheet")
        )
        frame = harmonise.harmonise_wave(delivery, cfg, codebook)
        kept, log = cleaning.clean_wave(frame, cfg["cleaning"], codebook, wave=wave)
        expected = raw.frame[raw.frame["quality"] == "clean"].set_index("resp_id")
        assert len(kept) == gen.cfg["waves"][wave]["n"] == (cfg["n_published"] or 850)
        assert set(kept["resp_id"]) == set(expected.index)
        removed = log.set_index("step")["n_removed"]
        counts = raw.frame["quality"].value_counts()
        assert removed["speeders"] == counts["speeder"]
        assert removed["straightliners"] == counts["straightliner"]
        assert removed["partial_completes"] == counts["partial"]
        kept = kept.set_index("resp_id").loc[expected.index]
        for col in expected.columns.intersection(kept.columns):
            want = expected[col].map(lambda v: pd.NA if v is None or v == REFUSED else v)
            got = kept[col]
            if col == "duration_sec":
                assert np.array_equal(got.to_numpy(), want.to_numpy(dtype=float)), (wave, col)
            else:
                assert got.isna().equals(want.isna()) and (got.dropna() == want.dropna()).all(), (
                    wave,
                    col,
                )


def test_cli_writes_outputs(tmp_path, capsys):
    import shutil

    for rel in ("config/codebook.yaml", "config/margins.yaml", "config/simulation.yaml",
                "data/raw/population/margins.csv"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    assert main(["simulate", "--root", str(tmp_path), "--size", str(SMALL)]) == 0
    assert "SIMULATED data" in capsys.readouterr().out
    assert len(list((tmp_path / "data/raw/waves").iterdir())) == 12
    assert len(list((tmp_path / "config/waves").glob("*.yaml"))) == 12
    assert (tmp_path / "data/raw/simulation/truth.csv").stat().st_size > 0
    assert main(["simulate", "--root", str(tmp_path / "nowhere")]) == 2
