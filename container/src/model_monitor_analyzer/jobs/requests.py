"""The parts of a run's typed request that every job can share, and the parsers of the user's text.

A run takes a frozen, keyword-only dataclass (see ``monitors``). The command line and the job
environment each build it; the functions here turn what a user typed (a time, a number) into the
typed value, with the one-line ``AnalyzerInputError`` naming the setting as the caller says it was
set (``name``/``names``: an option, or an environment key).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.capture import DEFAULT_CAPTURE_INDEX_NAMES
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp


class InputFormat(enum.Enum):
    """How an input is laid out: a dataset file format, or SageMaker's data-capture JSON Lines."""

    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"
    CAPTURE = "capture"


class Engine(enum.Enum):
    """What computes a run: this machine's processes, or Spark (``model_monitor_analyzer.spark``)."""

    LOCAL = "local"
    SPARK = "spark"


@dataclass(frozen=True, kw_only=True)
class EngineOptions:
    """Which engine runs a request, and where.

    Attributes:
        engine: ``Engine.LOCAL`` (default) or ``Engine.SPARK``.
        spark_master: the Spark master URL (default None: the one spark-submit set, else ``local[*]``).
    """

    engine: Engine = Engine.LOCAL
    spark_master: str | None = None


@dataclass(frozen=True, kw_only=True)
class InputOptions:
    """How a run reads its input, dataset or captured traffic.

    Attributes:
        max_bad_record_ratio: fail when more than this share of records is malformed
            (default 0.1, as the built-in).
        capture_index_names: the capture payloads that make a row (default endpointInput and
            endpointOutput). A monitor run may read fewer when only those line up with the
            baseline's features.
        output_first: whether the model output's fields come before the input's in a captured
            row (default True, as the built-in's ``output_columns_position`` START).
        missing_output_fields: when both payloads are read, the empty fields (missing values) a
            captured record without a model output gets in the output's place (default None: its
            row is its input's fields). A monitor run sets it from the capture's shape.
        header: whether a CSV input starts with a header row (default True; without one the
            columns are ``_c0``, ``_c1``, ...).
        record_preprocessor: a script defining ``preprocess_handler`` that makes a captured
            record's row (default None: the payloads as captured).
        progress: print progress lines on stderr (``jobs.progress``; default False).
        workers: processes for inputs of 32 MB or more (default None: every available CPU,
            one per 16 MB of input).
    """

    max_bad_record_ratio: float = DEFAULT_MAX_BAD_RECORD_RATIO
    capture_index_names: tuple[str, ...] = DEFAULT_CAPTURE_INDEX_NAMES
    output_first: bool = True
    missing_output_fields: int | None = None
    header: bool = True
    record_preprocessor: Path | None = None
    progress: bool = False
    workers: int | None = None


def _time(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise AnalyzerInputError(f"{option} {value!r} is not an ISO 8601 time such as 2024-01-31T13:00:00Z") from None


def time_window(start: str | None, end: str | None, *, names: tuple[str, str] = ("--start", "--end")) -> TimeWindow:
    """The window ``[start, end)`` from ISO 8601 texts; an empty or absent side is open.

    ``names`` are what the user set them as, for the message: options, or the job environment's
    ``start_time`` / ``end_time``.
    """
    window_start, window_end = _time(start, names[0]), _time(end, names[1])
    if window_start is not None and window_end is not None and window_start >= window_end:
        raise AnalyzerInputError(
            f"{names[0]} {start} is not before {names[1]} {end}: give a start earlier than the end"
        )
    return TimeWindow(start=window_start, end=window_end)


def metric_time(text: str | None) -> datetime | None:
    """The time metric lines are stamped with, from ISO 8601 text; None when unset."""
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise AnalyzerInputError(f"metric time {text!r} is not an ISO 8601 time") from None


def checked_number(value: float, *, name: str, low: float = 0.0, high: float | None = 1.0) -> float:
    """``value`` when it is a finite number in ``[low, high]`` (no upper bound when ``high`` is
    None); else the user's error, naming the setting and the range."""
    in_range = isinstance(value, (int, float)) and math.isfinite(value) and value >= low and (high is None or value <= high)
    if not in_range:
        raise AnalyzerInputError(f"{name} {value!r}: give {_wanted(low, high)}")
    return float(value)


def parse_number(text: str, *, name: str, low: float = 0.0, high: float | None = 1.0) -> float:
    """The number ``text`` spells, checked as ``checked_number`` checks it."""
    try:
        value = float(text)
    except ValueError:
        raise AnalyzerInputError(f"{name} {text!r} is not a number: give {_wanted(low, high)}") from None
    return checked_number(value, name=name, low=low, high=high)


def _wanted(low: float, high: float | None) -> str:
    return f"a number from {low:g} to {high:g}" if high is not None else f"a finite number of at least {low:g}"


def capture_index_names(names: object, *, setting: str) -> tuple[str, ...]:
    """The capture payloads a run reads, as the user named them (``setting``: the option or environment key):
    ``endpointInput`` and/or ``endpointOutput``, each once; anything else is the user's one-line error."""
    known = DEFAULT_CAPTURE_INDEX_NAMES
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(name, str) for name in names):
        raise AnalyzerInputError(f"{setting} {names!r}: give one or both of {', '.join(known)}")
    unknown = [name for name in names if name not in known]
    if unknown:
        close = {name.lower(): name for name in known}
        hint = "; ".join(f"{name!r} is spelled {close[name.lower()]!r}" for name in unknown if name.lower() in close)
        raise AnalyzerInputError(f"{setting}: {', '.join(map(repr, unknown))} is not a capture payload; give one or both "
                                 f"of {', '.join(known)}" + (f" ({hint})" if hint else ""))
    if len(set(names)) != len(names):
        raise AnalyzerInputError(f"{setting} names a payload twice: {', '.join(names)}")
    return tuple(names)
