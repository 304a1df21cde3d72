"""ModelMonitor: the common case in a few lines on both engines (cdk-nag, cfn-lint, snapshot), every part
exposed, existing objects in place of props, and the errors a user can make."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from syrupy.extensions.json import JSONSnapshotExtension

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    CapturedEndpoint,
    ConfigurationError,
    DataQualityMonitor,
    Engine,
    MonitoringBucket,
)
from cdk_model_monitor.alarms import AlarmCategory, DataQualityAlarmOptions
from cdk_model_monitor.facade import (
    AlarmProps,
    BiasProps,
    BiasSettings,
    DataQualityProps,
    EndpointProps,
    ModelMonitor,
    ModelQualityProps,
    ModelQualitySettings,
    NotificationProps,
    RetrainingProps,
)
from cdk_model_monitor.monitors.bias import BiasDriftMonitor, Facet
from cdk_model_monitor.monitors.model_quality import ModelQualityMonitor, ProblemType
from cdk_model_monitor.notifications import Notifications

from .conftest import REPO_ROOT, cfn_lint_findings, nag_findings, new_app, normalize, template_of

DEMO = REPO_ROOT / "demo"
BASELINE = str(DEMO / "baseline")
FEATURES = [f["name"] for f in json.loads((DEMO / "baseline" / "constraints.json").read_text())["features"]]
QUALITY_CONSTRAINTS = json.loads((DEMO / "baseline-model-quality" / "constraints.json").read_text())
BIAS_ANALYSIS = json.loads((DEMO / "baseline-bias" / "analysis.json").read_text())
BIAS_CONFIG = json.loads((DEMO / "baseline-bias" / "analysis_config.json").read_text())
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1")
ENV = cdk.Environment(account="123456789012", region="us-east-1")


def _full(stack: cdk.Stack, engine: Engine) -> ModelMonitor:
    """The README's example: what a user writes for the common case (the demo's three baselines)."""
    return ModelMonitor(
        stack, "Churn",
        model_name="churn",
        endpoint=EndpointProps(image_uri=IMAGE, model_data_url="s3://example-artifacts/churn/model.tar.gz"),
        data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE)),
        model_quality=ModelQualityProps(
            baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality")),
            settings=ModelQualitySettings(problem_type=ProblemType.BINARY_CLASSIFICATION, inference_attribute="0",
                                          probability_attribute="0", probability_threshold=0.5)),
        bias=BiasProps(
            baseline=Baseline.from_directory(str(DEMO / "baseline-bias")),
            settings=BiasSettings(
                label=BIAS_CONFIG["label"], label_values_or_threshold=BIAS_CONFIG["label_values_or_threshold"],
                facets=[Facet(f["name_or_index"], f["value_or_threshold"]) for f in BIAS_CONFIG["facet"]],
                headers=BIAS_CONFIG["headers"])),
        engine=engine,
        image=ANALYZER,
        notifications=NotificationProps(emails=["ml-oncall@example.com"]),
        retraining=RetrainingProps(pipeline_name="churn-retraining",
                                   pipeline_parameters={"ModelName": "model", "TriggerAlarm": "alarm_name"}),
    )


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Both engines in one app, synthesized once with cdk-nag."""
    app = new_app(tmp_path_factory.mktemp("facade"), nag=True)
    built = {}
    for engine in Engine:
        stack = cdk.Stack(app, f"Facade-{engine.value}", env=ENV)
        built[engine] = (stack, _full(stack, engine))
    findings = nag_findings(app)
    templates = {engine: template_of(stack).to_json() for engine, (stack, _) in built.items()}
    return built, templates, findings


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def test_full_facade_stacks_pass_cdk_nag(full):
    assert full[2] == []


@pytest.mark.parametrize("engine", list(Engine))
def test_full_facade_stacks_pass_cfn_lint(full, engine):
    assert cfn_lint_findings(full[1][engine]) == []


def test_standalone_facade_matches_snapshot(full, snapshot_json):
    assert normalize(full[1][Engine.STANDALONE]) == snapshot_json


def test_every_created_part_is_an_attribute(full):
    _, monitor = full[0][Engine.STANDALONE]
    assert isinstance(monitor.storage, MonitoringBucket)
    assert isinstance(monitor.endpoint, CapturedEndpoint)
    assert isinstance(monitor.data_quality, DataQualityMonitor)
    assert isinstance(monitor.model_quality, ModelQualityMonitor)
    assert isinstance(monitor.bias, BiasDriftMonitor)
    assert monitor.monitors == [monitor.data_quality, monitor.model_quality, monitor.bias]
    assert monitor.alarms is not None and monitor.composite_alarm is monitor.alarms.composite_alarm
    assert monitor.notifications is not None and monitor.dashboard is not None
    assert monitor.retraining is not None and monitor.retraining.function is not None
    assert monitor.retraining.alarms == [monitor.composite_alarm]


def _alarm_names(template: dict) -> set[str]:
    return {r["Properties"]["AlarmName"] for r in template["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def _model_health_names(monitor: ModelMonitor) -> set[str]:
    """The model-health alarms the demo baselines call for: drift and completeness per feature, each published
    model-quality metric of the constraints, each bias metric of the baseline analysis."""
    names = {f"churn-data-quality-{c}-{f}" for f in FEATURES for c in ("drift", "completeness")}
    published = set(monitor.model_quality.quality_metric_names)
    names |= {f"churn-model-quality-{m}" for m in QUALITY_CONSTRAINTS["binary_classification_constraints"]
              if m in published}
    # the demo's model-quality baseline keeps its labelled reference: the estimated accuracy and the prediction
    # drift are alarmed on too, where the analyzer publishes them (our image)
    assert "cdk_model_monitor_performance_estimation" in QUALITY_CONSTRAINTS
    names |= {f"churn-model-quality-{v}" for v in ("estimated_accuracy", "prediction_drift", "concept_shift")
              if v in monitor.model_quality.label_free_metric_names}
    for stage in ("pre_training_bias_metrics", "post_training_bias_metrics"):
        for facet, groups in BIAS_ANALYSIS[stage]["facets"].items():
            for group in groups:
                names |= {f"churn-model-bias-{m['name']}-{facet}-{group['value_or_threshold']}"
                          for m in group["metrics"] if m["value"] is not None}
    return names


def test_default_alarms_of_the_standalone_engine(full):
    _, monitor = full[0][Engine.STANDALONE]
    status = {f"churn-{kind}-{c}" for kind in ("data-quality", "model-quality", "model-bias")
              for c in ("execution-failed", "no-data", "violations")}
    itself = {f"churn-{kind}-{c}" for kind in ("data-quality", "model-quality", "model-bias")
              for c in ("executions", "heartbeat", "metrics-skipped", "schedule-dead-letters")} | {
                  "churn-retraining-dead-letters"}
    assert _alarm_names(full[1][Engine.STANDALONE]) == status | itself | _model_health_names(monitor)


def test_default_alarms_of_the_native_engine(full):
    _, monitor = full[0][Engine.MODEL_MONITOR]
    no_results = {f"churn-{kind}-no-results" for kind in ("data-quality", "model-quality", "model-bias")}
    itself = {"churn-retraining-dead-letters"}  # the no-results alarms are the native heartbeat
    assert _alarm_names(full[1][Engine.MODEL_MONITOR]) == no_results | itself | _model_health_names(monitor)


def test_model_quality_alarms_fire_in_each_metrics_bad_direction(full):
    template = full[1][Engine.STANDALONE]
    alarms = {r["Properties"]["AlarmName"]: r["Properties"] for r in template["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"}
    for name, spec in QUALITY_CONSTRAINTS["binary_classification_constraints"].items():
        alarm = alarms.get(f"churn-model-quality-{name}")
        if alarm is None:
            continue
        # the baseline asks for the sample-size-aware comparison: the alarm watches the analyzer's verdict
        assert QUALITY_CONSTRAINTS["monitoring_config"]["comparison"] == "significance"
        assert (alarm["MetricName"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            f"quality_violation_{name}", 1, "GreaterThanOrEqualToThreshold")
        assert f"{name} {spec['comparison_operator']} {spec['threshold']:g}" in json.dumps(alarm["AlarmDescription"])
    assert "GreaterThanThreshold" in json.dumps(alarms["churn-model-quality-false_positive_rate"]["AlarmDescription"])
    assert "LessThanThreshold" in json.dumps(alarms["churn-model-quality-accuracy"]["AlarmDescription"])


def test_bias_alarms_watch_the_analyzers_verdict_of_our_baseline(full):
    # the demo's baseline is the analyzer's: it asks for the sample-size-aware comparison
    template = full[1][Engine.STANDALONE]
    alarm = next(r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
                 and r["Properties"]["AlarmName"] == "churn-model-bias-DPPL-senior-1")
    assert BIAS_ANALYSIS["bias_drift_decision"]["comparison"] == "significance"
    assert (alarm["MetricName"], alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "bias_drift_violation_DPPL", "Maximum", 1, "GreaterThanOrEqualToThreshold")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert (dimensions["BiasStage"], dimensions["Facet"], dimensions["FacetValue"]) == ("Post-Training", "senior", "1")
    assert "more than chance" in json.dumps(alarm["AlarmDescription"])


@pytest.mark.parametrize("engine", list(Engine))
def test_one_composite_alarm_pages_and_retrains(full, engine):
    template = full[1][engine]
    (composite_id, composite), = [(k, v) for k, v in template["Resources"].items()
                                  if v["Type"] == "AWS::CloudWatch::CompositeAlarm"
                                  and v["Properties"]["AlarmName"] != "churn-monitoring-broken"]
    assert composite["Properties"]["AlarmName"] == "churn-model-unhealthy"
    topic = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::SNS::Topic")
    assert composite["Properties"]["AlarmActions"] == [{"Ref": topic}]
    (rule,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::Events::Rule"
               and "CloudWatch Alarm State Change" in json.dumps(v["Properties"].get("EventPattern", {}))]
    assert rule["Properties"]["EventPattern"]["resources"] == [{"Fn::GetAtt": [composite_id, "Arn"]}]


def test_topic_is_encrypted_tls_only_and_lets_alarms_publish(full):
    template = full[1][Engine.STANDALONE]
    (topic,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::SNS::Topic"]
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::SNS::TopicPolicy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} and s["Action"] == "sns:Publish"
               for s in statements)
    (subscription,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ml-oncall@example.com"


def test_existing_objects_replace_created_parts(stack):
    storage = MonitoringBucket(stack, "MyStorage")
    endpoint = CapturedEndpoint(stack, "MyEndpoint", bucket=storage, image_uri=IMAGE, endpoint_name="churn")
    monitor = DataQualityMonitor(stack, "MyDataQuality", endpoint=endpoint, image=ANALYZER,
                                 baseline=Baseline.from_directory(BASELINE))
    topic = sns.Topic(stack, "MyTopic")
    facade = ModelMonitor(stack, "Churn", model_name="churn", endpoint=endpoint, data_quality=monitor,
                          notifications=topic, dashboard=None,
                          alarms=AlarmProps(alarm_name_prefix="prod-churn", no_data_windows=6,
                                            data_quality=DataQualityAlarmOptions(features=["plan", "state"])))
    assert facade.storage is storage and facade.endpoint is endpoint and facade.data_quality is monitor
    assert facade.notifications.topic is topic and facade.dashboard is None and facade.retraining is None
    alarms = template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()
    names = {r["Properties"]["AlarmName"] for r in alarms}
    # the named features only; their thresholds come from the given monitor's own baseline
    assert names == {"prod-churn-data-quality-execution-failed", "prod-churn-data-quality-no-data",
                     "prod-churn-data-quality-violations", "prod-churn-data-quality-executions",
                     "prod-churn-data-quality-heartbeat", "prod-churn-data-quality-metrics-skipped",
                     "prod-churn-data-quality-schedule-dead-letters",
                     "prod-churn-data-quality-drift-plan",
                     "prod-churn-data-quality-drift-state", "prod-churn-data-quality-completeness-plan",
                     "prod-churn-data-quality-completeness-state"}
    no_data = next(r for r in alarms if r["Properties"]["AlarmName"].endswith("no-data"))
    assert no_data["Properties"]["EvaluationPeriods"] == 6
    assert facade.composite_alarm is not None


def test_a_given_monitor_brings_its_baselines_features_to_the_alarms(stack):
    monitor = DataQualityMonitor(stack, "MyDataQuality", image=ANALYZER, endpoint=CapturedEndpoint(
        stack, "MyEndpoint", bucket=MonitoringBucket(stack, "MyStorage"), image_uri=IMAGE),
        baseline=Baseline.from_directory(BASELINE))
    facade = ModelMonitor(stack, "Churn", model_name="churn",
                          endpoint=monitor.node.scope.node.find_child("MyEndpoint"), data_quality=monitor)
    features = [f["name"] for f in json.loads((Path(BASELINE) / "constraints.json").read_text())["features"]]
    drifts = {a.subject for a in facade.alarms.created_alarm_details() if a.metric_name.startswith("feature_drift_violation_")}
    assert drifts == set(features)


def test_an_endpoint_deployed_elsewhere_is_monitored_from_its_capture_location(stack):
    facade = ModelMonitor(stack, "Churn", model_name="churn",
                          endpoint=CapturedEndpoint.from_endpoint_attributes(
                              stack, "Prod", endpoint_name="churn-prod",
                              capture_s3_uri="s3://capture-bucket/datacapture"),
                          data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE)),
                          image=ANALYZER, notifications=None)
    assert facade.data_quality.endpoint_name == "churn-prod"
    assert facade.data_quality.capture_s3_uri == "s3://capture-bucket/datacapture/churn-prod/AllTraffic"
    template = template_of(stack)
    template.resource_count_is("AWS::SageMaker::Endpoint", 0)
    body = json.dumps(next(iter(template.find_resources("AWS::CloudWatch::Dashboard").values())))
    assert "churn-prod" in body and "Invocations" in body


@pytest.mark.parametrize("kwargs, message", [
    ({"model_name": "churn model"}, "model_name"),
    ({"data_quality": None}, "Monitor something"),
    ({"retraining": RetrainingProps(pipeline_name="p"), "alarms": None}, "Retraining needs alarms"),
    ({"data_quality": DataQualityProps(baseline=Baseline.from_directory(BASELINE), settings={"storage": None})},
     "The facade sets these itself"),
])
def test_facade_reports_what_to_fix(stack, kwargs, message):
    arguments = {"model_name": "churn", "endpoint": EndpointProps(image_uri=IMAGE), "image": ANALYZER,
                 "data_quality": DataQualityProps(baseline=Baseline.from_directory(BASELINE)), **kwargs}
    with pytest.raises(ConfigurationError, match=message):
        ModelMonitor(stack, "Churn", **arguments)


def test_notifications_can_be_shared_between_models(stack):
    shared = Notifications(stack, "Shared", emails=["ml-oncall@example.com"])
    for name in ("churn", "fraud"):
        ModelMonitor(stack, name, model_name=name, endpoint=EndpointProps(image_uri=IMAGE), image=ANALYZER,
                     data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE)),
                     notifications=shared, dashboard=None)
    template = template_of(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)
    composites = template.find_resources("AWS::CloudWatch::CompositeAlarm")
    assert sorted(c["Properties"]["AlarmName"] for c in composites.values()) == [
        "churn-model-unhealthy", "churn-monitoring-broken", "fraud-model-unhealthy", "fraud-monitoring-broken"]


def test_alarm_categories_are_listed_for_every_alarm(full):
    _, monitor = full[0][Engine.STANDALONE]
    categories = {c.category for c in monitor.alarms.created_alarm_details()}
    assert categories == {AlarmCategory.EXECUTION_FAILED, AlarmCategory.NO_DATA, AlarmCategory.VIOLATIONS,
                          AlarmCategory.DRIFT, AlarmCategory.COMPLETENESS, AlarmCategory.MODEL_QUALITY,
                          AlarmCategory.BIAS}
