from pollwaves.stages.waves import run_weight

run_weight(
    snakemake.input.data,
    snakemake.input.margins,
    snakemake.params.root,
    snakemake.params.settings,
    snakemake.wildcards.wave,
    snakemake.output.data,
    snakemake.output.diagnostics,
    snakemake.output.margins,
)
