"""AWS's batch-transform bias-monitoring example (a JSON transform job with JoinSource Input and inference ids),
read from its real files: the output manifest, the transform output, and what SageMaker made of them (its merged
record and the bias metrics of the execution's violations)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import main as analyzer
from model_monitor_analyzer.io.batch import BatchReading, BatchSource, stage_capture_records
from model_monitor_analyzer.io.manifest import read_manifest
from model_monitor_analyzer.io.problems import InputProblems

EXAMPLE = "ase-batch-transform-bias-json"
HOUR = "2024/01/19/19"
WINDOW = ["--start", "2024-01-19T19:00:00Z", "--end", "2024-01-19T20:00:00Z"]
# the example's bias configuration (its BiasConfig, headers and label JMESPath), as an analysis config
HEADERS = ["Age", "Workclass", "fnlwgt", "Education", "Education-Num", "Marital Status", "Occupation",
           "Relationship", "Ethnic group", "Sex", "Capital Gain", "Capital Loss", "Hours per week", "Country", "Target"]
ANALYSIS_CONFIG = {"dataset_type": "application/json", "headers": HEADERS, "label": "instances[*].label",
                   "label_values_or_threshold": [1], "facet": [{"name_or_index": "Sex", "value_or_threshold": [0]}],
                   "group_variable": "Age", "methods": {"post_training_bias": {"methods": "all"}}}
ATTRIBUTES = ["--features-attribute", "instances[*].features", "--inference-attribute",
              "predictions[*].predicted_label"]


@pytest.fixture
def example(reference_examples) -> Path:
    return reference_examples / EXAMPLE / "notebook-output"


@pytest.fixture
def merged_record(example) -> dict:
    return json.loads((example / "merged-record.jsonl").read_text())


@pytest.fixture
def transform_job(tmp_path, example, merged_record) -> dict[str, Path]:
    """The job's output manifest where the capture writes it, its output file by key, the example's labels."""
    manifests = tmp_path / "capture" / "output" / HOUR
    manifests.mkdir(parents=True)
    shutil.copy(example / "output-manifest.json", manifests / "5ef12a7a-2c09-4d6f-817b-84823cee935f.json")
    data = tmp_path / "data"
    data.mkdir()
    for key in read_manifest(example / "output-manifest.json").relative_paths():
        shutil.copy(example / key, data / key)
    labels = tmp_path / "gt" / HOUR
    labels.mkdir(parents=True)
    label = {"groundTruthData": merged_record["groundTruthData"], "eventMetadata": merged_record["eventMetadata"],
             "eventVersion": "0"}
    (labels / "2934.jsonl").write_text(json.dumps(label) + "\n")
    config = tmp_path / "analysis_config.json"
    config.write_text(json.dumps(ANALYSIS_CONFIG))
    return {"capture": tmp_path / "capture", "data": data, "labels": tmp_path / "gt", "config": config}


def test_a_transform_output_row_is_kept_as_sagemakers_merge_keeps_it(tmp_path, transform_job, merged_record):
    staged = stage_capture_records(transform_job["capture"], BatchSource(data=transform_job["data"]), tmp_path,
                                   reading=BatchReading(inputs=False, outputs=True), problems=InputProblems())
    (record,) = [json.loads(line) for line in staged.file.read_text().splitlines()]
    ours, theirs = record["captureData"]["batchTransformOutput"], merged_record["captureData"]["batchTransformOutput"]
    assert json.loads(ours["data"]) == json.loads(theirs["data"]) and ours["encoding"] == theirs["encoding"]
    assert record["eventMetadata"]["eventId"] == merged_record["eventMetadata"]["eventId"]
    assert record["eventMetadata"]["inferenceTime"] == "2024-01-19T19:25:34Z"


def _post_training(analysis_file: Path) -> dict[str, float]:
    analysis = json.loads(analysis_file.read_text())
    (group,) = [g for g in analysis["post_training_bias_metrics"]["facets"]["Sex"] if g["value_or_threshold"] == "0"]
    return {metric["name"]: metric["value"] for metric in group["metrics"]}


def test_bias_of_the_transform_job_has_the_values_sagemaker_found_in_its_execution(tmp_path, transform_job, example):
    assert analyzer(["monitor", "--type", "bias", "--analysis-config", str(transform_job["config"]),
                     "--capture", str(transform_job["capture"]), "--capture-format", "batch", "--batch-data",
                     str(transform_job["data"]), "--ground-truth", str(transform_job["labels"]), *ATTRIBUTES,
                     *WINDOW, "--output", str(tmp_path / "out"), "--quiet"]) == 0
    ours = _post_training(tmp_path / "out" / "analysis.json")
    found = json.loads((example / "constraint_violations.json").read_text())["violations"]
    assert len(found) == 8
    for violation in found:
        value = float(re.match(r"Metric value (\S+) ", violation["description"])[1])
        assert float(ours[violation["metric_name"]]) == pytest.approx(value, rel=1e-12), violation["metric_name"]


def test_bias_of_the_transform_job_equals_that_of_sagemakers_merged_record(tmp_path, transform_job, example):
    assert analyzer(["monitor", "--type", "bias", "--analysis-config", str(transform_job["config"]),
                     "--capture", str(transform_job["capture"]), "--capture-format", "batch", "--batch-data",
                     str(transform_job["data"]), "--ground-truth", str(transform_job["labels"]), *ATTRIBUTES,
                     *WINDOW, "--output", str(tmp_path / "batch"), "--quiet"]) == 0
    merged = tmp_path / "merged"
    merged.mkdir()
    shutil.copy(example / "merged-record.jsonl", merged / "part-00000-8cf95ad5-2469-48d9-a3dc-dd5a17fc8823.c000.jsonl")
    assert analyzer(["monitor", "--type", "bias", "--analysis-config", str(transform_job["config"]),
                     "--merged", str(merged), *ATTRIBUTES, "--output", str(tmp_path / "from-merge"), "--quiet"]) == 0
    assert _post_training(tmp_path / "batch" / "analysis.json") == _post_training(tmp_path / "from-merge" / "analysis.json")


def test_a_transform_jobs_input_manifest_may_name_its_prefix_as_the_object(reference_examples):
    manifest = read_manifest(reference_examples / "ase-batch-transform-bias-jsonlines" / "notebook-output"
                             / "input-manifest.json")
    assert manifest.relative_paths() == ["test-dataset.jsonl"]
    assert manifest.locations() == [manifest.prefix]


def test_the_jobs_input_document_zipped_with_its_output_gives_the_same_bias_metrics(tmp_path, transform_job,
                                                                                     reference_examples):
    # the job's files staged as the planner lays them out: the input document and its output, by name
    job = tmp_path / "job"
    (job / "input").mkdir(parents=True)
    (job / "output").mkdir()
    shutil.copy(reference_examples / EXAMPLE / "test_data" / "test-dataset.json", job / "input")
    shutil.copy(transform_job["data"] / "test-dataset.json.out", job / "output")
    common = ["monitor", "--type", "bias", "--analysis-config", str(transform_job["config"]), "--ground-truth",
              str(transform_job["labels"]), *ATTRIBUTES, *WINDOW, "--quiet", "--capture-format", "batch"]
    assert analyzer([*common, "--capture", str(job), "--output", str(tmp_path / "zipped")]) == 0
    assert analyzer([*common, "--capture", str(transform_job["capture"]), "--batch-data", str(transform_job["data"]),
                     "--output", str(tmp_path / "joined")]) == 0
    assert _post_training(tmp_path / "zipped" / "analysis.json") == _post_training(tmp_path / "joined" / "analysis.json")


def test_data_quality_of_the_jobs_json_input_equals_that_of_the_same_request_sent_to_an_endpoint(
        tmp_path, reference_examples, transform_job):
    document = (reference_examples / EXAMPLE / "test_data" / "test-dataset.json").read_text()
    rows = [row["features"] for row in json.loads(document)["instances"]]
    names = HEADERS[:-1]  # the features, without the label
    (tmp_path / "reference.csv").write_text(",".join(names) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    assert analyzer(["baseline", "--dataset", str(tmp_path / "reference.csv"), "--output", str(tmp_path / "baseline"),
                     "--quiet"]) == 0
    endpoint = tmp_path / "endpoint" / "ep" / "AllTraffic" / "2024" / "01" / "19" / "19"
    endpoint.mkdir(parents=True)
    (endpoint / "25-34-000-x.jsonl").write_text(json.dumps({
        "captureData": {"endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                                          "data": document, "encoding": "JSON"}},
        "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-19T19:25:34Z"}, "eventVersion": "0"}) + "\n")
    job = tmp_path / "job"
    (job / "input").mkdir(parents=True)
    (job / "output").mkdir()
    shutil.copy(reference_examples / EXAMPLE / "test_data" / "test-dataset.json", job / "input")
    shutil.copy(transform_job["data"] / "test-dataset.json.out", job / "output")
    common = ["--statistics", str(tmp_path / "baseline" / "statistics.json"), "--constraints",
              str(tmp_path / "baseline" / "constraints.json"), *WINDOW, "--quiet"]
    assert analyzer(["monitor", "--capture", str(tmp_path / "endpoint"), "--output", str(tmp_path / "a"), *common]) == 0
    assert analyzer(["monitor", "--capture", str(job), "--capture-format", "batch", "--output", str(tmp_path / "b"),
                     *common]) == 0
    ours, theirs = (json.loads((tmp_path / side / "statistics.json").read_text()) for side in ("b", "a"))
    assert ours == theirs and ours["dataset"]["item_count"] == len(rows) == 334


def test_the_input_and_output_manifests_lead_to_the_files_read_together(tmp_path, transform_job, reference_examples):
    # an input manifest in the form the JSON Lines example shows: the prefix names the object, its key is ""
    manifests = transform_job["capture"] / "input" / HOUR
    manifests.mkdir(parents=True)
    (manifests / "input.json").write_text(json.dumps([{"prefix": "s3://bucket/prefix/test-dataset.json"}, ""]))
    shutil.copy(reference_examples / EXAMPLE / "test_data" / "test-dataset.json", transform_job["data"])
    staged = stage_capture_records(transform_job["capture"], BatchSource(data=transform_job["data"]), tmp_path,
                                   reading=BatchReading(inputs=True, outputs=True), problems=InputProblems())
    (record,) = [json.loads(line) for line in staged.file.read_text().splitlines()]
    document = json.loads((reference_examples / EXAMPLE / "test_data" / "test-dataset.json").read_text())
    assert json.loads(record["captureData"]["batchTransformInput"]["data"]) == document
    assert "SageMakerOutput" in json.loads(record["captureData"]["batchTransformOutput"]["data"])
