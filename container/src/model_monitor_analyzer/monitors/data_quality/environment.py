"""The data-quality run a SageMaker environment describes (contract section 6.2), as a typed request.

Baseline mode when neither ``baseline_statistics`` nor ``baseline_constraints`` nor
``sagemaker_monitoring_schedule_name`` is set; monitor mode otherwise (``mode_of``).
``baseline_request_from_environment`` and ``monitor_request_from_environment`` build the
requests (``request``) directly from the environment, with its /opt/ml paths rebased onto
``ContainerPaths``, once the entrypoint has found the baseline's files (``input_documents``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from model_monitor_analyzer.checks.config import CategoricalDriftMethod
from model_monitor_analyzer.constraint_rules import drift_method_name
from model_monitor_analyzer.contract.environment import (
    WINDOW_KEYS,
    DatasetFormatSpec,
    InputKind,
    RunMode,
    batch_source,
    env_number,
    env_switch,
    parse_dataset_format,
)
from model_monitor_analyzer.contract.input_documents import (
    BASELINE_CONSTRAINTS_FOLDER,
    BASELINE_STATISTICS_FOLDER,
    InputDocument,
    placement_in_environment,
)
from model_monitor_analyzer.contract.paths import ContainerPaths, metrics_dir
from model_monitor_analyzer.document_kinds import DocumentKind
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.jobs.requests import InputFormat, InputOptions, metric_time, time_window
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
    DataQualityNames,
    feature_overrides_from_json,
)

DEFAULT_BASELINE_DATASET = "/opt/ml/processing/input/baseline_dataset_input"
DEFAULT_CAPTURE = "/opt/ml/processing/input/endpoint"
DEFAULT_OUTPUT = "/opt/ml/processing/output"


#: the baseline a monitoring run compares with, found by what it is (``input_documents``)
STATISTICS = InputDocument(key="baseline_statistics", kind=DocumentKind.DATA_QUALITY_STATISTICS,
                           folder=BASELINE_STATISTICS_FOLDER,
                           source="the schedule's BaselineConfig (StatisticsResource)")
CONSTRAINTS = InputDocument(key="baseline_constraints", kind=DocumentKind.DATA_QUALITY_CONSTRAINTS,
                            folder=BASELINE_CONSTRAINTS_FOLDER,
                            source="the schedule's BaselineConfig (ConstraintsResource)")

#: each setting by the job environment's key that sets it
ENVIRONMENT_NAMES = DataQualityNames(
    dataset="dataset_source",
    statistics="baseline_statistics",
    constraints="baseline_constraints",
    output="output_path",
    feature_overrides="feature_overrides",
    max_bad_record_ratio="max_bad_record_ratio",
    place_document=placement_in_environment,
)


def mode_of(env: Mapping[str, str]) -> RunMode:
    """``monitor`` when the environment names a baseline or a schedule, else ``baseline``."""
    if env.get("baseline_statistics") or env.get("baseline_constraints") or env.get("sagemaker_monitoring_schedule_name"):
        return RunMode.MONITOR
    return RunMode.BASELINE


def input_documents(env: Mapping[str, str]) -> tuple[InputDocument, ...]:
    """The documents the run ``env`` describes reads from its inputs: a monitoring run's baseline."""
    return (STATISTICS, CONSTRAINTS) if mode_of(env) == RunMode.MONITOR else ()


# Merged records (sagemakerMergeJson) are read as captures: they hold the same captureData.
_INPUT_FORMATS = {InputKind.CSV: InputFormat.CSV, InputKind.JSON: InputFormat.JSON, InputKind.PARQUET: InputFormat.PARQUET}


def _input_format(spec: DatasetFormatSpec) -> InputFormat:
    return _INPUT_FORMATS.get(spec.kind, InputFormat.CAPTURE)


def _input_options(env: Mapping[str, str], paths: ContainerPaths, spec: DatasetFormatSpec) -> InputOptions:
    preprocessor = env.get("record_preprocessor_script")
    return InputOptions(
        max_bad_record_ratio=env_number(env, "max_bad_record_ratio", default=DEFAULT_MAX_BAD_RECORD_RATIO),  # type: ignore[arg-type]
        capture_index_names=spec.capture_index_names,
        output_first=spec.output_first,
        header=spec.header,
        record_preprocessor=paths.rebase(preprocessor) if preprocessor else None,
        progress=True,
    )


def _post_analytics_processor(env: Mapping[str, str], paths: ContainerPaths) -> Path | None:
    script = env.get("post_analytics_processor_script")
    return paths.rebase(script) if script else None


def _categorical_drift_method(text: str | None) -> CategoricalDriftMethod | None:
    if not text or not text.strip():
        return None
    wanted = text.strip().lower()
    for method in CategoricalDriftMethod:
        if method.value.lower() == wanted:
            return method
    known = ", ".join(m.value for m in CategoricalDriftMethod)
    raise AnalyzerInputError(f"categorical_drift_method {text!r} is not supported; use one of {known}")


def _drift_method(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    try:
        return drift_method_name(text, "drift_method")
    except ValueError as exc:
        raise AnalyzerInputError(str(exc)) from None


def baseline_request_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> DataQualityBaselineRequest:
    """The baseline run this environment describes (``dataset_source`` profiled into ``output_path``)."""
    spec = parse_dataset_format(env.get("dataset_format"))
    return DataQualityBaselineRequest(
        dataset=paths.rebase(env.get("dataset_source") or DEFAULT_BASELINE_DATASET),
        output=paths.rebase(env.get("output_path") or DEFAULT_OUTPUT),
        format=_input_format(spec),
        reading=_input_options(env, paths, spec),
        categorical_drift_method=_categorical_drift_method(env.get("categorical_drift_method")),
        drift_method=_drift_method(env.get("drift_method")),
        post_analytics_processor=_post_analytics_processor(env, paths),
        overwrite=True,  # each execution has an output folder of its own
        names=ENVIRONMENT_NAMES,
    )


def monitor_request_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> DataQualityMonitorRequest:
    """The monitoring run this environment describes; metric lines only when
    ``publish_cloudwatch_metrics`` is Enabled, as the built-in."""
    statistics = env.get("baseline_statistics")
    constraints = env.get("baseline_constraints")
    if not statistics or not constraints:
        raise AnalyzerInputError(
            "monitoring needs both baseline_statistics and baseline_constraints; set the schedule's "
            "BaselineConfig (StatisticsResource and ConstraintsResource)"
        )
    spec = parse_dataset_format(env.get("dataset_format"))
    batch = batch_source(env, spec)
    publish = env_switch(env, "publish_cloudwatch_metrics", default=False)
    overrides = env.get("feature_overrides")
    return DataQualityMonitorRequest(
        capture=paths.rebase(env.get("dataset_source") or DEFAULT_CAPTURE),
        statistics=paths.rebase(statistics),
        constraints=paths.rebase(constraints),
        output=paths.rebase(env.get("output_path") or DEFAULT_OUTPUT),
        input_format=InputFormat.CAPTURE if batch is not None else _input_format(spec),
        batch=batch,
        reading=_input_options(env, paths, spec),
        window=time_window(env.get("start_time"), env.get("end_time"), names=WINDOW_KEYS),
        # the project's own extension: per-feature overrides set on the monitor, not in the baseline
        feature_overrides=feature_overrides_from_json(overrides, name="feature_overrides") if overrides else {},
        drift_method=_drift_method(env.get("drift_method")),
        metrics_dir=metrics_dir(env, paths) if publish else None,
        metric_time=metric_time(env.get("metric_time")),
        endpoint=env.get("sagemaker_endpoint_name"),
        schedule=env.get("sagemaker_monitoring_schedule_name"),
        post_analytics_processor=_post_analytics_processor(env, paths),
        overwrite=True,  # each execution has an output folder of its own
        names=ENVIRONMENT_NAMES,
    )
