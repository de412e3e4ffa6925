"""The summary that ``pollwaves add-wave`` prints (:class:`AddWaveResult`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pollwaves.intake.propose import ColumnProposal
from pollwaves.intake.reimport import Reimport
from pollwaves.intake.render import printable

__all__ = ["AddWaveResult"]


@dataclass
class AddWaveResult:
    """What :func:`add_wave` did (see :meth:`summary`)."""

    wave: str
    root: Path
    source: Path
    config_path: Path
    delivery_path: Path
    fmt: str
    encoding: str | None
    n_rows: int
    proposals: list[ColumnProposal]
    fieldwork_assumed: bool
    missing_required: list[str] = field(default_factory=list)
    not_asked: list[str] = field(default_factory=list)
    reimport: Reimport | None = None

    def summary(self) -> str:
        """Short human-readable summary with the counts and the next step."""
        confirmed = [p for p in self.proposals if p.variable and p.confirmed]
        review = [p for p in self.proposals if p.variable and not p.confirmed]
        unmapped = [p for p in self.proposals if not p.variable]
        enc = f", encoding {self.encoding}" if self.encoding else ""
        config, delivery = (
            Path(os.path.relpath(p, self.root)).as_posix()
            for p in (self.config_path, self.delivery_path)
        )
        lines = [
            f"add-wave {self.wave}: {self.source} ({self.fmt}, {self.n_rows} rows, "
            f"{len(self.proposals)} columns{enc})",
            f"  mapped (confirmed): {len(confirmed):3d}  "
            + ", ".join(f"{p.column}->{p.variable}" for p in confirmed),
            f"  needs review:       {len(review):3d}  "
            + ", ".join(f"{p.column}->{p.variable}" for p in review),
            f"  unmapped (ignored): {len(unmapped):3d}  " + ", ".join(p.column for p in unmapped),
        ]
        if self.missing_required:
            missing = ", ".join(self.missing_required)
            lines.append(f"  NOT FOUND (required): {missing}; map them by hand")
        if self.not_asked:
            lines.append(f"  not asked (not_asked): {', '.join(self.not_asked)}")
        derived = [p for p in self.proposals if p.variable and p.derive]
        if derived:
            lines.append(
                "  derived: "
                + ", ".join(f"{p.column}->{p.variable} (derive: {p.derive})" for p in derived)
            )
        lines += self._reimport_lines()
        if self.fieldwork_assumed:
            lines.append("  fieldwork: ASSUMED whole month; pass --fieldwork START END or edit it")
        lines += [
            f"wrote {config}",
            f"copied the delivery to {delivery}",
        ]
        if review:
            lines.append(
                f"Next: resolve the {len(review)} `needs review` column(s) in {config} "
                f"(README section 'Adding a new wave'; `pollwaves confirm {self.wave} COLUMN ...` "
                f"marks them reviewed), then run `pollwaves check-wave {self.wave}` and "
                "`snakemake --cores all`."
            )
        else:
            lines.append(
                f"Next: glance at {config} (fieldwork, n_published, simulated, not_asked), then "
                f"run `pollwaves check-wave {self.wave}` and `snakemake --cores all`."
            )
        return "\n".join(printable(line) for line in lines)  # a header may hold a line break

    def _reimport_lines(self) -> list[str]:
        """What a re-import kept and re-proposed."""
        if self.reimport is None:
            return []
        if self.reimport.note:
            return [f"  re-import: nothing kept: {self.reimport.note}"]
        kept = [p.column for p in self.proposals if p.kept is not None]
        lines = [f"  kept as reviewed:   {len(kept):3d}  {', '.join(kept)}"]
        changed = self.reimport.changed
        lines.append(
            f"  re-proposed:        {len(changed):3d}  "
            + "; ".join(f"{col} ({why})" for col, why in changed.items())
        )
        return lines
