"""Bias drift, one unit: settings, the monitor and its metrics, its alarms, its dashboard widgets and its typed
native job definition."""

from .alarms import BiasAlarmOptions, BiasThreshold, bias_thresholds
from .monitor import (
           MODEL_BIAS,
           POST_TRAINING_METRICS,
           PRE_TRAINING_METRICS,
           BiasDriftMonitor,
           analysis_config,
)
from .settings import BiasProps, BiasSettings, ColumnRef, Facet, Value, group_name

__all__ = [
           "MODEL_BIAS",
           "POST_TRAINING_METRICS",
           "PRE_TRAINING_METRICS",
           "BiasAlarmOptions",
           "BiasDriftMonitor",
           "BiasProps",
           "BiasSettings",
           "BiasThreshold",
           "ColumnRef",
           "Facet",
           "Value",
           "analysis_config",
           "bias_thresholds",
           "group_name",
]
