VALIDATION = "benchmarks/results/validation_coverage.csv"
VALIDATION_META = "benchmarks/results/validation_coverage.meta.json"
REPORT_FIGURES = [
    *expand("reports/figures/{question}_trend.png", question=config["report"]["trend_questions"]),
    "reports/figures/poll_average.png",
    "reports/figures/subgroup_effects.png",
    "reports/figures/attitudes_by_stance.png",
    "reports/figures/weighting.png",
]


def validation_file(path):
    """Input function: the coverage benchmark output, or a clear error if it is missing."""

    def get(wildcards):
        if not Path(path).exists():
            raise WorkflowError(
                f"The report needs {path} (and its .meta.json), which is missing. It is made "
                "by the coverage benchmark, outside this workflow: run "
                "`python benchmarks/coverage.py --replicates 200 --workers 2` and commit "
                "benchmarks/results/, then rerun snakemake."
            )
        return path

    return get


rule report_tables:
    """The report's derived tables: bounds under 'hard to say'; weighted vs unweighted."""
    input:
        toplines="reports/tables/toplines.csv",
        unweighted="reports/tables/toplines_unweighted.csv",
        published="data/processed/published/toplines.csv",
    output:
        bounds=report(
            "reports/tables/undecided_bounds.csv",
            caption="../report/undecided_bounds.rst",
            category="Data",
        ),
        effect=report(
            "reports/tables/weighting_effect.csv",
            caption="../report/weighting_effect.rst",
            category="Weighting",
        ),
    log:
        "logs/report_tables.log",
    conda:
        "../envs/pollwaves.yaml"
    script:
        "../scripts/report_tables.py"


rule public_demand_report:
    """Self-contained HTML report (claims ledger, figures, extensions, methods), SIMULATED banner."""
    input:
        ledger="reports/tables/claims_ledger.csv",
        evidence="reports/tables/claims_evidence.csv",
        sensitivity="reports/tables/claims_sensitivity.csv",
        published="data/processed/published/toplines.csv",
        excluded="data/processed/published/excluded.csv",
        weighting="reports/tables/weighting.csv",
        weighting_margins="reports/tables/weighting_margins.csv",
        subgroup_predicted="reports/tables/subgroup_predicted.csv",
        subgroup_ame="reports/tables/subgroup_ame.csv",
        subgroup_terms="reports/tables/subgroup_terms.csv",
        trend_tests="reports/tables/trend_tests.csv",
        bounds="reports/tables/undecided_bounds.csv",
        effect="reports/tables/weighting_effect.csv",
        figures=REPORT_FIGURES,
        claims=config["claims"],
        margins=config["margins"],
        codebook=config["codebook"],
        validation=validation_file(VALIDATION),
        validation_meta=validation_file(VALIDATION_META),
    output:
        report(
            "reports/public_demand.html",
            caption="../report/public_demand.rst",
            category="Data",
        ),
    log:
        "logs/public_demand_report.log",
    conda:
        "../envs/pollwaves.yaml"
    params:
        config=config,
    script:
        "../scripts/public_demand_report.py"
