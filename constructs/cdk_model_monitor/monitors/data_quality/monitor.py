"""Data-quality monitoring: schema, completeness, types, new categories and drift against a baseline."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from constructs import Construct

from ... import monitor_types
from ...alarm_factory import AlarmOptions, CreatedAlarm, MonitorAlarms, own_options
from ...baseline import Baseline, BaselineKind
from ...batch import BatchTransformSource
from ...endpoint import CaptureMode, ICapturedEndpoint
from ...engines.protocol import SparkArgument
from ...errors import ConfigurationError
from ...images import AnalyzerImage
from ...job import Engine, JobCompute, JobNetwork
from ...scale_out import ScaleOut
from ...schedule import Schedule
from ...storage import MonitoringBucket
from ..base import MonitorBase, MonitorKind
from ..capture_columns import BaselineColumns, data_quality_capture_index_names
from ..settings import MonitorTarget, from_arguments
from . import dashboard, native
from .alarms import DataQualityAlarmOptions, add_health_alarms
from .settings import DataQualitySettings, DriftMethod, FeatureOverride

DATA_QUALITY = MonitorKind(names=monitor_types.DATA_QUALITY, baseline_kind=BaselineKind.DATA_QUALITY)


class DataQualityMonitor(MonitorBase):
    """Compares each window of captured traffic with a statistics + constraints baseline.

    Every run writes statistics.json, constraints.json and constraint_violations.json under
    ``<reports>/data-quality/<endpoint>/<schedule>/yyyy/mm/dd/HH/`` and publishes the built-in's
    metrics (``feature_baseline_drift_<f>``, ``feature_non_null_<f>``, ``feature_data_<f>``) to
    ``aws/sagemaker/Endpoints/data-metrics`` with the Endpoint and MonitoringSchedule dimensions.

    :param baseline: ``Baseline.from_directory(...)``, ``.from_s3(...)`` or ``.from_dataset(...)``.
    :param endpoint: the endpoint to monitor: a ``CapturedEndpoint``, or
        ``CapturedEndpoint.from_endpoint_attributes(...)`` (then with ``storage``) for one deployed
        elsewhere; or, the same, ``endpoint_name`` + ``capture_s3_uri`` (the endpoint's capture
        destination) + ``capture_key`` + ``storage``.
    :param variant: the production variant whose traffic is analysed. Default: the first one.
    :param schedule: default ``Schedule.hourly()`` (the previous hour, every hour).
    :param engine: default ``Engine.STANDALONE``; ``Engine.MODEL_MONITOR`` for a native schedule.
    :param image: default the project's analyzer (``AnalyzerImage.from_asset()``);
        ``AnalyzerImage.builtin()`` runs SageMaker's own analyzer (native engine only).
    :param compute: default ``JobCompute()`` (one ml.m5.xlarge, 20 GB, 1 hour at most).
    :param network: default ``JobNetwork()`` (no VPC, inter-container encryption on).
    :param environment: extra environment of the analyzer (e.g. ``record_preprocessor_script``).
    :param schedule_name: default a unique name derived from the construct path.
    :param asset_kms_key: the KMS key of the CDK bootstrap's file-asset bucket, when it was bootstrapped with
        ``cdk bootstrap --bootstrap-kms-key-id <key>``: the job role may decrypt the assets it reads with it
        (a ``Baseline.from_directory`` baseline's files, the bias monitor's analysis config). Default: none
        (the default bootstrap encrypts its assets with an AWS managed key, which needs no grant).
    :param scale_out: ``ScaleOut(...)`` runs windows of at least ``threshold_bytes`` (or all, ``always=True``) with
        the analyzer's Spark runner on EMR Serverless (standalone engine only). Default: none.
    :param feature_overrides: per-feature settings on top of the baseline's constraints, e.g.
        ``{"day_minutes": FeatureOverride(drift_threshold=0.2)}``. Applied by the project's analyzer
        at run time (not by SageMaker's built-in image, whose overrides live in constraints.json).
    :param baseline_columns: what the baseline's columns are: ``BaselineColumns.FEATURES`` (the
        endpoint's input columns; jobs read the captured input only) or
        ``BaselineColumns.OUTPUT_AND_FEATURES`` (output column(s) first, then the input). Default:
        decided at synth from the capture modes and the baseline: the input only when the endpoint
        captures only its input; input and output for the project's analyzer, which matches them to the
        baseline's features at run time. SageMaker's built-in image maps columns by position, so with it
        an endpoint capturing input and output needs this setting (unless the baseline has one feature).
    :param capture_modes: with ``endpoint_name``: what that endpoint captures, if you know it.
        Default: unknown (an ``endpoint`` says it itself).
    :param batch_source: instead of an endpoint, batch transform jobs: ``BatchTransformSource(capture=...,
        dataset_format=...)`` (see ``cdk_model_monitor.batch``). Metrics then go to
        ``aws/sagemaker/ModelMonitoring/data-metrics`` with the MonitoringSchedule dimension only, and the schedule
        defaults to ``Schedule.daily()`` (with ``BatchTrigger.JOB_COMPLETED`` it only sets the heartbeat and the
        alarms' periods: each completed job is a window). Default: none.
    :param drift_method: judge every feature's drift by this method, whatever the baseline's
        constraints say (per-feature ``FeatureOverride(method=...)`` still win). Default: as the
        constraints say: ``auto`` in the project's baselines, ``SAGEMAKER`` in a file without the key.
    """

    def __init__(self, scope: Construct, id: str, *, baseline: Baseline, endpoint: ICapturedEndpoint | None = None,
                 endpoint_name: str | None = None, capture_s3_uri: str | None = None,
                 capture_key: kms.IKey | None = None, capture_modes: Sequence[CaptureMode] | None = None,
                 variant: str | None = None, storage: MonitoringBucket | None = None,
                 schedule: Schedule | None = None, engine: Engine = Engine.STANDALONE,
                 image: AnalyzerImage | None = None, compute: JobCompute | None = None,
                 network: JobNetwork | None = None, environment: Mapping[str, str] | None = None,
                 schedule_name: str | None = None, asset_kms_key: kms.IKey | None = None,
                 scale_out: ScaleOut | None = None,
                 batch_source: BatchTransformSource | None = None,
                 feature_overrides: Mapping[str, FeatureOverride] | None = None,
                 baseline_columns: BaselineColumns | None = None,
                 drift_method: DriftMethod | None = None) -> None:
        self.baseline_columns = baseline_columns
        self.feature_overrides = dict(feature_overrides or {})
        if drift_method is not None and not isinstance(drift_method, DriftMethod):
            raise ConfigurationError(scope, f"{id}.drift_method", drift_method,
                                     f"Use a DriftMethod, e.g. DriftMethod.AUTO: {[m.name for m in DriftMethod]}.")
        self.drift_method = drift_method
        if drift_method is not None:
            if image is not None and image.is_builtin:
                raise ConfigurationError(scope, f"{id}.drift_method", drift_method,
                                         "SageMaker's built-in analyzer judges drift by its own rule only.")
            environment = {**(environment or {}), "drift_method": drift_method.value}
        if self.feature_overrides:
            if image is not None and image.is_builtin:
                raise ConfigurationError(scope, f"{id}.feature_overrides", sorted(self.feature_overrides),
                                         "SageMaker's built-in analyzer reads overrides from constraints.json only: put "
                                         "them under the features' monitoring_config_overrides there.")
            for name, override in self.feature_overrides.items():
                threshold = override.drift_threshold
                if not name or (threshold is not None and not (isinstance(threshold, (int, float))
                                                               and math.isfinite(threshold) and threshold > 0)):
                    raise ConfigurationError(scope, f"{id}.feature_overrides[{name!r}]", override,
                                             "Name a baseline feature and give a finite drift threshold above 0.")
                if override.method is not None and not isinstance(override.method, DriftMethod):
                    raise ConfigurationError(scope, f"{id}.feature_overrides[{name!r}].method", override.method,
                                             "Use a DriftMethod, e.g. DriftMethod.PSI.")
            environment = {**(environment or {}), "feature_overrides": json.dumps(
                {name: o.to_config() for name, o in sorted(self.feature_overrides.items())},
                sort_keys=True, separators=(",", ":"))}
        super().__init__(scope, id, kind=DATA_QUALITY, target=from_arguments(MonitorTarget, locals()),
                         settings=from_arguments(DataQualitySettings, locals()))

    def dashboard_widgets(self, alarms: Sequence[CreatedAlarm], *,
                          features: Sequence[str] | None) -> list[cloudwatch.IWidget]:
        """Drift and completeness per feature (``features``, default: those the alarms watch)."""
        return dashboard.dashboard_widgets(self, alarms, features=features)

    alarm_options_type = DataQualityAlarmOptions

    def add_health_alarms(self, alarms: MonitorAlarms, *, baseline: Baseline | None,
                          options: AlarmOptions | None) -> list[CreatedAlarm]:
        """Per-feature drift and completeness alarms (``DataQualityAlarmOptions``)."""
        return add_health_alarms(alarms, self, baseline=baseline,
                                 options=own_options(alarms, options, DataQualityAlarmOptions))

    def native_job_definition(self, scope: Construct, *, key_arn: str | None) -> CfnResource:
        return native.job_definition(scope, self, key_arn=key_arn)

    spark_environment_flags = {"feature_overrides": "--feature-overrides", "drift_method": "--drift-method"}

    def spark_type_arguments(self) -> list[SparkArgument]:
        """The baseline files and the payloads read, as ``baseline_*`` and ``dataset_format`` give them to the
        Processing job."""
        statistics = self.baseline.statistics_s3_uri
        return [*(["--statistics", statistics] if statistics is not None else []),
                "--constraints", self.baseline.constraints_s3_uri,
                "--capture-index-names", *self.capture_index_names]

    def _choose_capture_index_names(self) -> tuple[str, ...]:
        return data_quality_capture_index_names(self, modes=self.capture_modes, builtin=self.image_source.is_builtin,
                                                features=self.baseline.features, columns=self.baseline_columns)

    def metric_drift(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Distance between the window's and the baseline's distribution of ``feature``."""
        return self.metric(f"feature_baseline_drift_{feature}", statistic="Maximum", period=period)

    def metric_drift_violation(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 when the analyzer's verdict on ``feature``'s drift is a violation, else 0 (features judged by a
        registry method: the verdict weighs the window's size and every other feature)."""
        return self.metric(f"feature_drift_violation_{feature}", statistic="Maximum", period=period)

    def metric_drift_share(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """The share of the compared features whose drift is a violation (registry methods)."""
        return self.metric("dataset_drift_share", statistic="Maximum", period=period)

    @property
    def drift_method_name(self) -> str | None:
        """The monitor's ``drift_method`` in the analyzer's spelling, None when the constraints decide."""
        return None if self.drift_method is None else self.drift_method.value

    def metric_completeness(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Share of records of the window in which ``feature`` is present."""
        return self.metric(f"feature_non_null_{feature}", statistic="Minimum", period=period)

    def metric_feature(self, feature: str, *, statistic: str = "Average",
                       period: Duration | None = None) -> cloudwatch.Metric:
        """The values of a numeric ``feature`` in the window (a statistic set: Average, Minimum, ...)."""
        return self.metric(f"feature_data_{feature}", statistic=statistic, period=period)
