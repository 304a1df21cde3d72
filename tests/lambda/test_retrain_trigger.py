"""lambda/retrain_trigger: an ALARM state change starts the retraining pipeline exactly once."""

from __future__ import annotations

import copy
import json
import re
import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from .conftest import REGION, load_event, load_handler, log_lines

PIPELINE = "churn-retraining"
LOCK_BUCKET = "monitoring-bucket"
LOCK_KEY = f"retraining/{PIPELINE}/lock.json"
PIPELINE_PARAMETERS = {
    "ModelName": "model",
    "TriggerAlarm": "alarm_name",
    "WindowStart": "window_start",
    "ReportUri": "report_uri",
    "AlarmDescription": "detail.configuration.description",
}
DISPLAY_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}$")


@pytest.fixture
def trigger(aws, monkeypatch):
    monkeypatch.setenv("PIPELINE_NAME", PIPELINE)
    monkeypatch.setenv("COOLDOWN_SECONDS", "3600")
    monkeypatch.setenv("PIPELINE_PARAMETERS", json.dumps(PIPELINE_PARAMETERS))
    monkeypatch.setenv("REPORT_S3_URI", "s3://monitoring-bucket/reports/data-quality/")
    monkeypatch.delenv("TOPIC_ARN", raising=False)
    monkeypatch.delenv("MODEL_NAME", raising=False)
    # as deployed: no reserved concurrency, a lease in the monitoring bucket (versioned, as that bucket is)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=LOCK_BUCKET)
    s3.put_bucket_versioning(Bucket=LOCK_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    monkeypatch.setenv("LOCK_S3_URI", f"s3://{LOCK_BUCKET}/{LOCK_KEY}")
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "10")
    return load_handler("retrain_trigger")


@pytest.fixture
def sagemaker(aws):
    client = boto3.client("sagemaker", region_name=REGION)
    client.create_pipeline(
        PipelineName=PIPELINE,
        RoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/pipeline-role",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
    )
    return client


def _executions(client) -> list[dict]:
    return client.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]


def _alarm_event(event_id: str | None = None, state: str = "ALARM", previous: str = "OK") -> dict:
    event = copy.deepcopy(load_event("alarm_state_change_alarm.json"))
    if event_id:
        event["id"] = event_id
    event["detail"]["state"]["value"] = state
    event["detail"]["previousState"]["value"] = previous
    return event


def _clock(module, monkeypatch, when: datetime) -> None:
    monkeypatch.setattr(module, "_now", lambda: when)


def test_alarm_event_starts_one_execution_with_the_mapped_parameters(trigger, sagemaker):
    result = trigger.handler(_alarm_event(), None)

    assert result["outcome"] == "started"
    [execution] = _executions(sagemaker)
    assert execution["PipelineExecutionArn"] == result["execution_arn"]
    parameters = sagemaker.list_pipeline_parameters_for_execution(
        PipelineExecutionArn=result["execution_arn"]
    )["PipelineParameters"]
    assert {p["Name"]: p["Value"] for p in parameters} == {
        "ModelName": "churn-ep",
        "TriggerAlarm": "churn-ep-data-quality-drift-Age",
        "WindowStart": "2026-11-25T13:00:00Z",
        "ReportUri": "s3://monitoring-bucket/reports/data-quality/churn-ep/churn-ep-data-quality",
        "AlarmDescription": "Baseline drift of feature Age above its threshold",
    }
    described = json.loads(execution["PipelineExecutionDescription"])
    assert (
        described["alarm_arn"]
        == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-ep-data-quality-drift-Age"
    )
    assert described["alarm_time"] == "2026-11-25T14:07:12Z"
    assert DISPLAY_NAME_PATTERN.match(execution["PipelineExecutionDisplayName"])


def test_repeated_delivery_of_one_event_starts_nothing_new_even_without_cooldown(
    trigger, sagemaker, monkeypatch
):
    monkeypatch.setenv("COOLDOWN_SECONDS", "0")
    event = _alarm_event()

    outcomes = [trigger.handler(copy.deepcopy(event), None) for _ in range(3)]

    assert [o["outcome"] for o in outcomes] == ["started", "skipped", "skipped"]
    assert {o["reason"] for o in outcomes[1:]} == {"duplicate_delivery"}
    assert outcomes[1]["blocking_execution_arn"] == outcomes[0]["execution_arn"]
    assert len(_executions(sagemaker)) == 1


def test_flapping_alarm_inside_the_cooldown_starts_nothing_new(trigger, sagemaker, monkeypatch):
    start = datetime.now(UTC)
    _clock(trigger, monkeypatch, start)
    first = trigger.handler(_alarm_event("flap-1"), None)
    # OK then ALARM again 20 minutes later: a new event id, so only the cooldown can stop it.
    assert (
        trigger.handler(_alarm_event("flap-2", state="OK", previous="ALARM"), None)["reason"]
        == "state_not_alarm"
    )
    _clock(trigger, monkeypatch, start + timedelta(minutes=20))
    second = trigger.handler(_alarm_event("flap-3"), None)

    assert first["outcome"] == "started"
    assert (second["outcome"], second["reason"]) == ("skipped", "cooldown")
    assert second["blocking_execution_arn"] == first["execution_arn"]
    assert len(_executions(sagemaker)) == 1


def test_alarm_after_the_cooldown_starts_a_new_execution(trigger, sagemaker, monkeypatch):
    start = datetime.now(UTC)
    _clock(trigger, monkeypatch, start)
    first = trigger.handler(_alarm_event("first"), None)
    _clock(trigger, monkeypatch, start + timedelta(seconds=3600 + 60))
    second = trigger.handler(_alarm_event("second"), None)

    assert (first["outcome"], second["outcome"]) == ("started", "started")
    assert first["execution_arn"] != second["execution_arn"]
    assert len(_executions(sagemaker)) == 2


def test_execution_still_running_after_the_cooldown_blocks_a_new_one(trigger, sagemaker, monkeypatch):
    start = datetime.now(UTC)
    _clock(trigger, monkeypatch, start)
    first = trigger.handler(_alarm_event("first"), None)
    # moto finishes executions at once; make this one a long-running training instead.
    pipeline = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[PIPELINE]
    pipeline.pipeline_executions[first["execution_arn"]].pipeline_execution_status = "Executing"
    _clock(trigger, monkeypatch, start + timedelta(hours=5))

    second = trigger.handler(_alarm_event("second"), None)

    assert (second["outcome"], second["reason"]) == ("skipped", "pipeline_running")
    assert second["blocking_execution_status"] == "Executing"
    assert len(_executions(sagemaker)) == 1


def test_ok_state_event_is_ignored_and_not_published(trigger, sagemaker, monkeypatch, capsys):
    topic_arn, queue_url, sqs = _topic_with_queue()
    monkeypatch.setenv("TOPIC_ARN", topic_arn)

    result = trigger.handler(_alarm_event(state="OK", previous="ALARM"), None)

    assert (result["outcome"], result["reason"], result["state"]) == ("skipped", "state_not_alarm", "OK")
    assert _executions(sagemaker) == []
    assert sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []) == []
    [line] = log_lines(capsys.readouterr().out)
    assert (line["level"], line["outcome"], line["reason"]) == ("INFO", "skipped", "state_not_alarm")


def test_event_of_another_kind_is_ignored(trigger, sagemaker):
    result = trigger.handler(
        {"id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, None
    )

    assert (result["outcome"], result["reason"]) == ("skipped", "not_an_alarm_event")
    assert _executions(sagemaker) == []


def test_missing_pipeline_logs_one_clear_line_and_raises_a_readable_error(trigger, aws, capsys, monkeypatch):
    monkeypatch.setenv("PIPELINE_NAME", "no-such-pipeline")

    with pytest.raises(trigger.PipelineNotFoundError) as raised:
        trigger.handler(_alarm_event(), None)

    assert str(raised.value) == (
        "SageMaker pipeline 'no-such-pipeline' does not exist in this account and region: "
        "create it or set PIPELINE_NAME to an existing pipeline"
    )
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    [line] = log_lines(capsys.readouterr().out)
    assert line["level"] == "ERROR"
    assert (line["outcome"], line["reason"]) == ("failed", "pipeline_not_found")
    assert line["message"] == str(raised.value)
    assert line["alarm_name"] == "churn-ep-data-quality-drift-Age"
    assert line["event_id"] == "5d2e3a57-6c1b-4f1e-9b3a-0c4f3b8e9a11"


def test_every_log_line_is_json_with_level_outcome_and_ids(trigger, sagemaker, capsys):
    trigger.handler(_alarm_event(), type("Context", (), {"aws_request_id": "req-1"})())
    trigger.handler(_alarm_event(), type("Context", (), {"aws_request_id": "req-2"})())

    lines = log_lines(capsys.readouterr().out)
    assert [(line["outcome"], line["aws_request_id"]) for line in lines] == [
        ("started", "req-1"),
        ("skipped", "req-2"),
    ]
    for line in lines:
        assert {"level", "message", "pipeline_name", "alarm_name", "alarm_arn", "event_id"} <= line.keys()


def _topic_with_queue():
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="model-monitor-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url, sqs


def _notifications(sqs, queue_url) -> list[dict]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_started_and_skipped_outcomes_are_published_to_the_topic(trigger, sagemaker, monkeypatch):
    topic_arn, queue_url, sqs = _topic_with_queue()
    monkeypatch.setenv("TOPIC_ARN", topic_arn)

    started = trigger.handler(_alarm_event(), None)
    trigger.handler(_alarm_event(), None)

    first, second = _notifications(sqs, queue_url)
    assert first["Subject"] == "Retraining started (alarm): churn-ep-data-quality-drift-Age"
    body = json.loads(first["Message"])
    assert body["outcome"] == "started"
    assert body["execution_arn"] == started["execution_arn"]
    assert body["pipeline_name"] == PIPELINE
    assert body["parameters"]["TriggerAlarm"] == "churn-ep-data-quality-drift-Age"
    assert first["MessageAttributes"]["outcome"]["Value"] == "started"
    assert second["Subject"] == "Retraining skipped (duplicate_delivery): churn-ep-data-quality-drift-Age"
    assert json.loads(second["Message"])["blocking_execution_arn"] == started["execution_arn"]


def test_missing_pipeline_failure_is_published_to_the_topic(trigger, aws, monkeypatch):
    topic_arn, queue_url, sqs = _topic_with_queue()
    monkeypatch.setenv("TOPIC_ARN", topic_arn)
    monkeypatch.setenv("PIPELINE_NAME", "no-such-pipeline")

    with pytest.raises(trigger.PipelineNotFoundError):
        trigger.handler(_alarm_event(), None)

    [note] = _notifications(sqs, queue_url)
    assert note["Subject"] == "Retraining failed (pipeline_not_found): churn-ep-data-quality-drift-Age"
    assert "does not exist" in json.loads(note["Message"])["message"]


def test_unset_parameter_values_are_left_to_the_pipeline_defaults(trigger, sagemaker, monkeypatch):
    monkeypatch.setenv(
        "PIPELINE_PARAMETERS", json.dumps({"TriggerAlarm": "alarm_name", "ReportUri": "report_uri"})
    )
    monkeypatch.delenv("REPORT_S3_URI")

    result = trigger.handler(_alarm_event(), None)

    assert result["parameters"] == {"TriggerAlarm": "churn-ep-data-quality-drift-Age"}
    assert result["parameters_omitted"] == ["ReportUri"]


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("PIPELINE_PARAMETERS", "{not json", "PIPELINE_PARAMETERS is not valid JSON"),
        ("PIPELINE_PARAMETERS", '["alarm_name"]', "PIPELINE_PARAMETERS must map parameter names"),
        ("COOLDOWN_SECONDS", "an hour", "COOLDOWN_SECONDS='an hour' is not a number"),
        ("PIPELINE_NAME", "", "PIPELINE_NAME is not set"),
    ],
)
def test_malformed_configuration_names_the_variable(trigger, aws, monkeypatch, variable, value, fragment):
    monkeypatch.setenv(variable, value)

    with pytest.raises(trigger.ConfigurationError, match=re.escape(fragment)):
        trigger.handler(_alarm_event(), None)


@pytest.mark.parametrize(
    "alarm_name",
    [
        "churn-ep-data-quality-drift-Age",
        "Modèle / dérive: âge (p95) ≥ seuil",
        "x" * 255,
        "---",
    ],
)
def test_display_name_is_valid_for_any_alarm_name(trigger, alarm_name):
    digest = trigger.event_digest(f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm_name}", "id-1")

    name = trigger.execution_display_name(alarm_name, digest)

    assert DISPLAY_NAME_PATTERN.match(name), name
    assert name.endswith(digest[:16])


# -- single flight without reserved concurrency: the lease ----------------------------------------------------


def _lease_document() -> dict:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY)["Body"].read()
    return json.loads(body)


def _run(trigger, event: dict, outcomes: dict, name: str) -> threading.Thread:
    def target():
        try:
            outcomes[name] = trigger.handler(event, type("Context", (), {"aws_request_id": name})())
        except Exception as error:  # the test reads what each invocation ended with
            outcomes[name] = error

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def test_two_interleaved_invocations_start_one_execution(trigger, sagemaker, monkeypatch):
    """Two alarms of one model fire together: without reserved concurrency both invocations run at once. The
    first lists no execution and is held right there; the second must not decide meanwhile (it would see no
    execution either and start a second one): it waits for the lease, then sees the first one's execution."""
    listed_by_first, resume_first = threading.Event(), threading.Event()
    list_executions = trigger._recent_executions

    def held_after_listing(pipeline_name, now):
        executions = list_executions(pipeline_name, now)
        if threading.current_thread().name == "first":
            listed_by_first.set()
            resume_first.wait(timeout=10)
        return executions

    monkeypatch.setattr(trigger, "_recent_executions", held_after_listing)
    outcomes: dict = {}
    first = _run(trigger, _alarm_event("event-of-drift-alarm"), outcomes, "first")
    assert listed_by_first.wait(timeout=10)
    second = _run(trigger, _alarm_event("event-of-quality-alarm"), outcomes, "second")
    second.join(timeout=1.5)  # time enough for an invocation that does not wait to start its execution
    resume_first.set()
    first.join(timeout=15)
    second.join(timeout=15)

    assert (outcomes["first"]["outcome"], outcomes["second"]["outcome"]) == ("started", "skipped")
    assert outcomes["second"]["reason"] == "cooldown"
    assert outcomes["second"]["blocking_execution_arn"] == outcomes["first"]["execution_arn"]
    assert len(_executions(sagemaker)) == 1
    document = _lease_document()
    assert document["released"] is True
    assert document["record"]["PipelineExecutionArn"] == outcomes["first"]["execution_arn"]


def test_the_execution_the_last_holder_started_blocks_even_before_sagemaker_lists_it(trigger, sagemaker,
                                                                                        monkeypatch):
    first = trigger.handler(_alarm_event("first"), None)
    # ListPipelineExecutions may lag behind StartPipelineExecution: the lease remembers the start.
    monkeypatch.setattr(trigger, "_recent_executions", lambda pipeline_name, now: [])

    second = trigger.handler(_alarm_event("second"), None)

    assert (second["outcome"], second["reason"]) == ("skipped", "cooldown")
    assert second["blocking_execution_arn"] == first["execution_arn"]
    assert len(_executions(sagemaker)) == 1


def test_an_invocation_that_cannot_wait_for_the_lease_raises_for_a_retry_and_starts_nothing(trigger, sagemaker,
                                                                                          monkeypatch, capsys):
    held_until = datetime.now(UTC) + timedelta(minutes=2)
    boto3.client("s3", region_name=REGION).put_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY, Body=json.dumps({
        "owner": "req-still-running", "released": False, "expires_at": held_until.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "0.5")

    with pytest.raises(trigger.RetrainingBusyError, match="held by 'req-still-running'"):
        trigger.handler(_alarm_event(), None)

    assert _executions(sagemaker) == []
    [line] = log_lines(capsys.readouterr().out)
    assert (line["level"], line["outcome"], line["reason"]) == ("WARNING", "retry", "busy")


def test_a_lease_left_by_an_invocation_that_died_is_taken_over_once_it_expires(trigger, sagemaker):
    expired = datetime.now(UTC) - timedelta(seconds=1)
    boto3.client("s3", region_name=REGION).put_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY, Body=json.dumps({
        "owner": "req-timed-out", "released": False, "expires_at": expired.strftime("%Y-%m-%dT%H:%M:%SZ")}))

    result = trigger.handler(_alarm_event(), None)

    assert result["outcome"] == "started"
    assert len(_executions(sagemaker)) == 1
    assert _lease_document()["released"] is True


def test_of_two_callers_that_read_one_free_lease_only_one_takes_it(trigger, aws):
    """The takeover is a compare-and-swap on the version both read: the slower writer is refused."""
    lease = trigger.lease
    uri = f"s3://{LOCK_BUCKET}/{LOCK_KEY}"
    now = lambda: datetime.now(UTC)  # noqa: E731
    held = lease.acquire(uri, owner="a", lease_seconds=60, wait_seconds=0, now=now)
    assert lease.release(held, record={"note": "a was here"}, now=now)
    s3 = boto3.client("s3", region_name=REGION)
    free_version = s3.get_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY)["ETag"]

    taken = lease.acquire(uri, owner="b", lease_seconds=60, wait_seconds=0, now=now)
    with pytest.raises(s3.exceptions.ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY, Body=b"{}", IfMatch=free_version)

    assert taken.previous == {"note": "a was here"}
    with pytest.raises(lease.LeaseBusy):
        lease.acquire(uri, owner="c", lease_seconds=60, wait_seconds=0, now=now)


def test_a_holder_whose_lease_was_taken_over_does_not_overwrite_the_new_holder(trigger, aws):
    lease = trigger.lease
    uri = f"s3://{LOCK_BUCKET}/{LOCK_KEY}"
    clock = [datetime.now(UTC)]
    slow = lease.acquire(uri, owner="slow", lease_seconds=60, wait_seconds=0, now=lambda: clock[0])
    clock[0] += timedelta(seconds=61)
    fast = lease.acquire(uri, owner="fast", lease_seconds=60, wait_seconds=0, now=lambda: clock[0])

    assert lease.release(slow, record={"by": "slow"}, now=lambda: clock[0]) is False
    assert _lease_document()["owner"] == "fast" and _lease_document()["released"] is False
    assert lease.release(fast, record=None, now=lambda: clock[0]) is True
