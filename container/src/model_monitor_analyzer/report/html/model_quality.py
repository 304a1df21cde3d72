"""report.html of a model-quality window or baseline, from its statistics.json and constraints.

Shown: each metric against its constraint (violated ones first, as constraint_violations.json
names them), the confusion matrix, the ROC and precision-recall curves (downsampled), and how
many captured predictions were matched with a label.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from model_monitor_analyzer.checks.concept_shift import RealisedAgainstEstimate
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
from model_monitor_analyzer.report.jsonfile import read_json
from model_monitor_analyzer.report.model_quality import (
    CONSTRAINTS_FILE,
    ESTIMATION_KEY,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    camel_case_metric_name,
)

METRIC_SECTIONS = ("binary_classification_metrics", "multiclass_classification_metrics", "regression_metrics")
CONSTRAINT_SECTIONS = ("binary_classification_constraints", "multiclass_classification_constraints",
                       "regression_constraints")
#: The label-free checks without a number of their own (listed by check on the history page).
LABEL_FREE_CHECKS = frozenset({"prediction_drift_check", "concept_shift_check"})
CURVE_KEYS = frozenset({"confusion_matrix", "receiver_operating_characteristic_curve", "precision_recall_curve"})
JOIN_LABELS = {"matched": "captures matched with a label", "captures_without_label": "captures without a label (yet)",
               "labels_without_capture": "labels without a capture", "duplicate_labels": "duplicate labels",
               "captures_sharing_an_id": "captures sharing an inference id"}
OPERATOR_TEXT = {"LessThanThreshold": "violates below", "LessThanOrEqualToThreshold": "violates at or below",
                 "GreaterThanThreshold": "violates above", "GreaterThanOrEqualToThreshold": "violates at or above"}


def _finite(value: object) -> float | None:
    """A number of statistics.json, or None for "NaN", null and text (a spread the built-in could not compute)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def metrics_section(statistics: Mapping) -> Mapping:
    """The ``*_metrics`` object of a model-quality statistics.json (empty when there is none)."""
    return next((statistics[key] for key in METRIC_SECTIONS if isinstance(statistics.get(key), Mapping)), {})


def constraints_section(constraints: Mapping | None) -> Mapping:
    """The ``*_constraints`` object of a model-quality constraints.json (empty when there is none)."""
    if not constraints:
        return {}
    return next((constraints[key] for key in CONSTRAINT_SECTIONS if isinstance(constraints.get(key), Mapping)), {})


def metric_points(statistics: Mapping, constraints: Mapping | None, violations: Mapping | None) -> list[SeriesPoint]:
    """Each scalar metric with its constraint's threshold; violated when constraint_violations.json names it."""
    violated = {v.get("metric_name") for v in (violations or {}).get("violations", [])}
    limits = constraints_section(constraints)
    points = []
    for name, entry in metrics_section(statistics).items():
        if name in CURVE_KEYS or not isinstance(entry, Mapping) or "value" not in entry:
            continue
        limit = limits.get(name) or {}
        points.append(SeriesPoint(name=name, measure=limit.get("comparison_operator", "metric"), value=entry["value"],
                                  threshold=limit.get("threshold"), violated=camel_case_metric_name(name) in violated))
    return points


def _metrics_table(statistics: Mapping, points: Sequence[SeriesPoint],
                   not_computable: Mapping[str, str] | None = None) -> str:
    section = metrics_section(statistics)
    rows = []
    for point in sorted(points, key=lambda p: (not p.violated, p.threshold is None)):
        reason = (not_computable or {}).get(point.name)
        if reason is not None:
            rows.append([escape(point.name), "-", "", f'<span class="bad">not computable: {escape(reason)}</span>'])
            continue
        spread = _finite(section[point.name].get("standard_deviation"))
        value = svg.number_text(point.value) + (f" ± {svg.number_text(spread)}" if spread else "")
        rule = (f"{OPERATOR_TEXT.get(point.measure, escape(point.measure))} {svg.number_text(point.threshold)}"
                if point.threshold is not None else "")
        state = '<span class="bad">violated</span>' if point.violated else ('<span class="ok">ok</span>' if rule else "")
        rows.append([escape(point.name), value, rule, state])
    return table(["metric", "value", "constraint", ""], rows, numeric=(1,))


def confusion_matrix_html(matrix: Mapping) -> str:
    """The confusion matrix as a table (rows: actual, columns: predicted), cells shaded by count."""
    labels = sorted({str(k) for k in matrix} | {str(p) for row in matrix.values() for p in row})
    counts = {(str(a), str(p)): n for a, row in matrix.items() for p, n in row.items()}
    largest = max(counts.values(), default=0) or 1
    head = "".join(f"<th class=num>{escape(p)}</th>" for p in labels)
    rows = []
    for actual in labels:
        cells = []
        for predicted in labels:
            n = counts.get((actual, predicted), 0)
            shade = 0.08 + 0.6 * n / largest
            cells.append(f'<td class=num style="background:rgba(76,120,168,{shade:.2f})">{n:,}</td>')
        rows.append(f"<tr><th>{escape(actual)}</th>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table><thead><tr><th>actual \\ predicted</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


class _Points(Sequence[tuple[float, float]]):
    """The points (x, y) of two coordinate lists, made only when asked for (a curve has a point per distinct score,
    and the chart draws a few hundred of them)."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        self._xs, self._ys = xs, ys

    def __len__(self) -> int:
        return min(len(self._xs), len(self._ys))

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._xs[index], self._ys[index]


def _curve(title: str, xs: Sequence[float], ys: Sequence[float], x_name: str, y_name: str, *,
           diagonal: bool) -> str:
    series = [svg.Series(f"{y_name} vs {x_name}", svg.downsample(_Points(xs, ys)), svg.WINDOW_COLOUR)]
    if diagonal:
        series.append(svg.Series("chance", [(0.0, 0.0), (1.0, 1.0)], "#999", dashed=True))
    return svg.lines_chart(title, series, x_span=(0.0, 1.0), y_span=(0.0, 1.0))


def curves_html(section: Mapping) -> str:
    """ROC and precision-recall curves when the statistics have them ('' otherwise)."""
    parts = []
    roc = section.get("receiver_operating_characteristic_curve")
    if isinstance(roc, Mapping) and roc.get("false_positive_rates"):
        auc = (section.get("auc") or {}).get("value")
        title = "ROC curve" + (f" (AUC {svg.number_text(auc)})" if auc is not None else "")
        parts.append(f'<div class="card"><h3>{escape(title)}</h3>'
                     + _curve(title, roc["false_positive_rates"], roc["true_positive_rates"], "FPR", "TPR", diagonal=True)
                     + "</div>")
    pr = section.get("precision_recall_curve")
    if isinstance(pr, Mapping) and pr.get("recalls"):
        parts.append('<div class="card"><h3>Precision-recall curve</h3>'
                     + _curve("Precision-recall curve", pr["recalls"], pr["precisions"], "recall", "precision",
                              diagonal=False) + "</div>")
    return f'<div class="cards">{"".join(parts)}</div>' if parts else ""


def _interval(entry: Mapping) -> str:
    lower, upper = _finite(entry.get("lower_95")), _finite(entry.get("upper_95"))
    return f"[{svg.number_text(lower)}, {svg.number_text(upper)}]" if lower is not None and upper is not None else ""


def estimation_html(statistics: Mapping) -> str:
    """The label-free block of a window (``ESTIMATION_KEY``): each estimate with its 95 % interval and the baseline's
    value, the prediction drift, and with labels the realised metrics beside the estimate on the same rows
    ('' when the window has none)."""
    block = statistics.get(ESTIMATION_KEY)
    if not isinstance(block, Mapping):
        return ""
    labelled = block.get("labelled_rows") if isinstance(block.get("labelled_rows"), Mapping) else {}
    parts = []
    if block.get("mode") == "estimated_only_no_labels":
        parts.append("<p>No capture of this window has a label yet: the performance below is estimated from the "
                     "calibrated scores (it assumes the baseline's calibration still holds; a concept shift shows "
                     "only once labels arrive).</p>")
    estimated = block.get("estimated") or {}
    if estimated:
        rows = [[escape(name), svg.number_text(entry.get("value")), _interval(entry),
                 svg.number_text(entry["reference"]) if _finite(entry.get("reference")) is not None else ""]
                for name, entry in estimated.items() if isinstance(entry, Mapping)]
        parts.append(f"<p>{int(block.get('item_count', 0)):,} predictions.</p>"
                     + table(["estimate", "value", "95 % interval", "baseline (realised)"], rows, numeric=(1, 3)))
    if labelled:
        realised = labelled.get("realised") or {}
        shift = labelled.get("concept_shift") or {}
        flagged = set(shift.get("flagged") or [])
        rows = []
        for name, entry in (labelled.get("estimated") or {}).items():
            metric = name.removeprefix("estimated_")
            value = realised.get(metric)
            state = '<span class="bad">outside: possible concept shift</span>' if name in flagged else (
                '<span class="ok">ok</span>' if value is not None else "")
            rows.append([escape(metric), svg.number_text(value) if value is not None else "-",
                         svg.number_text(entry.get("value")), _interval(entry), state])
        parts.append("<h3>Labelled rows: realised against estimated</h3>"
                     + table(["metric", "realised", "estimated", "95 % interval", ""], rows, numeric=(1, 2)))
    drift = block.get("prediction_drift")
    if isinstance(drift, Mapping):
        outside = drift.get("outside_reference_range") or {}
        text = (f"{escape(str(drift.get('compared', '')).replace('_', ' '))} compared by "
                f"{escape(str(drift.get('method', '')))}: distance {svg.number_text(drift.get('distance'))}")
        if outside:
            text += f"; {outside.get('below', 0):,} below and {outside.get('above', 0):,} above the baseline's range"
        state = '<span class="bad">drift</span>' if drift.get("drift") else '<span class="ok">no drift</span>'
        parts.append(f"<h3>Prediction drift</h3><p>{text}. {state}</p>")
    return "<h2>Performance without labels</h2>" + "".join(parts)


def estimation_points(statistics: Mapping, violations: Mapping | None) -> list[SeriesPoint]:
    """The estimates of a window as history series (``estimated_<metric>``, against the baseline's realised value),
    beside the realised metrics' own series: the history page and ``results`` show estimated against realised."""
    block = statistics.get(ESTIMATION_KEY)
    if not isinstance(block, Mapping):
        return []
    violated = {v.get("metric_name") for v in (violations or {}).get("violations", [])}
    return [SeriesPoint(name=name, measure="estimate", value=_finite(entry.get("value")),
                        threshold=_finite(entry.get("reference")), violated=camel_case_metric_name(name) in violated,
                        baseline=_finite(entry.get("reference")))
            for name, entry in (block.get("estimated") or {}).items() if isinstance(entry, Mapping)]


def realised_against_estimate(statistics: Mapping) -> list[dict[str, object]]:
    """A labelled window's realised metrics with the 95 % interval of their estimate on the same rows, as the
    history reads them (``checks.concept_shift``); [] without labelled rows."""
    block = statistics.get(ESTIMATION_KEY)
    labelled = block.get("labelled_rows") if isinstance(block, Mapping) else None
    if not isinstance(labelled, Mapping):
        return []
    realised = labelled.get("realised") or {}
    found = []
    for name, entry in (labelled.get("estimated") or {}).items():
        metric = name.removeprefix("estimated_")
        compared = RealisedAgainstEstimate.from_document(
            {"name": metric, "realised": realised.get(metric), "lower_95": entry.get("lower_95"),
             "upper_95": entry.get("upper_95")}) if isinstance(entry, Mapping) else None
        if compared is not None:
            found.append(compared.to_document())
    return found


def model_quality_report(*, header: ReportHeader, statistics: Mapping, constraints: Mapping | None,
                         violations: Mapping | None, join: Mapping[str, object],
                         not_computable: Mapping[str, str] | None = None) -> str:
    """report.html of a model-quality window (or, with the suggested constraints, of a baseline); metrics
    the window could not compute show their reason instead of a value and are left out of the series."""
    points = [p for p in metric_points(statistics, constraints, violations) if p.name not in (not_computable or {})]
    shown = metric_points(statistics, constraints, violations)
    section = metrics_section(statistics)
    bad = [p.name for p in points if p.violated]
    constrained = sum(p.threshold is not None for p in points)
    body = [f"<p>{len(bad)} of {constrained} constrained metrics violated"
            + (": " + ", ".join(escape(n) for n in bad) if bad else "") + ".</p>"
            if constrained else "<p>No constraints were given: the metrics are shown without a check.</p>"]
    counts = [[escape(JOIN_LABELS[key]), f"{join[key]:,}"] for key in JOIN_LABELS if isinstance(join.get(key), int)]
    if counts:
        body += ["<h2>Labels</h2>", table(["", "records"], counts, numeric=(1,))]
    if section or ESTIMATION_KEY not in statistics:  # a window without labels has only estimates
        body += ["<h2>Metrics</h2>", _metrics_table(statistics, shown, not_computable)]
    else:
        body = []
    if isinstance(section.get("confusion_matrix"), Mapping):
        body += ["<h2>Confusion matrix</h2>", confusion_matrix_html(section["confusion_matrix"])]
    curves = curves_html(section)
    if curves:
        body += ["<h2>Curves</h2>", curves]
    estimation = estimation_html(statistics)
    if estimation:
        body.append(estimation)
    estimates = estimation_points(statistics, violations)
    checks = [CheckViolation(name=str(v.get("metric_name")), check=str(v.get("constraint_check_type")),
                             description=str(v.get("description", "")))
              for v in (violations or {}).get("violations", []) if v.get("constraint_check_type") in LABEL_FREE_CHECKS]
    return page(header, "".join(body), violations=len(bad) + sum(p.violated for p in estimates) + len(checks),
                series=[*points, *estimates], check_violations=checks,
                realised_against_estimate=realised_against_estimate(statistics))


def write_window_report(output: Path, *, statistics: Mapping, constraints: Mapping | None, violations: Mapping | None,
                        join: Mapping[str, object], window: tuple[object, object], records: int,
                        not_computable: Mapping[str, str] | None = None) -> Path:
    """Write ``output``/report.html for a model-quality window with labelled records."""
    count = len((violations or {}).get("violations", []))
    header = ReportHeader(monitor_type="model-quality", kind="monitor",
                          status="CompletedWithViolations" if count else "Completed",
                          window_start=window[0], window_end=window[1], records=records)
    return write_report(output / REPORT_FILE, model_quality_report(
        header=header, statistics=statistics, constraints=constraints, violations=violations, join=join,
        not_computable=not_computable))


def write_no_data_report(output: Path, *, join: Mapping[str, object], window: tuple[object, object]) -> Path:
    """Write ``output``/report.html for a window where no capture had a label yet."""
    header = ReportHeader(monitor_type="model-quality", kind="monitor", status="NoData", window_start=window[0],
                          window_end=window[1], records=0)
    waiting, orphans = join.get("captures_without_label", 0), join.get("labels_without_capture", 0)
    return write_report(output / REPORT_FILE, no_data_page(
        header, f"No captured inference in the window has a ground-truth label yet ({waiting} captures without "
                f"a label, {orphans} labels without a capture)."))


def write_baseline_report(output: Path, *, statistics: Mapping, constraints: Mapping, records: int) -> Path:
    """Write ``output``/report.html for a baseline: its metrics and the constraints suggested from them."""
    header = ReportHeader(monitor_type="model-quality", kind="baseline", status="Baseline", records=records)
    return write_report(output / REPORT_FILE, model_quality_report(
        header=header, statistics=statistics, constraints=constraints, violations=None, join={}))


def write_window_report_from_files(output: Path, *, constraints: Path | None, join: Mapping[str, object],
                                   window: tuple[object, object], records: int,
                                   not_computable: Mapping[str, str] | None = None,
                                   statistics: Mapping | None = None) -> Path:
    """``write_window_report`` from the statistics.json and constraint_violations.json just written to
    ``output`` and the baseline's ``constraints`` file (None when the run had none: no violations file).
    ``statistics`` is the document just written to statistics.json, when the caller holds it (a window's curves
    make it tens of MB to read back)."""
    return write_window_report(
        output, statistics=statistics if statistics is not None
        else read_json(output / STATISTICS_FILE, what="model-quality statistics"),
        constraints=read_json(constraints, what="model-quality constraints") if constraints is not None else None,
        violations=read_json(output / VIOLATIONS_FILE, what="constraint violations") if constraints is not None else None,
        join=join, window=window, records=records, not_computable=not_computable)


def write_baseline_report_from_files(output: Path, *, records: int) -> Path:
    """``write_baseline_report`` from the statistics.json and constraints.json just written to ``output``."""
    return write_baseline_report(
        output, statistics=read_json(output / STATISTICS_FILE, what="model-quality statistics"),
        constraints=read_json(output / CONSTRAINTS_FILE, what="model-quality constraints"), records=records)
