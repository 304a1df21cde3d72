"""Monitoring that watches itself: every self-monitoring alarm, queue and composite read from the synthesized
example app (retraining on, both engines), and the retraining rule that must never match "monitoring broken"."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from aws_cdk import Duration
from moto.events.models import EventPattern

from cdk_model_monitor import Schedule
from cdk_model_monitor.schedule import heartbeat

from .conftest import REPO_ROOT, new_app, template_of

_spec = importlib.util.spec_from_file_location("example_app_self_monitoring", REPO_ROOT / "app.py")
example_app = importlib.util.module_from_spec(_spec)
sys.modules["example_app_self_monitoring"] = example_app
_spec.loader.exec_module(example_app)

KINDS = ("data-quality", "model-quality", "model-bias")
ACCOUNT, REGION = "123456789012", "us-east-1"


def _synth(tmp_path_factory, engine: str) -> dict:
    app = new_app(tmp_path_factory.mktemp(engine))
    app.node.set_context(example_app.CONTEXT_KEY, [{"name": "churn", "retrainingPipeline": "churn-retraining"}])
    app.node.set_context(example_app.ENGINE_KEY, engine)
    (stack,) = example_app.build_app(app)
    return template_of(stack).to_json()


@pytest.fixture(scope="module")
def standalone(tmp_path_factory) -> dict:
    return _synth(tmp_path_factory, "standalone")


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> dict:
    return _synth(tmp_path_factory, "model-monitor")


def _resources(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _alarm(template: dict, name: str) -> tuple[str, dict]:
    found = [(k, v["Properties"]) for k, v in _resources(template, "AWS::CloudWatch::Alarm").items()
             if v["Properties"].get("AlarmName") == name]
    assert len(found) == 1, f"no alarm named {name}"
    return found[0]


def _composite(template: dict, name: str) -> dict:
    (found,) = [v["Properties"] for v in _resources(template, "AWS::CloudWatch::CompositeAlarm").values()
                if v["Properties"]["AlarmName"] == name]
    return found


def _rule_alarms(composite: dict) -> set[str]:
    """Logical ids of the alarms a composite alarm's rule names."""
    parts = composite["AlarmRule"]["Fn::Join"][1]
    return {p["Fn::GetAtt"][0] for p in parts if isinstance(p, dict)}


def _logical_id_of_state_machine(template: dict, kind: str) -> str:
    kind_id = {"data-quality": "DataQuality", "model-quality": "ModelQuality", "model-bias": "Bias"}[kind]
    (machine,) = [k for k in _resources(template, "AWS::StepFunctions::StateMachine") if k.startswith(f"Model{kind_id}")]
    return machine


# -- standalone engine ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_failed_timed_out_or_aborted_executions_of_each_state_machine_alarm(standalone, kind):
    _, alarm = _alarm(standalone, f"churn-{kind}-executions")
    machine = _logical_id_of_state_machine(standalone, kind)
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert {s["Metric"]["MetricName"] for s in stats.values()} == {
        "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/States"
        assert stat["Metric"]["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]
        assert stat["Stat"] == "Sum"
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expression == "FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("kind", KINDS)
def test_heartbeat_breaches_when_no_status_arrives_for_three_hourly_windows(standalone, kind):
    _, alarm = _alarm(standalone, f"churn-{kind}-heartbeat")
    assert alarm["Namespace"] == "CdkModelMonitor"
    assert alarm["MetricName"] == "ExecutionFailed"  # every window publishes it, 0 or 1
    assert alarm["Statistic"] == "SampleCount"
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3600, 3, 3)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert alarm["TreatMissingData"] == "breaching"
    assert {d["Name"] for d in alarm["Dimensions"]} == {"Endpoint", "MonitoringSchedule", "MonitorType"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_window_whose_metric_lines_cloudwatch_did_not_take_alarms_from_the_first_line(standalone, kind):
    _, alarm = _alarm(standalone, f"churn-{kind}-metrics-skipped")
    # what lambda/metrics_publisher publishes once per window: the count of lines not sent, 0 when all went out
    assert (alarm["Namespace"], alarm["MetricName"]) == ("CdkModelMonitor", "MetricsSkipped")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert set(dimensions) == {"Endpoint", "MonitoringSchedule", "MonitorType"}
    assert dimensions["MonitorType"] == kind
    assert (alarm["Statistic"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == ("Sum", 1, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"  # the heartbeat answers for windows that publish nothing
    assert "AlarmActions" not in alarm  # it notifies through the composite


@pytest.mark.parametrize("kind", KINDS)
def test_each_schedule_has_an_encrypted_tls_only_dead_letter_queue_with_a_depth_alarm(standalone, kind):
    kind_id = {"data-quality": "DataQuality", "model-quality": "ModelQuality", "model-bias": "Bias"}[kind]
    (schedule,) = [v["Properties"] for k, v in _resources(standalone, "AWS::Scheduler::Schedule").items()
                   if k.startswith(f"Model{kind_id}")]
    queue_id = schedule["Target"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queue = standalone["Resources"][queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    key_id = queue["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert standalone["Resources"][key_id]["Type"] == "AWS::KMS::Key"
    assert key_id.startswith("ModelStorageKey")  # the customer key of the monitoring data
    (policy,) = [v["Properties"] for v in _resources(standalone, "AWS::SQS::QueuePolicy").values()
                 if v["Properties"]["Queues"] == [{"Ref": queue_id}]]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["PolicyDocument"]["Statement"])
    _, alarm = _alarm(standalone, f"churn-{kind}-schedule-dead-letters")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_scheduler_role_may_send_to_its_dead_letter_queue_and_use_its_key(standalone):
    (schedule,) = [v["Properties"] for k, v in _resources(standalone, "AWS::Scheduler::Schedule").items()
                   if k.startswith("ModelDataQuality")]
    role_id = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    queue_id = schedule["Target"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    statements = [s for v in _resources(standalone, "AWS::IAM::Policy").values()
                  if {"Ref": role_id} in v["Properties"]["Roles"] for s in v["Properties"]["PolicyDocument"]["Statement"]]
    assert any("sqs:SendMessage" in s["Action"] and s["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
               for s in statements)
    key_id = standalone["Resources"][queue_id]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert any(set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
               and s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]} for s in statements)
    trust = standalone["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


# -- both engines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["standalone", "native"])
def test_retraining_dead_letter_queue_has_a_depth_alarm(request, engine):
    template = request.getfixturevalue(engine)
    (queue_id,) = [k for k in _resources(template, "AWS::SQS::Queue") if k.startswith("ModelRetrainingDeadLetter")]
    _, alarm = _alarm(template, "churn-retraining-dead-letters")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"


def test_native_no_results_alarm_is_the_heartbeat_in_the_composite(native):
    composite = _composite(native, "churn-monitoring-broken")
    for kind in KINDS:
        logical_id, alarm = _alarm(native, f"churn-{kind}-no-results")
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (3600, 3)  # one period per hourly run
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["Statistic"] == "SampleCount"
        assert logical_id in _rule_alarms(composite)
    assert not _resources(native, "AWS::Scheduler::Schedule")


@pytest.mark.parametrize("engine", ["standalone", "native"])
def test_monitoring_broken_composite_holds_every_self_monitoring_alarm_and_notifies(request, engine):
    template = request.getfixturevalue(engine)
    composite = _composite(template, "churn-monitoring-broken")
    checks = (("executions", "heartbeat", "metrics-skipped", "schedule-dead-letters") if engine == "standalone"
              else ("no-results",))
    expected = {_alarm(template, f"churn-{kind}-{check}")[0] for kind in KINDS for check in checks}
    expected.add(_alarm(template, "churn-retraining-dead-letters")[0])
    assert _rule_alarms(composite) == expected
    (topic,) = _resources(template, "AWS::SNS::Topic")
    assert composite["AlarmActions"] == [{"Ref": topic}] and composite["OKActions"] == [{"Ref": topic}]
    # one notification per incident: the self-monitoring alarms themselves have no actions (standalone)
    for logical_id in expected:
        props = template["Resources"][logical_id]["Properties"]
        if "no-results" not in props["AlarmName"]:
            assert "AlarmActions" not in props


@pytest.mark.parametrize("engine", ["standalone", "native"])
def test_model_unhealthy_composite_holds_no_self_monitoring_alarm(request, engine):
    template = request.getfixturevalue(engine)
    broken = _rule_alarms(_composite(template, "churn-monitoring-broken"))
    assert not broken & _rule_alarms(_composite(template, "churn-model-unhealthy"))


def _alarm_event(alarm_name: str) -> dict:
    return {"version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": ACCOUNT, "time": "2026-11-25T14:05:00Z", "region": REGION,
            "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm_name}"],
            "detail": {"alarmName": alarm_name, "state": {"value": "ALARM"}, "previousState": {"value": "OK"}}}


@pytest.mark.parametrize("engine", ["standalone", "native"])
def test_retraining_rule_never_matches_the_monitoring_broken_alarm(request, engine):
    template = request.getfixturevalue(engine)
    (rule,) = _resources(template, "AWS::Events::Rule").values()
    pattern = json.loads(json.dumps(rule["Properties"]["EventPattern"]))
    names = {k: v["Properties"]["AlarmName"] for k, v in template["Resources"].items()
             if v["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")}
    # the alarms' ARNs as CloudWatch puts them in the event's resources
    pattern["resources"] = [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{names[r['Fn::GetAtt'][0]]}"
                            for r in pattern["resources"]]
    matcher = EventPattern.load(json.dumps(pattern))
    assert matcher.matches_event(_alarm_event("churn-model-unhealthy"))
    assert not matcher.matches_event(_alarm_event("churn-monitoring-broken"))
    for name in names.values():
        if name.endswith(("-executions", "-heartbeat", "-metrics-skipped", "-dead-letters", "-no-results")):
            assert not matcher.matches_event(_alarm_event(name))


def test_self_monitoring_alarms_are_listed_and_on_the_dashboard(tmp_path):
    app = new_app(tmp_path)
    app.node.set_context(example_app.CONTEXT_KEY, [{"name": "churn", "retrainingPipeline": "churn-retraining"}])
    (stack,) = example_app.build_app(app)
    monitoring = stack.monitor.self_monitoring
    names = sorted(a.alarm_name for a in monitoring.created_alarms())
    assert len(names) == 3 * 4 + 1  # per monitor: executions, heartbeat, metrics skipped, schedule dead letters
    assert stack.monitor.monitoring_broken_alarm is monitoring.composite_alarm
    body = json.dumps(template_of(stack).to_json()["Resources"][
        next(k for k in template_of(stack).find_resources("AWS::CloudWatch::Dashboard"))]["Properties"])
    for alarm in [*monitoring.created_alarms(), monitoring.composite_alarm]:
        assert stack.resolve(alarm.alarm_arn)["Fn::GetAtt"][0] in body


# -- the heartbeat's evaluation --------------------------------------------------------------------


@pytest.mark.parametrize("schedule, runtime, expected", [
    (Schedule.hourly(), Duration.hours(1), (3600, 3)),
    (Schedule.daily(hour=3), Duration.hours(1), (86400, 3)),
    (Schedule.every_hours(6), Duration.hours(1), (21600, 3)),
    # a 15-minute rate whose jobs may run an hour: 1.75 h of lateness (the job, its publication and the
    # 15-minute capture delay) is 7 periods, plus the missed one
    (Schedule.rate(Duration.minutes(15)), Duration.hours(1), (900, 8)),
])
def test_heartbeat_is_one_period_per_run_and_tolerates_a_slow_job(schedule, runtime, expected):
    beat = heartbeat(schedule, max_runtime=runtime, missed_windows=3)
    assert (beat.period.to_seconds(), beat.windows) == expected


def test_one_off_run_has_no_heartbeat():
    from cdk_model_monitor import DataWindow

    assert heartbeat(Schedule.once(window=DataWindow()), max_runtime=Duration.hours(1), missed_windows=3) is None
