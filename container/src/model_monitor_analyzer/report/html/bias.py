"""report.html of a bias-drift window or baseline, from analysis.json documents.

Per metric (stage, facet, facet value): the window's value against the baseline's, Clarify's
neutral value, and the band the window may move in before it violates, which is the baseline's
distance from neutral plus the tolerance (``checks.bias.is_drift``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from model_monitor_analyzer.checks.bias import CLARIFY_NEUTRAL_VALUES
from model_monitor_analyzer.checks.bias_groups import group_identity
from model_monitor_analyzer.constraint_rules import (
    BIAS_DECISION_KEY,
    DEFAULT_QUALITY_SIGNIFICANCE_LEVEL,
    SIGNIFICANCE,
)
from model_monitor_analyzer.report.html import svg
from model_monitor_analyzer.report.html.page import (
    REPORT_FILE,
    ReportHeader,
    SeriesPoint,
    no_data_page,
    page,
    table,
    write_report,
)
from model_monitor_analyzer.report.jsonfile import read_json

STAGES = {"pre_training_bias_metrics": "pre-training", "post_training_bias_metrics": "post-training"}


@dataclass(frozen=True, kw_only=True)
class BiasMetricRow:
    """One metric of one facet value, as analysis.json gives it."""

    stage: str
    facet: str
    facet_value: str
    name: str
    description: str
    value: float | None
    error: str | None = None


def metric_rows(analysis: Mapping) -> Iterator[BiasMetricRow]:
    """Every metric of an analysis.json, stage by stage, in the document's order."""
    for stage, label in STAGES.items():
        for facet, values in ((analysis.get(stage) or {}).get("facets") or {}).items():
            for facet_value in values:
                for metric in facet_value.get("metrics", []):
                    yield BiasMetricRow(stage=label, facet=facet, facet_value=str(facet_value.get("value_or_threshold")),
                                        name=metric["name"], description=metric.get("description", metric["name"]),
                                        value=_number(metric.get("value")), error=metric.get("error"))


def _number(value: object) -> float | None:
    """A metric value of analysis.json as a float: infinities are written ``"Infinity"``, errors ``null``."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _key(row: BiasMetricRow) -> tuple[str, str, str, str]:
    """A metric's place, its facet group matched as the drift check matches it (a threshold group
    by its threshold, since its printed upper bound is each window's maximum)."""
    return row.stage, row.facet, group_identity(row.facet_value), row.name


def _value_cell(row: BiasMetricRow) -> str:
    if row.value is not None:
        return svg.number_text(row.value)
    return f'not computable<br><small>{escape(row.error or "")}</small>'


def _check_cell(row: BiasMetricRow, bad: bool) -> str:
    if bad:
        return '<span class="bad">drifted</span>'
    return '<span class="ok">ok</span>' if row.value is not None else "not checked"



def series_name(row: BiasMetricRow) -> str:
    """How the history names a metric: ``DPPL senior=1 (post-training)``."""
    return f"{row.name} {row.facet}={row.facet_value} ({row.stage})"


def bias_report(*, header: ReportHeader, analysis: Mapping, baseline: Mapping | None, violations: Mapping | None,
                tolerance: float, neutral_values: Mapping[str, float] = CLARIFY_NEUTRAL_VALUES) -> str:
    """report.html of a bias-drift window (``baseline`` given) or of a bias baseline (``baseline`` None)."""
    base = {_key(row): row.value for row in metric_rows(baseline or {})}
    violated = {(v.get("facet"), str(v.get("facet_value")), v.get("metric_name"))
                for v in (violations or {}).get("violations", [])}
    rows, cards, points = [], [], []
    for row in metric_rows(analysis):
        neutral = neutral_values.get(row.name, 0.0)
        before = base.get(_key(row))
        bad = (row.facet, row.facet_value, row.name) in violated
        allowed = abs(before - neutral) + tolerance if before is not None and math.isfinite(before) else None
        points.append(SeriesPoint(
            name=series_name(row), measure="bias metric", value=row.value, baseline=before, violated=bad,
            threshold=neutral + allowed if allowed is not None else None,
            lower_threshold=neutral - allowed if allowed is not None else None))
        cells = [escape(row.name), escape(row.description), f"{escape(row.facet)} = {escape(row.facet_value)}",
                 escape(row.stage)]
        if baseline is not None:
            cells += [svg.number_text(before) if before is not None else "-", _value_cell(row),
                      svg.number_text(neutral), f"± {svg.number_text(allowed)}" if allowed is not None else "-",
                      _check_cell(row, bad)]
        else:
            cells += [_value_cell(row), svg.number_text(neutral)]
        rows.append((not bad, cells))
        if baseline is not None and allowed is not None:
            chart = svg.range_dots(f"{series_name(row)}: neutral {neutral}, allowed band, baseline and window",
                                   neutral=neutral, allowed=allowed, baseline=before, window=row.value)
            cards.append((not bad, f'<div class="card{" violated" if bad else ""}"><h3>{escape(series_name(row))}</h3>'
                                   f"{chart}</div>"))
    rows.sort(key=lambda item: item[0])
    cards.sort(key=lambda item: item[0])
    if baseline is not None:
        headings = ["metric", "description", "facet", "stage", "baseline", "window", "neutral", "allowed", ""]
        numeric = (4, 5, 6, 7)
        bad = sorted({series_name(r) for r in metric_rows(analysis) if (r.facet, r.facet_value, r.name) in violated})
        missing = sum(1 for r in metric_rows(analysis) if r.value is None)
        judged = significance_wording(baseline, tolerance)
        intro = (f"<p>{len(bad)} of {len(rows)} metrics drifted farther from neutral than the baseline "
                 + (judged or f"plus the tolerance {svg.number_text(tolerance)}")
                 + (": " + ", ".join(escape(n) for n in bad) if bad else "")
                 + "." + (f" {missing} not computable in this window (the reason is under each), not checked."
                          if missing else "") + "</p>")
        legend = ('<p class="legend">Green band: where the window may lie (neutral ± (|baseline - neutral| + '
                  "tolerance)); blue dot baseline, orange dot window."
                  + (" A window outside the band violates only when its move is more than chance allows."
                     if judged else "") + "</p>")
    else:
        headings, numeric = ["metric", "description", "facet", "stage", "value", "neutral"], (4, 5)
        intro = ("<p>The baseline's bias metrics: monitoring flags a window whose metric lies farther from the "
                 "neutral value than these, plus the tolerance.</p>")
        legend = ""
    body = [intro, "<h2>Metrics</h2>", table(headings, [cells for _, cells in rows], numeric=numeric)]
    if cards:
        body += ["<h2>Against the baseline</h2>", legend, '<div class="cards">', *(c for _, c in cards), "</div>"]
    return page(header, "".join(body), violations=len(violated), series=points)


def significance_wording(baseline: Mapping, tolerance: float) -> str | None:
    """How the intro names the sample-size-aware decision a baseline asks for (None: Clarify's rule)."""
    block = baseline.get(BIAS_DECISION_KEY)
    if not isinstance(block, Mapping) or block.get("comparison", SIGNIFICANCE) != SIGNIFICANCE:
        return None
    level = block.get("significance_level", DEFAULT_QUALITY_SIGNIFICANCE_LEVEL)
    return (f"by more than chance allows at this window's size (significance level {svg.number_text(level)}, "
            f"Benjamini-Hochberg across the metrics) and by more than the tolerance {svg.number_text(tolerance)}")


def _moment(text: object) -> datetime | None:
    if isinstance(text, datetime) or text is None:
        return text
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)


def write_window_report(output: Path, *, analysis: Path, baseline: Path | None, violations: Path | None,
                        tolerance: float, window: tuple[object, object], join: Mapping[str, object]) -> Path:
    """Write ``output``/report.html for a bias-drift window from the analysis.json and
    constraint_violations.json just written and the baseline's analysis.json."""
    violations_doc = read_json(violations, what="bias violations") if violations is not None else None
    count = len((violations_doc or {}).get("violations", []))
    header = ReportHeader(monitor_type="bias", kind="monitor", status="CompletedWithViolations" if count else "Completed",
                          window_start=_moment(window[0]), window_end=_moment(window[1]),
                          records=join.get("matched") if isinstance(join.get("matched"), int) else None)
    return write_report(output / REPORT_FILE, bias_report(
        header=header, analysis=read_json(analysis, what="bias analysis"),
        baseline=read_json(baseline, what="baseline analysis") if baseline is not None else None,
        violations=violations_doc, tolerance=tolerance))


def write_no_data_report(output: Path, *, window: tuple[object, object]) -> Path:
    """Write ``output``/report.html for a window where no capture had a label yet."""
    header = ReportHeader(monitor_type="bias", kind="monitor", status="NoData", window_start=_moment(window[0]),
                          window_end=_moment(window[1]), records=0)
    return write_report(output / REPORT_FILE, no_data_page(
        header, "No captured inference in the window has a ground-truth label yet: nothing to analyze."))


def write_baseline_report(output: Path, *, analysis: Path) -> Path:
    """Write ``output``/report.html for a bias baseline: its metrics and their neutral values."""
    header = ReportHeader(monitor_type="bias", kind="baseline", status="Baseline")
    return write_report(output / REPORT_FILE, bias_report(
        header=header, analysis=read_json(analysis, what="bias analysis"), baseline=None, violations=None,
        tolerance=0.0))
