"""Start a SageMaker pipeline execution (retraining) when a monitoring alarm goes into ALARM, exactly once.

Trigger: an EventBridge rule on ``CloudWatch Alarm State Change`` events (state ALARM) of our alarms, invoked
asynchronously (retries, then a dead-letter queue). Invocations may run side by side (no concurrency is reserved:
an account whose quota is 10 refuses any reservation), so the checks and the start run under a lease on one S3
object per pipeline (``LOCK_S3_URI``, ``_shared.lease``): one invocation at a time decides, the others wait for it.

Input: the EventBridge event as delivered, e.g.::

    {"id": "...", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
     "time": "...", "resources": ["arn:aws:cloudwatch:...:alarm:<name>"],
     "detail": {"alarmName": "...", "state": {"value": "ALARM", "timestamp": "...", "reason": "...",
                "reasonData": "{...}"}, "previousState": {...}, "configuration": {"metrics": [...]}}}

Output: the outcome, also logged as one JSON line and published to ``TOPIC_ARN``::

    {"outcome": "started" | "skipped" | "failed", "reason": "...", "pipeline_name": "...",
     "execution_arn": "..." (started) | "blocking_execution_arn": "..." (skipped), "alarm_name": "...", ...}

Skip reasons: ``not_an_alarm_event``, ``state_not_alarm`` (neither is published to SNS),
``duplicate_delivery`` (an execution for this very event exists), ``pipeline_running`` (an execution is
Executing or Stopping), ``cooldown`` (an execution started less than ``COOLDOWN_SECONDS`` ago).

Exactly once: the ClientRequestToken is derived from the alarm ARN and the event id, so SageMaker itself
de-duplicates a redelivered event; because that is not visible in every environment, the function also lists
the pipeline's recent executions and recognises its own by their display name (alarm name + digest of alarm
ARN and event id). A flapping alarm produces new event ids, which the running / cooldown checks stop. Two
invocations at once (two alarms, or a redelivery during the first run) take turns under the lease, and the
holder leaves the execution it started in the lease object, so the next one sees it even before SageMaker
lists it. An invocation that waits longer than it can (a holder that died keeps the lease until it expires)
raises ``RetrainingBusyError``: the asynchronous retry runs it again later.

Environment:
    PIPELINE_NAME        required; name or ARN of the SageMaker pipeline to start.
    COOLDOWN_SECONDS     optional, default 3600; no new execution within this time after the last one.
    TOPIC_ARN            optional; SNS topic that receives every started / skipped / failed outcome.
    PIPELINE_PARAMETERS  optional JSON object {"<pipeline parameter>": "<trigger field or dotted event path>"}.
                         Trigger fields: event_id, event_time, alarm_name, alarm_arn, state, previous_state,
                         reason, alarm_time, window_start, endpoint_name, schedule_name, model, report_uri.
                         A dotted path such as "detail.configuration.description" reads the event itself.
                         Parameters whose value is unknown are left out (the pipeline's default applies).
    MODEL_NAME           optional; value of the ``model`` field (default: the alarm metric's Endpoint dimension).
    REPORT_S3_URI        optional; report root, ``report_uri`` = <root>/<endpoint>/<schedule> when both are known.
    LOCK_S3_URI          optional; ``s3://bucket/key`` of the pipeline's lease object. Without it the function takes
                         no lease (a deployment that reserves concurrency 1 instead).
    LOCK_LEASE_SECONDS   optional, default 120; how long a holder keeps the lease at most (more than the timeout).
    LOCK_WAIT_SECONDS    optional, default 40; how long to wait for the lease (less when the invocation has less
                         time left).

Errors: a missing pipeline raises ``PipelineNotFoundError`` and any other failed AWS call raises
``RetrainTriggerError``, each with a one-line message, so that the asynchronous invocation is retried and
finally lands in the dead-letter queue.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from _shared import lease, times
from _shared.aws import client, error_code
from _shared.logs import log
from botocore.exceptions import BotoCoreError, ClientError

ALARM_DETAIL_TYPE = "CloudWatch Alarm State Change"
DEFAULT_COOLDOWN_SECONDS = 3600
DEFAULT_LEASE_SECONDS = 120
DEFAULT_LOCK_WAIT_SECONDS = 40
# Time an invocation keeps for its own work after waiting for the lease (list, start, publish).
_WORK_RESERVE_SECONDS = 15
# Executions still running after this long are not looked for; pipelines that run longer are unusual.
RUNNING_SCAN_DAYS = 30
MAX_EXECUTIONS_SCANNED = 1000
_BUSY_STATUSES = frozenset({"Executing", "Stopping"})
_NOT_PUBLISHED = frozenset({"not_an_alarm_event", "state_not_alarm"})
_TRIGGER_FIELDS = (
    "event_id",
    "event_time",
    "alarm_name",
    "alarm_arn",
    "state",
    "previous_state",
    "reason",
    "alarm_time",
    "window_start",
    "endpoint_name",
    "schedule_name",
    "model",
    "report_uri",
)


class RetrainTriggerError(RuntimeError):
    """A failure the asynchronous retry (and then the dead-letter queue) should handle."""


class PipelineNotFoundError(RetrainTriggerError):
    """PIPELINE_NAME names a pipeline that does not exist in this account and region."""


class ConfigurationError(RetrainTriggerError):
    """An environment variable of the function is missing or malformed."""


class RetrainingBusyError(RetrainTriggerError):
    """Another invocation held the pipeline's lease for longer than this one could wait; retried later."""


def _now() -> datetime:
    """The current time; tests replace this function to move through the cooldown."""
    return datetime.now(UTC)


def handler(event: dict, context: Any) -> dict:
    """Start the retraining pipeline for an ALARM state change unless a duplicate, running or cooldown rule applies."""
    request_id = getattr(context, "aws_request_id", None)
    config = _read_config(os.environ)
    trigger = trigger_fields(event, model_name=config["model_name"], report_root=config["report_root"])
    base = {
        "pipeline_name": config["pipeline_name"],
        "alarm_name": trigger["alarm_name"],
        "alarm_arn": trigger["alarm_arn"],
        "event_id": trigger["event_id"],
        "aws_request_id": request_id,
    }

    if event.get("detail-type") != ALARM_DETAIL_TYPE or not trigger["alarm_name"]:
        return _finish({**base, "outcome": "skipped", "reason": "not_an_alarm_event"}, config)
    if trigger["state"] != "ALARM":
        return _finish(
            {**base, "outcome": "skipped", "reason": "state_not_alarm", "state": trigger["state"]}, config
        )

    digest = event_digest(trigger["alarm_arn"], trigger["event_id"])
    display_name = execution_display_name(trigger["alarm_name"], digest)
    parameters, omitted = pipeline_parameters(config["parameter_map"], trigger, event)
    base = {**base, "display_name": display_name, "parameters": parameters}
    if omitted:
        base["parameters_omitted"] = omitted

    held = _take_lease(config, base, request_id, context)
    started: dict | None = None
    try:
        now = _now()
        try:
            recent = _recent_executions(config["pipeline_name"], now)
        except (ClientError, BotoCoreError) as error:
            return _fail(error, base, config, operation="ListPipelineExecutions")
        remembered = _remembered_execution(held)
        if remembered is not None and all(
            e.get("PipelineExecutionArn") != remembered["PipelineExecutionArn"] for e in recent
        ):
            recent = [remembered, *recent]  # started by the previous holder, not listed yet
        blocking = blocking_execution(recent, display_name=display_name, now=now, cooldown=config["cooldown"])
        if blocking is not None:
            reason, execution = blocking
            return _finish(
                {
                    **base,
                    "outcome": "skipped",
                    "reason": reason,
                    "blocking_execution_arn": execution["PipelineExecutionArn"],
                    "blocking_execution_status": execution.get("PipelineExecutionStatus"),
                    "blocking_execution_start": _iso(execution.get("StartTime")),
                    "cooldown_seconds": int(config["cooldown"].total_seconds()),
                },
                config,
            )

        try:
            response = client("sagemaker").start_pipeline_execution(
                PipelineName=config["pipeline_name"],
                PipelineExecutionDisplayName=display_name,
                PipelineExecutionDescription=_description(trigger),
                PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
                ClientRequestToken=f"retrain-{digest}",
            )
        except (ClientError, BotoCoreError) as error:
            return _fail(error, base, config, operation="StartPipelineExecution")
        started = {
            "PipelineExecutionArn": response["PipelineExecutionArn"],
            "PipelineExecutionDisplayName": display_name,
            "StartTime": times.iso(now),
        }
        return _finish(
            {**base, "outcome": "started", "reason": "alarm", "execution_arn": started["PipelineExecutionArn"]},
            config,
        )
    finally:
        _release_lease(held, started, base)


def _read_config(environ: os._Environ | dict) -> dict:
    pipeline_name = environ.get("PIPELINE_NAME", "").strip()
    if not pipeline_name:
        raise ConfigurationError(
            "PIPELINE_NAME is not set: set it to the name of the SageMaker pipeline to start"
        )
    raw_cooldown = environ.get("COOLDOWN_SECONDS", str(DEFAULT_COOLDOWN_SECONDS)).strip()
    try:
        cooldown = timedelta(seconds=float(raw_cooldown))
    except ValueError:
        raise ConfigurationError(
            f"COOLDOWN_SECONDS={raw_cooldown!r} is not a number of seconds: set it to e.g. 3600"
        ) from None
    if cooldown < timedelta(0):
        raise ConfigurationError(f"COOLDOWN_SECONDS={raw_cooldown!r} is negative: set it to 0 or more")
    raw_map = environ.get("PIPELINE_PARAMETERS", "").strip() or "{}"
    try:
        parameter_map = json.loads(raw_map)
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"PIPELINE_PARAMETERS is not valid JSON ({error.msg}): set it to an object "
            'such as {"TriggerAlarm": "alarm_name"}'
        ) from None
    if not isinstance(parameter_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parameter_map.items()
    ):
        raise ConfigurationError(
            "PIPELINE_PARAMETERS must map parameter names to field names, "
            'e.g. {"TriggerAlarm": "alarm_name", "ReportUri": "report_uri"}'
        )
    lease_seconds = _seconds(environ, "LOCK_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    wait_seconds = _seconds(environ, "LOCK_WAIT_SECONDS", DEFAULT_LOCK_WAIT_SECONDS)
    return {
        "pipeline_name": pipeline_name,
        "cooldown": cooldown,
        "lock_uri": environ.get("LOCK_S3_URI", "").strip() or None,
        "lease_seconds": lease_seconds,
        "lock_wait_seconds": wait_seconds,
        "topic_arn": environ.get("TOPIC_ARN", "").strip() or None,
        "parameter_map": parameter_map,
        "model_name": environ.get("MODEL_NAME", "").strip() or None,
        "report_root": environ.get("REPORT_S3_URI", "").strip().rstrip("/") or None,
    }


def _seconds(environ: os._Environ | dict, name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number of seconds: set it to e.g. {default}") from None
    if value < 0:
        raise ConfigurationError(f"{name}={raw!r} is negative: set it to 0 or more")
    return value


def _take_lease(config: dict, base: dict, request_id: str | None, context: Any) -> lease.Lease | None:
    """The pipeline's lease (None when the function runs without one); waits while another invocation holds it,
    as long as this invocation can afford."""
    if config["lock_uri"] is None:
        return None
    wait = config["lock_wait_seconds"]
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        wait = max(0.0, min(wait, remaining() / 1000 - _WORK_RESERVE_SECONDS))
    try:
        return lease.acquire(config["lock_uri"], owner=lease.new_owner(request_id),
                             lease_seconds=config["lease_seconds"], wait_seconds=wait, now=_now)
    except lease.LeaseBusy as busy:
        message = f"retraining of pipeline {config['pipeline_name']!r} is being decided by another invocation: {busy}"
        log("WARNING", message, outcome="retry", reason="busy", **base)
        raise RetrainingBusyError(message) from None
    except (ClientError, BotoCoreError) as error:
        _fail(error, base, config, operation="PutObject (retraining lease)")


def _remembered_execution(held: lease.Lease | None) -> dict | None:
    """The execution the previous lease holder started, as a summary like ListPipelineExecutions' (no status)."""
    previous = held.previous if held is not None else None
    if not isinstance(previous, dict) or not previous.get("PipelineExecutionArn"):
        return None
    return {k: previous.get(k) for k in ("PipelineExecutionArn", "PipelineExecutionDisplayName", "StartTime")}


def _release_lease(held: lease.Lease | None, started: dict | None, base: dict) -> None:
    """Free the lease, leaving the execution this invocation started (if any) for the next holder. A failure
    to release is logged, never raised: the lease then expires on its own."""
    if held is None:
        return
    try:
        if not lease.release(held, record=started, now=_now):
            log("WARNING", "the retraining lease expired before it was released and was taken over",
                outcome="lease_lost", **base)
    except (ClientError, BotoCoreError) as error:
        code, message = error_code(error)
        log("WARNING", f"could not release the retraining lease: {code}: {message}", outcome="lease_kept",
            error_code=code, **base)


def trigger_fields(event: dict, *, model_name: str | None = None, report_root: str | None = None) -> dict:
    """The named values of an alarm event that pipeline parameters and the description can use.

    ``window_start`` is the newest evaluated datapoint's timestamp from ``state.reasonData``: for our metrics
    that is the ``metric_time`` (window start) of the monitoring window that breached.
    """
    detail = event.get("detail") or {}
    state = detail.get("state") or {}
    previous = detail.get("previousState") or {}
    resources = event.get("resources") or []
    alarm_name = detail.get("alarmName")
    alarm_arn = next((r for r in resources if ":alarm:" in r), None)
    if alarm_arn is None and alarm_name:
        alarm_arn = (
            f"arn:aws:cloudwatch:{event.get('region', '')}:{event.get('account', '')}:alarm:{alarm_name}"
        )
    dimensions = _alarm_dimensions(detail)
    endpoint, schedule = dimensions.get("Endpoint"), dimensions.get("MonitoringSchedule")
    report_uri = f"{report_root}/{endpoint}/{schedule}" if report_root and endpoint and schedule else None
    return {
        "event_id": event.get("id"),
        "event_time": event.get("time"),
        "alarm_name": alarm_name,
        "alarm_arn": alarm_arn,
        "state": state.get("value"),
        "previous_state": previous.get("value"),
        "reason": state.get("reason"),
        "alarm_time": _iso(_parse_time(state.get("timestamp"))) or event.get("time"),
        "window_start": _newest_evaluated_datapoint(state.get("reasonData")),
        "endpoint_name": endpoint,
        "schedule_name": schedule,
        "model": model_name or endpoint,
        "report_uri": report_uri,
    }


def _alarm_dimensions(detail: dict) -> dict:
    """Dimensions of the first metric of a metric alarm (composite alarms have none)."""
    for query in (detail.get("configuration") or {}).get("metrics") or []:
        metric = ((query or {}).get("metricStat") or {}).get("metric") or {}
        if metric.get("dimensions"):
            return dict(metric["dimensions"])
    return {}


def _newest_evaluated_datapoint(reason_data: str | None) -> str | None:
    try:
        data = json.loads(reason_data) if reason_data else {}
    except (TypeError, json.JSONDecodeError):
        return None
    stamps = [
        _parse_time(p.get("timestamp")) for p in data.get("evaluatedDatapoints") or [] if isinstance(p, dict)
    ]
    stamps = [s for s in stamps if s is not None]
    return _iso(max(stamps)) if stamps else None


def _parse_time(value: Any) -> datetime | None:
    """CloudWatch's ``2019-10-02T17:04:40.989+0000`` and ISO ``...Z`` forms as aware UTC, else None."""
    return times.parse_time(value)


def _iso(value: Any) -> str | None:
    parsed = _parse_time(value)
    return times.iso(parsed) if parsed else None


def event_digest(alarm_arn: str, event_id: str) -> str:
    """sha256 hex of alarm ARN and event id: the same for every delivery of one event, different per event."""
    return hashlib.sha256(f"{alarm_arn}\n{event_id}".encode()).hexdigest()


def execution_display_name(alarm_name: str, digest: str) -> str:
    """``<alarm name, sanitised>-<16 hex of the digest>``, valid for ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}``."""
    readable = re.sub(r"[^a-zA-Z0-9]+", "-", alarm_name).strip("-")[:65].rstrip("-") or "alarm"
    return f"{readable}-{digest[:16]}"


def pipeline_parameters(parameter_map: dict[str, str], trigger: dict, event: dict) -> tuple[dict, list]:
    """Resolve ``{parameter: field or dotted event path}`` to string values; unknown values are omitted."""
    values, omitted = {}, []
    for name, source in parameter_map.items():
        value = trigger.get(source) if source in _TRIGGER_FIELDS else _dotted(event, source)
        if value is None or value == "":
            omitted.append(name)
            continue
        values[name] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return values, omitted


def _dotted(document: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


def _description(trigger: dict) -> str:
    """The trigger as compact JSON; the reason is shortened first so the JSON fits SageMaker's 3072 characters."""
    fields = {k: v for k, v in trigger.items() if v is not None}
    text = json.dumps(fields, separators=(",", ":"))
    if len(text) > 3072 and fields.get("reason"):
        fields["reason"] = fields["reason"][: max(0, len(fields["reason"]) - (len(text) - 3072) - 3)] + "..."
        text = json.dumps(fields, separators=(",", ":"))
    return text[:3072]


def _recent_executions(pipeline_name: str, now: datetime) -> list[dict]:
    """Executions created in the last RUNNING_SCAN_DAYS, newest first (at most MAX_EXECUTIONS_SCANNED)."""
    paginator = client("sagemaker").get_paginator("list_pipeline_executions")
    pages = paginator.paginate(
        PipelineName=pipeline_name,
        CreatedAfter=now - timedelta(days=RUNNING_SCAN_DAYS),
        SortBy="CreationTime",
        SortOrder="Descending",
        PaginationConfig={"MaxItems": MAX_EXECUTIONS_SCANNED, "PageSize": 100},
    )
    return [summary for page in pages for summary in page.get("PipelineExecutionSummaries", [])]


def blocking_execution(
    executions: list[dict], *, display_name: str, now: datetime, cooldown: timedelta
) -> tuple[str, dict] | None:
    """The first rule that forbids a new execution, with the execution that triggers it, or None.

    Rules in order: an execution with this event's display name exists (``duplicate_delivery``); one is
    Executing or Stopping (``pipeline_running``); one started within ``cooldown`` before ``now`` (``cooldown``).
    """
    for execution in executions:
        if execution.get("PipelineExecutionDisplayName") == display_name:
            return "duplicate_delivery", execution
    for execution in executions:
        if execution.get("PipelineExecutionStatus") in _BUSY_STATUSES:
            return "pipeline_running", execution
    started = [(t, e) for e in executions if (t := _parse_time(e.get("StartTime"))) is not None]
    recent = [(t, e) for t, e in started if now - t < cooldown]
    if recent:
        return "cooldown", max(recent, key=lambda pair: pair[0])[1]
    return None


def _is_missing_pipeline(code: str, message: str) -> bool:
    message = message.lower()
    if code in ("ResourceNotFound", "ResourceNotFoundException"):
        return True
    return (
        code == "ValidationException"
        and "pipeline" in message
        and ("could not find" in message or "does not exist" in message or "not found" in message)
    )


def _fail(error: Exception, base: dict, config: dict, *, operation: str) -> NoReturn:
    code, aws_message = error_code(error)
    if _is_missing_pipeline(code, aws_message):
        message = (
            f"SageMaker pipeline {config['pipeline_name']!r} does not exist in this account and region: "
            "create it or set PIPELINE_NAME to an existing pipeline"
        )
        _finish(
            {
                **base,
                "outcome": "failed",
                "reason": "pipeline_not_found",
                "error_code": code,
                "error": aws_message,
            },
            config,
            message=message,
        )
        raise PipelineNotFoundError(message) from None
    message = f"{operation} failed for pipeline {config['pipeline_name']!r}: {code}: {aws_message}"
    _finish(
        {
            **base,
            "outcome": "failed",
            "reason": "aws_error",
            "operation": operation,
            "error_code": code,
            "error": aws_message,
        },
        config,
        message=message,
    )
    raise RetrainTriggerError(message) from None


def _finish(outcome: dict, config: dict, *, message: str | None = None) -> dict:
    """Log the outcome as one JSON line and publish it to the topic (publishing errors are logged, not raised)."""
    level = {"started": "INFO", "skipped": "INFO", "failed": "ERROR"}[outcome["outcome"]]
    text = message or _summary(outcome)
    log(level, text, **outcome)
    if config["topic_arn"] and outcome.get("reason") not in _NOT_PUBLISHED:
        try:
            client("sns").publish(
                TopicArn=config["topic_arn"],
                Subject=_subject(outcome),
                Message=json.dumps({"message": text, **outcome}, default=str, indent=2),
                MessageAttributes={
                    "outcome": {"DataType": "String", "StringValue": outcome["outcome"]},
                    "reason": {"DataType": "String", "StringValue": str(outcome.get("reason"))},
                },
            )
        except (ClientError, BotoCoreError) as error:
            log(
                "WARNING",
                f"could not publish the outcome to {config['topic_arn']}: {error}",
                outcome=outcome["outcome"],
                event_id=outcome.get("event_id"),
            )
    return {k: v for k, v in outcome.items() if k != "aws_request_id"}


def _summary(outcome: dict) -> str:
    pipeline, alarm = outcome.get("pipeline_name"), outcome.get("alarm_name")
    if outcome["outcome"] == "started":
        return f"started retraining pipeline {pipeline} for alarm {alarm}: {outcome.get('execution_arn')}"
    return f"skipped retraining pipeline {pipeline} for alarm {alarm}: {outcome.get('reason')}"


def _subject(outcome: dict) -> str:
    """SNS subjects: ASCII, at most 100 characters, no line breaks."""
    text = f"Retraining {outcome['outcome']} ({outcome.get('reason')}): {outcome.get('alarm_name') or ''}"
    text = re.sub(r"[^\x20-\x7e]", "?", text)
    return text[:100]
