"""The model-quality job a SageMaker environment describes (contract §2.3, §6.2, §8), as run arguments.

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
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from model_monitor_analyzer.contract.environment import (
    InputKind,
    check_window,
    env_number,
    env_switch,
    parse_dataset_format,
)
from model_monitor_analyzer.contract.input_documents import BASELINE_CONSTRAINTS_FOLDER, InputDocument
from model_monitor_analyzer.contract.paths import container_paths, metrics_dir
from model_monitor_analyzer.document_kinds import DocumentKind
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO

DEFAULT_BASELINE_DATASET = "/opt/ml/processing/input/baseline_dataset_input"
DEFAULT_CAPTURE = "/opt/ml/processing/input_data"
DEFAULT_GROUND_TRUTH = "/opt/ml/processing/groundtruth"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
BASELINE_MODE = "baseline"
MONITOR_MODE = "monitor"
#: the constraints a monitoring run checks, found by what they are (none: no baseline to check)
CONSTRAINTS = InputDocument(key="baseline_constraints", kind=DocumentKind.MODEL_QUALITY_CONSTRAINTS,
                            folder=BASELINE_CONSTRAINTS_FOLDER,
                            source="the job definition's ModelQualityBaselineConfig (ConstraintsResource)",
                            required=False)


def _text(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key)
    return value.strip() if value and value.strip() else None


def mode_of(env: Mapping[str, str]) -> str:
    """``monitor`` when the environment names baseline constraints or a schedule, else ``baseline``."""
    if _text(env, "baseline_constraints") or _text(env, "sagemaker_monitoring_schedule_name"):
        return MONITOR_MODE
    return BASELINE_MODE


def input_documents(env: Mapping[str, str]) -> tuple[InputDocument, ...]:
    """The documents the run ``env`` describes reads from its inputs: a monitoring run's constraints."""
    return (CONSTRAINTS,) if mode_of(env) == MONITOR_MODE else ()


def args_from_environment(env: Mapping[str, str]) -> argparse.Namespace:
    """The ``jobs.model_quality`` arguments for this environment; ``mode`` says which run."""
    paths = container_paths(env)
    spec = parse_dataset_format(env.get("dataset_format"))
    mode = mode_of(env)
    source = _text(env, "dataset_source")
    common = argparse.Namespace(
        mode=mode,
        problem_type=_text(env, "problem_type"),
        inference_attribute=_text(env, "inference_attribute"),
        probability_attribute=_text(env, "probability_attribute"),
        probability_threshold=env_number(env, "probability_threshold_attribute", default=None),
        ground_truth_attribute=_text(env, "ground_truth_attribute"),
        positive_label=_text(env, "positive_label"),
        max_bad_record_ratio=env_number(env, "max_bad_record_ratio", default=DEFAULT_MAX_BAD_RECORD_RATIO),
        output=paths.rebase(_text(env, "output_path") or DEFAULT_OUTPUT),
        progress=True,  # as for data quality: at most a line a minute in the job's log (jobs.progress)
        overwrite=True,  # each execution has an output folder of its own
    )
    if mode == BASELINE_MODE:
        if spec.kind not in (InputKind.CSV, InputKind.JSON):
            raise AnalyzerInputError(
                "a model-quality baseline reads a CSV or JSON Lines dataset: set dataset_format to "
                '{"csv": {"header": true}} or {"json": {"lines": true}}'
            )
        common.dataset = paths.rebase(source or DEFAULT_BASELINE_DATASET)
        common.dataset_format = "csv" if spec.kind is InputKind.CSV else "jsonl"
        common.no_header = not spec.header
        # the project's own extension: how monitors judge the suggested thresholds
        comparison = (_text(env, "comparison") or "significance").lower()
        if comparison not in ("significance", "threshold"):
            raise AnalyzerInputError(f"comparison must be significance or threshold, not {env.get('comparison')!r}")
        common.comparison = comparison
        return common
    check_window(env)
    publish = env_switch(env, "publish_cloudwatch_metrics", default=False)
    merged = spec.kind is InputKind.MERGED
    common.merged = paths.rebase(source or DEFAULT_CAPTURE) if merged else None
    common.capture = None if merged else paths.rebase(source or DEFAULT_CAPTURE)
    common.ground_truth = (
        None if merged else paths.rebase(_text(env, "ground_truth_source") or DEFAULT_GROUND_TRUTH)
    )
    constraints = _text(env, "baseline_constraints")
    common.constraints = paths.rebase(constraints) if constraints else None
    common.start = _text(env, "start_time")
    common.end = _text(env, "end_time")
    common.metric_time = _text(env, "metric_time")
    common.ground_truth_lookback = _text(env, "ground_truth_lookback") or "PT0H"
    common.merged_output = None
    common.endpoint_name = _text(env, "sagemaker_endpoint_name")
    common.schedule_name = _text(env, "sagemaker_monitoring_schedule_name")
    common.cloudwatch_metrics_dir = metrics_dir(env, paths) if publish else None
    return common
