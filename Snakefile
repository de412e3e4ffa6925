# pollwaves: repeated public-opinion polls -> harmonised, weighted estimates -> report.
# This file is a table of contents; the rules live in workflow/rules/, the logic in src/pollwaves/.
from snakemake.utils import min_version

min_version("9.27")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/published.smk"
include: "workflow/rules/waves.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "reports/public_demand.html",
        "reports/tables/toplines.csv",
        "reports/tables/topline_report.csv",
        "reports/toplines.xlsx",
        "reports/tables/toplines_vendor_weight.csv",
        "reports/tables/subgroups.csv",
        "reports/tables/weighting.csv",
        "reports/tables/cleaning.csv",
        "reports/tables/contrasts.csv",
        "reports/tables/poll_average.csv",
        "reports/tables/published_intervals.csv",
        "reports/tables/trend_predictions.csv",
        "reports/tables/subgroup_ame.csv",
        "reports/tables/alliance_shares.csv",
        "reports/tables/alliance_neutral.csv",
        "reports/tables/model_waves.csv",
        "reports/tables/claims_ledger.csv",
        "reports/tables/undecided_bounds.csv",
        "reports/tables/weighting_effect.csv",
        "reports/figures/subgroup_effects.png",
        expand(
            "reports/figures/{question}_trend.{ext}",
            question=config["report"]["trend_questions"],
            ext=["png", "svg"],
        ),
        expand(
            "reports/figures/{name}.{ext}",
            name=["poll_average", "attitudes_by_stance", "weighting"],
            ext=["png", "svg"],
        ),
