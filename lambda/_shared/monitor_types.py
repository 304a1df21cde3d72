"""The monitor types and every spelling of their names: one table for the Lambda handlers and the constructs.

The constructs load this very file (``cdk_model_monitor.bundled.lambda_shared_module``), so a report folder,
a job's ``analysis_type``, a schedule's ``MonitoringType`` and a metric namespace come from one row and never
disagree. Standard library only (see ``_shared/__init__.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

ENDPOINT_METRICS_ROOT = "aws/sagemaker/Endpoints"
# Batch transform monitoring: the same folders under this root, dimension MonitoringSchedule only (contract §7).
BATCH_METRICS_ROOT = "aws/sagemaker/ModelMonitoring"


@dataclass(frozen=True, kw_only=True)
class MonitorTypeNames:
    """How one monitor type is spelled where each spelling is someone else's rule."""

    name: str
    """Report folders, job names, the status metrics' ``MonitorType`` dimension (``model-bias``)."""
    sagemaker_type: str
    """A SageMaker schedule's ``MonitoringType``, and ``AWS::SageMaker::<this>JobDefinition``."""
    metrics_folder: str
    """The last part of the analyzer's CloudWatch namespace, ``aws/sagemaker/<Endpoints|...>/<this>``."""
    short_name: str
    """The analyzer's ``baseline --type`` and the type's alarm category (``bias``)."""
    analysis_type: str | None = None
    """The analyzer's ``analysis_type`` environment variable; None for the analyzer's default (data quality)."""

    @property
    def endpoint_namespace(self) -> str:
        """The CloudWatch namespace of the analyzer's metrics for an endpoint."""
        return f"{ENDPOINT_METRICS_ROOT}/{self.metrics_folder}"

    @property
    def batch_namespace(self) -> str:
        """The CloudWatch namespace of the analyzer's metrics for a batch transform job."""
        return f"{BATCH_METRICS_ROOT}/{self.metrics_folder}"


DATA_QUALITY = MonitorTypeNames(name="data-quality", sagemaker_type="DataQuality", metrics_folder="data-metrics",
                                short_name="data-quality")
MODEL_QUALITY = MonitorTypeNames(name="model-quality", sagemaker_type="ModelQuality", metrics_folder="model-metrics",
                                 short_name="model-quality", analysis_type="MODEL_QUALITY")
MODEL_BIAS = MonitorTypeNames(name="model-bias", sagemaker_type="ModelBias", metrics_folder="bias-metrics",
                              short_name="bias", analysis_type="MODEL_BIAS")
# SageMaker's fourth type: the publisher accepts its metric lines; the project does not run it yet.
MODEL_EXPLAINABILITY = MonitorTypeNames(name="model-explainability", sagemaker_type="ModelExplainability",
                                        metrics_folder="explainability-metrics", short_name="explainability")

MONITOR_TYPES: dict[str, MonitorTypeNames] = {
    t.name: t for t in (DATA_QUALITY, MODEL_QUALITY, MODEL_BIAS, MODEL_EXPLAINABILITY)}
DEFAULT_MONITOR_TYPE = DATA_QUALITY.name
