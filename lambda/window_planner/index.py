"""Plan one monitoring window: find the captured data of the window and write a SageMaker manifest for it.

First step of the standalone engine's state machine (EventBridge Scheduler -> Step Functions -> this function
-> a SageMaker Processing job with our analyzer). The window is computed the way SageMaker Model Monitor does:
the scheduled time is truncated to the hour and the ISO-8601 offsets are added, so an hourly schedule firing at
13:00 with offsets -PT1H / PT0H analyses [12:00, 13:00). SageMaker's capture layout puts every record in the
hour folder ``<capture>/yyyy/mm/dd/HH/``; the function lists the folders that overlap the window.

Input (keys missing from the event fall back to the environment variable in brackets)::

    {"scheduled_time": "2026-11-25T13:00:00Z",                   # required; the Scheduler's scheduled time
     "capture_s3_uri": "s3://b/datacapture/ep/AllTraffic",       # [CAPTURE_S3_URI] required
     "report_s3_uri": "s3://b/reports/data-quality",             # [REPORT_S3_URI] required
     "endpoint_name": "ep",                                      # [ENDPOINT_NAME] omit for batch transform
     "schedule_name": "ep-data-quality",                         # [SCHEDULE_NAME] required
     "monitor_type": "data-quality",                             # [MONITOR_TYPE] default data-quality
     "window_start_offset": "-PT1H", "window_end_offset": "PT0H",  # [WINDOW_START_OFFSET] [WINDOW_END_OFFSET]
     "window_granularity": "hour" | "minute",                    # [WINDOW_GRANULARITY] default hour
     "manifest_s3_uri": "s3://b/manifests",                      # [MANIFEST_S3_URI] default <report>/_manifests
     "job_name_prefix": "model-monitor",                         # [JOB_NAME_PREFIX] default model-monitor
     "ground_truth_s3_uri": "s3://b/ground-truth/ep",            # [GROUND_TRUTH_S3_URI] model quality only
     "ground_truth_lookback": "P1D"}                             # [GROUND_TRUTH_LOOKBACK] default: window start

Output::

    {"has_data": true, "no_data_reason": null | "no_capture" | "no_ground_truth",
     "window_id": "2026112513", "scheduled_time": "2026-11-25T13:00:00Z",
     "start": "2026-11-25T12:00:00Z", "end": "2026-11-25T13:00:00Z", "metric_time": "2026-11-25T12:00:00Z",
     "manifest_uri": "s3://..." | null, "object_count": 12,
     "report_uri": "s3://b/reports/data-quality/ep/ep-data-quality/2026/11/25/13",
     "job_name": "model-monitor-2026112513-1a2b3c4d5e",
     "publication_receipt_uri": "s3://.../publication-receipt.json",   # for the metrics publisher's retries
     "endpoint_name": "ep", "schedule_name": "ep-data-quality", "monitor_type": "data-quality",
     # only with ground_truth_s3_uri:
     "ground_truth_manifest_uri": "s3://..." | null, "ground_truth_object_count": 3,
     "ground_truth_start": "...", "ground_truth_end": "..."}

The manifest is SageMaker's ManifestFile format ``[{"prefix": "<capture_s3_uri>/"}, "yyyy/mm/dd/HH/<file>", ...]``
so that a processing input with ``S3DataType=ManifestFile`` and ``LocalPath=<dataset_source>/<endpoint>/<variant>``
reproduces the built-in's local layout. ``window_id``, the report folder and the job name use the scheduled time
(the built-in names its jobs and report folders after the scheduled hour); ``metric_time`` is the window start.
The job name is deterministic, so a retried window can never start a second job. With ``window_granularity``
"minute" (sub-hourly schedules, standalone engine only) the window id gains minutes and the report folder a
``/MM`` level; hour folders are still listed whole and the analyzer filters records by time.

Environment: the fallbacks above, and KMS_KEY_ID (optional) to write manifests with SSE-KMS under that key.
Errors: ``PlanningInputError`` for inputs a user must fix (do not retry), ``TransientAwsError`` for throttling
and 5xx after the client's own retries (retry), ``AwsRequestError`` for other refused calls (e.g. access denied).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_START_OFFSET = "-PT1H"
DEFAULT_END_OFFSET = "PT0H"
DEFAULT_JOB_NAME_PREFIX = "model-monitor"
DEFAULT_MONITOR_TYPE = "data-quality"
MAX_JOB_NAME_LENGTH = 63
JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$")
_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
    }
)


class PlanningInputError(ValueError):
    """An input of the window planner is missing or malformed; the message names it and the fix."""


class TransientAwsError(RuntimeError):
    """AWS throttled the call or failed on its side even after the client's retries; retry later."""


class AwsRequestError(RuntimeError):
    """AWS refused a call for a reason retrying will not fix (access denied, missing bucket, ...)."""


@functools.cache
def _client(service: str):
    return boto3.client(
        service,
        config=Config(retries={"mode": "standard", "max_attempts": 8}, user_agent_extra="cdk-model-monitor"),
    )


def _log(level: str, message: str, **fields: Any) -> None:
    """Write one JSON object per line."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str), flush=True)


def handler(event: dict, context: Any) -> dict:
    """Plan the window of ``event`` (see the module docstring) and return the plan."""
    request = _read_request(event, os.environ)
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
    job_name = processing_job_name(
        request["job_name_prefix"],
        endpoint_name=request["endpoint_name"],
        schedule_name=request["schedule_name"],
        monitor_type=request["monitor_type"],
        window_id=window["window_id"],
    )
    ids.update(window_id=window["window_id"], job_name=job_name)
    report_uri = "/".join(
        p
        for p in (
            request["report_s3_uri"],
            request["endpoint_name"],
            request["schedule_name"],
            window["folder"],
        )
        if p
    )
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

    capture_keys = list_window_objects(request["capture_s3_uri"], window["start"], window["end"])
    plan = {
        "has_data": bool(capture_keys),
        "no_data_reason": None if capture_keys else "no_capture",
        "window_id": window["window_id"],
        "scheduled_time": _iso(window["scheduled"]),
        "start": _iso(window["start"]),
        "end": _iso(window["end"]),
        "metric_time": _iso(window["start"]),
        "manifest_uri": None,
        "object_count": len(capture_keys),
        "report_uri": report_uri,
        "job_name": job_name,
        "publication_receipt_uri": f"{manifest_folder}/publication-receipt.json",
        "endpoint_name": request["endpoint_name"],
        "schedule_name": request["schedule_name"],
        "monitor_type": request["monitor_type"],
    }

    ground_truth_keys: list[str] = []
    if request["ground_truth_s3_uri"]:
        lookback = request["ground_truth_lookback"] or (window["anchor"] - window["start"])
        gt_start, gt_end = window["anchor"] - lookback, window["anchor"]
        ground_truth_keys = list_window_objects(request["ground_truth_s3_uri"], gt_start, gt_end)
        plan.update(
            ground_truth_manifest_uri=None,
            ground_truth_object_count=len(ground_truth_keys),
            ground_truth_start=_iso(gt_start),
            ground_truth_end=_iso(gt_end),
        )
        if capture_keys and not ground_truth_keys:
            plan.update(has_data=False, no_data_reason="no_ground_truth")

    if plan["has_data"]:
        plan["manifest_uri"] = write_manifest(
            f"{manifest_folder}/capture.manifest.json",
            request["capture_s3_uri"],
            capture_keys,
            request["kms_key_id"],
        )
        if request["ground_truth_s3_uri"]:
            plan["ground_truth_manifest_uri"] = write_manifest(
                f"{manifest_folder}/ground-truth.manifest.json",
                request["ground_truth_s3_uri"],
                ground_truth_keys,
                request["kms_key_id"],
            )

    counts = {k: plan[k] for k in ("object_count", "ground_truth_object_count") if k in plan}
    _log(
        "INFO",
        f"window {plan['start']}..{plan['end']}: " + ("planned" if plan["has_data"] else "no data"),
        outcome="planned" if plan["has_data"] else "no_data",
        no_data_reason=plan["no_data_reason"],
        start=plan["start"],
        end=plan["end"],
        manifest_uri=plan["manifest_uri"],
        **counts,
        **ids,
    )
    return plan


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
    }
    manifest = value("manifest_s3_uri")
    request["manifest_s3_uri"] = (
        _s3_prefix_uri(manifest, "manifest_s3_uri") if manifest else f"{request['report_s3_uri']}/_manifests"
    )
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


def parse_time(text: str, name: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` or an offset; no offset means UTC) to an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace(" ", "").replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise PlanningInputError(
            f"{name}={text!r} is not an ISO-8601 time: use e.g. 2026-11-25T13:00:00Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


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
    prefix: str, *, endpoint_name: str | None, schedule_name: str, monitor_type: str, window_id: str
) -> str:
    """``<prefix>-<window id>-<10 hex of sha256(endpoint, schedule, monitor type, window id)>``, lower case.

    At most 63 characters matching ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``; the prefix is shortened to fit.
    Lower case because SageMaker lower-cases job names in ARNs, which IAM policies match on.
    """
    digest = hashlib.sha256("\n".join((endpoint_name or "", schedule_name, monitor_type, window_id)).encode())
    suffix = f"-{window_id}-{digest.hexdigest()[:10]}"
    readable = re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "mm"
    readable = readable[: MAX_JOB_NAME_LENGTH - len(suffix)].rstrip("-")
    return f"{readable}{suffix}"


def list_window_objects(root_uri: str, start: datetime, end: datetime) -> list[str]:
    """Keys (relative to ``root_uri``) of the non-empty objects in the hour folders overlapping [start, end)."""
    bucket, root_key = _split_s3_uri(root_uri)
    paginator = _client("s3").get_paginator("list_objects_v2")
    keys = []
    for hour in hour_prefixes(start, end):
        prefix = f"{root_key}/{hour}" if root_key else hour
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                keys.extend(
                    o["Key"][len(prefix) - len(hour) :]
                    for o in page.get("Contents", [])
                    if o.get("Size", 0) > 0 and not o["Key"].endswith("/")
                )
        except (ClientError, BotoCoreError) as error:
            raise _aws_error(error, f"ListObjectsV2 on s3://{bucket}/{prefix}") from error
    return keys


def write_manifest(manifest_uri: str, root_uri: str, keys: list[str], kms_key_id: str | None) -> str:
    """Write ``[{"prefix": "<root>/"}, *keys]`` to ``manifest_uri`` and return the URI."""
    bucket, key = _split_s3_uri(manifest_uri)
    body = json.dumps([{"prefix": f"{root_uri}/"}, *keys], separators=(",", ":")).encode()
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
    try:
        _client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json", **extra)
    except (ClientError, BotoCoreError) as error:
        raise _aws_error(error, f"PutObject of the manifest {manifest_uri}") from error
    return manifest_uri


def _aws_error(error: Exception, what: str) -> RuntimeError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = details.get("Code", "Unknown"), details.get("Message", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        transient = code in _THROTTLING_CODES or status >= 500
    else:
        code, message, transient = type(error).__name__, str(error), True
    _log("ERROR", f"{what} failed: {code}: {message}", outcome="failed", error_code=code)
    return (TransientAwsError if transient else AwsRequestError)(f"{what} failed: {code}: {message}")


def _split_s3_uri(uri: str) -> tuple[str, str]:
    match = _S3_URI.match(uri)
    return match.group("bucket"), match.group("key").strip("/")


def _s3_prefix_uri(uri: str, name: str) -> str:
    """Validate an ``s3://bucket/prefix`` URI and return it without a trailing slash."""
    if not isinstance(uri, str) or not _S3_URI.match(uri.strip()):
        raise PlanningInputError(f"{name}={uri!r} is not an S3 URI: use s3://<bucket>/<prefix>")
    return uri.strip().rstrip("/")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
