"""Bias-drift alarms: one per bias metric of the baseline's analysis: on the analyzer's verdict when the baseline
asks for the sample-size-aware comparison, else on the metric's distance from neutral (Clarify's bias-drift rule,
with the monitor's tolerance)."""

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


class BiasAlarmSubject(AlarmedMonitor, Protocol):
    """What the bias alarms read from their monitor."""

    @property
    def drift_tolerance(self) -> float: ...
    def metric_bias(self, metric: str, facet: str | None = None, facet_value: str | None = None,
                    stage: str | None = None, *, label: str | None = None, label_value: str | None = None,
                    statistic: str = "Average", period: Duration | None = None) -> cloudwatch.Metric: ...
    def metric_bias_violation(self, metric: str, facet: str | None = None, facet_value: str | None = None,
                              stage: str | None = None, *, period: Duration | None = None) -> cloudwatch.Metric: ...


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
    verdict: bool = False
    """The baseline asks for the sample-size-aware comparison: the analyzer judges whether the metric moved
    farther from neutral than the baseline by more than chance at the window's size (tolerance included), and
    the alarm watches that verdict (``bias_drift_violation_<metric>``)."""


@dataclass(frozen=True, kw_only=True)
class BiasAlarmOptions(AlarmOptions):
    """Bias-drift alarms.

    :param thresholds: the bias metrics to alarm on. Default: every metric of the baseline's
        Clarify ``analysis.json`` with its baseline distance from neutral; required otherwise.
    :param windows: consecutive windows beyond the baseline before the alarm fires. Default 1.
    :param tolerance: added to every baseline distance, so a metric may move this much farther from
        neutral than the baseline before alarming. Default: the monitor's ``drift_tolerance`` (0 is
        Clarify's bias-drift rule). An alarm on the analyzer's verdict (a baseline with the
        sample-size-aware comparison) takes the monitor's ``drift_tolerance``, which the analyzer applies.
    """

    thresholds: Sequence[BiasThreshold] | None = None
    windows: int = 1
    tolerance: float = 0.0


def bias_thresholds(analysis: Mapping[str, Any]) -> list[BiasThreshold]:
    """One threshold per finite bias metric of a Clarify ``analysis.json`` (contract §9.2-9.4): the
    baseline value's distance from the metric's neutral point, since a violation is a value farther
    from neutral than the baseline's. The neutral points are the analyzer's (Clarify's: 0 for every
    metric, DI included). Metrics with a null (errored) value are skipped. A baseline whose
    ``bias_drift_decision`` asks for the sample-size-aware comparison gives thresholds on the analyzer's verdict."""
    verdict = rules.parse_bias_decision(analysis).comparison == rules.SIGNIFICANCE
    return [BiasThreshold(name=m.name, max_distance=m.max_distance, neutral=m.neutral, facet=m.facet,
                          facet_value=m.facet_value, stage=m.stage, label=m.label, label_value=m.label_value,
                          verdict=verdict)
            for m in rules.bias_baseline_metrics(analysis)]


def add_health_alarms(alarms: MonitorAlarms, monitor: BiasAlarmSubject, *, baseline: Baseline | None,
                      options: BiasAlarmOptions) -> list[CreatedAlarm]:
    """One alarm per bias metric: ``|value - neutral|`` above the baseline's distance from neutral."""
    check_windows(alarms, "windows", options.windows)
    thresholds = list(options.thresholds) if options.thresholds is not None else None
    if thresholds is None:
        analysis = local_baseline_document(baseline, BaselineKind.BIAS)
        thresholds = bias_thresholds(analysis) if analysis else []
        if not thresholds:
            raise ConfigurationError(alarms, "thresholds", None,
                                     "Thresholds are only known from a local Clarify analysis.json baseline; "
                                     "pass BiasAlarmOptions(thresholds=[BiasThreshold(...)]).")
    if options.tolerance < 0:
        raise ConfigurationError(alarms, "tolerance", options.tolerance, "Use a tolerance of 0 or more.")
    # by default the alarms tolerate what the monitor's violations tolerate
    tolerance = options.tolerance or monitor.drift_tolerance
    created = []
    for t in thresholds:
        metric = monitor.metric_bias(t.name, facet=t.facet, facet_value=t.facet_value, stage=t.stage)
        limit = t.max_distance + tolerance
        subject = "-".join(p for p in (t.name, t.facet, t.facet_value) if p)
        if t.verdict:
            created.append(alarms.add_alarm(
                monitor, AlarmCategory.BIAS,
                monitor.metric_bias_violation(t.name, facet=t.facet, facet_value=t.facet_value, stage=t.stage),
                subject=subject, threshold=1, windows=options.windows, effect_threshold=limit,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Bias drift: {t.name} ({t.facet or 'facet'}={t.facet_value or '*'}) moved farther from "
                            f"its neutral value {t.neutral:g} than the baseline's {t.max_distance:g}"
                            f"{f' + {monitor.drift_tolerance:g}' if monitor.drift_tolerance else ''} by more than "
                            f"chance at the window's size (the analyzer's verdict). Reports under "
                            f"{monitor.report_s3_uri}."))
            continue
        distance = cloudwatch.MathExpression(
            expression=f"ABS(m - {t.neutral!r})", using_metrics={"m": metric},
            label=f"|{t.name} - {t.neutral:g}|", period=monitor.metric_period)
        created.append(alarms.add_alarm(
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
