"""AnalyzerImage and the built-in image table: URIs per region, mappings for agnostic stacks, pull grants."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from cdk_model_monitor import _image_accounts
from cdk_model_monitor._generate_image_accounts import TARGET, load_sdk_tables, render_module
from cdk_model_monitor.errors import ConfigurationError
from cdk_model_monitor.images import AnalyzerImage, BoundImage, BuiltinImage, builtin_image_uri

from .conftest import REPO_ROOT, cfn_lint_findings, nag_findings, new_app, template_of

TABLES = {BuiltinImage.MODEL_MONITOR: _image_accounts.MODEL_MONITOR_ACCOUNTS,
          BuiltinImage.CLARIFY: _image_accounts.CLARIFY_ACCOUNTS}
HAS_DOCKERFILE = (REPO_ROOT / "container" / "Dockerfile").is_file()


def _role(stack: cdk.Stack, id: str = "JobRole") -> iam.Role:
    return iam.Role(stack, id, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def _policy_statements(template: dict, role_logical_prefix: str = "JobRoleDefaultPolicy") -> list[dict]:
    return [s for logical, r in template["Resources"].items()
            if r["Type"] == "AWS::IAM::Policy" and logical.startswith(role_logical_prefix)
            for s in r["Properties"]["PolicyDocument"]["Statement"]]


# -- the generated table ------------------------------------------------------------------------


def test_generated_table_is_what_the_installed_sdk_data_gives():
    assert TARGET.read_text() == render_module(load_sdk_tables())


def test_generated_table_matches_the_contract_for_well_known_regions():
    # contract §11: us-east-1 analyzer 156813124566, clarify 205585389593; eu-south-2 has no Clarify image
    assert _image_accounts.MODEL_MONITOR_ACCOUNTS["us-east-1"] == "156813124566"
    assert _image_accounts.CLARIFY_ACCOUNTS["us-east-1"] == "205585389593"
    assert "eu-south-2" in _image_accounts.MODEL_MONITOR_ACCOUNTS
    assert "eu-south-2" not in _image_accounts.CLARIFY_ACCOUNTS
    assert _image_accounts.MODEL_MONITOR_TAG is None and _image_accounts.CLARIFY_TAG == "1.0"


# -- built-in image URIs ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BuiltinImage))
def test_pinned_region_gives_the_literal_uri_the_sdk_gives_in_every_region(kind):
    from sagemaker.core import image_uris  # the SDK's own resolver (dev dependency), imported lazily: slow

    app = cdk.App()
    for region in TABLES[kind]:
        stack = cdk.Stack(app, f"In-{region}", env=cdk.Environment(region=region))
        uri = builtin_image_uri(stack, kind)
        assert not cdk.Token.is_unresolved(uri)
        assert uri == image_uris.retrieve(kind.value, region=region), region


def test_pinned_region_needs_no_mapping(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Pinned", env=cdk.Environment(region="eu-west-1"))
    role = _role(stack)
    uri = AnalyzerImage.builtin().bind(stack, grantee=role).image_uri
    cdk.CfnOutput(stack, "Uri", value=uri)
    template = template_of(stack).to_json()
    assert uri == "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    assert "Mappings" not in template


def _evaluate(node, region: str, mappings: dict):
    """Evaluate the intrinsics of a built-in image URI as CloudFormation would in ``region``."""
    if isinstance(node, str):
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        return {"AWS::Region": region, "AWS::URLSuffix": "amazonaws.com.cn" if region.startswith("cn-")
                else "amazonaws.com"}[arg]
    if fn == "Fn::FindInMap":
        name, key, attribute = (_evaluate(a, region, mappings) for a in arg)
        return mappings[name][key][attribute]
    if fn == "Fn::Join":
        return arg[0].join(_evaluate(a, region, mappings) for a in arg[1])
    raise AssertionError(f"unexpected intrinsic {fn}")


def test_region_agnostic_stack_looks_the_account_up_in_one_mapping_per_image(tmp_path):
    from sagemaker.core import image_uris

    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Agnostic")
    _role(stack)
    for n, kind in enumerate([BuiltinImage.MODEL_MONITOR, BuiltinImage.CLARIFY, BuiltinImage.MODEL_MONITOR]):
        cdk.CfnOutput(stack, f"Uri{n}", value=builtin_image_uri(stack, kind))
    template = template_of(stack).to_json()

    mappings = template["Mappings"]
    assert sorted(mappings) == ["SageMakerImageAccountsClarify", "SageMakerImageAccountsModelMonitor"]
    assert {r: v["account"] for r, v in mappings["SageMakerImageAccountsModelMonitor"].items()} == \
        _image_accounts.MODEL_MONITOR_ACCOUNTS
    join = template["Outputs"]["Uri0"]["Value"]["Fn::Join"]
    assert join[1][0] == {"Fn::FindInMap": ["SageMakerImageAccountsModelMonitor", {"Ref": "AWS::Region"}, "account"]}
    assert {"Ref": "AWS::URLSuffix"} in join[1]
    for region in ("us-east-1", "eu-west-1", "cn-north-1", "ap-southeast-2"):
        for output, kind in (("Uri0", BuiltinImage.MODEL_MONITOR), ("Uri1", BuiltinImage.CLARIFY)):
            got = _evaluate(template["Outputs"][output]["Value"], region, mappings)
            assert got == image_uris.retrieve(kind.value, region=region)
    assert cfn_lint_findings(template) == []


@pytest.mark.parametrize(("kind", "region"), [(BuiltinImage.CLARIFY, "eu-south-2"),
                                              (BuiltinImage.MODEL_MONITOR, "us-gov-west-1")])
def test_pinned_region_without_the_image_is_refused_naming_the_region_and_the_fix(kind, region):
    stack = cdk.Stack(cdk.App(), "Somewhere", env=cdk.Environment(region=region))
    with pytest.raises(ConfigurationError) as err:
        builtin_image_uri(stack, kind)
    assert region in str(err.value)
    assert "AnalyzerImage.from_asset()" in str(err.value) and "from_uri" in str(err.value)


def test_builtin_image_needs_no_pull_grant(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "S", env=cdk.Environment(region="us-east-1"))
    role = _role(stack)
    image = AnalyzerImage.builtin(BuiltinImage.CLARIFY)
    bound = image.bind(stack, grantee=role)
    assert image.is_builtin and image.builtin_kind is BuiltinImage.CLARIFY
    assert bound == BoundImage(
        image_uri="205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0")
    template_of(stack).resource_count_is("AWS::IAM::Policy", 0)


def test_not_a_builtin_kind_is_refused():
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ConfigurationError, match=r"BuiltinImage\.MODEL_MONITOR"):
        builtin_image_uri(stack, "model-monitor")


# -- images of yours -----------------------------------------------------------------------------


def test_ecr_uri_grants_pull_on_that_repository_only(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    role = _role(stack)
    uri = "210987654321.dkr.ecr.eu-central-1.amazonaws.com/team/analyzer:2.1"
    image = AnalyzerImage.from_uri(uri)
    assert image.bind(stack, grantee=role) == BoundImage(image_uri=uri)
    assert not image.is_builtin
    assert nag_findings(app) == []
    statements = _policy_statements(template_of(stack).to_json())
    pull = next(s for s in statements if "ecr:BatchGetImage" in s["Action"])
    assert pull["Resource"] == "arn:aws:ecr:eu-central-1:210987654321:repository/team/analyzer"
    assert sorted(pull["Action"]) == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                      "ecr:GetDownloadUrlForLayer"]
    token = next(s for s in statements if s["Action"] == "ecr:GetAuthorizationToken")
    assert token["Resource"] == "*"


@pytest.mark.parametrize("uri", ["docker.io/library/python:3.12", "ghcr.io/me/analyzer:1",
                                 "123456789012.dkr.ecr.us-east-1.amazonaws.com/"])
def test_image_outside_ecr_is_refused(uri):
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ConfigurationError) as err:
        AnalyzerImage.from_uri(uri).bind(stack, grantee=_role(stack))
    assert uri in str(err.value) and "ECR" in str(err.value)


def test_token_uri_with_its_repository_grants_pull_on_the_repository(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="us-east-1"))
    repo = ecr.Repository(stack, "Repo", image_scan_on_push=True)
    role = _role(stack)
    bound = AnalyzerImage.from_uri(repo.repository_uri_for_tag("v1"), repository=repo).bind(stack, grantee=role)
    assert cdk.Token.is_unresolved(bound.image_uri)
    assert nag_findings(app) == []
    pull = next(s for s in _policy_statements(template_of(stack).to_json()) if "ecr:BatchGetImage" in s["Action"])
    assert pull["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(repo.node.default_child), "Arn"]}


def test_token_uri_alone_is_limited_to_this_accounts_repositories(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="us-east-1"))
    role = _role(stack)
    uri = cdk.Fn.import_value("AnalyzerImageUri")
    assert AnalyzerImage.from_uri(uri).bind(stack, grantee=role).image_uri == uri
    assert nag_findings(app) == []
    pull = next(s for s in _policy_statements(template_of(stack).to_json()) if "ecr:BatchGetImage" in s["Action"])
    assert pull["Resource"] == "arn:aws:ecr:us-east-1:123456789012:repository/*"


# -- our analyzer as a Docker asset --------------------------------------------------------------


@pytest.mark.skipif(not HAS_DOCKERFILE, reason="container/Dockerfile not written yet")
def test_analyzer_asset_is_built_once_per_stack_for_linux_amd64(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="us-east-1"))
    first, second = _role(stack, "FirstRole"), _role(stack, "SecondRole")
    image = AnalyzerImage.from_asset()
    a = image.bind(stack, grantee=first)
    b = AnalyzerImage.from_asset().bind(cdk.Stack.of(stack), grantee=second)
    assert a.image_uri == b.image_uri and not image.is_builtin
    assert nag_findings(app) == []

    manifest = json.loads((Path(app.outdir) / "S.assets.json").read_text())
    images = manifest["dockerImages"]
    assert len(images) == 1
    (entry,) = images.values()
    assert entry["source"]["platform"] == "linux/amd64"
    staged = Path(app.outdir) / entry["source"]["directory"]
    assert (staged / "Dockerfile").read_bytes() == (REPO_ROOT / "container" / "Dockerfile").read_bytes()
    # the hashed locks the Dockerfile installs from survive .dockerignore into the staged context
    for lock in ("requirements.lock", "requirements-build.lock"):
        assert (staged / lock).read_bytes() == (REPO_ROOT / "container" / lock).read_bytes()

    template = template_of(stack).to_json()
    for role_prefix in ("FirstRoleDefaultPolicy", "SecondRoleDefaultPolicy"):
        pull = next(s for s in _policy_statements(template, role_prefix) if "ecr:BatchGetImage" in s["Action"])
        assert pull["Resource"] == \
            "arn:aws:ecr:us-east-1:123456789012:repository/cdk-hnb659fds-container-assets-123456789012-us-east-1"
    assert stack.resolve(a.image_uri) == {"Fn::Sub": (
        "123456789012.dkr.ecr.us-east-1.${AWS::URLSuffix}/cdk-hnb659fds-container-assets-123456789012-us-east-1:"
        + next(iter(images)))}
