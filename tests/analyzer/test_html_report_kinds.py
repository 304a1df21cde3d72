"""Model-quality and bias reports from real SageMaker and Clarify files: numbers as the files give them."""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.report.html import model_quality as mq_report
from model_monitor_analyzer.report.html.page import ReportHeader, read_summary
from model_monitor_analyzer.report.html.svg import MAX_CURVE_POINTS, number_text
from model_monitor_analyzer.report.model_quality import camel_case_metric_name
from tests.analyzer.test_bias_job import (
    ADULT,
    FEATURES,
    PREDICTED,
    _monitor_config,
    _ten_invocations,
    _write_lines,
)

BINARY = "sdk-model-card-metrics/model_monitor_model_quality_binary_classification.json"
VIOLATIONS = "from-idea-to-production-monitoring/notebook-output/model_quality_constraint_violations.json"
HEADER = ReportHeader(monitor_type="model-quality", kind="monitor", status="CompletedWithViolations", records=4)


def _binary_report(reference_examples) -> tuple[str, dict, dict]:
    statistics = json.loads((reference_examples / BINARY).read_text())
    violations = json.loads((reference_examples / VIOLATIONS).read_text())
    constraints = {"binary_classification_constraints": {
        "auc": {"threshold": 0.7726853760190512, "comparison_operator": "LessThanThreshold"},
        "precision": {"threshold": 0.6445783132530121, "comparison_operator": "LessThanThreshold"},
        "false_positive_rate": {"threshold": 0.9, "comparison_operator": "GreaterThanThreshold"}}}
    html = mq_report.model_quality_report(header=HEADER, statistics=statistics, constraints=constraints,
                                          violations=violations, join={"matched": 4, "captures_without_label": 2,
                                                                       "labels_without_capture": 1})
    return html, statistics, violations


def test_model_quality_report_shows_every_metric_of_the_statistics_with_its_value(reference_examples):
    html, statistics, _ = _binary_report(reference_examples)
    section = statistics["binary_classification_metrics"]
    rows = dict(re.findall(r"<tr><td>([a-z0-9_]+)</td><td class=num>([^<]+)</td>", html))
    scalar = {name: entry for name, entry in section.items() if "value" in entry}
    assert set(rows) == set(scalar)
    for name, entry in scalar.items():
        assert rows[name].split(" ± ")[0] == number_text(entry["value"])


def test_model_quality_metrics_named_by_the_violations_file_come_first_and_are_marked(reference_examples):
    html, _, violations = _binary_report(reference_examples)
    named = {v["metric_name"] for v in violations["violations"]}
    rows = re.findall(r"<tr><td>([a-z0-9_]+)</td><td class=num>[^<]+</td><td>[^<]*</td><td>(.*?)</td></tr>", html)
    marked = [name for name, state in rows if "violated" in state]
    # the built-in names metrics in camel case in constraint_violations.json (truePositiveRate)
    assert {camel_case_metric_name(name) for name in marked} == named
    assert [name for name, _ in rows[: len(marked)]] == marked


def test_confusion_matrix_cells_are_the_counts_of_the_statistics(reference_examples):
    html, statistics, _ = _binary_report(reference_examples)
    matrix = statistics["binary_classification_metrics"]["confusion_matrix"]
    table = html.split("<h2>Confusion matrix</h2>")[1].split("</table>")[0]
    cells = {actual: re.findall(r">(\d+)</td>", row) for actual, row in re.findall(r"<tr><th>(\w+)</th>(.*?)</tr>", table)}
    assert cells == {actual: [str(matrix[actual][p]) for p in sorted(matrix[actual])] for actual in sorted(matrix)}


def test_label_counts_are_shown_as_the_join_counted_them(reference_examples):
    html, _, _ = _binary_report(reference_examples)
    assert "<td>captures matched with a label</td><td class=num>4</td>" in html
    assert "<td>captures without a label (yet)</td><td class=num>2</td>" in html


def test_roc_curve_is_downsampled_to_a_bounded_number_of_points():
    rates = [i / 999 for i in range(1000)]
    statistics = {"binary_classification_metrics": {
        "receiver_operating_characteristic_curve": {"false_positive_rates": rates, "true_positive_rates": rates},
        "auc": {"value": 0.5, "standard_deviation": 0.0}}}
    html = mq_report.model_quality_report(header=HEADER, statistics=statistics, constraints=None, violations=None,
                                          join={})
    (curve,) = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="#f58518"', html)
    assert len(curve.split()) == MAX_CURVE_POINTS


def test_bias_report_shows_the_real_runs_drifted_metrics_with_baseline_and_window_values(reference_examples, tmp_path):
    merged = _write_lines(tmp_path / "merged" / "part-00000.jsonl", _ten_invocations(reference_examples))
    baseline = reference_examples / ADULT / "notebook-output" / "analysis.json"
    assert main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--baseline", str(baseline), "--output", str(tmp_path / "out")]) == 0
    summary = read_summary((tmp_path / "out" / "report.html").read_bytes())
    real = json.loads((reference_examples / ADULT / "notebook-output" / "constraint_violations.json").read_text())
    points = {p["name"].split()[0]: p for p in summary["series"] if "Sex=0" in p["name"]}
    analysis = json.loads((tmp_path / "out" / "analysis.json").read_text())
    ours = {m["name"]: m["value"] for stage in ("pre_training_bias_metrics", "post_training_bias_metrics")
            for m in analysis[stage]["facets"]["Sex"][0]["metrics"]}
    for violation in real["violations"]:
        window, requirement = map(float, re.fullmatch(r"Metric value (\S+) doesn't meet the baseline constraint "
                                                      r"requirement (\S+)", violation["description"]).groups())
        point = points[violation["metric_name"]]
        assert point["violated"]
        if window == float("inf"):  # the embedded JSON has no infinity: null, as analysis.json's "Infinity" is no number
            assert point["value"] is None and ours[violation["metric_name"]] == "Infinity"
            continue
        assert point["value"] == ours[violation["metric_name"]]
        assert point["value"] == pytest.approx(window, rel=1e-12)  # Clarify's value, to the last bits
        assert point["baseline"] == requirement
        # Clarify's rule with no tolerance: the band is the baseline's distance from neutral (0)
        assert point["threshold"] == abs(requirement)
    assert sum(p["violated"] for p in summary["series"]) == len(real["violations"])
    html = unescape((tmp_path / "out" / "report.html").read_text())
    first_rows = re.findall(r"<tr><td>(\w+)</td>", html)[: len(real["violations"])]
    assert set(first_rows) == {v["metric_name"] for v in real["violations"]}


def test_model_quality_baseline_report_shows_the_suggested_constraints_for_review(tmp_path):
    rng = np.random.default_rng(2)
    probability = rng.random(500).round(4)
    label = (rng.random(500) < probability).astype(int)
    (tmp_path / "validation.csv").write_text("probability,label\n" + "".join(
        f"{p},{y}\n" for p, y in zip(probability, label)))
    assert main(["baseline", "--type", "model-quality", "--dataset", str(tmp_path / "validation.csv"),
                 "--problem-type", "BinaryClassification", "--probability-attribute", "probability",
                 "--probability-threshold", "0.5", "--ground-truth-attribute", "label",
                 "--output", str(tmp_path / "baseline")]) == 0
    constraints = json.loads((tmp_path / "baseline" / "constraints.json").read_text())["binary_classification_constraints"]
    summary = read_summary((tmp_path / "baseline" / "report.html").read_bytes())
    assert (summary["kind"], summary["status"], summary["records"]) == ("baseline", "Baseline", 500)
    shown = {p["name"]: (p["threshold"], p["measure"]) for p in summary["series"] if p["threshold"] is not None}
    assert shown == {name: (c["threshold"], c["comparison_operator"]) for name, c in constraints.items()}
    accuracy = next(p["value"] for p in summary["series"] if p["name"] == "accuracy")
    assert accuracy == np.mean((probability >= 0.5) == label)
