"""MonitoringBucket: secure by default, prefixes and least-privilege grants."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match

from cdk_model_monitor import ConfigurationError, MonitoringBucket, MonitoringPrefixes

from .conftest import cfn_lint_findings, nag_findings, new_app, template_of


def _data_bucket(template) -> dict:
    buckets = template.find_resources("AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": Match.any_value()}})
    assert len(buckets) == 1
    return next(iter(buckets.values()))


def test_created_bucket_is_kms_encrypted_versioned_private_and_logged(stack):
    MonitoringBucket(stack, "Storage")
    template = template_of(stack)
    props = _data_bucket(template)["Properties"]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert sse["BucketKeyEnabled"] is True
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert "DestinationBucketName" in props["LoggingConfiguration"]
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_bucket_refuses_requests_without_tls(stack):
    MonitoringBucket(stack, "Storage")
    policies = template_of(stack).find_resources("AWS::S3::BucketPolicy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)
    assert len(policies) == 2  # the data bucket and the access-log bucket


def test_buckets_and_key_are_retained_by_default(stack):
    MonitoringBucket(stack, "Storage")
    template = template_of(stack)
    for resource_type in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource in template.find_resources(resource_type).values():
            assert resource["DeletionPolicy"] == "Retain"


def test_lifecycle_rules_expire_capture_reports_ground_truth_and_old_versions(stack):
    MonitoringBucket(stack, "Storage", capture_retention=cdk.Duration.days(30))
    rules = {r["Id"]: r for r in _data_bucket(template_of(stack))["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireCapturedData"]["Prefix"] == "datacapture/"
    assert rules["ExpireCapturedData"]["ExpirationInDays"] == 30
    assert rules["ExpireReports"] == {"Id": "ExpireReports", "Prefix": "reports/", "ExpirationInDays": 400,
                                      "Status": "Enabled"}
    assert rules["ExpireGroundTruth"]["Prefix"] == "ground-truth/"
    assert rules["ExpireOldVersions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_report_retention_none_keeps_reports_forever(stack):
    MonitoringBucket(stack, "Storage", report_retention=None)
    rules = _data_bucket(template_of(stack))["Properties"]["LifecycleConfiguration"]["Rules"]
    assert "ExpireReports" not in {r["Id"] for r in rules}


def test_existing_bucket_and_key_are_used_and_nothing_is_created(stack):
    key = kms.Key.from_key_arn(stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/test-key")
    bucket = s3.Bucket.from_bucket_name(stack, "Existing", "example-monitoring-bucket")
    storage = MonitoringBucket(stack, "Storage", bucket=bucket, encryption_key=key)
    storage.grant_write_capture(iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))
    template = template_of(stack)
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.resource_count_is("AWS::KMS::Key", 0)
    assert storage.bucket is bucket and storage.encryption_key is key
    assert stack.resolve(storage.capture_s3_uri) == "s3://example-monitoring-bucket/datacapture"


def test_prefix_uris_follow_custom_prefixes(stack):
    storage = MonitoringBucket(stack, "Storage", prefixes=MonitoringPrefixes(capture="capture", reports="out"))
    resolved = stack.resolve(storage.reports_s3_uri)
    assert resolved["Fn::Join"][1][-1] == "/out"
    assert stack.resolve(storage.capture_s3_uri)["Fn::Join"][1][-1] == "/capture"


def test_grant_write_ground_truth_is_limited_to_its_prefix(stack):
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "LabelProducer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    storage.grant_write_ground_truth(role)
    policy = next(iter(template_of(stack).find_resources("AWS::IAM::Policy").values()))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    s3_statement = next(s for s in statements if "s3:PutObject" in s["Action"])
    assert s3_statement["Resource"]["Fn::Join"][1][-1] == "/ground-truth/*"
    assert not any("s3:GetObject" in s["Action"] or "s3:DeleteObject" in str(s["Action"]) for s in statements)
    kms_statement = next(s for s in statements if "kms:GenerateDataKey" in s["Action"])
    assert kms_statement["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]


def test_grant_read_lists_only_its_prefix(stack):
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    storage.grant_read_reports(role)
    policy = next(iter(template_of(stack).find_resources("AWS::IAM::Policy").values()))
    listing = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "s3:ListBucket")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["reports", "reports/*"]}}


@pytest.mark.parametrize("prefixes, prop", [
    (MonitoringPrefixes(capture="/capture"), "prefixes.capture"),
    (MonitoringPrefixes(reports=""), "prefixes.reports"),
    (MonitoringPrefixes(reports="datacapture"), "prefixes"),
])
def test_invalid_prefixes_fail_at_synth_naming_the_construct(stack, prefixes, prop):
    with pytest.raises(ConfigurationError, match=rf"Test/Storage: invalid {prop}="):
        MonitoringBucket(stack, "Storage", prefixes=prefixes)


def test_bucket_with_grants_passes_cdk_nag_and_cfn_lint(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Nag")
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    storage.grant_write_ground_truth(role)
    storage.grant_read_reports(role)
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []
