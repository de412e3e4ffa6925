from pollwaves.pipeline import run_report

run_report(
    snakemake.input.toplines,
    snakemake.input.published,
    snakemake.input.excluded,
    snakemake.input.weighting,
    snakemake.input.figures,
    snakemake.params.config,
    snakemake.output[0],
)
