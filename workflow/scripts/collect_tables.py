from pollwaves.stages.waves import run_collect

run_collect(snakemake.input.weighting, snakemake.output.weighting)
run_collect(snakemake.input.cleaning, snakemake.output.cleaning)
run_collect(snakemake.input.margins, snakemake.output.margins)
