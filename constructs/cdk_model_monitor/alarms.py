"""The names the alarms were imported by before each monitor type's alarms moved into its unit, kept so that
existing imports work: the factory and categories are in ``alarm_factory``, a type's options and thresholds in
``monitors/<type>/alarms.py``. Nothing in the library imports this module."""

from collections.abc import Mapping
from typing import Any

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
    local_baseline_document,
    monitor_name_part,
)
from .baseline import Baseline, BaselineKind
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

__all__ = [
    "COMPOSITE_CHUNK",
    "MAX_EVALUATION_RANGE",
    "MAX_FEATURE_ALARMS",
    "MODEL_HEALTH",
    "MONITORING_HEALTH",
    "AlarmCategory",
    "AlarmOptions",
    "AlarmedMonitor",
    "BiasAlarmOptions",
    "BiasThreshold",
    "CreatedAlarm",
    "DataQualityAlarmOptions",
    "FeatureThresholds",
    "ModelQualityAlarmOptions",
    "MonitorAlarms",
    "QualityThreshold",
    "bias_thresholds",
    "data_quality_thresholds",
    "local_baseline_document",
    "model_quality_thresholds",
    "monitor_name_part",
]


def baseline_constraints(baseline: Baseline) -> Mapping[str, Any] | None:
    """The constraints document of a baseline whose files are on this machine (a bias baseline's analysis.json
    under ``bias_analysis``), else None. Each monitor type now reads its own: ``local_baseline_document``."""
    for kind in BaselineKind:
        document = local_baseline_document(baseline, kind)
        if document is None:
            return None
        if document:
            return {"bias_analysis": document} if kind is BaselineKind.BIAS else document
    return {}
