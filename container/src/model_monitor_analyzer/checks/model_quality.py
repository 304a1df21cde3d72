"""Model-quality metrics: binary classification, multiclass classification and regression.

Each metric is a small pure function over numpy arrays (or over counts derived from them) whose
docstring states the formula and how the edge cases are decided. The conventions follow what the
built-in model-quality analyzer reports (contract §8.1), which in turn match Spark MLlib's
evaluation classes:

* zero divisions give 0.0 (a precision with no predicted positive, a recall with no actual
  positive, a false-positive rate with no actual negative), never NaN, so every metric is a number
  that CloudWatch can store and a constraint can compare;
* the true-negative and false-negative rates are the complements ``1 - FPR`` and ``1 - TPR`` (the
  developer guide's example reports ``0.33333333333333337`` = ``1 - 0.6666666666666666``);
* curves list one point per distinct score, highest score first, with Spark's end points.

Inputs are validated by the callers in ``jobs``; these functions only assume arrays of equal
length, boolean arrays for binary truth/prediction and float arrays for scores and regression.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.profile.model_quality import (
    BinaryState,
    MulticlassState,
    RegressionState,
    ScoreTally,
)

#: The built-in computes standard deviations only from this many samples on (contract §8.1).
MIN_SAMPLES_FOR_STANDARD_DEVIATION = 200
#: Subsamples drawn for a standard deviation and the share of the data each one holds.
STANDARD_DEVIATION_ROUNDS = 5
STANDARD_DEVIATION_FRACTION = 0.8
#: Fixed seed: the same data always gives the same standard deviations.
STANDARD_DEVIATION_SEED = 0


class ProblemType(enum.Enum):
    """The problem types of the built-in model-quality monitor, spelled as in its ``problem_type``."""

    BINARY_CLASSIFICATION = "BinaryClassification"
    MULTICLASS_CLASSIFICATION = "MulticlassClassification"
    REGRESSION = "Regression"


def _sequential_sum(values: np.ndarray) -> float:
    """Left-to-right float sum (Spark's single-pass accumulation; ``np.sum`` is pairwise).

    The real regression statistics.json is reproduced to the last bit only with this order.
    """
    if values.size == 0:
        return 0.0
    return float(np.cumsum(values, dtype=np.float64)[-1])


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, or 0.0 when the denominator is 0 (the zero-division rule)."""
    return float(numerator) / float(denominator) if denominator else 0.0


# --------------------------------------------------------------------------------------------
# Binary classification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BinaryCounts:
    """The four cells of a binary confusion matrix (positive = the class of interest)."""

    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int

    @property
    def total(self) -> int:
        return self.true_positives + self.false_positives + self.true_negatives + self.false_negatives


def binary_counts(actual: np.ndarray, predicted: np.ndarray) -> BinaryCounts:
    """Count TP = actual ∧ predicted, FP = ¬actual ∧ predicted, TN = ¬actual ∧ ¬predicted, FN = actual ∧ ¬predicted.

    ``actual`` and ``predicted`` are boolean arrays (True = positive class).
    """
    actual = np.asarray(actual, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    tp = int(np.count_nonzero(actual & predicted))
    fp = int(np.count_nonzero(~actual & predicted))
    fn = int(np.count_nonzero(actual & ~predicted))
    return BinaryCounts(
        true_positives=tp, false_positives=fp, true_negatives=actual.size - tp - fp - fn, false_negatives=fn
    )


def recall(counts: BinaryCounts) -> float:
    """Recall = TP / (TP + FN); 0.0 when there is no actual positive."""
    return _ratio(counts.true_positives, counts.true_positives + counts.false_negatives)


def precision(counts: BinaryCounts) -> float:
    """Precision = TP / (TP + FP); 0.0 when nothing is predicted positive."""
    return _ratio(counts.true_positives, counts.true_positives + counts.false_positives)


def accuracy(counts: BinaryCounts) -> float:
    """Accuracy = (TP + TN) / N; 0.0 for no data."""
    return _ratio(counts.true_positives + counts.true_negatives, counts.total)


def true_positive_rate(counts: BinaryCounts) -> float:
    """TPR = TP / (TP + FN), the same number as recall; 0.0 when there is no actual positive."""
    return recall(counts)


def false_positive_rate(counts: BinaryCounts) -> float:
    """FPR = FP / (FP + TN); 0.0 when there is no actual negative."""
    return _ratio(counts.false_positives, counts.false_positives + counts.true_negatives)


def true_negative_rate(counts: BinaryCounts) -> float:
    """TNR = 1 - FPR (computed as the complement, as the built-in does; 1.0 with no actual negative)."""
    return 1.0 - false_positive_rate(counts)


def false_negative_rate(counts: BinaryCounts) -> float:
    """FNR = 1 - TPR (computed as the complement; 1.0 with no actual positive)."""
    return 1.0 - true_positive_rate(counts)


def f_beta(precision_value: float, recall_value: float, beta: float) -> float:
    """F_β = (1 + β²)·P·R / (β²·P + R); 0.0 when P and R are both 0."""
    beta_squared = beta * beta
    denominator = beta_squared * precision_value + recall_value
    if denominator == 0.0:
        return 0.0
    return (1.0 + beta_squared) * precision_value * recall_value / denominator


def best_constant_binary_counts(actual: np.ndarray) -> BinaryCounts:
    """Counts of the classifier that always predicts the positive class.

    That is the "best constant classifier" of the built-in's binary report: its recall is 1.0
    and its precision and accuracy equal the prevalence (developer guide example: 1 positive out
    of 4 rows gives recall 1.0, precision 0.25, accuracy 0.25, F1 0.4).
    """
    return binary_counts(actual, np.ones(np.asarray(actual).size, dtype=bool))


def _threshold_counts(scores: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Cumulative TP and FP counts when predicting positive for score >= t, t over distinct scores, descending
    (from the exact score tally, ``profile.model_quality.ScoreTally``)."""
    return ScoreTally.of(scores, actual).threshold_counts()


def _ranked_threshold_counts(
    sorted_scores: np.ndarray, sorted_actual: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``_threshold_counts`` of rows already in descending score order."""
    tps = np.cumsum(sorted_actual, dtype=np.int64)
    fps = np.cumsum(~sorted_actual, dtype=np.int64)
    # keep the last index of each run of equal scores: ties are one threshold
    last_of_run = (
        np.r_[sorted_scores[1:] != sorted_scores[:-1], True] if sorted_scores.size else np.array([], dtype=bool)
    )
    positives = int(tps[-1]) if tps.size else 0
    return tps[last_of_run], fps[last_of_run], positives, int(sorted_actual.size) - positives


def roc_curve(scores: np.ndarray, actual: np.ndarray) -> tuple[list[float], list[float]]:
    """Receiver operating characteristic: (false-positive rates, true-positive rates).

    One point (FP(t)/N, TP(t)/P) per distinct score t, highest first, where TP(t), FP(t) count
    rows with score >= t; preceded by (0, 0) and followed by (1, 1) (Spark's end points, so the
    curve always spans the unit square). A rate whose denominator is 0 is 0.0. No data gives
    [(0, 0), (1, 1)].
    """
    fprs, tprs = _roc_points(scores, actual)
    return fprs.tolist(), tprs.tolist()


def _rates(counts: np.ndarray, denominator: int) -> np.ndarray:
    """``counts / denominator`` as float64, all 0.0 when the denominator is 0 (the zero-division rule)."""
    if not denominator:
        return np.zeros(counts.size, dtype=np.float64)
    return counts / float(denominator)


def _roc_points(scores: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``roc_curve`` as arrays (the AUC of each subsample needs no lists)."""
    return _roc_of_counts(*_threshold_counts(scores, actual))


def _roc_of_counts(tps: np.ndarray, fps: np.ndarray, positives: int, negatives: int) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive rates, true-positive rates) with Spark's end points, from threshold counts."""
    fprs = np.concatenate(([0.0], _rates(fps, negatives), [1.0]))
    tprs = np.concatenate(([0.0], _rates(tps, positives), [1.0]))
    return fprs, tprs


def precision_recall_curve(scores: np.ndarray, actual: np.ndarray) -> tuple[list[float], list[float]]:
    """Precision-recall curve: (precisions, recalls).

    One point (TP(t)/(TP(t)+FP(t)), TP(t)/P) per distinct score t, highest first, preceded by
    (recall 0, precision of the first point) as Spark does. Recall is 0.0 without actual
    positives. No data gives empty lists.
    """
    return _precision_recall_of_counts(*_threshold_counts(scores, actual))


class FloatCurve(Sequence[float]):
    """A curve's numbers (one a distinct score of the window), as the float64 array they were computed in
    (``array``): a sequence of floats equal to the list of them, whose values become Python floats only when read.
    statistics.json writes them from the array (``report.model_quality.java_double_list``) and the HTML chart reads
    a few hundred, so a window's million numbers are not made Python floats and lists for nothing."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.asarray(array, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self.array[index].tolist()
        return float(self.array[index])

    def __iter__(self) -> Iterator[float]:
        return iter(self.array.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FloatCurve):
            return self.array.tolist() == other.array.tolist()
        if isinstance(other, list | tuple):
            return self.array.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.array.tolist())

    def __reduce__(self) -> tuple[type[FloatCurve], tuple[np.ndarray]]:
        return FloatCurve, (self.array,)


def _precision_recall_arrays(tps: np.ndarray, fps: np.ndarray, positives: int) -> tuple[np.ndarray, np.ndarray]:
    """(precisions, recalls) of ``precision_recall_curve`` as float64 arrays, from threshold counts."""
    if not tps.size:
        return np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.float64)
    precisions = tps / (tps + fps).astype(np.float64)  # every threshold holds at least one row
    recalls = _rates(tps, positives)
    return np.concatenate((precisions[:1], precisions)), np.concatenate(([0.0], recalls))


def _precision_recall_of_counts(
    tps: np.ndarray, fps: np.ndarray, positives: int, negatives: int
) -> tuple[list[float], list[float]]:
    """``precision_recall_curve`` from threshold counts."""
    precisions, recalls = _precision_recall_arrays(tps, fps, positives)
    return precisions.tolist(), recalls.tolist()


def area_under_curve(x: Sequence[float], y: Sequence[float]) -> float:
    """Trapezoidal area Σ (x[i+1] - x[i])·(y[i] + y[i+1]) / 2 over consecutive points."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.size < 2:
        return 0.0
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2.0))


def roc_auc(scores: np.ndarray, actual: np.ndarray) -> float:
    """AUC = area under ``roc_curve``.

    With only positive rows every FPR is 0 and the AUC is 1.0 (the developer guide's example);
    with only negative rows every TPR is 0 before the closing (1, 1) point and the AUC is 0.0.
    """
    fprs, tprs = _roc_points(scores, actual)
    return area_under_curve(fprs, tprs)


# --------------------------------------------------------------------------------------------
# Multiclass classification
# --------------------------------------------------------------------------------------------


#: Class labels: a sequence of text (list, numpy array) or an Arrow text column.
Labels = Sequence[str] | np.ndarray | pa.Array


def class_codes(labels: Labels, classes: Sequence[str]) -> np.ndarray:
    """The position of each label in ``classes`` (computed on the whole column by Arrow).

    Raises ValueError naming a label that is not among ``classes``.
    """
    column = labels if isinstance(labels, pa.Array) else pa.array(np.asarray(labels, dtype=object), pa.string())
    codes = pc.index_in(column, value_set=pa.array(list(classes), pa.string()))
    if codes.null_count:
        unknown = pc.filter(column, pc.is_null(codes))[0].as_py()
        raise ValueError(f"label {unknown!r} is not among the classes {list(classes)}")
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


def _matrix_of_codes(actual: np.ndarray, predicted: np.ndarray, size: int) -> np.ndarray:
    """M[i, j] = #rows with actual code i and predicted code j (one bincount over i·size + j)."""
    return np.bincount(actual * size + predicted, minlength=size * size).reshape(size, size)


def confusion_matrix(actual: Labels, predicted: Labels, classes: Sequence[str]) -> np.ndarray:
    """Counts M[i, j] = #rows with actual class i and predicted class j, over ``classes`` in order."""
    return _matrix_of_codes(class_codes(actual, classes), class_codes(predicted, classes), len(classes))


def _per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(true positives, predicted counts, actual counts, weights = actual share) per class."""
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positives = np.diag(matrix)
    predicted_counts = matrix.sum(axis=0)
    actual_counts = matrix.sum(axis=1)
    total = actual_counts.sum()
    weights = actual_counts / total if total else np.zeros_like(actual_counts)
    return true_positives, predicted_counts, actual_counts, weights


def multiclass_accuracy(matrix: np.ndarray) -> float:
    """Accuracy = Σ_c M[c, c] / Σ M; 0.0 for no data."""
    matrix = np.asarray(matrix)
    return _ratio(float(np.trace(matrix)), float(matrix.sum()))


def weighted_recall(matrix: np.ndarray) -> float:
    """Σ_c w_c·recall_c with w_c = actual_c / N and recall_c = M[c,c] / actual_c (equals accuracy)."""
    true_positives, _, actual_counts, weights = _per_class(matrix)
    recalls = np.divide(
        true_positives, actual_counts, out=np.zeros_like(true_positives), where=actual_counts > 0
    )
    return float(np.sum(weights * recalls))


def weighted_precision(matrix: np.ndarray) -> float:
    """Σ_c w_c·precision_c with w_c = actual_c / N, precision_c = M[c,c] / predicted_c (0.0 if never predicted).

    A class that never occurs in the truth has weight 0, whatever its precision.
    """
    true_positives, predicted_counts, _, weights = _per_class(matrix)
    precisions = np.divide(
        true_positives, predicted_counts, out=np.zeros_like(true_positives), where=predicted_counts > 0
    )
    return float(np.sum(weights * precisions))


def weighted_f_beta(matrix: np.ndarray, beta: float) -> float:
    """Σ_c w_c·F_β,c with F_β,c = f_beta(precision_c, recall_c, β) and w_c = actual_c / N."""
    true_positives, predicted_counts, actual_counts, weights = _per_class(matrix)
    total = 0.0
    for c in range(true_positives.size):
        if weights[c] == 0.0:
            continue
        p = _ratio(true_positives[c], predicted_counts[c])
        r = _ratio(true_positives[c], actual_counts[c])
        total += weights[c] * f_beta(p, r, beta)
    return float(total)


def constant_classifier_class(actual: Labels, classes: Sequence[str]) -> str:
    """The class that the multiclass "best constant classifier" always predicts.

    The developer guide's multiclass example (actual counts 1690 for "0", 406 for "1") reports
    accuracy_best_constant_classifier = 406/2096 and weighted precision 0.1937², i.e. the
    constant prediction there is the least frequent actual class, which is also the positive
    class of the binary report. We therefore pick the least frequent class among those that occur
    in the truth, ties going to the later class in ``classes`` order (inferred; unconfirmed for
    more than two classes).
    """
    return classes[_constant_code(np.bincount(class_codes(actual, classes), minlength=len(classes)))]


def _constant_code(counts: np.ndarray) -> int:
    """The least frequent class present (the later one among equals), else the last class."""
    present = np.flatnonzero(counts)
    if not present.size:
        return counts.size - 1
    return int(present[counts[present] == counts[present].min()][-1])


# --------------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------------


def mean_absolute_error(actual: np.ndarray, predicted: np.ndarray) -> float:
    """MAE = Σ |y - ŷ| / n (sequential sum); 0.0 for no data."""
    errors = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return _ratio(_sequential_sum(np.abs(errors)), errors.size)


def mean_squared_error(actual: np.ndarray, predicted: np.ndarray) -> float:
    """MSE = Σ (y - ŷ)² / n (sequential sum); 0.0 for no data."""
    errors = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return _ratio(_sequential_sum(errors * errors), errors.size)


def root_mean_squared_error(actual: np.ndarray, predicted: np.ndarray) -> float:
    """RMSE = √MSE."""
    return math.sqrt(mean_squared_error(actual, predicted))


def r2_score(actual: np.ndarray, predicted: np.ndarray) -> float:
    """R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)², ȳ the mean of the ground truth y.

    When the ground truth is constant (Σ(y - ȳ)² = 0) R² is undefined; we return 1.0 for a
    perfect prediction and 0.0 otherwise (scikit-learn's ``force_finite`` rule), so that the
    value stays a finite number. 0.0 for no data.
    """
    y = np.asarray(actual, dtype=np.float64)
    if y.size == 0:
        return 0.0
    errors = y - np.asarray(predicted, dtype=np.float64)
    residual = _sequential_sum(errors * errors)
    mean = _sequential_sum(y) / y.size
    deviations = y - mean
    total = _sequential_sum(deviations * deviations)
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


# --------------------------------------------------------------------------------------------
# Standard deviation by subsampling
# --------------------------------------------------------------------------------------------


def subsample_standard_deviations(
    compute: Callable[[np.ndarray], Mapping[str, float]],
    n: int,
    *,
    seed: int = STANDARD_DEVIATION_SEED,
    rounds: int = STANDARD_DEVIATION_ROUNDS,
    fraction: float = STANDARD_DEVIATION_FRACTION,
    min_samples: int = MIN_SAMPLES_FOR_STANDARD_DEVIATION,
) -> dict[str, float] | None:
    """Standard deviation of each metric over ``rounds`` random subsamples of ``fraction``·n rows.

    ``compute(indices)`` returns the metrics for the rows at ``indices``. Each subsample holds
    floor(fraction·n) distinct rows drawn without replacement from a generator seeded with
    ``seed``, so the result is deterministic. The spread is the sample standard deviation
    √(Σ(m_i - m̄)² / (rounds - 1)) (Spark's ``stddev``; the built-in's choice between sample and
    population form is not documented). Returns None below ``min_samples`` rows, which the report
    writes as the string "NaN" like the built-in.
    """
    if n < min_samples:
        return None
    generator = np.random.default_rng(seed)
    size = math.floor(fraction * n)
    runs: list[Mapping[str, float]] = []
    for _ in range(rounds):
        indices = np.sort(generator.choice(n, size=size, replace=False))
        runs.append(compute(indices))
    return {name: float(np.std([run[name] for run in runs], ddof=1)) for name in runs[0]}


# --------------------------------------------------------------------------------------------
# All metrics of one problem type, in the built-in's statistics.json order
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MetricValue:
    """A scalar metric and its subsample standard deviation (None below 200 rows)."""

    value: float
    standard_deviation: float | None


#: A metric entry: a scalar, a confusion matrix {actual: {predicted: count}} or a curve {name: [..]} (a list of floats
#: or a ``FloatCurve``).
MetricEntry = MetricValue | dict[str, dict[str, int]] | dict[str, list[float]] | dict[str, FloatCurve]


def _with_deviations(
    values: dict[str, float], compute: Callable[[np.ndarray], dict[str, float]], n: int, seed: int
) -> dict[str, MetricValue]:
    """``values`` (of all ``n`` rows) with each one's spread over subsamples, ``compute(rows)`` giving the
    metrics of the rows at those positions."""
    deviations = subsample_standard_deviations(compute, n, seed=seed)
    return {
        name: MetricValue(value=value, standard_deviation=None if deviations is None else deviations[name])
        for name, value in values.items()
    }


def binary_classification_metrics(
    actual: np.ndarray, predicted: np.ndarray, scores: np.ndarray, *, seed: int = STANDARD_DEVIATION_SEED
) -> dict[str, MetricEntry]:
    """Every metric of the built-in's ``binary_classification_metrics`` (contract §8.1), in its order.

    ``actual`` and ``predicted`` are boolean (True = positive), ``scores`` the probabilities
    that rank rows for the curves and the AUC (callers pass the predicted labels as scores when
    no probability is available). The confusion matrix always lists both classes "0" and "1".
    """
    return binary_state_metrics(BinaryState.of(actual, predicted, scores), seed=seed)


def _binary_scalars(counts: BinaryCounts, constant: BinaryCounts, auc: float) -> dict[str, float]:
    p, r = precision(counts), recall(counts)
    cp, cr = precision(constant), recall(constant)
    return {
        "recall": r,
        "precision": p,
        "accuracy": accuracy(counts),
        "recall_best_constant_classifier": cr,
        "precision_best_constant_classifier": cp,
        "accuracy_best_constant_classifier": accuracy(constant),
        "true_positive_rate": true_positive_rate(counts),
        "true_negative_rate": true_negative_rate(counts),
        "false_positive_rate": false_positive_rate(counts),
        "false_negative_rate": false_negative_rate(counts),
        "auc": auc,
        "f0_5": f_beta(p, r, 0.5),
        "f1": f_beta(p, r, 1.0),
        "f2": f_beta(p, r, 2.0),
        "f0_5_best_constant_classifier": f_beta(cp, cr, 0.5),
        "f1_best_constant_classifier": f_beta(cp, cr, 1.0),
        "f2_best_constant_classifier": f_beta(cp, cr, 2.0),
    }


def _score_groups(scores: np.ndarray) -> tuple[np.ndarray, int] | None:
    """(each row's position among the distinct scores, lowest first; how many distinct scores there are), ties
    (-0.0 and 0.0 among them) one score as the curves count them; None when a score is NaN (NaN equals nothing:
    the curves make each its own threshold)."""
    if not scores.size or np.isnan(scores).any():
        return None
    order = np.argsort(scores)
    ordered = scores[order]
    starts = np.empty(scores.size, dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    ranks = np.cumsum(starts, dtype=np.int64) - 1
    groups = np.empty(scores.size, dtype=np.int64)
    groups[order] = ranks
    return groups, int(ranks[-1]) + 1


def _grouped_threshold_counts(groups: np.ndarray, size: int, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``_threshold_counts`` of rows whose scores are given as positions among ``size`` distinct scores (lowest
    first, ``_score_groups``): the rows of each score counted, the scores without a row left out; the same counts,
    threshold by threshold, as the ranked rows give."""
    rows = np.bincount(groups, minlength=size)
    positives = np.bincount(groups[actual], minlength=size)
    present = np.flatnonzero(rows)[::-1]  # highest score first
    tps = np.cumsum(positives[present], dtype=np.int64)
    fps = np.cumsum(rows[present] - positives[present], dtype=np.int64)
    total_positives = int(tps[-1]) if tps.size else 0
    return tps, fps, total_positives, int(groups.size) - total_positives


def binary_state_metrics(state: BinaryState, *, seed: int = STANDARD_DEVIATION_SEED) -> dict[str, MetricEntry]:
    """``binary_classification_metrics`` of a (merged) state: the values, the confusion matrix and the curves
    from its counts and score tally, the standard deviations from its rows' subsamples."""
    actual, predicted, scores = state.actual, state.predicted, state.scores
    grouped = _score_groups(scores) if state.rows >= MIN_SAMPLES_FOR_STANDARD_DEVIATION else None
    if grouped is not None:
        # Each row's score as its position among the distinct scores: a subsample's threshold counts are two
        # counts of those positions, without a sort.
        groups, size = grouped

        def scalars(rows: np.ndarray) -> dict[str, float]:
            chosen = actual[rows]
            auc = area_under_curve(*_roc_of_counts(*_grouped_threshold_counts(groups[rows], size, chosen)))
            return _binary_scalars(binary_counts(chosen, predicted[rows]), best_constant_binary_counts(chosen), auc)
    else:
        # One sort for all subsamples: a subsample's rows in this stable order are the order its own
        # stable sort would give (ties stay in row order), so each AUC costs a pass, not a sort.
        order = np.argsort(-scores, kind="stable")

        def scalars(rows: np.ndarray) -> dict[str, float]:
            member = np.zeros(scores.size, dtype=bool)
            member[rows] = True
            ranked = order[member[order]]
            auc = area_under_curve(*_roc_of_counts(*_ranked_threshold_counts(scores[ranked], actual[ranked])))
            return _binary_scalars(binary_counts(actual[rows], predicted[rows]),
                                   best_constant_binary_counts(actual[rows]), auc)

    counts = BinaryCounts(true_positives=state.true_positives, false_positives=state.false_positives,
                          true_negatives=state.true_negatives, false_negatives=state.false_negatives)
    positives = counts.true_positives + counts.false_negatives
    constant = BinaryCounts(true_positives=positives, false_positives=counts.total - positives,
                            true_negatives=0, false_negatives=0)
    thresholds = state.tally.threshold_counts()
    fprs, tprs = _roc_of_counts(*thresholds)
    values = _with_deviations(_binary_scalars(counts, constant, area_under_curve(fprs, tprs)), scalars,
                              state.rows, seed)
    precisions, recalls = _precision_recall_arrays(*thresholds[:3])
    entries: dict[str, MetricEntry] = {
        "confusion_matrix": {
            "0": {"0": counts.true_negatives, "1": counts.false_positives},
            "1": {"0": counts.false_negatives, "1": counts.true_positives},
        }
    }
    for name in list(values)[:10]:
        entries[name] = values[name]
    entries["receiver_operating_characteristic_curve"] = {
        "false_positive_rates": FloatCurve(fprs),
        "true_positive_rates": FloatCurve(tprs),
    }
    entries["precision_recall_curve"] = {"precisions": FloatCurve(precisions), "recalls": FloatCurve(recalls)}
    for name in list(values)[10:]:
        entries[name] = values[name]
    return entries


def multiclass_classification_metrics(
    actual: Labels,
    predicted: Labels,
    classes: Sequence[str],
    *,
    seed: int = STANDARD_DEVIATION_SEED,
) -> dict[str, MetricEntry]:
    """Every metric of the built-in's ``multiclass_classification_metrics`` (contract §8.1), in its order.

    ``classes`` orders the confusion matrix (every class seen in the truth or the predictions).
    The best-constant metrics use the class picked by ``constant_classifier_class``.
    """
    return multiclass_state_metrics(MulticlassState.of(actual, predicted), classes, seed=seed)


def _multiclass_scalars(matrix: np.ndarray, constant: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": multiclass_accuracy(matrix),
        "weighted_recall": weighted_recall(matrix),
        "weighted_precision": weighted_precision(matrix),
        "weighted_f0_5": weighted_f_beta(matrix, 0.5),
        "weighted_f1": weighted_f_beta(matrix, 1.0),
        "weighted_f2": weighted_f_beta(matrix, 2.0),
        "accuracy_best_constant_classifier": multiclass_accuracy(constant),
        "weighted_recall_best_constant_classifier": weighted_recall(constant),
        "weighted_precision_best_constant_classifier": weighted_precision(constant),
        "weighted_f0_5_best_constant_classifier": weighted_f_beta(constant, 0.5),
        "weighted_f1_best_constant_classifier": weighted_f_beta(constant, 1.0),
        "weighted_f2_best_constant_classifier": weighted_f_beta(constant, 2.0),
    }


def _constant_matrix(actual_counts: np.ndarray, code: int) -> np.ndarray:
    """The confusion matrix of always predicting class ``code``: each actual class's rows in its column."""
    matrix = np.zeros((actual_counts.size, actual_counts.size), dtype=np.int64)
    if actual_counts.size:  # no class at all: no data, nothing predicted
        matrix[:, code] = actual_counts
    return matrix


def multiclass_state_metrics(
    state: MulticlassState, classes: Sequence[str], *, seed: int = STANDARD_DEVIATION_SEED
) -> dict[str, MetricEntry]:
    """``multiclass_classification_metrics`` of a (merged) state over ``classes`` (a superset of the state's,
    in the report's order; ValueError naming a label of the state outside them): the values from its
    confusion matrix, the standard deviations from its rows' subsamples."""
    matrix = state.matrix_over(classes)
    actual_codes = state.codes_over(classes, state.actual_codes)
    predicted_codes = state.codes_over(classes, state.predicted_codes)
    actual_counts = matrix.sum(axis=1)
    constant_code = _constant_code(actual_counts)
    size = len(classes)

    def scalars(rows: np.ndarray) -> dict[str, float]:
        truth = actual_codes[rows]
        return _multiclass_scalars(_matrix_of_codes(truth, predicted_codes[rows], size),
                                   _constant_matrix(np.bincount(truth, minlength=size), constant_code))

    entries: dict[str, MetricEntry] = {
        "confusion_matrix": {
            a: {p: int(matrix[i, j]) for j, p in enumerate(classes)} for i, a in enumerate(classes)
        }
    }
    values = _multiclass_scalars(matrix, _constant_matrix(actual_counts, constant_code))
    entries.update(_with_deviations(values, scalars, state.rows, seed))
    return entries


def regression_metrics(
    actual: np.ndarray, predicted: np.ndarray, *, seed: int = STANDARD_DEVIATION_SEED
) -> dict[str, MetricEntry]:
    """The built-in's ``regression_metrics``: mae, mse, rmse, r2 (contract §8.1), in its order."""
    return regression_state_metrics(RegressionState.of(actual, predicted), seed=seed)


def regression_state_metrics(state: RegressionState, *, seed: int = STANDARD_DEVIATION_SEED) -> dict[str, MetricEntry]:
    """``regression_metrics`` of a (merged) state."""
    actual, predicted = state.actual, state.predicted

    def scalars(rows: np.ndarray) -> dict[str, float]:
        y, y_hat = actual[rows], predicted[rows]
        return {
            "mae": mean_absolute_error(y, y_hat),
            "mse": mean_squared_error(y, y_hat),
            "rmse": root_mean_squared_error(y, y_hat),
            "r2": r2_score(y, y_hat),
        }

    return dict(_with_deviations(scalars(np.arange(state.rows)), scalars, state.rows, seed))


# --------------------------------------------------------------------------------------------
# Constraints
# --------------------------------------------------------------------------------------------


class ComparisonOperator(enum.Enum):
    """How a metric is compared with its threshold; a violation is ``value <op> threshold``."""

    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL_TO = "LessThanOrEqualToThreshold"
    GREATER_THAN = "GreaterThanThreshold"
    GREATER_THAN_OR_EQUAL_TO = "GreaterThanOrEqualToThreshold"

    def is_violated(self, value: float, threshold: float) -> bool:
        """True when ``value`` breaks the constraint, e.g. LessThanThreshold: value < threshold."""
        return rules.is_quality_violation(self.value, value, threshold)


# The metrics the baseline suggests constraints for, in the built-in's order; each with the operator
# that flags its decay, from the one table of directions the alarms use too.
_SUGGESTED_METRICS: dict[ProblemType, tuple[str, ...]] = {
    ProblemType.BINARY_CLASSIFICATION: ("recall", "precision", "accuracy", "true_positive_rate", "true_negative_rate",
                                        "false_positive_rate", "false_negative_rate", "auc", "f0_5", "f1", "f2"),
    ProblemType.MULTICLASS_CLASSIFICATION: ("accuracy", "weighted_recall", "weighted_precision", "weighted_f0_5",
                                            "weighted_f1", "weighted_f2"),
    ProblemType.REGRESSION: ("mae", "mse", "rmse", "r2"),
}
#: Metrics the baseline suggests constraints for, with the operator that flags a decay
#: (higher-is-better metrics violate when lower, error rates when higher).
SUGGESTED_CONSTRAINTS: dict[ProblemType, tuple[tuple[str, ComparisonOperator], ...]] = {
    problem: tuple((name, ComparisonOperator(rules.QUALITY_METRIC_DIRECTIONS[problem.value][name])) for name in names)
    for problem, names in _SUGGESTED_METRICS.items()
}


@dataclass(frozen=True, kw_only=True)
class MetricConstraint:
    """One entry of a model-quality constraints.json section."""

    metric: str
    threshold: float
    operator: ComparisonOperator


@dataclass(frozen=True, kw_only=True)
class MetricViolation:
    """A metric of the current window that breaks its constraint."""

    metric: str
    value: float
    standard_deviation: float | None
    threshold: float
    operator: ComparisonOperator


def suggest_constraints(
    problem_type: ProblemType, metrics: Mapping[str, MetricEntry], *, margin: float = 0.0
) -> list[MetricConstraint]:
    """Constraints whose thresholds are the baseline values (the built-in's suggestion, ``margin`` 0).

    With ``margin`` m > 0 each threshold is moved m in the harmless direction (value - m for
    higher-is-better metrics, value + m for error rates), so that a window has to be m worse than
    the baseline to violate: the built-in's thresholds flag sampling noise in about half the windows.
    """
    if margin < 0:
        raise ValueError(f"margin must not be negative, got {margin}")
    suggested = []
    for name, operator in SUGGESTED_CONSTRAINTS[problem_type]:
        entry = metrics[name]
        assert isinstance(entry, MetricValue)
        lower_is_worse = operator in (ComparisonOperator.LESS_THAN, ComparisonOperator.LESS_THAN_OR_EQUAL_TO)
        threshold = entry.value - margin if lower_is_worse else entry.value + margin
        suggested.append(MetricConstraint(metric=name, threshold=threshold, operator=operator))
    return suggested


def evaluate_constraints(
    metrics: Mapping[str, MetricEntry], constraints: Sequence[MetricConstraint]
) -> list[MetricViolation]:
    """Violations, in constraint order, of every constraint whose metric breaks its threshold.

    A constraint on a metric that is not a scalar of ``metrics`` raises KeyError with the
    metric's name; callers turn it into an input error naming the constraints file.
    """
    violations = []
    for constraint in constraints:
        entry = metrics.get(constraint.metric)
        if not isinstance(entry, MetricValue):
            raise KeyError(constraint.metric)
        if constraint.operator.is_violated(entry.value, constraint.threshold):
            violations.append(
                MetricViolation(
                    metric=constraint.metric,
                    value=entry.value,
                    standard_deviation=entry.standard_deviation,
                    threshold=constraint.threshold,
                    operator=constraint.operator,
                )
            )
    return violations
