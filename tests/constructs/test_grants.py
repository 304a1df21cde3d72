"""Every ``grant_*`` returns the ``iam.Grant`` it made, as aws-cdk-lib's L2 constructs do, so a user can
make a resource depend on it (``grant.apply_before(...)``) or check ``grant.success``."""

from __future__ import annotations

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from cdk_model_monitor import AnalyzerImage, Baseline, DataQualityMonitor, MonitoringBucket

from .conftest import REPO_ROOT

BASELINE = str(REPO_ROOT / "demo" / "baseline")
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1")


def _monitor(stack, **kwargs):
    return DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE), endpoint_name="churn",
                              capture_s3_uri="s3://capture-bucket/datacapture", image=ANALYZER,
                              storage=MonitoringBucket(stack, "Storage"), **kwargs)


def _role(stack):
    return iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


@pytest.mark.parametrize("method", ["grant_read_capture", "grant_read_reports", "grant_write_reports",
                                    "grant_read_manifests", "grant_write_manifests"])
def test_monitor_grants_return_an_iam_grant(stack, method):
    grant = getattr(_monitor(stack), method)(_role(stack))
    assert isinstance(grant, iam.Grant)
    assert grant.success


def test_data_quality_planner_needs_no_grant_beyond_the_captures(stack):
    grant = _monitor(stack).grant_planner_reads(_role(stack))
    assert isinstance(grant, iam.Grant)
    assert not grant.principal_statements


def test_grant_read_capture_of_an_external_encrypted_capture_covers_its_key(stack):
    key = kms.Key(stack, "CaptureKey")
    grant = _monitor(stack, capture_key=key).grant_read_capture(_role(stack))
    actions = set()
    for statement in grant.principal_statements:
        action = statement.to_statement_json()["Action"]
        actions |= {action} if isinstance(action, str) else set(action)
    assert {"s3:GetObject", "s3:ListBucket", "kms:Decrypt"} <= actions
