"""``ModelMonitor``: one construct for the common case, every part optional and replaceable.

Each part takes either an existing object (a ``MonitoringBucket``, an ``ICapturedEndpoint``, a
monitor, a ``Notifications`` or an SNS topic) or props (a frozen dataclass) to create one, in the
"existing object or props" style of AWS Solutions Constructs. Every created part is an attribute:
``storage``, ``endpoint``, ``data_quality``, ``model_quality``, ``bias``, ``alarms``
(``alarms.composite_alarm``), ``self_monitoring`` (``self_monitoring.composite_alarm``),
``notifications``, ``dashboard``, ``retraining``.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .alarm_factory import MonitorAlarms
from .baseline import Baseline
from .batch import BatchTransformSource
from .dashboard import ModelDashboard
from .endpoint import (
    CaptureConfig,
    CapturedEndpoint,
    CaptureMode,
    ICapturedEndpoint,
    ProductionVariant,
    check_capture_modes,
    check_endpoint_name,
    endpoint_metric,
)
from .errors import ConfigurationError, require_member
from .images import AnalyzerImage
from .job import Engine, JobCompute, JobNetwork
from .monitors.base import SCHEDULE_FIX, MonitorBase
from .monitors.bias import BiasAlarmOptions, BiasDriftMonitor, BiasProps, BiasSettings
from .monitors.data_quality import (
    DataQualityAlarmOptions,
    DataQualityMonitor,
    DataQualityProps,
    DataQualitySettings,
)
from .monitors.model_quality import (
    ModelQualityAlarmOptions,
    ModelQualityMonitor,
    ModelQualityProps,
    ModelQualitySettings,
)
from .monitors.settings import MonitorProps, MonitorSettings, MonitorTarget
from .notifications import Notifications
from .retraining import RetrainingTrigger
from .scale_out import ScaleOut
from .schedule import Schedule
from .self_monitoring import SelfMonitoring
from .storage import MonitoringBucket, MonitoringPrefixes

__all__ = ["AlarmProps", "BiasProps", "BiasSettings", "DashboardProps", "DataQualityProps", "DataQualitySettings",
           "EndpointProps", "ExistingEndpoint", "ModelMonitor", "ModelQualityProps", "ModelQualitySettings",
           "MonitorProps", "MonitorSettings", "NotificationProps", "RetrainingProps", "SelfMonitoringProps",
           "StorageProps"]

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$")


def _kwargs(props: Any) -> dict[str, Any]:
    """The fields of a props dataclass as keyword arguments (shallow: jsii objects are kept as they are)."""
    return {f.name: getattr(props, f.name) for f in fields(props)}


# -- props ------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StorageProps:
    """A new ``MonitoringBucket`` (see its parameters), or ``bucket=`` one you have."""

    bucket: s3.IBucket | None = None
    encryption_key: kms.IKey | None = None
    capture_retention: Duration = field(default_factory=lambda: Duration.days(90))
    report_retention: Duration | None = field(default_factory=lambda: Duration.days(400))
    ground_truth_retention: Duration | None = field(default_factory=lambda: Duration.days(400))
    noncurrent_version_retention: Duration = field(default_factory=lambda: Duration.days(30))
    access_logs_bucket: s3.IBucket | None = None
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    prefixes: MonitoringPrefixes = field(default_factory=MonitoringPrefixes)


@dataclass(frozen=True, kw_only=True)
class EndpointProps:
    """A new ``CapturedEndpoint`` (see its parameters) serving ``image_uri``."""

    image_uri: str
    model_data_url: str | None = None
    environment: Mapping[str, str] | None = None
    execution_role: iam.IRole | None = None
    variants: Sequence[ProductionVariant] = (ProductionVariant(),)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    endpoint_name: str | None = None
    encrypt_storage_volume: bool = True
    vpc: ec2.IVpc | None = None
    vpc_subnets: ec2.SubnetSelection | None = None
    security_groups: Sequence[ec2.ISecurityGroup] | None = None
    subnet_ids: Sequence[str] = ()
    security_group_ids: Sequence[str] = ()
    enable_network_isolation: bool = False


@dataclass(frozen=True, kw_only=True)
class ExistingEndpoint:
    """Deprecated: use ``CapturedEndpoint.from_endpoint_attributes(scope, id, ...)`` (same parameters).

    The facade imports the endpoint from these attributes itself.
    """

    endpoint_name: str
    capture_s3_uri: str
    capture_key: kms.IKey | None = None
    variant: str = "AllTraffic"
    capture_modes: tuple[CaptureMode, ...] | None = None

    def __post_init__(self) -> None:
        warnings.warn("ExistingEndpoint is deprecated; use CapturedEndpoint.from_endpoint_attributes(scope, id, "
                      "endpoint_name=..., capture_s3_uri=...)", DeprecationWarning, stacklevel=3)
        # checked before any construct exists, as before
        check_endpoint_name(None, "ExistingEndpoint(endpoint_name)", self.endpoint_name)
        if self.capture_modes is not None:
            check_capture_modes(None, "ExistingEndpoint(capture_modes)", self.capture_modes)

    def metric(self, metric_name: str, *, statistic: str = "Sum",
               period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """An endpoint metric of the ``AWS/SageMaker`` namespace, for the configured variant."""
        return endpoint_metric(self.endpoint_name, self.variant, metric_name, statistic, period)

    def metric_invocations(self, *, statistic: str = "Sum", period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Invocations of the configured variant."""
        return self.metric("Invocations", statistic=statistic, period=period)

    def metric_model_latency(self, *, statistic: str = "Average",
                             period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Model latency of the configured variant, in microseconds."""
        return self.metric("ModelLatency", statistic=statistic, period=period)

    def import_into(self, scope: Construct, id: str) -> ICapturedEndpoint:
        """The endpoint, as ``CapturedEndpoint.from_endpoint_attributes`` imports it."""
        return CapturedEndpoint.from_endpoint_attributes(
            scope, id, endpoint_name=self.endpoint_name, capture_s3_uri=self.capture_s3_uri,
            capture_key=self.capture_key, variant=self.variant, capture_modes=self.capture_modes)


def _typed_settings(scope: Construct, prop: str, value: object,
                    settings_type: type[MonitorSettings]) -> MonitorSettings:
    """``value`` as ``settings_type``: a mapping (the deprecated form) is checked name by name, so a typo is
    reported with the names the monitor knows instead of a TypeError from deep inside."""
    if isinstance(value, settings_type):
        return value
    names = [f.name for f in fields(settings_type)]
    required = [f.name for f in fields(settings_type) if f.default is MISSING and f.default_factory is MISSING]
    example = f"{settings_type.__name__}({', '.join(f'{n}=...' for n in required)})"
    if value is None and not required:
        return settings_type()
    if value is None or not isinstance(value, Mapping):
        raise ConfigurationError(scope, prop, value, f"Use {example}.")
    facade_owned = sorted(set(value) & {f.name for f in fields(MonitorTarget)})
    if facade_owned:
        raise ConfigurationError(scope, prop, facade_owned,
                                 "The facade sets these itself; use the props' own fields or the facade's.")
    unknown = sorted(set(value) - set(names))
    if unknown:
        close = {n: difflib.get_close_matches(n, names, n=1) for n in unknown}
        hints = "; ".join(f"{n!r} -> {m[0]!r}" for n, m in close.items() if m)
        raise ConfigurationError(scope, prop, unknown,
                                 f"{settings_type.__name__} has no such setting{': did you mean ' + hints if hints else ''}. "
                                 f"Known: {', '.join(names)}.")
    missing = [n for n in required if n not in value]
    if missing:
        raise ConfigurationError(scope, prop, dict(value), f"Give {', '.join(missing)}: use {example}.")
    warnings.warn(f"{prop}: settings as a mapping are deprecated; use {settings_type.__name__}(...)",
                  DeprecationWarning, stacklevel=4)
    return settings_type(**value)


@dataclass(frozen=True, kw_only=True)
class AlarmProps:
    """The model's alarms (see ``MonitorAlarms``).

    :param alarm_name_prefix: Default: the model name.
    :param no_data_windows: consecutive windows that analysed no data (no capture files, no record of
        the window, no labels yet) before the NoData alarm fires. Default 3.
    :param no_data_alarm: create that NoData alarm; False for a model that may rightly get no traffic for
        that long. Default True. :param failed_windows: Default 1.
    :param data_quality: which data-quality alarms and thresholds. Default: drift and completeness
        of every feature of the baseline, thresholds from its constraints.
    :param model_quality: Default: every metric of the model-quality baseline's constraints.
    :param bias: Default: every bias metric of the bias baseline.
    :param composite: create the "model unhealthy" composite alarm. Default True.
    :param notify_each_alarm: notify on every alarm, not only the composite and the
        monitoring-health alarms. Default False (one notification per incident).
    """

    alarm_name_prefix: str | None = None
    no_data_windows: int = 3
    no_data_alarm: bool = True
    failed_windows: int = 1
    data_quality: DataQualityAlarmOptions = field(default_factory=DataQualityAlarmOptions)
    model_quality: ModelQualityAlarmOptions = field(default_factory=ModelQualityAlarmOptions)
    bias: BiasAlarmOptions = field(default_factory=BiasAlarmOptions)
    composite: bool = True
    notify_each_alarm: bool = False


@dataclass(frozen=True, kw_only=True)
class SelfMonitoringProps:
    """Alarms on the monitoring itself (see ``SelfMonitoring``): failed, timed-out or aborted executions, a
    heartbeat per monitor, dead-letter queues, and the "monitoring broken" composite that notifies.

    :param alarm_name_prefix: Default: the alarms' prefix (the model name).
    :param missed_windows: schedule periods without any status before the heartbeat fires. Default 3.
    """

    alarm_name_prefix: str | None = None
    missed_windows: int = 3


@dataclass(frozen=True, kw_only=True)
class NotificationProps:
    """A new ``Notifications`` topic (or ``topic=`` yours) and its subscriptions."""

    topic: sns.ITopic | None = None
    encryption_key: kms.IKey | None = None
    display_name: str | None = None
    emails: Sequence[str] = ()
    https_endpoints: Sequence[str] = ()
    functions: Sequence[lambda_.IFunction] = ()
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN


@dataclass(frozen=True, kw_only=True)
class DashboardProps:
    """The model's dashboard. :param dashboard_name: Default: generated. :param default_range: Default 7 days."""

    dashboard_name: str | None = None
    default_range: Duration = field(default_factory=lambda: Duration.days(7))


@dataclass(frozen=True, kw_only=True)
class RetrainingProps:
    """Retraining when the model looks unhealthy (see ``RetrainingTrigger``).

    :param pipeline_name: the SageMaker pipeline to start (through the project's retrain Lambda).
    :param cooldown: Default 1 hour.
    :param pipeline_parameters: pipeline parameter -> trigger field, e.g.
        ``{"ModelName": "model", "TriggerAlarm": "alarm_name"}``. Default: none.
    :param state_machine: / :param function: / :param targets: other targets.
    :param alarms: the alarms that trigger. Default: the composite "model unhealthy" alarm.
    :param reserve_concurrency: reserve a concurrency of 1 for the retrain function besides its lease in the
        monitoring bucket; an account whose Lambda concurrency quota is 10 refuses it. Default: False.
    """

    pipeline_name: str | None = None
    cooldown: Duration = field(default_factory=lambda: Duration.hours(1))
    pipeline_parameters: Mapping[str, str] | None = None
    state_machine: sfn.IStateMachine | None = None
    function: lambda_.IFunction | None = None
    targets: Sequence[events.IRuleTarget] = ()
    alarms: Sequence[cloudwatch.IAlarm] | None = None
    reserve_concurrency: bool = False


# -- the facade -----------------------------------------------------------------------------------------


class ModelMonitor(Construct):
    """Monitoring of one SageMaker model: capture, monitors, alarms, dashboard, notifications, retraining.

    :param model_name: short name of the model (alarm names, dashboard title, the retraining
        ``model`` field); letters, digits, '-' and '_'.
    :param endpoint: ``EndpointProps`` (a new endpoint with data capture), a ``CapturedEndpoint``, or
        ``CapturedEndpoint.from_endpoint_attributes(...)`` for one deployed elsewhere
        (``ExistingEndpoint(...)`` still works, deprecated).
    :param batch_source: instead of ``endpoint``, the batch transform jobs to monitor
        (``BatchTransformSource(capture=BatchTransformCapture(...), dataset_format=...)``); storage is the capture's
        bucket. Default: none.
    :param storage: ``StorageProps`` or a ``MonitoringBucket``. Default: a new bucket (or, with a
        ``CapturedEndpoint``, that endpoint's bucket).
    :param data_quality: ``DataQualityProps`` or a ``DataQualityMonitor``. Default: none.
    :param model_quality: ``ModelQualityProps`` or a model-quality monitor. Default: none.
    :param bias: ``BiasProps`` or a bias-drift monitor. Default: none.
    :param schedule: of created monitors. Default: ``Schedule.hourly()`` (``Schedule.daily()`` with a
        ``batch_source``: with ``BatchTrigger.JOB_COMPLETED`` it only sets how often jobs are expected, the heartbeat
        and the alarms' periods).
    :param engine: of created monitors. Default: ``Engine.STANDALONE``.
    :param image: analyzer image of created monitors. Default: ``AnalyzerImage.from_asset()``.
    :param compute: / :param network: of created monitors. Default: the monitors' defaults.
    :param asset_kms_key: the KMS key of the CDK bootstrap's file-asset bucket when it was bootstrapped with
        ``cdk bootstrap --bootstrap-kms-key-id``, e.g. ``kms.Key.from_key_arn(stack, "AssetKey", arn)``: the
        jobs of created monitors may decrypt the assets they read with it (local baselines, the bias analysis
        config). Default: none (the default bootstrap's AWS managed key needs no grant).
    :param scale_out: ``ScaleOut(...)`` for created monitors: large windows on EMR Serverless (standalone engine).
        Default: none.
    :param alarms: ``AlarmProps`` or None for no alarms. Default: ``AlarmProps()``.
    :param notifications: ``NotificationProps``, a ``Notifications``, an SNS topic, or None.
        Default: a new encrypted topic without subscriptions.
    :param self_monitoring: ``SelfMonitoringProps`` or None for none. Default: ``SelfMonitoringProps()``.
        Its composite alarm notifies and never starts retraining.
    :param dashboard: ``DashboardProps`` or None. Default: ``DashboardProps()``.
    :param retraining: ``RetrainingProps`` or None. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_name: str,
        endpoint: EndpointProps | ICapturedEndpoint | ExistingEndpoint | None = None,
        batch_source: BatchTransformSource | None = None,
        storage: StorageProps | MonitoringBucket | None = None,
        data_quality: DataQualityProps | DataQualityMonitor | None = None,
        model_quality: ModelQualityProps | MonitorBase | None = None,
        bias: BiasProps | MonitorBase | None = None,
        schedule: Schedule | None = None,
        engine: Engine = Engine.STANDALONE,
        image: AnalyzerImage | None = None,
        compute: JobCompute | None = None,
        network: JobNetwork | None = None,
        asset_kms_key: kms.IKey | None = None,
        scale_out: ScaleOut | None = None,
        alarms: AlarmProps | None = AlarmProps(),
        notifications: NotificationProps | Notifications | sns.ITopic | None = NotificationProps(),
        self_monitoring: SelfMonitoringProps | None = SelfMonitoringProps(),
        dashboard: DashboardProps | None = DashboardProps(),
        retraining: RetrainingProps | None = None,
    ) -> None:
        super().__init__(scope, id)
        require_member(self, "engine", engine, Engine)
        if schedule is not None and not isinstance(schedule, Schedule):
            raise ConfigurationError(self, "schedule", schedule, SCHEDULE_FIX)
        if not isinstance(model_name, str) or not _MODEL_NAME.match(model_name):
            raise ConfigurationError(self, "model_name", model_name,
                                     "Use 1-60 letters, digits, '-' or '_', starting with a letter or digit.")
        if data_quality is None and model_quality is None and bias is None:
            raise ConfigurationError(self, "data_quality", None,
                                     "Monitor something: give data_quality=DataQualityProps(baseline=...), "
                                     "model_quality or bias.")
        self.model_name = model_name
        self.schedule = schedule or (Schedule.daily() if batch_source is not None else Schedule.hourly())
        self.engine = engine
        self._image = image
        self._compute = compute
        self._network = network
        self._asset_kms_key = asset_kms_key
        self._scale_out = scale_out

        if (endpoint is None) == (batch_source is None):
            raise ConfigurationError(self, "endpoint" if endpoint is None else "batch_source",
                                     None if endpoint is None else batch_source,
                                     "Monitor one endpoint (endpoint=...) or transform jobs (batch_source="
                                     "BatchTransformSource(...)), exactly one of them.")
        self.batch_source = batch_source
        # storage and endpoint
        if batch_source is not None:
            if not isinstance(batch_source, BatchTransformSource):
                raise ConfigurationError(self, "batch_source", batch_source,
                                         "Use BatchTransformSource(capture=..., dataset_format=...).")
            batch_source.validate(self, "batch_source")
            if storage is not None and storage is not batch_source.capture.storage:
                raise ConfigurationError(self, "storage", storage, "A batch source keeps its files in its capture's "
                                         "bucket: remove storage.")
            self.storage = batch_source.capture.storage
        elif isinstance(storage, MonitoringBucket):
            self.storage = storage
        elif isinstance(endpoint, ICapturedEndpoint) and endpoint.bucket is not None and storage is None:
            self.storage = endpoint.bucket
        elif storage is None or isinstance(storage, StorageProps):
            self.storage = MonitoringBucket(self, "Storage", **_kwargs(storage or StorageProps()))
        else:
            raise ConfigurationError(self, "storage", storage, "Use StorageProps(...) or a MonitoringBucket.")
        self.endpoint: ICapturedEndpoint | None
        if endpoint is None:
            self.endpoint = None
        elif isinstance(endpoint, ICapturedEndpoint):
            self.endpoint = endpoint
        elif isinstance(endpoint, ExistingEndpoint):
            self.endpoint = endpoint.import_into(self, "Endpoint")
        elif isinstance(endpoint, EndpointProps):
            self.endpoint = CapturedEndpoint(self, "Endpoint", bucket=self.storage, **_kwargs(endpoint))
        else:
            raise ConfigurationError(self, "endpoint", endpoint,
                                     "Use EndpointProps(image_uri=...), a CapturedEndpoint or "
                                     "CapturedEndpoint.from_endpoint_attributes(...).")

        # monitors
        self._baselines: dict[str, Baseline | None] = {}
        self.data_quality = self._monitor("DataQuality", data_quality, DataQualityProps, DataQualityMonitor)
        self.model_quality = self._monitor("ModelQuality", model_quality, ModelQualityProps, ModelQualityMonitor)
        self.bias = self._monitor("Bias", bias, BiasProps, BiasDriftMonitor)
        self.monitors: list[MonitorBase] = [m for m in (self.data_quality, self.model_quality, self.bias) if m]

        # notifications
        self.notifications: Notifications | None
        if notifications is None or isinstance(notifications, Notifications):
            self.notifications = notifications
        elif isinstance(notifications, NotificationProps):
            self.notifications = Notifications(self, "Notifications", **_kwargs(notifications))
        elif hasattr(notifications, "topic_arn"):
            self.notifications = Notifications(self, "Notifications", topic=notifications)
        else:
            raise ConfigurationError(self, "notifications", notifications,
                                     "Use NotificationProps(...), Notifications, an SNS topic or None.")

        # alarms
        self.alarms: MonitorAlarms | None = None
        if alarms is not None:
            self.alarms = MonitorAlarms(self, "Alarms", alarm_name_prefix=alarms.alarm_name_prefix or model_name,
                                        no_data_windows=alarms.no_data_windows, failed_windows=alarms.failed_windows,
                                        no_data_alarm=alarms.no_data_alarm)
            if self.notifications is not None:
                self.alarms.add_actions(self.notifications.action, model_health_alarms=alarms.notify_each_alarm)
            # each monitor takes the options of its own type
            options = (alarms.data_quality, alarms.model_quality, alarms.bias)
            for monitor in self.monitors:
                own = next((o for o in options if isinstance(o, monitor.alarm_options_type)), None)
                self.alarms.add_monitor(monitor, baseline=self._baselines.get(monitor.node.id), options=own)
            if alarms.composite and self.alarms.model_health_alarms():
                self.alarms.add_composite_alarm()

        # self-monitoring (its composite is made once the retraining dead-letter queue exists)
        self.self_monitoring: SelfMonitoring | None = None
        if self_monitoring is not None:
            prefix = self_monitoring.alarm_name_prefix or (
                alarms.alarm_name_prefix if alarms is not None and alarms.alarm_name_prefix else model_name)
            self.self_monitoring = SelfMonitoring(self, "SelfMonitoring", alarm_name_prefix=prefix,
                                                  missed_windows=self_monitoring.missed_windows)
            for monitor in self.monitors:
                self.self_monitoring.add_monitor(monitor, alarms=self.alarms)

        # retraining
        self.retraining: RetrainingTrigger | None = None
        if retraining is not None:
            trigger = list(retraining.alarms) if retraining.alarms is not None else (
                [self.alarms.composite_alarm] if self.alarms is not None and self.alarms.composite_alarm else [])
            if not trigger:
                raise ConfigurationError(self, "retraining.alarms", None,
                                         "Retraining needs alarms: keep AlarmProps(composite=True) (the default) "
                                         "or give RetrainingProps(alarms=[...]).")
            reports = self.data_quality or self.monitors[0]
            self.retraining = RetrainingTrigger(
                self, "Retraining", alarms=trigger, pipeline_name=retraining.pipeline_name,
                cooldown=retraining.cooldown, pipeline_parameters=retraining.pipeline_parameters,
                model_name=model_name, report_s3_uri=reports.report_s3_uri, notifications=self.notifications,
                state_machine=retraining.state_machine, function=retraining.function, targets=retraining.targets,
                storage=self.storage, reserve_concurrency=retraining.reserve_concurrency)

        if self.self_monitoring is not None:
            if self.retraining is not None:
                self.self_monitoring.add_dead_letter_queue(
                    self.retraining.dead_letter_queue, name="retraining-dead-letters",
                    description="Retraining events that EventBridge or the retrain function could not deliver "
                                "are in the retraining dead-letter queue: retraining did not start for them.")
            if self.self_monitoring.created_alarms():
                broken = self.self_monitoring.add_composite_alarm()
                if self.notifications is not None:
                    self.notifications.notify(broken)

        # dashboard
        self.dashboard: ModelDashboard | None = None
        if dashboard is not None:
            self.dashboard = ModelDashboard(self, "Dashboard", title=model_name, monitors=self.monitors,
                                            alarms=self.alarms, self_monitoring=self.self_monitoring,
                                            endpoint=self.endpoint, **_kwargs(dashboard))

    @property
    def composite_alarm(self) -> cloudwatch.CompositeAlarm | None:
        """The "model unhealthy" alarm (pages and retrains), if alarms are on."""
        return self.alarms.composite_alarm if self.alarms is not None else None

    @property
    def monitoring_broken_alarm(self) -> cloudwatch.CompositeAlarm | None:
        """The "monitoring broken" alarm (notifies, never retrains), if self-monitoring is on."""
        return self.self_monitoring.composite_alarm if self.self_monitoring is not None else None

    def _monitor(self, id: str, value: Any, props_type: type[MonitorProps],
                 monitor_class: Callable[..., MonitorBase]) -> MonitorBase | None:
        if value is None:
            return None
        if isinstance(value, MonitorBase):
            self._baselines[value.node.id] = getattr(value, "baseline_source", None)
            return value
        if not isinstance(value, props_type):
            raise ConfigurationError(self, id, value, f"Use {props_type.__name__}(baseline=...) or a monitor.")
        typed = _typed_settings(self, f"{id}.settings", value.settings, props_type.settings_type)
        if value.schedule is not None and not isinstance(value.schedule, Schedule):
            raise ConfigurationError(self, f"{id}.schedule", value.schedule, SCHEDULE_FIX)
        # None stands for "the monitor's (or the facade's) default"
        settings = {f.name: getattr(typed, f.name) for f in fields(typed) if getattr(typed, f.name) is not None}
        for key, default in (("engine", self.engine), ("image", self._image), ("compute", self._compute),
                             ("network", self._network), ("asset_kms_key", self._asset_kms_key),
                             ("scale_out", self._scale_out)):
            if default is not None:
                settings.setdefault(key, default)
        target: dict[str, Any] = {"endpoint": self.endpoint}
        if self.endpoint is None:
            target = {"batch_source": self.batch_source}
        elif self.endpoint.bucket is not self.storage:
            target["storage"] = self.storage
        monitor = monitor_class(self, id, baseline=value.baseline, schedule=value.schedule or self.schedule,
                                  **target, **settings)
        self._baselines[id] = value.baseline
        return monitor

