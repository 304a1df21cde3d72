"""Label-free performance estimation of a multiclass classifier from per-class probabilities, on simulated data
whose true probabilities are known (labels drawn from them), against numpy and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import multiclass_estimation as me

CLASSES = 4


def _softmax_probabilities(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """P(y = c | x) of a softmax model on 2 inputs; ``shift`` moves the inputs (covariate shift), not P(y | x)."""
    x = rng.normal(shift, 1.0, (n, 2))
    weights = np.array([[1.5, -1.0, 0.2, -0.6], [0.3, 1.2, -1.4, 0.1]])
    logits = x @ weights + np.array([0.2, 0.0, -0.3, 0.1])
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _draw_labels(rng: np.random.Generator, p: np.ndarray, draws: int = 1) -> np.ndarray:
    """Labels drawn row by row from ``p`` (draws x rows): the first class whose cumulative probability exceeds a
    uniform number."""
    uniform = rng.random((draws, p.shape[0], 1))
    return np.minimum((uniform >= np.cumsum(p, axis=1)[None]).sum(axis=2), p.shape[1] - 1)


def _realised(actual: np.ndarray, predicted: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """scikit-learn's accuracy, macro precision/recall/F1 over every class and macro one-vs-rest ROC AUC."""
    precision, recall, f1, _ = sk.precision_recall_fscore_support(
        actual, predicted, labels=list(range(CLASSES)), average="macro", zero_division=0)
    return {"estimated_accuracy": sk.accuracy_score(actual, predicted), "estimated_precision": precision,
            "estimated_recall": recall, "estimated_f1": f1,
            "estimated_auc": sk.roc_auc_score(actual, p, multi_class="ovr", average="macro",
                                              labels=list(range(CLASSES)))}


def test_expected_confusion_matrix_equals_a_row_by_row_sum():
    rng = np.random.default_rng(3)
    p = _softmax_probabilities(rng, 2_000, shift=0.3)
    predicted = np.argmax(p, axis=1)
    expected = np.zeros((CLASSES, CLASSES))
    for row, j in zip(p, predicted, strict=True):
        expected[:, j] += row
    assert np.allclose(me.expected_confusion_matrix(p, predicted), expected, rtol=1e-12)


def test_estimated_values_equal_numpy_on_the_expected_matrix():
    rng = np.random.default_rng(5)
    p = _softmax_probabilities(rng, 3_000)
    predicted = np.argmax(p, axis=1)
    estimates = me.estimate_multiclass(p, p, predicted, auc_draws=0)
    matrix = np.zeros((CLASSES, CLASSES))
    np.add.at(matrix.T, predicted, p)  # column j gets the probabilities of the rows predicted j
    tp = np.diag(matrix)
    precision = tp / matrix.sum(axis=0)
    recall = tp / matrix.sum(axis=1)
    f1 = 2 * precision * recall / (precision + recall)
    assert estimates["estimated_accuracy"].value == pytest.approx(tp.sum() / p.shape[0], rel=1e-12)
    assert estimates["estimated_precision"].value == pytest.approx(precision.mean(), rel=1e-12)
    assert estimates["estimated_recall"].value == pytest.approx(recall.mean(), rel=1e-12)
    assert estimates["estimated_f1"].value == pytest.approx(f1.mean(), rel=1e-12)
    # accuracy's interval: the Poisson-binomial variance of the correct count, p of the predicted class
    chosen = p[np.arange(p.shape[0]), predicted]
    error = np.sqrt(np.sum(chosen * (1 - chosen))) / p.shape[0]
    assert estimates["estimated_accuracy"].standard_error == pytest.approx(error, rel=1e-12)


def test_estimates_match_the_mean_and_spread_of_realised_metrics_over_drawn_labels():
    """The estimate is the mean of the realised metrics of labels drawn from the probabilities (up to the
    ratio's small bias), and its standard error their spread; the 95 % interval covers about 95 % of them."""
    rng = np.random.default_rng(11)
    p = _softmax_probabilities(rng, 2_000, shift=0.5)
    predicted = np.argmax(p, axis=1)
    estimates = me.estimate_multiclass(p, p, predicted)
    drawn = _draw_labels(rng, p, draws=200)
    realised = [_realised(labels, predicted, p) for labels in drawn]
    for name, estimate in estimates.items():
        values = np.array([r[name] for r in realised])
        assert estimate.value == pytest.approx(values.mean(), abs=0.25 * values.std()), name
        assert estimate.standard_error == pytest.approx(values.std(ddof=1), rel=0.15), name
        inside = np.mean((values >= estimate.lower) & (values <= estimate.upper))
        assert 0.9 <= inside <= 0.99, (name, inside)


def test_calibration_corrects_distorted_scores_per_class_and_rows_add_up_to_one():
    rng = np.random.default_rng(13)
    p = _softmax_probabilities(rng, 20_000)
    actual = _draw_labels(rng, p)[0]
    distorted = p**2.0  # over-confident ranking-preserving scores, not adding up to 1
    calibrations = me.fit_class_calibrations(distorted, actual)
    assert all(choice.calibration is not None for choice in calibrations.choices)
    calibrated = calibrations.probabilities(distorted)
    assert np.allclose(calibrated.sum(axis=1), 1.0)
    window = _softmax_probabilities(rng, 5_000, shift=0.4)
    predicted = np.argmax(window, axis=1)
    truth = me.estimate_multiclass(window, window, predicted, auc_draws=0)
    raw = me.estimate_multiclass(window**2, me.renormalised(window**2), predicted, auc_draws=0)
    fixed = me.estimate_multiclass(window**2, calibrations.probabilities(window**2), predicted, auc_draws=0)
    for name in ("estimated_accuracy", "estimated_f1"):
        assert abs(fixed[name].value - truth[name].value) < 0.01, name
        assert abs(fixed[name].value - truth[name].value) < abs(raw[name].value - truth[name].value), name


def test_calibration_of_calibrated_scores_is_kept_only_where_it_lowers_the_brier_score():
    rng = np.random.default_rng(17)
    p = _softmax_probabilities(rng, 3_000)
    actual = _draw_labels(rng, p)[0]
    calibrations = me.fit_class_calibrations(p, actual)
    for choice in calibrations.choices:
        assert (choice.calibration is not None) == (choice.calibrated_brier < choice.raw_brier)


def test_realised_values_equal_scikit_learn():
    rng = np.random.default_rng(19)
    p = _softmax_probabilities(rng, 1_000)
    actual = _draw_labels(rng, p)[0]
    predicted = np.argmax(p, axis=1)
    ours = me.realised_values(actual, predicted, p, CLASSES)
    for name, value in _realised(actual, predicted, p).items():
        assert ours[name] == pytest.approx(value, abs=1e-12), name


def test_class_order_follows_the_predicted_label_of_each_column():
    rng = np.random.default_rng(23)
    p = _softmax_probabilities(rng, 500)
    names = np.array(["cat", "dog", "emu", "fox"])
    assert me.class_order(names[np.argmax(p, axis=1)].tolist(), p) == ("cat", "dog", "emu", "fox")
    shuffled = p[:, [2, 0, 3, 1]]
    assert me.class_order(names[np.argmax(p, axis=1)].tolist(), shuffled) == ("emu", "cat", "fox", "dog")
    # a class never predicted: integer labels name the columns by position, other labels cannot
    one_sided = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    assert me.class_order(["0", "1"], one_sided, ["0", "2"]) == ("0", "1", "2")
    assert me.class_order(["a", "b"], one_sided, ["a", "c"]) is None
