"""Scale-out on EMR Serverless (``ScaleOut``): the application, its job role, the state machine's Spark branch and
the job's arguments, against the Processing job's inputs of the same window."""

from __future__ import annotations

import importlib
import json
import re
import shlex

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from botocore.validate import validate_parameters
from syrupy.extensions.json import JSONSnapshotExtension

from cdk_model_monitor import (
    BiasDriftMonitor,
    CapturedEndpoint,
    ConfigurationError,
    DataQualityMonitor,
    DataQualityProps,
    DriftMethod,
    Engine,
    Facet,
    FeatureOverride,
    JobNetwork,
    ModelMonitor,
    ModelQualityMonitor,
    MonitoringBucket,
    ProblemType,
    ScaleOut,
    SparkArchitecture,
)
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from model_monitor_analyzer.cli import build_parser

from .conftest import (
    ANALYZER_URI,
    DEMO_BASELINE,
    REPO_ROOT,
    TEST_ENV,
    cfn_lint_findings,
    model_image,
    nag_findings,
    new_app,
    normalize,
    template_of,
    template_text,
)

# the Step Functions simulator's evaluation of Parameters (tests/lambda/state_machine.py; "lambda" is a keyword)
_simulator = importlib.import_module("tests.lambda.state_machine")


def evaluate_parameters(template: dict, state: dict) -> dict:
    return _simulator._parameters(template, state, {})


PLAN = {"start": "2026-11-25T12:00:00Z", "end": "2026-11-25T13:00:00Z", "metric_time": "2026-11-25T12:00:00Z",
        "ground_truth_start": "2026-11-25T12:00:00Z",
        "manifest_uri": "s3://b/reports/data-quality/_manifests/ep/s/2026/11/25/13/capture.manifest.json",
        "ground_truth_manifest_uri": "s3://b/reports/x/_manifests/ep/s/2026/11/25/13/ground-truth.manifest.json",
        "report_uri": "s3://b/reports/data-quality/ep/s/2026/11/25/13", "job_name": "s-2026112513-0123456789",
        "runner": "spark"}


def _stack(app: cdk.App) -> tuple[cdk.Stack, MonitoringBucket, CapturedEndpoint]:
    stack = cdk.Stack(app, "Test", env=TEST_ENV)
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn", image_uri=model_image(stack))
    return stack, storage, endpoint


def _data_quality(app: cdk.App, **settings) -> tuple[cdk.Stack, DataQualityMonitor]:
    stack, _, endpoint = _stack(app)
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, baseline=Baseline.from_directory(DEMO_BASELINE),
                                 image=AnalyzerImage.from_uri(ANALYZER_URI), **settings)
    return stack, monitor


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _definition(template: dict) -> dict:
    (machine,) = _resources(template, "AWS::StepFunctions::StateMachine").values()
    source = machine["Properties"]["DefinitionString"]
    parts = source["Fn::Join"][1] if isinstance(source, dict) else [source]
    # each reference as <logical id> (the ARNs' and URIs' deploy-time parts)
    return json.loads("".join(p if isinstance(p, str) else template_text(p).replace('"', "'") for p in parts))


def _spark_arguments(definition: dict, plan: dict) -> list[str]:
    """The job's entryPointArguments for ``plan``, as Step Functions evaluates the two states."""
    state = {"plan": plan}
    gathered = evaluate_parameters(definition["States"]["SparkJobArguments"]["Parameters"], state)
    state["spark"] = gathered
    parameters = evaluate_parameters(definition["States"]["RunSparkAnalyzer"]["Parameters"], state)
    return parameters["JobDriver"]["SparkSubmit"]["EntryPointArguments"]


def _processing_environment(definition: dict, plan: dict) -> dict:
    return evaluate_parameters(definition["States"]["RunAnalyzer"]["Parameters"], {"plan": plan})["Environment"]


def _parsed(arguments: list[str]):
    """The analyzer's own command-line parser's reading of the arguments (``--engine spark`` is the Spark runner's,
    taken out here so that the parser of this analyzer version reads the rest)."""
    assert arguments[:5] == ["monitor", "--engine", "spark", "--type", arguments[4]]
    rest = [arguments[0], *arguments[3:]]
    return build_parser(arguments[4]).parse_args(rest)


# -- the application and its role ---------------------------------------------------------------------------


def test_scale_out_creates_an_emr_serverless_spark_application_with_its_capacity_and_auto_stop(app):
    stack, monitor = _data_quality(app, scale_out=ScaleOut(max_vcpus=32, max_memory_gb=128,
                                                           idle_timeout=Duration.minutes(5)))
    template = template_of(stack).to_json()
    (application,) = _resources(template, "AWS::EMRServerless::Application").values()
    props = application["Properties"]
    assert props["Type"] == "SPARK" and props["ReleaseLabel"] == "emr-7.12.0" and props["Architecture"] == "X86_64"
    assert props["MaximumCapacity"] == {"Cpu": "32 vCPU", "Memory": "128 GB"}
    assert props["AutoStartConfiguration"] == {"Enabled": True}
    assert props["AutoStopConfiguration"] == {"Enabled": True, "IdleTimeoutMinutes": 5}
    assert "NetworkConfiguration" not in props  # no VPC given
    # the image is built from container/Dockerfile.spark on the base of the same release
    asset = monitor.engine.spark.image_asset
    assert stack.resolve(props["ImageConfiguration"]["ImageUri"]) == stack.resolve(asset.image_uri)
    dockerfile = (REPO_ROOT / "container" / "Dockerfile.spark").read_text()
    assert re.search(r"^ARG RELEASE=emr-7\.12\.0$", dockerfile, re.M)
    assert "FROM public.ecr.aws/emr-serverless/spark/${RELEASE}:latest" in dockerfile
    assert "COPY spark_entry.py /opt/analyzer/spark_entry.py" in dockerfile
    assert dockerfile.rstrip().endswith("USER hadoop:hadoop")


def test_the_application_runs_in_the_jobs_vpc_subnets_and_security_groups(app):
    stack, _, endpoint = _stack(app)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, baseline=Baseline.from_directory(DEMO_BASELINE),
                                 network=JobNetwork(vpc=vpc), scale_out=ScaleOut())
    template = template_of(stack).to_json()
    (application,) = _resources(template, "AWS::EMRServerless::Application").values()
    network = application["Properties"]["NetworkConfiguration"]
    processing = _definition(template)["States"]["RunAnalyzer"]["Parameters"]["NetworkConfig"]["VpcConfig"]
    assert network["SubnetIds"] == stack.resolve(list(monitor.vpc_placement.subnet_ids))
    assert len(network["SubnetIds"]) == len(processing["Subnets"]) == 2
    assert stack.resolve(network["SecurityGroupIds"]) == stack.resolve(list(monitor.vpc_placement.security_group_ids))


def test_the_job_role_trusts_emr_serverless_for_this_application_and_account_only(app):
    stack, monitor = _data_quality(app, scale_out=ScaleOut())
    spark = monitor.engine.spark
    role = template_of(stack).to_json()["Resources"][stack.get_logical_id(spark.job_role.node.default_child)]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    application = stack.get_logical_id(spark.application)
    assert statement["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012",
                                                       "aws:SourceArn": {"Fn::GetAtt": [application, "Arn"]}}}


def _policy_of(template: dict, role_id: str) -> list[dict]:
    return [s for p in _resources(template, "AWS::IAM::Policy").values()
            if any(r.get("Ref") == role_id for r in p["Properties"]["Roles"])
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _resource_texts(statements: list[dict], action: str) -> str:
    """The resources of the statements allowing ``action`` (or a wildcard of it), as text."""
    def allows(statement):
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        return any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in actions)
    resources = [r for s in statements if allows(s) for r in
                 ([s["Resource"]] if not isinstance(s["Resource"], list) else s["Resource"])]
    return " ".join(template_text(r) for r in resources)


def _text(node) -> str:
    return json.dumps(node, sort_keys=True)


def test_the_job_role_reads_the_monitors_inputs_writes_its_reports_and_logs_and_nothing_of_sagemaker(app):
    stack, monitor = _data_quality(app, scale_out=ScaleOut())
    template = template_of(stack).to_json()
    statements = _policy_of(template, stack.get_logical_id(monitor.engine.spark.job_role.node.default_child))
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in actions if a.startswith(("sagemaker:", "iam:", "ecr:"))}
    writes = _resource_texts(statements, "s3:PutObject")
    reads = _resource_texts(statements, "s3:GetObject")
    assert template_text(stack.resolve(f"/{monitor.report_prefix}/*")) in writes
    assert template_text(stack.resolve(f"/{monitor.spark_logs_prefix}/*")) in writes
    assert "datacapture" in reads and "_manifests" in reads
    # the baseline files (assets) and the monitoring key
    assert all(stack.resolve(a.s3_object_key) in reads for a in monitor.baseline.assets)
    key = stack.get_logical_id(monitor.storage.encryption_key.node.default_child)
    assert any("kms:GenerateDataKey" in s["Action"] and key in _text(s["Resource"]) for s in statements)
    # it writes nowhere else: no other monitor's or type's folder
    assert "ground-truth" not in writes and "baselines" not in writes


def test_a_labelled_monitors_job_role_reads_its_ground_truth_and_the_bias_config(app):
    stack, _, endpoint = _stack(app)
    monitor = BiasDriftMonitor(stack, "Bias", endpoint=endpoint, label="Churn", label_values_or_threshold=[1],
                               facets=[Facet("Account Length", [100])], inference_attribute="0",
                               baseline=Baseline.from_s3(None, "s3://baselines/bias/analysis.json"),
                               scale_out=ScaleOut())
    template = template_of(stack).to_json()
    statements = _policy_of(template, stack.get_logical_id(monitor.engine.spark.job_role.node.default_child))
    reads = _resource_texts(statements, "s3:GetObject")
    assert template_text(stack.resolve(f"/{monitor.ground_truth_prefix}/*")) in reads
    assert stack.resolve(monitor.analysis_config_asset.s3_object_key) in reads
    assert "baselines/bias/analysis.json" in reads


def test_the_job_role_may_decrypt_an_s3_baseline_encrypted_with_a_key_of_the_users(app):
    from aws_cdk import aws_kms as kms

    stack, _, endpoint = _stack(app)
    key = kms.Key(stack, "BaselineKey", enable_key_rotation=True)
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, scale_out=ScaleOut(),
                                 baseline=Baseline.from_s3("s3://ml-artifacts/v3/statistics.json",
                                                           "s3://ml-artifacts/v3/constraints.json", encryption_key=key))
    template = template_of(stack).to_json()
    statements = _policy_of(template, stack.get_logical_id(monitor.engine.spark.job_role.node.default_child))
    reads = _resource_texts(statements, "s3:GetObject")
    assert "ml-artifacts/v3/statistics.json" in reads and "ml-artifacts/v3/constraints.json" in reads
    assert any("kms:Decrypt" in s["Action"] and s["Resource"] == {
        "Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]} for s in statements)


# -- the state machine -------------------------------------------------------------------------------------


def test_after_the_plan_the_runner_the_planner_chose_decides_between_spark_and_the_processing_job(app):
    stack, _ = _data_quality(app, scale_out=ScaleOut(threshold_bytes=5 * 1024 ** 3))
    template = template_of(stack).to_json()
    states = _definition(template)["States"]
    assert states["HasData"]["Default"] == "ChooseRunner"
    choose = states["ChooseRunner"]
    assert choose["Choices"] == [{"Variable": "$.plan.runner", "StringEquals": "spark", "Next": "SparkJobArguments"}]
    assert choose["Default"] == "PrepareJobStart"
    assert states["SparkJobArguments"]["Next"] == "RunSparkAnalyzer"
    run = states["RunSparkAnalyzer"]
    assert run["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    assert run["Next"] == "PublishSparkResults" and states["PublishSparkResults"]["Next"] == "WindowStatus"
    # a failed or timed-out job run takes the Processing job's failure path (RecordFailure, the Failed status)
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in run["Catch"]}
    assert catches[("States.ALL",)] == "RecordFailure"
    assert states[catches[("States.Timeout",)]]["Next"] == "RecordFailure"
    assert {tuple(c["ErrorEquals"]): c["Next"] for c in states["PublishSparkResults"]["Catch"]} == {
        ("States.ALL",): "RecordFailure"}
    assert run["TimeoutSeconds"] == states["RunAnalyzer"]["TimeoutSeconds"]
    plan = states["PlanWindow"]["Parameters"]
    assert plan["scale_out"] == {"threshold_bytes": 5 * 1024 ** 3, "always": False}


def test_without_scale_out_the_state_machine_and_the_planners_input_are_as_before(app):
    stack, _ = _data_quality(app)
    template = template_of(stack).to_json()
    states = _definition(template)["States"]
    assert "ChooseRunner" not in states and "RunSparkAnalyzer" not in states
    assert "scale_out" not in states["PlanWindow"]["Parameters"]
    assert not _resources(template, "AWS::EMRServerless::Application")


def test_the_start_job_run_request_is_one_emr_serverless_accepts(app):
    stack, monitor = _data_quality(app, scale_out=ScaleOut(executor_vcpus=8, executor_memory_gb=32, max_vcpus=64))
    template = template_of(stack).to_json()
    definition = _definition(template)
    state = {"plan": PLAN}
    state["spark"] = evaluate_parameters(definition["States"]["SparkJobArguments"]["Parameters"], state)
    request = evaluate_parameters(definition["States"]["RunSparkAnalyzer"]["Parameters"], state)
    spark = monitor.engine.spark
    assert request["ApplicationId"] == f"<{stack.get_logical_id(spark.application)}>"  # its ApplicationId
    assert request["Name"] == request["ClientToken"] == PLAN["job_name"]
    submit = request["JobDriver"]["SparkSubmit"]
    assert submit["EntryPoint"] == "local:///opt/analyzer/spark_entry.py"
    conf = dict(p.split("=", 1) for p in shlex.split(submit["SparkSubmitParameters"]) if p != "--conf")
    assert conf["spark.executor.cores"] == "8" and conf["spark.executor.memory"] == "32g"
    # 64 vCPUs and 256 GB hold 8 workers of 8 vCPUs and 32 GB: the driver and 7 executors
    assert conf["spark.dynamicAllocation.maxExecutors"] == "7"
    # boto3 on the driver and executors (they read the window's S3 objects themselves) asks the stack's region
    assert conf["spark.emr-serverless.driverEnv.AWS_DEFAULT_REGION"] == stack.region
    assert conf["spark.executorEnv.AWS_DEFAULT_REGION"] == stack.region
    assert request["ExecutionTimeoutMinutes"] == 60
    logs = request["ConfigurationOverrides"]["MonitoringConfiguration"]["S3MonitoringConfiguration"]
    assert logs["LogUri"].endswith(template_text(stack.resolve(f"/{monitor.spark_logs_prefix}/")))
    assert stack.get_logical_id(monitor.storage.encryption_key.node.default_child) in logs["EncryptionKeyArn"]

    # botocore's model of StartJobRun (the optimized integration takes its fields in PascalCase), with the
    # deploy-time values as example values of their shape
    def api(node, name=""):
        if isinstance(node, dict):
            return {k[0].lower() + k[1:] if name != "tags" else k: api(v, k[0].lower() + k[1:]) for k, v in node.items()}
        if isinstance(node, list):
            return [api(v) for v in node]
        if isinstance(node, str) and "<" in node:
            return {"applicationId": "00f1234567890abc",
                    "executionRoleArn": "arn:aws:iam::123456789012:role/spark-job",
                    "encryptionKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    }.get(name, re.sub(r"<[^>]*>", "x", node))
        return node

    shape = botocore.session.get_session().get_service_model("emr-serverless").operation_model(
        "StartJobRun").input_shape
    validate_parameters(api(request), shape)


def test_the_spark_arguments_are_the_command_lines_flags_with_the_processing_jobs_values(app):
    stack, _ = _data_quality(app, scale_out=ScaleOut(always=True), drift_method=DriftMethod.PSI,
                                   feature_overrides={"Account Length": FeatureOverride(drift_threshold=0.2)})
    definition = _definition(template_of(stack).to_json())
    arguments = _spark_arguments(definition, PLAN)
    env = _processing_environment(definition, PLAN)
    args = _parsed(arguments)
    assert str(args.capture) == PLAN["manifest_uri"].replace("s3://", "s3:/")  # a Path of the URI
    assert str(args.output) == PLAN["report_uri"].replace("s3://", "s3:/")
    assert arguments[arguments.index("--metrics-dir") + 1] == f"{PLAN['report_uri']}/metrics"
    assert (args.start, args.end, args.metric_time) == (env["start_time"], env["end_time"], env["metric_time"])
    assert args.endpoint == env["sagemaker_endpoint_name"] and args.schedule == env["sagemaker_monitoring_schedule_name"]
    assert args.capture_index_names == json.loads(env["dataset_format"])["sagemakerCaptureJson"]["captureIndexNames"]
    assert args.drift_method == env["drift_method"] == "psi"
    assert json.loads(args.feature_overrides) == json.loads(env["feature_overrides"])
    # the baseline files the Processing job downloads, by their S3 URIs
    statistics = arguments[arguments.index("--statistics") + 1]
    constraints = arguments[arguments.index("--constraints") + 1]
    assert statistics.endswith(env["baseline_statistics"].rsplit("/", 1)[-1])
    assert constraints.endswith(env["baseline_constraints"].rsplit("/", 1)[-1])


def test_model_quality_spark_arguments_carry_the_labels_the_problem_and_the_look_back(app):
    stack, _, endpoint = _stack(app)
    ModelQualityMonitor(stack, "ModelQuality", endpoint=endpoint, problem_type=ProblemType.BINARY_CLASSIFICATION,
                        inference_attribute="0", probability_attribute="1", probability_threshold=0.6,
                        positive_label="yes", ground_truth_lookback=Duration.hours(6),
                        baseline=Baseline.from_s3(None, "s3://baselines/mq/constraints.json"), scale_out=ScaleOut())
    definition = _definition(template_of(stack).to_json())
    plan = {**PLAN, "metric_time": PLAN["ground_truth_start"]}
    arguments = _spark_arguments(definition, plan)
    env = _processing_environment(definition, plan)
    args = _parsed(arguments)
    assert str(args.ground_truth) == plan["ground_truth_manifest_uri"].replace("s3://", "s3:/")
    assert str(args.constraints) == "s3:/baselines/mq/constraints.json"
    assert args.problem_type == env["problem_type"] == "BinaryClassification"
    assert (args.inference_attribute, args.probability_attribute) == (env["inference_attribute"],
                                                                      env["probability_attribute"])
    assert args.probability_threshold == float(env["probability_threshold_attribute"]) == 0.6
    assert args.positive_label == env["positive_label"] == "yes"
    assert args.ground_truth_lookback == env["ground_truth_lookback"] == "PT6H"
    assert (args.start, args.end, args.metric_time) == (env["start_time"], env["end_time"], env["metric_time"])


def test_bias_spark_arguments_carry_the_config_the_baseline_and_the_tolerance(app):
    stack, _, endpoint = _stack(app)
    BiasDriftMonitor(stack, "Bias", endpoint=endpoint, label="Churn", label_values_or_threshold=[1],
                               facets=[Facet("Account Length", [100])], features_attribute="features",
                               inference_attribute="0", probability_attribute="1", probability_threshold=0.7,
                               drift_tolerance=0.1, baseline=Baseline.from_s3(None, "s3://baselines/b/analysis.json"),
                               scale_out=ScaleOut())
    definition = _definition(template_of(stack).to_json())
    arguments = _spark_arguments(definition, PLAN)
    env = _processing_environment(definition, PLAN)
    args = _parsed(arguments)
    # the config asset itself, which the Processing job downloads under its own name
    config = arguments[arguments.index("--analysis-config") + 1]
    assert config.startswith("s3://") and config.endswith("/" + env["analysis_config"].rsplit("/", 1)[-1])
    assert env["analysis_config"].rsplit("/", 1)[-1].endswith(".json")
    assert str(args.baseline) == "s3:/baselines/b/analysis.json"
    assert args.drift_tolerance == float(env["bias_drift_tolerance"]) == 0.1
    assert (args.features_attribute, args.inference_attribute, args.probability_attribute) == (
        env["features_attribute"], env["inference_attribute"], env["probability_attribute"])
    assert args.probability_threshold == float(env["probability_threshold_attribute"])
    assert args.ground_truth_lookback == env["ground_truth_lookback"]
    assert str(args.ground_truth) == PLAN["ground_truth_manifest_uri"].replace("s3://", "s3:/")


def test_the_state_machine_may_start_read_and_cancel_this_applications_job_runs_and_pass_the_job_role_to_emr(app):
    stack, monitor = _data_quality(app, scale_out=ScaleOut())
    template = template_of(stack).to_json()
    machine_role = stack.get_logical_id(monitor.engine.state_machine.role.node.default_child)
    statements = _policy_of(template, machine_role)
    application = stack.get_logical_id(monitor.engine.spark.application)

    def of(action):
        return [s for s in statements if action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]

    (start,) = of("emr-serverless:StartJobRun")
    assert start["Resource"] == {"Fn::GetAtt": [application, "Arn"]}
    for action in ("emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"):
        (statement,) = of(action)
        assert template_text(statement["Resource"]) == f"<{application}>/jobruns/*"
    (rule,) = [s for s in of("events:PutRule") if "EMRServerless" in _text(s["Resource"])]
    assert "rule/StepFunctionsGetEventsForEMRServerlessJobRule" in _text(rule["Resource"])
    passes = of("iam:PassRole")
    spark_role = stack.get_logical_id(monitor.engine.spark.job_role.node.default_child)
    (to_emr,) = [s for s in passes if spark_role in _text(s["Resource"])]
    assert to_emr["Condition"] == {"StringLike": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}


# -- validation ---------------------------------------------------------------------------------------------


def test_the_native_engine_refuses_scale_out_and_says_why(app):
    stack, _, endpoint = _stack(app)
    with pytest.raises(ConfigurationError, match="Engine.STANDALONE.*Processing jobs only") as raised:
        DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, baseline=Baseline.from_directory(DEMO_BASELINE),
                           engine=Engine.MODEL_MONITOR, scale_out=ScaleOut())
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("scale_out", "message"), [
    (ScaleOut(executor_vcpus=3), "executor_vcpus=3"),
    (ScaleOut(executor_vcpus=4, executor_memory_gb=40), "4 vCPUs takes 8 to 30 GB"),
    (ScaleOut(max_vcpus=4), "at least 8"),
    (ScaleOut(max_memory_gb=16), "at least 32"),
    (ScaleOut(threshold_bytes=-1), "threshold_bytes"),
    (ScaleOut(release_label="emr-6.15.0"), "EMR 7.x"),
    (ScaleOut(idle_timeout=Duration.seconds(30)), "idle_timeout='30 seconds'"),
    (ScaleOut(image_uri="docker.io/analyzer:1"), "Amazon ECR"),
    (ScaleOut(architecture=SparkArchitecture.ARM64), "x86_64 wheels"),
    ({"max_vcpus": 8}, "Use ScaleOut"),
])
def test_scale_out_values_emr_serverless_would_refuse_are_one_line_errors_at_synth(app, scale_out, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)) as raised:
        _data_quality(app, scale_out=scale_out)
    assert "\n" not in str(raised.value)


def test_an_environment_variable_the_spark_runner_has_no_flag_for_is_refused_with_scale_out(app):
    with pytest.raises(ConfigurationError, match="record_preprocessor_script"):
        _data_quality(app, environment={"record_preprocessor_script": "/opt/ml/code/p.py"}, scale_out=ScaleOut())


def test_the_facade_gives_its_scale_out_to_the_monitors_it_creates(tmp_path):
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Test", env=TEST_ENV)
    facade = ModelMonitor(stack, "Model", model_name="churn", endpoint=CapturedEndpoint(
        stack, "Endpoint", bucket=MonitoringBucket(stack, "Storage"), endpoint_name="churn", image_uri=model_image(stack)),
        data_quality=DataQualityProps(baseline=Baseline.from_directory(DEMO_BASELINE)),
        scale_out=(chosen := ScaleOut(always=True)))
    assert facade.data_quality.scale_out is chosen
    assert facade.data_quality.engine.spark is not None
    with pytest.raises(ConfigurationError, match="Engine.STANDALONE"):
        ModelMonitor(stack, "Native", model_name="churn2", endpoint=facade.endpoint, engine=Engine.MODEL_MONITOR,
                     data_quality=DataQualityProps(baseline=Baseline.from_directory(DEMO_BASELINE)),
                     scale_out=ScaleOut())


# -- the template as a whole -------------------------------------------------------------------------------


_SNAPSHOT_SCALE_OUT = ScaleOut(threshold_bytes=2 * 1024 ** 3)


def _facade_stack(app: cdk.App, *, scale_out: ScaleOut | None = _SNAPSHOT_SCALE_OUT) -> cdk.Stack:
    stack = cdk.Stack(app, "ScaleOut", env=TEST_ENV)
    ModelMonitor(stack, "Model", model_name="churn",
                 endpoint=CapturedEndpoint(stack, "Endpoint", bucket=MonitoringBucket(stack, "Storage"),
                                           endpoint_name="churn", image_uri=model_image(stack)),
                 data_quality=DataQualityProps(baseline=Baseline.from_directory(DEMO_BASELINE)),
                 image=AnalyzerImage.from_uri(ANALYZER_URI), scale_out=scale_out)
    return stack


def test_a_monitor_with_scale_out_matches_its_snapshot(tmp_path, snapshot):
    stack = _facade_stack(new_app(tmp_path))
    assert normalize(template_of(stack).to_json()) == snapshot.use_extension(JSONSnapshotExtension)


def test_a_monitor_with_scale_out_passes_cfn_lint_and_cdk_nag(tmp_path):
    app = new_app(tmp_path, nag=True)
    stack = _facade_stack(app)
    assert cfn_lint_findings(template_of(stack).to_json()) == []
    assert nag_findings(app) == []


def test_scale_out_adds_no_checkov_finding(tmp_path):
    from .test_checkov import _scan

    with_spark = _scan(template_of(_facade_stack(new_app(tmp_path / "a"))).to_json(), tmp_path)
    (tmp_path / "b").mkdir()
    without = _scan(template_of(_facade_stack(new_app(tmp_path / "c"), scale_out=None)).to_json(), tmp_path / "b")
    assert sorted(set(with_spark) - set(without)) == []
