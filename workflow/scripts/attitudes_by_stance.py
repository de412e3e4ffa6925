from pollwaves.stages.models import run_attitudes

run_attitudes(
    snakemake.input.waves,
    snakemake.output.shares,
    snakemake.output.tests,
    level=snakemake.params.level,
)
