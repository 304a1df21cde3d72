"""CloudWatch alarms on what the monitors publish, in the style of cdk-monitoring-constructs.

The monitors define their metrics (``metric_drift``, ``metric_execution_status``, ...); this module
holds the alarm logic. ``MonitorAlarms`` injects the defaults once (alarm-name prefix, how many
windows make an alarm, which actions to take), creates the alarms of each monitor with
``add_monitor`` and lists what it created with ``created_alarms()``. ``add_composite_alarm`` rolls
the model-health alarms into one "model unhealthy" composite alarm, the one to page on and to
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from . import monitor_types
from .baseline import Baseline, BaselineDirectoryError, BaselineKind, read_baseline_directory
from .bundled import analyzer_module
from .errors import ConfigurationError
from .job import Engine
from .schedule import heartbeat
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


# -- thresholds from the baseline ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FeatureThresholds:
    """A feature's alarm thresholds, read from a data-quality constraints.json.

    :param drift_threshold: alarm when the drift metric is above this (or below it, for a p-value);
        None when the baseline does not compare this feature's distribution.
    :param drift_is_p_value: the drift metric is a chi-squared p-value (String feature with
        ``categorical_drift_method=ChiSquared`` and ``comparison_method=Robust``): small is drift.
    :param completeness: alarm when the share of non-null values is below this; None when unconstrained.
    :param drift_verdict: the analyzer judges this feature's drift with a registry method (``auto`` and the
        others), whose verdict weighs the window's size and the other features: the alarm watches the
        analyzer's verdict metric (``feature_drift_violation_<f>``), not the distance against a fixed threshold.
    :param drift_method: the method that judges the feature (``sagemaker`` for the built-in's rule).
    """

    name: str
    inferred_type: str | None = None
    drift_threshold: float | None = None
    drift_is_p_value: bool = False
    completeness: float | None = None
    drift_verdict: bool = False
    drift_method: str = "sagemaker"


def data_quality_thresholds(constraints: Mapping[str, Any],
                            overrides: Mapping[str, Mapping[str, Any]] | None = None,
                            drift_method: str | None = None) -> list[FeatureThresholds]:
    """Per-feature thresholds of a data-quality ``constraints.json`` (contract §4, §5.2), judged by the
    analyzer's rules (``model_monitor_analyzer.constraint_rules``).

    ``overrides`` are a deployment's per-feature overrides (``FeatureOverride.to_config()``, shorthand
    allowed), applied over the feature's own ``monitoring_config_overrides`` as the analyzer applies them.
    Drift: ``comparison_threshold`` for numeric features, ``categorical_comparison_threshold``
    (default: ``comparison_threshold``, itself default 0.1) for String features. Features whose metrics
    are off (``emit_metrics``) or whose constraints are not evaluated are left out; drift is None where
    ``perform_comparison`` is Disabled. Completeness: the feature's ``completeness``.
    ``drift_method`` is the monitor's ``drift_method`` for every feature (default: the constraints').
    Raises ``ValueError`` naming a bad ``monitoring_config`` key or an unknown overridden feature.
    """
    extra = {name: rules.expand_override_shorthand(config) for name, config in (overrides or {}).items()}
    result = []
    for feature in rules.feature_rules(constraints, extra, drift_method):
        if not feature.emits_metrics or not feature.evaluated:
            continue
        drift = feature.drift
        result.append(FeatureThresholds(
            name=feature.name, inferred_type=feature.inferred_type,
            drift_threshold=None if drift is None else drift.threshold,
            drift_is_p_value=drift is not None and drift.p_value, completeness=feature.minimum_completeness,
            drift_verdict=drift is not None and drift.method != rules.SAGEMAKER,
            drift_method=rules.SAGEMAKER if drift is None else drift.method))
    return result


def baseline_constraints(baseline: Baseline) -> Mapping[str, Any] | None:
    """The constraints document of a baseline whose files are on this machine (``Baseline.from_directory``),
    else None (S3 and deploy-time baselines are only known at deploy time)."""
    path = getattr(baseline, "path", None)
    if not isinstance(path, str):
        return None
    try:
        files = read_baseline_directory(path)
    except BaselineDirectoryError:
        return None  # the monitor reports the folder's problem when it binds the baseline
    if files.kind is BaselineKind.BIAS:
        return {"bias_analysis": json.loads(Path(files.constraints).read_text(encoding="utf-8"))}
    return json.loads(Path(files.constraints).read_text(encoding="utf-8"))


# -- model quality --------------------------------------------------------------------------------

_OPERATORS = {
    rules.LESS_THAN: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    rules.LESS_THAN_OR_EQUAL_TO: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
    rules.GREATER_THAN: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    rules.GREATER_THAN_OR_EQUAL_TO: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
}


@dataclass(frozen=True, kw_only=True)
class QualityThreshold:
    """Alarm when the model-quality metric ``name`` crosses ``threshold`` in the bad direction."""

    name: str
    threshold: float
    operator: str = "LessThanThreshold"
    """``LessThanThreshold`` for metrics where higher is better, ``GreaterThanThreshold`` for error rates."""
    verdict: bool = False
    """The baseline asks for the sample-size-aware comparison: the analyzer decides whether the metric is
    worse than ``threshold`` by more than chance at the window's size, and the alarm watches that verdict
    (``quality_violation_<metric>``)."""


def model_quality_thresholds(constraints: Mapping[str, Any]) -> list[QualityThreshold]:
    """The ``<problem type>_constraints`` of a model-quality constraints.json (contract §8.2): one
    threshold per metric with its ``comparison_operator`` (a violation when ``value <op> threshold``).
    Raises ``ValueError`` naming an entry without a numeric threshold and a known operator, which the
    analyzer rejects too."""
    verdict = rules.parse_decision(constraints).comparison == rules.SIGNIFICANCE
    result = []
    for section in rules.QUALITY_CONSTRAINTS_SECTIONS.values():
        metrics = constraints.get(section)
        if isinstance(metrics, Mapping):
            result += [QualityThreshold(name=c.metric, threshold=c.threshold, operator=c.operator, verdict=verdict)
                       for c in rules.quality_constraints(metrics)]
    return result


# -- options ----------------------------------------------------------------------------------------


# Per-feature alarms of one data-quality monitor at most: two per feature (drift, completeness) for 150
# features, leaving room in a 500-resource stack for the rest of a model's monitoring (about 100 resources).
MAX_FEATURE_ALARMS = 300


@dataclass(frozen=True, kw_only=True)
class DataQualityAlarmOptions:
    """Which data-quality alarms to create, and their thresholds.

    :param features: features to alarm on. Default: every feature of the baseline's constraints
        (read from a ``Baseline.from_directory`` folder); required for S3 and deploy-time baselines.
    :param drift_thresholds: per-feature drift thresholds that replace the baseline's.
    :param default_drift_threshold: drift threshold for features the constraints do not describe
        (``features`` given explicitly with an S3 or deploy-time baseline). Default 0.1 (the built-in's).
    :param completeness_thresholds: per-feature minimum completeness replacing the baseline's.
    :param drift: create per-feature drift alarms. Default True.
    :param completeness: create per-feature completeness alarms. Default True (only for features
        with a completeness constraint or an explicit threshold).
    :param drift_windows: consecutive windows above the threshold before the alarm fires. Default 1.
    """

    features: Sequence[str] | None = None
    drift_thresholds: Mapping[str, float] = field(default_factory=dict)
    default_drift_threshold: float = 0.1
    completeness_thresholds: Mapping[str, float] = field(default_factory=dict)
    drift: bool = True
    completeness: bool = True
    drift_windows: int = 1


@dataclass(frozen=True, kw_only=True)
class ModelQualityAlarmOptions:
    """Model-quality alarms.

    :param thresholds: the metrics to alarm on. Default: every metric of the baseline's constraints
        (``<problem>_constraints``: threshold and comparison operator), read from a
        ``Baseline.from_directory`` folder; required otherwise.
    :param metrics: only these metric names (of the thresholds). Default: all.
    :param windows: consecutive windows in the bad direction before the alarm fires. Default 1.
    """

    thresholds: Sequence[QualityThreshold] | None = None
    metrics: Sequence[str] | None = None
    windows: int = 1


@dataclass(frozen=True, kw_only=True)
class BiasThreshold:
    """Alarm when bias metric ``name`` is farther than ``max_distance`` from ``neutral`` (Clarify's
    bias-drift rule measures every metric from 0, DI included): the rule with the baseline's distance."""

    name: str
    max_distance: float
    neutral: float = 0.0
    facet: str | None = None
    facet_value: str | None = None
    stage: str | None = None
    """``Pre-training`` or ``Post-Training`` (the ``BiasStage`` dimension)."""
    label: str | None = None
    label_value: str | None = None


@dataclass(frozen=True, kw_only=True)
class BiasAlarmOptions:
    """Bias-drift alarms.

    :param thresholds: the bias metrics to alarm on. Default: every metric of the baseline's
        Clarify ``analysis.json`` with its baseline distance from neutral; required otherwise.
    :param windows: consecutive windows beyond the baseline before the alarm fires. Default 1.
    :param tolerance: added to every baseline distance, so a metric may move this much farther from
        neutral than the baseline before alarming. Default: the monitor's ``drift_tolerance`` (0 is
        Clarify's bias-drift rule).
    """

    thresholds: Sequence[BiasThreshold] | None = None
    windows: int = 1
    tolerance: float = 0.0


def bias_thresholds(analysis: Mapping[str, Any]) -> list[BiasThreshold]:
    """One threshold per finite bias metric of a Clarify ``analysis.json`` (contract §9.2-9.4): the
    baseline value's distance from the metric's neutral point, since a violation is a value farther
    from neutral than the baseline's. The neutral points are the analyzer's (Clarify's: 0 for every
    metric, DI included). Metrics with a null (errored) value are skipped."""
    return [BiasThreshold(name=m.name, max_distance=m.max_distance, neutral=m.neutral, facet=m.facet,
                          facet_value=m.facet_value, stage=m.stage, label=m.label, label_value=m.label_value)
            for m in rules.bias_baseline_metrics(analysis)]


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
            _check_windows(self, prop, value)
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

    def add_monitor(self, monitor: Any, *, baseline: Baseline | None = None, options: Any = None) -> list[CreatedAlarm]:
        """All default alarms of ``monitor``: execution status (standalone engine) or "no results"
        (native engine), plus its kind's model-health alarms. ``baseline`` is the source the monitor
        was given, read for features and thresholds; ``options`` the kind's ``*AlarmOptions``."""
        kind = monitor.kind.name
        if kind == "data-quality":
            health = self.add_data_quality(monitor, baseline=baseline, options=options or DataQualityAlarmOptions())
        elif kind == "model-quality":
            health = self.add_model_quality(monitor, baseline=baseline, options=options or ModelQualityAlarmOptions())
        elif kind in ("bias", "bias-drift", "model-bias"):
            health = self.add_bias(monitor, baseline=baseline, options=options or BiasAlarmOptions())
        else:
            raise ConfigurationError(self, "monitor", kind, "Use a DataQualityMonitor, ModelQualityMonitor or "
                                                            "BiasDriftMonitor, or add alarms with add_alarm().")
        # Native engine: a result metric that every execution with data publishes stands in for the statuses.
        watched = next((c.metric for c in sorted(health, key=lambda c: c.category is not AlarmCategory.COMPLETENESS)
                        if isinstance(c.metric, cloudwatch.Metric)), None)
        return self.add_execution_alarms(monitor, no_results_metric=watched) + health

    def add_execution_alarms(self, monitor: Any, *, no_results_metric: cloudwatch.Metric | None = None) -> list[CreatedAlarm]:
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

    def _no_results(self, monitor: Any, metric: cloudwatch.Metric) -> list[CreatedAlarm]:
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

    def add_data_quality(self, monitor: Any, *, baseline: Baseline | None = None,
                         options: DataQualityAlarmOptions = DataQualityAlarmOptions()) -> list[CreatedAlarm]:
        """Per-feature drift and completeness alarms of a ``DataQualityMonitor``."""
        _check_windows(self, "drift_windows", options.drift_windows)
        constraints = baseline_constraints(baseline) if baseline is not None else None
        # the monitor's own per-feature overrides apply to its alarms too, merged as the analyzer merges
        # them (explicit alarm thresholds win)
        overrides = getattr(monitor, "feature_overrides", {}) or {}
        known: dict[str, FeatureThresholds] = {}
        if constraints:
            names = {f.get("name") for f in constraints.get("features") or [] if isinstance(f, Mapping)}
            try:
                known = {t.name: t for t in data_quality_thresholds(
                    constraints, {n: o.to_config() for n, o in overrides.items() if n in names},
                    getattr(monitor, "drift_method_name", None))}
            except ValueError as error:
                raise ConfigurationError(self, "baseline", getattr(baseline, "path", None),
                                         f"The baseline's constraints.json is not valid: {error}.") from None
        if options.features is not None:
            features = list(options.features)
        elif known:
            features = list(known)
        elif constraints is not None:
            # a local baseline was given, so "only known from a local baseline" would mislead
            raise ConfigurationError(self, "features", None,
                                     f"The local baseline {getattr(baseline, 'path', '')!r} constrains no features: give "
                                     "the data-quality baseline folder (statistics.json + constraints.json of "
                                     "`model-monitor-analyzer baseline`), or DataQualityAlarmOptions(features=[...]).")
        else:
            raise ConfigurationError(self, "features", None,
                                     "The features are only known from a local baseline (Baseline.from_directory); "
                                     "pass DataQualityAlarmOptions(features=[...]) for S3 and deploy-time baselines.")
        unknown = sorted(set(options.drift_thresholds) | set(options.completeness_thresholds))
        unknown = [f for f in unknown if f not in features]
        if unknown:
            raise ConfigurationError(self, "drift_thresholds", unknown,
                                     f"Give thresholds only for alarmed features: {features}.")
        unchecked = {name for name, o in overrides.items() if o.check is False}
        # features the constraints do not describe take the monitor's drift override directly
        monitor_drift = {name: o.drift_threshold for name, o in overrides.items()
                         if o.drift_threshold is not None and name not in known}
        alarmed = [f for f in features if f not in unchecked]
        planned = sum(
            (options.drift and (feature in options.drift_thresholds or feature in monitor_drift or feature not in known
                                or known[feature].drift_verdict or known[feature].drift_threshold is not None))
            + (options.completeness and (feature in options.completeness_thresholds
                                         or (feature in known and known[feature].completeness is not None)))
            for feature in alarmed)
        if planned > MAX_FEATURE_ALARMS:
            # caught here with the fix, before CloudFormation's limit of 500 resources a stack stops synth
            raise ConfigurationError(
                self, "features", f"{len(alarmed)} features",
                f"{len(alarmed)} features make up to {planned} per-feature alarms, more than the {MAX_FEATURE_ALARMS} "
                "a monitor creates (a CloudFormation stack holds at most 500 resources). Alarm on the features that "
                "matter, DataQualityAlarmOptions(features=[...]), or turn the per-feature alarms off "
                "(drift=False, completeness=False) and alarm on the share of drifted features, "
                "monitor.metric_drift_share().")
        created = []
        reports = monitor.report_s3_uri
        for feature in alarmed:
            spec = known.get(feature, FeatureThresholds(name=feature, drift_threshold=options.default_drift_threshold))
            threshold = options.drift_thresholds.get(feature, monitor_drift.get(feature, spec.drift_threshold))
            if options.drift and spec.drift_verdict and feature not in options.drift_thresholds:
                created.append(self.add_alarm(
                    monitor, AlarmCategory.DRIFT, monitor.metric_drift_violation(feature), subject=feature,
                    threshold=1, windows=options.drift_windows, effect_threshold=threshold,
                    operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    missing=cloudwatch.TreatMissingData.IGNORE,
                    description=(f"Feature '{feature}' drifted from its baseline: the analyzer's {spec.drift_method} "
                                 f"verdict (effect at least {threshold:g}, significant at the window's size). "
                                 f"Reports under {reports}.")))
            elif options.drift and threshold is not None:
                below = spec.drift_is_p_value and feature not in options.drift_thresholds
                created.append(self.add_alarm(
                    monitor, AlarmCategory.DRIFT, monitor.metric_drift(feature), subject=feature,
                    threshold=threshold, windows=options.drift_windows,
                    operator=(cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD if below
                              else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
                    missing=cloudwatch.TreatMissingData.IGNORE,
                    description=(f"Feature '{feature}' drifted from its baseline: "
                                 + ("chi-squared p-value below " if below else "distance above ")
                                 + f"{threshold:g}. Reports under {reports}.")))
            minimum = options.completeness_thresholds.get(feature, spec.completeness)
            if options.completeness and minimum is not None:
                created.append(self.add_alarm(
                    monitor, AlarmCategory.COMPLETENESS, monitor.metric_completeness(feature), subject=feature,
                    threshold=minimum, windows=1,
                    operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    missing=cloudwatch.TreatMissingData.IGNORE,
                    description=f"Feature '{feature}' is less complete than its baseline: share of non-null "
                                f"values below {minimum:g}. Reports under {reports}."))
        return created

    def add_model_quality(self, monitor: Any, *, baseline: Baseline | None = None,
                          options: ModelQualityAlarmOptions = ModelQualityAlarmOptions()) -> list[CreatedAlarm]:
        """One alarm per model-quality metric, in the metric's bad direction."""
        _check_windows(self, "windows", options.windows)
        thresholds = list(options.thresholds) if options.thresholds is not None else None
        if thresholds is None:
            constraints = baseline_constraints(baseline) if baseline is not None else None
            try:
                thresholds = model_quality_thresholds(constraints) if constraints else []
            except ValueError as error:
                raise ConfigurationError(self, "baseline", getattr(baseline, "path", None),
                                         f"The baseline's constraints.json is not valid: {error}.") from None
            if not thresholds:
                raise ConfigurationError(self, "thresholds", None,
                                         "Thresholds are only known from a local model-quality baseline; pass "
                                         "ModelQualityAlarmOptions(thresholds=[QualityThreshold(...)]).")
        if options.metrics is not None:
            thresholds = [t for t in thresholds if t.name in set(options.metrics)]
        published = getattr(monitor, "quality_metric_names", None)
        if published is not None and options.thresholds is None:
            # constraints may hold metrics the monitor's problem type does not publish as scalars
            thresholds = [t for t in thresholds if t.name in set(published)]
        created = []
        for t in thresholds:
            if t.operator not in _OPERATORS:
                raise ConfigurationError(self, "thresholds", t.operator, f"Use one of {sorted(_OPERATORS)}.")
            if t.verdict:
                created.append(self.add_alarm(
                    monitor, AlarmCategory.MODEL_QUALITY, monitor.metric_quality_violation(t.name), subject=t.name,
                    threshold=1, windows=options.windows, effect_threshold=t.threshold,
                    operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    missing=cloudwatch.TreatMissingData.IGNORE,
                    description=f"Model quality: {t.name} {t.operator} {t.threshold:g} (baseline) by more than "
                                f"chance at the window's size (the analyzer's verdict). "
                                f"Reports under {monitor.report_s3_uri}."))
                continue
            created.append(self.add_alarm(
                monitor, AlarmCategory.MODEL_QUALITY, monitor.metric_quality(t.name), subject=t.name,
                threshold=t.threshold, windows=options.windows, operator=_OPERATORS[t.operator],
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Model quality: {t.name} {t.operator} {t.threshold:g} (baseline). "
                            f"Reports under {monitor.report_s3_uri}."))
        return created

    def add_bias(self, monitor: Any, *, baseline: Baseline | None = None,
                 options: BiasAlarmOptions = BiasAlarmOptions()) -> list[CreatedAlarm]:
        """One alarm per bias metric: ``|value - neutral|`` above the baseline's distance from neutral."""
        _check_windows(self, "windows", options.windows)
        thresholds = list(options.thresholds) if options.thresholds is not None else None
        if thresholds is None:
            document = baseline_constraints(baseline) if baseline is not None else None
            analysis = (document or {}).get("bias_analysis")
            thresholds = bias_thresholds(analysis) if analysis else []
            if not thresholds:
                raise ConfigurationError(self, "thresholds", None,
                                         "Thresholds are only known from a local Clarify analysis.json baseline; "
                                         "pass BiasAlarmOptions(thresholds=[BiasThreshold(...)]).")
        if options.tolerance < 0:
            raise ConfigurationError(self, "tolerance", options.tolerance, "Use a tolerance of 0 or more.")
        # by default the alarms tolerate what the monitor's violations tolerate
        tolerance = options.tolerance or getattr(monitor, "drift_tolerance", 0.0)
        created = []
        for t in thresholds:
            metric = monitor.metric_bias(t.name, facet=t.facet, facet_value=t.facet_value, stage=t.stage)
            limit = t.max_distance + tolerance
            distance = cloudwatch.MathExpression(
                expression=f"ABS(m - {t.neutral!r})", using_metrics={"m": metric},
                label=f"|{t.name} - {t.neutral:g}|", period=monitor.metric_period)
            subject = "-".join(p for p in (t.name, t.facet, t.facet_value) if p)
            created.append(self.add_alarm(
                monitor, AlarmCategory.BIAS, distance, subject=subject, metric_name=f"bias_metric_{t.name}",
                source_metric=metric,
                threshold=limit, windows=options.windows,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Bias drift: {t.name} ({t.facet or 'facet'}={t.facet_value or '*'}) is farther than "
                            f"{limit:g} from its neutral value {t.neutral:g} (the baseline's distance"
                            f"{f' + {tolerance:g}' if tolerance else ''}). "
                            f"Reports under {monitor.report_s3_uri}."))
        return created

    # -- the primitive --------------------------------------------------------------------------

    def add_alarm(self, monitor: Any, category: AlarmCategory, metric: cloudwatch.IMetric, *, threshold: float,
                  windows: int, operator: cloudwatch.ComparisonOperator, missing: cloudwatch.TreatMissingData,
                  description: str, subject: str | None = None, metric_name: str | None = None,
                  source_metric: cloudwatch.IMetric | None = None, period: Duration | None = None,
                  effect_threshold: float | None = None) -> CreatedAlarm:
        """An alarm on ``metric`` over ``windows`` of ``monitor``'s windows (all must breach; ``period``
        overrides the window's length), recorded in ``created_alarms()`` and given the actions of ``add_actions``."""
        _check_windows(self, "windows", windows)
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

    def _name_part(self, monitor: Any) -> str:
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


def monitor_name_part(name_parts: dict[str, str], monitor: Any) -> str:
    """A monitor's part of alarm names: ``<monitor type>`` for the first monitor of a type,
    ``<monitor type>-<construct id>`` for others; ``name_parts`` (monitor path -> part) remembers them."""
    path = monitor.node.path
    if path not in name_parts:
        kind = monitor.kind.name
        taken = kind in name_parts.values()
        name_parts[path] = f"{kind}-{monitor.node.id}" if taken else kind
    return name_parts[path]


def _check_windows(scope: Construct, prop: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(scope, prop, value, "Use a whole number of monitoring windows, at least 1.")
