"""What every monitor shares: target, job role, image, baseline, schedule and engine."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import CfnResource, Duration, Names, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from ..alarm_factory import AlarmOptions, CreatedAlarm, MonitorAlarms
from ..baseline import Baseline, BaselineKind, BoundBaseline, grant_read_baseline_files
from ..batch import BatchTransformSource, BatchTrigger
from ..bundled import lambda_shared_module
from ..endpoint import (
    CapturedEndpoint,
    CaptureMode,
    ICapturedEndpoint,
    check_capture_modes,
    check_endpoint_name,
)
from ..engines.native import LabelledEndpointInput, NativeEngine
from ..engines.protocol import JobInput, SparkArgument, StateValue
from ..engines.standalone import StandaloneEngine
from ..errors import ConfigurationError, require_member
from ..images import AnalyzerImage, BuiltinImage
from ..job import (
    BASELINE_CONSTRAINTS_LOCAL_DIR,
    BASELINE_STATISTICS_LOCAL_DIR,
    BATCH_LOCAL_PATH,
    CAPTURE_LOCAL_PATH,
    GROUND_TRUTH_LOCAL_PATH,
    METRICS_LOCAL_PATH,
    OUTPUT_LOCAL_PATH,
    Engine,
    JobCompute,
    JobNetwork,
)
from ..monitor_types import MonitorTypeNames
from ..network import VpcPlacement, grant_vpc_access
from ..roles import grant_sagemaker_logs_and_metrics, sagemaker_principal
from ..scale_out import ScaleOut, check_scale_out
from ..schedule import Schedule, iso_offset
from ..statuses import (
    EXECUTION_STATUSES,
    FAILED,
    LATE_CAPTURES_METRIC_NAME,
    SKIPPED_METRIC_NAME,
    STATUS_NAMESPACE,
    VIOLATIONS_METRIC_NAME,
    status_metric_name,
)
from ..storage import object_basename
from .capture_columns import INPUT_AND_OUTPUT, check_captured
from .settings import MonitorSettings, MonitorTarget

# Folder of the standalone engine's manifests and receipts under a monitor type's reports.
MANIFEST_FOLDER = "_manifests"
# Folder of the EMR Serverless jobs' logs under a monitor type's reports (scale-out).
SPARK_LOGS_FOLDER = "_spark-logs"
# The copy of the newest window's report.html beside a monitor's window folders (standalone engine).
LATEST_REPORT_FILE = "latest-report.html"
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.*)$")
SCHEDULE_FIX = ("Use a Schedule: Schedule.hourly(), Schedule.daily(hour=...), Schedule.every_hours(n), "
                "Schedule.cron('cron(...)', window=...), Schedule.rate(Duration.minutes(...)) or Schedule.once(...).")


@dataclass(frozen=True, kw_only=True)
class MonitorKind:
    """What differs between monitor types for the engines and metrics."""

    names: MonitorTypeNames
    """The type's names, from the table shared with the Lambda handlers (``monitor_types``)."""
    capture_index_names: tuple[str, ...] = INPUT_AND_OUTPUT
    """``captureIndexNames`` of the standalone job's ``dataset_format`` unless the monitor chooses others."""
    reads_capture: tuple[CaptureMode, ...] = (CaptureMode.INPUT,)
    """The captured payloads the analysis needs (checked against the endpoint's capture modes)."""
    builtin_image: BuiltinImage = BuiltinImage.MODEL_MONITOR
    """The SageMaker image that analyses this kind natively (Model Monitor or Clarify)."""
    baseline_kind: BaselineKind | None = None
    """What the baseline files must describe (checked when the source knows it at synth)."""
    ground_truth: bool = False
    """Jobs join captures with ground-truth labels (a second input; a typed job definition natively)."""

    @property
    def name(self) -> str:
        """Short name used in report paths and job names, e.g. ``data-quality``."""
        return self.names.name

    @property
    def sagemaker_type(self) -> str:
        """``MonitoringType`` of a SageMaker schedule, e.g. ``DataQuality``."""
        return self.names.sagemaker_type

    @property
    def endpoint_namespace(self) -> str:
        """CloudWatch namespace of the analyzer's metrics for endpoints (contract §7)."""
        return self.names.endpoint_namespace

    @property
    def batch_namespace(self) -> str:
        """CloudWatch namespace of the analyzer's metrics for batch transform jobs (contract §7)."""
        return self.names.batch_namespace

    @property
    def analysis_type(self) -> str | None:
        """``analysis_type`` of the analyzer's environment (``MODEL_QUALITY``, ``MODEL_BIAS``); None for data
        quality, the analyzer's default."""
        return self.names.analysis_type


class MonitorBase(Construct):
    """Shared machinery of the monitors; use ``DataQualityMonitor`` and its siblings."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        kind: MonitorKind,
        target: MonitorTarget,
        settings: MonitorSettings,
    ) -> None:
        super().__init__(scope, id)
        # choices checked first: a string in their place would fail later, deep inside, without a fix
        engine = settings.engine
        require_member(self, "engine", engine, Engine)
        assert isinstance(engine, Engine)  # for the type checker: require_member refused anything else
        if target.schedule is not None and not isinstance(target.schedule, Schedule):
            raise ConfigurationError(self, "schedule", target.schedule, SCHEDULE_FIX)
        self.kind = kind
        self.engine_kind = engine
        # transform jobs run daily or so: their heartbeat and alarm periods are a day unless the schedule says
        self.schedule = target.schedule or (Schedule.daily() if target.batch_source is not None else Schedule.hourly())
        self.image_source = settings.image or AnalyzerImage.from_asset()
        self.compute = settings.compute or JobCompute()
        self.network = (settings.network or JobNetwork()).for_image(builtin=self.image_source.is_builtin)
        self.user_environment = dict(settings.environment or {})
        self.scale_out: ScaleOut | None = settings.scale_out
        # the monitored endpoint (imported from endpoint_name and capture_s3_uri when those are given), or None
        # for transform jobs (``batch_source``)
        self.batch_source: BatchTransformSource | None = target.batch_source
        self.batch_trigger: BatchTrigger | None = None
        self.endpoint: ICapturedEndpoint | None = None
        self.capture_modes: frozenset[CaptureMode] | None
        if target.batch_source is not None:
            self._resolve_batch_source(target, settings.variant)
        else:
            self.endpoint = self._resolve_target(target, settings.variant)
        self.baseline_source = target.baseline  # alarms read thresholds from a local baseline
        self._validate(settings.schedule_name)
        self._validate_kind()

        self.schedule_name = settings.schedule_name or Names.unique_resource_name(self, max_length=63, separator="-")
        self.report_s3_uri = self.storage.s3_uri(self.storage.prefixes.reports, kind.name)
        # the jobs' subnets and security groups (``vpc_placement.connections``), None outside a VPC
        self.vpc_placement: VpcPlacement | None = self.network.place(self)
        self.job_role = self._create_job_role()
        self.image = self.image_source.bind(self, grantee=self.job_role)
        self.baseline: BoundBaseline = target.baseline.bind(self, storage=self.storage, image=self.image_source,
                                                     job_role=self.job_role)
        #: the CDK file assets the job reads (the local baseline's files, a monitor type's own config)
        self.job_assets: list[s3_assets.Asset] = list(self.baseline.assets)
        self._bind_kind()
        self.asset_kms_key = asset_kms_key = settings.asset_kms_key
        if asset_kms_key is not None and self.job_assets:
            # the bootstrap's asset bucket encrypted with a key of the user's (cdk bootstrap --bootstrap-kms-key-id)
            asset_kms_key.grant_decrypt(self.job_role)
        check_captured(self, monitor_type=kind.name, reads=kind.reads_capture, modes=self.capture_modes,
                       features=self.baseline.features)
        # A dataset_format of the user's own is theirs to get right.
        # A batch source has no capture index: the transform jobs' files are read as they are.
        self.capture_index_names: tuple[str, ...] = (
            kind.capture_index_names if "dataset_format" in self.user_environment or self.is_batch
            else self._choose_capture_index_names())

        self.engine: StandaloneEngine | NativeEngine
        if self.engine_kind is Engine.STANDALONE:
            self.engine = StandaloneEngine(self, "Standalone", monitor=self)
        else:
            self.engine = NativeEngine(self, "ModelMonitor", monitor=self)

    # -- metrics ---------------------------------------------------------------------------

    @property
    def is_batch(self) -> bool:
        """Whether this monitor watches transform jobs (``batch_source``) rather than an endpoint."""
        return self.batch_source is not None

    @property
    def metric_dimensions(self) -> dict[str, str]:
        """The dimensions of the analyzer's metrics: SageMaker's, ``MonitoringSchedule`` alone for batch jobs."""
        if self.is_batch:
            return {"MonitoringSchedule": self.schedule_name}
        return {"Endpoint": self.endpoint_name, "MonitoringSchedule": self.schedule_name}

    @property
    def metrics_namespace(self) -> str:
        """The namespace of the analyzer's metrics: ``aws/sagemaker/Endpoints/...``, or
        ``aws/sagemaker/ModelMonitoring/...`` for batch jobs (contract §7)."""
        return self.kind.batch_namespace if self.is_batch else self.kind.endpoint_namespace

    @property
    def metric_period(self) -> Duration:
        """A period that holds one execution of the schedule (at least an hour)."""
        window = self.schedule.window.start_offset.to_minutes() - self.schedule.window.end_offset.to_minutes()
        return Duration.minutes(max(60, window))

    def metric(self, metric_name: str, *, statistic: str = "Maximum",
               period: Duration | None = None) -> cloudwatch.Metric:
        """A metric the analyzer publishes for this monitor (namespace and dimensions of the built-in); a name
        over CloudWatch's 255 characters is shortened by the rule the analyzer and the publisher apply."""
        metric_name = lambda_shared_module("names").cloudwatch_metric_name(metric_name)
        return cloudwatch.Metric(namespace=self.metrics_namespace, metric_name=metric_name,
                                 dimensions_map=self.metric_dimensions, statistic=statistic,
                                 period=period or self.metric_period)

    def metric_execution_status(self, status: str = FAILED, *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 for each execution that ended in ``status`` (Completed, CompletedWithViolations, NoData, Failed),
        0 otherwise. Published by the standalone engine after every window."""
        if status not in EXECUTION_STATUSES:
            raise ConfigurationError(self, "status", status, f"Use one of {list(EXECUTION_STATUSES)}.")
        return cloudwatch.Metric(namespace=STATUS_NAMESPACE, metric_name=status_metric_name(status),
                                 dimensions_map={**self.metric_dimensions, "MonitorType": self.kind.name},
                                 statistic="Sum", period=period or self.metric_period)

    def metric_late_capture_files(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Capture files that reached a window's folders after the window was listed, so that no window analysed
        them (standalone engine; counted by the next window's planner and stamped with the late window's start).
        More than a few: raise the schedule's ``capture_delay``."""
        return cloudwatch.Metric(namespace=STATUS_NAMESPACE, metric_name=LATE_CAPTURES_METRIC_NAME,
                                 dimensions_map={**self.metric_dimensions, "MonitorType": self.kind.name},
                                 statistic="Sum", period=period or self.metric_period)

    def metric_metrics_skipped(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """The analyzer's metric lines of each window that CloudWatch did not take (refused as invalid, or beyond its
        limits: see lambda/metrics_publisher): alarms on those metrics miss that window (standalone engine)."""
        return cloudwatch.Metric(namespace=STATUS_NAMESPACE, metric_name=SKIPPED_METRIC_NAME,
                                 dimensions_map={**self.metric_dimensions, "MonitorType": self.kind.name},
                                 statistic="Sum", period=period or self.metric_period)

    def metric_violations(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Number of constraint violations each execution found."""
        return cloudwatch.Metric(namespace=STATUS_NAMESPACE, metric_name=VIOLATIONS_METRIC_NAME,
                                 dimensions_map={**self.metric_dimensions, "MonitorType": self.kind.name},
                                 statistic="Maximum", period=period or self.metric_period)

    # -- where this monitor writes ----------------------------------------------------------

    @property
    def report_prefix(self) -> str:
        """Key prefix of this monitor's reports, ``<reports>/<type>/<endpoint>/<schedule>`` (SageMaker's
        layout under the output URI, also the window planner's ``report_uri`` root)."""
        return "/".join(p for p in (self.storage.prefixes.reports, self.kind.name, self.endpoint_name,
                                    self.schedule_name) if p)

    @property
    def latest_report_key(self) -> str:
        """Key of the copy of the newest window's report.html that the standalone engine's publisher keeps,
        ``<report prefix>/latest-report.html``: a file, not a ``latest/`` folder, so that readers of the
        report folders do not take it for one more window."""
        return f"{self.report_prefix}/{LATEST_REPORT_FILE}"

    @property
    def manifest_prefix(self) -> str:
        """Key prefix of this monitor's window manifests and publication receipts (standalone engine)."""
        return "/".join(p for p in (self.storage.prefixes.reports, self.kind.name, MANIFEST_FOLDER, self.endpoint_name,
                                    self.schedule_name) if p)

    @property
    def manifest_s3_uri(self) -> str:
        """Root of the window planner's manifests (it adds ``<endpoint>/<schedule>/<window>``)."""
        return self.storage.s3_uri(self.storage.prefixes.reports, self.kind.name, MANIFEST_FOLDER)

    @property
    def merge_prefix(self) -> str:
        """Where SageMaker's ground-truth merge job of a native labelled monitor writes (contract §2.2)."""
        return "/".join(p for p in (self.storage.prefixes.reports, self.kind.name, "merge",
                                    self.endpoint_name or self.source_name) if p)

    def grant_write_reports(self, grantee: iam.IGrantable) -> iam.Grant:
        """PutObject on this monitor's report folder only."""
        return self.storage.grant_prefix(grantee, self.report_prefix, write=True)

    def grant_read_reports(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read and list this monitor's report folder only."""
        return self.storage.grant_prefix(grantee, self.report_prefix, read=True)

    def grant_read_manifests(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read this monitor's manifests and receipts (the job reads its window's manifest)."""
        return self.storage.grant_prefix(grantee, self.manifest_prefix, read=True)

    def grant_write_manifests(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read and write this monitor's manifests and receipts (the planner and the publisher)."""
        return self.storage.grant_prefix(grantee, self.manifest_prefix, read=True, write=True)

    # -- what the engines need -------------------------------------------------------------

    @property
    def capture_local_path(self) -> str:
        """Where a job finds the window's captured data: SageMaker's layout under dataset_source (batch jobs:
        ``<dataset_source>/input`` and ``/output`` below it)."""
        if self.is_batch:
            return BATCH_LOCAL_PATH
        return f"{CAPTURE_LOCAL_PATH}/{self.endpoint_name}/{self.variant}"

    @property
    def source_name(self) -> str:
        """The monitored source's name: the endpoint's, or the batch capture's (ground-truth folders)."""
        if self.batch_source is not None:
            return self.batch_source.capture.name
        return self.endpoint_name

    def source_payload(self) -> dict[str, object]:
        """Keys the window planner needs to read a batch source (none for an endpoint): the input type, and where
        the job finds the transform jobs' input and output files."""
        if not self.is_batch:
            return {}
        return {"monitoring_input_type": "BATCH_TRANSFORM",
                "input_local_path": f"{BATCH_LOCAL_PATH}/input", "output_local_path": f"{BATCH_LOCAL_PATH}/output"}

    def baseline_local_files(self) -> dict[str, str]:
        """``baseline_constraints`` / ``baseline_statistics`` inside a job of the project's analyzer, on either
        engine: the folder SageMaker downloads each baseline object to, and the object's name in it (its S3
        key's last segment, e.g. a file asset's ``<hash>.json``). The folder alone when the name is known
        only at deploy time: the analyzer then finds the file in it by its content."""
        def local_file(folder: str, uri: str) -> str:
            name = object_basename(self, uri)
            return f"{folder}/{name}" if name else folder

        files = {"baseline_constraints": local_file(BASELINE_CONSTRAINTS_LOCAL_DIR, self.baseline.constraints_s3_uri)}
        if self.baseline.statistics_s3_uri is not None:
            files["baseline_statistics"] = local_file(BASELINE_STATISTICS_LOCAL_DIR, self.baseline.statistics_s3_uri)
        return files

    def analyzer_environment(self) -> dict[str, str]:
        """The built-in's environment for a standalone job (window times are added per execution)."""
        source = ({"monitoring_input_type": "BATCH_TRANSFORM"} if self.is_batch
                  else {"sagemaker_endpoint_name": self.endpoint_name})
        return {
            **({"analysis_type": self.kind.analysis_type} if self.kind.analysis_type else {}),
            "dataset_format": self.dataset_format(),
            "dataset_source": BATCH_LOCAL_PATH if self.is_batch else CAPTURE_LOCAL_PATH,
            "output_path": OUTPUT_LOCAL_PATH,
            "publish_cloudwatch_metrics": "Enabled",
            "CLOUDWATCH_METRICS_DIRECTORY": METRICS_LOCAL_PATH,
            **source,
            "sagemaker_monitoring_schedule_name": self.schedule_name,
            **self.baseline_local_files(),
            **self.user_environment,
        }

    def dataset_format(self) -> str:
        """The ``dataset_format`` of a job reading the endpoint's captures (the transform jobs' files for batch)."""
        if self.batch_source is not None:
            return self.batch_source.dataset_format.to_environment()
        return json.dumps({"sagemakerCaptureJson": {"captureIndexNames": list(self.capture_index_names)}})

    def native_environment(self) -> dict[str, str]:
        """The Environment of a native job definition: the user's, plus ``dataset_format`` when the monitor
        reads other payloads than the input and output SageMaker passes by default (the built-in honours it),
        plus, for an image not SageMaker's, where the baseline files land (``baseline_local_files``). SageMaker
        sets ``baseline_*`` itself in the jobs it starts, to values documented for objects named
        constraints.json / statistics.json only; the analyzer finds the file whichever value it gets, by
        its content when the value names no file."""
        chosen = {} if self.capture_index_names == INPUT_AND_OUTPUT or self.is_batch else {
            "dataset_format": self.dataset_format()}
        files = {} if self.image_source.is_builtin else self.baseline_local_files()
        # SageMaker's DatasetFormat says the format; the input type is said for the project's analyzer
        batch = {"monitoring_input_type": "BATCH_TRANSFORM"} if self.is_batch and not self.image_source.is_builtin else {}
        return {**files, **chosen, **batch, **self.user_environment}

    def planning_window(self) -> tuple[str, str]:
        """Offsets of the window whose captures the planner lists (``window_start_offset``, ``window_end_offset``)."""
        return self.schedule.window.start, self.schedule.window.end

    def planner_payload(self) -> dict[str, object]:
        """Keys this monitor adds to the window planner's input (e.g. the ground-truth prefix)."""
        return {}

    def plan_overrides(self) -> dict[str, str]:
        """Fields of the plan to replace before the job runs: plan key -> JSONPath of the value."""
        return {}

    def window_environment(self) -> dict[str, str]:
        """The per-window environment of a standalone job, as Step Functions JSONPaths into the plan."""
        return {"start_time.$": "$.plan.start", "end_time.$": "$.plan.end", "metric_time.$": "$.plan.metric_time"}

    def job_inputs(self) -> list[JobInput]:
        """Processing inputs besides the window's captures and the baseline files."""
        return []

    # -- scale-out (the Spark runner on EMR Serverless) ----------------------------------------

    spark_environment_flags: Mapping[str, str] = {}
    """The analyzer environment variables of the user's (``environment``) that the Spark runner takes, and its flag
    for each; with ``scale_out`` any other variable is refused at synth (the Spark job has no environment)."""

    @property
    def spark_logs_prefix(self) -> str:
        """Key prefix of this monitor's EMR Serverless job logs, beside its manifests (not among the window folders)."""
        return "/".join((self.storage.prefixes.reports, self.kind.name, SPARK_LOGS_FOLDER, self.endpoint_name,
                         self.schedule_name))

    def spark_arguments(self) -> list[SparkArgument]:
        """The Spark job's ``entryPointArguments``: the analyzer's ``monitor`` command line with S3 URIs, the same
        inputs the Processing job gets as its environment and local files (``analyzer_environment``)."""
        window = self.window_environment()
        arguments: list[SparkArgument] = [
            "monitor", "--engine", "spark", "--type", self.kind.names.short_name,
            "--capture", StateValue("$.plan.manifest_uri"),
            "--output", StateValue("$.plan.report_uri"),
            # where the Processing job uploads its metric lines too, and the publisher reads them
            "--metrics-dir", StateValue("States.Format('{}/metrics', $.plan.report_uri)"),
            "--endpoint", self.endpoint_name, "--schedule", self.schedule_name,
            "--start", StateValue(window["start_time.$"]), "--end", StateValue(window["end_time.$"]),
            "--metric-time", StateValue(window["metric_time.$"]),
            *self.spark_type_arguments(),
        ]
        for name, value in sorted(self.user_environment.items()):
            arguments += [self.spark_environment_flags[name], value]
        return arguments

    def spark_type_arguments(self) -> list[SparkArgument]:
        """The monitor type's own flags of the Spark job (its baseline files, its settings)."""
        return []

    def grant_spark_job(self, grantee: iam.IGrantable) -> None:
        """What a Spark job of this monitor reads and writes, and no more: the captures, its manifests and baseline
        files, its report folder (reports and metric lines), its log folder, with the monitoring key."""
        self.grant_read_capture(grantee)
        self.grant_read_manifests(grantee)
        self.grant_write_reports(grantee)
        self.storage.grant_prefix(grantee, self.report_prefix, read=True)
        self.storage.grant_prefix(grantee, self.spark_logs_prefix, write=True)
        grant_read_baseline_files(self, grantee, self.baseline, storage=self.storage)
        if self.asset_kms_key is not None and self.job_assets:
            self.asset_kms_key.grant_decrypt(grantee)
        if self.storage.encryption_key is not None:
            self.storage.encryption_key.grant(grantee, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
                                              "kms:DescribeKey")

    def grant_planner_reads(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let the window planner list what it needs besides the captures (nothing by default: a grant
        that adds no statement)."""
        return iam.Grant.drop(grantee, "the planner reads only the captures")

    def dashboard_widgets(self, alarms: Sequence[CreatedAlarm], *,
                          features: Sequence[str] | None) -> list[cloudwatch.IWidget]:
        """The monitor type's own dashboard graphs (``monitors/<type>/dashboard.py``), from ``alarms``, the alarms
        made for this monitor; none for a type without graphs of its own."""
        return []

    alarm_options_type: type[AlarmOptions] = AlarmOptions
    """The options class of this monitor type's alarms (``add_health_alarms``)."""

    def add_health_alarms(self, alarms: MonitorAlarms, *, baseline: Baseline | None,
                          options: AlarmOptions | None) -> list[CreatedAlarm]:
        """The model-health alarms of this monitor's type, created with ``alarms``; each monitor type defines
        them in its own folder (``monitors/<type>/alarms.py``)."""
        raise ConfigurationError(alarms, "monitor", self.kind.name, "Use a DataQualityMonitor, ModelQualityMonitor or "
                                                                    "BiasDriftMonitor, or add alarms with add_alarm().")

    def native_job_definition(self, scope: Construct, *, key_arn: str | None) -> CfnResource:
        """The typed ``AWS::SageMaker::<type>JobDefinition`` of this monitor's type (native engine), created in
        ``scope``; each monitor type defines it in its own folder (``monitors/<type>/native.py``)."""
        raise NotImplementedError(f"{type(self).__name__} defines no typed job definition")

    def _validate_kind(self) -> None:
        """Checks of a monitor type's own options, before any resource exists (ConfigurationError)."""

    def _choose_capture_index_names(self) -> tuple[str, ...]:
        """The payloads a job reads, once capture modes and baseline are known (the kind's by default)."""
        return self.kind.capture_index_names

    def _bind_kind(self) -> None:
        """Resources and grants of a monitor type, once the job role and baseline exist."""
        expected = self.kind.baseline_kind
        if expected is not None and self.baseline.kind is not None and self.baseline.kind is not expected:
            raise ConfigurationError(self, "baseline", self.baseline.kind.value,
                                     f"A {self.kind.name} monitor needs a {expected.value} baseline: create it with "
                                     f"`model-monitor-analyzer baseline --type {expected.value}` and pass "
                                     "Baseline.from_directory(...) or Baseline.from_s3(...).")

    # -- internals -------------------------------------------------------------------------

    def _resolve_batch_source(self, target: MonitorTarget, variant: str | None) -> None:
        """A batch source instead of an endpoint: its capture, storage and trigger."""
        source = target.batch_source
        if not isinstance(source, BatchTransformSource):
            raise ConfigurationError(self, "batch_source", source,
                                     "Use BatchTransformSource(capture=..., dataset_format=...).")
        given = [name for name in ("endpoint", "endpoint_name", "capture_s3_uri", "capture_key", "capture_modes")
                 if getattr(target, name) is not None] + (["variant"] if variant is not None else [])
        if given:
            raise ConfigurationError(self, "batch_source", given[0],
                                     f"Watch either an endpoint or transform jobs (batch_source), not both: remove "
                                     f"{', '.join(given)}.")
        source.validate(self, "batch_source")
        if target.storage is not None and target.storage is not source.capture.storage:
            raise ConfigurationError(self, "storage", target.storage.node.path,
                                     "A batch monitor keeps its files in its capture's bucket: remove storage, or "
                                     "create the BatchTransformCapture with this storage.")
        trigger = source.trigger or (BatchTrigger.JOB_COMPLETED if self.engine_kind is Engine.STANDALONE
                                     else BatchTrigger.SCHEDULE)
        if self.engine_kind is Engine.MODEL_MONITOR and trigger is BatchTrigger.JOB_COMPLETED:
            raise ConfigurationError(self, "batch_source.trigger", trigger,
                                     "SageMaker Model Monitor analyses transform jobs on its schedule only: use "
                                     "BatchTrigger.SCHEDULE, or engine=Engine.STANDALONE.")
        self.batch_trigger = trigger
        self.variant = ""
        self.endpoint_name = ""
        self.capture_s3_uri = source.capture.destination_s3_uri
        # a transform job with capture writes manifests of both its input and its output
        self.capture_modes = frozenset({CaptureMode.INPUT, CaptureMode.OUTPUT})
        self.storage = source.capture.storage

    def _resolve_target(self, target: MonitorTarget, variant: str | None) -> ICapturedEndpoint:
        """The monitored endpoint (one imported from ``endpoint_name`` and ``capture_s3_uri`` when not given),
        and from it the variant, capture location, capture modes and storage of this monitor."""
        endpoint, endpoint_name, capture_s3_uri = target.endpoint, target.endpoint_name, target.capture_s3_uri
        capture_key, capture_modes, storage = target.capture_key, target.capture_modes, target.storage
        if endpoint is not None:
            if not isinstance(endpoint, ICapturedEndpoint):
                raise ConfigurationError(self, "endpoint", endpoint,
                                         "Use a CapturedEndpoint or CapturedEndpoint.from_endpoint_attributes(...).")
            if endpoint_name is not None or capture_s3_uri is not None or capture_key is not None:
                raise ConfigurationError(self, "endpoint", endpoint.node.path,
                                         "Pass either endpoint, or endpoint_name with capture_s3_uri, not both.")
            if capture_modes is not None:
                raise ConfigurationError(self, "capture_modes", capture_modes,
                                         "The endpoint says what it captures (its CaptureConfig, or "
                                         "from_endpoint_attributes(capture_modes)): remove capture_modes.")
        else:
            if endpoint_name is None or capture_s3_uri is None:
                raise ConfigurationError(self, "endpoint", None,
                                         "Pass endpoint=CapturedEndpoint(...), or endpoint_name and capture_s3_uri "
                                         "(the DestinationS3Uri of the endpoint's data capture).")
            # checked here first, so that the message names this monitor's own parameters
            check_endpoint_name(self, "endpoint_name", endpoint_name)
            if not Token.is_unresolved(capture_s3_uri) and not _S3_URI.match(capture_s3_uri.rstrip("/") + "/"):
                raise ConfigurationError(self, "capture_s3_uri", capture_s3_uri,
                                         "Use the endpoint's capture destination, e.g. 's3://bucket/datacapture'.")
            if capture_modes is not None:
                check_capture_modes(self, "capture_modes", capture_modes)
            endpoint = CapturedEndpoint.from_endpoint_attributes(
                self, "CapturedEndpoint", endpoint_name=endpoint_name, capture_s3_uri=capture_s3_uri,
                capture_key=capture_key, variant=variant or "AllTraffic", capture_modes=capture_modes)
        self.variant = variant or endpoint.default_variant
        self.endpoint_name = endpoint.endpoint_name
        self.capture_s3_uri = endpoint.capture_s3_uri_for(self.variant)
        self.capture_modes = endpoint.capture_modes
        resolved = storage or endpoint.bucket
        if resolved is None:
            raise ConfigurationError(self, "storage", None,
                                     "Pass storage=MonitoringBucket(...) for baselines and reports.")
        self.storage = resolved
        return endpoint

    def _validate_environment(self) -> None:
        """SageMaker's limits on a job's environment: 50 variables (schedules; 100 for processing jobs),
        names of letters, digits and underscores, values of at most 256 characters."""
        for name, value in self.user_environment.items():
            if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]{0,255}$", name):
                raise ConfigurationError(self, "environment", name,
                                         "Name variables with letters, digits and underscores (not starting with a digit).")
            if not isinstance(value, str):
                raise ConfigurationError(self, f"environment[{name!r}]", value, "Give environment values as strings.")
            if not Token.is_unresolved(value) and len(value) > 256:
                raise ConfigurationError(self, f"environment[{name!r}]", f"{value[:40]}... ({len(value)} characters)",
                                         "SageMaker takes at most 256 characters per value: shorten it, or move "
                                         "per-feature settings into the baseline's constraints.json.")
        if len(self.user_environment) > 40:
            raise ConfigurationError(self, "environment", f"{len(self.user_environment)} variables",
                                     "SageMaker schedules take at most 50 variables, some of them the monitor's own.")

    def _validate(self, schedule_name: str | None) -> None:
        self._validate_environment()
        if self.scale_out is not None:
            check_scale_out(self, self.scale_out, standalone=self.engine_kind is Engine.STANDALONE)
            if self.batch_source is not None:
                raise ConfigurationError(self, "scale_out", self.scale_out,
                                         "The Spark runner reads endpoint captures only, not a transform job's files: "
                                         "remove scale_out from a monitor with batch_source.")
            unknown = sorted(set(self.user_environment) - set(self.spark_environment_flags))
            if unknown:
                raise ConfigurationError(self, "environment", unknown,
                                         "The Spark runner takes its settings as command-line flags and has none for "
                                         "these variables: remove them, or remove scale_out.")
        if not isinstance(self.baseline_source, Baseline):
            raise ConfigurationError(self, "baseline", self.baseline_source,
                                     "Use Baseline.from_directory(path), Baseline.from_s3(...) or Baseline.from_dataset(...).")
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
        if self.image_source.is_builtin and self.image_source.builtin_kind is not self.kind.builtin_image:
            raise ConfigurationError(self, "image", f"AnalyzerImage.builtin({self.image_source.builtin_kind})",
                                     f"SageMaker analyses {self.kind.name} with its {self.kind.builtin_image.value} "
                                     f"image: use AnalyzerImage.builtin({self.kind.builtin_image}).")

    def grant_read_capture(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read and list the monitored endpoint's captured data, in the monitoring bucket or elsewhere (the
        transform jobs' manifests for a batch source)."""
        if self.batch_source is not None:
            return self.batch_source.capture.grant_read(grantee)
        assert self.endpoint is not None
        if self.endpoint.bucket is None and Token.is_unresolved(self.endpoint.capture_destination_s3_uri):
            # a destination known only at deploy time is taken to be this monitor's bucket (its capture prefix)
            return self.storage.grant_read_capture(grantee)
        return self.endpoint.grant_read_capture(grantee)

    def _create_job_role(self) -> iam.Role:
        role = iam.Role(self, "JobRole", assumed_by=sagemaker_principal(self),
                        description=f"Runs the {self.kind.name} monitoring jobs of one endpoint")
        self.grant_read_capture(role)
        for bucket in self.batch_source.data_buckets if self.batch_source is not None else ():
            bucket.grant_read(role)  # the transform jobs' input and output files, which the manifests name
        # Only this monitor's folders: another monitor's reports are neither readable nor writable.
        self.grant_read_manifests(role)
        self.grant_write_reports(role)
        if self.engine_kind is Engine.MODEL_MONITOR and self.kind.ground_truth:
            # SageMaker's merge job writes captures joined with labels there, the analysis job reads them back
            self.storage.grant_prefix(role, self.merge_prefix, read=True, write=True)
        if self.vpc_placement is not None:
            grant_vpc_access(role)
        grant_sagemaker_logs_and_metrics(
            role, log_groups="/aws/sagemaker/ProcessingJobs*", metric_namespaces=["aws/sagemaker/*", "/aws/sagemaker/*"],
            why_log_groups="SageMaker writes one log stream per job under /aws/sagemaker/ProcessingJobs")
        if self.storage.encryption_key is not None:
            # the job's ML storage volume and its outputs are encrypted with the monitoring key
            role.add_to_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[self.storage.encryption_key.key_arn]))
            # grants only for AWS services acting for the job (the volume), never for another principal
            role.add_to_policy(iam.PolicyStatement(
                actions=["kms:CreateGrant"], resources=[self.storage.encryption_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}))
        return role



def env_text(value: str | float) -> str:
    """An environment value: text as is, a number as Python prints a float (``0.5``), a number token as its
    deploy-time text."""
    if isinstance(value, str):
        return value
    if Token.is_unresolved(value):
        return Token.as_string(value)
    return repr(float(value))


def grant_object_read(grantee: iam.IGrantable, *, bucket: s3.IBucket, key: str) -> iam.Grant:
    """GetObject on one object and ListBucket limited to its key (what a SageMaker S3 input of one
    object needs), without wildcards."""
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=["s3:GetObject"],
                                       resource_arns=[bucket.arn_for_objects(key)])
    return grant.combine(iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket.bucket_arn],
        conditions={"StringEquals": {"s3:prefix": key}}))


class LabelledMonitorBase(MonitorBase):
    """Monitors that join captured predictions with ground-truth labels (model quality, bias drift).

    Ground truth lives in the monitoring bucket under ``<ground-truth prefix>/<endpoint name>/``, in
    SageMaker's layout ``yyyy/mm/dd/HH/<anything>.jsonl`` where the hour is the **upload** hour
    (contract §2.1; ``model-monitor-analyzer put-ground-truth --s3-uri <ground_truth_s3_uri>`` writes
    exactly that). All label-based monitors of one endpoint share that prefix.

    Standalone engine, per window ``[t-start, t-end)`` of the schedule: the planner lists the labels
    uploaded in ``[t-start, t)`` and the captures of ``[t-start-capture_lookback, t-end)``, and writes
    a manifest for each; the job downloads them to the captures' usual place and
    ``/opt/ml/processing/groundtruth``. No captures, or captures but no labels: ``NoData``, no job.
    With a capture look-back the job's ``start_time`` (and the metrics' timestamp) is the label
    window's start, so each label is evaluated once, in the window it arrived in.
    """

    def __init__(self, scope: Construct, id: str, *, kind: MonitorKind, target: MonitorTarget,
                 settings: MonitorSettings, capture_lookback: Duration | None = None) -> None:
        self._capture_lookback = capture_lookback  # checked in _validate_kind, once the construct has a path
        super().__init__(scope, id, kind=kind, target=target, settings=settings)

    # -- ground truth for label producers ------------------------------------------------------

    @property
    def ground_truth_prefix(self) -> str:
        """Key prefix of this endpoint's labels in the monitoring bucket (``ground-truth/<endpoint>``; a batch
        source's: ``ground-truth/<capture name>``)."""
        return f"{self.storage.prefixes.ground_truth}/{self.source_name}"

    @property
    def ground_truth_s3_uri(self) -> str:
        """``s3://<bucket>/ground-truth/<endpoint>``: where label producers put ``yyyy/mm/dd/HH/*.jsonl``."""
        return self.storage.s3_uri(self.ground_truth_prefix)

    def grant_write_ground_truth(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (a label producer) put ground-truth records for this endpoint only."""
        return self.storage.grant_prefix(grantee, self.ground_truth_prefix, write=True)

    def grant_read_ground_truth(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read this endpoint's ground-truth records."""
        return self.storage.grant_prefix(grantee, self.ground_truth_prefix, read=True)

    # -- windows -------------------------------------------------------------------------------

    @property
    def capture_lookback(self) -> Duration:
        """How far before the label window the captures of late labels are looked for."""
        return self._capture_lookback or Duration.hours(0)

    @property
    def _looks_back(self) -> bool:
        # a completed transform job's window is the job's own: its start and end are the job's, look-back or not
        return self.capture_lookback.to_minutes() > 0 and self.batch_trigger is not BatchTrigger.JOB_COMPLETED

    def capture_window(self) -> tuple[Duration, Duration]:
        """(start, end) offsets before the scheduled time of the captures a window joins with labels."""
        window = self.schedule.window
        return window.start_offset.plus(self.capture_lookback), window.end_offset

    def planning_window(self) -> tuple[str, str]:
        start, end = self.capture_window()
        return iso_offset(start, negative=True), iso_offset(end, negative=True)

    def planner_payload(self) -> dict[str, object]:
        # Labels uploaded in [t - start, t): the planner anchors the look-back at the scheduled time.
        return {"ground_truth_s3_uri": self.ground_truth_s3_uri,
                "ground_truth_lookback": iso_offset(self.schedule.window.start_offset, negative=False)}

    def plan_overrides(self) -> dict[str, str]:
        return {"metric_time": "$.plan.ground_truth_start"} if self._looks_back else {}

    def window_environment(self) -> dict[str, str]:
        if not self._looks_back:
            return super().window_environment()
        return {"start_time.$": "$.plan.ground_truth_start", "end_time.$": "$.plan.end",
                "metric_time.$": "$.plan.metric_time"}

    def labelled_endpoint_input(self, attributes: Mapping[str, str | float]) -> LabelledEndpointInput:
        """The endpoint input's ``attributes``, the captures' window and the ground truth of a typed definition."""
        return LabelledEndpointInput(attributes=attributes, capture_window=self.capture_window(),
                                     ground_truth_s3_uri=self.ground_truth_s3_uri)

    def job_inputs(self) -> list[JobInput]:
        return [JobInput(name="ground_truth", local_path=GROUND_TRUTH_LOCAL_PATH,
                         s3_uri_path="$.plan.ground_truth_manifest_uri", manifest=True)]

    def grant_planner_reads(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.grant_read_ground_truth(grantee)

    def spark_type_arguments(self) -> list[SparkArgument]:
        return ["--ground-truth", StateValue("$.plan.ground_truth_manifest_uri"),
                "--ground-truth-lookback", iso_offset(self.capture_lookback, negative=False)]

    def grant_spark_job(self, grantee: iam.IGrantable) -> None:
        super().grant_spark_job(grantee)
        self.grant_read_ground_truth(grantee)

    def analyzer_environment(self) -> dict[str, str]:
        return {**super().analyzer_environment(), "ground_truth_source": GROUND_TRUTH_LOCAL_PATH,
                **self.user_environment}

    def _validate_kind(self) -> None:
        super()._validate_kind()
        lookback = self._capture_lookback
        if lookback is None:
            return
        if not isinstance(lookback, Duration):
            raise ConfigurationError(self, "ground_truth_lookback", lookback, "Use a Duration, e.g. Duration.days(1).")
        minutes = lookback.to_minutes()
        unit = 60 if self.schedule.granularity == "hour" else 1
        total = self.schedule.window.start_offset.to_minutes() + minutes
        if minutes < 0 or minutes % unit:
            raise ConfigurationError(self, "ground_truth_lookback", f"{minutes:g} minutes",
                                     f"Use a whole number of {'hours' if unit == 60 else 'minutes'} (0 or more), "
                                     "e.g. Duration.days(1).")
        if total > 24 * 60 * 30:
            raise ConfigurationError(self, "ground_truth_lookback", f"{minutes:g} minutes",
                                     "The window and the look-back together reach back at most 30 days.")

    def _bind_kind(self) -> None:
        super()._bind_kind()
        self.grant_read_ground_truth(self.job_role)
