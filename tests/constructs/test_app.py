"""The example app: one stack per model from context, snapshot, cfn-lint and cdk-nag."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from .conftest import REPO_ROOT, cfn_lint_findings, nag_findings, new_app, normalize, template_of

_spec = importlib.util.spec_from_file_location("example_app", REPO_ROOT / "app.py")
example_app = importlib.util.module_from_spec(_spec)
sys.modules["example_app"] = example_app
_spec.loader.exec_module(example_app)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def _build(tmp_path, models=None, *, nag=False, engine=None):
    app = new_app(tmp_path, nag=nag)
    if models is not None:
        app.node.set_context(example_app.CONTEXT_KEY, models)
    if engine is not None:
        app.node.set_context(example_app.ENGINE_KEY, engine)
    return app, example_app.build_app(app)


def test_example_stack_matches_snapshot(tmp_path, snapshot_json):
    _, (stack,) = _build(tmp_path)
    assert normalize(template_of(stack).to_json()) == snapshot_json


def test_one_stack_per_model_in_context(tmp_path):
    _, stacks = _build(tmp_path, [{"name": "churn"}, {"name": "fraud", "samplingPercentage": 10,
                                                      "instanceType": "ml.c5.large"}])
    assert [s.stack_name for s in stacks] == ["ModelMonitor-churn", "ModelMonitor-fraud"]
    capture = template_of(stacks[1]).find_resources("AWS::SageMaker::EndpointConfig")
    assert next(iter(capture.values()))["Properties"]["DataCaptureConfig"]["InitialSamplingPercentage"] == 10


def test_models_may_come_as_a_json_string_from_the_command_line(tmp_path):
    _, stacks = _build(tmp_path, '[{"name": "churn", "modelDataUrl": "s3://example-artifacts/model.tar.gz"}]')
    template_of(stacks[0]).has_resource_properties(
        "AWS::SageMaker::Model", {"PrimaryContainer": {"ModelDataUrl": "s3://example-artifacts/model.tar.gz"}})


@pytest.mark.parametrize("models, message", [
    ("[{", "is not valid JSON"),
    ([{"imageUri": "x"}], "needs at least a \"name\""),
    ([{"name": "churn", "samplingRate": 5}], "unknown keys ['samplingRate']"),
    ([], "must be a non-empty list"),
    ([{"name": "churn", "alarmEmails": 5}], "alarmEmails must be a list"),
])
def test_bad_context_is_reported_in_one_line(tmp_path, models, message):
    with pytest.raises(ValueError) as err:
        _build(tmp_path, models)
    assert message in str(err.value)


def test_alarm_emails_and_a_retraining_pipeline_come_from_the_context(tmp_path):
    _, (stack,) = _build(tmp_path, [{"name": "churn", "alarmEmails": "ml-oncall@example.com",
                                     "retrainingPipeline": "churn-retraining"}])
    template = template_of(stack)
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email",
                                                                "Endpoint": "ml-oncall@example.com"})
    template.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": {
        "PIPELINE_NAME": "churn-retraining", "MODEL_NAME": "churn"}}})
    template.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmName": "churn-model-unhealthy"})


@pytest.mark.parametrize("engine", ["standalone", "model-monitor"])
def test_example_app_passes_cfn_lint_and_cdk_nag_on_both_engines(tmp_path, engine):
    app, stacks = _build(tmp_path, nag=True, engine=engine)
    assert nag_findings(app) == []
    for stack in stacks:
        assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_example_app_monitors_data_quality_model_quality_and_bias(tmp_path):
    _, (stack,) = _build(tmp_path)
    template = template_of(stack)
    template.resource_count_is("AWS::StepFunctions::StateMachine", 3)
    template.resource_count_is("AWS::Scheduler::Schedule", 3)


def test_native_engine_uses_monitoring_schedules_not_state_machines(tmp_path):
    _, (stack,) = _build(tmp_path, engine="model-monitor")
    template = template_of(stack)
    template.resource_count_is("AWS::SageMaker::MonitoringSchedule", 3)
    template.resource_count_is("AWS::StepFunctions::StateMachine", 0)


def test_unknown_engine_is_refused_with_the_choices(tmp_path):
    with pytest.raises(ValueError, match=r"engine='sagemaker': use one of \['model-monitor', 'standalone'\]"):
        _build(tmp_path, engine="sagemaker")
