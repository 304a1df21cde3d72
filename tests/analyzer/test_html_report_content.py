"""report.html content from known inputs: every feature, violated ones first, numbers as in the JSON files."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_monitor_analyzer.constraint_rules import AUTO_METHODS, DRIFT_METHODS
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import InputFormat
from model_monitor_analyzer.monitors import data_quality as job
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)
from model_monitor_analyzer.report.html.page import read_summary

WINDOW = TimeWindow(start=datetime(2026, 1, 5, 10, tzinfo=UTC), end=datetime(2026, 1, 5, 11, tzinfo=UTC))


def _frames(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A baseline and a window where x and colour drift and y loses a tenth of its values."""
    n = 2000
    baseline = pd.DataFrame({"x": rng.normal(0.0, 1.0, n).round(4), "y": rng.normal(5.0, 2.0, n).round(4),
                             "z": rng.integers(0, 50, n), "colour": rng.choice(["red", "green", "blue"], n, p=[.5, .3, .2])})
    m = 800
    window = pd.DataFrame({"x": rng.normal(1.5, 1.0, m).round(4), "y": rng.normal(5.0, 2.0, m).round(4),
                           "z": rng.integers(0, 50, m), "colour": rng.choice(["red", "green", "blue"], m, p=[.2, .3, .5])})
    window.loc[rng.random(m) < 0.1, "y"] = np.nan
    return baseline, window


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    baseline, window = _frames(np.random.default_rng(11))
    baseline.to_csv(root / "baseline.csv", index=False)
    window.to_csv(root / "window.csv", index=False)
    job.run_baseline(DataQualityBaselineRequest(dataset=root / "baseline.csv", output=root / "baseline"))
    outcome = job.run_monitor(DataQualityMonitorRequest(
        capture=root / "window.csv", input_format=InputFormat.CSV, statistics=root / "baseline" / "statistics.json",
        constraints=root / "baseline" / "constraints.json", output=root / "out", window=WINDOW,
        metrics_dir=root / "metrics"))
    return root, baseline, window, outcome


def _cards(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<div class="card[^"]*" id="feature-([^"]+)"', html)]


def test_every_feature_of_the_baseline_has_a_card_in_the_window_report(run):
    root, baseline, _, _ = run
    html = (root / "out" / "report.html").read_text()
    assert sorted(_cards(html)) == sorted(baseline.columns)


def test_violated_features_come_before_the_others(run):
    root, *_ = run
    html = (root / "out" / "report.html").read_text()
    violated = {v["feature_name"] for v in json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]
                if v["constraint_check_type"] != "dataset_drift_check"}
    cards = _cards(html)
    assert violated == {"x", "y", "colour"}
    assert set(cards[: len(violated)]) == violated


def test_every_violation_description_is_shown_as_written_in_the_violations_file(run):
    root, *_ = run
    html = unescape((root / "out" / "report.html").read_text())
    for violation in json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]:
        assert violation["description"] in html


def test_embedded_drift_distances_equal_the_published_metric_values(run):
    root, *_ = run
    summary = read_summary((root / "out" / "report.html").read_bytes())
    lines = [json.loads(line) for line in (root / "metrics" / "cloudwatch_metrics.jsonl").read_text().splitlines()]
    published = {line["MetricName"].removeprefix("feature_baseline_drift_"): line["Value"]
                 for line in lines if line["MetricName"].startswith("feature_baseline_drift_")}
    drift = [point for point in summary["series"] if point["measure"] == "drift distance"]
    assert {point["name"]: point["value"] for point in drift} == pytest.approx(published)
    assert {point["name"] for point in drift if point["violated"]} == {"x", "colour"}
    # the analyzer's baselines ask for auto: wasserstein (0.1) for numbers, g_test (0.03) for categories
    thresholds = {name: DRIFT_METHODS[AUTO_METHODS["categorical" if name == "colour" else "numeric"]].default_threshold
                  for name in published}
    assert {point["name"]: point["threshold"] for point in drift} == thresholds


def test_embedded_completeness_is_the_window_statistics_share_of_present_values(run):
    root, *_ = run
    summary = read_summary((root / "out" / "report.html").read_bytes())
    statistics = json.loads((root / "out" / "statistics.json").read_text())
    completeness = {point["name"].removesuffix(" completeness"): point for point in summary["series"]
                    if point["measure"] == "completeness"}
    for feature in statistics["features"]:
        common = (feature.get("numerical_statistics") or feature.get("string_statistics"))["common"]
        point = completeness[feature["name"]]
        assert point["value"] == common["num_present"] / (common["num_present"] + common["num_missing"])
        assert point["threshold"] == 1.0
    assert [name for name, point in completeness.items() if point["violated"]] == ["y"]


def test_summary_states_the_window_records_and_violations_of_the_files(run):
    root, _, window, outcome = run
    summary = read_summary((root / "out" / "report.html").read_bytes())
    violations = json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]
    assert summary["status"] == outcome.status.value == "CompletedWithViolations"
    assert summary["records"] == len(window)
    assert summary["violations"] == len(violations)
    assert summary["window"] == {"start": "2026-01-05T10:00:00Z", "end": "2026-01-05T11:00:00Z"}


def test_window_means_in_the_report_are_those_of_the_data(run):
    root, baseline, window, _ = run
    html = (root / "out" / "report.html").read_text()
    card = html.split('id="feature-x"')[1].split('<div class="card')[0]
    mean_row = re.search(r"<td>mean</td><td class=num>([^<]+)</td><td class=num>([^<]+)</td>", card)
    assert float(mean_row.group(1)) == pytest.approx(baseline["x"].mean(), rel=1e-3)
    assert float(mean_row.group(2)) == pytest.approx(window["x"].mean(), rel=1e-3)


def test_numeric_drift_description_appends_the_baseline_and_current_means(run):
    root, baseline, window, _ = run
    violations = json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]
    (drift,) = [v for v in violations if v["feature_name"] == "x" and v["constraint_check_type"] == "baseline_drift_check"]
    assert drift["description"].startswith("Baseline drift distance: ")
    assert " exceeds threshold: 0.1 (wasserstein; p-value " in drift["description"]
    means = [float(m) for m in re.findall(r"mean (-?[\d.e+-]+)", drift["description"])]
    assert means == pytest.approx([baseline["x"].mean(), window["x"].mean()], rel=1e-3)


def test_categorical_drift_description_names_the_category_whose_share_moved_most(run):
    root, baseline, window, _ = run
    violations = json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]
    (drift,) = [v for v in violations if v["feature_name"] == "colour"]
    before = baseline["colour"].value_counts(normalize=True)
    after = window["colour"].value_counts(normalize=True)
    moved = (before - after).abs().idxmax()
    assert f"Largest change: '{moved}' is {before[moved]:.1%} of the baseline, {after[moved]:.1%} of current data." \
        in drift["description"]


def test_completeness_description_appends_the_baseline_completeness_and_the_present_count(run):
    root, _, window, _ = run
    violations = json.loads((root / "out" / "constraint_violations.json").read_text())["violations"]
    (missing,) = [v for v in violations if v["feature_name"] == "y"]
    assert missing["description"].startswith("Data completeness requirement is not met. Expected completeness: 100.0%.")
    assert (f"Baseline completeness: 100.0%, current: {window['y'].notna().sum()} of {len(window)} records have a "
            "value. p-value ") in missing["description"]
    # one decision over the window's tests: the drift tests of x, y, z and colour and y's completeness test
    assert re.search(r"significant at a false-discovery rate of [0-9.]+ over the 5 tests of the window judged "
                     r"together, each check an equal share\.$", missing["description"])
    drifts = [v["description"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"]
    assert drifts and all("over the 5 tests of the window judged together, each check an equal share)" in text
                          for text in drifts)


def test_baseline_report_lists_each_feature_with_its_inferred_type_and_suggested_completeness(run):
    root, baseline, _, _ = run
    html = (root / "baseline" / "report.html").read_text()
    constraints = json.loads((root / "baseline" / "constraints.json").read_text())
    assert sorted(_cards(html)) == sorted(baseline.columns)
    summary = read_summary(html.encode())
    assert (summary["kind"], summary["status"], summary["records"]) == ("baseline", "Baseline", len(baseline))
    for feature in constraints["features"]:
        card = html.split(f'id="feature-{feature["name"]}"')[1].split('<div class="card')[0]
        assert f"<td>inferred type</td><td class=num>{feature['inferred_type']}</td>" in card
        assert "<td>completeness ≥</td><td class=num>100.0%</td>" in card


def test_a_window_without_records_writes_a_no_data_report(run, tmp_path):
    root, *_ = run
    (tmp_path / "capture").mkdir()
    job.run_monitor(DataQualityMonitorRequest(
        capture=tmp_path / "capture", statistics=root / "baseline" / "statistics.json",
        constraints=root / "baseline" / "constraints.json", output=tmp_path / "out", window=WINDOW))
    summary = read_summary((tmp_path / "out" / "report.html").read_bytes())
    assert (summary["status"], summary["records"], summary["series"]) == ("NoData", 0, [])


def test_a_hundred_feature_report_is_well_under_two_megabytes(tmp_path):
    rng = np.random.default_rng(3)
    columns = {f"n{i}": rng.normal(i, 1 + i % 5, 3000).round(3) for i in range(60)}
    columns |= {f"c{i}": rng.choice([f"v{j}" for j in range(30)], 3000) for i in range(40)}
    frame = pd.DataFrame(columns)
    frame.iloc[:2000].to_csv(tmp_path / "baseline.csv", index=False)
    frame.iloc[2000:].to_csv(tmp_path / "window.csv", index=False)
    job.run_baseline(DataQualityBaselineRequest(dataset=tmp_path / "baseline.csv", output=tmp_path / "baseline"))
    job.run_monitor(DataQualityMonitorRequest(
        capture=tmp_path / "window.csv", input_format=InputFormat.CSV, output=tmp_path / "out", window=WINDOW,
        statistics=tmp_path / "baseline" / "statistics.json", constraints=tmp_path / "baseline" / "constraints.json"))
    report = Path(tmp_path / "out" / "report.html")
    assert len(_cards(report.read_text())) == 100
    assert report.stat().st_size < 500_000
    assert (tmp_path / "baseline" / "report.html").stat().st_size < 500_000


def test_reports_fetch_nothing(run):
    root, *_ = run
    for report in (root / "out" / "report.html", root / "baseline" / "report.html"):
        html = report.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
        assert "<link" not in html and "@import" not in html


def test_category_bar_shares_are_the_bucket_counts_of_the_statistics(run):
    root, *_ = run
    html = (root / "out" / "report.html").read_text()
    card = html.split('id="feature-colour"')[1].split('<div class="card')[0]
    shown = re.findall(r"<rect [^>]*fill=\"(#[0-9a-f]+)\"><title>(\w+): ([\d.]+)%</title>", card)
    for colour, document in (("#4c78a8", "baseline"), ("#f58518", "out")):
        statistics = json.loads((root / document / "statistics.json").read_text())
        (feature,) = [f for f in statistics["features"] if f["name"] == "colour"]
        buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
        total = sum(b["count"] for b in buckets)
        expected = {b["value"]: f"{b['count'] / total:.1%}".removesuffix("%") for b in buckets}
        assert {value: share for c, value, share in shown if c == colour} == expected
