"""Model-quality alarms: one per metric of the baseline's constraints, in the metric's bad direction (or on the
analyzer's sample-size-aware verdict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from ...alarm_factory import (
    AlarmCategory,
    AlarmedMonitor,
    AlarmOptions,
    CreatedAlarm,
    MonitorAlarms,
    check_windows,
    local_baseline_document,
    rules,
)
from ...baseline import Baseline, BaselineKind
from ...errors import ConfigurationError


class ModelQualityAlarmSubject(AlarmedMonitor, Protocol):
    """What the model-quality alarms read from their monitor."""

    @property
    def quality_metric_names(self) -> tuple[str, ...]: ...
    @property
    def label_free_metric_names(self) -> tuple[str, ...]: ...
    def metric_quality(self, name: str, *, statistic: str = "Average",
                       period: Duration | None = None) -> cloudwatch.Metric: ...
    def metric_quality_violation(self, name: str, *, period: Duration | None = None) -> cloudwatch.Metric: ...


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


@dataclass(frozen=True, kw_only=True)
class ModelQualityAlarmOptions(AlarmOptions):
    """Model-quality alarms.

    :param thresholds: the metrics to alarm on. Default: every metric of the baseline's constraints
        (``<problem>_constraints``: threshold and comparison operator), read from a
        ``Baseline.from_directory`` folder; required otherwise.
    :param metrics: only these metric names (of the thresholds). Default: all.
    :param windows: consecutive windows in the bad direction before the alarm fires. Default 1.
    :param label_free: alarms on the analyzer's verdicts about each window's predictions, labels or not: the
        estimated accuracy below the baseline's by more than chance (binary classifiers with a probability
        attribute) and the prediction drift (classifiers). Default: when the baseline is a local folder whose
        constraints.json keeps the labelled reference (``cdk_model_monitor_performance_estimation``, written
        by this analyzer's model-quality baselines of classifiers); ``True`` for a baseline on S3 made by it.
    """

    thresholds: Sequence[QualityThreshold] | None = None
    metrics: Sequence[str] | None = None
    windows: int = 1
    label_free: bool | None = None


def add_health_alarms(alarms: MonitorAlarms, monitor: ModelQualityAlarmSubject, *, baseline: Baseline | None,
                      options: ModelQualityAlarmOptions) -> list[CreatedAlarm]:
    """One alarm per model-quality metric, in the metric's bad direction."""
    check_windows(alarms, "windows", options.windows)
    thresholds = list(options.thresholds) if options.thresholds is not None else None
    if thresholds is None:
        constraints = local_baseline_document(baseline, BaselineKind.MODEL_QUALITY)
        try:
            thresholds = model_quality_thresholds(constraints) if constraints else []
        except ValueError as error:
            raise ConfigurationError(alarms, "baseline", getattr(baseline, "path", None),
                                     f"The baseline's constraints.json is not valid: {error}.") from None
        if not thresholds:
            raise ConfigurationError(alarms, "thresholds", None,
                                     "Thresholds are only known from a local model-quality baseline; pass "
                                     "ModelQualityAlarmOptions(thresholds=[QualityThreshold(...)]).")
    if options.metrics is not None:
        thresholds = [t for t in thresholds if t.name in set(options.metrics)]
    published = monitor.quality_metric_names
    if options.thresholds is None:
        # constraints may hold metrics the monitor's problem type does not publish as scalars
        thresholds = [t for t in thresholds if t.name in set(published)]
    created = []
    for t in thresholds:
        if t.operator not in _OPERATORS:
            raise ConfigurationError(alarms, "thresholds", t.operator, f"Use one of {sorted(_OPERATORS)}.")
        if t.verdict:
            created.append(alarms.add_alarm(
                monitor, AlarmCategory.MODEL_QUALITY, monitor.metric_quality_violation(t.name), subject=t.name,
                threshold=1, windows=options.windows, effect_threshold=t.threshold,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Model quality: {t.name} {t.operator} {t.threshold:g} (baseline) by more than "
                            f"chance at the window's size (the analyzer's verdict). "
                            f"Reports under {monitor.report_s3_uri}."))
            continue
        created.append(alarms.add_alarm(
            monitor, AlarmCategory.MODEL_QUALITY, monitor.metric_quality(t.name), subject=t.name,
            threshold=t.threshold, windows=options.windows, operator=_OPERATORS[t.operator],
            missing=cloudwatch.TreatMissingData.IGNORE,
            description=f"Model quality: {t.name} {t.operator} {t.threshold:g} (baseline). "
                        f"Reports under {monitor.report_s3_uri}."))
    created += _label_free_alarms(alarms, monitor, baseline=baseline, options=options)
    return created


#: The label-free verdicts that get an alarm (the others are in the reports and the metrics).
LABEL_FREE_ALARMS = (rules.ESTIMATED_QUALITY_METRICS[0], rules.PREDICTION_DRIFT, rules.CONCEPT_SHIFT)


def _label_free_alarms(alarms: MonitorAlarms, monitor: ModelQualityAlarmSubject, *, baseline: Baseline | None,
                       options: ModelQualityAlarmOptions) -> list[CreatedAlarm]:
    """The estimated-accuracy, prediction-drift and concept-shift alarms (``ModelQualityAlarmOptions.label_free``)."""
    wanted = options.label_free
    if wanted is None:
        constraints = local_baseline_document(baseline, BaselineKind.MODEL_QUALITY)
        wanted = constraints is not None and rules.PERFORMANCE_ESTIMATION_KEY in constraints
    if not wanted:
        return []
    descriptions = {
        rules.ESTIMATED_QUALITY_METRICS[0]: "Model quality without labels: the accuracy estimated from the "
        "calibrated scores is below the baseline's by more than chance (covariate shift; a concept shift shows "
        "only once labels arrive).",
        rules.PREDICTION_DRIFT: "Model quality without labels: the model's outputs drifted from the baseline's "
        "(distribution, or scores outside its range, beyond what sampling explains).",
        rules.CONCEPT_SHIFT: "Model quality: in a labelled window the realised metrics lie outside the intervals "
        "estimated from the calibrated scores (the relation between inputs and labels changed: a concept shift).",
    }
    return [alarms.add_alarm(
        monitor, AlarmCategory.MODEL_QUALITY, monitor.metric_quality_violation(name), subject=name, threshold=1,
        windows=options.windows, operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing=cloudwatch.TreatMissingData.IGNORE,
        description=f"{descriptions[name]} Reports under {monitor.report_s3_uri}.")
        for name in LABEL_FREE_ALARMS if name in monitor.label_free_metric_names]
