from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_poll_average

with log_errors(snakemake.log[0]):
    run_poll_average(
        snakemake.input.toplines,
        snakemake.input.contrasts,
        snakemake.input.published,
        snakemake.input.waves,
        snakemake.params.settings,
        snakemake.output[0],
        level=snakemake.params.level,
        contrasts=snakemake.params.contrasts,
    )
