"""When monitoring runs and which window of captured data each run analyses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

from aws_cdk import Duration
from aws_cdk import aws_scheduler as scheduler

from .errors import ConfigurationError


def iso_offset(duration: Duration, *, negative: bool) -> str:
    """An ISO-8601 offset such as ``-PT2H`` (SageMaker's and the window planner's format)."""
    minutes = int(duration.to_minutes())
    hours, minutes = divmod(minutes, 60)
    body = "PT" + (f"{hours}H" if hours or not minutes else "") + (f"{minutes}M" if minutes else "")
    return ("-" if negative and (hours or minutes) else "") + body


# Default wait between a run's scheduled time and the listing of its window's captures (standalone engine).
DEFAULT_CAPTURE_DELAY_MINUTES = 15
_MAX_CAPTURE_DELAY_MINUTES = 60

# EventBridge Scheduler's cron fields: name, lowest and highest value, names accepted in place of numbers.
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_FIELDS = (("minutes", 0, 59, ()), ("hours", 0, 23, ()), ("day-of-month", 1, 31, ()),
                ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _WEEKDAYS), ("year", 1970, 2199, ()))
_CRON_EXAMPLE = "e.g. 'cron(15 */2 * * ? *)' (minutes hours day-of-month month day-of-week year)"


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if text.upper() in names:
        return True
    return text.isdigit() and low <= int(text) <= high


def _cron_part_ok(part: str, index: int) -> bool:
    """One comma-separated part of a cron field: ``*``, ``?``, a value, a range ``a-b``, a step ``x/n``, or the
    day fields' ``L``, ``nW``, ``nL`` and ``d#n``."""
    _, low, high, names = _CRON_FIELDS[index]
    if part == "*" or (part == "?" and index in (2, 4)):
        return True
    if index == 2 and (part in ("L", "LW") or (part.endswith("W") and _cron_value(part[:-1], low, high, ()))):
        return True
    if index == 4 and part.endswith("L") and (part == "L" or _cron_value(part[:-1], low, high, names)):
        return True
    if index == 4 and "#" in part:
        day, _, nth = part.partition("#")
        return _cron_value(day, low, high, names) and nth.isdigit() and 1 <= int(nth) <= 5
    base, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return False
    if base == "*" and slash:
        return True
    first, dash, last = base.partition("-")
    return _cron_value(first, low, high, names) and (not dash or _cron_value(last, low, high, names))


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not an EventBridge Scheduler cron expression, or None."""
    if not (isinstance(expression, str) and expression.startswith("cron(") and expression.endswith(")")):
        return f"use six fields inside cron(...), {_CRON_EXAMPLE}"
    fields_ = expression[5:-1].split()
    if len(fields_) != 6:
        return f"use six fields, {_CRON_EXAMPLE}"
    for index, text in enumerate(fields_):
        name, low, high, names = _CRON_FIELDS[index]
        if not all(_cron_part_ok(part, index) for part in text.split(",")):
            spelled = f" or {names[0]}-{names[-1]}" if names else ""
            return f"the {name} field {text!r} is out of range: use {low}-{high}{spelled}, or * , - /"
    if "?" not in (fields_[2], fields_[4]):
        return "one of day-of-month and day-of-week must be '?'"
    if fields_[2] == "?" and fields_[4] == "?":
        return "only one of day-of-month and day-of-week may be '?'"
    return None


@dataclass(frozen=True, kw_only=True)
class DataWindow:
    """The window a run analyses, relative to its scheduled time truncated to the hour.

    ``DataWindow(start_offset=Duration.hours(2), end_offset=Duration.hours(1))`` analyses
    [t-2h, t-1h): waiting an hour gives late captures (S3 delivery lags minutes) time to land.
    """

    start_offset: Duration = field(default_factory=lambda: Duration.hours(1))
    end_offset: Duration = field(default_factory=lambda: Duration.hours(0))

    @property
    def start(self) -> str:
        return iso_offset(self.start_offset, negative=True)

    @property
    def end(self) -> str:
        return iso_offset(self.end_offset, negative=True)

    @property
    def is_default_hourly(self) -> bool:
        return self.start == "-PT1H" and self.end == "PT0H"

    def validate(self) -> str | None:
        """A reason the window is unusable, or None."""
        start, end = self.start_offset.to_minutes(), self.end_offset.to_minutes()
        if start <= end:
            return "the window must start before it ends (start_offset larger than end_offset)"
        if start > 24 * 60 * 30:
            return "windows reach back at most 30 days"
        return None


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """How often a monitor runs. Build one with the factories: ``Schedule.hourly()``, ``.daily(hour=3)``,
    ``.every_hours(6)``, ``.cron(...)``, ``.rate(Duration.minutes(15))``, ``.once(at=...)``.

    Both engines accept the hourly, daily and every-N-hours forms; only the standalone engine
    accepts other cron expressions, rates (including sub-hourly ones) and a one-off run at a date.
    """

    expression: str
    """EventBridge Scheduler expression (``cron(...)``, ``rate(...)`` or ``at(...)``)."""
    sagemaker_expression: str | None
    """The same schedule as SageMaker Model Monitor writes it, or None where it has no equivalent."""
    window: DataWindow
    granularity: str = "hour"
    """``minute`` for sub-hourly schedules: window ids and report folders gain minutes."""
    description: str = ""
    interval: Duration | None = None
    """Time between two runs, when the expression says it (hourly, daily, every N hours, rates); None for
    other cron expressions and one-off runs. The self-monitoring heartbeat expects a status this often."""
    capture_delay: Duration = field(default_factory=lambda: Duration.minutes(DEFAULT_CAPTURE_DELAY_MINUTES))
    """How long each run of the standalone engine waits after its scheduled time before it lists the window's
    captured data: SageMaker writes a capture file to S3 minutes after its records, so a window listed on the
    hour would miss the last minutes of the hour it analyses. The window itself does not move (the 13:00 run
    still analyses [12:00, 13:00), its reports and metrics keep their times); only the listing and the job
    start later. Default 15 minutes (SageMaker's own schedules start 0-20 minutes after the scheduled time).
    ``with_capture_delay`` changes it; the native engine ignores it (SageMaker starts its jobs itself)."""

    @staticmethod
    def hourly(*, window: DataWindow | None = None) -> Schedule:
        """Every hour on the hour, analysing the previous hour by default."""
        return Schedule(expression="cron(0 * * * ? *)", sagemaker_expression="cron(0 * ? * * *)",
                        window=window or DataWindow(), description="hourly", interval=Duration.hours(1))

    @staticmethod
    def daily(*, hour: int = 0, window: DataWindow | None = None) -> Schedule:
        """Every day at ``hour`` (UTC), analysing the previous 24 hours by default."""
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise ConfigurationError(None, "Schedule.daily(hour)", hour, "Use a whole hour from 0 to 23 (UTC).")
        return Schedule(expression=f"cron(0 {hour} * * ? *)", sagemaker_expression=f"cron(0 {hour} ? * * *)",
                        window=window or DataWindow(start_offset=Duration.hours(24)), description=f"daily at {hour:02d}:00",
                        interval=Duration.hours(24))

    @staticmethod
    def every_hours(hours: int, *, start_hour: int = 0, window: DataWindow | None = None) -> Schedule:
        """Every ``hours`` hours from ``start_hour`` (UTC), analysing the hours since the previous run."""
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 24:
            raise ConfigurationError(None, "Schedule.every_hours(hours)", hours, "Use a whole number of hours from 1 to 24.")
        if 24 % hours:  # cron restarts at midnight: 0/5 runs at 0, 5, 10, 15, 20, then 4 hours later
            raise ConfigurationError(
                None, "Schedule.every_hours(hours)", hours,
                f"Use a divisor of 24 (1, 2, 3, 4, 6, 8, 12, 24): every {hours} hours from midnight the last run of a "
                f"day is {24 % hours} hours before the next day's first, so windows of {hours} hours overlap there. "
                f"For a steady interval use Schedule.rate(Duration.hours({hours})) (standalone engine).")
        if isinstance(start_hour, bool) or not isinstance(start_hour, int) or not 0 <= start_hour <= 23:
            raise ConfigurationError(None, "Schedule.every_hours(start_hour)", start_hour,
                                     "Use a whole hour from 0 to 23 (UTC).")
        return Schedule(expression=f"cron(0 {start_hour}/{hours} * * ? *)",
                        sagemaker_expression=f"cron(0 {start_hour}/{hours} ? * * *)",
                        window=window or DataWindow(start_offset=Duration.hours(hours)),
                        description=f"every {hours} hours", interval=Duration.hours(hours))

    @staticmethod
    def cron(expression: str, *, window: DataWindow) -> Schedule:
        """Any EventBridge Scheduler cron expression (``cron(15 */2 * * ? *)``); standalone engine only."""
        problem = cron_problem(expression)
        if problem:
            raise ConfigurationError(None, "Schedule.cron(expression)", expression, f"Fix the expression: {problem}.")
        if not isinstance(window, DataWindow):
            raise ConfigurationError(None, "Schedule.cron(window)", window,
                                     "Use a DataWindow(start_offset=..., end_offset=...).")
        return Schedule(expression=expression, sagemaker_expression=None, window=window, description=expression)

    @staticmethod
    def rate(interval: Duration, *, window: DataWindow | None = None) -> Schedule:
        """Every ``interval`` (at least 5 minutes), analysing the interval before each run; standalone only.

        Sub-hourly rates give sub-hourly windows (SageMaker Model Monitor refuses them)."""
        if not isinstance(interval, Duration):
            raise ConfigurationError(None, "Schedule.rate(interval)", interval,
                                     "Use a Duration, e.g. Schedule.rate(Duration.hours(1)) or Duration.minutes(15).")
        seconds = interval.to_seconds()
        if seconds % 60:
            raise ConfigurationError(None, "Schedule.rate(interval)", interval.to_human_string(),
                                     "Use a whole number of minutes, e.g. Duration.minutes(15).")
        minutes = interval.to_minutes()
        if minutes < 5:
            raise ConfigurationError(None, "Schedule.rate(interval)", f"{minutes:g} minutes",
                                     "Use at least 5 minutes: a processing job takes minutes to start.")
        unit, value = ("hours", int(minutes // 60)) if minutes % 60 == 0 else ("minutes", int(minutes))
        expression = f"rate({value} {unit[:-1] if value == 1 else unit})"
        return Schedule(expression=expression, sagemaker_expression=None,
                        window=window or DataWindow(start_offset=interval), granularity="hour" if minutes % 60 == 0
                        else "minute", description=expression, interval=Duration.minutes(minutes))

    @staticmethod
    def once(*, window: DataWindow, at: datetime | None = None) -> Schedule:
        """A single run: at a date (UTC) on the standalone engine, or right after deployment on the
        native engine (SageMaker's ``NOW``; ``at`` must then be omitted)."""
        expression = f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})" if at is not None else ""
        return Schedule(expression=expression, sagemaker_expression="NOW" if at is None else None, window=window,
                        granularity="minute", description=f"once {expression or 'now'}")

    def with_window(self, window: DataWindow) -> Schedule:
        """The same schedule analysing another window."""
        return replace(self, window=window)

    def with_capture_delay(self, delay: Duration) -> Schedule:
        """The same schedule, each run waiting ``delay`` (whole seconds, 0 to 60 minutes) after its scheduled time
        before it lists the window's captures (see ``capture_delay``). ``Duration.minutes(0)`` lists on time."""
        if not isinstance(delay, Duration):
            raise ConfigurationError(None, "Schedule.with_capture_delay(delay)", delay,
                                     "Use a Duration, e.g. Duration.minutes(15).")
        milliseconds = delay.to_milliseconds()
        if milliseconds % 1000 or milliseconds > _MAX_CAPTURE_DELAY_MINUTES * 60_000:
            raise ConfigurationError(None, "Schedule.with_capture_delay(delay)", delay.to_human_string(),
                                     f"Use whole seconds up to {_MAX_CAPTURE_DELAY_MINUTES} minutes; for captures "
                                     "later than that, analyse an earlier window, e.g. DataWindow(start_offset="
                                     "Duration.hours(2), end_offset=Duration.hours(1)).")
        return replace(self, capture_delay=delay)

    def scheduler_expression(self) -> scheduler.ScheduleExpression:
        return scheduler.ScheduleExpression.expression(self.expression)


# CloudWatch evaluates at most one day of periods shorter than an hour, and seven days otherwise.
_MAX_RANGE_SHORT = Duration.days(1)
_MAX_RANGE = Duration.days(7)
# Longest alarm period CloudWatch accepts.
_MAX_PERIOD = Duration.days(1)
# A window's status lands once its job has run and the publisher has sent it.
_PUBLICATION_ALLOWANCE = Duration.minutes(30)


@dataclass(frozen=True, kw_only=True)
class Heartbeat:
    """How a heartbeat alarm evaluates: ``windows`` periods of ``period``, all without a datapoint."""

    period: Duration
    windows: int


def run_interval(schedule: Schedule) -> Duration | None:
    """Time between two runs of ``schedule``: its interval, or for a cron expression of the user's the length of
    its window (what one run covers); None for a one-off run."""
    if schedule.interval is not None:
        return schedule.interval
    if not schedule.expression.startswith("cron("):
        return None  # a one-off run has no next window
    window = schedule.window
    return Duration.minutes(window.start_offset.to_minutes() - window.end_offset.to_minutes())


def heartbeat(schedule: Schedule, *, max_runtime: Duration, missed_windows: int) -> Heartbeat | None:
    """How an alarm that expects one datapoint per run of ``schedule`` evaluates: one period per run,
    ``missed_windows`` of them (more when a job may run longer than a period, so a slow job is not a missed
    window), within CloudWatch's limits. None when the schedule has no interval of at most a day (a one-off
    run)."""
    interval = run_interval(schedule)
    if interval is None or interval.to_seconds() > _MAX_PERIOD.to_seconds():
        return None
    period_s = interval.to_seconds()
    late = max_runtime.to_seconds() + _PUBLICATION_ALLOWANCE.to_seconds() + schedule.capture_delay.to_seconds()
    windows = max(missed_windows, math.ceil(late / period_s) + 1)
    limit = (_MAX_RANGE if period_s >= 3600 else _MAX_RANGE_SHORT).to_seconds()
    windows = max(1, min(windows, int(limit // period_s)))
    return Heartbeat(period=Duration.seconds(period_s), windows=windows)
