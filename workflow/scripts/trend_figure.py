from pollwaves.stages.logs import log_errors
from pollwaves.stages.report import run_trend_figure

with log_errors(snakemake.log[0]):
    run_trend_figure(
        snakemake.wildcards.question,
        snakemake.input.toplines,
        snakemake.input.published,
        snakemake.params.notice,
        snakemake.output.png,
        snakemake.output.svg,
        claims_yaml=snakemake.input.claims,
        level=snakemake.params.level,
        wave_yamls=snakemake.input.mappings,
        contrasts_csv=snakemake.input.contrasts,
        codebook_yaml=snakemake.input.codebook,
        contrasts=snakemake.params.contrasts,
        stacks=snakemake.params.stacks,
        published_intervals_csv=snakemake.input.published_intervals,
    )
