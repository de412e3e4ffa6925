"""Target shares of the simulation: anchors, interpolation and the scenario table.

The anchors (``targets:`` in ``config/simulation.yaml``) hold full target vectors in
percent for the waves with published numbers (plus a few documented assumptions). Other
waves are linearly interpolated in time between the fieldwork mid-dates of the two
neighbouring anchors; outside the anchor range the nearest anchor is carried.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pollwaves.config import mid_date
from pollwaves.errors import InputError

__all__ = ["SCENARIO_COLUMNS", "asked_questions", "scenario_table", "wave_targets"]

SCENARIO_COLUMNS = ["wave", "question", "status", "basis", "target_percent"]


def asked_questions(codebook: dict, wave: str) -> list[str]:
    """Questions asked in ``wave`` (codebook order; ``first_wave`` respected)."""
    return [
        name
        for name, spec in codebook["variables"].items()
        if spec.get("kind") == "question" and wave >= str(spec.get("first_wave", "0000-00"))
    ]


def _check_anchor(q: str, wave: str, anchor: dict, categories: list[str]) -> dict[str, float]:
    values = {str(k): float(v) for k, v in anchor["values"].items()}
    key = f"targets.{q}.{wave}.values"
    if list(values) != categories:
        raise InputError(
            f"target categories {list(values)} differ from the codebook {categories}",
            key=key,
            hint="list every codebook category of the question, in codebook order",
        )
    if abs(sum(values.values()) - 100.0) > 1e-6 or min(values.values()) <= 0:
        raise InputError(
            f"targets must be positive and sum to 100 (sum {sum(values.values()):.4f})",
            key=key,
            hint="correct the assumed categories",
        )
    return values


def wave_targets(cfg: dict, codebook: dict) -> dict[tuple[str, str], dict[str, Any]]:
    """Full target vector (percent), status and basis of every simulated (wave, question).

    Returns
    -------
    dict
        ``{(wave, question): {"values": {category: percent}, "status": "published" |
        "assumed", "basis": str}}`` for every wave of the config and every question asked.
    """
    waves = cfg["waves"]
    mids = {w: mid_date(spec["fieldwork"]) for w, spec in waves.items()}
    subgroups = cfg.get("subgroup_targets") or []
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for q, anchors in cfg["targets"].items():
        categories = [str(c) for c in codebook["variables"][q]["categories"]]
        unknown = [w for w in anchors if w not in waves]
        if unknown:
            raise InputError(f"anchor wave {unknown[0]} is not a wave", key=f"targets.{q}")
        anchor = {w: _check_anchor(q, w, a, categories) for w, a in anchors.items()}
        order = sorted(anchor, key=lambda w: mids[w])
        for wave in waves:
            if q not in asked_questions(codebook, wave):
                continue
            if wave in anchor:
                spec = anchors[wave]
                published = [str(c) for c in spec.get("published") or []]
                extra = [
                    f"{s['variable']}={s['level']} {s['category']} {s['value']} "
                    f"(published {s['published']})"
                    for s in subgroups
                    if s["wave"] == wave and s["question"] == q
                ]
                status = "published" if published or extra else "assumed"
                basis = f"anchor; published: {', '.join(published) or 'none'}; " + " ".join(
                    str(spec.get("note", "")).split()
                )
                if extra:
                    basis += "; subgroup targets: " + ", ".join(extra)
                values = anchor[wave]
            else:
                before = [w for w in order if mids[w] < mids[wave]]
                after = [w for w in order if mids[w] > mids[wave]]
                status = "assumed"
                if not before or not after:
                    near = after[0] if not before else before[-1]
                    values = dict(anchor[near])
                    basis = f"carried from the nearest anchor {near} (outside the anchor range)"
                else:
                    a, b = before[-1], after[0]
                    t = (mids[wave] - mids[a]) / (mids[b] - mids[a])
                    values = {c: (1 - t) * anchor[a][c] + t * anchor[b][c] for c in categories}
                    basis = (
                        f"linear interpolation between anchors {a} and {b} "
                        f"(fieldwork mid-dates, weight {t:.3f} on {b})"
                    )
            out[(wave, q)] = {"values": values, "status": status, "basis": basis}
    for wave in waves:
        for q in asked_questions(codebook, wave):
            if (wave, q) not in out:
                raise InputError(
                    f"no targets for question {q!r}", key=f"targets.{q}", hint="add an anchor"
                )
    return out


def scenario_table(
    cfg: dict, codebook: dict, targets: dict[tuple[str, str], dict[str, Any]]
) -> pd.DataFrame:
    """One row per simulated (wave, question) plus the published but not simulated ones."""
    order = {q: i for i, q in enumerate(codebook["variables"])}
    rows = [
        {
            "wave": wave,
            "question": q,
            "status": spec["status"],
            "basis": spec["basis"],
            "target_percent": "; ".join(f"{c}={v:.2f}" for c, v in spec["values"].items()),
        }
        for (wave, q), spec in targets.items()
    ]
    for item in cfg.get("not_simulated") or []:
        if (item["wave"], item["question"]) in targets:
            raise InputError(
                f"{item['wave']} {item['question']} is simulated but listed as not_simulated",
                key="not_simulated",
            )
        rows.append(
            {
                "wave": str(item["wave"]),
                "question": str(item["question"]),
                "status": "not_simulated",
                "basis": " ".join(str(item["reason"]).split()),
                "target_percent": "",
            }
        )
    df = pd.DataFrame(rows, columns=SCENARIO_COLUMNS)
    df["_q"] = df["question"].map(order)
    df = df.sort_values(["wave", "_q"], kind="stable").drop(columns="_q")
    return df.reset_index(drop=True).astype("str")
