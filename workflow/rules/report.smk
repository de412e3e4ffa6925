rule public_demand_report:
    """Self-contained HTML report with the simulated-data banner."""
    input:
        toplines="reports/tables/toplines.csv",
        published="data/processed/published/toplines.csv",
        excluded="data/processed/published/excluded.csv",
        weighting="reports/tables/weighting.csv",
        cleaning="reports/tables/cleaning.csv",
        figures=expand(
            "reports/figures/{question}_trend.png",
            question=config["report"]["trend_questions"],
        ),
    output:
        "reports/public_demand.html",
    log:
        "logs/public_demand_report.log",
    conda:
        "../envs/pollwaves.yaml"
    params:
        config=config,
        questions=config["report"]["trend_questions"],
    script:
        "../scripts/public_demand_report.py"
