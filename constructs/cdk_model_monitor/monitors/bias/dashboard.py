"""The bias-drift monitor's dashboard graphs: the bias metrics its alarms watch, per window."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch

from ...alarm_factory import AlarmCategory, CreatedAlarm
from ...dashboard import alarm_metric_graphs


def dashboard_widgets(kind: str, alarms: Sequence[CreatedAlarm]) -> list[cloudwatch.IWidget]:
    """The bias metrics of ``alarms``, each labelled with its metric, facet and group."""
    return alarm_metric_graphs(f"{kind}: bias metrics per window", alarms, AlarmCategory.BIAS)
