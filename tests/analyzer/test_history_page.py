"""The history page from known windows: statuses, links, what drifted, since when and how far; checks
that give no number (values outside the domain, a type mismatch) listed too; captions that say when a
metric has no threshold."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import InputFormat
from model_monitor_analyzer.monitors import data_quality as job
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)
from model_monitor_analyzer.report.html import model_quality as mq_report
from model_monitor_analyzer.report.html.history import (
    HistoryWindow,
    SeriesHistory,
    collect_series,
    history_page,
)

FIRST = datetime(2026, 4, 1, 0, tzinfo=UTC)
BINARY = "sdk-model-card-metrics/model_monitor_model_quality_binary_classification.json"


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


def _what_drifted_tables(html: str) -> list[list[list[str]]]:
    """The rows (cells as text) of each table under 'What drifted' of the first monitor section."""
    section = html.split("<h3>What drifted</h3>")[1].split("<h3>Over time</h3>")[0]
    return [[[unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
             for row in re.findall(r"<tr>(.*?)</tr>", body)]
            for body in re.findall(r"<tbody>(.*?)</tbody>", section)]


def _data_quality_windows(root: Path, channels: list[list[str]]) -> Path:
    """A data-quality baseline of web/app/shop channels and one hourly window per list of channels, run by the job."""
    rng = np.random.default_rng(21)
    pd.DataFrame({"amount": rng.normal(50, 5, 2000).round(2), "channel": rng.choice(["web", "app", "shop"], 2000)}) \
        .to_csv(root / "baseline.csv", index=False)
    job.run_baseline(DataQualityBaselineRequest(dataset=root / "baseline.csv", output=root / "baseline"))
    for hour, values in enumerate(channels):
        start = FIRST + timedelta(hours=hour)
        capture = root / f"window-{hour}.csv"
        pd.DataFrame({"amount": rng.normal(50, 5, 600).round(2), "channel": rng.choice(values, 600)}) \
            .to_csv(capture, index=False)
        job.run_monitor(DataQualityMonitorRequest(
            capture=capture, input_format=InputFormat.CSV, output=root / "windows" / f"{start:%Y/%m/%d/%H}",
            window=TimeWindow(start=start, end=start + timedelta(hours=1)),
            statistics=root / "baseline" / "statistics.json", constraints=root / "baseline" / "constraints.json"))
    return root / "windows"


def test_values_outside_the_baseline_domain_are_listed_under_what_drifted_since_their_first_window(tmp_path):
    known, new = ["web", "app", "shop"], ["web", "app", "shop", "kiosk"]
    windows = _data_quality_windows(tmp_path, [known, new, known, new, new])
    assert main(["report", "--reports", str(windows), "--output", str(tmp_path / "history.html")]) == 0
    html = (tmp_path / "history.html").read_text()
    rows = [row for table in _what_drifted_tables(html) for row in table if row[0] == "channel" and
            "categorical_values_check" in row[1]]
    assert len(rows) == 1
    _, check, violated, since, latest = rows[0]
    assert check == "values outside the baseline's domain (categorical_values_check)"
    assert (violated, since) == ("3 of 5", "2026-04-01 03:00")
    assert latest.startswith("2026-04-01 04:00: Categorical value match requirement is not met.") and "'kiosk'" in latest


def test_violations_of_built_in_results_are_listed_by_check(tmp_path, reference_examples):
    """Folders the built-in analyzer wrote (no report.html): the real churn window's data_type_check violations."""
    output = reference_examples / "immersion-day-churn-data-quality" / "notebook-output"
    expected = json.loads((output / "constraint_violations.json").read_text())["violations"]
    for hour in (7, 8):
        folder = tmp_path / "windows" / f"2026/04/01/{hour:02d}"
        folder.mkdir(parents=True)
        for name in ("statistics.json", "constraint_violations.json"):
            shutil.copy(output / name, folder / name)
    assert main(["report", "--reports", str(tmp_path / "windows"), "--output", str(tmp_path / "history.html")]) == 0
    (rows,) = _what_drifted_tables((tmp_path / "history.html").read_text())
    assert sorted(row[0] for row in rows) == sorted(v["feature_name"] for v in expected)
    by_name = {row[0]: row for row in rows}
    for violation in expected:
        _, check, violated, since, latest = by_name[violation["feature_name"]]
        assert (check, violated, since) == ("values of another type than the baseline's (data_type_check)", "2 of 2",
                                            "2026-04-01 07:00")
        assert latest == f"2026-04-01 08:00: {violation['description']}"


def _model_quality_windows(root: Path, reference_examples: Path) -> Path:
    """Two model-quality windows of the real binary-classification statistics, with a constraint on auc only."""
    statistics = json.loads((reference_examples / BINARY).read_text())
    constraints = {"binary_classification_constraints": {
        "auc": {"threshold": 0.7, "comparison_operator": "LessThanThreshold"}}}
    for hour in (0, 1):
        start = FIRST + timedelta(hours=hour)
        mq_report.write_window_report(root / "windows" / f"{start:%Y/%m/%d/%H}", statistics=statistics,
                                      constraints=constraints, violations={"violations": []}, join={"matched": 4},
                                      window=(start, start + timedelta(hours=1)), records=4)
    return root / "windows"


def _captions(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="card[^"]*"><h3>([^<]+)</h3><p class="legend">([^<]+)</p>', html))


def test_a_metric_without_a_constraint_is_captioned_as_having_no_threshold(tmp_path, reference_examples):
    windows = _model_quality_windows(tmp_path, reference_examples)
    assert main(["report", "--reports", str(windows), "--output", str(tmp_path / "history.html")]) == 0
    captions = _captions((tmp_path / "history.html").read_text())
    assert captions["accuracy"] == "no constraint: no threshold to violate"
    assert captions["auc"] == "violates below the threshold; threshold dashed red, violating windows red"
    unconstrained = [name for name in captions if name != "auc"]
    assert len(unconstrained) > 5
    assert not any("dashed" in captions[name] for name in unconstrained)


def test_a_bias_metric_without_a_baseline_value_says_it_has_no_threshold():
    windows = [HistoryWindow(monitor_type="bias", status="Completed", start=FIRST + timedelta(hours=hour),
                             series=[{"name": "DPPL sex=1 (post-training)", "measure": "bias metric", "value": value,
                                      "threshold": None, "lower_threshold": None, "violated": False}])
               for hour, value in enumerate((0.1, 0.12))]
    captions = _captions(history_page(windows, source="reports/"))
    assert captions == {"DPPL sex=1 (post-training)": "bias metric; no constraint: no threshold to violate"}
