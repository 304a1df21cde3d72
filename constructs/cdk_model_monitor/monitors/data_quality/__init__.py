"""Data quality, one unit: settings, the monitor and its metrics, its alarms, its dashboard widgets and its
typed native job definition."""

from .alarms import (
    MAX_FEATURE_ALARMS,
    DataQualityAlarmOptions,
    FeatureThresholds,
    data_quality_thresholds,
)
from .monitor import DATA_QUALITY, DataQualityMonitor
from .settings import DataQualityProps, DataQualitySettings, DriftMethod, FeatureOverride

__all__ = [
    "DATA_QUALITY",
    "MAX_FEATURE_ALARMS",
    "DataQualityAlarmOptions",
    "DataQualityMonitor",
    "DataQualityProps",
    "DataQualitySettings",
    "DriftMethod",
    "FeatureOverride",
    "FeatureThresholds",
    "data_quality_thresholds",
]
