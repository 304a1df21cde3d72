"""Automatic retraining: an alarm of ours goes into ALARM -> EventBridge -> a SageMaker pipeline starts once.

``RetrainingTrigger`` creates an EventBridge rule that matches ``CloudWatch Alarm State Change``
events of the given alarms (usually the model's composite "model unhealthy" alarm) whose new
state is ALARM, and sends them to

* the project's retrain Lambda (``lambda/retrain_trigger``) when ``pipeline_name`` is given: it
  starts the pipeline with parameters taken from the event, exactly once per incident (client
  request token from the event, duplicate / running / cooldown checks), and publishes the outcome
  to the notifications topic. Invocations that run at once take turns under a lease on one object
  of the monitoring bucket per pipeline (``retraining/<pipeline>/lock.json``, S3 conditional writes):
  no concurrency is reserved, because an account whose Lambda concurrency quota is 10 (new accounts)
  refuses any reservation, and ``cdk deploy`` fails on it (``reserve_concurrency=True`` reserves 1
  where the quota allows);
* a Step Functions state machine and/or a Lambda function of yours, and any other targets.

Delivery: EventBridge retries each target (``retry_attempts``, ``max_event_age``) and puts
undeliverable events in a KMS-encrypted, TLS-only SQS dead-letter queue; the retrain Lambda is
invoked asynchronously, retried twice by Lambda on errors, and failed events go to the same queue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .engines.lambdas import monitor_function
from .errors import ConfigurationError
from .nag import acknowledge
from .notifications import Notifications
from .storage import MonitoringBucket

ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_PIPELINE_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):sagemaker:(?P<region>[\w-]+):(?P<account>\d{12}):"
                           r"pipeline/(?P<name>.+)$")
# What the retrain Lambda can put in a pipeline parameter (lambda/retrain_trigger PIPELINE_PARAMETERS).
TRIGGER_FIELDS = ("event_id", "event_time", "alarm_name", "alarm_arn", "state", "previous_state", "reason",
                  "alarm_time", "window_start", "endpoint_name", "schedule_name", "model", "report_uri")
# Key prefix of the retrain function's leases in the monitoring bucket (no lifecycle rule expires it).
LOCK_PREFIX = "retraining"
RETRAIN_TIMEOUT = Duration.minutes(1)
# A holder keeps the lease at most this long: more than the function may run, so a live holder keeps it.
LEASE = RETRAIN_TIMEOUT.plus(Duration.minutes(1))


def alarm_event_pattern(alarms: Sequence[cloudwatch.IAlarm]) -> events.EventPattern:
    """Alarm state changes of exactly ``alarms`` into ALARM (from OK or INSUFFICIENT_DATA).

    An event matches when one of its ``resources`` is one of the alarms' ARNs (CloudWatch puts the
    alarm's ARN there), its ``detail.state.value`` is ALARM and its previous state is not ALARM.
    """
    return events.EventPattern(
        source=["aws.cloudwatch"],
        detail_type=[ALARM_STATE_CHANGE],
        resources=[a.alarm_arn for a in alarms],
        detail={"state": {"value": ["ALARM"]},
                "previousState": {"value": [{"anything-but": "ALARM"}]}},
    )


class RetrainingTrigger(Construct):
    """Starts retraining when one of ``alarms`` goes into ALARM.

    :param alarms: the alarms whose ALARM transitions trigger (e.g. ``MonitorAlarms.composite_alarm``).
    :param pipeline_name: the SageMaker pipeline (name or ARN) the retrain Lambda starts. Default:
        none (no Lambda; give ``state_machine``, ``function`` or ``targets``).
    :param cooldown: no new execution this long after the previous one started. Default: 1 hour.
    :param pipeline_parameters: ``{"<pipeline parameter>": "<trigger field or dotted event path>"}``,
        e.g. ``{"TriggerAlarm": "alarm_name", "ReportUri": "report_uri"}``. Trigger fields are
        ``TRIGGER_FIELDS``. Default: none (the pipeline's defaults).
    :param model_name: the ``model`` trigger field. Default: the alarm metric's Endpoint dimension.
    :param report_s3_uri: report root for the ``report_uri`` trigger field. Default: none.
    :param notifications: topic that receives every started / skipped / failed outcome. Default: none.
    :param storage: the monitoring bucket, where the retrain function keeps its lease
        (``retraining/<pipeline>/lock.json``). Required with ``pipeline_name`` unless
        ``reserve_concurrency`` (the facade passes its bucket). Default: none.
    :param reserve_concurrency: also reserve a concurrency of 1 for the retrain function. An account
        whose Lambda concurrency quota is 10 (new accounts) refuses it: ``cdk deploy`` fails. Default: False.
    :param state_machine: a Step Functions state machine to start with the event. Default: none.
    :param function: a Lambda function of yours to invoke with the event. Default: none.
    :param targets: more EventBridge targets. Default: none.
    :param retry_attempts: EventBridge delivery retries per target. Default: 4.
    :param max_event_age: give up delivering an event after this long. Default: 2 hours.
    """

    def __init__(self, scope: Construct, id: str, *, alarms: Sequence[cloudwatch.IAlarm],
                 pipeline_name: str | None = None, cooldown: Duration = Duration.hours(1),
                 pipeline_parameters: Mapping[str, str] | None = None, model_name: str | None = None,
                 report_s3_uri: str | None = None, notifications: Notifications | None = None,
                 state_machine: sfn.IStateMachine | None = None, function: lambda_.IFunction | None = None,
                 targets: Sequence[events.IRuleTarget] = (), retry_attempts: int = 4,
                 max_event_age: Duration = Duration.hours(2),
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN, storage: MonitoringBucket | None = None,
                 reserve_concurrency: bool = False) -> None:
        super().__init__(scope, id)
        alarms = list(alarms)
        if not alarms:
            raise ConfigurationError(self, "alarms", alarms, "Give the alarm(s) whose ALARM state starts retraining.")
        if pipeline_name is None and state_machine is None and function is None and not targets:
            raise ConfigurationError(self, "pipeline_name", None,
                                     "Say what retraining is: pipeline_name (a SageMaker pipeline), state_machine, "
                                     "function or targets.")
        if pipeline_name is not None and storage is None and not reserve_concurrency:
            raise ConfigurationError(self, "storage", None,
                                     "The retrain function keeps a lease in the monitoring bucket so that two "
                                     "alarms at once start one execution: pass storage=<MonitoringBucket> (or "
                                     "reserve_concurrency=True, which an account with a Lambda concurrency quota "
                                     "of 10 refuses).")
        if not 0 <= retry_attempts <= 185:
            raise ConfigurationError(self, "retry_attempts", retry_attempts, "Use 0 to 185 (EventBridge's range).")
        self._check_parameters(pipeline_parameters)
        self.alarms = alarms

        self.dead_letter_key = kms.Key(self, "DeadLetterKey", enable_key_rotation=True, removal_policy=removal_policy,
                                       description="Encrypts the retraining trigger's dead-letter queue")
        # EventBridge encrypts what it cannot deliver with this key.
        self.dead_letter_key.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgeSendsToTheDeadLetterQueue",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}))
        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetterQueue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=self.dead_letter_key,
            enforce_ssl=True, retention_period=Duration.days(14), removal_policy=removal_policy)
        acknowledge(self.dead_letter_queue, "AwsSolutions-SQS3",
                    "this queue is itself the dead-letter queue of the retraining rule and function")

        self.function: lambda_.Function | None = None
        #: ``s3://<monitoring bucket>/retraining/<pipeline>/lock.json``, the retrain function's lease (or None)
        self.lock_s3_uri: str | None = None
        if pipeline_name is not None:
            self.function = self._retrain_function(pipeline_name, cooldown, pipeline_parameters, model_name,
                                                   report_s3_uri, notifications, storage, reserve_concurrency)
        rule_targets: list[events.IRuleTarget] = []
        delivery: dict[str, Any] = {"dead_letter_queue": self.dead_letter_queue, "retry_attempts": retry_attempts,
                                    "max_event_age": max_event_age}
        if self.function is not None:
            rule_targets.append(events_targets.LambdaFunction(self.function, **delivery))
        if state_machine is not None:
            rule_targets.append(events_targets.SfnStateMachine(state_machine, **delivery))
        if function is not None:
            rule_targets.append(events_targets.LambdaFunction(function, **delivery))
        rule_targets.extend(targets)
        self.event_pattern = alarm_event_pattern(alarms)
        self.rule = events.Rule(self, "OnAlarm", event_pattern=self.event_pattern, targets=rule_targets,
                                description="Starts retraining when a model-health alarm goes into ALARM")

    # -- internals --------------------------------------------------------------------------------

    def _check_parameters(self, parameters: Mapping[str, str] | None) -> None:
        for name, source in (parameters or {}).items():
            if not isinstance(name, str) or not isinstance(source, str) or not name or not source:
                raise ConfigurationError(self, "pipeline_parameters", {name: source},
                                         "Map pipeline parameter names to trigger fields, e.g. "
                                         "{'TriggerAlarm': 'alarm_name'}.")
            if source not in TRIGGER_FIELDS and "." not in source:
                raise ConfigurationError(self, "pipeline_parameters", {name: source},
                                         f"Use one of {list(TRIGGER_FIELDS)} or a dotted path into the event "
                                         "such as 'detail.configuration.description'.")

    @staticmethod
    def lock_key(pipeline_name: str) -> str:
        """The key of the lease the retrain function takes for ``pipeline_name`` (a name, an ARN or a token):
        one per pipeline, so triggers of one pipeline share it. SageMaker's pipeline names ignore case."""
        if Token.is_unresolved(pipeline_name):
            return f"{LOCK_PREFIX}/{pipeline_name}/lock.json"
        match = _PIPELINE_ARN.match(pipeline_name)
        name = match["name"] if match is not None else pipeline_name
        return f"{LOCK_PREFIX}/{name.lower()}/lock.json"

    def _pipeline_arns(self, pipeline_name: str) -> tuple[str, list[str]]:
        """The name the function is given and the ARN(s) its policy allows (SageMaker may lower-case
        the name in the ARN, so both spellings are allowed)."""
        stack = Stack.of(self)
        if Token.is_unresolved(pipeline_name):
            arn = stack.format_arn(service="sagemaker", resource="pipeline", resource_name=pipeline_name)
            return pipeline_name, [arn]
        match = _PIPELINE_ARN.match(pipeline_name)
        if match is not None:
            name = match["name"]
            arns = [pipeline_name]
            lower = pipeline_name[: len(pipeline_name) - len(name)] + name.lower()
            return pipeline_name, arns + ([lower] if lower != pipeline_name else [])
        if not _PIPELINE_NAME.match(pipeline_name):
            raise ConfigurationError(self, "pipeline_name", pipeline_name,
                                     "Use the pipeline's name (letters, digits, hyphens) or its ARN.")
        names = [pipeline_name] + ([pipeline_name.lower()] if pipeline_name.lower() != pipeline_name else [])
        return pipeline_name, [stack.format_arn(service="sagemaker", resource="pipeline", resource_name=n)
                               for n in names]

    def _retrain_function(self, pipeline_name: str, cooldown: Duration, parameters: Mapping[str, str] | None,
                          model_name: str | None, report_s3_uri: str | None,
                          notifications: Notifications | None, storage: MonitoringBucket | None,
                          reserve_concurrency: bool) -> lambda_.Function:
        name, pipeline_arns = self._pipeline_arns(pipeline_name)
        environment = {"PIPELINE_NAME": name, "COOLDOWN_SECONDS": str(int(cooldown.to_seconds()))}
        if storage is not None:
            self.lock_s3_uri = storage.s3_uri(self.lock_key(pipeline_name))
            environment["LOCK_S3_URI"] = self.lock_s3_uri
            environment["LOCK_LEASE_SECONDS"] = str(int(LEASE.to_seconds()))
        if parameters:
            environment["PIPELINE_PARAMETERS"] = json.dumps(dict(parameters), separators=(",", ":"))
        if model_name:
            environment["MODEL_NAME"] = model_name
        if report_s3_uri:
            environment["REPORT_S3_URI"] = report_s3_uri
        if notifications is not None:
            environment["TOPIC_ARN"] = notifications.topic.topic_arn

        role = iam.Role(self, "RetrainRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Starts the retraining pipeline when a model-health alarm fires")
        role.add_to_policy(iam.PolicyStatement(
            actions=["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"],
            resources=pipeline_arns))
        if notifications is not None:
            notifications.grant_publish(role)
        if storage is not None:
            # The lease: read and conditionally write that one object (never list, never delete).
            lock = storage.bucket.arn_for_objects(self.lock_key(pipeline_name))
            role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject"], resources=[lock]))
            if storage.encryption_key is not None:
                role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                                       resources=[storage.encryption_key.key_arn]))
        # Failed asynchronous invocations go to the dead-letter queue (sent with the function's role).
        role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                               resources=[self.dead_letter_queue.queue_arn]))
        role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                               resources=[self.dead_letter_key.key_arn]))
        fn = monitor_function(
            self, "Retrain", code="retrain_trigger",
            description="Starts the retraining pipeline once per model-health incident",
            role=role, timeout=RETRAIN_TIMEOUT, environment=environment,
            reserved_concurrent_executions=1 if reserve_concurrency else None)
        lambda_.CfnEventInvokeConfig(
            self, "RetrainAsyncConfig", function_name=fn.function_name, qualifier="$LATEST",
            maximum_retry_attempts=2, maximum_event_age_in_seconds=int(Duration.hours(6).to_seconds()),
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=self.dead_letter_queue.queue_arn)))
        return fn
