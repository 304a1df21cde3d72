"""Where SageMaker's processing container contract puts things under /opt/ml, overridable.

``MODEL_MONITOR_OPT_ML_ROOT`` moves the whole /opt/ml tree (tests run the entrypoint on a
simulated tree); ``CLOUDWATCH_METRICS_DIRECTORY`` (the built-in's own override) moves the
metrics folder alone. Paths that come from the job environment (``dataset_source``,
``output_path``, ``baseline_statistics``, ...) are rebased onto the root the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

OPT_ML = "/opt/ml"
OPT_ML_ROOT_ENV = "MODEL_MONITOR_OPT_ML_ROOT"
METRICS_DIRECTORY_ENV = "CLOUDWATCH_METRICS_DIRECTORY"


@dataclass(frozen=True, kw_only=True)
class ContainerPaths:
    """The /opt/ml locations of one run."""

    root: Path

    @property
    def processing_job_config(self) -> Path:
        """``/opt/ml/config/processingjobconfig.json`` (its ``Environment`` holds the job's env)."""
        return self.root / "config" / "processingjobconfig.json"

    @property
    def message_file(self) -> Path:
        """``/opt/ml/output/message``: the first KB becomes the job's ExitMessage."""
        return self.root / "output" / "message"

    @property
    def default_metrics_dir(self) -> Path:
        """``/opt/ml/output/metrics/cloudwatch``."""
        return self.root / "output" / "metrics" / "cloudwatch"

    def rebase(self, path: str) -> Path:
        """Map a path the job environment gives (``/opt/ml/...``) onto this root."""
        if path == OPT_ML or path.startswith(OPT_ML + "/"):
            return self.root / path[len(OPT_ML) :].lstrip("/")
        return Path(path)


def container_paths(env: Mapping[str, str]) -> ContainerPaths:
    """Paths for this process: ``MODEL_MONITOR_OPT_ML_ROOT`` or the real /opt/ml."""
    return ContainerPaths(root=Path(env.get(OPT_ML_ROOT_ENV) or OPT_ML))


def metrics_dir(env: Mapping[str, str], paths: ContainerPaths) -> Path:
    """CloudWatch metrics folder: ``CLOUDWATCH_METRICS_DIRECTORY`` or the default under the root."""
    configured = env.get(METRICS_DIRECTORY_ENV)
    return paths.rebase(configured) if configured else paths.default_metrics_dir
