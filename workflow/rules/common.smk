# Configuration loading and validation, the wave list, and input helpers.
from pathlib import Path

from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

ROOT = Path(workflow.basedir)
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
