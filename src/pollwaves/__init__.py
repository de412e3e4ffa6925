"""pollwaves: a reproducible pipeline for repeated public-opinion polls.

The package holds all the logic of the workflow (reading deliveries, harmonisation,
cleaning, raking, design-based estimation, figures and the report); the Snakemake rules
in ``workflow/`` are thin adapters around it.

Importing the package has no side effects (no logging setup, no plotting backend).
"""

__version__ = "0.1.0"

SIMULATED_NOTICE = (
    "SIMULATED DATA: the respondent-level poll data bundled with pollwaves are simulated "
    "(calibrated to published Chatham House toplines); they are not real survey responses."
)
