from pollwaves.pipeline import run_toplines

run_toplines(
    snakemake.input.waves,
    snakemake.input.codebook,
    snakemake.params.root,
    snakemake.params.settings,
    snakemake.output.toplines,
    snakemake.output.subgroups,
)
