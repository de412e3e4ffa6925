"""Which microdata are SIMULATED: the report's and the figures' wording from the waves' flags.

Each wave mapping (``config/waves/{wave}.yaml``) says whether its delivery is simulated
(``simulated: true``). The report's banner, its captions and the figure footers follow
those flags: every wave simulated (the bundled study) gives today's wording, word for
word; a mix names the simulated and the real waves; no simulated wave drops the
simulated-data banner and notice for the microdata. The notice text itself comes from
config.yaml ``study.simulated_notice``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["ALL_SIMULATED", "Provenance"]


def _waves(waves: list[str]) -> str:
    return ("wave " if len(waves) == 1 else "waves ") + ", ".join(waves)


@dataclass(frozen=True)
class Provenance:
    """The ``simulated`` flag of each wave, and the wording that follows from them.

    Parameters
    ----------
    flags : mapping of str to bool
        ``wave -> simulated``. Empty means "every wave simulated" (the bundled study).
    """

    flags: Mapping[str, bool] = field(default_factory=dict)

    @property
    def simulated_waves(self) -> list[str]:
        """Waves whose delivery is simulated, sorted."""
        return sorted(w for w, s in self.flags.items() if s)

    @property
    def real_waves(self) -> list[str]:
        """Waves whose delivery is real, sorted."""
        return sorted(w for w, s in self.flags.items() if not s)

    @property
    def mode(self) -> str:
        """``simulated`` (no real wave), ``real`` (no simulated wave) or ``mixed``."""
        if not self.real_waves:
            return "simulated"
        return "real" if not self.simulated_waves else "mixed"

    @property
    def banner(self) -> bool:
        """Whether the simulated-data banner and notices are shown (some wave simulated)."""
        return self.mode != "real"

    @property
    def waves_sentence(self) -> str:
        """``SIMULATED waves: ...; real waves: ...`` (mixed only; empty otherwise)."""
        if self.mode != "mixed":
            return ""
        return (
            f"Microdata of {_waves(self.simulated_waves)} are SIMULATED; "
            f"{_waves(self.real_waves)} {'is' if len(self.real_waves) == 1 else 'are'} real."
        )

    @property
    def microdata(self) -> str:
        """``SIMULATED microdata`` / ``microdata (SIMULATED: waves ...; real: waves ...)`` /
        ``real microdata``."""
        if self.mode == "mixed":
            sim, real = (", ".join(w) for w in (self.simulated_waves, self.real_waves))
            return f"microdata (SIMULATED: {sim}; real: {real})"
        return "real microdata" if self.mode == "real" else "SIMULATED microdata"

    @property
    def microdata_lc(self) -> str:
        """Lower-case short form: ``simulated microdata`` / ``simulated and real microdata`` /
        ``real microdata``."""
        return {"simulated": "simulated microdata", "mixed": "simulated and real microdata",
                "real": "real microdata"}[self.mode]  # fmt: skip

    @property
    def adjective(self) -> str:
        """``SIMULATED`` / ``SIMULATED and real`` / ``real``."""
        return {"simulated": "SIMULATED", "mixed": "SIMULATED and real", "real": "real"}[self.mode]

    @property
    def source(self) -> str:
        """The microdata series in legends and labels: ``simulated`` or ``microdata``."""
        return "simulated" if self.mode == "simulated" else "microdata"

    @property
    def tag(self) -> str:
        """Legend prefix of the microdata series: ``SIMULATED`` or ``Microdata``."""
        return "SIMULATED" if self.mode == "simulated" else "Microdata"

    @property
    def heading(self) -> str:
        """Capitalised :attr:`microdata` for headings and table headers."""
        text = self.microdata
        return text if text.startswith("SIMULATED") else text[0].upper() + text[1:]

    def notice(self, notice: str) -> str:
        """The figure notice: ``notice`` (all simulated), ``notice`` plus the waves (mixed),
        empty (no simulated wave)."""
        if self.mode == "simulated":
            return notice
        return (
            "" if self.mode == "real" else f"{' '.join(str(notice).split())} {self.waves_sentence}"
        )


#: Every wave simulated: today's wording.
ALL_SIMULATED = Provenance()
