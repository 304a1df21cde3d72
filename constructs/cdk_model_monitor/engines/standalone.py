"""The standalone engine: EventBridge Scheduler -> Step Functions -> SageMaker Processing job.

Each scheduled tick starts one execution of the monitor's state machine:

0. ``WaitForCaptureDelivery`` waits the schedule's ``capture_delay`` (default 15 minutes): SageMaker
   writes capture files minutes after their records, and a window is listed once, so it is listed late;
1. ``PlanWindow`` (lambda/window_planner) computes the window, lists its capture objects and
   writes a manifest; with no data it goes to ``RecordNoData`` and stops without a job. It also counts
   the capture files that reached the previous window's folders after that window was listed;
   Another execution's window ends at ``DuplicateOfWindow`` (it runs) or ``WindowAlreadyAnalysed`` (it
   succeeded; an input with ``"rerun": true`` analyses it again); an ended one's (failed, timed out, aborted)
   is taken over as the window's next attempt;
2. ``RunAnalyzer`` runs the analyzer image as a processing job (``createProcessingJob.sync``),
   named deterministically per window and attempt so a retried start never writes a second report, and a
   re-run never reuses an ended job; a later attempt reports to its own ``attempt-<n>`` folder. A refused
   start is read before it is tried again (``JobStartRefused``): throttling, SageMaker's own failures and a
   resource limit other jobs hold are retried 4 times after growing waits, a taken name waits for that job, and
   anything else (a validation error) fails the window with SageMaker's reason at once. The wait for the job is
   bounded (its MaxRuntime and 30 minutes), and so is every other step, so that the execution's timeout, their sum
   (``execution_timeout``), is never reached before the window's status is published;
   With ``ScaleOut`` (engines/spark.py), ``ChooseRunner`` sends the windows the planner marked ``runner: spark``
   to ``RunSparkAnalyzer`` instead, an EMR Serverless job run of the analyzer's Spark runner
   (``startJobRun.sync``), which ``PublishSparkResults`` publishes as ``PublishResults`` does; it fails into the
   same ``RecordFailure``;
3. ``PublishResults`` (lambda/metrics_publisher) publishes the analyzer's metric lines under the
   built-in's namespace and dimensions, the execution status metric (the analyzer's verdict from its
   ``outcome.json``: a job that analysed no record is NoData) and an EventBridge event;
   failures go through ``RecordFailure``, which publishes the Failed status (or completes the publication of
   the status decided before the failure); ``WindowStatus`` fails the execution when the window is Failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..batch import BatchTrigger
from ..bundled import lambda_shared_module
from ..dead_letters import dead_letter_queue
from ..job import (
    BASELINE_CONSTRAINTS_LOCAL_DIR,
    BASELINE_STATISTICS_LOCAL_DIR,
    GROUND_TRUTH_LOCAL_PATH,
    OUTPUT_LOCAL_PATH,
)
from ..nag import acknowledge
from ..roles import allow_log_encryption, grant_pass_to_sagemaker, scheduler_principal, states_principal
from ..schedule import iso_offset, run_interval
from ..statuses import COMPLETED, EXECUTION_STATUSES, FAILED, NO_DATA, STATUS_NAMESPACE, status_metric_name
from .lambdas import DEFAULT_TIMEOUT, engine_function
from .protocol import EngineMonitor
from .spark import SparkApplication


@dataclass(frozen=True)
class _Retry:
    """One retrier of a Task state, and what its retries may cost (the execution's time budget adds them up)."""

    errors: tuple[str, ...]
    interval: Duration
    max_attempts: int
    backoff_rate: float = 2.0
    # whether the errors it retries come from a run of the function (which may last the function's timeout), not
    # from an invocation Lambda refused
    ran: bool = True

    def add_to(self, task: sfn.TaskStateBase) -> None:
        task.add_retry(errors=list(self.errors), interval=self.interval, max_attempts=self.max_attempts,
                       backoff_rate=self.backoff_rate)

    def waits(self) -> Duration:
        """The time spent waiting between its attempts when all of them are used."""
        seconds = self.interval.to_seconds()
        return Duration.seconds(sum(seconds * self.backoff_rate ** n for n in range(self.max_attempts)))


# Every Lambda task's retries, and only these (aws-cdk's default retrier is replaced by the first, which it equals).
_LAMBDA_RETRIES = (
    # What AWS advises for every Lambda task (Step Functions: "Handle Lambda service exceptions"): the Lambda
    # service's transient errors, which come before the function runs.
    _Retry(("Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
            "Lambda.SdkClientException"), Duration.seconds(2), 6, ran=False),
    # Lambda's throttling of the invocation, and the handlers' own TransientAwsError: AWS throttled or failed one
    # of their calls beyond the SDK's retries.
    _Retry(("TransientAwsError", "Lambda.TooManyRequestsException"), Duration.seconds(5), 3),
    # The function ended without an answer: its time-out (Sandbox.Timedout) or another unhandled end (Lambda.Unknown,
    # e.g. out of memory). Once more: both handlers are safe to run again (the window's claim, the publication
    # receipt). Never the handlers' own errors about their input or a refused call (PlanningInputError,
    # PublishInputError, AwsRequestError): the same input fails the same way.
    _Retry(("Sandbox.Timedout", "Lambda.Unknown"), Duration.seconds(10), 1),
)
# RecordFailureDirectly: PutMetricData from the state machine, the last resort.
_DIRECT_RECORD_RETRY = _Retry(("States.ALL",), Duration.seconds(10), 5)

# How SageMaker's refusal to create a job reaches Step Functions from createProcessingJob (the optimized integration):
# mostly as the generic SageMaker.AmazonSageMakerException whatever the cause (a taken name, throttling, a
# validation error), with SageMaker's error code and message in the Cause ("... (Service: AmazonSageMaker; Status
# Code: 400; Error Code: ThrottlingException; ...)"); modelled errors may come under their own names. Which ones
# are worth another try is read from the error and its Cause (JobStartRefused), not retried by name.
_JOB_START_ERRORS = ["SageMaker.AmazonSageMakerException", "SageMaker.ResourceInUseException",
                     "SageMaker.ResourceInUse", "SageMaker.ResourceLimitExceededException",
                     "SageMaker.ThrottlingException", "ThrottlingException"]
_JOB_NAME_TAKEN_NAMES = ["SageMaker.ResourceInUseException", "SageMaker.ResourceInUse"]
_JOB_NAME_TAKEN_CAUSES = ["*ResourceInUse*", "*already exists*", "*must be unique*"]
# Throttling and failures on SageMaker's side: try again after 30 s, 1, 2 and 4 min.
_THROTTLED_START_NAMES = ["SageMaker.ThrottlingException", "ThrottlingException"]
_THROTTLED_START_CAUSES = ["*Error Code: Throttling*", "*Error Code: TooManyRequests*", "*Rate exceeded*",
                           "*Error Code: InternalFailure*", "*Error Code: InternalServerError*",
                           "*Error Code: ServiceUnavailable*", "*Status Code: 500;*", "*Status Code: 503;*"]
_THROTTLED_START_WAITS = (30, 60, 120, 240)
# A resource limit (instances of the type, concurrent jobs) that other jobs hold: try again after 1, 2, 4 and
# 8 min, when they may have ended. Not a quota of 0 instances, which no wait changes.
_LIMITED_START_NAMES = ["SageMaker.ResourceLimitExceededException"]
_LIMITED_START_CAUSES = ["*Error Code: ResourceLimitExceeded*"]
_ZERO_QUOTA_CAUSE = "*is 0 Instances*"
_LIMITED_START_WAITS = (60, 120, 240, 480)
# Instance provisioning, image pull, downloads and the upload of the outputs around the job's own MaxRuntime.
JOB_START_AND_STOP_ALLOWANCE = Duration.minutes(30)
_EXISTING_JOB_POLL = Duration.minutes(1)
# State transitions, service calls and the polls' own calls that no bound above counts.
_EXECUTION_MARGIN = Duration.minutes(5)


class StandaloneEngine(Construct):
    """Scheduler, state machine and functions that run one monitor without SageMaker Model Monitor."""

    def __init__(self, scope: Construct, id: str, *, monitor: EngineMonitor) -> None:
        super().__init__(scope, id)
        # This monitor's processing jobs are named <prefix>-<window>-..., and its state machine may create, describe
        # and stop those only: the prefix is the schedule's (unique in the account and region), kept whole in
        # every job name (lambda/_shared/names.py).
        self.job_name_prefix: str = lambda_shared_module("names").job_name_prefix(monitor.schedule_name)
        storage = monitor.storage
        key = storage.encryption_key
        key_env = {"KMS_KEY_ID": key.key_arn} if key is not None else {}

        self.planner = engine_function(self, "WindowPlanner", code="window_planner",
                                       description="Plans a monitoring window: lists captured data, writes a manifest",
                                       environment=key_env)
        monitor.grant_read_capture(self.planner)
        monitor.grant_write_manifests(self.planner)  # this monitor's manifests only
        monitor.grant_planner_reads(self.planner)
        # A window's claim is kept while its execution runs: the planner asks Step Functions about the executions
        # of this monitor's state machine (named after the schedule), so an ended one's window can run again.
        executions = Stack.of(self).format_arn(service="states", resource="execution",
                                               resource_name=f"{monitor.schedule_name}:*",
                                               arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.planner.add_to_role_policy(iam.PolicyStatement(actions=["states:DescribeExecution"],
                                                            resources=[executions]))
        self.publisher = engine_function(self, "MetricsPublisher", code="metrics_publisher",
                                         description="Publishes a monitoring execution's metrics, status and event",
                                         environment=key_env)
        monitor.grant_read_reports(self.publisher)
        monitor.grant_write_manifests(self.publisher)  # publication receipts make retries idempotent
        # the copy of the newest window's report.html: that one key (reading it and the sources is granted above)
        iam.Grant.add_to_principal(grantee=self.publisher, actions=["s3:PutObject"],
                                   resource_arns=[storage.bucket.arn_for_objects(monitor.latest_report_key)])
        self.publisher.add_to_role_policy(iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": [monitor.metrics_namespace, STATUS_NAMESPACE]}}))
        stack = Stack.of(self)
        event_bus = stack.format_arn(service="events", resource="event-bus", resource_name="default")
        self.publisher.add_to_role_policy(iam.PolicyStatement(actions=["events:PutEvents"], resources=[event_bus]))
        for fn in (self.planner, self.publisher):
            assert fn.role is not None  # engine_function gives each function its own role
            acknowledge(fn.role, "AwsSolutions-IAM5", "PutMetricData and X-Ray accept no resource ARN; metrics are "
                        "limited by a namespace condition", resource="*")
        assert self.planner.role is not None
        acknowledge(self.planner.role, "AwsSolutions-IAM5", "the executions of this monitor's own state machine, "
                    "whose names are generated per run", resource=executions)

        # Scale-out: windows the planner sends to Spark run on this monitor's EMR Serverless application.
        self.spark: SparkApplication | None = None
        if monitor.scale_out is not None:
            self.spark = SparkApplication(self, "Spark", monitor=monitor, scale_out=monitor.scale_out)
        self.state_machine = self._state_machine(monitor)
        # Ticks the Scheduler cannot deliver (after its retries) wait here; self-monitoring alarms on them.
        self.dead_letter_queue = dead_letter_queue(self, "ScheduleDeadLetters", key=key)
        self.schedule: scheduler.Schedule | None = None
        self.transform_job_rule: events.Rule | None = None
        if monitor.batch_trigger is BatchTrigger.JOB_COMPLETED:
            self.transform_job_rule = self._transform_job_rule(monitor)
            return
        self.schedule_role = iam.Role(self, "ScheduleRole", assumed_by=scheduler_principal(self),
                                      description=f"Starts the {monitor.kind.name} monitoring state machine")
        if key is not None:  # SQS encrypts each dead letter with the sender's access to the queue's key
            key.grant(self.schedule_role, "kms:GenerateDataKey", "kms:Decrypt")
        self.schedule = scheduler.Schedule(
            self, "Schedule",
            schedule=monitor.schedule.scheduler_expression(),
            description=f"{monitor.kind.name} monitoring of {monitor.node.path} ({monitor.schedule.description})",
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine,
                input=scheduler.ScheduleTargetInput.from_object(
                    {"scheduled_time": scheduler.ContextAttribute.scheduled_time}),
                retry_attempts=3,
                max_event_age=Duration.hours(1),
                dead_letter_queue=self.dead_letter_queue,
                role=self.schedule_role),
        )
        if monitor.baseline.dependency is not None:  # the schedule exists only once its baseline does
            self.schedule.node.add_dependency(monitor.baseline.dependency)

    def _transform_job_rule(self, monitor: EngineMonitor) -> events.Rule:
        """An execution per completed transform job (EventBridge "SageMaker Transform Job State Change"), its window the
        job's; the event's delivery is retried, and what cannot be delivered waits in the dead-letter queue. The
        planner's claim, keyed by the job's name, makes a second delivery of one job's event a duplicate."""
        prefix = monitor.batch_source.job_name_prefix if monitor.batch_source is not None else None
        detail: dict[str, object] = {"TransformJobStatus": ["Completed"]}
        if prefix:
            detail["TransformJobName"] = [{"prefix": prefix}]
        rule = events.Rule(
            self, "TransformJobCompleted",
            description=f"{monitor.kind.name} monitoring of each completed transform job of {monitor.node.path}",
            event_pattern=events.EventPattern(source=["aws.sagemaker"],
                                              detail_type=["SageMaker Transform Job State Change"], detail=detail))
        rule.add_target(events_targets.SfnStateMachine(
            self.state_machine,
            input=events.RuleTargetInput.from_object({
                "scheduled_time": events.EventField.time,
                "transform_job": events.EventField.from_path("$.detail")}),
            dead_letter_queue=self.dead_letter_queue, retry_attempts=3, max_event_age=Duration.hours(1)))
        key = monitor.storage.encryption_key
        if key is not None:
            # EventBridge encrypts what it cannot deliver with the queue's key (the monitoring key): as a service,
            # for this account's rules only
            key.add_to_resource_policy(iam.PolicyStatement(
                sid="EventBridgeSendsToTheDeadLetterQueues",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}))
        if monitor.baseline.dependency is not None:  # no window before its baseline exists
            rule.node.add_dependency(monitor.baseline.dependency)
        return rule

    def _static_inputs(self, monitor: EngineMonitor) -> list[dict[str, object]]:
        """The processing inputs of every window whose location is known at synth: the baseline files and the
        monitor type's own (e.g. the bias analysis config)."""
        inputs = [extra.to_api() for extra in monitor.job_inputs() if extra.s3_uri is not None]
        for name, uri, local in (("baseline_statistics", monitor.baseline.statistics_s3_uri, BASELINE_STATISTICS_LOCAL_DIR),
                                 ("baseline_constraints", monitor.baseline.constraints_s3_uri, BASELINE_CONSTRAINTS_LOCAL_DIR)):
            if uri is not None:
                inputs.append({"InputName": name, "S3Input": {
                    "S3Uri": uri, "S3DataType": "S3Prefix", "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated", "LocalPath": local}})
        return inputs

    def _state_machine(self, monitor: EngineMonitor) -> sfn.StateMachine:
        window_start, window_end = monitor.planning_window()
        delay = monitor.schedule.capture_delay
        timeout = self.execution_timeout(monitor)
        interval = run_interval(monitor.schedule)
        plan = tasks.LambdaInvoke(
            self, "PlanWindow", lambda_function=self.planner, payload_response_only=True, result_path="$.plan",
            retry_on_service_exceptions=False,  # _LAMBDA_RETRIES holds aws-cdk's default retrier
            payload=sfn.TaskInput.from_object({
                "scheduled_time": sfn.JsonPath.string_at("$.scheduled_time"),
                "capture_s3_uri": monitor.capture_s3_uri,
                "report_s3_uri": monitor.report_s3_uri,
                "manifest_s3_uri": monitor.manifest_s3_uri,
                "endpoint_name": monitor.endpoint_name,
                "schedule_name": monitor.schedule_name,
                "monitor_type": monitor.kind.name,
                "window_start_offset": window_start,
                "window_end_offset": window_end,
                "window_granularity": monitor.schedule.granularity,
                "job_name_prefix": self.job_name_prefix,
                # one execution per window: the planner claims the window for this execution while it runs
                "execution_id": sfn.JsonPath.string_at("$$.Execution.Id"),
                # a user's re-run of an analysed window says "rerun": true in it (the Scheduler sends no such key)
                "execution_input": sfn.JsonPath.object_at("$$.Execution.Input"),
                "claim_seconds": int(timeout.to_seconds()),
                # the previous run's window: its captures that arrived after it was listed are counted
                **({"schedule_interval": iso_offset(interval, negative=False)} if interval is not None else {}),
                **monitor.planner_payload(),
                # which runner analyses the window: Spark from this size of the window's captures on (or always)
                **({"scale_out": {"threshold_bytes": monitor.scale_out.threshold_bytes,
                                  "always": monitor.scale_out.always}} if monitor.scale_out is not None else {}),
                **self._batch_payload(monitor),
            }))
        for retry in _LAMBDA_RETRIES:
            retry.add_to(plan)

        def publish(id: str, status: str, *, planned: bool = True, **extra: object) -> tasks.LambdaInvoke:
            payload = {
                "status": status,
                # Without a plan (the planner itself failed) the status goes to the monitor's report root.
                "report_uri": sfn.JsonPath.string_at("$.plan.report_uri") if planned else monitor.report_s3_uri,
                "endpoint_name": monitor.endpoint_name,
                "schedule_name": monitor.schedule_name,
                "monitor_type": monitor.kind.name,
                "namespace": monitor.metrics_namespace,
                **({"window": sfn.JsonPath.object_at("$.plan")} if planned else {}),
                **extra,
            }
            task = tasks.LambdaInvoke(self, id, lambda_function=self.publisher, payload_response_only=True,
                                      result_path="$.published", payload=sfn.TaskInput.from_object(payload),
                                      retry_on_service_exceptions=False)
            for retry in _LAMBDA_RETRIES:
                retry.add_to(task)
            return task

        record_no_data = publish("RecordNoData", NO_DATA,
                                 no_data_reason=sfn.JsonPath.string_at("$.plan.no_data_reason"))
        execution_failed = sfn.Fail(self, "ExecutionFailed", cause="the monitoring execution failed",
                                    error="MonitoringFailed")
        record_failure = publish("RecordFailure", FAILED, failure_reason=sfn.JsonPath.string_at("$.error.Cause"))
        record_planning_failure = publish("RecordPlanningFailure", FAILED, planned=False,
                                          failure_reason=sfn.JsonPath.string_at("$.error.Cause"))
        # A window always ends with a status datapoint: if the publisher cannot record a status, the state
        # machine publishes ExecutionFailed itself.
        record_directly = self._record_failure_directly(monitor).next(execution_failed)
        for task in (record_failure, record_planning_failure, record_no_data):
            task.add_catch(record_directly, errors=["States.ALL"], result_path="$.publish_error")
        no_data = record_no_data.next(
            sfn.Succeed(self, "NoDataInWindow", comment="no captured data in the window: no job was started"))
        # The execution ends as the window's published status: PublishResults may publish Failed (its results
        # could not be delivered), and RecordFailure completes a publication that stopped part-way with the
        # status decided before (lambda/metrics_publisher), which may be a completed one.
        window_status = (sfn.Choice(self, "WindowStatus")
                         .when(sfn.Condition.string_equals("$.published.status", FAILED), execution_failed)
                         .otherwise(sfn.Succeed(self, "Done")))
        failed = record_failure.next(window_status)
        planning_failed = record_planning_failure.next(execution_failed)
        run = self._run_analyzer(monitor)
        results = publish("PublishResults", COMPLETED,
                          metrics_prefix=sfn.JsonPath.format("{}/metrics", sfn.JsonPath.string_at("$.plan.report_uri")),
                          processing_job_arn=sfn.JsonPath.string_at("$.job.ProcessingJobArn"),
                          latest_report_uri=monitor.storage.s3_uri(monitor.latest_report_key))
        job_bound = self._job_bound(monitor)
        run.add_catch(self._timed_out("JobTimedOut", "ProcessingJobTimedOut", "processing job {}",
                                      "its maximum run time", job_bound, monitor).next(failed),
                      errors=["States.Timeout"], result_path="$.error")
        run.add_catch(self._job_start_refused(run, self._existing_job(monitor, results, failed), failed),
                      errors=_JOB_START_ERRORS, result_path="$.error")
        run.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        # no start of this window's job was refused yet (JobStartRefused counts them)
        start_job = sfn.Pass(self, "PrepareJobStart", result=sfn.Result.from_object({"retries": 0}),
                             result_path="$.job_start").next(run)
        plan.add_catch(planning_failed, errors=["States.ALL"], result_path="$.error")
        results.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        # A monitor may replace fields of the plan (e.g. the metrics' timestamp) before anything uses them.
        overrides: sfn.Chain | None = None
        for field, source in sorted(monitor.plan_overrides().items()):
            overrides = (overrides.next if overrides is not None else sfn.Chain.start)(sfn.Pass(
                self, "SetPlan" + "".join(part.title() for part in field.split("_")),
                comment=f"plan.{field} = {source}", input_path=source, result_path=f"$.plan.{field}"))
        analyse: sfn.IChainable = start_job.next(results).next(window_status)
        if self.spark is not None:
            analyse = self._spark_branch(monitor, self.spark, analyse, publish, failed, window_status)
        has_data = (sfn.Choice(self, "HasData")
                    .when(sfn.Condition.boolean_equals("$.plan.has_data", False), no_data)
                    .otherwise(analyse))
        after_plan: sfn.IChainable = overrides.next(has_data) if overrides is not None else has_data
        planned = plan.next(
            sfn.Choice(self, "IsDuplicate")
            .when(sfn.Condition.boolean_equals("$.plan.already_analysed", True), sfn.Succeed(
                self, "WindowAlreadyAnalysed",
                comment='an execution that succeeded analysed this window: start one with "rerun": true in its '
                        "input to analyse it again"))
            .when(sfn.Condition.boolean_equals("$.plan.duplicate", True), sfn.Succeed(
                self, "DuplicateOfWindow",
                comment="another execution holds this window and publishes its status: nothing to do"))
            .otherwise(after_plan))
        definition: sfn.IChainable = planned
        if delay.to_seconds() > 0:
            definition = sfn.Wait(
                self, "WaitForCaptureDelivery", time=sfn.WaitTime.duration(delay),
                comment="SageMaker writes capture files minutes after their records: the window is listed once "
                        "they are in").next(planned)

        # Execution data holds window plans and failure causes: encrypted with the monitoring key.
        key = monitor.storage.encryption_key
        log_group = logs.LogGroup(self, "StateMachineLogs", retention=logs.RetentionDays.ONE_YEAR,
                                  removal_policy=RemovalPolicy.DESTROY,
                                  encryption_key=allow_log_encryption(key) if key is not None else None)
        name = monitor.schedule_name  # unique per monitor; the role trusts this machine only
        machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=name,
            role=iam.Role(self, "StateMachineRole", assumed_by=states_principal(self, name),
                          description=f"Runs the {monitor.kind.name} monitoring state machine {name}"),
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            comment=f"{monitor.kind.name} monitoring of one window of {monitor.node.path}",
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        self._grant_processing(machine, monitor)
        if self.spark is not None:
            self.spark.grant_start(machine)
        acknowledge(machine.role, "AwsSolutions-IAM5", "Step Functions needs log delivery and X-Ray actions, which accept "
                    "no resource ARN, and sagemaker:ListTags on any resource for .sync jobs (its own generated "
                    "policy)", resource="*")
        for fn in (self.planner, self.publisher):
            acknowledge(machine.role, "AwsSolutions-IAM5", "invoking any version of the engine's own function",
                        resource=f"{fn.function_arn}:*")
        return machine

    def _spark_branch(self, monitor: EngineMonitor, spark: SparkApplication, processing: sfn.IChainable,
                      publish: Callable[..., tasks.LambdaInvoke], failed: sfn.IChainable,
                      window_status: sfn.IChainable) -> sfn.Choice:
        """The planner's choice of runner: the Spark job run on EMR Serverless, or the Processing job as without
        scale-out. Both publish through the same function, and fail through the same RecordFailure (the
        monitoring-broken alarms watch the statuses it publishes)."""
        bound = self._job_bound(monitor)
        arguments, run = spark.run_state(self, monitor, timeout_seconds=int(bound.to_seconds()),
                                         max_runtime_minutes=math.ceil(monitor.compute.max_runtime.to_minutes()))
        results = publish("PublishSparkResults", COMPLETED,
                          metrics_prefix=sfn.JsonPath.format("{}/metrics", sfn.JsonPath.string_at("$.plan.report_uri")),
                          latest_report_uri=monitor.storage.s3_uri(monitor.latest_report_key))
        results.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        run.add_catch(self._timed_out("SparkJobTimedOut", "SparkJobTimedOut", "EMR Serverless job run {}",
                                      "its execution time-out", bound, monitor).next(failed),
                      errors=["States.Timeout"], result_path="$.error")
        run.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        return (sfn.Choice(self, "ChooseRunner", comment="the planner sends large windows to Spark (ScaleOut)")
                .when(sfn.Condition.string_equals("$.plan.runner", "spark"),
                      arguments.next(run).next(results).next(window_status))
                .otherwise(processing))

    def _job_start_refused(self, run: sfn.IChainable, existing_job: sfn.IChainable,
                           failed: sfn.IChainable) -> sfn.Choice:
        """What a refused start of the window's job leads to, read from SageMaker's error and its Cause: a taken
        name (a start of this attempt that SageMaker took before) waits for that job; throttling, failures on
        SageMaker's side and resource limits other jobs hold are tried again up to 4 times after a wait; anything
        else (a validation error, a quota of 0, access denied) fails the window with SageMaker's reason."""

        def named(names: list[str], causes: list[str]) -> sfn.Condition:
            return sfn.Condition.or_(*(sfn.Condition.string_equals("$.error.Error", n) for n in names),
                                     *(sfn.Condition.string_matches("$.error.Cause", c) for c in causes))

        def retry(id: str, waits: tuple[int, ...]) -> sfn.Pass:
            # $.job_start.retries (0, 1, ...) picks the wait before the next start; written out, because
            # JsonPath.array would quote the numbers and the Wait needs a number
            return sfn.Pass(self, id, result_path="$.job_start", parameters={
                "retries": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.job_start.retries"), 1),
                "wait_seconds.$": f"States.ArrayGetItem(States.Array({', '.join(str(w) for w in waits)}), "
                                  "$.job_start.retries)"})

        wait = sfn.Wait(self, "WaitToStartJob", time=sfn.WaitTime.seconds_path("$.job_start.wait_seconds"),
                        comment="SageMaker refused to start the window's job for a reason that may pass").next(run)
        retries = len(_THROTTLED_START_WAITS)
        assert retries == len(_LIMITED_START_WAITS)
        may_retry = sfn.Condition.number_less_than("$.job_start.retries", retries)
        throttled = named(_THROTTLED_START_NAMES, _THROTTLED_START_CAUSES)
        limited = sfn.Condition.and_(named(_LIMITED_START_NAMES, _LIMITED_START_CAUSES),
                                     sfn.Condition.not_(sfn.Condition.string_matches("$.error.Cause",
                                                                                     _ZERO_QUOTA_CAUSE)))
        gave_up = sfn.Pass(self, "JobStartRetriesExhausted", result_path="$.error", parameters={
            "Error": sfn.JsonPath.string_at("$.error.Error"),
            "Cause": sfn.JsonPath.format(f"SageMaker refused to start processing job {{}} {retries + 1} times, the "
                                         "last time: {}", sfn.JsonPath.string_at("$.plan.job_name"),
                                         sfn.JsonPath.string_at("$.error.Cause"))}).next(failed)
        return (sfn.Choice(self, "JobStartRefused")
                .when(named(_JOB_NAME_TAKEN_NAMES, _JOB_NAME_TAKEN_CAUSES), existing_job)
                .when(sfn.Condition.and_(may_retry, throttled),
                      retry("RetryThrottledJobStart", _THROTTLED_START_WAITS).next(wait))
                .when(sfn.Condition.and_(may_retry, limited),
                      retry("RetryLimitedJobStart", _LIMITED_START_WAITS).next(wait))
                .when(sfn.Condition.or_(throttled, limited), gave_up)
                .otherwise(failed))

    def _existing_job(self, monitor: EngineMonitor, completed: sfn.IChainable, failed: sfn.IChainable) -> sfn.Pass:
        """When the job name is taken (a retried create of this execution's attempt at the window), describe that
        job every minute and wait for it instead of failing: its results are this attempt's results. A re-run of
        the window is a new attempt with a job name of its own. The polls are counted: a job still running after
        its maximum run time and the allowance to start and stop fails the window, as RunAnalyzer's time-out does;
        a throttled description counts as a poll."""
        polls = math.ceil(self._job_bound(monitor).to_seconds() / _EXISTING_JOB_POLL.to_seconds())
        describe = tasks.CallAwsService(
            self, "DescribeExistingJob", service="sagemaker", action="describeProcessingJob",
            parameters={"ProcessingJobName": sfn.JsonPath.string_at("$.plan.job_name")},
            iam_action="sagemaker:DescribeProcessingJob", iam_resources=[self._jobs_arn()],
            result_selector={"ProcessingJobArn.$": "$.ProcessingJobArn",
                             "ProcessingJobStatus.$": "$.ProcessingJobStatus"},
            result_path="$.job")
        timed_out = sfn.Pass(self, "ExistingJobTimedOut", result_path="$.error", parameters={
            "Error": "ProcessingJobTimedOut",
            "Cause": sfn.JsonPath.format(f"processing job {{}} of this window was still running (or could not be "
                                         f"described) after {polls} polls a minute apart: the execution stopped "
                                         "waiting for it", sfn.JsonPath.string_at("$.plan.job_name"))}).next(failed)
        count = sfn.Pass(self, "CountExistingJobPoll", result_path="$.existing_job", parameters={
            "polls": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.existing_job.polls"), 1)}).next(describe)
        poll_again = (sfn.Choice(self, "PollExistingJob")
                      .when(sfn.Condition.number_less_than("$.existing_job.polls", polls),
                            sfn.Wait(self, "WaitForExistingJob",
                                     time=sfn.WaitTime.duration(_EXISTING_JOB_POLL)).next(count))
                      .otherwise(timed_out))
        describe.add_catch(poll_again, errors=["SageMaker.ThrottlingException", "SageMaker.SageMakerException"],
                           result_path="$.error")
        describe.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        ended = sfn.Pass(self, "ExistingJobEnded", result_path="$.error", parameters={
            "Error": "ProcessingJobFailed",
            "Cause": sfn.JsonPath.format("processing job {} of this window ended {}",
                                         sfn.JsonPath.string_at("$.plan.job_name"),
                                         sfn.JsonPath.string_at("$.job.ProcessingJobStatus"))}).next(failed)
        describe.next(sfn.Choice(self, "ExistingJobStatus")
                      .when(sfn.Condition.or_(sfn.Condition.string_equals("$.job.ProcessingJobStatus", "InProgress"),
                                              sfn.Condition.string_equals("$.job.ProcessingJobStatus", "Stopping")),
                            poll_again)
                      .when(sfn.Condition.string_equals("$.job.ProcessingJobStatus", "Completed"), completed)
                      .otherwise(ended))
        watch = sfn.Pass(self, "WatchExistingJob", result=sfn.Result.from_object({"polls": 0}),
                         result_path="$.existing_job")
        watch.next(describe)
        return watch

    def _timed_out(self, id: str, error: str, job: str, limit: str, bound: Duration,
                   monitor: EngineMonitor) -> sfn.Pass:
        """The error of a job the execution stopped waiting for (``job`` names it, ``{}`` its name)."""
        return sfn.Pass(self, id, result_path="$.error", parameters={
            "Error": error,
            "Cause": sfn.JsonPath.format(
                f"{job} did not end within {bound.to_seconds() / 60:g} minutes ({limit} of "
                f"{monitor.compute.max_runtime.to_seconds() / 60:g} minutes and "
                f"{JOB_START_AND_STOP_ALLOWANCE.to_seconds() / 60:g} to start and stop): the execution stopped "
                "waiting for it", sfn.JsonPath.string_at("$.plan.job_name"))})

    def _job_bound(self, monitor: EngineMonitor) -> Duration:
        """How long the window's job may take: its maximum run time and the allowance to start and stop it."""
        return monitor.compute.max_runtime.plus(JOB_START_AND_STOP_ALLOWANCE)

    def execution_timeout(self, monitor: EngineMonitor) -> Duration:
        """The state machine's timeout (and the window's claim): an execution whose every step takes its longest,
        retries included, still publishes the window's status before it. The steps of the longest path: the
        capture delay; planning; the refused starts of the job retried (the longest waits); the job (RunAnalyzer's
        time-out) and the polls of an existing one; the publication, and the failure path after it (RecordFailure,
        then RecordFailureDirectly); and a margin for transitions and calls.

        A Lambda task's longest: each run of the function that a retried error may follow (its own errors, its
        time-out) lasts the function's timeout, and the waits between attempts; invocations Lambda refused cost
        their waits only. With these bounds an execution does not time out before a status is published: a step
        that overruns its own bound fails into RecordFailure (RunAnalyzer's TimeoutSeconds, ExistingJobTimedOut)."""

        def lambda_task(function: lambda_.IFunction) -> float:
            timeout = (getattr(function, "timeout", None) or DEFAULT_TIMEOUT).to_seconds()
            runs = 1 + sum(r.max_attempts for r in _LAMBDA_RETRIES if r.ran)
            return timeout * runs + sum(r.waits().to_seconds() for r in _LAMBDA_RETRIES)

        job = self._job_bound(monitor).to_seconds()
        polls = math.ceil(job / _EXISTING_JOB_POLL.to_seconds()) * _EXISTING_JOB_POLL.to_seconds()
        starts = sum(max(a, b) for a, b in zip(_THROTTLED_START_WAITS, _LIMITED_START_WAITS, strict=True))
        seconds = (monitor.schedule.capture_delay.to_seconds() + lambda_task(self.planner) + starts + job + polls
                   + 2 * lambda_task(self.publisher) + _DIRECT_RECORD_RETRY.waits().to_seconds()
                   + _EXECUTION_MARGIN.to_seconds())
        return Duration.seconds(math.ceil(seconds / 60) * 60)

    def _record_failure_directly(self, monitor: EngineMonitor) -> sfn.CustomState:
        """PutMetricData from the state machine itself: ExecutionFailed 1, the other statuses 0 (as the
        publisher would), stamped now. The last resort when the publisher cannot record a status."""
        dimensions = [{"Name": name, "Value": value}
                      for name, value in {**monitor.metric_dimensions, "MonitorType": monitor.kind.name}.items()
                      if value]
        data = [{"MetricName": status_metric_name(status), "Dimensions": dimensions, "Value": float(status == FAILED),
                 "Unit": "Count"} for status in EXECUTION_STATUSES]
        return sfn.CustomState(self, "RecordFailureDirectly", state_json={
            "Type": "Task",
            "Resource": f"arn:{Stack.of(self).partition}:states:::aws-sdk:cloudwatch:putMetricData",
            "Parameters": {"Namespace": STATUS_NAMESPACE, "MetricData": data},
            "ResultPath": None,
            "Retry": [{"ErrorEquals": list(_DIRECT_RECORD_RETRY.errors),
                       "IntervalSeconds": int(_DIRECT_RECORD_RETRY.interval.to_seconds()),
                       "MaxAttempts": _DIRECT_RECORD_RETRY.max_attempts,
                       "BackoffRate": _DIRECT_RECORD_RETRY.backoff_rate}],
        })

    def _batch_payload(self, monitor: EngineMonitor) -> dict[str, object]:
        """What the planner needs for a batch source: the input type and local paths, the transform job of a
        per-job execution, and the inputs of every window (it writes the job's ProcessingInputs: the transform
        data of a side is an input only when the window has some)."""
        payload = monitor.source_payload()
        if not payload:
            return {}
        if monitor.batch_trigger is BatchTrigger.JOB_COMPLETED:
            payload["transform_job"] = sfn.JsonPath.object_at("$.transform_job")
        payload["job_inputs"] = self._static_inputs(monitor)
        if monitor.kind.ground_truth:
            payload["ground_truth_local_path"] = GROUND_TRUTH_LOCAL_PATH
        return payload

    def _jobs_arn(self) -> str:
        return Stack.of(self).format_arn(service="sagemaker", resource="processing-job",
                                         resource_name=f"{self.job_name_prefix}-*")

    def _run_analyzer(self, monitor: EngineMonitor) -> sfn.CustomState:
        key = monitor.storage.encryption_key
        environment: dict[str, object] = {k: v for k, v in monitor.analyzer_environment().items()}
        environment.update(monitor.window_environment())
        inputs: list[dict[str, object]] = [{
            "InputName": "endpoint",
            "S3Input": {"S3Uri.$": "$.plan.manifest_uri", "S3DataType": "ManifestFile", "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated", "LocalPath": monitor.capture_local_path},
        }]
        inputs.extend(extra.to_api() for extra in monitor.job_inputs())
        for name, uri, local in (("baseline_statistics", monitor.baseline.statistics_s3_uri, BASELINE_STATISTICS_LOCAL_DIR),
                                 ("baseline_constraints", monitor.baseline.constraints_s3_uri, BASELINE_CONSTRAINTS_LOCAL_DIR)):
            if uri is not None:
                inputs.append({"InputName": name, "S3Input": {
                    "S3Uri": uri, "S3DataType": "S3Prefix", "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated", "LocalPath": local}})
        # A batch window's inputs are the planner's: a side of the transform data without files has no input.
        processing_inputs: dict[str, object] = (
            {"ProcessingInputs.$": "$.plan.processing_inputs"} if monitor.source_payload() else
            {"ProcessingInputs": inputs})
        cluster: dict[str, object] = {"InstanceCount": monitor.compute.instance_count,
                                      "InstanceType": monitor.compute.instance_type,
                                      "VolumeSizeInGB": monitor.compute.volume_size_gb}
        output_config: dict[str, object] = {"Outputs": [{"OutputName": "report", "S3Output": {
            "S3Uri.$": "$.plan.report_uri", "LocalPath": OUTPUT_LOCAL_PATH, "S3UploadMode": "EndOfJob"}}]}
        if key is not None:
            cluster["VolumeKmsKeyId"] = key.key_arn
            output_config["KmsKeyId"] = key.key_arn
        parameters = {
            "ProcessingJobName.$": "$.plan.job_name",
            "RoleArn": monitor.job_role.role_arn,
            "AppSpecification": {"ImageUri": monitor.image.image_uri},
            "ProcessingResources": {"ClusterConfig": cluster},
            **processing_inputs,
            "ProcessingOutputConfig": output_config,
            "Environment": environment,
            "NetworkConfig": dict(monitor.network.to_api(monitor.vpc_placement)),
            "StoppingCondition": {"MaxRuntimeInSeconds": int(monitor.compute.max_runtime.to_seconds())},
            "Tags": [{"Key": "cdk-model-monitor:monitor-type", "Value": monitor.kind.name},
                     {"Key": "cdk-model-monitor:baseline-version", "Value": monitor.baseline.version}],
        }
        return sfn.CustomState(self, "RunAnalyzer", state_json={
            "Type": "Task",
            "Resource": f"arn:{Stack.of(self).partition}:states:::sagemaker:createProcessingJob.sync",
            "Parameters": parameters,
            # ExitMessage is optional in DescribeProcessingJob (absent unless the container writes one): a
            # selector naming it would fail a completed job with States.Runtime.
            "ResultSelector": {"ProcessingJobArn.$": "$.ProcessingJobArn",
                               "ProcessingJobStatus.$": "$.ProcessingJobStatus"},
            "ResultPath": "$.job",
            # The job ends by its MaxRuntime; this bounds the wait for it, so that an execution never times out
            # waiting (States.Timeout goes to JobTimedOut, which records the window Failed). Refused starts are
            # retried by JobStartRefused, after reading why.
            "TimeoutSeconds": int(self._job_bound(monitor).to_seconds()),
        })

    def _grant_processing(self, machine: sfn.StateMachine, monitor: EngineMonitor) -> None:
        stack = Stack.of(self)
        jobs = self._jobs_arn()
        machine.add_to_role_policy(iam.PolicyStatement(  # RecordFailureDirectly
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": STATUS_NAMESPACE}}))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                     "sagemaker:StopProcessingJob", "sagemaker:AddTags"],
            resources=[jobs]))
        # What Step Functions' own policy for createProcessingJob.sync holds besides: ListTags on "*" (AWS's
        # generated policy and aws-cdk's SageMaker tasks alike), and PassRole to SageMaker only.
        machine.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:ListTags"], resources=["*"]))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule",
                                        resource_name="StepFunctionsGetEventsForSageMakerProcessingJobsRule")]))
        grant_pass_to_sagemaker(monitor.job_role, machine)
        key = monitor.storage.encryption_key
        if key is not None:
            machine.add_to_role_policy(iam.PolicyStatement(actions=["kms:DescribeKey"], resources=[key.key_arn]))
            machine.add_to_role_policy(iam.PolicyStatement(  # a grant for the job's volume only
                actions=["kms:CreateGrant"], resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}}))
        acknowledge(machine.role, "AwsSolutions-IAM5", "job names are generated per window under this monitor's own "
                    "prefix", resource=jobs)
