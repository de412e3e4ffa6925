from pollwaves.stages.models import run_model_waves

run_model_waves(snakemake.input.waves, snakemake.params.settings, snakemake.output[0])
