"""Label-free performance estimation and prediction drift of the model-quality monitor, on simulated data
whose true probabilities are known (labels drawn from them)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import isotonic_regression
from sklearn import metrics as sk

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import performance_estimation as pe
from model_monitor_analyzer.checks.prediction_drift import ReferencePredictions, prediction_drift
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.model_quality.estimation import ESTIMATION_KEY
from model_monitor_analyzer.monitors.model_quality.run import read_constraints
from tests.analyzer.test_model_quality_jobs import (
    START,
    _baseline_args,
    _binary_monitor,
    _hour_folder,
    _write_capture_and_labels,
)


def _true_probabilities(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """P(y = 1 | x) of a logistic model; ``shift`` moves the inputs (covariate shift), not P(y | x)."""
    x = rng.normal(shift, 1.0, n)
    return 1.0 / (1.0 + np.exp(-(2.0 * x - 0.5)))


# -- the estimate itself ----------------------------------------------------------------------------


def test_expected_confusion_counts_equal_an_independent_numpy_computation():
    rng = np.random.default_rng(7)
    p = _true_probabilities(rng, 5_000, shift=0.4)
    predicted = p > 0.5
    counts = pe.expected_counts(p, predicted)
    tp = float(np.dot(p, predicted))
    fp = float(np.dot(1 - p, predicted))
    fn = float(np.dot(p, ~predicted))
    tn = float(np.dot(1 - p, ~predicted))
    assert counts.true_positives == pytest.approx(tp, rel=1e-12)
    assert counts.false_positives == pytest.approx(fp, rel=1e-12)
    assert counts.false_negatives == pytest.approx(fn, rel=1e-12)
    assert counts.true_negatives == pytest.approx(tn, rel=1e-12)
    estimates = pe.estimate_binary(p, p, predicted)
    assert estimates["estimated_accuracy"].value == pytest.approx((tp + tn) / p.size, rel=1e-12)
    assert estimates["estimated_precision"].value == pytest.approx(tp / (tp + fp), rel=1e-12)
    assert estimates["estimated_recall"].value == pytest.approx(tp / (tp + fn), rel=1e-12)
    assert estimates["estimated_f1"].value == pytest.approx(2 * tp / (2 * tp + fp + fn), rel=1e-12)
    # accuracy's interval: the Poisson-binomial variance sum p(1 - p) of the correct count
    error = np.sqrt(np.sum(p * (1 - p))) / p.size
    assert estimates["estimated_accuracy"].standard_error == pytest.approx(error, rel=1e-12)


def test_expected_auc_of_known_labels_is_their_realised_auc():
    rng = np.random.default_rng(8)
    scores = np.round(rng.random(2_000), 2)  # ties
    labels = rng.random(2_000) < scores
    estimate = pe.estimated_auc(scores, labels.astype(float), draws=0)
    assert estimate.value == pytest.approx(sk.roc_auc_score(labels, scores), abs=1e-12)
    assert estimate.value == pytest.approx(mq.roc_auc(scores, labels), abs=1e-12)


def test_auc_interval_by_the_delta_method_agrees_with_the_bootstrap(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(9)
    p = _true_probabilities(rng, 8_000)
    boot = pe.estimated_auc(p, p)
    monkeypatch.setattr(pe, "_BOOTSTRAP_CELLS", 0)
    delta = pe.estimated_auc(p, p)
    assert delta.value == boot.value
    assert delta.standard_error == pytest.approx(boot.standard_error, rel=0.15)


def test_isotonic_calibration_is_scipys_fit_at_its_block_centres_shrunk_and_joined_linearly():
    rng = np.random.default_rng(10)
    p = _true_probabilities(rng, 3_000)
    scores = p**3  # miscalibrated, continuous: no ties
    labels = rng.random(p.size) < p
    calibration = pe.isotonic_calibration(scores, labels)
    order = np.argsort(scores)
    fitted = isotonic_regression(labels[order].astype(float)).x  # one row per score, no pooling needed
    ordered = scores[order]
    blocks = [np.flatnonzero(fitted == value) for value in np.unique(fitted)]
    centres = np.array([ordered[b].mean() for b in blocks])
    positives = np.array([labels[order][b].sum() for b in blocks])
    sizes = np.array([b.size for b in blocks], dtype=float)
    # Jeffreys-shrunk shares, pooled again where the shrinking crossed two blocks
    shrunk = isotonic_regression((positives + 0.5) / (sizes + 1.0), weights=sizes + 1.0).x
    assert np.allclose(calibration.scores, centres, rtol=1e-12)
    assert np.allclose(calibration.probabilities, shrunk, atol=1e-12)
    new = rng.random(500)
    assert np.allclose(calibration.apply(new), np.interp(new, centres, shrunk), atol=1e-12)
    assert calibration.scores.size < p.size / 5  # stored compactly


def test_calibration_is_kept_only_when_it_improves_the_cross_fitted_brier_score():
    rng = np.random.default_rng(11)
    p = _true_probabilities(rng, 5_000)
    labels = rng.random(p.size) < p
    assert pe.fit_calibration(p**3, labels).calibration is not None
    already = pe.fit_calibration(p, labels)
    assert already.calibration is None and already.calibrated_brier >= already.raw_brier


# -- prediction drift -----------------------------------------------------------------------------------


def test_scores_from_the_same_distribution_are_not_flagged_and_shifted_ones_are():
    rng = np.random.default_rng(12)
    reference = ReferencePredictions.of(np.zeros(5_000).astype(str), _true_probabilities(rng, 5_000))
    same = prediction_drift(reference, labels=[], scores=_true_probabilities(rng, 2_000), significance_level=0.01)
    moved = prediction_drift(reference, labels=[], scores=_true_probabilities(rng, 2_000, shift=0.5),
                             significance_level=0.01)
    assert not same.drifted
    assert moved.drifted and "scores" in moved.flagged


def test_a_cluster_of_scores_beyond_the_reference_range_is_counted_and_flagged():
    rng = np.random.default_rng(13)
    reference_scores = rng.uniform(0.05, 0.95, 5_000)
    reference = ReferencePredictions.of(np.zeros(5_000).astype(str), reference_scores)
    window = np.concatenate((rng.uniform(0.05, 0.95, 2_000), np.full(30, 0.999)))
    found = prediction_drift(reference, labels=[], scores=window, significance_level=0.01)
    assert found.above_range == int(np.count_nonzero(window > reference_scores.max()))
    assert "above_range" in found.flagged


# -- the monitor ------------------------------------------------------------------------------------------


def _baseline(root: Path, rng: np.random.Generator, n: int = 4_000) -> Path:
    p = _true_probabilities(rng, n)
    labels = rng.random(n) < p
    scores = p**2  # the model's score, miscalibrated
    dataset = root / "reference.csv"
    dataset.write_text("score,label\n" + "".join(f"{float(s)!r},{int(y)}\n" for s, y in zip(scores, labels, strict=True)))
    outcome = job.run_baseline(_baseline_args(
        "--dataset", str(dataset), "--problem-type", "BinaryClassification", "--probability-attribute", "score",
        "--probability-threshold", "0.25", "--ground-truth-attribute", "label", "--output", str(root / "baseline")))
    assert outcome.status is RunStatus.COMPLETED
    return root / "baseline" / "constraints.json"


def _captures_only(root: Path, scores: np.ndarray) -> None:
    _write_capture_and_labels(root, scores, np.zeros(scores.size), captured_at=START, labelled_at=START)
    for file in (root / "groundtruth").rglob("*.jsonl"):
        file.unlink()
    _hour_folder(root / "groundtruth", START)


def test_baseline_keeps_the_calibration_and_the_reference_under_its_own_key(tmp_path: Path):
    constraints = _baseline(tmp_path, np.random.default_rng(14))
    document = json.loads(constraints.read_text())
    block = document[ESTIMATION_KEY]
    assert block["calibration"]["method"] == "isotonic"
    assert block["calibration"]["cross_fitted_brier_score"]["calibrated"] < \
        block["calibration"]["cross_fitted_brier_score"]["raw"]
    statistics = json.loads((tmp_path / "baseline" / "statistics.json").read_text())["binary_classification_metrics"]
    assert block["reference_metrics"]["accuracy"]["value"] == statistics["accuracy"]["value"]
    # the constraints a SageMaker reader sees are unchanged
    assert [c.metric for c in read_constraints(constraints, mq.ProblemType.BINARY_CLASSIFICATION)] == list(
        document["binary_classification_constraints"])


def test_window_without_labels_is_estimated_instead_of_no_data(tmp_path: Path):
    rng = np.random.default_rng(15)
    constraints = _baseline(tmp_path, rng)
    _captures_only(tmp_path, _true_probabilities(rng, 2_000) ** 2)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold",
                                              "0.25", "--metrics-dir", str(tmp_path / "metrics")))
    assert outcome.status is RunStatus.COMPLETED, outcome.message
    assert outcome.summary["performance_estimation"] == "estimated only: no labels in the window"
    block = json.loads((tmp_path / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["mode"] == "estimated_only_no_labels"
    assert block["item_count"] == 2_000
    assert set(block["estimated"]) == set(pe.ESTIMATED_METRICS)
    lines = [json.loads(line) for line in (tmp_path / "metrics" / "model_quality_metrics.jsonl").read_text().splitlines()]
    names = {line["MetricName"]: line["Value"] for line in lines}
    assert names["estimated_accuracy"] == block["estimated"]["estimated_accuracy"]["value"]
    assert names["quality_violation_estimated_accuracy"] == 0.0
    assert names["quality_violation_prediction_drift"] == 0.0


def test_an_estimated_window_whose_labels_match_no_capture_says_why(tmp_path: Path, capsys: pytest.CaptureFixture):
    # labels came in the window, but their ids are not the captures' (or they belong to the hour before): the run says
    # so, not only that the labels are still to come
    rng = np.random.default_rng(21)
    constraints = _baseline(tmp_path, rng)
    scores = _true_probabilities(rng, 500) ** 2
    _write_capture_and_labels(tmp_path, scores, rng.random(500) < scores, captured_at=START, labelled_at=START)
    for file in (tmp_path / "groundtruth").rglob("*.jsonl"):
        file.write_text(file.read_text().replace('"eventId": "', '"eventId": "order-'))
    capsys.readouterr()
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold",
                                              "0.25"))
    assert outcome.summary["performance_estimation"] == "estimated only: no labels in the window"
    err = capsys.readouterr().err
    assert "ids probably do not match" in err and "'order-" in err and "longer --ground-truth-lookback" in err


def test_an_estimated_window_without_labels_says_nothing_of_ids(tmp_path: Path, capsys: pytest.CaptureFixture):
    rng = np.random.default_rng(22)
    constraints = _baseline(tmp_path, rng)
    _captures_only(tmp_path, _true_probabilities(rng, 500) ** 2)
    capsys.readouterr()
    job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold", "0.25"))
    err = capsys.readouterr().err
    assert "get the performance estimated from the baseline's calibration" in err and "ids" not in err


def test_a_window_with_a_ground_truth_lookback_estimates_every_capture_of_the_window(tmp_path: Path):
    """With a look-back the join reads earlier captures too, so the estimate reads the window's own in a pass of
    its own: all of them, not none."""
    rng = np.random.default_rng(19)
    constraints = _baseline(tmp_path, rng)
    _captures_only(tmp_path, _true_probabilities(rng, 1_500) ** 2)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold",
                                              "0.25", "--ground-truth-lookback", "PT2H"))
    assert outcome.status is RunStatus.COMPLETED, outcome.message
    block = json.loads((tmp_path / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["item_count"] == 1_500


def test_a_covariate_shift_that_lowers_accuracy_is_estimated_and_violates(tmp_path: Path):
    rng = np.random.default_rng(16)
    constraints = _baseline(tmp_path, rng)
    # inputs near the decision boundary: the model is less sure, its accuracy lower
    x = rng.normal(0.25, 0.3, 3_000)
    _captures_only(tmp_path, (1.0 / (1.0 + np.exp(-(2.0 * x - 0.5)))) ** 2)
    outcome = job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold",
                                              "0.25"))
    assert outcome.status is RunStatus.COMPLETED_WITH_VIOLATIONS
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    names = {v["metric_name"] for v in violations}
    assert "estimatedAccuracy" in names and "predictionDrift" in names
    from model_monitor_analyzer.report.html.page import read_summary

    summary = read_summary((tmp_path / "out" / "report.html").read_bytes())
    assert summary["violations"] == len(violations)  # the history counts every label-free violation
    assert [c["name"] for c in summary["check_violations"]] == ["predictionDrift"]


def _labelled_window(root: Path, scores: np.ndarray, labels: np.ndarray) -> None:
    _write_capture_and_labels(root, scores, labels, captured_at=START, labelled_at=START)


def test_realised_metrics_sit_beside_the_estimate_and_a_concept_shift_is_reported(tmp_path: Path):
    rng = np.random.default_rng(17)
    constraints = _baseline(tmp_path, rng)
    p = _true_probabilities(rng, 3_000)
    _labelled_window(tmp_path / "same", p**2, rng.random(p.size) < p)
    same = job.run_monitor(_binary_monitor(tmp_path / "same", "--constraints", str(constraints),
                                           "--probability-threshold", "0.25"))
    block = json.loads((tmp_path / "same" / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["mode"] == "estimated_and_realised"
    assert block["labelled_rows"]["concept_shift"]["flagged"] == []
    assert same.status is RunStatus.COMPLETED, same.message
    # P(y | x) changes: the same scores, labels from another relation
    _labelled_window(tmp_path / "shifted", p**2, rng.random(p.size) < 0.5)
    job.run_monitor(_binary_monitor(tmp_path / "shifted", "--constraints", str(constraints),
                                    "--probability-threshold", "0.25"))
    violations = json.loads((tmp_path / "shifted" / "out" / "constraint_violations.json").read_text())["violations"]
    assert "conceptShift" in {v["metric_name"] for v in violations}


def test_the_report_shows_estimates_and_realised_beside_them(tmp_path: Path):
    rng = np.random.default_rng(18)
    constraints = _baseline(tmp_path, rng)
    p = _true_probabilities(rng, 2_000)
    _labelled_window(tmp_path, p**2, rng.random(p.size) < p)
    job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold", "0.25"))
    page = (tmp_path / "out" / "report.html").read_text()
    block = json.loads((tmp_path / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert "Performance without labels" in page and "realised against estimated" in page
    from model_monitor_analyzer.report.html import svg

    assert svg.number_text(block["labelled_rows"]["realised"]["accuracy"]) in page
    assert svg.number_text(block["estimated"]["estimated_accuracy"]["value"]) in page
    # the history page and the Python reader follow the estimate beside the realised metric, window by window
    from model_monitor_analyzer.report.html.page import read_summary

    series = {p["name"]: p for p in read_summary(page.encode())["series"]}
    assert series["estimated_accuracy"]["value"] == block["estimated"]["estimated_accuracy"]["value"]
    assert series["estimated_accuracy"]["baseline"] == block["estimated"]["estimated_accuracy"]["reference"]
    assert "accuracy" in series


def test_multiclass_predicted_labels_are_compared_without_labels(tmp_path: Path, capsys: pytest.CaptureFixture):
    rng = np.random.default_rng(19)
    classes = np.array(["a", "b", "c"])
    dataset = tmp_path / "reference.csv"
    predicted = rng.choice(classes, 3_000, p=[0.5, 0.3, 0.2])
    actual = np.where(rng.random(3_000) < 0.8, predicted, rng.choice(classes, 3_000))
    dataset.write_text("predicted,label\n" + "".join(f"{a},{b}\n" for a, b in zip(predicted, actual, strict=True)))
    job.run_baseline(_baseline_args(
        "--dataset", str(dataset), "--problem-type", "MulticlassClassification", "--inference-attribute", "predicted",
        "--ground-truth-attribute", "label", "--output", str(tmp_path / "baseline")))
    block = json.loads((tmp_path / "baseline" / "constraints.json").read_text())[ESTIMATION_KEY]
    assert block["predictions"]["predicted_labels"] == {c: int(np.count_nonzero(predicted == c)) for c in classes}
    assert "calibration" not in block  # no class probabilities: nothing to estimate from
    window = rng.choice(classes, 2_000, p=[0.2, 0.3, 0.5])  # the model now predicts mostly "c"
    capture_dir = _hour_folder(tmp_path / "capture" / "ep" / "AllTraffic", START)
    (capture_dir / "00-00-000-capture.jsonl").write_text("".join(json.dumps({
        "captureData": {"endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": label,
                                           "encoding": "CSV"}},
        "eventMetadata": {"eventId": f"e{i}", "inferenceTime": START.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "eventVersion": "0"}) + "\n" for i, label in enumerate(window)))
    _hour_folder(tmp_path / "groundtruth", START)
    from tests.analyzer.test_model_quality_jobs import _monitor_args

    outcome = job.run_monitor(_monitor_args(
        "--capture", str(tmp_path / "capture"), "--ground-truth", str(tmp_path / "groundtruth"),
        "--output", str(tmp_path / "out"), "--problem-type", "MulticlassClassification", "--inference-attribute", "0",
        "--constraints", str(tmp_path / "baseline" / "constraints.json"),
        "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", "2024-05-02T11:00:00Z"))
    assert outcome.status is RunStatus.COMPLETED_WITH_VIOLATIONS, outcome.message
    drift = json.loads((tmp_path / "out" / "statistics.json").read_text())[ESTIMATION_KEY]["prediction_drift"]
    assert drift["compared"] == "predicted_labels" and drift["drift"]
    # nothing to estimate the performance from: the note says only what is checked
    block = json.loads((tmp_path / "out" / "statistics.json").read_text())[ESTIMATION_KEY]
    assert block["estimated"] == {}
    err = capsys.readouterr().err
    assert "get a prediction-drift check against the baseline's predictions (no performance is estimated" in err
    assert "needs scores, --probability-attribute, in the baseline and in the window" in err
    assert "get the performance estimated" not in err


def test_parts_read_in_other_processes_give_the_same_estimate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from model_monitor_analyzer.jobs import parallel

    rng = np.random.default_rng(20)
    constraints = _baseline(tmp_path, rng)
    scores = _true_probabilities(rng, 3_000) ** 2
    # three capture files, so that each worker reads its own
    for part in range(3):
        root = tmp_path / f"part{part}"
        _write_capture_and_labels(root, scores[part * 1_000:(part + 1) * 1_000], np.zeros(1_000),
                                  captured_at=START + timedelta(minutes=10 * part), labelled_at=START)
        source = next((root / "capture").rglob("*.jsonl"))
        target = _hour_folder(tmp_path / "capture" / "ep" / "AllTraffic", START) / f"{part:02d}-capture.jsonl"
        target.write_text(source.read_text().replace('"inferenceId": "', f'"inferenceId": "p{part}-'))
    _hour_folder(tmp_path / "groundtruth", START)

    def estimate(workers: str, output: str) -> dict:
        job.run_monitor(_binary_monitor(tmp_path, "--constraints", str(constraints), "--probability-threshold", "0.25",
                                        "--workers", workers, "--output", str(tmp_path / output)))
        return json.loads((tmp_path / output / "statistics.json").read_text())[ESTIMATION_KEY]

    one = estimate("1", "one")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    three = estimate("3", "three")
    assert one["item_count"] == three["item_count"] == 3_000
    assert one == three
