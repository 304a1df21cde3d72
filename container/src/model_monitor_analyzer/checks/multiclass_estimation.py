"""Label-free performance estimation of a multiclass classifier (confidence-based, "CBPE"), from per-class
probabilities.

Calibration (``fit_class_calibrations``): one-vs-rest, each class's score calibrated against "the label is this
class" by ``performance_estimation.fit_calibration`` (isotonic, kept for that class only when it lowers the
5-fold cross-fitted Brier score), then every row's probabilities divided by their sum so that they add up to 1.

Estimate (``estimate_multiclass``): with calibrated probabilities ``p[i, c] = P(y_i = c)`` and the predicted class
``j_i`` of each row, the expected confusion matrix is ``E M[c, j] = sum of p[i, c] over the rows predicted j``.
Per class ``c``: expected true positives ``TP_c = E M[c, c]``, false negatives ``FN_c = sum of the other cells of
row c``, predicted count ``P_c`` (known). Accuracy is ``sum_c TP_c / n``; precision, recall and F1 of each class
are the model-quality definitions (``checks.model_quality``: a zero denominator gives 0) on those counts, and the
macro metric is their unweighted mean over the classes of the probabilities (as NannyML's multiclass CBPE).

Intervals: each row's label is drawn from its probabilities, independently of the others, and a metric is a smooth
function of the counts ``TP_c``, ``FN_c``. Row ``i`` (predicted ``j``) adds 1 to ``TP_j`` when its label is ``j``
and 1 to ``FN_c`` when it is ``c != j``; with ``g_i(c)`` the metric's derivative along that count, the delta
method gives ``Var = sum_i (sum_c p[i, c] g_i(c)^2 - (sum_c p[i, c] g_i(c))^2)``: the labels of one row are
categorical (one class excludes the others), which the per-class binary formulas would miss.

The macro one-vs-rest ROC AUC is the mean over classes of the binary expected ROC AUC
(``performance_estimation.estimated_auc`` of the class's score with its calibrated probability); its interval comes
from seeded parametric draws of whole labels (categorical per row), the macro AUC recomputed each time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import performance_estimation as pe

#: The estimated metrics of a multiclass classifier, each named after the binary one it stands for (macro means).
MULTICLASS_ESTIMATED_METRICS = ("estimated_accuracy", "estimated_precision", "estimated_recall", "estimated_f1",
                                "estimated_auc")
#: Most labels drawn for the macro-AUC interval (rows x draws); beyond, the per-class delta variances' mean.
_BOOTSTRAP_CELLS = 2_000_000


@dataclass(frozen=True)
class ClassCalibrations:
    """One calibration choice per class (``performance_estimation.CalibrationChoice``, None: raw score kept)."""

    choices: tuple[pe.CalibrationChoice, ...]

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Each class's calibrated probability, every row then divided by its sum (a row whose calibrated
        probabilities are all 0 gets equal ones)."""
        scores = np.asarray(scores, dtype=np.float64)
        calibrated = np.column_stack([choice.probabilities(scores[:, k]) for k, choice in enumerate(self.choices)])
        return renormalised(calibrated)


def renormalised(probabilities: np.ndarray) -> np.ndarray:
    """Rows divided by their sum; a row summing to 0 becomes uniform."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, None)
    totals = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / max(p.shape[1], 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, p / np.where(totals > 0, totals, 1.0), uniform)


def fit_class_calibrations(scores: np.ndarray, actual: np.ndarray, *, folds: int = pe.CALIBRATION_FOLDS,
                           seed: int = pe.CALIBRATION_SEED) -> ClassCalibrations:
    """One-vs-rest isotonic calibration of each class's score column (``scores``: rows x classes) against
    ``actual == k`` (``actual``: class positions), each kept when it lowers that class's cross-fitted Brier score."""
    scores = np.asarray(scores, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.int64)
    return ClassCalibrations(tuple(
        pe.fit_calibration(scores[:, k], actual == k, folds=folds, replicates=0, seed=seed)
        for k in range(scores.shape[1])))


def expected_confusion_matrix(probabilities: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``E M[c, j]`` = sum of ``probabilities[i, c]`` over the rows predicted ``j`` (rows actual, columns predicted,
    as ``model_quality.confusion_matrix``)."""
    p = np.asarray(probabilities, dtype=np.float64)
    size = p.shape[1]
    onehot = np.zeros((p.shape[0], size))
    onehot[np.arange(p.shape[0]), np.asarray(predicted, dtype=np.int64)] = 1.0
    return p.T @ onehot


def _class_counts(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(TP_c, FN_c, predicted count P_c) of a confusion matrix (actual rows, predicted columns)."""
    tp = np.diag(matrix).astype(np.float64)
    return tp, matrix.sum(axis=1) - tp, matrix.sum(axis=0).astype(np.float64)


def macro_values(matrix: np.ndarray) -> dict[str, float]:
    """Accuracy and the macro (unweighted mean over classes) precision, recall and F1 of a confusion matrix,
    each class's value by ``model_quality``'s definitions (a zero denominator gives 0)."""
    tp, fn, predicted = _class_counts(np.asarray(matrix, dtype=np.float64))
    precisions = [mq._ratio(t, p) for t, p in zip(tp, predicted, strict=True)]
    recalls = [mq._ratio(t, t + f) for t, f in zip(tp, fn, strict=True)]
    f1s = [mq.f_beta(p, r, 1.0) for p, r in zip(precisions, recalls, strict=True)]
    return {
        "estimated_accuracy": mq.multiclass_accuracy(matrix),
        "estimated_precision": float(np.mean(precisions)),
        "estimated_recall": float(np.mean(recalls)),
        "estimated_f1": float(np.mean(f1s)),
    }


def _gradients(tp: np.ndarray, fn: np.ndarray, predicted: np.ndarray, n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each metric's derivatives along (TP_c, FN_c) per class."""
    size = tp.size
    actual = tp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        precision_tp = np.where(predicted > 0, 1.0 / predicted, 0.0)
        recall_tp = np.where(actual > 0, fn / actual**2, 0.0)
        recall_fn = np.where(actual > 0, -tp / actual**2, 0.0)
        f1_denominator = predicted + actual
        f1_tp = np.where(f1_denominator > 0, 2.0 * (predicted + fn) / f1_denominator**2, 0.0)
        f1_fn = np.where(f1_denominator > 0, -2.0 * tp / f1_denominator**2, 0.0)
    zero = np.zeros(size)
    return {
        "estimated_accuracy": (np.full(size, 1.0 / n), zero),
        "estimated_precision": (precision_tp / size, zero),
        "estimated_recall": (recall_tp / size, recall_fn / size),
        "estimated_f1": (f1_tp / size, f1_fn / size),
    }


def _delta_variance(p: np.ndarray, predicted: np.ndarray, d_tp: np.ndarray, d_fn: np.ndarray) -> float:
    """``sum_i Var(g_i(y_i))`` with ``g_i(c) = d_tp[j_i]`` when ``c = j_i`` and ``d_fn[c]`` otherwise."""
    rows = np.arange(p.shape[0])
    g = np.broadcast_to(d_fn, p.shape).copy()
    g[rows, predicted] = d_tp[predicted]
    mean = np.sum(p * g, axis=1)
    return float(np.sum(np.sum(p * g * g, axis=1) - mean**2))


def _macro_auc_draws(scores: np.ndarray, p: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Macro one-vs-rest ROC AUC of ``draws`` label sets drawn row by row from the categorical ``p``."""
    n, size = p.shape
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(p, axis=1)
    cumulative[:, -1] = 1.0
    drawn = (rng.random((draws, n, 1)) > cumulative[None, :, :]).sum(axis=2)  # draws x rows, class positions
    total = np.zeros(draws)
    for k in range(size):
        order, starts = pe._score_groups(scores[:, k])
        ranks = pe._midranks(order, starts)
        total += pe._mann_whitney_auc(ranks, (drawn == k).astype(np.float64), n)
    return total / size


def estimate_multiclass(scores: np.ndarray, probabilities: np.ndarray, predicted: np.ndarray, *,
                        auc_draws: int = pe.AUC_DRAWS, seed: int = pe.AUC_SEED) -> dict[str, pe.Estimate]:
    """Estimated accuracy, macro precision, recall, F1 and macro one-vs-rest ROC AUC of a window whose rows have raw
    class ``scores`` (rows x classes, ranking each class for the AUC), calibrated ``probabilities`` (rows x classes,
    each row adding up to 1) and ``predicted`` class positions, each with its 95 % interval (module docstring)."""
    p = np.asarray(probabilities, dtype=np.float64)
    chosen = np.asarray(predicted, dtype=np.int64)
    n = chosen.size
    if n == 0:
        return {}
    scores = np.asarray(scores, dtype=np.float64)
    matrix = expected_confusion_matrix(p, chosen)
    values = macro_values(matrix)
    tp, fn, counted = _class_counts(matrix)
    estimates = {name: pe._normal(values[name], _delta_variance(p, chosen, d_tp, d_fn))
                 for name, (d_tp, d_fn) in _gradients(tp, fn, counted, n).items()}
    per_class = [pe.estimated_auc(scores[:, k], p[:, k], draws=0) for k in range(p.shape[1])]
    auc = float(np.mean([e.value for e in per_class]))
    if auc_draws > 1 and n * auc_draws <= _BOOTSTRAP_CELLS:
        estimates["estimated_auc"] = pe._normal(auc, float(np.var(_macro_auc_draws(scores, p, auc_draws, seed), ddof=1)))
    elif auc_draws > 1:  # classes' AUCs taken as independent: the per-class delta variances' mean over classes
        variances = [pe.estimated_auc(scores[:, k], p[:, k], draws=auc_draws).standard_error ** 2
                     for k in range(p.shape[1])]
        estimates["estimated_auc"] = pe._normal(auc, float(np.sum(variances)) / p.shape[1] ** 2)
    else:
        estimates["estimated_auc"] = pe.Estimate(auc, math.nan, math.nan, math.nan)
    return estimates


def realised_values(actual: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None, size: int) -> dict[str, float]:
    """The realised counterparts of the estimates on labelled rows (class positions; ``scores`` rows x classes for
    the macro one-vs-rest ROC AUC, left out without them)."""
    actual = np.asarray(actual, dtype=np.int64)
    matrix = np.bincount(actual * size + np.asarray(predicted, dtype=np.int64), minlength=size * size).reshape(size, size)
    values = macro_values(matrix)
    if scores is not None:
        values["estimated_auc"] = float(np.mean([mq.roc_auc(scores[:, k], actual == k) for k in range(size)]))
    return values


def class_order(predicted: Sequence[str], scores: np.ndarray, labels: Sequence[str] = ()) -> tuple[str, ...] | None:
    """The class each probability column stands for: the predicted label most often where that column is the
    largest, when that names a different class for every column; else ``0 .. K-1`` when every predicted and
    true label is one of those integers; else None (the caller says what to do)."""
    scores = np.asarray(scores, dtype=np.float64)
    size = scores.shape[1]
    top = np.argmax(scores, axis=1)
    names = np.asarray(list(predicted), dtype=object)
    order: list[str | None] = []
    for k in range(size):
        found, counts = np.unique(names[top == k].astype(str), return_counts=True) if np.any(top == k) else ([], [])
        order.append(str(found[int(np.argmax(counts))]) if len(found) else None)
    if None not in order and len(set(order)) == size:
        return tuple(str(name) for name in order)
    indices = {str(k) for k in range(size)}
    if set(map(str, predicted)) <= indices and set(map(str, labels)) <= indices:
        return tuple(str(k) for k in range(size))
    return None


def class_calibrations_document(calibrations: ClassCalibrations, classes: Sequence[str]) -> dict[str, object]:
    """A baseline's record of the per-class calibrations."""
    return {"classes": list(classes), "per_class": [
        {"method": "isotonic" if c.calibration is not None else "none",
         "cross_fitted_brier_score": {"raw": c.raw_brier, "calibrated": c.calibrated_brier},
         **(c.calibration.to_document() if c.calibration is not None else {})} for c in calibrations.choices]}


def class_calibrations_from_document(document: Mapping[str, object]) -> tuple[tuple[str, ...], ClassCalibrations]:
    """What ``class_calibrations_document`` wrote (ValueError naming what is wrong)."""
    classes = document.get("classes")
    listed = document.get("per_class")
    if not isinstance(classes, list) or not isinstance(listed, list) or len(classes) != len(listed) or len(classes) < 2:
        raise ValueError("per-class calibration needs equally long 'classes' and 'per_class' lists of 2 or more")
    choices = []
    for entry in listed:
        if not isinstance(entry, dict):
            raise ValueError("each per_class calibration must be an object")
        brier = entry.get("cross_fitted_brier_score") or {}
        calibration = pe.Calibration.from_document(entry) if entry.get("method") == "isotonic" else None
        choices.append(pe.CalibrationChoice(calibration, float(brier.get("raw", math.nan)),
                                            float(brier.get("calibrated", math.nan))))
    return tuple(str(c) for c in classes), ClassCalibrations(tuple(choices))
