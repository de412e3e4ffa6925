from pollwaves.stages.report import run_report_tables

run_report_tables(
    snakemake.input.toplines,
    snakemake.input.unweighted,
    snakemake.input.published,
    snakemake.output.bounds,
    snakemake.output.effect,
)
