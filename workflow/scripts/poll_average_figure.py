from pollwaves.stages.logs import log_errors
from pollwaves.stages.report import run_poll_average_figure

with log_errors(snakemake.log[0]):
    run_poll_average_figure(
        snakemake.input.poll_average,
        snakemake.input.toplines,
        snakemake.input.contrasts,
        snakemake.input.published,
        snakemake.input.mappings,
        snakemake.input.claims,
        snakemake.params.settings,
        snakemake.params.notice,
        snakemake.output.png,
        snakemake.output.svg,
        level=snakemake.params.level,
        gap_days=snakemake.params.gap_days,
        published_intervals_csv=snakemake.input.published_intervals,
    )
