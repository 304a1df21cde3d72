"""The example app: one stack per model from context, snapshot, cfn-lint and cdk-nag."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from aws_cdk.assertions import Annotations, Match
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


# -- a model without an image: the template refuses to deploy, saying which context key to set -------------------


def _holds(condition, parameters: dict) -> bool:
    """A rule assertion of the template, evaluated as CloudFormation does for the given parameter values."""
    ((function, argument),) = condition.items()
    if function == "Fn::Not":
        return not _holds(argument[0], parameters)
    if function == "Fn::Equals":
        left, right = ((parameters[a["Ref"]] if isinstance(a, dict) else a) for a in argument)
        return left == right
    raise AssertionError(f"unexpected rule function {function}")


def test_a_model_without_an_image_synthesizes_but_refuses_to_deploy_naming_the_context_key(tmp_path):
    """`cdk synth` to look still works; `cdk deploy` stops at CloudFormation's rule check, before any resource is
    created (not at the endpoint, late, in AWS's words), with the fix: the context key and an example."""
    _, (stack,) = _build(tmp_path / "look")
    template = template_of(stack).to_json()
    parameter = template["Parameters"]["ModelImageUri"]
    (assertion,) = template["Rules"]["ModelImageIsConfigured"]["Assertions"]
    assert not _holds(assertion["Assert"], {"ModelImageUri": parameter["Default"]})
    assert _holds(assertion["Assert"], {"ModelImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"})
    (model,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    assert model["Properties"]["PrimaryContainer"]["Image"] == {"Ref": "ModelImageUri"}
    message = assertion["AssertDescription"]
    assert message.startswith("No inference image is configured for model 'churn'")
    assert "Set imageUri of the model in the context key cdk-model-monitor:models" in message
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("No inference image"))
    assert [w.entry.data.split(" [ack:")[0] for w in warnings] == [message]

    # the message's own example is a context that deploys: the image is set, the rule gone
    command = message.split("e.g. ", 1)[1]
    assert command.startswith("cdk deploy ModelMonitor-churn -c '")
    key, value = command.split(" -c ", 1)[1].strip("'").split("=", 1)
    assert key == example_app.CONTEXT_KEY
    assert "<account>.dkr.ecr.<region>.amazonaws.com/churn:<tag>" in value
    with pytest.raises(ValueError, match="SageMaker runs inference images from Amazon ECR"):
        _build(tmp_path / "verbatim", value)  # the placeholders pasted as they are: refused at synth
    value = value.replace("<account>", "123456789012").replace("<region>", "us-east-1").replace("<tag>", "1")
    _, (configured,) = _build(tmp_path / "deploy", value)
    deployable = template_of(configured).to_json()
    assert "ModelImageIsConfigured" not in deployable.get("Rules", {})
    assert "ModelImageUri" not in deployable.get("Parameters", {})
    assert Annotations.from_stack(configured).find_warning("*", Match.string_like_regexp("No inference image")) == []


def test_the_asset_buckets_key_comes_from_the_context(tmp_path):
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    app = new_app(tmp_path)
    app.node.set_context(example_app.ASSET_KEY_KEY, arn)
    (stack,) = example_app.build_app(app)
    decrypting = {logical_id for logical_id, policy in template_of(stack).find_resources("AWS::IAM::Policy").items()
                  for s in policy["Properties"]["PolicyDocument"]["Statement"]
                  if "kms:Decrypt" in s["Action"] and arn in (s["Resource"] if isinstance(s["Resource"], list)
                                                               else [s["Resource"]])}
    assert {p.split("JobRole")[0] for p in decrypting} == {"ModelDataQuality", "ModelModelQuality", "ModelBias"}


def test_an_asset_key_that_is_no_kms_key_arn_is_refused(tmp_path):
    app = new_app(tmp_path)
    app.node.set_context(example_app.ASSET_KEY_KEY, "alias/cdk-assets")
    with pytest.raises(ValueError, match="cdk-model-monitor:assetKmsKeyArn='alias/cdk-assets': give the ARN"):
        example_app.build_app(app)
