"""The same baseline files fed to the analyzer's checks and to the constructs' alarm thresholds: an alarm
fires exactly when the analyzer writes a violation (data-quality drift and completeness, model quality,
bias drift), for the real SageMaker files, the demo's baselines and hand-made edge cases."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_model_monitor import CapturedEndpoint, DataQualityMonitor, FeatureOverride, MonitoringBucket
from cdk_model_monitor.alarms import (
    MonitorAlarms,
    bias_thresholds,
    data_quality_thresholds,
    model_quality_thresholds,
)
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.monitors.model_quality import QUALITY_METRICS
from model_monitor_analyzer.checks import bias as analyzer_bias
from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks.data_quality import (
    BaselineFeature,
    check_data_quality,
    drift_violation,
    with_feature_overrides,
)
from model_monitor_analyzer.constraint_rules import ESTIMATED_QUALITY_METRICS
from model_monitor_analyzer.monitors.data_quality.request import feature_overrides_from_json
from model_monitor_analyzer.monitors.model_quality.run import read_constraints
from model_monitor_analyzer.profile.datatypes import InferredType
from model_monitor_analyzer.report.bias import parse_analysis
from model_monitor_analyzer.report.constraints import parse_constraints

from ..conftest import REFERENCE_EXAMPLES
from .conftest import REPO_ROOT, new_app, template_of

DEMO = REPO_ROOT / "demo"

# Per-feature overrides where the SDK's fixture puts them (nested under string_constraints /
# num_constraints), the developer guide's camelCase, the ``linf_robust`` / ``linfrobust`` spellings,
# a Disabled evaluate_constraints, a Disabled comparison and an Unknown type.
EDGE_CASES = {
    "version": 0.0,
    "features": [
        {"name": "plan", "inferred_type": "String", "completeness": 0.9,
         "string_constraints": {"domains": ["gold", "silver"], "monitoring_config_overrides": {
             "distribution_constraints": {"categorical_comparison_threshold": 0.3}}}},
        {"name": "minutes", "inferred_type": "Fractional", "completeness": 1.0,
         "num_constraints": {"is_non_negative": True, "monitoring_config_overrides": {
             "distribution_constraints": {"comparison_threshold": 0.25}}}},
        {"name": "region", "inferred_type": "String", "completeness": 1.0,
         "monitoring_config_overrides": {"distribution_constraints": {
             "categorical_drift_method": "ChiSquared", "comparison_method": "linfrobust",
             "categorical_comparison_threshold": 0.05}}},
        {"name": "device", "inferred_type": "String", "completeness": 1.0,
         "monitoringConfigOverrides": {"distributionConstraints": {
             "categoricalDriftMethod": "ChiSquared", "comparisonMethod": "linf_simple"}}},
        {"name": "calls", "inferred_type": "Integral", "completeness": 0.95,
         "num_constraints": {"monitoring_config_overrides": {"evaluate_constraints": "Disabled"}}},
        {"name": "age", "inferred_type": "Integral", "completeness": 0.5,
         "monitoring_config_overrides": {"distribution_constraints": {"perform_comparison": "Disabled"}}},
        {"name": "quiet", "inferred_type": "Fractional", "completeness": 1.0,
         "monitoring_config_overrides": {"emit_metrics": "Disabled"}},
        {"name": "note", "inferred_type": "Unknown", "completeness": 1.0},
    ],
    "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
                          "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1,
                                                       "comparison_method": "Robust"}},
}

# Evaluation off for the whole baseline, back on for one feature; the global ChiSquared spelled as in
# the developer guide's prose.
GLOBALLY_DISABLED = {
    "version": 0.0,
    "features": [
        {"name": "plan", "inferred_type": "String", "completeness": 1.0,
         "string_constraints": {"monitoring_config_overrides": {"evaluate_constraints": "Enabled"}}},
        {"name": "state", "inferred_type": "String", "completeness": 1.0},
        {"name": "minutes", "inferred_type": "Fractional", "completeness": 0.8},
    ],
    "monitoring_config": {"evaluate_constraints": "Disabled",
                          "distribution_constraints": {"categorical_drift_method": "chi_squared",
                                                       "comparison_method": "linf_robust",
                                                       "categorical_comparison_threshold": 0.01}},
}


def _data_quality_documents() -> dict[str, dict]:
    examples = _examples()
    documents = {"edge cases": EDGE_CASES, "globally disabled": GLOBALLY_DISABLED,
                 "demo": json.loads((DEMO / "baseline" / "constraints.json").read_text())}
    for name in ("sdk-data-quality-check/good_cases", "sdk-data-quality-check/bad_cases",
                 "immersion-day-churn-data-quality/notebook-output", "sdk-monitor-fixtures"):
        documents[name] = json.loads((examples / name / "constraints.json").read_text())
    return documents


def _examples() -> Path:
    return REFERENCE_EXAMPLES


def _alarm_fires(value: float, threshold: float, below: bool) -> bool:
    """CloudWatch's LessThanThreshold / GreaterThanThreshold on one datapoint."""
    return value < threshold if below else value > threshold


def _around(threshold: float) -> list[float]:
    step = max(abs(threshold), 1.0) * 1e-6
    return [threshold - step, threshold, threshold + step]


def _analyzer_configs(document: dict, overrides: dict | None = None):
    """The effective config of every feature as the analyzer's check run computes it."""
    constraints = parse_constraints(document)
    if overrides:
        constraints = with_feature_overrides(constraints, overrides)
    result = check_data_quality(constraints=constraints, baseline={}, current={}, rows=0)
    return constraints, result.feature_configs


def _assert_drift_and_completeness_agree(document: dict, alarm_overrides=None, analyzer_overrides=None) -> None:
    constraints, configs = _analyzer_configs(document, analyzer_overrides)
    thresholds = {t.name: t for t in data_quality_thresholds(document, alarm_overrides)}
    global_emits = constraints.monitoring_config.emit_metrics
    for feature in constraints.features:
        config = configs[feature.name]
        alarmed = thresholds.get(feature.name)
        # an alarm exists where the analyzer both checks the feature and publishes its metrics
        assert (alarmed is not None) == (config.evaluate_constraints and config.emit_metrics and global_emits), \
            feature.name
        if alarmed is None:
            continue
        assert alarmed.completeness == feature.completeness, feature.name
        compared = config.perform_comparison and feature.inferred_type in (
            InferredType.INTEGRAL, InferredType.FRACTIONAL, InferredType.STRING)
        assert (alarmed.drift_threshold is not None) == compared, feature.name
        if not compared:
            continue
        baseline = BaselineFeature(name=feature.name, inferred_type=feature.inferred_type)
        if alarmed.drift_verdict:
            # the alarm watches the analyzer's verdict; the verdict needs the effect and the evidence
            for distance in _around(alarmed.drift_threshold):
                for significant in (True, False):
                    violated = drift_violation(feature, baseline, distance, config, significant=significant) is not None
                    assert violated == (significant and distance >= alarmed.drift_threshold), (feature.name, distance)
            continue
        for distance in _around(alarmed.drift_threshold):
            violated = drift_violation(feature, baseline, distance, config) is not None
            assert violated == _alarm_fires(distance, alarmed.drift_threshold, alarmed.drift_is_p_value), \
                (feature.name, distance)


@pytest.mark.parametrize("name", sorted(_data_quality_documents()))
def test_drift_and_completeness_alarms_fire_exactly_when_the_analyzer_violates(name):
    _assert_drift_and_completeness_agree(_data_quality_documents()[name])


def test_overrides_nested_under_string_and_num_constraints_set_the_alarm_thresholds():
    thresholds = {t.name: t for t in data_quality_thresholds(EDGE_CASES)}
    assert (thresholds["plan"].drift_threshold, thresholds["plan"].drift_is_p_value) == (0.3, False)
    assert (thresholds["minutes"].drift_threshold, thresholds["minutes"].drift_is_p_value) == (0.25, False)
    assert "calls" not in thresholds  # evaluate_constraints Disabled under num_constraints


def test_linfrobust_spelling_makes_a_chi_squared_distance_a_p_value_for_the_alarm_too():
    thresholds = {t.name: t for t in data_quality_thresholds(EDGE_CASES)}
    assert (thresholds["region"].drift_threshold, thresholds["region"].drift_is_p_value) == (0.05, True)
    # linf_simple: the chi-squared statistic is a distance, above the threshold is drift
    assert (thresholds["device"].drift_threshold, thresholds["device"].drift_is_p_value) == (0.1, False)


def test_a_feature_re_enabled_under_a_disabled_global_config_is_the_only_one_alarmed():
    thresholds = {t.name: t for t in data_quality_thresholds(GLOBALLY_DISABLED)}
    assert list(thresholds) == ["plan"]
    assert (thresholds["plan"].drift_threshold, thresholds["plan"].drift_is_p_value) == (0.01, True)


def test_a_monitors_feature_overrides_reach_the_alarms_as_they_reach_the_analyzer():
    shorthand = {"minutes": FeatureOverride(drift_threshold=0.4).to_config(),
                 "region": FeatureOverride(drift_threshold=0.2).to_config(),
                 "plan": FeatureOverride(check=False).to_config(),
                 "calls": FeatureOverride(check=True).to_config()}
    analyzer_overrides = feature_overrides_from_json(json.dumps(shorthand))
    _assert_drift_and_completeness_agree(EDGE_CASES, alarm_overrides=shorthand, analyzer_overrides=analyzer_overrides)
    thresholds = {t.name: t for t in data_quality_thresholds(EDGE_CASES, shorthand)}
    assert "plan" not in thresholds and thresholds["calls"].drift_threshold == 0.1
    assert (thresholds["region"].drift_threshold, thresholds["region"].drift_is_p_value) == (0.2, True)


def test_a_bad_monitoring_config_value_is_refused_by_both(tmp_path):
    document = {"features": [{"name": "plan", "inferred_type": "String", "string_constraints": {
        "monitoring_config_overrides": {"distribution_constraints": {"comparison_method": "Sideways"}}}}]}
    with pytest.raises(ValueError, match="comparison_method"):
        parse_constraints(document)
    with pytest.raises(ValueError, match="comparison_method"):
        data_quality_thresholds(document)


def test_synthesized_drift_alarms_follow_overrides_nested_in_the_baseline(tmp_path):
    folder = tmp_path / "baseline"
    shutil.copytree(DEMO / "baseline", folder)
    document = json.loads((folder / "constraints.json").read_text())
    document["monitoring_config"]["distribution_constraints"].pop("drift_method")  # the built-in's rule
    by_name = {f["name"]: f for f in document["features"]}
    by_name["day_minutes"]["num_constraints"]["monitoring_config_overrides"] = {
        "distribution_constraints": {"comparison_threshold": 0.25}}
    by_name["plan"]["string_constraints"]["monitoring_config_overrides"] = {
        "distribution_constraints": {"categorical_drift_method": "ChiSquared", "comparison_method": "linfrobust",
                                     "categorical_comparison_threshold": 0.05}}
    by_name["senior"]["num_constraints"]["monitoring_config_overrides"] = {"evaluate_constraints": "Disabled"}
    (folder / "constraints.json").write_text(json.dumps(document))

    stack = cdk.Stack(new_app(tmp_path), "Shared")
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage,
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    baseline = Baseline.from_directory(str(folder))
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, baseline=baseline,
                                 image=AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"))
    MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn").add_data_quality(monitor, baseline=baseline)
    alarms = {a["Properties"]["MetricName"]: a["Properties"]
              for a in template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName", "").startswith("feature_baseline_drift_")}

    constraints, configs = _analyzer_configs(document)
    for feature in constraints.features:
        alarm = alarms.get(f"feature_baseline_drift_{feature.name}")
        if not configs[feature.name].evaluate_constraints:
            assert alarm is None, feature.name
            continue
        below = alarm["ComparisonOperator"] == "LessThanThreshold"
        assert below or alarm["ComparisonOperator"] == "GreaterThanThreshold"
        baseline_feature = BaselineFeature(name=feature.name, inferred_type=feature.inferred_type)
        for distance in _around(alarm["Threshold"]):
            violated = drift_violation(feature, baseline_feature, distance, configs[feature.name]) is not None
            assert violated == _alarm_fires(distance, alarm["Threshold"], below), (feature.name, distance)
    assert (alarms["feature_baseline_drift_day_minutes"]["Threshold"],
            alarms["feature_baseline_drift_plan"]["Threshold"],
            alarms["feature_baseline_drift_plan"]["ComparisonOperator"]) == (0.25, 0.05, "LessThanThreshold")
    assert "feature_baseline_drift_senior" not in alarms


# -- model quality ------------------------------------------------------------------------------------


def _model_quality_files() -> dict[str, tuple[Path, mq.ProblemType]]:
    files = {"demo": (DEMO / "baseline-model-quality" / "constraints.json", mq.ProblemType.BINARY_CLASSIFICATION)}
    examples = _examples()
    for case in ("good_cases", "bad_cases"):
        files[f"sdk-model-quality-check/{case}"] = (
            examples / "sdk-model-quality-check" / case / "constraints.json", mq.ProblemType.REGRESSION)
    return files


_CLOUDWATCH = {"LessThanThreshold": lambda v, t: v < t, "LessThanOrEqualToThreshold": lambda v, t: v <= t,
               "GreaterThanThreshold": lambda v, t: v > t, "GreaterThanOrEqualToThreshold": lambda v, t: v >= t}


@pytest.mark.parametrize("name", sorted(_model_quality_files()))
def test_model_quality_alarms_fire_exactly_when_the_analyzer_violates(name):
    path, problem = _model_quality_files()[name]
    analyzer = read_constraints(path, problem)
    alarms = {t.name: t for t in model_quality_thresholds(json.loads(path.read_text()))}
    assert [(c.metric, c.threshold, c.operator.value) for c in analyzer] == \
        [(t.name, t.threshold, t.operator) for t in alarms.values()]
    for constraint in analyzer:
        for value in _around(constraint.threshold):
            violated = bool(mq.evaluate_constraints({constraint.metric: mq.MetricValue(value=value, standard_deviation=None)}, [constraint]))
            assert violated == _CLOUDWATCH[alarms[constraint.metric].operator](value, constraint.threshold)


def test_a_model_quality_constraint_without_an_operator_is_refused_by_both(tmp_path):
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps({"regression_constraints": {"mae": {"threshold": 0.5}}}))
    with pytest.raises(Exception, match="comparison_operator"):
        read_constraints(path, mq.ProblemType.REGRESSION)
    with pytest.raises(ValueError, match="comparison_operator"):
        model_quality_thresholds(json.loads(path.read_text()))


def test_a_threshold_written_as_text_is_the_same_number_for_both(tmp_path):
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps({"regression_constraints": {
        "rmse": {"threshold": "0.5776238707827177", "comparison_operator": "GreaterThanThreshold"}}}))
    (analyzer,) = read_constraints(path, mq.ProblemType.REGRESSION)
    (alarm,) = model_quality_thresholds(json.loads(path.read_text()))
    assert analyzer.threshold == alarm.threshold == 0.5776238707827177


def test_the_directions_the_analyzer_suggests_are_the_alarms_directions():
    for problem, suggested in mq.SUGGESTED_CONSTRAINTS.items():
        published = QUALITY_METRICS[next(p for p in QUALITY_METRICS if p.value == problem.value)]
        for metric, operator in suggested:
            assert published[metric] == operator.value, metric
    # error metrics get worse when they grow (contract section 8), scores when they fall
    assert {m for p in QUALITY_METRICS.values() for m, op in p.items() if op == "GreaterThanThreshold"} == \
        {"false_positive_rate", "false_negative_rate", "mae", "mse", "rmse"}


# -- bias drift -----------------------------------------------------------------------------------------


def _bias_analyses() -> dict[str, Path]:
    files = {"demo": DEMO / "baseline-bias" / "analysis.json"}
    examples = _examples()
    files["ase-model-bias-monitor-adult"] = examples / "ase-model-bias-monitor-adult" / "notebook-output" / "analysis.json"
    files["credit-risk-clarify"] = examples / "credit-risk-clarify" / "analysis.json"
    return files


def _moved(document: dict, stage_key: str, facet: str, facet_value: str | None, metric: str, value: float) -> dict:
    moved = json.loads(json.dumps(document))
    for group in moved[stage_key]["facets"][facet]:
        if (None if group.get("value_or_threshold") is None else str(group["value_or_threshold"])) == facet_value:
            for entry in group["metrics"]:
                if entry["name"] == metric:
                    entry["value"] = value
    return moved


@pytest.mark.parametrize("name", sorted(_bias_analyses()))
def test_bias_alarms_fire_exactly_when_the_analyzer_violates(name):
    document = json.loads(_bias_analyses()[name].read_text())
    baseline = parse_analysis(document)
    stage_keys = {"Pre-training": "pre_training_bias_metrics", "Post-Training": "post_training_bias_metrics"}
    thresholds = bias_thresholds(document)
    assert thresholds
    for t in thresholds:
        limit = t.max_distance
        # values on both sides of the neutral point, just inside and just beyond the baseline's distance
        for value in (t.neutral + limit * 0.999, t.neutral - limit * 1.001 - 1e-9, t.neutral + limit * 1.001 + 1e-9):
            current = parse_analysis(_moved(document, stage_keys[t.stage], t.facet, t.facet_value, t.name, value))
            violated = any(v.metric_name == t.name and v.facet == t.facet and v.facet_value == t.facet_value
                           for v in analyzer_bias.bias_drift_violations(baseline=baseline, current=current))
            alarm = abs(value - t.neutral) > limit  # the alarm's ABS(m - neutral) > threshold
            assert violated == alarm, (t.name, t.facet_value, value)


def test_real_bias_drift_violations_are_alarms_and_di_is_measured_from_zero_as_clarify_does(reference_examples):
    folder = reference_examples / "ase-model-bias-monitor-adult" / "notebook-output"
    thresholds = {(t.name, t.facet_value): t for t in bias_thresholds(json.loads((folder / "analysis.json").read_text()))}
    violations = json.loads((folder / "constraint_violations.json").read_text())["violations"]
    assert violations
    for violation in violations:
        current = float(violation["description"].split()[2])
        t = thresholds.get((violation["metric_name"], violation["facet_value"]))
        if t is None or not math.isfinite(current):
            continue
        assert abs(current - t.neutral) > t.max_distance, violation["metric_name"]
    # DI fell from 0.178 to 0.083 in that run without a violation: its distance is measured from 0
    assert "DI" not in {v["metric_name"] for v in violations}
    di = next(t for t in thresholds.values() if t.name == "DI")
    assert di.neutral == 0.0 and not abs(0.083 - di.neutral) > di.max_distance


# -- packaging ------------------------------------------------------------------------------------------

LOAD_RULES = """
import sys
sys.modules.pop("model_monitor_analyzer", None)
from cdk_model_monitor.bundled import analyzer_module
rules = analyzer_module("constraint_rules")
heavy = sorted(m for m in ("numpy", "pyarrow", "scipy", "datasketches", "model_monitor_analyzer") if m in sys.modules)
print(rules.__file__)
print(heavy)
"""


def test_the_constructs_load_the_rules_from_the_analyzers_own_file_without_its_dependencies():
    done = subprocess.run([sys.executable, "-c", LOAD_RULES], capture_output=True, text=True, check=True)
    path, heavy = done.stdout.strip().splitlines()[-2:]
    assert Path(path) == REPO_ROOT / "container" / "src" / "model_monitor_analyzer" / "constraint_rules.py"
    assert heavy == "[]"


# -- window by window: the analyzer's outputs evaluated by the synthesized alarms -----------------------


def _evaluate(alarm: dict, value: float) -> bool:
    """One datapoint through the alarm's comparison, as CloudWatch evaluates it."""
    threshold = alarm["Threshold"]
    return {"GreaterThanThreshold": value > threshold, "GreaterThanOrEqualToThreshold": value >= threshold,
            "LessThanThreshold": value < threshold, "LessThanOrEqualToThreshold": value <= threshold}[
        alarm["ComparisonOperator"]]


def test_the_synthesized_drift_and_quality_alarms_fire_in_exactly_the_windows_the_analyzer_flags(tmp_path):
    from datetime import datetime, timedelta

    from cdk_model_monitor import ModelQualityMonitor, ProblemType
    from demo import data
    from model_monitor_analyzer.cli import main as analyzer

    stack = cdk.Stack(new_app(tmp_path / "app"), "Windows")
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage,
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    image = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1")
    dq_baseline = Baseline.from_directory(str(DEMO / "baseline"))
    mq_baseline = Baseline.from_directory(str(DEMO / "baseline-model-quality"))
    data_quality = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=image, baseline=dq_baseline)
    model_quality = ModelQualityMonitor(stack, "ModelQuality", endpoint=endpoint, image=image, baseline=mq_baseline,
                                        problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="0",
                                        probability_threshold=0.5, inference_attribute="0")
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    alarms.add_data_quality(data_quality, baseline=dq_baseline)
    alarms.add_model_quality(model_quality, baseline=mq_baseline)
    by_metric = {a["Properties"]["MetricName"]: a["Properties"]
                 for a in template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()
                 if "MetricName" in a["Properties"]}
    drift_alarms = {name: a for name, a in by_metric.items() if name.startswith("feature_drift_violation_")}
    quality_alarms = {name: a for name, a in by_metric.items() if name.startswith("quality_violation_")}
    assert drift_alarms and quality_alarms

    first = datetime(2026, 11, 25, 8)
    hours = data.demo_hours(first)
    capture = data.write_capture(tmp_path / "capture", hours, ground_truth=tmp_path / "labels")
    flagged_windows = 0
    for index, _ in enumerate(hours):
        start = first + timedelta(hours=index)
        window = ["--start", f"{start:%Y-%m-%dT%H:%M:%SZ}", "--end", f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"]
        dq_out, mq_out = tmp_path / f"dq{index}", tmp_path / f"mq{index}"
        assert analyzer(["monitor", "--capture", str(capture), "--statistics", str(DEMO / "baseline" / "statistics.json"),
                         "--constraints", str(DEMO / "baseline" / "constraints.json"), "--output", str(dq_out),
                         "--quiet", *window]) == 0
        assert analyzer(["monitor", "--type", "model-quality", "--capture", str(capture), "--ground-truth",
                         str(tmp_path / "labels"), "--constraints", str(DEMO / "baseline-model-quality" / "constraints.json"),
                         "--problem-type", "BinaryClassification", "--inference-attribute", "0",
                         "--probability-attribute", "0", "--probability-threshold", "0.5", "--output", str(mq_out),
                         "--quiet", *window]) == 0
        for out, alarmed, check in ((dq_out, drift_alarms, "baseline_drift_check"), (mq_out, quality_alarms, None)):
            published = {line["MetricName"]: line["Value"] for path in (out / "metrics").glob("*.jsonl")
                         for line in map(json.loads, path.read_text().splitlines()) if "Value" in line}
            if not (out / "constraint_violations.json").exists():
                continue  # a window without traffic publishes no verdict: the alarms ignore it
            violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
            if check:
                violated = {v["feature_name"] for v in violations if v["constraint_check_type"] == check}
                firing = {name.removeprefix("feature_drift_violation_") for name, alarm in alarmed.items()
                          if name in published and _evaluate(alarm, published[name])}
            else:
                # every violation has its alarm but the estimated metrics besides accuracy, which are reported and
                # published without one (README, label-free estimation)
                report_only = {mq_camel(name) for name in ESTIMATED_QUALITY_METRICS[1:]}
                violated = {v["metric_name"] for v in violations} - report_only
                firing = {mq_camel(name.removeprefix("quality_violation_")) for name, alarm in alarmed.items()
                          if name in published and _evaluate(alarm, published[name])}
            assert firing == violated, (out.name, firing, violated)
            flagged_windows += bool(violated)
    assert flagged_windows >= 4  # the drifted and biased hours, for both monitors


def mq_camel(name: str) -> str:
    from model_monitor_analyzer.report.model_quality import camel_case_metric_name

    return camel_case_metric_name(name)
