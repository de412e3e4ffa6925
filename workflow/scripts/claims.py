from pollwaves.stages.claims import run_claims
from pollwaves.stages.logs import log_errors

with log_errors(snakemake.log[0]):
    run_claims(
        snakemake.input.published,
        snakemake.input.toplines,
        snakemake.input.contrasts,
        snakemake.input.stance,
        snakemake.input.stance_tests,
        snakemake.input.mappings,
        snakemake.input.claims,
        snakemake.params.root,
        snakemake.params.published_deff,
        dict(snakemake.output.items()),
        level=snakemake.params.level,
        stance_differences_csv=snakemake.input.stance_differences,
        history_csv=snakemake.params.history,
    )
