from pollwaves.stages.logs import log_errors
from pollwaves.stages.report import run_attitudes_figure

with log_errors(snakemake.log[0]):
    run_attitudes_figure(
        snakemake.input.shares,
        snakemake.params.notice,
        snakemake.output.png,
        snakemake.output.svg,
        level=snakemake.params.level,
        wave_yamls=snakemake.input.mappings,
    )
