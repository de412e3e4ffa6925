from pollwaves.stages.logs import log_errors
from pollwaves.stages.models import run_alliance_models

with log_errors(snakemake.log[0]):
    run_alliance_models(
        snakemake.input.rows,
        snakemake.input.mappings,
        snakemake.params.settings,
        snakemake.params.invasion_date,
        snakemake.output.shares,
        snakemake.output.neutral,
        level=snakemake.params.level,
        raking=snakemake.params.raking,
        margins_path=snakemake.input.margins,
        root=snakemake.params.root,
    )
