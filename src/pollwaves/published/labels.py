"""Mapping published (question, answer, subgroup) labels onto the codebook.

``config/published_labels.yaml`` (validated by ``workflow/schemas/published_labels.schema.yaml``
and checked against the codebook) maps each published question and answer label to a
codebook question and category; a number valid for several codebook questions
(``expand_to``) becomes one row each, keeping ``row_id``, with an ``expanded_from`` note.

``bearing:`` maps single answers of a published question that is NOT in the codebook onto a
codebook question with relation ``bears_on``: a different question whose answer bears on the
category, never an estimate of it (e.g. "the army should join the war on Russia's side", an
option of the multi-option "position of Belarus" question, for the army-participation "yes").
The other answers of such a question stay unmapped. Every mapping ``note`` (the documented
wording difference) is carried into ``mapping_note``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pollwaves.config import load_yaml, validate
from pollwaves.errors import InputError
from pollwaves.published.parse import RAW_COLUMNS, PathLike

__all__ = ["HARMONISED_COLUMNS", "LABELS_HINT", "harmonise_published", "load_published_labels"]

HARMONISED_COLUMNS = ["canonical_question", "category", "relation"]
HARMONISED_COLUMNS += ["subgroup_canonical_variable", "subgroup_category", "expanded_from"]
HARMONISED_COLUMNS += ["mapping_note"]
SCHEMA_PATH = Path(__file__).resolve().parents[3] / "workflow/schemas/published_labels.schema.yaml"
LABELS_FILE = "config/published_labels.yaml"
LABELS_HINT = f"add it to {LABELS_FILE}"


def _targets(spec: dict) -> list[str]:
    return list(spec["expand_to"]) if "expand_to" in spec else [spec["canonical"]]


def _check_codebook(labels: dict, codebook_path: Path, file: str) -> None:
    """Every canonical name and category id of ``labels`` must exist in the codebook."""
    variables = (load_yaml(codebook_path) or {}).get("variables", {})
    items = []  # (key path, codebook variable, kind, {key path: category id})
    for q, spec in labels["questions"].items():
        cats = {f"questions.{q}.answers.{a}": e["category"] for a, e in spec["answers"].items()}
        key = f"questions.{q}.{'expand_to' if 'expand_to' in spec else 'canonical'}"
        items += [(key, t, "question", cats) for t in _targets(spec)]
    for q, spec in (labels.get("bearing") or {}).items():
        for a, e in spec["answers"].items():
            key = f"bearing.{q}.answers.{a}"
            items.append((f"{key}.question", e["question"], "question", {key: e["category"]}))
    for v, spec in labels["subgroups"].items():
        cats = {f"subgroups.{v}.values.{k}": c for k, c in spec["values"].items()}
        items.append((f"subgroups.{v}.canonical", spec["canonical"], "demographic", cats))
    for key, name, kind, cats in items:
        var = variables.get(name) if isinstance(variables.get(name), dict) else {}
        known = var.get("categories") or {}
        bad = [(k, c) for k, cs in cats.items() for c in cs.split("+") if c not in known]
        if var.get("kind") != kind or bad:
            key, value = (key, name) if var.get("kind") != kind else bad[0]
            hint = f"use a codebook {kind} and its category ids ({codebook_path})"
            msg = f"not a codebook {kind} or not one of its categories"
            raise InputError(msg, file=file, key=key, value=value, hint=hint)


def load_published_labels(
    path: PathLike, *, schema_path: PathLike | None = None, codebook_path: PathLike | None = None
) -> dict:
    """Load ``config/published_labels.yaml``; validate it (Draft 2020-12, pollwaves.config).

    Bad YAML, a duplicate key, a schema violation or (with ``codebook_path``) a name unknown
    to the codebook raises :class:`InputError` naming the key path.

    Parameters
    ----------
    path : str or Path
        The label mapping file.
    schema_path, codebook_path : str or Path, optional
        Schema (default ``workflow/schemas/published_labels.schema.yaml``); if a codebook
        is given, every canonical name and category id must exist in it.

    Returns
    -------
    dict
        The validated mapping (``schema_version, rules, questions, subgroups, overrides``
        and optionally ``bearing``).
    """
    labels = load_yaml(path)
    validate(labels, schema_path or SCHEMA_PATH, source=str(path))
    if codebook_path is not None:
        _check_codebook(labels, Path(codebook_path), str(path))
    return labels


def harmonise_published(df: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """Map published questions, answers and subgroups onto the codebook.

    An unmapped answer or subgroup value of a modelled question raises :class:`InputError`
    naming wave, row and value.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`load_published`.
    labels : dict
        Output of :func:`load_published_labels`.

    Returns
    -------
    pandas.DataFrame
        ``df`` plus ``canonical_question, category, relation, subgroup_canonical_variable,
        subgroup_category, expanded_from, mapping_note`` (NA for unmapped questions);
        ``expand_to`` rows are repeated once per target question, keeping ``row_id``;
        ``bearing`` answers have relation ``bears_on`` and their wording note.
    """
    questions, subgroups = labels["questions"], labels.get("subgroups") or {}
    bearing = labels.get("bearing") or {}
    canonical_names = {t for spec in questions.values() for t in _targets(spec)}
    values: list[list] = []
    for rec in df.to_dict("records"):
        q, answer, raw_var, raw_val = (rec[c] for c in ("question", "answer", *RAW_COLUMNS[7:9]))
        kw = {"wave": rec["wave_id"], "row": int(rec["row_id"])}
        spec = questions.get(q)
        bears = (bearing.get(q) or {}).get("answers", {}).get(str(answer).strip())
        if spec is None and bears is not None:  # another question, bearing on a category
            target, cat, rel = bears["question"], bears["category"], bears["relation"]
            values.append([[target], cat, rel, pd.NA, pd.NA, pd.NA, bears["note"]])
            continue
        if spec is None:
            if q in canonical_names:  # e.g. a future `attitude_eu` row: never drop it silently
                raise InputError("codebook question not mapped", value=q, hint=LABELS_HINT, **kw)
            values.append([[pd.NA]] + [pd.NA] * 6)
            continue
        ans = spec["answers"].get(str(answer).strip())
        if ans is None:
            hint, msg = f"{LABELS_HINT} under questions.{q}.answers", "answer label not mapped"
            raise InputError(msg, column="answer", value=answer, hint=hint, **kw)
        sub_var = subgroups[raw_var]["canonical"] if raw_var in subgroups else pd.NA
        sub_cat = subgroups[raw_var]["values"].get(raw_val) if raw_var in subgroups else pd.NA
        if sub_cat is None:
            hint, msg = f"{LABELS_HINT} under subgroups.{raw_var}.values", "subgroup not mapped"
            raise InputError(msg, column="subgroup_value", value=raw_val, hint=hint, **kw)
        note = f"{q} (row {kw['row']}): {spec['expand_note']}" if "expand_to" in spec else pd.NA
        mapped = [_targets(spec), ans["category"], ans["relation"], sub_var, sub_cat, note]
        values.append([*mapped, ans.get("note", pd.NA)])
    out = df.copy()
    for j, name in enumerate(HARMONISED_COLUMNS):
        out[name] = [v[j] for v in values]
    out = out.explode("canonical_question", ignore_index=True)
    return out.astype(dict.fromkeys(HARMONISED_COLUMNS, "str"))
