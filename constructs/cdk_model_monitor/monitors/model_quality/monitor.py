"""Model-quality monitoring: predictions joined with late ground-truth labels, scored against a baseline."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import CfnResource, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from constructs import Construct

from ... import monitor_types
from ...alarm_factory import AlarmOptions, CreatedAlarm, MonitorAlarms, own_options
from ...baseline import Baseline, BaselineKind, read_baseline_directory
from ...batch import BatchTransformSource
from ...bundled import analyzer_module
from ...endpoint import CaptureMode, ICapturedEndpoint
from ...engines.protocol import SparkArgument
from ...errors import ConfigurationError
from ...images import AnalyzerImage, BuiltinImage
from ...job import Engine, JobCompute, JobNetwork
from ...scale_out import ScaleOut
from ...schedule import Schedule, iso_offset
from ...storage import MonitoringBucket
from ..base import LabelledMonitorBase, MonitorKind, env_text
from ..settings import DEFAULT_GROUND_TRUTH_LOOKBACK, MonitorTarget, from_arguments
from . import dashboard, native
from .alarms import ModelQualityAlarmOptions, add_health_alarms
from .settings import ModelQualitySettings, ProblemType

MODEL_QUALITY = MonitorKind(names=monitor_types.MODEL_QUALITY, builtin_image=BuiltinImage.MODEL_MONITOR,
                            baseline_kind=BaselineKind.MODEL_QUALITY, ground_truth=True,
                            reads_capture=(CaptureMode.OUTPUT,))  # predictions, joined with labels
DEFAULT_PROBABILITY_THRESHOLD = 0.5


# The comparison operators of a constraint / alarm that flags a decay of each published metric
# (contract §7, §8): a violation is ``value <op> threshold``. Error rates and regression errors get
# worse when they grow; everything else (scores, rates of correct answers, R2) when it falls. The
# table is the analyzer's own (``model_monitor_analyzer.constraint_rules``), which it suggests its
# constraints from.
_rules = analyzer_module("constraint_rules")
LESS = _rules.LESS_THAN
GREATER = _rules.GREATER_THAN
QUALITY_METRICS: Mapping[ProblemType, Mapping[str, str]] = {
    problem: dict(_rules.QUALITY_METRIC_DIRECTIONS[problem.value]) for problem in ProblemType}
_ALARM_OPERATORS = {LESS: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    GREATER: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD}


def quality_metric_operator(problem_type: ProblemType, metric: str) -> str:
    """``LessThanThreshold`` when a lower ``metric`` is worse, ``GreaterThanThreshold`` when a higher one
    is (error rates, regression errors); KeyError for a metric ``problem_type`` does not publish."""
    return QUALITY_METRICS[problem_type][metric]


class ModelQualityMonitor(LabelledMonitorBase):
    """Scores each window's predictions against the ground-truth labels that arrived for them and
    compares the scores with a model-quality baseline (``constraints.json`` of
    ``model-monitor-analyzer baseline --type model-quality``).

    Every run writes statistics.json, constraints.json, constraint_violations.json and the merged
    records (``merge/``) under ``<reports>/model-quality/<endpoint>/<schedule>/yyyy/mm/dd/HH/`` and
    publishes the built-in's metrics (``accuracy``, ``f1``, ``auc``, ``rmse``, ...: see
    ``QUALITY_METRICS``) to ``aws/sagemaker/Endpoints/model-metrics`` with the Endpoint and
    MonitoringSchedule dimensions.

    **Ground truth.** Label producers put SageMaker ground-truth records (contract §2.1) under
    ``ground_truth_s3_uri`` = ``s3://<monitoring bucket>/ground-truth/<endpoint>/yyyy/mm/dd/HH/*.jsonl``
    (HH = upload hour, UTC), e.g. with ``model-monitor-analyzer put-ground-truth --s3-uri ...``;
    ``grant_write_ground_truth(role)`` lets them. The record's ``eventId`` is the request's
    ``InferenceId`` (or the capture's ``eventId``).

    **Windows (standalone engine, the default).** A run at ``t`` with the schedule's window
    ``[t-start, t-end)`` takes the labels uploaded in ``[t-start, t-end)`` and joins them with the captures
    of ``[t-start-ground_truth_lookback, t-end)``, so every label is scored once, in the window it
    arrived in, as long as it arrives within ``ground_truth_lookback`` of its inference. The planner
    lists both and writes a manifest for each; the labels are the job's second input, at
    ``/opt/ml/processing/groundtruth``. Captures but no label in the window: ``NoData``, no job. The
    metrics' timestamp is the label window's start.

    **Native engine** (``Engine.MODEL_MONITOR``): an ``AWS::SageMaker::ModelQualityJobDefinition`` with
    ``GroundTruthS3Input`` = ``ground_truth_s3_uri``, the problem type and attributes, and
    ``StartTimeOffset`` = -(start + ground_truth_lookback) (``EndTimeOffset`` = -end when the window
    ends before ``t``); SageMaker runs its merge job, then the analyzer. With
    ``AnalyzerImage.builtin()`` that is SageMaker's own analyzer, as the SDK deploys it. With our
    analyzer image (the default) the same typed definition carries our ``ImageUri`` (plus
    ``analysis_type=MODEL_QUALITY`` and ``baseline_constraints``), because the schedule's embedded job definition has no
    ground-truth input: our analyzer reads SageMaker's merged records (``sagemakerMergeJson``).
    Whether SageMaker accepts a non-AWS image in a typed definition is **unverified** (no account
    to try it; the schemas do not restrict ``ImageUri``); if it refuses, use the standalone engine.
    How the built-in merge pairs label hours with the offset capture window is SageMaker's (also
    unverified here).

    :param problem_type: ``ProblemType.BINARY_CLASSIFICATION``, ``MULTICLASS_CLASSIFICATION`` or ``REGRESSION``.
    :param inference_attribute: where the prediction is in the captured output: a 0-based CSV index as
        text (``"0"``) or a JMESPath for JSON (``"predicted_label"``). Optional for binary models with a
        ``probability_attribute`` (the prediction is then ``probability > threshold``).
    :param probability_attribute: binary only: index or JMESPath of the positive class's probability
        (for the AUC and curves, and to derive the prediction). Default: none.
    :param probability_threshold: binary only, with ``probability_attribute``: the positive class is
        predicted when probability > threshold. Default 0.5 when a probability attribute is given.
    :param positive_label: binary only: the label value of the positive class when labels are not
        0/1 (e.g. ``"yes"``). Default: 1/true.
    :param ground_truth_lookback: how long after its inference a label may arrive and still be
        scored; the captures of that period are read with each window. Whole hours (whole minutes
        for sub-hourly schedules). Default 1 day; ``Duration.hours(0)`` pairs labels with captures
        of the same hours only.
    :param baseline: ``Baseline.from_directory(...)`` (a folder with the model-quality constraints.json)
        or ``Baseline.from_s3(None, "s3://.../constraints.json")``.
    :param endpoint: a ``CapturedEndpoint`` or ``CapturedEndpoint.from_endpoint_attributes(...)`` (then with
        ``storage``); or ``endpoint_name`` + ``capture_s3_uri`` + ``storage``.
    :param image: default our analyzer; ``AnalyzerImage.builtin()`` (native engine only) for SageMaker's.
    :param schedule, engine, variant, compute, network, environment, schedule_name, capture_modes,
        asset_kms_key, scale_out, batch_source: as for ``DataQualityMonitor`` (the endpoint must capture the output). SageMaker advises at most 30 minutes of ``compute.max_runtime`` for
        hourly native schedules (its merge job shares the time).
    """

    def __init__(self, scope: Construct, id: str, *, problem_type: ProblemType, inference_attribute: str | None = None,
                 probability_attribute: str | None = None, probability_threshold: float | None = None,
                 positive_label: str | None = None,
                 ground_truth_lookback: Duration = DEFAULT_GROUND_TRUTH_LOOKBACK,
                 baseline: Baseline, endpoint: ICapturedEndpoint | None = None,
                 endpoint_name: str | None = None, capture_s3_uri: str | None = None,
                 capture_key: kms.IKey | None = None, capture_modes: Sequence[CaptureMode] | None = None,
                 variant: str | None = None, storage: MonitoringBucket | None = None,
                 schedule: Schedule | None = None, engine: Engine = Engine.STANDALONE,
                 image: AnalyzerImage | None = None, compute: JobCompute | None = None,
                 network: JobNetwork | None = None, environment: Mapping[str, str] | None = None,
                 schedule_name: str | None = None, asset_kms_key: kms.IKey | None = None,
                 scale_out: ScaleOut | None = None,
                 batch_source: BatchTransformSource | None = None) -> None:
        self.problem_type = problem_type
        self.inference_attribute = inference_attribute
        self.probability_attribute = probability_attribute
        self.probability_threshold = probability_threshold
        self.positive_label = positive_label
        super().__init__(scope, id, kind=MODEL_QUALITY, capture_lookback=ground_truth_lookback, target=from_arguments(MonitorTarget, locals()),
                         settings=from_arguments(ModelQualitySettings, locals()))

    # -- metrics -----------------------------------------------------------------------------

    @property
    def quality_metric_names(self) -> tuple[str, ...]:
        """The scalar metrics the analyzer publishes for this problem type."""
        return tuple(QUALITY_METRICS[self.problem_type])

    def metric_quality(self, name: str, *, statistic: str = "Average", period: Duration | None = None) -> cloudwatch.Metric:
        """The model-quality metric ``name`` (e.g. ``accuracy``, ``f1``, ``auc``, ``rmse``) of each window."""
        if name not in QUALITY_METRICS[self.problem_type]:
            raise ConfigurationError(self, "metric", name, f"{self.problem_type.value} models publish "
                                     f"{', '.join(self.quality_metric_names)}.")
        return self.metric(name, statistic=statistic, period=period)

    @property
    def label_free_metric_names(self) -> tuple[str, ...]:
        """The verdicts the analyzer publishes on a window's predictions, labels or not, when the baseline keeps
        its labelled reference: ``estimated_<metric>`` (binary with a probability attribute, multiclass with one
        listing the per-class probabilities),
        ``prediction_drift`` (classifiers) and ``concept_shift`` (labelled windows); none with SageMaker's image."""
        if self.image_source.is_builtin:  # SageMaker's analyzer knows nothing of them
            return ()
        return tuple(_rules.label_free_verdicts(self.problem_type.value,
                                                scores=self.probability_attribute is not None))

    def metric_estimated_quality(self, name: str, *, statistic: str = "Average",
                                 period: Duration | None = None) -> cloudwatch.Metric:
        """The metric ``name`` estimated without labels (``estimated_accuracy``, ``estimated_precision``,
        ``estimated_recall``, ``estimated_f1``, ``estimated_auc``) of each window."""
        estimated = [n for n in self.label_free_metric_names if n in _rules.ESTIMATED_QUALITY_METRICS]
        if name not in estimated:
            raise ConfigurationError(self, "metric", name, f"This monitor publishes {', '.join(estimated)}"
                                     if estimated else "Estimates need a BinaryClassification or "
                                     "MulticlassClassification monitor with a probability_attribute.")
        return self.metric(name, statistic=statistic, period=period)

    def metric_quality_violation(self, name: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 when the analyzer judged the metric ``name`` worse than its threshold by more than chance at the
        window's size, else 0 (baselines asking for the sample-size-aware comparison); also the label-free
        verdicts (``label_free_metric_names``)."""
        if name not in QUALITY_METRICS[self.problem_type] and name not in self.label_free_metric_names:
            raise ConfigurationError(self, "metric", name, f"{self.problem_type.value} models publish "
                                     f"{', '.join((*self.quality_metric_names, *self.label_free_metric_names))}.")
        return self.metric(f"quality_violation_{name}", statistic="Maximum", period=period)

    def quality_alarm_operator(self, name: str) -> cloudwatch.ComparisonOperator:
        """The comparison that flags a decay of ``name``: LESS_THAN_THRESHOLD for scores,
        GREATER_THAN_THRESHOLD for error rates and regression errors."""
        if name not in QUALITY_METRICS[self.problem_type]:
            raise ConfigurationError(self, "metric", name, f"{self.problem_type.value} models publish "
                                     f"{', '.join(self.quality_metric_names)}.")
        return _ALARM_OPERATORS[quality_metric_operator(self.problem_type, name)]

    # -- what the engines need ---------------------------------------------------------------

    def endpoint_attributes(self) -> dict[str, str | float]:
        """``InferenceAttribute``, ``ProbabilityAttribute``, ``ProbabilityThresholdAttribute`` of a typed
        job definition's endpoint input (snake case, as the CDK properties)."""
        attributes: dict[str, str | float] = {}
        if self.inference_attribute is not None:
            attributes["inference_attribute"] = self.inference_attribute
        if self.probability_attribute is not None:
            attributes["probability_attribute"] = self.probability_attribute
        if self.probability_threshold is not None:
            attributes["probability_threshold_attribute"] = self.probability_threshold
        return attributes

    def dashboard_widgets(self, alarms: Sequence[CreatedAlarm], *,
                          features: Sequence[str] | None) -> list[cloudwatch.IWidget]:
        """The model-quality metrics the alarms watch (``features`` does not apply)."""
        return dashboard.dashboard_widgets(self.kind.name, alarms)

    alarm_options_type = ModelQualityAlarmOptions

    def add_health_alarms(self, alarms: MonitorAlarms, *, baseline: Baseline | None,
                          options: AlarmOptions | None) -> list[CreatedAlarm]:
        """One alarm per model-quality metric, in the metric's bad direction (``ModelQualityAlarmOptions``)."""
        return add_health_alarms(alarms, self, baseline=baseline,
                                 options=own_options(alarms, options, ModelQualityAlarmOptions))

    def native_job_definition(self, scope: Construct, *, key_arn: str | None) -> CfnResource:
        return native.job_definition(scope, self, key_arn=key_arn, problem_type=self.problem_type.value,
                                     labelled=self.labelled_endpoint_input(self.endpoint_attributes()))

    def analyzer_environment(self) -> dict[str, str]:
        """The built-in's model-quality environment (contract §2.3, §6.2), plus ``ground_truth_source``
        and ``ground_truth_lookback`` (our analyzer joins captures and labels itself)."""
        env = {**super().analyzer_environment(), "problem_type": self.problem_type.value,
               "ground_truth_lookback": iso_offset(self.capture_lookback, negative=False)}
        for key, value in self.endpoint_attributes().items():  # the env names are the API's, in snake case
            env[key] = env_text(value)
        if self.positive_label is not None:
            env["positive_label"] = str(self.positive_label)
        return {**env, **self.user_environment}

    def spark_type_arguments(self) -> list[SparkArgument]:
        """The constraints and the model's settings, as ``analyzer_environment`` gives them to the Processing job."""
        flags = {"inference_attribute": "--inference-attribute", "probability_attribute": "--probability-attribute",
                 "probability_threshold_attribute": "--probability-threshold"}
        arguments: list[SparkArgument] = [*super().spark_type_arguments(),
                                          "--constraints", self.baseline.constraints_s3_uri,
                                          "--problem-type", self.problem_type.value]
        for key, value in self.endpoint_attributes().items():
            arguments += [flags[key], env_text(value)]
        if self.positive_label is not None:
            arguments += ["--positive-label", str(self.positive_label)]
        return arguments

    # -- validation ----------------------------------------------------------------------------

    def _bind_kind(self) -> None:
        super()._bind_kind()
        path = getattr(self.baseline_source, "path", None)
        if not isinstance(path, str):
            return  # an S3 or deploy-time baseline: its sections are known at run time only
        constraints = read_baseline_directory(path).constraints
        document = json.loads(Path(constraints).read_text(encoding="utf-8")) if constraints else {}
        held = [kind for kind, key in _rules.QUALITY_CONSTRAINTS_SECTIONS.items() if isinstance(document.get(key), dict)]
        if held and self.problem_type.value not in held:
            raise ConfigurationError(self, "problem_type", self.problem_type,
                                     f"The baseline at {path} holds {' and '.join(held)} constraints: use that "
                                     "problem type, or a baseline made for this one.")

    def _validate_kind(self) -> None:
        super()._validate_kind()
        if not isinstance(self.problem_type, ProblemType):
            raise ConfigurationError(self, "problem_type", self.problem_type,
                                     f"Use one of {', '.join(f'ProblemType.{p.name}' for p in ProblemType)}.")
        for prop in ("inference_attribute", "probability_attribute"):
            value = getattr(self, prop)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, prop, str(value))  # a CSV column index
            elif value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigurationError(self, prop, value, "Use a 0-based CSV index as text ('0') or a JMESPath "
                                         "into the JSON output ('predictions[0].score').")
        kind = self.problem_type
        binary = kind is ProblemType.BINARY_CLASSIFICATION
        if kind is ProblemType.REGRESSION and self.probability_attribute is not None:
            raise ConfigurationError(self, "probability_attribute", self.probability_attribute,
                                     "Regression models have no class probability: remove it.")
        if self.probability_threshold is not None and not binary:
            raise ConfigurationError(self, "probability_threshold", self.probability_threshold,
                                     f"A probability threshold only applies to binary classification, not "
                                     f"{kind.value}: remove it.")
        if self.positive_label is not None and not binary:
            raise ConfigurationError(self, "positive_label", self.positive_label,
                                     f"A positive label only applies to binary classification, not {kind.value}.")
        threshold = self.probability_threshold
        if threshold is not None:
            if self.probability_attribute is None:
                raise ConfigurationError(self, "probability_threshold", threshold,
                                         "A threshold applies to probabilities: give probability_attribute too.")
            if not Token.is_unresolved(threshold):
                if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
                        not math.isfinite(threshold) or not 0 <= threshold <= 1:
                    raise ConfigurationError(self, "probability_threshold", threshold,
                                             "Use a probability from 0 to 1, e.g. 0.5.")
                self.probability_threshold = float(threshold)
        elif binary and self.probability_attribute is not None:
            self.probability_threshold = DEFAULT_PROBABILITY_THRESHOLD
        if self.inference_attribute is None and self.probability_attribute is None:
            raise ConfigurationError(self, "inference_attribute", None,
                                     "Say where the prediction is in the captured output: inference_attribute='0' "
                                     "(CSV column) or a JMESPath such as 'predicted_label'"
                                     + (" (or probability_attribute for a binary model)." if binary else "."))
        if self.inference_attribute is None and not binary:
            raise ConfigurationError(self, "inference_attribute", None,
                                     f"{kind.value} models need the predicted value: inference_attribute='0' or a "
                                     "JMESPath.")
