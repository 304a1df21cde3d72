"""CapturedEndpoint.from_endpoint_attributes: an endpoint deployed elsewhere, monitored like one of this app's;
ExistingEndpoint kept as a deprecated alias that synthesizes the same template."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    CapturedEndpoint,
    CaptureMode,
    ConfigurationError,
    DataQualityMonitor,
    DataQualityProps,
    ExistingEndpoint,
    ICapturedEndpoint,
    ModelMonitor,
    ModelQualityMonitor,
    MonitoringBucket,
    ProblemType,
)

from .conftest import (
    ANALYZER_URI,
    DEMO_BASELINE,
    MODEL_IMAGE,
    REPO_ROOT,
    TEST_ENV,
    cfn_lint_findings,
    nag_findings,
    new_app,
    template_of,
)

BASELINE, IMAGE, ENV = DEMO_BASELINE, MODEL_IMAGE, TEST_ENV
ANALYZER = AnalyzerImage.from_uri(ANALYZER_URI)
CAPTURE = "s3://capture-bucket/datacapture"


def _imported(stack: cdk.Stack, **kwargs) -> ICapturedEndpoint:
    return CapturedEndpoint.from_endpoint_attributes(stack, "Imported", **{
        "endpoint_name": "churn-prod", "capture_s3_uri": CAPTURE, **kwargs})


def _policy_statements(stack: cdk.Stack) -> list[dict]:
    return [s for p in template_of(stack).find_resources("AWS::IAM::Policy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_imported_endpoint_is_a_captured_endpoint_without_resources(stack):
    endpoint = _imported(stack, variant="Blue", capture_modes=(CaptureMode.INPUT,))
    assert isinstance(endpoint, ICapturedEndpoint)
    assert endpoint.endpoint_name == "churn-prod" and endpoint.default_variant == "Blue"
    assert endpoint.capture_s3_uri == f"{CAPTURE}/churn-prod"
    assert endpoint.capture_s3_uri_for("Blue") == f"{CAPTURE}/churn-prod/Blue"
    assert endpoint.capture_modes == frozenset({CaptureMode.INPUT}) and endpoint.bucket is None
    assert [c for c in endpoint.node.find_all() if isinstance(c, cdk.CfnElement)] == []


def test_imported_endpoint_metrics_name_the_endpoint_and_its_variant(stack):
    metric = _imported(stack, variant="Blue").metric_invocations()
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/SageMaker", "Invocations", "Sum")
    assert metric.dimensions == {"EndpointName": "churn-prod", "VariantName": "Blue"}


def test_imported_endpoint_metrics_of_another_variant_name_that_variant(stack):
    latency = _imported(stack, variant="Green").metric_model_latency(variant="Blue")
    assert (latency.metric_name, latency.statistic) == ("ModelLatency", "Average")
    assert latency.dimensions == {"EndpointName": "churn-prod", "VariantName": "Blue"}


def test_grant_read_capture_of_an_imported_endpoint_is_scoped_to_its_own_captures_and_key(stack):
    key = kms.Key(stack, "CaptureKey")
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    grant = _imported(stack, capture_key=key).grant_read_capture(role)
    assert isinstance(grant, iam.Grant) and grant.success
    statements = _policy_statements(stack)
    by_action = {_first_action(s): s for s in statements}
    objects = by_action["s3:GetObject"]["Resource"]
    # the stack's region fixes the partition at synth
    # SageMaker writes under <destination>/<endpoint name>/: other endpoints' captures stay out of reach
    assert objects == "arn:aws:s3:::capture-bucket/datacapture/churn-prod/*"
    assert by_action["s3:ListBucket"]["Condition"] == {
        "StringLike": {"s3:prefix": ["datacapture/churn-prod", "datacapture/churn-prod/*"]}}
    assert "kms:Decrypt" in by_action


def _first_action(statement: dict) -> str:
    action = statement["Action"]
    return action if isinstance(action, str) else action[0]


@pytest.mark.parametrize("kwargs, prop", [
    ({"endpoint_name": "my_endpoint"}, r"from_endpoint_attributes\(endpoint_name\)='my_endpoint'.*no underscores"),
    ({"capture_s3_uri": "capture-bucket/datacapture"}, r"from_endpoint_attributes\(capture_s3_uri\)"),
    ({"capture_modes": ("Input",)}, r"from_endpoint_attributes\(capture_modes\)\[0\]='Input'.*CaptureMode.INPUT"),
    ({"capture_modes": CaptureMode.INPUT}, r"from_endpoint_attributes\(capture_modes\)"),
    ({"variant": "all_traffic"}, r"from_endpoint_attributes\(variant\)"),
])
def test_from_endpoint_attributes_refuses_what_sagemaker_would(stack, kwargs, prop):
    with pytest.raises(ConfigurationError, match=rf"^Test/Imported: invalid {prop}"):
        _imported(stack, **kwargs)


def test_a_monitor_of_an_imported_endpoint_synthesizes_as_one_given_endpoint_name_and_capture_s3_uri(tmp_path):
    def build(imported: bool) -> dict:
        stack = cdk.Stack(new_app(tmp_path / str(imported)), "Test", env=ENV)
        storage = MonitoringBucket(stack, "Storage")
        target = ({"endpoint": _imported(stack, capture_modes=(CaptureMode.INPUT, CaptureMode.OUTPUT))}
                  if imported else {"endpoint_name": "churn-prod", "capture_s3_uri": CAPTURE,
                                    "capture_modes": (CaptureMode.INPUT, CaptureMode.OUTPUT)})
        DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE), image=ANALYZER,
                           storage=storage, **target)
        return template_of(stack).to_json()

    assert build(imported=True) == build(imported=False)


def test_a_monitor_of_an_imported_endpoint_needs_the_monitoring_bucket(stack):
    with pytest.raises(ConfigurationError, match=r"invalid storage=None. Pass storage=MonitoringBucket"):
        DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE), image=ANALYZER,
                           endpoint=_imported(stack))


def test_a_monitor_refuses_capture_modes_beside_an_endpoint_that_states_them(stack):
    with pytest.raises(ConfigurationError, match=r"invalid capture_modes=.*remove capture_modes"):
        DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE), image=ANALYZER,
                           storage=MonitoringBucket(stack, "Storage"), endpoint=_imported(stack),
                           capture_modes=(CaptureMode.INPUT,))


def _facade(stack: cdk.Stack, endpoint) -> ModelMonitor:
    return ModelMonitor(stack, "Churn", model_name="churn", endpoint=endpoint, image=ANALYZER,
                        data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE)))


def test_existing_endpoint_warns_and_synthesizes_the_template_of_from_endpoint_attributes(tmp_path):
    app = new_app(tmp_path / "a")
    old = cdk.Stack(app, "Test", env=ENV)
    with pytest.warns(DeprecationWarning, match="CapturedEndpoint.from_endpoint_attributes"):
        existing = ExistingEndpoint(endpoint_name="churn-prod", capture_s3_uri=CAPTURE, variant="Blue",
                                    capture_modes=(CaptureMode.INPUT,))
    _facade(old, existing)
    new = cdk.Stack(new_app(tmp_path / "b"), "Test", env=ENV)
    facade = ModelMonitor(new, "Churn", model_name="churn", image=ANALYZER,
                          endpoint=CapturedEndpoint.from_endpoint_attributes(
                              new, "Endpoint", endpoint_name="churn-prod", capture_s3_uri=CAPTURE, variant="Blue",
                              capture_modes=(CaptureMode.INPUT,)),
                          data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE)))
    assert facade.data_quality.capture_s3_uri == f"{CAPTURE}/churn-prod/Blue"
    assert template_of(old).to_json() == template_of(new).to_json()


def test_facade_on_an_imported_endpoint_passes_cdk_nag_and_cfn_lint(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Test", env=ENV)
    _facade(stack, _imported(stack, capture_key=kms.Key(stack, "CaptureKey", enable_key_rotation=True)))
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_a_monitor_given_endpoint_name_and_capture_s3_uri_exposes_the_endpoint_it_imported(stack):
    monitor = DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(BASELINE), image=ANALYZER,
                                 storage=MonitoringBucket(stack, "Storage"), endpoint_name="churn-prod",
                                 capture_s3_uri=f"{CAPTURE}/", variant="Blue")
    assert isinstance(monitor.endpoint, ICapturedEndpoint)
    assert (monitor.endpoint.endpoint_name, monitor.endpoint.default_variant) == ("churn-prod", "Blue")
    assert monitor.endpoint.capture_destination_s3_uri == CAPTURE
    assert monitor.capture_s3_uri == f"{CAPTURE}/churn-prod/Blue"


def test_deprecated_existing_endpoint_keeps_its_metrics():
    with pytest.warns(DeprecationWarning):
        existing = ExistingEndpoint(endpoint_name="churn-prod", capture_s3_uri=CAPTURE, variant="Blue")
    latency = existing.metric_model_latency()
    assert (latency.namespace, latency.metric_name, latency.statistic) == ("AWS/SageMaker", "ModelLatency", "Average")
    assert existing.metric_invocations().dimensions == {"EndpointName": "churn-prod", "VariantName": "Blue"}


def test_a_key_arn_string_as_the_capture_key_is_a_configuration_error(stack):
    with pytest.raises(ConfigurationError, match=r"from_endpoint_attributes\(capture_key\)=.*Use a kms.IKey"):
        _imported(stack, capture_key="arn:aws:kms:us-east-1:123456789012:key/abc")


def test_a_baseline_path_string_is_a_configuration_error_naming_the_factories(stack):
    with pytest.raises(ConfigurationError, match=r"invalid baseline='.*'. Use Baseline.from_directory\(path\)"):
        DataQualityMonitor(stack, "DQ", endpoint=_imported(stack), storage=MonitoringBucket(stack, "Storage"),
                           image=ANALYZER, baseline=BASELINE)  # type: ignore[arg-type]


def test_a_model_quality_monitor_of_another_problem_type_than_its_baseline_is_refused(stack):
    with pytest.raises(ConfigurationError, match=r"invalid problem_type=.*holds BinaryClassification constraints"):
        ModelQualityMonitor(stack, "MQ", endpoint=_imported(stack), storage=MonitoringBucket(stack, "Storage"),
                            image=ANALYZER, baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline-model-quality")),
                            problem_type=ProblemType.REGRESSION, inference_attribute="0")
