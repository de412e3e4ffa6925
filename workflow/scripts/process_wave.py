from pollwaves.stages.logs import log_errors
from pollwaves.stages.wave_job import run_wave

with log_errors(snakemake.log[0]):
    run_wave(
        snakemake.wildcards.wave,
        snakemake.input.mapping,
        snakemake.input.codebook,
        snakemake.input.margins,
        snakemake.params.root,
        snakemake.params.settings,
        dict(snakemake.output.items()),
    )
