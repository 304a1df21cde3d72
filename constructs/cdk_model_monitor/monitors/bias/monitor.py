"""Bias-drift monitoring: Clarify's bias metrics per window of labelled predictions, against a baseline."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import CfnResource, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from ... import monitor_types
from ...alarm_factory import AlarmOptions, CreatedAlarm, MonitorAlarms, own_options
from ...baseline import Baseline, BaselineKind, json_document_file, read_baseline_directory
from ...batch import BatchTransformSource
from ...bundled import lambda_shared_module
from ...endpoint import CaptureMode, ICapturedEndpoint
from ...engines.protocol import SparkArgument
from ...errors import ConfigurationError
from ...images import AnalyzerImage, BuiltinImage
from ...job import Engine, JobCompute, JobNetwork
from ...scale_out import ScaleOut
from ...schedule import Schedule, iso_offset
from ...storage import MonitoringBucket, object_basename
from ..base import (
    JobInput,
    LabelledMonitorBase,
    MonitorKind,
    env_text,
    grant_object_read,
)
from ..settings import DEFAULT_GROUND_TRUTH_LOOKBACK, MonitorTarget, from_arguments
from . import dashboard, native
from .alarms import BiasAlarmOptions, add_health_alarms
from .settings import BiasSettings, ColumnRef, Facet, Value, group_name

MODEL_BIAS = MonitorKind(names=monitor_types.MODEL_BIAS, builtin_image=BuiltinImage.CLARIFY,
                         baseline_kind=BaselineKind.BIAS, ground_truth=True,
                         # features from the input, predicted labels from the output (post-training metrics)
                         reads_capture=(CaptureMode.INPUT, CaptureMode.OUTPUT))
ANALYSIS_CONFIG_VERSION = "1.0"
# Where the standalone job finds the config (Clarify's processing location, the analyzer's default folder).
ANALYSIS_CONFIG_LOCAL_DIR = "/opt/ml/processing/input/config"
# Clarify's metric short names per stage (contract §9.3) and the BiasStage dimension of each (§7).
PRE_TRAINING_METRICS = ("CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD")
POST_TRAINING_METRICS = ("AD", "CDDPL", "DAR", "DCA", "DCR", "DI", "DPPL", "DRR", "FT", "GE", "RD", "SD", "TE")
PRE_TRAINING_STAGE = "Pre-training"
POST_TRAINING_STAGE = "Post-Training"
_ALIASES = {"DCAcc": "DCA"}  # the docs' spelling; analysis.json and the metrics use DCA

def analysis_config(*, label: ColumnRef, label_values_or_threshold: Sequence[Value], facets: Sequence[Facet],
                    group_variable: ColumnRef | None = None, headers: Sequence[str] | None = None,
                    pre_training_methods: Sequence[str] | None = None,
                    post_training_methods: Sequence[str] | None = None) -> dict[str, object]:
    """Clarify's bias ``analysis_config.json`` (contract §9.1) for these settings, unvalidated (the monitor
    validates). Write it with ``json.dumps`` to baseline with ``model-monitor-analyzer baseline --type bias
    --analysis-config FILE`` (add ``dataset_type``, and ``predicted_label`` for a dataset with predictions)."""
    document: dict[str, object] = {"version": ANALYSIS_CONFIG_VERSION}
    if headers is not None:
        document["headers"] = list(headers)
    document["label"] = label
    document["label_values_or_threshold"] = list(label_values_or_threshold)
    document["facet"] = [facet.to_config() for facet in facets]
    if group_variable is not None:
        document["group_variable"] = group_variable
    if pre_training_methods is not None or post_training_methods is not None:
        methods: dict[str, object] = {}
        if pre_training_methods is not None:
            methods["pre_training_bias"] = {"methods": list(pre_training_methods)}
        if post_training_methods is not None:
            methods["post_training_bias"] = {"methods": list(post_training_methods)}
        document["methods"] = methods
    return document


class BiasDriftMonitor(LabelledMonitorBase):
    """Computes Clarify's pre- and post-training bias metrics for each window of predictions joined with
    their ground-truth labels, and flags metrics that moved farther from neutral than in the baseline
    (Clarify's bias-drift rule, contract §9.4).

    The analysis config is given as typed properties (label, facets, thresholds), validated at synth,
    rendered to Clarify's ``analysis_config.json`` (``analysis_config`` property) and shipped as a file
    asset. The baseline is a Clarify ``analysis.json`` (``model-monitor-analyzer baseline --type bias``,
    or a Clarify job's): ``Baseline.from_directory(folder)``, ``Baseline.from_s3(None, uri)`` or
    ``Baseline.from_dataset(uri, environment={"analysis_type": "MODEL_BIAS"}, analysis_config=...)``.

    Every run writes analysis.json and constraint_violations.json under
    ``<reports>/model-bias/<endpoint>/<schedule>/yyyy/mm/dd/HH/`` and publishes ``bias_metric_<NAME>``
    to ``aws/sagemaker/Endpoints/bias-metrics`` with the Endpoint, MonitoringSchedule, BiasStage, Label,
    LabelValue, Facet and FacetValue dimensions (``metric_bias``).

    **Ground truth** as for ``ModelQualityMonitor``: ``ground_truth_s3_uri`` (shared by the label-based
    monitors of an endpoint), ``grant_write_ground_truth``. Labels may be CSV (``"1"``) or, as Clarify
    accepts, JSON (``{"label": 1}``). The standalone job joins the labels uploaded in the schedule's
    window with the captures of that window and of ``ground_truth_lookback`` before it.

    **Native engine**: an ``AWS::SageMaker::ModelBiasJobDefinition`` with ``ConfigUri`` = the config
    asset, ``GroundTruthS3Input`` and the endpoint input's attributes and window offsets. With
    ``AnalyzerImage.builtin(BuiltinImage.CLARIFY)`` it runs SageMaker Clarify, as the SDK deploys it
    (Clarify documents bias monitoring as closed to new customers). With our analyzer image (the
    default) the same typed definition carries our ``ImageUri``, ``analysis_type=MODEL_BIAS`` and
    ``baseline_constraints`` (the constraints object's folder and name); **unverified** without an account:
    whether SageMaker accepts a non-AWS image there, and where it puts the config, which keeps the asset's
    name (``<hash>.json``): our analyzer finds it by its content in Clarify's processing location
    (``/opt/ml/processing/input/config``) or in any input of one JSON object the job lists.
    Whether Clarify's monitor honours ``methods`` is unconfirmed (our analyzer does).

    :param label: the label's name (or 0-based index into ``headers``).
    :param label_values_or_threshold: the positive label values (``[1]``), or for a numeric label one
        exclusive lower bound.
    :param facets: the sensitive columns, ``[Facet("senior", [1])]``.
    :param group_variable: the column of subgroups for CDDL / CDDPL. Default: none (those metrics are null).
    :param headers: column names of the features (and label) as sent to the endpoint, for CSV
        requests. Default: none (JSON requests name their features).
    :param probability_threshold: a score above it predicts the positive label. Default: Clarify's 0.5.
    :param features_attribute: JMESPath of the features in JSON requests (``FeaturesAttribute``).
    :param inference_attribute: index or JMESPath of the predicted label in the output.
    :param probability_attribute: index or JMESPath of the score in the output.
    :param pre_training_methods, post_training_methods: compute only these metrics (e.g. ``["CI", "DPL"]``).
        Default: all of each stage.
    :param ground_truth_lookback: how long after its inference a label may arrive and still be joined.
        Default: 1 day, as for model quality (labels arrive after their inferences: without a look-back a
        window joins only the labels of its own hour's inferences).
    :param drift_tolerance: a metric violates only when it is this much farther from neutral than in
        the baseline. Default 0, Clarify's rule, which around an unbiased baseline flags sampling noise
        in many windows; 0.1-0.2 keeps real movement (project analyzer only).
    :param baseline, endpoint, image, schedule, engine, variant, compute, network, environment,
        schedule_name, capture_modes, asset_kms_key, scale_out, batch_source: as for ``DataQualityMonitor`` (the endpoint must capture input and
        output); ``image=AnalyzerImage.builtin(BuiltinImage.CLARIFY)``
        for Clarify (native engine only).
    """

    def __init__(self, scope: Construct, id: str, *, label: ColumnRef, label_values_or_threshold: Sequence[Value],
                 facets: Sequence[Facet], group_variable: ColumnRef | None = None,
                 headers: Sequence[str] | None = None, probability_threshold: float | None = None,
                 features_attribute: str | None = None, inference_attribute: str | None = None,
                 probability_attribute: str | None = None, pre_training_methods: Sequence[str] | None = None,
                 post_training_methods: Sequence[str] | None = None,
                 ground_truth_lookback: Duration | None = DEFAULT_GROUND_TRUTH_LOOKBACK,
                 drift_tolerance: float = 0.0,
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
        self.label = label
        self.label_values_or_threshold = label_values_or_threshold
        self.facets = facets
        self.group_variable = group_variable
        self.headers = headers
        self.probability_threshold = probability_threshold
        self.features_attribute = features_attribute
        self.inference_attribute = inference_attribute
        self.probability_attribute = probability_attribute
        self.pre_training_methods = pre_training_methods
        self.post_training_methods = post_training_methods
        if isinstance(drift_tolerance, bool) or not isinstance(drift_tolerance, (int, float)) or \
                not 0 <= drift_tolerance < 10:
            raise ConfigurationError(scope, f"{id}.drift_tolerance", drift_tolerance,
                                     "Use a non-negative number, e.g. 0.1 (0 is Clarify's own rule).")
        self.drift_tolerance = float(drift_tolerance)
        super().__init__(scope, id, kind=MODEL_BIAS, capture_lookback=ground_truth_lookback, target=from_arguments(MonitorTarget, locals()),
                         settings=from_arguments(BiasSettings, locals()))

    # -- the analysis config -------------------------------------------------------------------

    @property
    def analysis_config(self) -> dict[str, object]:
        """Clarify's ``analysis_config.json`` of this monitor (a fresh dict)."""
        return analysis_config(label=self.label, label_values_or_threshold=self.label_values_or_threshold,
                               facets=self.facets, group_variable=self.group_variable, headers=self.headers,
                               pre_training_methods=self.pre_training_methods,
                               post_training_methods=self.post_training_methods)

    def _write_config(self) -> Path:
        """The config as a file named after its content (stable asset hash, one file per content)."""
        return json_document_file(self.analysis_config, "analysis_config.json")

    def _bind_kind(self) -> None:
        super()._bind_kind()
        self._check_baseline_facets()
        self.analysis_config_asset = s3_assets.Asset(self, "AnalysisConfig", path=str(self._write_config()))
        self.analysis_config_s3_uri = self.analysis_config_asset.s3_object_url
        self.job_assets.append(self.analysis_config_asset)
        grant_object_read(self.job_role, bucket=self.analysis_config_asset.bucket,
                          key=self.analysis_config_asset.s3_object_key)

    def _check_baseline_facets(self) -> None:
        """Refuse facets a local baseline has none of: the analyzer would compare nothing (and refuses it)."""
        path = getattr(self.baseline_source, "path", None)
        if not isinstance(path, str):
            return  # an S3 or deploy-time baseline: its facets are known at run time only
        analysis = json.loads(Path(read_baseline_directory(path).constraints).read_text(encoding="utf-8"))
        known = sorted({name for stage in ("pre_training_bias_metrics", "post_training_bias_metrics")
                        for name in ((analysis.get(stage) or {}).get("facets") or {})})
        wanted = [self._column_name(facet.name_or_index, "facet") for facet in self.facets]
        if known and not set(wanted) & set(known):
            raise ConfigurationError(self, "facets", wanted,
                                     f"The baseline at {path} has metrics for the facets {known}: use those, or "
                                     "make a new baseline with these facets.")

    # -- metrics -------------------------------------------------------------------------------

    def metric_bias(self, metric: str, facet: str | Facet | None = None, facet_value: str | None = None,
                    stage: str | None = None, *, label: str | None = None, label_value: str | None = None,
                    statistic: str = "Average", period: Duration | None = None) -> cloudwatch.Metric:
        """Clarify's bias metric ``metric`` (e.g. ``DPPL``) of one facet value in each window.

        :param facet: the facet's name. Default: the only facet.
        :param facet_value: the group as analysis.json names it. Default: the facet's values joined
            by commas (``group_name``); required for a facet without values, and for a threshold on a
            continuous column (named by its interval, e.g. ``"(40, 90]"``).
        :param stage: ``Pre-training`` or ``Post-Training``. Default: the metric's stage.
        :param label, label_value: the Label / LabelValue dimensions. Default: the label's name and
            ``group_name(label_values_or_threshold)``.
        """
        return self._bias_metric("bias_metric_", metric, facet, facet_value, stage, label=label,
                                 label_value=label_value, statistic=statistic, period=period)

    def metric_bias_violation(self, metric: str, facet: str | Facet | None = None, facet_value: str | None = None,
                              stage: str | None = None, *, period: Duration | None = None) -> cloudwatch.Metric:
        """1 when the analyzer judged bias metric ``metric`` farther from neutral than the baseline by more than
        chance at the window's size, else 0 (``bias_drift_violation_<metric>``, published for baselines that ask
        for the sample-size-aware comparison); arguments as for ``metric_bias``."""
        return self._bias_metric("bias_drift_violation_", metric, facet, facet_value, stage, statistic="Maximum",
                                 period=period)

    def _bias_metric(self, prefix: str, metric: str, facet: str | Facet | None, facet_value: str | None,
                     stage: str | None, *, label: str | None = None, label_value: str | None = None,
                     statistic: str, period: Duration | None) -> cloudwatch.Metric:
        """A bias metric line named ``<prefix><metric>`` with the dimensions the analyzer writes."""
        name = _ALIASES.get(metric, metric)
        if name in PRE_TRAINING_METRICS:
            metric_stage = PRE_TRAINING_STAGE
        elif name in POST_TRAINING_METRICS:
            metric_stage = POST_TRAINING_STAGE
        else:
            raise ConfigurationError(self, "metric", metric, "Use a Clarify bias metric: pre-training "
                                     f"{', '.join(PRE_TRAINING_METRICS)}; post-training {', '.join(POST_TRAINING_METRICS)}.")
        if stage is not None and stage != metric_stage:
            raise ConfigurationError(self, "stage", stage, f"{name} is a {metric_stage} metric: pass "
                                     f"stage='{metric_stage}' or leave it out.")
        chosen = self._facet(facet)
        facet_name = self._column_name(chosen.name_or_index, "facet")
        if facet_value is None:
            values = chosen.values()
            if values is None:
                raise ConfigurationError(self, "facet_value", None,
                                         f"Facet {facet_name!r} has one group per value: name the value, e.g. "
                                         "facet_value='F'.")
            facet_value = group_name(values)
        # the analyzer publishes a value CloudWatch would refuse (not printable ASCII) under a safe name
        safe = lambda_shared_module("names").cloudwatch_dimension_value
        dimensions = {
            **self.metric_dimensions,
            "BiasStage": metric_stage,
            "Label": safe(label if label is not None else self._column_name(self.label, "label")),
            "LabelValue": safe(label_value if label_value is not None else group_name(self.label_values_or_threshold)),
            "Facet": safe(facet_name),
            "FacetValue": safe(facet_value),
        }
        return cloudwatch.Metric(namespace=self.metrics_namespace, metric_name=f"{prefix}{name}",
                                 dimensions_map=dimensions, statistic=statistic, period=period or self.metric_period)

    def _facet(self, facet: str | Facet | None) -> Facet:
        if isinstance(facet, Facet):
            return facet
        if facet is None:
            if len(self.facets) == 1:
                return self.facets[0]
            raise ConfigurationError(self, "facet", None, "This monitor has several facets: name one, e.g. "
                                     f"facet={self._column_name(self.facets[0].name_or_index, 'facet')!r}.")
        for candidate in self.facets:
            if facet in (candidate.name_or_index, self._column_name(candidate.name_or_index, "facet", strict=False)):
                return candidate
        raise ConfigurationError(self, "facet", facet, "Use one of the monitor's facets: "
                                 f"{[f.name_or_index for f in self.facets]}.")

    def _column_name(self, ref: ColumnRef, prop: str, *, strict: bool = True) -> str:
        """A column's name for a metric dimension: the name itself, or ``headers[index]``."""
        if isinstance(ref, str):
            return ref
        if self.headers is not None and 0 <= ref < len(self.headers):
            return self.headers[ref]
        if not strict:
            return str(ref)
        raise ConfigurationError(self, prop, ref, f"The {prop} is a column index and no headers name it: pass "
                                 f"{prop}='<column name>' (as analysis.json names it).")

    # -- what the engines need ---------------------------------------------------------------

    def endpoint_attributes(self) -> dict[str, str | float]:
        """``FeaturesAttribute``, ``InferenceAttribute``, ``ProbabilityAttribute`` and
        ``ProbabilityThresholdAttribute`` of a typed job definition's endpoint input."""
        attributes: dict[str, str | float] = {}
        for prop in ("features_attribute", "inference_attribute", "probability_attribute"):
            value = getattr(self, prop)
            if value is not None:
                attributes[prop] = value
        if self.probability_threshold is not None:
            attributes["probability_threshold_attribute"] = self.probability_threshold
        return attributes

    def dashboard_widgets(self, alarms: Sequence[CreatedAlarm], *,
                          features: Sequence[str] | None) -> list[cloudwatch.IWidget]:
        """The bias metrics the alarms watch (``features`` does not apply)."""
        return dashboard.dashboard_widgets(self.kind.name, alarms)

    alarm_options_type = BiasAlarmOptions

    def add_health_alarms(self, alarms: MonitorAlarms, *, baseline: Baseline | None,
                          options: AlarmOptions | None) -> list[CreatedAlarm]:
        """One alarm per bias metric: ``|value - neutral|`` above the baseline's distance (``BiasAlarmOptions``)."""
        return add_health_alarms(alarms, self, baseline=baseline, options=own_options(alarms, options, BiasAlarmOptions))

    def native_job_definition(self, scope: Construct, *, key_arn: str | None) -> CfnResource:
        return native.job_definition(scope, self, key_arn=key_arn, config_uri=self.analysis_config_s3_uri,
                                     labelled=self.labelled_endpoint_input(self.endpoint_attributes()))

    def job_inputs(self) -> list[JobInput]:
        return [*super().job_inputs(),
                JobInput(name="analysis_config", local_path=ANALYSIS_CONFIG_LOCAL_DIR,
                         s3_uri=self.analysis_config_s3_uri)]

    def analyzer_environment(self) -> dict[str, str]:
        """The bias job's environment (the analyzer's ``monitors.bias.environment``): the config's local file and the
        endpoint input's attributes, as the Model Monitor contract names them."""
        env = {**super().analyzer_environment(),
               "analysis_config": f"{ANALYSIS_CONFIG_LOCAL_DIR}/{object_basename(self, self.analysis_config_s3_uri)}",
               "ground_truth_lookback": iso_offset(self.capture_lookback, negative=False)}
        if self.drift_tolerance:
            env["bias_drift_tolerance"] = repr(self.drift_tolerance)
        for key, value in self.endpoint_attributes().items():
            env[key] = env_text(value)
        return {**env, **self.user_environment}

    def spark_type_arguments(self) -> list[SparkArgument]:
        """The analysis config, the baseline's analysis.json and the endpoint input's attributes, as
        ``analyzer_environment`` gives them to the Processing job."""
        flags = {"features_attribute": "--features-attribute", "inference_attribute": "--inference-attribute",
                 "probability_attribute": "--probability-attribute",
                 "probability_threshold_attribute": "--probability-threshold"}
        arguments: list[SparkArgument] = [*super().spark_type_arguments(),
                                          "--analysis-config", self.analysis_config_s3_uri,
                                          "--baseline", self.baseline.constraints_s3_uri]
        if self.drift_tolerance:
            arguments += ["--drift-tolerance", repr(self.drift_tolerance)]
        for key, value in self.endpoint_attributes().items():
            arguments += [flags[key], env_text(value)]
        return arguments

    def grant_spark_job(self, grantee: iam.IGrantable) -> None:
        super().grant_spark_job(grantee)
        grant_object_read(grantee, bucket=self.analysis_config_asset.bucket,
                          key=self.analysis_config_asset.s3_object_key)

    # -- validation ----------------------------------------------------------------------------

    def _validate_kind(self) -> None:
        super()._validate_kind()
        if self.headers is not None:
            headers = self.headers
            if isinstance(headers, str) or not isinstance(headers, Sequence) or not headers or \
                    not all(isinstance(h, str) and h for h in headers) or len(set(headers)) != len(headers):
                raise ConfigurationError(self, "headers", headers, "Use a list of distinct column names.")
            self.headers = tuple(headers)
        self._check_column("label", self.label)
        labels = self.label_values_or_threshold
        if isinstance(labels, (str, int, float)) or not isinstance(labels, Sequence) or not labels:
            raise ConfigurationError(self, "label_values_or_threshold", labels,
                                     "Use a non-empty list: the positive label values ([1], ['yes']) or one "
                                     "threshold for a numeric label ([0.5]).")
        self.label_values_or_threshold = tuple(labels)
        for value in self.label_values_or_threshold:
            self._check_value("label_values_or_threshold", value)
        if isinstance(self.facets, (str, Facet)) or not isinstance(self.facets, Sequence) or not self.facets:
            raise ConfigurationError(self, "facets", self.facets,
                                     "Use a non-empty list of Facet, e.g. [Facet('senior', [1])].")
        self.facets = tuple(self.facets)
        seen: set[object] = set()
        for index, facet in enumerate(self.facets):
            prop = f"facets[{index}]"
            if not isinstance(facet, Facet):
                raise ConfigurationError(self, prop, facet, "Use Facet(name_or_index, value_or_threshold).")
            self._check_column(f"{prop}.name_or_index", facet.name_or_index)
            if facet.name_or_index in seen:
                raise ConfigurationError(self, prop, facet.name_or_index, "Give each facet once (list several "
                                         "values in one Facet's value_or_threshold).")
            seen.add(facet.name_or_index)
            if facet.name_or_index == self.label:
                raise ConfigurationError(self, prop, facet.name_or_index, "A facet must be a feature, not the label.")
            values = facet.value_or_threshold
            if values is not None and not isinstance(values, (str, int, float)) and (
                    not isinstance(values, Sequence) or not values):
                raise ConfigurationError(self, f"{prop}.value_or_threshold", values,
                                         "Use a non-empty list of values (['F']) or one threshold ([40]), or None "
                                         "for one group per value.")
            for value in facet.values() or ():
                self._check_value(f"{prop}.value_or_threshold", value)
        if self.group_variable is not None:
            self._check_column("group_variable", self.group_variable)
            if self.group_variable == self.label or self.group_variable in seen:
                raise ConfigurationError(self, "group_variable", self.group_variable,
                                         "Use a column that is neither the label nor a facet (e.g. an age band).")
        threshold = self.probability_threshold
        if threshold is not None and not Token.is_unresolved(threshold):
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
                    not math.isfinite(threshold) or not 0 <= threshold <= 1:
                raise ConfigurationError(self, "probability_threshold", threshold,
                                         "Use a probability from 0 to 1, e.g. 0.5.")
            self.probability_threshold = float(threshold)
        for prop in ("features_attribute", "inference_attribute", "probability_attribute"):
            value = getattr(self, prop)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, prop, str(value))
            elif value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigurationError(self, prop, value, "Use a 0-based CSV index as text ('0') or a JMESPath.")
        for prop, known in (("pre_training_methods", PRE_TRAINING_METRICS),
                            ("post_training_methods", POST_TRAINING_METRICS)):
            chosen = getattr(self, prop)
            if chosen is None:
                continue
            if isinstance(chosen, str) or not isinstance(chosen, Sequence) or not chosen:
                raise ConfigurationError(self, prop, chosen, f"Use a non-empty list of {', '.join(known)}, or None "
                                         "for all.")
            names = tuple(_ALIASES.get(n, n) for n in chosen)
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ConfigurationError(self, prop, unknown, f"Use names from {', '.join(known)}.")
            setattr(self, prop, names)

    def _check_column(self, prop: str, ref: object) -> None:
        if isinstance(ref, bool) or not isinstance(ref, (str, int)) or (isinstance(ref, str) and not ref) or \
                (isinstance(ref, int) and ref < 0):
            raise ConfigurationError(self, prop, ref, "Use a column name, or a 0-based column index.")
        headers = self.headers
        if headers is None or isinstance(headers, str) or not isinstance(headers, Sequence):
            return
        if isinstance(ref, int) and ref >= len(headers):
            raise ConfigurationError(self, prop, ref, f"The index is outside the {len(headers)} headers.")
        if isinstance(ref, str) and ref not in headers and prop != "label":
            raise ConfigurationError(self, prop, ref, f"Use one of the headers: {list(headers)}.")

    def _check_value(self, prop: str, value: object) -> None:
        if not isinstance(value, (str, int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise ConfigurationError(self, prop, value, "Values must be text or finite numbers.")
