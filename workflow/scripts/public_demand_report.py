from pollwaves.stages.logs import log_errors
from pollwaves.stages.report import REPORT_TABLES, run_report

with log_errors(snakemake.log[0]):
    run_report(
        {name: snakemake.input[name] for name in REPORT_TABLES},
        snakemake.input.figures,
        snakemake.params.config,
        snakemake.input.claims,
        snakemake.input.margins,
        snakemake.input.codebook,
        snakemake.output[0],
        validation_csv=snakemake.params.validation,
        validation_meta=snakemake.params.validation_meta,
        model_waves_csv=snakemake.input.model_waves,
        wave_yamls=snakemake.input.mappings,
        vendor_csv=snakemake.input.vendor,
        coverage_files=snakemake.params.coverage_files,
    )
