"""Container mode on a simulated /opt/ml tree with SageMaker's real environment variables."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from model_monitor_analyzer.contract.entrypoint import run_container


def _job(tmp_path, environment):
    root = tmp_path / "opt" / "ml"
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps({"Environment": environment}))
    return root, {"MODEL_MONITOR_OPT_ML_ROOT": str(root)}


def _baseline(tmp_path, reference_examples):
    env = {
        "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
        "drift_method": "sagemaker",  # the built-in's rule: its very constraints.json
    }
    root, process_env = _job(tmp_path, env)
    data = root / "processing" / "input" / "baseline_dataset_input"
    data.mkdir(parents=True)
    shutil.copy(reference_examples / "immersion-day-churn-data-quality" / "training-dataset-with-header.csv", data / "train.csv")
    return root, process_env


def test_baseline_job_writes_files_message_and_exits_zero(reference_examples, tmp_path):
    root, process_env = _baseline(tmp_path, reference_examples)
    assert run_container(process_env) == 0
    output = root / "processing" / "output"
    expected = json.loads((reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "constraints.json").read_text())
    assert json.loads((output / "constraints.json").read_text()) == expected
    assert (root / "output" / "message").read_text().startswith("Completed:")


def _monitor_env(**extra):
    env = {
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
    }
    env.update(extra)
    return env


def _monitor_tree(tmp_path, reference_examples, **extra):
    base_root, base_env = _baseline(tmp_path / "base", reference_examples)
    assert run_container(base_env) == 0
    root, process_env = _job(tmp_path / "mon", _monitor_env(**extra))
    capture = root / "processing" / "input" / "endpoint" / "churn-ep" / "AllTraffic" / "2021" / "02" / "02" / "12"
    capture.mkdir(parents=True)
    shutil.copy(reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "capture.jsonl", capture / "42-00-000-x.jsonl")
    for kind, sub in (("constraints", "constraints"), ("statistics", "stats")):
        target = root / "processing" / "baseline" / sub / f"{kind}.json"
        target.parent.mkdir(parents=True)
        shutil.copy(base_root / "processing" / "output" / f"{kind}.json", target)
    return root, process_env


def test_monitoring_job_reports_violations_and_publishes_metrics(reference_examples, tmp_path):
    root, process_env = _monitor_tree(tmp_path, reference_examples)
    assert run_container(process_env) == 0
    message = (root / "output" / "message").read_text()
    assert message == "CompletedWithViolations: Job completed successfully with 1 violations."
    results = root / "processing" / "resultdata"
    assert json.loads((results / "constraint_violations.json").read_text())["violations"][0]["feature_name"] == "Churn"
    lines = [json.loads(line) for line in (root / "output" / "metrics" / "cloudwatch" / "cloudwatch_metrics.jsonl").read_text().splitlines()]
    assert {"MetricName", "Timestamp", "Dimensions", "Unit"} <= set(lines[0])
    assert lines[0]["Dimensions"] == [{"Name": "Endpoint", "Value": "churn-ep"}, {"Name": "MonitoringSchedule", "Value": "churn-hourly"}]
    assert all(line["Timestamp"] == "2021-02-02T12:00:00Z" for line in lines)


def test_disabled_metric_publishing_writes_no_metric_file(reference_examples, tmp_path):
    root, process_env = _monitor_tree(tmp_path, reference_examples, publish_cloudwatch_metrics="Disabled")
    assert run_container(process_env) == 0
    assert not (root / "output" / "metrics").exists()


def test_missing_baseline_file_fails_with_255_and_a_message_naming_the_folder(reference_examples, tmp_path):
    root, process_env = _monitor_tree(tmp_path, reference_examples)
    (root / "processing" / "baseline" / "stats" / "statistics.json").unlink()
    assert run_container(process_env) == 255
    message = (root / "output" / "message").read_text()
    assert message.startswith("Error: no data-quality statistics (statistics.json) for baseline_statistics")
    assert f"{root}/processing/baseline/stats holds no file" in message


def test_a_baseline_job_without_its_dataset_names_the_dataset_setting_not_a_capture_folder(reference_examples, tmp_path):
    root, process_env = _baseline(tmp_path, reference_examples)
    shutil.rmtree(root / "processing" / "input" / "baseline_dataset_input")
    assert run_container(process_env) == 255
    message = (root / "output" / "message").read_text()
    assert "dataset not found; point dataset_source at an existing file or folder" in message
    assert "capture" not in message


def test_record_preprocessor_reshapes_records(reference_examples, tmp_path):
    script = tmp_path / "pre.py"
    script.write_text(
        "def preprocess_handler(inference_record, logger):\n"
        "    values = inference_record.endpoint_input.data.split(',')\n"
        "    if values[0] == '138':\n"
        "        return []\n"
        "    return {str(i).zfill(20): v for i, v in enumerate(['0'] + values)}\n"
    )
    root, process_env = _monitor_tree(tmp_path, reference_examples, record_preprocessor_script=str(script))
    assert run_container(process_env) == 0
    statistics = json.loads((root / "processing" / "resultdata" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 2
    assert statistics["features"][0]["inferred_type"] == "Integral"


def test_a_failing_user_script_is_reported_with_its_own_traceback(reference_examples, tmp_path):
    script = tmp_path / "pre.py"
    script.write_text("def preprocess_handler(inference_record):\n    return 1 / 0\n")
    root, process_env = _monitor_tree(tmp_path, reference_examples, record_preprocessor_script=str(script))
    assert run_container(process_env) == 255
    message = (root / "output" / "message").read_text()
    assert f"{script}:2: preprocess_handler failed: ZeroDivisionError" in message
    assert "return 1 / 0" in message


def test_post_analytics_processor_runs_after_the_analysis(reference_examples, tmp_path):
    marker = tmp_path / "ran.txt"
    script = tmp_path / "post.py"
    script.write_text(f"def postprocess_handler():\n    open({str(marker)!r}, 'w').write('ok')\n")
    _, process_env = _monitor_tree(tmp_path, reference_examples, post_analytics_processor_script=str(script))
    assert run_container(process_env) == 0
    assert marker.read_text() == "ok"


def test_empty_window_completes_with_the_no_data_metric(reference_examples, tmp_path):
    root, process_env = _monitor_tree(tmp_path, reference_examples, start_time="2030-01-01T00:00:00Z", end_time="2030-01-01T01:00:00Z")
    assert run_container(process_env) == 0
    assert "no data" in (root / "output" / "message").read_text()
    (line,) = (root / "output" / "metrics" / "cloudwatch" / "cloudwatch_metrics.jsonl").read_text().splitlines()
    assert json.loads(line)["MetricName"] == "monitoring_no_data"


def test_module_without_arguments_is_the_container_entrypoint(reference_examples, tmp_path):
    root, process_env = _baseline(tmp_path, reference_examples)
    done = subprocess.run([sys.executable, "-m", "model_monitor_analyzer"], env={**process_env, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (root / "processing" / "output" / "statistics.json").is_file()


@pytest.mark.parametrize("value", ["{not json", json.dumps({"avro": {}})])
def test_bad_dataset_format_fails_the_job_with_a_reason(tmp_path, value):
    root, process_env = _job(tmp_path, {"dataset_format": value})
    assert run_container(process_env) == 255
    assert "dataset_format" in (root / "output" / "message").read_text()
