"""cdk-model-monitor: production monitoring for SageMaker models, as AWS CDK v2 constructs."""

from . import _node  # noqa: F401  (must run before aws-cdk-lib starts Node)
from .baseline import Baseline, DatasetFormat
from .endpoint import CapturedEndpoint, CaptureConfig, CaptureMode, ProductionVariant
from .errors import ConfigurationError
from .images import AnalyzerImage, BuiltinImage
from .job import Engine, JobCompute, JobNetwork
from .monitors.data_quality import DataQualityMonitor
from .schedule import DataWindow, Schedule
from .storage import MonitoringBucket, MonitoringPrefixes

__all__ = [
    "AnalyzerImage",
    "Baseline",
    "BuiltinImage",
    "CaptureConfig",
    "CaptureMode",
    "CapturedEndpoint",
    "ConfigurationError",
    "DataQualityMonitor",
    "DataWindow",
    "DatasetFormat",
    "Engine",
    "JobCompute",
    "JobNetwork",
    "MonitoringBucket",
    "MonitoringPrefixes",
    "ProductionVariant",
    "Schedule",
]
__version__ = "0.1.0"
