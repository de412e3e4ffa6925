rule trend_figure:
    """The paper's diagram for one question: published numbers above the weighted estimates."""
    input:
        toplines="reports/tables/toplines.csv",
        contrasts="reports/tables/contrasts.csv",
        published="data/processed/published/toplines.csv",
        published_intervals="reports/tables/published_intervals.csv",
        claims=config["claims"],
        codebook=config["codebook"],
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
    output:
        png=report(
            "reports/figures/{question}_trend.png",
            caption="../report/trend_figure.rst",
            category="Trends",
        ),
        svg="reports/figures/{question}_trend.svg",
    log:
        "logs/trend_figure/{question}.log",
    benchmark:
        "logs/benchmarks/trend_figure/{question}.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime(5),
        cpus_per_task=1,
    params:
        notice=config["study"]["simulated_notice"],
        level=config["estimation"]["level"],
        contrasts=config["estimation"].get("contrasts", {}),
        stacks=config["report"].get("stacks", {}),
    script:
        "../scripts/trend_figure.py"


rule poll_average_figure:
    """Poll-average trend lines with their bands and observed points, published and simulated."""
    input:
        poll_average="reports/tables/poll_average.csv",
        toplines="reports/tables/toplines.csv",
        contrasts="reports/tables/contrasts.csv",
        published="data/processed/published/toplines.csv",
        published_intervals="reports/tables/published_intervals.csv",
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
        claims=config["claims"],
    output:
        png=report(
            "reports/figures/poll_average.png",
            caption="../report/poll_average.rst",
            category="Trends",
        ),
        svg="reports/figures/poll_average.svg",
    log:
        "logs/poll_average_figure.log",
    benchmark:
        "logs/benchmarks/poll_average_figure.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime(5),
        cpus_per_task=1,
    params:
        settings=config["trend"],
        notice=config["study"]["simulated_notice"],
        level=config["estimation"]["level"],
        gap_days=config["report"].get("gap_days", 180),
    script:
        "../scripts/poll_average_figure.py"


rule attitudes_figure:
    """Good attitude to each country by war stance, per wave (simulated microdata)."""
    input:
        shares="reports/tables/attitudes_by_stance.csv",
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
    output:
        png=report(
            "reports/figures/attitudes_by_stance.png",
            caption="../report/attitudes_by_stance.rst",
            category="Subgroups",
        ),
        svg="reports/figures/attitudes_by_stance.svg",
    log:
        "logs/attitudes_figure.log",
    benchmark:
        "logs/benchmarks/attitudes_figure.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime(5),
        cpus_per_task=1,
    params:
        notice=config["study"]["simulated_notice"],
        level=config["estimation"]["level"],
    script:
        "../scripts/attitudes_figure.py"


rule weighting_figure:
    """Weighting diagnostics: n and n_eff per wave, sample shares against raking targets."""
    input:
        weighting="reports/tables/weighting.csv",
        margins="reports/tables/weighting_margins.csv",
        mappings=expand(f"{config['waves_dir']}/{{wave}}.yaml", wave=WAVES),
    output:
        png=report(
            "reports/figures/weighting.png",
            caption="../report/weighting.rst",
            category="Weighting",
        ),
        svg="reports/figures/weighting.svg",
    log:
        "logs/weighting_figure.log",
    benchmark:
        "logs/benchmarks/weighting_figure.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime(5),
        cpus_per_task=1,
    params:
        notice=config["study"]["simulated_notice"],
    script:
        "../scripts/weighting_figure.py"
