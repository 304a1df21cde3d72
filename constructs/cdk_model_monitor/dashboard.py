"""A CloudWatch dashboard per model: alarm states, traffic, execution statuses, drift, completeness,
model quality and bias over time, and links to the monitoring reports in S3."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Aws, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from .alarm_factory import AlarmCategory, AlarmedMonitor, CreatedAlarm, MonitorAlarms
from .endpoint import ICapturedEndpoint
from .errors import ConfigurationError
from .job import Engine
from .self_monitoring import SelfMonitoring
from .statuses import COMPLETED, COMPLETED_WITH_VIOLATIONS, EXECUTION_STATUSES, FAILED, NO_DATA
from .storage import MonitoringBucket

_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# CloudWatch draws at most this many metrics in one graph.
MAX_METRICS_PER_GRAPH = 100
STATUS_COLOURS = {COMPLETED: "#2ca02c", COMPLETED_WITH_VIOLATIONS: "#ff7f0e", NO_DATA: "#7f7f7f",
                  FAILED: "#d62728"}


class DashboardedMonitor(AlarmedMonitor, Protocol):
    """What the dashboard reads from a monitor (``MonitorBase`` is one); its type's own graphs come from
    ``dashboard_widgets``, defined in the type's unit (``monitors/<type>/dashboard.py``)."""

    @property
    def storage(self) -> MonitoringBucket: ...
    @property
    def endpoint_name(self) -> str: ...
    @property
    def schedule_name(self) -> str: ...
    @property
    def latest_report_key(self) -> str: ...
    def metric_violations(self, *, period: Duration | None = None) -> cloudwatch.Metric: ...

    def dashboard_widgets(self, alarms: Sequence[CreatedAlarm], *,
                          features: Sequence[str] | None) -> list[cloudwatch.IWidget]:
        """The monitor type's graphs, from ``alarms`` (the alarms made for this monitor); ``features`` the
        features to draw where the type draws features (None: those its alarms watch)."""
        ...


def latest_report_console_url(monitor: DashboardedMonitor) -> str:
    """S3 console URL of the object holding a copy of ``monitor``'s newest window report.html
    (``<reports prefix>/<monitor type>/<endpoint>/<schedule>/latest-report.html``), which the standalone
    engine's publisher replaces after each completed window. The console's Open button shows the page."""
    return (f"https://console.aws.amazon.com/s3/object/{monitor.storage.bucket.bucket_name}"
            f"?region={Aws.REGION}&bucketType=general&prefix={monitor.latest_report_key}")


def _report_links(monitor: DashboardedMonitor) -> str:
    """The latest window's report where something of ours copies it after each window (standalone engine),
    and the report folders; the native engine has no step after SageMaker's job, so only the folders."""
    folders = f"[reports in S3]({report_console_url(monitor)})"
    if monitor.engine_kind is Engine.STANDALONE:
        return f"[latest window's report]({latest_report_console_url(monitor)}), {folders}"
    return folders


def report_console_url(monitor: DashboardedMonitor) -> str:
    """S3 console URL of the folder holding ``monitor``'s reports:
    ``<reports prefix>/<monitor type>/<endpoint>/<schedule>/`` (then ``yyyy/mm/dd/HH/`` per window)."""
    storage = monitor.storage
    prefix = "/".join(p for p in (storage.prefixes.reports, monitor.kind.name, monitor.endpoint_name,
                                  monitor.schedule_name) if p) + "/"
    return (f"https://console.aws.amazon.com/s3/buckets/{storage.bucket.bucket_name}"
            f"?region={Aws.REGION}&bucketType=general&prefix={prefix}&showversions=false")


@dataclass(frozen=True, kw_only=True)
class DashboardMonitor:
    """What to draw for one monitor, when it differs from what its alarms watch.

    :param features: features whose drift and completeness are drawn. Default: the features the
        model's alarms watch for this monitor.
    :param metrics: more metrics of the monitor to draw in a graph of their own. Default: none.
    """

    monitor: DashboardedMonitor
    features: Sequence[str] | None = None
    metrics: Sequence[cloudwatch.IMetric] = ()


class ModelDashboard(Construct):
    """One CloudWatch dashboard for one model, built from its monitors and alarms.

    Rows: a heading with links to each monitor's reports in the S3 console; the states of all the
    model's alarms; the endpoint's traffic; then per monitor its execution statuses (standalone
    engine), drift and completeness per feature with the alarm thresholds (data quality), its
    model-quality metrics, its bias metrics. Create it after the monitors and ``MonitorAlarms``.

    :param title: heading of the dashboard (the model's name).
    :param monitors: the monitors (or ``DashboardMonitor`` entries) to draw.
    :param alarms: the model's alarms: their states, thresholds and watched metrics. Default: none
        (then give ``DashboardMonitor(features=...)`` for data-quality graphs).
    :param self_monitoring: the alarms on the monitoring itself, shown with the others. Default: none.
    :param endpoint: the endpoint whose traffic is shown (Invocations, model latency). Default: none.
    :param dashboard_name: physical name. Default: generated by CloudFormation (dashboard names are
        unique per account).
    :param default_range: the time range the dashboard opens with. Default: one week.
    """

    def __init__(self, scope: Construct, id: str, *, title: str, monitors: Sequence[DashboardedMonitor | DashboardMonitor] = (),
                 alarms: MonitorAlarms | None = None, self_monitoring: SelfMonitoring | None = None,
                 endpoint: ICapturedEndpoint | None = None,
                 dashboard_name: str | None = None, default_range: Duration = Duration.days(7)) -> None:
        super().__init__(scope, id)
        if dashboard_name is not None and not Token.is_unresolved(dashboard_name) and \
                not _DASHBOARD_NAME.match(dashboard_name):
            raise ConfigurationError(self, "dashboard_name", dashboard_name,
                                     "Use letters, digits, '-' and '_' only (at most 255).")
        entries = [m if isinstance(m, DashboardMonitor) else DashboardMonitor(monitor=m) for m in monitors]
        self.alarms = alarms
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=dashboard_name,
            default_interval=default_range, period_override=cloudwatch.PeriodOverride.INHERIT)
        links = "\n".join(
            f"* **{e.monitor.kind.name}**: {_report_links(e.monitor)}, schedule "
            f"`{e.monitor.schedule_name}` ({e.monitor.schedule.description}, {e.monitor.engine_kind.value} engine)"
            for e in entries)
        latest = (" A latest window's report opens from the S3 console (Open) or after download."
                  if any(e.monitor.engine_kind is Engine.STANDALONE for e in entries) else "")
        self.dashboard.add_widgets(cloudwatch.TextWidget(
            markdown=f"# {title}: model monitoring\nEach window's report.html (what drifted and by how much), "
                     f"statistics.json, constraint_violations.json and metrics are under `yyyy/mm/dd/HH/` in the "
                     f"report folders; the newest folder is the latest window.{latest}\n{links}",
            width=24, height=2 + max(1, len(entries))))
        every: list[cloudwatch.IAlarm] = []
        for source in (alarms, self_monitoring):
            if source is not None:
                composite = [source.composite_alarm] if source.composite_alarm is not None else []
                # the native engine's heartbeat is also a "no results" alarm: listed once
                every.extend(a for a in composite + source.created_alarms() if all(a is not b for b in every))
        if every:
            for start in range(0, len(every), MAX_METRICS_PER_GRAPH):
                self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(
                    title="Alarms" if start == 0 else "Alarms (continued)", width=24,
                    height=min(8, 2 + (len(every[start:start + MAX_METRICS_PER_GRAPH]) + 3) // 4),
                    alarms=every[start:start + MAX_METRICS_PER_GRAPH],
                    sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP))
        if endpoint is not None:
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(title="Traffic: endpoint invocations", width=12, height=6,
                                       left=[endpoint.metric_invocations(statistic="Sum").with_(label="invocations")]),
                cloudwatch.GraphWidget(title="Model latency (average, microseconds)", width=12, height=6,
                                       left=[endpoint.metric_model_latency().with_(label="model latency")]))
        for entry in entries:
            self._add_monitor(entry)

    def _details(self, monitor: DashboardedMonitor) -> list[CreatedAlarm]:
        if self.alarms is None:
            return []
        return [c for c in self.alarms.created_alarm_details() if c.monitor_path == monitor.node.path]

    def _add_monitor(self, entry: DashboardMonitor) -> None:
        monitor = entry.monitor
        kind = monitor.kind.name
        widgets: list[cloudwatch.IWidget] = []
        if monitor.engine_kind is Engine.STANDALONE:
            widgets.append(cloudwatch.GraphWidget(
                title=f"{kind}: execution status per window", width=12, height=6, stacked=True,
                left=[monitor.metric_execution_status(s).with_(label=s, color=STATUS_COLOURS[s]) for s in EXECUTION_STATUSES],
                right=[monitor.metric_violations().with_(label="constraint violations")],
                left_y_axis=cloudwatch.YAxisProps(min=0, label="executions", show_units=False),
                right_y_axis=cloudwatch.YAxisProps(min=0, label="violations", show_units=False)))
        # the monitor type's own graphs (monitors/<type>/dashboard.py), from the alarms made for it
        widgets.extend(monitor.dashboard_widgets(self._details(monitor), features=entry.features))
        if entry.metrics:
            widgets.append(cloudwatch.GraphWidget(title=f"{kind}: more metrics", width=12, height=6,
                                                  left=list(entry.metrics)[:MAX_METRICS_PER_GRAPH]))
        self.dashboard.add_widgets(*widgets)


def alarm_metric_graphs(title: str, alarms: Sequence[CreatedAlarm],
                        category: AlarmCategory) -> list[cloudwatch.IWidget]:
    """Graphs of the metrics that ``alarms`` of ``category`` watch, each labelled with its alarm's subject, at most
    ``MAX_METRICS_PER_GRAPH`` a graph."""
    metrics = [c.metric.with_(label=c.subject) if isinstance(c.metric, cloudwatch.Metric) else c.metric
               for c in alarms if c.category is category and c.metric is not None]
    return [cloudwatch.GraphWidget(title=title, width=12, height=6, left=metrics[start:start + MAX_METRICS_PER_GRAPH],
                                   left_y_axis=cloudwatch.YAxisProps(show_units=False))
            for start in range(0, len(metrics), MAX_METRICS_PER_GRAPH)]
