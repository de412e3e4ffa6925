"""The analyst-facing API: a survey design object, crosstabs and labelled exports.

``pollwaves.load_design(waves, root=".")`` reads a built project (settings, codebook, the
weighted wave files) and returns a :class:`~pollwaves.api.design.SurveyDesign` with
raking-aware ``proportions``, ``crosstab``, ``logit`` and domain ``subset``;
:func:`~pollwaves.api.export.export_waves` writes the stacked, labelled file for SPSS,
Stata, R and Arrow users. The bundled respondent-level data are SIMULATED.
"""

from pollwaves.api.crosstab import Crosstab, crosstab_frame
from pollwaves.api.design import SurveyDesign, load_design

__all__ = ["Crosstab", "SurveyDesign", "crosstab_frame", "load_design"]
