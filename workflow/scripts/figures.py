from pollwaves.stages.figures import run_figures
from pollwaves.stages.logs import log_errors

with log_errors(snakemake.log[0]):
    run_figures(
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        dict(snakemake.params.items()),
    )
