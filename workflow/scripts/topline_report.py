from pollwaves.stages.logs import log_errors
from pollwaves.stages.toplines import run_topline_report

with log_errors(snakemake.log[0]):
    run_topline_report(
        snakemake.input.toplines,
        snakemake.input.waves,
        snakemake.input.codebook,
        snakemake.params.root,
        snakemake.params.settings,
        snakemake.output.csv,
        snakemake.output.xlsx,
    )
