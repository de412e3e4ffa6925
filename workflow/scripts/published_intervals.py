from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_published_intervals

with log_errors(snakemake.log[0]):
    run_published_intervals(
        snakemake.input.published, snakemake.params.contrasts, snakemake.output[0]
    )
