rule published:
    """Parse the real published toplines, harmonise their labels, apply the selection rule."""
    input:
        toplines=config["published"]["toplines"],
        labels=config["published"]["labels"],
        codebook=config["codebook"],
    output:
        used="data/processed/published/toplines.csv",
        excluded="data/processed/published/excluded.csv",
    log:
        "logs/published.log",
    benchmark:
        "logs/benchmarks/published.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(800),
        runtime=runtime(5),
        cpus_per_task=1,
    script:
        "../scripts/published.py"


rule published_intervals:
    """The interval each published cell implies for the pollster's estimate (percent)."""
    input:
        published="data/processed/published/toplines.csv",
    output:
        "reports/tables/published_intervals.csv",
    log:
        "logs/published_intervals.log",
    benchmark:
        "logs/benchmarks/published_intervals.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(800),
        runtime=runtime(5),
        cpus_per_task=1,
    params:
        contrasts=config["estimation"]["contrasts"],
    script:
        "../scripts/published_intervals.py"
