"""Compare committed numeric text files by value, not byte for byte.

Floating-point text is not bit-identical across CPUs and BLAS builds: a regenerated share can
differ from the committed one in its last written digit. Tables are written with 10
significant digits (:data:`pollwaves.files.FLOAT_FORMAT`); a regenerated table matches the
committed one when its header, its row count and every non-numeric text are equal, and every
number (in a numeric cell or inside a text cell such as ``russia=26.80; eu=8.70``) is within
``atol`` of the committed one. The tolerance is stated per file: :data:`SHARE_ATOL` for
shares written with 10 significant digits, :data:`PERCENT_ATOL` (one unit of the last
digit) for percentages written with two decimals.
Integer-coded deliveries are not compared here: they stay byte-compared.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

#: Absolute tolerance on regenerated shares (proportions in [0, 1], 10 significant digits).
SHARE_ATOL = 1e-8
#: Absolute tolerance on percentages written with two decimals (one unit of the last digit).
PERCENT_ATOL = 0.01

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def value_differences(expected: str, actual: str, atol: float = SHARE_ATOL) -> list[str]:
    """Differences between two CSV texts compared by value; empty when they match.

    Parameters
    ----------
    expected, actual : str
        The committed and the regenerated CSV text.
    atol : float
        Absolute tolerance on every number.

    Returns
    -------
    list of str
        One line per difference (row, column, both cells), at most 20.
    """
    rows_e = list(csv.reader(io.StringIO(expected)))
    rows_a = list(csv.reader(io.StringIO(actual)))
    if not rows_e or not rows_a or rows_e[0] != rows_a[0]:
        return [f"headers differ: {rows_e[:1]} != {rows_a[:1]}"]
    if len(rows_e) != len(rows_a):
        return [f"row counts differ: {len(rows_e) - 1} != {len(rows_a) - 1}"]
    header, out = rows_e[0], []
    for i, (re_, ra) in enumerate(zip(rows_e[1:], rows_a[1:], strict=True), start=1):
        if len(re_) != len(ra):
            out.append(f"row {i}: {len(re_)} != {len(ra)} cells")
            continue
        for col, a, b in zip(header, re_, ra, strict=True):
            if not _cells_match(a, b, atol):
                out.append(f"row {i}, column {col}: {a!r} != {b!r}")
        if len(out) >= 20:
            break
    return out


def _cells_match(a: str, b: str, atol: float) -> bool:
    if a == b:
        return True
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False  # the text around the numbers differs
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True):
        if not math.isclose(float(x), float(y), rel_tol=0.0, abs_tol=atol * (1 + 1e-9)):
            return False
    return True


def assert_same_values(expected: Path, actual: Path, atol: float = SHARE_ATOL) -> None:
    """Assert that two CSV files hold the same table by value (see the module docstring)."""
    diffs = value_differences(
        expected.read_text(encoding="utf-8"), actual.read_text(encoding="utf-8"), atol
    )
    assert not diffs, f"{expected} differs from {actual} by value:\n" + "\n".join(diffs)
