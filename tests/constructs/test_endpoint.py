"""CapturedEndpoint: data capture settings, validation at synth time, least-privilege role."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker

from cdk_model_monitor import (
    CaptureConfig,
    CapturedEndpoint,
    CaptureMode,
    ConfigurationError,
    MonitoringBucket,
    ProductionVariant,
)

from .conftest import cfn_lint_findings, nag_findings, new_app, template_of

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-model:1.0"
MODEL_DATA = "s3://example-artifacts/churn/model.tar.gz"


def _endpoint(stack, **kwargs) -> CapturedEndpoint:
    storage = MonitoringBucket(stack, "Storage")
    return CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, model_data_url=MODEL_DATA, **kwargs)


def _endpoint_config(stack) -> dict:
    configs = template_of(stack).find_resources("AWS::SageMaker::EndpointConfig")
    assert len(configs) == 1
    return next(iter(configs.values()))["Properties"]


def test_endpoint_config_captures_requests_and_predictions_with_kms(stack):
    _endpoint(stack, capture=CaptureConfig(sampling_percentage=25, prefix="churn"))
    capture = _endpoint_config(stack)["DataCaptureConfig"]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 25
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["CaptureContentTypeHeader"] == {"CsvContentTypes": ["text/csv"],
                                                   "JsonContentTypes": ["application/json"]}
    assert capture["DestinationS3Uri"]["Fn::Join"][1][-1] == "/datacapture/churn"
    assert "Fn::GetAtt" in capture["KmsKeyId"]


def test_output_only_capture(stack):
    _endpoint(stack, capture=CaptureConfig(modes=(CaptureMode.OUTPUT,)))
    assert _endpoint_config(stack)["DataCaptureConfig"]["CaptureOptions"] == [{"CaptureMode": "Output"}]


def test_variants_become_production_variants(stack):
    _endpoint(stack, variants=[ProductionVariant(name="Blue", instance_type="ml.c5.xlarge", instance_count=2),
                               ProductionVariant(name="Green", weight=0.1)])
    variants = _endpoint_config(stack)["ProductionVariants"]
    assert [(v["VariantName"], v["InstanceType"], v["InitialInstanceCount"], v["InitialVariantWeight"])
            for v in variants] == [("Blue", "ml.c5.xlarge", 2, 1.0), ("Green", "ml.m5.large", 1, 0.1)]


def test_storage_volume_is_encrypted_unless_turned_off(stack):
    _endpoint(stack)
    assert "KmsKeyId" in _endpoint_config(stack)


def test_storage_volume_encryption_can_be_turned_off_for_nvme_instances(app):
    stack = cdk.Stack(app, "Nvme")
    _endpoint(stack, encrypt_storage_volume=False,
              variants=[ProductionVariant(instance_type="ml.m5d.large")])
    assert "KmsKeyId" not in _endpoint_config(stack)


def test_capture_uri_names_the_endpoint_and_variant(stack):
    endpoint = _endpoint(stack, endpoint_name="churn-prod", capture=CaptureConfig(prefix="churn"))
    join = stack.resolve(endpoint.capture_s3_uri_for("AllTraffic"))["Fn::Join"][1]
    assert join[-3:] == ["/datacapture/churn/", {"Fn::GetAtt": [stack.get_logical_id(endpoint.endpoint), "EndpointName"]},
                         "/AllTraffic"]
    assert stack.resolve(endpoint.endpoint_name) == {"Fn::GetAtt": [stack.get_logical_id(endpoint.endpoint), "EndpointName"]}
    template_of(stack).has_resource_properties("AWS::SageMaker::Endpoint", {"EndpointName": "churn-prod"})


def test_default_role_pulls_only_its_image_and_reads_only_its_artifact(stack):
    endpoint = _endpoint(stack)
    policies = template_of(stack).find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    pull = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    assert pull["Resource"] == "arn:aws:ecr:us-east-1:123456789012:repository/churn-model"
    artifact = next(s for s in statements if s["Action"] == "s3:GetObject")
    assert artifact["Resource"] == "arn:aws:s3:::example-artifacts/churn/model.tar.gz"
    capture = next(s for s in statements if "s3:PutObject" in s["Action"])
    assert capture["Resource"]["Fn::Join"][1][-1] == "/datacapture/*"
    assert endpoint.role is not None


def test_model_waits_for_the_role_policy(stack):
    _endpoint(stack)
    model = next(iter(template_of(stack).find_resources("AWS::SageMaker::Model").values()))
    assert any(dep.startswith("EndpointExecutionRoleDefaultPolicy") for dep in model["DependsOn"])


def test_existing_role_is_used_as_is(stack):
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/existing-sagemaker-role")
    _endpoint(stack, execution_role=role)
    template = template_of(stack)
    template.resource_count_is("AWS::IAM::Role", 0)
    template.has_resource_properties("AWS::SageMaker::Model",
                                     {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/existing-sagemaker-role"})


def test_capture_config_can_be_put_on_a_users_own_endpoint_config(stack):
    storage = MonitoringBucket(stack, "Storage")
    own = sagemaker.CfnEndpointConfig(
        stack, "Own",
        production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic", model_name="existing-model", initial_instance_count=1,
            instance_type="ml.m5.large")],
        data_capture_config=CaptureConfig(sampling_percentage=10).render(stack, bucket=storage))
    assert stack.resolve(own.data_capture_config)["initialSamplingPercentage"] == 10


@pytest.mark.parametrize("capture, prop", [
    (CaptureConfig(sampling_percentage=150), "capture.sampling_percentage=150"),
    (CaptureConfig(sampling_percentage=-1), "capture.sampling_percentage=-1"),
    (CaptureConfig(sampling_percentage=12.5), "capture.sampling_percentage=12.5"),
    (CaptureConfig(modes=()), "capture.modes=()"),
    (CaptureConfig(csv_content_types=("csv",)), "capture.csv_content_types='csv'"),
    (CaptureConfig(json_content_types=("text/csv",)), "capture.json_content_types="),
])
def test_bad_capture_settings_fail_at_synth_naming_path_value_and_fix(stack, capture, prop):
    with pytest.raises(ConfigurationError) as err:
        _endpoint(stack, capture=capture)
    message = str(err.value)
    assert message.startswith(f"Test/Endpoint: invalid {prop}")
    assert err.value.fix and err.value.fix in message


@pytest.mark.parametrize("kwargs, prop", [
    ({"endpoint_name": "churn_model"}, "endpoint_name"),
    ({"endpoint_name": "x" * 64}, "endpoint_name"),
    ({"variants": [ProductionVariant(name="all traffic")]}, "variants.name"),
    ({"variants": [ProductionVariant(instance_type="m5.large")]}, "variants.instance_type"),
    ({"variants": [ProductionVariant(instance_count=0)]}, "variants.instance_count"),
    ({"variants": [ProductionVariant(), ProductionVariant()]}, "variants"),
    ({"variants": []}, "variants"),
])
def test_names_sagemaker_would_reject_fail_at_synth(stack, kwargs, prop):
    with pytest.raises(ConfigurationError, match=rf"^Test/Endpoint: invalid {prop}="):
        _endpoint(stack, **kwargs)


def test_model_data_url_must_be_s3(stack):
    storage = MonitoringBucket(stack, "Storage")
    with pytest.raises(ConfigurationError, match="invalid model_data_url='/tmp/model.tar.gz'"):
        CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, model_data_url="/tmp/model.tar.gz")


def test_endpoint_passes_cdk_nag_and_cfn_lint(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Nag")
    _endpoint(stack)
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_endpoint_with_deploy_time_image_passes_cdk_nag(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Nag")
    storage = MonitoringBucket(stack, "Storage")
    CapturedEndpoint(stack, "Endpoint", bucket=storage,
                     image_uri=f"{cdk.Aws.ACCOUNT_ID}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/model:latest")
    assert nag_findings(app) == []


def _imported_vpc(stack, subnets):
    return ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-0123456789abcdef0",
                                       availability_zones=["us-east-1a", "us-east-1b"][:len(subnets)],
                                       private_subnet_ids=subnets)


def test_the_model_can_run_in_a_vpc_with_network_isolation(stack):
    subnets, groups = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"], ["sg-0123456789abcdef0"]
    _endpoint(stack, vpc=_imported_vpc(stack, subnets),
              security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "Group", groups[0])],
              enable_network_isolation=True)
    template_of(stack).has_resource_properties("AWS::SageMaker::Model", {
        "VpcConfig": {"Subnets": subnets, "SecurityGroupIds": groups},
        "EnableNetworkIsolation": True})
    policies = template_of(stack).find_resources("AWS::IAM::Policy")
    actions = {a for p in policies.values() for st in p["Properties"]["PolicyDocument"]["Statement"]
               for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert "ec2:CreateNetworkInterface" in actions


def test_a_model_in_a_vpc_passes_cdk_nag(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Vpc")
    _endpoint(stack, vpc=_imported_vpc(stack, ["subnet-0123456789abcdef0"]))
    assert nag_findings(app) == []


def test_deprecated_subnet_and_group_ids_still_place_the_model_with_a_warning(stack):
    with pytest.warns(DeprecationWarning, match="subnet_ids and security_group_ids are deprecated"):
        _endpoint(stack, subnet_ids=["subnet-0123456789abcdef0"], security_group_ids=["sg-0123456789abcdef0"])
    template_of(stack).has_resource_properties("AWS::SageMaker::Model", {
        "VpcConfig": {"Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}})


def test_subnets_without_security_groups_are_refused(stack):
    with pytest.warns(DeprecationWarning), \
            pytest.raises(ConfigurationError, match="Give both subnet_ids and security_group_ids"):
        _endpoint(stack, subnet_ids=["subnet-0123456789abcdef0"])
