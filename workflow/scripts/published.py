from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_published

with log_errors(snakemake.log[0]):
    run_published(
        snakemake.input.toplines,
        snakemake.input.labels,
        snakemake.input.codebook,
        snakemake.output.used,
        snakemake.output.excluded,
    )
