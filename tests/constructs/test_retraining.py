"""RetrainingTrigger: the rule matches only ALARM transitions of our alarms; the retrain Lambda's IAM,
single flight (a lease, no reserved concurrency), retries and dead-letter queue; other targets; cdk-nag and
cfn-lint."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

from cdk_model_monitor import ConfigurationError
from cdk_model_monitor.notifications import Notifications
from cdk_model_monitor.retraining import RetrainingTrigger
from cdk_model_monitor.storage import MonitoringBucket

from .conftest import REPO_ROOT, cfn_lint_findings, nag_findings, new_app, template_of, template_text

SAMPLE_EVENT = json.loads((REPO_ROOT / "tests" / "lambda" / "events" / "alarm_state_change_alarm.json").read_text())
OUR_ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-model-unhealthy"


# -- EventBridge pattern semantics (the subset our patterns use), for the tests only ------------------


def _leaf_matches(matcher: Any, value: Any) -> bool:
    if isinstance(matcher, dict):
        ((op, arg),) = matcher.items()
        if op == "anything-but":
            excluded = arg if isinstance(arg, list) else [arg]
            return value is not None and value not in excluded
        if op == "prefix":
            return isinstance(value, str) and value.startswith(arg)
        if op == "exists":
            return (value is not None) == arg
        raise NotImplementedError(op)
    return matcher == value


def event_matches(pattern: dict, event: dict) -> bool:
    """EventBridge matching: every pattern key must match; a list of matchers matches when any matcher
    matches the value, or for an array value, any of its elements; nested objects recurse."""
    for key, sub in pattern.items():
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(sub, dict):
            if not isinstance(value, dict) or not event_matches(sub, value):
                return False
            continue
        values = value if isinstance(value, list) else [value]
        if key not in event:
            if not any(isinstance(m, dict) and m.get("exists") is False for m in sub):
                return False
            continue
        if not any(_leaf_matches(m, v) for m in sub for v in values):
            return False
    return True


def _event(state: str, previous: str, arn: str = OUR_ALARM_ARN) -> dict:
    event = copy.deepcopy(SAMPLE_EVENT)
    event["resources"] = [arn]
    event["detail"]["alarmName"] = arn.rsplit(":", 1)[1]
    event["detail"]["state"]["value"] = state
    event["detail"]["previousState"]["value"] = previous
    return event


# -- one stack for the assertions -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    app = new_app(tmp_path_factory.mktemp("retraining"), nag=True)
    stack = cdk.Stack(app, "Retraining", env=cdk.Environment(account="123456789012", region="us-east-1"))
    metric = cloudwatch.Metric(namespace="aws/sagemaker/Endpoints/data-metrics",
                               metric_name="feature_baseline_drift_plan", period=cdk.Duration.hours(1))
    alarm = cloudwatch.Alarm(stack, "Drift", metric=metric, threshold=0.1, evaluation_periods=1,
                             alarm_name="churn-model-unhealthy")
    notifications = Notifications(stack, "Notifications")
    storage = MonitoringBucket(stack, "Storage")
    machine = sfn.StateMachine(stack, "UserMachine",
                               definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Noop")))
    trigger = RetrainingTrigger(stack, "Retraining", alarms=[alarm], pipeline_name="Churn-Retraining",
                                pipeline_parameters={"ModelName": "model", "TriggerAlarm": "alarm_name"},
                                model_name="churn", notifications=notifications, state_machine=machine,
                                cooldown=cdk.Duration.minutes(90), storage=storage)
    # The user's own state machine is not ours to harden; its findings are the user's.
    cdk.Validations.of(machine).acknowledge(cdk.Acknowledgment(id="AwsSolutions-SF1", reason="test fixture"))
    cdk.Validations.of(machine).acknowledge(cdk.Acknowledgment(id="AwsSolutions-SF2", reason="test fixture"))
    findings = nag_findings(app)
    return stack, trigger, template_of(stack).to_json(), findings


def _resources(template: dict, kind: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _rule_pattern(template: dict) -> dict:
    (rule,) = _resources(template, "AWS::Events::Rule").values()
    pattern = copy.deepcopy(rule["Properties"]["EventPattern"])
    # The alarm's ARN is a GetAtt in the template; the deployed rule holds the real ARN.
    assert pattern["resources"] == [{"Fn::GetAtt": [next(iter(_resources(template, "AWS::CloudWatch::Alarm"))), "Arn"]}]
    pattern["resources"] = [OUR_ALARM_ARN]
    return pattern


@pytest.mark.parametrize("state, previous, arn, expected", [
    ("ALARM", "OK", OUR_ALARM_ARN, True),
    ("ALARM", "INSUFFICIENT_DATA", OUR_ALARM_ARN, True),
    ("OK", "ALARM", OUR_ALARM_ARN, False),
    ("INSUFFICIENT_DATA", "ALARM", OUR_ALARM_ARN, False),
    ("ALARM", "ALARM", OUR_ALARM_ARN, False),
    ("ALARM", "OK", OUR_ALARM_ARN.replace("churn-model-unhealthy", "someone-elses-alarm"), False),
])
def test_rule_matches_only_alarm_transitions_of_our_alarms(built, state, previous, arn, expected):
    pattern = _rule_pattern(built[2])
    assert event_matches(pattern, _event(state, previous, arn)) is expected


def test_rule_ignores_other_sources_and_detail_types(built):
    pattern = _rule_pattern(built[2])
    other_source = {**_event("ALARM", "OK"), "source": "cdk-model-monitor"}
    other_type = {**_event("ALARM", "OK"), "detail-type": "Model Monitor Execution Status Change"}
    assert not event_matches(pattern, other_source)
    assert not event_matches(pattern, other_type)


def test_test_matcher_agrees_with_moto_event_patterns(built):
    """moto's EventBridge pattern engine (its real matcher; the test_event_pattern API is a stub) gives the
    same answers as the matcher above."""
    from moto.events import models
    pattern = _rule_pattern(built[2])
    engine = models.EventPattern.load(json.dumps(pattern))
    for state, previous, arn in [("ALARM", "OK", OUR_ALARM_ARN), ("OK", "ALARM", OUR_ALARM_ARN),
                                 ("ALARM", "OK", OUR_ALARM_ARN + "-other")]:
        event = _event(state, previous, arn)
        assert engine.matches_event(event) is event_matches(pattern, event)


def _retrain_function(template: dict) -> tuple[str, dict]:
    functions = {k: v["Properties"] for k, v in _resources(template, "AWS::Lambda::Function").items()
                 if "Retrain" in k}
    ((function_id, function),) = functions.items()
    return function_id, function


def test_retrain_function_reserves_no_concurrency_and_takes_a_lease_in_the_monitoring_bucket(built):
    """An account whose Lambda concurrency quota is 10 refuses any reservation (cdk deploy fails): single flight
    comes from a lease on one object of the monitoring bucket instead, which the role may read and write only."""
    template = built[2]
    _, function = _retrain_function(template)
    assert "ReservedConcurrentExecutions" not in function
    env = function["Environment"]["Variables"]
    bucket_id = next(k for k in _resources(template, "AWS::S3::Bucket") if k.startswith("StorageBucket"))
    assert template_text(env["LOCK_S3_URI"]) == f"s3://<{bucket_id}>/retraining/churn-retraining/lock.json"
    assert int(env["LOCK_LEASE_SECONDS"]) > function["Timeout"]
    role_policy = next(v for k, v in _resources(template, "AWS::IAM::Policy").items() if "RetrainRole" in k)
    statements = role_policy["Properties"]["PolicyDocument"]["Statement"]
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _list(s["Action"]))]
    assert [(s["Action"], template_text(s["Resource"])) for s in s3] == [
        (["s3:GetObject", "s3:PutObject"], f"<{bucket_id}>/retraining/churn-retraining/lock.json")]
    key_id = next(iter(k for k in _resources(template, "AWS::KMS::Key") if k.startswith("StorageKey")))
    assert any(s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"] and
               {"Fn::GetAtt": [key_id, "Arn"]} in _list(s["Resource"]) for s in statements)


def test_retrain_function_has_retries_and_a_dead_letter_queue(built):
    template = built[2]
    function_id, function = _retrain_function(template)
    assert function["Runtime"] == lambda_.Runtime.PYTHON_3_14.name
    env = function["Environment"]["Variables"]
    assert env["PIPELINE_NAME"] == "Churn-Retraining"
    assert env["COOLDOWN_SECONDS"] == "5400"
    assert json.loads(env["PIPELINE_PARAMETERS"]) == {"ModelName": "model", "TriggerAlarm": "alarm_name"}
    assert env["MODEL_NAME"] == "churn"
    assert "TOPIC_ARN" in env
    (invoke_config,) = _resources(template, "AWS::Lambda::EventInvokeConfig").values()
    queue_id = next(iter(_resources(template, "AWS::SQS::Queue")))
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 2
    assert invoke_config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [queue_id, "Arn"]}
    (rule,) = _resources(template, "AWS::Events::Rule").values()
    targets = rule["Properties"]["Targets"]
    assert next(t["Arn"]["Fn::GetAtt"][0] if "Fn::GetAtt" in t["Arn"] else t["Arn"]["Ref"] for t in targets) == function_id
    for target in targets:
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 4}


def test_user_state_machine_is_a_second_target(built):
    template = built[2]
    (rule,) = _resources(template, "AWS::Events::Rule").values()
    machine_id = next(iter(_resources(template, "AWS::StepFunctions::StateMachine")))
    assert {"Ref": machine_id} in [t["Arn"] for t in rule["Properties"]["Targets"]]


def test_dead_letter_queue_is_encrypted_with_its_key_and_refuses_plain_http(built):
    template = built[2]
    ((_queue_id, queue),) = _resources(template, "AWS::SQS::Queue").items()
    key_id = queue["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in key_policy)
    policies = [p["Properties"]["PolicyDocument"]["Statement"]
                for p in _resources(template, "AWS::SQS::QueuePolicy").values()]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for statements in policies for s in statements)


def test_retrain_role_may_only_list_and_start_the_one_pipeline_and_publish_to_the_topic(built):
    template = built[2]
    role_policy = next(v for k, v in _resources(template, "AWS::IAM::Policy").items() if "RetrainRole" in k)
    statements = role_policy["Properties"]["PolicyDocument"]["Statement"]
    sagemaker = [s for s in statements if any(a.startswith("sagemaker:") for a in _list(s["Action"]))]
    assert sagemaker == [{
        "Action": ["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"], "Effect": "Allow",
        "Resource": ["arn:aws:sagemaker:us-east-1:123456789012:pipeline/Churn-Retraining",
                     "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-retraining"]}]
    topic_id = next(iter(_resources(template, "AWS::SNS::Topic")))
    assert {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": topic_id}} in statements
    actions = {a for s in statements for a in _list(s["Action"])}
    assert not any(a.endswith("*") for a in actions)
    assert actions <= {"logs:CreateLogStream", "logs:PutLogEvents", "sagemaker:ListPipelineExecutions",
                       "sagemaker:StartPipelineExecution", "sns:Publish", "kms:Decrypt", "kms:GenerateDataKey",
                       "sqs:SendMessage", "xray:PutTelemetryRecords", "xray:PutTraceSegments", "s3:GetObject",
                       "s3:PutObject"}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def test_retraining_stack_passes_cdk_nag_and_cfn_lint(built):
    assert built[3] == []
    assert cfn_lint_findings(built[2]) == []


def test_a_pipeline_arn_is_accepted(stack):
    alarm = cloudwatch.Alarm(stack, "A", metric=cloudwatch.Metric(namespace="N", metric_name="M"), threshold=1,
                             evaluation_periods=1)
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/Churn"
    trigger = RetrainingTrigger(stack, "R", alarms=[alarm], pipeline_name=arn, storage=MonitoringBucket(stack, "S"))
    policy = next(v for k, v in _resources(template_of(stack).to_json(), "AWS::IAM::Policy").items()
                  if "RetrainRole" in k)
    assert {"Action": ["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"], "Effect": "Allow",
            "Resource": [arn, arn.lower()]} in policy["Properties"]["PolicyDocument"]["Statement"]
    assert trigger.function is not None
    assert trigger.lock_s3_uri is not None and stack.resolve(trigger.lock_s3_uri)["Fn::Join"][1][-1] == \
        "/retraining/churn/lock.json"


def test_reserved_concurrency_is_an_option_and_then_needs_no_lease(stack):
    alarm = cloudwatch.Alarm(stack, "A", metric=cloudwatch.Metric(namespace="N", metric_name="M"), threshold=1,
                             evaluation_periods=1)
    trigger = RetrainingTrigger(stack, "R", alarms=[alarm], pipeline_name="churn", reserve_concurrency=True)
    _, function = _retrain_function(template_of(stack).to_json())
    assert function["ReservedConcurrentExecutions"] == 1
    assert "LOCK_S3_URI" not in function["Environment"]["Variables"]
    assert trigger.lock_s3_uri is None


@pytest.mark.parametrize("kwargs, message", [
    ({"pipeline_name": None}, "Say what retraining is"),
    ({"pipeline_name": "bad name!"}, "Use the pipeline's name"),
    ({"pipeline_name": "p", "pipeline_parameters": {"P": "no_such_field"}}, "Use one of"),
    ({"pipeline_name": "p", "alarms": []}, "Give the alarm(s)"),
    ({"pipeline_name": "p", "storage": None}, "pass storage=<MonitoringBucket>"),
])
def test_bad_retraining_settings_are_reported(stack, kwargs, message):
    alarm = cloudwatch.Alarm(stack, "A", metric=cloudwatch.Metric(namespace="N", metric_name="M"), threshold=1,
                             evaluation_periods=1)
    kwargs = {"alarms": [alarm], "storage": MonitoringBucket(stack, "S"), **kwargs}
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RetrainingTrigger(stack, "R", **kwargs)

