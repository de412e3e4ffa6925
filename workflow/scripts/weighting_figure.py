from pollwaves.stages.report import run_weighting_figure

run_weighting_figure(
    snakemake.input.weighting,
    snakemake.input.margins,
    snakemake.params.notice,
    snakemake.output.png,
    snakemake.output.svg,
    wave_yamls=snakemake.input.mappings,
)
