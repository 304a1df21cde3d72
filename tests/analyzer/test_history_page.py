"""The history page from known windows: statuses, links, what drifted, since when and how far."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from model_monitor_analyzer.report.html.history import (
    HistoryWindow,
    SeriesHistory,
    collect_series,
    history_page,
)

FIRST = datetime(2026, 4, 1, 0, tzinfo=UTC)


def _window(hour: int, value: float | None, *, violated: bool, status: str = "Completed") -> HistoryWindow:
    series = [] if value is None else [{"name": "age", "measure": "drift distance", "value": value, "threshold": 0.1,
                                        "violated": violated}]
    return HistoryWindow(monitor_type="data-quality", status=status, start=FIRST + timedelta(hours=hour),
                         violations=int(violated), series=series, link=f"{hour:02d}/report.html")


WINDOWS = [_window(0, 0.02, violated=False), _window(1, 0.3, violated=True, status="CompletedWithViolations"),
           _window(2, None, violated=False, status="NoData"), _window(3, 0.05, violated=False),
           _window(4, 0.2, violated=True, status="CompletedWithViolations"),
           _window(5, 0.4, violated=True, status="CompletedWithViolations")]


def test_a_violation_running_into_the_newest_window_is_dated_from_its_first_window():
    (history,) = collect_series(WINDOWS)
    assert history.since() == 4
    assert history.violated_windows == 3


def test_windows_without_the_value_do_not_break_the_run_of_violations():
    history = SeriesHistory(name="age", measure="drift distance", threshold=0.1, lower_threshold=None,
                            values=[(0.05, False), (0.2, True), (None, False), (0.3, True)])
    assert history.since() == 1


def test_a_series_not_violating_in_the_newest_window_has_no_since():
    history = SeriesHistory(name="age", measure="drift distance", threshold=0.1, lower_threshold=None,
                            values=[(0.2, True), (0.05, False)])
    assert history.since() is None


def test_the_worst_window_of_a_metric_that_violates_below_its_threshold_is_its_lowest():
    history = SeriesHistory(name="accuracy", measure="LessThanThreshold", threshold=0.7, lower_threshold=None,
                            values=[(0.8, False), (0.5, True), (0.6, True)])
    assert history.worst() == 1


def test_the_worst_window_of_a_bias_metric_is_the_one_farthest_outside_its_band():
    history = SeriesHistory(name="DPPL", measure="bias metric", threshold=0.2, lower_threshold=-0.2,
                            values=[(0.3, True), (-0.6, True), (0.1, False)])
    assert history.worst() == 1


def test_page_lists_every_window_with_its_status_and_a_link_to_its_report():
    html = history_page(WINDOWS, source="reports/")
    rows = re.findall(r'<tr><td><a href="(\d\d)/report.html">([^<]+)</a></td><td><span class="status (\w+)"', html)
    assert rows == [(f"{w.start:%H}", f"{w.start:%Y-%m-%d %H:%M}", w.status) for w in WINDOWS]


def test_page_says_what_drifted_since_when_and_its_worst_value():
    html = history_page(WINDOWS, source="reports/")
    drifted = html.split("<h3>What drifted</h3>")[1].split("</table>")[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", drifted)
    assert cells == ["age", "drift distance", "3 of 6", "2026-04-01 04:00", "0.4 at 2026-04-01 05:00", "0.4", "0.1"]
