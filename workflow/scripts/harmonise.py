from pollwaves.stages.logs import log_errors
from pollwaves.stages.waves import run_harmonise

with log_errors(snakemake.log[0]):
    run_harmonise(
        snakemake.input.mapping,
        snakemake.input.codebook,
        snakemake.params.root,
        snakemake.output.data,
        snakemake.output.cleaning,
        weighting_variables=snakemake.params.weighting_variables,
        margins_path=snakemake.params.margins,
    )
