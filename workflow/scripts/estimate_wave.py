from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_estimate_wave

with log_errors(snakemake.log[0]):
    run_estimate_wave(
        snakemake.input.data,
        snakemake.input.codebook,
        snakemake.input.margins,
        snakemake.params.root,
        snakemake.params.settings,
        snakemake.output.estimates,
        snakemake.output.contrasts,
        snakemake.output.unweighted,
        snakemake.output.vendor,
        snakemake.output.bounds,
    )
