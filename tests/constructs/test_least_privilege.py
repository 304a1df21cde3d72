"""Least privilege, read from the synthesized example app: trust conditions, per-monitor report prefixes,
ECR pull on the image's repository, network isolation of analyzer jobs, encrypted execution logs."""

from __future__ import annotations

import importlib.util
import json
import sys

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    CapturedEndpoint,
    DataQualityMonitor,
    Engine,
    JobNetwork,
    MonitoringBucket,
)

from .conftest import MODEL_IMAGE, REPO_ROOT, new_app, template_of, template_text

_spec = importlib.util.spec_from_file_location("example_app_least_privilege", REPO_ROOT / "app.py")
example_app = importlib.util.module_from_spec(_spec)
sys.modules["example_app_least_privilege"] = example_app
_spec.loader.exec_module(example_app)
BASELINE = str(REPO_ROOT / "demo" / "baseline")


@pytest.fixture(scope="module", params=["standalone", "model-monitor"])
def template(request, tmp_path_factory) -> dict:
    app = new_app(tmp_path_factory.mktemp(request.param))
    app.node.set_context(example_app.ENGINE_KEY, request.param)
    # as deployed: with the model's image (without one the template refuses to deploy)
    app.node.set_context(example_app.CONTEXT_KEY, [{"name": "churn", "imageUri": MODEL_IMAGE}])
    (stack,) = example_app.build_app(app)
    return template_of(stack).to_json()


def _of_type(template: dict, type_: str) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == type_}


def _trust(template: dict, role_id: str) -> list[dict]:
    return template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]


def _statements(template: dict):
    for policy_id, policy in _of_type(template, "AWS::IAM::Policy").items():
        for statement in policy["PolicyDocument"]["Statement"]:
            yield policy_id, statement




def test_sagemaker_roles_trust_sagemaker_for_this_account_only(template):
    roles = [k for k, v in _of_type(template, "AWS::IAM::Role").items()
             if v["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}]
    assert len(roles) == 4  # the endpoint's and the three monitors' job roles
    for role in roles:
        (statement,) = _trust(template, role)
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_state_machine_roles_trust_only_their_own_state_machine(template):
    machines = _of_type(template, "AWS::StepFunctions::StateMachine")
    for machine in machines.values():
        (statement,) = _trust(template, machine["RoleArn"]["Fn::GetAtt"][0])
        assert statement["Principal"] == {"Service": "states.amazonaws.com"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        arns = [template_text(a) for a in statement["Condition"]["ArnLike"]["aws:SourceArn"]]
        name = machine["StateMachineName"]
        assert arns == [f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:{name}",
                        f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:{name}:*"]


def test_no_role_may_write_the_whole_reports_prefix(template):
    writes = [(p, template_text(r)) for p, s in _statements(template) if "s3:PutObject" in s["Action"]
              for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    reports = [(p, r) for p, r in writes if "/reports/" in r]
    assert reports
    for policy, resource in reports:
        kind = resource.split("/reports/", 1)[1].split("/", 1)[0]
        assert kind in ("data-quality", "model-quality", "model-bias"), resource
        # <reports>/<type>/[_manifests/ | merge/]<endpoint>/<schedule>/* of the policy's own monitor, or the one
        # key of its latest report's copy
        assert "<ModelEndpoint" in resource and resource.endswith(("/*", "/latest-report.html")), resource
        monitor = {"data-quality": "DataQuality", "model-quality": "ModelQuality", "model-bias": "Bias"}[kind]
        assert policy.startswith(f"Model{monitor}"), (policy, resource)


def test_only_window_planners_describe_executions_and_only_their_own_state_machine_s(template):
    machines = [m["StateMachineName"] for m in _of_type(template, "AWS::StepFunctions::StateMachine").values()]
    describes = [(p, template_text(s["Resource"])) for p, s in _statements(template)
                 if "states:DescribeExecution" in s["Action"]]
    assert len(describes) == len(machines)
    for machine in machines:  # a monitor's planner: its role's policy is named after the monitor and the function
        (policy, resource), = [(p, r) for p, r in describes if r.endswith(f":execution:{machine}:*")]
        assert resource.startswith("arn:<AWS::Partition>:states:") and "WindowPlanner" in policy, (policy, resource)


def test_endpoint_pulls_only_its_own_repository(template):
    pulls = [template_text(s["Resource"]) for p, s in _statements(template)
             if p.startswith("ModelEndpointExecutionRole") and "ecr:BatchGetImage" in s["Action"]]
    assert pulls == ["arn:<AWS::Partition>:ecr:us-east-1:123456789012:repository/churn"]


def test_endpoint_pulls_only_its_own_repository_when_the_uri_is_built_from_tokens(tmp_path):
    stack = cdk.Stack(new_app(tmp_path), "Tokens")
    CapturedEndpoint(stack, "Endpoint", bucket=MonitoringBucket(stack, "Storage"),
                     image_uri=f"{cdk.Aws.ACCOUNT_ID}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/churn:latest")
    pulls = [template_text(s["Resource"]) for p, s in _statements(template_of(stack).to_json())
             if p.startswith("EndpointExecutionRole") and "ecr:BatchGetImage" in s["Action"]]
    assert pulls == ["arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/churn"]


def test_analyzer_jobs_run_without_network(template):
    machines = _of_type(template, "AWS::StepFunctions::StateMachine")
    for machine in machines.values():
        definition = json.dumps(machine["DefinitionString"])
        assert '\\"EnableNetworkIsolation\\":true' in definition
    for type_ in ("AWS::SageMaker::MonitoringSchedule", "AWS::SageMaker::ModelQualityJobDefinition",
                  "AWS::SageMaker::ModelBiasJobDefinition"):
        for resource in _of_type(template, type_).values():
            if type_.endswith("Schedule") and "MonitoringJobDefinition" not in resource["MonitoringScheduleConfig"]:
                continue  # it references a typed job definition, checked itself
            assert '"EnableNetworkIsolation": true' in json.dumps(resource)
    assert machines or _of_type(template, "AWS::SageMaker::MonitoringSchedule")


def test_state_machine_execution_logs_use_the_monitoring_key(template):
    machines = _of_type(template, "AWS::StepFunctions::StateMachine")
    for machine in machines.values():
        group_arn = machine["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
        group = template["Resources"][group_arn["Fn::GetAtt"][0]]["Properties"]
        key_id = group["KmsKeyId"]["Fn::GetAtt"][0]
        assert key_id.startswith("ModelStorageKey")
        key_policy = template["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
        (logs,) = [s for s in key_policy if s.get("Sid") == "CloudWatchLogsEncryptLogGroups"]
        assert template_text(logs["Principal"]["Service"]) == "logs.<AWS::Region>.<AWS::URLSuffix>"
        assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]


def _monitor_template(tmp_path, **kwargs) -> dict:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="123456789012", region="us-east-1"))
    DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE, version="v1"),
                       endpoint_name="churn", capture_s3_uri="s3://capture-bucket/datacapture",
                       storage=MonitoringBucket(stack, "Storage"), **kwargs)
    return template_of(stack).to_json()


def test_network_isolation_is_off_only_when_asked(tmp_path):
    template = _monitor_template(tmp_path, network=JobNetwork(enable_network_isolation=False))
    (machine,) = _of_type(template, "AWS::StepFunctions::StateMachine").values()
    assert '\\"EnableNetworkIsolation\\":false' in json.dumps(machine["DefinitionString"])


def test_built_in_images_keep_their_network_by_default(tmp_path):
    from cdk_model_monitor import BaselineColumns, BuiltinImage

    template = _monitor_template(tmp_path, engine=Engine.MODEL_MONITOR,
                                 image=AnalyzerImage.builtin(BuiltinImage.MODEL_MONITOR),
                                 baseline_columns=BaselineColumns.OUTPUT_AND_FEATURES)
    (definition,) = _of_type(template, "AWS::SageMaker::DataQualityJobDefinition").values()
    assert definition["NetworkConfig"]["EnableNetworkIsolation"] is False


def test_an_image_of_a_repository_in_the_stack_is_pulled_from_that_repository_only(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="123456789012", region="us-east-1"))
    repository = ecr.Repository(stack, "Analyzer")
    DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE, version="v1"),
                       endpoint_name="churn", capture_s3_uri="s3://capture-bucket/datacapture",
                       storage=MonitoringBucket(stack, "Storage"),
                       image=AnalyzerImage.from_uri(repository.repository_uri_for_tag("v1")))
    template = template_of(stack).to_json()
    pulls = [template_text(s["Resource"]) for _, s in _statements(template) if "ecr:BatchGetImage" in s["Action"]]
    assert pulls and all("repository/*" not in p for p in pulls)
    assert all("<Analyzer" in p for p in pulls), pulls


def test_every_kms_create_grant_is_for_an_aws_service_only(template):
    found = 0
    for policy_id, statement in _statements(template):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "kms:CreateGrant" in actions:
            found += 1
            assert statement.get("Condition") == {"Bool": {"kms:GrantIsForAWSResource": "true"}}, policy_id
            # an action without that condition key would be denied under it: CreateGrant goes alone
            assert actions == ["kms:CreateGrant"], policy_id
    assert found >= 3


def test_monitors_read_the_captures_of_their_own_endpoint_only(template):
    readers = [(policy_id, statement) for policy_id, statement in _statements(template)
               if statement["Action"] == "s3:ListBucket" and "datacapture" in json.dumps(statement)]
    assert readers
    for policy_id, statement in readers:
        prefixes = json.dumps(statement["Condition"]["StringLike"]["s3:prefix"])
        assert "datacapture/*" not in prefixes.replace(" ", ""), policy_id
        assert "Endpoint" in prefixes or "churn" in prefixes, (policy_id, prefixes)  # the endpoint's name


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_job_roles_are_passed_to_sagemaker_only(template):
    """iam:PassRole without iam:PassedToService would let a state machine hand the job role to any service that
    takes a role (Step Functions' own generated policy for createProcessingJob.sync has the condition)."""
    passes = [(policy_id, s) for policy_id, s in _statements(template) if "iam:PassRole" in _actions(s)]
    assert len(passes) == len(_of_type(template, "AWS::StepFunctions::StateMachine"))
    for policy_id, statement in passes:
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}, \
            policy_id


def test_state_machines_may_list_tags_as_createprocessingjob_sync_needs(template):
    machines = _of_type(template, "AWS::StepFunctions::StateMachine")
    schedules = _of_type(template, "AWS::SageMaker::MonitoringSchedule")
    # the native engine runs SageMaker's schedules and no state machine: nothing there needs ListTags
    assert bool(machines) != bool(schedules)
    for machine in machines.values():
        role = machine["RoleArn"]["Fn::GetAtt"][0]
        statements = [s for policy in _of_type(template, "AWS::IAM::Policy").values()
                      if {"Ref": role} in policy["Roles"] for s in policy["PolicyDocument"]["Statement"]]
        # AWS's generated policy grants it on "*" (the policy may merge it with other actions on "*")
        assert any("sagemaker:ListTags" in _actions(s) and s["Resource"] == "*" and "Condition" not in s
                   for s in statements), role
