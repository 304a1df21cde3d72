"""Clarify's bias files: analysis.json, bias-drift constraint_violations.json, CloudWatch metric lines.

analysis.json keeps Clarify's key order (``version``, post-training, pre-training; per stage
``label``, ``facets``, ``label_value_or_threshold``), indents by 4 and writes an infinite value
as the string ``"Infinity"`` (``"-Infinity"``), as Clarify does. The same file is the bias
monitor's baseline constraints, so ``read_analysis`` reads it back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from model_monitor_analyzer.report.documents import (
    DocumentKind,
    expect_document,
    placement_on_the_command_line,
)
from model_monitor_analyzer.report.jsonfile import load_json, write_bytes

from ..checks.bias import (
    BiasAnalysis,
    BiasDriftViolation,
    FacetResult,
    FacetValueResult,
    MetricResult,
    StageResult,
)
from ..errors import AnalyzerInputError

ANALYSIS_VERSION = "1.0"
BIAS_DRIFT_CHECK = "bias_drift_check"
# CloudWatch rejects infinities; the Clarify monitor publishes this number in their place.
CLOUDWATCH_INFINITY = 2.348543e108
METRIC_PREFIX = "bias_metric_"


def metric_value_json(value: float | None) -> float | int | str | None:
    """A metric value as analysis.json holds it: numbers as is, +-inf as ``"Infinity"``/``"-Infinity"``."""
    if value is None:
        return None
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def metric_value_text(value: float) -> str:
    """A value as the violation description prints it: Python's shortest repr, ``Infinity``, ``NaN``."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if math.isnan(value):
        return "NaN"
    return repr(value)


def _metric_document(metric: MetricResult) -> dict[str, object]:
    document: dict[str, object] = {
        "name": metric.name,
        "description": metric.description,
        "value": metric_value_json(metric.value),
    }
    if metric.error is not None:
        document["error"] = metric.error
    return document


def _stage_document(stage: StageResult) -> dict[str, object]:
    return {
        "label": stage.label,
        "facets": {
            facet.name: [
                {
                    "value_or_threshold": value.value_or_threshold,
                    "metrics": [_metric_document(m) for m in value.metrics],
                }
                for value in facet.values
            ]
            for facet in stage.facets
        },
        "label_value_or_threshold": stage.label_value_or_threshold,
    }


def analysis_document(analysis: BiasAnalysis) -> dict[str, object]:
    """analysis.json as a dict in Clarify's key order."""
    document: dict[str, object] = {"version": ANALYSIS_VERSION}
    for stage, result in analysis.stages():
        document[stage.value] = _stage_document(result)
    return document


def write_analysis(analysis: BiasAnalysis, path: Path) -> Path:
    """Write analysis.json (creating the folder)."""
    write_bytes(path, json.dumps(analysis_document(analysis), indent=4, allow_nan=False).encode("utf-8"))
    return path


def _number(value: object, where: str, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        special = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}
        if value in special:
            return special[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnalyzerInputError(f"{where}: metric value {value!r} is not a number", path=path)
    return value


def _parse_stage(document: object, key: str, path: str) -> StageResult:
    if not isinstance(document, dict) or not isinstance(document.get("facets"), dict):
        raise AnalyzerInputError(f'"{key}" must be an object with "label" and "facets"', path=path)
    facets = []
    for name, values in document["facets"].items():
        if not isinstance(values, list):
            raise AnalyzerInputError(f'"{key}.facets.{name}" must be a list', path=path)
        parsed_values = []
        for i, entry in enumerate(values):
            where = f"{key}.facets.{name}[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("metrics"), list):
                raise AnalyzerInputError(f'"{where}" must have "value_or_threshold" and "metrics"', path=path)
            metrics = []
            for metric in entry["metrics"]:
                if not isinstance(metric, dict) or "name" not in metric:
                    raise AnalyzerInputError(f'"{where}.metrics" entries need a "name"', path=path)
                metrics.append(
                    MetricResult(
                        name=str(metric["name"]),
                        description=str(metric.get("description", "")),
                        value=_number(metric.get("value"), f"{where}.{metric['name']}", path),
                        error=metric.get("error"),
                    )
                )
            parsed_values.append(
                FacetValueResult(
                    value_or_threshold=str(entry.get("value_or_threshold", "")), metrics=tuple(metrics)
                )
            )
        facets.append(FacetResult(name=str(name), values=tuple(parsed_values)))
    return StageResult(
        label=str(document.get("label", "")),
        label_value_or_threshold=str(document.get("label_value_or_threshold", "")),
        facets=tuple(facets),
    )


def parse_analysis(document: object, *, path: str = "analysis.json") -> BiasAnalysis:
    """A parsed analysis.json (a baseline's or a run's) as a ``BiasAnalysis``."""
    if not isinstance(document, dict):
        raise AnalyzerInputError("a bias analysis.json must be a JSON object", path=path)
    stages = {}
    for key in ("pre_training_bias_metrics", "post_training_bias_metrics"):
        if key in document:
            stages[key] = _parse_stage(document[key], key, path)
    if not stages:
        raise AnalyzerInputError(
            "no pre_training_bias_metrics or post_training_bias_metrics: pass the analysis.json of a bias baseline",
            path=path,
        )
    return BiasAnalysis(
        pre_training=stages.get("pre_training_bias_metrics"),
        post_training=stages.get("post_training_bias_metrics"),
    )


def read_analysis(path: Path, *, option: str = "--baseline",
                  place: Callable[[DocumentKind], str] = placement_on_the_command_line) -> BiasAnalysis:
    """Read a bias analysis.json (the baseline constraints of a bias monitor); ``option`` is how the
    user gave it and ``place`` where each document goes in the same words, for the message when the file is
    another document."""
    document = load_json(path, what="baseline analysis.json", allow_nan=True)
    if isinstance(document, dict):
        expect_document(document, DocumentKind.BIAS_ANALYSIS, path=str(path), option=option, place=place)
    return parse_analysis(document, path=str(path))


def violation_description(violation: BiasDriftViolation) -> str:
    """The Clarify monitor's sentence for a bias-drift violation."""
    return (
        f"Metric value {metric_value_text(violation.current)} doesn't meet the baseline constraint requirement "
        f"{metric_value_text(violation.baseline)}"
    )


def violations_document(violations: Sequence[BiasDriftViolation]) -> dict[str, object]:
    """constraint_violations.json of a bias-drift run."""
    return {
        "version": ANALYSIS_VERSION,
        "violations": [
            {
                "facet": v.facet,
                "facet_value": v.facet_value,
                "metric_name": v.metric_name,
                "constraint_check_type": BIAS_DRIFT_CHECK,
                "description": violation_description(v),
            }
            for v in violations
        ],
    }


def write_violations(violations: Sequence[BiasDriftViolation], path: Path) -> Path:
    """Write constraint_violations.json (creating the folder)."""
    write_bytes(path, json.dumps(violations_document(violations), indent=4).encode("utf-8"))
    return path


def cloudwatch_value(value: float) -> float | None:
    """The number published for a metric value: +-inf as +-2.348543e108, NaN not published (None)."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        return CLOUDWATCH_INFINITY if value > 0 else -CLOUDWATCH_INFINITY
    return float(value)


def metric_lines(
    analysis: BiasAnalysis, *, timestamp: str, endpoint_name: str | None, schedule_name: str | None
) -> list[dict[str, object]]:
    """CloudWatch metric records ``bias_metric_<NAME>``, one per computed metric and facet value.

    Dimensions: Endpoint (omitted for batch transform monitors), MonitoringSchedule, BiasStage
    (``Pre-training``/``Post-Training``), Label, LabelValue, Facet, FacetValue. Metrics without a
    value (errors) are not published.
    """
    lines = []
    for stage, result in analysis.stages():
        for facet in result.facets:
            for facet_value in facet.values:
                for metric in facet_value.metrics:
                    if metric.value is None:
                        continue
                    value = cloudwatch_value(float(metric.value))
                    if value is None:
                        continue
                    dimensions = []
                    if endpoint_name:
                        dimensions.append({"Name": "Endpoint", "Value": endpoint_name})
                    if schedule_name:
                        dimensions.append({"Name": "MonitoringSchedule", "Value": schedule_name})
                    dimensions += [
                        {"Name": "BiasStage", "Value": stage.metric_dimension},
                        {"Name": "Label", "Value": result.label},
                        {"Name": "LabelValue", "Value": result.label_value_or_threshold},
                        {"Name": "Facet", "Value": facet.name},
                        {"Name": "FacetValue", "Value": facet_value.value_or_threshold},
                    ]
                    lines.append(
                        {
                            "MetricName": f"{METRIC_PREFIX}{metric.name}",
                            "Timestamp": timestamp,
                            "Dimensions": dimensions,
                            "Value": value,
                            "Unit": "None",
                        }
                    )
    return lines


def write_metric_lines(lines: Iterable[dict[str, object]], path: Path) -> Path:
    """Write metric records as JSON Lines (creating the folder)."""
    # imported here: it brings the data-quality profile's modules, which no other part of a bias run needs
    from model_monitor_analyzer.report.metrics import safe_dimensions

    # a facet or label value that is not printable ASCII becomes a dimension value CloudWatch takes, as the
    # constructs' bias metrics name it too
    write_bytes(path, "".join(json.dumps(safe_dimensions(dict(line))) + "\n" for line in lines).encode("utf-8"))
    return path
