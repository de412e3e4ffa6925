"""Input errors that tell the user what is wrong, where, and how to fix it."""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """Bad input data or configuration.

    The message names every known location of the problem (wave, file, column, row,
    offending value) and ends with a hint on how to fix it. The pipeline turns it into a
    non-zero exit; no output is written for the failing step.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    wave, file, column, respondent, row, value, key : optional
        Where the problem is. ``respondent`` is the respondent id (``resp_id``): name it
        whenever the problem is one respondent's; ``row`` is the 1-based data row of the
        delivery (header excluded), for rows without a usable id; ``key`` is a configuration
        key path such as ``columns.q3.values``.
    hint : str, optional
        How to fix it.
    """

    def __init__(
        self,
        problem: str,
        *,
        wave: str | None = None,
        file: str | None = None,
        column: str | None = None,
        respondent: str | None = None,
        row: int | None = None,
        value: Any = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.wave = wave
        self.file = file
        self.column = column
        self.respondent = respondent
        self.row = row
        self.value = value
        self.key = key
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        for name in ("wave", "file", "key", "column", "respondent", "row"):
            val = getattr(self, name)
            if val is not None:
                where.append(f"{name}={val}")
        if self.value is not None:
            where.append(f"value={self.value!r}")
        msg = self.problem
        if where:
            msg += " [" + ", ".join(where) + "]"
        if self.hint:
            msg += f". How to fix: {self.hint}"
        return msg
