"""The names the alarms were imported by before each monitor type's alarms moved into its unit, kept so that
existing imports work: the factory and categories are in ``alarm_factory``, a type's options and thresholds in
``monitors/<type>/alarms.py``. Nothing in the library imports this module."""

from .alarm_factory import (
    COMPOSITE_CHUNK,
    MAX_EVALUATION_RANGE,
    MODEL_HEALTH,
    MONITORING_HEALTH,
    AlarmCategory,
    AlarmedMonitor,
    AlarmOptions,
    CreatedAlarm,
    MonitorAlarms,
    baseline_constraints,
    monitor_name_part,
)
from .monitors.bias.alarms import BiasAlarmOptions, BiasThreshold, bias_thresholds
from .monitors.data_quality.alarms import (
    MAX_FEATURE_ALARMS,
    DataQualityAlarmOptions,
    FeatureThresholds,
    data_quality_thresholds,
)
from .monitors.model_quality.alarms import (
    ModelQualityAlarmOptions,
    QualityThreshold,
    model_quality_thresholds,
)

__all__ = ["COMPOSITE_CHUNK", "MAX_EVALUATION_RANGE", "MAX_FEATURE_ALARMS", "MODEL_HEALTH", "MONITORING_HEALTH",
           "AlarmCategory", "AlarmOptions", "AlarmedMonitor", "BiasAlarmOptions", "BiasThreshold", "CreatedAlarm",
           "DataQualityAlarmOptions", "FeatureThresholds", "ModelQualityAlarmOptions", "MonitorAlarms",
           "QualityThreshold", "baseline_constraints", "bias_thresholds", "data_quality_thresholds",
           "model_quality_thresholds", "monitor_name_part"]
