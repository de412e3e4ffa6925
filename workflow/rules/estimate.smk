rule toplines:
    """Weighted toplines and subgroup tables with design-based SEs, all waves."""
    input:
        waves=expand("data/processed/waves/{wave}.parquet", wave=WAVES),
        codebook=config["codebook"],
        margins=config["margins"],
    output:
        toplines=report(
            "reports/tables/toplines.csv",
            caption="../report/toplines.rst",
            category="Tables",
        ),
        subgroups="reports/tables/subgroups.csv",
    log:
        "logs/toplines.log",
    conda:
        "../envs/pollwaves.yaml"
    params:
        root=ROOT,
        settings={k: config[k] for k in ("estimation", "weighting")},
    script:
        "../scripts/toplines.py"


rule collect_tables:
    """Stack the per-wave weighting diagnostics and cleaning counts."""
    input:
        weighting=expand("data/processed/weighting/{wave}.csv", wave=WAVES),
        cleaning=expand("data/processed/cleaning/{wave}.csv", wave=WAVES),
    output:
        weighting="reports/tables/weighting.csv",
        cleaning="reports/tables/cleaning.csv",
    log:
        "logs/collect_tables.log",
    conda:
        "../envs/pollwaves.yaml"
    script:
        "../scripts/collect_tables.py"
