"""The EMR Serverless side of scale-out, shared by a monitor's windows and a deploy-time baseline: an application
running the analyzer's Spark image (built from container/Dockerfile.spark) and the role its job runs take."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_emrserverless as emrserverless
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..bundled import analyzer_context_dir
from ..errors import ConfigurationError
from ..network import VpcPlacement
from ..scale_out import ScaleOut, SparkArchitecture

ENTRY_POINT = "local:///opt/analyzer/spark_entry.py"
SPARK_DOCKERFILE = "Dockerfile.spark"
# The Python the image installs the analyzer into (container/Dockerfile.spark).
SPARK_PYTHON = "/usr/bin/python3.11"


class SparkRuntime(Construct):
    """An EMR Serverless application running the analyzer's Spark image, and the role its job runs take.

    The role trusts EMR Serverless for this application's job runs only; what it may read and write is the
    caller's to grant (a monitor's windows, or a baseline's dataset and output).
    """

    def __init__(self, scope: Construct, id: str, *, scale_out: ScaleOut, placement: VpcPlacement | None,
                 role_description: str) -> None:
        super().__init__(scope, id)
        self.scale_out = scale_out
        self.image_uri = self._image_uri(scale_out)
        network = None
        if placement is not None:
            network = emrserverless.CfnApplication.NetworkConfigurationProperty(
                subnet_ids=list(placement.subnet_ids), security_group_ids=list(placement.security_group_ids))
        self.application = emrserverless.CfnApplication(
            self, "Application",
            type="SPARK",
            release_label=scale_out.release_label,
            architecture=scale_out.architecture.value,
            image_configuration=emrserverless.CfnApplication.ImageConfigurationInputProperty(image_uri=self.image_uri),
            maximum_capacity=emrserverless.CfnApplication.MaximumAllowedResourcesProperty(
                cpu=f"{scale_out.max_vcpus} vCPU", memory=f"{scale_out.max_memory_gb} GB"),
            # no capacity is held between runs: the application starts with a job and stops when idle
            auto_start_configuration=emrserverless.CfnApplication.AutoStartConfigurationProperty(enabled=True),
            auto_stop_configuration=emrserverless.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=int(scale_out.idle_timeout.to_minutes())),
            network_configuration=network,
        )
        stack = Stack.of(self)
        # EMR Serverless assumes the role for this application's job runs only (confused-deputy conditions).
        self.job_role = iam.Role(self, "JobRole", description=role_description,
                                 assumed_by=iam.ServicePrincipal("emr-serverless.amazonaws.com", conditions={
                                     "StringEquals": {"aws:SourceAccount": stack.account,
                                                      "aws:SourceArn": self.application.attr_arn}}))

    def _image_uri(self, scale_out: ScaleOut) -> str:
        if scale_out.image_uri is not None:
            return scale_out.image_uri
        if scale_out.architecture is not SparkArchitecture.X86_64:
            raise ConfigurationError(self, "scale_out.architecture", scale_out.architecture,
                                     "The analyzer's lock file holds x86_64 wheels: use SparkArchitecture.X86_64, or "
                                     "build an ARM64 image from container/Dockerfile.spark and pass image_uri.")
        self.image_asset = ecr_assets.DockerImageAsset(
            self, "Image", directory=analyzer_context_dir(), file=SPARK_DOCKERFILE,
            build_args={"RELEASE": scale_out.release_label}, platform=ecr_assets.Platform.LINUX_AMD64)
        return self.image_asset.image_uri

    def submit_parameters(self) -> str:
        """``sparkSubmitParameters``: the workers' size and number, and the environment of driver and executors: the
        image's Python, and the stack's region for boto3, with which the executors read S3 objects themselves (without
        a region boto3 asks the global S3 endpoint, which a job without a VPC or in one with a regional S3 gateway
        endpoint cannot reach: EMR Serverless gives such jobs the same region's endpoints only)."""
        environment = {"PYSPARK_PYTHON": SPARK_PYTHON, "AWS_DEFAULT_REGION": Stack.of(self).region}
        return self.scale_out.spark_submit_parameters() + " " + " ".join(
            f"--conf {where}.{name}={value}" for name, value in environment.items()
            for where in ("spark.emr-serverless.driverEnv", "spark.executorEnv"))

    @property
    def application_arn(self) -> str:
        return self.application.attr_arn

    def job_runs_arn(self) -> str:
        """The ARN of every job run of this application (what the state machine starts, reads and cancels)."""
        return f"{self.application.attr_arn}/jobruns/*"
