"""The history page: one monitor's (or several monitors') windows side by side.

Per monitor type: the status of each window with a link to its report, what drifted (how many
windows violated, since when, the latest value against its threshold; and the violations of
checks that give no number, such as values outside the baseline's domain, with their latest
description), and each drift distance or metric over time with its threshold. Built from the
summaries the windows' reports embed (``page.summary_document``), so it reads a few kilobytes
per window, never the statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from model_monitor_analyzer.checks.concept_shift import (
    DEFAULT_LAST,
    DEFAULT_OUTSIDE,
    RealisedAgainstEstimate,
    persistent_concept_shift,
)
from model_monitor_analyzer.checks.data_quality import CheckType
from model_monitor_analyzer.report.html import svg
from model_monitor_analyzer.report.html.page import STYLE, table

TITLES = {"data-quality": "Data quality", "model-quality": "Model quality", "bias": "Bias drift"}
MAX_X_LABELS = 6
# measures that violate below their threshold (model-quality operators; a p-value)
LOWER_IS_WORSE = frozenset({"LessThanThreshold", "LessThanOrEqualToThreshold", "p-value", "completeness"})
MEASURE_TEXT = {"LessThanThreshold": "violates below the threshold",
                "LessThanOrEqualToThreshold": "violates at or below the threshold",
                "GreaterThanThreshold": "violates above the threshold",
                "GreaterThanOrEqualToThreshold": "violates at or above the threshold",
                "metric": "no constraint", "completeness": "share of records with a value; violates below"}
# drawn over time only when they violated in some window (one per feature would double the page)
DRAWN_WHEN_VIOLATED = frozenset({"completeness"})
CHECK_TEXT = {CheckType.CATEGORICAL_VALUES.value: "values outside the baseline's domain",
              CheckType.DATA_TYPE.value: "values of another type than the baseline's",
              CheckType.MISSING_COLUMN.value: "column missing from the window",
              CheckType.EXTRA_COLUMN.value: "column the baseline does not have",
              CheckType.DATASET_DRIFT.value: "too many features drift",
              CheckType.BASELINE_DRIFT.value: "drift from the baseline",
              CheckType.COMPLETENESS.value: "fewer values present than the constraint asks",
              CheckType.NON_FINITE_VALUES.value: "more values that are not finite numbers than the baseline's"}
# windows whose checks ran (a window without records, or whose files are unreadable, checked nothing)
CHECKED_STATUSES = frozenset({"Completed", "CompletedWithViolations"})


@dataclass(frozen=True, kw_only=True)
class HistoryWindow:
    """What the history shows of one window."""

    monitor_type: str
    status: str
    start: datetime | None
    end: datetime | None = None
    records: int | None = None
    violations: int | None = 0  # None: the window's violations could not be read
    series: Sequence[Mapping] = field(default_factory=tuple)
    check_violations: Sequence[Mapping] = field(default_factory=tuple)  # {"name", "check", "description"}
    link: str | None = None
    #: a labelled model-quality window's realised metrics against their estimates' intervals
    realised_against_estimate: Sequence[RealisedAgainstEstimate] = field(default_factory=tuple)


def _run_start(marks: Sequence[tuple[bool, bool]]) -> int | None:
    """Index of the first window of the latest run of violations that reaches the newest window that
    has a verdict, from ``(has a verdict, violated)`` per window; None when that window does not violate.
    Windows without a verdict (no value, no records) neither extend nor break a run."""
    present = [i for i, (judged, _) in enumerate(marks) if judged]
    if not present or not marks[present[-1]][1]:
        return None
    first = present[-1]
    for i in reversed(present):
        if not marks[i][1]:
            break
        first = i
    return first


@dataclass(frozen=True, kw_only=True)
class SeriesHistory:
    """One drift distance or metric across the windows of a monitor type."""

    name: str
    measure: str
    values: list[tuple[float | None, bool]]
    threshold: float | None
    lower_threshold: float | None

    @property
    def violated_windows(self) -> int:
        return sum(violated for _, violated in self.values)

    def worst(self) -> int | None:
        """Index of the violating window whose value lies farthest beyond its threshold."""
        def excess(i: int) -> float:
            value = self.values[i][0]
            if self.measure in LOWER_IS_WORSE:
                return (self.threshold or 0.0) - value
            beyond = [value - self.threshold] if self.threshold is not None else []
            if self.lower_threshold is not None:
                beyond.append(self.lower_threshold - value)
            return max(beyond, default=0.0)
        violating = [i for i, (value, violated) in enumerate(self.values) if violated and value is not None]
        return max(violating, key=excess) if violating else None

    def since(self) -> int | None:
        """Index of the first window of the latest run of violations that reaches the newest window
        with a value (None when that window does not violate)."""
        return _run_start([(value is not None, violated) for value, violated in self.values])


@dataclass(frozen=True, kw_only=True)
class CheckHistory:
    """One check that gives no number (values outside the domain, a missing column) of one name across
    the windows of a monitor type: per window whether it was checked and whether it violated."""

    name: str
    check: str
    marks: list[tuple[bool, bool]]
    latest: int  # the newest violating window
    description: str  # that window's description of the violation

    @property
    def violated_windows(self) -> int:
        return sum(violated for _, violated in self.marks)

    def since(self) -> int | None:
        """Index of the first window of the latest run of violations reaching the newest checked window."""
        return _run_start(self.marks)


def _time_text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def collect_series(windows: Sequence[HistoryWindow]) -> list[SeriesHistory]:
    """Every series the windows carry, with one value per window (None where a window lacks it);
    the thresholds are the newest window's."""
    names: dict[str, Mapping] = {}
    for window in windows:
        for point in window.series:
            names[point["name"]] = point
    histories = []
    for name, newest in names.items():
        by_window = [next((p for p in w.series if p["name"] == name), None) for w in windows]
        histories.append(SeriesHistory(
            name=name, measure=newest.get("measure", ""),
            values=[(p.get("value"), bool(p.get("violated"))) if p is not None else (None, False) for p in by_window],
            threshold=newest.get("threshold"), lower_threshold=newest.get("lower_threshold")))
    histories.sort(key=lambda h: (-h.violated_windows, h.name))
    return histories


def collect_check_violations(windows: Sequence[HistoryWindow]) -> list[CheckHistory]:
    """Every (name, check) violated in some window, with its verdict in each window, most often violated first."""
    newest: dict[tuple[str, str], tuple[int, str]] = {}
    for i, window in enumerate(windows):
        for violation in window.check_violations:
            newest[(violation["name"], violation["check"])] = (i, violation.get("description", ""))
    histories = []
    for (name, check), (latest, description) in newest.items():
        marks = [(w.status in CHECKED_STATUSES or any((v["name"], v["check"]) == (name, check) for v in w.check_violations),
                  any((v["name"], v["check"]) == (name, check) for v in w.check_violations)) for w in windows]
        histories.append(CheckHistory(name=name, check=check, marks=marks, latest=latest, description=description))
    histories.sort(key=lambda h: (-h.violated_windows, h.name, h.check))
    return histories


def _check_text(check: str) -> str:
    words = CHECK_TEXT.get(check) or MEASURE_TEXT.get(check)
    return f"{words} ({check})" if words else check


def _since_text(windows: Sequence[HistoryWindow], since: int | None, last: int) -> str:
    if since is not None:
        return _time_text(windows[since].start)
    return f"not now (last {_time_text(windows[last].start)})"


def _x_labels(windows: Sequence[HistoryWindow]) -> list[tuple[float, str]]:
    step = max(1, -(-len(windows) // MAX_X_LABELS))
    return [(float(i), w.start.strftime("%d %H:%M") if w.start else str(i)) for i, w in enumerate(windows)][::step]


def _link(window: HistoryWindow, text: str) -> str:
    return f'<a href="{escape(window.link)}">{escape(text)}</a>' if window.link else escape(text)


def caption(history: SeriesHistory) -> str:
    """What a chart over time shows: its measure, and its threshold when it has a constraint."""
    if history.threshold is None and history.lower_threshold is None:
        # model quality calls a metric without a constraint "metric"; a bias metric has none without a baseline
        return "no constraint: no threshold to violate" if history.measure == "metric" else \
            f"{MEASURE_TEXT.get(history.measure, history.measure)}; no constraint: no threshold to violate"
    return f"{MEASURE_TEXT.get(history.measure, history.measure)}; threshold dashed red, violating windows red"


def concept_shift_html(windows: Sequence[HistoryWindow], *, outside: int, last: int) -> str:
    """Realised against estimated across the labelled windows: per metric, in how many of the last ``last`` the
    realised value lay outside the estimate's interval, and a possible concept shift from ``outside`` of them on
    ('' when no window compared them)."""
    verdicts = persistent_concept_shift([w.realised_against_estimate for w in windows], outside=outside, last=last)
    if not verdicts:
        return ""
    rows = [[escape(v.name), f"{v.outside} of the last {v.considered}",
             ", ".join(_link(windows[i], _time_text(windows[i].start)) for i in v.windows) or "-",
             '<span class="bad">possible concept shift</span>' if v.flagged else '<span class="ok">no</span>']
            for v in verdicts]
    flagged = [v.name for v in verdicts if v.flagged]
    lead = (f"<p class=\"bad\">Possible concept shift: {escape(', '.join(flagged))} outside the estimate's interval "
            f"in {outside} or more of the last {last} labelled windows; the relation between inputs and labels may "
            "have changed, which the estimates cannot see.</p>" if flagged else
            f"<p>A possible concept shift is reported when a metric's realised value lies outside its estimate's "
            f"95 % interval in {outside} of the last {last} labelled windows.</p>")
    return ("<h3>Realised against estimated (labelled windows)</h3>" + lead
            + table(["metric", "outside the interval", "windows outside", "concept shift"], rows))


def monitor_section(monitor_type: str, windows: Sequence[HistoryWindow], *,
                    concept_shift: tuple[int, int] = (DEFAULT_OUTSIDE, DEFAULT_LAST)) -> str:
    """The part of the page for one monitor type's windows (oldest first); ``concept_shift``: the (K, N) of
    ``concept_shift_html``."""
    parts = [f"<h2>{escape(TITLES.get(monitor_type, monitor_type))}: {len(windows)} windows</h2>"]
    rows = [[_link(w, _time_text(w.start)), f'<span class="status {escape(w.status)}">{escape(w.status)}</span>',
             f"{w.records:,}" if w.records is not None else "-",
             "-" if w.violations is None else str(w.violations)] for w in windows]
    parts.append(table(["window (UTC)", "status", "records", "violations"], rows, numeric=(2, 3)))
    histories = collect_series(windows)
    drifted = [h for h in histories if h.violated_windows]
    checks = collect_check_violations(windows)
    if drifted or checks:
        parts.append("<h3>What drifted</h3>")
    if drifted:
        summary_rows = []
        for h in drifted:
            since, worst = h.since(), h.worst()
            last = max(i for i, (_, violated) in enumerate(h.values) if violated)
            latest = next((v for v, _ in reversed(h.values) if v is not None), None)
            summary_rows.append([
                escape(h.name), escape(MEASURE_TEXT.get(h.measure, h.measure)), f"{h.violated_windows} of {len(windows)}",
                _since_text(windows, since, last),
                f"{svg.number_text(h.values[worst][0])} at {_time_text(windows[worst].start)}" if worst is not None else "-",
                svg.number_text(latest) if latest is not None else "-",
                svg.number_text(h.threshold) if h.threshold is not None else "-"])
        parts.append(table(["name", "measure", "windows violated", "violating since", "worst", "latest", "threshold"],
                           summary_rows, numeric=(5, 6)))
    if checks:
        check_rows = [[escape(h.name), escape(_check_text(h.check)), f"{h.violated_windows} of {len(windows)}",
                       _since_text(windows, h.since(), h.latest),
                       f"{_time_text(windows[h.latest].start)}: {escape(h.description)}"] for h in checks]
        parts.append(table(["name", "check", "windows violated", "violating since", "latest violation"], check_rows))
    parts.append(concept_shift_html(windows, outside=concept_shift[0], last=concept_shift[1]))
    labels = _x_labels(windows)
    cards = []
    for h in histories:
        if h.measure in DRAWN_WHEN_VIOLATED and not h.violated_windows:
            continue
        chart = svg.time_series(f"{h.name} over time", h.values, x_labels=labels, threshold=h.threshold,
                                lower_threshold=h.lower_threshold)
        cards.append(f'<div class="card{" violated" if h.violated_windows else ""}"><h3>{escape(h.name)}</h3>'
                     f'<p class="legend">{escape(caption(h))}</p>{chart}</div>')
    if cards:
        parts += ["<h3>Over time</h3>", '<div class="cards">', *cards, "</div>"]
    return "".join(parts)


def history_page(windows: Sequence[HistoryWindow], *, source: str,
                 concept_shift: tuple[int, int] = (DEFAULT_OUTSIDE, DEFAULT_LAST)) -> str:
    """The whole history page for ``windows`` read from ``source`` (a folder or an S3 prefix)."""
    by_type: dict[str, list[HistoryWindow]] = {}
    for window in windows:
        by_type.setdefault(window.monitor_type, []).append(window)
    sections = [monitor_section(kind, sorted(found, key=lambda w: (w.start is None, w.start or datetime.min)),
                                concept_shift=concept_shift)
                for kind, found in sorted(by_type.items(), key=lambda item: list(TITLES).index(item[0])
                                          if item[0] in TITLES else len(TITLES))]
    body = "".join(sections) if sections else "<p>No monitoring windows found.</p>"
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>Monitoring history</title><style>{STYLE}</style></head><body>"
            f"<h1>Monitoring history</h1><p>{len(windows)} windows from <code>{escape(source)}</code>.</p>"
            f"{body}</body></html>\n")
