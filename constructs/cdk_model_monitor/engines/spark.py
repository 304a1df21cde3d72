"""Scale-out of the standalone engine: an EMR Serverless application running the analyzer's Spark runner.

The window planner sends a window to Spark (``plan.runner == "spark"``) when the monitor's ``ScaleOut`` asks for
it; the state machine then starts one job run on the monitor's application with ``startJobRun.sync`` (Step
Functions' optimized integration; aws-cdk has no typed task for it, aws-cdk issue 32061) instead of the
Processing job. The job writes the same files and metric lines to the window's report folder, and the same
publisher and failure path follow.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..nag import acknowledge
from ..scale_out import ScaleOut
from .protocol import EngineMonitor, StateValue
from .spark_runtime import ENTRY_POINT, SparkRuntime

# The rule Step Functions manages for the .sync integration's job-run events (its generated policy names it).
_SYNC_RULE = "StepFunctionsGetEventsForEMRServerlessJobRule"


class SparkApplication(SparkRuntime):
    """A monitor's EMR Serverless application, its Spark image and the job runs' execution role."""

    def __init__(self, scope: Construct, id: str, *, monitor: EngineMonitor, scale_out: ScaleOut) -> None:
        super().__init__(scope, id, scale_out=scale_out, placement=monitor.vpc_placement,
                         role_description=f"Runs the {monitor.kind.name} Spark jobs of one monitor")
        monitor.grant_spark_job(self.job_role)

    def run_state(self, scope: Construct, monitor: EngineMonitor, *, timeout_seconds: int,
                  max_runtime_minutes: int) -> tuple[sfn.Pass, sfn.CustomState]:
        """(``SparkJobArguments``, ``RunSparkAnalyzer``): the job's arguments gathered from the plan, then the job run
        and the wait for it. Every argument goes through the first state's fields, so that text known at synth (S3
        URIs with tokens, JSON of the user's) needs no quoting inside ``States.Array``."""
        arguments = monitor.spark_arguments()
        fields: dict[str, object] = {}
        for index, argument in enumerate(arguments):
            name = f"a{index}"
            if isinstance(argument, StateValue):
                fields[f"{name}.$"] = argument.expression
            else:
                fields[name] = argument
        gather = sfn.Pass(scope, "SparkJobArguments", result_path="$.spark", parameters={"arguments": fields})
        array = "States.Array(" + ", ".join(f"$.spark.arguments.a{i}" for i in range(len(arguments))) + ")"
        key = monitor.storage.encryption_key
        logs: dict[str, object] = {"LogUri": monitor.storage.s3_uri(monitor.spark_logs_prefix) + "/"}
        if key is not None:
            logs["EncryptionKeyArn"] = key.key_arn
        parameters = {
            "ApplicationId": self.application.attr_application_id,
            "ExecutionRoleArn": self.job_role.role_arn,
            "Name.$": "$.plan.job_name",
            # a retried start of the window's attempt is the same job run, never a second one
            "ClientToken.$": "$.plan.job_name",
            "JobDriver": {"SparkSubmit": {
                "EntryPoint": ENTRY_POINT,
                "EntryPointArguments.$": array,
                "SparkSubmitParameters": self.submit_parameters(),
            }},
            "ExecutionTimeoutMinutes": max_runtime_minutes,
            "ConfigurationOverrides": {"MonitoringConfiguration": {"S3MonitoringConfiguration": logs}},
            "Tags": {"cdk-model-monitor:monitor-type": monitor.kind.name,
                     "cdk-model-monitor:baseline-version": monitor.baseline.version},
        }
        run = sfn.CustomState(scope, "RunSparkAnalyzer", state_json={
            "Type": "Task",
            "Resource": f"arn:{Stack.of(self).partition}:states:::emr-serverless:startJobRun.sync",
            "Parameters": parameters,
            # kept whole beside the plan (no selector: no later state reads it, and its fields are EMR Serverless's)
            "ResultPath": "$.spark_job",
            "TimeoutSeconds": timeout_seconds,
        })
        return gather, run

    def grant_start(self, machine: sfn.StateMachine) -> None:
        """What ``startJobRun.sync`` needs (Step Functions' generated policy for it): start, read and cancel this
        application's job runs, the managed rule that reports their end, and passing the job role to EMR
        Serverless only."""
        stack = Stack.of(self)
        runs = self.job_runs_arn()
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["emr-serverless:StartJobRun"], resources=[self.application_arn]))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"], resources=[runs]))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["emr-serverless:TagResource"], resources=[runs]))  # the job run's tags
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule", resource_name=_SYNC_RULE)]))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[self.job_role.role_arn],
            conditions={"StringLike": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}))
        acknowledge(machine.role, "AwsSolutions-IAM5", "job runs are created per window in this monitor's own "
                    "EMR Serverless application", resource=runs)
