"""What every monitor shares: target, job role, image, baseline, schedule and engine."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, Names, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..baseline import Baseline, BoundBaseline
from ..endpoint import CapturedEndpoint
from ..errors import ConfigurationError
from ..images import AnalyzerImage
from ..job import (
    BASELINE_CONSTRAINTS_LOCAL_DIR,
    BASELINE_STATISTICS_LOCAL_DIR,
    CAPTURE_LOCAL_PATH,
    METRICS_LOCAL_PATH,
    OUTPUT_LOCAL_PATH,
    Engine,
    JobCompute,
    JobNetwork,
)
from ..nag import acknowledge
from ..schedule import Schedule
from ..storage import MonitoringBucket

# The execution-status metrics of the standalone engine (published by lambda/metrics_publisher).
STATUS_NAMESPACE = "CdkModelMonitor"
STATUSES = ("Completed", "CompletedWithViolations", "NoData", "Failed")
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.*)$")


@dataclass(frozen=True, kw_only=True)
class MonitorKind:
    """What differs between monitor types for the engines and metrics."""

    name: str
    """Short name used in report paths and job names, e.g. ``data-quality``."""
    sagemaker_type: str
    """``MonitoringType`` of a SageMaker schedule, e.g. ``DataQuality``."""
    endpoint_namespace: str
    """CloudWatch namespace of the analyzer's metrics for endpoints (contract §7)."""
    capture_index_names: tuple[str, ...] = ("endpointInput", "endpointOutput")


class MonitorBase(Construct):
    """Shared machinery of the monitors; use ``DataQualityMonitor`` and its siblings."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        kind: MonitorKind,
        baseline: Baseline,
        endpoint: CapturedEndpoint | None = None,
        endpoint_name: str | None = None,
        capture_s3_uri: str | None = None,
        capture_key: kms.IKey | None = None,
        variant: str | None = None,
        storage: MonitoringBucket | None = None,
        schedule: Schedule | None = None,
        engine: Engine = Engine.STANDALONE,
        image: AnalyzerImage | None = None,
        compute: JobCompute | None = None,
        network: JobNetwork | None = None,
        environment: Mapping[str, str] | None = None,
        schedule_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.kind = kind
        self.engine_kind = engine
        self.schedule = schedule or Schedule.hourly()
        self.image_source = image or AnalyzerImage.from_asset()
        self.compute = compute or JobCompute()
        self.network = network or JobNetwork()
        self.user_environment = dict(environment or {})
        self._resolve_target(endpoint, endpoint_name, capture_s3_uri, variant, storage)
        self._validate(schedule_name)

        self.schedule_name = schedule_name or Names.unique_resource_name(self, max_length=63, separator="-")
        self.report_s3_uri = self.storage.s3_uri(self.storage.prefixes.reports, kind.name)
        self.job_role = self._create_job_role(capture_key)
        self.image = self.image_source.bind(self, grantee=self.job_role)
        self.baseline: BoundBaseline = baseline.bind(self, storage=self.storage, image=self.image_source,
                                                     job_role=self.job_role)

        if engine is Engine.STANDALONE:
            from ..engines.standalone import StandaloneEngine

            self.engine = StandaloneEngine(self, "Standalone", monitor=self)
        else:
            from ..engines.native import NativeEngine

            self.engine = NativeEngine(self, "ModelMonitor", monitor=self)

    # -- metrics ---------------------------------------------------------------------------

    @property
    def metric_dimensions(self) -> dict[str, str]:
        return {"Endpoint": self.endpoint_name, "MonitoringSchedule": self.schedule_name}

    @property
    def metric_period(self) -> Duration:
        """A period that holds one execution of the schedule (at least an hour)."""
        window = self.schedule.window.start_offset.to_minutes() - self.schedule.window.end_offset.to_minutes()
        return Duration.minutes(max(60, window))

    def metric(self, metric_name: str, *, statistic: str = "Maximum",
               period: Duration | None = None) -> cloudwatch.Metric:
        """A metric the analyzer publishes for this monitor (namespace and dimensions of the built-in)."""
        return cloudwatch.Metric(namespace=self.kind.endpoint_namespace, metric_name=metric_name,
                                 dimensions_map=self.metric_dimensions, statistic=statistic,
                                 period=period or self.metric_period)

    def metric_execution_status(self, status: str = "Failed", *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 for each execution that ended in ``status`` (Completed, CompletedWithViolations, NoData, Failed),
        0 otherwise. Published by the standalone engine after every window."""
        if status not in STATUSES:
            raise ConfigurationError(self, "status", status, f"Use one of {list(STATUSES)}.")
        return cloudwatch.Metric(namespace=STATUS_NAMESPACE, metric_name=f"Execution{status}",
                                 dimensions_map={**self.metric_dimensions, "MonitorType": self.kind.name},
                                 statistic="Sum", period=period or self.metric_period)

    def metric_violations(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Number of constraint violations each execution found."""
        return cloudwatch.Metric(namespace=STATUS_NAMESPACE, metric_name="ConstraintViolations",
                                 dimensions_map={**self.metric_dimensions, "MonitorType": self.kind.name},
                                 statistic="Maximum", period=period or self.metric_period)

    # -- what the engines need -------------------------------------------------------------

    @property
    def capture_local_path(self) -> str:
        """Where a job finds the window's captured data: SageMaker's layout under dataset_source."""
        return f"{CAPTURE_LOCAL_PATH}/{self.endpoint_name}/{self.variant}"

    def baseline_local_files(self) -> dict[str, str]:
        """``baseline_statistics`` / ``baseline_constraints`` inside the job: the folders their processing
        inputs download to (the analyzer takes the one JSON file in each)."""
        files = {"baseline_constraints": BASELINE_CONSTRAINTS_LOCAL_DIR}
        if self.baseline.statistics_s3_uri is not None:
            files["baseline_statistics"] = BASELINE_STATISTICS_LOCAL_DIR
        return files

    def analyzer_environment(self) -> dict[str, str]:
        """The built-in's environment for a standalone job (window times are added per execution)."""
        return {
            "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": list(self.kind.capture_index_names)}}),
            "dataset_source": CAPTURE_LOCAL_PATH,
            "output_path": OUTPUT_LOCAL_PATH,
            "publish_cloudwatch_metrics": "Enabled",
            "CLOUDWATCH_METRICS_DIRECTORY": METRICS_LOCAL_PATH,
            "sagemaker_endpoint_name": self.endpoint_name,
            "sagemaker_monitoring_schedule_name": self.schedule_name,
            **self.baseline_local_files(),
            **self.user_environment,
        }

    # -- internals -------------------------------------------------------------------------

    def _resolve_target(self, endpoint: CapturedEndpoint | None, endpoint_name: str | None,
                        capture_s3_uri: str | None, variant: str | None, storage: MonitoringBucket | None) -> None:
        if endpoint is not None:
            if endpoint_name is not None or capture_s3_uri is not None:
                raise ConfigurationError(self, "endpoint", endpoint.node.path,
                                         "Pass either endpoint, or endpoint_name with capture_s3_uri, not both.")
            self.variant = variant or endpoint.variants[0].name
            self.endpoint_name = endpoint.endpoint_name
            self.capture_s3_uri = endpoint.capture_s3_uri_for(self.variant)
            self.storage = storage or endpoint.bucket
            self._external_capture = None
            return
        if endpoint_name is None or capture_s3_uri is None:
            raise ConfigurationError(self, "endpoint", None,
                                     "Pass endpoint=CapturedEndpoint(...), or endpoint_name and capture_s3_uri "
                                     "(the DestinationS3Uri of the endpoint's data capture).")
        if storage is None:
            raise ConfigurationError(self, "storage", None,
                                     "Pass storage=MonitoringBucket(...) for baselines and reports.")
        self.variant = variant or "AllTraffic"
        self.endpoint_name = endpoint_name
        self.capture_s3_uri = f"{capture_s3_uri.rstrip('/')}/{endpoint_name}/{self.variant}"
        self.storage = storage
        self._external_capture = capture_s3_uri.rstrip("/")
        if not Token.is_unresolved(capture_s3_uri) and not _S3_URI.match(capture_s3_uri):
            raise ConfigurationError(self, "capture_s3_uri", capture_s3_uri,
                                     "Use the endpoint's capture destination, e.g. 's3://bucket/datacapture'.")

    def _validate(self, schedule_name: str | None) -> None:
        if schedule_name is not None and not re.match(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", schedule_name):
            raise ConfigurationError(self, "schedule_name", schedule_name,
                                     "Use 1-63 letters, digits and hyphens, starting and ending with a letter or digit.")
        problem = self.schedule.window.validate()
        if problem:
            raise ConfigurationError(self, "schedule.window", self.schedule.window, f"Fix the window: {problem}.")
        if self.engine_kind is Engine.MODEL_MONITOR and self.schedule.sagemaker_expression is None:
            raise ConfigurationError(self, "schedule", self.schedule.description,
                                     "SageMaker Model Monitor runs hourly, daily or every N hours only (and NOW): use "
                                     "Schedule.hourly()/daily()/every_hours()/once(), or engine=Engine.STANDALONE.")
        if self.engine_kind is Engine.STANDALONE and not self.schedule.expression:
            raise ConfigurationError(self, "schedule", self.schedule.description,
                                     "A one-off run on the standalone engine needs a date: Schedule.once(at=...).")
        if self.engine_kind is Engine.STANDALONE and self.image_source.is_builtin:
            raise ConfigurationError(self, "image", "builtin",
                                     "SageMaker's built-in analyzer runs only inside Model Monitor schedules: use "
                                     "engine=Engine.MODEL_MONITOR, or the project's analyzer image (the default).")
        if self.network.subnet_ids and not self.network.security_group_ids:
            raise ConfigurationError(self, "network.security_group_ids", (),
                                     "Give security groups with subnet_ids.")

    def _create_job_role(self, capture_key: kms.IKey | None) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(self, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                        description=f"Runs the {self.kind.name} monitoring jobs of one endpoint")
        if self._external_capture is None or Token.is_unresolved(self._external_capture):
            self.storage.grant_read_capture(role)
        else:
            match = _S3_URI.match(self._external_capture)
            bucket, prefix = match["bucket"], match["key"].strip("/")
            objects = f"arn:{stack.partition}:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
            role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]))
            role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"],
                                                   resources=[f"arn:{stack.partition}:s3:::{bucket}"]))
            acknowledge(role, "AwsSolutions-IAM5", "read access limited to the endpoint's capture prefix",
                        resource=objects)
            if capture_key is not None:
                capture_key.grant_decrypt(role)
        self.storage.grant_read_reports(role)   # the window's manifest lives with the reports
        self.storage.grant_write_reports(role)
        log_groups = stack.format_arn(service="logs", resource="log-group",
                                      resource_name="/aws/sagemaker/ProcessingJobs*",
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[log_groups]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}}))
        acknowledge(role, "AwsSolutions-IAM5", "SageMaker writes one log stream per job under /aws/sagemaker/ProcessingJobs",
                    resource=log_groups)
        acknowledge(role, "AwsSolutions-IAM5",
                    "PutMetricData accepts no resource ARN; it is limited to SageMaker's namespaces by a condition",
                    resource="*")
        if self.storage.encryption_key is not None:
            # the job's ML storage volume and its outputs are encrypted with the monitoring key
            role.add_to_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:DescribeKey"],
                resources=[self.storage.encryption_key.key_arn]))
        return role

