"""The report, its banner, captions and figure footers follow the waves' `simulated:` flags."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_report import NOTICE, build, make_figures, make_inputs, section

from pollwaves.analysis.model_waves import MODEL_WAVES_COLUMNS
from pollwaves.errors import InputError
from pollwaves.report import figures_extra
from pollwaves.report.provenance import Provenance
from pollwaves.stages.report import provenance

ALL_SIM = Provenance({"2022-04": True, "2022-08": True})
MIXED = Provenance({"2022-04": True, "2022-08": False})
REAL = Provenance({"2022-04": False, "2022-08": False})


@pytest.fixture
def figure_paths(tmp_path):
    return make_figures(tmp_path)


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_all_simulated_flags_give_the_default_report_byte_for_byte(figure_paths):
    default, _ = build(figure_paths)
    flagged, _ = build(figure_paths, provenance=ALL_SIM)
    assert flagged == default
    assert default.count('id="simulated-banner"') == 1


def test_mixed_waves_are_named_in_the_banner_and_captions(figure_paths):
    html, _ = build(figure_paths, provenance=MIXED)
    banner = html.split('id="simulated-banner">', 1)[1].split("</div>", 1)[0]
    assert "SIMULATED DATA." in banner
    assert "Microdata of wave 2022-04 are SIMULATED; wave 2022-08 is real." in banner
    label = "microdata (SIMULATED: 2022-04; real: 2022-08)"
    for sid in ("claims", "figures", "extensions", "methods"):
        assert label in section(html, sid) or label[0].upper() + label[1:] in section(html, sid)
    figs = section(html, "figures")
    assert f"Bottom: weighted estimates from {label}," in _text(figs)
    assert "SIMULATED microdata" not in figs
    limits = section(html, "ext-limits")
    assert "Simulated and real microdata." in limits and "those of 2022-08 are real" in limits
    reproduces = section(html, "reproduces")
    assert "SIMULATED in 2022-04" in reproduces and "real in 2022-08" in reproduces


def test_no_simulated_wave_drops_the_banner_and_the_simulated_wording(figure_paths):
    html, _ = build(figure_paths, provenance=REAL)
    assert 'id="simulated-banner"' not in html
    assert NOTICE.removeprefix("SIMULATED DATA.").strip().replace("&", "&amp;") not in html
    body = _text(section(html, "claims") + section(html, "figures") + section(html, "extensions"))
    assert "SIMULATED" not in body
    assert "real microdata" in body
    # the validation benchmark is about the simulated population, not the waves
    assert "SIMULATED population" in section(html, "methods")


def _coverage(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=MODEL_WAVES_COLUMNS)


def test_model_waves_exclusions_are_listed_near_the_models(figure_paths):
    cov = _coverage(
        ("subgroup", "war_support", "2021-06", False, "war_support", "war_support not asked"),
        ("subgroup", "war_support", "2022-04", True, "", ""),
        ("subgroup", "war_support", "2022-08", False, "media_diet", "media_diet not asked"),
        ("alliance", "alliance", "2022-08", False, "media_diet", "media_diet not asked"),
    )
    html, _ = build(figure_paths, inputs=make_inputs(model_waves=cov))
    who = section(html, "ext-who")
    notes = re.findall(r"<li>(.*?)</li>", who.split('id="model-waves"', 1)[1])
    assert notes == [
        "media_diet is not asked in wave 2022-08; that wave is left out of the subgroup model.",
        "media_diet is not asked in wave 2022-08; that wave is left out of the alliance model.",
    ]
    # nothing to say when only waves without the outcome are left out
    quiet = make_inputs(model_waves=cov.iloc[:2])
    assert 'id="model-waves"' not in build(figure_paths, inputs=quiet)[0]
    assert build(figure_paths, inputs=quiet)[0] == build(figure_paths)[0]


def test_flags_are_read_from_the_wave_mappings(tmp_path):
    paths = []
    for wave, flag in (("2022-04", True), ("2022-08", False)):
        paths.append(tmp_path / f"{wave}.yaml")
        paths[-1].write_text(f'wave: "{wave}"\nsimulated: {str(flag).lower()}\n', encoding="utf-8")
    assert provenance(paths) == MIXED
    assert provenance(None).mode == "simulated"
    bad = tmp_path / "2023-01.yaml"
    bad.write_text('wave: "2023-01"\n', encoding="utf-8")
    with pytest.raises(InputError, match="simulated"):
        provenance([bad])


def test_figure_footers_follow_the_flags():
    wt = pd.DataFrame({"wave": ["2022-04", "2022-08"], "n": [800, 820],
                       "deff_kish": [1.2, 1.3], "n_eff": [667.0, 631.0]})  # fmt: skip
    margins = pd.DataFrame({"variable": ["sex"] * 4, "category": ["male", "female"] * 2,
                            "sample_share": [0.45, 0.55, 0.47, 0.53],
                            "target_share": [0.46, 0.54, 0.46, 0.54],
                            "wave": ["2022-04", "2022-04", "2022-08", "2022-08"]})  # fmt: skip

    def footer(prov: Provenance) -> str:
        fig = figures_extra.weighting_figure(wt, margins, notice=prov.notice(NOTICE), prov=prov)
        return " ".join(" ".join(t.get_text() for t in fig.texts).split())

    assert "Raking diagnostics of the SIMULATED microdata." in footer(ALL_SIM)
    assert NOTICE in footer(ALL_SIM)
    mixed = footer(MIXED)
    assert "microdata (SIMULATED: 2022-04; real: 2022-08)" in mixed
    assert "wave 2022-08 is real." in mixed
    real = footer(REAL)
    assert "Raking diagnostics of the real microdata." in real and "SIMULATED" not in real
