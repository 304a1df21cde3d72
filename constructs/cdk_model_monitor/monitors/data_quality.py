"""Data-quality monitoring: schema, completeness, types, new categories and drift against a baseline."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .base import MonitorBase, MonitorKind

DATA_QUALITY = MonitorKind(name="data-quality", sagemaker_type="DataQuality",
                           endpoint_namespace="aws/sagemaker/Endpoints/data-metrics")


class DataQualityMonitor(MonitorBase):
    """Compares each window of captured traffic with a statistics + constraints baseline.

    Every run writes statistics.json, constraints.json and constraint_violations.json under
    ``<reports>/data-quality/<endpoint>/<schedule>/yyyy/mm/dd/HH/`` and publishes the built-in's
    metrics (``feature_baseline_drift_<f>``, ``feature_non_null_<f>``, ``feature_data_<f>``) to
    ``aws/sagemaker/Endpoints/data-metrics`` with the Endpoint and MonitoringSchedule dimensions.

    :param baseline: ``Baseline.from_directory(...)``, ``.from_s3(...)`` or ``.from_dataset(...)``.
    :param endpoint: the ``CapturedEndpoint`` to monitor; or ``endpoint_name`` + ``capture_s3_uri``
        (the endpoint's capture destination) + ``storage`` for an endpoint deployed elsewhere.
    :param variant: the production variant whose traffic is analysed. Default: the first one.
    :param schedule: default ``Schedule.hourly()`` (the previous hour, every hour).
    :param engine: default ``Engine.STANDALONE``; ``Engine.MODEL_MONITOR`` for a native schedule.
    :param image: default the project's analyzer (``AnalyzerImage.from_asset()``);
        ``AnalyzerImage.builtin()`` runs SageMaker's own analyzer (native engine only).
    :param compute: default ``JobCompute()`` (one ml.m5.xlarge, 20 GB, 1 hour at most).
    :param network: default ``JobNetwork()`` (no VPC, inter-container encryption on).
    :param environment: extra environment of the analyzer (e.g. ``record_preprocessor_script``).
    :param schedule_name: default a unique name derived from the construct path.
    """

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, kind=DATA_QUALITY, **kwargs)

    def metric_drift(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Distance between the window's and the baseline's distribution of ``feature``."""
        return self.metric(f"feature_baseline_drift_{feature}", statistic="Maximum", period=period)

    def metric_completeness(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Share of records of the window in which ``feature`` is present."""
        return self.metric(f"feature_non_null_{feature}", statistic="Minimum", period=period)

    def metric_feature(self, feature: str, *, statistic: str = "Average",
                       period: Duration | None = None) -> cloudwatch.Metric:
        """The values of a numeric ``feature`` in the window (a statistic set: Average, Minimum, ...)."""
        return self.metric(f"feature_data_{feature}", statistic=statistic, period=period)
