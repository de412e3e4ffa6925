from pollwaves.stages.logs import log_errors
from pollwaves.stages.models import run_attitudes

with log_errors(snakemake.log[0]):
    run_attitudes(
        snakemake.input.waves,
        snakemake.output.shares,
        snakemake.output.tests,
        level=snakemake.params.level,
        differences_out=snakemake.output.differences,
        margins_path=snakemake.input.margins,
        raking=snakemake.params.raking,
        root=snakemake.params.root,
    )
