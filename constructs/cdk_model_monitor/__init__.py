"""cdk-model-monitor: production monitoring for SageMaker models, as AWS CDK v2 constructs."""

from . import _node  # noqa: F401  (must run before aws-cdk-lib starts Node)

from .endpoint import CapturedEndpoint, CaptureConfig, CaptureMode, ProductionVariant
from .errors import ConfigurationError
from .storage import MonitoringBucket, MonitoringPrefixes

__all__ = [
    "CaptureConfig",
    "CaptureMode",
    "CapturedEndpoint",
    "ConfigurationError",
    "MonitoringBucket",
    "MonitoringPrefixes",
    "ProductionVariant",
]
__version__ = "0.1.0"
