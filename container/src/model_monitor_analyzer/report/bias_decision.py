"""The bias-drift decision in the bias files: the baseline's ``bias_drift_decision`` block and the
verdict metric lines.

A baseline this analyzer writes is Clarify's analysis.json followed by one more top-level key,
``bias_drift_decision`` (``constraint_rules.BIAS_DECISION_KEY``): the comparison, its significance
level, the rows the baseline counted and each metric's standard error. Clarify's keys keep their
order and content, and a reader of analysis.json that looks up the stages (this analyzer's
``report.bias.parse_analysis``, the constructs' ``constraint_rules.bias_baseline_metrics``) passes
over the extra key.

``bias_drift_violation_<NAME>`` (1 violated, 0 not) is published beside each compared
``bias_metric_<NAME>``, with the same dimensions, when the baseline asks for the sample-size-aware
comparison: the threshold an alarm would need depends on the window's size, so alarms watch the
verdict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.checks.bias import BiasAnalysis, BiasStage
from model_monitor_analyzer.checks.bias_decision import BiasVerdict
from model_monitor_analyzer.checks.bias_groups import group_identity
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.report.bias import METRIC_PREFIX, analysis_document, parse_analysis
from model_monitor_analyzer.report.documents import (
    DocumentKind,
    expect_document,
    placement_on_the_command_line,
)
from model_monitor_analyzer.report.jsonfile import load_json, write_bytes

#: ``bias_drift_violation_<NAME>``: the window's verdict on one metric (sample-size-aware comparison).
BIAS_VIOLATION_PREFIX = "bias_drift_violation_"
_STAGE_BY_DIMENSION = {stage.metric_dimension: stage for stage in BiasStage}


def baseline_document(analysis: BiasAnalysis, decision: rules.BiasDecision) -> dict[str, object]:
    """A baseline's analysis.json: Clarify's document, then the ``bias_drift_decision`` block."""
    return {**analysis_document(analysis), rules.BIAS_DECISION_KEY: rules.bias_decision_document(decision)}


def write_baseline_analysis(analysis: BiasAnalysis, decision: rules.BiasDecision, path: Path) -> Path:
    """Write a baseline's analysis.json with its decision block (creating the folder)."""
    write_bytes(path, json.dumps(baseline_document(analysis, decision), indent=4, allow_nan=False).encode("utf-8"))
    return path


def read_baseline(path: Path, *, option: str = "--baseline",
                  place: Callable[[DocumentKind], str] = placement_on_the_command_line
                  ) -> tuple[BiasAnalysis, rules.BiasDecision]:
    """A baseline analysis.json and how its metrics are judged (Clarify's rule when it has no
    ``bias_drift_decision``); ``option`` is how the user gave it and ``place`` where each document goes in the
    same words, for the messages."""
    document = load_json(path, what="baseline analysis.json", allow_nan=True)
    if isinstance(document, dict):
        expect_document(document, DocumentKind.BIAS_ANALYSIS, path=str(path), option=option, place=place)
    analysis = parse_analysis(document, path=str(path))
    try:
        decision = rules.parse_bias_decision(document)  # type: ignore[arg-type]
    except ValueError as error:
        raise AnalyzerInputError(f"{error}: fix the block or remove it to judge the baseline by Clarify's rule",
                                 path=str(path)) from None
    return analysis, decision


def _line_key(line: Mapping[str, object]) -> tuple[BiasStage, str, str, str] | None:
    dimensions = {d["Name"]: d["Value"] for d in line["Dimensions"]}  # type: ignore[union-attr]
    stage = _STAGE_BY_DIMENSION.get(str(dimensions.get("BiasStage")))
    name = str(line["MetricName"])
    if stage is None or not name.startswith(METRIC_PREFIX):
        return None
    return stage, str(dimensions["Facet"]), group_identity(str(dimensions["FacetValue"])), name[len(METRIC_PREFIX):]


def verdict_lines(metric_lines: Iterable[Mapping[str, object]], verdict: BiasVerdict) -> list[dict[str, object]]:
    """``bias_drift_violation_<NAME>`` beside each published ``bias_metric_<NAME>`` the verdict judged,
    with its dimensions and time: 1 when it violates, else 0."""
    judged = set(verdict.judged)
    violated = {(v.stage, v.facet, group_identity(v.facet_value), v.metric_name) for v in verdict.violations}
    lines = []
    for line in metric_lines:
        key = _line_key(line)
        if key is None or key not in judged:
            continue
        lines.append({**line, "MetricName": f"{BIAS_VIOLATION_PREFIX}{key[3]}", "Value": 1.0 if key in violated else 0.0})
    return lines


def decision_notes(decision: rules.BiasDecision, verdict: BiasVerdict) -> list[str]:
    """What a user needs to read the window's verdict: which metrics Clarify's rule judged, and why."""
    if not verdict.judged:
        return []
    if decision.comparison == rules.THRESHOLD:
        why = ("the baseline analysis.json has no bias_drift_decision (made by Clarify or an earlier analyzer)"
               if decision == rules.BiasDecision() else "the baseline's bias_drift_decision asks for comparison threshold")
        return [f"{why}: bias drift judged by Clarify's rule (a violation whenever a metric is farther from neutral "
                "than in the baseline, plus the drift tolerance), which flags sampling noise in most windows; make the "
                "baseline with this analyzer for a verdict that weighs the window's size"]
    notes = []
    why = "FT has no count form; others have an infinite value, or no standard error on either side"
    if verdict.not_judged:
        names = ", ".join(sorted({key[3] for key in verdict.not_judged}))
        notes.append(f"{len(verdict.not_judged)} bias metric(s) without a standard error ({names}: {why}) not judged "
                     "for drift: Clarify's rule would flag sampling noise in them; set a drift tolerance to judge them "
                     "by Clarify's rule with that margin")
    if verdict.by_clarify_rule:
        names = ", ".join(sorted({key[3] for key in verdict.by_clarify_rule}))
        notes.append(f"{len(verdict.by_clarify_rule)} bias metric(s) without a standard error ({names}: {why}) judged "
                     "by Clarify's rule with the drift tolerance as the margin")
    return notes


def verdict_summary(decision: rules.BiasDecision, verdict: BiasVerdict | None) -> dict[str, object]:
    """What the run's summary (outcome.json) says about the verdict: the rule, and how many metrics each
    way judged (none without a baseline)."""
    if verdict is None:
        return {}
    return {"drift_comparison": decision.comparison, "judged_by_significance": len(verdict.p_values),
            "judged_by_clarify_rule": len(verdict.by_clarify_rule), "not_judged": len(verdict.not_judged)}
