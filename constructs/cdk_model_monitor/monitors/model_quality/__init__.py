"""Model quality, one unit: settings, the monitor and its metrics, its alarms, its dashboard widgets and its
typed native job definition."""

from .alarms import ModelQualityAlarmOptions, QualityThreshold, model_quality_thresholds
from .monitor import (
    DEFAULT_PROBABILITY_THRESHOLD,
    MODEL_QUALITY,
    QUALITY_METRICS,
    ModelQualityMonitor,
    quality_metric_operator,
)
from .settings import ModelQualityProps, ModelQualitySettings, ProblemType

__all__ = [
    "DEFAULT_PROBABILITY_THRESHOLD",
    "MODEL_QUALITY",
    "QUALITY_METRICS",
    "ModelQualityAlarmOptions",
    "ModelQualityMonitor",
    "ModelQualityProps",
    "ModelQualitySettings",
    "ProblemType",
    "QualityThreshold",
    "model_quality_thresholds",
    "quality_metric_operator",
]
