"""The survey-statistics core: the part of pollwaves that must equal R ``survey``.

Pure functions on DataFrames: design variance (Taylor linearisation), proportions, toplines
and contrasts, raking, trimming and weight diagnostics, design-based logit and multinomial
logit, Rao-Scott tests, wave differences and reliability flags. Nothing here reads files or
knows about waves, questions or the Belarus study; it may import only ``pollwaves.errors``.
Weights are sampling (expansion) weights throughout, never frequency weights.
"""
