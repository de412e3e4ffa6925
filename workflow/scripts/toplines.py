from pollwaves.stages.logs import log_errors
from pollwaves.stages.toplines import run_toplines

with log_errors(snakemake.log[0]):
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
        snakemake.input.vendor,
        snakemake.output.vendor,
        level=snakemake.params.level,
    )
