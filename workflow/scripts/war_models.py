from pollwaves.stages.logs import log_errors
from pollwaves.stages.models import run_war_models

with log_errors(snakemake.log[0]):
    outputs = {k: v for k, v in snakemake.output.items() if not k.startswith("forest")}
    run_war_models(
        snakemake.input.rows,
        snakemake.input.mappings,
        snakemake.params.settings,
        snakemake.params.notice,
        outputs,
        snakemake.output.forest_png,
        snakemake.output.forest_svg,
        level=snakemake.params.level,
        raking=snakemake.params.raking,
        margins_path=snakemake.input.margins,
        root=snakemake.params.root,
    )
