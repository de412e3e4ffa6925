from pollwaves.stages.waves import run_estimate_wave

run_estimate_wave(
    snakemake.input.data,
    snakemake.input.codebook,
    snakemake.input.margins,
    snakemake.params.root,
    snakemake.params.settings,
    snakemake.output.estimates,
    snakemake.output.contrasts,
    snakemake.output.unweighted,
)
