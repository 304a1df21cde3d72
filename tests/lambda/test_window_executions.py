"""Executions of the synthesized standalone state machine against moto: duplicates, retries and failures.

The definition is the one a DataQualityMonitor synthesizes; its Lambda tasks run the real handlers of
lambda/window_planner and lambda/metrics_publisher; the captured object is a real SageMaker capture file.
"""

from __future__ import annotations

import json
import re
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

from .conftest import REGION, load_handler
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
    assert {"JobNameTaken", "DescribeExistingJob", "WaitForExistingJob"} <= set(execution.visited)
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
