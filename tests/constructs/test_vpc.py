"""VPC placement as CDK types (ec2.IVpc, ec2.SubnetSelection, ec2.ISecurityGroup) for the monitoring jobs and
the model: the selected subnets and the given or created security group reach the Processing job, the native
schedule and the CfnModel; the deprecated id strings still work, with a warning."""

from __future__ import annotations

import json
import warnings

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    CapturedEndpoint,
    ConfigurationError,
    DataQualityMonitor,
    DataQualityProps,
    EndpointProps,
    Engine,
    JobNetwork,
    ModelMonitor,
    MonitoringBucket,
)

from .conftest import (
    ANALYZER_URI,
    DEMO_BASELINE,
    MODEL_IMAGE,
    TEST_ENV,
    cfn_lint_findings,
    nag_findings,
    new_app,
    template_of,
)

BASELINE, IMAGE, ENV = DEMO_BASELINE, MODEL_IMAGE, TEST_ENV
ANALYZER = AnalyzerImage.from_uri(ANALYZER_URI)
IMPORTED_SUBNETS = ["subnet-0a0a0a0a0a0a0a0a0", "subnet-0b0b0b0b0b0b0b0b0"]


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    # flow logs: the user's VPC, as cdk-nag wants it (AwsSolutions-VPC7)
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1, flow_logs={"All": ec2.FlowLogOptions()})


def _imported_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(stack, "ImportedVpc", vpc_id="vpc-0123456789abcdef0",
                                       availability_zones=["us-east-1a", "us-east-1b"],
                                       private_subnet_ids=IMPORTED_SUBNETS)


def _monitor(stack: cdk.Stack, network: JobNetwork, **kwargs) -> DataQualityMonitor:
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, endpoint_name="churn")
    return DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=ANALYZER, network=network,
                              baseline=Baseline.from_directory(BASELINE), **kwargs)


def _ref(value: object) -> str:
    """A CloudFormation reference as text: ``@Logical`` for a Ref, ``@Logical.Attr`` for a GetAtt."""
    if isinstance(value, dict) and "Ref" in value:
        return f"@{value['Ref']}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "@" + ".".join(value["Fn::GetAtt"])
    return json.dumps(value)


def _run_analyzer(stack: cdk.Stack) -> dict:
    """The RunAnalyzer state's parameters, references written as ``_ref`` text."""
    machine = next(iter(template_of(stack).find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else _ref(p) for p in parts))["States"]["RunAnalyzer"][
        "Parameters"]


def _logical_ids(stack: cdk.Stack, resource_type: str) -> list[str]:
    return list(template_of(stack).find_resources(resource_type))


def _private_subnets(stack: cdk.Stack, vpc: ec2.Vpc) -> list[str]:
    return [f"@{stack.get_logical_id(s.node.default_child)}" for s in vpc.private_subnets]


def _actions(stack: cdk.Stack) -> set[str]:
    return {a for p in template_of(stack).find_resources("AWS::IAM::Policy").values()
            for st in p["Properties"]["PolicyDocument"]["Statement"]
            for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}


def test_standalone_jobs_run_in_the_vpcs_private_subnets_with_a_created_security_group(stack):
    vpc = _vpc(stack)
    monitor = _monitor(stack, JobNetwork(vpc=vpc))
    groups = [g for g in _logical_ids(stack, "AWS::EC2::SecurityGroup")]
    assert groups == [stack.get_logical_id(monitor.vpc_placement.security_groups[0].node.default_child)]
    assert _run_analyzer(stack)["NetworkConfig"]["VpcConfig"] == {
        "Subnets": _private_subnets(stack, vpc), "SecurityGroupIds": [f"@{groups[0]}.GroupId"]}
    assert "ec2:CreateNetworkInterface" in _actions(stack)


def test_the_created_security_group_has_no_inbound_rules(stack):
    _monitor(stack, JobNetwork(vpc=_vpc(stack)))
    group = next(iter(template_of(stack).find_resources("AWS::EC2::SecurityGroup").values()))["Properties"]
    assert "SecurityGroupIngress" not in group
    template_of(stack).resource_count_is("AWS::EC2::SecurityGroupIngress", 0)


def test_given_subnets_and_security_groups_reach_the_native_schedule_of_an_imported_vpc(stack):
    vpc = _imported_vpc(stack)
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef0")
    _monitor(stack, JobNetwork(vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                               security_groups=[group]), engine=Engine.MODEL_MONITOR)
    schedule = next(iter(template_of(stack).find_resources("AWS::SageMaker::MonitoringSchedule").values()))
    network = schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["NetworkConfig"]
    assert network["VpcConfig"] == {"Subnets": IMPORTED_SUBNETS, "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    template_of(stack).resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_the_model_runs_in_the_selected_subnets_with_a_created_security_group(stack):
    vpc = _vpc(stack)
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=MonitoringBucket(stack, "Storage"), image_uri=IMAGE,
                                vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC))
    model = next(iter(template_of(stack).find_resources("AWS::SageMaker::Model").values()))["Properties"]
    group = stack.get_logical_id(endpoint.vpc_placement.security_groups[0].node.default_child)
    assert model["VpcConfig"] == {
        "Subnets": [{"Ref": stack.get_logical_id(s.node.default_child)} for s in vpc.public_subnets],
        "SecurityGroupIds": [{"Fn::GetAtt": [group, "GroupId"]}]}
    assert "ec2:CreateNetworkInterface" in _actions(stack)


def test_the_model_of_an_imported_vpc_takes_its_subnets_and_given_groups(stack):
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123456789abcdef0")
    CapturedEndpoint(stack, "Endpoint", bucket=MonitoringBucket(stack, "Storage"), image_uri=IMAGE,
                     vpc=_imported_vpc(stack), security_groups=[group])
    template_of(stack).has_resource_properties("AWS::SageMaker::Model", {
        "VpcConfig": {"Subnets": IMPORTED_SUBNETS, "SecurityGroupIds": ["sg-0123456789abcdef0"]}})


@pytest.mark.parametrize("network, prop", [
    (lambda s: JobNetwork(vpc=_imported_vpc(s), subnet_ids=("subnet-1",), security_group_ids=("sg-1",)),
     r"network.subnet_ids=.*not both"),
    (lambda s: JobNetwork(security_groups=[ec2.SecurityGroup.from_security_group_id(s, "G", "sg-1")]),
     r"network.security_groups=.*Give network.vpc="),
    (lambda s: JobNetwork(vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
     r"network.vpc_subnets=.*Give network.vpc="),
    (lambda s: JobNetwork(vpc=_imported_vpc(s), vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
     r"network.vpc_subnets=.*matches no subnet"),
    (lambda s: JobNetwork(vpc=_imported_vpc(s), security_group_ids=("sg-1",)), r"network.security_group_ids=.*not both"),
    (lambda s: JobNetwork(subnet_ids="subnet-1", security_group_ids=("sg-1",)),  # a string: never split into letters
     r"network.subnet_ids='subnet-1'. Use a list of id strings"),
    (lambda s: JobNetwork(vpc="vpc-123"), r"network.vpc='vpc-123'. Use an ec2.IVpc"),
    (lambda s: JobNetwork(vpc=_imported_vpc(s), vpc_subnets=["subnet-1"]), r"network.vpc_subnets=.*Use an ec2.SubnetSelection"),
    (lambda s: JobNetwork(vpc=_imported_vpc(s), security_groups=ec2.SecurityGroup.from_security_group_id(s, "G", "sg-1")),
     r"network.security_groups=.*Use a list of ec2.ISecurityGroup"),
])
def test_contradicting_network_settings_are_refused(stack, network, prop):
    with pytest.raises(ConfigurationError, match=rf"^Test/DataQuality: invalid {prop}"):
        _monitor(stack, network(stack))


def test_the_model_refuses_a_vpc_beside_subnet_ids(stack):
    with pytest.raises(ConfigurationError, match=r"^Test/Endpoint: invalid subnet_ids=.*not both"):
        CapturedEndpoint(stack, "Endpoint", bucket=MonitoringBucket(stack, "Storage"), image_uri=IMAGE,
                         vpc=_imported_vpc(stack), subnet_ids=["subnet-1"], security_group_ids=["sg-1"])


def test_deprecated_subnet_ids_warn_and_still_reach_the_job(stack):
    with pytest.warns(DeprecationWarning, match="network.subnet_ids and network.security_group_ids are deprecated"):
        _monitor(stack, JobNetwork(subnet_ids=("subnet-1",), security_group_ids=("sg-1",)))
    assert _run_analyzer(stack)["NetworkConfig"]["VpcConfig"] == {"Subnets": ["subnet-1"],
                                                                   "SecurityGroupIds": ["sg-1"]}


def test_no_vpc_gives_no_warning_and_no_vpc_config(stack):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        _monitor(stack, JobNetwork())
    assert "VpcConfig" not in _run_analyzer(stack)["NetworkConfig"]
    assert "ec2:CreateNetworkInterface" not in _actions(stack)


@pytest.mark.parametrize("engine", list(Engine))
def test_a_facade_in_a_vpc_passes_cdk_nag_and_cfn_lint(tmp_path, engine):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Test", env=ENV)
    vpc = _vpc(stack)
    ModelMonitor(stack, "Churn", model_name="churn", image=ANALYZER, engine=engine,
                 endpoint=EndpointProps(image_uri=IMAGE, vpc=vpc),
                 network=JobNetwork(vpc=vpc),
                 data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE)))
    assert nag_findings(app) == []
    # W3010: the test VPC's availability zones are CDK's placeholders (no context lookup), not ours
    assert [f for f in cfn_lint_findings(template_of(stack).to_json()) if not f.startswith("W3010")] == []
    template_of(stack).resource_count_is("AWS::EC2::SecurityGroup", 2)  # the model's and the monitor's
