"""Custom resource that runs a baselining job at deploy time and waits for it: a SageMaker Processing job, or a job
run of the analyzer's Spark runner on EMR Serverless (``SparkJobRunRequest``, below).

Handlers of a CDK Provider framework resource (``Custom::ModelMonitorBaseline``):

* ``on_event`` (Create / Update): starts the job, unless this baseline already has one that is running
  or completed; returns the job name as the physical resource id. Delete: keeps the baseline files and
  stops the job if it is still running (a rollback after a timeout), never fails.
* ``is_complete``: polls DescribeProcessingJob. Completed -> done, with the S3 URIs of the results;
  InProgress -> not yet; Failed / Stopped -> raises ``BaselineJobFailed`` with the job's failure reason
  and exit message, which the Provider framework reports to CloudFormation (the deployment rolls back).

Resource properties::

    {"JobNamePrefix": "stack-monitor-baseline-1a2b3c4d",     # the construct's own prefix (IAM is scoped to it)
     "Version": "v3",                                        # baseline version (results folder)
     "OutputS3Uri": "s3://bucket/baselines/v3",              # where the job writes statistics/constraints.json
     "ProcessingJobRequest": "{...}"}                        # CreateProcessingJob request, JSON, without the name

Job names: ``<prefix>-<version slug>-<fingerprint>[-<attempt>]``. The fingerprint is a digest of the version,
the processing inputs and the environment, so a retried call finds the job it already started, an update that
changes only compute settings keeps the finished baseline, and a new version or dataset runs a new job. A
previous deployment's failed or stopped job is never reused: the next attempt number gets a new job.

Logs: one JSON object per line. Environment: ``JOB_NAME_PREFIX`` (Delete only acts on jobs with this prefix).

**On Spark** (``Baseline.from_dataset(..., scale_out=...)``) the properties hold ``SparkJobRunRequest``: a
StartJobRun request, JSON, without ``name`` and ``clientToken``, on the baseline's own EMR Serverless application.
With ``ScaleOut(always=True)`` it replaces ``ProcessingJobRequest``; otherwise both are there with
``SparkThresholdBytes``, and a Create or Update adds up the sizes of the dataset's objects (ListObjectsV2, stopping
at the threshold) and runs on Spark when they reach it, else the Processing job, as the window planner chooses for
a window. Either result then carries ``JobName`` besides its own fields.
The run is named ``<prefix>-<version slug>-<fingerprint>`` (the fingerprint of the version and the job's
arguments: dataset, format, settings and output), and a Create or Update first looks among the application's
runs for one of that name that is running or succeeded, as the Processing path looks a job up by its name; a
failed or cancelled run is never reused. The client token is made of the fingerprint and CloudFormation's request
id, so a retried call of the same request starts no second run. The physical resource id is
``<run name>/<application id>/<job run id>``; ``is_complete`` polls GetJobRun: SUCCESS -> done, FAILED /
CANCELLING / CANCELLED -> ``BaselineJobFailed`` with the run's state details and where its logs are. Delete
cancels a run still on its way, and keeps the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from _shared.aws import S3_URI, client, is_name_taken, is_not_found
from _shared.logs import log
from _shared.names import JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, slug
from botocore.exceptions import ClientError

MAX_ATTEMPTS = 20
RUNNING = frozenset({"InProgress"})
REUSABLE = frozenset({"InProgress", "Completed"})
FAILED = frozenset({"Failed", "Stopped", "Stopping"})
MAX_REASON_LENGTH = 900
REQUIRED_PROPERTIES = ("JobNamePrefix", "Version", "OutputS3Uri", "ProcessingJobRequest")


class BaselineJobError(RuntimeError):
    """The custom resource's input is unusable (a bug in the construct or a hand-made template)."""


class BaselineJobFailed(RuntimeError):
    """The baselining job failed or was stopped; the message carries SageMaker's reason."""


def _sagemaker():
    return client("sagemaker")


def _emr_serverless():
    return client("emr-serverless")


# -- pure helpers ------------------------------------------------------------------------------


def request_fingerprint(version: str, request: dict[str, Any]) -> str:
    """First 10 hex digits of SHA-256 over what decides the baseline's content: the version, the
    processing inputs and the environment (not the image, compute or role)."""
    decisive = {
        "version": version,
        "inputs": request.get("ProcessingInputs", []),
        "environment": request.get("Environment", {}),
    }
    text = json.dumps(decisive, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def job_name(prefix: str, version: str, request: dict[str, Any], attempt: int = 1) -> str:
    """``<prefix>-<version slug>-<fingerprint>[-<attempt>]``, at most 63 characters, lower case."""
    suffix = f"-{attempt}" if attempt > 1 else ""
    fingerprint = request_fingerprint(version, request)
    room = MAX_JOB_NAME_LENGTH - len(prefix) - len(fingerprint) - len(suffix) - 2
    parts = [prefix, slug(version, min(room, 16)), fingerprint]
    name = "-".join(p for p in parts if p) + suffix
    if not JOB_NAME_PATTERN.match(name):
        raise BaselineJobError(f"job name {name!r} is not a valid SageMaker name; shorten JobNamePrefix {prefix!r}")
    return name


def read_properties(event: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """(prefix, version, output URI, CreateProcessingJob request) of the event's resource properties."""
    props = event.get("ResourceProperties") or {}
    missing = [name for name in REQUIRED_PROPERTIES if not props.get(name)]
    if missing:
        raise BaselineJobError(f"resource properties {missing} are missing")
    try:
        request = json.loads(props["ProcessingJobRequest"])
    except (TypeError, json.JSONDecodeError) as err:
        raise BaselineJobError(f"ProcessingJobRequest is not JSON: {err}") from None
    if not isinstance(request, dict) or "ProcessingJobName" in request:
        raise BaselineJobError("ProcessingJobRequest must be a CreateProcessingJob request without ProcessingJobName")
    prefix = slug(props["JobNamePrefix"], 30)
    if prefix != props["JobNamePrefix"]:
        raise BaselineJobError(f"JobNamePrefix {props['JobNamePrefix']!r} must be lower-case letters, digits and "
                               "hyphens, at most 30 characters")
    return prefix, str(props["Version"]), str(props["OutputS3Uri"]).rstrip("/"), request


def failure_message(job: dict[str, Any]) -> str:
    """What CloudFormation shows for a failed baseline job: status, reason, exit message and where the logs are."""
    name = job.get("ProcessingJobName", "?")
    reason = (job.get("FailureReason") or "").strip()
    exit_message = (job.get("ExitMessage") or "").strip()
    details = "; ".join(dict.fromkeys(p for p in (reason, exit_message) if p)) or "SageMaker gave no reason"
    text = (f"Baseline job {name} {job.get('ProcessingJobStatus', 'failed')}: {details}. Logs: CloudWatch log "
            f"group /aws/sagemaker/ProcessingJobs, streams {name}/*")
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 3] + "..."


def _result(name: str, output_uri: str, version: str, arn: str | None) -> dict[str, str]:
    return {
        "ProcessingJobName": name,
        "ProcessingJobArn": arn or "",
        "Version": version,
        "StatisticsS3Uri": f"{output_uri}/statistics.json",
        "ConstraintsS3Uri": f"{output_uri}/constraints.json",
    }


def _either(event: dict[str, Any], data: dict[str, str]) -> dict[str, str]:
    """A resource that may run either job names it ``JobName`` too, whichever ran (the construct reads that)."""
    if "SparkJobRunRequest" in (event.get("ResourceProperties") or {}):
        return {**data, "JobName": data["ProcessingJobName"]}
    return data


# -- SageMaker calls ---------------------------------------------------------------------------


def describe_job(name: str) -> dict[str, Any] | None:
    """DescribeProcessingJob, or None when there is no such job."""
    try:
        return _sagemaker().describe_processing_job(ProcessingJobName=name)
    except ClientError as err:
        if is_not_found(err):
            return None
        raise


def _start(name: str, request: dict[str, Any]) -> dict[str, Any]:
    """Create the job; if a concurrent retry created it first, describe that one instead."""
    try:
        arn = _sagemaker().create_processing_job(ProcessingJobName=name, **request)["ProcessingJobArn"]
        return {"ProcessingJobName": name, "ProcessingJobArn": arn, "ProcessingJobStatus": "InProgress"}
    except ClientError as err:
        if is_name_taken(err) and (existing := describe_job(name)) is not None:
            return existing
        raise


# -- handlers ----------------------------------------------------------------------------------


def on_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create / Update: start (or find) the baseline job. Delete: stop a still-running job, keep the files."""
    request_type = event.get("RequestType")
    ids = {"request_type": request_type, "logical_resource_id": event.get("LogicalResourceId"),
           "aws_request_id": getattr(context, "aws_request_id", None)}
    if request_type == "Delete":
        # by the id of what the resource made (an update's cleanup may name a job of the other kind)
        if is_spark_id(event.get("PhysicalResourceId")):
            return _spark_delete(event, ids)
        return _delete(event, ids)
    if request_type not in ("Create", "Update"):
        raise BaselineJobError(f"unknown RequestType {request_type!r}")
    props = event.get("ResourceProperties") or {}
    if SPARK_REQUEST in props and (PROCESSING_REQUEST not in props or runs_on_spark(props, ids)):
        return _spark_on_event(event, ids)
    prefix, version, output_uri, request = read_properties(event)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        name = job_name(prefix, version, request, attempt)
        job = describe_job(name)
        if job is None:
            job = _start(name, request)
            log("INFO", "baseline job started", **ids, job_name=name, version=version, attempt=attempt,
                 output_s3_uri=output_uri)
        elif job["ProcessingJobStatus"] in REUSABLE:
            log("INFO", "baseline job already exists for this version and dataset", **ids, job_name=name,
                 status=job["ProcessingJobStatus"], version=version)
        else:
            log("INFO", "skipping a failed baseline job of an earlier deployment", **ids, job_name=name,
                 status=job["ProcessingJobStatus"], failure_reason=job.get("FailureReason"))
            continue
        return {"PhysicalResourceId": name, "Data": _either(event, _result(name, output_uri, version,
                                                                          job.get("ProcessingJobArn")))}
    raise BaselineJobFailed(
        f"the last {MAX_ATTEMPTS} baseline jobs for version {version!r} failed or were stopped (latest: {name}); "
        "fix the cause shown in their logs, then deploy with a new baseline version")


def _delete(event: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    physical_id = event.get("PhysicalResourceId", "")
    prefix = os.environ.get("JOB_NAME_PREFIX") or (event.get("ResourceProperties") or {}).get("JobNamePrefix")
    if prefix and physical_id.startswith(f"{prefix}-"):
        try:
            job = describe_job(physical_id)
            if job is not None and job["ProcessingJobStatus"] in RUNNING:
                _sagemaker().stop_processing_job(ProcessingJobName=physical_id)
                log("INFO", "stopped the running baseline job of a deleted baseline", **ids, job_name=physical_id)
            else:
                log("INFO", "baseline kept", **ids, job_name=physical_id,
                     status=job["ProcessingJobStatus"] if job else None)
        except Exception as err:  # a failed Delete would leave the stack stuck
            log("WARNING", "could not check or stop the baseline job; deleting anyway", **ids,
                 job_name=physical_id, error=f"{type(err).__name__}: {err}")
    else:
        log("INFO", "nothing to stop", **ids, physical_resource_id=physical_id)
    return {"PhysicalResourceId": physical_id}


def is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """True once the job has completed; raises ``BaselineJobFailed`` when it failed or was stopped."""
    if event.get("RequestType") == "Delete":
        return {"IsComplete": True}
    if is_spark_id(event.get("PhysicalResourceId")):  # what on_event started, whichever requests there are
        return _spark_is_complete(event, context)
    name = event.get("PhysicalResourceId", "")
    _, version, output_uri, _ = read_properties(event)
    job = describe_job(name)
    if job is None:
        raise BaselineJobFailed(f"Baseline job {name} does not exist (was it created in another region or account?)")
    status = job["ProcessingJobStatus"]
    fields = {"job_name": name, "status": status, "aws_request_id": getattr(context, "aws_request_id", None)}
    if status == "Completed":
        log("INFO", "baseline job completed", **fields, output_s3_uri=output_uri)
        return {"IsComplete": True, "Data": _either(event, _result(name, output_uri, version,
                                                                  job.get("ProcessingJobArn")))}
    if status in FAILED:
        message = failure_message(job)
        log("ERROR", "baseline job failed", **fields, failure_reason=job.get("FailureReason"),
             exit_message=job.get("ExitMessage"))
        raise BaselineJobFailed(message)
    log("INFO", "baseline job running", **fields)
    return {"IsComplete": False}


# -- the Spark runner on EMR Serverless (scale_out) ----------------------------------------------------

SPARK_REQUEST = "SparkJobRunRequest"
PROCESSING_REQUEST = "ProcessingJobRequest"
THRESHOLD = "SparkThresholdBytes"
SPARK_REQUIRED_PROPERTIES = ("JobNamePrefix", "Version", "OutputS3Uri", SPARK_REQUEST)
# EMR Serverless's job run states (GetJobRun): on their way, succeeded, failed for good
SPARK_RUNNING = frozenset({"SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED"})
SPARK_SUCCEEDED = "SUCCESS"
SPARK_FAILED = frozenset({"FAILED", "CANCELLING", "CANCELLED"})
_SPARK_ID = re.compile(r"^(?P<name>[a-z0-9-]+)/(?P<application>[0-9a-z]+)/(?P<run>[0-9a-z]+)$")


def is_spark_id(physical_id: object) -> bool:
    """Whether a physical resource id names a Spark job run (``<name>/<application id>/<job run id>``)."""
    return isinstance(physical_id, str) and _SPARK_ID.match(physical_id) is not None


def read_spark_properties(event: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """(prefix, version, output URI, StartJobRun request) of the event's resource properties."""
    props = event.get("ResourceProperties") or {}
    missing = [name for name in SPARK_REQUIRED_PROPERTIES if not props.get(name)]
    if missing:
        raise BaselineJobError(f"resource properties {missing} are missing")
    try:
        request = json.loads(props[SPARK_REQUEST])
    except (TypeError, json.JSONDecodeError) as err:
        raise BaselineJobError(f"{SPARK_REQUEST} is not JSON: {err}") from None
    if (not isinstance(request, dict) or "name" in request or "clientToken" in request
            or not request.get("applicationId")
            or not isinstance(request.get("jobDriver", {}).get("sparkSubmit", {}).get("entryPointArguments"), list)):
        raise BaselineJobError(f"{SPARK_REQUEST} must be a StartJobRun request with applicationId and "
                               "jobDriver.sparkSubmit.entryPointArguments, without name and clientToken")
    prefix = slug(props["JobNamePrefix"], 30)
    if prefix != props["JobNamePrefix"]:
        raise BaselineJobError(f"JobNamePrefix {props['JobNamePrefix']!r} must be lower-case letters, digits and "
                               "hyphens, at most 30 characters")
    return prefix, str(props["Version"]), str(props["OutputS3Uri"]).rstrip("/"), request


def spark_fingerprint(version: str, request: dict[str, Any]) -> str:
    """First 10 hex digits of SHA-256 over what decides the baseline's content: the version and the job's
    arguments (not the application, its capacity, the role or the timeout)."""
    decisive = {"version": version, "arguments": request["jobDriver"]["sparkSubmit"]["entryPointArguments"]}
    text = json.dumps(decisive, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def spark_run_name(prefix: str, version: str, request: dict[str, Any]) -> str:
    """``<prefix>-<version slug>-<fingerprint>``: lower case, at most 63 characters, like the job names."""
    fingerprint = spark_fingerprint(version, request)
    room = MAX_JOB_NAME_LENGTH - len(prefix) - len(fingerprint) - 2
    return "-".join(p for p in (prefix, slug(version, min(room, 16)), fingerprint) if p)


def client_token(version: str, request: dict[str, Any], request_id: object) -> str:
    """StartJobRun's idempotency token: one per CloudFormation request and baseline content (at most 64 of
    ``[A-Za-z0-9._-]``), so a retry of the request finds its run and a later deployment starts a new one."""
    request_part = re.sub(r"[^A-Za-z0-9._-]", "-", str(request_id or "no-request-id"))[:53]
    return f"{spark_fingerprint(version, request)}-{request_part}"


def spark_log_uri(request: dict[str, Any], run: dict[str, Any]) -> str | None:
    """The S3 folder of one job run's logs (EMR Serverless writes them under applications/<id>/jobs/<run id>/)."""
    logs = ((request.get("configurationOverrides") or {}).get("monitoringConfiguration") or {}).get(
        "s3MonitoringConfiguration") or {}
    root = logs.get("logUri")
    if not root:
        return None
    return f"{root.rstrip('/')}/applications/{run.get('applicationId', '?')}/jobs/{run.get('jobRunId', '?')}/"


def spark_failure_message(run: dict[str, Any], request: dict[str, Any]) -> str:
    """What CloudFormation shows for a failed Spark baseline run: its state, EMR Serverless's details, the logs."""
    details = (run.get("stateDetails") or "").strip() or "EMR Serverless gave no details"
    logs = spark_log_uri(request, run)
    where = f" Logs: {logs} (SPARK_DRIVER/stderr.gz holds the analyzer's error)." if logs else ""
    text = (f"Baseline job run {run.get('name') or '?'} ({run.get('jobRunId', '?')}) {run.get('state', 'FAILED')}: "
            f"{details}.{where}")
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 3] + "..."


def dataset_bytes(uri: str, *, enough: int) -> int:
    """The bytes of the objects under an ``s3://`` prefix (ListObjectsV2), counted until ``enough`` is reached."""
    match = S3_URI.match(uri)
    if match is None:
        raise BaselineJobError(f"dataset {uri!r} is not an s3:// URI")
    total = 0
    pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=match["bucket"], Prefix=match["key"])
    for page in pages:
        total += sum(int(item.get("Size", 0)) for item in page.get("Contents", []))
        if total >= enough:
            break
    return total


def runs_on_spark(props: dict[str, Any], ids: dict[str, Any]) -> bool:
    """With both requests (``ScaleOut(always=False)``): whether the dataset holds at least ``SparkThresholdBytes``,
    as the window planner sends a large window to Spark."""
    try:
        threshold = int(props[THRESHOLD])
        request = json.loads(props[PROCESSING_REQUEST])
        uri = request["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise BaselineJobError(f"with both requests, {THRESHOLD} and the Processing job's dataset input are needed: "
                               f"{type(err).__name__}: {err}") from None
    size = dataset_bytes(uri, enough=threshold)
    spark = size >= threshold
    log("INFO", "baseline runner chosen by the dataset's size", **ids, dataset_s3_uri=uri, dataset_bytes=size,
        threshold_bytes=threshold, runner="spark" if spark else "processing")
    return spark


def _spark_result(physical_id: str, output_uri: str, version: str, run: dict[str, Any]) -> dict[str, str]:
    match = _SPARK_ID.match(physical_id)
    assert match is not None  # made by _spark_on_event
    return {
        "JobName": match["name"],
        "JobRunName": match["name"],
        "JobRunId": match["run"],
        "ApplicationId": match["application"],
        "JobRunArn": run.get("arn") or "",
        "Version": version,
        "StatisticsS3Uri": f"{output_uri}/statistics.json",
        "ConstraintsS3Uri": f"{output_uri}/constraints.json",
    }


def find_spark_run(application_id: str, name: str) -> dict[str, Any] | None:
    """The newest run of ``name`` in the application that is on its way or succeeded (ListJobRuns), else None."""
    found: list[dict[str, Any]] = []
    try:
        pages = _emr_serverless().get_paginator("list_job_runs").paginate(
            applicationId=application_id, states=sorted(SPARK_RUNNING | {SPARK_SUCCEEDED}))
        for page in pages:
            found += [run for run in page.get("jobRuns", []) if run.get("name") == name]
    except ClientError as err:
        if is_not_found(err):  # an application without any run yet
            return None
        raise
    return max(found, key=lambda run: run.get("createdAt") or 0, default=None)


def get_spark_run(application_id: str, run_id: str) -> dict[str, Any] | None:
    """GetJobRun's ``jobRun``, or None when there is no such run."""
    try:
        return _emr_serverless().get_job_run(applicationId=application_id, jobRunId=run_id)["jobRun"]
    except ClientError as err:
        if is_not_found(err):
            return None
        raise


def _spark_on_event(event: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    prefix, version, output_uri, request = read_spark_properties(event)
    name = spark_run_name(prefix, version, request)
    application_id = request["applicationId"]
    run = find_spark_run(application_id, name)
    if run is not None:
        run_id = run["id"]
        log("INFO", "baseline job run already exists for this version and dataset", **ids, job_run_name=name,
            job_run_id=run_id, state=run.get("state"), version=version)
    else:
        token = client_token(version, request, event.get("RequestId"))
        run = _emr_serverless().start_job_run(name=name, clientToken=token, **request)
        run_id = run["jobRunId"]
        log("INFO", "baseline job run started", **ids, job_run_name=name, job_run_id=run_id,
            application_id=application_id, version=version, output_s3_uri=output_uri)
    physical_id = f"{name}/{application_id}/{run_id}"
    return {"PhysicalResourceId": physical_id, "Data": _spark_result(physical_id, output_uri, version, run)}


def _spark_delete(event: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    physical_id = event.get("PhysicalResourceId", "")
    prefix = os.environ.get("JOB_NAME_PREFIX") or (event.get("ResourceProperties") or {}).get("JobNamePrefix")
    match = _SPARK_ID.match(physical_id or "")
    if prefix and match is not None and match["name"].startswith(f"{prefix}-"):
        try:
            run = get_spark_run(match["application"], match["run"])
            if run is not None and run.get("state") in SPARK_RUNNING:
                _emr_serverless().cancel_job_run(applicationId=match["application"], jobRunId=match["run"])
                log("INFO", "cancelled the running baseline job run of a deleted baseline", **ids,
                    job_run_id=match["run"], job_run_name=match["name"])
            else:
                log("INFO", "baseline kept", **ids, job_run_id=match["run"], state=run.get("state") if run else None)
        except Exception as err:  # a failed Delete would leave the stack stuck
            log("WARNING", "could not check or cancel the baseline job run; deleting anyway", **ids,
                job_run_id=match["run"], error=f"{type(err).__name__}: {err}")
    else:
        log("INFO", "nothing to stop", **ids, physical_resource_id=physical_id)
    return {"PhysicalResourceId": physical_id}


def _spark_is_complete(event: dict[str, Any], context: Any) -> dict[str, Any]:
    physical_id = event.get("PhysicalResourceId", "")
    _, version, output_uri, request = read_spark_properties(event)
    match = _SPARK_ID.match(physical_id or "")
    if match is None:
        raise BaselineJobError(f"physical resource id {physical_id!r} does not name a Spark job run")
    run = get_spark_run(match["application"], match["run"])
    if run is None:
        raise BaselineJobFailed(f"Baseline job run {match['run']} of application {match['application']} does not "
                                "exist (was it created in another region or account?)")
    state = run.get("state")
    fields = {"job_run_name": match["name"], "job_run_id": match["run"], "state": state,
              "aws_request_id": getattr(context, "aws_request_id", None)}
    if state == SPARK_SUCCEEDED:
        log("INFO", "baseline job run succeeded", **fields, output_s3_uri=output_uri)
        return {"IsComplete": True, "Data": _spark_result(physical_id, output_uri, version, run)}
    if state in SPARK_FAILED:
        log("ERROR", "baseline job run failed", **fields, state_details=run.get("stateDetails"))
        raise BaselineJobFailed(spark_failure_message(run, request))
    log("INFO", "baseline job run on its way", **fields)
    return {"IsComplete": False}
