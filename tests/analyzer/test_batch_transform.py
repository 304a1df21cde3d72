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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from demo import data
from model_monitor_analyzer.cli import main as analyzer
from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.contract.environment import batch_source, parse_dataset_format
from model_monitor_analyzer.io import batch as batch_io
from model_monitor_analyzer.io.batch import BatchFormat, BatchReading, BatchSource, stage_capture_records
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow
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
    judged = ["--problem-type", "BinaryClassification", "--probability-threshold", str(data.THRESHOLD),
              "--probability-attribute", "0", "--constraints", str(QUALITY_BASELINE / "constraints.json"),
              *_window(DRIFTED), "--quiet"]
    common = [*judged, "--ground-truth", str(labels)]
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
    # merged records of a transform job (ours here, SageMaker's alike) are read back to the same numbers
    assert analyzer(["monitor", "--type", "model-quality", "--merged", str(tmp_path / "batch" / "merge"),
                     "--output", str(tmp_path / "merged"), *judged]) == 0
    assert _documents(tmp_path / "merged", *names) == endpoint


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


# ---------------------------------------------------------------- users' own files
@pytest.fixture(scope="module")
def users_frame():
    """A user's scoring data as pandas writes it: floats of every length, whole numbers, text."""
    import pandas as pd
    rng = np.random.default_rng(5)
    n = 400
    return pd.DataFrame({"income": rng.lognormal(10, 1, n), "ratio": rng.random(n) / 3, "age": rng.integers(18, 90, n),
                         "region": rng.choice(["north", "south", "east"], n)})


def test_a_users_to_csv_and_parquet_inputs_profile_as_the_same_requests_sent_to_an_endpoint(tmp_path, users_frame):
    frame = users_frame
    frame.to_csv(tmp_path / "reference.csv", index=False)
    assert analyzer(["baseline", "--type", "data-quality", "--dataset", str(tmp_path / "reference.csv"),
                     "--output", str(tmp_path / "baseline"), "--quiet"]) == 0
    rows = frame.to_csv(index=False, header=False).splitlines()
    endpoint = tmp_path / "endpoint" / "ep" / "AllTraffic" / "2025" / "03" / "01" / "10"
    endpoint.mkdir(parents=True)
    (endpoint / "00-00-000-a.jsonl").write_text("".join(json.dumps({
        "captureData": {"endpointInput": {"data": row, "encoding": "CSV", "mode": "INPUT"},
                        "endpointOutput": {"data": "0.5", "encoding": "CSV", "mode": "OUTPUT"}},
        "eventMetadata": {"eventId": str(i), "inferenceTime": "2025-03-01T10:00:00Z"}, "eventVersion": "0"}) + "\n"
        for i, row in enumerate(rows)))
    (tmp_path / "csv-job" / "input").mkdir(parents=True)
    (tmp_path / "csv-job" / "input" / "scoring.csv").write_bytes(
        b"\xef\xbb\xbf" + frame.to_csv(index=False, header=False).encode())
    (tmp_path / "parquet-job" / "input").mkdir(parents=True)
    frame.to_parquet(tmp_path / "parquet-job" / "input" / "scoring.parquet", index=False)
    common = ["--statistics", str(tmp_path / "baseline" / "statistics.json"), "--constraints",
              str(tmp_path / "baseline" / "constraints.json"), "--start", "2025-03-01T10:00:00Z", "--end",
              "2025-03-01T11:00:00Z", "--quiet"]
    assert analyzer(["monitor", "--type", "data-quality", "--capture", str(tmp_path / "endpoint"), "--output",
                     str(tmp_path / "from-endpoint"), *common]) == 0
    for job in ("csv-job", "parquet-job"):
        assert analyzer(["monitor", "--type", "data-quality", "--capture", str(tmp_path / job), "--capture-format",
                         "batch", "--output", str(tmp_path / f"from-{job}"), *common]) == 0
        names = ("statistics.json", "constraint_violations.json")
        assert _documents(tmp_path / f"from-{job}", *names) == _documents(tmp_path / "from-endpoint", *names), job
    statistics = json.loads((tmp_path / "from-endpoint" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == len(frame)
    income = next(f for f in statistics["features"] if f["name"] == "income")["numerical_statistics"]
    assert income["mean"] == pytest.approx(frame["income"].mean(), rel=1e-12)  # the values arrive whole


# ---------------------------------------------------------------- what goes wrong, in one line
def _error(capsys, *arguments: str) -> str:
    assert analyzer(list(arguments)) == 2
    message = capsys.readouterr().err.strip().splitlines()
    return message[-1]


def _model_quality(capture: Path, labels: Path, output: Path, *extra: str) -> list[str]:
    return ["monitor", "--type", "model-quality", "--capture", str(capture), "--capture-format", "batch",
            "--ground-truth", str(labels), "--problem-type", "BinaryClassification", "--probability-threshold", "0.5",
            "--probability-attribute", "0", "--output", str(output), *extra]


def test_a_folder_without_transform_files_is_one_line(tmp_path, capsys):
    (tmp_path / "job").mkdir()
    message = _error(capsys, *_model_quality(tmp_path / "job", tmp_path, tmp_path / "out"))
    assert "no data files of a batch transform job" in message and "input/" in message


def test_outputs_without_inference_ids_cannot_be_joined_with_labels(tmp_path, capsys):
    (tmp_path / "job" / "output").mkdir(parents=True)
    (tmp_path / "job" / "output" / "scoring.csv.out").write_text("0.7\n0.2\n")
    message = _error(capsys, *_model_quality(tmp_path / "job", tmp_path, tmp_path / "out"))
    assert "scoring.csv.out:1" in message and "GenerateInferenceId" in message


def test_an_input_and_its_output_with_different_row_counts_are_refused(tmp_path, capsys):
    (tmp_path / "job" / "input").mkdir(parents=True)
    (tmp_path / "job" / "output").mkdir()
    (tmp_path / "job" / "input" / "a.csv").write_text("1,2\n3,4\n5,6\n")
    (tmp_path / "job" / "output" / "a.csv.out").write_text(
        "0.1,id-1,2025-03-01T10:00:00Z\n0.2,id-2,2025-03-01T10:00:00Z\n")
    message = _error(capsys, "monitor", "--type", "bias", "--analysis-config",
                     str(BIAS_BASELINE / "analysis_config.json"), "--capture", str(tmp_path / "job"),
                     "--capture-format", "batch", "--ground-truth", str(tmp_path), "--probability-attribute", "0",
                     "--output", str(tmp_path / "out"))
    assert "has 3 row(s) but its output" in message and "a.csv.out has 2" in message


def test_a_manifest_naming_a_file_that_is_not_there_is_one_line(tmp_path, capsys):
    (tmp_path / "capture" / "output" / "2025" / "03" / "01" / "10").mkdir(parents=True)
    (tmp_path / "capture" / "output" / "2025" / "03" / "01" / "10" / "m.json").write_text(
        '[{"prefix": "s3://bucket/transform-output/"}, "scoring.csv.out"]')
    (tmp_path / "data").mkdir()
    message = _error(capsys, *_model_quality(tmp_path / "capture", tmp_path, tmp_path / "out", "--batch-data",
                                             str(tmp_path / "data")))
    assert "m.json" in message and "'scoring.csv.out'" in message and "not a file" in message


def test_batch_data_without_the_batch_capture_format_is_refused(tmp_path, capsys):
    message = _error(capsys, "monitor", "--type", "model-quality", "--capture", str(tmp_path), "--ground-truth",
                     str(tmp_path), "--problem-type", "Regression", "--inference-attribute", "0", "--batch-data",
                     str(tmp_path), "--output", str(tmp_path / "out"))
    assert "--batch-data goes with --capture-format batch" in message


def test_malformed_output_rows_are_counted_with_their_file_and_line(tmp_path, capsys):
    (tmp_path / "job" / "output").mkdir(parents=True)
    good = "".join(f'{{"SageMakerInferenceId": "i{k}", "SageMakerInferenceTime": "2025-03-01T10:00:00Z", '
                   f'"SageMakerOutput": {{"score": 0.{k}}}}}\n' for k in range(1, 4))
    (tmp_path / "job" / "output" / "s.jsonl.out").write_text(good + "{not json\n")
    message = _error(capsys, *_model_quality(tmp_path / "job", tmp_path, tmp_path / "out"))
    assert "s.jsonl.out:4" in message and "malformed JSON" in message and "1 of 4 transform rows" in message


@pytest.mark.parametrize(("environment", "expected"), [
    ({"monitoring_input_type": "BATCH"}, "neither ENDPOINT_INPUT nor BATCH_TRANSFORM"),
    ({"monitoring_input_type": "BATCH_TRANSFORM", "dataset_format": '{"sagemakerCaptureJson": {}}'},
     "not sagemakerCaptureJson"),
])
def test_a_batch_environment_that_cannot_work_is_refused_in_one_line(tmp_path, environment, expected):
    env = {"analysis_type": "MODEL_QUALITY", "problem_type": "Regression", "inference_attribute": "0",
           "sagemaker_monitoring_schedule_name": "nightly-transform", **environment}
    root, process_env = _container_job(tmp_path, env)
    assert run_container(process_env) == 255
    message = (root / "output" / "message").read_text()
    assert message.startswith("Error: ") and expected in message and "\n" not in message.strip()


@pytest.mark.parametrize(("dataset_format", "expected"), [
    ('{"csv": {"header": false}}', BatchSource(data_format=BatchFormat.CSV)),
    ('{"Csv": {"Header": true}}', BatchSource(data_format=BatchFormat.CSV, header=True)),
    ('{"json": {"line": true}}', BatchSource(data_format=BatchFormat.JSON)),
    ('{"Json": {"Line": false}}', BatchSource(data_format=BatchFormat.JSON, json_lines=False)),
    ('{"parquet": {}}', BatchSource(data_format=BatchFormat.PARQUET)),
    ("", BatchSource()),
])
def test_the_batch_dataset_formats_are_read_in_either_spelling(dataset_format, expected):
    env = {"monitoring_input_type": "BATCH_TRANSFORM", "dataset_format": dataset_format}
    assert batch_source(env, parse_dataset_format(dataset_format)) == expected


def test_bias_on_csv_outputs_without_their_inputs_asks_for_the_input_files(tmp_path, capsys):
    (tmp_path / "job" / "output").mkdir(parents=True)
    (tmp_path / "job" / "output" / "a.csv.out").write_text("1,2,0.7,id-1,2025-03-01T10:00:00Z\n")
    message = _error(capsys, "monitor", "--type", "bias", "--analysis-config",
                     str(BIAS_BASELINE / "analysis_config.json"), "--capture", str(tmp_path / "job"),
                     "--capture-format", "batch", "--ground-truth", str(tmp_path), "--probability-attribute", "2",
                     "--output", str(tmp_path / "out"))
    assert "a.csv.out:1" in message and "stage the input/ files" in message


def test_a_pretty_printed_json_input_is_one_document_and_pairs_with_its_output(tmp_path):
    (tmp_path / "job" / "input").mkdir(parents=True)
    (tmp_path / "job" / "output").mkdir()
    document = {"instances": [{"features": [1, 2]}, {"features": [3, 4]}]}
    (tmp_path / "job" / "input" / "batch.json").write_text(json.dumps(document, indent=2))
    (tmp_path / "job" / "output" / "batch.json.out").write_text(json.dumps(
        {"SageMakerInferenceId": "i-1", "SageMakerInferenceTime": "2025-03-01T10:00:00Z",
         "SageMakerOutput": {"predictions": [{"score": 0.1}, {"score": 0.9}]}}) + "\n")
    staged = stage_capture_records(tmp_path / "job", BatchSource(), tmp_path, problems=InputProblems(),
                                   reading=BatchReading(inputs=True, outputs=True, ids_needed_for="labels"))
    (record,) = [json.loads(line) for line in staged.file.read_text().splitlines()]
    assert json.loads(record["captureData"]["batchTransformInput"]["data"]) == document
    assert json.loads(record["captureData"]["batchTransformOutput"]["data"]) == {
        "SageMakerOutput": {"predictions": [{"score": 0.1}, {"score": 0.9}]}}
    assert record["eventMetadata"] == {"eventId": "i-1", "inferenceTime": "2025-03-01T10:00:00Z"}


def _staged(job: Path, folder: Path, reading: BatchReading, window: TimeWindow | None = None) -> tuple[list, list]:
    folder.mkdir()
    problems = InputProblems(max_bad_record_ratio=1.0)
    staged = stage_capture_records(job, BatchSource(), folder, reading=reading, problems=problems, window=window)
    records = [json.loads(line) for line in staged.file.read_text(encoding="utf-8").splitlines()]
    return records, [(p.line, p.problem) for p in problems.examples] + [(problems.good, problems.outside_window)]


@pytest.mark.parametrize("reading", [BatchReading(inputs=True, outputs=False),
                                     BatchReading(inputs=False, outputs=True),
                                     BatchReading(inputs=True, outputs=True)], ids=["inputs", "outputs", "both"])
def test_csv_files_read_on_whole_columns_give_the_records_read_row_by_row(tmp_path, monkeypatch, reading):
    job = tmp_path / "job"
    (job / "input").mkdir(parents=True)
    (job / "output").mkdir()
    inputs = [b"1.5,a", b"", b'2,"b, with a comma"', b"3,back\\slash \"quoted\"", b"4,\xff not utf-8", b"5,caf\xc3\xa9",
              b"6,x", b"  ", b"7,y", b"8,tab\there", b"9,z"]
    times = ["2025-03-01T10:00:00Z", "2025-03-01T10:10:00Z", "2025-03-01T10:20:00Z", "2025-03-01T10:25:00Z",
             "2025-03-01T10:30:00Z", "2025-03-01T11:00:00Z", "2025-03-01T10:45:00Z", "2025-03-01T10:50:00.5Z",
             "2025-03-01T10:55:00Z"]
    outputs = [f"0.{k},id-{k},{when}".encode() for k, when in enumerate(times)]
    outputs[6] = b"0.6"  # a row without its id and time
    out_lines = [line for line in inputs if line.strip()]
    body = [outputs.pop(0) if line.strip() else line for line in inputs]
    assert len(out_lines) == 9
    (job / "input" / "a.csv").write_bytes(b"\r\n".join(inputs) + b"\r\n")
    (job / "output" / "a.csv.out").write_bytes(gzip.compress(b"\n".join(body) + b"\n"))
    window = TimeWindow(start=datetime(2025, 3, 1, 10, tzinfo=UTC), end=datetime(2025, 3, 1, 11, tzinfo=UTC))
    monkeypatch.setattr(batch_io, "BLOCK_ROWS", 3)  # blocks end inside the file
    column_wise = _staged(job, tmp_path / "column-wise", reading, window)
    monkeypatch.setattr(batch_io, "_csv_pair", lambda *_: False)
    assert column_wise == _staged(job, tmp_path / "row-by-row", reading, window)
    assert len(column_wise[0]) == 6  # 9 rows: one not UTF-8, one without id and time, one outside the window
    assert column_wise[1][-1] == (6, 1) and [line for line, _ in column_wise[1][:-1]] == [5, 9]


def test_many_plain_csv_rows_are_read_on_whole_columns(tmp_path, monkeypatch):
    job = write_transform_job([{"captureData": {"endpointInput": {"data": f"{k},{k / 7}"},
                                                "endpointOutput": {"data": f"{k % 2}"}},
                                "eventMetadata": {"inferenceId": f"i{k}", "inferenceTime": "2025-03-01T10:00:00Z"}}
                               for k in range(10_000)], tmp_path / "job")
    monkeypatch.setattr(batch_io, "_csv_block_row_by_row", None)  # any block read row by row would fail
    records, counts = _staged(job, tmp_path / "staged", BatchReading(inputs=True, outputs=True))
    assert len(records) == 10_000 and counts == [(10_000, 0)]
    assert records[7]["captureData"]["batchTransformInput"]["data"] == f"7,{7 / 7}"
    assert records[7]["eventMetadata"] == {"eventId": "i7", "inferenceTime": "2025-03-01T10:00:00Z"}


def test_a_few_unreadable_transform_rows_are_left_out_with_a_note(tmp_path, capsys):
    (tmp_path / "job" / "input").mkdir(parents=True)
    rows = [f"{k},{k * 2}".encode() for k in range(30)]
    rows[4] = b"4,\xff"
    (tmp_path / "job" / "input" / "a.csv").write_bytes(b"\n".join(rows) + b"\n")
    staged = stage_capture_records(tmp_path / "job", BatchSource(), tmp_path, problems=InputProblems(),
                                   reading=BatchReading(inputs=True, outputs=False))
    assert staged.records == 29
    note = capsys.readouterr().err
    assert "1 transform row(s) could not be read" in note and "a.csv:5: not UTF-8 text" in note


@pytest.mark.parametrize("attribute", ["SageMakerOutput.score", "score"])
def test_json_lines_outputs_are_read_at_the_path_given_or_inside_sagemaker_output(tmp_path, demo_traffic, attribute):
    capture, labels, _ = demo_traffic
    records = _capture_records(capture, DRIFTED)
    job = tmp_path / "job"
    (job / "output").mkdir(parents=True)
    (job / "output" / "requests.jsonl.out").write_text("".join(json.dumps({
        "SageMakerInferenceId": r["eventMetadata"]["inferenceId"], "SageMakerInferenceTime": r["eventMetadata"]["inferenceTime"],
        "SageMakerOutput": {"score": float(r["captureData"]["endpointOutput"]["data"])}}) + "\n" for r in records))
    judged = ["--type", "model-quality", "--problem-type", "BinaryClassification", "--probability-threshold",
              str(data.THRESHOLD), "--ground-truth", str(labels), *_window(DRIFTED), "--quiet"]
    assert analyzer(["monitor", *judged, "--capture", str(_hour_folder(capture, DRIFTED)), "--probability-attribute",
                     "0", "--output", str(tmp_path / "endpoint")]) == 0
    assert analyzer(["monitor", *judged, "--capture", str(job), "--capture-format", "batch", "--probability-attribute",
                     attribute, "--output", str(tmp_path / "batch")]) == 0
    assert _documents(tmp_path / "batch", "statistics.json") == _documents(tmp_path / "endpoint", "statistics.json")


def test_inputs_pair_with_the_outputs_of_the_same_key(tmp_path):
    for folder, name in (("input", "b/x.csv"), ("input", "a/x.csv"), ("output", "a/x.csv.out"),
                         ("output", "b/x.csv.out")):
        (tmp_path / folder / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / name).write_text("1\n")
    pairs = batch_io.file_pairs(batch_io.transform_files(tmp_path, BatchSource()))
    assert [(i.relative_to(tmp_path).as_posix(), o.relative_to(tmp_path).as_posix()) for i, o in pairs] == [
        ("input/a/x.csv", "output/a/x.csv.out"), ("input/b/x.csv", "output/b/x.csv.out")]
