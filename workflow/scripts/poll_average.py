from pollwaves.stages.waves import run_poll_average

run_poll_average(
    snakemake.input.toplines,
    snakemake.input.contrasts,
    snakemake.input.published,
    snakemake.input.waves,
    snakemake.params.settings,
    snakemake.output[0],
    level=snakemake.params.level,
)
