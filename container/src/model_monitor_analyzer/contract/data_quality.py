"""The data-quality job a SageMaker environment describes (contract section 6.2), as CLI arguments.

Baseline mode when neither ``baseline_statistics`` nor ``baseline_constraints`` nor
``sagemaker_monitoring_schedule_name`` is set; monitor mode otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from model_monitor_analyzer.contract.environment import InputKind, parse_dataset_format
from model_monitor_analyzer.contract.paths import ContainerPaths, metrics_dir
from model_monitor_analyzer.errors import AnalyzerInputError

DEFAULT_BASELINE_DATASET = "/opt/ml/processing/input/baseline_dataset_input"
DEFAULT_CAPTURE = "/opt/ml/processing/input/endpoint"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
BASELINE_MODE = "baseline"
MONITOR_MODE = "monitor"


def _enabled(value: str | None, *, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("enabled", "true", "1", "yes")


def baseline_file(path: Path, role: str) -> Path:
    """A baseline file, or the folder a processing input downloaded it to (holding that one JSON file).

    SageMaker downloads an S3 object under its own key's name, which for CDK file assets is a
    content hash: a job may therefore point ``baseline_statistics`` at the folder instead.
    """
    if not path.is_dir():
        return path
    candidates = sorted(path.glob("*.json"))
    if len(candidates) != 1:
        raise AnalyzerInputError(f"expected exactly one .json file for the baseline {role} in this folder, "
                                 f"found {len(candidates)}", path=str(path))
    return candidates[0]


def mode_of(env: Mapping[str, str]) -> str:
    """``monitor`` when the environment names a baseline or a schedule, else ``baseline``."""
    if env.get("baseline_statistics") or env.get("baseline_constraints") or env.get("sagemaker_monitoring_schedule_name"):
        return MONITOR_MODE
    return BASELINE_MODE


def args_from_environment(env: Mapping[str, str], paths: ContainerPaths) -> argparse.Namespace:
    """The ``jobs.data_quality`` arguments for this environment (``mode`` says which run)."""
    spec = parse_dataset_format(env.get("dataset_format"))
    mode = mode_of(env)
    preprocessor = env.get("record_preprocessor_script")
    postprocessor = env.get("post_analytics_processor_script")
    common = dict(
        mode=mode,
        output=paths.rebase(env.get("output_path") or DEFAULT_OUTPUT),
        record_preprocessor=paths.rebase(preprocessor) if preprocessor else None,
        post_analytics_processor=paths.rebase(postprocessor) if postprocessor else None,
        max_bad_record_ratio=float(env.get("max_bad_record_ratio", "0.1")),
        capture_index_names=list(spec.capture_index_names),
        output_columns_position="START" if spec.output_first else "END",
        progress=True,
    )
    source = env.get("dataset_source")
    if mode == BASELINE_MODE:
        kind = {InputKind.CSV: "csv", InputKind.JSON: "json", InputKind.PARQUET: "parquet"}.get(spec.kind, "capture")
        return argparse.Namespace(
            **common,
            dataset=paths.rebase(source or DEFAULT_BASELINE_DATASET),
            format=kind,
            no_header=not spec.header,
            categorical_drift_method=env.get("categorical_drift_method"),
        )
    statistics = env.get("baseline_statistics")
    constraints = env.get("baseline_constraints")
    if not statistics or not constraints:
        raise AnalyzerInputError(
            "monitoring needs both baseline_statistics and baseline_constraints; set the schedule's "
            "BaselineConfig (StatisticsResource and ConstraintsResource)"
        )
    publish = _enabled(env.get("publish_cloudwatch_metrics"), default=False)
    kind = {InputKind.CSV: "csv", InputKind.JSON: "json", InputKind.PARQUET: "parquet"}.get(spec.kind, "capture")
    return argparse.Namespace(
        **common,
        capture=paths.rebase(source or DEFAULT_CAPTURE),
        capture_format=kind,
        no_header=not spec.header,
        statistics=baseline_file(paths.rebase(statistics), "statistics"),
        constraints=baseline_file(paths.rebase(constraints), "constraints"),
        start=env.get("start_time"),
        end=env.get("end_time"),
        metric_time=env.get("metric_time"),
        endpoint=env.get("sagemaker_endpoint_name"),
        schedule=env.get("sagemaker_monitoring_schedule_name"),
        metrics_dir=metrics_dir(env, paths) if publish else None,
        # the project's own extension: per-feature overrides set on the monitor, not in the baseline
        feature_overrides=env.get("feature_overrides"),
    )
