"""The report's figures: name, title, alt text and caption of each, in report order.

The texts are templates: ``{level}`` is the confidence level and ``{microdata}`` (and its
variants) the wording of the waves' provenance, filled in by :func:`figure_specs`. No HTML
here; the report (:mod:`pollwaves.report.html`) renders them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollwaves.report.provenance import ALL_SIMULATED, Provenance
from pollwaves.report.tables import level_label

__all__ = ["FIGURES", "FigureSpec", "figure_specs"]


@dataclass(frozen=True)
class FigureSpec:
    name: str
    title: str
    alt: str
    caption: str


#: The report's figures in order; ``{level}`` in a text is the confidence level (``95%``),
#: ``{microdata}``, ``{microdata_lc}`` and ``{source}`` the microdata wording
#: (:class:`~pollwaves.report.provenance.Provenance`).
FIGURES = (
    FigureSpec(
        "war_support_trend", "War support by wave (the paper's first diagram)",
        "Stacked bars and dot-and-interval charts by wave of support for Russia's military "
        "actions in Ukraine (support, partly, do not support, hard to say). Top: the real "
        "published Chatham House numbers; bottom: weighted estimates from {microdata_lc}, each "
        "answer with its {level} confidence interval.",
        "Top rows: the real numbers published by Chatham House (sources in the table of "
        "sources below), stacked where a wave was published with every answer and otherwise "
        "shown one by one; a number published as a bound (“more than 30”) is a bar from the "
        "bound upward (to 100% unless the other published answers set a lower ceiling), not "
        "a measured value. Bottom rows: "
        "weighted estimates from {microdata}; the dot chart gives every answer of the stack "
        "with its {level} confidence interval. Answers run from support to no support, with "
        "“hard to say” last.",
    ),
    FigureSpec(
        "alliance_trend", "Preferred union by wave (the paper's second diagram)",
        "Stacked bars and dot-and-interval charts by wave of the preferred geopolitical union "
        "(Russia, neutral, EU, hard to say), the neutral answers outlined in black and a dashed "
        "line at the full-scale invasion. Top: the real published numbers, most of them bounds "
        "drawn as bars; bottom: {microdata_lc}, each answer with its {level} confidence "
        "interval.",
        "Neutral means a union with both Russia and the EU, or no union (outlined). Top: the "
        "real numbers published by Chatham House (sources below). Most published neutral "
        "shares are bounds (“at least 25%”): each is a bar from the bound upward (to 100% "
        "unless the other published answers set a lower ceiling); the share lies somewhere "
        "on the bar, not at its foot. Bottom: weighted "
        "estimates from {microdata}, every answer, the neutral share included, with its "
        "{level} confidence interval. Dashed line: the full-scale invasion.",
    ),
    FigureSpec(
        "poll_average", "Poll averages with {level} bands",
        "Line charts over time, one panel per series (war support, opposition, neutral union, "
        "union with Russia, good attitude to Russia): smoothed poll average with its {level} band "
        "and the observed waves with {level} intervals, published dashed grey, {source} coloured; "
        "strips at the bottom mark long spans without a poll.",
        "A smoothed average of the polls (a local-level model on the logit scale), drawn for "
        "the real published numbers (grey, dashed; their intervals assume a design effect) "
        "and for the {microdata} (coloured). Panels of one question share one vertical scale. "
        "The band widens where no poll was fielded for a long time: those spans are marked by "
        "the strips at the bottom of each panel. Dotted line: full-scale invasion.",
    ),
    FigureSpec(
        "subgroup_effects", "Who supports the war: average marginal effects",
        "Forest plot of differences in the probability of supporting the war between subgroups"
        " (sex, age, education, settlement, media diet) and their reference groups, with {level} "
        "confidence intervals, from {microdata_lc}.",
        "How much more or less likely each group is to support the war than its reference "
        "group (percentage points), from a weighted logistic model of the pooled war waves of "
        "the {microdata}; {level} confidence intervals.",
    ),
    FigureSpec(
        "attitudes_by_stance", "Attitudes to countries by stance on the war",
        "Five line charts, one per country (Russia, Ukraine, Poland, EU, USA), of the share with"
        " a good attitude per war wave for supporters, partial supporters, opponents and "
        "undecided respondents, with {level} intervals, from {microdata_lc}.",
        "Weighted share with a good attitude to each country by stance on the war, per wave, "
        "from the {microdata}, with {level} confidence intervals. Dashed line: 50%.",
    ),
    FigureSpec(
        "weighting", "Weighting diagnostics",
        "Bar chart of sample size and effective sample size per wave with design effects, and "
        "dot plots of the unweighted sample share of each raking category per wave against its "
        "target share.",
        "How much the weighting of the {microdata} costs and corrects: respondents and the "
        "effective sample size per wave (design effect above the bars, or a line on the "
        "right axis when there are too many waves to label), and each wave's "
        "unweighted sample shares against the population targets it is weighted to (the "
        "targets are derived assumptions, see the methods).",
    ),
)  # fmt: skip


def figure_specs(level: float, prov: Provenance = ALL_SIMULATED) -> tuple[FigureSpec, ...]:
    """:data:`FIGURES` with the confidence level (``estimation.level``) and the microdata
    wording of ``prov`` (the waves' ``simulated`` flags) filled in."""
    fill = {"{level}": level_label(level), "{microdata}": prov.microdata,
            "{microdata_lc}": prov.microdata_lc, "{source}": prov.source}  # fmt: skip

    def sub(text: str) -> str:
        for key, val in fill.items():
            text = text.replace(key, val)
        return text

    return tuple(
        FigureSpec(f.name, *(sub(s) for s in (f.title, f.alt, f.caption))) for f in FIGURES
    )
