"""CloudWatch metric lines (contract sections 6.4 and 7) for the data-quality monitor.

One JSON object per line, read by SageMaker from ``/opt/ml/output/metrics/cloudwatch/``:

* ``feature_data_<f>``: numeric features, ``StatisticValues`` {SampleCount, Sum, Minimum, Maximum};
* ``feature_non_null_<f>``: completeness of the window (``Value``);
* ``feature_baseline_drift_<f>``: drift distance (``Value``);
* ``feature_drift_violation_<f>``: 1 when the feature's drift is a violation, else 0, for features
  judged by a registry method (the verdict weighs the window's size and every other feature, so
  an alarm watches it instead of comparing the distance with a fixed threshold; this project's);
* ``dataset_drift_share``: the share of compared features that drift (registry methods; ours);
* ``monitoring_no_data``: ``Value`` 1 when the window held no records (this project's
  addition; the built-in fails the execution instead).

Dimensions ``Endpoint`` (when known) and ``MonitoringSchedule`` (when known); ``Timestamp``
= ``metric_time``, else ``start_time``, else now. Names CloudWatch would not take as they are (a long
column name, one with a line break or a non-ASCII letter) are made safe by ``cloudwatch_metric_name``,
the one rule that the metrics publisher and the constructs' alarms apply too.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import orjson

from model_monitor_analyzer.checks.config import MonitoringConfig
from model_monitor_analyzer.profile.dataset import ColumnProfile
from model_monitor_analyzer.profile.datatypes import InferredType
from model_monitor_analyzer.report.jsonfile import write_bytes

METRICS_FILE_NAME = "cloudwatch_metrics.jsonl"
NO_DATA_METRIC = "monitoring_no_data"
DRIFT_VIOLATION_PREFIX = "feature_drift_violation_"
DRIFT_SHARE_METRIC = "dataset_drift_share"
MAX_METRIC_NAME_LENGTH = 255  # CloudWatch's MetricName limit (PutMetricData API reference)
MAX_DIMENSION_VALUE_LENGTH = 1024  # CloudWatch's Dimension Value limit
METRIC_NAME_DIGEST_LENGTH = 10


def cloudwatch_metric_name(name: str) -> str:
    """``name`` if CloudWatch takes it as it is: at most 255 characters, each printable ASCII (32 to 126, as
    CloudWatch documents for metric names in metric streams, and for dimensions and namespaces: no control
    characters). Else a readable prefix and a digest: ``name`` with every other character (a line break, a
    tab, a non-ASCII letter) made ``_``, cut to its first 244 characters, then ``-`` and 10 hex digits of
    SHA-256 over the whole original name (UTF-8): at most 255 characters, the same for the same name, and
    different for two names that differ only past character 244 or only in the characters made ``_``.

    The metrics publisher (lambda/_shared/names.py) and the constructs' alarms use a copy of this
    function that the tests hold equal to it, so an alarm watches the name the analyzer wrote.
    """
    return _printable_name(name, MAX_METRIC_NAME_LENGTH, blank_ok=True)


def cloudwatch_dimension_value(value: str) -> str:
    """``value`` if CloudWatch takes it as a dimension value as it is: at most 1,024 characters, each printable
    ASCII, and not blank (CloudWatch's Dimension reference: ASCII without control characters, at least one
    non-whitespace character). Else, as for metric names, a readable prefix (every other character made ``_``,
    cut to its first 1,013 characters), ``-`` and 10 hex digits of SHA-256 over the whole original value: a
    facet value such as ``São Paulo`` is published, and alarmed on, as ``S_o Paulo-<digest>``.

    The metrics publisher (lambda/_shared/names.py) and the constructs' bias metrics use a copy of this
    function that the tests hold equal to it.
    """
    return _printable_name(value, MAX_DIMENSION_VALUE_LENGTH, blank_ok=False)


def _printable_name(text: str, limit: int, *, blank_ok: bool) -> str:
    """``text`` if it is at most ``limit`` printable-ASCII characters (and not blank unless ``blank_ok``), else its
    readable prefix (every other character made ``_``, cut to leave room for the digest), ``-`` and 10 hex digits
    of SHA-256 over the whole original text: the same for the same text, different for two texts that differ
    only past the cut or only in the characters made ``_``."""
    readable = re.sub(r"[^\x20-\x7e]", "_", text)
    if readable == text and len(text) <= limit and (blank_ok or text.strip()):
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:METRIC_NAME_DIGEST_LENGTH]
    return f"{readable[: limit - METRIC_NAME_DIGEST_LENGTH - 1]}-{digest}"

def dimensions(*, endpoint: str | None, schedule: str | None) -> list[dict[str, str]]:
    """``[{"Name": "Endpoint", ...}, {"Name": "MonitoringSchedule", ...}]`` for the known ones."""
    dims = []
    if endpoint:
        dims.append({"Name": "Endpoint", "Value": endpoint})
    if schedule:
        dims.append({"Name": "MonitoringSchedule", "Value": schedule})
    return dims


def _line(name: str, timestamp: str, dims: list, **value: object) -> dict:
    return {"MetricName": cloudwatch_metric_name(name), "Timestamp": timestamp, "Dimensions": dims, **value, "Unit": "None"}


def data_quality_metrics(
    *,
    columns: Mapping[str, ColumnProfile],
    rows: int,
    drift: Mapping[str, float],
    feature_configs: Mapping[str, MonitoringConfig],
    global_config: MonitoringConfig,
    timestamp: str,
    endpoint: str | None,
    schedule: str | None,
    drifted: frozenset[str] = frozenset(),
    drift_share: float | None = None,
) -> list[dict]:
    """Metric objects for every feature whose ``emit_metrics`` is enabled (``drifted``: the features with
    a drift violation; ``drift_share``: the dataset's, when registry methods judged it)."""
    if not global_config.emit_metrics:
        return []
    dims = dimensions(endpoint=endpoint, schedule=schedule)
    lines = []
    for name, column in columns.items():
        config = feature_configs.get(name, global_config)
        if not config.emit_metrics:
            continue
        moments = column.moments
        if column.inferred_type in (InferredType.INTEGRAL, InferredType.FRACTIONAL) and moments.count:
            lines.append(
                _line(
                    f"feature_data_{name}",
                    timestamp,
                    dims,
                    StatisticValues={
                        "SampleCount": float(moments.count),
                        "Sum": moments.sum,
                        "Minimum": moments.minimum,
                        "Maximum": moments.maximum,
                    },
                )
            )
        if rows:
            lines.append(_line(f"feature_non_null_{name}", timestamp, dims, Value=column.present / rows))
        distance = drift.get(name)
        if distance is not None and not math.isnan(distance):
            lines.append(_line(f"feature_baseline_drift_{name}", timestamp, dims, Value=distance))
            if config.sample_size_aware and config.evaluate_constraints and config.perform_comparison:
                lines.append(_line(f"{DRIFT_VIOLATION_PREFIX}{name}", timestamp, dims,
                                   Value=1.0 if name in drifted else 0.0))
    if drift_share is not None:
        lines.append(_line(DRIFT_SHARE_METRIC, timestamp, dims, Value=drift_share))
    return lines


def no_data_metric(*, timestamp: str, endpoint: str | None, schedule: str | None) -> dict:
    """The ``monitoring_no_data`` metric (value 1) for an empty window."""
    return _line(NO_DATA_METRIC, timestamp, dimensions(endpoint=endpoint, schedule=schedule), Value=1.0)


def write_metric_lines(directory: Path, lines: list[dict]) -> Path | None:
    """Write the lines to ``directory/cloudwatch_metrics.jsonl`` (nothing when there are none). A line whose
    value is not a finite number (a standard deviation overflowing near 1e300, say) is left out with a note:
    CloudWatch refuses it, and a null would be read as a value."""
    kept = [line for line in lines if _sendable(line)]
    if len(kept) < len(lines):
        names = sorted({str(line.get("MetricName")) for line in lines if not _sendable(line)})
        print(f"note: {len(lines) - len(kept)} metric line(s) without a finite value left out "
              f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})", file=sys.stderr, flush=True)
    lines = [safe_dimensions(line) for line in kept]
    if not lines:
        return None
    path = directory / METRICS_FILE_NAME
    write_bytes(path, b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def safe_dimensions(line: dict) -> dict:
    """``line`` with each dimension value as CloudWatch takes it (``cloudwatch_dimension_value``)."""
    dimensions = line.get("Dimensions")
    if not isinstance(dimensions, list):
        return line
    safe = [{**d, "Value": cloudwatch_dimension_value(d["Value"])}
            if isinstance(d, dict) and isinstance(d.get("Value"), str) else d for d in dimensions]
    return {**line, "Dimensions": safe}


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sendable(line: Mapping) -> bool:
    """Whether CloudWatch takes the line's value: ``Value`` or every number of ``StatisticValues`` finite."""
    if "Value" in line:
        return _finite(line["Value"])
    statistics = line.get("StatisticValues")
    return not isinstance(statistics, Mapping) or all(_finite(v) for v in statistics.values())
