"""asset_kms_key: the jobs read local baselines and the bias config from the CDK bootstrap's asset bucket, which
``cdk bootstrap --bootstrap-kms-key-id`` encrypts with a key of the user's; the job role may decrypt with that key
exactly when it reads an asset."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    DataQualityMonitor,
    DataQualityProps,
    EndpointProps,
    Engine,
    ModelMonitor,
    MonitoringBucket,
)

from .conftest import (
    ANALYZER_URI,
    DEMO_BASELINE,
    MODEL_IMAGE,
    cfn_lint_findings,
    nag_findings,
    new_app,
    template_of,
)
from .test_bias_monitor import _monitor as bias_monitor

ASSET_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_BASELINE = Baseline.from_s3("s3://baselines-elsewhere/statistics.json", "s3://baselines-elsewhere/constraints.json")


def _decrypts_with_the_asset_key(stack: cdk.Stack, role_prefix: str) -> bool:
    policies = template_of(stack).find_resources("AWS::IAM::Policy")
    statements = [s for logical_id, p in policies.items() if logical_id.startswith(role_prefix)
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    return any(ASSET_KEY_ARN in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
               and "kms:Decrypt" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
               for s in statements)


def _asset_key(stack: cdk.Stack) -> kms.IKey:
    return kms.Key.from_key_arn(stack, "AssetKey", ASSET_KEY_ARN)


def _data_quality(stack: cdk.Stack, **kwargs) -> DataQualityMonitor:
    kwargs.setdefault("baseline", Baseline.from_directory(DEMO_BASELINE))
    return DataQualityMonitor(stack, "DataQuality", endpoint_name="churn",
                              capture_s3_uri="s3://capture-bucket/datacapture",
                              storage=MonitoringBucket(stack, "Storage"),
                              image=AnalyzerImage.from_uri(ANALYZER_URI), **kwargs)


@pytest.mark.parametrize("engine", [Engine.STANDALONE, Engine.MODEL_MONITOR])
def test_a_local_baseline_job_may_decrypt_with_the_asset_key(stack, engine):
    _data_quality(stack, engine=engine, asset_kms_key=_asset_key(stack))
    assert _decrypts_with_the_asset_key(stack, "DataQualityJobRole")


def test_without_the_prop_no_role_touches_the_asset_key(stack):
    _asset_key(stack)
    _data_quality(stack)
    assert not _decrypts_with_the_asset_key(stack, "")


def test_a_job_that_reads_no_asset_gets_no_grant(stack):
    _data_quality(stack, baseline=S3_BASELINE, asset_kms_key=_asset_key(stack))
    assert not _decrypts_with_the_asset_key(stack, "DataQualityJobRole")


def test_the_bias_config_is_an_asset_too(stack):
    bias_monitor(stack, baseline=Baseline.from_s3(None, "s3://baselines-elsewhere/analysis.json"),
                 asset_kms_key=_asset_key(stack))
    assert _decrypts_with_the_asset_key(stack, "BiasJobRole")


def test_the_facade_gives_the_key_to_the_monitors_it_creates_and_stays_nag_and_lint_clean(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Model", env=cdk.Environment(account="123456789012", region="us-east-1"))
    ModelMonitor(stack, "Churn", model_name="churn", endpoint=EndpointProps(image_uri=MODEL_IMAGE),
                 data_quality=DataQualityProps(baseline=Baseline.from_directory(DEMO_BASELINE)),
                 asset_kms_key=_asset_key(stack))
    assert _decrypts_with_the_asset_key(stack, "ChurnDataQualityJobRole")
    assert not _decrypts_with_the_asset_key(stack, "ChurnEndpoint")
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []
