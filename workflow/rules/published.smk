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
    script:
        "../scripts/published.py"
