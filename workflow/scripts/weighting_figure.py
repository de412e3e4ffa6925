from pollwaves.stages.logs import log_errors
from pollwaves.stages.report import run_weighting_figure

with log_errors(snakemake.log[0]):
    run_weighting_figure(
        snakemake.input.weighting,
        snakemake.input.margins,
        snakemake.params.notice,
        snakemake.output.png,
        snakemake.output.svg,
        wave_yamls=snakemake.input.mappings,
    )
