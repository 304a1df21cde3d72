"""The model-quality monitor's dashboard graphs: the metrics its alarms watch, per window."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch

from ...alarm_factory import AlarmCategory, CreatedAlarm
from ...dashboard import alarm_metric_graphs


def dashboard_widgets(kind: str, alarms: Sequence[CreatedAlarm]) -> list[cloudwatch.IWidget]:
    """The model-quality metrics of ``alarms``, each labelled with its name."""
    return alarm_metric_graphs(f"{kind}: model quality per window", alarms, AlarmCategory.MODEL_QUALITY)
