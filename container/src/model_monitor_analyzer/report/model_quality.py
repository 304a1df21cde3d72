"""Model-quality report files: statistics.json, constraints.json, constraint_violations.json, metrics.

The built-in analyzer is a JVM program that writes its JSON with Jackson's default pretty
printer and Java's ``Double.toString`` number format; the functions here reproduce both so that
a baseline written by us is byte-identical to the built-in's for the same data (checked against
the real regression statistics.json in the reference examples). Layouts: contract §8.1-§8.3 and,
for the CloudWatch metric lines, §6.4 and §7.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import orjson

from model_monitor_analyzer.checks.model_quality import (
    FloatCurve,
    MetricConstraint,
    MetricEntry,
    MetricValue,
    MetricViolation,
    ProblemType,
)
from model_monitor_analyzer.constraint_rules import PERFORMANCE_ESTIMATION_KEY
from model_monitor_analyzer.report.jsonfile import write_bytes

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
METRICS_FILE = "model_quality_metrics.jsonl"
#: constraints.json and statistics.json key of the label-free estimation block (SageMaker's readers skip it).
ESTIMATION_KEY = PERFORMANCE_ESTIMATION_KEY

#: Name of the metrics object in statistics.json and of the section in constraints.json.
METRICS_SECTION = {
    ProblemType.BINARY_CLASSIFICATION: "binary_classification_metrics",
    ProblemType.MULTICLASS_CLASSIFICATION: "multiclass_classification_metrics",
    ProblemType.REGRESSION: "regression_metrics",
}
CONSTRAINTS_SECTION = {
    ProblemType.BINARY_CLASSIFICATION: "binary_classification_constraints",
    ProblemType.MULTICLASS_CLASSIFICATION: "multiclass_classification_constraints",
    ProblemType.REGRESSION: "regression_constraints",
}


def java_double(value: float) -> str:
    """Java's ``Double.toString``: plain decimals for 1e-3 <= |x| < 1e7, else ``d.dddE±n``.

    Both forms keep at least one digit after the point (``1.0``, ``1.0E-4``) and use the
    shortest digits that read back as the same double (Python's ``repr`` digits, which is what
    current JDKs print).
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        # Python's repr writes this range positionally with the same shortest digits and a ".0"
        # on integral values, i.e. exactly Java's text (curves put a million numbers here).
        return repr(float(value))
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    assert isinstance(digits_tuple.exponent, int)
    # scientific exponent of the first digit: value = 0.d1d2... * 10^(point)
    point = len(digits) + digits_tuple.exponent
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{point - 1}"


def java_double_list(values: Sequence[float]) -> str:
    """``java_double`` of each value, joined by ``", "``, for the long lists (curves) of statistics.json.

    orjson writes a double in the positional range (and zero) exactly as ``repr`` does, so it
    writes the whole list at once; the values outside take ``java_double`` one by one, found in its
    text by the commas that end the values before them.
    """
    numbers = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(numbers)
    outside = np.flatnonzero(~((magnitude == 0.0) | ((magnitude >= 1e-3) & (magnitude < 1e7))))
    text = orjson.dumps(numbers, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
    if outside.size:
        commas = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == ord(","))
        bounds = np.concatenate(([-1], commas, [len(text)]))  # value i lies between bounds[i] and bounds[i + 1]
        pieces, done = [], 0
        for index in outside.tolist():
            pieces.append(text[done:int(bounds[index]) + 1])
            pieces.append(java_double(float(numbers[index])).encode())
            done = int(bounds[index + 1])
        pieces.append(text[done:])
        text = b"".join(pieces)
    return text.replace(b",", b", ").decode()


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _jackson_pieces(document: object, level: int, pieces: list[str]) -> None:
    """Append the text of ``document`` at nesting ``level`` to ``pieces`` (``jackson_json``), so that a long
    curve is copied once into the whole text, not once per level around it."""
    if isinstance(document, Mapping):
        if not document:
            pieces.append("{ }")
            return
        inner = "  " * (level + 1)
        before = "{\n"
        for key, value in document.items():
            pieces.append(f"{before}{inner}{json.dumps(str(key), ensure_ascii=False)} : ")
            _jackson_pieces(value, level + 1, pieces)
            before = ",\n"
        pieces.append("\n" + "  " * level + "}")
        return
    if isinstance(document, FloatCurve):  # a curve's numbers, written from their array
        pieces.append("[ " + java_double_list(document.array) + " ]" if len(document) else "[ ]")
        return
    if isinstance(document, list | tuple):
        if not document:
            pieces.append("[ ]")
            return
        if set(map(type, document)) == {float}:
            pieces.extend(("[ ", java_double_list(document), " ]"))
            return
        before = "[ "
        for item in document:
            pieces.append(before)
            _jackson_pieces(item, level, pieces)
            before = ", "
        pieces.append(" ]")
        return
    pieces.append(_scalar(document))


def jackson_json(document: object, *, _level: int = 0) -> str:
    """JSON text laid out like Jackson's ``DefaultPrettyPrinter``.

    Objects open a line per member indented by two spaces per level with ``"key" : value``;
    arrays stay on one line as ``[ a, b ]``; empty containers are ``{ }`` and ``[ ]``; no
    newline after the root. Python floats print as Java doubles, ints as integers.
    """
    pieces: list[str] = []
    _jackson_pieces(document, _level, pieces)
    return "".join(pieces)


def write_jackson_json(path: Path, document: object) -> Path:
    """Write ``document`` to ``path`` in the built-in's layout (see ``jackson_json``)."""
    write_bytes(path, jackson_json(document).encode("utf-8"))
    return path


def _entry_json(entry: MetricEntry) -> object:
    if isinstance(entry, MetricValue):
        deviation: object = "NaN" if entry.standard_deviation is None else float(entry.standard_deviation)
        return {"value": float(entry.value), "standard_deviation": deviation}
    return entry


def statistics_document(
    problem_type: ProblemType,
    metrics: Mapping[str, MetricEntry],
    *,
    item_count: int,
    evaluation_time: datetime | None = None,
) -> dict[str, object]:
    """statistics.json body: ``version``, ``dataset`` (item_count [, evaluation_time]), the metrics object.

    Baselines of the built-in carry only ``item_count``; monitoring results also carry
    ``evaluation_time`` as ``yyyy-MM-ddTHH:mm:ss.SSSZ`` (as in the SDK's model-card fixture).
    """
    dataset: dict[str, object] = {"item_count": int(item_count)}
    if evaluation_time is not None:
        dataset["evaluation_time"] = format_evaluation_time(evaluation_time)
    return {
        "version": 0.0,
        "dataset": dataset,
        METRICS_SECTION[problem_type]: {name: _entry_json(entry) for name, entry in metrics.items()},
    }


def format_evaluation_time(moment: datetime) -> str:
    """UTC ``2023-03-30T21:08:34.729Z`` (millisecond precision)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def constraints_document(
    problem_type: ProblemType, constraints: Sequence[MetricConstraint], *,
    baseline_errors: Mapping[str, float] | None = None, decision: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """constraints.json body: ``version`` and one section of {metric: {threshold, comparison_operator}}, as
    the built-in writes it; with ``decision`` (the sample-size-aware comparison) each metric also keeps
    its ``baseline_standard_error`` and the file a ``monitoring_config`` (``checks.quality_decision``)."""
    section: dict[str, object] = {}
    for c in constraints:
        entry: dict[str, object] = {"threshold": float(c.threshold), "comparison_operator": c.operator.value}
        error = (baseline_errors or {}).get(c.metric)
        if error is not None and math.isfinite(error):
            entry["baseline_standard_error"] = float(error)
        section[c.metric] = entry
    document: dict[str, object] = {"version": 0.0, CONSTRAINTS_SECTION[problem_type]: section}
    if decision is not None:
        document["monitoring_config"] = dict(decision)
    return document


#: ``quality_violation_<metric>``: the window's verdict on one metric (sample-size-aware comparison).
QUALITY_VIOLATION_PREFIX = "quality_violation_"


def camel_case_metric_name(name: str) -> str:
    """The built-in's violation spelling: ``false_positive_rate`` -> ``falsePositiveRate``.

    An underscore before a digit stays (``f0_5``, ``weighted_f0_5`` -> ``weightedF0_5``): the
    snake-case names in statistics.json are derived from Java field names, and ``f0_5`` can only
    come from a field that keeps that underscore (inferred; only letter-led parts are observed).
    """
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def violation_description(violation: MetricViolation) -> str:
    """``Metric <camelName> with <value>[ +/- <std>] was <operator> '<threshold>'`` in Java number format."""
    spread = (
        "" if violation.standard_deviation is None else f" +/- {java_double(violation.standard_deviation)}"
    )
    return (
        f"Metric {camel_case_metric_name(violation.metric)} with {java_double(violation.value)}{spread} "
        f"was {violation.operator.value} '{java_double(violation.threshold)}'"
    )


def violations_document(violations: Sequence[MetricViolation],
                        checks: Sequence[Mapping[str, object]] = ()) -> dict[str, object]:
    """constraint_violations.json body, members in the built-in's (alphabetical) order; ``checks``: further
    entries written as they are (the prediction-drift and concept-shift checks)."""
    return {
        "violations": [
            {
                "constraint_check_type": v.operator.value,
                "description": violation_description(v),
                "metric_name": camel_case_metric_name(v.metric),
            }
            for v in violations
        ] + [dict(sorted(entry.items())) for entry in checks]
    }


def cloudwatch_metric_records(
    metrics: Mapping[str, MetricEntry],
    *,
    timestamp: str,
    endpoint_name: str | None,
    schedule_name: str | None,
    leave_out: frozenset[str] = frozenset(),
    verdicts: Mapping[str, bool] | None = None,
) -> list[dict[str, object]]:
    """One CloudWatch metric line per scalar metric, named as in statistics.json (contract §7).

    Dimensions are ``Endpoint`` (when the data came from an endpoint) and ``MonitoringSchedule``;
    the confusion matrix and the curves have no scalar value and are not published, nor are the
    metrics in ``leave_out`` (not computable in the window). ``verdicts`` adds
    ``quality_violation_<metric>`` (1 violated, 0 not) for each metric judged by the sample-size-aware
    comparison, whose threshold depends on the window: the alarms watch that verdict.
    """
    dimensions = []
    if endpoint_name:
        dimensions.append({"Name": "Endpoint", "Value": endpoint_name})
    if schedule_name:
        dimensions.append({"Name": "MonitoringSchedule", "Value": schedule_name})
    records: list[dict[str, object]] = [
        {
            "MetricName": name,
            "Timestamp": timestamp,
            "Dimensions": dimensions,
            "Value": float(entry.value),
            "Unit": "None",
        }
        for name, entry in metrics.items()
        if isinstance(entry, MetricValue) and name not in leave_out
    ]
    for name, violated in (verdicts or {}).items():
        records.append({"MetricName": f"{QUALITY_VIOLATION_PREFIX}{name}", "Timestamp": timestamp,
                        "Dimensions": dimensions, "Value": 1.0 if violated else 0.0, "Unit": "None"})
    return records


def write_cloudwatch_metrics(directory: Path, records: Sequence[Mapping[str, object]]) -> Path:
    """Write the metric lines as JSON Lines to ``directory``/model_quality_metrics.jsonl."""
    return write_bytes(directory / METRICS_FILE, "".join(json.dumps(record) + "\n" for record in records).encode("utf-8"))
