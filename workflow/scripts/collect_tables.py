from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_collect

with log_errors(snakemake.log[0]):
    run_collect(snakemake.input.weighting, snakemake.output.weighting)
    run_collect(snakemake.input.cleaning, snakemake.output.cleaning)
    run_collect(snakemake.input.margins, snakemake.output.margins)
