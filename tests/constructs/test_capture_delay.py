"""Late captures on the standalone engine: each run waits for capture delivery before it lists its window, and the
planner learns the schedule's interval to count files that reached the previous window after it was listed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from cdk_model_monitor import CapturedEndpoint, ConfigurationError, MonitoringBucket
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from cdk_model_monitor.job import Engine, JobCompute
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor
from cdk_model_monitor.schedule import DataWindow, Schedule, heartbeat

from .conftest import ANALYZER_URI, DEMO_BASELINE, MODEL_IMAGE, TEST_ENV, new_app, template_of


def _monitor(stack, **kwargs) -> DataQualityMonitor:
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=MODEL_IMAGE, endpoint_name="churn")
    return DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=AnalyzerImage.from_uri(ANALYZER_URI),
                              baseline=Baseline.from_directory(DEMO_BASELINE), **kwargs)


def _machine(stack) -> tuple[dict, dict]:
    """(the state machine's properties, its definition with CloudFormation references as placeholders)."""
    machine = next(iter(template_of(stack).find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return machine["Properties"], json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))


def _timeout_without_delay(outdir: Path) -> int:
    """The execution timeout of an hourly monitor with the default compute and no capture delay."""
    app = new_app(outdir)
    stack = cdk.Stack(app, "Reference", env=TEST_ENV)
    _monitor(stack, schedule=Schedule.hourly().with_capture_delay(Duration.minutes(0)))
    return _machine(stack)[1]["TimeoutSeconds"]


def test_the_default_run_waits_fifteen_minutes_for_capture_delivery_before_it_lists_the_window(stack, tmp_path):
    _monitor(stack)
    properties, definition = _machine(stack)

    assert Schedule.hourly().capture_delay.to_minutes() == 15
    assert definition["StartAt"] == "WaitForCaptureDelivery"
    assert definition["States"]["WaitForCaptureDelivery"] == {
        "Type": "Wait", "Seconds": 900, "Next": "PlanWindow",
        "Comment": definition["States"]["WaitForCaptureDelivery"]["Comment"]}
    # the window itself does not move: the 13:00 run still analyses [12:00, 13:00)
    payload = definition["States"]["PlanWindow"]["Parameters"]
    assert (payload["window_start_offset"], payload["window_end_offset"]) == ("-PT1H", "PT0H")
    # the execution (and the window's claim) lasts the wait, the job's run time, the publication and their retries
    # (tests/lambda/test_window_executions.py holds every step at its longest against it)
    assert definition["TimeoutSeconds"] == _timeout_without_delay(tmp_path) + 900
    assert payload["claim_seconds"] == definition["TimeoutSeconds"]
    assert "TimeoutSeconds" not in properties or properties["TimeoutSeconds"] == definition["TimeoutSeconds"]


def test_a_capture_delay_of_zero_lists_the_window_at_the_scheduled_time(stack):
    _monitor(stack, schedule=Schedule.hourly().with_capture_delay(Duration.minutes(0)))
    _, definition = _machine(stack)

    assert definition["StartAt"] == "PlanWindow"
    assert "WaitForCaptureDelivery" not in definition["States"]
    # the job's hour and its 30 minutes to start and stop: RunAnalyzer's time-out, and the polls of an existing job
    assert definition["States"]["RunAnalyzer"]["TimeoutSeconds"] == 3600 + 1800
    assert definition["TimeoutSeconds"] > 2 * (3600 + 1800)


def test_a_longer_capture_delay_is_waited_and_counted_in_the_timeout(stack, tmp_path):
    _monitor(stack, schedule=Schedule.daily(hour=2).with_capture_delay(Duration.minutes(40)),
             compute=JobCompute(max_runtime=Duration.hours(2)))
    _, definition = _machine(stack)

    assert definition["States"]["WaitForCaptureDelivery"]["Seconds"] == 2400
    # two more hours of run time count twice: RunAnalyzer's time-out, and the polls of a job started before
    assert definition["TimeoutSeconds"] == _timeout_without_delay(tmp_path) + 2 * 3600 + 2400


@pytest.mark.parametrize("schedule, interval", [
    (Schedule.hourly(), "PT1H"),
    (Schedule.daily(hour=3), "PT24H"),
    (Schedule.every_hours(6), "PT6H"),
    (Schedule.rate(Duration.minutes(15)), "PT15M"),
    # a cron expression of the user's: what one run covers
    (Schedule.cron("cron(30 */2 * * ? *)", window=DataWindow(start_offset=Duration.hours(2))), "PT2H"),
])
def test_the_planner_learns_when_the_previous_window_ran(stack, schedule, interval):
    _monitor(stack, schedule=schedule)
    _, definition = _machine(stack)

    assert definition["States"]["PlanWindow"]["Parameters"]["schedule_interval"] == interval


def test_a_one_off_run_has_no_previous_window_to_count_late_captures_of(stack):
    _monitor(stack, schedule=Schedule.once(at=datetime(2026, 12, 1, 9), window=DataWindow()))
    _, definition = _machine(stack)

    assert "schedule_interval" not in definition["States"]["PlanWindow"]["Parameters"]


@pytest.mark.parametrize("delay", [Duration.minutes(61), Duration.millis(1500), Duration.hours(2), "PT15M", 900])
def test_a_capture_delay_outside_zero_to_sixty_minutes_is_a_configuration_error(delay):
    with pytest.raises(ConfigurationError, match=r"Schedule\.with_capture_delay\(delay\)"):
        Schedule.hourly().with_capture_delay(delay)


def test_the_heartbeat_allows_for_the_capture_delay():
    on_time = Schedule.rate(Duration.minutes(15)).with_capture_delay(Duration.minutes(0))
    delayed = Schedule.rate(Duration.minutes(15)).with_capture_delay(Duration.minutes(60))

    # a job of an hour and its publication: 1.5 h late at most, 2.5 h with an hour's wait for captures
    assert heartbeat(on_time, max_runtime=Duration.hours(1), missed_windows=3).windows == 7
    assert heartbeat(delayed, max_runtime=Duration.hours(1), missed_windows=3).windows == 11


def test_the_native_engine_has_no_wait_state_and_no_planner(stack):
    _monitor(stack, engine=Engine.MODEL_MONITOR)

    assert template_of(stack).find_resources("AWS::StepFunctions::StateMachine") == {}


def test_late_capture_files_are_a_metric_of_the_monitor(stack):
    monitor = _monitor(stack)
    metric = monitor.metric_late_capture_files()

    assert (metric.namespace, metric.metric_name, metric.statistic) == ("CdkModelMonitor", "LateCaptureFiles", "Sum")
    assert set(metric.dimensions) == {"Endpoint", "MonitoringSchedule", "MonitorType"}
