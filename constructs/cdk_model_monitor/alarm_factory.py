"""The alarm factory: CloudWatch alarms on what the monitors publish, in the style of cdk-monitoring-constructs.

The monitors define their metrics (``metric_drift``, ``metric_execution_status``, ...); this module
holds what every monitor's alarms share (the factory, the execution-status alarms, the composite), and each
monitor type's unit its model-health alarms (``monitors/<type>/alarms.py``), which ``add_monitor`` asks
the monitor for (``AlarmedMonitor.add_health_alarms``). ``MonitorAlarms`` injects the defaults once
(alarm-name prefix, how many windows make an alarm, which actions to take), creates the alarms of each
monitor with ``add_monitor`` and lists what it created with ``created_alarms()``. ``add_composite_alarm``
rolls the model-health alarms into one "model unhealthy" composite alarm, the one to page on and to
retrain on.

Evaluation, for every alarm: one period is ``monitor.metric_period`` (one monitoring window, at
least an hour), because each execution publishes one datapoint per metric, stamped with its
window's start. Missing data is chosen per alarm:

* model-health alarms (drift, completeness, model quality, bias) and execution-status alarms use
  ``IGNORE``: a window without traffic publishes nothing, and that neither clears nor raises an
  alarm. The alarm then always reflects the most recent windows that reported, which also copes
  with datapoints that arrive an hour after their window (late windows, slow jobs).
* the native engine's "no results" alarm uses ``BREACHING``: there, a window that published no
  metric is exactly the condition (no data captured, or the job failed). It is the native engine's
  heartbeat, evaluated like the standalone one (one period per run of the schedule, see
  ``schedule.heartbeat``) and part of the "monitoring broken" composite (``self_monitoring.py``).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct, Node

from . import monitor_types
from .baseline import Baseline, BaselineDirectoryError, BaselineKind, read_baseline_directory
from .bundled import analyzer_module
from .errors import ConfigurationError
from .job import Engine, JobCompute
from .schedule import Schedule, heartbeat
from .statuses import COMPLETED_WITH_VIOLATIONS, FAILED, NO_DATA

# CloudWatch refuses alarms whose periods x evaluation periods exceed seven days (for periods of an hour or more).
MAX_EVALUATION_RANGE = Duration.days(7)
# A composite alarm rule is at most 10240 characters; about 100 ALARM("arn") terms fit. Larger sets are nested.
COMPOSITE_CHUNK = 80
_ALARM_NAME = re.compile(r"^[^\x00-\x1f]{1,255}$")
# What constraints.json means, from the analyzer's own module, so an alarm and a violation never disagree.
rules = analyzer_module("constraint_rules")


class AlarmCategory(enum.Enum):
    """What an alarm watches. ``model_health`` alarms feed the model's composite alarm."""

    EXECUTION_FAILED = ("execution-failed", False)
    NO_DATA = ("no-data", False)
    NO_RESULTS = ("no-results", False)
    VIOLATIONS = ("violations", False)
    DRIFT = ("drift", True)
    COMPLETENESS = ("completeness", True)
    MODEL_QUALITY = (monitor_types.MODEL_QUALITY.short_name, True)
    BIAS = (monitor_types.MODEL_BIAS.short_name, True)
    # self-monitoring (self_monitoring.py): the monitoring itself is broken
    EXECUTIONS = ("executions", False)
    HEARTBEAT = ("heartbeat", False)
    METRICS_SKIPPED = ("metrics-skipped", False)
    DEAD_LETTERS = ("dead-letters", False)

    def __init__(self, slug: str, model_health: bool) -> None:
        self.slug = slug
        self.model_health = model_health


MODEL_HEALTH = tuple(c for c in AlarmCategory if c.model_health)
MONITORING_HEALTH = tuple(c for c in AlarmCategory if not c.model_health)


@dataclass(frozen=True, kw_only=True)
class CreatedAlarm:
    """One alarm ``MonitorAlarms`` created, with what it watches."""

    alarm: cloudwatch.Alarm
    category: AlarmCategory
    monitor_path: str
    metric_name: str
    subject: str | None = None
    """The feature, model-quality metric or bias metric the alarm is about, if any."""
    metric: cloudwatch.IMetric | None = None
    """The monitor's metric the alarm watches (before the alarm's own period or expression)."""
    effect_threshold: float | None = None
    """For an alarm on the analyzer's verdict (``feature_drift_violation_<f>``, ``quality_violation_<m>``): the
    threshold the verdict applies to the value the dashboard draws (the drift distance, the metric)."""


@dataclass(frozen=True, kw_only=True)
class AlarmOptions:
    """Base of a monitor type's alarm options (``DataQualityAlarmOptions``, ``ModelQualityAlarmOptions``,
    ``BiasAlarmOptions``): which model-health alarms to create, and their thresholds."""


class AlarmedMonitorKind(Protocol):
    @property
    def name(self) -> str: ...


class AlarmedMonitor(Protocol):
    """What the alarms read from a monitor (``MonitorBase`` is one); its type's own alarms come from
    ``add_health_alarms``, defined in the type's unit (``monitors/<type>/alarms.py``)."""

    @property
    def node(self) -> Node: ...
    @property
    def kind(self) -> AlarmedMonitorKind: ...
    @property
    def engine_kind(self) -> Engine: ...
    @property
    def schedule(self) -> Schedule: ...
    @property
    def compute(self) -> JobCompute: ...
    @property
    def report_s3_uri(self) -> str: ...
    @property
    def metric_period(self) -> Duration: ...
    def metric_execution_status(self, status: str = ..., *, period: Duration | None = None) -> cloudwatch.Metric: ...

    def add_health_alarms(self, alarms: MonitorAlarms, *, baseline: Baseline | None,
                          options: AlarmOptions | None) -> list[CreatedAlarm]:
        """The model-health alarms of the monitor's type, created with ``alarms.add_alarm``."""
        ...


_Options = TypeVar("_Options", bound=AlarmOptions)


# -- thresholds from the baseline ----------------------------------------------------------------


def local_baseline_document(baseline: Baseline | None, kind: BaselineKind) -> Mapping[str, Any] | None:
    """The constraints document (a Clarify analysis.json for bias) of a baseline whose files are on this machine
    (``Baseline.from_directory``) and describe ``kind``; empty for a local baseline of another kind; None for
    S3 and deploy-time baselines, which are only known at deploy time."""
    path = getattr(baseline, "path", None)
    if not isinstance(path, str):
        return None
    try:
        files = read_baseline_directory(path)
    except BaselineDirectoryError:
        return None  # the monitor reports the folder's problem when it binds the baseline
    if files.kind is not kind:
        return {}
    document: Mapping[str, Any] = json.loads(Path(files.constraints).read_text(encoding="utf-8"))
    return document


# -- the alarm factory --------------------------------------------------------------------------------


def _construct_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "_"


class MonitorAlarms(Construct):
    """The alarms of one model's monitors, with defaults set once.

    :param alarm_name_prefix: every alarm is named ``<prefix>-<monitor type>-<check>[-<subject>]``
        (the check is left out where the monitor type says it: ``churn-model-quality-auc``)
        (a second monitor of the same type adds its construct id after the type). Give each model its
        own prefix (alarm names are unique per account and region).
    :param no_data_windows: consecutive windows that analysed no data before the NoData alarm
        fires (standalone engine), or without any result (native engine). Default 3.
    :param no_data_alarm: create the NoData alarm (standalone engine); False for a model that may rightly
        get no traffic for ``no_data_windows`` windows (the heartbeat still watches the monitoring). Default True.
    :param failed_windows: consecutive failed executions before the Failed alarm fires. Default 1.
    :param violations_windows: consecutive windows with violations before that alarm fires. Default 1.
    :param actions_enabled: default True.
    """

    def __init__(self, scope: Construct, id: str, *, alarm_name_prefix: str, no_data_windows: int = 3,
                 failed_windows: int = 1, violations_windows: int = 1, actions_enabled: bool = True,
                 no_data_alarm: bool = True) -> None:
        super().__init__(scope, id)
        if not alarm_name_prefix or not _ALARM_NAME.match(alarm_name_prefix) or len(alarm_name_prefix) > 120:
            raise ConfigurationError(self, "alarm_name_prefix", alarm_name_prefix,
                                     "Use 1-120 printable characters, e.g. the model's name ('churn-prod').")
        for prop, value in (("no_data_windows", no_data_windows), ("failed_windows", failed_windows),
                            ("violations_windows", violations_windows)):
            check_windows(self, prop, value)
        if not isinstance(no_data_alarm, bool):
            raise ConfigurationError(self, "no_data_alarm", no_data_alarm, "Use True or False.")
        self.alarm_name_prefix = alarm_name_prefix
        self.no_data_windows = no_data_windows
        self.no_data_alarm = no_data_alarm
        self.failed_windows = failed_windows
        self.violations_windows = violations_windows
        self.actions_enabled = actions_enabled
        self._created: list[CreatedAlarm] = []
        self._composites: list[cloudwatch.CompositeAlarm] = []
        self._name_parts: dict[str, str] = {}  # monitor path -> its part of the alarm names
        self._actions: list[tuple[cloudwatch.IAlarmAction, bool, bool]] = []
        self.composite_alarm: cloudwatch.CompositeAlarm | None = None

    # -- what was created -----------------------------------------------------------------------

    def created_alarms(self) -> list[cloudwatch.Alarm]:
        """Every metric alarm created so far (the composite alarm is ``composite_alarm``)."""
        return [c.alarm for c in self._created]

    def created_alarm_details(self, *categories: AlarmCategory) -> list[CreatedAlarm]:
        """The created alarms with what they watch, optionally only of ``categories``."""
        return [c for c in self._created if not categories or c.category in categories]

    def model_health_alarms(self) -> list[cloudwatch.Alarm]:
        """Alarms that say the model (not the monitoring) is unwell: drift, completeness, quality, bias."""
        return [c.alarm for c in self._created if c.category.model_health]

    # -- actions --------------------------------------------------------------------------------

    def add_actions(self, *actions: cloudwatch.IAlarmAction, ok: bool = True,
                    model_health_alarms: bool = False) -> None:
        """Add ``actions`` (e.g. ``SnsAction(topic)``) to the composite alarm and the monitoring-health
        alarms (Failed, NoData, no results, violations), now and for alarms created later. The
        per-metric model-health alarms roll up into the composite alarm and notify through it, unless
        ``model_health_alarms`` is True. ``ok`` also notifies when an alarm returns to OK."""
        for action in actions:
            self._actions.append((action, ok, model_health_alarms))
            for created in self._created:
                self._apply(created.alarm, created.category.model_health, [(action, ok, model_health_alarms)])
            for composite in self._composites:
                self._apply(composite, False, [(action, ok, model_health_alarms)])

    @staticmethod
    def _apply(alarm: cloudwatch.AlarmBase, model_health: bool,
               actions: Iterable[tuple[cloudwatch.IAlarmAction, bool, bool]]) -> None:
        for action, ok, include_model_health in actions:
            if model_health and not include_model_health:
                continue
            alarm.add_alarm_action(action)
            if ok:
                alarm.add_ok_action(action)

    # -- per monitor ----------------------------------------------------------------------------

    def add_monitor(self, monitor: AlarmedMonitor, *, baseline: Baseline | None = None,
                    options: AlarmOptions | None = None) -> list[CreatedAlarm]:
        """All default alarms of ``monitor``: execution status (standalone engine) or "no results"
        (native engine), plus its type's model-health alarms (``add_health_alarms``). ``baseline`` is the source
        the monitor was given, read for features and thresholds; ``options`` the type's ``*AlarmOptions``."""
        health = self.add_health_alarms(monitor, baseline=baseline, options=options)
        # Native engine: a result metric that every execution with data publishes stands in for the statuses.
        watched = next((c.metric for c in sorted(health, key=lambda c: c.category is not AlarmCategory.COMPLETENESS)
                        if isinstance(c.metric, cloudwatch.Metric)), None)
        return self.add_execution_alarms(monitor, no_results_metric=watched) + health

    def add_health_alarms(self, monitor: AlarmedMonitor, *, baseline: Baseline | None = None,
                          options: AlarmOptions | None = None) -> list[CreatedAlarm]:
        """The model-health alarms of ``monitor``'s type (drift and completeness, model quality, bias), which the
        monitor's own unit defines (``monitors/<type>/alarms.py``); ``options`` the type's ``*AlarmOptions``
        (default: the type's defaults)."""
        return monitor.add_health_alarms(self, baseline=baseline, options=options)

    def add_data_quality(self, monitor: AlarmedMonitor, *, baseline: Baseline | None = None,
                         options: AlarmOptions | None = None) -> list[CreatedAlarm]:
        """Per-feature drift and completeness alarms of a ``DataQualityMonitor`` (``add_health_alarms``)."""
        return self.add_health_alarms(monitor, baseline=baseline, options=options)

    def add_model_quality(self, monitor: AlarmedMonitor, *, baseline: Baseline | None = None,
                          options: AlarmOptions | None = None) -> list[CreatedAlarm]:
        """One alarm per model-quality metric of a ``ModelQualityMonitor`` (``add_health_alarms``)."""
        return self.add_health_alarms(monitor, baseline=baseline, options=options)

    def add_bias(self, monitor: AlarmedMonitor, *, baseline: Baseline | None = None,
                 options: AlarmOptions | None = None) -> list[CreatedAlarm]:
        """One alarm per bias metric of a ``BiasDriftMonitor`` (``add_health_alarms``)."""
        return self.add_health_alarms(monitor, baseline=baseline, options=options)

    def add_execution_alarms(self, monitor: AlarmedMonitor, *, no_results_metric: cloudwatch.Metric | None = None) -> list[CreatedAlarm]:
        """Failed, NoData (``no_data_windows`` in a row, unless ``no_data_alarm`` is False) and
        CompletedWithViolations, from the standalone engine's status metrics (the native engine publishes
        none: nothing is created)."""
        if monitor.engine_kind is not Engine.STANDALONE:
            return self._no_results(monitor, no_results_metric) if no_results_metric is not None else []
        kind = monitor.kind.name
        reports = monitor.report_s3_uri
        return [
            self.add_alarm(
                monitor, AlarmCategory.EXECUTION_FAILED, monitor.metric_execution_status(FAILED),
                threshold=1, windows=self.failed_windows,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"The {kind} monitoring execution failed ({self.failed_windows} window(s) in a row). "
                            f"The state machine's execution history has the cause; reports under {reports}."),
            *([self.add_alarm(
                monitor, AlarmCategory.NO_DATA, monitor.metric_execution_status(NO_DATA),
                threshold=1, windows=self.no_data_windows,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"No data analysed in the last {self.no_data_windows} {kind} monitoring windows (no "
                            "capture files, no record of the window, or no labels yet: each window's status event "
                            "gives its noDataReason). Is the endpoint receiving traffic, and is data capture on?")]
              if self.no_data_alarm else []),
            self.add_alarm(
                monitor, AlarmCategory.VIOLATIONS, monitor.metric_execution_status(COMPLETED_WITH_VIOLATIONS),
                threshold=1, windows=self.violations_windows,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"The {kind} monitor found constraint violations; see constraint_violations.json "
                            f"under {reports}."),
        ]

    def _no_results(self, monitor: AlarmedMonitor, metric: cloudwatch.Metric) -> list[CreatedAlarm]:
        """Native engine: no datapoint of ``metric`` for ``no_data_windows`` runs of the schedule (no data or
        failed job), evaluated as the standalone engine's heartbeat (``schedule.heartbeat``)."""
        beat = heartbeat(monitor.schedule, max_runtime=monitor.compute.max_runtime,
                         missed_windows=self.no_data_windows)
        if beat is None:
            return []
        sample_count = metric.with_(statistic="SampleCount", period=beat.period)
        return [self.add_alarm(
            monitor, AlarmCategory.NO_RESULTS, sample_count, threshold=1, windows=beat.windows, period=beat.period,
            operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
            description=f"No {monitor.kind.name} monitoring results for {beat.windows} runs of the schedule: the "
                        "schedule's executions found no captured data or failed (see the monitoring schedule's "
                        "executions). Also in ALARM after deployment until the first execution publishes.")]

    # -- the primitive --------------------------------------------------------------------------

    def add_alarm(self, monitor: AlarmedMonitor, category: AlarmCategory, metric: cloudwatch.IMetric, *, threshold: float,
                  windows: int, operator: cloudwatch.ComparisonOperator, missing: cloudwatch.TreatMissingData,
                  description: str, subject: str | None = None, metric_name: str | None = None,
                  source_metric: cloudwatch.IMetric | None = None, period: Duration | None = None,
                  effect_threshold: float | None = None) -> CreatedAlarm:
        """An alarm on ``metric`` over ``windows`` of ``monitor``'s windows (all must breach; ``period``
        overrides the window's length), recorded in ``created_alarms()`` and given the actions of ``add_actions``."""
        check_windows(self, "windows", windows)
        period = period or monitor.metric_period
        if period.to_seconds() * windows > MAX_EVALUATION_RANGE.to_seconds():
            raise ConfigurationError(self, "windows", windows,
                                     f"CloudWatch evaluates at most 7 days: with {period.to_hours():g}-hour windows "
                                     f"use at most {int(MAX_EVALUATION_RANGE.to_seconds() // period.to_seconds())}.")
        part = self._name_part(monitor)
        check = None if category.slug in monitor.kind.name else category.slug  # no "model-quality-model-quality"
        name = "-".join(p for p in (self.alarm_name_prefix, part, check, subject) if p)[:255]
        group = self.node.try_find_child(_construct_id(monitor.node.id))
        scope = group if isinstance(group, Construct) else Construct(self, _construct_id(monitor.node.id))
        construct_id = _construct_id("-".join(p for p in (category.slug, subject) if p))
        if scope.node.try_find_child(construct_id) is not None:
            raise ConfigurationError(self, "alarm", name, "This alarm exists already; add each monitor once.")
        source_metric = source_metric or metric
        if isinstance(metric, cloudwatch.Metric):
            metric = metric.with_(period=period)
        alarm = cloudwatch.Alarm(
            scope, construct_id, metric=metric, threshold=threshold, comparison_operator=operator,
            evaluation_periods=windows, datapoints_to_alarm=windows, treat_missing_data=missing,
            alarm_name=name, alarm_description=description[:1024], actions_enabled=self.actions_enabled)
        record = CreatedAlarm(alarm=alarm, category=category, monitor_path=monitor.node.path,
                              metric_name=metric_name or getattr(metric, "metric_name", "") or "", subject=subject,
                              metric=source_metric, effect_threshold=effect_threshold)
        self._created.append(record)
        self._apply(alarm, category.model_health, self._actions)
        return record

    def _name_part(self, monitor: AlarmedMonitor) -> str:
        return monitor_name_part(self._name_parts, monitor)

    # -- composite --------------------------------------------------------------------------------

    def add_composite_alarm(self, *, name_suffix: str = "model-unhealthy",
                            categories: Sequence[AlarmCategory] = MODEL_HEALTH,
                            description: str | None = None) -> cloudwatch.CompositeAlarm:
        """One composite alarm in ALARM while any created alarm of ``categories`` (default: the
        model-health ones) is. It is what pages and what starts retraining: it changes state once per
        incident, however many features drift. Call it after ``add_monitor``. More than
        ``COMPOSITE_CHUNK`` alarms are grouped into nested composite alarms (CloudWatch limits the rule's size)."""
        alarms = [c.alarm for c in self._created if c.category in categories]
        if not alarms:
            raise ConfigurationError(self, "categories", [c.slug for c in categories],
                                     "No alarm of these categories exists yet: add monitors first.")
        name = f"{self.alarm_name_prefix}-{name_suffix}"
        rules: list[cloudwatch.IAlarmRule] = list(alarms)
        if len(alarms) > COMPOSITE_CHUNK:
            rules = []
            for index in range(0, len(alarms), COMPOSITE_CHUNK):
                part = cloudwatch.CompositeAlarm(
                    self, f"{_construct_id(name_suffix)}Part{index // COMPOSITE_CHUNK + 1}",
                    composite_alarm_name=f"{name}-part{index // COMPOSITE_CHUNK + 1}",
                    alarm_rule=cloudwatch.AlarmRule.any_of(*alarms[index:index + COMPOSITE_CHUNK]),
                    actions_enabled=False,
                    alarm_description=f"Part of {name} (CloudWatch limits a composite alarm's rule size).")
                rules.append(part)
        composite = cloudwatch.CompositeAlarm(
            self, _construct_id(name_suffix), composite_alarm_name=name,
            alarm_rule=cloudwatch.AlarmRule.any_of(*rules), actions_enabled=self.actions_enabled,
            alarm_description=(description or
                               f"The model behind {self.alarm_name_prefix} looks unhealthy: one of its "
                               f"{len(alarms)} {'/'.join(c.slug for c in categories)} alarms is in ALARM.")[:1024])
        self._composites.append(composite)
        self._apply(composite, False, self._actions)
        if self.composite_alarm is None:
            self.composite_alarm = composite
        return composite


def monitor_name_part(name_parts: dict[str, str], monitor: AlarmedMonitor) -> str:
    """A monitor's part of alarm names: ``<monitor type>`` for the first monitor of a type,
    ``<monitor type>-<construct id>`` for others; ``name_parts`` (monitor path -> part) remembers them."""
    path = monitor.node.path
    if path not in name_parts:
        kind = monitor.kind.name
        taken = kind in name_parts.values()
        name_parts[path] = f"{kind}-{monitor.node.id}" if taken else kind
    return name_parts[path]


def own_options(alarms: MonitorAlarms, options: AlarmOptions | None, options_type: type[_Options]) -> _Options:
    """``options`` when they are the monitor type's own ``options_type``, its defaults for None; other options are
    refused (a monitor type reads only its own)."""
    if options is None:
        return options_type()
    if not isinstance(options, options_type):
        raise ConfigurationError(alarms, "options", type(options).__name__,
                                 f"Use {options_type.__name__}(...) for this monitor's alarms.")
    return options


def check_windows(scope: Construct, prop: str, value: int) -> None:
    """Refuse a number of windows that is not a whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(scope, prop, value, "Use a whole number of monitoring windows, at least 1.")
