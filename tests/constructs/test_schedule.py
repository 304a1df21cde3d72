"""Schedules: expressions for EventBridge Scheduler and SageMaker, and the analysed window."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from aws_cdk import Duration

from cdk_model_monitor.errors import ConfigurationError
from cdk_model_monitor.schedule import DataWindow, Schedule


def test_hourly_analyses_the_previous_hour_on_both_engines():
    schedule = Schedule.hourly()
    assert schedule.expression == "cron(0 * * * ? *)"
    assert schedule.sagemaker_expression == "cron(0 * ? * * *)"
    assert (schedule.window.start, schedule.window.end) == ("-PT1H", "PT0H")
    assert schedule.window.is_default_hourly


def test_daily_analyses_the_previous_day():
    schedule = Schedule.daily(hour=3)
    assert schedule.sagemaker_expression == "cron(0 3 ? * * *)"
    assert schedule.expression == "cron(0 3 * * ? *)"
    assert schedule.window.start == "-PT24H"


def test_every_six_hours_from_two():
    schedule = Schedule.every_hours(6, start_hour=2)
    assert schedule.sagemaker_expression == "cron(0 2/6 ? * * *)"
    assert schedule.window.start == "-PT6H"


def test_a_delayed_window_waits_for_late_capture():
    window = DataWindow(start_offset=Duration.hours(2), end_offset=Duration.hours(1))
    schedule = Schedule.hourly(window=window)
    assert (schedule.window.start, schedule.window.end) == ("-PT2H", "-PT1H")
    assert not schedule.window.is_default_hourly


def test_sub_hourly_rate_is_standalone_only_and_minute_grained():
    schedule = Schedule.rate(Duration.minutes(15))
    assert schedule.expression == "rate(15 minutes)"
    assert schedule.sagemaker_expression is None
    assert schedule.granularity == "minute"
    assert schedule.window.start == "-PT15M"


def test_two_hour_rate():
    schedule = Schedule.rate(Duration.hours(2))
    assert (schedule.expression, schedule.granularity, schedule.window.start) == ("rate(2 hours)", "hour", "-PT2H")


def test_custom_cron_needs_six_fields():
    assert Schedule.cron("cron(15 */2 * * ? *)", window=DataWindow()).sagemaker_expression is None
    with pytest.raises(ValueError, match="use six fields"):
        Schedule.cron("15 * * * *", window=DataWindow())


def test_once_is_now_on_sagemaker_or_a_date_on_the_standalone_engine():
    window = DataWindow(start_offset=Duration.hours(5))
    assert Schedule.once(window=window).sagemaker_expression == "NOW"
    at = Schedule.once(window=window, at=datetime(2026, 12, 1, 6, 30))
    assert at.expression == "at(2026-12-01T06:30:00)"


@pytest.mark.parametrize(("factory", "prop"), [
    (lambda: Schedule.daily(hour=24), "Schedule.daily(hour)=24"),
    (lambda: Schedule.daily(hour="3"), "Schedule.daily(hour)='3'"),
    (lambda: Schedule.every_hours(0), "Schedule.every_hours(hours)=0"),
    (lambda: Schedule.every_hours(2, start_hour=-1), "Schedule.every_hours(start_hour)=-1"),
    (lambda: Schedule.rate(Duration.minutes(1)), "Schedule.rate(interval)='1 minutes'"),
    (lambda: Schedule.rate(Duration.seconds(330)), "Schedule.rate(interval)='5 minutes 30 seconds'"),
])
def test_impossible_schedules_are_a_configuration_error_naming_the_parameter(factory, prop):
    with pytest.raises(ConfigurationError, match=re.escape(f"invalid {prop}. ")):
        factory()


def test_window_must_start_before_it_ends():
    assert DataWindow(start_offset=Duration.hours(1), end_offset=Duration.hours(2)).validate()
    assert DataWindow().validate() is None
