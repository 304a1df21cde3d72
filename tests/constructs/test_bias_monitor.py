"""BiasDriftMonitor on both engines: the analysis config from typed props (checked with the analyzer's own
parser), the job's inputs and environment (run end to end through the analyzer's container entrypoint),
typed ModelBias job definitions, validation, metrics, cdk-nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam

from cdk_model_monitor import ConfigurationError
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage, BuiltinImage
from cdk_model_monitor.job import Engine
from cdk_model_monitor.monitors.bias import BiasDriftMonitor, Facet, analysis_config, group_name

from .conftest import REPO_ROOT, cfn_lint_findings, nag_findings, new_app, template_of
from .test_model_quality_monitor import (
    ANALYZER,
    _plan,
    demo_traffic,
    endpoint_and_storage,
    external_target,
    resolved,
    run_synthesized_job,
    states_of,
)

BIAS_BASELINE = REPO_ROOT / "demo" / "baseline-bias"
# The demo's requests: nine features (CSV), the model's score as output; "churn" is the label.
FEATURES = ("account_length", "day_minutes", "eve_minutes", "night_minutes", "intl_calls",
            "customer_service_calls", "senior", "plan", "state")
DEMO = {"label": "churn", "label_values_or_threshold": [1], "facets": [Facet("senior", [1])],
        "headers": [*FEATURES, "churn"], "probability_attribute": "0", "probability_threshold": 0.5,
        "pre_training_methods": ["CI", "DPL"], "post_training_methods": ["DPPL", "AD", "RD", "DAR"]}


def _monitor(stack, **kwargs: Any) -> BiasDriftMonitor:
    endpoint, _ = endpoint_and_storage(stack)
    kwargs.setdefault("image", AnalyzerImage.from_uri(ANALYZER))
    kwargs.setdefault("baseline", Baseline.from_directory(str(BIAS_BASELINE)))
    for key, value in DEMO.items():
        kwargs.setdefault(key, value)
    return BiasDriftMonitor(stack, "Bias", endpoint=endpoint, **kwargs)


# -- the analysis config -------------------------------------------------------------------------


def test_typed_props_render_clarifys_analysis_config_which_the_analyzer_parses():
    from model_monitor_analyzer.monitors.bias.config import FacetConfig, parse_analysis_config

    document = analysis_config(label="Target", label_values_or_threshold=[1],
                               facets=[Facet("Sex", [0]), Facet("Age", 40), Facet(2)], group_variable="Workclass",
                               headers=["Target", "Age", "Workclass", "Sex"], post_training_methods=["DPPL", "DI"])
    assert document == {
        "version": "1.0", "headers": ["Target", "Age", "Workclass", "Sex"], "label": "Target",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "Sex", "value_or_threshold": [0]},
                  {"name_or_index": "Age", "value_or_threshold": [40]}, {"name_or_index": 2}],
        "group_variable": "Workclass", "methods": {"post_training_bias": {"methods": ["DPPL", "DI"]}}}
    config = parse_analysis_config(json.loads(json.dumps(document)))
    assert config.facets == (FacetConfig(name_or_index="Sex", value_or_threshold=(0,)),
                             FacetConfig(name_or_index="Age", value_or_threshold=(40,)),
                             FacetConfig(name_or_index=2, value_or_threshold=None))
    assert (config.label, config.label_values_or_threshold, config.group_variable) == ("Target", (1,), "Workclass")
    assert (config.run_pre_training, config.run_post_training, config.post_training_methods) == \
        (False, True, ("DPPL", "DI"))


def test_the_deployed_config_file_is_the_rendered_config(tmp_path):
    from model_monitor_analyzer.monitors.bias.config import read_analysis_config

    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Config", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = _monitor(stack)
    # file assets are staged into the cloud assembly when they are created: this is what gets uploaded
    staged = Path(app.outdir) / monitor.analysis_config_asset.asset_path
    assert json.loads(staged.read_text()) == monitor.analysis_config
    config = read_analysis_config(staged)
    assert config.headers == (*FEATURES, "churn") and config.pre_training_methods == ("CI", "DPL")


# -- standalone engine ---------------------------------------------------------------------------


def test_job_gets_ground_truth_and_config_inputs_and_the_bias_environment(stack):
    monitor = _monitor(stack, features_attribute="features", inference_attribute="1")
    states = states_of(stack)
    payload = states["PlanWindow"]["Parameters"]
    # captures of the day before the window too (the default look-back, as for model quality)
    assert (payload["window_start_offset"], payload["ground_truth_lookback"]) == ("-PT25H", "PT1H")
    assert payload["monitor_type"] == "model-bias"
    job = states["RunAnalyzer"]["Parameters"]
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert list(inputs) == ["endpoint", "ground_truth", "analysis_config", "baseline_constraints"]
    assert inputs["ground_truth"]["S3Uri.$"] == "$.plan.ground_truth_manifest_uri"
    config_key = monitor.analysis_config_asset.s3_object_key
    assert inputs["analysis_config"]["S3Uri"].endswith(f"/{config_key}")
    assert inputs["analysis_config"]["LocalPath"] == "/opt/ml/processing/input/config"
    env = job["Environment"]
    constraints_name = inputs["baseline_constraints"]["S3Uri"].rsplit("/", 1)[-1]
    assert {k: v for k, v in env.items() if k not in ("dataset_format", "sagemaker_monitoring_schedule_name")} == {
        "analysis_type": "MODEL_BIAS",
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Enabled",
        "CLOUDWATCH_METRICS_DIRECTORY": "/opt/ml/processing/output/metrics",
        "sagemaker_endpoint_name": "REF",
        "baseline_constraints": f"/opt/ml/processing/baseline/constraints/{constraints_name}",
        "ground_truth_source": "/opt/ml/processing/groundtruth",
        "analysis_config": f"/opt/ml/processing/input/config/{config_key}",
        "ground_truth_lookback": "PT24H",
        "features_attribute": "features",
        "inference_attribute": "1",
        "probability_attribute": "0",
        "probability_threshold_attribute": "0.5",
        "start_time.$": "$.plan.ground_truth_start",  # captures from a day before: labels come later
        "end_time.$": "$.plan.end",
        "metric_time.$": "$.plan.metric_time",
    }


def test_job_runs_end_to_end_on_the_demos_traffic_and_labels(tmp_path):
    app = new_app(tmp_path / "app")
    stack = cdk.Stack(app, "E2E", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = BiasDriftMonitor(stack, "Bias", **external_target(stack), **DEMO, image=AnalyzerImage.from_uri(ANALYZER),
                               baseline=Baseline.from_directory(str(BIAS_BASELINE)))
    config = tmp_path / "analysis_config.json"
    config.write_text(json.dumps(monitor.analysis_config))
    first, captures, labels = demo_traffic(tmp_path)
    code, message = run_synthesized_job(stack, tmp_path / "opt-ml", _plan(first), {
        "endpoint": captures, "ground_truth": labels, "analysis_config": config,
        "baseline_constraints": BIAS_BASELINE / "analysis.json"})
    assert code == 0, message
    assert message.startswith("Completed")
    output = tmp_path / "opt-ml" / "processing" / "output"
    analysis = json.loads((output / "analysis.json").read_text())
    post = analysis["post_training_bias_metrics"]["facets"]["senior"][0]
    assert [m["name"] for m in post["metrics"]] == ["AD", "DAR", "DPPL", "RD"]
    lines = [json.loads(line) for f in (output / "metrics").glob("*.jsonl") for line in f.read_text().splitlines()]
    dppl = next(line for line in lines if line["MetricName"] == "bias_metric_DPPL")
    # the published dimensions are exactly those of the construct's metric
    expected = stack.resolve(monitor.metric_bias("DPPL").dimensions)
    assert {d["Name"]: d["Value"] for d in dppl["Dimensions"]} == expected


# -- native engine ---------------------------------------------------------------------------


def test_native_clarify_uses_a_model_bias_job_definition_with_the_config_and_ground_truth(stack):
    monitor = _monitor(stack, engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(BuiltinImage.CLARIFY),
                       features_attribute="features")
    template = template_of(stack)
    (logical, definition), = template.find_resources("AWS::SageMaker::ModelBiasJobDefinition").items()
    props = definition["Properties"]
    spec = props["ModelBiasAppSpecification"]
    assert spec["ImageUri"].endswith(".dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0")
    assert spec["ConfigUri"] == resolved(stack, monitor.analysis_config_s3_uri)
    assert "Environment" not in spec
    job_input = props["ModelBiasJobInput"]
    assert job_input["GroundTruthS3Input"] == {"S3Uri": resolved(stack, monitor.ground_truth_s3_uri)}
    assert {k: v for k, v in job_input["EndpointInput"].items() if k != "EndpointName"} == {
        "LocalPath": "/opt/ml/processing/input/endpoint", "FeaturesAttribute": "features",
        "ProbabilityAttribute": "0", "ProbabilityThresholdAttribute": 0.5, "StartTimeOffset": "-PT25H"}
    assert "ConstraintsResource" in props["ModelBiasBaselineConfig"]
    config = next(iter(template.find_resources("AWS::SageMaker::MonitoringSchedule").values()))[
        "Properties"]["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "ModelBias"
    assert config["MonitoringJobDefinitionName"] == {
        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [logical, "JobDefinitionArn"]}]}]}


def test_native_with_our_image_names_the_analysis_type_and_the_baseline_file(stack):
    _monitor(stack, engine=Engine.MODEL_MONITOR)
    definition = next(iter(template_of(stack).find_resources("AWS::SageMaker::ModelBiasJobDefinition").values()))
    spec = definition["Properties"]["ModelBiasAppSpecification"]
    constraints = definition["Properties"]["ModelBiasBaselineConfig"]["ConstraintsResource"]["S3Uri"]
    # no variable can say where SageMaker puts the ConfigUri: the analyzer finds it by its content
    assert (spec["ImageUri"], spec["Environment"]) == (ANALYZER, {
        "analysis_type": "MODEL_BIAS",
        "baseline_constraints": f"/opt/ml/processing/baseline/constraints/{constraints.rsplit('/', 1)[-1]}"})


def test_job_role_reads_the_config_object_without_wildcards(stack):
    monitor = _monitor(stack)
    logical = stack.get_logical_id(monitor.job_role.node.default_child)
    statements = [s for p in template_of(stack).find_resources("AWS::IAM::Policy").values()
                  if {"Ref": logical} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]
    key = monitor.analysis_config_asset.s3_object_key
    listing = [s for s in statements if s["Action"] == "s3:ListBucket" and s.get("Condition", {}).get("StringEquals")]
    assert {"s3:prefix": key} in [s["Condition"]["StringEquals"] for s in listing]


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "message"), [
    ({"facets": [Facet("churn", [1])]}, r"facets\[0\]='churn'.*not the label"),
    ({"facets": []}, "facets=.*non-empty list of Facet"),
    ({"facets": [Facet("senior", [1]), Facet("senior", [0])]}, r"facets\[1\]='senior'.*each facet once"),
    ({"facets": [Facet("age_band", [1])]}, r"facets\[0\].name_or_index='age_band'.*one of the headers"),
    ({"facets": [Facet("senior", [])]}, r"value_or_threshold=\[\].*non-empty list"),
    ({"facets": ["senior"]}, r"facets=\['senior'\]|facets\[0\]='senior'.*Facet\("),
    ({"label_values_or_threshold": []}, "label_values_or_threshold=.*non-empty list"),
    ({"label": True}, "label=True.*column name"),
    ({"group_variable": "senior"}, "group_variable='senior'.*neither the label nor a facet"),
    ({"probability_threshold": 2}, "probability_threshold=2.*from 0 to 1"),
    ({"post_training_methods": ["DPPL", "XYZ"]}, r"post_training_methods=\['XYZ'\]"),
    ({"headers": ["a", "a"]}, "headers=.*distinct column names"),
    ({"engine": Engine.MODEL_MONITOR, "image": AnalyzerImage.builtin()},
     r"AnalyzerImage.builtin\(BuiltinImage.CLARIFY\)"),
    ({"baseline": Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline-model-quality"))},
     "needs a bias baseline"),
])
def test_invalid_settings_name_the_construct_value_and_fix(stack, options, message):
    with pytest.raises(ConfigurationError, match=message) as raised:
        _monitor(stack, **options)
    assert raised.value.path == "Test/Bias"


# -- metrics ----------------------------------------------------------------------------------


def test_metric_bias_has_the_bias_namespace_and_every_dimension(stack):
    monitor = _monitor(stack)
    dppl = monitor.metric_bias("DPPL")
    assert (dppl.namespace, dppl.metric_name) == ("aws/sagemaker/Endpoints/bias-metrics", "bias_metric_DPPL")
    dimensions = resolved(stack, dppl.dimensions)
    assert {k: v for k, v in dimensions.items() if k not in ("Endpoint", "MonitoringSchedule")} == {
        "BiasStage": "Post-Training", "Label": "churn", "LabelValue": "1", "Facet": "senior", "FacetValue": "1"}
    assert resolved(stack, monitor.metric_bias("CI").dimensions)["BiasStage"] == "Pre-training"
    assert monitor.metric_bias("DCAcc").metric_name == "bias_metric_DCA"


def test_a_facet_value_cloudwatch_refuses_is_named_as_the_analyzer_publishes_it(stack, tmp_path):
    from model_monitor_analyzer.report.bias import write_metric_lines
    from model_monitor_analyzer.report.metrics import cloudwatch_dimension_value

    monitor = _monitor(stack)
    dimensions = resolved(stack, monitor.metric_bias("DPPL", facet_value="São Paulo").dimensions)
    assert dimensions["FacetValue"] == cloudwatch_dimension_value("São Paulo") != "São Paulo"
    line = {"MetricName": "bias_metric_DPPL", "Value": 0.1, "Dimensions": [
        {"Name": "Facet", "Value": "senior"}, {"Name": "FacetValue", "Value": "São Paulo"}]}
    written = json.loads(write_metric_lines([line], tmp_path / "m.jsonl").read_text())
    assert {d["Name"]: d["Value"] for d in written["Dimensions"]}["FacetValue"] == dimensions["FacetValue"]


def test_metric_bias_needs_the_value_of_a_facet_without_values_and_a_known_stage(stack):
    monitor = _monitor(stack, facets=[Facet("senior", [1]), Facet("plan")])
    with pytest.raises(ConfigurationError, match="several facets"):
        monitor.metric_bias("DPPL")
    with pytest.raises(ConfigurationError, match="facet_value=None.*one group per value"):
        monitor.metric_bias("DPPL", facet="plan")
    assert resolved(stack, monitor.metric_bias("DPPL", "plan", "premium").dimensions)["FacetValue"] == "premium"
    with pytest.raises(ConfigurationError, match="stage='Pre-training'.*Post-Training metric"):
        monitor.metric_bias("DPPL", "senior", stage="Pre-training")
    with pytest.raises(ConfigurationError, match="metric='XYZ'"):
        monitor.metric_bias("XYZ")


def test_group_names_follow_analysis_json():
    assert (group_name([1]), group_name(["F", "X"]), group_name([0.5])) == ("1", "F,X", "0.5")


# -- cdk-nag and cfn-lint ------------------------------------------------------------------------


@pytest.mark.parametrize(("engine", "image"), [(Engine.STANDALONE, None), (Engine.MODEL_MONITOR, None),
                                               (Engine.MODEL_MONITOR, AnalyzerImage.builtin(BuiltinImage.CLARIFY))])
def test_both_engines_pass_cdk_nag_and_cfn_lint(tmp_path, engine, image):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Nag", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = _monitor(stack, engine=engine, **({"image": image} if image else {}))
    monitor.grant_write_ground_truth(iam.Role(stack, "LabelProducer",
                                              assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_region_agnostic_stack_with_both_label_monitors_passes_cfn_lint(tmp_path):
    from cdk_model_monitor.monitors.model_quality import ModelQualityMonitor, ProblemType

    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Agnostic")
    endpoint, _ = endpoint_and_storage(stack)
    bias = BiasDriftMonitor(stack, "Bias", endpoint=endpoint, **DEMO, engine=Engine.MODEL_MONITOR,
                            image=AnalyzerImage.builtin(BuiltinImage.CLARIFY),
                            baseline=Baseline.from_directory(str(BIAS_BASELINE)))
    quality = ModelQualityMonitor(stack, "ModelQuality", endpoint=endpoint, problem_type=ProblemType.BINARY_CLASSIFICATION,
                                  probability_attribute="0", engine=Engine.MODEL_MONITOR,
                                  image=AnalyzerImage.builtin(),
                                  baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline-model-quality")))
    assert cfn_lint_findings(template_of(stack).to_json()) == []
    # one label stream per endpoint, read by both monitors
    assert resolved(stack, bias.ground_truth_s3_uri) == resolved(stack, quality.ground_truth_s3_uri)
    assert "Mappings" in template_of(stack).to_json()


def test_look_back_and_drift_tolerance_reach_the_analyzer(app):
    stack = cdk.Stack(app, "Tolerant", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = _monitor(stack, ground_truth_lookback=Duration.hours(6), drift_tolerance=0.15)
    env = monitor.analyzer_environment()
    assert (env["ground_truth_lookback"], env["bias_drift_tolerance"]) == ("PT6H", "0.15")


def test_negative_drift_tolerance_is_refused(stack):
    with pytest.raises(ConfigurationError, match="drift_tolerance=-0.1"):
        _monitor(stack, drift_tolerance=-0.1)


def test_facets_a_local_baseline_has_no_metrics_for_are_refused_at_synth(stack):
    with pytest.raises(ConfigurationError, match=r"invalid facets=\['plan'\]. The baseline at .* facets \['senior'\]"):
        _monitor(stack, facets=[Facet("plan", ["premium"])])


def test_a_facet_beside_the_baselines_own_is_accepted(stack):
    monitor = _monitor(stack, facets=[Facet("senior", [1]), Facet("plan", ["premium"])])
    assert [facet.name_or_index for facet in monitor.facets] == ["senior", "plan"]
