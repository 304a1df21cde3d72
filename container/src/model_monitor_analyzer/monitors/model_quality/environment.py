"""The model-quality run a SageMaker environment describes (contract §2.3, §6.2, §8), as a typed request.

``analysis_type=MODEL_QUALITY`` with ``problem_type``, ``inference_attribute``,
``probability_attribute``, ``probability_threshold_attribute``, (baseline)
``ground_truth_attribute`` and ``max_bad_record_ratio`` (as for data quality). Monitor mode
when ``baseline_constraints`` or ``sagemaker_monitoring_schedule_name`` is set, baseline mode
otherwise.

Monitor inputs: with ``dataset_format`` ``sagemakerMergeJson`` the ``dataset_source`` already
holds merged records (the built-in's merge job ran first); otherwise ``dataset_source`` holds
captures and ``ground_truth_source`` (default /opt/ml/processing/groundtruth) the labels, and
this analyzer merges them itself. ``ground_truth_lookback`` (an ISO-8601 duration, our
extension) sets how far back the captures of late labels are looked for.

Messages name the environment's keys (``ENVIRONMENT_NAMES``); /opt/ml paths are rebased onto
``ContainerPaths``.
"""

from __future__ import annotations

from collections.abc import Mapping

from model_monitor_analyzer.contract.environment import (
    WINDOW_KEYS,
    InputKind,
    RunMode,
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
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.datasets import DatasetFormat
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.io.window import parse_duration
from model_monitor_analyzer.jobs.requests import InputOptions, metric_time, time_window
from model_monitor_analyzer.monitors.model_quality.request import (
    COMPARISONS,
    ModelQualityBaselineRequest,
    ModelQualityMonitorRequest,
    ModelQualityNames,
    ModelSettings,
    model_settings,
)

DEFAULT_BASELINE_DATASET = "/opt/ml/processing/input/baseline_dataset_input"
DEFAULT_CAPTURE = "/opt/ml/processing/input_data"
DEFAULT_GROUND_TRUTH = "/opt/ml/processing/groundtruth"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
#: the constraints a monitoring run checks, found by what they are (none: no baseline to check)
CONSTRAINTS = InputDocument(key="baseline_constraints", kind=DocumentKind.MODEL_QUALITY_CONSTRAINTS,
                            folder=BASELINE_CONSTRAINTS_FOLDER,
                            source="the job definition's ModelQualityBaselineConfig (ConstraintsResource)",
                            required=False)
#: each setting by the job environment's key that sets it
ENVIRONMENT_NAMES = ModelQualityNames(
    problem_type="problem_type",
    inference_attribute="inference_attribute",
    probability_attribute="probability_attribute",
    probability_threshold="probability_threshold_attribute",
    ground_truth_attribute="ground_truth_attribute",
    positive_label="positive_label",
    dataset="dataset_source",
    capture="dataset_source",
    ground_truth="ground_truth_source",
    merged="dataset_source",
    merged_output="output_path",
    constraints="baseline_constraints",
    output="output_path",
    ground_truth_lookback="ground_truth_lookback",
    max_bad_record_ratio="max_bad_record_ratio",
    place_document=placement_in_environment,
)


def _text(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    return value.strip() if value and value.strip() else None


def mode_of(env: Mapping[str, str]) -> RunMode:
    """``monitor`` when the environment names baseline constraints or a schedule, else ``baseline``."""
    if _text(env, "baseline_constraints") or _text(env, "sagemaker_monitoring_schedule_name"):
        return RunMode.MONITOR
    return RunMode.BASELINE


def input_documents(env: Mapping[str, str]) -> tuple[InputDocument, ...]:
    """The documents the run ``env`` describes reads from its inputs: a monitoring run's constraints."""
    return (CONSTRAINTS,) if mode_of(env) == RunMode.MONITOR else ()


def _settings(env: Mapping[str, str], *, require_ground_truth_attribute: bool) -> ModelSettings:
    return model_settings(
        problem_type=_text(env, "problem_type"),
        inference_attribute=_text(env, "inference_attribute"),
        probability_attribute=_text(env, "probability_attribute"),
        probability_threshold=env_number(env, "probability_threshold_attribute", default=None),
        ground_truth_attribute=_text(env, "ground_truth_attribute"),
        positive_label=_text(env, "positive_label"),
        require_ground_truth_attribute=require_ground_truth_attribute,
        names=ENVIRONMENT_NAMES,
    )


def _reading(env: Mapping[str, str], *, header: bool = True) -> InputOptions:
    return InputOptions(
        max_bad_record_ratio=env_number(env, "max_bad_record_ratio", default=DEFAULT_MAX_BAD_RECORD_RATIO),  # type: ignore[arg-type]
        header=header,
        progress=True,  # as for data quality: at most a line a minute in the job's log (jobs.progress)
    )


def baseline_request_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> ModelQualityBaselineRequest:
    """The baseline run this environment describes (a CSV or JSON Lines ``dataset_source``)."""
    settings = _settings(env, require_ground_truth_attribute=True)
    spec = parse_dataset_format(env.get("dataset_format"))
    if spec.kind not in (InputKind.CSV, InputKind.JSON):
        raise AnalyzerInputError(
            "a model-quality baseline reads a CSV or JSON Lines dataset: set dataset_format to "
            '{"csv": {"header": true}} or {"json": {"lines": true}}'
        )
    # the project's own extension: how monitors judge the suggested thresholds
    comparison = (_text(env, "comparison") or COMPARISONS[0]).lower()
    if comparison not in COMPARISONS:
        raise AnalyzerInputError(f"comparison must be significance or threshold, not {env.get('comparison')!r}")
    return ModelQualityBaselineRequest(
        dataset=paths.rebase(_text(env, "dataset_source") or DEFAULT_BASELINE_DATASET),
        output=paths.rebase(_text(env, "output_path") or DEFAULT_OUTPUT),
        settings=settings,
        dataset_format=DatasetFormat.CSV if spec.kind is InputKind.CSV else DatasetFormat.JSON,
        reading=_reading(env, header=spec.header),
        comparison=comparison,
        overwrite=True,  # each execution has an output folder of its own
        names=ENVIRONMENT_NAMES,
    )


def monitor_request_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> ModelQualityMonitorRequest:
    """The monitoring run this environment describes; metric lines only when ``publish_cloudwatch_metrics``
    is Enabled, as the built-in."""
    settings = _settings(env, require_ground_truth_attribute=False)
    reading = _reading(env)
    output = paths.rebase(_text(env, "output_path") or DEFAULT_OUTPUT)
    spec = parse_dataset_format(env.get("dataset_format"))
    window = time_window(env.get(WINDOW_KEYS[0]), env.get(WINDOW_KEYS[1]), names=WINDOW_KEYS)
    publish = env_switch(env, "publish_cloudwatch_metrics", default=False)
    source = paths.rebase(_text(env, "dataset_source") or DEFAULT_CAPTURE)
    merged = spec.kind is InputKind.MERGED
    constraints = _text(env, "baseline_constraints")
    return ModelQualityMonitorRequest(
        output=output,
        settings=settings,
        capture=None if merged else source,
        ground_truth=None if merged else paths.rebase(_text(env, "ground_truth_source") or DEFAULT_GROUND_TRUTH),
        merged=source if merged else None,
        constraints=paths.rebase(constraints) if constraints else None,
        window=window,
        ground_truth_lookback=parse_duration(_text(env, "ground_truth_lookback") or "PT0H",
                                             name=ENVIRONMENT_NAMES.ground_truth_lookback),
        metrics_dir=metrics_dir(env, paths) if publish else None,
        metric_time=metric_time(_text(env, "metric_time")),
        endpoint=_text(env, "sagemaker_endpoint_name"),
        schedule=_text(env, "sagemaker_monitoring_schedule_name"),
        reading=reading,
        overwrite=True,  # each execution has an output folder of its own
        names=ENVIRONMENT_NAMES,
        batch=batch_source(env, spec),
    )
