from pollwaves.stages.waves import run_published

run_published(
    snakemake.input.toplines,
    snakemake.input.labels,
    snakemake.input.codebook,
    snakemake.output.used,
    snakemake.output.excluded,
)
