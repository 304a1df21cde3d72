"""Bias monitoring joins late labels with the captures of earlier hours, as model quality does."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import pytest

from demo import data
from model_monitor_analyzer.cli import main as analyzer
from model_monitor_analyzer.contract.paths import container_paths
from model_monitor_analyzer.monitors.bias import monitor_request_from_environment, run_monitor
from tests.conftest import REPO_ROOT

BASELINE = REPO_ROOT / "demo" / "baseline-bias"


@pytest.fixture
def late_labels(tmp_path):
    hours = data.demo_hours(datetime(2026, 11, 25, 8))[:2]
    capture = data.write_capture(tmp_path / "capture", hours, ground_truth=tmp_path / "gt")
    # the 08:00 hour's labels are uploaded an hour late, next to the 09:00 hour's
    shutil.move(tmp_path / "gt/2026/11/25/08/labels-0.jsonl", tmp_path / "gt/2026/11/25/09/labels-0.jsonl")
    return capture, tmp_path / "gt"


def _matched(tmp_path, capture, labels, *extra) -> dict:
    out = tmp_path / "out"
    assert analyzer(["monitor", "--type", "bias", "--analysis-config", str(BASELINE / "analysis_config.json"),
                     "--capture", str(capture), "--ground-truth", str(labels), "--probability-attribute", "0",
                     "--start", "2026-11-25T09:00:00Z", "--end", "2026-11-25T10:00:00Z",
                     "--output", str(out), *extra]) == 0
    return json.loads((out / "analysis.json").read_text())


def test_without_a_look_back_late_labels_find_no_capture(tmp_path, late_labels, capsys):
    _matched(tmp_path, *late_labels)
    out = capsys.readouterr().out
    assert "matched 580" in out and "labels_without_capture 600" in out


def test_a_look_back_joins_late_labels_with_the_previous_hours_captures(tmp_path, late_labels, capsys):
    _matched(tmp_path, *late_labels, "--ground-truth-lookback", "PT1H")
    out = capsys.readouterr().out
    assert "matched 1180" in out and "labels_without_capture 0" in out


def test_the_job_environment_carries_look_back_and_tolerance(tmp_path):
    env = {"analysis_config": str(BASELINE / "analysis_config.json"), "dataset_source": str(tmp_path),
           "ground_truth_lookback": "PT2H", "bias_drift_tolerance": "0.2",
           "baseline_constraints": str(BASELINE / "analysis.json")}
    request = monitor_request_from_environment(env, container_paths(env))
    assert (request.ground_truth_lookback, request.drift_tolerance) == (timedelta(hours=2), 0.2)


def test_a_container_window_whose_labels_came_late_names_the_environment_key_of_the_look_back(tmp_path, late_labels,
                                                                                                capsys):
    capture, labels = late_labels
    env = {"analysis_config": str(BASELINE / "analysis_config.json"), "dataset_source": str(capture),
           "ground_truth_source": str(labels), "probability_attribute": "0", "sagemaker_monitoring_schedule_name": "s",
           "start_time": "2026-11-25T09:00:00Z", "end_time": "2026-11-25T10:00:00Z", "output_path": str(tmp_path / "out")}
    run_monitor(monitor_request_from_environment(env, container_paths(env)))
    note = capsys.readouterr().err
    assert "600 labels uploaded in the window belong to no inference" in note
    assert "ground_truth_lookback PT0H" in note and "longer ground_truth_lookback" in note and "--" not in note
