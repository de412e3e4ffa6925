rule process_wave:
    """One wave, one job: read the (simulated) delivery, map it to the codebook and clean it
    (harmonised/, cleaning/), rake it to the (derived) urban margins (waves/, weighting/),
    then its weighted toplines, subgroup tables, contrasts and worst-case bounds with
    raking-aware SEs (estimates/), its attitudes by war stance (attitudes/: each wave is its
    own design, so adding a wave computes only that wave), which pooled models can use it
    (model_waves/) and its respondents grouped for the pooled models (model_rows/). One job
    instead of four saves three
    Python start-ups a wave."""
    input:
        delivery=get_delivery,
        mapping=f"{config['waves_dir']}/{{wave}}.yaml",
        codebook=config["codebook"],
        margins=config["margins"],
    output:
        harmonised="data/processed/harmonised/{wave}.parquet",
        cleaning="data/processed/cleaning/{wave}.csv",
        data="data/processed/waves/{wave}.parquet",
        diagnostics="data/processed/weighting/{wave}.csv",
        margins="data/processed/weighting/{wave}.margins.csv",
        estimates="data/processed/estimates/{wave}.csv",
        contrasts="data/processed/estimates/{wave}.contrasts.csv",
        unweighted="data/processed/estimates/{wave}.unweighted.csv",
        vendor="data/processed/estimates/{wave}.vendor.csv",
        bounds="data/processed/estimates/{wave}.bounds.csv",
        stance_shares="data/processed/attitudes/{wave}.csv",
        stance_tests="data/processed/attitudes/{wave}.tests.csv",
        stance_differences="data/processed/attitudes/{wave}.differences.csv",
        model_coverage="data/processed/model_waves/{wave}.csv",
        model_rows="data/processed/model_rows/{wave}.parquet",
    log:
        "logs/process_wave/{wave}.log",
    benchmark:
        "logs/benchmarks/process_wave/{wave}.tsv"
    conda:
        "../envs/pollwaves.yaml"
    resources:
        mem_mb=mem_mb(800, 100),
        runtime=runtime(5, 1),
        cpus_per_task=1,
    params:
        root=ROOT,
        # resp_id and the sources of the raking columns are required of every wave
        settings={k: config[k] for k in ("estimation", "weighting", "models")},
    script:
        "../scripts/process_wave.py"
