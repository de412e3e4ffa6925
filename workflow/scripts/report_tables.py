from pollwaves.stages.logs import log_errors
from pollwaves.stages.report import run_report_tables

with log_errors(snakemake.log[0]):
    run_report_tables(
        snakemake.input.toplines,
        snakemake.input.unweighted,
        snakemake.input.published,
        snakemake.output.bounds,
        snakemake.output.effect,
        vendor_csv=snakemake.input.vendor,
        vendor_out=snakemake.output.vendor,
        wave_bounds=snakemake.input.bounds,
        published_deff=snakemake.params.published_deff,
        level=snakemake.params.level,
    )
