rule war_models:
    """Pooled trend models and the subgroup model of war support (design-based logit,
    calibrated per wave on the raking variables)."""
    input:
        rows=expand("data/processed/model_rows/{wave}.parquet", wave=WAVES),
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
        margins=config["margins"],
    output:
        trend_predictions="reports/tables/trend_predictions.csv",
        trend_tests="reports/tables/trend_tests.csv",
        trend_coefficients="reports/tables/trend_coefficients.csv",
        subgroup_selection="reports/tables/subgroup_selection.csv",
        subgroup_terms="reports/tables/subgroup_terms.csv",
        subgroup_predicted="reports/tables/subgroup_predicted.csv",
        subgroup_ame="reports/tables/subgroup_ame.csv",
        forest_png=report(
            "reports/figures/subgroup_effects.png",
            caption="../report/subgroup_effects.rst",
            category="Subgroups",
        ),
        forest_svg="reports/figures/subgroup_effects.svg",
    log:
        "logs/war_models.log",
    benchmark:
        "logs/benchmarks/war_models.tsv"
    priority: 2
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000, 150),
        runtime=runtime(10, 1),
        cpus_per_task=1,
    params:
        settings=config["models"],
        notice=config["study"]["simulated_notice"],
        level=config["estimation"]["level"],
        raking=config["weighting"]["variables"],
        root=ROOT,
    script:
        "../scripts/war_models.py"


rule alliance_models:
    """Weighted multinomial logit of alliance preference (calibrated per wave on the raking
    variables); neutral share before/after."""
    input:
        rows=expand("data/processed/model_rows/{wave}.parquet", wave=WAVES),
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
        margins=config["margins"],
    output:
        shares="reports/tables/alliance_shares.csv",
        neutral="reports/tables/alliance_neutral.csv",
    log:
        "logs/alliance_models.log",
    benchmark:
        "logs/benchmarks/alliance_models.tsv"
    priority: 2
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1500, 200),
        runtime=runtime(10, 1),
        cpus_per_task=1,
    params:
        settings=config["models"],
        invasion_date=get_invasion_date(),
        level=config["estimation"]["level"],
        raking=config["weighting"]["variables"],
        root=ROOT,
    script:
        "../scripts/alliance_models.py"


rule claims:
    """The claims ledger: each claim per window (reproduction, follow-up) and data source."""
    input:
        published="data/processed/published/toplines.csv",
        toplines="reports/tables/toplines.csv",
        contrasts="reports/tables/contrasts.csv",
        stance="reports/tables/attitudes_by_stance.csv",
        stance_tests="reports/tables/attitudes_by_stance_tests.csv",
        stance_differences="reports/tables/stance_differences.csv",
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
        claims=config["claims"],
    output:
        ledger=report(
            "reports/tables/claims_ledger.csv",
            caption="../report/claims_ledger.rst",
            category="Trends",
        ),
        evidence=report(
            "reports/tables/claims_evidence.csv",
            caption="../report/claims_evidence.rst",
            category="Trends",
        ),
        sensitivity=report(
            "reports/tables/claims_sensitivity.csv",
            caption="../report/claims_sensitivity.rst",
            category="Trends",
        ),
        changes="reports/tables/claims_changes.csv",
    log:
        "logs/claims.log",
    benchmark:
        "logs/benchmarks/claims.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000, 20),
        runtime=runtime(10),
        cpus_per_task=1,
    params:
        root=ROOT,
        published_deff=config["trend"]["published_deff"],
        level=config["estimation"]["level"],
        # the previous build's ledger, kept by the driver's onstart (common.smk); read only
        history=lambda wildcards, output: f"{BACKUP}/{output.ledger}",
    script:
        "../scripts/claims.py"
