"""Plan one monitoring window: find the captured data of the window and write a SageMaker manifest for it.

First step of the standalone engine's state machine (EventBridge Scheduler -> Step Functions -> this function
-> a SageMaker Processing job with our analyzer). The window is computed the way SageMaker Model Monitor does:
the scheduled time is truncated to the hour and the ISO-8601 offsets are added, so an hourly schedule firing at
13:00 with offsets -PT1H / PT0H analyses [12:00, 13:00). SageMaker's capture layout puts every record in the
hour folder ``<capture>/yyyy/mm/dd/HH/``; the function lists the folders that overlap the window.

Input (keys missing from the event fall back to the environment variable in brackets)::

    {"scheduled_time": "2026-11-25T13:00:00Z",                   # required; the Scheduler's scheduled time
     "capture_s3_uri": "s3://b/datacapture/ep/AllTraffic",       # [CAPTURES3_URI] required
     "report_s3_uri": "s3://b/reports/data-quality",             # [REPORTS3_URI] required
     "endpoint_name": "ep",                                      # [ENDPOINT_NAME] omit for batch transform
     "schedule_name": "ep-data-quality",                         # [SCHEDULE_NAME] required
     "monitor_type": "data-quality",                             # [MONITOR_TYPE] default data-quality
     "window_start_offset": "-PT1H", "window_end_offset": "PT0H",  # [WINDOW_START_OFFSET] [WINDOW_END_OFFSET]
     "window_granularity": "hour" | "minute",                    # [WINDOW_GRANULARITY] default hour
     "manifest_s3_uri": "s3://b/manifests",                      # [MANIFESTS3_URI] default <report>/_manifests
     "job_name_prefix": "model-monitor",                         # [JOB_NAME_PREFIX] default model-monitor
     "ground_truth_s3_uri": "s3://b/ground-truth/ep",            # [GROUND_TRUTHS3_URI] model quality only
     "ground_truth_lookback": "P1D",                             # [GROUND_TRUTH_LOOKBACK] default: window start
     "execution_id": "arn:aws:states:...:execution:...",         # optional; the Step Functions execution
     "claim_seconds": 5400,                                      # how long a claim holds (the execution timeout)
     "execution_input": {"scheduled_time": "...", "rerun": true},  # optional; the execution's input
     "schedule_interval": "PT1H",                                # [SCHEDULE_INTERVAL] optional; see late captures
     "scale_out": {"threshold_bytes": 10737418240, "always": false}}  # optional; see runner below

Output::

    {"has_data": true,
     "no_data_reason": null | "no_capture" | "no_ground_truth" | "duplicate_execution" | "window_already_analysed",
     "duplicate": false, "duplicate_of": null | "<the execution that holds the window>",
     "holder_status": null | "RUNNING" | "SUCCEEDED" | ...,     # the holder's, when Step Functions could tell
     "already_analysed": false,                                  # the holder succeeded and no rerun was asked
     "attempt": 1,                                               # 2, 3, ... for re-runs after an ended holder
     "superseded": {"execution_id": "...", "status": "FAILED", "attempt": 1},  # only when it took a window over
     "window_id": "2026112513", "scheduled_time": "2026-11-25T13:00:00Z",
     "start": "2026-11-25T12:00:00Z", "end": "2026-11-25T13:00:00Z", "metric_time": "2026-11-25T12:00:00Z",
     "manifest_uri": "s3://..." | null, "object_count": 12,
     "capture_bytes": 52341,                                     # the listed capture objects' total size
     "runner": "processing" | "spark",                           # which job analyses the window
     "report_uri": "s3://b/reports/data-quality/ep/ep-data-quality/2026/11/25/13",
     "job_name": "model-monitor-2026112513-1a2b3c4d5e",
     "publication_receipt_uri": "s3://.../publication-receipt.json",   # for the metrics publisher's retries
     "endpoint_name": "ep", "schedule_name": "ep-data-quality", "monitor_type": "data-quality",
     # only with ground_truth_s3_uri:
     "ground_truth_manifest_uri": "s3://..." | null, "ground_truth_object_count": 3,
     "ground_truth_start": "...", "ground_truth_end": "...",
     # only with schedule_interval, when the previous window left its listing:
     "late_capture_files": 2, "late_window_id": "2026112512", "late_window_start": "2026-11-25T11:00:00Z"}

The manifest is SageMaker's ManifestFile format ``[{"prefix": "<capture_s3_uri>/"}, "yyyy/mm/dd/HH/<file>", ...]``
so that a processing input with ``S3DataType=ManifestFile`` and ``LocalPath=<dataset_source>/<endpoint>/<variant>``
reproduces the built-in's local layout. ``window_id``, the report folder and the job name use the scheduled time
(the built-in names its jobs and report folders after the scheduled hour); ``metric_time`` is the window start.
The job name is deterministic per attempt (below), so a retried planner or a retried job start of one execution
can never start a second job. With ``window_granularity``
"minute" (sub-hourly schedules, standalone engine only) the window id gains minutes and the report folder a
``/MM`` level; hour folders are still listed whole and the analyzer filters records by time.

One execution per window: with ``execution_id`` the planner claims the window by writing
``execution-claim.json`` beside the manifests only if it does not exist yet (an S3 conditional write), so of two
executions of one window (the Scheduler delivers at least once and retries) exactly one wins; the claimant itself
(a retried planner) keeps its claim. Another execution's claim is judged by that execution's status
(states:DescribeExecution, on this state machine's executions only):

- RUNNING (or PENDING_REDRIVE): ``duplicate: true``; this execution stops without a job or a status, the holder
  publishes the window's status;
- SUCCEEDED: the window was analysed (Completed, CompletedWithViolations or NoData). Without ``rerun`` it is
  ``duplicate: true, already_analysed: true`` and stops the same way (a late duplicate delivery must not analyse
  a window twice); with ``"rerun": true`` in the execution's input it is taken over;
- FAILED, TIMED_OUT, ABORTED: taken over, so a failed window can be analysed again by starting a new execution.
  Nothing has to be released by the failed execution, which a timed-out one could not do;
- unknown to Step Functions (its history is kept 90 days) or not ours to describe: held for ``claim_seconds``
  after it was made (the execution's timeout), then taken over.

A take-over is conditional on the claim's ETag (only one taker wins) and counts one more ``attempt``, kept in the
claim so that a retried planner of the same execution gets the same attempt. Attempt n > 1 has its own job name
(``-attempt-<n>``: the earlier job's name is taken and its result final), its own report folder
``<report>/<endpoint>/<schedule>/attempt-<n>/<window folder>`` (the earlier attempt's files are never
overwritten) and its own publication receipt; it does not count late captures again.

Late captures: SageMaker delivers a capture file minutes after its records, so a file can land in a window's hour
folders after that window was listed (the state machine waits the schedule's capture delay before planning, which
makes this rare). Every window an execution plans records what it listed: ``capture.manifest.json`` is written for
it also when it holds no object or no job runs (no ground truth), and ``manifest_uri`` stays null then. With
``schedule_interval`` (the time between two runs), the planner reads the listing of the previous window (this
window's scheduled time minus the interval) and lists again the hour folders of that window that this window does
not read: the objects there that its listing lacks arrived after it and were analysed by no window. Their number
is ``late_capture_files`` (logged with the first keys; the metrics publisher publishes it as ``LateCaptureFiles``,
stamped with the late window's start). Files that arrive later than the next window's planning, and records
that sub-hourly windows sharing an hour folder miss, are not counted. No previous listing (the first window, a
gap in the schedule, a cron expression whose runs are not ``schedule_interval`` apart): nothing is counted.

Runner: ``"spark"`` (the analyzer's Spark runner on EMR Serverless) when ``scale_out`` is given and either
``always`` is true or the window's capture objects hold at least ``threshold_bytes`` bytes; ``"processing"``
(one SageMaker Processing job) otherwise, and always without ``scale_out``.

Batch transform jobs (``"monitoring_input_type": "BATCH_TRANSFORM"``, with ``capture_s3_uri`` the jobs' capture
destination, ``input_local_path`` / ``output_local_path`` where the job reads each side, ``job_inputs`` the job's
other ProcessingInputs, and ``ground_truth_local_path`` for label-joining types): a job with data capture writes
manifests ``<capture>/<input|output>/yyyy/mm/dd/HH/<uuid>.json`` (its start hour) naming its files. With
``transform_job`` (the detail of the "SageMaker Transform Job State Change" event of a Completed job) the window is
that job's, from its start to its end, claimed under ``<manifests>/<schedule>/jobs/<job name>/`` (one execution per
job, as per window above), with the manifests whose prefix is the job's input or output location; without it, the
scheduled window's hours and every manifest in them. For each side with files the planner writes one ManifestFile
(``input.manifest.json``, ``output.manifest.json``: prefix = the capture manifest's, keys relative to it; the prefix
the files share when several jobs' manifests are read) and returns ``processing_inputs``: those sides (a side
without files has no input), the ground truth, then ``job_inputs``. No manifest: ``no_capture``, as above. The
report folder of a job's window is ``<report>/<schedule>/<job name>/yyyy/mm/dd/HH`` (its start hour).

Environment: the fallbacks above, and KMS_KEY_ID (optional) to write manifests with SSE-KMS under that key.
Errors: ``PlanningInputError`` for inputs a user must fix (do not retry), ``TransientAwsError`` for throttling
and 5xx after the client's own retries (retry), ``AwsRequestError`` for other refused calls (e.g. access denied).
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from _shared import names, times
from _shared.aws import (
    S3_URI,
    AwsRequestError,
    TransientAwsError,
    aws_error,
    client,
    error_code,
    is_transient,
    read_object_if_present,
    split_s3_uri,
)
from _shared.logs import log
from _shared.manifests import ManifestError, parse_manifest
from _shared.monitor_types import DEFAULT_MONITOR_TYPE
from botocore.exceptions import BotoCoreError, ClientError

# The errors this function raises, by class name (Step Functions retries TransientAwsError).
__all__ = ["AwsRequestError", "PlanningInputError", "TransientAwsError", "handler"]

DEFAULT_START_OFFSET = "-PT1H"
DEFAULT_END_OFFSET = "PT0H"
DEFAULT_JOB_NAME_PREFIX = "model-monitor"
JOB_NAME_PATTERN = names.JOB_NAME_PATTERN
CLAIM_FILE = "execution-claim.json"
CAPTURE_MANIFEST_FILE = "capture.manifest.json"
LATE_EXAMPLES = 5  # late keys named in the log
DEFAULT_CLAIM_DURATION = timedelta(hours=24)
# S3's answers to a conditional write that another writer got to first.
_LOST_RACE_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
# Executions that still hold their window (a redriven execution runs again).
_RUNNING_STATUSES = frozenset({"RUNNING", "PENDING_REDRIVE"})
_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
CLOCK_SKEW = timedelta(minutes=1)  # the Scheduler may invoke a moment before its scheduled time


class PlanningInputError(ValueError):
    """An input of the window planner is missing or malformed; the message names it and the fix."""


def handler(event: dict, context: Any) -> dict:
    """Plan the window of ``event`` (see the module docstring) and return the plan."""
    request = _read_request(event, os.environ)
    if request["batch"]:
        return plan_batch_window(request, context)
    ids = {
        "endpoint_name": request["endpoint_name"],
        "schedule_name": request["schedule_name"],
        "aws_request_id": getattr(context, "aws_request_id", None),
    }
    window = plan_window(
        request["scheduled_time"],
        request["start_offset"],
        request["end_offset"],
        granularity=request["granularity"],
    )
    now = _now()
    if window["end"] > now + CLOCK_SKEW:  # a run started by hand for a time to come: its window is not over
        raise PlanningInputError(
            f"scheduled_time {times.iso(window['scheduled'])} gives the window [{times.iso(window['start'])}, "
            f"{times.iso(window['end'])}), which has not ended yet (now {times.iso(now)}): analysed now it would "
            "miss the rest of its captures and take the window from its scheduled run; pass a scheduled_time whose "
            "window has ended")
    manifest_folder = "/".join(
        p
        for p in (
            request["manifest_s3_uri"],
            request["endpoint_name"],
            request["schedule_name"],
            window["folder"],
        )
        if p
    )

    claim = None
    if request["execution_id"]:
        claim = claim_window(f"{manifest_folder}/{CLAIM_FILE}", request["execution_id"],
                             hold=request["claim_duration"], now=_now(), kms_key_id=request["kms_key_id"],
                             rerun=request["rerun"])
    holder = claim.holder if claim is not None else None
    duplicate = holder is not None and holder != request["execution_id"]
    already_analysed = duplicate and claim is not None and claim.holder_status == "SUCCEEDED"
    # a duplicate's plan names the holder's attempt: the job and folder that hold the window's results
    attempt = claim.attempt if claim is not None else 1
    job_name = processing_job_name(
        request["job_name_prefix"],
        endpoint_name=request["endpoint_name"],
        schedule_name=request["schedule_name"],
        monitor_type=request["monitor_type"],
        window_id=window["window_id"],
        attempt=attempt,
    )
    ids.update(window_id=window["window_id"], job_name=job_name)
    # A later attempt writes beside the first, never over it: <schedule>/attempt-<n>/<window folder>, a path
    # that still ends with the window's yyyy/mm/dd/HH as readers of the report folders expect.
    report_uri = "/".join(
        p
        for p in (
            request["report_s3_uri"],
            request["endpoint_name"],
            request["schedule_name"],
            _attempt_folder(attempt),
            window["folder"],
        )
        if p
    )
    captured = [] if duplicate else list_window_sized(request["capture_s3_uri"], window["start"], window["end"])
    capture_keys = [key for key, _ in captured]
    capture_bytes = sum(size for _, size in captured)
    plan = {
        **_plan_head(window, has_data=bool(capture_keys), claim=claim, holder=holder, duplicate=duplicate,
                     already_analysed=already_analysed, attempt=attempt),
        "object_count": len(capture_keys),
        "capture_bytes": capture_bytes,
        "runner": choose_runner(request["scale_out"], capture_bytes),
        **_plan_tail(request, report_uri=report_uri, job_name=job_name, manifest_folder=manifest_folder,
                     attempt=attempt, endpoint_name=request["endpoint_name"]),
    }

    if request["schedule_interval"] and not duplicate and attempt == 1:  # a re-run would count them twice
        plan.update(late_captures(request, window))

    ground_truth_keys = _list_ground_truth(request, window, plan) if not duplicate else []

    if plan["has_data"] or (holder is not None and not duplicate):
        # the job's input, and the record of this listing that the next window counts late captures against
        manifest_uri = write_manifest(
            f"{manifest_folder}/{CAPTURE_MANIFEST_FILE}",
            request["capture_s3_uri"],
            capture_keys,
            request["kms_key_id"],
        )
        plan["manifest_uri"] = manifest_uri if plan["has_data"] else None
    if plan["has_data"] and request["ground_truth_s3_uri"]:
        plan["ground_truth_manifest_uri"] = write_manifest(
            f"{manifest_folder}/ground-truth.manifest.json",
            request["ground_truth_s3_uri"],
            ground_truth_keys,
            request["kms_key_id"],
        )

    if claim is not None and claim.superseded and not duplicate:
        plan["superseded"] = claim.superseded
    counts = {k: plan[k] for k in ("object_count", "ground_truth_object_count", "late_capture_files") if k in plan}
    outcome = ("already_analysed" if already_analysed else "duplicate" if duplicate
               else "planned" if plan["has_data"] else "no_data")
    held = (f"analysed by {holder}, which succeeded: start an execution with \"rerun\": true to analyse it again"
            if already_analysed else f"held by {holder}")
    log(
        "INFO",
        f"window {plan['start']}..{plan['end']}"
        + (f" (attempt {attempt})" if attempt > 1 else "") + ": "
        + (held if duplicate else "planned" if plan["has_data"] else "no data"),
        outcome=outcome,
        no_data_reason=plan["no_data_reason"],
        start=plan["start"],
        end=plan["end"],
        manifest_uri=plan["manifest_uri"],
        attempt=attempt,
        **counts,
        **ids,
    )
    return plan


def _attempt_folder(attempt: int) -> str:
    """The folder level of a window's attempt ``attempt``: none for the first, ``attempt-<n>`` after it."""
    return f"attempt-{attempt}" if attempt > 1 else ""


def _read_request(event: dict, environ: os._Environ | dict) -> dict:
    """Merge event keys over environment fallbacks and validate them."""

    def value(key: str, default: str | None = None) -> str | None:
        found = event.get(key)
        if found is None or found == "":
            found = environ.get(key.upper(), "") or default
        return found.strip() if isinstance(found, str) else found

    def required(key: str) -> str:
        found = value(key)
        if not found:
            raise PlanningInputError(f"{key} is missing: pass it in the event or set {key.upper()}")
        return found

    scheduled_raw = required("scheduled_time")
    request = {
        "scheduled_time": parse_time(scheduled_raw, "scheduled_time"),
        "capture_s3_uri": _s3_prefix_uri(required("capture_s3_uri"), "capture_s3_uri"),
        "report_s3_uri": _s3_prefix_uri(required("report_s3_uri"), "report_s3_uri"),
        "endpoint_name": value("endpoint_name"),
        "schedule_name": required("schedule_name"),
        "monitor_type": value("monitor_type", DEFAULT_MONITOR_TYPE),
        "start_offset": parse_duration(
            value("window_start_offset", DEFAULT_START_OFFSET), "window_start_offset"
        ),
        "end_offset": parse_duration(value("window_end_offset", DEFAULT_END_OFFSET), "window_end_offset"),
        "granularity": value("window_granularity", "hour").lower(),
        "job_name_prefix": value("job_name_prefix", DEFAULT_JOB_NAME_PREFIX),
        "ground_truth_s3_uri": None,
        "ground_truth_lookback": None,
        "kms_key_id": environ.get("KMS_KEY_ID", "").strip() or None,
        "execution_id": value("execution_id"),
        "claim_duration": _claim_duration(event.get("claim_seconds")),
        "rerun": _rerun(event.get("execution_input")),
        "schedule_interval": None,
        "scale_out": _scale_out(event.get("scale_out")),
    }
    interval = value("schedule_interval")
    if interval:
        request["schedule_interval"] = parse_duration(interval, "schedule_interval")
        if request["schedule_interval"] <= timedelta(0):
            raise PlanningInputError(f"schedule_interval={interval!r} must be positive: use the time between two "
                                     "runs, e.g. PT1H")
    manifest = value("manifest_s3_uri")
    request["manifest_s3_uri"] = (
        _s3_prefix_uri(manifest, "manifest_s3_uri") if manifest else f"{request['report_s3_uri']}/_manifests"
    )
    input_type = (value("monitoring_input_type") or "ENDPOINT_INPUT").upper()
    if input_type not in ("ENDPOINT_INPUT", "BATCH_TRANSFORM"):
        raise PlanningInputError(f"monitoring_input_type={input_type!r} is not supported: use ENDPOINT_INPUT or "
                                 "BATCH_TRANSFORM")
    request["batch"] = input_type == "BATCH_TRANSFORM"
    if request["batch"]:
        request.update(_read_batch_request(event))
    ground_truth = value("ground_truth_s3_uri")
    if ground_truth:
        request["ground_truth_s3_uri"] = _s3_prefix_uri(ground_truth, "ground_truth_s3_uri")
        lookback = value("ground_truth_lookback")
        if lookback:
            request["ground_truth_lookback"] = abs(parse_duration(lookback, "ground_truth_lookback"))
    if request["granularity"] not in ("hour", "minute"):
        raise PlanningInputError(
            f"window_granularity={request['granularity']!r} is not supported: "
            "use 'hour' (SageMaker's behaviour) or 'minute' (sub-hourly schedules)"
        )
    return request


def _scale_out(value: Any) -> dict | None:
    """The ``scale_out`` setting: ``{"threshold_bytes": <int >= 0>, "always": <bool>}``, or None."""
    if value is None:
        return None
    threshold = value.get("threshold_bytes", 0) if isinstance(value, dict) else None
    always = value.get("always", False) if isinstance(value, dict) else None
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0 or not isinstance(always, bool):
        raise PlanningInputError(f"scale_out={value!r} must be {{\"threshold_bytes\": <bytes, 0 or more>, "
                                 "\"always\": true|false}: pass what the monitor's ScaleOut synthesizes")
    return {"threshold_bytes": threshold, "always": always}


def choose_runner(scale_out: dict | None, capture_bytes: int) -> str:
    """``"spark"`` when scale-out is on and asks for every window or the window reaches its threshold, else
    ``"processing"``."""
    if scale_out is not None and (scale_out["always"] or capture_bytes >= scale_out["threshold_bytes"]):
        return "spark"
    return "processing"


def _now() -> datetime:
    """The current time; tests replace this function to age a claim."""
    return datetime.now(UTC)


def _rerun(execution_input: Any) -> bool:
    """``rerun`` of the execution's input: whether a window that was analysed already is analysed again."""
    if execution_input is None:
        return False
    if not isinstance(execution_input, dict):
        raise PlanningInputError(f"execution_input={execution_input!r} is not a JSON object: start the execution "
                                 'with e.g. {"scheduled_time": "2026-11-25T13:00:00Z", "rerun": true}')
    rerun = execution_input.get("rerun", False)
    if not isinstance(rerun, bool):
        raise PlanningInputError(f"rerun={rerun!r} is not true or false: pass \"rerun\": true (a JSON boolean) to "
                                 "analyse a window again, or leave it out")
    return rerun


def _claim_duration(seconds: Any) -> timedelta:
    if seconds is None or seconds == "":
        return DEFAULT_CLAIM_DURATION
    try:
        duration = timedelta(seconds=float(seconds))
    except (TypeError, ValueError):
        duration = timedelta(0)
    if duration <= timedelta(0):
        raise PlanningInputError(f"claim_seconds={seconds!r} is not a positive number of seconds: pass the "
                                 "state machine's timeout in seconds")
    return duration


class WindowClaim(NamedTuple):
    """Who holds a window after a planner claimed it, and which attempt at the window that execution runs."""

    holder: str
    attempt: int
    holder_status: str | None = None  # the holder's DescribeExecution status when another execution holds it
    superseded: dict | None = None  # the ended holder this execution took the window from


def claim_window(claim_uri: str, execution_id: str, *, hold: timedelta, now: datetime,
                 kms_key_id: str | None, rerun: bool = False) -> WindowClaim:
    """Claim the window for ``execution_id`` and return who holds it afterwards (see the module docstring).

    Another execution's claim is kept while that execution runs, or succeeded unless ``rerun``; it is taken
    over when the execution has ended without succeeding (failed, timed out, aborted), whether or not it
    could release anything itself. When Step Functions cannot say (the holder is unknown to it, or the
    planner may not ask), the claim is kept for ``hold`` after it was made, as the execution's timeout.
    Every write is conditional (S3 If-None-Match / If-Match), so two planners of one window never both win;
    a taken-over claim counts one more attempt, which names the job and the report folder."""
    bucket, key = split_s3_uri(claim_uri)
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    s3 = client("s3")
    condition: dict[str, str] = {"IfNoneMatch": "*"}
    attempt, superseded = 1, None
    for _ in range(3):  # create, or take over an ended claim; a lost race ends with the winner's claim read
        claim = {"execution_id": execution_id, "claimed_at": times.iso(now), "attempt": attempt,
                 **({"superseded": superseded} if superseded else {})}
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(claim).encode(), ContentType="application/json",
                          **condition, **extra)
            return WindowClaim(holder=execution_id, attempt=attempt, superseded=superseded)
        except ClientError as error:
            if error_code(error)[0] not in _LOST_RACE_CODES:
                raise aws_error(error, f"PutObject of the claim {claim_uri}") from error
        except BotoCoreError as error:
            raise aws_error(error, f"PutObject of the claim {claim_uri}") from error
        holder, claimed_at, held_attempt, etag = _read_claim(s3, bucket, key, claim_uri)
        if holder == execution_id:  # a retried planner of the holder: the same attempt, the same job
            return WindowClaim(holder=execution_id, attempt=held_attempt)
        status = execution_status(holder) if holder is not None else None
        if status in _RUNNING_STATUSES or (status == "SUCCEEDED" and not rerun):
            return WindowClaim(holder=holder, attempt=held_attempt, holder_status=status)
        if status is None and holder is not None and claimed_at is not None and now - claimed_at < hold:
            return WindowClaim(holder=holder, attempt=held_attempt)
        why = ("asked to analyse it again" if status == "SUCCEEDED" else f"its execution ended {status}" if status
               else "the claim cannot be read" if holder is None or claimed_at is None
               else f"its claim expired (claimed {times.iso(claimed_at)})")
        log("WARNING", f"claim {claim_uri} of {holder} (attempt {held_attempt}): {why}; taking the window over as "
            f"attempt {held_attempt + 1}", claim_uri=claim_uri, previous_holder=holder, previous_status=status,
            attempt=held_attempt + 1)
        attempt = held_attempt + 1
        superseded = {"execution_id": holder, "status": status, "attempt": held_attempt}
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    raise TransientAwsError(f"the claim {claim_uri} kept changing while this execution tried to take it; retry")


def execution_status(execution_arn: str) -> str | None:
    """The Step Functions status of ``execution_arn`` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED,
    PENDING_REDRIVE), or None when Step Functions cannot tell: no such execution (its history is kept 90
    days), an ARN of another state machine (the planner may describe its own machine's executions only)."""
    try:
        return str(client("stepfunctions").describe_execution(executionArn=execution_arn)["status"])
    except (ClientError, BotoCoreError) as error:
        if is_transient(error):
            raise aws_error(error, f"DescribeExecution of {execution_arn}") from error
        code, message = error_code(error)
        log("WARNING", f"DescribeExecution of {execution_arn} refused ({code}: {message}); its claim holds until "
            "it expires", error_code=code, previous_holder=execution_arn)
        return None


def _read_claim(s3, bucket: str, key: str, uri: str) -> tuple[str | None, datetime | None, int, str | None]:
    """(holder, claim time, attempt, ETag) of a claim; an unreadable claim has no holder (it is taken over)."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error)[0] in ("NoSuchKey", "404"):
            return None, None, 1, None
        raise aws_error(error, f"GetObject of the claim {uri}") from error
    except BotoCoreError as error:
        raise aws_error(error, f"GetObject of the claim {uri}") from error
    try:
        claim = json.loads(response["Body"].read())
        attempt = claim.get("attempt", 1)  # claims written before attempts were counted are the first
        return (str(claim["execution_id"]), times.parse_time(claim.get("claimed_at")),
                attempt if isinstance(attempt, int) and not isinstance(attempt, bool) and attempt >= 1 else 1,
                response.get("ETag"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None, 1, response.get("ETag")


def parse_time(text: str, name: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` or an offset; no offset means UTC) to an aware UTC datetime."""
    parsed = times.parse_time(text)
    if parsed is None:
        raise PlanningInputError(f"{name}={text!r} is not an ISO-8601 time: use e.g. 2026-11-25T13:00:00Z")
    return parsed


def parse_duration(text: str, name: str) -> timedelta:
    """Parse a signed ISO-8601 duration ``[+-]P[nW][nD][T[nH][nM][nS]]`` (SageMaker writes ``-PT1H``).

    Years and months are refused: their length depends on the calendar, so a window would drift.
    """
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if not match or text.strip().upper().rstrip("T").endswith("P"):
        raise PlanningInputError(
            f"{name}={text!r} is not an ISO-8601 duration in weeks, days, hours, minutes or "
            "seconds: use e.g. -PT1H, PT0H or -P1DT2H"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if k != "sign" and v}
    duration = timedelta(**parts)
    return -duration if match.group("sign") == "-" else duration


def plan_window(
    scheduled: datetime, start_offset: timedelta, end_offset: timedelta, *, granularity: str = "hour"
) -> dict:
    """The window ``[anchor + start_offset, anchor + end_offset)`` where anchor = scheduled time truncated.

    With hour granularity the offsets must be whole hours (as SageMaker requires), so the window is made of
    whole hour folders. ``folder`` is the scheduled time as ``yyyy/mm/dd/HH`` (``/MM`` added for minutes).
    """
    unit = timedelta(hours=1) if granularity == "hour" else timedelta(minutes=1)
    for name, offset in (("window_start_offset", start_offset), ("window_end_offset", end_offset)):
        if offset % unit:
            raise PlanningInputError(
                f"{name}={_duration_text(offset)} is not a whole number of {granularity}s: "
                f"use whole {granularity}s, or window_granularity 'minute' for finer offsets"
            )
    anchor = scheduled.replace(
        minute=0 if granularity == "hour" else scheduled.minute, second=0, microsecond=0
    )
    start, end = anchor + start_offset, anchor + end_offset
    if start >= end:
        raise PlanningInputError(
            f"window_start_offset {_duration_text(start_offset)} must be before "
            f"window_end_offset {_duration_text(end_offset)}: the window would be empty"
        )
    fmt = ("%Y%m%d%H", "%Y/%m/%d/%H") if granularity == "hour" else ("%Y%m%d%H%M", "%Y/%m/%d/%H/%M")
    return {
        "scheduled": scheduled,
        "anchor": anchor,
        "start": start,
        "end": end,
        "window_id": anchor.strftime(fmt[0]),
        "folder": anchor.strftime(fmt[1]),
    }


def _duration_text(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}PT{seconds // 3600}H{seconds % 3600 // 60}M{seconds % 60}S"


def hour_prefixes(start: datetime, end: datetime) -> list[str]:
    """``yyyy/mm/dd/HH/`` of every hour that overlaps ``[start, end)``."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour < end:
        prefixes.append(hour.strftime("%Y/%m/%d/%H/"))
        hour += timedelta(hours=1)
    return prefixes


def processing_job_name(
    prefix: str, *, endpoint_name: str | None, schedule_name: str, monitor_type: str, window_id: str,
    attempt: int = 1,
) -> str:
    """``<prefix>-<window id>-<10 hex of sha256(endpoint, schedule, monitor type, window id)>``, plus
    ``-attempt-<n>`` for the window's attempt n > 1; lower case, at most 63 characters
    (``_shared.names.processing_job_name``)."""
    return names.processing_job_name(prefix, window_id, endpoint_name or "", schedule_name, monitor_type,
                                     attempt=attempt)


def list_window_objects(root_uri: str, start: datetime, end: datetime) -> list[str]:
    """Keys (relative to ``root_uri``) of the non-empty objects in the hour folders overlapping [start, end)."""
    return list_hour_objects(root_uri, hour_prefixes(start, end))


def list_window_sized(root_uri: str, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """(key relative to ``root_uri``, size in bytes) of the non-empty objects in the hour folders overlapping
    [start, end)."""
    return list_hour_objects_sized(root_uri, hour_prefixes(start, end))


def list_hour_objects(root_uri: str, hours: list[str]) -> list[str]:
    """Keys (relative to ``root_uri``) of the non-empty objects in the hour folders ``hours`` (``yyyy/mm/dd/HH/``)."""
    return [key for key, _ in list_hour_objects_sized(root_uri, hours)]


def list_hour_objects_sized(root_uri: str, hours: list[str]) -> list[tuple[str, int]]:
    """(key relative to ``root_uri``, size) of the non-empty objects in the hour folders ``hours``."""
    bucket, root_key = split_s3_uri(root_uri)
    paginator = client("s3").get_paginator("list_objects_v2")
    keys = []
    for hour in hours:
        prefix = f"{root_key}/{hour}" if root_key else hour
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                keys.extend(
                    (o["Key"][len(prefix) - len(hour) :], o["Size"])
                    for o in page.get("Contents", [])
                    if o.get("Size", 0) > 0 and not o["Key"].endswith("/")
                )
        except (ClientError, BotoCoreError) as error:
            raise aws_error(error, f"ListObjectsV2 on s3://{bucket}/{prefix}") from error
    return keys


def late_captures(request: dict, window: dict) -> dict:
    """``late_capture_files`` of the previous window (see the module docstring), or nothing to add to the plan
    when that window left no listing."""
    previous = plan_window(window["anchor"] - request["schedule_interval"], request["start_offset"],
                           request["end_offset"], granularity=request["granularity"])
    folder = "/".join(p for p in (request["manifest_s3_uri"], request["endpoint_name"], request["schedule_name"],
                                  previous["folder"]) if p)
    listed = read_manifest_keys(f"{folder}/{CAPTURE_MANIFEST_FILE}")
    if listed is None:
        return {}
    read_now = set(hour_prefixes(window["start"], window["end"]))
    hours = [hour for hour in hour_prefixes(previous["start"], previous["end"]) if hour not in read_now]
    late = [key for key in list_hour_objects(request["capture_s3_uri"], hours) if key not in listed]
    if late:
        log("WARNING", f"{len(late)} capture file(s) arrived in the window {times.iso(previous['start'])}.."
            f"{times.iso(previous['end'])} after it was listed; no window analysed them",
            outcome="late_captures", late_capture_files=len(late), late_window_id=previous["window_id"],
            late_keys=late[:LATE_EXAMPLES], schedule_name=request["schedule_name"],
            endpoint_name=request["endpoint_name"])
    return {"late_capture_files": len(late), "late_window_id": previous["window_id"],
            "late_window_start": times.iso(previous["start"])}


def read_manifest_keys(manifest_uri: str) -> set[str] | None:
    """The keys a manifest lists (relative to its prefix); None when there is no manifest (or no readable one)."""
    # absence asked by a listing: S3 answers a read of a missing key 403 to a role listing under a prefix only
    body = read_object_if_present(manifest_uri)
    if body is None:
        return None
    try:
        manifest = json.loads(body)
    except ValueError:
        manifest = None
    if not isinstance(manifest, list) or not manifest:
        log("WARNING", f"{manifest_uri} is not a manifest; late captures of its window are not counted",
            manifest_uri=manifest_uri)
        return None
    return {entry for entry in manifest[1:] if isinstance(entry, str)}


def write_manifest(manifest_uri: str, root_uri: str, keys: list[str], kms_key_id: str | None) -> str:
    """Write ``[{"prefix": "<root>/"}, *keys]`` to ``manifest_uri`` and return the URI."""
    bucket, key = split_s3_uri(manifest_uri)
    body = json.dumps([{"prefix": f"{root_uri}/"}, *keys], separators=(",", ":")).encode()
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    try:
        client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **extra)
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"PutObject of the manifest {manifest_uri}") from error
    return manifest_uri


def _s3_prefix_uri(uri: str, name: str) -> str:
    """Validate an ``s3://bucket/prefix`` URI and return it without a trailing slash."""
    if not isinstance(uri, str) or not S3_URI.match(uri.strip()):
        raise PlanningInputError(f"{name}={uri!r} is not an S3 URI: use s3://<bucket>/<prefix>")
    return uri.strip().rstrip("/")


# -- batch transform jobs ------------------------------------------------------------------------------------------

BATCH_SIDES = ("input", "output")
TRANSFORM_JOBS_FOLDER = "jobs"


def _read_batch_request(event: dict) -> dict:
    """The batch keys of the input: the transform job (a per-job window), local paths, the job's other inputs."""
    paths = {}
    for side in BATCH_SIDES:
        path = event.get(f"{side}_local_path")
        if not isinstance(path, str) or not path.startswith("/opt/ml/processing/"):
            raise PlanningInputError(f"{side}_local_path={path!r} is not a folder of the job: use e.g. "
                                     f"/opt/ml/processing/input/batch/{side}")
        paths[f"{side}_local_path"] = path.rstrip("/")
    job_inputs = event.get("job_inputs") or []
    if not isinstance(job_inputs, list) or not all(isinstance(i, dict) and "InputName" in i for i in job_inputs):
        raise PlanningInputError("job_inputs must be a list of ProcessingInputs entries (InputName, S3Input)")
    ground_truth_local = event.get("ground_truth_local_path") or "/opt/ml/processing/groundtruth"
    job = event.get("transform_job")
    return {**paths, "job_inputs": job_inputs, "ground_truth_local_path": ground_truth_local,
            "transform_job": _read_transform_job(job) if job is not None else None}


def _read_transform_job(job: Any) -> dict:
    """Name, start, end and data locations of the ``detail`` of a "SageMaker Transform Job State Change" event."""
    if not isinstance(job, dict):
        raise PlanningInputError("transform_job must be the detail of a SageMaker Transform Job State Change event")
    name = job.get("TransformJobName")
    if not isinstance(name, str) or not JOB_NAME_PATTERN.match(name):
        raise PlanningInputError(f"transform_job.TransformJobName={name!r} is not a transform job's name")
    status = job.get("TransformJobStatus")
    if status != "Completed":
        raise PlanningInputError(f"transform job {name} is {status}, not Completed: only a completed job's data is "
                                 "analysed")
    start = _event_time(job.get("TransformStartTime"), "TransformStartTime", name)
    end = _event_time(job.get("TransformEndTime"), "TransformEndTime", name)
    if end < start:
        raise PlanningInputError(f"transform job {name} ends ({times.iso(end)}) before it starts ({times.iso(start)})")
    source = ((job.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource") or {}
    output = (job.get("TransformOutput") or {}).get("S3OutputPath")
    return {"name": name, "start": start, "end": end,
            "input": source.get("S3Uri") if isinstance(source.get("S3Uri"), str) else None,
            "output": output if isinstance(output, str) else None}


def _event_time(value: Any, name: str, job: str) -> datetime:
    """A time of a SageMaker event: ISO-8601 text, or milliseconds since the epoch (a number or its text)."""
    if (isinstance(value, (int, float)) and not isinstance(value, bool)) or (isinstance(value, str)
                                                                          and value.strip().isdigit()):
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    parsed = times.parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        raise PlanningInputError(f"transform job {job}: {name}={value!r} is not a time (ISO-8601 or epoch "
                                 "milliseconds)")
    return parsed


def _same_location(manifest_prefix: str, job_location: str | None) -> bool:
    """Whether a capture manifest's prefix names the job's input or output location: the same, or one inside the
    other at a ``/`` (a job reading one object has the object's folder as prefix). No location (a scheduled window
    takes every job of its hours): True."""
    if job_location is None:
        return True
    a, b = manifest_prefix.rstrip("/"), job_location.rstrip("/")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def read_capture_manifests(capture_uri: str, side: str, hours: list[str], location: str | None) -> list:
    """The manifests a transform job's capture wrote under ``<capture>/<side>/<hour>/`` for the job whose data is at
    ``location`` (all of them without one), oldest key first."""
    root = f"{capture_uri}/{side}"
    found = []
    for key in sorted(list_hour_objects(root, hours)):
        uri = f"{root}/{key}"
        body = read_object_if_present(uri)
        if body is None:
            continue
        try:
            manifest = parse_manifest(body, source=uri)
        except ManifestError as error:
            # a capture folder holds what SageMaker wrote; anything else there is skipped, and said
            log("WARNING", f"{error}; skipped", manifest_uri=uri)
            continue
        if _same_location(manifest.prefix, location):
            found.append(manifest)
    return found


def _common_prefix(locations: list[str]) -> str:
    """The longest prefix ending in ``/`` shared by all ``locations`` (``s3://bucket/`` at least)."""
    first = min(locations)
    last = max(locations)
    shared = 0
    while shared < min(len(first), len(last)) and first[shared] == last[shared]:
        shared += 1
    return first[: first.rfind("/", 0, shared) + 1] if "/" in first[:shared] else ""


def side_manifest(manifests: list, side: str) -> tuple[str, list[str]] | None:
    """(prefix, keys) of one ManifestFile naming every data file of ``manifests``, each once: the keys are relative
    to the capture manifest's prefix (to the prefix the manifests share when they have several), so the job lays
    the files out as ``<local path>/<key>``. None when they name no file."""
    locations = list(dict.fromkeys(loc for m in manifests for loc in m.locations()))
    if not locations:
        return None
    prefixes = {m.folder() for m in manifests if m.keys}
    prefix = prefixes.pop() if len(prefixes) == 1 else _common_prefix(locations)
    if not S3_URI.match(prefix) or prefix.count("/") < 3:
        raise PlanningInputError(f"the {side} files of this window are in several buckets ({', '.join(sorted(prefixes))}"
                                 "): a processing job reads one bucket per input; monitor those jobs apart")
    return prefix, [loc[len(prefix):] for loc in locations]


def _plan_head(window: dict, *, has_data: bool, claim: Any, holder: Any, duplicate: bool, already_analysed: bool,
               attempt: int) -> dict:
    """The plan's fields about the window and its claim, for endpoint and batch windows alike."""
    return {
        "has_data": has_data,
        "no_data_reason": ("window_already_analysed" if already_analysed else "duplicate_execution" if duplicate
                           else None if has_data else "no_capture"),
        "duplicate": duplicate,
        "duplicate_of": holder if duplicate else None,
        "holder_status": claim.holder_status if duplicate and claim is not None else None,
        "already_analysed": already_analysed,
        "attempt": attempt,
        "window_id": window["window_id"],
        "scheduled_time": times.iso(window["scheduled"]),
        "start": times.iso(window["start"]),
        "end": times.iso(window["end"]),
        "metric_time": times.iso(window["start"]),
        "manifest_uri": None,
    }


def _plan_tail(request: dict, *, report_uri: str, job_name: str, manifest_folder: str, attempt: int,
               endpoint_name: str | None) -> dict:
    """The plan's fields about the job and its outputs, for endpoint and batch windows alike."""
    return {
        "report_uri": report_uri,
        "job_name": job_name,
        "publication_receipt_uri": "/".join(p for p in (manifest_folder, _attempt_folder(attempt),
                                                         "publication-receipt.json") if p),
        "endpoint_name": endpoint_name,
        "schedule_name": request["schedule_name"],
        "monitor_type": request["monitor_type"],
    }


def _list_ground_truth(request: dict, window: dict, plan: dict) -> list[str]:
    """The label objects of the window's look-back (none without a ground-truth location), said in ``plan``; a
    window with data but no label becomes ``no_ground_truth``."""
    if not request["ground_truth_s3_uri"]:
        return []
    lookback = request["ground_truth_lookback"] or (window["anchor"] - window["start"])
    gt_start, gt_end = window["anchor"] - lookback, window["anchor"]
    keys = list_window_objects(request["ground_truth_s3_uri"], gt_start, gt_end)
    plan.update(ground_truth_manifest_uri=None, ground_truth_object_count=len(keys),
                ground_truth_start=times.iso(gt_start), ground_truth_end=times.iso(gt_end))
    if plan["has_data"] and not keys:
        plan.update(has_data=False, no_data_reason="no_ground_truth")
    return keys


def plan_batch_window(request: dict, context: Any) -> dict:
    """Plan a window of batch transform jobs: a completed job's (``transform_job``), or every job whose capture
    manifests lie in the scheduled window's hours. Writes one ManifestFile per side with data files
    (``input.manifest.json``, ``output.manifest.json``) and returns the job's ``processing_inputs``."""
    job = request["transform_job"]
    if job is not None:
        start, end = job["start"], job["end"]
        window = {"scheduled": end, "anchor": end, "start": start, "end": end,
                  "window_id": start.strftime("%Y%m%d%H%M"), "folder": f"{TRANSFORM_JOBS_FOLDER}/{job['name']}",
                  "report_folder": f"{job['name']}/{start:%Y/%m/%d/%H}"}
        # SageMaker files the manifests under the job's start hour; the hours either side allow for clocks
        hours = hour_prefixes(start - timedelta(hours=1), start + timedelta(hours=1))
    else:
        window = plan_window(request["scheduled_time"], request["start_offset"], request["end_offset"],
                             granularity=request["granularity"])
        window["report_folder"] = window["folder"]
        hours = hour_prefixes(window["start"], window["end"])
        now = _now()
        if window["end"] > now + CLOCK_SKEW:
            raise PlanningInputError(
                f"scheduled_time {times.iso(window['scheduled'])} gives the window [{times.iso(window['start'])}, "
                f"{times.iso(window['end'])}), which has not ended yet (now {times.iso(now)}): pass a scheduled_time "
                "whose window has ended")
    transform_name = job["name"] if job is not None else None
    ids = {"schedule_name": request["schedule_name"], "transform_job_name": transform_name,
           "aws_request_id": getattr(context, "aws_request_id", None)}
    manifest_folder = "/".join(p for p in (request["manifest_s3_uri"], request["schedule_name"], window["folder"]) if p)

    claim = None
    if request["execution_id"]:
        claim = claim_window(f"{manifest_folder}/{CLAIM_FILE}", request["execution_id"],
                             hold=request["claim_duration"], now=_now(), kms_key_id=request["kms_key_id"],
                             rerun=request["rerun"])
    holder = claim.holder if claim is not None else None
    duplicate = holder is not None and holder != request["execution_id"]
    already_analysed = duplicate and claim is not None and claim.holder_status == "SUCCEEDED"
    attempt = claim.attempt if claim is not None else 1
    job_name = processing_job_name(request["job_name_prefix"], endpoint_name=transform_name,
                                   schedule_name=request["schedule_name"], monitor_type=request["monitor_type"],
                                   window_id=window["window_id"], attempt=attempt)
    report_uri = "/".join(p for p in (request["report_s3_uri"], request["schedule_name"], _attempt_folder(attempt),
                                      window["report_folder"]) if p)
    sides: dict[str, tuple[str, list[str]] | None] = {side: None for side in BATCH_SIDES}
    if not duplicate:
        for side in BATCH_SIDES:
            location = job[side] if job is not None else None
            sides[side] = side_manifest(read_capture_manifests(request["capture_s3_uri"], side, hours, location), side)
    counts = {side: len(found[1]) if found else 0 for side, found in sides.items()}
    has_data = any(counts.values())
    plan = {
        **_plan_head(window, has_data=has_data, claim=claim, holder=holder, duplicate=duplicate,
                     already_analysed=already_analysed, attempt=attempt),
        "object_count": sum(counts.values()),
        "input_manifest_uri": None,
        "input_object_count": counts["input"],
        "output_manifest_uri": None,
        "output_object_count": counts["output"],
        **_plan_tail(request, report_uri=report_uri, job_name=job_name, manifest_folder=manifest_folder,
                     attempt=attempt, endpoint_name=None),
        "transform_job_name": transform_name,
        "processing_inputs": [],
    }
    ground_truth_keys = _list_ground_truth(request, window, plan) if not duplicate else []

    if plan["has_data"]:
        inputs = []
        for side in BATCH_SIDES:
            found = sides[side]
            if found is None:
                continue  # this side has no file: no input (either may be absent)
            prefix, keys = found
            uri = write_manifest(f"{manifest_folder}/{side}.manifest.json", prefix.rstrip("/"), keys,
                                 request["kms_key_id"])
            plan[f"{side}_manifest_uri"] = uri
            inputs.append(_manifest_input(side, uri, request[f"{side}_local_path"]))
        plan["manifest_uri"] = plan["output_manifest_uri"] or plan["input_manifest_uri"]
        if request["ground_truth_s3_uri"]:
            plan["ground_truth_manifest_uri"] = write_manifest(
                f"{manifest_folder}/ground-truth.manifest.json", request["ground_truth_s3_uri"], ground_truth_keys,
                request["kms_key_id"])
            inputs.append(_manifest_input("ground_truth", plan["ground_truth_manifest_uri"],
                                          request["ground_truth_local_path"]))
        plan["processing_inputs"] = inputs + list(request["job_inputs"])

    if claim is not None and claim.superseded and not duplicate:
        plan["superseded"] = claim.superseded
    outcome = ("already_analysed" if already_analysed else "duplicate" if duplicate
               else "planned" if plan["has_data"] else "no_data")
    log("INFO", f"batch window {plan['start']}..{plan['end']}" + (f" of transform job {transform_name}" if job else "")
        + (f" (attempt {attempt})" if attempt > 1 else "") + f": {outcome}", outcome=outcome,
        no_data_reason=plan["no_data_reason"], input_object_count=counts["input"],
        output_object_count=counts["output"], attempt=attempt, window_id=window["window_id"], job_name=job_name,
        **ids)
    return plan


def _manifest_input(name: str, manifest_uri: str, local_path: str) -> dict:
    """A ProcessingInputs entry reading the files a manifest names into ``local_path``."""
    return {"InputName": name, "S3Input": {"S3Uri": manifest_uri, "S3DataType": "ManifestFile", "S3InputMode": "File",
                                           "S3DataDistributionType": "FullyReplicated", "LocalPath": local_path}}
