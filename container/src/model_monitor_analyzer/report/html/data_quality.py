"""report.html of a data-quality window and of a data-quality baseline, from the statistics documents.

Every number shown is read from the statistics.json documents (baseline and window), the parsed
constraints and the check result the run already has: the page computes no statistic. Per
feature: baseline and window distributions overlaid (numeric from the KLL buckets, categorical
from the category buckets), completeness, the drift distance against its threshold, and the
inferred type against the baseline's; violated features first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from model_monitor_analyzer.checks.config import MonitoringConfig
from model_monitor_analyzer.checks.data_quality import (
    DATASET,
    CheckResult,
    CheckType,
    Constraints,
    FeatureConstraint,
)
from model_monitor_analyzer.constraint_rules import SAGEMAKER, drift_rule
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.report.constraints import parse_constraints
from model_monitor_analyzer.report.html import svg
from model_monitor_analyzer.report.html.page import (
    REPORT_FILE,
    CheckViolation,
    ReportHeader,
    SeriesPoint,
    no_data_page,
    page,
    table,
    write_report,
)

MAX_CATEGORIES = 12
# the checks whose number ``feature_points`` follows over time; the others (values outside the
# domain, a type mismatch, a missing or extra column, dataset drift) reach the history as violations
FOLLOWED_CHECKS = frozenset({CheckType.BASELINE_DRIFT, CheckType.COMPLETENESS})


@dataclass(frozen=True, kw_only=True)
class FeatureStatistics:
    """What the page shows of one feature of a statistics.json."""

    name: str
    inferred_type: str
    present: int
    missing: int
    mean: float | None = None
    std_dev: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    distinct: float | None = None
    buckets: tuple[tuple[float, float, float], ...] = ()  # numeric: (lower, upper, count)
    categories: tuple[tuple[str, float], ...] = ()  # String: (value, count)

    @property
    def completeness(self) -> float | None:
        total = self.present + self.missing
        return self.present / total if total else None


def feature_statistics(document: Mapping) -> dict[str, FeatureStatistics]:
    """The features of a statistics.json document, by name, in the document's order."""
    features = {}
    for feature in document.get("features", []):
        numeric = feature.get("numerical_statistics")
        stats = numeric or feature.get("string_statistics") or {}
        common = stats.get("common", {})
        distribution = stats.get("distribution", {})
        buckets = tuple((b["lower_bound"], b["upper_bound"], b["count"])
                        for b in (distribution.get("kll") or {}).get("buckets") or [])
        categories = tuple((str(b["value"]), b["count"]) for b in (distribution.get("categorical") or {}).get("buckets") or [])
        features[feature["name"]] = FeatureStatistics(
            name=feature["name"], inferred_type=feature.get("inferred_type", "Unknown"),
            present=int(common.get("num_present", 0)), missing=int(common.get("num_missing", 0)),
            mean=stats.get("mean") if numeric else None, std_dev=stats.get("std_dev") if numeric else None,
            minimum=stats.get("min") if numeric else None, maximum=stats.get("max") if numeric else None,
            distinct=stats.get("distinct_count"), buckets=buckets, categories=categories,
        )
    return features


def _shares_of_buckets(buckets: Sequence[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    total = sum(count for _, _, count in buckets)
    return [(low, high, count / total) for low, high, count in buckets] if total else []


def distribution_chart(name: str, baseline: FeatureStatistics | None, window: FeatureStatistics | None) -> str:
    """Baseline and window distributions of one feature on shared axes ('' when neither has one)."""
    sides = [(s, label, colour) for s, label, colour in ((baseline, "baseline", svg.BASELINE_COLOUR),
                                                        (window, "window", svg.WINDOW_COLOUR)) if s is not None]
    if any(s.buckets for s, _, _ in sides):
        series = [svg.Series(label, svg.step_outline(_shares_of_buckets(s.buckets)), colour, dashed=label == "baseline")
                  for s, label, colour in sides if s.buckets]
        return svg.lines_chart(f"{name}: distribution (share per unit)", series)
    if any(s.categories for s, _, _ in sides):
        order: list[str] = []
        for s, _, _ in sides:
            order += [value for value, _ in s.categories if value not in order]
        order = order[:MAX_CATEGORIES]
        groups = []
        for s, label, colour in sides:
            counts = dict(s.categories)
            total = sum(counts.values()) or 1
            groups.append((label, colour, [counts.get(value, 0) / total for value in order]))
        return svg.grouped_bars(f"{name}: share per category", order, groups)
    return ""


def drift_threshold(feature: FeatureConstraint, config: MonitoringConfig) -> tuple[float, bool]:
    """The drift threshold of ``feature`` and whether its distance is a p-value (violates below it)."""
    rule = drift_rule(config, feature.inferred_type.value)
    return rule.threshold, rule.p_value


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _stats_rows(baseline: FeatureStatistics | None, window: FeatureStatistics | None) -> list[list[str]]:
    rows = []
    fields = (("inferred type", "inferred_type"), ("completeness", "completeness"), ("mean", "mean"),
              ("std dev", "std_dev"), ("min", "minimum"), ("max", "maximum"), ("distinct", "distinct"))
    for label, attribute in fields:
        values = [getattr(s, attribute) if s is not None else None for s in (baseline, window)]
        if all(v is None for v in values):
            continue
        if attribute == "completeness":
            cells = [_percent(v) for v in values]
        elif attribute == "inferred_type":
            cells = [escape(str(v)) if v is not None else "-" for v in values]
        else:
            cells = [svg.number_text(v) if v is not None else "-" for v in values]
        if attribute == "inferred_type" and None not in values and values[0] != values[1]:
            cells[1] = f'<span class="bad">{cells[1]}</span>'
        rows.append([label, *cells])
    return rows


def _feature_card(name: str, *, baseline: FeatureStatistics | None, window: FeatureStatistics | None,
                  constraint: FeatureConstraint | None, distance: float | None, threshold: float | None,
                  p_value: bool, violations: Sequence[str], monitor: bool, drift_violated: bool = False,
                  method: str | None = None, evidence: float | None = None) -> str:
    parts = [f"<h3>{escape(name)}</h3>"]
    if violations:
        parts.append('<ul class="violations">' + "".join(f"<li>{escape(v)}</li>" for v in violations) + "</ul>")
    if distance is not None and threshold is not None:
        word = "p-value" if p_value else "drift distance" if method in (None, SAGEMAKER) else f"{method} distance"
        tested = "" if evidence is None else f", test p-value {svg.number_text(evidence)}"
        parts.append(f'<p>{escape(word)} <b class="{"bad" if drift_violated else "ok"}">{svg.number_text(distance)}</b> '
                     f'{"below" if p_value and drift_violated else "vs"} threshold {svg.number_text(threshold)}'
                     f'{tested}</p>')
    parts.append(distribution_chart(name, baseline, window if monitor else None))
    headings = ["", "baseline", "window"] if monitor else ["", "inferred"]
    rows = _stats_rows(baseline, window) if monitor else [row[:2] for row in _stats_rows(baseline, None)]
    if constraint is not None and constraint.completeness is not None:
        rows.append(["completeness ≥", _percent(constraint.completeness), *([""] if monitor else [])])
    if constraint is not None and not monitor:
        if constraint.is_non_negative is not None:
            rows.append(["non-negative", "yes" if constraint.is_non_negative else "no"])
        if constraint.domains:
            shown = ", ".join(constraint.domains[:MAX_CATEGORIES]) + (" …" if len(constraint.domains) > MAX_CATEGORIES else "")
            rows.append(["domain", escape(shown)])
    parts.append(table(headings, rows, numeric=(1, 2)))
    return f'<div class="card{" violated" if violations else ""}" id="feature-{escape(name)}">{"".join(parts)}</div>'


def feature_points(name: str, *, constraint: FeatureConstraint | None, current: FeatureStatistics | None,
                   distance: float | None, threshold: float | None, p_value: bool,
                   violated_checks: frozenset[str]) -> list[SeriesPoint]:
    """What the history follows of one feature: its drift distance and its completeness, with thresholds."""
    points = []
    if distance is not None:
        points.append(SeriesPoint(name=name, measure="p-value" if p_value else "drift distance", value=distance,
                                  threshold=threshold, violated=CheckType.BASELINE_DRIFT.value in violated_checks))
    if constraint is not None and constraint.completeness is not None and current is not None \
            and current.completeness is not None:
        points.append(SeriesPoint(name=f"{name} completeness", measure="completeness", value=current.completeness,
                                  threshold=constraint.completeness,
                                  violated=CheckType.COMPLETENESS.value in violated_checks))
    return points


def data_quality_report(*, header: ReportHeader, baseline_statistics: Mapping, window_statistics: Mapping,
                        constraints: Constraints, result: CheckResult) -> str:
    """report.html of a monitoring window: summary, then one card per feature, violated ones first."""
    baseline = feature_statistics(baseline_statistics)
    window = feature_statistics(window_statistics)
    by_feature: dict[str, list[str]] = {}
    checks: dict[str, set[str]] = {}
    dataset_notes = []
    for violation in result.violations:
        if violation.feature_name == DATASET:
            dataset_notes.append(violation.description)
            continue
        by_feature.setdefault(violation.feature_name, []).append(violation.description)
        checks.setdefault(violation.feature_name, set()).add(violation.constraint_check_type.value)
    names = [f.name for f in constraints.features] + [n for n in window if n not in {f.name for f in constraints.features}]
    constrained = {f.name: f for f in constraints.features}
    series, cards = [], []
    for name in names:
        constraint = constrained.get(name)
        distance = result.drift.get(name)
        threshold, p_value = (None, False)
        if constraint is not None:
            threshold, p_value = drift_threshold(constraint, result.feature_configs.get(name, constraints.monitoring_config))
        series += feature_points(name, constraint=constraint, current=window.get(name), distance=distance,
                                 threshold=threshold, p_value=p_value, violated_checks=frozenset(checks.get(name, ())))
        # violated first, then by how close the distance comes to its threshold
        closeness = distance / threshold if distance is not None and threshold and not p_value else 0.0
        key = (0 if name in by_feature else 1, -closeness if math.isfinite(closeness) else 0.0)
        cards.append((key, _feature_card(name, baseline=baseline.get(name), window=window.get(name),
                                         constraint=constraint, distance=distance, threshold=threshold, p_value=p_value,
                                         violations=by_feature.get(name, []), monitor=True,
                                         drift_violated=CheckType.BASELINE_DRIFT.value in checks.get(name, ()),
                                         method=result.methods.get(name), evidence=result.p_values.get(name))))
    cards.sort(key=lambda item: item[0])
    unfollowed = [CheckViolation(name="dataset" if v.feature_name == DATASET else v.feature_name,
                                 check=v.constraint_check_type.value, description=v.description)
                  for v in result.violations if v.constraint_check_type not in FOLLOWED_CHECKS]
    violated = sorted(by_feature)
    body = [f"<p>{len(violated)} of {len(names)} features violate their constraints"
            + (": " + ", ".join(f'<a href="#feature-{escape(n)}">{escape(n)}</a>' for n in violated) if violated else "")
            + ".</p>",
            *(f'<ul class="violations"><li>{escape(note)}</li></ul>' for note in dataset_notes),
            *([f"<p>Drift share: {result.drift_share:.1%} of the compared features drift.</p>"]
              if result.drift_share is not None else []),
            '<p class="legend">Charts: baseline dashed blue, window orange; numeric features as share per unit '
            "of the value (from the KLL sketch buckets), categorical as share per category.</p>",
            "<h2>Features</h2>", '<div class="cards">', *(card for _, card in cards), "</div>"]
    return page(header, "".join(body), violations=len(result.violations), series=series,
                check_violations=unfollowed)


def data_quality_baseline_report(*, header: ReportHeader, statistics: Mapping, constraints: Constraints,
                                 constraints_document: Mapping) -> str:
    """report.html of a baseline: what was inferred per feature and the suggested constraints."""
    baseline = feature_statistics(statistics)
    constrained = {f.name: f for f in constraints.features}
    cards = [_feature_card(name, baseline=stats, window=None, constraint=constrained.get(name), distance=None,
                           threshold=None, p_value=False, violations=(), monitor=False)
             for name, stats in baseline.items()]
    config = constraints_document.get("monitoring_config", {})
    config_rows = [[escape(str(key)), escape(str(value))] for key, value in _flatten(config)]
    body = ["<p>Review what was inferred for each feature and the constraints suggested from it before "
            "deploying: monitoring checks every window against them.</p>",
            "<h2>Monitoring configuration</h2>", table(["setting", "value"], config_rows),
            "<h2>Features</h2>", '<div class="cards">', *cards, "</div>"]
    return page(header, "".join(body), violations=0, series=[])


def _flatten(mapping: Mapping, prefix: str = "") -> list[tuple[str, object]]:
    items = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _status(violations: int) -> str:
    return "CompletedWithViolations" if violations else "Completed"


def write_window_report(output: Path, *, baseline_statistics: Mapping, window_statistics: Mapping,
                        constraints: Constraints, result: CheckResult, window: TimeWindow, records: int,
                        bad_records: int) -> Path:
    """Write ``output``/report.html for a monitoring window that had records."""
    header = ReportHeader(monitor_type="data-quality", kind="monitor", status=_status(len(result.violations)),
                          window_start=window.start, window_end=window.end, records=records, bad_records=bad_records)
    return write_report(output / REPORT_FILE, data_quality_report(
        header=header, baseline_statistics=baseline_statistics, window_statistics=window_statistics,
        constraints=constraints, result=result))


def write_no_data_report(output: Path, *, window: TimeWindow, bad_records: int) -> Path:
    """Write ``output``/report.html for a window with no records (so the history shows the gap)."""
    header = ReportHeader(monitor_type="data-quality", kind="monitor", status="NoData", window_start=window.start,
                          window_end=window.end, records=0, bad_records=bad_records)
    return write_report(output / REPORT_FILE, no_data_page(header))


def write_baseline_report(output: Path, *, statistics: Mapping, constraints_document: Mapping, records: int,
                          bad_records: int) -> Path:
    """Write ``output``/report.html for a baseline: inferred features and suggested constraints."""
    header = ReportHeader(monitor_type="data-quality", kind="baseline", status="Baseline", records=records,
                          bad_records=bad_records)
    return write_report(output / REPORT_FILE, data_quality_baseline_report(
        header=header, statistics=statistics, constraints=parse_constraints(constraints_document),
        constraints_document=constraints_document))
