"""DataQualityMonitor on both engines: state machine, schedule, job, IAM, cdk-nag and cfn-lint."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2

from cdk_model_monitor import CapturedEndpoint, ConfigurationError, MonitoringBucket
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.job import Engine, JobCompute, JobNetwork
from cdk_model_monitor.monitors.capture_columns import BaselineColumns
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor
from cdk_model_monitor.schedule import DataWindow, Schedule

from .conftest import REPO_ROOT, cfn_lint_findings, model_image, nag_findings, new_app, template_of

BASELINE_DIR = str(REPO_ROOT / "demo" / "baseline")
ANALYZER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1.0"


def _monitor(stack, **kwargs) -> DataQualityMonitor:
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage,
                                image_uri=model_image(stack), endpoint_name="churn")
    kwargs.setdefault("image", AnalyzerImage.from_uri(ANALYZER))
    return DataQualityMonitor(stack, "DataQuality", endpoint=endpoint,
                              baseline=Baseline.from_directory(BASELINE_DIR), **kwargs)


def _states(stack) -> dict:
    """The state machine definition with CloudFormation references replaced by placeholders."""
    machine = next(iter(template_of(stack).find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))["States"]


def test_standalone_state_machine_plans_runs_publishes_and_records_no_data_and_failures(stack):
    _monitor(stack)
    states = _states(stack)
    assert set(states) == {"WaitForCaptureDelivery", "PlanWindow", "IsDuplicate", "DuplicateOfWindow",
                           "WindowAlreadyAnalysed", "HasData", "RecordNoData", "NoDataInWindow", "PrepareJobStart",
                           "RunAnalyzer", "JobTimedOut", "JobStartRefused", "RetryThrottledJobStart",
                           "RetryLimitedJobStart", "WaitToStartJob", "JobStartRetriesExhausted", "WatchExistingJob",
                           "DescribeExistingJob", "ExistingJobStatus", "PollExistingJob", "WaitForExistingJob",
                           "CountExistingJobPoll", "ExistingJobTimedOut", "ExistingJobEnded", "PublishResults",
                           "WindowStatus", "Done", "RecordFailure", "RecordPlanningFailure", "RecordFailureDirectly",
                           "ExecutionFailed"}
    assert states["HasData"]["Choices"][0] == {"Variable": "$.plan.has_data", "BooleanEquals": False,
                                               "Next": "RecordNoData"}
    assert states["RunAnalyzer"]["Resource"].endswith(":states:::sagemaker:createProcessingJob.sync")
    assert [c["Next"] for c in states["RunAnalyzer"]["Catch"]] == ["JobTimedOut", "JobStartRefused", "RecordFailure"]
    assert "Retry" not in states["RunAnalyzer"]  # JobStartRefused retries what may pass, after reading why
    assert states["PlanWindow"]["Catch"][0]["Next"] == "RecordPlanningFailure"
    assert states["RecordNoData"]["Parameters"]["status"] == "NoData"
    # the execution ends as the window's published status: the failure path may complete a completed window
    assert states["PublishResults"]["Next"] == states["RecordFailure"]["Next"] == "WindowStatus"
    assert states["WindowStatus"]["Choices"] == [{"Variable": "$.published.status", "StringEquals": "Failed",
                                                  "Next": "ExecutionFailed"}]
    assert states["WindowStatus"]["Default"] == "Done"


def test_processing_job_gets_the_builtin_environment_window_and_deterministic_name(stack):
    _monitor(stack)
    job = _states(stack)["RunAnalyzer"]["Parameters"]
    assert job["ProcessingJobName.$"] == "$.plan.job_name"
    env = job["Environment"]
    assert json.loads(env["dataset_format"]) == {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
    assert env["dataset_source"] == "/opt/ml/processing/input/endpoint"
    assert env["output_path"] == "/opt/ml/processing/output"
    assert env["start_time.$"] == "$.plan.start" and env["end_time.$"] == "$.plan.end"
    # each baseline object's folder and name (a file asset's <hash>.json), as SageMaker downloads it
    names = {i["InputName"]: i["S3Input"]["S3Uri"].rsplit("/", 1)[-1] for i in job["ProcessingInputs"][1:]}
    assert env["baseline_statistics"] == f"/opt/ml/processing/baseline/stats/{names['baseline_statistics']}"
    assert env["baseline_constraints"] == f"/opt/ml/processing/baseline/constraints/{names['baseline_constraints']}"
    assert env["CLOUDWATCH_METRICS_DIRECTORY"] == "/opt/ml/processing/output/metrics"
    (capture, *baseline) = job["ProcessingInputs"]
    assert capture["S3Input"]["S3DataType"] == "ManifestFile"
    assert capture["S3Input"]["LocalPath"] == "/opt/ml/processing/input/endpoint/REF/AllTraffic"
    assert [i["InputName"] for i in baseline] == ["baseline_statistics", "baseline_constraints"]
    assert job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri.$"] == "$.plan.report_uri"


def test_scheduler_passes_the_scheduled_time_hourly(stack):
    _monitor(stack)
    schedule = next(iter(template_of(stack).find_resources("AWS::Scheduler::Schedule").values()))["Properties"]
    assert schedule["ScheduleExpression"] == "cron(0 * * * ? *)"
    assert json.loads(schedule["Target"]["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}


def test_a_delayed_window_reaches_the_planner(stack):
    _monitor(stack, schedule=Schedule.hourly(window=DataWindow(start_offset=Duration.hours(2),
                                                                end_offset=Duration.hours(1))))
    payload = _states(stack)["PlanWindow"]["Parameters"]
    assert (payload["window_start_offset"], payload["window_end_offset"]) == ("-PT2H", "-PT1H")


def test_state_machine_may_only_start_jobs_under_its_prefix_and_pass_only_the_job_role(stack):
    monitor = _monitor(stack)
    template = template_of(stack)
    policies = template.find_resources("AWS::IAM::Policy")
    machine_role = stack.get_logical_id(monitor.engine.state_machine.role.node.default_child)
    (policy,) = [p for p in policies.values() if {"Ref": machine_role} in p["Properties"]["Roles"]]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    create = next(s for s in statements if "sagemaker:CreateProcessingJob" in s["Action"])
    assert create["Resource"] == ("arn:aws:sagemaker:us-east-1:123456789012:processing-job/"
                                  f"{monitor.engine.job_name_prefix}-*")
    pass_role = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] == {"Fn::GetAtt": [stack.get_logical_id(monitor.job_role.node.default_child), "Arn"]}


def _job_statements(stack, monitor) -> list[dict]:
    """The statements of the monitor's state-machine role that name SageMaker processing-job actions."""
    role = stack.get_logical_id(monitor.engine.state_machine.role.node.default_child)
    return [s for p in template_of(stack).find_resources("AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"] for s in p["Properties"]["PolicyDocument"]["Statement"]
            if any(a.endswith("ProcessingJob") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))]


def test_each_monitors_state_machine_may_create_describe_and_stop_only_its_own_monitors_jobs(stack):
    from fnmatch import fnmatchcase

    from cdk_model_monitor.bundled import lambda_shared_module

    hourly = _monitor(stack)
    daily = DataQualityMonitor(stack, "DailyDataQuality", endpoint=hourly.endpoint,
                               baseline=Baseline.from_directory(BASELINE_DIR), image=AnalyzerImage.from_uri(ANALYZER),
                               schedule=Schedule.daily(hour=2), schedule_name="churn-data-quality-daily-with-a-long-name")
    names = lambda_shared_module("names")
    patterns = {}
    for monitor in (hourly, daily):
        statements = _job_statements(stack, monitor)
        actions = {a for s in statements for a in s["Action"]}
        assert {"sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob"} <= actions
        resources = {s["Resource"] for s in statements}
        assert len(resources) == 1
        arn = resources.pop()
        prefix = arn.removeprefix("arn:aws:sagemaker:us-east-1:123456789012:processing-job/").removesuffix("-*")
        # the planner names the jobs with the prefix the role is limited to
        machine = template_of(stack).find_resources("AWS::StepFunctions::StateMachine")[
            stack.get_logical_id(monitor.engine.state_machine.node.default_child)]
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        states = json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))["States"]
        assert states["PlanWindow"]["Parameters"]["job_name_prefix"] == prefix == monitor.engine.job_name_prefix
        patterns[monitor] = arn.rsplit("/", 1)[1]
    assert patterns[hourly] != patterns[daily]
    for monitor, other in ((hourly, daily), (daily, hourly)):
        # every job name the planner can make for the monitor: hour and minute windows, first and later attempts
        for window_id in ("2026112513", "202611251345"):
            for attempt in (1, 2, 999):
                job = names.processing_job_name(monitor.engine.job_name_prefix, window_id, "churn",
                                                monitor.schedule_name, "data-quality", attempt=attempt)
                assert len(job) <= 63 and names.JOB_NAME_PATTERN.match(job)
                # SageMaker lower-cases job names in the ARNs IAM matches
                assert fnmatchcase(job.lower(), patterns[monitor]), (job, patterns[monitor])
                assert not fnmatchcase(job.lower(), patterns[other]), (job, patterns[other])


def test_compute_and_network_settings_reach_the_job(stack):
    _monitor(stack, compute=JobCompute(instance_type="ml.c5.2xlarge", volume_size_gb=50, max_runtime=Duration.minutes(30)),
             network=JobNetwork(vpc=ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-1", availability_zones=["us-east-1a"],
                                                                private_subnet_ids=["subnet-1"]),
                                security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-1")],
                                enable_network_isolation=True))
    job = _states(stack)["RunAnalyzer"]["Parameters"]
    assert job["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.c5.2xlarge"
    assert job["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == 50
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert job["NetworkConfig"]["VpcConfig"] == {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}


def test_native_engine_embeds_the_analyzer_in_a_monitoring_schedule(stack):
    monitor = _monitor(stack, engine=Engine.MODEL_MONITOR)
    template = template_of(stack)
    template.resource_count_is("AWS::StepFunctions::StateMachine", 0)
    schedule = next(iter(template.find_resources("AWS::SageMaker::MonitoringSchedule").values()))["Properties"]
    assert schedule["MonitoringScheduleName"] == monitor.schedule_name
    config = schedule["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    definition = config["MonitoringJobDefinition"]
    assert definition["MonitoringAppSpecification"] == {"ImageUri": ANALYZER}
    assert set(definition["BaselineConfig"]) == {"ConstraintsResource", "StatisticsResource"}


def test_native_engine_with_the_builtin_image_uses_a_typed_job_definition(stack):
    # The demo baseline starts with the model's output (churn_score), as the capture rows do.
    _monitor(stack, engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(),
             baseline_columns=BaselineColumns.OUTPUT_AND_FEATURES)
    template = template_of(stack)
    definition = next(iter(template.find_resources("AWS::SageMaker::DataQualityJobDefinition").values()))
    image = definition["Properties"]["DataQualityAppSpecification"]["ImageUri"]
    assert image.endswith(".dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer")
    schedule = next(iter(template.find_resources("AWS::SageMaker::MonitoringSchedule").values()))["Properties"]
    assert schedule["MonitoringScheduleConfig"]["MonitoringType"] == "DataQuality"


def test_native_engine_refuses_sub_hourly_schedules_with_a_fix(stack):
    with pytest.raises(ConfigurationError, match="hourly, daily or every N hours"):
        _monitor(stack, engine=Engine.MODEL_MONITOR, schedule=Schedule.rate(Duration.minutes(15)))


def test_builtin_image_needs_the_native_engine(stack):
    with pytest.raises(ConfigurationError, match="engine=Engine.MODEL_MONITOR"):
        _monitor(stack, image=AnalyzerImage.builtin())


def test_metric_helpers_use_the_builtin_namespace_and_dimensions(stack):
    monitor = _monitor(stack)
    drift = monitor.metric_drift("day_minutes")
    assert drift.namespace == "aws/sagemaker/Endpoints/data-metrics"
    assert drift.metric_name == "feature_baseline_drift_day_minutes"
    assert set(stack.resolve(drift.dimensions)) == {"Endpoint", "MonitoringSchedule"}
    assert monitor.metric_execution_status("Failed").metric_name == "ExecutionFailed"


@pytest.mark.parametrize("engine", [Engine.STANDALONE, Engine.MODEL_MONITOR])
def test_both_engines_pass_cdk_nag_and_cfn_lint(tmp_path, engine):
    app = new_app(tmp_path, nag=True)
    stack = cdk.Stack(app, "Nag", env=cdk.Environment(account="123456789012", region="us-east-1"))
    _monitor(stack, engine=engine)
    assert nag_findings(app) == []
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_feature_overrides_reach_the_analyzer_on_both_engines(app):
    from cdk_model_monitor.monitors.data_quality import FeatureOverride

    overrides = {"day_minutes": FeatureOverride(drift_threshold=0.25), "plan": FeatureOverride(check=False)}
    standalone = cdk.Stack(app, "S", env=cdk.Environment(account="123456789012", region="us-east-1"))
    native = cdk.Stack(app, "N", env=cdk.Environment(account="123456789012", region="us-east-1"))
    _monitor(standalone, feature_overrides=overrides)
    _monitor(native, feature_overrides=overrides, engine=Engine.MODEL_MONITOR)
    env = _states(standalone)["RunAnalyzer"]["Parameters"]["Environment"]
    assert json.loads(env["feature_overrides"]) == {"day_minutes": {"drift": 0.25}, "plan": {"check": False}}
    schedule = next(iter(template_of(native).find_resources("AWS::SageMaker::MonitoringSchedule").values()))
    assert "feature_overrides" in schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringJobDefinition"]["Environment"]


def test_feature_overrides_are_refused_for_the_builtin_image_and_bad_thresholds(stack):
    from cdk_model_monitor.monitors.data_quality import FeatureOverride

    with pytest.raises(ConfigurationError, match="constraints.json only"):
        _monitor(stack, engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(),
                 feature_overrides={"plan": FeatureOverride(check=False)})
    for index, bad in enumerate((0, -1, float("nan"), float("inf"))):
        with pytest.raises(ConfigurationError, match="finite drift threshold above 0"):
            _monitor(cdk.Stack(stack.node.scope, f"Other{index}"), feature_overrides={"plan": FeatureOverride(drift_threshold=bad)})


def test_an_environment_value_longer_than_sagemaker_takes_is_refused_with_a_fix(stack):
    with pytest.raises(ConfigurationError, match="at most 256 characters per value"):
        _monitor(stack, environment={"note": "x" * 300})


def test_many_feature_overrides_stay_within_an_environment_value(stack):
    from cdk_model_monitor.monitors.data_quality import FeatureOverride

    features = [f"feature_{i}" for i in range(6)]
    monitor = _monitor(stack, feature_overrides={f: FeatureOverride(drift_threshold=0.25, check=True) for f in features})
    assert len(monitor.user_environment["feature_overrides"]) <= 256


def test_drift_methods_of_the_constructs_are_the_analyzers_registry():
    from cdk_model_monitor import DriftMethod
    from cdk_model_monitor.bundled import analyzer_module

    assert [m.value for m in DriftMethod] == list(analyzer_module("constraint_rules").DRIFT_METHOD_CHOICES)


def test_a_drift_method_and_a_per_feature_method_reach_the_analyzer_and_the_alarms(app):
    from cdk_model_monitor import DriftMethod, FeatureOverride, MonitorAlarms

    stack = cdk.Stack(app, "Methods", env=cdk.Environment(account="123456789012", region="us-east-1"))
    monitor = _monitor(stack, drift_method=DriftMethod.PSI,
                       feature_overrides={"plan": FeatureOverride(method=DriftMethod.HELLINGER, drift_threshold=0.2)})
    env = _states(stack)["RunAnalyzer"]["Parameters"]["Environment"]
    assert env["drift_method"] == "psi"
    assert json.loads(env["feature_overrides"]) == {"plan": {"drift": 0.2, "method": "hellinger"}}
    created = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn").add_data_quality(
        monitor, baseline=Baseline.from_directory(BASELINE_DIR))
    effects = {c.subject: c.effect_threshold for c in created if c.metric_name.startswith("feature_drift_violation_")}
    assert effects["plan"] == 0.2 and effects["day_minutes"] == 0.1  # psi's default threshold


def test_the_built_in_rule_as_drift_method_keeps_distance_alarms(app):
    from cdk_model_monitor import DriftMethod, MonitorAlarms

    stack = cdk.Stack(app, "BuiltInRule")
    monitor = _monitor(stack, drift_method=DriftMethod.SAGEMAKER)
    created = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn").add_data_quality(
        monitor, baseline=Baseline.from_directory(BASELINE_DIR))
    drift = [c for c in created if c.category.slug == "drift"]
    assert drift and all(c.metric_name.startswith("feature_baseline_drift_") for c in drift)


def test_a_drift_method_given_as_text_is_refused_naming_the_enum(stack):
    with pytest.raises(ConfigurationError, match="DriftMethod"):
        _monitor(stack, drift_method="psi")
