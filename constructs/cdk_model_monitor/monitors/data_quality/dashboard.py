"""The data-quality monitor's dashboard graphs: drift and completeness per feature, with the alarm thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from ...alarm_factory import AlarmCategory, AlarmedMonitor, CreatedAlarm
from ...dashboard import MAX_METRICS_PER_GRAPH


class DataQualityDashboardSubject(AlarmedMonitor, Protocol):
    """What the data-quality graphs read from their monitor."""

    def metric_drift(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric: ...
    def metric_completeness(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric: ...


def dashboard_widgets(monitor: DataQualityDashboardSubject, alarms: Sequence[CreatedAlarm], *,
                      features: Sequence[str] | None) -> list[cloudwatch.IWidget]:
    """Drift and completeness graphs of ``features`` (default: the features ``alarms`` watch), at most
    ``MAX_METRICS_PER_GRAPH`` features a graph, with the drift alarms' thresholds drawn."""
    kind = monitor.kind.name
    drift = [c for c in alarms if c.category is AlarmCategory.DRIFT]
    completeness = [c for c in alarms if c.category is AlarmCategory.COMPLETENESS]
    chosen = list(features) if features is not None else list(dict.fromkeys(
        c.subject for c in drift + completeness if c.subject))
    widgets: list[cloudwatch.IWidget] = []
    for start in range(0, len(chosen), MAX_METRICS_PER_GRAPH):
        chunk = chosen[start:start + MAX_METRICS_PER_GRAPH]
        part = f" ({start // MAX_METRICS_PER_GRAPH + 1})" if len(chosen) > MAX_METRICS_PER_GRAPH else ""
        widgets.append(cloudwatch.GraphWidget(
            title=f"{kind}: drift per feature (distance from baseline){part}", width=12, height=6,
            left=[monitor.metric_drift(f).with_(label=f) for f in chunk],
            left_annotations=_thresholds(drift, chunk),
            left_y_axis=cloudwatch.YAxisProps(min=0, show_units=False)))
        widgets.append(cloudwatch.GraphWidget(
            title=f"{kind}: completeness per feature (share of non-null values){part}", width=12, height=6,
            left=[monitor.metric_completeness(f).with_(label=f) for f in chunk],
            left_y_axis=cloudwatch.YAxisProps(min=0, max=1, show_units=False)))
    return widgets


def _thresholds(alarms: Sequence[CreatedAlarm], subjects: Sequence[str]) -> list[cloudwatch.HorizontalAnnotation]:
    """One horizontal line per distinct threshold of ``alarms`` among ``subjects`` (at most 5)."""
    wanted = set(subjects)
    thresholds = (c.effect_threshold if c.effect_threshold is not None else _threshold(c.alarm)
                  for c in alarms if c.subject in wanted)
    values = sorted({float(t) for t in thresholds if t is not None})
    return [cloudwatch.HorizontalAnnotation(value=v, label=f"alarm threshold {v:g}", color="#d62728")
            for v in values[:5]]


def _threshold(alarm: cloudwatch.Alarm) -> float | None:
    """The threshold on an alarm's L1 (a CfnAlarm: the L2 does not expose it)."""
    return cast(cloudwatch.CfnAlarm, alarm.node.default_child).threshold
