"""Model-quality states of parts merge into the whole: any split of a window's rows, each part's state
serialised and read back, merged in order, gives the very numbers of the whole window, which still
match scikit-learn."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as sk

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.monitors.model_quality.metrics import measure, part_state, state_metrics
from model_monitor_analyzer.monitors.model_quality.request import ModelSettings
from model_monitor_analyzer.profile.model_quality import (
    BinaryState,
    MulticlassState,
    RegressionState,
    ScoreTally,
    merge_states,
)

TOLERANCE = 1e-9
ROWS = 1200


def _splits(n: int) -> list[list[int]]:
    """Cut points of several splits: none, one row first, thirds, an empty part, random cuts."""
    rng = np.random.default_rng(5)
    random_cuts = [sorted(rng.choice(np.arange(1, n), size=k, replace=False).tolist()) for k in (2, 7, 40)]
    return [[], [1], [n // 3, 2 * n // 3], [0, n // 2, n // 2, n], *random_cuts]


def _parts(cuts: list[int], *columns: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    bounds = [0, *cuts, len(columns[0])]
    return [tuple(column[start:end] for column in columns) for start, end in itertools.pairwise(bounds)]


@pytest.fixture(scope="module")
def binary_rows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(17)
    actual = rng.random(ROWS) < 0.3
    # rounded scores: many ties, which a split scatters over several parts
    scores = np.clip(np.round(0.35 * actual + rng.normal(0.4, 0.2, ROWS), 2), 0.0, 1.0)
    return actual, scores > 0.5, scores


@pytest.fixture(scope="module")
def multiclass_rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(19)
    actual = rng.choice(["a", "b", "c", "d"], size=ROWS, p=[0.5, 0.3, 0.15, 0.05])
    predicted = np.where(rng.random(ROWS) < 0.35, rng.choice(["a", "b", "c", "e"], size=ROWS), actual)
    return actual, predicted


@pytest.fixture(scope="module")
def regression_rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(23)
    y = rng.normal(10.0, 3.0, ROWS)
    return y, y + rng.normal(0.2, 1.5, ROWS)


def _round_trip(state):
    return type(state).from_bytes(state.to_bytes())


@pytest.mark.parametrize("cuts", _splits(ROWS), ids=lambda cuts: f"{len(cuts) + 1}-parts")
def test_binary_parts_merge_into_the_whole_windows_metrics(binary_rows, cuts):
    whole = mq.binary_classification_metrics(*binary_rows)
    merged = merge_states([_round_trip(BinaryState.of(*part)) for part in _parts(cuts, *binary_rows)])
    assert mq.binary_state_metrics(merged) == whole


@pytest.mark.parametrize("cuts", _splits(ROWS), ids=lambda cuts: f"{len(cuts) + 1}-parts")
def test_merged_binary_metrics_still_match_scikit_learn(binary_rows, cuts):
    actual, predicted, scores = binary_rows
    metrics = mq.binary_state_metrics(
        merge_states([_round_trip(BinaryState.of(*part)) for part in _parts(cuts, *binary_rows)]))
    tn, fp, fn, tp = sk.confusion_matrix(actual, predicted, labels=[False, True]).ravel()
    assert metrics["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert metrics["recall"].value == sk.recall_score(actual, predicted)
    assert metrics["precision"].value == sk.precision_score(actual, predicted)
    assert metrics["accuracy"].value == sk.accuracy_score(actual, predicted)
    assert metrics["f1"].value == pytest.approx(sk.f1_score(actual, predicted), abs=TOLERANCE)
    assert metrics["auc"].value == pytest.approx(sk.roc_auc_score(actual, scores), abs=TOLERANCE)
    fprs, tprs, _ = sk.roc_curve(actual, scores, drop_intermediate=False)
    curve = metrics["receiver_operating_characteristic_curve"]
    assert curve["false_positive_rates"][1:-1] == pytest.approx(fprs[1:].tolist(), abs=TOLERANCE)
    assert curve["true_positive_rates"][1:-1] == pytest.approx(tprs[1:].tolist(), abs=TOLERANCE)


def test_score_tallies_merge_alike_in_any_order(binary_rows):
    actual, _, scores = binary_rows
    tallies = [ScoreTally.of(part_scores, part_actual) for part_actual, part_scores in _parts([300, 301, 900], actual, scores)]
    forward = tallies[0].merge(tallies[1]).merge(tallies[2]).merge(tallies[3])
    backward = tallies[3].merge(tallies[2]).merge(tallies[1]).merge(tallies[0])
    whole = ScoreTally.of(scores, actual)
    for tally in (forward, backward):
        assert tally.scores.tolist() == whole.scores.tolist()
        assert tally.positives.tolist() == whole.positives.tolist()
        assert tally.negatives.tolist() == whole.negatives.tolist()
    assert whole.scores.tolist() == sorted(set(scores.tolist()), reverse=True)


@pytest.mark.parametrize("cuts", _splits(ROWS), ids=lambda cuts: f"{len(cuts) + 1}-parts")
def test_multiclass_parts_merge_into_the_whole_windows_metrics(multiclass_rows, cuts):
    actual, predicted = multiclass_rows
    classes = sorted(set(actual) | set(predicted))
    whole = mq.multiclass_classification_metrics(actual, predicted, classes)
    merged = merge_states([_round_trip(MulticlassState.of(*part)) for part in _parts(cuts, actual, predicted)])
    metrics = mq.multiclass_state_metrics(merged, classes)
    assert metrics == whole
    matrix = sk.confusion_matrix(actual, predicted, labels=classes)
    assert [[metrics["confusion_matrix"][a][p] for p in classes] for a in classes] == matrix.tolist()
    assert metrics["accuracy"].value == sk.accuracy_score(actual, predicted)
    assert metrics["weighted_f1"].value == pytest.approx(
        sk.f1_score(actual, predicted, average="weighted", labels=classes, zero_division=0), abs=TOLERANCE)


def test_multiclass_parts_that_see_different_classes_merge_over_their_union():
    first = MulticlassState.of(["a", "a"], ["a", "b"])
    second = MulticlassState.of(["c"], ["c"])
    for merged in (first.merge(second), second.merge(first)):
        assert merged.classes == ("a", "b", "c")
        assert merged.matrix.tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]


@pytest.mark.parametrize("cuts", _splits(ROWS), ids=lambda cuts: f"{len(cuts) + 1}-parts")
def test_regression_parts_merge_into_the_whole_windows_metrics(regression_rows, cuts):
    y, y_hat = regression_rows
    whole = mq.regression_metrics(y, y_hat)
    merged = merge_states([_round_trip(RegressionState.of(*part)) for part in _parts(cuts, y, y_hat)])
    metrics = mq.regression_state_metrics(merged)
    assert metrics == whole
    assert metrics["mae"].value == pytest.approx(sk.mean_absolute_error(y, y_hat), abs=TOLERANCE)
    assert metrics["mse"].value == pytest.approx(sk.mean_squared_error(y, y_hat), abs=TOLERANCE)
    assert metrics["r2"].value == pytest.approx(sk.r2_score(y, y_hat), abs=TOLERANCE)


def _text(values) -> pa.Array:
    return pa.array([str(v) for v in values], pa.string())


def test_a_windows_parts_merge_into_the_windows_measure_with_its_checks(binary_rows):
    actual, _, scores = binary_rows
    labels = _text(np.where(actual, "yes", "no"))
    probabilities = _text(scores)
    settings = ModelSettings(problem_type=mq.ProblemType.BINARY_CLASSIFICATION, inference_attribute="p",
                             probability_attribute="p", probability_threshold=0.5, positive_label="yes")
    whole = measure(settings, LabelledColumns(predictions=probabilities, probabilities=probabilities, labels=labels))
    bounds = [0, 100, 700, ROWS]
    states = [part_state(settings, LabelledColumns(predictions=probabilities[a:b], probabilities=probabilities[a:b],
                                                   labels=labels[a:b])) for a, b in itertools.pairwise(bounds)]
    merged = states[0].merge(states[1]).merge(states[2])
    assert state_metrics(settings, merged) == whole


def test_a_misspelt_positive_label_is_refused_on_the_merged_window_not_on_a_part():
    settings = ModelSettings(problem_type=mq.ProblemType.BINARY_CLASSIFICATION, inference_attribute="p",
                             positive_label="yes")

    def part(labels: list[str], predictions: list[str]):
        return part_state(settings, LabelledColumns(predictions=_text(predictions), probabilities=None,
                                                    labels=_text(labels)))

    # the first part has no positive label but the window has: measured, not refused
    merged = part(["no", "maybe"], ["no", "no"]).merge(part(["yes"], ["yes"]))
    assert state_metrics(settings, merged).metrics["recall"].value == 1.0
    with pytest.raises(AnalyzerInputError, match="no ground-truth label equals the positive label 'yes'"):
        state_metrics(settings, part(["no", "maybe"], ["no", "no"]).merge(part(["no"], ["no"])))


def test_a_state_reads_back_only_as_its_own_kind():
    data = RegressionState.of(np.array([1.0]), np.array([2.0])).to_bytes()
    with pytest.raises(ValueError, match="not a serialised binary state"):
        BinaryState.from_bytes(data)
    with pytest.raises(ValueError, match="cannot merge a BinaryState into a RegressionState"):
        merge_states([RegressionState.from_bytes(data), BinaryState.of([True], [True], [1.0])])
