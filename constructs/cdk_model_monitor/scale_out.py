"""Scale-out: windows too large for one Processing instance run on EMR Serverless (standalone engine).

``ScaleOut`` is the one option a monitor takes for it; ``check_scale_out`` refuses values EMR Serverless
would refuse, at synth, with the fix.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from aws_cdk import Duration, Token
from constructs import Construct

from .errors import ConfigurationError, require_member

# The newest EMR 7.x release EMR Serverless lists (its "Release versions" page); the Spark image's base is
# public.ecr.aws/emr-serverless/spark/<release>:latest, so the two stay equal (container/Dockerfile.spark).
DEFAULT_RELEASE_LABEL = "emr-7.12.0"
_RELEASE_LABEL = re.compile(r"^emr-7\.\d+\.\d+$")
# EMR Serverless's worker sizes: vCPUs per worker, and the memory (GB) a worker of that size may have.
WORKER_MEMORY_GB = {1: (2, 8), 2: (4, 16), 4: (8, 30), 8: (16, 60), 16: (32, 120)}
# 10 GiB: half the Processing job's default 20 GB volume, which holds the whole window (File mode) besides the outputs.
DEFAULT_THRESHOLD_BYTES = 10 * 1024 ** 3


class SparkArchitecture(enum.Enum):
    """The CPU architecture of the EMR Serverless workers (the Spark image is built for it)."""

    X86_64 = "X86_64"
    ARM64 = "ARM64"


@dataclass(frozen=True, kw_only=True)
class ScaleOut:
    """Analyse large windows with the analyzer's Spark runner on EMR Serverless (standalone engine only).

    :param max_vcpus: the application's maximum capacity in vCPUs (all jobs together). Default 64.
    :param max_memory_gb: its maximum memory in GB. Default 256.
    :param threshold_bytes: windows whose captured objects hold at least this many bytes run on Spark, smaller
        ones on the Processing job. Default 10 GiB (the Processing job downloads the whole window to its volume).
    :param always: every window runs on Spark, whatever its size. Default False.
    :param release_label: the EMR release, 7.x (the Spark image's base matches it). Default ``emr-7.12.0``.
    :param architecture: the workers' CPUs. Default ``SparkArchitecture.X86_64``.
    :param executor_vcpus: vCPUs of the driver and of each executor: 1, 2, 4, 8 or 16. Default 4.
    :param executor_memory_gb: memory of the driver and of each executor, within what EMR Serverless allows a
        worker of that size. Default 16.
    :param idle_timeout: the application stops after this long without a job (it starts on the next). Default
        15 minutes.
    :param image_uri: an ECR image you built from ``container/Dockerfile.spark`` and pushed. Default: built by CDK
        from the library's ``container/`` (a ``DockerImageAsset``).
    """

    max_vcpus: int = 64
    max_memory_gb: int = 256
    threshold_bytes: int = DEFAULT_THRESHOLD_BYTES
    always: bool = False
    release_label: str = DEFAULT_RELEASE_LABEL
    architecture: SparkArchitecture = SparkArchitecture.X86_64
    executor_vcpus: int = 4
    executor_memory_gb: int = 16
    idle_timeout: Duration = field(default_factory=lambda: Duration.minutes(15))
    image_uri: str | None = None

    @property
    def max_executors(self) -> int:
        """How many executors fit the maximum capacity beside the driver."""
        return max(1, min(self.max_vcpus // self.executor_vcpus, self.max_memory_gb // self.executor_memory_gb) - 1)

    def spark_submit_parameters(self) -> str:
        """``sparkSubmitParameters``: the driver's and executors' size and how many executors may run."""
        conf = {"spark.driver.cores": self.executor_vcpus, "spark.driver.memory": f"{self.executor_memory_gb}g",
                "spark.executor.cores": self.executor_vcpus, "spark.executor.memory": f"{self.executor_memory_gb}g",
                "spark.dynamicAllocation.maxExecutors": self.max_executors}
        return " ".join(f"--conf {name}={value}" for name, value in conf.items())


def _whole(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def check_scale_out(scope: Construct, scale_out: object, *, standalone: bool) -> None:
    """Refuse a ``scale_out`` the standalone engine could not deploy (ConfigurationError naming the fix)."""
    if not isinstance(scale_out, ScaleOut):
        raise ConfigurationError(scope, "scale_out", scale_out, "Use ScaleOut(max_vcpus=..., threshold_bytes=...).")
    if not standalone:
        raise ConfigurationError(scope, "scale_out", "ScaleOut(...)",
                                 "Only engine=Engine.STANDALONE scales out: a Model Monitor schedule launches "
                                 "SageMaker Processing jobs only, which do not spread a custom image over several "
                                 "instances; remove scale_out or use the standalone engine.")
    require_member(scope, "scale_out.architecture", scale_out.architecture, SparkArchitecture)
    cores, memory = scale_out.executor_vcpus, scale_out.executor_memory_gb
    if cores not in WORKER_MEMORY_GB or isinstance(cores, bool):
        raise ConfigurationError(scope, "scale_out.executor_vcpus", cores, "Use 1, 2, 4, 8 or 16 (EMR Serverless's "
                                                                           "worker sizes).")
    low, high = WORKER_MEMORY_GB[cores]
    if not _whole(memory, low) or memory > high:
        raise ConfigurationError(scope, "scale_out.executor_memory_gb", memory,
                                 f"A worker of {cores} vCPUs takes {low} to {high} GB: use a whole number in that range.")
    if not _whole(scale_out.max_vcpus, 2 * cores):
        raise ConfigurationError(scope, "scale_out.max_vcpus", scale_out.max_vcpus,
                                 f"Use a whole number of at least {2 * cores}: the driver and one executor of "
                                 f"{cores} vCPUs each.")
    if not _whole(scale_out.max_memory_gb, 2 * memory):
        raise ConfigurationError(scope, "scale_out.max_memory_gb", scale_out.max_memory_gb,
                                 f"Use a whole number of at least {2 * memory}: the driver and one executor of "
                                 f"{memory} GB each.")
    if not _whole(scale_out.threshold_bytes, 0):
        raise ConfigurationError(scope, "scale_out.threshold_bytes", scale_out.threshold_bytes,
                                 "Use a whole number of bytes, 0 or more (e.g. 10 * 1024**3).")
    if not isinstance(scale_out.always, bool):
        raise ConfigurationError(scope, "scale_out.always", scale_out.always, "Use True or False.")
    label = scale_out.release_label
    if not isinstance(label, str) or not _RELEASE_LABEL.match(label):
        raise ConfigurationError(scope, "scale_out.release_label", label,
                                 f"Use an EMR 7.x release that EMR Serverless runs, e.g. '{DEFAULT_RELEASE_LABEL}' "
                                 "(the Spark image is built on its base image).")
    idle = scale_out.idle_timeout
    if not isinstance(idle, Duration) or not 60 <= idle.to_seconds() <= 10080 * 60 or idle.to_seconds() % 60:
        raise ConfigurationError(scope, "scale_out.idle_timeout", idle.to_human_string() if isinstance(idle, Duration)
                                 else idle,
                                 "Use a whole number of minutes from 1 to 10080, e.g. Duration.minutes(15).")
    uri = scale_out.image_uri
    if uri is not None and (not isinstance(uri, str) or (not Token.is_unresolved(uri) and ".dkr.ecr." not in uri)):
        raise ConfigurationError(scope, "scale_out.image_uri", uri,
                                 "EMR Serverless runs images from Amazon ECR: use '<account>.dkr.ecr.<region>."
                                 "amazonaws.com/<repository>:<tag>', or None to build container/Dockerfile.spark.")
