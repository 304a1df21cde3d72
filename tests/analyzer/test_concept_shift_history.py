"""A persistent gap between realised and estimated metrics across labelled windows: the rule, the Python reader and
the history page."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer import history_command
from model_monitor_analyzer.checks.concept_shift import RealisedAgainstEstimate, persistent_concept_shift
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.results import MonitoringResults
from tests.analyzer.test_model_quality_estimation import _baseline, _true_probabilities
from tests.analyzer.test_model_quality_jobs import START, _monitor_args, _write_capture_and_labels


def _compared(realised: float, lower: float = 0.8, upper: float = 0.9) -> list[RealisedAgainstEstimate]:
    return [RealisedAgainstEstimate(name="accuracy", realised=realised, lower=lower, upper=upper)]


def test_k_of_the_last_n_labelled_windows_outside_report_a_possible_concept_shift():
    inside, outside = _compared(0.85), _compared(0.7)
    # an old run of gaps has left the last five: not flagged
    history = [outside, outside, outside, None, inside, inside, inside, inside, inside]
    assert not persistent_concept_shift(history)[0].flagged
    # windows without labels (None) neither count nor break the run of the last five labelled ones
    history = [inside, outside, None, inside, outside, None, None, outside]
    verdict = persistent_concept_shift(history)[0]
    assert (verdict.outside, verdict.considered, verdict.windows, verdict.flagged) == (3, 5, (1, 4, 7), True)
    assert not persistent_concept_shift(history, outside=4, last=5)[0].flagged
    with pytest.raises(ValueError):
        persistent_concept_shift(history, outside=6, last=5)


def _windows(root: Path, relations: list[str]) -> Path:
    """Labelled hourly windows of a binary model, written where a monitor writes its reports: labels drawn from the
    model's probabilities ("same") or at random ("changed": a concept shift)."""
    rng = np.random.default_rng(43)
    constraints = _baseline(root, rng)
    reports = root / "reports"
    for hour, relation in enumerate(relations):
        start = START + timedelta(hours=hour)
        p = _true_probabilities(rng, 1_500)
        labels = rng.random(p.size) < (p if relation == "same" else 0.5)
        data = root / f"data-{hour}"
        _write_capture_and_labels(data, p**2, labels, captured_at=start, labelled_at=start)
        job.run_monitor(_monitor_args(
            "--capture", str(data / "capture"), "--ground-truth", str(data / "groundtruth"),
            "--output", str(reports / start.strftime("%Y/%m/%d/%H")), "--problem-type", "BinaryClassification",
            "--inference-attribute", "0", "--probability-attribute", "0", "--probability-threshold", "0.25",
            "--constraints", str(constraints), "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--end", (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    return reports


def test_the_reader_and_the_history_page_report_a_persistent_concept_shift(tmp_path: Path):
    reports = _windows(tmp_path, ["same", "same", "changed", "changed", "changed"])
    results = MonitoringResults.open(reports)
    executions = results.list_executions(monitor_type="model-quality")
    assert len(executions) == 5
    compared = executions[0].realised_against_estimate()
    assert {entry.name for entry in compared} == {"accuracy", "precision", "recall", "f1", "auc"}
    accuracy = next(v for v in results.concept_shift() if v.name == "accuracy")
    assert accuracy.flagged and accuracy.windows == (2, 3, 4) and accuracy.considered == 5
    assert not any(v.flagged for v in results.concept_shift(outside=4, last=5) if v.name == "accuracy")
    page = tmp_path / "history.html"
    parser = argparse.ArgumentParser()
    history_command.add_report_arguments(parser)
    history_command.run_report(parser.parse_args(["--reports", str(reports), "--output", str(page)]))
    text = page.read_text()
    assert "Possible concept shift: " in text and "3 of the last 5" in text
    with pytest.raises(AnalyzerInputError, match="K must be between 1 and N"):
        history_command.run_report(parser.parse_args(
            ["--reports", str(reports), "--output", str(page), "--concept-shift-windows", "6", "5"]))


def test_windows_whose_labels_agree_with_the_estimate_report_no_concept_shift(tmp_path: Path):
    results = MonitoringResults.open(_windows(tmp_path, ["same", "changed", "same", "same"]))
    assert not any(v.flagged for v in results.concept_shift())
