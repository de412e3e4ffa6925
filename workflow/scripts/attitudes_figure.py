from pollwaves.stages.report import run_attitudes_figure

run_attitudes_figure(
    snakemake.input.shares,
    snakemake.params.notice,
    snakemake.output.png,
    snakemake.output.svg,
    level=snakemake.params.level,
    wave_yamls=snakemake.input.mappings,
)
