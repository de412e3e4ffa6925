# Configuration loading and validation, the wave list, and input helpers.
from pathlib import Path

from snakemake.utils import validate

from pollwaves.errors import InputError
from pollwaves.stages.preflight import check_project, load_config

ROOT = Path(workflow.basedir)

# The project's own validator first (the message names the file, the key path and a fix),
# then Snakemake's; then every other config, wave mapping and delivery, before any job starts.
try:
    load_config(ROOT)
except InputError as exc:
    raise WorkflowError(f"pollwaves: {exc}") from None


configfile: "config/config.yaml"


validate(config, schema="../schemas/config.schema.yaml")
try:
    check_project(ROOT, config)
except InputError as exc:
    raise WorkflowError(f"pollwaves: {exc}") from None

SCHEMAS = ROOT / "workflow" / "schemas"
WAVES = sorted(p.stem for p in Path(config["waves_dir"]).glob("*.yaml"))

if not WAVES:
    raise WorkflowError(
        f"No waves: {config['waves_dir']}/ holds no <wave>.yaml mapping. "
        "Add one per delivery (see docs/architecture.md)."
    )


wildcard_constraints:
    wave=r"\d{4}-\d{2}",
    question=r"[a-z_]+",


def get_delivery(wildcards):
    """Raw delivery file of a wave, as named in config/waves/{wave}.yaml."""
    from pollwaves.config import load_yaml

    return load_yaml(Path(config["waves_dir"]) / f"{wildcards.wave}.yaml")["file"]


def get_invasion_date():
    """Date of the full-scale invasion, from the claims configuration (a model parameter)."""
    from pollwaves.config import load_yaml

    return str(load_yaml(config["claims"])["invasion_date"])


# The last good reports/ survive a failed run: copied when a run starts, put back when it
# fails (Snakemake removes a job's outputs before the job runs). See README 'Trust and failure'.
# The kept copy of the claims ledger is the previous build's ledger, which the claims job reads.
from pollwaves.stages.keep import BACKUP


onstart:
    from pollwaves.stages.keep import backup_outputs

    backup_outputs()


onerror:
    from pollwaves.stages.keep import restore_outputs

    try:
        restored = restore_outputs()
    except Exception as exc:  # e.g. the disk is still full: say so, keep the copies
        print(f"pollwaves: could not restore reports/ ({exc}); copies are in .snakemake/")
    else:
        if restored:
            print(
                f"pollwaves: the run failed; restored {len(restored)} earlier file(s) in reports/"
            )


# Per-rule resources for cluster executors (profiles/slurm/); a local run ignores mem_mb and
# runtime. Sized from the 100-wave x 10,000-respondent synthetic study (benchmarks/scale.py):
# every job is one single-threaded Python (cpus_per_task=1; ~250 MB after imports), and the
# jobs that read microdata grow linearly with what they read, so mem_mb and runtime (minutes)
# are `base + per_mb * input.size_mb` (input.size_mb: the job's inputs, e.g. 13 MB of wave
# parquets at 100 waves x 10,000), with headroom (about 1.5x the measured peak), doubled on
# each retry (attempt). Measured at 100 waves x 10,000 (peak RSS, wall; scale.py, 2026-12-03):
# process_wave 0.22 GB, 2 s a wave; war_models 0.50 GB, 6 s and alliance_models 0.42 GB, 6 s
# (both fit on the grouped rows of data/processed/model_rows/, 2 MB at 100 waves); any other
# job < 0.3 GB and < 10 s (stack_waves only stacks the per-wave tables, 0.14 GB, 2 s).
def mem_mb(base, per_mb=0):
    """mem_mb: ``base`` MB plus ``per_mb`` MB per MB of input, times the attempt."""
    return lambda wildcards, input, attempt: int((base + per_mb * input.size_mb) * attempt)


def runtime(base, per_mb=0):
    """runtime (minutes): ``base`` plus ``per_mb`` minutes per MB of input, times the attempt."""
    return lambda wildcards, input, attempt: int((base + per_mb * input.size_mb) * attempt)
