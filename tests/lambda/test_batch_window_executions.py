"""A completed transform job through the synthesized standalone state machine of a batch data-quality monitor: the
real planner and publisher on moto, the job's window planned from its EventBridge event, the Processing job given
the transform data by one ManifestFile per side, and the metrics published under SageMaker's batch namespace and
dimensions. A second delivery of the same event is a duplicate of the first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk.assertions import Template

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    BatchDataFormat,
    BatchTransformCapture,
    BatchTransformSource,
    DataQualityMonitor,
    MonitoringBucket,
)
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome

from .conftest import EVENTS, REGION, load_handler
from .state_machine import Engine, Execution, definition_from_template, interleave

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "monitoring-bucket"
ANALYZER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1.0"
STATUS_NAMESPACE = "CdkModelMonitor"
BATCH_NAMESPACE = "aws/sagemaker/ModelMonitoring/data-metrics"


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict, dict]:
    app = cdk.App()
    stack = cdk.Stack(app, "BatchWindows", env=cdk.Environment(account="123456789012", region=REGION))
    storage = MonitoringBucket(stack, "Storage")
    capture = BatchTransformCapture(stack, "Capture", storage=storage, name="churn")
    monitor = DataQualityMonitor(
        stack, "DataQuality", image=AnalyzerImage.from_uri(ANALYZER),
        baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline")),
        batch_source=BatchTransformSource(capture=capture, dataset_format=BatchDataFormat.csv(),
                                          job_name_prefix="nightly-churn-"))
    engine = monitor.engine
    functions = {stack.get_logical_id(engine.planner.node.default_child): "window_planner",
                 stack.get_logical_id(engine.publisher.node.default_child): "metrics_publisher"}
    return Template.from_stack(stack).to_json(), functions


def _recent_job() -> tuple[dict, str]:
    """The sample event's job, moved to two hours ago (CloudWatch takes datapoints of the last two weeks only), and
    the event's time; as the rule's input transformer hands it to the state machine."""
    event = json.loads((EVENTS / "transform_job_state_change_completed.json").read_text())
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    job = {**event["detail"], "TransformStartTime": f"{start:%Y-%m-%dT%H:%M:%SZ}",
           "TransformEndTime": f"{start + timedelta(minutes=26):%Y-%m-%dT%H:%M:%SZ}"}
    return job, f"{start + timedelta(minutes=27):%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture
def engine(aws, synthesized, monkeypatch):
    template, functions = synthesized
    buckets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}

    def value(reference: dict) -> str:
        if reference.get("Ref") in buckets:
            return BUCKET
        if reference.get("Ref") in ("AWS::Partition",):
            return "aws"
        if reference.get("Ref") == "AWS::Region":
            return REGION
        if reference.get("Ref") == "AWS::AccountId":
            return "123456789012"
        logical_id, attribute = (reference.get("Fn::GetAtt") or [reference.get("Ref"), None])[:2]
        if logical_id in functions:
            return f"lambda:{functions[logical_id]}"
        return f"{logical_id}-{attribute}"

    definition = definition_from_template(template, value)
    for name in ("KMS_KEY_ID", "EVENT_BUS_NAME", "STATUS_NAMESPACE", "METRICS_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    handlers = {f"lambda:{folder}": load_handler(folder).handler for folder in functions.values()}
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    machine = Engine(definition, handlers)
    machine.started = []

    def completed(name: str, arguments: dict) -> None:
        """The analyzer's metric line (no dimensions: the publisher adds the monitor's) and its outcome."""
        machine.started.append(arguments)
        bucket, key = arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"][5:].split("/", 1)
        line = {"MetricName": "feature_baseline_drift_Account Length",
                "Timestamp": arguments["Environment"]["metric_time"], "Value": 0.04, "Unit": "None"}
        s3.put_object(Bucket=bucket, Key=f"{key}/metrics/cloudwatch_metrics.jsonl", Body=json.dumps(line).encode())
        outcome = RunOutcome.finished(violations=0, output_dir=Path("/opt/ml/processing/output"),
                                      summary={"records": 200, "bad_records": 0, "violations": 0})
        s3.put_object(Bucket=bucket, Key=f"{key}/{OUTCOME_FILE}", Body=json.dumps(outcome.document()).encode())

    machine.on_job_completed = completed
    return machine


def _put_manifests(job: dict) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    hour = datetime.fromisoformat(job["TransformStartTime"].replace("Z", "+00:00"))
    for side, prefix, keys in (
            ("input", job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"], ["part-1.csv"]),
            ("output", job["TransformOutput"]["S3OutputPath"], ["part-1.csv.out"])):
        s3.put_object(Bucket=BUCKET, Key=f"datacapture/batch-transform/churn/{side}/{hour:%Y/%m/%d/%H}/{side}.json",
                      Body=json.dumps([{"prefix": prefix}, *keys]).encode())


def _sums(namespace: str, metric: str, dimensions: list[dict]) -> float:
    points = boto3.client("cloudwatch", region_name=REGION).get_metric_statistics(
        Namespace=namespace, MetricName=metric, Dimensions=dimensions,
        StartTime=datetime.now(UTC) - timedelta(days=1), EndTime=datetime.now(UTC) + timedelta(hours=1),
        Period=86400, Statistics=["Sum"])["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_a_completed_transform_job_is_analysed_once_and_published_under_the_batch_namespace(engine):
    job, time = _recent_job()
    _put_manifests(job)
    first = Execution("arn:aws:states:us-east-1:123456789012:execution:m:first")
    second = Execution("arn:aws:states:us-east-1:123456789012:execution:m:second")

    interleave(engine.run(first, {"scheduled_time": time, "transform_job": job}),
               engine.run(second, {"scheduled_time": time, "transform_job": job}))

    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED"), (first.visited, engine.caught)
    assert first.visited[-1] == "Done" and second.visited[-1] == "DuplicateOfWindow"
    (arguments,) = engine.started
    local = {i["InputName"]: i["S3Input"] for i in arguments["ProcessingInputs"]}
    assert local["input"]["S3DataType"] == local["output"]["S3DataType"] == "ManifestFile"
    assert local["output"]["LocalPath"] == "/opt/ml/processing/input/batch/output"
    assert arguments["Environment"]["start_time"] == job["TransformStartTime"]
    schedule = engine.definition["States"]["PlanWindow"]["Parameters"]["schedule_name"]
    assert _sums(BATCH_NAMESPACE, "feature_baseline_drift_Account Length",
                 [{"Name": "MonitoringSchedule", "Value": schedule}]) == pytest.approx(0.04)
    status_dimensions = [{"Name": "MonitoringSchedule", "Value": schedule},
                         {"Name": "MonitorType", "Value": "data-quality"}]
    assert _sums(STATUS_NAMESPACE, "ExecutionCompleted", status_dimensions) == 1.0
    assert _sums(STATUS_NAMESPACE, "ExecutionFailed", status_dimensions) == 0.0


def test_a_transform_job_without_captures_here_ends_as_no_data_without_a_job(engine):
    job, time = _recent_job()
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:uncaptured")
    interleave(engine.run(execution, {"scheduled_time": time, "transform_job": job}))
    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "NoDataInWindow"
    assert engine.started == []
