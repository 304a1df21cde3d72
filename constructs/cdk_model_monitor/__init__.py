"""cdk-model-monitor: production monitoring for SageMaker models, as AWS CDK v2 constructs."""

from . import _node  # noqa: F401  (must run before aws-cdk-lib starts Node)
from .baseline import Baseline, BaselineKind, BoundBaseline, DatasetFormat
from .endpoint import CaptureConfig, CapturedEndpoint, CaptureMode, ProductionVariant
from .errors import ConfigurationError
from .images import AnalyzerImage, BoundImage, BuiltinImage, builtin_image_uri
from .job import Engine, JobCompute, JobNetwork
from .monitors.data_quality import DataQualityMonitor, FeatureOverride
from .schedule import DataWindow, Schedule
from .storage import MonitoringBucket, MonitoringPrefixes

__all__ = [
    "AnalyzerImage",
    "Baseline",
    "BaselineKind",
    "BoundBaseline",
    "BoundImage",
    "BuiltinImage",
    "CaptureConfig",
    "CaptureMode",
    "CapturedEndpoint",
    "ConfigurationError",
    "DataQualityMonitor",
    "DataWindow",
    "DatasetFormat",
    "Engine",
    "FeatureOverride",
    "JobCompute",
    "JobNetwork",
    "MonitoringBucket",
    "MonitoringPrefixes",
    "ProductionVariant",
    "Schedule",
    "builtin_image_uri",
]
__version__ = "0.1.0"
