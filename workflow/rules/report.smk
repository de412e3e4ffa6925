# The coverage benchmark (made outside the workflow by benchmarks/coverage.py). It is an input
# of the report when it exists; when it is missing, the report rule still runs and fails with
# a clear message, so the rest of the workflow is not blocked.
VALIDATION = "benchmarks/results/validation_coverage.csv"
VALIDATION_META = "benchmarks/results/validation_coverage.meta.json"
# The other committed coverage results, shown beside the estimates they validate (inputs
# when they exist).
COVERAGE_FILES = {
    "poll": "benchmarks/results/poll_average_coverage.csv",
    "poll_meta": "benchmarks/results/poll_average_coverage.meta.json",
}
REPORT_FIGURES = [
    *expand("reports/figures/{question}_trend.png", question=config["report"]["trend_questions"]),
    "reports/figures/poll_average.png",
    "reports/figures/subgroup_effects.png",
    "reports/figures/attitudes_by_stance.png",
    "reports/figures/weighting.png",
]


rule report_tables:
    """The report's derived tables: worst-case bounds under 'hard to say' (per-wave microdata
    bounds and published ones); weighted vs unweighted."""
    input:
        bounds=expand("data/processed/estimates/{wave}.bounds.csv", wave=WAVES),
        toplines="reports/tables/toplines.csv",
        unweighted="reports/tables/toplines_unweighted.csv",
        published="data/processed/published/toplines.csv",
        vendor="reports/tables/toplines_vendor_weight.csv",
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
        vendor="reports/tables/vendor_weight_comparison.csv",
    log:
        "logs/report_tables.log",
    benchmark:
        "logs/benchmarks/report_tables.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000, 20),
        runtime=runtime(5),
        cpus_per_task=1,
    params:
        published_deff=config["trend"]["published_deff"],
        level=config["estimation"]["level"],
    script:
        "../scripts/report_tables.py"


rule public_demand_report:
    """Self-contained HTML report; its banner and captions follow the waves' simulated flags."""
    input:
        ledger="reports/tables/claims_ledger.csv",
        evidence="reports/tables/claims_evidence.csv",
        sensitivity="reports/tables/claims_sensitivity.csv",
        changes="reports/tables/claims_changes.csv",
        toplines="reports/tables/topline_report.csv",
        published="data/processed/published/toplines.csv",
        excluded="data/processed/published/excluded.csv",
        weighting="reports/tables/weighting.csv",
        weighting_margins="reports/tables/weighting_margins.csv",
        vendor="reports/tables/vendor_weight_comparison.csv",
        subgroup_predicted="reports/tables/subgroup_predicted.csv",
        subgroup_ame="reports/tables/subgroup_ame.csv",
        subgroup_terms="reports/tables/subgroup_terms.csv",
        trend_tests="reports/tables/trend_tests.csv",
        model_waves="reports/tables/model_waves.csv",
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
        bounds="reports/tables/undecided_bounds.csv",
        effect="reports/tables/weighting_effect.csv",
        figures=REPORT_FIGURES,
        claims=config["claims"],
        margins=config["margins"],
        codebook=config["codebook"],
        validation=lambda wildcards: (
            [VALIDATION, VALIDATION_META]
            if Path(VALIDATION).exists() and Path(VALIDATION_META).exists()
            else []
        ),
        coverage=lambda wildcards: [p for p in COVERAGE_FILES.values() if Path(p).exists()],
    output:
        report(
            "reports/public_demand.html",
            caption="../report/public_demand.rst",
            category="Data",
        ),
    log:
        "logs/public_demand_report.log",
    benchmark:
        "logs/benchmarks/public_demand_report.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1500),
        runtime=runtime(10),
        cpus_per_task=1,
    params:
        config=config,
        validation=VALIDATION,
        validation_meta=VALIDATION_META,
        coverage_files=COVERAGE_FILES,
    script:
        "../scripts/public_demand_report.py"
