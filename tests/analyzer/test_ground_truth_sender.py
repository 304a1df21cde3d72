"""Sending ground truth: records in the built-in's format, one object per call, in the upload-hour folder."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.ground_truth_sender import (
    add_put_ground_truth_arguments,
    put_ground_truth,
    read_labels_file,
    run_put_ground_truth,
)
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.capture import parse_capture_line
from model_monitor_analyzer.io.ground_truth import ground_truth_record, read_ground_truth

BUCKET = "monitoring-bucket"
NOW = datetime(2025, 2, 16, 15, 42, 7, tzinfo=UTC)


@pytest.fixture
def s3():
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _objects(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_many_labels_become_one_object_under_the_upload_hour(s3):
    labels = [(f"id-{i}", i % 2) for i in range(1000)]
    uri = put_ground_truth(labels, s3_uri=f"s3://{BUCKET}/ground-truth/ep/", client=s3, now=NOW)
    keys = _objects(s3)
    assert len(keys) == 1
    assert uri == f"s3://{BUCKET}/{keys[0]}"
    prefix, _, name = keys[0].rpartition("/")
    assert prefix == "ground-truth/ep/2025/02/16/15"
    assert name.endswith(".jsonl") and len(name) == len("00000000-0000-0000-0000-000000000000.jsonl")
    lines = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().decode().splitlines()
    assert len(lines) == 1000
    assert json.loads(lines[3]) == {
        "groundTruthData": {"data": "1", "encoding": "CSV"},
        "eventMetadata": {"eventId": "id-3"},
        "eventVersion": "0",
    }


def test_sent_labels_have_the_shape_of_the_real_ground_truth_files(reference_examples: Path):
    real = [json.loads(line) for line in (reference_examples / "from-idea-to-production-monitoring"
                                          / "notebook-output" / "groundtruth.jsonl").read_text().splitlines()]  # fmt: skip
    rebuilt = [
        ground_truth_record(r["eventMetadata"]["eventId"], int(r["groundTruthData"]["data"])) for r in real
    ]
    assert rebuilt == real
    assert [list(r) for r in rebuilt] == [list(r) for r in real]


def test_dict_labels_are_sent_with_json_encoding(s3):
    put_ground_truth([("7", {"label": 1})], s3_uri=f"s3://{BUCKET}/gt", client=s3, now=NOW)
    body = s3.get_object(Bucket=BUCKET, Key=_objects(s3)[0])["Body"].read()
    assert json.loads(body)["groundTruthData"] == {"data": '{"label":1}', "encoding": "JSON"}


def test_sent_labels_are_read_and_merged_by_the_analyzer(s3, tmp_path: Path):
    put_ground_truth([("order-1", "1"), ("order-2", 0.0)], s3_uri=f"s3://{BUCKET}/gt", client=s3, now=NOW)
    key = _objects(s3)[0]
    local = tmp_path / key
    local.parent.mkdir(parents=True)
    local.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    labels = list(read_ground_truth(tmp_path / "gt"))
    assert [(label.event_id, label.data) for label in labels] == [("order-1", "1"), ("order-2", "0.0")]
    assert {label.uploaded_hour for label in labels} == {datetime(2025, 2, 16, 15, tzinfo=UTC)}
    capture = {"captureData": {"endpointOutput": {"data": "0.9", "encoding": "CSV"}},
               "eventMetadata": {"eventId": "uuid", "inferenceId": "order-1"}, "eventVersion": "0"}  # fmt: skip
    result = merge.merge_records([parse_capture_line(json.dumps(capture).encode())], labels)
    assert result.summary.matched == 1 and result.summary.labels_without_capture == 1


def test_no_labels_or_a_bad_uri_write_nothing(s3):
    with pytest.raises(AnalyzerInputError, match="no labels"):
        put_ground_truth([], s3_uri=f"s3://{BUCKET}/gt", client=s3, now=NOW)
    with pytest.raises(AnalyzerInputError, match="not an S3 URI"):
        put_ground_truth([("a", 1)], s3_uri=f"{BUCKET}/gt", client=s3, now=NOW)
    with pytest.raises(AnalyzerInputError, match="not a finite number"):
        put_ground_truth([("a", 1), ("b", float("nan"))], s3_uri=f"s3://{BUCKET}/gt", client=s3, now=NOW)
    assert _objects(s3) == []


def test_cli_sends_a_csv_file_as_one_object(s3, tmp_path: Path, capsys):
    labels = tmp_path / "labels.csv"
    labels.write_text("inference_id,label\na,1\nb,0\nc,1\n")
    parser = argparse.ArgumentParser()
    add_put_ground_truth_arguments(parser)
    args = parser.parse_args(["--s3-uri", f"s3://{BUCKET}/gt/ep", "--file", str(labels)])
    assert run_put_ground_truth(args, client=s3) == 0
    assert len(_objects(s3)) == 1
    assert "Sent 3 labels to s3://monitoring-bucket/gt/ep/" in capsys.readouterr().out


def test_labels_file_in_json_lines_keeps_label_types(tmp_path: Path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"inference_id": "a", "label": 1}\n{"inferenceId": "b", "label": {"label": 0}}\n')
    assert read_labels_file(path) == [("a", 1), ("b", {"label": 0})]


def test_labels_file_without_the_columns_names_the_fix(tmp_path: Path):
    path = tmp_path / "labels.csv"
    path.write_text("id,y\na,1\n")
    with pytest.raises(AnalyzerInputError, match="inference_id column and a label column"):
        read_labels_file(path)


def test_cli_put_ground_truth_sends_one_object(s3, tmp_path, capsys):
    from model_monitor_analyzer.cli import main

    labels = tmp_path / "labels.csv"
    labels.write_text("inference_id,label\n1,0\n2,1\n")
    assert main(["put-ground-truth", "--s3-uri", f"s3://{BUCKET}/ground-truth/ep", "--file", str(labels),
                 "--region", "us-east-1"]) == 0
    (key,) = _objects(s3)
    assert key.startswith("ground-truth/ep/") and key.endswith(".jsonl")
    assert "Sent 2 labels" in capsys.readouterr().out


def test_cli_put_ground_truth_to_a_missing_bucket_is_one_line_not_a_traceback(s3, tmp_path, capsys):
    from model_monitor_analyzer.cli import main

    labels = tmp_path / "labels.csv"
    labels.write_text("inference_id,label\n1,0\n")
    assert main(["put-ground-truth", "--s3-uri", "s3://no-such-bucket/gt", "--file", str(labels),
                 "--region", "us-east-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: could not send 1 labels to s3://no-such-bucket/gt:") and "Traceback" not in err
