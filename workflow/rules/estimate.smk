rule estimate_wave:
    """Weighted toplines and subgroup tables of one wave, SEs accounting for the raking."""
    input:
        data="data/processed/waves/{wave}.parquet",
        codebook=config["codebook"],
        margins=config["margins"],
    output:
        "data/processed/estimates/{wave}.csv",
    log:
        "logs/estimate_wave/{wave}.log",
    conda:
        "../envs/pollwaves.yaml"
    params:
        root=ROOT,
        settings={k: config[k] for k in ("estimation", "weighting")},
    script:
        "../scripts/estimate_wave.py"


rule toplines:
    """Stack the per-wave estimates: toplines and subgroup tables of all waves."""
    input:
        estimates=expand("data/processed/estimates/{wave}.csv", wave=WAVES),
        codebook=config["codebook"],
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
