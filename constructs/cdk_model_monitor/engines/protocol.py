"""What an engine needs from a monitor: the narrow, typed view the standalone and native engines take.

The engines know no monitor class and no monitor type: a monitor type adds its own job inputs, environment
and (native engine) typed job definition through these methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aws_cdk import CfnResource
from aws_cdk import aws_iam as iam
from constructs import Construct, Node

from ..baseline import BoundBaseline
from ..batch import BatchTransformSource, BatchTrigger
from ..images import AnalyzerImage, BoundImage
from ..job import JobCompute, JobNetwork
from ..network import VpcPlacement
from ..scale_out import ScaleOut
from ..schedule import Schedule
from ..storage import MonitoringBucket


@dataclass(frozen=True, kw_only=True)
class JobInput:
    """A processing input a monitor adds to each standalone job, besides the captures and baseline.

    Exactly one of ``s3_uri`` (a fixed object or prefix) and ``s3_uri_path`` (a JSONPath into the
    state machine's state, e.g. the window planner's ``$.plan.ground_truth_manifest_uri``).
    """

    name: str
    local_path: str
    s3_uri: str | None = None
    s3_uri_path: str | None = None
    manifest: bool = False
    """``S3DataType=ManifestFile`` (a manifest written per window) instead of ``S3Prefix``."""

    def to_api(self) -> dict[str, object]:
        """The processing API's ``ProcessingInputs`` entry (``S3Uri.$`` for a JSONPath)."""
        source = {"S3Uri.$": self.s3_uri_path} if self.s3_uri_path is not None else {"S3Uri": self.s3_uri}
        return {"InputName": self.name, "S3Input": {
            **source, "S3DataType": "ManifestFile" if self.manifest else "S3Prefix", "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated", "LocalPath": self.local_path}}


@dataclass(frozen=True)
class StateValue:
    """An argument of the Spark job known per execution: a JSONPath into the state (``$.plan.report_uri``) or an
    intrinsic function of it (``States.Format(...)``), evaluated by Step Functions."""

    expression: str


SparkArgument = str | StateValue
"""One of the Spark job's ``entryPointArguments``: text known at synth (tokens allowed) or a ``StateValue``."""


class EngineMonitorKind(Protocol):
    """The names and traits of a monitor's type that an engine reads."""

    @property
    def name(self) -> str: ...
    @property
    def sagemaker_type(self) -> str: ...
    @property
    def endpoint_namespace(self) -> str: ...
    @property
    def analysis_type(self) -> str | None: ...
    @property
    def ground_truth(self) -> bool: ...


class EngineMonitor(Protocol):
    """A monitor as an engine runs it (``MonitorBase`` is one)."""

    @property
    def node(self) -> Node: ...
    @property
    def kind(self) -> EngineMonitorKind: ...
    @property
    def schedule(self) -> Schedule: ...
    @property
    def schedule_name(self) -> str: ...
    @property
    def endpoint_name(self) -> str: ...
    @property
    def storage(self) -> MonitoringBucket: ...
    @property
    def baseline(self) -> BoundBaseline: ...
    @property
    def image_source(self) -> AnalyzerImage: ...
    @property
    def image(self) -> BoundImage: ...
    @property
    def job_role(self) -> iam.Role: ...
    @property
    def compute(self) -> JobCompute: ...
    @property
    def network(self) -> JobNetwork: ...
    @property
    def vpc_placement(self) -> VpcPlacement | None: ...
    @property
    def report_s3_uri(self) -> str: ...

    # -- standalone engine -------------------------------------------------------------------

    @property
    def capture_s3_uri(self) -> str: ...
    @property
    def manifest_s3_uri(self) -> str: ...
    @property
    def latest_report_key(self) -> str: ...
    @property
    def capture_local_path(self) -> str: ...
    @property
    def metric_dimensions(self) -> dict[str, str]: ...
    @property
    def metrics_namespace(self) -> str: ...
    @property
    def batch_source(self) -> BatchTransformSource | None: ...
    @property
    def batch_trigger(self) -> BatchTrigger | None: ...
    def source_payload(self) -> dict[str, object]: ...

    def grant_read_capture(self, grantee: iam.IGrantable) -> iam.Grant: ...
    def grant_read_reports(self, grantee: iam.IGrantable) -> iam.Grant: ...
    def grant_write_manifests(self, grantee: iam.IGrantable) -> iam.Grant: ...
    def grant_planner_reads(self, grantee: iam.IGrantable) -> iam.Grant: ...
    def planning_window(self) -> tuple[str, str]: ...
    def planner_payload(self) -> dict[str, object]: ...
    def plan_overrides(self) -> dict[str, str]: ...
    def analyzer_environment(self) -> dict[str, str]: ...
    def window_environment(self) -> dict[str, str]: ...
    def job_inputs(self) -> list[JobInput]: ...
    @property
    def scale_out(self) -> ScaleOut | None: ...
    @property
    def spark_logs_prefix(self) -> str: ...
    def spark_arguments(self) -> list[SparkArgument]: ...
    def grant_spark_job(self, grantee: iam.IGrantable) -> None: ...

    # -- native engine -----------------------------------------------------------------------

    def native_environment(self) -> dict[str, str]: ...

    def native_job_definition(self, scope: Construct, *, key_arn: str | None) -> CfnResource:
        """The typed ``AWS::SageMaker::<type>JobDefinition`` of the monitor's type, created in ``scope``."""
        ...
