"""ModelQualityMonitor on both engines: ground truth as a second input, the analyzer's environment (run
end to end through the analyzer's container entrypoint), typed job definitions, validation, metrics,
cdk-nag and cfn-lint."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import numpy as np
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam

from cdk_model_monitor import CapturedEndpoint, ConfigurationError, MonitoringBucket
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage, BuiltinImage
from cdk_model_monitor.job import Engine
from cdk_model_monitor.monitors.model_quality import QUALITY_METRICS, ModelQualityMonitor, ProblemType

from .conftest import REPO_ROOT, cfn_lint_findings, model_image, nag_findings, new_app, template_of

MQ_BASELINE = REPO_ROOT / "demo" / "baseline-model-quality"
ANALYZER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1.0"
ENDPOINT = "churn-demo"  # the demo's endpoint, whose captures and labels the end-to-end runs use
BINARY = {"problem_type": ProblemType.BINARY_CLASSIFICATION, "probability_attribute": "0"}


def endpoint_and_storage(stack: cdk.Stack) -> tuple[CapturedEndpoint, MonitoringBucket]:
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name=ENDPOINT,
                                image_uri=model_image(stack))
    return endpoint, storage


def _monitor(stack, **kwargs: Any) -> ModelQualityMonitor:
    endpoint, _ = endpoint_and_storage(stack)
    kwargs.setdefault("image", AnalyzerImage.from_uri(ANALYZER))
    kwargs.setdefault("baseline", Baseline.from_directory(str(MQ_BASELINE)))
    for key, value in BINARY.items():
        kwargs.setdefault(key, value)
    return ModelQualityMonitor(stack, "ModelQuality", endpoint=endpoint, **kwargs)


def external_target(stack: cdk.Stack) -> dict[str, Any]:
    """An endpoint deployed elsewhere, by literal name: the job environment then holds no tokens."""
    return {"endpoint_name": ENDPOINT, "capture_s3_uri": "s3://capture-bucket/datacapture",
            "storage": MonitoringBucket(stack, "Storage")}


def states_of(stack: cdk.Stack) -> dict:
    """The state machine's states, CloudFormation references replaced by ``REF``."""
    machine = next(iter(template_of(stack).find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))["States"]


def policy_statements(stack: cdk.Stack, role: iam.IRole) -> list[dict]:
    logical = stack.get_logical_id(role.node.default_child)
    return [s for p in template_of(stack).find_resources("AWS::IAM::Policy").values()
            if {"Ref": logical} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]


def resolved(stack: cdk.Stack, value: Any) -> Any:
    return stack.resolve(value)


# -- running the synthesized job through the analyzer's container entrypoint ---------------------


def run_synthesized_job(stack: cdk.Stack, root: Path, plan: dict[str, Any], files: dict[str, Path]) -> tuple[int, str]:
    """Run the analyzer's container entrypoint as the synthesized ``RunAnalyzer`` state would run it.

    ``plan`` stands for the window planner's output (``$.plan``); ``files`` maps each processing input
    name to a local folder (copied to the input's LocalPath, as the manifest's download would) or file
    (downloaded under its S3 key's name). Returns the exit code and the job's message."""
    job = states_of(stack)["RunAnalyzer"]["Parameters"]
    overrides = {k: v for k, v in states_of(stack).items() if v["Type"] == "Pass" and k.startswith("SetPlan")}
    plan = dict(plan)
    for state in overrides.values():  # the plan overrides (e.g. the metrics' timestamp)
        plan[state["ResultPath"].removeprefix("$.plan.")] = plan[state["InputPath"].removeprefix("$.plan.")]

    def local(path: str) -> Path:
        return root / path.removeprefix("/opt/ml/")

    for entry in job["ProcessingInputs"]:
        source, target = files[entry["InputName"]], local(entry["S3Input"]["LocalPath"])
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / entry["S3Input"]["S3Uri"].rsplit("/", 1)[-1])
    env = {}
    for key, value in job["Environment"].items():
        if key.endswith(".$"):
            key, value = key[:-2], plan[value.removeprefix("$.plan.")]
        env[key] = value
    from model_monitor_analyzer.contract.entrypoint import run_container

    code = run_container({**env, "MODEL_MONITOR_OPT_ML_ROOT": str(root)})
    return code, (root / "output" / "message").read_text()


def demo_traffic(tmp: Path, *, labels_delay: timedelta = timedelta(0)) -> tuple[datetime, Path, Path]:
    """One hour of the demo's captured traffic and its labels (uploaded ``labels_delay`` later)."""
    from demo import data

    first = datetime(2026, 11, 25, 8, tzinfo=UTC)
    hours = data.demo_hours(first)[:1]
    data.write_capture(tmp / "capture", hours, ground_truth=tmp / "labels-on-time")
    labels = tmp / "labels"
    for path in (tmp / "labels-on-time").rglob("*.jsonl"):
        uploaded = first + labels_delay
        target = labels / uploaded.strftime("%Y/%m/%d/%H") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return first, tmp / "capture" / data.ENDPOINT / data.VARIANT, labels


def _plan(window_start: datetime, hours: int = 1, lookback: timedelta = timedelta(0)) -> dict[str, str]:
    def iso(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    end = window_start + timedelta(hours=hours)
    return {"start": iso(window_start - lookback), "end": iso(end), "metric_time": iso(window_start - lookback),
            "ground_truth_start": iso(window_start), "ground_truth_end": iso(end)}


# -- standalone engine -------------------------------------------------------------------------


def test_planner_lists_labels_of_the_window_and_captures_back_to_the_lookback(stack):
    _monitor(stack)
    states = states_of(stack)
    payload = states["PlanWindow"]["Parameters"]
    assert (payload["window_start_offset"], payload["window_end_offset"]) == ("-PT25H", "PT0H")
    assert payload["ground_truth_lookback"] == "PT1H"
    assert payload["monitor_type"] == "model-quality"
    assert payload["ground_truth_s3_uri"].startswith("s3://REF/ground-truth/")
    # the metrics are stamped with the label window's start, before anything publishes them
    assert states["IsDuplicate"]["Default"] == "SetPlanMetricTime"
    assert states["SetPlanMetricTime"] == {"Type": "Pass", "Comment": "plan.metric_time = $.plan.ground_truth_start",
                                           "InputPath": "$.plan.ground_truth_start",
                                           "ResultPath": "$.plan.metric_time", "Next": "HasData"}


def test_job_gets_ground_truth_as_second_input_and_the_model_quality_environment(stack):
    _monitor(stack, inference_attribute="1", positive_label="yes", environment={"extra": "x"})
    job = states_of(stack)["RunAnalyzer"]["Parameters"]
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert list(inputs) == ["endpoint", "ground_truth", "baseline_constraints"]
    assert inputs["ground_truth"] == {"S3Uri.$": "$.plan.ground_truth_manifest_uri", "S3DataType": "ManifestFile",
                                      "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated",
                                      "LocalPath": "/opt/ml/processing/groundtruth"}
    constraints_name = inputs["baseline_constraints"]["S3Uri"].rsplit("/", 1)[-1]
    env = job["Environment"]
    assert env == {
        "analysis_type": "MODEL_QUALITY",
        "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Enabled",
        "CLOUDWATCH_METRICS_DIRECTORY": "/opt/ml/processing/output/metrics",
        "sagemaker_endpoint_name": "REF",
        "sagemaker_monitoring_schedule_name": env["sagemaker_monitoring_schedule_name"],
        "baseline_constraints": f"/opt/ml/processing/baseline/constraints/{constraints_name}",
        "ground_truth_source": "/opt/ml/processing/groundtruth",
        "problem_type": "BinaryClassification",
        "ground_truth_lookback": "PT24H",
        "inference_attribute": "1",
        "probability_attribute": "0",
        "probability_threshold_attribute": "0.5",
        "positive_label": "yes",
        "extra": "x",
        "start_time.$": "$.plan.ground_truth_start",
        "end_time.$": "$.plan.end",
        "metric_time.$": "$.plan.metric_time",
    }


def test_without_lookback_labels_and_captures_share_the_window(stack):
    _monitor(stack, ground_truth_lookback=Duration.hours(0))
    states = states_of(stack)
    assert "SetPlanMetricTime" not in states and states["IsDuplicate"]["Default"] == "HasData"
    assert states["PlanWindow"]["Parameters"]["window_start_offset"] == "-PT1H"
    env = states["RunAnalyzer"]["Parameters"]["Environment"]
    assert (env["start_time.$"], env["ground_truth_lookback"]) == ("$.plan.start", "PT0H")


def test_job_runs_end_to_end_and_scores_labels_that_arrived_an_hour_late(tmp_path):
    app = new_app(tmp_path / "app")
    stack = cdk.Stack(app, "E2E", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = ModelQualityMonitor(stack, "ModelQuality", **external_target(stack), **BINARY,
                                  image=AnalyzerImage.from_uri(ANALYZER), baseline=Baseline.from_directory(str(MQ_BASELINE)))
    first, captures, labels = demo_traffic(tmp_path, labels_delay=timedelta(hours=1))
    # The run at first+2h: labels uploaded in [first+1h, first+2h) join captures back to first+1h-24h.
    window = first + timedelta(hours=1)
    code, message = run_synthesized_job(
        stack, tmp_path / "opt-ml", _plan(window, lookback=timedelta(hours=24)),
        {"endpoint": captures, "ground_truth": labels, "baseline_constraints": MQ_BASELINE / "constraints.json"})
    assert code == 0, message
    assert message.startswith("Completed")
    output = tmp_path / "opt-ml" / "processing" / "output"
    statistics = json.loads((output / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 600
    assert "accuracy" in statistics["binary_classification_metrics"]
    lines = [json.loads(line) for f in (output / "metrics").glob("*.jsonl") for line in f.read_text().splitlines()]
    constrained = json.loads((MQ_BASELINE / "constraints.json").read_text())["binary_classification_constraints"]
    assert {line["MetricName"] for line in lines} == set(QUALITY_METRICS[ProblemType.BINARY_CLASSIFICATION]) | {
        f"quality_violation_{name}" for name in constrained}
    assert {line["Timestamp"] for line in lines} == {window.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert {(d["Name"], d["Value"]) for d in lines[0]["Dimensions"]} == {
        ("Endpoint", ENDPOINT), ("MonitoringSchedule", monitor.schedule_name)}


def test_labels_outside_the_lookback_leave_the_window_without_data(tmp_path):
    app = new_app(tmp_path / "app")
    stack = cdk.Stack(app, "E2E", env=cdk.Environment(account="123456789012", region="us-east-1"))
    ModelQualityMonitor(stack, "ModelQuality", **external_target(stack), image=AnalyzerImage.from_uri(ANALYZER),
                        baseline=Baseline.from_directory(str(MQ_BASELINE)), ground_truth_lookback=Duration.hours(0),
                        **BINARY)
    first, captures, labels = demo_traffic(tmp_path, labels_delay=timedelta(hours=1))
    code, message = run_synthesized_job(
        stack, tmp_path / "opt-ml", _plan(first + timedelta(hours=1)),
        {"endpoint": captures, "ground_truth": labels, "baseline_constraints": MQ_BASELINE / "constraints.json"})
    assert code == 0, message
    assert "No data to analyze" in message


def test_job_role_reads_and_producers_write_only_this_endpoints_ground_truth(stack):
    monitor = _monitor(stack)
    producer = iam.Role(stack, "LabelProducer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    monitor.grant_write_ground_truth(producer)
    bucket = {"Fn::GetAtt": [stack.get_logical_id(monitor.storage.bucket.node.default_child), "Arn"]}
    endpoint_name = resolved(stack, monitor.endpoint_name)
    objects = {"Fn::Join": ["", [bucket, "/ground-truth/", endpoint_name, "/*"]]}
    put = next(s for s in policy_statements(stack, producer) if "s3:PutObject" in s["Action"])
    assert put["Resource"] == objects
    reads = [s for s in policy_statements(stack, monitor.job_role) if s["Action"] == "s3:GetObject"]
    assert objects in [r for s in reads for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    planner = monitor.engine.planner.role
    listing = [s for s in policy_statements(stack, planner) if s["Action"] == "s3:ListBucket"]
    assert {"StringLike": {"s3:prefix": [{"Fn::Join": ["", ["ground-truth/", endpoint_name]]},
                                         {"Fn::Join": ["", ["ground-truth/", endpoint_name, "/*"]]}]}} in \
        [s.get("Condition") for s in listing]


def test_constraints_file_names_are_read_from_literal_and_asset_uris_only(stack):
    from aws_cdk import aws_s3 as s3

    from cdk_model_monitor.monitors.base import object_basename

    bucket = s3.Bucket(stack, "Baselines")
    assert object_basename(stack, "s3://b/mq/v3/constraints.json") == "constraints.json"
    assert object_basename(stack, bucket.s3_url_for_object("mq/constraints.json")) == "constraints.json"
    assert object_basename(stack, "s3://b") is None
    assert object_basename(stack, cdk.Fn.import_value("ConstraintsUri")) is None
    assert object_basename(stack, cdk.Fn.join("/", ["s3://b", cdk.Fn.import_value("Key")])) is None


# -- native engine ---------------------------------------------------------------------------


def test_native_builtin_uses_a_typed_job_definition_with_ground_truth_and_offsets(stack):
    monitor = _monitor(stack, engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(), inference_attribute="0",
                       ground_truth_lookback=Duration.hours(3))
    template = template_of(stack)
    template.resource_count_is("AWS::StepFunctions::StateMachine", 0)
    (logical, definition), = template.find_resources("AWS::SageMaker::ModelQualityJobDefinition").items()
    props = definition["Properties"]
    spec = props["ModelQualityAppSpecification"]
    assert spec["ImageUri"].endswith(".dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer")
    assert spec["ProblemType"] == "BinaryClassification" and "Environment" not in spec
    job_input = props["ModelQualityJobInput"]
    assert job_input["GroundTruthS3Input"] == {"S3Uri": resolved(stack, monitor.ground_truth_s3_uri)}
    endpoint_input = job_input["EndpointInput"]
    assert {k: v for k, v in endpoint_input.items() if k != "EndpointName"} == {
        "LocalPath": "/opt/ml/processing/input/endpoint", "InferenceAttribute": "0", "ProbabilityAttribute": "0",
        "ProbabilityThresholdAttribute": 0.5, "StartTimeOffset": "-PT4H"}
    assert "ConstraintsResource" in props["ModelQualityBaselineConfig"]
    assert "JobDefinitionName" not in props
    schedule = next(iter(template.find_resources("AWS::SageMaker::MonitoringSchedule").values()))["Properties"]
    config = schedule["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "ModelQuality"
    assert config["MonitoringJobDefinitionName"] == {
        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [logical, "JobDefinitionArn"]}]}]}
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}


def test_native_with_our_image_puts_it_in_the_typed_definition(stack):
    _monitor(stack, engine=Engine.MODEL_MONITOR)
    template = template_of(stack)
    definition = next(iter(template.find_resources("AWS::SageMaker::ModelQualityJobDefinition").values()))
    spec = definition["Properties"]["ModelQualityAppSpecification"]
    assert spec["ImageUri"] == ANALYZER
    constraints = definition["Properties"]["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"]
    assert spec["Environment"] == {  # where SageMaker downloads the constraints: its folder and the object's name
        "analysis_type": "MODEL_QUALITY",
        "baseline_constraints": f"/opt/ml/processing/baseline/constraints/{constraints.rsplit('/', 1)[-1]}"}
    schedule = next(iter(template.find_resources("AWS::SageMaker::MonitoringSchedule").values()))["Properties"]
    assert "MonitoringJobDefinition" not in schedule["MonitoringScheduleConfig"]


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("options", "message"), [
    ({"problem_type": ProblemType.REGRESSION, "inference_attribute": "0"}, "probability_attribute='0'.*Regression"),
    ({"problem_type": ProblemType.MULTICLASS_CLASSIFICATION, "inference_attribute": "0", "probability_attribute": None,
      "probability_threshold": 0.5}, "probability_threshold=0.5.*only applies to binary"),
    ({"probability_threshold": 1.5}, "probability_threshold=1.5.*from 0 to 1"),
    ({"probability_attribute": None, "probability_threshold": 0.3}, "give probability_attribute"),
    ({"probability_attribute": None}, "inference_attribute=None.*where the prediction is"),
    ({"problem_type": "BinaryClassification"}, "problem_type='BinaryClassification'.*ProblemType.BINARY"),
    ({"ground_truth_lookback": Duration.minutes(90)}, "ground_truth_lookback='90 minutes'.*whole number of hours"),
    ({"ground_truth_lookback": Duration.days(31)}, "at most 30 days"),
    ({"baseline": Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline"))},
     "baseline='data-quality'.*needs a model-quality baseline"),
    ({"engine": Engine.MODEL_MONITOR, "image": AnalyzerImage.builtin(BuiltinImage.CLARIFY)},
     r"AnalyzerImage.builtin\(BuiltinImage.MODEL_MONITOR\)"),
])
def test_invalid_settings_name_the_construct_value_and_fix(stack, options, message):
    with pytest.raises(ConfigurationError, match=message) as raised:
        _monitor(stack, **options)
    assert raised.value.path == "Test/ModelQuality"


def test_a_constraints_uri_known_only_at_deploy_time_names_the_folder_the_analyzer_searches(stack):
    monitor = _monitor(stack, baseline=Baseline.from_s3(None, cdk.Fn.import_value("ConstraintsUri")))
    assert monitor.analyzer_environment()["baseline_constraints"] == "/opt/ml/processing/baseline/constraints"


def test_binary_threshold_defaults_to_one_half_with_a_probability_and_stays_unset_without(stack):
    assert _monitor(stack).probability_threshold == 0.5
    other = cdk.Stack(stack.node.scope, "Other")
    assert _monitor(other, probability_attribute=None, inference_attribute="0").probability_threshold is None


# -- metrics ----------------------------------------------------------------------------------


def test_metric_quality_uses_the_builtin_namespace_dimensions_and_direction(stack):
    monitor = _monitor(stack)
    f1 = monitor.metric_quality("f1")
    assert (f1.namespace, f1.metric_name) == ("aws/sagemaker/Endpoints/model-metrics", "f1")
    assert set(resolved(stack, f1.dimensions)) == {"Endpoint", "MonitoringSchedule"}
    assert monitor.quality_alarm_operator("f1") is cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
    assert monitor.quality_alarm_operator("false_positive_rate") is cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    with pytest.raises(ConfigurationError, match="metric='rmse'.*BinaryClassification models publish"):
        monitor.metric_quality("rmse")


def _analyzer_metrics(problem_type: ProblemType) -> dict[str, Any]:
    from model_monitor_analyzer.checks import model_quality as mq

    rng = np.random.default_rng(3)
    actual = rng.integers(0, 2, 300).astype(bool)
    if problem_type is ProblemType.BINARY_CLASSIFICATION:
        return mq.binary_classification_metrics(actual, rng.integers(0, 2, 300).astype(bool), rng.random(300))
    if problem_type is ProblemType.MULTICLASS_CLASSIFICATION:
        labels = [str(v) for v in rng.integers(0, 3, 300)]
        return mq.multiclass_classification_metrics(labels, [str(v) for v in rng.integers(0, 3, 300)], ["0", "1", "2"])
    return mq.regression_metrics(rng.random(300), rng.random(300))


@pytest.mark.parametrize("problem_type", list(ProblemType))
def test_metric_names_and_directions_match_the_analyzer(problem_type):
    from model_monitor_analyzer.checks import model_quality as mq

    published = [n for n, e in _analyzer_metrics(problem_type).items() if isinstance(e, mq.MetricValue)]
    assert sorted(QUALITY_METRICS[problem_type]) == sorted(published)
    suggested = mq.SUGGESTED_CONSTRAINTS[mq.ProblemType(problem_type.value)]
    assert {name: QUALITY_METRICS[problem_type][name] for name, _ in suggested} == {n: o.value for n, o in suggested}


# -- cdk-nag and cfn-lint ------------------------------------------------------------------------


@pytest.mark.parametrize(("engine", "image"), [(Engine.STANDALONE, None), (Engine.MODEL_MONITOR, None),
                                               (Engine.MODEL_MONITOR, AnalyzerImage.builtin())])
def test_both_engines_pass_cdk_nag_and_cfn_lint(tmp_path, engine, image):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Nag", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = _monitor(stack, engine=engine, **({"image": image} if image else {}))
    monitor.grant_write_ground_truth(iam.Role(stack, "LabelProducer",
                                              assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []


# -- label-free alarms ------------------------------------------------------------------------------------


def _label_free_alarms(stack, **options: Any) -> dict[str, dict]:
    from cdk_model_monitor.alarms import ModelQualityAlarmOptions, MonitorAlarms

    monitor = _monitor(stack)
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    alarms.add_monitor(monitor, baseline=Baseline.from_directory(str(MQ_BASELINE)),
                       options=ModelQualityAlarmOptions(**options))
    return {p["Properties"]["AlarmName"]: p["Properties"]
            for p in template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()}


def test_a_baseline_keeping_its_reference_gets_alarms_on_the_estimate_the_prediction_drift_and_concept_shift(stack):
    assert "cdk_model_monitor_performance_estimation" in json.loads((MQ_BASELINE / "constraints.json").read_text())
    alarms = _label_free_alarms(stack)
    for name in ("estimated_accuracy", "prediction_drift", "concept_shift"):
        alarm = alarms[f"churn-model-quality-{name}"]
        assert alarm["MetricName"] == f"quality_violation_{name}"  # the analyzer's verdict, as for the metrics
        assert alarm["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "ignore"


def test_label_free_alarms_can_be_left_out(stack):
    alarms = _label_free_alarms(stack, label_free=False)
    assert not {"churn-model-quality-estimated_accuracy", "churn-model-quality-prediction_drift",
                "churn-model-quality-concept_shift"} & set(alarms)
    assert "churn-model-quality-accuracy" in alarms


def test_estimates_need_a_binary_classifier_with_scores_and_our_analyzer(app):
    stack = cdk.Stack(app, "Binary")
    binary = _monitor(stack)
    assert binary.label_free_metric_names == ("estimated_accuracy", "estimated_precision", "estimated_recall",
                                              "estimated_f1", "estimated_auc", "prediction_drift", "concept_shift")
    assert stack.resolve(binary.metric_estimated_quality("estimated_auc").metric_name) == "estimated_auc"
    other = cdk.Stack(app, "Other")
    multiclass = _monitor(other, problem_type=ProblemType.MULTICLASS_CLASSIFICATION, probability_attribute=None,
                          inference_attribute="0", baseline=Baseline.from_s3(None, "s3://baseline-bucket/mq/constraints.json"))
    assert multiclass.label_free_metric_names == ("prediction_drift",)
    with pytest.raises(ConfigurationError, match="probability_attribute"):
        multiclass.metric_estimated_quality("estimated_accuracy")
    builtin = _monitor(cdk.Stack(app, "Builtin"), image=AnalyzerImage.builtin(), engine=Engine.MODEL_MONITOR)
    assert builtin.label_free_metric_names == ()
