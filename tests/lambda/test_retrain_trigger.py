"""lambda/retrain_trigger: an ALARM state change starts the retraining pipeline exactly once."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from .conftest import REGION, load_event, load_handler, log_lines

PIPELINE = "churn-retraining"
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
