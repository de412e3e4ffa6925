from pollwaves.stages.attitudes import run_attitudes
from pollwaves.stages.logs import log_errors
from pollwaves.stages.pooled import run_model_waves
from pollwaves.stages.waves import run_collect

with log_errors(snakemake.log[0]):
    i, o = snakemake.input, snakemake.output
    for name in ("weighting", "cleaning", "margins"):
        run_collect(i[name], o[name])
    run_attitudes(i.stance_shares, i.stance_tests, i.stance_differences,
                  o.stance_shares, o.stance_tests, o.stance_differences)  # fmt: skip
    run_model_waves(i.coverages, snakemake.params.settings, o.model_waves)
