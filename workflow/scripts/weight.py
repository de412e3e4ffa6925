from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_weight

with log_errors(snakemake.log[0]):
    run_weight(
        snakemake.input.data,
        snakemake.input.margins,
        snakemake.params.root,
        snakemake.params.settings,
        snakemake.wildcards.wave,
        snakemake.output.data,
        snakemake.output.diagnostics,
        snakemake.output.margins,
        wave_yaml=snakemake.input.mapping,
    )
