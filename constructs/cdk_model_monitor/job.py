"""What a monitoring job runs on: compute, network, and the settings both engines share."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .network import VpcPlacement, place_in_vpc


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

    :param vpc: run the jobs in this VPC. Default: no VPC.
    :param vpc_subnets: which of its subnets. Default: the VPC's default selection (its private
        subnets if it has any).
    :param security_groups: the jobs' security groups. Default: one created per monitor, with no
        inbound rules.
    :param subnet_ids: deprecated (use ``vpc``): subnet ids as strings. Default: none.
    :param security_group_ids: deprecated (use ``security_groups``): required with ``subnet_ids``.
    :param enable_network_isolation: no network access from the container (S3 inputs and outputs still
        work: SageMaker moves them). Default: on for the project's analyzer and images of yours, which
        read and write only local files; off for SageMaker's built-in images. Set False only when a custom
        script of yours (``record_preprocessor_script``, ``post_analytics_processor_script``) calls out.
    :param encrypt_inter_container_traffic: default True.
    """

    vpc: ec2.IVpc | None = None
    vpc_subnets: ec2.SubnetSelection | None = None
    security_groups: Sequence[ec2.ISecurityGroup] | None = None
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

    def place(self, scope: Construct) -> VpcPlacement | None:
        """The subnets and security groups of ``scope``'s jobs (a security group created in it when none is
        given), or None outside a VPC."""
        return place_in_vpc(scope, prop_prefix="network.", description="Monitoring jobs of one monitor",
                            vpc=self.vpc, vpc_subnets=self.vpc_subnets, security_groups=self.security_groups,
                            subnet_ids=self.subnet_ids, security_group_ids=self.security_group_ids)

    def to_api(self, placement: VpcPlacement | None) -> Mapping[str, object]:
        """The processing API's ``NetworkConfig`` (PascalCase keys), in ``placement`` (see ``place``)."""
        config: dict[str, object] = {
            "EnableInterContainerTrafficEncryption": self.encrypt_inter_container_traffic,
            "EnableNetworkIsolation": self.isolated,
        }
        if placement is not None:
            config["VpcConfig"] = placement.to_api()
        return config


# Where the analyzer finds things inside the job (SageMaker's own defaults, contract §6.3).
CAPTURE_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
# A batch source's dataset_source: the transform jobs' input files under input/, their output under output/.
BATCH_LOCAL_PATH = "/opt/ml/processing/input/batch"
GROUND_TRUTH_LOCAL_PATH = "/opt/ml/processing/groundtruth"
BASELINE_STATISTICS_LOCAL_DIR = "/opt/ml/processing/baseline/stats"
BASELINE_CONSTRAINTS_LOCAL_DIR = "/opt/ml/processing/baseline/constraints"
OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
# The standalone engine uploads the analyzer's metric lines with the reports and publishes them itself.
METRICS_LOCAL_PATH = "/opt/ml/processing/output/metrics"
