"""lambda/window_planner in batch mode: a completed transform job (its EventBridge event) or a scheduled window, the
capture manifests the job wrote under input/ and output/, the one ManifestFile per side the planner writes for the
Processing job, and windows without manifests on the no-data path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters

from .conftest import EVENTS, REGION, load_handler

BUCKET = "monitoring-bucket"
DATA = "transform-data"
CAPTURE = f"s3://{BUCKET}/datacapture/batch-transform/churn"
REPORTS = f"s3://{BUCKET}/reports/data-quality"
SCHEDULE = "churn-batch-data-quality"
LOCAL = "/opt/ml/processing/input/batch"
BASELINE_INPUT = {"InputName": "baseline_constraints", "S3Input": {
    "S3Uri": "s3://assets/constraints.json", "S3DataType": "S3Prefix", "S3InputMode": "File",
    "S3DataDistributionType": "FullyReplicated", "LocalPath": "/opt/ml/processing/baseline/constraints"}}


@pytest.fixture
def planner(aws, monkeypatch):
    for name in ("CAPTURE_S3_URI", "REPORT_S3_URI", "ENDPOINT_NAME", "SCHEDULE_NAME", "MANIFEST_S3_URI",
                 "GROUND_TRUTH_S3_URI", "KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    return load_handler("window_planner")


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    for bucket in (BUCKET, DATA):
        client.create_bucket(Bucket=bucket)
    return client


def _job_event() -> dict:
    """The sample "SageMaker Transform Job State Change" event (the developer guide's shape, this job's values)."""
    return json.loads((EVENTS / "transform_job_state_change_completed.json").read_text())


def _put_manifest(s3, side: str, hour: datetime, name: str, prefix: str, keys: list[str]) -> None:
    """A capture manifest as the transform job writes it: <dest>/<side>/yyyy/mm/dd/HH/<uuid>.json."""
    s3.put_object(Bucket=BUCKET, Key=f"datacapture/batch-transform/churn/{side}/{hour:%Y/%m/%d/%H}/{name}.json",
                  Body=json.dumps([{"prefix": prefix}, *keys]).encode())


def _put_job_manifests(s3, job: dict) -> None:
    start = datetime.fromisoformat(job["TransformStartTime"].replace("Z", "+00:00"))
    _put_manifest(s3, "input", start, "8c5d7a0e-1f1e-4c43-9a66-4d6b0f2a1c01",
                  job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"], ["part-0001.csv", "part-0002.csv"])
    _put_manifest(s3, "output", start, "1b1e9e45-88a3-4ba5-8a0b-63b7e3d6d2f4",
                  job["TransformOutput"]["S3OutputPath"], ["part-0001.csv.out", "part-0002.csv.out"])


def _event(**overrides) -> dict:
    event = {"scheduled_time": "2026-11-25T13:00:00Z", "capture_s3_uri": CAPTURE, "report_s3_uri": REPORTS,
             "schedule_name": SCHEDULE, "monitor_type": "data-quality", "monitoring_input_type": "BATCH_TRANSFORM",
             "input_local_path": f"{LOCAL}/input", "output_local_path": f"{LOCAL}/output",
             "job_inputs": [BASELINE_INPUT]}
    event.update(overrides)
    return event


def _read_json(s3, uri: str):
    bucket, key = uri[len("s3://"):].split("/", 1)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_a_completed_jobs_event_plans_its_window_with_one_manifest_file_per_side(planner, s3):
    event = _job_event()
    job = event["detail"]
    _put_job_manifests(s3, job)
    plan = planner.handler(_event(scheduled_time=event["time"], transform_job=job), None)
    assert plan["has_data"] is True and plan["no_data_reason"] is None
    assert (plan["start"], plan["end"]) == (job["TransformStartTime"], job["TransformEndTime"])
    assert plan["transform_job_name"] == job["TransformJobName"]
    assert (plan["input_object_count"], plan["output_object_count"]) == (2, 2)
    # the job downloads the DATA files: <local>/<key relative to the capture manifest's prefix>
    assert _read_json(s3, plan["input_manifest_uri"]) == [
        {"prefix": job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] + "/"}, "part-0001.csv",
        "part-0002.csv"]
    assert _read_json(s3, plan["output_manifest_uri"]) == [
        {"prefix": job["TransformOutput"]["S3OutputPath"] + "/"}, "part-0001.csv.out", "part-0002.csv.out"]
    inputs = {i["InputName"]: i["S3Input"] for i in plan["processing_inputs"]}
    assert set(inputs) == {"input", "output", "baseline_constraints"}
    assert inputs["input"] == {"S3Uri": plan["input_manifest_uri"], "S3DataType": "ManifestFile",
                               "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated",
                               "LocalPath": f"{LOCAL}/input"}
    assert inputs["output"]["LocalPath"] == f"{LOCAL}/output"
    assert plan["report_uri"].endswith(f"/{SCHEDULE}/{job['TransformJobName']}/2026/11/25/02")
    assert plan["job_name"].startswith("model-monitor-202611250211")


def test_manifests_of_another_job_in_the_same_hour_are_not_this_jobs(planner, s3):
    job = _job_event()["detail"]
    _put_job_manifests(s3, job)
    start = datetime.fromisoformat(job["TransformStartTime"].replace("Z", "+00:00"))
    _put_manifest(s3, "output", start, "other", f"s3://{DATA}/other-model/output/", ["x.csv.out"])
    plan = planner.handler(_event(transform_job=job), None)
    assert plan["output_object_count"] == 2
    assert "x.csv.out" not in json.dumps(_read_json(s3, plan["output_manifest_uri"]))


def test_a_job_with_output_capture_only_gets_the_output_input_alone(planner, s3):
    job = _job_event()["detail"]
    start = datetime.fromisoformat(job["TransformStartTime"].replace("Z", "+00:00"))
    _put_manifest(s3, "output", start, "only", job["TransformOutput"]["S3OutputPath"], ["part-0001.csv.out"])
    plan = planner.handler(_event(transform_job=job), None)
    assert plan["has_data"] and plan["input_manifest_uri"] is None
    assert [i["InputName"] for i in plan["processing_inputs"]] == ["output", "baseline_constraints"]


def test_a_job_whose_input_was_one_object_gets_that_file_under_its_name(planner, s3):
    """A transform job fed one object writes an input manifest whose prefix is that object and whose key is empty
    (AWS's batch-monitoring example); the Processing job gets it as <local>/input/<object name>."""
    job = _job_event()["detail"]
    single = f"s3://{DATA}/churn/input/test-dataset.jsonl"
    job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] = single
    start = datetime.fromisoformat(job["TransformStartTime"].replace("Z", "+00:00"))
    _put_manifest(s3, "input", start, "single", single, [""])
    plan = planner.handler(_event(transform_job=job), None)
    assert plan["input_object_count"] == 1
    assert _read_json(s3, plan["input_manifest_uri"]) == [{"prefix": f"s3://{DATA}/churn/input/"}, "test-dataset.jsonl"]


def test_a_job_without_manifests_takes_the_no_data_path(planner, s3):
    plan = planner.handler(_event(transform_job=_job_event()["detail"]), None)
    assert plan["has_data"] is False and plan["no_data_reason"] == "no_capture"
    assert plan["processing_inputs"] == [] and plan["manifest_uri"] is None


def test_event_times_in_epoch_milliseconds_are_read_as_utc(planner, s3):
    job = _job_event()["detail"]
    start = datetime.fromisoformat(job["TransformStartTime"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(job["TransformEndTime"].replace("Z", "+00:00"))
    job = {**job, "TransformStartTime": int(start.timestamp() * 1000), "TransformEndTime": str(int(end.timestamp() * 1000))}
    plan = planner.handler(_event(transform_job=job), None)
    assert (plan["start"], plan["end"]) == (f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{end:%Y-%m-%dT%H:%M:%SZ}")


def test_a_second_delivery_of_the_jobs_event_is_a_duplicate_of_the_first_execution(planner, s3, monkeypatch):
    job = _job_event()["detail"]
    _put_job_manifests(s3, job)
    monkeypatch.setattr(planner, "execution_status", lambda arn: "RUNNING")
    first = planner.handler(_event(transform_job=job, execution_id="arn:aws:states:us-east-1:1:execution:m:first"),
                            None)
    second = planner.handler(_event(transform_job=job, execution_id="arn:aws:states:us-east-1:1:execution:m:second"),
                             None)
    assert first["duplicate"] is False and first["has_data"]
    assert second["duplicate"] is True and second["duplicate_of"].endswith(":first")
    assert second["job_name"] == first["job_name"]


def test_a_scheduled_window_takes_every_job_of_its_hours_under_their_shared_prefix(planner, s3):
    hour = datetime(2026, 11, 25, 12, tzinfo=UTC)
    _put_manifest(s3, "output", hour, "a", f"s3://{DATA}/churn/2026-11-25-a/", ["part-1.csv.out"])
    _put_manifest(s3, "output", hour, "b", f"s3://{DATA}/churn/2026-11-25-b/", ["part-1.csv.out"])
    _put_manifest(s3, "output", hour - timedelta(hours=1), "old", f"s3://{DATA}/churn/old/", ["part-1.csv.out"])
    plan = planner.handler(_event(), None)
    assert plan["output_object_count"] == 2 and plan["input_manifest_uri"] is None
    # two jobs' files named alike stay apart under the prefix they share
    assert _read_json(s3, plan["output_manifest_uri"]) == [
        {"prefix": f"s3://{DATA}/churn/"}, "2026-11-25-a/part-1.csv.out", "2026-11-25-b/part-1.csv.out"]
    assert plan["report_uri"] == f"{REPORTS}/{SCHEDULE}/2026/11/25/13"


def test_a_malformed_manifest_in_the_capture_folder_is_skipped(planner, s3):
    hour = datetime(2026, 11, 25, 12, tzinfo=UTC)
    s3.put_object(Bucket=BUCKET, Key=f"datacapture/batch-transform/churn/output/{hour:%Y/%m/%d/%H}/junk.json",
                  Body=b"not json")
    _put_manifest(s3, "output", hour, "a", f"s3://{DATA}/churn/a/", ["part-1.csv.out"])
    plan = planner.handler(_event(), None)
    assert plan["output_object_count"] == 1


def test_model_quality_batch_window_adds_the_ground_truth_input(planner, s3):
    job = _job_event()["detail"]
    _put_job_manifests(s3, job)
    end = datetime.fromisoformat(job["TransformEndTime"].replace("Z", "+00:00"))
    s3.put_object(Bucket=BUCKET, Key=f"ground-truth/churn/{end - timedelta(minutes=30):%Y/%m/%d/%H}/labels.jsonl",
                  Body=b'{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "1"}}\n')
    plan = planner.handler(_event(transform_job=job, monitor_type="model-quality",
                                  ground_truth_s3_uri=f"s3://{BUCKET}/ground-truth/churn", ground_truth_lookback="PT1H",
                                  ground_truth_local_path="/opt/ml/processing/groundtruth"), None)
    inputs = {i["InputName"]: i["S3Input"] for i in plan["processing_inputs"]}
    assert inputs["ground_truth"]["S3Uri"] == plan["ground_truth_manifest_uri"]
    assert inputs["ground_truth"]["LocalPath"] == "/opt/ml/processing/groundtruth"


@pytest.mark.parametrize(("change", "says"), [
    ({"TransformJobStatus": "Failed"}, "not Completed"),
    ({"TransformStartTime": "yesterday"}, "TransformStartTime"),
    ({"TransformJobName": "bad_name"}, "TransformJobName"),
])
def test_a_malformed_job_is_a_planning_input_error_naming_the_field(planner, s3, change, says):
    job = {**_job_event()["detail"], **change}
    with pytest.raises(planner.PlanningInputError, match=says):
        planner.handler(_event(transform_job=job), None)


def test_the_batch_windows_create_processing_job_request_is_valid_for_sagemaker(planner, s3):
    """RunAnalyzer's request of a batch window, its JSONPaths filled from a real plan, against botocore's model."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from ..constructs.test_batch_monitors import _data_quality

    app = cdk.App()
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account="123456789012", region=REGION))
    _data_quality(stack)
    machine = next(iter(Template.from_stack(stack).find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    parameters = json.loads("".join(p if isinstance(p, str) else "arn:aws:iam::123456789012:role/x" for p in parts)
                            )["States"]["RunAnalyzer"]["Parameters"]
    job = _job_event()["detail"]
    _put_job_manifests(s3, job)
    plan_event = json.loads("".join(p if isinstance(p, str) else "s3://monitoring-bucket/x" for p in parts)
                            )["States"]["PlanWindow"]["Parameters"]
    plan_event = {k.removesuffix(".$"): v for k, v in plan_event.items() if not k.endswith(".$")}
    plan = planner.handler({**plan_event, "capture_s3_uri": CAPTURE, "report_s3_uri": REPORTS,
                            "manifest_s3_uri": f"{REPORTS}/_manifests", "scheduled_time": "2026-11-25T03:00:00Z",
                            "transform_job": job}, None)

    def fill(node):
        if isinstance(node, dict):
            return {k.removesuffix(".$"): (plan[v.removeprefix("$.plan.")] if k.endswith(".$") else fill(v))
                    for k, v in node.items()}
        return [fill(v) for v in node] if isinstance(node, list) else node

    request = fill(parameters)
    assert [i["InputName"] for i in request["ProcessingInputs"]][:2] == ["input", "output"]
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model(
        "CreateProcessingJob").input_shape
    validate_parameters(request, shape)
