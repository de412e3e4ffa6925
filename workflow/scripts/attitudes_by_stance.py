from pollwaves.stages.attitudes import run_attitudes
from pollwaves.stages.logs import log_errors

with log_errors(snakemake.log[0]):
    run_attitudes(
        snakemake.input.shares,
        snakemake.input.tests,
        snakemake.input.differences,
        snakemake.output.shares,
        snakemake.output.tests,
        snakemake.output.differences,
    )
