"""MonitorAlarms: thresholds from real baselines, periods matched to the schedule, treat-missing-data per
alarm, the composite alarm, actions, and what was created."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns

from cdk_model_monitor import CapturedEndpoint, ConfigurationError, DataQualityMonitor, MonitoringBucket
from cdk_model_monitor.alarms import (
    COMPOSITE_CHUNK,
    AlarmCategory,
    DataQualityAlarmOptions,
    MonitorAlarms,
    bias_thresholds,
    data_quality_thresholds,
    model_quality_thresholds,
)
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.bundled import analyzer_module
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.job import Engine
from cdk_model_monitor.schedule import Schedule

from .conftest import REPO_ROOT, new_app, template_of

BASELINE_DIR = REPO_ROOT / "demo" / "baseline"
DEMO_CONSTRAINTS = json.loads((BASELINE_DIR / "constraints.json").read_text())
rules = analyzer_module("constraint_rules")
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1")


# -- thresholds from baseline files --------------------------------------------------------------------


def test_demo_baseline_gives_every_feature_its_drift_and_completeness_threshold():
    thresholds = {t.name: t for t in data_quality_thresholds(DEMO_CONSTRAINTS)}
    assert list(thresholds) == [f["name"] for f in DEMO_CONSTRAINTS["features"]]
    assert DEMO_CONSTRAINTS["monitoring_config"]["distribution_constraints"]["drift_method"] == "auto"
    for feature in DEMO_CONSTRAINTS["features"]:
        t = thresholds[feature["name"]]
        method = rules.AUTO_METHODS["categorical" if feature["inferred_type"] == "String" else "numeric"]
        assert (t.drift_method, t.drift_threshold, t.drift_verdict) == (
            method, rules.DRIFT_METHODS[method].default_threshold, True)
        assert t.completeness == feature["completeness"]
        assert not t.drift_is_p_value


def test_the_built_in_rule_keeps_the_comparison_threshold_and_the_distance_alarm():
    thresholds = data_quality_thresholds(DEMO_CONSTRAINTS, drift_method="sagemaker")
    comparison = DEMO_CONSTRAINTS["monitoring_config"]["distribution_constraints"]["comparison_threshold"]
    assert {(t.drift_threshold, t.drift_verdict) for t in thresholds} == {(comparison, False)}


def test_real_sdk_baseline_with_legacy_keys_keeps_its_threshold(reference_examples):
    constraints = json.loads((reference_examples / "sdk-monitor-fixtures" / "constraints.json").read_text())
    thresholds = data_quality_thresholds(constraints)
    assert [t.name for t in thresholds] == [f["name"] for f in constraints["features"]]
    assert {t.drift_threshold for t in thresholds} == {
        constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"]}


def test_overrides_switch_features_off_and_categorical_settings_apply():
    constraints = {
        "features": [
            {"name": "age", "inferred_type": "Integral", "completeness": 0.98},
            {"name": "state", "inferred_type": "String", "completeness": 1.0},
            {"name": "noisy", "inferred_type": "Fractional",
             "monitoring_config_overrides": {"evaluate_constraints": "Disabled"}},
            {"name": "quiet", "inferred_type": "Fractional", "monitoringConfigOverrides": {"emitMetrics": "Disabled"}},
            {"name": "income", "inferred_type": "Fractional", "completeness": 1.0,
             "monitoring_config_overrides": {"distribution_constraints": {"comparison_threshold": 0.3}}},
        ],
        "monitoring_config": {"distribution_constraints": {
            "comparison_threshold": 0.2, "categorical_comparison_threshold": 0.05,
            "categorical_drift_method": "ChiSquared", "comparison_method": "Robust"}},
    }
    thresholds = {t.name: t for t in data_quality_thresholds(constraints)}
    assert list(thresholds) == ["age", "state", "income"]
    assert (thresholds["age"].drift_threshold, thresholds["age"].completeness) == (0.2, 0.98)
    assert (thresholds["state"].drift_threshold, thresholds["state"].drift_is_p_value) == (0.05, True)
    assert thresholds["income"].drift_threshold == 0.3


def test_comparison_switched_off_leaves_completeness_only():
    constraints = {"features": [{"name": "x", "inferred_type": "Fractional", "completeness": 1.0}],
                   "monitoring_config": {"distribution_constraints": {"perform_comparison": "Disabled"}}}
    (t,) = data_quality_thresholds(constraints)
    assert (t.drift_threshold, t.completeness) == (None, 1.0)


def test_model_quality_thresholds_keep_the_baselines_direction(reference_examples):
    constraints = json.loads((reference_examples / "sdk-model-quality-check" / "good_cases" /
                              "constraints.json").read_text())
    thresholds = {t.name: t for t in model_quality_thresholds(constraints)}
    expected = constraints["regression_constraints"]
    assert set(thresholds) == set(expected)
    for name, spec in expected.items():
        assert (thresholds[name].threshold, thresholds[name].operator) == (spec["threshold"], spec["comparison_operator"])


def test_bias_thresholds_are_the_baselines_distance_from_neutral(reference_examples):
    analysis = json.loads((reference_examples / "ase-model-bias-monitor-adult" / "notebook-output" /
                           "analysis.json").read_text())
    thresholds = bias_thresholds(analysis)
    post = analysis["post_training_bias_metrics"]["facets"]["Sex"][0]
    by_name = {t.name: t for t in thresholds if t.stage == "Post-Training"}
    for metric in post["metrics"]:
        if metric["value"] is None:
            continue
        neutral = 0.0  # Clarify's rule measures DI from 0 too, and the analyzer's violations follow it
        t = by_name[metric["name"]]
        assert t.max_distance == pytest.approx(abs(metric["value"] - neutral))
        assert (t.facet, t.facet_value, t.neutral) == ("Sex", post["value_or_threshold"], neutral)
    assert {t.stage for t in thresholds} == {"Pre-training", "Post-Training"}
    # Clarify's file has no bias_drift_decision: its alarms keep Clarify's rule on the value
    assert not any(t.verdict for t in thresholds)
    ours = {**analysis, "bias_drift_decision": {"comparison": "significance", "baseline_size": 1000}}
    assert all(t.verdict for t in bias_thresholds(ours))
    clarify_rule = {**analysis, "bias_drift_decision": {"comparison": "threshold"}}
    assert not any(t.verdict for t in bias_thresholds(clarify_rule))


# -- alarms on a stack ----------------------------------------------------------------------------------


def _monitor(stack, id: str, endpoint, **kwargs) -> DataQualityMonitor:
    return DataQualityMonitor(stack, id, endpoint=endpoint, baseline=Baseline.from_directory(str(BASELINE_DIR)),
                              image=ANALYZER, **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    app = new_app(tmp_path_factory.mktemp("alarms"))
    stack = cdk.Stack(app, "Alarms", env=cdk.Environment(account="123456789012", region="us-east-1"))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn",
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    hourly = _monitor(stack, "Hourly", endpoint)
    daily = _monitor(stack, "Daily", endpoint, schedule=Schedule.daily(hour=2), engine=Engine.MODEL_MONITOR)
    topic = sns.Topic(stack, "Topic")
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    alarms.add_actions(cloudwatch_actions.SnsAction(topic))
    alarms.add_monitor(hourly, baseline=Baseline.from_directory(str(BASELINE_DIR)),
                       options=DataQualityAlarmOptions(drift_thresholds={"plan": 0.25}, drift_windows=2))
    alarms.add_monitor(daily, baseline=Baseline.from_directory(str(BASELINE_DIR)))
    composite = alarms.add_composite_alarm()
    return stack, alarms, composite, template_of(stack).to_json(), (hourly, daily)


def _alarms_by_name(template: dict) -> dict[str, dict]:
    return {r["Properties"]["AlarmName"]: r["Properties"] for r in template["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_feature_gets_drift_and_completeness_alarms_and_the_standalone_monitor_status_alarms(built):
    names = set(_alarms_by_name(built[3]))
    features = [f["name"] for f in DEMO_CONSTRAINTS["features"]]
    hourly = {f"churn-data-quality-{c}" for c in ("execution-failed", "no-data", "violations")}
    hourly |= {f"churn-data-quality-{c}-{f}" for f in features for c in ("drift", "completeness")}
    # the second data-quality monitor's alarms carry its construct id
    daily = {"churn-data-quality-Daily-no-results"}
    daily |= {f"churn-data-quality-Daily-{c}-{f}" for f in features for c in ("drift", "completeness")}
    assert names == hourly | daily


def test_periods_follow_each_monitors_schedule(built):
    by_path = {}
    for created in built[1].created_alarm_details():
        by_path.setdefault(created.monitor_path, set()).add(created.alarm.node.default_child.period)
    hourly, daily = built[4]
    assert by_path[hourly.node.path] == {3600}
    assert by_path[daily.node.path] == {86400}


def test_drift_alarms_use_the_baseline_threshold_unless_overridden_and_the_given_windows(built):
    alarms = [c for c in built[1].created_alarm_details(AlarmCategory.DRIFT) if c.monitor_path.endswith("/Hourly")]
    by_feature = {c.subject: c.alarm.node.default_child for c in alarms}
    # an explicit alarm threshold watches the distance ...
    assert by_feature["plan"].threshold == 0.25
    assert (by_feature["plan"].comparison_operator, by_feature["plan"].metric_name) == (
        "GreaterThanThreshold", "feature_baseline_drift_plan")
    # ... the baseline's sample-size-aware rule the analyzer's verdict, whose effect threshold the dashboard draws
    verdict = by_feature.pop("day_minutes")
    assert (verdict.threshold, verdict.comparison_operator, verdict.metric_name) == (
        1, "GreaterThanOrEqualToThreshold", "feature_drift_violation_day_minutes")
    assert {c.subject: c.effect_threshold for c in alarms}["day_minutes"] == rules.DRIFT_METHODS["wasserstein"].default_threshold
    for alarm in (verdict, *by_feature.values()):
        assert (alarm.evaluation_periods, alarm.datapoints_to_alarm) == (2, 2)
        assert alarm.treat_missing_data == "ignore"


def test_completeness_alarms_fire_below_the_baseline_completeness(built):
    for created in built[1].created_alarm_details(AlarmCategory.COMPLETENESS):
        alarm = created.alarm.node.default_child
        assert alarm.comparison_operator == "LessThanThreshold"
        assert alarm.threshold == next(f["completeness"] for f in DEMO_CONSTRAINTS["features"]
                                       if f["name"] == created.subject)
        assert alarm.metric_name == f"feature_non_null_{created.subject}"


def test_no_data_alarm_needs_three_windows_in_a_row_and_keeps_state_without_reports(built):
    (no_data,) = built[1].created_alarm_details(AlarmCategory.NO_DATA)
    alarm = no_data.alarm.node.default_child
    assert (alarm.metric_name, alarm.namespace, alarm.statistic) == ("ExecutionNoData", "CdkModelMonitor", "Sum")
    assert (alarm.evaluation_periods, alarm.datapoints_to_alarm, alarm.threshold) == (3, 3, 1)
    assert alarm.treat_missing_data == "ignore"


def test_native_engine_gets_a_no_results_alarm_instead_of_status_alarms(built):
    _hourly, daily = built[4]
    daily_categories = {c.category for c in built[1].created_alarm_details() if c.monitor_path == daily.node.path}
    assert AlarmCategory.EXECUTION_FAILED not in daily_categories
    (no_results,) = built[1].created_alarm_details(AlarmCategory.NO_RESULTS)
    alarm = no_results.alarm.node.default_child
    assert (alarm.statistic, alarm.comparison_operator, alarm.treat_missing_data) == (
        "SampleCount", "LessThanThreshold", "breaching")
    assert alarm.metric_name.startswith("feature_")


def test_composite_alarm_rolls_up_the_model_health_alarms_only(built):
    stack, alarms, composite, _template, _ = built
    rule = json.dumps(stack.resolve(composite.node.default_child.alarm_rule))
    for created in alarms.created_alarm_details():
        logical = stack.get_logical_id(created.alarm.node.default_child)
        assert (logical in rule) is created.category.model_health


def test_actions_go_to_the_composite_and_monitoring_health_alarms(built):
    stack, alarms, composite, template, _ = built
    for created in alarms.created_alarm_details():
        props = template["Resources"][stack.get_logical_id(created.alarm.node.default_child)]["Properties"]
        notified = not created.category.model_health
        assert ("AlarmActions" in props, "OKActions" in props) == (notified, notified), created.alarm.node.path
    props = template["Resources"][stack.get_logical_id(composite.node.default_child)]["Properties"]
    topic = next(k for k, v in template["Resources"].items() if v["Type"] == "AWS::SNS::Topic")
    assert props["AlarmActions"] == props["OKActions"] == [{"Ref": topic}]


def test_created_alarms_lists_every_alarm_in_the_template(built):
    _stack, alarms, _, template, _ = built
    assert len(alarms.created_alarms()) == len(_alarms_by_name(template))


def test_many_alarms_are_nested_into_composite_parts(stack):
    storage = MonitoringBucket(stack, "Storage")
    monitor = DataQualityMonitor(stack, "DQ", endpoint_name="churn", capture_s3_uri="s3://captures/datacapture",
                                 storage=storage, image=ANALYZER,
                                 baseline=Baseline.from_s3("s3://baseline-bucket/v1/statistics.json", "s3://baseline-bucket/v1/constraints.json"))
    features = [f"f{i}" for i in range(COMPOSITE_CHUNK + 1)]
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="wide")
    alarms.add_data_quality(monitor, options=DataQualityAlarmOptions(features=features, completeness=False))
    composite = alarms.add_composite_alarm()
    composites = template_of(stack).find_resources("AWS::CloudWatch::CompositeAlarm")
    rules = {props["Properties"]["AlarmName"]: json.dumps(props["Properties"]["AlarmRule"])
             for props in composites.values()}
    assert set(rules) == {"wide-model-unhealthy", "wide-model-unhealthy-part1", "wide-model-unhealthy-part2"}
    assert rules["wide-model-unhealthy-part1"].count("ALARM(") == COMPOSITE_CHUNK
    assert rules["wide-model-unhealthy-part2"].count("ALARM(") == 1
    assert rules["wide-model-unhealthy"].count("ALARM(") == 2
    assert alarms.composite_alarm is composite


def test_alarms_take_a_plain_threshold_and_name_for_metrics_of_your_own(stack):
    storage = MonitoringBucket(stack, "Storage")
    monitor = DataQualityMonitor(stack, "DQ", endpoint_name="churn", capture_s3_uri="s3://captures/datacapture",
                                 storage=storage, image=ANALYZER,
                                 baseline=Baseline.from_s3("s3://baseline-bucket/v1/statistics.json", "s3://baseline-bucket/v1/constraints.json"))
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    created = alarms.add_alarm(monitor, AlarmCategory.DRIFT, monitor.metric_feature("day_minutes"), threshold=300,
                               windows=2, operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                               missing=cloudwatch.TreatMissingData.IGNORE, description="mean day minutes too high",
                               subject="day_minutes-mean")
    template_of(stack).has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "churn-data-quality-drift-day_minutes-mean", "MetricName": "feature_data_day_minutes",
        "Statistic": "Average", "Threshold": 300, "EvaluationPeriods": 2, "Period": 3600})
    assert alarms.model_health_alarms() == [created.alarm]


def test_features_are_needed_when_the_baseline_is_only_in_s3(stack):
    storage = MonitoringBucket(stack, "Storage")
    monitor = DataQualityMonitor(stack, "DQ", endpoint_name="churn", capture_s3_uri="s3://captures/datacapture",
                                 storage=storage, image=ANALYZER,
                                 baseline=Baseline.from_s3("s3://baseline-bucket/v1/statistics.json", "s3://baseline-bucket/v1/constraints.json"))
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    with pytest.raises(ConfigurationError, match="pass DataQualityAlarmOptions\\(features="):
        alarms.add_data_quality(monitor, baseline=Baseline.from_s3("s3://baseline-bucket/v1/statistics.json", "s3://baseline-bucket/v1/constraints.json"))


def test_more_windows_than_cloudwatch_evaluates_are_refused(stack):
    storage = MonitoringBucket(stack, "Storage")
    monitor = DataQualityMonitor(stack, "DQ", endpoint_name="churn", capture_s3_uri="s3://captures/datacapture",
                                 storage=storage, image=ANALYZER, schedule=Schedule.daily(),
                                 baseline=Baseline.from_s3("s3://baseline-bucket/v1/statistics.json", "s3://baseline-bucket/v1/constraints.json"))
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn", no_data_windows=8)
    with pytest.raises(ConfigurationError, match="use at most 7"):
        alarms.add_execution_alarms(monitor)


@pytest.mark.parametrize("prefix", ["", "x" * 121, "bad\nname"])
def test_bad_alarm_name_prefixes_are_refused(stack, prefix):
    with pytest.raises(ConfigurationError, match="alarm_name_prefix"):
        MonitorAlarms(stack, "Alarms", alarm_name_prefix=prefix)


def test_a_monitors_feature_overrides_set_its_alarm_thresholds(tmp_path):
    import aws_cdk as cdk

    from cdk_model_monitor import (
        CapturedEndpoint,
        DataQualityMonitor,
        FeatureOverride,
        MonitorAlarms,
        MonitoringBucket,
    )
    from cdk_model_monitor.baseline import Baseline
    from cdk_model_monitor.images import AnalyzerImage

    from .conftest import REPO_ROOT, new_app

    stack = cdk.Stack(new_app(tmp_path), "Overrides")
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage,
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    baseline = Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline"))
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, baseline=baseline,
                                 image=AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"),
                                 feature_overrides={"day_minutes": FeatureOverride(drift_threshold=0.3),
                                                    "plan": FeatureOverride(check=False)})
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    created = alarms.add_data_quality(monitor, baseline=baseline)
    drift = {c.subject: c for c in created if c.metric_name.startswith("feature_drift_violation_")}
    assert "plan" not in drift and "plan" not in {c.subject for c in created}
    # the override's threshold is the effect the analyzer's verdict needs; the alarm watches that verdict
    assert drift["day_minutes"].effect_threshold == 0.3
    assert drift["eve_minutes"].effect_threshold == 0.1
    assert stack.resolve(drift["day_minutes"].alarm.node.default_child.threshold) == 1


def _wide_baseline(folder, features: int):
    from model_monitor_analyzer.cli import main

    data = folder / "wide.csv"
    data.write_text(",".join(f"f{i}" for i in range(features)) + "\n"
                    + "".join(",".join(str((row * 7 + i) % 13) for i in range(features)) + "\n" for row in range(60)))
    assert main(["baseline", "--dataset", str(data), "--output", str(folder / "baseline"), "--quiet"]) == 0
    return Baseline.from_directory(str(folder / "baseline"))


def _wide_stack(tmp_path, features: int):
    app = new_app(tmp_path / "app")
    stack = cdk.Stack(app, "Wide", env=cdk.Environment(account="123456789012", region="us-east-1"))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn",
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    baseline = _wide_baseline(tmp_path, features)
    monitor = DataQualityMonitor(stack, "Monitor", endpoint=endpoint, baseline=baseline, image=ANALYZER)
    return stack, MonitorAlarms(stack, "Alarms", alarm_name_prefix="wide"), monitor, baseline


def test_a_baseline_with_too_many_features_for_per_feature_alarms_says_what_to_do(tmp_path):
    _stack, alarms, monitor, baseline = _wide_stack(tmp_path, 240)  # 480 alarms: past CloudFormation's 500 resources
    with pytest.raises(ConfigurationError, match=r"240 features make up to 480 per-feature alarms.*"
                                                 r"DataQualityAlarmOptions\(features=\[\.\.\.\]\).*metric_drift_share"):
        alarms.add_monitor(monitor, baseline=baseline)


def test_a_wide_baseline_within_the_limit_synthesizes_under_cloudformations_resource_limit(tmp_path):
    stack, alarms, monitor, baseline = _wide_stack(tmp_path, 140)
    alarms.add_monitor(monitor, baseline=baseline)
    alarms.add_composite_alarm()
    assert len(template_of(stack).to_json()["Resources"]) < 500
