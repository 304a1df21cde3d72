"""Executions of the synthesized standalone state machine against moto: duplicates, retries and failures.

The definition is the one a DataQualityMonitor synthesizes; its Lambda tasks run the real handlers of
lambda/window_planner and lambda/metrics_publisher; the captured object is a real SageMaker capture file.
"""

from __future__ import annotations

import json
import math
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk.assertions import Template

from cdk_model_monitor import CapturedEndpoint, MonitoringBucket
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome, RunStatus

from .conftest import REGION, fail_requests, load_handler, refuse_put_metric_data
from .s3_permissions import enforce_policy
from .state_machine import Engine, Execution, StatesError, definition_from_template, interleave

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "monitoring-bucket"
ENDPOINT = "churn"
ANALYZER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1.0"
STATUS_NAMESPACE = "CdkModelMonitor"
STATUSES = ("Completed", "CompletedWithViolations", "NoData", "Failed")


@pytest.fixture(scope="module")
def synthesized() -> tuple[dict, dict]:
    """(template, {logical id of each engine function: its lambda folder}) of one data-quality monitor."""
    app = cdk.App()
    stack = cdk.Stack(app, "Windows", env=cdk.Environment(account="123456789012", region=REGION))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name=ENDPOINT,
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=AnalyzerImage.from_uri(ANALYZER),
                                 baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline")))
    engine = monitor.engine
    functions = {stack.get_logical_id(engine.planner.node.default_child): "window_planner",
                 stack.get_logical_id(engine.publisher.node.default_child): "metrics_publisher"}
    return Template.from_stack(stack).to_json(), functions


@pytest.fixture
def engine(aws, synthesized, reference_examples, monkeypatch):
    """The state machine wired to the handlers, a bucket holding one real capture file in the window."""
    template, functions = synthesized
    buckets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}

    def value(reference: dict) -> str:
        if reference.get("Ref") in buckets:
            return BUCKET
        if reference.get("Ref") == "AWS::Partition":
            return "aws"
        if reference.get("Ref") == "AWS::Region":
            return REGION
        if reference.get("Ref") == "AWS::AccountId":
            return "123456789012"
        logical_id, attribute = (reference.get("Fn::GetAtt") or [reference.get("Ref"), None])[:2]
        if logical_id in functions:
            return f"lambda:{functions[logical_id]}"
        if attribute == "EndpointName":
            return ENDPOINT
        return f"{logical_id}-{attribute}"  # a role or key ARN: moto takes any string

    definition = definition_from_template(template, value)
    for name in ("KMS_KEY_ID", "EVENT_BUS_NAME", "STATUS_NAMESPACE", "METRICS_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    handlers = {f"lambda:{folder}": load_handler(folder).handler for folder in functions.values()}
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    capture = (reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "capture.jsonl")
    window = _scheduled() - timedelta(hours=1)
    prefix = _capture_prefix(definition)
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/{window:%Y/%m/%d/%H}/10-00-000-capture.jsonl",
                  Body=capture.read_bytes())
    machine = Engine(definition, handlers)
    machine.on_job_completed = _write_analyzer_metrics
    return machine


def _scheduled() -> datetime:
    """The current hour: the publisher only sends what CloudWatch accepts (two weeks back at most)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _capture_prefix(definition: dict) -> str:
    uri = definition["States"]["PlanWindow"]["Parameters"]["capture_s3_uri"]
    return uri.removeprefix(f"s3://{BUCKET}/")


def _write_analyzer_metrics(name: str, arguments: dict) -> None:
    """The analyzer's metric file of the window (one drift line) and its outcome, where the job's output goes."""
    report = arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, key = report.removeprefix("s3://").split("/", 1)
    line = {"MetricName": "feature_baseline_drift_Account Length", "Timestamp": arguments["Environment"]["metric_time"],
            "Dimensions": [{"Name": "Endpoint", "Value": ENDPOINT}], "Value": 0.04, "Unit": "None"}
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=bucket, Key=f"{key}/metrics/cloudwatch_metrics.jsonl", Body=json.dumps(line).encode())
    outcome = RunOutcome.finished(violations=0, output_dir=Path("/opt/ml/processing/output"),
                                  summary={"records": 2333, "bad_records": 0, "violations": 0})
    s3.put_object(Bucket=bucket, Key=f"{key}/{OUTCOME_FILE}", Body=json.dumps(outcome.document()).encode())


def _write_analyzer_no_data(name: str, arguments: dict) -> None:
    """What the analyzer's job leaves when the window's capture files hold no record of the window: its no-data
    metric line and a NoData outcome."""
    report = arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, key = report.removeprefix("s3://").split("/", 1)
    line = {"MetricName": "monitoring_no_data", "Timestamp": arguments["Environment"]["metric_time"],
            "Dimensions": [{"Name": "Endpoint", "Value": ENDPOINT}], "Value": 1.0, "Unit": "None"}
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=bucket, Key=f"{key}/metrics/cloudwatch_metrics.jsonl", Body=json.dumps(line).encode())
    outcome = RunOutcome(status=RunStatus.NO_DATA, message="Completed: no data in the monitoring window; nothing to "
                         "analyze.", output_dir=Path("/opt/ml/processing/output"),
                         summary={"features": 0, "records": 0, "violations": 0, "bad_records": 0})
    s3.put_object(Bucket=bucket, Key=f"{key}/{OUTCOME_FILE}", Body=json.dumps(outcome.document()).encode())


def _scheduler_input() -> dict:
    """What EventBridge Scheduler delivers: the schedule's input with <aws.scheduler.scheduled-time> filled."""
    return {"scheduled_time": _scheduled().strftime("%Y-%m-%dT%H:%M:%SZ")}


def _status_sums(definition: dict) -> dict[str, float]:
    """Sum of each Execution<status> metric over the last day, for the monitor's dimensions."""
    payload = definition["States"]["PlanWindow"]["Parameters"]
    dims = [{"Name": "Endpoint", "Value": ENDPOINT}, {"Name": "MonitoringSchedule", "Value": payload["schedule_name"]},
            {"Name": "MonitorType", "Value": "data-quality"}]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    sums = {}
    for status in STATUSES:
        points = cloudwatch.get_metric_statistics(
            Namespace=STATUS_NAMESPACE, MetricName=f"Execution{status}", Dimensions=dims,
            StartTime=datetime.now(UTC) - timedelta(days=1), EndTime=datetime.now(UTC) + timedelta(hours=1),
            Period=86400, Statistics=["Sum", "SampleCount"])["Datapoints"]
        sums[status] = sum(p["Sum"] for p in points)
    return sums


def _jobs() -> list[str]:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    return [j["ProcessingJobName"] for j in sagemaker.list_processing_jobs()["ProcessingJobSummaries"]]


def test_two_concurrent_executions_of_one_window_end_with_one_completed_status_and_no_failed(engine):
    first, second = Execution("arn:aws:states:us-east-1:123456789012:execution:m:first"), \
        Execution("arn:aws:states:us-east-1:123456789012:execution:m:second")

    interleave(engine.run(first, _scheduler_input()), engine.run(second, _scheduler_input()))

    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED"), (first.visited, engine.caught)
    assert first.visited[-1] == "Done" and second.visited[-1] == "DuplicateOfWindow"
    assert len(_jobs()) == 1
    assert _status_sums(engine.definition) == {"Completed": 1.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 0.0}


def test_an_execution_whose_job_name_is_taken_waits_for_that_job_and_publishes_completed(engine):
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:rerun")
    runner = engine.run(execution, _scheduler_input())
    # run the planner, then start the window's job as an earlier attempt would have (still running)
    while execution.visited[-1:] != ["PlanWindow"]:
        next(runner)
    plan_name = None

    def start_elsewhere(arguments: dict) -> None:
        nonlocal plan_name
        plan_name = arguments["ProcessingJobName"]
        engine.start_job_elsewhere(arguments, steps=2)

    original = engine._call

    def call(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync") and plan_name is None:
            start_elsewhere(arguments)
        return (yield from original(resource, arguments))

    engine._call = call
    interleave(runner)

    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "Done"
    assert {"JobStartRefused", "WatchExistingJob", "DescribeExistingJob", "WaitForExistingJob"} <= set(
        execution.visited)
    assert "RecordFailure" not in execution.visited
    assert _jobs() == [plan_name]
    assert _status_sums(engine.definition)["Completed"] == 1.0
    assert _status_sums(engine.definition)["Failed"] == 0.0


def test_a_failed_job_whose_status_cannot_be_recorded_still_leaves_a_failed_datapoint(engine, monkeypatch):
    def job_fails(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync"):
            raise StatesError("SageMaker.AmazonSageMakerException", "ClientError: instance limit exceeded")
        return (yield from original(resource, arguments))

    def publisher_down(event, context):
        raise RuntimeError("the publisher cannot run")

    original = engine._call
    engine._call = job_fails
    engine.lambdas["lambda:metrics_publisher"] = publisher_down
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:failing")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED"
    assert execution.visited[-3:] == ["RecordFailure", "RecordFailureDirectly", "ExecutionFailed"]
    assert _status_sums(engine.definition) == {"Completed": 0.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 1.0}


def test_a_window_whose_job_analysed_no_record_ends_as_no_data_not_completed(engine):
    engine.on_job_completed = _write_analyzer_no_data
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:empty-records")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and "RunAnalyzer" in execution.visited
    assert execution.output["published"]["status"] == "NoData"
    assert execution.output["published"]["no_data_reason"] == "no_records_in_window"
    assert _status_sums(engine.definition) == {"Completed": 0.0, "CompletedWithViolations": 0.0, "NoData": 1.0,
                                               "Failed": 0.0}


def test_a_capture_file_delivered_after_its_window_ran_is_counted_by_the_next_execution(engine):
    previous = _scheduled() - timedelta(hours=1)
    earlier = Execution("arn:aws:states:us-east-1:123456789012:execution:m:previous-hour")
    interleave(engine.run(earlier, {"scheduled_time": previous.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    # a file of the previous window's hour, delivered after that window was listed
    prefix = _capture_prefix(engine.definition)
    late_hour = previous - timedelta(hours=1)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=f"{prefix}/{late_hour:%Y/%m/%d/%H}/59-58-000-late.jsonl", Body=b'{"captureData": {}}\n')
    execution = Execution("arn:aws:states:us-east-1:123456789012:execution:m:this-hour")

    interleave(engine.run(execution, _scheduler_input()))

    assert earlier.visited[:2] == ["WaitForCaptureDelivery", "PlanWindow"]
    assert earlier.visited[-1] == "NoDataInWindow"
    assert execution.output["plan"]["late_capture_files"] == 1
    payload = engine.definition["States"]["PlanWindow"]["Parameters"]
    dims = [{"Name": "Endpoint", "Value": ENDPOINT}, {"Name": "MonitoringSchedule", "Value": payload["schedule_name"]},
            {"Name": "MonitorType", "Value": "data-quality"}]
    points = boto3.client("cloudwatch", region_name=REGION).get_metric_statistics(
        Namespace=STATUS_NAMESPACE, MetricName="LateCaptureFiles", Dimensions=dims,
        StartTime=late_hour - timedelta(hours=1), EndTime=_scheduled() + timedelta(hours=1), Period=3600,
        Statistics=["Sum"])["Datapoints"]
    assert [(p["Timestamp"], p["Sum"]) for p in points] == [(late_hour, 1.0)]


# -- analysing a window again -----------------------------------------------------------------------------------


def _execution(engine, name: str) -> Execution:
    """An execution of the monitor's own state machine (named after its schedule, as deployed)."""
    machine = engine.definition["States"]["PlanWindow"]["Parameters"]["schedule_name"]
    return Execution(f"arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}")


def _job_status(name: str) -> str:
    return boto3.client("sagemaker", region_name=REGION).describe_processing_job(
        ProcessingJobName=name)["ProcessingJobStatus"]


def _read(uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()


def _write_analyzer_metrics_signed(name: str, arguments: dict) -> None:
    """The analyzer's files, plus a file naming the job that wrote the folder."""
    _write_analyzer_metrics(name, arguments)
    report = arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, key = report.removeprefix("s3://").split("/", 1)
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=f"{key}/written-by.txt", Body=name.encode())


def _run_until_the_job_runs(engine, execution: Execution, payload: dict):
    runner = engine.run(execution, payload)
    while next(runner) != "job running":
        pass
    return runner


def test_a_window_whose_job_failed_is_analysed_again_by_a_new_execution_with_a_new_job(engine):
    failing: list[str] = []

    def first_job_fails(name: str, arguments: dict) -> str:
        if not failing:
            failing.append(name)
            return "Failed"
        return "Completed"

    engine.job_status = first_job_fails
    first, again = _execution(engine, "hourly-tick"), _execution(engine, "rerun-of-failed-window")

    interleave(engine.run(first, _scheduler_input()))
    interleave(engine.run(again, _scheduler_input()))

    assert first.status == "FAILED" and "RecordFailure" in first.visited
    assert again.status == "SUCCEEDED" and again.visited[-1] == "Done", (again.visited, engine.caught)
    plan = again.output["plan"]
    assert plan["attempt"] == 2 and plan["superseded"] == {"execution_id": first.execution_id, "status": "FAILED",
                                                           "attempt": 1}
    assert plan["job_name"] != failing[0] and plan["job_name"].endswith("-attempt-2")
    assert {name: _job_status(name) for name in _jobs()} == {failing[0]: "Failed", plan["job_name"]: "Completed"}
    assert again.output["published"]["status"] == "Completed"
    assert _status_sums(engine.definition) == {"Completed": 1.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 1.0}


def test_a_rerun_while_the_first_execution_still_runs_is_a_duplicate_even_when_it_asks_to_rerun(engine):
    first, again = _execution(engine, "hourly-tick"), _execution(engine, "impatient-rerun")
    runner = _run_until_the_job_runs(engine, first, _scheduler_input())

    interleave(engine.run(again, {**_scheduler_input(), "rerun": True}))
    interleave(runner)

    assert again.status == "SUCCEEDED" and again.visited[-1] == "DuplicateOfWindow"
    assert again.output["plan"]["duplicate_of"] == first.execution_id
    assert again.output["plan"]["holder_status"] == "RUNNING"
    assert first.visited[-1] == "Done"
    assert len(_jobs()) == 1
    assert _status_sums(engine.definition) == {"Completed": 1.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 0.0}


def test_a_completed_window_is_analysed_again_only_when_the_input_says_rerun_and_beside_its_first_results(engine):
    engine.on_job_completed = _write_analyzer_metrics_signed
    first = _execution(engine, "hourly-tick")
    interleave(engine.run(first, _scheduler_input()))
    first_plan = first.output["plan"]
    first_files = {name: _read(f"{first_plan['report_uri']}/{name}")
                   for name in ("written-by.txt", "outcome.json", "metrics/cloudwatch_metrics.jsonl")}

    late_duplicate = _execution(engine, "delivered-twice")
    interleave(engine.run(late_duplicate, _scheduler_input()))

    assert late_duplicate.status == "SUCCEEDED" and late_duplicate.visited[-1] == "WindowAlreadyAnalysed"
    assert late_duplicate.output["plan"]["holder_status"] == "SUCCEEDED"
    assert _jobs() == [first_plan["job_name"]]

    rerun = _execution(engine, "asked-rerun")
    interleave(engine.run(rerun, {**_scheduler_input(), "rerun": True}))

    assert rerun.status == "SUCCEEDED" and rerun.visited[-1] == "Done", (rerun.visited, engine.caught)
    plan = rerun.output["plan"]
    assert plan["attempt"] == 2 and plan["superseded"]["status"] == "SUCCEEDED"
    assert sorted(_jobs()) == sorted([first_plan["job_name"], plan["job_name"]])
    window_folder = f"{_scheduled():%Y/%m/%d/%H}"
    schedule_folder = first_plan["report_uri"].removesuffix(f"/{window_folder}")
    assert plan["report_uri"] == f"{schedule_folder}/attempt-2/{window_folder}"
    assert _read(f"{plan['report_uri']}/written-by.txt") == plan["job_name"].encode()
    # the first attempt's results are where they were, as they were
    assert {name: _read(f"{first_plan['report_uri']}/{name}") for name in first_files} == first_files
    assert first_files["written-by.txt"] == first_plan["job_name"].encode()
    assert _status_sums(engine.definition) == {"Completed": 2.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 0.0}


@pytest.mark.parametrize("ended", ["TIMED_OUT", "ABORTED"])
def test_the_window_of_an_execution_that_timed_out_or_was_stopped_is_taken_by_the_next_execution(engine, ended):
    first, again = _execution(engine, "hourly-tick"), _execution(engine, "after-time-out")
    runner = _run_until_the_job_runs(engine, first, _scheduler_input())
    engine.end(first, ended)  # Step Functions ends it without running any of its states, and stops its job
    runner.close()

    interleave(engine.run(again, _scheduler_input()))

    assert again.status == "SUCCEEDED" and again.visited[-1] == "Done", (again.visited, engine.caught)
    plan = again.output["plan"]
    assert plan["attempt"] == 2 and plan["superseded"]["status"] == ended
    assert {name: _job_status(name) for name in _jobs()} == {
        plan["job_name"].removesuffix("-attempt-2"): "Stopped", plan["job_name"]: "Completed"}
    assert _status_sums(engine.definition) == {"Completed": 1.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 0.0}


def _readme_rerun_inputs() -> list[dict]:
    """The execution inputs README.md's "Analysing a window again" shows, in order."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("#### Analysing a window again", 1)[1].split("\n#### ", 1)[0]
    return [json.loads(text) for text in re.findall(r"--input '(\{.*?\})'", section)]


def test_the_inputs_the_readme_shows_for_a_rerun_plan_the_window_it_says_and_do_what_it_says(engine):
    plain, rerun = _readme_rerun_inputs()
    assert plain == {"scheduled_time": "2026-11-25T13:00:00Z"} and rerun == {**plain, "rerun": True}
    first, again, asked = (_execution(engine, name) for name in ("tick", "plain-rerun", "asked-rerun"))

    for execution, payload in ((first, plain), (again, plain), (asked, rerun)):
        interleave(engine.run(execution, payload))

    assert (first.output["plan"]["start"], first.output["plan"]["end"]) == ("2026-11-25T12:00:00Z",
                                                                          "2026-11-25T13:00:00Z")
    assert first.visited[-1] == "NoDataInWindow"  # no capture in that hour here: a succeeded execution
    assert again.visited[-1] == "WindowAlreadyAnalysed"
    assert asked.status == "SUCCEEDED" and asked.output["plan"]["attempt"] == 2
    assert asked.output["plan"]["report_uri"].endswith("/attempt-2/2026/11/25/13")


# -- what a window's publication says when part of it is refused or stopped ----------------------------------------


def _publisher(engine):
    """The metrics publisher's module the state machine runs (its clients are the ones to refuse calls of)."""
    return sys.modules[engine.lambdas["lambda:metrics_publisher"].__module__]


def _publisher_policy(template: dict, functions: dict, handler: str = "metrics_publisher") -> list[dict]:
    """The statements of the role of the publisher (or another ``handler``) as synthesized, with the monitoring
    bucket's and the endpoint's references resolved as deployed."""
    [function] = [logical_id for logical_id, folder in functions.items() if folder == handler]
    return _role_policy(template, template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0])


def _role_policy(template: dict, role: str) -> list[dict]:
    """The statements of the role ``role`` (a logical id) as synthesized, with the monitoring bucket's and the
    endpoint's references resolved as deployed."""

    def resolved(value):
        if isinstance(value, list):
            return [resolved(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(resolved(p) for p in parts)
        if "Ref" in value:
            return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": "123456789012"}.get(
                value["Ref"], value["Ref"])
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if template["Resources"][logical_id]["Type"] == "AWS::S3::Bucket" and attribute == "Arn":
                return f"arn:aws:s3:::{BUCKET}"
            return ENDPOINT if attribute == "EndpointName" else f"{logical_id}.{attribute}"
        return {k: resolved(v) for k, v in value.items()}

    return [resolved(statement) for resource in template["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role} in resource["Properties"]["Roles"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]]


def _analyzer_finds_violations(reference_examples, count: int = 4):
    """What a job leaves whose analyzer found ``count`` violations: its metric line, its outcome and the real
    violations of a SageMaker report (the first ``count``)."""
    source = reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "constraint_violations.json"
    violations = {"violations": json.loads(source.read_text())["violations"][:count]}

    def write(name: str, arguments: dict) -> None:
        _write_analyzer_metrics(name, arguments)
        report = arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        bucket, key = report.removeprefix("s3://").split("/", 1)
        outcome = RunOutcome.finished(violations=count, output_dir=Path("/opt/ml/processing/output"),
                                      summary={"records": 2333, "bad_records": 0, "violations": count})
        s3 = boto3.client("s3", region_name=REGION)
        s3.put_object(Bucket=bucket, Key=f"{key}/{OUTCOME_FILE}", Body=json.dumps(outcome.document()).encode())
        s3.put_object(Bucket=bucket, Key=f"{key}/constraint_violations.json", Body=json.dumps(violations).encode())

    return write


ONLY_FAILED = {"Completed": 0.0, "CompletedWithViolations": 0.0, "NoData": 0.0, "Failed": 1.0}


def test_a_window_with_violations_is_published_under_the_publishers_own_s3_permissions(
        engine, synthesized, events_inbox, reference_examples):
    engine.on_job_completed = _analyzer_finds_violations(reference_examples)
    # S3 answers the publisher as its synthesized role: 403 for a missing object (its receipt, the latest copy)
    refused = enforce_policy(_publisher(engine).client("s3"), _publisher_policy(*synthesized))
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "Done", (execution.visited, engine.caught)
    assert (execution.output["published"]["status"], execution.output["published"]["violation_count"]) == (
        "CompletedWithViolations", 4)
    assert _status_sums(engine.definition) == {"Completed": 0.0, "CompletedWithViolations": 1.0, "NoData": 0.0,
                                               "Failed": 0.0}
    assert [e["detail"]["status"] for e in events_inbox()] == ["CompletedWithViolations"]
    assert refused == []  # the role grants every request the publisher makes


def test_the_first_window_after_a_deployment_is_planned_under_the_planners_own_s3_permissions(
        engine, synthesized, events_inbox, reference_examples):
    # no earlier window, so no earlier manifest: S3 answers the planner's read of it 403, not 404
    engine.on_job_completed = _analyzer_finds_violations(reference_examples)
    planner = sys.modules[engine.lambdas["lambda:window_planner"].__module__]
    refused = enforce_policy(planner.client("s3"), _publisher_policy(*synthesized, handler="window_planner"))
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "Done", (execution.visited, engine.caught)
    assert refused == []  # the role grants every request the planner makes


def test_a_status_event_the_bus_refuses_ends_the_window_failed_in_cloudwatch_and_in_step_functions(
        engine, events_inbox, reference_examples):
    engine.on_job_completed = _analyzer_finds_violations(reference_examples)
    denied = json.dumps({"__type": "AccessDeniedException", "message": "not authorized to perform events:PutEvents"})
    fail_requests(_publisher(engine).client("events"), "PutEvents", [100], status=400, body=denied.encode(),
                  headers={"Content-Type": "application/x-amz-json-1.1"})
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED" and execution.visited[-3:] == ["PublishResults", "WindowStatus",
                                                                        "ExecutionFailed"]
    assert _status_sums(engine.definition) == ONLY_FAILED
    assert events_inbox() == []


def test_analyzer_metrics_cloudwatch_refuses_fail_the_window_with_the_reason(engine, events_inbox,
                                                                             reference_examples):
    engine.on_job_completed = _analyzer_finds_violations(reference_examples)
    refuse_put_metric_data(_publisher(engine).client("cloudwatch"), "aws/sagemaker/Endpoints/data-metrics")
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED" and execution.visited[-2:] == ["WindowStatus", "ExecutionFailed"]
    assert _status_sums(engine.definition) == ONLY_FAILED
    [event] = [e["detail"] for e in events_inbox()]
    assert event["status"] == "Failed" and event["violationCount"] == 4
    assert event["failureReason"].startswith("CloudWatch refused the analyzer's metrics (PutMetricData to "
                                             "aws/sagemaker/Endpoints/data-metrics (1 metrics) failed: AccessDenied")


def test_a_publication_stopped_part_way_is_completed_by_the_failure_path_with_the_analyzers_status(
        engine, events_inbox, reference_examples):
    engine.on_job_completed = _analyzer_finds_violations(reference_examples)

    class FunctionTimedOut(Exception):
        """Lambda ending the invocation right after a call (its time-out): Step Functions retries no such error."""

    ended = []

    def end_after_the_first_status_call(**_):
        if not ended:
            ended.append(True)
            raise FunctionTimedOut()

    publisher = _publisher(engine)
    publisher.client("events").meta.events.register("after-call.eventbridge.PutEvents",
                                                    end_after_the_first_status_call)
    publisher.client("cloudwatch").meta.events.register(
        "before-parameter-build.cloudwatch.PutMetricData",
        lambda params, context, **_: context.update(status_call=params["Namespace"] == STATUS_NAMESPACE))
    publisher.client("cloudwatch").meta.events.register(
        "after-call.cloudwatch.PutMetricData",
        lambda context, **kwargs: end_after_the_first_status_call() if context.get("status_call") else None)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert ended and engine.caught[0]["Error"] == "FunctionTimedOut"
    assert execution.status == "SUCCEEDED", (execution.visited, engine.caught)
    assert execution.visited[-3:] == ["RecordFailure", "WindowStatus", "Done"]
    assert execution.output["published"]["status"] == "CompletedWithViolations"
    assert _status_sums(engine.definition) == {"Completed": 0.0, "CompletedWithViolations": 1.0, "NoData": 0.0,
                                               "Failed": 0.0}
    assert {e["detail"]["status"] for e in events_inbox()} == {"CompletedWithViolations"}


def test_every_job_the_executions_start_is_one_the_state_machines_role_may_create_describe_and_stop(
        engine, synthesized):
    from fnmatch import fnmatchcase

    template, _ = synthesized
    [machine] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    statements = _role_policy(template, machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])

    def allowed(action: str, job: str) -> bool:
        arn = f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/{job.lower()}"  # SageMaker lower-cases it
        return any(s["Effect"] == "Allow" and action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                   and any(fnmatchcase(arn, r) for r in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                         else s["Resource"])) for s in statements)

    engine.job_status = lambda name, arguments: "Failed" if not name.endswith("-attempt-2") else "Completed"
    first, again = _execution(engine, "hourly-tick"), _execution(engine, "rerun-of-failed-window")
    interleave(engine.run(first, _scheduler_input()))
    interleave(engine.run(again, _scheduler_input()))

    jobs = _jobs()
    assert len(jobs) == 2 and again.output["plan"]["attempt"] == 2
    for job in jobs:
        for action in ("CreateProcessingJob", "DescribeProcessingJob", "StopProcessingJob", "AddTags"):
            assert allowed(f"sagemaker:{action}", job), (action, job)
    # another monitor's job (the same window, under another schedule's prefix) is out of this role's reach
    window = again.output["plan"]["window_id"]
    other = engine.definition["States"]["PlanWindow"]["Parameters"]["job_name_prefix"].replace("--", "--0")
    assert not allowed("sagemaker:CreateProcessingJob", f"{other}-{window}-0123456789")
    assert not allowed("sagemaker:StopProcessingJob", f"model-monitor-{window}-0123456789")


def test_a_failed_jobs_event_gives_the_analyzers_own_message_first(engine, events_inbox, tmp_path):
    from model_monitor_analyzer.contract.entrypoint import run_container

    # the analyzer run in a job whose baseline statistics are missing: it exits 255 after writing its message
    root = tmp_path / "opt" / "ml"
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps({"Environment": {
        "dataset_source": "/opt/ml/processing/input/endpoint", "output_path": "/opt/ml/processing/output",
        "start_time": "2026-11-25T12:00:00Z", "end_time": "2026-11-25T13:00:00Z",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json"}}))
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 255
    message = (root / "output" / "message").read_text()
    original = engine._call

    def job_fails(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync"):
            sagemaker = boto3.client("sagemaker", region_name=REGION)
            sagemaker.create_processing_job(**arguments)
            job = sagemaker.describe_processing_job(ProcessingJobName=arguments["ProcessingJobName"])
            job.pop("ResponseMetadata")
            # what Step Functions passes on: the job's description, with SageMaker's ExitMessage and FailureReason
            raise StatesError("States.TaskFailed", json.dumps({
                **job, "ProcessingJobStatus": "Failed", "ExitMessage": message,
                "FailureReason": "AlgorithmError: See job logs for more information"}, default=str))
        return (yield from original(resource, arguments))

    engine._call = job_fails
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED" and "RecordFailure" in execution.visited
    [event] = [e["detail"] for e in events_inbox()]
    assert message.startswith("Error: ") and event["status"] == "Failed"
    assert event["failureReason"] == (f"processing job {_jobs()[0]} Failed after less than a minute: {message} "
                                      "(SageMaker: AlgorithmError: See job logs for more information)")
    assert _status_sums(engine.definition) == ONLY_FAILED


def test_a_stopped_jobs_event_says_so_in_a_line_not_its_description(engine, events_inbox):
    engine.job_status = lambda name, arguments: "Stopped"
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED"
    [event] = [e["detail"] for e in events_inbox()]
    assert event["failureReason"] == (f"processing job {_jobs()[0]} Stopped after less than a minute: stopped by "
                                      "StopProcessingJob (a user, or its execution ending)")


def test_a_window_run_again_after_two_weeks_counts_in_no_current_period(engine, events_inbox):
    old = _scheduled() - timedelta(days=15)
    capture = (REPO_ROOT / "tests" / "fixtures" / "reference" / "immersion-day-churn-data-quality" / "notebook-output"
               / "capture.jsonl")
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=f"{_capture_prefix(engine.definition)}/{old - timedelta(hours=1):%Y/%m/%d/%H}/10-00-000-x.jsonl",
        Body=capture.read_bytes())
    execution = _execution(engine, "rerun-of-an-old-window")

    interleave(engine.run(execution, {"scheduled_time": old.strftime("%Y-%m-%dT%H:%M:%SZ"), "rerun": True}))

    assert execution.status == "SUCCEEDED" and "RunAnalyzer" in execution.visited, (execution.visited, engine.caught)
    published = execution.output["published"]
    assert published["status"] == "Completed"
    assert "outside what CloudWatch accepts" in published["status_metrics_skipped"]
    assert _status_sums(engine.definition) == {status: 0.0 for status in STATUSES}
    assert boto3.client("cloudwatch", region_name=REGION).list_metrics(Namespace=STATUS_NAMESPACE)["Metrics"] == []
    [event] = [e["detail"] for e in events_inbox()]
    assert event["statusMetricsSkipped"] == published["status_metrics_skipped"]


# -- starting the job, the functions' retries, and the execution's time budget -----------------------------------

# What the optimized integration's error carries in its Cause: SageMaker's message, then the service, status and code.
THROTTLED = ("Rate exceeded (Service: AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException; "
             "Request ID: 5c8f3a1e-0000-4000-8000-000000000000; Proxy: null)")
INVALID = ("1 validation error detected: Value 'ml.m5.huge' at 'processingResources.clusterConfig.instanceType' failed "
           "to satisfy constraint: Member must satisfy enum value set (Service: AmazonSageMaker; Status Code: 400; "
           "Error Code: ValidationException; Request ID: 5c8f3a1e-0000-4000-8000-000000000001; Proxy: null)")
LIMITED = ("The account-level service limit 'ml.m5.xlarge for processing job usage' is 2 Instances, with current "
           "utilization of 2 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request "
           "an increase for this quota. (Service: AmazonSageMaker; Status Code: 400; Error Code: "
           "ResourceLimitExceeded; Request ID: 5c8f3a1e-0000-4000-8000-000000000002; Proxy: null)")
NO_QUOTA = LIMITED.replace("is 2 Instances, with current utilization of 2 Instances",
                           "is 0 Instances, with current utilization of 0 Instances")


def _refuse_job_starts(engine, refusals: list[tuple[str, str]]) -> list[str]:
    """SageMaker refuses the next creates of the window's job with these (error, cause), before creating anything;
    returns the list each create call adds the job's name to."""
    original, calls = engine._call, []

    def call(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync"):
            calls.append(arguments["ProcessingJobName"])
            if refusals:
                raise StatesError(*refusals.pop(0))
        return (yield from original(resource, arguments))

    engine._call = call
    return calls


def _waits(execution: Execution, state: str) -> list[float]:
    return [seconds for name, seconds in execution.waits if name == state]


def test_a_throttled_job_start_is_tried_again_after_a_wait_and_the_window_completes(engine):
    calls = _refuse_job_starts(engine, [("SageMaker.AmazonSageMakerException", THROTTLED)] * 2)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "Done", (execution.visited, engine.caught)
    assert len(calls) == 3 and len(set(calls)) == 1  # the same job name each time
    assert _waits(execution, "WaitToStartJob") == [30.0, 60.0]
    assert _status_sums(engine.definition) == {"Completed": 1.0, "CompletedWithViolations": 0.0, "NoData": 0.0,
                                               "Failed": 0.0}


def test_a_job_start_sagemaker_refuses_as_invalid_is_not_tried_again_and_fails_the_window_with_its_reason(
        engine, events_inbox):
    calls = _refuse_job_starts(engine, [("SageMaker.AmazonSageMakerException", INVALID)] * 5)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert len(calls) == 1 and _waits(execution, "WaitToStartJob") == []
    assert execution.status == "FAILED" and execution.visited[-4:] == [
        "JobStartRefused", "RecordFailure", "WindowStatus", "ExecutionFailed"]
    [event] = [e["detail"] for e in events_inbox()]
    assert event["failureReason"] == INVALID
    assert _status_sums(engine.definition) == ONLY_FAILED


def test_a_job_start_throttled_every_time_fails_the_window_after_four_retries_naming_them(engine, events_inbox):
    calls = _refuse_job_starts(engine, [("SageMaker.AmazonSageMakerException", THROTTLED)] * 10)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert len(calls) == 5 and _waits(execution, "WaitToStartJob") == [30.0, 60.0, 120.0, 240.0]
    assert execution.status == "FAILED" and "JobStartRetriesExhausted" in execution.visited
    [event] = [e["detail"] for e in events_inbox()]
    assert event["failureReason"] == f"SageMaker refused to start processing job {calls[0]} 5 times, the last " \
                                     f"time: {THROTTLED}"
    assert _jobs() == [] and _status_sums(engine.definition) == ONLY_FAILED


@pytest.mark.parametrize("error", ["SageMaker.AmazonSageMakerException", "SageMaker.ResourceLimitExceededException"])
def test_a_resource_limit_other_jobs_hold_is_waited_out_longer(engine, error):
    calls = _refuse_job_starts(engine, [(error, LIMITED)] * 2)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and len(calls) == 3, (execution.visited, engine.caught)
    assert _waits(execution, "WaitToStartJob") == [60.0, 120.0]


def test_a_quota_of_zero_instances_is_not_waited_for(engine, events_inbox):
    calls = _refuse_job_starts(engine, [("SageMaker.ResourceLimitExceededException", NO_QUOTA)] * 5)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert len(calls) == 1 and execution.status == "FAILED"
    assert [e["detail"]["failureReason"] for e in events_inbox()] == [NO_QUOTA]


def test_a_taken_name_reported_under_its_own_error_name_also_waits_for_that_job(engine):
    original = engine._call

    def taken(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync"):
            if not _jobs():
                engine.start_job_elsewhere(arguments, steps=1)  # an earlier try of this attempt created it
            raise StatesError("SageMaker.ResourceInUseException", "Resource in use")
        return (yield from original(resource, arguments))

    engine._call = taken
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "Done", (execution.visited, engine.caught)
    assert "WatchExistingJob" in execution.visited and _waits(execution, "WaitToStartJob") == []


def test_a_job_still_running_at_the_end_of_its_time_out_fails_the_window_saying_so(engine, events_inbox):
    original = engine._call

    def outlives(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync"):
            boto3.client("sagemaker", region_name=REGION).create_processing_job(**arguments)
            yield "job running"
            raise StatesError("States.Timeout", "")  # RunAnalyzer's TimeoutSeconds passed
        return (yield from original(resource, arguments))

    engine._call = outlives
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED" and execution.visited[-5:] == [
        "RunAnalyzer", "JobTimedOut", "RecordFailure", "WindowStatus", "ExecutionFailed"]
    [event] = [e["detail"] for e in events_inbox()]
    assert event["failureReason"] == (f"processing job {_jobs()[0]} did not end within 90 minutes (its maximum run "
                                      "time of 60 minutes and 30 to start and stop): the execution stopped waiting "
                                      "for it")
    assert _status_sums(engine.definition) == ONLY_FAILED


def test_a_job_of_the_window_that_never_ends_fails_the_window_after_a_bounded_number_of_polls(engine, events_inbox):
    original = engine._call

    def started_before(resource: str, arguments: dict):
        if resource.endswith("createProcessingJob.sync") and not _jobs():
            engine.start_job_elsewhere(arguments, steps=10**6)  # a job of this attempt that SageMaker never ends
        return (yield from original(resource, arguments))

    engine._call = started_before
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "FAILED" and "ExistingJobTimedOut" in execution.visited
    assert _waits(execution, "WaitForExistingJob") == [60.0] * 90  # the job's 60 minutes and 30 to start and stop
    [event] = [e["detail"] for e in events_inbox()]
    assert event["failureReason"].startswith(f"processing job {_jobs()[0]} of this window was still running")
    assert _status_sums(engine.definition) == ONLY_FAILED


def _ends_without_an_answer(error: str, handler, times: int = 1):
    """``handler``, except that its first ``times`` invocations end as Lambda reports ``error`` (a time-out is
    Sandbox.Timedout, another unhandled end Lambda.Unknown); counts every invocation in ``.calls``."""
    ended = type(error, (Exception,), {})

    def invoke(event, context):
        invoke.calls += 1
        if invoke.calls <= times:
            raise ended("RequestId: 00000000 Error: Task timed out after 300.00 seconds")
        return handler(event, context)

    invoke.calls = 0
    return invoke


@pytest.mark.parametrize("error", ["Sandbox.Timedout", "Lambda.Unknown"])
def test_a_function_that_ended_without_an_answer_is_invoked_once_more(engine, error):
    planner = engine.lambdas["lambda:window_planner"] = _ends_without_an_answer(
        error, engine.lambdas["lambda:window_planner"])
    publisher = engine.lambdas["lambda:metrics_publisher"] = _ends_without_an_answer(
        error, engine.lambdas["lambda:metrics_publisher"])
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert execution.status == "SUCCEEDED" and execution.visited[-1] == "Done", (execution.visited, engine.caught)
    assert (planner.calls, publisher.calls) == (2, 2)
    assert _status_sums(engine.definition)["Completed"] == 1.0


def test_a_function_that_times_out_again_is_not_invoked_a_third_time(engine):
    planner = engine.lambdas["lambda:window_planner"] = _ends_without_an_answer(
        "Sandbox.Timedout", engine.lambdas["lambda:window_planner"], times=5)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, _scheduler_input()))

    assert planner.calls == 2 and execution.visited[-2:] == ["RecordPlanningFailure", "ExecutionFailed"]


def test_a_functions_own_input_error_is_not_run_again(engine):
    planner = engine.lambdas["lambda:window_planner"] = _ends_without_an_answer(
        "Sandbox.Timedout", engine.lambdas["lambda:window_planner"], times=0)
    execution = _execution(engine, "hourly-tick")

    interleave(engine.run(execution, {**_scheduler_input(), "rerun": "yes"}))  # the planner refuses it

    assert planner.calls == 1 and engine.caught[0]["Error"] == "PlanningInputError"
    assert execution.status == "FAILED" and execution.visited[-2:] == ["RecordPlanningFailure", "ExecutionFailed"]


def _longest_lambda_task(state: dict, function_timeout: float) -> float:
    """A Lambda task at its longest: every run of the function that a retried error may follow lasts the function's
    timeout (the handlers' own errors, a time-out, an unhandled end); invocations Lambda refused (its service
    errors, Lambda.*) cost nothing but the waits; and every retrier waits all its intervals."""
    runs, waits = 1, 0.0
    for retry in state.get("Retry", []):
        attempts, interval, rate = retry.get("MaxAttempts", 3), retry.get("IntervalSeconds", 1), \
            retry.get("BackoffRate", 2.0)
        waits += sum(min(interval * rate ** n, retry.get("MaxDelaySeconds", math.inf)) for n in range(attempts))
        if any(not e.startswith("Lambda.") or e == "Lambda.Unknown" for e in retry["ErrorEquals"]):
            runs += attempts
    return runs * function_timeout + waits


def test_every_step_at_its_longest_still_leaves_the_window_published_before_the_execution_times_out(
        engine, synthesized):
    template, functions = synthesized
    timeouts = {f"lambda:{folder}": template["Resources"][logical_id]["Properties"]["Timeout"]
                for logical_id, folder in functions.items()}
    states = engine.definition["States"]
    # refused starts at their longest: a resource limit held every time, measured on an execution
    _refuse_job_starts(engine, [("SageMaker.AmazonSageMakerException", LIMITED)] * 10)
    refused = _execution(engine, "refused-every-time")
    interleave(engine.run(refused, _scheduler_input()))
    starts = sum(_waits(refused, "WaitToStartJob"))
    job = states["RunAnalyzer"]
    assert job["TimeoutSeconds"] >= job["Parameters"]["StoppingCondition"]["MaxRuntimeInSeconds"] + 1800
    polls = states["PollExistingJob"]["Choices"][0]["NumericLessThan"] * states["WaitForExistingJob"]["Seconds"]
    direct = _longest_lambda_task(states["RecordFailureDirectly"], 0)

    def task(name: str) -> float:
        return _longest_lambda_task(states[name], timeouts[states[name]["Resource"]])

    # the longest path: wait, plan, starts refused, the job, an existing job polled, the publication, the failure
    # path after it (the publisher, then the state machine's own PutMetricData)
    longest = (states["WaitForCaptureDelivery"]["Seconds"] + task("PlanWindow") + starts + job["TimeoutSeconds"]
               + polls + task("PublishResults") + task("RecordFailure") + direct)

    assert starts == 60 + 120 + 240 + 480
    assert longest <= engine.definition["TimeoutSeconds"], (longest, engine.definition["TimeoutSeconds"])
    assert states["PlanWindow"]["Parameters"]["claim_seconds"] == engine.definition["TimeoutSeconds"]
    # every other path is shorter: no-data and planning failures publish once, a re-run is an execution of its own
    assert task("RecordNoData") == task("RecordPlanningFailure") == task("RecordFailure")
