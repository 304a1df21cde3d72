"""outcome.json: the verdict a monitoring job leaves beside its reports, read by the standalone engine's publisher.

Each test runs the container entrypoint on a simulated /opt/ml tree with the environment SageMaker sets, on
real capture files, and reads the document the job would upload with its reports.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.jobs.outcome import NO_DATA_REASONS, OUTCOME_FILE

from ..conftest import churn_baseline_files

CHURN = "immersion-day-churn-data-quality"
ADULT = "ase-model-bias-monitor-adult"


def _tree(tmp_path: Path, environment: dict[str, str]) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "opt" / "ml"
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps({"Environment": environment}))
    return root, {"MODEL_MONITOR_OPT_ML_ROOT": str(root)}


def _outcome(root: Path, output: str) -> dict | None:
    path = root / "processing" / output / OUTCOME_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _data_quality_job(tmp_path: Path, reference_examples: Path, capture_lines: list[str]) -> tuple[Path, dict]:
    """A scheduled data-quality job of the window 12:00-13:00 over one capture file holding ``capture_lines``,
    against the churn example's own baseline."""
    root, process_env = _tree(tmp_path, {
        "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "output_path": "/opt/ml/processing/resultdata",
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": "churn-ep",
        "sagemaker_monitoring_schedule_name": "churn-hourly",
        "start_time": "2021-02-02T12:00:00Z",
        "end_time": "2021-02-02T13:00:00Z",
        "metric_time": "2021-02-02T12:00:00Z",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json",
    })  # fmt: skip
    capture = root / "processing" / "input" / "endpoint" / "churn-ep" / "AllTraffic" / "2021" / "02" / "02" / "12"
    capture.mkdir(parents=True)
    (capture / "42-00-000-x.jsonl").write_text("".join(line + "\n" for line in capture_lines))
    for name, folder in (("constraints.json", "constraints"), ("statistics.json", "stats")):
        target = root / "processing" / "baseline" / folder / name
        target.parent.mkdir(parents=True)
        target.write_bytes(churn_baseline_files(reference_examples)[name])
    return root, process_env


def _churn_capture(reference_examples: Path) -> list[str]:
    return (reference_examples / CHURN / "notebook-output" / "capture.jsonl").read_text().splitlines()


def test_a_window_with_data_records_the_status_of_its_exit_message(reference_examples, tmp_path):
    root, env = _data_quality_job(tmp_path, reference_examples, _churn_capture(reference_examples))

    assert run_container(env) == 0

    outcome = _outcome(root, "resultdata")
    message = (root / "output" / "message").read_text()
    assert message.startswith(f"{outcome['status']}:")
    assert outcome["message"] == message
    assert "no_data_reason" not in outcome
    assert outcome["summary"]["records"] == len(_churn_capture(reference_examples))
    violations = json.loads((root / "processing" / "resultdata" / "constraint_violations.json").read_text())
    assert outcome["summary"]["violations"] == len(violations["violations"])


def test_capture_files_without_a_record_of_the_window_are_no_data_with_that_reason(reference_examples, tmp_path):
    # the real capture, each record moved two hours before the window
    lines = [line.replace('"inferenceTime":"2021-02-02T12', '"inferenceTime":"2021-02-02T10')
             for line in _churn_capture(reference_examples)]
    assert all('"2021-02-02T10' in line for line in lines)
    root, env = _data_quality_job(tmp_path, reference_examples, lines)

    assert run_container(env) == 0

    outcome = _outcome(root, "resultdata")
    assert (outcome["status"], outcome["no_data_reason"]) == ("NoData", "no_records_in_window")
    assert outcome["summary"]["records"] == 0
    assert outcome["no_data_reason"] in NO_DATA_REASONS


def test_empty_capture_files_are_no_data_with_that_reason(reference_examples, tmp_path):
    root, env = _data_quality_job(tmp_path, reference_examples, ["", ""])

    assert run_container(env) == 0

    outcome = _outcome(root, "resultdata")
    assert (outcome["status"], outcome["no_data_reason"]) == ("NoData", "no_records_in_window")


def test_a_window_whose_records_are_all_unreadable_fails_and_leaves_no_outcome(reference_examples, tmp_path):
    root, env = _data_quality_job(tmp_path, reference_examples, ["not json", '{"captureData": {"endpointInput": 1'])

    assert run_container(env) == 255

    assert "none of the 2 records could be read" in (root / "output" / "message").read_text()
    assert _outcome(root, "resultdata") is None  # the failed job is the verdict: Failed, never healthy


def test_a_baseline_run_writes_no_outcome(reference_examples, tmp_path):
    root, env = _tree(tmp_path, {
        "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    })  # fmt: skip
    data = root / "processing" / "input" / "baseline_dataset_input"
    data.mkdir(parents=True)
    shutil.copy(reference_examples / CHURN / "training-dataset-with-header.csv", data / "train.csv")

    assert run_container(env) == 0

    # a baseline folder is read back as one statistics and one constraints file: nothing else goes there
    assert sorted(p.name for p in (root / "processing" / "output").iterdir() if p.suffix == ".json") == [
        "constraints.json", "statistics.json"]


def test_model_quality_captures_without_labels_are_no_data_waiting_for_labels(reference_examples, tmp_path):
    source = reference_examples / "from-idea-to-production-monitoring" / "notebook-output"
    root = tmp_path / "opt-ml"
    capture = root / "processing" / "input_data" / "bank-marketing" / "AllTraffic" / "2025" / "02" / "16" / "15"
    capture.mkdir(parents=True)
    records = [json.loads(line) for line in (source / "merged.jsonl").read_text().splitlines()]
    for record in records:
        del record["groundTruthData"]
    (capture / "00-44-000-x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "processing" / "groundtruth").mkdir(parents=True)
    constraints = root / "processing" / "baseline" / "constraints" / "constraints.json"
    constraints.parent.mkdir(parents=True)
    constraints.write_text(json.dumps({"version": 0.0, "binary_classification_constraints": {
        "accuracy": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"}}}))  # fmt: skip

    assert run_container({
        "MODEL_MONITOR_OPT_ML_ROOT": str(root), "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification", "inference_attribute": "0", "probability_attribute": "0",
        "probability_threshold_attribute": "0.5", "dataset_source": "/opt/ml/processing/input_data",
        "output_path": "/opt/ml/processing/output",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "sagemaker_endpoint_name": "bank-marketing", "sagemaker_monitoring_schedule_name": "bank-marketing-mq",
        "start_time": "2025-02-16T15:00:00Z", "end_time": "2025-02-16T16:00:00Z",
        "metric_time": "2025-02-16T15:00:00Z", "publish_cloudwatch_metrics": "Enabled",
    }) == 0  # fmt: skip

    outcome = _outcome(root, "output")
    assert (outcome["status"], outcome["no_data_reason"]) == ("NoData", "no_labelled_records")
    assert outcome["summary"]["captures_without_label"] == len(records)
    assert outcome["message"] == (root / "output" / "message").read_text()


def test_bias_captures_without_labels_are_no_data_waiting_for_labels(reference_examples, tmp_path):
    record = json.loads((reference_examples / ADULT / "notebook-output" / "merged-record.json").read_text())
    captures = []
    for inference_id in range(10):
        capture = copy.deepcopy({k: record[k] for k in ("eventVersion", "captureData", "eventMetadata")})
        capture["eventMetadata"]["inferenceId"] = str(inference_id)
        captures.append(capture)
    root = tmp_path / "opt-ml"
    folder = root / "processing" / "input_data" / "adult-ep" / "AllTraffic" / "2024" / "01" / "19" / "20"
    folder.mkdir(parents=True)
    (folder / "c.jsonl").write_text("".join(json.dumps(c) + "\n" for c in captures))
    (root / "processing" / "groundtruth").mkdir(parents=True)
    names = (reference_examples / ADULT / "derived" / "validation-predictions.csv").read_text().split("\n")[0]
    target, *features = names.split(",")[:15]
    config = root / "processing" / "input" / "config" / "analysis_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"headers": [*features, target], "label": "instances[*].label",
                                  "label_values_or_threshold": [1],
                                  "facet": [{"name_or_index": "Sex", "value_or_threshold": [0]}]}))

    assert run_container({
        "MODEL_MONITOR_OPT_ML_ROOT": str(root), "analysis_type": "MODEL_BIAS",
        "dataset_source": "/opt/ml/processing/input_data", "output_path": "/opt/ml/processing/output",
        "start_time": "2024-01-19T20:00:00Z", "end_time": "2024-01-19T21:00:00Z",
        "metric_time": "2024-01-19T20:00:00Z", "sagemaker_endpoint_name": "adult-ep",
        "sagemaker_monitoring_schedule_name": "adult-bias", "features_attribute": "instances[*].features",
        "inference_attribute": "predictions[*].predicted_label",
    }) == 0  # fmt: skip

    outcome = _outcome(root, "output")
    assert (outcome["status"], outcome["no_data_reason"]) == ("NoData", "no_labelled_records")
    assert outcome["summary"]["captures_without_label"] == 10
