"""lambda/baseline_job: the deploy-time baseline custom resource (on_event / is_complete) against moto."""

from __future__ import annotations

import copy
import json
import re

import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from .conftest import REGION, load_handler, log_lines

PREFIX = "churn-baseline-1a2b3c4d"
OUTPUT = "s3://monitoring-bucket/baselines/v3"
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/monitor-job-role"
JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# The shape BaselineJob synthesizes (constructs/cdk_model_monitor/baseline.py), with tokens resolved.
REQUEST = {
    "RoleArn": ROLE_ARN,
    "AppSpecification": {"ImageUri": f"{DEFAULT_ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/"
                                     f"cdk-hnb659fds-container-assets-{DEFAULT_ACCOUNT_ID}-{REGION}:0f3c"},
    "Environment": {
        "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    },
    "ProcessingInputs": [{"InputName": "baseline_dataset_input", "S3Input": {
        "S3Uri": "s3://ml-data/churn/train/", "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
        "S3DataType": "S3Prefix", "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}],
    "ProcessingOutputConfig": {"KmsKeyId": f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/1234abcd",
                               "Outputs": [{"OutputName": "baseline", "S3Output": {
                                   "S3Uri": OUTPUT, "LocalPath": "/opt/ml/processing/output",
                                   "S3UploadMode": "EndOfJob"}}]},
    "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                              "VolumeSizeInGB": 20}},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3000},
    "NetworkConfig": {"EnableInterContainerTrafficEncryption": True},
    "Tags": [{"Key": "cdk-model-monitor:baseline-version", "Value": "v3"}],
}


def _event(request_type: str = "Create", *, request: dict | None = None, version: str = "v3",
           physical_id: str | None = None, old: dict | None = None) -> dict:
    """A CloudFormation custom-resource event as the Provider framework passes it on."""
    event = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
        "StackId": f"arn:aws:cloudformation:{REGION}:{DEFAULT_ACCOUNT_ID}:stack/churn/6f3a",
        "RequestId": "5d0e8a4c-7b37-4a5e-9f0e-0e5b6a1e2f3c",
        "LogicalResourceId": "MonitorBaseline1A2B3C4D",
        "ResourceType": "Custom::ModelMonitorBaseline",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent",
            "JobNamePrefix": PREFIX,
            "Version": version,
            "OutputS3Uri": OUTPUT,
            "ProcessingJobRequest": json.dumps(request or REQUEST),
        },
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old is not None:
        event["OldResourceProperties"] = old
    return event


@pytest.fixture
def handler(aws, monkeypatch):
    monkeypatch.setenv("JOB_NAME_PREFIX", PREFIX)
    return load_handler("baseline_job")


@pytest.fixture
def calls(handler):
    """Every SageMaker call the handler makes: (operation, parameters)."""
    recorded: list[tuple[str, dict]] = []

    def record(params, model, **_):
        recorded.append((model.name, copy.deepcopy(params)))

    handler._sagemaker().meta.events.register("provide-client-params.sagemaker.*", record)
    return recorded


def _jobs() -> dict:
    return sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].processing_jobs


def _set(name: str, status: str, **attributes) -> None:
    job = _jobs()[name]
    job.processing_job_status = status
    for key, value in attributes.items():
        setattr(job, key, value)


def _fail_next(handler, operation: str, code: str, message: str) -> None:
    """Make the next ``operation`` call answer with an AWS error."""

    def refuse(**_):
        handler._sagemaker().meta.events.unregister(f"before-call.sagemaker.{operation}", refuse)
        return (AWSResponse("https://api.sagemaker", 400, {}, None),
                {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}})

    handler._sagemaker().meta.events.register(f"before-call.sagemaker.{operation}", refuse)


# -- Create / Update --------------------------------------------------------------------------------


def test_create_starts_the_job_with_the_request_and_reports_where_the_baseline_lands(handler, calls, capsys):
    result = handler.on_event(_event(), None)
    name = result["PhysicalResourceId"]
    assert name.startswith(f"{PREFIX}-v3-") and JOB_NAME_PATTERN.match(name) and len(name) <= 63
    assert name == handler.job_name(PREFIX, "v3", REQUEST)
    assert result["Data"] == {
        "ProcessingJobName": name,
        "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:processing-job/{name}",
        "Version": "v3",
        "StatisticsS3Uri": f"{OUTPUT}/statistics.json",
        "ConstraintsS3Uri": f"{OUTPUT}/constraints.json",
    }
    creates = [params for op, params in calls if op == "CreateProcessingJob"]
    assert creates == [{"ProcessingJobName": name, **REQUEST}]
    job = _jobs()[name]
    assert job.role_arn == ROLE_ARN and job.processing_inputs == REQUEST["ProcessingInputs"]
    assert job.processing_output_config == REQUEST["ProcessingOutputConfig"]
    (started,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "baseline job started"]
    assert started["job_name"] == name and started["attempt"] == 1 and started["level"] == "INFO"


def test_a_retried_create_finds_the_job_it_already_started(handler, calls):
    first = handler.on_event(_event(), None)
    _set(first["PhysicalResourceId"], "InProgress")
    second = handler.on_event(_event(), None)
    assert second == first
    assert [op for op, _ in calls].count("CreateProcessingJob") == 1


def test_update_of_compute_settings_keeps_the_finished_baseline(handler, calls):
    created = handler.on_event(_event(), None)
    bigger = copy.deepcopy(REQUEST)
    bigger["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.m5.4xlarge"
    bigger["AppSpecification"]["ImageUri"] += "-newer"
    updated = handler.on_event(_event("Update", request=bigger, physical_id=created["PhysicalResourceId"],
                                      old=_event()["ResourceProperties"]), None)
    assert updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert [op for op, _ in calls].count("CreateProcessingJob") == 1


def test_new_version_or_dataset_runs_a_new_job(handler, calls):
    original = handler.on_event(_event(), None)["PhysicalResourceId"]
    other_data = copy.deepcopy(REQUEST)
    other_data["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://ml-data/churn/train-2026-11/"
    names = {
        original,
        handler.on_event(_event("Update", version="v4", physical_id=original), None)["PhysicalResourceId"],
        handler.on_event(_event("Update", request=other_data, physical_id=original), None)["PhysicalResourceId"],
    }
    assert len(names) == 3
    assert [op for op, _ in calls].count("CreateProcessingJob") == 3
    assert any(n.startswith(f"{PREFIX}-v4-") for n in names)


def test_a_failed_job_of_an_earlier_deployment_is_not_reused(handler, calls, capsys):
    first = handler.on_event(_event(), None)["PhysicalResourceId"]
    _set(first, "Failed", failure_reason="AlgorithmError: no such key")
    retried = handler.on_event(_event(), None)["PhysicalResourceId"]
    assert retried == f"{first}-2"
    assert _jobs()[retried].processing_job_status == "Completed"  # moto finishes jobs at once
    assert [op for op, _ in calls].count("CreateProcessingJob") == 2
    skipped = [line for line in log_lines(capsys.readouterr().out) if line["message"].startswith("skipping")]
    assert skipped[0]["failure_reason"] == "AlgorithmError: no such key"


def test_after_too_many_failed_attempts_the_deployment_fails_with_the_fix(handler):
    for attempt in range(1, handler.MAX_ATTEMPTS + 1):
        name = handler.on_event(_event(), None)["PhysicalResourceId"]
        assert name.endswith(f"-{attempt}") or attempt == 1
        _set(name, "Stopped")
    with pytest.raises(handler.BaselineJobFailed, match="new baseline version"):
        handler.on_event(_event(), None)


def test_a_job_created_by_a_concurrent_retry_is_adopted(handler, calls):
    name = handler.job_name(PREFIX, "v3", REQUEST)
    # describe says "no such job", then create loses the race to another invocation
    _fail_next(handler, "DescribeProcessingJob", "ValidationException", f"Could not find processing job '{name}'")
    handler._sagemaker().create_processing_job(ProcessingJobName=name, **REQUEST)
    _fail_next(handler, "CreateProcessingJob", "ValidationException",
               "Job name must be unique within an AWS account and region, and a job with this name already exists")
    assert handler.on_event(_event(), None)["PhysicalResourceId"] == name


def test_access_denied_fails_the_create(handler):
    _fail_next(handler, "DescribeProcessingJob", "AccessDeniedException", "not authorized to perform DescribeProcessingJob")
    with pytest.raises(handler.ClientError, match="AccessDenied"):
        handler.on_event(_event(), None)


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.pop("Version"), "Version"),
    (lambda p: p.update(ProcessingJobRequest="{not json"), "not JSON"),
    (lambda p: p.update(ProcessingJobRequest=json.dumps({**REQUEST, "ProcessingJobName": "x"})), "without"),
    (lambda p: p.update(JobNamePrefix="Upper_Case"), "lower-case"),
])
def test_malformed_properties_are_refused(handler, change, message):
    event = _event()
    change(event["ResourceProperties"])
    with pytest.raises(handler.BaselineJobError, match=message):
        handler.on_event(event, None)


@settings(max_examples=60, deadline=None)
@given(prefix=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?", fullmatch=True),
       version=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", fullmatch=True),
       attempt=st.integers(min_value=1, max_value=20))
def test_job_names_always_fit_sagemaker_and_keep_the_prefix(prefix, version, attempt):
    handler = load_handler("baseline_job")
    name = handler.job_name(prefix, version, REQUEST, attempt)
    assert JOB_NAME_PATTERN.match(name) and len(name) <= 63 and name == name.lower()
    assert name.startswith(f"{prefix}-")


# -- is_complete ---------------------------------------------------------------------------------------


def _poll(handler, name: str) -> dict:
    event = _event()
    event.update(PhysicalResourceId=name, Data={"ProcessingJobName": name})
    return handler.is_complete(event, None)


def test_is_complete_waits_while_the_job_runs_and_returns_the_baseline_when_done(handler, capsys):
    name = handler.on_event(_event(), None)["PhysicalResourceId"]
    _set(name, "InProgress")
    assert _poll(handler, name) == {"IsComplete": False}
    _set(name, "Completed")
    done = _poll(handler, name)
    assert done["IsComplete"] is True
    assert done["Data"]["StatisticsS3Uri"] == f"{OUTPUT}/statistics.json"
    assert done["Data"]["ConstraintsS3Uri"] == f"{OUTPUT}/constraints.json"
    messages = [line["message"] for line in log_lines(capsys.readouterr().out)]
    assert messages[-2:] == ["baseline job running", "baseline job completed"]


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_a_failed_job_fails_the_deployment_with_sagemakers_reason(handler, status):
    name = handler.on_event(_event(), None)["PhysicalResourceId"]
    _set(name, status, failure_reason="AlgorithmError: See job logs for more information",
         exit_message="Error: dataset_source /opt/ml/processing/input/baseline_dataset_input holds no CSV files")
    with pytest.raises(handler.BaselineJobFailed) as err:
        _poll(handler, name)
    message = str(err.value)
    assert message.startswith(f"Baseline job {name} {status}: AlgorithmError: See job logs")
    assert "holds no CSV files" in message and "/aws/sagemaker/ProcessingJobs" in message
    assert len(message) <= handler.MAX_REASON_LENGTH


def test_a_very_long_reason_is_shortened_for_cloudformation(handler):
    name = handler.on_event(_event(), None)["PhysicalResourceId"]
    _set(name, "Failed", failure_reason="ClientError: " + "x" * 5000)
    with pytest.raises(handler.BaselineJobFailed) as err:
        _poll(handler, name)
    assert len(str(err.value)) == handler.MAX_REASON_LENGTH and str(err.value).endswith("...")


def test_is_complete_for_a_missing_job_fails_clearly(handler):
    with pytest.raises(handler.BaselineJobFailed, match="does not exist"):
        _poll(handler, f"{PREFIX}-v3-0000000000")


def test_is_complete_on_delete_is_immediate(handler, calls):
    assert handler.is_complete(_event("Delete", physical_id=f"{PREFIX}-v3-0000000000"), None) == {"IsComplete": True}
    assert calls == []


# -- Delete --------------------------------------------------------------------------------------------


def test_delete_stops_a_running_job_and_keeps_a_finished_one(handler, calls):
    running = handler.on_event(_event(), None)["PhysicalResourceId"]
    finished = handler.on_event(_event(version="v2"), None)["PhysicalResourceId"]
    _set(running, "InProgress")
    assert handler.on_event(_event("Delete", physical_id=running), None) == {"PhysicalResourceId": running}
    assert handler.on_event(_event("Delete", physical_id=finished), None) == {"PhysicalResourceId": finished}
    assert _jobs()[running].processing_job_status == "Stopped"
    assert _jobs()[finished].processing_job_status == "Completed"
    assert [params for op, params in calls if op == "StopProcessingJob"] == [{"ProcessingJobName": running}]


def test_delete_of_something_that_is_not_our_job_makes_no_call(handler, calls):
    # a failed Create leaves CloudFormation with the request id as physical id
    event = _event("Delete", physical_id="5d0e8a4c-7b37-4a5e-9f0e-0e5b6a1e2f3c")
    assert handler.on_event(event, None) == {"PhysicalResourceId": "5d0e8a4c-7b37-4a5e-9f0e-0e5b6a1e2f3c"}
    assert calls == []


def test_delete_never_fails(handler, capsys):
    name = handler.on_event(_event(), None)["PhysicalResourceId"]
    _fail_next(handler, "DescribeProcessingJob", "AccessDeniedException", "not authorized")
    assert handler.on_event(_event("Delete", physical_id=name), None) == {"PhysicalResourceId": name}
    warning = log_lines(capsys.readouterr().out)[-1]
    assert warning["level"] == "WARNING" and "AccessDenied" in warning["error"]


# -- with the request the construct synthesizes ---------------------------------------------------------


def _resolve(node, values: dict[str, str]):
    if isinstance(node, str):
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        return values[arg]
    if fn == "Fn::GetAtt":
        return values[f"{arg[0]}.{arg[1]}"]
    if fn == "Fn::Join":
        return arg[0].join(_resolve(p, values) for p in arg[1])
    raise AssertionError(fn)


def test_the_synthesized_custom_resource_starts_a_job(handler, calls, tmp_path):
    # isort: off
    import cdk_model_monitor  # noqa: F401  (first: selects a supported Node for aws-cdk-lib)
    import aws_cdk as cdk

    # isort: on
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from cdk_model_monitor.baseline import Baseline
    from cdk_model_monitor.images import AnalyzerImage
    from cdk_model_monitor.storage import MonitoringBucket

    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Churn",
                      env=cdk.Environment(account=DEFAULT_ACCOUNT_ID, region=REGION))
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    Baseline.from_dataset("s3://ml-data/churn/train/", version="v3").bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    template = Template.from_stack(stack).to_json()
    values = {stack.get_logical_id(storage.bucket.node.default_child): "monitoring-bucket",
              f"{stack.get_logical_id(storage.encryption_key.node.default_child)}.Arn":
                  f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/1234abcd",
              f"{stack.get_logical_id(role.node.default_child)}.Arn": ROLE_ARN}
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::ModelMonitorBaseline"]
    event = _event()
    event["ResourceProperties"] = {k: _resolve(v, values) for k, v in resource["Properties"].items()
                                   if k != "ServiceToken"}
    result = handler.on_event(event, None)
    assert result["Data"]["StatisticsS3Uri"] == "s3://monitoring-bucket/baselines/v3/statistics.json"
    (create,) = [params for op, params in calls if op == "CreateProcessingJob"]
    assert create["ProcessingJobName"] == result["PhysicalResourceId"]
    assert create["ProcessingJobName"].startswith(event["ResourceProperties"]["JobNamePrefix"] + "-v3-")
    assert create["Environment"]["dataset_source"] == "/opt/ml/processing/input/baseline_dataset_input"
    assert create["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == "s3://monitoring-bucket/baselines/v3"
    assert _poll(handler, result["PhysicalResourceId"])["IsComplete"] is True
