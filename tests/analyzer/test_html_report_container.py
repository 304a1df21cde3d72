"""Container mode writes report.html beside the JSON files, so it reaches S3 with them."""

from __future__ import annotations

import json
import re

from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.report.html.page import read_summary
from tests.analyzer.test_container_entrypoint import _monitor_tree


def test_a_monitoring_job_writes_its_report_into_the_output_path_with_the_jobs_window(reference_examples, tmp_path):
    root, process_env = _monitor_tree(tmp_path, reference_examples)
    assert run_container(process_env) == 0
    results = root / "processing" / "resultdata"
    summary = read_summary((results / "report.html").read_bytes())
    violations = json.loads((results / "constraint_violations.json").read_text())["violations"]
    statistics = json.loads((results / "statistics.json").read_text())
    assert summary["window"] == {"start": "2021-02-02T12:00:00Z", "end": "2021-02-02T13:00:00Z"}
    assert (summary["status"], summary["violations"]) == ("CompletedWithViolations", len(violations))
    assert summary["records"] == statistics["dataset"]["item_count"]
    cards = re.findall(r'<div class="card[^"]*" id="feature-([^"]+)"', (results / "report.html").read_text())
    assert cards[0] == violations[0]["feature_name"] == "Churn"
    assert len(cards) == len(statistics["features"])
