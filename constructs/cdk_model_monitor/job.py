"""What a monitoring job runs on: compute, network, and the settings both engines share."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from aws_cdk import Duration


class Engine(enum.Enum):
    """Which AWS service runs the monitoring jobs.

    ``STANDALONE`` (default): EventBridge Scheduler -> Step Functions -> a SageMaker Processing job
    running the analyzer image. Works in every account.

    ``MODEL_MONITOR``: a native SageMaker Model Monitor schedule, for accounts that still have
    the service (AWS documents it as closed to new customers).
    """

    STANDALONE = "standalone"
    MODEL_MONITOR = "model-monitor"


@dataclass(frozen=True, kw_only=True)
class JobCompute:
    """Processing resources of each monitoring job.

    :param instance_type: default ``ml.m5.xlarge``.
    :param instance_count: default 1 (the analyzer runs on one instance).
    :param volume_size_gb: ML storage volume, default 20 GB.
    :param max_runtime: stop a job after this long, default 1 hour (SageMaker recommends at most
        30 minutes per job for hourly model-quality and bias schedules, which run two jobs).
    """

    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_gb: int = 20
    max_runtime: Duration = field(default_factory=lambda: Duration.hours(1))


@dataclass(frozen=True, kw_only=True)
class JobNetwork:
    """Network settings of each monitoring job.

    :param subnet_ids: run inside these VPC subnets. Default: no VPC.
    :param security_group_ids: security groups in the VPC. Required with ``subnet_ids``.
    :param enable_network_isolation: no network access from the container (S3 inputs and outputs still
        work: SageMaker moves them). Default: on for the project's analyzer and images of yours, which
        read and write only local files; off for SageMaker's built-in images. Set False only when a custom
        script of yours (``record_preprocessor_script``, ``post_analytics_processor_script``) calls out.
    :param encrypt_inter_container_traffic: default True.
    """

    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    enable_network_isolation: bool | None = None
    encrypt_inter_container_traffic: bool = True

    def for_image(self, *, builtin: bool) -> JobNetwork:
        """These settings with the isolation default decided for an image (built-in or not)."""
        if self.enable_network_isolation is not None:
            return self
        return replace(self, enable_network_isolation=not builtin)

    @property
    def isolated(self) -> bool:
        """Whether jobs run without network access (the default when undecided: the analyzer needs none)."""
        return self.enable_network_isolation is not False

    def to_api(self) -> Mapping[str, object]:
        """The processing API's ``NetworkConfig`` (PascalCase keys)."""
        config: dict[str, object] = {
            "EnableInterContainerTrafficEncryption": self.encrypt_inter_container_traffic,
            "EnableNetworkIsolation": self.isolated,
        }
        if self.subnet_ids:
            config["VpcConfig"] = {"Subnets": list(self.subnet_ids), "SecurityGroupIds": list(self.security_group_ids)}
        return config


# Where the analyzer finds things inside the job (SageMaker's own defaults, contract §6.3).
CAPTURE_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
GROUND_TRUTH_LOCAL_PATH = "/opt/ml/processing/groundtruth"
BASELINE_STATISTICS_LOCAL_DIR = "/opt/ml/processing/baseline/stats"
BASELINE_CONSTRAINTS_LOCAL_DIR = "/opt/ml/processing/baseline/constraints"
OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
# The standalone engine uploads the analyzer's metric lines with the reports and publishes them itself.
METRICS_LOCAL_PATH = "/opt/ml/processing/output/metrics"
