rule harmonise:
    """Read one (simulated) delivery, map it to the codebook and clean it."""
    input:
        delivery=get_delivery,
        mapping=f"{config['waves_dir']}/{{wave}}.yaml",
        codebook=config["codebook"],
    output:
        data="data/processed/harmonised/{wave}.parquet",
        cleaning="data/processed/cleaning/{wave}.csv",
    log:
        "logs/harmonise/{wave}.log",
    benchmark:
        "logs/benchmarks/harmonise/{wave}.tsv"
    conda:
        "../envs/pollwaves.yaml"
    params:
        root=ROOT,
        # resp_id and the sources of these raking columns are required of every wave
        weighting_variables=config["weighting"]["variables"],
        margins=config["margins"],
    script:
        "../scripts/harmonise.py"


rule weight:
    """Rake one wave to the (derived) urban margins."""
    input:
        data="data/processed/harmonised/{wave}.parquet",
        margins=config["margins"],
        mapping=f"{config['waves_dir']}/{{wave}}.yaml",
    output:
        data="data/processed/waves/{wave}.parquet",
        diagnostics="data/processed/weighting/{wave}.csv",
        margins="data/processed/weighting/{wave}.margins.csv",
    log:
        "logs/weight/{wave}.log",
    benchmark:
        "logs/benchmarks/weight/{wave}.tsv"
    conda:
        "../envs/pollwaves.yaml"
    params:
        root=ROOT,
        settings=config["weighting"],
    script:
        "../scripts/weight.py"
