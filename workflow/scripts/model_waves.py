from pollwaves.stages.logs import log_errors
from pollwaves.stages.pooled import run_model_waves

with log_errors(snakemake.log[0]):
    run_model_waves(snakemake.input.coverages, snakemake.params.settings, snakemake.output[0])
