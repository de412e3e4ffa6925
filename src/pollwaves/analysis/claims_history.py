"""What changed in the claims ledger since the previous build, and why.

The previous ledger is the copy of ``reports/tables/claims_ledger.csv`` that the Snakemake
driver keeps in ``.snakemake/pollwaves-last-good/`` when a run starts (``onstart:``,
:func:`pollwaves.stages.keep.backup_outputs`), before Snakemake deletes the job's declared
outputs. The ``claims`` job only reads it, so it writes no file outside its outputs.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["CHANGE_COLUMNS", "ledger_changes"]

CHANGE_COLUMNS = ["claim", "window", "source", "previous_verdict", "verdict",
                  "previous_coverage", "coverage", "reason"]  # fmt: skip
_KEY = ["claim", "window", "source"]


def _waves(s: object) -> set[str]:
    return set(str(s).split()) if isinstance(s, str) else set()


def _coverage(r: pd.Series) -> str:
    return f"{int(r['k'])} of {int(r['K'])}"


def ledger_changes(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Verdicts that differ between the ``previous`` and the ``current`` ledger, with a reason.

    The reason names what differs in the inputs of the verdict: waves gained or lost
    (coverage), otherwise the same waves with other numbers or thresholds. Ledger rows new in
    this build or gone from it are listed too. ``previous`` None (first build): no rows.
    """
    if previous is None or previous.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    prev = {tuple(r[k] for k in _KEY): r for _, r in previous.iterrows()}
    cur = {tuple(r[k] for k in _KEY): r for _, r in current.iterrows()}
    rows = []
    for key, r in cur.items():
        p = prev.get(key)
        if p is None:
            rows.append((*key, "", r["verdict"], "", _coverage(r), "new in this build"))
            continue
        if p["verdict"] == r["verdict"]:
            continue
        gained = sorted(_waves(r["waves_used"]) - _waves(p["waves_used"]))
        lost = sorted(_waves(p["waves_used"]) - _waves(r["waves_used"]))
        bits = []
        if gained:
            bits.append("waves with data added: " + ", ".join(gained))
        if lost:
            bits.append("waves with data dropped: " + ", ".join(lost))
        if int(p["K"]) != int(r["K"]):
            bits.append(f"waves in the window: {int(p['K'])} -> {int(r['K'])}")
        reason = "; ".join(bits) or "same waves; the estimates or the thresholds changed"
        rows.append((*key, p["verdict"], r["verdict"], _coverage(p), _coverage(r), reason))
    for key, p in prev.items():
        if key not in cur:
            rows.append((*key, p["verdict"], "", _coverage(p), "", "no longer evaluated"))
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)
