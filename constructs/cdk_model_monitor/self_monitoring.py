"""Monitoring that watches itself: alarms on the monitoring system's own failures, apart from the model's.

A monitor that stops running looks exactly like a healthy model (no drift, no violations), so each
monitor gets alarms that say "monitoring is broken", on both engines:

* ``executions`` (standalone engine): the monitor's state machine had an execution that failed,
  timed out or was aborted (``AWS/States`` ExecutionsFailed + ExecutionsTimedOut + ExecutionsAborted).
  It also catches failures the status metric cannot report (``RecordFailure`` itself failing, the
  state machine's time-out).
* ``heartbeat``: no window reported anything for ``missed_windows`` schedule periods, with missing
  data **breaching**. Standalone engine: every execution publishes one datapoint of each status
  metric, so the heartbeat counts the datapoints of ``ExecutionFailed`` (0 or 1, whatever the
  outcome). Native engine: the "no results" alarm of ``MonitorAlarms`` (a result metric's sample
  count, also breaching), given the same period and length as this heartbeat.
* ``metrics-skipped`` (standalone engine): a window's publisher could not send some of the analyzer's metric
  lines (CloudWatch refused them as invalid, or they were beyond its limits: ``MetricsSkipped`` >= 1). The window
  still completes, but the alarms on those metrics did not see it.
* ``schedule-dead-letters`` (standalone engine): EventBridge Scheduler puts ticks it could not
  deliver to the state machine in the schedule's dead-letter queue (SQS, KMS, TLS only); the alarm
  fires on the first message.
* ``retraining-dead-letters``: events the retraining rule or function could not deliver.

All of them roll up into one "monitoring broken" composite alarm, which notifies (the model's SNS
topic). None of them is a model-health alarm: they never feed the "model unhealthy" composite, so
the retraining rule, which matches only that composite's ARN, never starts retraining for them.
The per-alarm actions stay empty: one notification per incident, through the composite.
"""

from __future__ import annotations

import re
from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .alarm_factory import AlarmCategory, AlarmedMonitor, CreatedAlarm, MonitorAlarms, monitor_name_part
from .engines.standalone import StandaloneEngine
from .errors import ConfigurationError
from .job import Engine
from .schedule import heartbeat
from .statuses import FAILED

_ALARM_NAME = re.compile(r"^[^\x00-\x1f]{1,120}$")


class SelfMonitoredMonitor(AlarmedMonitor, Protocol):
    """What self-monitoring reads from a monitor (``MonitorBase`` is one): its engine (a standalone engine's state
    machine and dead-letter queue) and the metrics its engine publishes about itself."""

    @property
    def engine(self) -> Construct: ...
    def metric_metrics_skipped(self, *, period: Duration | None = None) -> cloudwatch.Metric: ...


class SelfMonitoring(Construct):
    """Alarms on the monitoring system itself, per monitor, and the "monitoring broken" composite alarm.

    Add each monitor with ``add_monitor`` (after ``MonitorAlarms.add_monitor`` on the native engine, whose
    "no results" alarm is the heartbeat there), other dead-letter queues with ``add_dead_letter_queue``,
    then create the composite with ``add_composite_alarm`` and notify on it.

    :param alarm_name_prefix: alarms are named ``<prefix>-<monitor type>-<check>``, the composite
        ``<prefix>-monitoring-broken``. Give each model its own prefix.
    :param missed_windows: schedule periods without any status before the heartbeat fires. Default 3.
    :param actions_enabled: of the composite alarm. Default True.
    """

    def __init__(self, scope: Construct, id: str, *, alarm_name_prefix: str, missed_windows: int = 3,
                 actions_enabled: bool = True) -> None:
        super().__init__(scope, id)
        if not isinstance(alarm_name_prefix, str) or not _ALARM_NAME.match(alarm_name_prefix):
            raise ConfigurationError(self, "alarm_name_prefix", alarm_name_prefix,
                                     "Use 1-120 printable characters, e.g. the model's name ('churn-prod').")
        if isinstance(missed_windows, bool) or not isinstance(missed_windows, int) or missed_windows < 1:
            raise ConfigurationError(self, "missed_windows", missed_windows,
                                     "Use a whole number of schedule periods, at least 1.")
        self.alarm_name_prefix = alarm_name_prefix
        self.missed_windows = missed_windows
        self.actions_enabled = actions_enabled
        self._created: list[CreatedAlarm] = []
        self._name_parts: dict[str, str] = {}
        self.composite_alarm: cloudwatch.CompositeAlarm | None = None
        """The "monitoring broken" alarm, once ``add_composite_alarm`` made it."""

    # -- what was created -------------------------------------------------------------------------

    def created_alarms(self) -> list[cloudwatch.Alarm]:
        """Every self-monitoring alarm created so far (the composite alarm is ``composite_alarm``)."""
        return [c.alarm for c in self._created]

    def created_alarm_details(self, *categories: AlarmCategory) -> list[CreatedAlarm]:
        """The created alarms with what they watch, optionally only of ``categories``."""
        return [c for c in self._created if not categories or c.category in categories]

    # -- per monitor ------------------------------------------------------------------------------

    def add_monitor(self, monitor: SelfMonitoredMonitor, *, alarms: MonitorAlarms | None = None) -> list[CreatedAlarm]:
        """The self-monitoring alarms of ``monitor`` on its engine. On the native engine the heartbeat is the
        "no results" alarm ``alarms`` created for it (none without it: the native engine publishes no status)."""
        if monitor.engine_kind is Engine.STANDALONE:
            created = [self._executions(monitor)]
            beat = self._heartbeat(monitor)
            if beat is not None:
                created.append(beat)
            created.append(self._metrics_skipped(monitor))
            queue = getattr(monitor.engine, "dead_letter_queue", None)
            if queue is not None:
                # a monitor of completed transform jobs is started by an EventBridge rule instead of the Scheduler
                per_job = getattr(monitor.engine, "transform_job_rule", None) is not None
                description = (f"EventBridge could not start the {monitor.kind.name} monitoring state machine for "
                               "completed transform jobs: their undelivered events are in this queue (its messages "
                               "say why); those jobs were not analysed." if per_job else
                               f"EventBridge Scheduler could not start the {monitor.kind.name} monitoring state "
                               f"machine: the undelivered ticks are in this queue (its messages say why).")
                created.append(self.add_dead_letter_queue(
                    queue, name=f"{self._name_part(monitor)}-schedule-dead-letters", monitor=monitor,
                    description=description))
        else:
            created = []
            if alarms is not None:
                for detail in alarms.created_alarm_details(AlarmCategory.NO_RESULTS):
                    if detail.monitor_path == monitor.node.path:
                        record = CreatedAlarm(alarm=detail.alarm, category=AlarmCategory.HEARTBEAT,
                                              monitor_path=detail.monitor_path, metric_name=detail.metric_name,
                                              metric=detail.metric)
                        self._created.append(record)
                        created.append(record)
        return created

    def _executions(self, monitor: SelfMonitoredMonitor) -> CreatedAlarm:
        if not isinstance(monitor.engine, StandaloneEngine):
            raise TypeError(f"{monitor.node.path}: execution alarms watch a standalone engine's state machine")
        machine = monitor.engine.state_machine
        period = monitor.metric_period
        metrics = {"failed": machine.metric_failed(statistic="Sum", period=period),
                   "timedOut": machine.metric_timed_out(statistic="Sum", period=period),
                   "aborted": machine.metric_aborted(statistic="Sum", period=period)}
        expression = cloudwatch.MathExpression(
            expression="FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)", using_metrics=metrics,
            label="executions failed, timed out or aborted", period=period)
        name = f"{self._name_part(monitor)}-executions"
        alarm = self._alarm(
            name, expression, threshold=1, windows=1,
            operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=f"A {monitor.kind.name} monitoring execution failed, timed out or was aborted: see the "
                        "state machine's execution history for the cause.")
        return self._record(alarm, AlarmCategory.EXECUTIONS, monitor, "ExecutionsFailed", metrics["failed"])

    def _heartbeat(self, monitor: SelfMonitoredMonitor) -> CreatedAlarm | None:
        beat = heartbeat(monitor.schedule, max_runtime=monitor.compute.max_runtime,
                         missed_windows=self.missed_windows)
        if beat is None:
            return None
        status = monitor.metric_execution_status(FAILED).with_(statistic="SampleCount", period=beat.period)
        minutes = beat.period.to_minutes()
        alarm = self._alarm(
            f"{self._name_part(monitor)}-heartbeat", status, threshold=1, windows=beat.windows,
            operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
            description=f"No {monitor.kind.name} monitoring window reported a status for {beat.windows} schedule "
                        f"periods of {minutes:g} minutes: the schedule, the state machine or the status publisher "
                        "is not running. Also in ALARM after deployment until the first windows report.")
        return self._record(alarm, AlarmCategory.HEARTBEAT, monitor, status.metric_name, status)

    def _metrics_skipped(self, monitor: SelfMonitoredMonitor) -> CreatedAlarm:
        skipped = monitor.metric_metrics_skipped()
        alarm = self._alarm(
            f"{self._name_part(monitor)}-metrics-skipped", skipped, threshold=1, windows=1,
            operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=f"A {monitor.kind.name} monitoring window published without some of the analyzer's metric "
                        "lines (CloudWatch refused them as invalid, or they were beyond its limits): the alarms on "
                        "those metrics did not see the window. The publisher's log names each line and why.")
        return self._record(alarm, AlarmCategory.METRICS_SKIPPED, monitor, skipped.metric_name, skipped)

    # -- dead-letter queues -----------------------------------------------------------------------

    def add_dead_letter_queue(self, queue: sqs.IQueue, *, name: str, monitor: SelfMonitoredMonitor | None = None,
                              description: str | None = None) -> CreatedAlarm:
        """An alarm on the first message in ``queue`` (a dead-letter queue); ``name`` is its alarm name's part
        after the prefix (``retraining-dead-letters``)."""
        depth = queue.metric_approximate_number_of_messages_visible(statistic="Maximum",
                                                                     period=Duration.minutes(5))
        alarm = self._alarm(
            name, depth, threshold=1, windows=1,
            operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            missing=cloudwatch.TreatMissingData.NOT_BREACHING,
            description=description or f"Messages in the dead-letter queue {queue.node.path}: something the "
                                       "monitoring sent was not delivered (each message says why).")
        return self._record(alarm, AlarmCategory.DEAD_LETTERS, monitor, depth.metric_name, depth)

    # -- composite --------------------------------------------------------------------------------

    def add_composite_alarm(self, *, name_suffix: str = "monitoring-broken",
                            extra: list[cloudwatch.IAlarm] | None = None) -> cloudwatch.CompositeAlarm:
        """The composite alarm in ALARM while any self-monitoring alarm (or one of ``extra``) is. Call it after
        adding every monitor and queue. It must never be given to ``RetrainingTrigger``."""
        alarms: list[cloudwatch.IAlarm] = [*self.created_alarms(), *(extra or [])]
        if not alarms:
            raise ConfigurationError(self, "monitors", [], "Add monitors or queues before the composite alarm.")
        if self.composite_alarm is not None:
            raise ConfigurationError(self, "composite", name_suffix, "The composite alarm exists already.")
        self.composite_alarm = cloudwatch.CompositeAlarm(
            self, "MonitoringBroken", composite_alarm_name=f"{self.alarm_name_prefix}-{name_suffix}",
            alarm_rule=cloudwatch.AlarmRule.any_of(*alarms), actions_enabled=self.actions_enabled,
            alarm_description=(f"Monitoring of {self.alarm_name_prefix} is broken (not the model): one of its "
                               f"{len(alarms)} executions / heartbeat / metrics-skipped / dead-letter alarms is in ALARM. "
                               "This alarm never starts retraining.")[:1024])
        return self.composite_alarm

    # -- internals --------------------------------------------------------------------------------

    def _alarm(self, name: str, metric: cloudwatch.IMetric, *, threshold: float, windows: int,
               operator: cloudwatch.ComparisonOperator, missing: cloudwatch.TreatMissingData,
               description: str) -> cloudwatch.Alarm:
        construct_id = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        if self.node.try_find_child(construct_id) is not None:
            raise ConfigurationError(self, "alarm", name, "This alarm exists already; add each monitor once.")
        return cloudwatch.Alarm(
            self, construct_id, metric=metric, threshold=threshold, comparison_operator=operator,
            evaluation_periods=windows, datapoints_to_alarm=windows, treat_missing_data=missing,
            alarm_name=f"{self.alarm_name_prefix}-{name}"[:255], alarm_description=description[:1024],
            actions_enabled=self.actions_enabled)

    def _record(self, alarm: cloudwatch.Alarm, category: AlarmCategory, monitor: SelfMonitoredMonitor | None,
                metric_name: str, metric: cloudwatch.IMetric) -> CreatedAlarm:
        record = CreatedAlarm(alarm=alarm, category=category,
                              monitor_path=monitor.node.path if monitor is not None else self.node.path,
                              metric_name=metric_name or "", metric=metric)
        self._created.append(record)
        return record

    def _name_part(self, monitor: SelfMonitoredMonitor) -> str:
        return monitor_name_part(self._name_parts, monitor)
