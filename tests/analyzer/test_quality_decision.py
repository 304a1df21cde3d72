"""Model-quality verdicts at the window's size: standard errors against their formulas and against
resampling, what a window cannot compute, and false alarms and detection on simulated windows."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.cli import main

SEED = 5


def _binary(rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.normal(size=rows)
    scores = 1 / (1 + np.exp(-2 * x))
    actual = rng.random(rows) < scores
    return actual, scores > 0.5, scores


def test_binary_rate_errors_are_walds_over_each_rates_own_denominator():
    rng = np.random.default_rng(SEED)
    actual, predicted, scores = _binary(3_000, rng)
    metrics = mq.binary_classification_metrics(actual, predicted, scores)
    errors = qd.standard_errors(mq.ProblemType.BINARY_CLASSIFICATION, metrics)
    tn, fp, _, tp = sk.confusion_matrix(actual, predicted).ravel()
    precision = tp / (tp + fp)
    assert errors["precision"] == pytest.approx(math.sqrt(precision * (1 - precision) / (tp + fp)), rel=1e-12)
    accuracy = (tp + tn) / len(actual)
    assert errors["accuracy"] == pytest.approx(math.sqrt(accuracy * (1 - accuracy) / len(actual)), rel=1e-12)
    fpr = fp / (fp + tn)
    assert errors["false_positive_rate"] == pytest.approx(math.sqrt(fpr * (1 - fpr) / (fp + tn)), rel=1e-12)


@pytest.mark.parametrize("name", ["f1", "f0_5", "f2", "auc"])
def test_f_score_and_auc_errors_match_the_spread_over_resampled_windows(name):
    # the reference: the metric's standard deviation over 400 windows drawn from the same population,
    # computed by scikit-learn
    rng = np.random.default_rng(SEED)
    size = 800
    spread = []
    for _ in range(400):
        actual, predicted, scores = _binary(size, rng)
        if name == "auc":
            spread.append(sk.roc_auc_score(actual, scores))
        else:
            beta = {"f1": 1.0, "f0_5": 0.5, "f2": 2.0}[name]
            spread.append(sk.fbeta_score(actual, predicted, beta=beta))
    actual, predicted, scores = _binary(size, rng)
    metrics = mq.binary_classification_metrics(actual, predicted, scores)
    estimated = qd.standard_errors(mq.ProblemType.BINARY_CLASSIFICATION, metrics)[name]
    assert estimated == pytest.approx(np.std(spread, ddof=1), rel=0.15)


def test_regression_errors_match_the_spread_over_resampled_windows():
    rng = np.random.default_rng(SEED)

    def window(rows):
        actual = rng.normal(10, 3, rows)
        return actual, actual + rng.normal(0.3, 1.5, rows) * (1 + (actual > 12))  # biased, heteroscedastic

    spread = {"mae": [], "rmse": [], "r2": []}
    for _ in range(400):
        actual, predicted = window(500)
        spread["mae"].append(sk.mean_absolute_error(actual, predicted))
        spread["rmse"].append(math.sqrt(sk.mean_squared_error(actual, predicted)))
        spread["r2"].append(sk.r2_score(actual, predicted))
    # the estimator's mean over windows against the spread of the metric over windows
    estimates = []
    for _ in range(50):
        actual, predicted = window(500)
        metrics = mq.regression_metrics(actual, predicted)
        estimates.append(qd.standard_errors(mq.ProblemType.REGRESSION, metrics, actual=actual, predicted=predicted))
    for name, values in spread.items():
        assert np.mean([e[name] for e in estimates]) == pytest.approx(np.std(values, ddof=1), rel=0.15), name


def test_multiclass_weighted_errors_match_the_spread_over_resampled_windows():
    rng = np.random.default_rng(SEED)
    classes = ["a", "b", "c"]

    def window(rows):
        actual = rng.choice(classes, rows, p=[0.5, 0.3, 0.2])
        wrong = rng.random(rows) < 0.25
        return actual, np.where(wrong, rng.choice(classes, rows), actual)

    spread = []
    for _ in range(300):
        actual, predicted = window(600)
        spread.append(sk.f1_score(actual, predicted, average="weighted"))
    actual, predicted = window(600)
    metrics = mq.multiclass_classification_metrics(actual, predicted, classes)
    errors = qd.standard_errors(mq.ProblemType.MULTICLASS_CLASSIFICATION, metrics)
    assert errors["weighted_f1"] == pytest.approx(np.std(spread, ddof=1), rel=0.2)
    assert errors["weighted_recall"] == errors["accuracy"]


def test_a_window_of_one_class_cannot_compute_the_auc_nor_the_positive_rates():
    actual = np.zeros(40, dtype=bool)
    predicted = np.zeros(40, dtype=bool)
    metrics = mq.binary_classification_metrics(actual, predicted, np.full(40, 0.2))
    reasons = qd.not_computable(mq.ProblemType.BINARY_CLASSIFICATION, metrics)
    assert reasons["auc"] == "labels of one class only"
    assert set(reasons) == {"auc", "recall", "true_positive_rate", "false_negative_rate", "precision",
                            "f0_5", "f1", "f2"}


def test_the_built_in_comparison_flags_any_value_past_its_threshold():
    metrics = {"accuracy": mq.MetricValue(value=0.94, standard_deviation=None)}
    constraint = mq.MetricConstraint(metric="accuracy", threshold=0.9542, operator=mq.ComparisonOperator.LESS_THAN)
    verdict = qd.decide(metrics, [constraint], qd.QualityDecision(comparison=qd.THRESHOLD), errors={},
                        baseline_errors={}, window_size=285, skipped={})
    assert [v.metric for v in verdict.violations] == ["accuracy"]


def test_a_drop_within_chance_at_the_windows_size_is_no_violation_and_a_large_one_is():
    constraint = mq.MetricConstraint(metric="accuracy", threshold=0.9542, operator=mq.ComparisonOperator.LESS_THAN)
    decision = qd.QualityDecision(comparison=qd.SIGNIFICANCE, baseline_size=285)

    def judged(value: float, size: int) -> bool:
        metrics = {"accuracy": mq.MetricValue(value=value, standard_deviation=None)}
        errors = {"accuracy": math.sqrt(value * (1 - value) / size)}
        verdict = qd.decide(metrics, [constraint], decision, errors=errors, baseline_errors={"accuracy": 0.0124},
                            window_size=size, skipped={})
        return bool(verdict.violations)

    assert not judged(0.9404, 285)  # the breast-cancer window: 0.94 against 0.954 at 285 rows
    assert judged(0.80, 285)


def test_a_tolerance_keeps_significant_but_small_drops_quiet():
    constraint = mq.MetricConstraint(metric="accuracy", threshold=0.90, operator=mq.ComparisonOperator.LESS_THAN)
    metrics = {"accuracy": mq.MetricValue(value=0.89, standard_deviation=None)}
    for tolerance, expected in ((0.0, True), (0.02, False)):
        decision = qd.QualityDecision(comparison=qd.SIGNIFICANCE, tolerance=tolerance)
        verdict = qd.decide(metrics, [constraint], decision, errors={"accuracy": 0.0005}, baseline_errors={},
                            window_size=100_000, skipped={})
        assert bool(verdict.violations) is expected


def test_bad_monitoring_config_values_are_refused_naming_the_key():
    for config, key in (({"comparison": "loose"}, "comparison"), ({"significance_level": 0}, "significance_level"),
                        ({"tolerance": -1}, "tolerance"), ({"baseline_size": 0}, "baseline_size"),
                        ({"alpha": 0.1}, "unknown key 'alpha'")):
        with pytest.raises(ValueError, match=key):
            qd.parse_decision({"monitoring_config": config})


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("labelled")
    rng = np.random.default_rng(SEED)

    def write(rows: int, path, *, drop: float = 0.0) -> None:
        actual, _, scores = _binary(rows, rng)
        labels = actual.astype(int)
        if drop:
            correct = (scores > 0.5) == actual
            labels = np.where(correct & (rng.random(rows) < drop / 0.76), 1 - labels, labels)
        pd.DataFrame({"score": scores, "label": labels}).to_csv(path, index=False)

    write(2_000, root / "baseline.csv")
    model = ["--problem-type", "BinaryClassification", "--inference-attribute", "score",
             "--probability-attribute", "score", "--probability-threshold", "0.5", "--ground-truth-attribute", "label"]
    assert main(["baseline", "--type", "model-quality", "--dataset", str(root / "baseline.csv"), "--quiet",
                 "--output", str(root / "baseline"), *model]) == 0
    constraints = json.loads((root / "baseline" / "constraints.json").read_text())

    def violations(rows: int, *, drop: float = 0.0) -> list[str]:
        write(rows, root / "window.csv", drop=drop)
        # the window profiled as a baseline gives its metrics; the decision reads them as a monitor would
        assert main(["baseline", "--type", "model-quality", "--dataset", str(root / "window.csv"), "--quiet",
                     "--overwrite", "--output", str(root / "window"), *model]) == 0
        statistics = json.loads((root / "window" / "statistics.json").read_text())["binary_classification_metrics"]
        metrics = {name: mq.MetricValue(value=entry["value"], standard_deviation=None)
                   for name, entry in statistics.items() if isinstance(entry, dict) and "value" in entry}
        metrics["confusion_matrix"] = statistics["confusion_matrix"]
        section = constraints["binary_classification_constraints"]
        decision = qd.parse_decision(constraints)
        verdict = qd.decide(
            metrics, [mq.MetricConstraint(metric=m, threshold=s["threshold"], operator=mq.ComparisonOperator(
                s["comparison_operator"])) for m, s in section.items()], decision,
            errors=qd.standard_errors(mq.ProblemType.BINARY_CLASSIFICATION, metrics),
            baseline_errors={m: s["baseline_standard_error"] for m, s in section.items()}, window_size=rows,
            skipped={})
        return [v.metric for v in verdict.violations]

    return violations


def test_unchanged_windows_stay_quiet_at_every_size(labelled):
    alarms = sum(bool(labelled(size)) for size in (100, 2_000, 20_000) for _ in range(8))
    assert alarms <= 1


def test_an_accuracy_drop_of_ten_points_is_flagged_at_2000_labelled_rows(labelled):
    assert "accuracy" in labelled(2_000, drop=0.10)


def test_a_one_class_window_reports_the_auc_as_not_computable_everywhere(tmp_path, capsys):
    rng = np.random.default_rng(SEED)
    _, _, scores = _binary(500, rng)
    pd.DataFrame({"score": rng.uniform(0, 1, 1000), "label": rng.integers(0, 2, 1000)}).to_csv(
        tmp_path / "baseline.csv", index=False)
    model = ["--problem-type", "BinaryClassification", "--inference-attribute", "score", "--probability-attribute",
             "score", "--probability-threshold", "0.5", "--ground-truth-attribute", "label"]
    assert main(["baseline", "--type", "model-quality", "--dataset", str(tmp_path / "baseline.csv"), "--quiet",
                 "--output", str(tmp_path / "b"), *model]) == 0
    # a window whose labels are all 0: the built-in publishes auc 0.0 and flags it
    merged = tmp_path / "merged"
    merged.mkdir()
    (merged / "part-0.jsonl").write_text("".join(json.dumps({
        "eventVersion": "0", "groundTruthData": {"data": "0", "encoding": "CSV"},
        "captureData": {"endpointOutput": {"data": f"{s:.4f}", "encoding": "CSV", "mode": "OUTPUT",
                                           "observedContentType": "text/csv"}},
        "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2026-01-01T10:00:00Z"}}) + "\n"
        for i, s in enumerate(scores[:200])))
    capsys.readouterr()
    assert main(["monitor", "--type", "model-quality", "--merged", str(merged), "--output", str(tmp_path / "o"),
                 "--constraints", str(tmp_path / "b" / "constraints.json"), "--inference-attribute", "0",
                 "--probability-attribute", "0", "--problem-type", "BinaryClassification",
                 "--probability-threshold", "0.5"]) == 0
    assert "auc (labels of one class only)" in capsys.readouterr().err
    violated = {v["metric_name"] for v in json.loads((tmp_path / "o" / "constraint_violations.json").read_text())["violations"]}
    assert "auc" not in violated and "recall" not in violated
    published = {json.loads(line)["MetricName"] for path in (tmp_path / "o" / "metrics").glob("*.jsonl")
                 for line in path.read_text().splitlines()}
    assert "auc" not in published and "quality_violation_auc" not in published and "accuracy" in published
    assert "not computable: labels of one class only" in (tmp_path / "o" / "report.html").read_text()


def test_f_scores_have_no_value_in_a_window_without_a_positive_label_even_with_positive_predictions():
    actual = np.zeros(30, dtype=bool)
    predicted = np.arange(30) < 3
    metrics = mq.binary_classification_metrics(actual, predicted, predicted.astype(float))
    reasons = qd.not_computable(mq.ProblemType.BINARY_CLASSIFICATION, metrics)
    assert {"f0_5", "f1", "f2", "recall"} <= set(reasons) and "precision" not in reasons
