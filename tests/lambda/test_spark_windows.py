"""Executions of a scale-out monitor's state machine against moto: windows the planner sends to Spark run as an
EMR Serverless job run and end as the Processing job's windows do, through the same publisher and failure path.

The definition is the one a DataQualityMonitor with ``ScaleOut(threshold_bytes=...)`` synthesizes; its Lambda tasks
run the real handlers; the captured object is a real SageMaker capture file.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk.assertions import Template

from cdk_model_monitor import CapturedEndpoint, MonitoringBucket, ScaleOut
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome

from .conftest import REGION, load_handler
from .state_machine import Engine, Execution, definition_from_template, interleave
from .test_window_executions import (
    ANALYZER,
    BUCKET,
    ENDPOINT,
    REPO_ROOT,
    _capture_prefix,
    _jobs,
    _scheduled,
    _scheduler_input,
    _status_sums,
)

# windows of at least this many bytes go to Spark: the real capture file below is larger, a one-record file smaller
THRESHOLD = 1024


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict, dict]:
    app = cdk.App()
    stack = cdk.Stack(app, "SparkWindows", env=cdk.Environment(account="123456789012", region=REGION))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name=ENDPOINT,
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=AnalyzerImage.from_uri(ANALYZER),
                                 baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline")),
                                 scale_out=ScaleOut(threshold_bytes=THRESHOLD))
    engine = monitor.engine
    functions = {stack.get_logical_id(engine.planner.node.default_child): "window_planner",
                 stack.get_logical_id(engine.publisher.node.default_child): "metrics_publisher"}
    return Template.from_stack(stack).to_json(), functions


def _engine(template: dict, functions: dict, monkeypatch) -> Engine:
    buckets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}

    def value(reference: dict) -> str:
        if reference.get("Ref") in buckets:
            return BUCKET
        if reference.get("Ref") in ("AWS::Partition", "AWS::Region", "AWS::AccountId"):
            return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": "123456789012"}[reference["Ref"]]
        logical_id, attribute = (reference.get("Fn::GetAtt") or [reference.get("Ref"), None])[:2]
        if logical_id in functions:
            return f"lambda:{functions[logical_id]}"
        if attribute == "EndpointName":
            return ENDPOINT
        if attribute == "ApplicationId":
            return "00f1234567890abc"
        return f"{logical_id}-{attribute}"

    for name in ("KMS_KEY_ID", "EVENT_BUS_NAME", "STATUS_NAMESPACE", "METRICS_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    handlers = {f"lambda:{folder}": load_handler(folder).handler for folder in functions.values()}
    return Engine(definition_from_template(template, value), handlers)


def _put_capture(engine: Engine, body: bytes) -> None:
    window = _scheduled() - timedelta(hours=1)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=f"{_capture_prefix(engine.definition)}/{window:%Y/%m/%d/%H}/10-00-000-capture.jsonl",
        Body=body)


@pytest.fixture
def engine(aws, synthesized, reference_examples, monkeypatch) -> Engine:
    """The state machine wired to the handlers, a bucket holding one real capture file (above the threshold)."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    machine = _engine(*synthesized, monkeypatch)
    capture = reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "capture.jsonl"
    assert capture.stat().st_size >= THRESHOLD
    _put_capture(machine, capture.read_bytes())
    machine.on_spark_job_completed = _write_spark_outputs
    return machine


def _flag(arguments: list[str], flag: str) -> str:
    return arguments[arguments.index(flag) + 1]


def _write_spark_outputs(name: str, request: dict) -> None:
    """What the analyzer's Spark runner leaves, where its arguments tell it to: one drift metric line in
    ``--metrics-dir`` and the run's outcome in ``--output``."""
    arguments = request["JobDriver"]["SparkSubmit"]["EntryPointArguments"]
    s3 = boto3.client("s3", region_name=REGION)
    line = {"MetricName": "feature_baseline_drift_Account Length", "Timestamp": _flag(arguments, "--metric-time"),
            "Dimensions": [{"Name": "Endpoint", "Value": ENDPOINT}], "Value": 0.04, "Unit": "None"}
    bucket, key = _flag(arguments, "--metrics-dir").removeprefix("s3://").split("/", 1)
    s3.put_object(Bucket=bucket, Key=f"{key}/cloudwatch_metrics.jsonl", Body=json.dumps(line).encode())
    outcome = RunOutcome.finished(violations=0, output_dir=Path("/tmp/spark-output"),
                                  summary={"records": 2333, "bad_records": 0, "violations": 0})
    bucket, key = _flag(arguments, "--output").removeprefix("s3://").split("/", 1)
    s3.put_object(Bucket=bucket, Key=f"{key}/{OUTCOME_FILE}", Body=json.dumps(outcome.document()).encode())


def test_a_window_above_the_threshold_runs_on_spark_and_publishes_completed_with_its_metrics(engine):
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:large")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED", (execution.visited, [c["Cause"][:300] for c in engine.caught])
    assert "RunSparkAnalyzer" in execution.visited and "RunAnalyzer" not in execution.visited
    assert execution.visited[-2:] == ["WindowStatus", "Done"]
    assert _jobs() == []  # no Processing job
    (request,) = engine.spark_runs
    plan = execution.output["plan"]
    assert plan["runner"] == "spark" and plan["capture_bytes"] >= THRESHOLD
    assert request["Name"] == request["ClientToken"] == plan["job_name"]
    arguments = request["JobDriver"]["SparkSubmit"]["EntryPointArguments"]
    assert _flag(arguments, "--capture") == plan["manifest_uri"]  # the manifest the planner wrote
    manifest_bucket, manifest_key = plan["manifest_uri"].removeprefix("s3://").split("/", 1)
    manifest = json.loads(boto3.client("s3", region_name=REGION).get_object(
        Bucket=manifest_bucket, Key=manifest_key)["Body"].read())
    assert len(manifest) == 2 and manifest[1].endswith("capture.jsonl")
    published = execution.output["published"]
    assert published["status"] == "Completed" and published["metrics_published"] >= 1
    assert _status_sums(engine.definition) == {"Completed": 1.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 0.0}


def test_a_failed_spark_job_fails_the_window_through_the_same_path_as_a_failed_processing_job(engine):
    engine.spark_job_state = lambda name, arguments: "FAILED"
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:spark-fails")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED"
    assert execution.visited[-4:] == ["RunSparkAnalyzer", "RecordFailure", "WindowStatus", "ExecutionFailed"]
    assert engine.caught[-1]["Error"] == "States.TaskFailed"
    assert execution.error.error == "MonitoringFailed"
    # the Failed status the monitoring-broken alarms watch (as for a failed Processing job)
    assert _status_sums(engine.definition) == {"Completed": 0.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 1.0}


def test_a_failed_processing_job_of_the_same_monitor_takes_the_same_states_after_its_task(engine):
    """The reference the test above compares with: a small window goes to the Processing job, which fails."""
    boto3.client("s3", region_name=REGION).delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": o["Key"]} for o in boto3.client("s3", region_name=REGION).list_objects_v2(
            Bucket=BUCKET)["Contents"]]})
    _put_capture(engine, b'{"captureData": {"endpointInput": {"data": "1,2", "encoding": "CSV"}}}\n')
    engine.job_status = lambda name, arguments: "Failed"
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:small-fails")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.output is None and execution.status == "FAILED"
    assert "RunAnalyzer" in execution.visited and not engine.spark_runs
    assert execution.visited[-4:] == ["RunAnalyzer", "RecordFailure", "WindowStatus", "ExecutionFailed"]
    assert _status_sums(engine.definition)["Failed"] == 1.0
