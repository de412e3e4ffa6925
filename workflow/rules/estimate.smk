rule toplines:
    """Stack the per-wave estimates: toplines and subgroup tables of all waves."""
    input:
        estimates=expand("data/processed/estimates/{wave}.csv", wave=WAVES),
        contrasts=expand("data/processed/estimates/{wave}.contrasts.csv", wave=WAVES),
        unweighted=expand("data/processed/estimates/{wave}.unweighted.csv", wave=WAVES),
        vendor=expand("data/processed/estimates/{wave}.vendor.csv", wave=WAVES),
        codebook=config["codebook"],
    output:
        toplines=report(
            "reports/tables/toplines.csv",
            caption="../report/toplines.rst",
            category="Data",
        ),
        subgroups="reports/tables/subgroups.csv",
        contrasts="reports/tables/contrasts.csv",
        unweighted="reports/tables/toplines_unweighted.csv",
        vendor="reports/tables/toplines_vendor_weight.csv",
    log:
        "logs/toplines.log",
    benchmark:
        "logs/benchmarks/toplines.tsv"
    priority: 4
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000, 40),
        runtime=runtime(5, 0.2),
        cpus_per_task=1,
    params:
        root=ROOT,
        level=config["estimation"]["level"],
    script:
        "../scripts/toplines.py"


rule topline_report:
    """Toplines as pollsters publish them: one block per wave and question (CSV and xlsx)."""
    input:
        toplines="reports/tables/toplines.csv",
        waves=expand("data/processed/waves/{wave}.parquet", wave=WAVES),
        codebook=config["codebook"],
    output:
        csv="reports/tables/topline_report.csv",
        xlsx="reports/toplines.xlsx",
    log:
        "logs/topline_report.log",
    benchmark:
        "logs/benchmarks/topline_report.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000, 60),
        runtime=runtime(5, 0.2),
        cpus_per_task=1,
    params:
        root=ROOT,
        settings={k: config[k] for k in ("estimation", "study")},
    script:
        "../scripts/topline_report.py"


rule stack_waves:
    """Stack the per-wave tables of process_wave in one job (each is a few rows per wave; one
    Python start-up instead of three): the weighting diagnostics and cleaning counts; the good
    attitude to each country by war stance with its Rao-Scott tests and the supporter-opponent
    differences (each wave its own raking-aware design); and per pooled model and wave, used
    or left out because an item was not asked. The microdata are not read again."""
    input:
        weighting=expand("data/processed/weighting/{wave}.csv", wave=WAVES),
        cleaning=expand("data/processed/cleaning/{wave}.csv", wave=WAVES),
        margins=expand("data/processed/weighting/{wave}.margins.csv", wave=WAVES),
        stance_shares=expand("data/processed/attitudes/{wave}.csv", wave=WAVES),
        stance_tests=expand("data/processed/attitudes/{wave}.tests.csv", wave=WAVES),
        stance_differences=expand("data/processed/attitudes/{wave}.differences.csv", wave=WAVES),
        coverages=expand("data/processed/model_waves/{wave}.csv", wave=WAVES),
    output:
        weighting=report(
            "reports/tables/weighting.csv",
            caption="../report/weighting_table.rst",
            category="Weighting",
        ),
        margins="reports/tables/weighting_margins.csv",
        cleaning="reports/tables/cleaning.csv",
        stance_shares=report(
            "reports/tables/attitudes_by_stance.csv",
            caption="../report/attitudes_by_stance_table.rst",
            category="Subgroups",
        ),
        stance_tests="reports/tables/attitudes_by_stance_tests.csv",
        stance_differences="reports/tables/stance_differences.csv",
        model_waves=report(
            "reports/tables/model_waves.csv",
            caption="../report/model_waves.rst",
            category="Subgroups",
        ),
    log:
        "logs/stack_waves.log",
    benchmark:
        "logs/benchmarks/stack_waves.tsv"
    priority: 3
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(800, 20),
        runtime=runtime(5, 0.1),
        cpus_per_task=1,
    params:
        settings=config["models"],
    script:
        "../scripts/stack_waves.py"


rule poll_average:
    """Poll-average trend lines (Kalman smoother) from the published and simulated series."""
    input:
        toplines="reports/tables/toplines.csv",
        contrasts="reports/tables/contrasts.csv",
        published="data/processed/published/toplines.csv",
        waves=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
    output:
        report(
            "reports/tables/poll_average.csv",
            caption="../report/poll_average_table.rst",
            category="Trends",
        ),
    log:
        "logs/poll_average.log",
    benchmark:
        "logs/benchmarks/poll_average.tsv"
    priority: 3
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1500),
        runtime=runtime(10),
        cpus_per_task=1,
    params:
        settings=config["trend"],
        level=config["estimation"]["level"],
        contrasts=config["estimation"]["contrasts"],
    script:
        "../scripts/poll_average.py"
