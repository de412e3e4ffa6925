from pollwaves.stages.waves import run_toplines

run_toplines(
    snakemake.input.estimates,
    snakemake.input.contrasts,
    snakemake.input.codebook,
    snakemake.params.root,
    snakemake.output.toplines,
    snakemake.output.subgroups,
    snakemake.output.contrasts,
    snakemake.input.unweighted,
    snakemake.output.unweighted,
)
