"""``Baseline.from_dataset(..., scale_out=ScaleOut(...))``: the deploy-time baseline job as an EMR Serverless job run
of the analyzer's Spark runner, on an application of the baseline's own; its request, roles, checks and template."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from botocore.validate import validate_parameters
from syrupy.extensions.json import JSONSnapshotExtension

from cdk_model_monitor import (
    BiasDriftMonitor,
    ConfigurationError,
    DataQualityMonitor,
    Engine,
    Facet,
    ModelQualityMonitor,
    ProblemType,
    ScaleOut,
    SparkArchitecture,
    analysis_config,
)
from cdk_model_monitor.baseline import (
    SPARK_BASELINE_FLAGS,
    Baseline,
    BaselineJob,
    BaselineKind,
    DatasetFormat,
)
from cdk_model_monitor.endpoint import CapturedEndpoint
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.storage import MonitoringBucket
from model_monitor_analyzer.cli import build_parser
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.monitors import bias as bias_job
from model_monitor_analyzer.monitors import model_quality as model_quality_job
from model_monitor_analyzer.monitors.data_quality.command_line import baseline_request
from model_monitor_analyzer.monitors.data_quality.environment import baseline_request_from_environment

from .conftest import (
    ANALYZER_URI,
    TEST_ENV,
    cfn_lint_findings,
    model_image,
    nag_findings,
    new_app,
    normalize,
    template_of,
)
from .test_baseline import _actions, _resources, _statements, _text

DATASET = "s3://ml-data/churn/train/"
IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer-spark:1"
CONFIG_URI = "s3://ml-config/churn/bias/analysis_config.json"
#: a bias baseline's analysis config (with the dataset's type, which a baseline reads its dataset by)
BIAS_CONFIG = {**analysis_config(label="churn", label_values_or_threshold=[1], facets=[Facet("senior", [1])]),
               "dataset_type": "text/csv", "predicted_label": "churn_score", "probability_threshold": 0.5}
MODEL_QUALITY_ENVIRONMENT = {"analysis_type": "MODEL_QUALITY", "problem_type": "BinaryClassification",
                             "inference_attribute": "predicted", "probability_attribute": "score",
                             "probability_threshold_attribute": "0.4", "ground_truth_attribute": "label",
                             "positive_label": "yes", "comparison": "threshold", "max_bad_record_ratio": "0.05"}


def _parts(tmp_path: Path, *, nag: bool = False):
    app = new_app(tmp_path / "out", nag=nag)
    stack = cdk.Stack(app, "S", env=TEST_ENV)
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    return app, stack, storage, role


def _bind(stack, storage, role, *, id: str = "Baseline", **kwargs):
    kwargs.setdefault("scale_out", ScaleOut(image_uri=IMAGE_URI, always=True))
    return Baseline.from_dataset(DATASET, version=kwargs.pop("version", "v3"), **kwargs).bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role, id=id)


def _job(stack) -> BaselineJob:
    return next(c for c in stack.node.find_all() if isinstance(c, BaselineJob))


def _custom_resource(template: dict) -> dict:
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::ModelMonitorBaseline"]
    return resource


def _spark_request(template: dict) -> dict:
    return json.loads(_text(_custom_resource(template)["Properties"]["SparkJobRunRequest"]))


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """One stack with a baseline always on Spark (the dataset's own KMS key, two analyzer settings), synthesized
    once."""
    _, stack, storage, role = _parts(tmp_path_factory.mktemp("scaled"))
    key = kms.Key(stack, "DatasetKey", enable_key_rotation=True)
    bound = _bind(stack, storage, role, dataset_format=DatasetFormat.csv(header=False),
                  environment={"drift_method": "psi", "max_bad_record_ratio": "0.05"}, dataset_encryption_key=key,
                  max_runtime=Duration.minutes(45),
                  scale_out=ScaleOut(max_vcpus=32, max_memory_gb=128, executor_vcpus=8, executor_memory_gb=32,
                                     idle_timeout=Duration.minutes(5), image_uri=IMAGE_URI, always=True))
    return stack, storage, role, key, bound, template_of(stack).to_json()


# -- the job run ------------------------------------------------------------------------------------------------------


def test_a_scaled_out_baseline_starts_a_spark_job_run_on_its_own_application_instead_of_a_processing_job(scaled):
    stack, storage, _, _, bound, template = scaled
    job = _job(stack)
    props = _custom_resource(template)["Properties"]
    assert "ProcessingJobRequest" not in props and "SparkThresholdBytes" not in props and props["Version"] == "v3"
    request = _spark_request(template)
    application = stack.get_logical_id(job.spark.application)
    assert request["applicationId"] == f"<{application}.ApplicationId>"
    assert request["executionRoleArn"] == f"<{stack.get_logical_id(job.spark.job_role.node.default_child)}.Arn>"
    submit = request["jobDriver"]["sparkSubmit"]
    assert submit["entryPoint"] == "local:///opt/analyzer/spark_entry.py"
    conf = dict(p.split("=", 1) for p in shlex.split(submit["sparkSubmitParameters"]) if p != "--conf")
    # 32 vCPUs and 128 GB hold 4 workers of 8 vCPUs and 32 GB: the driver and 3 executors
    assert conf["spark.executor.cores"] == "8" and conf["spark.executor.memory"] == "32g"
    assert conf["spark.dynamicAllocation.maxExecutors"] == "3"
    assert conf["spark.executorEnv.PYSPARK_PYTHON"] == conf["spark.emr-serverless.driverEnv.PYSPARK_PYTHON"]
    assert conf["spark.executorEnv.AWS_DEFAULT_REGION"] == conf["spark.emr-serverless.driverEnv.AWS_DEFAULT_REGION"] \
        == stack.region
    assert request["executionTimeoutMinutes"] == 45
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    logs = request["configurationOverrides"]["monitoringConfiguration"]["s3MonitoringConfiguration"]
    assert logs == {"logUri": f"s3://<{bucket}>/baselines/_spark-logs/v3/",
                    "encryptionKeyArn": f"<{stack.get_logical_id(storage.encryption_key.node.default_child)}.Arn>"}
    assert request["tags"] == {"cdk-model-monitor:baseline-version": "v3"}
    # the monitor reads the same files as from the Processing job
    assert bound.kind is BaselineKind.DATA_QUALITY and bound.dependency is job.resource
    assert _text(stack.resolve(bound.statistics_s3_uri)) == f"s3://<{bucket}>/baselines/v3/statistics.json"
    assert [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::ProcessingJob"] == []


def test_the_start_job_run_request_is_one_emr_serverless_accepts(scaled):
    template = scaled[-1]
    request = _spark_request(template)
    # the handler adds the name and the client token; deploy-time values as examples of their shape
    examples = {"applicationId": "00f1234567890abc", "executionRoleArn": "arn:aws:iam::123456789012:role/spark-job",
                "encryptionKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}

    def concrete(node, name=""):
        if isinstance(node, dict):
            return {k: concrete(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [concrete(v) for v in node]
        if isinstance(node, str) and "<" in node:
            return examples.get(name, re.sub(r"<[^>]*>", "x", node))
        return node

    model = botocore.session.get_session().get_service_model("emr-serverless")
    validate_parameters({**concrete(request), "name": "s-baseline-v3-0123456789", "clientToken": "0123456789-req"},
                        model.operation_model("StartJobRun").input_shape)
    validate_parameters({"applicationId": examples["applicationId"], "jobRunId": "00f1abcdef"},
                        model.operation_model("GetJobRun").input_shape)


def test_the_job_arguments_are_the_command_lines_with_the_processing_jobs_settings(tmp_path):
    """The Spark job's command line and the Processing job's environment, read by the analyzer's own parsers,
    ask for the same baseline."""
    _, stack, storage, role = _parts(tmp_path)
    settings = dict(dataset_format=DatasetFormat.csv(header=False, output_columns_position="END"),
                    environment={"categorical_drift_method": "ChiSquared", "drift_method": "psi",
                                 "max_bad_record_ratio": "0.05"})
    _bind(stack, storage, role, version="spark", id="Spark", **settings)
    _bind(stack, storage, role, version="processing", id="Processing", scale_out=None, **settings)
    template = template_of(stack).to_json()
    resources = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "Custom::ModelMonitorBaseline"]
    (spark,) = [json.loads(_text(p["SparkJobRunRequest"])) for p in resources if "SparkJobRunRequest" in p]
    (processing,) = [json.loads(_text(p["ProcessingJobRequest"])) for p in resources if "ProcessingJobRequest" in p]
    arguments = spark["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    args = build_parser("data-quality").parse_args(arguments)
    assert args.command == "baseline" and args.engine == "spark" and args.overwrite
    from_arguments = baseline_request(args)
    from_environment = baseline_request_from_environment(processing["Environment"], ContainerPaths(root=tmp_path))
    assert str(from_arguments.dataset) == DATASET.rstrip("/").replace("s3://", "s3:/")  # a Path of the URI
    assert processing["ProcessingInputs"][0]["S3Input"]["S3Uri"] == DATASET
    assert arguments[arguments.index("--output") + 1].endswith("/baselines/spark")
    for field in ("format", "categorical_drift_method", "drift_method"):
        assert getattr(from_arguments, field) == getattr(from_environment, field), field
    for field in ("header", "output_first", "max_bad_record_ratio"):
        assert getattr(from_arguments.reading, field) == getattr(from_environment.reading, field), field
    assert (from_arguments.reading.header, from_arguments.reading.output_first) == (False, False)
    assert from_arguments.drift_method == "psi" and from_arguments.reading.max_bad_record_ratio == 0.05


def test_a_json_lines_dataset_is_read_as_json_lines(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    _bind(stack, storage, role, dataset_format=DatasetFormat.json_lines())
    arguments = _spark_request(template_of(stack).to_json())["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    args = build_parser("data-quality").parse_args(arguments)
    assert args.format == "json" and "--no-header" not in arguments and "--output-columns-position" not in arguments


def test_a_parquet_model_quality_dataset_baselines_on_spark_always(tmp_path):
    """The Processing job reads CSV and JSON Lines model-quality datasets only; Spark reads Parquet too."""
    _, stack, storage, role = _parts(tmp_path)
    _bind(stack, storage, role, dataset_format=DatasetFormat.parquet(), environment=MODEL_QUALITY_ENVIRONMENT)
    arguments = _spark_request(template_of(stack).to_json())["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    args = build_parser("model-quality").parse_args(arguments)
    assert model_quality_job.baseline_request(args).dataset_format.value == "parquet"


def test_a_parquet_dataset_is_read_as_parquet(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    _bind(stack, storage, role, dataset_format=DatasetFormat.parquet())
    arguments = _spark_request(template_of(stack).to_json())["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    args = build_parser("data-quality").parse_args(arguments)
    assert args.format == "parquet" and "--no-header" not in arguments and "--output-columns-position" not in arguments


def _both_requests(tmp_path, **settings) -> tuple[dict, dict]:
    """The StartJobRun and the CreateProcessingJob requests of one baseline's settings, in one stack."""
    _, stack, storage, role = _parts(tmp_path)
    _bind(stack, storage, role, version="spark", id="Spark", **settings)
    _bind(stack, storage, role, version="processing", id="Processing", scale_out=None, **settings)
    template = template_of(stack).to_json()
    resources = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "Custom::ModelMonitorBaseline"]
    (spark,) = [json.loads(_text(p["SparkJobRunRequest"])) for p in resources if "SparkJobRunRequest" in p]
    (processing,) = [json.loads(_text(p["ProcessingJobRequest"])) for p in resources if "ProcessingJobRequest" in p]
    return spark, processing


@pytest.mark.parametrize("dataset_format", [DatasetFormat.csv(header=False), DatasetFormat.json_lines()])
def test_a_model_quality_baselines_arguments_ask_for_the_processing_jobs_baseline(tmp_path, dataset_format):
    """Every model-quality setting of the Processing job's environment is a flag of the Spark job's command line:
    the analyzer's own parsers make the same request of both."""
    spark, processing = _both_requests(tmp_path, dataset_format=dataset_format,
                                          environment=MODEL_QUALITY_ENVIRONMENT)
    arguments = spark["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    args = build_parser("model-quality").parse_args(arguments)
    assert (args.command, args.type, args.engine, args.overwrite) == ("baseline", "model-quality", "spark", True)
    from_arguments = model_quality_job.baseline_request(args)
    from_environment = model_quality_job.baseline_request_from_environment(processing["Environment"],
                                                                           ContainerPaths(root=tmp_path))
    assert from_arguments.settings == from_environment.settings
    assert from_arguments.settings.problem_type.value == "BinaryClassification"
    assert from_arguments.settings.probability_threshold == 0.4 and from_arguments.settings.positive_label == "yes"
    assert from_arguments.dataset_format == from_environment.dataset_format
    assert from_arguments.comparison == from_environment.comparison == "threshold"
    assert from_arguments.threshold_margin == from_environment.threshold_margin
    for field in ("header", "max_bad_record_ratio"):
        assert getattr(from_arguments.reading, field) == getattr(from_environment.reading, field), field
    assert from_arguments.reading.max_bad_record_ratio == 0.05
    assert from_arguments.reading.header is (dataset_format.kind != "csv")  # csv(header=False): no header row
    assert str(from_arguments.dataset) == DATASET.rstrip("/").replace("s3://", "s3:/")
    assert processing["ProcessingInputs"][0]["S3Input"]["S3Uri"] == DATASET and len(processing["ProcessingInputs"]) == 1
    assert arguments[arguments.index("--output") + 1].endswith("/baselines/spark")


@pytest.mark.parametrize("config", [CONFIG_URI, BIAS_CONFIG], ids=["s3-uri", "asset"])
def test_a_bias_baselines_arguments_ask_for_the_processing_jobs_baseline_with_its_config(tmp_path, config):
    """The analysis config the Processing job downloads as an input is the one the Spark job reads by its URI; the
    dataset's format is the config's on both."""
    spark, processing = _both_requests(tmp_path, environment={"analysis_type": "MODEL_BIAS",
                                                                     "max_bad_record_ratio": "0.02"},
                                              analysis_config=config)
    arguments = spark["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    args = build_parser("bias").parse_args(arguments)
    assert (args.command, args.type, args.engine, args.overwrite) == ("baseline", "bias", "spark", True)
    from_arguments = bias_job.baseline_request(args)
    from_environment = bias_job.baseline_request_from_environment(processing["Environment"],
                                                                  ContainerPaths(root=tmp_path))
    assert from_arguments.dataset_type is None and from_environment.dataset_type is None
    assert from_arguments.max_bad_record_ratio == from_environment.max_bad_record_ratio == 0.02
    assert str(from_arguments.dataset) == DATASET.rstrip("/").replace("s3://", "s3:/")
    dataset_input, config_input = processing["ProcessingInputs"]
    assert dataset_input["S3Input"]["S3Uri"] == DATASET
    assert config_input["InputName"] == "analysis_config"
    assert config_input["S3Input"]["LocalPath"] == "/opt/ml/processing/input/config"
    config_uri = arguments[arguments.index("--analysis-config") + 1]
    assert config_input["S3Input"]["S3Uri"] == config_uri
    # the Processing job reads the file it downloads into that folder, under the object's name
    name = config_uri.rsplit("/", 1)[-1]
    assert from_environment.analysis_config == ContainerPaths(root=tmp_path).rebase(
        f"/opt/ml/processing/input/config/{name}")
    if config == CONFIG_URI:
        assert config_uri == CONFIG_URI
    else:  # the dict as a file asset, in the bootstrap's asset bucket, as a monitor's config
        assert re.fullmatch(r"s3://cdk-[a-z0-9]+-assets-123456789012-us-east-1/[0-9a-f]{64}\.json", config_uri), config_uri


def test_a_scaled_out_model_quality_or_bias_baseline_binds_as_that_type(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    quality = _bind(stack, storage, role, id="Quality", version="mq", environment=MODEL_QUALITY_ENVIRONMENT)
    bias = _bind(stack, storage, role, id="Bias", version="bias", environment={"analysis_type": "MODEL_BIAS"},
                 analysis_config=CONFIG_URI)
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    assert quality.kind is BaselineKind.MODEL_QUALITY and quality.statistics_s3_uri is None
    assert _text(stack.resolve(quality.constraints_s3_uri)) == f"s3://<{bucket}>/baselines/mq/constraints.json"
    assert bias.kind is BaselineKind.BIAS and bias.statistics_s3_uri is None
    assert _text(stack.resolve(bias.constraints_s3_uri)) == f"s3://<{bucket}>/baselines/bias/analysis.json"


def test_monitors_of_each_type_take_their_scaled_out_dataset_baseline(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Test", env=TEST_ENV)
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn", image_uri=model_image(stack))
    scale_out = ScaleOut(image_uri=IMAGE_URI, always=True)
    quality = ModelQualityMonitor(
        stack, "ModelQuality", endpoint=endpoint, problem_type=ProblemType.BINARY_CLASSIFICATION,
        inference_attribute="0", probability_attribute="1", image=AnalyzerImage.from_uri(ANALYZER_URI),
        baseline=Baseline.from_dataset(DATASET, version="mq", environment=MODEL_QUALITY_ENVIRONMENT,
                                       scale_out=scale_out))
    bias = BiasDriftMonitor(
        stack, "Bias", endpoint=endpoint, label="churn", label_values_or_threshold=[1], facets=[Facet("senior", [1])],
        headers=["senior", "tenure"], image=AnalyzerImage.from_uri(ANALYZER_URI),
        baseline=Baseline.from_dataset(DATASET, version="bias", environment={"analysis_type": "MODEL_BIAS"},
                                       analysis_config=BIAS_CONFIG, scale_out=scale_out))
    template = template_of(stack).to_json()
    assert quality.baseline.kind is BaselineKind.MODEL_QUALITY and bias.baseline.kind is BaselineKind.BIAS
    runs = [json.loads(_text(r["Properties"]["SparkJobRunRequest"])) for r in template["Resources"].values()
            if r["Type"] == "Custom::ModelMonitorBaseline"]
    assert sorted(run["jobDriver"]["sparkSubmit"]["entryPointArguments"][4] for run in runs) == [
        "bias", "model-quality"]


def test_the_spark_job_role_reads_exactly_the_bias_config_object(tmp_path):
    """Beside the dataset and the version folder: GetObject on the config's object, ListBucket of its key only;
    the monitor's job role, which runs the Processing job, the same."""
    _, stack, storage, role = _parts(tmp_path)
    _bind(stack, storage, role, environment={"analysis_type": "MODEL_BIAS"}, analysis_config=CONFIG_URI,
          scale_out=ScaleOut(image_uri=IMAGE_URI, threshold_bytes=1024 ** 3))
    template = template_of(stack).to_json()
    for policy in ("BaselineSparkJobRoleDefaultPolicy", "JobRoleDefaultPolicy"):
        statements = _statements(template, policy)
        reads = _resources(statements, ["s3:GetObject"])
        assert "arn:aws:s3:::ml-config/churn/bias/analysis_config.json" in reads, policy
        assert not [r for r in reads if "ml-config" in r and r.endswith("*")], policy
        (listing,) = [s for s in statements if _actions(s) == ["s3:ListBucket"] and "ml-config" in _text(s["Resource"])]
        assert listing["Condition"] == {"StringLike": {"s3:prefix": ["churn/bias/analysis_config.json"]}}, policy


def test_the_spark_job_role_reads_exactly_the_bias_config_asset(tmp_path):
    _, stack, storage, role = _parts(tmp_path)
    _bind(stack, storage, role, environment={"analysis_type": "MODEL_BIAS"}, analysis_config=BIAS_CONFIG)
    job = _job(stack)
    template = template_of(stack).to_json()
    key = job.analysis_config_asset.s3_object_key
    statements = _statements(template, "BaselineSparkJobRoleDefaultPolicy")
    reads = _resources(statements, ["s3:GetObject"])
    assert len([r for r in reads if r.endswith(f"/{key}")]) == 1, reads
    assert [r for r in reads if r.endswith("*")] == ["arn:aws:s3:::ml-data/churn/train/*"]  # no other wildcard
    (listing,) = [s for s in statements if _actions(s) == ["s3:ListBucket"] and "Condition" in s
                  and "StringEquals" in s["Condition"]]
    assert listing["Condition"] == {"StringEquals": {"s3:prefix": key}}
    request = _spark_request(template)
    assert any(a.endswith(f"/{key}") for a in request["jobDriver"]["sparkSubmit"]["entryPointArguments"])


# -- the application and the roles ----------------------------------------------------------------------------------


def test_the_baseline_has_an_application_of_its_own_sized_by_its_scale_out_and_stopped_when_idle(scaled):
    *_, template = scaled
    (application,) = [r["Properties"] for r in template["Resources"].values()
                      if r["Type"] == "AWS::EMRServerless::Application"]
    assert application["Type"] == "SPARK" and application["ReleaseLabel"] == "emr-7.12.0"
    assert application["MaximumCapacity"] == {"Cpu": "32 vCPU", "Memory": "128 GB"}
    assert application["AutoStartConfiguration"] == {"Enabled": True}
    assert application["AutoStopConfiguration"] == {"Enabled": True, "IdleTimeoutMinutes": 5}
    assert application["ImageConfiguration"] == {"ImageUri": IMAGE_URI}
    assert "NetworkConfiguration" not in application  # as the baseline's Processing job: no VPC


def test_the_spark_job_role_trusts_this_application_reads_the_dataset_and_writes_only_its_version_and_logs(scaled):
    stack, storage, _, key, _, template = scaled
    job = _job(stack)
    spark_role = stack.get_logical_id(job.spark.job_role.node.default_child)
    (trust,) = template["Resources"][spark_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {
        "aws:SourceAccount": "123456789012",
        "aws:SourceArn": {"Fn::GetAtt": [stack.get_logical_id(job.spark.application), "Arn"]}}}
    statements = _statements(template, "BaselineSparkJobRoleDefaultPolicy")
    bucket = stack.get_logical_id(storage.bucket.node.default_child)

    def granted(action):
        return sorted(_text(s["Resource"]) for s in statements if action in _actions(s))

    assert granted("s3:PutObject") == [f"<{bucket}.Arn>/baselines/_spark-logs/v3/*", f"<{bucket}.Arn>/baselines/v3/*"]
    assert granted("s3:DeleteObject") == [f"<{bucket}.Arn>/baselines/v3/*"]
    assert granted("s3:GetObject") == sorted(["arn:aws:s3:::ml-data/churn/train/*", f"<{bucket}.Arn>/baselines/v3/*"])
    lists = sorted(p for s in statements if _actions(s) == ["s3:ListBucket"]
                   for p in s["Condition"]["StringLike"]["s3:prefix"])
    assert lists == ["baselines/v3", "baselines/v3/*", "churn/train", "churn/train/*"]
    monitoring_key = stack.get_logical_id(storage.encryption_key.node.default_child)
    assert any({"kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"} <= set(_actions(s))
               and _text(s["Resource"]) == f"<{monitoring_key}.Arn>" for s in statements)
    assert any(_actions(s) == ["kms:Decrypt"] and _text(s["Resource"]) == f"<{stack.get_logical_id(key.node.default_child)}.Arn>"
               for s in statements)  # the dataset's own key
    actions = {a for s in statements for a in _actions(s)}
    assert not {a for a in actions if a.startswith(("sagemaker:", "iam:", "ecr:", "emr-serverless:"))}


def test_the_monitors_job_role_only_reads_the_baseline_the_spark_run_makes(scaled):
    stack, storage, *_, template = scaled
    statements = _statements(template, "JobRoleDefaultPolicy")
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    assert _resources(statements, ["s3:GetObject"]) == [f"<{bucket}.Arn>/baselines/v3/*"]
    assert all("s3:PutObject" not in _actions(s) for s in statements)
    assert "ml-data" not in json.dumps(statements)


def test_the_custom_resources_functions_start_poll_and_cancel_only_this_applications_runs(scaled):
    stack, *_, template = scaled
    job = _job(stack)
    application = stack.get_logical_id(job.spark.application)
    runs = f"<{application}.Arn>/jobruns/*"
    on_event = _statements(template, "BaselineOnEventRoleDefaultPolicy")
    emr = sorted((_actions(s), _text(s["Resource"])) for s in on_event
                 if any(a.startswith("emr-serverless:") for a in _actions(s)))
    assert emr == [(["emr-serverless:CancelJobRun", "emr-serverless:GetJobRun", "emr-serverless:TagResource"], runs),
                   (["emr-serverless:ListJobRuns", "emr-serverless:StartJobRun"], f"<{application}.Arn>")]
    (passes,) = [s for s in on_event if _actions(s) == ["iam:PassRole"]]
    assert passes["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(job.spark.job_role.node.default_child), "Arn"]}
    assert passes["Condition"] == {"StringLike": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}
    assert not [s for s in on_event if any(a.startswith("sagemaker:") for a in _actions(s))]
    is_complete = _statements(template, "BaselineIsCompleteRoleDefaultPolicy")
    assert [(_actions(s), _text(s["Resource"])) for s in is_complete if any(
        a.startswith("emr-serverless:") for a in _actions(s))] == [(["emr-serverless:GetJobRun"], runs)]
    # the custom resource starts once the Spark role's permissions are in place, and waits within the hour
    depends = _custom_resource(template)["DependsOn"]
    assert stack.get_logical_id(job.spark.job_role.node.default_child) in depends
    assert any(d.startswith("BaselineSparkJobRoleDefaultPolicy") for d in depends)


def test_the_image_is_built_from_the_spark_dockerfile_once_for_the_monitor_and_its_baseline(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Test", env=TEST_ENV)
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn", image_uri=model_image(stack))
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=AnalyzerImage.from_uri(ANALYZER_URI),
                                 scale_out=ScaleOut(always=True),
                                 baseline=Baseline.from_dataset(DATASET, version="v3", scale_out=ScaleOut()))
    job = _job(stack)
    assert job.spark.application is not monitor.engine.spark.application  # one application each
    assert job.spark.image_asset.asset_hash == monitor.engine.spark.image_asset.asset_hash  # one image
    template = template_of(stack).to_json()
    assert len([r for r in template["Resources"].values() if r["Type"] == "AWS::EMRServerless::Application"]) == 2


def test_a_native_engine_monitor_may_baseline_on_spark(tmp_path):
    """The baseline is a deploy-time job of its own, not part of the Model Monitor schedule."""
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Test", env=TEST_ENV)
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn", image_uri=model_image(stack))
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, engine=Engine.MODEL_MONITOR,
                                 baseline=Baseline.from_dataset(DATASET, scale_out=ScaleOut(image_uri=IMAGE_URI)))
    template = template_of(stack).to_json()
    job = _job(stack)
    assert job.spark is not None and monitor.baseline.dependency is job.resource
    (schedule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::MonitoringSchedule"]
    assert stack.get_logical_id(job.resource.node.default_child) in schedule["DependsOn"]
    assert "baselines" in json.dumps(schedule["Properties"]["MonitoringScheduleConfig"])


def test_without_always_the_custom_resource_may_run_either_and_chooses_by_the_datasets_size(tmp_path):
    """``ScaleOut(threshold_bytes=...)`` as on the monitors: both requests, the threshold, and the grants of both
    jobs; the handler lists the dataset's prefix only."""
    _, stack, storage, role = _parts(tmp_path)
    bound = _bind(stack, storage, role, scale_out=ScaleOut(image_uri=IMAGE_URI, threshold_bytes=5 * 1024 ** 3))
    template = template_of(stack).to_json()
    job = _job(stack)
    resource = _custom_resource(template)
    props = resource["Properties"]
    assert props["SparkThresholdBytes"] == str(5 * 1024 ** 3)
    processing = json.loads(_text(props["ProcessingJobRequest"]))
    spark = json.loads(_text(props["SparkJobRunRequest"]))
    assert processing["ProcessingInputs"][0]["S3Input"]["S3Uri"] == DATASET
    assert DATASET in spark["jobDriver"]["sparkSubmit"]["entryPointArguments"]
    assert bound.dependency is job.resource
    # either job finds its role's permissions in place
    depends = resource["DependsOn"]
    assert {stack.get_logical_id(role.node.default_child),
            stack.get_logical_id(job.spark.job_role.node.default_child)} <= set(depends)
    bucket = stack.get_logical_id(storage.bucket.node.default_child)
    monitor_role = _statements(template, "JobRoleDefaultPolicy")
    assert any("s3:PutObject" in _actions(s) and _text(s["Resource"]) == f"<{bucket}.Arn>/baselines/v3/*"
               for s in monitor_role)  # the Processing job writes the version folder as the monitor's role
    on_event = _statements(template, "BaselineOnEventRoleDefaultPolicy")
    granted = {a for s in on_event for a in _actions(s)}
    assert {"sagemaker:CreateProcessingJob", "emr-serverless:StartJobRun", "s3:ListBucket"} <= granted
    (listing,) = [s for s in on_event if _actions(s) == ["s3:ListBucket"]]
    assert listing["Resource"] == "arn:aws:s3:::ml-data"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["churn/train", "churn/train/*"]}}
    assert "s3:GetObject" not in granted


# -- mistakes ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"environment": {"analysis_type": "MODEL_BIAS"}}, "A bias baseline needs Clarify's analysis config"),
    ({"environment": {"analysis_type": "FAIRNESS"}}, "Use DATA_QUALITY (the default), MODEL_QUALITY or MODEL_BIAS"),
    ({"analysis_config": "s3://ml-data/configs/analysis_config.json"}, "Only bias baselines read an analysis config"),
    ({"environment": {"analysis_type": "MODEL_BIAS"}, "analysis_config": "s3://ml-data/configs/analysis_config.json",
      "dataset_format": DatasetFormat.json_lines()}, "as its analysis config's dataset_type says"),
    ({"environment": {"analysis_type": "MODEL_BIAS", "inference_attribute": "0"},
      "analysis_config": "s3://ml-data/configs/analysis_config.json"}, "(it takes max_bad_record_ratio)"),
    ({"environment": {"analysis_type": "MODEL_BIAS"}, "analysis_config": "ml-data/configs/analysis_config.json"},
     "Use an S3 URI"),
    ({"environment": {"analysis_type": "MODEL_QUALITY", "threshold_margin": "0.1"}}, "['threshold_margin']"),
    ({"environment": {"analysis_type": "MODEL_QUALITY"}, "dataset_format": DatasetFormat.parquet()},
     "ScaleOut(always=True) to baseline Parquet on Spark"),
    ({"environment": {"analysis_type": "MODEL_QUALITY"}, "dataset_format": DatasetFormat.parquet(),
      "scale_out": {"always": True}}, "ScaleOut(always=True) to baseline Parquet on Spark"),
    ({"environment": {"analysis_config": "/opt/ml/processing/input/config/a.json"}}, "analysis_config=..."),
    ({"environment": {"record_preprocessor_script": "/opt/ml/code/p.py"}}, "record_preprocessor_script"),
    ({"scale_out": ScaleOut(executor_vcpus=3)}, "executor_vcpus=3"),
    ({"scale_out": ScaleOut(max_vcpus=4)}, "at least 8"),
    ({"scale_out": {"max_vcpus": 8}}, "Use ScaleOut"),
    ({"scale_out": ScaleOut(architecture=SparkArchitecture.ARM64)}, "x86_64 wheels"),
])
def test_what_the_spark_runner_cannot_run_is_a_one_line_error_at_synth(tmp_path, kwargs, message):
    _, stack, storage, role = _parts(tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape(message)) as raised:
        _bind(stack, storage, role, **{"scale_out": ScaleOut(), **kwargs})
    assert "\n" not in str(raised.value)


def test_every_type_baselines_on_spark_with_flags_its_command_line_has():
    """SPARK_BASELINE_FLAGS has a row per baseline type, and each flag is an option of that type's ``baseline``
    command line (a renamed option fails here)."""
    assert set(SPARK_BASELINE_FLAGS) == {kind.value for kind in BaselineKind}
    for kind, flags in SPARK_BASELINE_FLAGS.items():
        commands = next(a for a in build_parser(kind)._actions if a.dest == "command")
        options = commands.choices["baseline"]._option_string_actions
        assert set(flags.values()) <= set(options), kind


# -- the template as a whole ---------------------------------------------------------------------------------------


#: the settings of a model-quality and a bias dataset baseline
TYPED_BASELINES = {"model-quality": {"environment": MODEL_QUALITY_ENVIRONMENT},
                   "bias": {"environment": {"analysis_type": "MODEL_BIAS"}, "analysis_config": BIAS_CONFIG}}


def _snapshot_stack(app: cdk.App, *, scale_out: ScaleOut | None, kind: str = "data-quality") -> cdk.Stack:
    stack = cdk.Stack(app, "S", env=TEST_ENV)
    storage = MonitoringBucket(stack, "Storage")
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    Baseline.from_dataset(storage.s3_uri("datasets", "churn"), version="v1", scale_out=scale_out,
                          **TYPED_BASELINES.get(kind, {})).bind(
        stack, storage=storage, image=AnalyzerImage.builtin(), job_role=role)
    return stack


def test_a_scaled_out_dataset_baseline_stack_matches_its_snapshot(tmp_path, snapshot):
    stack = _snapshot_stack(new_app(tmp_path), scale_out=ScaleOut())
    assert normalize(template_of(stack).to_json()) == snapshot.use_extension(JSONSnapshotExtension)


def test_a_scaled_out_dataset_baseline_passes_cfn_lint_and_cdk_nag(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = _snapshot_stack(app, scale_out=ScaleOut())
    assert cfn_lint_findings(template_of(stack).to_json()) == []
    assert nag_findings(app) == []


def test_scaling_out_a_dataset_baseline_adds_no_checkov_finding(tmp_path):
    from .test_checkov import _scan

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with_spark = _scan(template_of(_snapshot_stack(new_app(tmp_path / "c"), scale_out=ScaleOut())).to_json(),
                       tmp_path / "a")
    without = _scan(template_of(_snapshot_stack(new_app(tmp_path / "d"), scale_out=None)).to_json(), tmp_path / "b")
    assert sorted(set(with_spark) - set(without)) == []


@pytest.mark.parametrize("kind", list(TYPED_BASELINES))
def test_a_scaled_out_model_quality_or_bias_dataset_baseline_stack_matches_its_snapshot(tmp_path, snapshot, kind):
    stack = _snapshot_stack(new_app(tmp_path), scale_out=ScaleOut(), kind=kind)
    assert normalize(template_of(stack).to_json()) == snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("kind", list(TYPED_BASELINES))
def test_a_scaled_out_model_quality_or_bias_dataset_baseline_passes_cfn_lint_and_cdk_nag(tmp_path, kind):
    app = new_app(tmp_path, nag=True)
    stack = _snapshot_stack(app, scale_out=ScaleOut(), kind=kind)
    assert cfn_lint_findings(template_of(stack).to_json()) == []
    assert nag_findings(app) == []


@pytest.mark.parametrize("kind", list(TYPED_BASELINES))
def test_scaling_out_a_model_quality_or_bias_dataset_baseline_adds_no_checkov_finding(tmp_path, kind):
    from .test_checkov import _scan

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with_spark = _scan(template_of(_snapshot_stack(new_app(tmp_path / "c"), scale_out=ScaleOut(), kind=kind)).to_json(),
                       tmp_path / "a")
    without = _scan(template_of(_snapshot_stack(new_app(tmp_path / "d"), scale_out=None, kind=kind)).to_json(),
                    tmp_path / "b")
    assert sorted(set(with_spark) - set(without)) == []
