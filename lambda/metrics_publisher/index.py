"""Publish a monitoring execution's results: the analyzer's CloudWatch metrics, a status metric and an event.

Last steps of the standalone engine's state machine, run after the processing job (or instead of it when the
window had no data, or from the failure path). SageMaker publishes the analyzer's metric lines itself only for
jobs started by a monitoring schedule, so the standalone engine does it here, with the built-in's namespaces.

Input::

    {"status": "Completed" | "CompletedWithViolations" | "NoData" | "Failed",   # required; see 1.
     "report_uri": "s3://b/reports/data-quality/ep/sched/2026/11/25/13",        # required
     "endpoint_name": "ep",                    # omit for batch transform
     "schedule_name": "ep-data-quality",       # required
     "monitor_type": "data-quality",           # data-quality | model-quality | model-bias | model-explainability
     "metrics_prefix": "s3://b/.../metrics",   # optional; where the analyzer's *.jsonl metric lines were uploaded
     "namespace": "aws/sagemaker/Endpoints/data-metrics",  # optional; default from monitor type (or METRICS_NAMESPACE)
     "window": {...},                          # optional; the window planner's output (metric_time, window_id, ...)
     "receipt_uri": "s3://...",                # optional; default window.publication_receipt_uri
     "failure_reason": "...",                  # optional; a Step Functions error Cause is unwrapped, see 4.
     "no_data_reason": "...",                  # optional
     "processing_job_arn": "arn:...",          # optional; becomes the event's resource
     "latest_report_uri": "s3://b/reports/data-quality/ep/sched/latest-report.html"}  # optional

Output::

    {"status": "<final status>", "violation_count": 3 | null, "metrics_published": 120, "metrics_skipped": 0,
     "namespace": "...", "status_namespace": "CdkModelMonitor", "event_id": "..." | null,
     "no_data_reason": "no_records_in_window" | null, "failure_reason": "..." | null,
     "late_capture_files": 2 | null, "latest_report": "copied" | "absent" | "older" | "failed" | null,
     "status_metrics_skipped": "<why>" | null,    # a window too old for CloudWatch, see 3.
     "event_error": "...",                        # only when the bus refused the event, see 6.
     "superseded": "Failed"}                      # only when the window was decided before as another status

What it does:

1. ``Completed`` means the processing job completed; the analyzer's verdict is in its outcome file,
   ``<report_uri>/outcome.json`` (``{"status", "message", "no_data_reason", "summary"}``, written by the
   analyzer's container entrypoint), which the publisher reads: ``Completed``, ``CompletedWithViolations``,
   or ``NoData`` with the reason the window analysed nothing (``no_records_in_window``,
   ``no_labelled_records``, ``no_usable_records``, ``all_records_bad``). Without that file (an image that does
   not write it) the window stays ``Completed``, with a warning in the log. ``Completed`` becomes
   ``CompletedWithViolations`` when ``<report_uri>/constraint_violations.json`` lists violations; the
   violation count is read from that file for both completed statuses. Absent files are told from refused
   ones by listing their key (``_shared.aws.object_exists``): S3 answers 403, not 404, for a missing object
   to a role whose s3:ListBucket is limited by an s3:prefix condition, as the engine's roles are.
2. For executions whose job completed, every object under ``metrics_prefix`` is read as JSON lines
   (MetricName, Timestamp, Dimensions, Value | StatisticValues | Values + Counts, Unit, StorageResolution)
   and sent with PutMetricData in batches of at most 1000 metrics and about 1 MB. Each line is held to
   CloudWatch's limits first: non-finite values: NaN is skipped, +-inf and anything beyond is clamped to
   +-2.348543e108 (as SageMaker does), magnitudes below 2^-360 become 0; a metric name over 255 characters, or
   with characters other than printable ASCII (a line break in a column name), is made safe by the analyzer's
   rule (``_shared.names.cloudwatch_metric_name``); more than 30 dimensions, a
   dimension name over 255 or value over 1024 characters, or a timestamp that is not a finite time within
   two weeks back and two hours ahead skip the line; more than 150 Values are sent as several data of at most
   150 (CloudWatch aggregates them). Lines without dimensions get Endpoint + MonitoringSchedule; lines without
   a timestamp get the window's ``metric_time``. A batch CloudWatch refuses as invalid (its data errors:
   InvalidParameterValue, ...) is sent again datum by datum, so one bad line costs that line only; skipped and
   refused lines are logged and counted (``MetricsSkipped``). Any other refusal (access denied, ...) is not about
   the data: alarms on those metrics would never fire, so the window is ``Failed``, with the reason (see 6.).
3. Status metrics in ``STATUS_NAMESPACE``: ``ExecutionCompleted``, ``ExecutionCompletedWithViolations``,
   ``ExecutionNoData``, ``ExecutionFailed`` (1 for this execution's status, 0 for the others, so every window
   leaves a datapoint in each), ``ConstraintViolations`` (when known) and ``MetricsSkipped`` (lines that could
   not be sent); dimensions Endpoint (unless batch), MonitoringSchedule, MonitorType; timestamp = the window's
   metric_time. With the planner's ``late_capture_files`` (capture files that reached the previous window's
   folders after it was listed, see lambda/window_planner), ``LateCaptureFiles`` too, stamped with that window's
   start. CloudWatch takes datapoints up to two weeks back: a window older than that (run again weeks later)
   publishes no status metrics, rather than ones stamped now that the current period of the alarms would count
   (violations, heartbeat); its log line, its result and its event say so (``status_metrics_skipped``,
   ``statusMetricsSkipped``). Without a window (its planning failed) the failure is stamped now.
4. An EventBridge event: source ``cdk-model-monitor``, detail-type ``Model Monitor Execution Status Change``;
   a ``NoData`` event says why (``noDataReason``: the planner's ``no_capture`` / ``no_ground_truth``, or the
   analyzer's reason), and so does the publisher's log line (``no_data_reason``). A ``Failed`` one says why
   (``failureReason``); a failed or stopped job as one line, ``processing job <name> <status> after <n> min:
   <why>``, where why is the container's own message first (its /opt/ml/output/message, SageMaker's ExitMessage),
   then SageMaker's FailureReason, which is often only "AlgorithmError: See job logs for more information".
5. For completed executions (not ``NoData``) with a ``latest_report_uri``: ``<report_uri>/report.html`` is copied
   there (S3 CopyObject, SSE-KMS with KMS_KEY_ID), so one fixed URL (the dashboard's link) shows the newest window. The
   copy carries the window's start as metadata and replaces a copy only when its window is not older, so a
   window re-run late does not hide a newer one. A window without report.html, or a copy that fails, is
   logged and never fails the window (the report is a convenience; the metrics and the status are not).

6. One status, decided once. The window's verdict (the analyzer's result, or the status given) is recorded in the
   receipt before any of it is published, then published in this order: the analyzer's metrics, the event, the
   status metrics. A retry, or the state machine's failure path (``RecordFailure``, status Failed) after a
   publication that stopped part-way, completes the recorded verdict instead of publishing another status, so
   CloudWatch, the event and the execution (which fails exactly when the window is Failed) never disagree.
   The verdict becomes ``Failed``, with a reason naming the refused call and the analyzer's result, only when it
   cannot be delivered: the analyzer's metrics refused (2.), or the event refused (not throttled) before anything
   else of it went out, which leaves the Failed status in CloudWatch and no event. Status metrics refused after
   the event are followed by a Failed event saying so, and the error is raised: the state machine then records
   ExecutionFailed itself, so the last event and CloudWatch agree. An event put just before an invocation ended
   (a Lambda time-out) may be put again by the next: same status, same windowId.

Retries are safe when a receipt URI is given: the S3 receipt records the verdict, which metric batches were sent
(and, for a batch refused as invalid and sent again datum by datum, which of its data were sent), and for which
status the status metrics and the event were sent, so a retried invocation sends only the rest. A
status of higher rank replaces a lower one (Completed / CompletedWithViolations over NoData over Failed): a window
that failed once and then completed publishes Completed; a Failed arriving after a Completed (a late duplicate)
is logged and not published. Without a receipt, a retry may add duplicate datapoints (harmless for
Maximum/Average statistics, not for Sum or SampleCount).

Environment: EVENT_BUS_NAME (default "default"), STATUS_NAMESPACE (default "CdkModelMonitor"),
METRICS_NAMESPACE (optional default namespace), KMS_KEY_ID (optional; SSE-KMS key for the receipt).
Errors: ``PublishInputError`` (fix the input; do not retry), ``TransientAwsError`` (retry),
``AwsRequestError`` (refused call, e.g. access denied).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from _shared import times
from _shared.aws import (
    S3_URI,
    THROTTLING_CODES,
    AwsRequestError,
    TransientAwsError,
    aws_error,
    client,
    error_code,
    is_not_found,
    object_exists,
    read_object_if_present,
    split_s3_uri,
)
from _shared.logs import log
from _shared.monitor_types import DEFAULT_MONITOR_TYPE, MONITOR_TYPES
from _shared.names import MAX_METRIC_NAME_LENGTH, cloudwatch_dimension_value, cloudwatch_metric_name
from _shared.statuses import (
    ANALYZER_STATUSES,
    EXECUTION_STATUSES,
    LATE_CAPTURES_METRIC_NAME,
    SKIPPED_METRIC_NAME,
    STATUS_METRIC_NAMES,
    STATUS_NAMESPACE,
    STATUS_RANK,
    VIOLATIONS_METRIC_NAME,
)
from botocore.exceptions import BotoCoreError, ClientError

# The errors this function raises, by class name (Step Functions retries TransientAwsError).
__all__ = ["AwsRequestError", "PublishInputError", "TransientAwsError", "handler"]

EVENT_SOURCE = "cdk-model-monitor"
EVENT_DETAIL_TYPE = "Model Monitor Execution Status Change"
DEFAULT_STATUS_NAMESPACE = STATUS_NAMESPACE
STATUSES = EXECUTION_STATUSES
VIOLATIONS_FILE = "constraint_violations.json"
OUTCOME_FILE = "outcome.json"  # the analyzer's model_monitor_analyzer.jobs.outcome.OUTCOME_FILE
REPORT_FILE = "report.html"  # the analyzer's model_monitor_analyzer.report.html.page.REPORT_FILE
# Metadata key (x-amz-meta-...) of the latest copy: the start of the window it shows.
WINDOW_START_METADATA = "window-start"
# CloudWatch limits (PutMetricData API reference): 1000 metrics and 1 MB per request, values within +-2^360.
MAX_METRICS_PER_REQUEST = 1000
MAX_REQUEST_BYTES = 1_000_000
# The request is form- or CBOR-encoded depending on the SDK; JSON length x3 bounds the form encoding.
_ENCODING_FACTOR = 3
MAX_VALUE = 2.348543e108  # 2^360, the value SageMaker publishes for +inf
MIN_MAGNITUDE = 2.0**-360
MAX_AGE = timedelta(days=14)  # CloudWatch refuses datapoints older than two weeks
MAX_AHEAD = timedelta(hours=2)  # and more than two hours in the future
MAX_DIMENSIONS = 30
MAX_DIMENSION_NAME_LENGTH = 255
MAX_VALUES = 150  # Values (and Counts) per datum
MAX_REASON_LENGTH = 1024  # a failure reason in the event and the log, as SageMaker keeps its FailureReason
_MONITOR_NAMESPACES = {name: kind.metrics_folder for name, kind in MONITOR_TYPES.items()}
class PublishInputError(ValueError):
    """An input of the metrics publisher is missing or malformed; the message names it and the fix."""


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _standard_units() -> frozenset[str]:
    """CloudWatch's unit names, from the SDK's service model rather than a copied list."""
    return frozenset(client("cloudwatch").meta.service_model.shape_for("StandardUnit").enum)


def handler(event: dict, context: Any) -> dict:
    """Publish the metrics, status metrics and status event of one execution (see the module docstring)."""
    request = _read_request(event, os.environ)
    ids = {k: request[k] for k in ("endpoint_name", "schedule_name", "monitor_type", "window_id", "job_name")}
    ids["aws_request_id"] = getattr(context, "aws_request_id", None)
    receipt = _Receipt(request["receipt_uri"], request["kms_key_id"])
    now = _now()
    verdict, superseded = decide(request, receipt, ids)

    if verdict.analysed and not receipt.delivered(verdict.status):
        verdict = publish_analyzer_metrics(verdict, request, receipt, ids, now=now)
    if receipt.verdict() != verdict:
        receipt.mark(**verdict.state())  # decided: a retry or the failure path completes this, never another
    published = receipt.state.get("metrics_published", 0) if verdict.analysed else 0
    skipped = receipt.state.get("metrics_skipped", 0) if verdict.analysed else 0
    when, too_old = status_time(request, now)

    event_error = None
    if receipt.state.get("event") != verdict.status:
        try:
            event_id = put_status_event(status_event_detail(verdict, published, request, too_old), request)
            receipt.mark(event=verdict.status, event_id=event_id)
        except AwsRequestError as error:  # refused, not throttled: no event of this window can be put
            event_error = str(error)
            if verdict.status != "Failed":  # nothing of the verdict is published yet: the window fails instead
                verdict = verdict.undelivered(f"the status event was refused ({error})")
                receipt.mark(**verdict.state())
            log("ERROR", f"no status event for this window: {error}; its status is published in CloudWatch only",
                outcome="event_refused", **ids)

    if receipt.state.get("status_metrics") != verdict.status:
        if when is None:
            log("WARNING", f"status metrics not published: {too_old}", outcome="status_metrics_skipped",
                metric_time=times.iso(request["metric_time"]), **ids)
        else:
            publish_status_metrics(verdict, request, receipt, ids, when=when, now=now, skipped=skipped)
        receipt.mark(status_metrics=verdict.status)

    latest = None
    if verdict.status in ("Completed", "CompletedWithViolations") and request["latest_report_uri"]:
        latest = copy_latest_report(request, ids)

    result = {
        "status": verdict.status,
        "violation_count": verdict.violation_count,
        "metrics_published": published,
        "metrics_skipped": skipped,
        "namespace": request["namespace"],
        "status_namespace": request["status_namespace"],
        "event_id": receipt.state.get("event_id") if receipt.state.get("event") == verdict.status else None,
        "no_data_reason": verdict.no_data_reason if verdict.status == "NoData" else None,
        "failure_reason": verdict.failure_reason if verdict.status == "Failed" else None,
        "late_capture_files": request["late_capture_files"],
        "latest_report": latest,
        "status_metrics_skipped": too_old,
    }
    if event_error is not None:
        result["event_error"] = event_error
    if superseded is not None:
        result["superseded"] = superseded
    level = "ERROR" if verdict.status == "Failed" else "INFO"
    log(level, f"execution {verdict.status}: {published} metrics published", outcome=verdict.status, **result,
        **ids)
    return result


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """What a window's publication says: its status and what goes with it. Decided once per receipt (see
    ``decide``); ``analysed`` when it is a completed job's result, whose metric lines are published with it."""

    status: str
    violation_count: int | None = None
    no_data_reason: str | None = None
    failure_reason: str | None = None
    analysed: bool = False
    metrics_prefix: str | None = None

    def undelivered(self, why: str) -> Verdict:
        """This verdict as a Failed window, because part of it could not be published: ``why``, and what the
        result was, so that nothing that reaches CloudWatch or the event contradicts the other."""
        result = self.status
        if self.violation_count:
            result += f" with {self.violation_count} violation{'s' if self.violation_count != 1 else ''}"
        if self.status == "Failed":
            return self
        return replace(self, status="Failed", no_data_reason=None,
                       failure_reason=f"{why}; the window's result ({result}) is not published"[:MAX_REASON_LENGTH])

    def state(self) -> dict:
        """The verdict as the receipt keeps it."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @classmethod
    def of(cls, state: dict) -> Verdict | None:
        """The verdict a receipt keeps, if any."""
        if state.get("status") not in STATUSES:
            return None
        return cls(**{field.name: state.get(field.name) for field in fields(cls)
                      if field.name in state and state[field.name] is not None})


def decide(request: dict, receipt: _Receipt, ids: dict) -> tuple[Verdict, str | None]:
    """The window's verdict and the status of this invocation that is not published, if any.

    This invocation's verdict (the analyzer's result for a completed job, else the status given) unless the
    receipt keeps one of the same or a higher rank: that one stays, and this invocation completes its
    publication. So a retry, or the failure path after a publication that stopped part-way, never publishes a
    second status for the window; only a higher rank replaces a kept one (a window that failed, run again)."""
    incoming = incoming_verdict(request)
    kept = receipt.verdict()
    if kept is None or STATUS_RANK[incoming.status] > STATUS_RANK[kept.status]:
        if kept is not None:
            log("INFO", f"window published as {kept.status} before; {incoming.status} replaces it",
                kept_status=kept.status, **ids)
        return incoming, None
    if incoming.status == kept.status:
        return kept, None
    log("WARNING", f"window already decided as {kept.status}; this {incoming.status} is not published",
        kept_status=kept.status, outcome="superseded", **ids)
    return kept, incoming.status


def incoming_verdict(request: dict) -> Verdict:
    """The verdict this invocation brings: for a completed job, the analyzer's (see 1. in the module docstring)."""
    if request["status"] != "Completed":
        return Verdict(status=request["status"],
                       no_data_reason=request["no_data_reason"] if request["status"] == "NoData" else None,
                       failure_reason=request["failure_reason"] if request["status"] == "Failed" else None)
    status, no_data_reason = analyzer_outcome(request["report_uri"])
    violations = None
    if status in ("Completed", "CompletedWithViolations"):
        violations = violation_count(f"{request['report_uri']}/{VIOLATIONS_FILE}")
        if status == "Completed" and violations:
            status = "CompletedWithViolations"
    return Verdict(status=status, violation_count=violations, no_data_reason=no_data_reason, analysed=True,
                   metrics_prefix=request["metrics_prefix"])


def publish_analyzer_metrics(verdict: Verdict, request: dict, receipt: _Receipt, ids: dict, *,
                             now: datetime) -> Verdict:
    """Send the analyzer's metric lines of a completed job; the verdict, or a Failed one when CloudWatch
    refuses them for a reason other than their data (access denied, ...): alarms on them would never fire."""
    if verdict.metrics_prefix is None:
        log("WARNING", "no metrics_prefix given: the analyzer's metrics are not published", **ids)
        return verdict
    data, skipped = read_metric_data(verdict.metrics_prefix, request, now=now)
    try:
        published, refused = publish_metric_data(request["namespace"], data, receipt, ids)
    except AwsRequestError as error:
        log("ERROR", f"the analyzer's metrics are not published: {error}", outcome="metrics_refused",
            error_code=error.code, **ids)
        receipt.state.update(metrics_published=receipt.state.get("metrics_sent", 0),
                             metrics_skipped=skipped + receipt.state.get("metrics_refused", 0))
        return verdict.undelivered(f"CloudWatch refused the analyzer's metrics ({error})")
    receipt.state.update(metrics_published=published, metrics_skipped=skipped + refused)
    return verdict


def publish_status_metrics(verdict: Verdict, request: dict, receipt: _Receipt, ids: dict, *, when: datetime,
                           now: datetime, skipped: int) -> None:
    """Send the status metrics of ``verdict``. When CloudWatch refuses them (not throttling), a verdict whose event
    went out is followed by a Failed event saying so, and the error is raised: the state machine then records
    ExecutionFailed itself, so CloudWatch and the last event agree."""
    try:
        _put_metric_data(request["status_namespace"], status_metric_data(verdict, request, when=when, now=now,
                                                                          skipped=skipped))
    except AwsRequestError as error:
        if verdict.status != "Failed":
            failed = verdict.undelivered(f"CloudWatch refused the status metrics ({error})")
            receipt.mark(**failed.state())
            try:
                event_id = put_status_event(status_event_detail(failed, receipt.state.get("metrics_published", 0),
                                                                request, None), request)
                receipt.mark(event=failed.status, event_id=event_id)
            except (AwsRequestError, TransientAwsError) as event_error:
                log("ERROR", f"no Failed event after the refused status metrics: {event_error}", **ids)
        raise


def _read_request(event: dict, environ: os._Environ | dict) -> dict:
    def text(key: str) -> str | None:
        value = event.get(key)
        return value.strip() or None if isinstance(value, str) else value

    status = text("status")
    if status not in STATUSES:
        raise PublishInputError(
            f"status={status!r} is not an execution status: use one of {', '.join(STATUSES)}"
        )
    schedule = text("schedule_name")
    if not schedule:
        raise PublishInputError("schedule_name is missing: pass the monitoring schedule's name")
    report_uri = _s3_uri(text("report_uri"), "report_uri")
    window = event.get("window") or {}
    if not isinstance(window, dict):
        raise PublishInputError("window must be the window planner's output object, or left out")
    endpoint = text("endpoint_name") or window.get("endpoint_name")
    monitor_type = _kebab(text("monitor_type") or window.get("monitor_type") or DEFAULT_MONITOR_TYPE)
    namespace = text("namespace") or environ.get("METRICS_NAMESPACE", "").strip() or None
    if namespace is None:
        if monitor_type not in _MONITOR_NAMESPACES:
            raise PublishInputError(
                f"monitor_type={monitor_type!r} has no default namespace: use one of "
                f"{', '.join(_MONITOR_NAMESPACES)} or pass namespace"
            )
        kind = "Endpoints" if endpoint else "ModelMonitoring"
        namespace = f"aws/sagemaker/{kind}/{_MONITOR_NAMESPACES[monitor_type]}"
    metric_time = window.get("metric_time") or window.get("start")
    metrics_prefix = text("metrics_prefix")
    receipt_uri = text("receipt_uri") or window.get("publication_receipt_uri")
    latest_report_uri = text("latest_report_uri")
    return {
        "status": status,
        "report_uri": report_uri,
        "endpoint_name": endpoint,
        "schedule_name": schedule,
        "monitor_type": monitor_type,
        "namespace": namespace,
        "status_namespace": environ.get("STATUS_NAMESPACE", "").strip() or DEFAULT_STATUS_NAMESPACE,
        "event_bus_name": environ.get("EVENT_BUS_NAME", "").strip() or "default",
        "kms_key_id": environ.get("KMS_KEY_ID", "").strip() or None,
        "metrics_prefix": _s3_uri(metrics_prefix, "metrics_prefix") if metrics_prefix else None,
        "receipt_uri": _s3_uri(receipt_uri, "receipt_uri") if receipt_uri else None,
        "metric_time": _parse_time(metric_time, "window.metric_time") if metric_time else None,
        "window_id": window.get("window_id"),
        "window_start": window.get("start"),
        "window_end": window.get("end"),
        "job_name": window.get("job_name"),
        "failure_reason": _failure_reason(event.get("failure_reason")),
        "no_data_reason": text("no_data_reason") or window.get("no_data_reason"),
        "late_capture_files": _count(window.get("late_capture_files"), "window.late_capture_files"),
        "late_window_start": _parse_time(window["late_window_start"], "window.late_window_start")
        if window.get("late_window_start") else None,
        "processing_job_arn": text("processing_job_arn"),
        "latest_report_uri": _s3_uri(latest_report_uri, "latest_report_uri") if latest_report_uri else None,
    }


def _count(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PublishInputError(f"{name}={value!r} is not a count: pass the window planner's output")
    return value


def _kebab(name: str) -> str:
    """``DataQuality`` (SageMaker's MonitoringType) and ``data-quality`` both become ``data-quality``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.strip()).lower()


def _failure_reason(value: Any) -> str | None:
    """The failure text; a Step Functions error ``Cause`` is unwrapped: a DescribeProcessingJob body (what a failed
    ``createProcessingJob.sync`` leaves) as its summary (``job_summary``), a Lambda error as its message."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("Cause") or value.get("FailureReason") or json.dumps(value)
    text = str(value)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        if "ProcessingJobStatus" in parsed or "ProcessingJobName" in parsed:
            text = job_summary(parsed)
        else:
            text = str(parsed.get("errorMessage") or parsed.get("ExitMessage") or parsed.get("FailureReason")
                       or text)
    return text[:MAX_REASON_LENGTH]


def job_summary(job: dict) -> str:
    """``processing job <name> <status> after <n> min: <why>`` from a DescribeProcessingJob body.

    Why: the container's own message first (its /opt/ml/output/message, which SageMaker returns as ExitMessage:
    the analyzer says there what went wrong), then SageMaker's FailureReason (often only "AlgorithmError: See
    job logs for more information"); a job stopped without either is said to have reached its maximum run time
    or to have been stopped (StopProcessingJob, or its execution ended)."""
    name = job.get("ProcessingJobName") or "(unnamed)"
    status = job.get("ProcessingJobStatus") or "ended"
    started = _job_time(job.get("ProcessingStartTime")) or _job_time(job.get("CreationTime"))
    ended = _job_time(job.get("ProcessingEndTime")) or _job_time(job.get("LastModifiedTime"))
    minutes = (ended - started).total_seconds() / 60 if started and ended and ended >= started else None
    own = str(job.get("ExitMessage") or "").strip()
    service = str(job.get("FailureReason") or "").strip()
    reasons = [own] if own else []
    if service and service != own:
        reasons.append(f"(SageMaker: {service})" if own else service)
    if not reasons:
        limit = (job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        if status == "Stopped" and isinstance(limit, int | float) and minutes is not None \
                and minutes * 60 >= limit:
            reasons.append(f"it reached its maximum run time ({limit:.0f} s)")
        elif status == "Stopped":
            reasons.append("stopped by StopProcessingJob (a user, or its execution ending)")
        else:
            reasons.append("no reason given")
    took = "" if minutes is None else " after less than a minute" if minutes < 1 else f" after {minutes:.0f} min"
    return f"processing job {name} {status}{took}: {' '.join(reasons)}"


def _job_time(value: Any) -> datetime | None:
    """A DescribeProcessingJob time as Step Functions passes it (epoch seconds or milliseconds) or as text."""
    if isinstance(value, str) and "T" not in value:
        value = value.strip().replace(" ", "T", 1)  # "2026-11-25 13:00:00+00:00"
    return _timestamp(value)


def analyzer_outcome(report_uri: str) -> tuple[str, str | None]:
    """(status, no-data reason) of a window whose processing job completed, from the analyzer's outcome file in
    ``report_uri`` (see 1. in the module docstring)."""
    uri = f"{report_uri}/{OUTCOME_FILE}"
    body = read_object_if_present(uri)
    if body is not None:
        try:
            outcome = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            outcome = None
        if isinstance(outcome, dict) and outcome.get("status") in ANALYZER_STATUSES:
            if outcome["status"] != "NoData":
                return outcome["status"], None
            return "NoData", str(outcome.get("no_data_reason") or "unknown")[:256]
        log("WARNING", f"{uri} is not an analyzer outcome document: the window is published as Completed",
            outcome_uri=uri)
    else:
        log("WARNING", f"{uri} does not exist (an analyzer image that does not write it): the window is published "
            "as Completed", outcome_uri=uri)
    return "Completed", None


def violation_count(uri: str) -> int | None:
    """Number of entries in ``violations`` of constraint_violations.json, or None when the file is absent."""
    body = read_object_if_present(uri)
    if body is None:
        return None
    try:
        violations = json.loads(body).get("violations", [])
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        log("WARNING", f"{uri} is not a constraint violations document; violation count unknown")
        return None
    return len(violations) if isinstance(violations, list) else None


def copy_latest_report(request: dict, ids: dict) -> str:
    """Copy the window's report.html to ``latest_report_uri`` unless a newer window's copy is there.

    Returns what happened: ``copied``, ``absent`` (the window has no report.html), ``older`` (the copy in
    place shows a later window) or ``failed`` (logged with the reason; the window's outcome is unchanged).
    """
    source = f"{request['report_uri']}/{REPORT_FILE}"
    target = request["latest_report_uri"]
    source_bucket, source_key = split_s3_uri(source)
    bucket, key = split_s3_uri(target)
    s3 = client("s3")
    fields = {"report_uri": source, "latest_report_uri": target, **ids}
    try:
        if not object_exists(source_bucket, source_key):  # the window wrote no report.html (not an error)
            log("INFO", f"{source} does not exist: the latest report is left as it is", outcome="absent", **fields)
            return "absent"
        shown = _latest_window_start(s3, bucket, key)
        this = times.parse_time(request["window_start"])
        if shown is not None and this is not None and this < shown:
            log("INFO", f"{target} shows a later window ({times.iso(shown)}); left as it is",
                outcome="older", **fields)
            return "older"
        kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": request["kms_key_id"]} \
            if request["kms_key_id"] else {}
        s3.copy_object(
            Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key},
            MetadataDirective="REPLACE",
            Metadata={WINDOW_START_METADATA: times.iso(this)} if this is not None else {},
            # opened from the S3 console as a page, and never served from a stale cache
            ContentType="text/html; charset=utf-8", CacheControl="no-cache", **kms,
        )
    except (ClientError, BotoCoreError) as error:
        return _copy_failed(error, fields)
    log("INFO", f"{source} copied to {target}", outcome="copied", **fields)
    return "copied"


def _latest_window_start(s3: Any, bucket: str, key: str) -> datetime | None:
    """The window start recorded on the latest copy; None when there is no copy or it records none."""
    if not object_exists(bucket, key):
        return None
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if is_not_found(error):  # removed since it was listed
            return None
        raise
    return times.parse_time(head.get("Metadata", {}).get(WINDOW_START_METADATA))


def _copy_failed(error: Exception, fields: dict) -> str:
    code, message = error_code(error)
    log("ERROR", f"copying {fields['report_uri']} to {fields['latest_report_uri']} failed: {code}: {message}; "
        "the window's metrics and status are published all the same", outcome="latest_report_failed",
        error_code=code, **fields)
    return "failed"


def read_metric_data(prefix_uri: str, request: dict, *, now: datetime) -> tuple[list[dict], int]:
    """All usable metric lines under ``prefix_uri`` as PutMetricData entries, and how many lines were skipped."""
    bucket, prefix = split_s3_uri(prefix_uri)
    s3 = client("s3")
    data, skipped = [], 0
    try:
        keys = sorted(
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
            )
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
        )
        for key in keys:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", errors="replace")
            for number, line in enumerate(body.splitlines(), start=1):
                if not line.strip():
                    continue
                datum, problem = metric_datum(line, request, now=now)
                if datum is None:
                    skipped += 1
                    log(
                        "WARNING", f"skipped metric line: {problem}", file=f"s3://{bucket}/{key}", line=number
                    )
                else:
                    data.append(datum)
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"reading the metric lines under {prefix_uri}") from error
    if not keys:
        log("WARNING", f"no metric files under {prefix_uri}", metrics_prefix=prefix_uri)
    return data, skipped


def finite_value(value: Any) -> float | None:
    """A value CloudWatch accepts: NaN -> None (skip), |v| > 2^360 (incl. inf) -> +-2.348543e108, |v| < 2^-360 -> 0."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    if abs(number) > MAX_VALUE:
        return math.copysign(MAX_VALUE, number)
    return 0.0 if abs(number) < MIN_MAGNITUDE else number


def metric_datum(line: str, request: dict, *, now: datetime) -> tuple[dict | None, str | None]:
    """One analyzer metric line as a PutMetricData entry, or (None, why it cannot be published)."""
    try:
        source = json.loads(line)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg})"
    if (
        not isinstance(source, dict)
        or not isinstance(source.get("MetricName"), str)
        or not source["MetricName"]
    ):
        return None, "no MetricName"
    datum: dict[str, Any] = {"MetricName": cloudwatch_metric_name(source["MetricName"])}
    if datum["MetricName"] != source["MetricName"]:
        log("WARNING", f"metric name over {MAX_METRIC_NAME_LENGTH} characters or with characters other than printable "
            f"ASCII published as {datum['MetricName']}", metric_name=source["MetricName"][:1024])

    stamp = source.get("Timestamp")
    when = _timestamp(stamp) if stamp not in (None, "") else request["metric_time"]
    if when is None:
        return None, f"Timestamp {stamp!r} is not a time (and the window gives no metric_time)"
    if not now - MAX_AGE < when < now + MAX_AHEAD:
        return (
            None,
            f"Timestamp {when.isoformat()} is outside what CloudWatch accepts (2 weeks back, 2 h ahead)",
        )
    datum["Timestamp"] = when

    dimensions = source.get("Dimensions")
    if dimensions in (None, []):
        dimensions = _default_dimensions(request)
    if not isinstance(dimensions, list) or not all(
        isinstance(d, dict)
        and isinstance(d.get("Name"), str)
        and d["Name"]
        and isinstance(d.get("Value"), str)
        and d["Value"]
        for d in dimensions
    ):
        return None, "Dimensions must be a list of {Name, Value} with non-empty strings"
    if len(dimensions) > MAX_DIMENSIONS:
        return None, f"{len(dimensions)} Dimensions: CloudWatch takes at most {MAX_DIMENSIONS}"
    if any(len(d["Name"]) > MAX_DIMENSION_NAME_LENGTH for d in dimensions):
        return None, f"a dimension name over {MAX_DIMENSION_NAME_LENGTH} characters"
    # a value CloudWatch would refuse (too long, not printable ASCII, blank) is published as the analyzer and the
    # constructs name it (_shared.names.cloudwatch_dimension_value)
    datum["Dimensions"] = [{"Name": d["Name"], "Value": cloudwatch_dimension_value(d["Value"])} for d in dimensions]

    if "Value" in source:
        value = finite_value(source["Value"])
        if value is None:
            return None, f"Value {source['Value']!r} is not a number"
        datum["Value"] = value
    elif isinstance(source.get("StatisticValues"), dict):
        stats = {
            k: finite_value(source["StatisticValues"].get(k))
            for k in ("SampleCount", "Sum", "Minimum", "Maximum")
        }
        if any(v is None for v in stats.values()) or stats["SampleCount"] <= 0:
            return None, "StatisticValues needs numeric SampleCount (> 0), Sum, Minimum and Maximum"
        datum["StatisticValues"] = stats
    elif isinstance(source.get("Values"), list):
        counts = (
            source.get("Counts") if isinstance(source.get("Counts"), list) else [1.0] * len(source["Values"])
        )
        pairs = [(finite_value(v), finite_value(c)) for v, c in zip(source["Values"], counts, strict=False)]
        pairs = [(v, c) for v, c in pairs if v is not None and c is not None]
        if not pairs:
            return None, "Values holds no number"
        datum["Values"], datum["Counts"] = [v for v, _ in pairs], [c for _, c in pairs]
    else:
        return None, "no Value, StatisticValues or Values"

    unit = source.get("Unit")
    if unit is not None:
        if unit in _standard_units():
            datum["Unit"] = unit
        else:
            log(
                "WARNING",
                f"unit {unit!r} is not a CloudWatch unit; published without unit",
                metric_name=datum["MetricName"],
            )
    if source.get("StorageResolution") in (1, 60):
        datum["StorageResolution"] = source["StorageResolution"]
    return datum, None


def _timestamp(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds, or ISO-8601 text, as an aware UTC time; None for anything else
    (NaN, infinities, years beyond datetime's range)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return times.parse_time(value) if isinstance(value, str) else None


def _default_dimensions(request: dict) -> list[dict]:
    dims = [{"Name": "Endpoint", "Value": request["endpoint_name"]}] if request["endpoint_name"] else []
    return [*dims, {"Name": "MonitoringSchedule", "Value": request["schedule_name"]}]


def split_values(datum: dict) -> list[dict]:
    """A datum with more than MAX_VALUES Values as several data of at most MAX_VALUES each (same name,
    dimensions and time: CloudWatch aggregates them into the same statistics); any other datum unchanged."""
    values = datum.get("Values")
    if values is None or len(values) <= MAX_VALUES:
        return [datum]
    return [
        {**datum, "Values": values[i : i + MAX_VALUES], "Counts": datum["Counts"][i : i + MAX_VALUES]}
        for i in range(0, len(values), MAX_VALUES)
    ]


def metric_batches(data: list[dict]) -> list[list[dict]]:
    """Consecutive batches of at most MAX_METRICS_PER_REQUEST entries and about MAX_REQUEST_BYTES each."""
    batches: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    for datum in data:
        datum_size = len(json.dumps(datum, default=str)) * _ENCODING_FACTOR
        if current and (len(current) == MAX_METRICS_PER_REQUEST or size + datum_size > MAX_REQUEST_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(datum)
        size += datum_size
    if current:
        batches.append(current)
    return batches


def publish_metric_data(namespace: str, data: list[dict], receipt: _Receipt, ids: dict) -> tuple[int, int]:
    """Send ``data`` in batches, skipping the batches the receipt records as sent; returns how many data CloudWatch
    took and how many it refused as invalid (now or in an earlier attempt).

    A batch refused as invalid (CloudWatch's data errors: InvalidParameterValue, ...) is sent again one datum at a
    time, so one datum CloudWatch will not take costs only itself. Any other refusal (access denied, ...) is not
    about the data: it raises ``AwsRequestError``, as throttling raises ``TransientAwsError``."""
    data = [part for datum in data for part in split_values(datum)]
    batches = metric_batches(data)
    fingerprint = hashlib.sha256(json.dumps([namespace, data], default=str).encode()).hexdigest()
    if receipt.state.get("metrics_fingerprint") != fingerprint:
        if receipt.state.get("metric_batches_sent"):
            log(
                "WARNING", "metric lines changed since the last attempt; publishing all of them again", **ids
            )
        receipt.state.update(metrics_fingerprint=fingerprint, metric_batches_sent=0, metrics_sent=0,
                             metrics_refused=0, metric_batch_resend=None)
    for index, batch in enumerate(batches):
        if index < receipt.state["metric_batches_sent"]:
            continue
        if _resend_progress(receipt, index) is not None:  # refused before, and part of it sent one by one since
            refused = _resend_one_by_one(namespace, batch, index, receipt, ids)
        else:
            try:
                _put_metric_data(namespace, batch)
                refused = 0
            except AwsRequestError as error:
                if error.code not in _data_error_codes():
                    raise
                refused = _resend_one_by_one(namespace, batch, index, receipt, ids)
        receipt.mark(metric_batches_sent=index + 1, metric_batch_resend=None,
                     metrics_sent=receipt.state.get("metrics_sent", 0) + len(batch) - refused,
                     metrics_refused=receipt.state.get("metrics_refused", 0) + refused)
    return receipt.state.get("metrics_sent", 0), receipt.state.get("metrics_refused", 0)


def _resend_progress(receipt: _Receipt, index: int) -> dict | None:
    """How far batch ``index`` got when it was last sent one datum at a time: ``{"batch", "done", "refused"}``
    (the first ``done`` data were sent or refused, ``refused`` of them refused), or None."""
    progress = receipt.state.get("metric_batch_resend")
    if isinstance(progress, dict) and progress.get("batch") == index and isinstance(progress.get("done"), int) \
            and isinstance(progress.get("refused"), int):
        return progress
    return None


def _resend_one_by_one(namespace: str, batch: list[dict], index: int, receipt: _Receipt, ids: dict) -> int:
    """Send batch ``index``, which CloudWatch refused as invalid, one datum at a time from where an earlier attempt
    stopped; returns how many of its data CloudWatch refused. Each datum's outcome is recorded in the receipt
    before the next is sent, so a retry after a throttle (or any stop) never sends a datum CloudWatch took
    (its Sum and SampleCount would count twice); at most the one datum in flight when an invocation is killed
    can be sent again."""
    progress = _resend_progress(receipt, index) or {"batch": index, "done": 0, "refused": 0}
    for position in range(progress["done"], len(batch)):
        accepted = _put_one(namespace, batch[position], ids)
        progress = {"batch": index, "done": position + 1, "refused": progress["refused"] + (not accepted)}
        receipt.mark(metric_batch_resend=progress)
    return progress["refused"]


@functools.cache
def _data_error_codes() -> frozenset[str]:
    """The codes of PutMetricData's errors about the data sent (the sender's 400s of its service model:
    InvalidParameterValue, InvalidParameterCombination, MissingParameter), rather than a copied list."""
    operation = client("cloudwatch").meta.service_model.operation_model("PutMetricData")
    return frozenset(
        shape.metadata["error"]["code"] for shape in operation.error_shapes
        if shape.metadata.get("error", {}).get("senderFault") and shape.metadata["error"].get("httpStatusCode") == 400
    )


def _put_one(namespace: str, datum: dict, ids: dict) -> bool:
    """Send one datum; False (logged) when CloudWatch refuses it as invalid. Other errors raise."""
    try:
        _put_metric_data(namespace, [datum])
        return True
    except AwsRequestError as error:
        if error.code not in _data_error_codes():
            raise
        log("WARNING", f"CloudWatch refused metric {datum['MetricName']}: {error}", outcome="refused",
            metric_name=datum["MetricName"], **ids)
        return False


def _put_metric_data(namespace: str, data: list[dict]) -> None:
    try:
        client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=data)
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"PutMetricData to {namespace} ({len(data)} metrics)") from error


def status_time(request: dict, now: datetime) -> tuple[datetime | None, str | None]:
    """(the time the status metrics are stamped with, None) or (None, why they cannot be published).

    The window's metric_time; a window CloudWatch takes no datapoint of (more than two weeks back: a window run
    again weeks later) has no status metrics rather than ones stamped now, which would count an old window in the
    current period of the alarms (violations, heartbeat). Without a window (its planning failed) the failure is
    now."""
    when = request["metric_time"]
    if when is None:
        return now, None
    if now - MAX_AGE < when < now + MAX_AHEAD:
        return when, None
    return None, (f"the window's metric time {times.iso(when)} is outside what CloudWatch accepts (2 weeks back, "
                  "2 h ahead); stamped now it would count in the current period of the alarms")


def status_metric_data(verdict: Verdict, request: dict, *, when: datetime, now: datetime,
                       skipped: int = 0) -> list[dict]:
    """One metric per status (1 for the verdict's, 0 for the others), ConstraintViolations when known and
    MetricsSkipped (the metric lines that could not be sent), stamped ``when``; LateCaptureFiles at the late
    window's start when CloudWatch takes that time."""
    dims = [*_default_dimensions(request), {"Name": "MonitorType", "Value": request["monitor_type"]}]
    data = [
        {
            "MetricName": name,
            "Dimensions": dims,
            "Timestamp": when,
            "Value": float(s == verdict.status),
            "Unit": "Count",
        }
        for s, name in STATUS_METRIC_NAMES.items()
    ]
    data.append({"MetricName": SKIPPED_METRIC_NAME, "Dimensions": dims, "Timestamp": when,
                 "Value": float(skipped), "Unit": "Count"})
    if verdict.violation_count is not None:
        data.append(
            {
                "MetricName": VIOLATIONS_METRIC_NAME,
                "Dimensions": dims,
                "Timestamp": when,
                "Value": float(verdict.violation_count),
                "Unit": "Count",
            }
        )
    if request.get("late_capture_files") is not None:
        late_when = request["late_window_start"] or when
        if now - MAX_AGE < late_when < now + MAX_AHEAD:
            data.append({"MetricName": LATE_CAPTURES_METRIC_NAME, "Dimensions": dims, "Timestamp": late_when,
                         "Value": float(request["late_capture_files"]), "Unit": "Count"})
        else:
            log("WARNING", f"LateCaptureFiles not published: the late window's start {times.iso(late_when)} is "
                "outside what CloudWatch accepts", schedule_name=request["schedule_name"])
    return data


def status_event_detail(verdict: Verdict, published: int, request: dict, status_metrics_skipped: str | None) -> dict:
    """The event's detail: camelCase like AWS's own events; unknown fields are left out."""
    status = verdict.status
    detail = {
        "status": status,
        "endpointName": request["endpoint_name"],
        "monitoringScheduleName": request["schedule_name"],
        "monitorType": request["monitor_type"],
        "reportUri": request["report_uri"],
        "windowId": request["window_id"],
        "windowStart": request["window_start"],
        "windowEnd": request["window_end"],
        "metricTime": request["metric_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
        if request["metric_time"]
        else None,
        "processingJobName": request["job_name"],
        "violationCount": verdict.violation_count,
        "failureReason": verdict.failure_reason if status == "Failed" else None,
        "noDataReason": verdict.no_data_reason if status == "NoData" else None,
        "lateCaptureFiles": request.get("late_capture_files"),
        "lateWindowStart": times.iso(request["late_window_start"]) if request.get("late_window_start") else None,
        "metricsPublished": published,
        "metricsNamespace": request["namespace"],
        "statusMetricsSkipped": status_metrics_skipped,
    }
    return {k: v for k, v in detail.items() if v is not None}


def put_status_event(detail: dict, request: dict) -> str:
    """Put the status event on EVENT_BUS_NAME and return its id."""
    entry = {
        "Source": EVENT_SOURCE,
        "DetailType": EVENT_DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "EventBusName": request["event_bus_name"],
        "Resources": [],
    }
    if request["processing_job_arn"]:
        entry["Resources"] = [request["processing_job_arn"]]
    try:
        response = client("events").put_events(Entries=[entry])
    except (ClientError, BotoCoreError) as error:
        raise aws_error(error, f"PutEvents to {request['event_bus_name']}") from error
    [result] = response["Entries"]
    if response.get("FailedEntryCount") or "EventId" not in result:
        code, message = result.get("ErrorCode", "Unknown"), result.get("ErrorMessage", "")
        transient = code in THROTTLING_CODES
        log(
            "ERROR",
            f"PutEvents rejected the status event: {code}: {message}",
            outcome="failed",
            error_code=code,
        )
        raise (TransientAwsError if transient else AwsRequestError)(
            f"PutEvents to {request['event_bus_name']} rejected the status event: {code}: {message}", code
        )
    return result["EventId"]


class _Receipt:
    """Progress of one publication kept in S3, so a retried invocation sends only what is missing: the window's
    verdict (``Verdict.state``), the metric batches sent (and how far a refused batch sent again one datum at a time
    got), and the status its event and status metrics were sent for."""

    def __init__(self, uri: str | None, kms_key_id: str | None):
        self.uri, self.kms_key_id, self.state = uri, kms_key_id, {}
        if uri:
            try:
                body = read_object_if_present(uri)
                self.state = json.loads(body) if body is not None else {}
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                log("WARNING", f"receipt {uri} unreadable ({error}); publishing everything", receipt_uri=uri)
            if not isinstance(self.state, dict):
                log("WARNING", f"receipt {uri} is not an object; publishing everything", receipt_uri=uri)
                self.state = {}
        self.state.setdefault("metric_batches_sent", 0)

    def verdict(self) -> Verdict | None:
        return Verdict.of(self.state)

    def delivered(self, status: str) -> bool:
        """Whether any of the window's publication of ``status`` went out (its event or its status metrics)."""
        return status in (self.state.get("event"), self.state.get("status_metrics"))

    def mark(self, **progress: Any) -> None:
        self.state.update(progress)
        if not self.uri:
            return
        bucket, key = split_s3_uri(self.uri)
        kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id} if self.kms_key_id else {}
        try:
            client("s3").put_object(
                Bucket=bucket,
                Key=key,
                Body=json.dumps(self.state).encode(),
                ContentType="application/json",
                **kms,
            )
        except (ClientError, BotoCoreError) as error:
            raise aws_error(error, f"PutObject of the receipt {self.uri}") from error


def _parse_time(value: Any, name: str) -> datetime:
    parsed = times.parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        raise PublishInputError(f"{name}={value!r} is not an ISO-8601 time: use e.g. 2026-11-25T12:00:00Z")
    return parsed


def _s3_uri(uri: Any, name: str) -> str:
    if not isinstance(uri, str) or not S3_URI.match(uri.strip()):
        raise PublishInputError(f"{name}={uri!r} is not an S3 URI: use s3://<bucket>/<prefix>")
    return uri.strip().rstrip("/")
