"""Model quality in container mode: the built-in's environment on a simulated /opt/ml tree."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from model_monitor_analyzer.checks.model_quality import ProblemType
from model_monitor_analyzer.cli import build_parser
from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.contract.environment import RunMode
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.monitors import model_quality as mq_package
from model_monitor_analyzer.monitors.model_quality import environment as contract
from model_monitor_analyzer.monitors.model_quality.request import OPTION_NAMES


@pytest.fixture
def opt_ml(tmp_path: Path) -> Path:
    return tmp_path / "opt-ml"


def _message(opt_ml: Path) -> str:
    return (opt_ml / "output" / "message").read_text()


def test_baseline_environment_reproduces_the_real_regression_baseline(reference_examples: Path, opt_ml: Path):
    example = reference_examples / "sdk-model-quality-check"
    dataset = opt_ml / "processing" / "input" / "baseline_dataset_input"
    dataset.mkdir(parents=True)
    shutil.copy(example / "baseline_dataset.csv", dataset / "baseline_dataset.csv")
    # the environment the SDK's ModelQualityMonitor.suggest_baseline sets (contract §8)
    code = run_container({
        "MODEL_MONITOR_OPT_ML_ROOT": str(opt_ml),
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "Regression",
        "inference_attribute": "Label",
        "ground_truth_attribute": "Prediction",
        "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
        "comparison": "threshold",  # the built-in's rule: its very constraints.json
    })  # fmt: skip
    assert code == 0
    assert _message(opt_ml).startswith("Completed:")
    output = opt_ml / "processing" / "output"
    assert (output / "statistics.json").read_bytes() == (example / "statistics.json").read_bytes()
    assert (output / "constraints.json").read_bytes() == (
        example / "good_cases" / "constraints.json"
    ).read_bytes()


def _schedule_env(opt_ml: Path, **extra: str) -> dict[str, str]:
    # the environment observed for a scheduled model-quality execution (contract §2.3, §6.2)
    return {
        "MODEL_MONITOR_OPT_ML_ROOT": str(opt_ml),
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification",
        "inference_attribute": "0",
        "probability_attribute": "0",
        "probability_threshold_attribute": "0.5",
        "dataset_source": "/opt/ml/processing/input_data",
        "output_path": "/opt/ml/processing/output",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "sagemaker_endpoint_name": "bank-marketing",
        "sagemaker_monitoring_schedule_name": "bank-marketing-mq",
        "start_time": "2025-02-16T15:00:00Z",
        "end_time": "2025-02-16T16:00:00Z",
        "metric_time": "2025-02-16T15:00:00Z",
        "publish_cloudwatch_metrics": "Enabled",
        **extra,
    }


def _constraints(opt_ml: Path) -> None:
    path = opt_ml / "processing" / "baseline" / "constraints" / "constraints.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 0.0, "binary_classification_constraints": {
        "accuracy": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"},
        "false_positive_rate": {"threshold": 0.5, "comparison_operator": "GreaterThanThreshold"}}}))  # fmt: skip


def test_merged_dataset_of_the_built_in_merge_job_is_analyzed(reference_examples: Path, opt_ml: Path):
    merged = (
        opt_ml / "processing" / "input_data" / "bank-marketing" / "AllTraffic" / "2025" / "02" / "16" / "15"
    )
    merged.mkdir(parents=True)
    real = reference_examples / "from-idea-to-production-monitoring" / "notebook-output" / "merged.jsonl"
    shutil.copy(real, merged / "part-00000.c000.jsonl")
    _constraints(opt_ml)
    code = run_container(
        _schedule_env(
            opt_ml, dataset_format='{"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}'
        )
    )
    assert code == 0
    # both records have label 0 and a score below 0.5: accuracy 1.0, no violation
    assert _message(opt_ml) == "Completed: Job completed successfully with no violations."
    statistics = json.loads((opt_ml / "processing" / "output" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 2
    assert statistics["binary_classification_metrics"]["confusion_matrix"] == {
        "0": {"0": 2, "1": 0},
        "1": {"0": 0, "1": 0},
    }
    lines = (opt_ml / "output" / "metrics" / "cloudwatch").glob("*.jsonl")
    records = [json.loads(line) for path in lines for line in path.read_text().splitlines()]
    # one class only: the AUC and the F-scores are not computable, so neither published nor judged
    names = {r["MetricName"] for r in records}
    assert "accuracy" in names and not names & {"auc", "f1", "recall", "precision"}
    assert all(r["Timestamp"] == "2025-02-16T15:00:00Z" for r in records)
    assert records[0]["Dimensions"] == [
        {"Name": "Endpoint", "Value": "bank-marketing"},
        {"Name": "MonitoringSchedule", "Value": "bank-marketing-mq"},
    ]


def test_capture_and_ground_truth_inputs_are_merged_by_the_analyzer(reference_examples: Path, opt_ml: Path):
    source = reference_examples / "from-idea-to-production-monitoring" / "notebook-output"
    capture = (
        opt_ml / "processing" / "input_data" / "bank-marketing" / "AllTraffic" / "2025" / "02" / "16" / "15"
    )
    capture.mkdir(parents=True)
    records = [json.loads(line) for line in (source / "merged.jsonl").read_text().splitlines()]
    for record in records:
        del record["groundTruthData"]
    (capture / "00-44-000-x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    labels = opt_ml / "processing" / "groundtruth" / "2025" / "02" / "16" / "15"
    labels.mkdir(parents=True)
    shutil.copy(source / "groundtruth.jsonl", labels / "labels.jsonl")
    _constraints(opt_ml)
    assert run_container(_schedule_env(opt_ml)) == 0
    assert _message(opt_ml).startswith("Completed:")
    merged = list((opt_ml / "processing" / "output" / "merge").glob("*.jsonl"))
    written = [json.loads(line) for line in merged[0].read_text().splitlines()]
    assert written == [json.loads(line) for line in (source / "merged.jsonl").read_text().splitlines()]


def test_a_window_without_labels_completes_with_a_no_data_message(opt_ml: Path):
    (opt_ml / "processing" / "input_data").mkdir(parents=True)
    (opt_ml / "processing" / "groundtruth").mkdir(parents=True)
    _constraints(opt_ml)
    assert run_container(_schedule_env(opt_ml)) == 0
    assert "No data to analyze" in _message(opt_ml)


def _monitor_request(env: dict[str, str]):
    return contract.monitor_request_from_environment(env, ContainerPaths(root=Path("/sim")))


def test_monitor_environment_maps_every_variable():
    env = _schedule_env(
        Path("/sim"),
        ground_truth_source="/opt/ml/processing/gt",
        ground_truth_lookback="P1D",
        positive_label="yes",
    )
    assert contract.mode_of(env) == RunMode.MONITOR
    request = _monitor_request(env)
    settings = request.settings
    assert (settings.problem_type, settings.inference_attribute, settings.probability_attribute) == (
        ProblemType.BINARY_CLASSIFICATION,
        "0",
        "0",
    )
    assert settings.probability_threshold == 0.5
    assert request.capture == Path("/sim/processing/input_data")
    assert request.ground_truth == Path("/sim/processing/gt")
    assert request.merged is None
    assert request.constraints == Path("/sim/processing/baseline/constraints/constraints.json")
    assert (request.window.start, request.window.end, request.metric_time) == (
        datetime(2025, 2, 16, 15, tzinfo=UTC),
        datetime(2025, 2, 16, 16, tzinfo=UTC),
        datetime(2025, 2, 16, 15, tzinfo=UTC),
    )
    assert (request.endpoint, request.schedule) == ("bank-marketing", "bank-marketing-mq")
    assert request.metrics_dir == Path("/sim/output/metrics/cloudwatch")
    assert request.ground_truth_lookback == timedelta(days=1)
    assert settings.positive_label == "yes"
    assert request.output == Path("/sim/processing/output")
    assert (request.reading.progress, request.overwrite) == (True, True)


def test_metrics_are_not_written_unless_publishing_is_enabled():
    assert _monitor_request(_schedule_env(Path("/sim"), publish_cloudwatch_metrics="Disabled")).metrics_dir is None


def test_a_non_numeric_probability_threshold_names_the_variable():
    with pytest.raises(AnalyzerInputError, match="probability_threshold_attribute"):
        _monitor_request(_schedule_env(Path("/sim"), probability_threshold_attribute="half"))


def test_max_bad_record_ratio_is_read_as_for_data_quality():
    assert _monitor_request(_schedule_env(Path("/sim"))).reading.max_bad_record_ratio == 0.1
    request = _monitor_request(_schedule_env(Path("/sim"), max_bad_record_ratio="0.25"))
    assert request.reading.max_bad_record_ratio == 0.25
    with pytest.raises(AnalyzerInputError, match="max_bad_record_ratio 'many'"):
        _monitor_request(_schedule_env(Path("/sim"), max_bad_record_ratio="many"))


def test_the_contract_builds_the_monitor_request_the_command_line_builds_for_the_same_job():
    env = _schedule_env(Path("/sim"), ground_truth_source="/opt/ml/processing/gt", ground_truth_lookback="PT2H",
                        positive_label="yes", max_bad_record_ratio="0.2")
    argv = ["monitor", "--type", "model-quality", "--capture", "/sim/processing/input_data",
            "--ground-truth", "/sim/processing/gt", "--output", "/sim/processing/output",
            "--constraints", "/sim/processing/baseline/constraints/constraints.json",
            "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
            "--probability-threshold", "0.5", "--positive-label", "yes", "--start", "2025-02-16T15:00:00Z",
            "--end", "2025-02-16T16:00:00Z", "--metric-time", "2025-02-16T15:00:00Z", "--ground-truth-lookback", "PT2H",
            "--endpoint", "bank-marketing", "--schedule", "bank-marketing-mq", "--max-bad-record-ratio", "0.2",
            "--metrics-dir", "/sim/output/metrics/cloudwatch", "--overwrite"]
    from_env = _monitor_request(env)
    from_cli = mq_package.monitor_request(build_parser("model-quality").parse_args(argv))
    # the same run; each names its settings in its user's words
    assert (from_env.names, from_cli.names) == (contract.ENVIRONMENT_NAMES, OPTION_NAMES)
    assert replace(from_env, names=OPTION_NAMES) == from_cli


def test_the_contract_builds_the_baseline_request_the_command_line_builds_for_the_same_job():
    env = {"analysis_type": "MODEL_QUALITY", "problem_type": "Regression", "inference_attribute": "Label",
           "ground_truth_attribute": "Prediction", "dataset_format": '{"csv": {"header": false}}',
           "dataset_source": "/opt/ml/processing/input/data", "output_path": "/opt/ml/processing/output",
           "comparison": "Threshold"}
    argv = ["baseline", "--type", "model-quality", "--dataset", "/sim/processing/input/data", "--dataset-format", "csv",
            "--no-header", "--output", "/sim/processing/output", "--problem-type", "Regression",
            "--inference-attribute", "Label", "--ground-truth-attribute", "Prediction", "--comparison", "threshold",
            "--overwrite"]
    assert contract.mode_of(env) == RunMode.BASELINE
    from_env = contract.baseline_request_from_environment(env, ContainerPaths(root=Path("/sim")))
    from_cli = mq_package.baseline_request(build_parser("model-quality").parse_args(argv))
    assert (from_env.names, from_cli.names) == (contract.ENVIRONMENT_NAMES, OPTION_NAMES)
    assert replace(from_env, names=OPTION_NAMES) == from_cli
