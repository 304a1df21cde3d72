"""A batch transform job's files give the same verdicts and numbers as the endpoint capture of the same records.

Each test writes an hour of the demo's captured traffic (``demo.data``), then the files a transform job with
``GenerateInferenceId`` would have read and written for the same requests: the CSV requests as its input file
(with a byte-order mark), the model outputs followed by the inference id and time as its gzip-compressed
``.out`` file. The same labels refer to the same inference ids, so every monitor type must find the same.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from demo import data
from model_monitor_analyzer.cli import main as analyzer
from model_monitor_analyzer.contract.entrypoint import run_container
from tests.conftest import REPO_ROOT

FIRST_HOUR = datetime(2026, 11, 25, 8)
DRIFTED, BIAS_SHIFT = 3, 5  # demo_hours: drifted inputs and outcomes; seniors' scores raised
BIAS_BASELINE = REPO_ROOT / "demo" / "baseline-bias"
QUALITY_BASELINE = REPO_ROOT / "demo" / "baseline-model-quality"


def _window(hour: int) -> list[str]:
    start = data.demo_hours(FIRST_HOUR)[hour].start
    return ["--start", f"{start:%Y-%m-%dT%H:%M:%SZ}", "--end", f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"]


def _hour_folder(capture: Path, hour: int) -> Path:
    """The capture files of one hour, as a monitoring job of that hour is given them."""
    start = data.demo_hours(FIRST_HOUR)[hour].start
    return capture / data.ENDPOINT / data.VARIANT / f"{start:%Y/%m/%d/%H}"


def _capture_records(capture: Path, hour: int) -> list[dict]:
    folder = _hour_folder(capture, hour)
    return [json.loads(line) for file in sorted(folder.glob("*.jsonl")) for line in file.read_text().splitlines()]


def write_transform_job(records: list[dict], folder: Path, *, name: str = "requests.csv") -> Path:
    """The input and output files of a transform job that read the requests of ``records`` (CSV, with a
    byte-order mark) and wrote their model outputs with the inference id and time (gzip, ``<name>.out``)."""
    (folder / "input").mkdir(parents=True)
    (folder / "output").mkdir(parents=True)
    requests = "".join(record["captureData"]["endpointInput"]["data"] + "\n" for record in records)
    (folder / "input" / name).write_bytes(b"\xef\xbb\xbf" + requests.encode())
    outputs = "".join(f"{r['captureData']['endpointOutput']['data']},{r['eventMetadata']['inferenceId']},"
                      f"{r['eventMetadata']['inferenceTime']}\n" for r in records)
    (folder / "output" / f"{name}.out").write_bytes(gzip.compress(outputs.encode()))
    return folder


@pytest.fixture(scope="module")
def demo_traffic(tmp_path_factory) -> tuple[Path, Path, dict[int, Path]]:
    """The demo's capture and labels, and a transform job's files for the drifted and the bias-shifted hours."""
    root = tmp_path_factory.mktemp("traffic")
    capture = data.write_capture(root / "capture", data.demo_hours(FIRST_HOUR), ground_truth=root / "gt")
    jobs = {hour: write_transform_job(_capture_records(capture, hour), root / f"transform-{hour}")
            for hour in (DRIFTED, BIAS_SHIFT)}
    return capture, root / "gt", jobs


def _without_times(document: object) -> object:
    """A report without the moments it was written at."""
    if isinstance(document, dict):
        return {k: _without_times(v) for k, v in document.items() if k not in ("evaluation_time", "dataset_time")}
    if isinstance(document, list):
        return [_without_times(v) for v in document]
    return document


def _lines(file: Path) -> list[str]:
    return file.read_text().splitlines()


def _documents(folder: Path, *names: str) -> dict[str, object]:
    return {name: _without_times(json.loads((folder / name).read_text())) for name in names}


@pytest.fixture(scope="module")
def features_baseline(tmp_path_factory) -> Path:
    """A data-quality baseline of the requests' features only (a transform job's input has no model output)."""
    root = tmp_path_factory.mktemp("dq-baseline")
    dataset = data.write_training_set(root / "features.csv", columns=data.FEATURES)
    assert analyzer(["baseline", "--type", "data-quality", "--dataset", str(dataset), "--output", str(root / "b"),
                     "--quiet"]) == 0
    return root / "b"


def test_data_quality_of_a_transform_job_equals_that_of_its_endpoint_capture(tmp_path, demo_traffic,
                                                                              features_baseline):
    capture, _, jobs = demo_traffic
    common = ["--statistics", str(features_baseline / "statistics.json"), "--constraints",
              str(features_baseline / "constraints.json"), *_window(DRIFTED), "--quiet"]
    assert analyzer(["monitor", "--type", "data-quality", "--capture", str(_hour_folder(capture, DRIFTED)), "--output",
                     str(tmp_path / "endpoint"), *common]) == 0
    assert analyzer(["monitor", "--type", "data-quality", "--capture", str(jobs[DRIFTED]), "--capture-format",
                     "batch", "--output", str(tmp_path / "batch"), *common]) == 0
    names = ("statistics.json", "constraint_violations.json")
    endpoint, batch = _documents(tmp_path / "endpoint", *names), _documents(tmp_path / "batch", *names)
    assert endpoint["constraint_violations.json"]["violations"]  # the drifted hour is found drifted
    assert batch == endpoint


def test_model_quality_of_a_transform_job_joins_labels_by_inference_id_as_the_endpoint_capture_does(
        tmp_path, demo_traffic):
    capture, labels, jobs = demo_traffic
    common = ["--problem-type", "BinaryClassification", "--probability-threshold", str(data.THRESHOLD),
              "--probability-attribute", "0", "--ground-truth", str(labels), "--constraints",
              str(QUALITY_BASELINE / "constraints.json"), *_window(DRIFTED), "--quiet"]
    assert analyzer(["monitor", "--type", "model-quality", "--capture", str(_hour_folder(capture, DRIFTED)), "--output",
                     str(tmp_path / "endpoint"), *common]) == 0
    assert analyzer(["monitor", "--type", "model-quality", "--capture", str(jobs[DRIFTED]), "--capture-format",
                     "batch", "--output", str(tmp_path / "batch"), *common]) == 0
    names = ("statistics.json", "constraint_violations.json")
    endpoint, batch = _documents(tmp_path / "endpoint", *names), _documents(tmp_path / "batch", *names)
    assert endpoint["constraint_violations.json"]["violations"]  # the drifted hour's outcomes no longer follow
    assert batch == endpoint
    merged = [json.loads(line) for file in (tmp_path / "batch" / "merge").glob("*.jsonl")
              for line in file.read_text().splitlines()]
    assert len(merged) == len(_capture_records(capture, DRIFTED))
    assert set(merged[0]["captureData"]) == {"batchTransformOutput"}  # as SageMaker's merge of a transform job


def test_bias_of_a_transform_job_equals_that_of_its_endpoint_capture(tmp_path, demo_traffic):
    capture, labels, jobs = demo_traffic
    common = ["--analysis-config", str(BIAS_BASELINE / "analysis_config.json"), "--baseline",
              str(BIAS_BASELINE / "analysis.json"), "--ground-truth", str(labels), "--probability-attribute", "0",
              *_window(BIAS_SHIFT), "--quiet"]
    assert analyzer(["monitor", "--type", "bias", "--capture", str(_hour_folder(capture, BIAS_SHIFT)), "--output",
                     str(tmp_path / "endpoint"), *common]) == 0
    assert analyzer(["monitor", "--type", "bias", "--capture", str(jobs[BIAS_SHIFT]), "--capture-format", "batch",
                     "--output", str(tmp_path / "batch"), *common]) == 0
    names = ("analysis.json", "constraint_violations.json")
    endpoint, batch = _documents(tmp_path / "endpoint", *names), _documents(tmp_path / "batch", *names)
    assert endpoint["constraint_violations.json"]["violations"]  # the seniors' raised scores are found
    assert batch == endpoint


def _container_job(tmp_path: Path, environment: dict[str, str]) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "opt" / "ml"
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps({"Environment": environment}))
    return root, {"MODEL_MONITOR_OPT_ML_ROOT": str(root)}


def _batch_environment(hour: int, **extra: str) -> dict[str, str]:
    start = data.demo_hours(FIRST_HOUR)[hour].start
    return {"monitoring_input_type": "BATCH_TRANSFORM", "dataset_source": "/opt/ml/processing/input_data",
            "output_path": "/opt/ml/processing/output", "publish_cloudwatch_metrics": "Enabled",
            "sagemaker_monitoring_schedule_name": "nightly-transform",
            "start_time": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end_time": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
            **extra}


def test_a_model_quality_job_on_a_transform_job_judges_as_the_command_line_on_its_endpoint_capture(
        tmp_path, demo_traffic):
    capture, labels, jobs = demo_traffic
    env = _batch_environment(DRIFTED, analysis_type="MODEL_QUALITY", dataset_format='{"Csv": {"Header": false}}',
                             problem_type="BinaryClassification", probability_attribute="0",
                             probability_threshold_attribute=str(data.THRESHOLD),
                             ground_truth_source="/opt/ml/processing/groundtruth",
                             baseline_constraints="/opt/ml/processing/baseline/constraints/constraints.json")
    root, process_env = _container_job(tmp_path, env)
    shutil.copytree(jobs[DRIFTED], root / "processing" / "input_data")
    shutil.copytree(labels, root / "processing" / "groundtruth")
    (root / "processing" / "baseline" / "constraints").mkdir(parents=True)
    shutil.copy(QUALITY_BASELINE / "constraints.json", root / "processing" / "baseline" / "constraints")
    assert run_container(process_env) == 0
    assert (root / "output" / "message").read_text().startswith("CompletedWithViolations:")
    assert analyzer(["monitor", "--type", "model-quality", "--capture", str(_hour_folder(capture, DRIFTED)),
                     "--ground-truth", str(labels), "--problem-type", "BinaryClassification", "--probability-threshold",
                     str(data.THRESHOLD), "--probability-attribute", "0", "--constraints",
                     str(QUALITY_BASELINE / "constraints.json"), *_window(DRIFTED), "--output",
                     str(tmp_path / "endpoint"), "--quiet"]) == 0
    names = ("statistics.json", "constraint_violations.json")
    assert _documents(root / "processing" / "output", *names) == _documents(tmp_path / "endpoint", *names)
    metric_files = (root / "output" / "metrics" / "cloudwatch").glob("*.jsonl")
    lines = [json.loads(line) for file in metric_files for line in _lines(file)]
    assert {tuple(d["Name"] for d in line["Dimensions"]) for line in lines} == {("MonitoringSchedule",)}


def test_a_data_quality_job_on_a_transform_job_reads_its_input_rows(tmp_path, demo_traffic, features_baseline):
    capture, _, jobs = demo_traffic
    env = _batch_environment(DRIFTED, dataset_format='{"csv": {"header": false}}',
                             baseline_statistics="/opt/ml/processing/baseline/stats/statistics.json",
                             baseline_constraints="/opt/ml/processing/baseline/constraints/constraints.json")
    root, process_env = _container_job(tmp_path, env)
    shutil.copytree(jobs[DRIFTED], root / "processing" / "input_data")
    for kind, folder in (("statistics", "stats"), ("constraints", "constraints")):
        (root / "processing" / "baseline" / folder).mkdir(parents=True)
        shutil.copy(features_baseline / f"{kind}.json", root / "processing" / "baseline" / folder)
    assert run_container(process_env) == 0
    assert (root / "output" / "message").read_text().startswith("CompletedWithViolations:")
    statistics = json.loads((root / "processing" / "output" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == len(_capture_records(capture, DRIFTED))
    assert [f["name"] for f in statistics["features"]] == list(data.FEATURES)
