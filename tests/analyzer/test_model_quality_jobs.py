"""Model-quality baseline and monitoring runs, end to end on files."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.ground_truth import ground_truth_record
from model_monitor_analyzer.io.window import parse_duration
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.model_quality.request import (
    ModelQualityBaselineRequest,
    ModelQualityMonitorRequest,
)
from model_monitor_analyzer.report import model_quality as report


def _baseline_args(*argv: str) -> ModelQualityBaselineRequest:
    parser = argparse.ArgumentParser()
    job.add_baseline_arguments(parser)
    return job.baseline_request(parser.parse_args(list(argv)))


def _monitor_args(*argv: str) -> ModelQualityMonitorRequest:
    parser = argparse.ArgumentParser()
    job.add_monitor_arguments(parser)
    return job.monitor_request(parser.parse_args(list(argv)))


@pytest.fixture
def model_quality_check(reference_examples: Path) -> Path:
    return reference_examples / "sdk-model-quality-check"


def _run_regression_baseline(model_quality_check: Path, output: Path, *extra: str):
    # the SDK integration test that produced the real file swapped the two attributes (see SOURCES.md);
    # the built-in's comparison (--comparison threshold) writes the built-in's very constraints.json
    return job.run_baseline(
        _baseline_args(
            "--dataset", str(model_quality_check / "baseline_dataset.csv"), "--problem-type", "Regression",
            "--inference-attribute", "Label", "--ground-truth-attribute", "Prediction", "--output", str(output),
            *(extra or ("--comparison", "threshold")),
        )
    )  # fmt: skip


def test_regression_baseline_reproduces_the_real_statistics_byte_for_byte(
    model_quality_check: Path, tmp_path: Path
):
    outcome = _run_regression_baseline(model_quality_check, tmp_path)
    assert outcome.status is RunStatus.COMPLETED
    assert (tmp_path / "statistics.json").read_bytes() == (
        model_quality_check / "statistics.json"
    ).read_bytes()


def test_regression_baseline_suggests_the_real_constraints_byte_for_byte(
    model_quality_check: Path, tmp_path: Path
):
    _run_regression_baseline(model_quality_check, tmp_path)
    expected = (model_quality_check / "good_cases" / "constraints.json").read_bytes()
    assert (tmp_path / "constraints.json").read_bytes() == expected


def test_default_regression_baseline_adds_standard_errors_and_the_decision_to_the_real_constraints(
    model_quality_check: Path, tmp_path: Path
):
    _run_regression_baseline(model_quality_check, tmp_path, "--comparison", "significance")
    ours = json.loads((tmp_path / "constraints.json").read_text())
    expected = json.loads((model_quality_check / "good_cases" / "constraints.json").read_text())
    data = pd.read_csv(model_quality_check / "baseline_dataset.csv")
    actual, predicted = data["Prediction"].to_numpy(float), data["Label"].to_numpy(float)
    errors = {name: spec.pop("baseline_standard_error") for name, spec in ours["regression_constraints"].items()}
    assert ours.pop("monitoring_config") == {"comparison": "significance", "significance_level": 0.01,
                                             "tolerance": 0.0, "baseline_size": len(data)}
    assert ours == expected
    # MAE's standard error: the sample standard deviation of the absolute errors over sqrt(n)
    assert errors["mae"] == pytest.approx(np.std(np.abs(predicted - actual), ddof=1) / np.sqrt(len(data)), rel=1e-9)


def _merged_rows(directory: Path, rows: list[tuple[str, str]]) -> Path:
    """Merged records with CSV output (prediction) and CSV label, as the merge job writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (prediction, label) in enumerate(rows):
        lines.append(json.dumps({
            "eventVersion": "0",
            "groundTruthData": {"data": label, "encoding": "CSV"},
            "captureData": {"endpointOutput": {"data": prediction, "encoding": "CSV", "mode": "OUTPUT",
                                               "observedContentType": "text/csv"}},
            "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2024-05-01T10:00:00Z"},
        }))  # fmt: skip
    (directory / "part-00000.jsonl").write_text("\n".join(lines) + "\n")
    return directory


def test_monitor_against_hand_lowered_constraints_reports_the_real_violation(
    model_quality_check: Path, tmp_path: Path
):
    import csv

    with (model_quality_check / "baseline_dataset.csv").open() as handle:
        rows = [(r["Label"], r["Prediction"]) for r in csv.DictReader(handle)]
    merged = _merged_rows(tmp_path / "merged", rows)
    outcome = job.run_monitor(
        _monitor_args(
            "--merged", str(merged), "--problem-type", "Regression", "--inference-attribute", "0",
            "--constraints", str(model_quality_check / "bad_cases" / "constraints.json"), "--output", str(tmp_path / "out"),
        )
    )  # fmt: skip
    assert outcome.status is RunStatus.COMPLETED_WITH_VIOLATIONS
    assert outcome.message == "CompletedWithViolations: Job completed successfully with 1 violations."
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())
    assert violations == {
        "violations": [
            {
                "constraint_check_type": "GreaterThanThreshold",
                "description": "Metric mse with 0.33364933609800973 was GreaterThanThreshold '0.03364933609800973'",
                "metric_name": "mse",
            }
        ]
    }
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    real = json.loads((model_quality_check / "statistics.json").read_text())
    assert statistics["regression_metrics"] == real["regression_metrics"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", statistics["dataset"]["evaluation_time"])


_DESCRIPTION = re.compile(r"Metric (\w+) with (\S+)(?: \+/- (\S+))? was (\w+) '(\S+)'")


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _violations_from_descriptions(document: dict) -> list[mq.MetricViolation]:
    parsed = []
    for violation in document["violations"]:
        name, value, spread, operator, threshold = _DESCRIPTION.fullmatch(violation["description"]).groups()
        parsed.append(
            mq.MetricViolation(
                metric=_snake(name), value=float(value), standard_deviation=None if spread is None else float(spread),
                threshold=float(threshold), operator=mq.ComparisonOperator(operator),
            )
        )  # fmt: skip
    return parsed


def test_violations_file_is_written_exactly_as_the_built_in_writes_it(reference_examples: Path):
    real = json.loads(
        (reference_examples / "from-idea-to-production-monitoring" / "notebook-output"
         / "model_quality_constraint_violations.json").read_text()
    )  # fmt: skip
    assert report.violations_document(_violations_from_descriptions(real)) == real


def test_violation_with_a_standard_deviation_uses_java_number_format():
    # recorded in the model-quality churn example notebook (contract §8.3)
    real = {"violations": [
        {"constraint_check_type": "LessThanThreshold",
         "description": "Metric precision with 0.7015384615384616 +/- 0.002265536573621946 was LessThanThreshold '1.0'",
         "metric_name": "precision"},
        {"constraint_check_type": "GreaterThanThreshold",
         "description": "Metric falsePositiveRate with 0.13002680965147453 +/- 0.002264048481584054 was GreaterThanThreshold '0.0'",
         "metric_name": "falsePositiveRate"}]}  # fmt: skip
    assert report.violations_document(_violations_from_descriptions(real)) == real
    small = mq.MetricViolation(
        metric="f0_5",
        value=0.5,
        standard_deviation=0.000509,
        threshold=1e-4,
        operator=mq.ComparisonOperator.LESS_THAN,
    )
    assert (
        report.violation_description(small)
        == "Metric f0_5 with 0.5 +/- 5.09E-4 was LessThanThreshold '1.0E-4'"
    )


# --------------------------------------------------------------------------------------------
# binary monitoring over capture + ground-truth folders
# --------------------------------------------------------------------------------------------

START = datetime(2024, 5, 2, 10, tzinfo=UTC)


def _hour_folder(root: Path, moment: datetime) -> Path:
    folder = root / moment.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_capture_and_labels(
    root: Path, scores: np.ndarray, labels: np.ndarray, *, captured_at: datetime, labelled_at: datetime
) -> None:
    capture_lines, label_lines = [], []
    for i, (score, label) in enumerate(zip(scores, labels, strict=True)):
        inference_id = f"{captured_at:%H}-{i}"
        capture_lines.append(json.dumps({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2", "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                   "data": f"{float(score)!r}\n", "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": f"uuid-{inference_id}", "inferenceId": inference_id,
                              "inferenceTime": (captured_at + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "eventVersion": "0",
        }))  # fmt: skip
        label_lines.append(json.dumps(ground_truth_record(inference_id, int(label))))
    capture_dir = _hour_folder(root / "capture" / "ep" / "AllTraffic", captured_at)
    (capture_dir / f"{captured_at:%M}-00-000-capture.jsonl").write_text("\n".join(capture_lines) + "\n")
    label_dir = _hour_folder(root / "groundtruth", labelled_at)
    (label_dir / f"labels-{captured_at:%H}.jsonl").write_text("\n".join(label_lines) + "\n")


def _binary_window(root: Path, n: int = 300, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.4
    scores = np.clip(0.3 * labels + rng.uniform(0.0, 0.7, n), 0.0, 1.0)
    # captured the hour before the window; labels uploaded during the window
    _write_capture_and_labels(root, scores, labels, captured_at=START - timedelta(hours=1), labelled_at=START)
    return scores, labels


def _binary_monitor(root: Path, *extra: str) -> ModelQualityMonitorRequest:
    return _monitor_args(
        "--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"), "--output", str(root / "out"),
        "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
        "--probability-threshold", "0.5", "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), *extra,
    )  # fmt: skip


def test_late_labels_are_matched_through_the_lookback_and_metrics_match_scikit_learn(tmp_path: Path):
    scores, labels = _binary_window(tmp_path)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["matched"] == 300
    assert outcome.summary["captures_without_label"] == 0
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    body = statistics["binary_classification_metrics"]
    predicted = scores > 0.5
    assert body["accuracy"]["value"] == pytest.approx(sk.accuracy_score(labels, predicted), abs=1e-9)
    assert body["f1"]["value"] == pytest.approx(sk.f1_score(labels, predicted), abs=1e-9)
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-9)
    assert isinstance(body["auc"]["standard_deviation"], float)
    assert statistics["dataset"]["item_count"] == 300
    merged = list((tmp_path / "out" / "merge").glob("part-*.jsonl"))
    assert len(merged) == 1 and len(merged[0].read_text().splitlines()) == 300


def test_without_lookback_late_labels_find_no_capture_and_the_run_reports_no_data(tmp_path: Path):
    _binary_window(tmp_path)
    outcome = job.run_monitor(_binary_monitor(tmp_path))
    assert outcome.status is RunStatus.NO_DATA
    assert outcome.message.startswith("Completed: No data to analyze")
    assert outcome.summary["labels_without_capture"] == 300
    assert not (tmp_path / "out" / "statistics.json").exists()


def test_captures_without_labels_yet_give_no_data_not_a_crash(tmp_path: Path):
    _binary_window(tmp_path)
    for label_file in (tmp_path / "groundtruth").rglob("*.jsonl"):
        label_file.unlink()
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.NO_DATA
    assert outcome.summary["captures_without_label"] == 300


def test_quality_drop_violates_the_baseline_and_metric_lines_carry_built_in_names(tmp_path: Path):
    scores, labels = _binary_window(tmp_path)
    baseline = tmp_path / "baseline.csv"
    baseline.write_text(
        "label,probability\n"
        + "".join(f"{int(y)},{float(s)!r}\n" for y, s in zip(labels, scores, strict=True))
    )
    job.run_baseline(
        _baseline_args(
            "--dataset", str(baseline), "--problem-type", "BinaryClassification", "--probability-attribute", "probability",
            "--probability-threshold", "0.5", "--ground-truth-attribute", "label", "--output", str(tmp_path / "baseline"),
        )
    )  # fmt: skip
    for label_file in (tmp_path / "groundtruth").rglob("*.jsonl"):  # the model decays: labels flip
        records = [json.loads(line) for line in label_file.read_text().splitlines()]
        for record in records:
            record["groundTruthData"]["data"] = "0" if record["groundTruthData"]["data"] == "1" else "1"
        label_file.write_text("".join(json.dumps(r) + "\n" for r in records))
    outcome = job.run_monitor(
        _binary_monitor(
            tmp_path, "--ground-truth-lookback", "PT2H", "--constraints", str(tmp_path / "baseline" / "constraints.json"),
            "--cloudwatch-metrics-dir", str(tmp_path / "metrics"), "--endpoint-name", "ep", "--schedule-name", "sched",
        )
    )  # fmt: skip
    assert outcome.status is RunStatus.COMPLETED_WITH_VIOLATIONS
    names = {
        v["metric_name"]
        for v in json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    }
    assert {"accuracy", "auc", "truePositiveRate", "falsePositiveRate"} <= names
    lines = [
        json.loads(line)
        for line in (tmp_path / "metrics" / "model_quality_metrics.jsonl").read_text().splitlines()
    ]
    assert {line["MetricName"] for line in lines} >= {
        "accuracy",
        "auc",
        "f0_5",
        "true_negative_rate",
        "f2_best_constant_classifier",
    }
    assert "confusion_matrix" not in {line["MetricName"] for line in lines}
    assert lines[0]["Timestamp"] == "2024-05-02T10:00:00Z"
    assert lines[0]["Dimensions"] == [
        {"Name": "Endpoint", "Value": "ep"},
        {"Name": "MonitoringSchedule", "Value": "sched"},
    ]


def test_probabilities_outside_zero_one_are_an_input_error(tmp_path: Path):
    merged = _merged_rows(tmp_path / "m", [("1.7", "1"), ("0.2", "0")])
    with pytest.raises(AnalyzerInputError, match=r"must lie in \[0, 1\]"):
        job.run_monitor(
            _monitor_args("--merged", str(merged), "--problem-type", "BinaryClassification", "--inference-attribute", "0",
                          "--probability-attribute", "0", "--probability-threshold", "0.5", "--output", str(tmp_path / "o"))
        )  # fmt: skip


def test_binary_labels_of_the_wrong_type_name_the_fix(tmp_path: Path):
    merged = _merged_rows(tmp_path / "m", [("0.7", "1"), ("0.2", "0")])
    with pytest.raises(AnalyzerInputError, match="look like probabilities"):
        job.run_monitor(
            _monitor_args("--merged", str(merged), "--problem-type", "BinaryClassification", "--inference-attribute", "0",
                          "--output", str(tmp_path / "o"))
        )  # fmt: skip
    merged = _merged_rows(tmp_path / "m2", [("yes", "yes"), ("no", "yes")])
    outcome = job.run_monitor(
        _monitor_args("--merged", str(merged), "--problem-type", "BinaryClassification", "--inference-attribute", "0",
                      "--positive-label", "yes", "--output", str(tmp_path / "o2"))
    )  # fmt: skip
    body = json.loads((tmp_path / "o2" / "statistics.json").read_text())["binary_classification_metrics"]
    assert body["confusion_matrix"] == {"0": {"0": 0, "1": 0}, "1": {"0": 1, "1": 1}}
    assert outcome.status is RunStatus.COMPLETED


def test_regression_values_that_are_not_numbers_are_an_input_error(tmp_path: Path):
    merged = _merged_rows(tmp_path / "m", [("1.5", "abc")])
    with pytest.raises(AnalyzerInputError, match="ground-truth values must be numbers, found 'abc'"):
        job.run_monitor(
            _monitor_args("--merged", str(merged), "--problem-type", "Regression", "--inference-attribute", "0",
                          "--output", str(tmp_path / "o"))
        )  # fmt: skip


def _regression_window(root: Path, predictions: list[str], labels: list[str]) -> ModelQualityMonitorRequest:
    """Captures of the window's hour whose outputs are ``predictions``, and their ``labels`` uploaded then."""
    capture_lines, label_lines = [], []
    for i, (prediction, label) in enumerate(zip(predictions, labels, strict=True)):
        capture_lines.append(json.dumps({
            "captureData": {"endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                               "data": prediction + "\n", "encoding": "CSV"}},
            "eventMetadata": {"eventId": f"uuid-{i}", "inferenceId": f"request-{i}",
                              "inferenceTime": (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "eventVersion": "0",
        }))  # fmt: skip
        label_lines.append(json.dumps(ground_truth_record(f"request-{i}", label)))
    (_hour_folder(root / "capture", START) / "capture.jsonl").write_text("\n".join(capture_lines) + "\n")
    (_hour_folder(root / "groundtruth", START) / "labels.jsonl").write_text("\n".join(label_lines) + "\n")
    return _monitor_args(
        "--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"), "--output", str(root / "out"),
        "--problem-type", "Regression", "--inference-attribute", "0", "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip


@pytest.mark.parametrize("broken", ["inf", "-inf", "nan", "1e400"])
def test_one_regression_prediction_that_is_not_finite_is_left_out_counted_and_said(tmp_path: Path, capsys, broken):
    rng = np.random.default_rng(11)
    truth = rng.normal(10.0, 2.0, 200)
    predicted = truth + rng.normal(0.0, 1.0, 200)
    texts = [repr(float(v)) for v in predicted]
    texts[37] = broken
    outcome = job.run_monitor(_regression_window(tmp_path, texts, [repr(float(v)) for v in truth]))
    assert outcome.status is RunStatus.COMPLETED
    assert (outcome.summary["item_count"], outcome.summary["non_finite_values"]) == (199, 1)
    keep = np.arange(200) != 37
    body = json.loads((tmp_path / "out" / "statistics.json").read_text())["regression_metrics"]
    assert body["mse"]["value"] == pytest.approx(sk.mean_squared_error(truth[keep], predicted[keep]), rel=1e-12)
    assert body["r2"]["value"] == pytest.approx(sk.r2_score(truth[keep], predicted[keep]), rel=1e-12)
    notes = [line for line in capsys.readouterr().err.splitlines() if "not a finite number" in line]
    assert notes == [f"note: 1 of 200 rows have a value that is not a finite number (inf, -inf, nan, beyond float64) "
                     f"and are left out of the metrics; the first: inference value {broken!r} (event request-37)"]


def test_a_regression_label_that_is_not_finite_is_left_out_of_merged_records_too(tmp_path: Path):
    merged = _merged_rows(tmp_path / "m", [("1", "1.5"), ("2", "Infinity"), ("3", "2.5"), ("4", "4")])
    outcome = job.run_monitor(_monitor_args("--merged", str(merged), "--problem-type", "Regression",
                                            "--inference-attribute", "0", "--output", str(tmp_path / "o")))
    assert (outcome.summary["item_count"], outcome.summary["non_finite_values"]) == (3, 1)
    body = json.loads((tmp_path / "o" / "statistics.json").read_text())["regression_metrics"]
    assert body["mae"]["value"] == pytest.approx(sk.mean_absolute_error([1.5, 2.5, 4.0], [1.0, 3.0, 4.0]), abs=1e-12)


def test_a_window_whose_predictions_are_all_not_finite_is_no_data_saying_why(tmp_path: Path):
    outcome = job.run_monitor(_regression_window(tmp_path, ["nan"] * 5, ["1", "2", "3", "4", "5"]))
    assert outcome.status is RunStatus.NO_DATA and outcome.no_data_reason == "no_usable_records"
    assert outcome.message == ("Completed: No data to analyze: none of the window's 5 labelled rows has the values "
                               "the metrics need: 5 with a value that is not a finite number (the first: inference "
                               "value 'nan' (event request-0)).")
    assert (outcome.summary["item_count"], outcome.summary["non_finite_values"]) == (0, 5)
    assert not (tmp_path / "out" / "statistics.json").exists()


def test_a_window_whose_labelled_rows_all_lack_a_value_says_so_not_that_labels_are_late(tmp_path: Path):
    merged = _merged_rows(tmp_path / "m", [("0.9,", "1.5"), ("0.4, ", "2")])  # the prediction's field is empty
    outcome = job.run_monitor(_monitor_args("--merged", str(merged), "--problem-type", "Regression",
                                            "--inference-attribute", "1", "--output", str(tmp_path / "o")))
    assert outcome.status is RunStatus.NO_DATA and outcome.no_data_reason == "no_usable_records"
    assert outcome.message == ("Completed: No data to analyze: none of the window's 2 labelled rows has the values "
                               "the metrics need: 2 without a label, prediction or probability.")


def test_a_regression_baseline_leaves_out_values_that_are_not_finite_and_refuses_when_none_is(tmp_path: Path):
    (tmp_path / "data.csv").write_text("label,prediction\n1,1.5\n2,-inf\n3,2.5\n4,4\n")
    outcome = job.run_baseline(_baseline_args(
        "--dataset", str(tmp_path / "data.csv"), "--problem-type", "Regression", "--inference-attribute", "prediction",
        "--ground-truth-attribute", "label", "--output", str(tmp_path / "out")))
    assert (outcome.summary["item_count"], outcome.summary["non_finite_values"]) == (3, 1)
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 3
    (tmp_path / "none.csv").write_text("label,prediction\n1,nan\n2,inf\n")
    with pytest.raises(AnalyzerInputError, match=r"no row whose values are finite numbers \(2 rows left out, the first: "
                                                  r"inference value 'nan'\)"):
        job.run_baseline(_baseline_args(
            "--dataset", str(tmp_path / "none.csv"), "--problem-type", "Regression", "--inference-attribute",
            "prediction", "--ground-truth-attribute", "label", "--output", str(tmp_path / "out2")))


def test_multiclass_labels_from_csv_and_json_compare_equal(tmp_path: Path):
    merged = _merged_rows(tmp_path / "m", [("2", "2.0"), ("1.0", "1"), ("3", "1")])
    job.run_monitor(
        _monitor_args("--merged", str(merged), "--problem-type", "MulticlassClassification", "--inference-attribute", "0",
                      "--output", str(tmp_path / "o"))
    )  # fmt: skip
    body = json.loads((tmp_path / "o" / "statistics.json").read_text())["multiclass_classification_metrics"]
    assert list(body["confusion_matrix"]) == ["1", "2", "3"]
    assert body["accuracy"] == {"value": 2 / 3, "standard_deviation": "NaN"}


def test_missing_required_options_are_input_errors_not_tracebacks(tmp_path: Path):
    with pytest.raises(AnalyzerInputError, match="--problem-type is required"):
        job.run_baseline(_baseline_args("--dataset", "x.csv", "--output", str(tmp_path)))
    with pytest.raises(AnalyzerInputError, match="--ground-truth-attribute is required"):
        job.run_baseline(_baseline_args("--dataset", "x.csv", "--problem-type", "Regression", "--inference-attribute", "a",
                                        "--output", str(tmp_path)))  # fmt: skip
    with pytest.raises(AnalyzerInputError, match="--capture and --ground-truth are required"):
        job.run_monitor(
            _monitor_args(
                "--problem-type", "Regression", "--inference-attribute", "0", "--output", str(tmp_path)
            )
        )


def test_a_constraint_on_an_unknown_metric_names_the_file(model_quality_check: Path, tmp_path: Path):
    constraints = tmp_path / "c.json"
    constraints.write_text(
        json.dumps(
            {
                "regression_constraints": {
                    "mape": {"threshold": 1, "comparison_operator": "GreaterThanThreshold"}
                }
            }
        )
    )
    merged = _merged_rows(tmp_path / "m", [("1", "2"), ("2", "2")])
    with pytest.raises(AnalyzerInputError, match="unknown metric 'mape'"):
        job.run_monitor(
            _monitor_args("--merged", str(merged), "--problem-type", "Regression", "--inference-attribute", "0",
                          "--constraints", str(constraints), "--output", str(tmp_path / "o"))
        )  # fmt: skip


def test_options_already_defined_by_the_cli_are_not_added_twice():
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path, required=True)
    job.add_monitor_arguments(parser)
    job.add_baseline_arguments(parser)
    args = parser.parse_args(["--output", "o", "--problem-type", "Regression"])
    assert args.problem_type == "Regression"


@pytest.mark.parametrize(
    ("text", "hours"), [("PT24H", 24), ("P1D", 24), ("PT90M", 1.5), ("P1DT2H", 26), ("+PT2H", 2), ("PT0H", 0)]
)
def test_lookback_accepts_iso_8601_durations(text: str, hours: float):
    assert parse_duration(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["24h", "-P1D", "P-1D", "P", "PT"])
def test_lookback_rejects_other_text_and_a_sign(text: str):
    with pytest.raises(AnalyzerInputError, match="--ground-truth-lookback .* is not an ISO-8601 duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P367D", "P1000000D", "P99999999999D", "P999999999999W"])
def test_lookback_longer_than_a_year_is_refused_without_overflow(text: str):
    with pytest.raises(AnalyzerInputError, match="reaches back more than 366 days"):
        parse_duration(text)


def test_a_lookback_before_year_one_leaves_the_window_open():
    from model_monitor_analyzer.io.window import parse_timestamp, reach_back

    assert reach_back(parse_timestamp("0001-01-01T00:30:00Z"), timedelta(hours=1)) is None


def test_malformed_capture_and_label_lines_are_skipped_and_the_rest_is_measured(tmp_path: Path):
    scores, labels = _binary_window(tmp_path)
    capture_file = next((tmp_path / "capture").rglob("*.jsonl"))
    lines = capture_file.read_text().splitlines()
    lines[7] = lines[7][:40]  # a truncated capture line
    capture_file.write_text("\n".join(lines) + "\n")
    label_file = next((tmp_path / "groundtruth").rglob("*.jsonl"))
    label_lines = label_file.read_text().splitlines()
    label_lines[20] = "{}"  # a label line without groundTruthData
    label_file.write_text("\n".join(label_lines) + "\n")
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["malformed_records"] == 2
    assert (outcome.summary["malformed_captures"], outcome.summary["malformed_labels"]) == (1, 1)
    assert outcome.summary["matched"] == 298
    keep = np.ones(300, dtype=bool)
    keep[[7, 20]] = False
    body = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels[keep], scores[keep]), abs=1e-9)
    assert body["accuracy"]["value"] == pytest.approx(sk.accuracy_score(labels[keep], scores[keep] > 0.5), abs=1e-9)


def test_more_malformed_lines_than_tolerated_fail_the_run_naming_the_first(tmp_path: Path):
    _binary_window(tmp_path, n=20)
    capture_file = next((tmp_path / "capture").rglob("*.jsonl"))
    lines = capture_file.read_text().splitlines()
    for i in (3, 5, 9, 10, 11):
        lines[i] = "garbage"
    capture_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnalyzerInputError, match="5 of 20 capture records are malformed") as error:
        job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert (error.value.path, error.value.line) == (str(capture_file), 4)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.25"))
    assert outcome.summary["matched"] == 15


def test_good_labels_do_not_dilute_the_share_of_bad_captures(tmp_path: Path):
    # 5 bad captures of 20 are 25 % of the captures: above a tolerance of 20 %, even with 20 good labels beside
    _binary_window(tmp_path, n=20)
    capture_file = next((tmp_path / "capture").rglob("*.jsonl"))
    lines = capture_file.read_text().splitlines()
    for i in (3, 5, 9, 10, 11):
        lines[i] = "garbage"
    capture_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnalyzerInputError, match="5 of 20 capture records are malformed, more than the tolerated 20%"):
        job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.2"))


def test_the_bad_share_of_labels_is_judged_on_the_labels_alone(tmp_path: Path):
    # 4 bad labels of 20 are 20 % of the labels, though only 10 % of labels and captures together
    _binary_window(tmp_path, n=20)
    label_file = next((tmp_path / "groundtruth").rglob("*.jsonl"))
    lines = label_file.read_text().splitlines()
    for i in (2, 4, 6, 8):
        lines[i] = "{}"
    label_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnalyzerInputError, match="4 of 20 ground-truth labels are malformed") as error:
        job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.15"))
    assert (error.value.path, error.value.line) == (str(label_file), 3)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.2"))
    assert outcome.summary["matched"] == 16
    assert (outcome.summary["malformed_records"], outcome.summary["malformed_labels"],
            outcome.summary["malformed_captures"]) == (4, 4, 0)


def test_captures_sharing_inference_ids_are_counted_and_said(tmp_path: Path, capsys):
    rng = np.random.default_rng(5)
    labels = rng.random(300) < 0.4
    scores = np.clip(0.3 * labels + rng.uniform(0.0, 0.7, 300), 0.0, 1.0)
    _write_capture_and_labels(tmp_path, scores, labels, captured_at=START, labelled_at=START)
    capture = next((tmp_path / "capture").rglob("*.jsonl"))
    lines = [json.loads(line) for line in capture.read_text().splitlines()]
    for i, record in enumerate(lines):  # 50 ids for 300 requests
        record["eventMetadata"]["inferenceId"] = f"{START:%H}-{i % 50}"
    capture.write_text("".join(json.dumps(record) + "\n" for record in lines))
    outcome = job.run_monitor(_binary_monitor(tmp_path))
    assert outcome.summary["matched"] == 300
    assert outcome.summary["captures_sharing_an_id"] == 250
    assert "250 of 300 matched captures share their inference id" in capsys.readouterr().err


def test_a_window_whose_captures_are_all_unreadable_says_so_not_that_labels_are_late(tmp_path: Path):
    _binary_window(tmp_path, n=50)
    capture = next((tmp_path / "capture").rglob("*.jsonl"))
    capture.write_text("not json\n" * 50)
    with pytest.raises(AnalyzerInputError, match="none of the 50 capture records could be read; fix the input") as error:
        job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "1"))
    assert (error.value.path, error.value.line) == (str(capture), 1)
    assert "label yet" not in str(error.value)


def _edit_window(root: Path, row: int, *, output: str | None = None, label: str | None = None,
                 output_encoding: str | None = None) -> None:
    """The written window with the captured output and/or the label of record ``row`` replaced."""
    if output is not None:
        capture = next((root / "capture").rglob("*.jsonl"))
        records = [json.loads(line) for line in capture.read_text().splitlines()]
        records[row]["captureData"]["endpointOutput"]["data"] = output
        if output_encoding is not None:
            records[row]["captureData"]["endpointOutput"]["encoding"] = output_encoding
        capture.write_text("".join(json.dumps(record) + "\n" for record in records))
    if label is not None:
        labels = next((root / "groundtruth").rglob("*.jsonl"))
        records = [json.loads(line) for line in labels.read_text().splitlines()]
        records[row]["groundTruthData"]["data"] = label
        labels.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.parametrize("quoted_elsewhere", [False, True])  # True: a quoted output sends the window record by record
def test_a_lone_carriage_return_in_an_output_or_a_label_ends_a_row_as_a_line_feed_does(tmp_path, quoted_elsewhere):
    scores, labels = _binary_window(tmp_path, n=40)
    _edit_window(tmp_path, 3, output=f"{float(scores[3])!r}\r", label=f"\r{int(labels[3])}")
    if quoted_elsewhere:
        _edit_window(tmp_path, 9, output=f'"{float(scores[9])!r}"')
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.COMPLETED and outcome.summary["matched"] == 40
    body = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-9)
    for output, label, found in (("0.7\r0.2", None, "2 predictions but 1 labels"),
                                 (None, "1\r0", "1 predictions but 2 labels")):
        _edit_window(tmp_path, 3, output=output, label=label)
        with pytest.raises(AnalyzerInputError, match=found) as error:
            job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--overwrite"))
        assert str(error.value).startswith("record 09-3: ") and "\n" not in str(error.value)
        _edit_window(tmp_path, 3, output=f"{float(scores[3])!r}", label=f"{int(labels[3])}")


@pytest.mark.parametrize(("output", "encoding"), [("", "JSON"), (" ", "JSON"), ("[]", "JSON"), ("[ ]", "JSON"),
                                                  ("IA==", "BASE64"), ("", "BASE64")])  # IA==: one blank
def test_a_json_or_base64_output_without_a_value_is_a_row_without_a_prediction(tmp_path, output, encoding):
    scores, labels = _binary_window(tmp_path, n=20)
    _edit_window(tmp_path, 6, output=f"[{float(scores[6])!r}]", output_encoding="JSON")  # JSON beside CSV
    _edit_window(tmp_path, 4, output=output, output_encoding=encoding)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["matched"] == 20 and outcome.summary["rows_without_values"] == 1
    kept = [i for i in range(20) if i != 4]
    body = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels[kept], scores[kept]), abs=1e-9)


@pytest.mark.parametrize("quoted_elsewhere", [False, True])
@pytest.mark.parametrize("blank", ["", " ", "\v", "\xa0", "\u2003", "\t\v,\xa0", '""', '" ",,'])
def test_a_label_or_an_output_of_only_blanks_is_skipped_and_counted_alike_by_both_readers(
        tmp_path, capsys, quoted_elsewhere, blank):
    # blanks are what str.isspace calls blanks (as the model-quality values' missing rule trims them), on the
    # column reader as on the per-record one (a quoted output elsewhere sends the window record by record).
    # A label without a value is a bad ground-truth record: counted with its file and line, the window goes on;
    # an output without a value is a row without a prediction, skipped and counted as such.
    scores, labels = _binary_window(tmp_path, n=20)
    if quoted_elsewhere:
        _edit_window(tmp_path, 9, output=f'"{float(scores[9])!r}"')
    _edit_window(tmp_path, 4, label=blank)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--overwrite"))
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["matched"] == 19 and outcome.summary["malformed_labels"] == 1
    assert outcome.summary["captures_without_label"] == 1
    note = capsys.readouterr().err
    assert "1 malformed input record was skipped" in note and "holds no label" in note and ".jsonl:5: " in note
    kept = [i for i in range(20) if i != 4]
    body = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels[kept], scores[kept]), abs=1e-9)
    _edit_window(tmp_path, 4, output=blank, label=f"{int(labels[4])}")
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--overwrite"))
    assert outcome.status is RunStatus.COMPLETED
    assert outcome.summary["matched"] == 20 and outcome.summary["rows_without_values"] == 1
    assert outcome.summary["item_count"] == 19 and "malformed_records" not in outcome.summary
    body = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert body["auc"]["value"] == pytest.approx(sk.roc_auc_score(labels[kept], scores[kept]), abs=1e-9)
