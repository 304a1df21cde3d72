"""model_monitor_analyzer.results against moto's S3 with several windows, and against a local folder."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import InputFormat
from model_monitor_analyzer.monitors import data_quality as job
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)
from model_monitor_analyzer.results import MonitoringResults

BUCKET = "churn-monitoring-reports"
PREFIX = "reports/data-quality/churn/churn-hourly"
FIRST = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def windows(tmp_path_factory) -> Path:
    """Three hourly windows in SageMaker's layout: like the baseline, empty, drifted."""
    root = tmp_path_factory.mktemp("results")
    rng = np.random.default_rng(9)
    baseline = pd.DataFrame({"minutes": rng.normal(180, 50, 2000).round(1),
                             "plan": rng.choice(["basic", "plus", "premium"], 2000, p=[.5, .3, .2])})
    baseline.to_csv(root / "baseline.csv", index=False)
    job.run_baseline(DataQualityBaselineRequest(dataset=root / "baseline.csv", output=root / "baseline"))
    drifted = pd.DataFrame({"minutes": rng.normal(260, 50, 600).round(1),
                            "plan": rng.choice(["basic", "plus"], 600, p=[.75, .25])})
    (root / "empty").mkdir()
    baseline.iloc[:600].to_csv(root / "same.csv", index=False)
    drifted.to_csv(root / "drifted.csv", index=False)
    reports = root / "reports"
    for hour, source in enumerate(("same.csv", "empty", "drifted.csv")):
        start = FIRST + timedelta(hours=hour)
        fmt = InputFormat.CAPTURE if source == "empty" else InputFormat.CSV
        out = reports / f"{start:%Y/%m/%d/%H}"
        job.run_monitor(DataQualityMonitorRequest(
            capture=root / source, input_format=fmt, output=out, metrics_dir=out / "metrics",
            window=TimeWindow(start=start, end=start + timedelta(hours=1)),
            statistics=root / "baseline" / "statistics.json", constraints=root / "baseline" / "constraints.json"))
    return reports


@pytest.fixture()
def s3(windows, aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for path in windows.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), BUCKET, f"{PREFIX}/{path.relative_to(windows).as_posix()}")
    yield client


def _published_drift(folder: Path) -> dict[str, float]:
    lines = (folder / "metrics" / "cloudwatch_metrics.jsonl").read_text().splitlines()
    return {m["MetricName"].removeprefix("feature_baseline_drift_"): m["Value"] for m in map(json.loads, lines)
            if m["MetricName"].startswith("feature_baseline_drift_")}


def test_executions_are_listed_oldest_first_with_their_status_and_window(s3):
    results = MonitoringResults.open(f"s3://{BUCKET}/{PREFIX}", s3_client=s3)
    executions = results.list_executions()
    assert [e.window_start for e in executions] == [FIRST + timedelta(hours=h) for h in range(3)]
    assert [e.window_end for e in executions] == [FIRST + timedelta(hours=h + 1) for h in range(3)]
    assert [e.status for e in executions] == ["Completed", "NoData", "CompletedWithViolations"]
    assert {e.monitor_type for e in executions} == {"data-quality"}
    assert executions[0].location == f"s3://{BUCKET}/{PREFIX}/2026/03/02/09"


def test_latest_statistics_and_violations_are_the_newest_windows_files(s3, windows):
    results = MonitoringResults.open(f"s3://{BUCKET}/{PREFIX}/", s3_client=s3)
    newest = windows / "2026/03/02/11"
    assert results.latest_monitoring_statistics() == json.loads((newest / "statistics.json").read_text())
    assert results.latest_monitoring_constraint_violations() == \
        json.loads((newest / "constraint_violations.json").read_text())["violations"]
    assert results.latest_execution().violations_frame()["feature_name"].tolist() == \
        [v["feature_name"] for v in json.loads((newest / "constraint_violations.json").read_text())["violations"]]


def test_metrics_frame_holds_each_windows_drift_distances_as_published(s3, windows):
    frame = MonitoringResults.open(f"s3://{BUCKET}/{PREFIX}", s3_client=s3).metrics_frame()
    frame = frame[frame["measure"] == "drift distance"]
    assert set(frame["window_start"]) == {FIRST, FIRST + timedelta(hours=2)}  # the empty window has none
    for start, rows in frame.groupby("window_start"):
        published = _published_drift(windows / f"{start:%Y/%m/%d/%H}")
        assert dict(zip(rows["name"], rows["value"])) == pytest.approx(published)
        # auto's defaults: wasserstein 0.1 for the number, g_test 0.03 for the category
        assert dict(zip(rows["name"], rows["threshold"])) == {"minutes": 0.1, "plan": 0.03}
    drifted = frame[frame["window_start"] == FIRST + timedelta(hours=2)]
    assert set(drifted.loc[drifted["violated"], "name"]) == {"minutes", "plan"}


def test_executions_frame_counts_records_and_violations_per_window(s3, windows):
    frame = MonitoringResults.open(f"s3://{BUCKET}/{PREFIX}", s3_client=s3).executions_frame()
    violations = len(json.loads((windows / "2026/03/02/11" / "constraint_violations.json").read_text())["violations"])
    assert frame["records"].tolist() == [600, 0, 600]
    assert frame["violations"].tolist() == [0, 0, violations]


def test_a_local_folder_reads_as_its_copy_in_s3(s3, windows):
    local = MonitoringResults.open(windows)
    remote = MonitoringResults.open(f"s3://{BUCKET}/{PREFIX}", s3_client=s3)
    assert [(e.window_start, e.status, e.metrics()) for e in local.list_executions()] == \
        [(e.window_start, e.status, e.metrics()) for e in remote.list_executions()]


def test_built_in_results_without_a_report_are_read_from_their_files_and_folder(reference_examples, tmp_path):
    folder = tmp_path / "2021" / "02" / "02" / "12"
    folder.mkdir(parents=True)
    real = reference_examples / "immersion-day-churn-data-quality" / "notebook-output"
    for name in ("statistics.json", "constraint_violations.json"):
        shutil.copy(real / name, folder / name)
    (execution,) = MonitoringResults.open(tmp_path).list_executions()
    assert execution.window_start == datetime(2021, 2, 2, 12, tzinfo=UTC)
    assert execution.monitor_type == "data-quality"
    assert execution.status == "CompletedWithViolations"
    assert execution.violations() == json.loads((real / "constraint_violations.json").read_text())["violations"]


def test_history_of_an_s3_prefix_links_each_window_to_its_report_in_the_console(s3, tmp_path, capsys):
    # the CLI makes its own client: moto's mock answers it too
    assert main(["report", "--reports", f"s3://{BUCKET}/{PREFIX}", "--output", str(tmp_path / "history.html")]) == 0
    html = (tmp_path / "history.html").read_text()
    for hour in ("09", "10", "11"):
        key = f"{PREFIX}/2026/03/02/{hour}/report.html"
        assert f"https://s3.console.aws.amazon.com/s3/object/{BUCKET}?prefix={key}" in html
    assert "3 windows" in capsys.readouterr().out


def test_history_of_a_local_folder_links_each_report_relative_to_the_page(windows, tmp_path):
    page = windows / "history.html"
    assert main(["report", "--reports", str(windows)]) == 0
    html = page.read_text()
    assert 'href="2026/03/02/11/report.html"' in html
    assert "minutes" in html.split("What drifted")[1]
    page.unlink()


def test_an_s3_location_without_a_bucket_is_refused():
    with pytest.raises(AnalyzerInputError, match="names no bucket"):
        MonitoringResults.open("s3:///reports")


def test_a_missing_folder_is_refused_with_its_path(tmp_path):
    with pytest.raises(AnalyzerInputError, match="results folder not found"):
        MonitoringResults.open(tmp_path / "nowhere").list_executions()


def test_a_summary_longer_than_the_tail_read_first_is_read_from_the_whole_report(windows, monkeypatch):
    expected = [e.metrics() for e in MonitoringResults.open(windows).list_executions()]
    monkeypatch.setattr("model_monitor_analyzer.results.SUMMARY_TAIL_BYTES", 100)
    assert [e.metrics() for e in MonitoringResults.open(windows).list_executions()] == expected
    assert any(expected)
