from pollwaves.pipeline import run_toplines

run_toplines(
    snakemake.input.waves,
    snakemake.input.codebook,
    snakemake.input.margins,
    snakemake.params.root,
    snakemake.params.settings,
    snakemake.output.toplines,
    snakemake.output.subgroups,
)
