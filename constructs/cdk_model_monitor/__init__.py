"""cdk-model-monitor: production monitoring for SageMaker models, as AWS CDK v2 constructs."""

from . import _node  # noqa: F401  (must run before aws-cdk-lib starts Node)
from .alarm_factory import AlarmCategory, CreatedAlarm, MonitorAlarms
from .baseline import Baseline, BaselineKind, BoundBaseline, DatasetFormat
from .batch import BatchDataFormat, BatchTransformCapture, BatchTransformSource, BatchTrigger
from .dashboard import DashboardMonitor, ModelDashboard
from .endpoint import CaptureConfig, CapturedEndpoint, CaptureMode, ICapturedEndpoint, ProductionVariant
from .errors import ConfigurationError
from .facade import (
    AlarmProps,
    BiasProps,
    BiasSettings,
    DashboardProps,
    DataQualityProps,
    DataQualitySettings,
    EndpointProps,
    ExistingEndpoint,
    ModelMonitor,
    ModelQualityProps,
    ModelQualitySettings,
    MonitorProps,
    MonitorSettings,
    NotificationProps,
    RetrainingProps,
    StorageProps,
)
from .images import AnalyzerImage, BoundImage, BuiltinImage, builtin_image_uri
from .job import Engine, JobCompute, JobNetwork
from .monitors.bias import BiasAlarmOptions, BiasDriftMonitor, BiasThreshold, Facet, analysis_config
from .monitors.capture_columns import BaselineColumns
from .monitors.data_quality import DataQualityAlarmOptions, DataQualityMonitor, DriftMethod, FeatureOverride
from .monitors.model_quality import (
    QUALITY_METRICS,
    ModelQualityAlarmOptions,
    ModelQualityMonitor,
    ProblemType,
    QualityThreshold,
    quality_metric_operator,
)
from .notifications import Notifications
from .retraining import RetrainingTrigger
from .scale_out import ScaleOut, SparkArchitecture
from .schedule import DataWindow, Schedule
from .storage import MonitoringBucket, MonitoringPrefixes

__all__ = [
    "QUALITY_METRICS",
    "AlarmCategory",
    "AlarmProps",
    "AnalyzerImage",
    "Baseline",
    "BaselineColumns",
    "BaselineKind",
    "BatchDataFormat",
    "BatchTransformCapture",
    "BatchTransformSource",
    "BatchTrigger",
    "BiasAlarmOptions",
    "BiasDriftMonitor",
    "BiasProps",
    "BiasSettings",
    "BiasThreshold",
    "BoundBaseline",
    "BoundImage",
    "BuiltinImage",
    "CaptureConfig",
    "CaptureMode",
    "CapturedEndpoint",
    "ConfigurationError",
    "CreatedAlarm",
    "DashboardMonitor",
    "DashboardProps",
    "DataQualityAlarmOptions",
    "DataQualityMonitor",
    "DataQualityProps",
    "DataQualitySettings",
    "DataWindow",
    "DatasetFormat",
    "DriftMethod",
    "EndpointProps",
    "Engine",
    "ExistingEndpoint",
    "Facet",
    "FeatureOverride",
    "ICapturedEndpoint",
    "JobCompute",
    "JobNetwork",
    "ModelDashboard",
    "ModelMonitor",
    "ModelQualityAlarmOptions",
    "ModelQualityMonitor",
    "ModelQualityProps",
    "ModelQualitySettings",
    "MonitorAlarms",
    "MonitorProps",
    "MonitorSettings",
    "MonitoringBucket",
    "MonitoringPrefixes",
    "NotificationProps",
    "Notifications",
    "ProblemType",
    "ProductionVariant",
    "QualityThreshold",
    "RetrainingProps",
    "RetrainingTrigger",
    "ScaleOut",
    "Schedule",
    "SparkArchitecture",
    "StorageProps",
    "analysis_config",
    "builtin_image_uri",
    "quality_metric_operator",
]
__version__ = "0.1.0"
