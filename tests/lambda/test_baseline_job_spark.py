"""lambda/baseline_job on Spark (``Baseline.from_dataset(..., scale_out=...)``): the custom resource starts an EMR
Serverless job run, finds the one this version already ran, polls it and fails with its state details; against
moto's EMR Serverless, every request checked by botocore against the service model on the way."""

from __future__ import annotations

import copy
import json

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.emrserverless.models import emrserverless_backends

from .conftest import REGION, load_handler, log_lines

PREFIX = "churn-baseline-1a2b3c4d"
OUTPUT = "s3://monitoring-bucket/baselines/v3"
LOGS = "s3://monitoring-bucket/baselines/_spark-logs/v3/"
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/baseline-spark-job-role"
REQUEST_ID = "5d0e8a4c-7b37-4a5e-9f0e-0e5b6a1e2f3c"


def _request(application_id: str) -> dict:
    """The shape BaselineJob synthesizes for a scaled-out baseline (constructs/cdk_model_monitor/baseline.py)."""
    return {
        "applicationId": application_id,
        "executionRoleArn": ROLE_ARN,
        "jobDriver": {"sparkSubmit": {
            "entryPoint": "local:///opt/analyzer/spark_entry.py",
            "entryPointArguments": ["baseline", "--engine", "spark", "--type", "data-quality",
                                    "--dataset", "s3://ml-data/churn/train/", "--output", OUTPUT,
                                    "--dataset-format", "csv", "--overwrite", "--output-columns-position", "START"],
            "sparkSubmitParameters": "--conf spark.executor.cores=4 --conf spark.executor.memory=16g",
        }},
        "executionTimeoutMinutes": 50,
        "configurationOverrides": {"monitoringConfiguration": {"s3MonitoringConfiguration": {
            "logUri": LOGS, "encryptionKeyArn": f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/1234abcd"}}},
        "tags": {"cdk-model-monitor:baseline-version": "v3"},
    }


@pytest.fixture
def handler(aws, monkeypatch):
    monkeypatch.setenv("JOB_NAME_PREFIX", PREFIX)
    return load_handler("baseline_job")


@pytest.fixture
def application(handler) -> str:
    """The baseline's own EMR Serverless application (in moto)."""
    return handler._emr_serverless().create_application(
        name="baseline", releaseLabel="emr-7.12.0", type="SPARK", clientToken="t")["applicationId"]


@pytest.fixture
def calls(handler):
    """Every EMR Serverless call the handler makes: (operation, parameters)."""
    recorded: list[tuple[str, dict]] = []

    def record(params, model, **_):
        recorded.append((model.name, copy.deepcopy(params)))

    handler._emr_serverless().meta.events.register("provide-client-params.emr-serverless.*", record)
    return recorded


def _event(application: str, request_type: str = "Create", *, request: dict | None = None, version: str = "v3",
           physical_id: str | None = None, request_id: str = REQUEST_ID) -> dict:
    event = {
        "RequestType": request_type,
        "RequestId": request_id,
        "LogicalResourceId": "MonitorBaseline1A2B3C4D",
        "ResourceType": "Custom::ModelMonitorBaseline",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent",
            "JobNamePrefix": PREFIX,
            "Version": version,
            "OutputS3Uri": OUTPUT,
            "SparkJobRunRequest": json.dumps(request or _request(application)),
        },
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


def _runs(application: str) -> list:
    return emrserverless_backends[DEFAULT_ACCOUNT_ID][REGION].job_runs.get(application, [])


def _set(application: str, run_id: str, state: str, details: str | None = None) -> None:
    (run,) = [r for r in _runs(application) if r.id == run_id]
    run.state = state
    run.state_details = details


def _poll(handler, application: str, physical_id: str) -> dict:
    return handler.is_complete(_event(application, physical_id=physical_id), None)


# -- Create / Update ---------------------------------------------------------------------------------------------


def test_create_starts_one_job_run_with_the_request_a_name_and_a_client_token(handler, application, calls, capsys):
    result = handler.on_event(_event(application), None)
    request = _request(application)
    name = handler.spark_run_name(PREFIX, "v3", request)
    assert name.startswith(f"{PREFIX}-v3-") and len(name) <= 63 and name == name.lower()
    (run,) = _runs(application)
    assert result["PhysicalResourceId"] == f"{name}/{application}/{run.id}"
    assert result["Data"] == {
        "JobName": name, "JobRunName": name, "JobRunId": run.id, "ApplicationId": application, "JobRunArn": run.arn,
        "Version": "v3", "StatisticsS3Uri": f"{OUTPUT}/statistics.json", "ConstraintsS3Uri": f"{OUTPUT}/constraints.json"}
    (start,) = [params for op, params in calls if op == "StartJobRun"]
    token = start.pop("clientToken")
    assert start == {"name": name, **request}
    assert token == handler.client_token("v3", request, REQUEST_ID) and len(token) <= 64
    assert run.execution_role_arn == ROLE_ARN and run.job_driver == request["jobDriver"] and run.name == name
    (started,) = [line for line in log_lines(capsys.readouterr().out) if line["message"] == "baseline job run started"]
    assert started["job_run_id"] == run.id and started["level"] == "INFO"


def test_a_retried_create_or_a_compute_only_update_finds_the_run_this_version_already_has(handler, application, calls):
    first = handler.on_event(_event(application), None)
    (run,) = _runs(application)
    _set(application, run.id, "RUNNING")
    assert handler.on_event(_event(application), None) == first
    # more capacity and another timeout: the same baseline, the finished run is kept
    _set(application, run.id, "SUCCESS")
    bigger = _request(application)
    bigger["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"] += " --conf spark.dynamicAllocation.maxExecutors=31"
    bigger["executionTimeoutMinutes"] = 40
    updated = handler.on_event(_event(application, "Update", request=bigger,
                                      physical_id=first["PhysicalResourceId"], request_id="another-request"), None)
    assert updated["PhysicalResourceId"] == first["PhysicalResourceId"]
    assert [op for op, _ in calls].count("StartJobRun") == 1


def test_a_new_version_or_dataset_runs_a_new_job_run(handler, application, calls):
    original = handler.on_event(_event(application), None)["PhysicalResourceId"]
    other = _request(application)
    other["jobDriver"]["sparkSubmit"]["entryPointArguments"][6] = "s3://ml-data/churn/train-2026-11/"
    ids = {original,
           handler.on_event(_event(application, "Update", version="v4", physical_id=original), None)[
               "PhysicalResourceId"],
           handler.on_event(_event(application, "Update", request=other, physical_id=original), None)[
               "PhysicalResourceId"]}
    assert len(ids) == 3 and len({i.split("/")[0] for i in ids}) == 3
    assert [op for op, _ in calls].count("StartJobRun") == 3


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "CANCELLING"])
def test_a_failed_or_cancelled_run_of_an_earlier_deployment_is_not_reused(handler, application, calls, state):
    first = handler.on_event(_event(application), None)["PhysicalResourceId"]
    _set(application, first.rsplit("/", 1)[1], state, "Job failed")
    second = handler.on_event(_event(application, request_id="the-next-deployment"), None)["PhysicalResourceId"]
    assert second != first and second.split("/")[0] == first.split("/")[0]  # the same name, a new run
    tokens = [params["clientToken"] for op, params in calls if op == "StartJobRun"]
    assert len(tokens) == 2 and len(set(tokens)) == 2


def test_a_refused_start_fails_the_create_with_emr_serverless_words(handler, application):
    request = _request(application)
    request["executionRoleArn"] = "arn:aws:iam::210987654321:role/elsewhere"
    with pytest.raises(handler.ClientError, match="Cross-account pass role"):
        handler.on_event(_event(application, request=request), None)


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.pop("Version"), "Version"),
    (lambda p: p.update(SparkJobRunRequest="{not json"), "not JSON"),
    (lambda p: p.update(SparkJobRunRequest=json.dumps({**json.loads(p["SparkJobRunRequest"]), "name": "x"})),
     "without name"),
    (lambda p: p.update(SparkJobRunRequest=json.dumps({"applicationId": "a"})), "entryPointArguments"),
    (lambda p: p.update(JobNamePrefix="Upper_Case"), "lower-case"),
])
def test_malformed_properties_are_refused(handler, application, change, message):
    event = _event(application)
    change(event["ResourceProperties"])
    with pytest.raises(handler.BaselineJobError, match=message):
        handler.on_event(event, None)


# -- is_complete ---------------------------------------------------------------------------------------------------


def test_is_complete_waits_while_the_run_is_on_its_way_and_returns_the_baseline_when_it_succeeds(handler, application,
                                                                                                   capsys):
    physical_id = handler.on_event(_event(application), None)["PhysicalResourceId"]
    run_id = physical_id.rsplit("/", 1)[1]
    for state in ("SUBMITTED", "PENDING", "SCHEDULED", "QUEUED", "RUNNING"):
        _set(application, run_id, state)
        assert _poll(handler, application, physical_id) == {"IsComplete": False}
    _set(application, run_id, "SUCCESS")
    done = _poll(handler, application, physical_id)
    assert done["IsComplete"] is True and done["Data"]["JobRunId"] == run_id
    assert done["Data"]["ConstraintsS3Uri"] == f"{OUTPUT}/constraints.json"
    messages = [line["message"] for line in log_lines(capsys.readouterr().out)]
    assert messages[-2:] == ["baseline job run on its way", "baseline job run succeeded"]


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "CANCELLING"])
def test_a_failed_run_fails_the_deployment_with_its_state_details_and_its_logs(handler, application, state):
    physical_id = handler.on_event(_event(application), None)["PhysicalResourceId"]
    name, _, run_id = physical_id.split("/")
    _set(application, run_id, state, "Job failed, please check complete logs in configured logging destination. "
                                     "ExitCode: 2. Last few exceptions: error: --dataset s3://ml-data/churn/train/ "
                                     "holds no CSV files")
    with pytest.raises(handler.BaselineJobFailed) as err:
        _poll(handler, application, physical_id)
    message = str(err.value)
    assert "\n" not in message and len(message) <= handler.MAX_REASON_LENGTH
    assert message.startswith(f"Baseline job run {name} ({run_id}) {state}: Job failed, please check")
    assert "holds no CSV files" in message
    assert f"{LOGS}applications/{application}/jobs/{run_id}/" in message


def test_a_run_without_details_still_says_what_failed_and_a_long_one_is_shortened(handler, application):
    physical_id = handler.on_event(_event(application), None)["PhysicalResourceId"]
    run_id = physical_id.rsplit("/", 1)[1]
    _set(application, run_id, "FAILED")
    with pytest.raises(handler.BaselineJobFailed, match="FAILED: EMR Serverless gave no details"):
        _poll(handler, application, physical_id)
    _set(application, run_id, "FAILED", "x" * 5000)
    with pytest.raises(handler.BaselineJobFailed) as err:
        _poll(handler, application, physical_id)
    assert len(str(err.value)) == handler.MAX_REASON_LENGTH and str(err.value).endswith("...")


def test_is_complete_for_a_missing_run_fails_clearly(handler, application):
    handler.on_event(_event(application), None)
    with pytest.raises(handler.BaselineJobFailed, match="does not exist"):
        _poll(handler, application, f"{PREFIX}-v3-0000000000/{application}/00f0000000000000")


# -- Delete -----------------------------------------------------------------------------------------------------------


def test_delete_cancels_a_run_on_its_way_and_keeps_a_finished_one(handler, application, calls):
    running = handler.on_event(_event(application), None)["PhysicalResourceId"]
    finished = handler.on_event(_event(application, version="v2"), None)["PhysicalResourceId"]
    _set(application, running.rsplit("/", 1)[1], "RUNNING")
    for physical_id in (running, finished):
        assert handler.on_event(_event(application, "Delete", physical_id=physical_id), None) == {
            "PhysicalResourceId": physical_id}
    states = {r.id: r.state for r in _runs(application)}
    assert states[running.rsplit("/", 1)[1]] == "CANCELLED" and states[finished.rsplit("/", 1)[1]] == "SUCCESS"
    assert [params for op, params in calls if op == "CancelJobRun"] == [
        {"applicationId": application, "jobRunId": running.rsplit("/", 1)[1]}]


def test_delete_of_a_run_of_another_prefix_or_of_a_failed_create_makes_no_call(handler, application, calls):
    for physical_id in (f"someone-else-v3-0123456789/{application}/00f1", REQUEST_ID):
        assert handler.on_event(_event(application, "Delete", physical_id=physical_id), None) == {
            "PhysicalResourceId": physical_id}
    assert calls == []


def test_delete_never_fails(handler, application, capsys):
    physical_id = handler.on_event(_event(application), None)["PhysicalResourceId"]
    gone = physical_id.replace(application, "00f0000000000000")
    assert handler.on_event(_event(application, "Delete", physical_id=gone), None) == {"PhysicalResourceId": gone}
    last = log_lines(capsys.readouterr().out)[-1]
    assert last["message"] == "baseline kept" and last["state"] is None


# -- with the request the construct synthesizes --------------------------------------------------------------------


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


def _synthesized(tmp_path, application: str, scale_out_settings: dict) -> tuple[dict, object]:
    """The custom resource's properties of a scaled-out baseline, with the deploy-time values filled in."""
    # isort: off
    import cdk_model_monitor  # noqa: F401  (first: selects a supported Node for aws-cdk-lib)
    import aws_cdk as cdk

    # isort: on
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from cdk_model_monitor import ScaleOut
    from cdk_model_monitor.baseline import Baseline, BaselineJob
    from cdk_model_monitor.images import AnalyzerImage
    from cdk_model_monitor.storage import MonitoringBucket

    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Churn",
                      env=cdk.Environment(account=DEFAULT_ACCOUNT_ID, region=REGION))
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    Baseline.from_dataset("s3://ml-data/churn/train/", version="v3", scale_out=ScaleOut(
        image_uri=f"{DEFAULT_ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/a:1", **scale_out_settings)).bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    job = next(c for c in stack.node.find_all() if isinstance(c, BaselineJob))
    template = Template.from_stack(stack).to_json()
    values = {stack.get_logical_id(storage.bucket.node.default_child): "monitoring-bucket",
              f"{stack.get_logical_id(storage.encryption_key.node.default_child)}.Arn":
                  f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT_ID}:key/1234abcd",
              f"{stack.get_logical_id(role.node.default_child)}.Arn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/monitor",
              f"{stack.get_logical_id(job.spark.job_role.node.default_child)}.Arn": ROLE_ARN,
              f"{stack.get_logical_id(job.spark.application)}.ApplicationId": application}
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::ModelMonitorBaseline"]
    return {k: _resolve(v, values) for k, v in resource["Properties"].items() if k != "ServiceToken"}, job


def test_the_synthesized_custom_resource_starts_and_polls_a_job_run(handler, application, calls, tmp_path):
    properties, _ = _synthesized(tmp_path, application, {"always": True})
    assert "ProcessingJobRequest" not in properties and "SparkThresholdBytes" not in properties
    event = _event(application)
    event["ResourceProperties"] = properties
    result = handler.on_event(event, None)
    assert result["Data"]["StatisticsS3Uri"] == "s3://monitoring-bucket/baselines/v3/statistics.json"
    (start,) = [params for op, params in calls if op == "StartJobRun"]
    assert start["name"] == result["PhysicalResourceId"].split("/")[0] == result["Data"]["JobName"]
    assert start["name"].startswith(event["ResourceProperties"]["JobNamePrefix"] + "-v3-")
    arguments = start["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert arguments[arguments.index("--output") + 1] == "s3://monitoring-bucket/baselines/v3"
    assert start["configurationOverrides"]["monitoringConfiguration"]["s3MonitoringConfiguration"]["logUri"] == (
        "s3://monitoring-bucket/baselines/_spark-logs/v3/")
    polled = handler.is_complete({**event, "PhysicalResourceId": result["PhysicalResourceId"]}, None)
    assert polled["IsComplete"] is True  # moto's runs succeed at once


@pytest.mark.parametrize(("sizes", "runner"), [((400, 500), "processing"), ((400, 600), "spark"),
                                               ((1024,), "spark"), ((), "processing")])
def test_without_always_the_datasets_size_chooses_the_processing_job_or_spark(handler, application, calls, tmp_path,
                                                                              capsys, sizes, runner):
    """``ScaleOut(threshold_bytes=1000)``: a dataset of 1000 bytes or more runs on Spark, a smaller one on the
    Processing job; is_complete follows what was started, and either result names the job ``JobName``."""
    properties, _ = _synthesized(tmp_path, application, {"threshold_bytes": 1000})
    assert properties["SparkThresholdBytes"] == "1000" and "ProcessingJobRequest" in properties
    s3 = handler.client("s3")
    s3.create_bucket(Bucket="ml-data")
    for index, size in enumerate(sizes):
        s3.put_object(Bucket="ml-data", Key=f"churn/train/part-{index}.csv", Body=b"x" * size)
    s3.put_object(Bucket="ml-data", Key="churn/train-other/part-0.csv", Body=b"x" * 5000)  # another prefix
    event = _event(application)
    event["ResourceProperties"] = properties
    result = handler.on_event(event, None)
    physical_id = result["PhysicalResourceId"]
    started = [op for op, _ in calls if op == "StartJobRun"]
    if runner == "spark":
        assert physical_id.count("/") == 2 and started == ["StartJobRun"]
    else:
        assert "/" not in physical_id and started == []
        assert physical_id.startswith(properties["JobNamePrefix"] + "-v3-")
    assert result["Data"]["JobName"] == physical_id.split("/")[0]
    (chosen,) = [line for line in log_lines(capsys.readouterr().out) if line["message"].startswith("baseline runner")]
    assert (chosen["runner"], chosen["threshold_bytes"]) == (runner, 1000)
    assert chosen["dataset_bytes"] == sum(sizes)  # the other prefix is not counted
    polled = handler.is_complete({**event, "PhysicalResourceId": physical_id}, None)
    assert polled["IsComplete"] is True and polled["Data"]["JobName"] == physical_id.split("/")[0]
