"""Model-quality metrics against scikit-learn (the reference implementation) and the real files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import model_quality as mq

TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def binary_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = 1500
    actual = rng.random(n) < 0.3
    # informative scores with ties (rounded), so thresholds group equal scores
    scores = np.clip(np.round(0.35 * actual + rng.normal(0.4, 0.2, n), 2), 0.0, 1.0)
    predicted = scores > 0.5
    return actual, predicted, scores


@pytest.fixture(scope="module")
def multiclass_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 900
    actual = rng.choice(["a", "b", "c", "d"], size=n, p=[0.5, 0.3, 0.15, 0.05])
    noise = rng.random(n) < 0.35
    predicted = np.where(noise, rng.choice(["a", "b", "c", "e"], size=n), actual)
    return actual, predicted


@pytest.fixture(scope="module")
def regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(13)
    y = rng.normal(10.0, 3.0, 700)
    return y, y + rng.normal(0.2, 1.5, y.size)


def test_binary_scalar_metrics_match_scikit_learn(binary_data):
    actual, predicted, _ = binary_data
    counts = mq.binary_counts(actual, predicted)
    tn, fp, fn, tp = sk.confusion_matrix(actual, predicted, labels=[False, True]).ravel()
    assert (counts.true_negatives, counts.false_positives, counts.false_negatives, counts.true_positives) == (
        tn,
        fp,
        fn,
        tp,
    )
    assert mq.recall(counts) == pytest.approx(sk.recall_score(actual, predicted), abs=TOLERANCE)
    assert mq.precision(counts) == pytest.approx(sk.precision_score(actual, predicted), abs=TOLERANCE)
    assert mq.accuracy(counts) == pytest.approx(sk.accuracy_score(actual, predicted), abs=TOLERANCE)
    specificity = sk.recall_score(~actual, ~predicted)
    assert mq.true_negative_rate(counts) == pytest.approx(specificity, abs=TOLERANCE)
    assert mq.false_positive_rate(counts) == pytest.approx(1 - specificity, abs=TOLERANCE)
    assert mq.false_negative_rate(counts) == pytest.approx(
        1 - sk.recall_score(actual, predicted), abs=TOLERANCE
    )
    p, r = mq.precision(counts), mq.recall(counts)
    for beta in (0.5, 1.0, 2.0):
        assert mq.f_beta(p, r, beta) == pytest.approx(
            sk.fbeta_score(actual, predicted, beta=beta), abs=TOLERANCE
        )


def test_binary_best_constant_classifier_always_predicts_positive(binary_data):
    actual, _, _ = binary_data
    always = np.ones(actual.size, dtype=bool)
    counts = mq.best_constant_binary_counts(actual)
    assert mq.recall(counts) == pytest.approx(sk.recall_score(actual, always), abs=TOLERANCE)
    assert mq.precision(counts) == pytest.approx(sk.precision_score(actual, always), abs=TOLERANCE)
    assert mq.accuracy(counts) == pytest.approx(sk.accuracy_score(actual, always), abs=TOLERANCE)
    assert mq.f_beta(mq.precision(counts), 1.0, 2.0) == pytest.approx(
        sk.fbeta_score(actual, always, beta=2.0), abs=TOLERANCE
    )


def test_roc_curve_and_auc_match_scikit_learn_with_spark_end_points(binary_data):
    actual, _, scores = binary_data
    fprs, tprs = mq.roc_curve(scores, actual)
    sk_fpr, sk_tpr, _ = sk.roc_curve(actual, scores, drop_intermediate=False)
    # scikit-learn starts at (0, 0) too; Spark (and the built-in) also close the curve with (1, 1)
    np.testing.assert_allclose(fprs[:-1], sk_fpr, atol=TOLERANCE)
    np.testing.assert_allclose(tprs[:-1], sk_tpr, atol=TOLERANCE)
    assert (fprs[-1], tprs[-1]) == (1.0, 1.0)
    assert mq.roc_auc(scores, actual) == pytest.approx(sk.roc_auc_score(actual, scores), abs=TOLERANCE)


def test_precision_recall_curve_lists_one_point_per_distinct_score(binary_data):
    actual, _, scores = binary_data
    precisions, recalls = mq.precision_recall_curve(scores, actual)
    thresholds = np.unique(scores)[::-1]
    expected_p = [sk.precision_score(actual, scores >= t, zero_division=0) for t in thresholds]
    expected_r = [sk.recall_score(actual, scores >= t) for t in thresholds]
    np.testing.assert_allclose(precisions, [expected_p[0], *expected_p], atol=TOLERANCE)
    np.testing.assert_allclose(recalls, [0.0, *expected_r], atol=TOLERANCE)


def test_curves_of_the_developer_guide_example_are_reproduced():
    # DG model-monitor-model-quality-metrics: four positive rows with distinct scores, no negative
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    actual = np.ones(4, dtype=bool)
    assert mq.roc_curve(scores, actual) == ([0.0, 0.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.25, 0.5, 0.75, 1.0, 1.0])
    assert mq.precision_recall_curve(scores, actual) == ([1.0] * 5, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert mq.roc_auc(scores, actual) == 1.0


def test_binary_rates_of_the_developer_guide_example_are_reproduced_bit_for_bit():
    # DG example confusion matrix {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    actual = np.array([False, False, False, True])
    predicted = np.array([False, True, True, True])
    result = mq.binary_classification_metrics(actual, predicted, predicted.astype(float))
    assert result["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    dg = {
        "recall": 1.0,
        "precision": 0.3333333333333333,
        "accuracy": 0.5,
        "recall_best_constant_classifier": 1.0,
        "precision_best_constant_classifier": 0.25,
        "accuracy_best_constant_classifier": 0.25,
        "true_positive_rate": 1.0,
        "true_negative_rate": 0.33333333333333337,
        "false_positive_rate": 0.6666666666666666,
        "false_negative_rate": 0.0,
        "f0_5": 0.3846153846153846,
        "f1": 0.5,
        "f2": 0.7142857142857143,
        "f0_5_best_constant_classifier": 0.29411764705882354,
        "f1_best_constant_classifier": 0.4,
        "f2_best_constant_classifier": 0.625,
    }
    for name, value in dg.items():
        assert result[name] == mq.MetricValue(value=value, standard_deviation=None), name


def test_binary_metrics_come_in_the_built_in_order(binary_data):
    actual, predicted, scores = binary_data
    names = list(mq.binary_classification_metrics(actual, predicted, scores))
    assert names == [
        "confusion_matrix", "recall", "precision", "accuracy", "recall_best_constant_classifier",
        "precision_best_constant_classifier", "accuracy_best_constant_classifier", "true_positive_rate",
        "true_negative_rate", "false_positive_rate", "false_negative_rate",
        "receiver_operating_characteristic_curve", "precision_recall_curve", "auc", "f0_5", "f1", "f2",
        "f0_5_best_constant_classifier", "f1_best_constant_classifier", "f2_best_constant_classifier",
    ]  # fmt: skip


def test_multiclass_weighted_metrics_match_scikit_learn(multiclass_data):
    actual, predicted = multiclass_data
    classes = sorted(set(actual) | set(predicted))
    matrix = mq.confusion_matrix(actual, predicted, classes)
    np.testing.assert_array_equal(matrix, sk.confusion_matrix(actual, predicted, labels=classes))
    assert mq.multiclass_accuracy(matrix) == pytest.approx(
        sk.accuracy_score(actual, predicted), abs=TOLERANCE
    )
    assert mq.weighted_recall(matrix) == pytest.approx(
        sk.recall_score(actual, predicted, average="weighted", zero_division=0), abs=TOLERANCE
    )
    assert mq.weighted_precision(matrix) == pytest.approx(
        sk.precision_score(actual, predicted, average="weighted", zero_division=0), abs=TOLERANCE
    )
    for beta in (0.5, 1.0, 2.0):
        assert mq.weighted_f_beta(matrix, beta) == pytest.approx(
            sk.fbeta_score(actual, predicted, beta=beta, average="weighted", zero_division=0), abs=TOLERANCE
        )


def test_multiclass_best_constant_classifier_matches_scikit_learn_on_the_constant_prediction(multiclass_data):
    actual, predicted = multiclass_data
    classes = sorted(set(actual) | set(predicted))
    result = mq.multiclass_classification_metrics(list(actual), list(predicted), classes)
    constant = np.full(actual.size, "d")  # "d" is the least frequent class of the truth
    assert mq.constant_classifier_class(list(actual), classes) == "d"
    expected = {
        "accuracy_best_constant_classifier": sk.accuracy_score(actual, constant),
        "weighted_precision_best_constant_classifier": sk.precision_score(
            actual, constant, average="weighted", zero_division=0
        ),
        "weighted_f1_best_constant_classifier": sk.f1_score(
            actual, constant, average="weighted", zero_division=0
        ),
    }
    for name, value in expected.items():
        assert result[name].value == pytest.approx(value, abs=TOLERANCE), name


def test_multiclass_best_constant_classifier_reproduces_the_developer_guide_example():
    # DG multiclass example: confusion matrix {"0": {"0": 1180, "1": 510}, "1": {"0": 268, "1": 138}}
    actual = ["0"] * 1690 + ["1"] * 406
    predicted = ["0"] * 1180 + ["1"] * 510 + ["0"] * 268 + ["1"] * 138
    result = mq.multiclass_classification_metrics(actual, predicted, ["0", "1"])
    assert result["confusion_matrix"] == {"0": {"0": 1180, "1": 510}, "1": {"0": 268, "1": 138}}
    dg = {
        "accuracy": 0.6288167938931297,
        "weighted_precision": 0.6983172269629505,
        "weighted_f0_5": 0.6803947317178771,
        "weighted_f1": 0.6571162346664904,
        "weighted_f2": 0.6384024354394601,
        "accuracy_best_constant_classifier": 0.19370229007633588,
        "weighted_precision_best_constant_classifier": 0.03752057718081697,
        "weighted_f0_5_best_constant_classifier": 0.04473443104152011,
        "weighted_f1_best_constant_classifier": 0.06286421244683643,
        "weighted_f2_best_constant_classifier": 0.10570313141262414,
    }
    for name, value in dg.items():
        assert result[name].value == pytest.approx(value, abs=1e-15), name


def test_regression_metrics_match_scikit_learn(regression_data):
    y, y_hat = regression_data
    assert mq.mean_absolute_error(y, y_hat) == pytest.approx(sk.mean_absolute_error(y, y_hat), abs=TOLERANCE)
    assert mq.mean_squared_error(y, y_hat) == pytest.approx(sk.mean_squared_error(y, y_hat), abs=TOLERANCE)
    assert mq.root_mean_squared_error(y, y_hat) == pytest.approx(
        math.sqrt(sk.mean_squared_error(y, y_hat)), abs=TOLERANCE
    )
    assert mq.r2_score(y, y_hat) == pytest.approx(sk.r2_score(y, y_hat), abs=TOLERANCE)


def test_r2_of_a_constant_ground_truth_follows_scikit_learns_finite_rule():
    y = np.full(5, 3.0)
    assert mq.r2_score(y, y) == sk.r2_score(y, y) == 1.0
    assert mq.r2_score(y, y + 1.0) == sk.r2_score(y, y + 1.0) == 0.0


def test_zero_divisions_give_zero_not_nan():
    only_negatives = np.zeros(4, dtype=bool)
    counts = mq.binary_counts(only_negatives, only_negatives)
    assert mq.precision(counts) == 0.0 == sk.precision_score(only_negatives, only_negatives, zero_division=0)
    assert mq.recall(counts) == 0.0
    assert mq.f_beta(0.0, 0.0, 1.0) == 0.0
    assert mq.false_negative_rate(counts) == 1.0
    assert mq.roc_auc(np.array([0.1, 0.2, 0.3, 0.4]), only_negatives) == 0.0


def test_one_class_absent_from_truth_still_lists_both_classes(binary_data):
    _, _, scores = binary_data
    actual = np.ones(scores.size, dtype=bool)
    result = mq.binary_classification_metrics(actual, scores > 0.5, scores)
    assert set(result["confusion_matrix"]) == {"0", "1"}
    assert result["confusion_matrix"]["0"] == {"0": 0, "1": 0}
    assert result["false_positive_rate"].value == 0.0
    assert result["auc"].value == 1.0


def test_no_data_gives_zero_metrics_and_empty_curves():
    empty = np.array([], dtype=bool)
    result = mq.binary_classification_metrics(empty, empty, np.array([], dtype=float))
    assert result["accuracy"] == mq.MetricValue(value=0.0, standard_deviation=None)
    assert result["precision_recall_curve"] == {"precisions": [], "recalls": []}
    assert result["receiver_operating_characteristic_curve"] == {
        "false_positive_rates": [0.0, 1.0],
        "true_positive_rates": [0.0, 1.0],
    }


def test_standard_deviation_is_nan_below_200_rows_and_deterministic_above(regression_data):
    y, y_hat = regression_data
    small = mq.regression_metrics(y[:199], y_hat[:199])
    assert all(v.standard_deviation is None for v in small.values())
    first = mq.regression_metrics(y, y_hat)
    second = mq.regression_metrics(y, y_hat)
    assert first == second
    assert all(v.standard_deviation is not None and v.standard_deviation > 0 for v in first.values())


def test_standard_deviation_is_the_spread_of_five_80_percent_subsamples(regression_data):
    y, y_hat = regression_data
    rng = np.random.default_rng(mq.STANDARD_DEVIATION_SEED)
    maes = []
    for _ in range(5):
        rows = np.sort(rng.choice(y.size, size=int(0.8 * y.size), replace=False))
        maes.append(sk.mean_absolute_error(y[rows], y_hat[rows]))
    result = mq.regression_metrics(y, y_hat)
    assert result["mae"].standard_deviation == pytest.approx(np.std(maes, ddof=1), abs=TOLERANCE)


def _binary_subsample_spreads(actual, predicted, scores) -> dict[str, float]:
    """The spread of the AUC, accuracy and F1 over the five 80 % subsamples the analyzer draws, each subsample's
    metrics computed by scikit-learn and, for the AUC, by ``roc_auc`` sorting the subsample's own rows."""
    rng = np.random.default_rng(mq.STANDARD_DEVIATION_SEED)
    runs: dict[str, list[float]] = {"auc": [], "auc_of_the_rows": [], "accuracy": [], "f1": []}
    for _ in range(mq.STANDARD_DEVIATION_ROUNDS):
        rows = np.sort(rng.choice(actual.size, size=int(mq.STANDARD_DEVIATION_FRACTION * actual.size), replace=False))
        runs["auc"].append(sk.roc_auc_score(actual[rows], scores[rows]))
        runs["auc_of_the_rows"].append(mq.roc_auc(scores[rows], actual[rows]))
        runs["accuracy"].append(sk.accuracy_score(actual[rows], predicted[rows]))
        runs["f1"].append(sk.f1_score(actual[rows], predicted[rows], zero_division=0.0))
    return {name: float(np.std(values, ddof=1)) for name, values in runs.items()}


@pytest.mark.parametrize("ties", ["rounded", "signed_zeros", "distinct"])
def test_binary_standard_deviations_are_the_spread_of_the_subsamples_metrics(binary_data, ties):
    actual, predicted, scores = binary_data
    if ties == "signed_zeros":  # -0.0 and 0.0 are one score, as in the curves
        scores = np.where(scores < 0.3, np.where(np.arange(scores.size) % 2 == 0, -0.0, 0.0), scores)
    elif ties == "distinct":
        scores = scores + np.random.default_rng(3).random(scores.size) * 1e-3
    result = mq.binary_classification_metrics(actual, predicted, scores)
    expected = _binary_subsample_spreads(actual, predicted, scores)
    # the same subsamples' AUCs as a sort of each subsample's rows gives them, to the last bit
    assert result["auc"].standard_deviation == expected["auc_of_the_rows"]
    for name in ("auc", "accuracy", "f1"):
        assert result[name].standard_deviation == pytest.approx(expected[name], abs=TOLERANCE), name


@pytest.mark.parametrize(
    ("operator", "value", "violated"),
    [
        (mq.ComparisonOperator.LESS_THAN, 0.5, True),
        (mq.ComparisonOperator.LESS_THAN, 0.6, False),
        (mq.ComparisonOperator.LESS_THAN_OR_EQUAL_TO, 0.6, True),
        (mq.ComparisonOperator.GREATER_THAN, 0.7, True),
        (mq.ComparisonOperator.GREATER_THAN, 0.6, False),
        (mq.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO, 0.6, True),
    ],
)
def test_a_violation_is_value_operator_threshold(operator, value, violated):
    assert operator.is_violated(value, 0.6) is violated


def test_constraints_are_evaluated_in_order_and_unknown_metrics_are_reported(regression_data):
    y, y_hat = regression_data
    metrics = mq.regression_metrics(y, y_hat)
    constraints = [
        mq.MetricConstraint(metric="r2", threshold=0.99, operator=mq.ComparisonOperator.LESS_THAN),
        mq.MetricConstraint(metric="mae", threshold=100.0, operator=mq.ComparisonOperator.GREATER_THAN),
        mq.MetricConstraint(metric="mse", threshold=0.0, operator=mq.ComparisonOperator.GREATER_THAN),
    ]
    assert [v.metric for v in mq.evaluate_constraints(metrics, constraints)] == ["r2", "mse"]
    with pytest.raises(KeyError, match="au_prc"):
        mq.evaluate_constraints(
            metrics,
            [mq.MetricConstraint(metric="au_prc", threshold=1.0, operator=mq.ComparisonOperator.LESS_THAN)],
        )


def test_multiclass_metrics_of_arrow_text_columns_match_scikit_learn(multiclass_data):
    import pyarrow as pa

    actual, predicted = multiclass_data
    classes = sorted(set(actual) | set(predicted))
    metrics = mq.multiclass_classification_metrics(pa.array(actual.tolist()), pa.array(predicted.tolist()), classes)
    assert metrics["accuracy"].value == pytest.approx(sk.accuracy_score(actual, predicted), abs=TOLERANCE)
    assert metrics["weighted_f1"].value == pytest.approx(
        sk.f1_score(actual, predicted, average="weighted", labels=classes, zero_division=0), abs=TOLERANCE
    )
    matrix = sk.confusion_matrix(actual, predicted, labels=classes)
    assert [[metrics["confusion_matrix"][a][p] for p in classes] for a in classes] == matrix.tolist()


def test_a_label_outside_the_classes_is_named():
    with pytest.raises(ValueError, match="label 'z' is not among the classes"):
        mq.confusion_matrix(["a", "z"], ["a", "a"], ["a", "b"])


def test_a_curve_reads_as_the_list_of_its_numbers(binary_data):
    # the curves of binary metrics are sequences over their arrays: equal to, indexed, sliced, iterated, printed and
    # pickled as the lists roc_curve and precision_recall_curve give
    import pickle

    actual, predicted, scores = binary_data
    metrics = mq.binary_classification_metrics(actual, predicted, scores)
    fprs, tprs = mq.roc_curve(scores, actual)
    precisions, recalls = mq.precision_recall_curve(scores, actual)
    pairs = [(metrics["receiver_operating_characteristic_curve"]["false_positive_rates"], fprs),
             (metrics["receiver_operating_characteristic_curve"]["true_positive_rates"], tprs),
             (metrics["precision_recall_curve"]["precisions"], precisions),
             (metrics["precision_recall_curve"]["recalls"], recalls)]
    for curve, expected in pairs:
        assert curve == expected and expected == curve
        assert len(curve) == len(expected) and list(curve) == expected and repr(curve) == repr(expected)
        assert [curve[i] for i in (0, 1, -1)] == [expected[i] for i in (0, 1, -1)]
        assert all(type(value) is float for value in (curve[0], *curve[:3]))
        assert curve[2:9:3] == expected[2:9:3]
        assert pickle.loads(pickle.dumps(curve)) == expected
    assert pairs[0][0] != pairs[1][0] and pairs[0][0] != [*fprs[:-1], 0.5]
