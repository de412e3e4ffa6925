"""pollwaves: a reproducible pipeline for repeated public-opinion polls.

The package holds all the logic of the workflow (reading deliveries, harmonisation,
cleaning, raking, design-based estimation, figures and the report); the Snakemake rules
in ``workflow/`` are thin adapters around it.

Importing the package has no side effects (no logging setup, no plotting backend).
``load_design`` and ``SurveyDesign`` (:mod:`pollwaves.api`, which reads a built project) are
imported on first use.
"""

__version__ = "0.1.0"

from pollwaves.survey.diagnostics import weight_diagnostics
from pollwaves.survey.differences import wave_differences
from pollwaves.survey.estimation import proportions, share_contrasts, toplines
from pollwaves.survey.glm import weighted_logit
from pollwaves.survey.mnlogit import weighted_mnlogit
from pollwaves.survey.raoscott import rao_scott
from pollwaves.survey.weighting import rake, trim_weights

__all__ = [
    "SurveyDesign",
    "__version__",
    "load_design",
    "proportions",
    "rake",
    "rao_scott",
    "share_contrasts",
    "toplines",
    "trim_weights",
    "wave_differences",
    "weight_diagnostics",
    "weighted_logit",
    "weighted_mnlogit",
]


def __getattr__(name: str):
    """``pollwaves.load_design`` and ``pollwaves.SurveyDesign``, imported on first use."""
    if name in ("load_design", "SurveyDesign"):
        from pollwaves.api import design

        return getattr(design, name)
    raise AttributeError(f"module 'pollwaves' has no attribute {name!r}")
