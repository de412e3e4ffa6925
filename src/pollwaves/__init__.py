"""pollwaves: a reproducible pipeline for repeated public-opinion polls.

The package holds all the logic of the workflow (reading deliveries, harmonisation,
cleaning, raking, design-based estimation, figures and the report); the Snakemake rules
in ``workflow/`` are thin adapters around it.

Importing the package has no side effects (no logging setup, no plotting backend) and imports
nothing heavy: the public estimators, ``load_design`` and ``SurveyDesign`` are imported on
first use.
"""

__version__ = "0.1.0"

#: Public names -> the module that defines them, imported on first use (PEP 562), so that
#: ``import pollwaves.<module>`` (every workflow job) does not pay for every estimator's
#: dependencies (statsmodels, pingouin, scipy.stats).
_LAZY = {
    "weight_diagnostics": "pollwaves.survey.diagnostics",
    "wave_differences": "pollwaves.survey.differences",
    "proportions": "pollwaves.survey.estimation",
    "share_contrasts": "pollwaves.survey.estimation",
    "toplines": "pollwaves.survey.estimation",
    "weighted_logit": "pollwaves.survey.glm",
    "weighted_mnlogit": "pollwaves.survey.mnlogit",
    "rao_scott": "pollwaves.survey.raoscott",
    "rake": "pollwaves.survey.weighting",
    "trim_weights": "pollwaves.survey.weighting",
    "load_design": "pollwaves.api.design",
    "SurveyDesign": "pollwaves.api.design",
}

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
    """The public estimators and ``load_design`` / ``SurveyDesign``, imported on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pollwaves' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
