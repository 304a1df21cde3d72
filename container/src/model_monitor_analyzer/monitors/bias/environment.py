"""The bias runs a processing job's environment describes (Clarify's and Model Monitor's contracts).

Names follow the Model Monitor container contract (``dataset_source``, ``output_path``,
``baseline_constraints``, ``start_time``, ``end_time``, ``metric_time``,
``sagemaker_endpoint_name``, ``sagemaker_monitoring_schedule_name``,
``publish_cloudwatch_metrics``, ``features_attribute``, ``inference_attribute``,
``probability_attribute``, ``probability_threshold_attribute``) plus ``analysis_config`` (the
``ConfigUri`` file's local path; Clarify's processing location by default), ``max_bad_record_ratio``
(as data quality) and the project's own ``ground_truth_lookback`` and ``bias_drift_tolerance``. Container paths (/opt/ml/...) are rebased
onto ``ContainerPaths``' root, and messages name these keys.

Baseline: ``dataset_source`` is the dataset (Clarify's processing input by default). Monitor:
with ``dataset_format`` ``sagemakerMergeJson`` it holds merged records; otherwise it holds
captures and ``ground_truth_source`` (default /opt/ml/processing/groundtruth) the labels.
"""

from __future__ import annotations

from collections.abc import Mapping

from model_monitor_analyzer.contract.environment import (
    WINDOW_KEYS,
    InputKind,
    batch_source,
    env_number,
    env_switch,
    parse_dataset_format,
)
from model_monitor_analyzer.contract.input_documents import (
    BASELINE_CONSTRAINTS_FOLDER,
    InputDocument,
    placement_in_environment,
)
from model_monitor_analyzer.contract.paths import ContainerPaths, metrics_dir
from model_monitor_analyzer.document_kinds import DocumentKind
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.io.window import parse_duration
from model_monitor_analyzer.jobs.requests import metric_time, time_window
from model_monitor_analyzer.monitors.bias.request import BiasBaselineRequest, BiasMonitorRequest, SettingNames

# Where Clarify's processing contract places the config, the dataset and the results.
ANALYSIS_CONFIG_FOLDER = "/opt/ml/processing/input/config"
DEFAULT_ANALYSIS_CONFIG = f"{ANALYSIS_CONFIG_FOLDER}/analysis_config.json"
DEFAULT_DATASET = "/opt/ml/processing/input/data"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
# Where a monitoring job finds the window's captures (or merged records) and the ground truth.
DEFAULT_CAPTURE = "/opt/ml/processing/input_data"
DEFAULT_GROUND_TRUTH = "/opt/ml/processing/groundtruth"
BASELINE_MODE = "baseline"
MONITOR_MODE = "monitor"
# The documents a bias run reads, found by what they are: no variable says where SageMaker downloads
# a ModelBiasJobDefinition's ConfigUri, and it keeps the object's name (a CDK asset's is a hash).
ANALYSIS_CONFIG = InputDocument(key="analysis_config", kind=DocumentKind.BIAS_ANALYSIS_CONFIG,
                                folder=ANALYSIS_CONFIG_FOLDER,
                                source="the job definition's ConfigUri (or the processing job's config input)")
BASELINE = InputDocument(key="baseline_constraints", kind=DocumentKind.BIAS_ANALYSIS,
                         folder=BASELINE_CONSTRAINTS_FOLDER,
                         source="the job definition's ModelBiasBaselineConfig (ConstraintsResource)", required=False)
#: how a processing job names the settings a run's messages mention
ENVIRONMENT_NAMES = SettingNames(analysis_config="analysis_config", output="output_path",
                                 baseline="baseline_constraints",
                                 ground_truth_lookback="ground_truth_lookback", ground_truth="ground_truth_source",
                                 capture="dataset_source", window_data="dataset_source",
                                 max_bad_record_ratio="max_bad_record_ratio", place_document=placement_in_environment)


def _text(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    return value.strip() if value and value.strip() else None


def _max_bad_record_ratio(env: Mapping[str, str]) -> float:
    return env_number(env, "max_bad_record_ratio", default=DEFAULT_MAX_BAD_RECORD_RATIO)  # type: ignore[return-value]


def mode_of(env: Mapping[str, str]) -> str:
    """``monitor`` when the environment names baseline constraints or a schedule, else ``baseline``."""
    if _text(env, "baseline_constraints") or _text(env, "sagemaker_monitoring_schedule_name"):
        return MONITOR_MODE
    return BASELINE_MODE


def input_documents(env: Mapping[str, str]) -> tuple[InputDocument, ...]:
    """The documents the run ``env`` describes reads from its inputs: the analysis config, and a
    monitoring run's baseline analysis."""
    return (ANALYSIS_CONFIG, BASELINE) if mode_of(env) == MONITOR_MODE else (ANALYSIS_CONFIG,)


def baseline_request_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> BiasBaselineRequest:
    """The baseline run this environment describes: ``dataset_source`` analysed into ``output_path``."""
    return BiasBaselineRequest(
        analysis_config=paths.rebase(_text(env, "analysis_config") or DEFAULT_ANALYSIS_CONFIG),
        dataset=paths.rebase(_text(env, "dataset_source") or DEFAULT_DATASET),
        output=paths.rebase(_text(env, "output_path") or DEFAULT_OUTPUT),
        max_bad_record_ratio=_max_bad_record_ratio(env),
        overwrite=True,  # each execution has an output folder of its own
        names=ENVIRONMENT_NAMES,
    )


def monitor_request_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> BiasMonitorRequest:
    """The monitoring run this environment describes; metric lines only when
    ``publish_cloudwatch_metrics`` is Enabled, as the built-in."""
    window = time_window(env.get(WINDOW_KEYS[0]), env.get(WINDOW_KEYS[1]), names=WINDOW_KEYS)
    spec = parse_dataset_format(env.get("dataset_format"))
    merged = spec.kind is InputKind.MERGED
    window_source = paths.rebase(_text(env, "dataset_source") or DEFAULT_CAPTURE)
    baseline = _text(env, "baseline_constraints")
    publish = env_switch(env, "publish_cloudwatch_metrics", default=False)
    start = _text(env, "start_time")
    return BiasMonitorRequest(
        analysis_config=paths.rebase(_text(env, "analysis_config") or DEFAULT_ANALYSIS_CONFIG),
        output=paths.rebase(_text(env, "output_path") or DEFAULT_OUTPUT),
        merged=window_source if merged else None,
        capture=None if merged else window_source,
        ground_truth=None if merged else paths.rebase(_text(env, "ground_truth_source") or DEFAULT_GROUND_TRUTH),
        baseline=paths.rebase(baseline) if baseline else None,
        max_bad_record_ratio=_max_bad_record_ratio(env),
        window=window,
        # the project's own extensions (as for model quality): late labels, and a tolerance for noise
        ground_truth_lookback=parse_duration(_text(env, "ground_truth_lookback") or "PT0H",
                                             name="ground_truth_lookback"),
        drift_tolerance=env_number(env, "bias_drift_tolerance", default=0.0, high=None),  # type: ignore[arg-type]
        features_attribute=_text(env, "features_attribute"),
        inference_attribute=_text(env, "inference_attribute"),
        probability_attribute=_text(env, "probability_attribute"),
        probability_threshold=env_number(env, "probability_threshold_attribute", default=None),
        metrics_dir=metrics_dir(env, paths) if publish else None,
        metric_time=metric_time(_text(env, "metric_time") or start),
        endpoint=_text(env, "sagemaker_endpoint_name"),
        schedule=_text(env, "sagemaker_monitoring_schedule_name"),
        progress=True,  # as for data quality: at most a line a minute in the job's log (jobs.progress)
        overwrite=True,  # each execution has an output folder of its own
        names=ENVIRONMENT_NAMES,
        batch=batch_source(env, spec),
    )
