"""Monitors of batch transform jobs: the capture config users give their jobs, batch sources on the three monitor
types and the facade, both engines (standalone: a window per completed job, or the schedule; native:
BatchTransformInput), metrics under SageMaker's batch namespaces; cdk-nag, cfn-lint, checkov and snapshots."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from syrupy.extensions.json import JSONSnapshotExtension

from cdk_model_monitor import (
    AlarmProps,
    AnalyzerImage,
    Baseline,
    BatchDataFormat,
    BatchTransformCapture,
    BatchTransformSource,
    BatchTrigger,
    BiasDriftMonitor,
    BiasProps,
    BiasSettings,
    CapturedEndpoint,
    ConfigurationError,
    DataQualityMonitor,
    DataQualityProps,
    Engine,
    Facet,
    ModelMonitor,
    ModelQualityMonitor,
    ModelQualityProps,
    ModelQualitySettings,
    MonitoringBucket,
    ProblemType,
    ScaleOut,
)

from .conftest import (
    DEMO_BASELINE,
    REPO_ROOT,
    cfn_lint_findings,
    nag_findings,
    new_app,
    normalize,
    template_of,
)
from .test_checkov import ACKNOWLEDGED, _scan

MQ_BASELINE = str(REPO_ROOT / "demo" / "baseline-model-quality")
BIAS_BASELINE = str(REPO_ROOT / "demo" / "baseline-bias")
ANALYZER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1.0"
BIAS = {"label": "churn", "label_values_or_threshold": [1], "facets": [Facet("senior", [1])],
        "inference_attribute": "0"}


def _source(stack: cdk.Stack, **kwargs: Any) -> BatchTransformSource:
    storage = MonitoringBucket(stack, "Storage")
    capture = BatchTransformCapture(stack, "Capture", storage=storage, name="churn")
    data = s3.Bucket.from_bucket_name(stack, "TransformData", "transform-data")
    kwargs.setdefault("dataset_format", BatchDataFormat.csv(header=False))
    return BatchTransformSource(capture=capture, data_buckets=[data], **kwargs)


def _states(stack: cdk.Stack, template: Template | None = None) -> dict:
    machine = next(iter((template or template_of(stack)).find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))["States"]


def _data_quality(stack: cdk.Stack, **kwargs: Any) -> DataQualityMonitor:
    source = kwargs.pop("source", None) or _source(stack, job_name_prefix="nightly-churn-")
    kwargs.setdefault("image", AnalyzerImage.from_uri(ANALYZER))
    return DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(DEMO_BASELINE),
                              batch_source=source, **kwargs)


# -- the capture config ---------------------------------------------------------------------------


def test_capture_config_points_at_the_models_capture_prefix_with_the_monitoring_key_and_inference_ids(stack):
    storage = MonitoringBucket(stack, "Storage")
    capture = BatchTransformCapture(stack, "Capture", storage=storage, name="churn")
    config = stack.resolve(capture.data_capture_config)
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    key = stack.get_logical_id(storage.encryption_key.node.default_child)
    assert config["DestinationS3Uri"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket},
                                                            "/datacapture/batch-transform/churn"]]}
    assert config["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert config["GenerateInferenceId"] is True
    # the JSON form is one deploy-time string of the same document
    assert "GenerateInferenceId" in json.dumps(stack.resolve(capture.data_capture_config_json))


def test_a_bucket_with_a_literal_name_gives_a_config_boto3_can_use_as_is(stack):
    storage = MonitoringBucket(stack, "Storage", bucket=s3.Bucket.from_bucket_name(stack, "B", "monitoring"))
    capture = BatchTransformCapture(stack, "Capture", storage=storage, name="churn")
    assert capture.data_capture_config == {"DestinationS3Uri": "s3://monitoring/datacapture/batch-transform/churn",
                                           "GenerateInferenceId": True}


def test_grant_write_lets_the_transform_role_put_manifests_under_its_prefix_and_encrypt(stack):
    storage = MonitoringBucket(stack, "Storage")
    capture = BatchTransformCapture(stack, "Capture", storage=storage, name="churn")
    role = iam.Role(stack, "TransformRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    capture.grant_write(role)
    statements = [s for p in template_of(stack).find_resources("AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    puts = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert puts and "datacapture/batch-transform/churn/*" in json.dumps(puts[0]["Resource"])
    assert any("kms:GenerateDataKey" in s["Action"] and "kms:Encrypt" in s["Action"] for s in statements)
    assert not any("s3:GetObject" in s["Action"] for s in statements)


@pytest.mark.parametrize(("fmt", "environment"), [
    (BatchDataFormat.csv(header=False), {"csv": {"header": False}}),
    (BatchDataFormat.csv(header=True), {"csv": {"header": True}}),
    (BatchDataFormat.json_lines(), {"json": {"line": True}}),
    (BatchDataFormat.parquet(), {"parquet": {}}),
])
def test_dataset_format_is_the_contracts_lowercase_document(fmt, environment):
    assert json.loads(fmt.to_environment()) == environment


# -- standalone engine ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def per_job(tmp_path_factory) -> tuple[cdk.Stack, DataQualityMonitor, Template, dict]:
    """One data-quality monitor of completed jobs (JSON Lines files), synthesized once for the tests that read it."""
    app = new_app(tmp_path_factory.mktemp("per-job"))
    stack = cdk.Stack(app, "PerJob", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = _data_quality(stack, source=_source(stack, job_name_prefix="nightly-churn-",
                                                  dataset_format=BatchDataFormat.json_lines()))
    template = template_of(stack)
    return stack, monitor, template, _states(stack, template)


def test_a_completed_transform_job_of_the_prefix_starts_the_state_machine_with_the_job_as_window(per_job):
    _, _, template, states = per_job
    assert template.find_resources("AWS::Scheduler::Schedule") == {}
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Transform Job State Change"],
        "detail": {"TransformJobStatus": ["Completed"], "TransformJobName": [{"prefix": "nightly-churn-"}]}}
    (target,) = rule["Properties"]["Targets"]
    assert target["InputTransformer"]["InputPathsMap"] == {"time": "$.time", "detail": "$.detail"}
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 3
    plan = states["PlanWindow"]["Parameters"]
    assert plan["monitoring_input_type"] == "BATCH_TRANSFORM"
    assert plan["transform_job.$"] == "$.transform_job"
    assert plan["input_local_path"] == "/opt/ml/processing/input/batch/input"
    assert plan["output_local_path"] == "/opt/ml/processing/input/batch/output"
    assert {i["InputName"] for i in plan["job_inputs"]} == {"baseline_statistics", "baseline_constraints"}
    assert "endpoint_name" not in plan or not plan["endpoint_name"]


def test_the_batch_job_reads_the_planners_inputs_with_the_batch_environment(per_job):
    run = per_job[3]["RunAnalyzer"]["Parameters"]
    assert run["ProcessingInputs.$"] == "$.plan.processing_inputs" and "ProcessingInputs" not in run
    env = run["Environment"]
    assert env["monitoring_input_type"] == "BATCH_TRANSFORM"
    assert json.loads(env["dataset_format"]) == {"json": {"line": True}}
    assert env["dataset_source"] == "/opt/ml/processing/input/batch"
    assert "sagemaker_endpoint_name" not in env
    assert (env["start_time.$"], env["end_time.$"]) == ("$.plan.start", "$.plan.end")


def test_schedule_trigger_keeps_the_scheduler_and_lists_the_window_hours(stack):
    _data_quality(stack, source=_source(stack, trigger=BatchTrigger.SCHEDULE))
    template = template_of(stack)
    assert len(template.find_resources("AWS::Scheduler::Schedule")) == 1
    assert template.find_resources("AWS::Events::Rule") == {}
    plan = _states(stack)["PlanWindow"]["Parameters"]
    assert "transform_job.$" not in plan and plan["monitoring_input_type"] == "BATCH_TRANSFORM"


def test_a_batch_monitor_expects_a_daily_job_unless_its_schedule_says_otherwise(per_job):
    assert per_job[1].schedule.description == "daily at 00:00"


def test_metrics_use_the_batch_namespace_with_the_schedule_dimension_only(per_job):
    _, monitor, _, states = per_job
    metric = monitor.metric_drift("Account Length")
    assert metric.namespace == "aws/sagemaker/ModelMonitoring/data-metrics"
    assert set(metric.dimensions) == {"MonitoringSchedule"}
    publish = states["PublishResults"]["Parameters"]
    assert publish["namespace"] == "aws/sagemaker/ModelMonitoring/data-metrics"
    assert "endpoint_name" not in publish or not publish["endpoint_name"]


def test_report_and_ground_truth_folders_have_no_endpoint_level(stack):
    monitor = ModelQualityMonitor(stack, "ModelQuality", baseline=Baseline.from_directory(MQ_BASELINE),
                                  problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="0",
                                  image=AnalyzerImage.from_uri(ANALYZER),
                                  batch_source=_source(stack, trigger=BatchTrigger.SCHEDULE))
    assert monitor.report_prefix == f"reports/model-quality/{monitor.schedule_name}"
    assert monitor.ground_truth_prefix == "ground-truth/churn"
    plan = _states(stack)["PlanWindow"]["Parameters"]
    assert plan["ground_truth_local_path"] == "/opt/ml/processing/groundtruth"


def test_the_job_role_reads_the_transform_data_buckets_and_the_capture_prefix(per_job):
    stack, monitor, template, _ = per_job
    logical = stack.get_logical_id(monitor.job_role.node.default_child)
    statements = [s for p in template.find_resources("AWS::IAM::Policy").values()
                  if {"Ref": logical} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]]
    text = json.dumps(statements)
    assert "arn:aws:s3:::transform-data/*" in text
    assert "datacapture/batch-transform/churn/*" in text


# -- native engine ----------------------------------------------------------------------------------


def test_native_data_quality_definition_reads_the_transform_capture(stack):
    _data_quality(stack, source=_source(stack), engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin())
    (definition,) = template_of(stack).find_resources("AWS::SageMaker::DataQualityJobDefinition").values()
    job_input = definition["Properties"]["DataQualityJobInput"]
    assert "EndpointInput" not in job_input
    batch = job_input["BatchTransformInput"]
    assert batch["DatasetFormat"] == {"Csv": {"Header": False}}
    assert batch["LocalPath"] == "/opt/ml/processing/input/batch"
    assert "datacapture/batch-transform/churn" in json.dumps(batch["DataCapturedDestinationS3Uri"])
    (schedule,) = template_of(stack).find_resources("AWS::SageMaker::MonitoringSchedule").values()
    assert "EndpointName" not in schedule["Properties"]
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_native_embedded_definition_with_our_image_reads_the_transform_capture(stack):
    _data_quality(stack, source=_source(stack, dataset_format=BatchDataFormat.parquet()), engine=Engine.MODEL_MONITOR)
    (schedule,) = template_of(stack).find_resources("AWS::SageMaker::MonitoringSchedule").values()
    definition = schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    (monitoring_input,) = definition["MonitoringInputs"]
    assert monitoring_input["BatchTransformInput"]["DatasetFormat"] == {"Parquet": True}
    assert definition["Environment"]["monitoring_input_type"] == "BATCH_TRANSFORM"
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_native_labelled_definitions_carry_the_attributes_and_offsets_on_the_batch_input(stack):
    source = _source(stack, dataset_format=BatchDataFormat.json_lines())
    ModelQualityMonitor(stack, "ModelQuality", baseline=Baseline.from_directory(MQ_BASELINE),
                        problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="SageMakerOutput.score",
                        engine=Engine.MODEL_MONITOR, batch_source=source)
    BiasDriftMonitor(stack, "Bias", baseline=Baseline.from_directory(BIAS_BASELINE), engine=Engine.MODEL_MONITOR,
                     batch_source=source, **BIAS)
    template = template_of(stack)
    (quality,) = template.find_resources("AWS::SageMaker::ModelQualityJobDefinition").values()
    batch = quality["Properties"]["ModelQualityJobInput"]["BatchTransformInput"]
    assert batch["ProbabilityAttribute"] == "SageMakerOutput.score"
    assert batch["DatasetFormat"] == {"Json": {"Line": True}} and batch["StartTimeOffset"] == "-PT48H"  # the day, and the day labels may take
    (bias,) = template.find_resources("AWS::SageMaker::ModelBiasJobDefinition").values()
    bias_input = bias["Properties"]["ModelBiasJobInput"]
    assert bias_input["BatchTransformInput"]["InferenceAttribute"] == "0" and "GroundTruthS3Input" in bias_input
    assert cfn_lint_findings(template.to_json()) == []


# -- mistakes -----------------------------------------------------------------------------------------


def test_an_endpoint_and_a_batch_source_together_are_refused_in_one_line(stack):
    source = _source(stack)
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=source.capture.storage, endpoint_name="churn",
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    with pytest.raises(ConfigurationError, match=r"either an endpoint or transform jobs .*remove endpoint") as error:
        DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(DEMO_BASELINE),
                           batch_source=source, endpoint=endpoint)
    assert "\n" not in str(error.value)


def test_scale_out_with_a_batch_source_is_refused_in_one_line(stack):
    with pytest.raises(ConfigurationError, match="Spark runner reads endpoint captures only") as error:
        DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(DEMO_BASELINE),
                           batch_source=_source(stack), scale_out=ScaleOut(always=True))
    assert "\n" not in str(error.value)


def test_neither_an_endpoint_nor_a_batch_source_is_refused(stack):
    with pytest.raises(ConfigurationError, match="endpoint"):
        DataQualityMonitor(stack, "DataQuality", baseline=Baseline.from_directory(DEMO_BASELINE),
                           storage=MonitoringBucket(stack, "Storage"))


def test_a_per_job_trigger_on_the_native_engine_is_refused_with_the_fix(stack):
    with pytest.raises(ConfigurationError, match="BatchTrigger.SCHEDULE"):
        _data_quality(stack, source=_source(stack, trigger=BatchTrigger.JOB_COMPLETED), engine=Engine.MODEL_MONITOR)


@pytest.mark.parametrize(("change", "message"), [
    ({"job_name_prefix": "nightly_churn"}, "job_name_prefix"),
    ({"dataset_format": "csv"}, "BatchDataFormat.csv"),
    ({"trigger": "schedule"}, "BatchTrigger.JOB_COMPLETED"),
])
def test_invalid_batch_settings_name_the_setting_and_the_fix(stack, change, message):
    with pytest.raises(ConfigurationError, match=message):
        _data_quality(stack, source=_source(stack, **change))


def test_a_capture_name_sagemaker_would_refuse_is_refused(stack):
    with pytest.raises(ConfigurationError, match="name"):
        BatchTransformCapture(stack, "Capture", storage=MonitoringBucket(stack, "Storage"), name="churn_model")


def test_the_facade_takes_exactly_one_of_endpoint_and_batch_source(stack):
    with pytest.raises(ConfigurationError, match="exactly one"):
        ModelMonitor(stack, "Model", model_name="churn",
                     data_quality=DataQualityProps(baseline=Baseline.from_directory(DEMO_BASELINE)))


# -- the facade, cdk-nag, cfn-lint, checkov, snapshots -----------------------------------------------------


def _facade(stack: cdk.Stack, engine: Engine) -> ModelMonitor:
    trigger = BatchTrigger.JOB_COMPLETED if engine is Engine.STANDALONE else BatchTrigger.SCHEDULE
    storage = MonitoringBucket(stack, "ModelStorage")
    capture = BatchTransformCapture(stack, "Capture", storage=storage, name="churn")
    source = BatchTransformSource(capture=capture, dataset_format=BatchDataFormat.csv(), trigger=trigger,
                                  job_name_prefix="nightly-churn-")
    return ModelMonitor(
        stack, "Model", model_name="churn", batch_source=source, engine=engine,
        image=AnalyzerImage.from_uri(ANALYZER),
        data_quality=DataQualityProps(baseline=Baseline.from_directory(DEMO_BASELINE)),
        model_quality=ModelQualityProps(baseline=Baseline.from_directory(MQ_BASELINE), settings=ModelQualitySettings(
            problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="0")),
        bias=BiasProps(baseline=Baseline.from_directory(BIAS_BASELINE), settings=BiasSettings(**BIAS)),
        alarms=AlarmProps())


@pytest.mark.parametrize("engine", [Engine.STANDALONE, Engine.MODEL_MONITOR])
def test_facade_with_a_batch_source_passes_cdk_nag_and_cfn_lint_and_alarms_use_the_batch_dimensions(tmp_path, engine):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account="123456789012", region="us-east-1"))
    model = _facade(stack, engine)
    assert model.endpoint is None and len(model.monitors) == 3
    alarms = template_of(stack).find_resources("AWS::CloudWatch::Alarm")
    analyzer_alarms = [a for a in alarms.values() if a["Properties"].get("Namespace", "").startswith("aws/sagemaker/")]
    assert analyzer_alarms
    for alarm in analyzer_alarms:
        assert alarm["Properties"]["Namespace"].startswith("aws/sagemaker/ModelMonitoring/")
        assert "Endpoint" not in {d["Name"] for d in alarm["Properties"]["Dimensions"]}
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_facade_with_a_batch_source_passes_checkov(tmp_path):
    app = new_app(tmp_path / "app")
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account="123456789012", region="us-east-1"))
    _facade(stack, Engine.STANDALONE)
    findings = _scan(template_of(stack).to_json(), tmp_path)
    unacknowledged = [(check, resource) for check, resource in findings
                      if check not in ACKNOWLEDGED or not resource.startswith(ACKNOWLEDGED[check][1])]
    assert unacknowledged == []


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("engine", [Engine.STANDALONE, Engine.MODEL_MONITOR])
def test_batch_facade_matches_snapshot(tmp_path, snapshot_json, engine):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account="123456789012", region="us-east-1"))
    _facade(stack, engine)
    assert normalize(template_of(stack).to_json()) == snapshot_json


def test_a_labelled_monitor_of_completed_jobs_analyses_each_job_from_its_start_to_its_end(stack):
    ModelQualityMonitor(stack, "ModelQuality", baseline=Baseline.from_directory(MQ_BASELINE),
                        problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="0",
                        image=AnalyzerImage.from_uri(ANALYZER), batch_source=_source(stack))
    states = _states(stack)
    env = states["RunAnalyzer"]["Parameters"]["Environment"]
    assert (env["start_time.$"], env["end_time.$"], env["metric_time.$"]) == (
        "$.plan.start", "$.plan.end", "$.plan.metric_time")
    assert not [name for name in states if name.startswith("SetPlan")]
    assert env["ground_truth_source"] == "/opt/ml/processing/groundtruth"
    assert env["probability_attribute"] == "0" and env["monitoring_input_type"] == "BATCH_TRANSFORM"
