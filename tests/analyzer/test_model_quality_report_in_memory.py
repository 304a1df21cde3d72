"""A window's report.html is made from the statistics document the run holds, not read back from statistics.json:
the page is the very page made from the files just written, whatever the window holds."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np

from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.report.html import model_quality as html_report
from tests.analyzer.test_model_quality_estimation import _baseline, _labelled_window, _true_probabilities
from tests.analyzer.test_model_quality_jobs import START, _binary_monitor, _binary_window


def _join(outcome) -> dict:
    names = ("matched", "captures_without_label", "labels_without_capture", "duplicate_labels",
             "captures_sharing_an_id")
    return {name: outcome.summary[name] for name in names if name in outcome.summary}


def test_the_page_of_a_window_with_estimates_is_the_page_made_from_its_files(tmp_path: Path):
    rng = np.random.default_rng(21)
    constraints = _baseline(tmp_path, rng)
    p = _true_probabilities(rng, 2_000)
    _labelled_window(tmp_path, p**2, rng.random(p.size) < 0.5)  # a concept shift: violations and estimates
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints),
                                              "--probability-threshold", "0.25"))
    assert outcome.status is RunStatus.COMPLETED_WITH_VIOLATIONS
    shutil.copytree(tmp_path / "out", tmp_path / "again")
    (tmp_path / "again" / "report.html").unlink()
    html_report.write_window_report_from_files(
        tmp_path / "again", constraints=constraints, join=_join(outcome), window=(START, START + timedelta(hours=1)),
        records=outcome.summary["item_count"], not_computable=outcome.summary.get("not_computable"))
    assert (tmp_path / "again" / "report.html").read_bytes() == (tmp_path / "out" / "report.html").read_bytes()


def test_the_page_of_a_plain_window_is_the_page_made_from_its_files(tmp_path: Path):
    _binary_window(tmp_path, n=3_000)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.COMPLETED
    shutil.copytree(tmp_path / "out", tmp_path / "again")
    (tmp_path / "again" / "report.html").unlink()
    html_report.write_window_report_from_files(
        tmp_path / "again", constraints=None, join=_join(outcome), window=(START, START + timedelta(hours=1)),
        records=outcome.summary["item_count"])
    assert (tmp_path / "again" / "report.html").read_bytes() == (tmp_path / "out" / "report.html").read_bytes()
