"""The add-wave patterns of the codebook, compiled.

``variables.<var>.label_patterns`` (a raw column label that names the variable) and
``missing_patterns`` (``refusal`` and ``dont_know`` answers) of ``config/codebook.yaml``;
category ``patterns`` are matched where they are used, as harmonisation matches them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pollwaves.errors import InputError

__all__ = ["Patterns", "matches_any", "patterns"]


@dataclass
class Patterns:
    """The compiled add-wave patterns of a codebook (see :func:`patterns`)."""

    label: dict[str, list[re.Pattern[str]]]
    refusal: list[re.Pattern[str]]
    dont_know: list[re.Pattern[str]]
    refusal_text: list[str]


def _compile(items: list[str], key: str) -> list[re.Pattern[str]]:
    out = []
    for i, pattern in enumerate(items):
        try:
            out.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            hint = "fix the pattern (Python re syntax; double backslashes in YAML)"
            msg = f"invalid regular expression {pattern!r}: {exc}"
            raise InputError(
                msg, file="config/codebook.yaml", key=f"{key}.{i}", hint=hint
            ) from None
    return out


def patterns(codebook: dict) -> Patterns:
    """Compile ``label_patterns`` and ``missing_patterns`` of a codebook.

    Parameters
    ----------
    codebook : dict
        The loaded codebook.

    Returns
    -------
    Patterns
        Label patterns per variable, refusal and don't-know patterns.

    Raises
    ------
    InputError
        On an invalid regular expression (naming its key).
    """
    miss = codebook.get("missing_patterns") or {}
    label = {
        var: _compile(spec.get("label_patterns") or [], f"variables.{var}.label_patterns")
        for var, spec in codebook["variables"].items()
    }
    return Patterns(
        label=label,
        refusal=_compile(miss.get("refusal") or [], "missing_patterns.refusal"),
        dont_know=_compile(miss.get("dont_know") or [], "missing_patterns.dont_know"),
        refusal_text=list(miss.get("refusal") or []),
    )


def matches_any(pats: list[re.Pattern[str]], text: str) -> bool:
    """Whether any compiled pattern is found in ``text``.

    Parameters
    ----------
    pats : list of re.Pattern
        Compiled patterns.
    text : str
        The text searched.

    Returns
    -------
    bool
    """
    return any(p.search(text) for p in pats)
