"""Label-free performance estimation of a binary classifier (confidence-based, "CBPE").

A classifier whose scores are calibrated (``P(y = 1 | score) = calibrated(score)``) tells what its
confusion matrix is expected to be on any window of predictions, labelled or not: each row predicted
positive is a true positive with probability ``p`` and a false positive with ``1 - p``, each row predicted
negative a false negative with ``p`` and a true negative with ``1 - p``. Summing these gives the expected
confusion counts, and from them accuracy, precision, recall and F1 by the model-quality definitions
(``checks.model_quality``). The expected ROC AUC sweeps the threshold over the distinct scores, highest
first, and accumulates expected true positives (``p``) and false positives (``1 - p``): the expected
TPR/FPR curve, integrated by the trapezoid rule as the realised AUC is.

What it assumes: the calibration fitted on the labelled reference still holds in the window, i.e. the
inputs may shift (covariate shift) but ``P(y | x)`` does not. A concept shift is invisible to it; only
labels reveal it, which is why a window with labels compares its realised metrics with the estimate
(``concept_shift_p_values``).

Intervals are those of the realised metric given the window's predictions: labels drawn independently
from the calibrated probabilities make the true-positive count a Poisson-binomial sum with variance
``sum p (1 - p)`` over the rows predicted positive (likewise the false negatives), so accuracy and
precision get a normal interval from that variance, recall and F1 one from the delta method over the two
independent sums, and the ROC AUC a seeded parametric bootstrap (labels drawn from the probabilities,
the AUC of the window's scores recomputed each time).

Calibration (``fit_calibration``): isotonic regression of the labels on the scores
(``scipy.optimize.isotonic_regression``), one breakpoint per block of the fit at the block's mean score with
its share of positives slightly shrunk (``isotonic_calibration`` says why), linear between breakpoints and
clamped at the ends; kept only when its 5-fold cross-fitted Brier score is lower than the raw scores' on the
same held-out rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks.drift import normal_sf
from model_monitor_analyzer.constraint_rules import ESTIMATED_QUALITY_METRICS

#: Held-out folds of the calibration check, and the seed of their assignment.
CALIBRATION_FOLDS = 5
CALIBRATION_SEED = 0
#: Bootstrap refits of a kept calibration, kept with it: the spread of the estimates they give is the
#: calibration's own error (a reference of 20,000 rows misses the expected ROC AUC by about its sampling error
#: at 10,000 rows: ``bench/estimation.py``).
CALIBRATION_REPLICATES = 20
#: Most window rows the replicates are evaluated on (``estimate_binary``).
REPLICATE_ROWS = 50_000
#: Parametric-bootstrap draws of the ROC AUC interval, and their seed.
AUC_DRAWS = 200
AUC_SEED = 0
#: Most labels drawn for the bootstrap (rows x draws); larger windows take the delta method.
_BOOTSTRAP_CELLS = 4_000_000
#: Two-sided 95 % normal quantile.
Z_95 = 1.959963984540054

#: The estimated metrics, each named after the realised metric it estimates.
ESTIMATED_METRICS: Mapping[str, str] = {
    name: name.removeprefix("estimated_") for name in ESTIMATED_QUALITY_METRICS}


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """A monotone map from raw scores to probabilities: breakpoints ``scores`` (increasing) and the
    probability at each; between breakpoints linear, beyond them the end value."""

    scores: np.ndarray
    probabilities: np.ndarray

    def apply(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(scores, dtype=np.float64), self.scores, self.probabilities)

    def to_document(self) -> dict[str, list[float]]:
        return {"scores": self.scores.tolist(), "probabilities": self.probabilities.tolist()}

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> Calibration:
        """The calibration a baseline stored (ValueError naming what is wrong)."""
        scores = np.asarray(document.get("scores"), dtype=np.float64)
        probabilities = np.asarray(document.get("probabilities"), dtype=np.float64)
        if scores.ndim != 1 or scores.shape != probabilities.shape or scores.size == 0:
            raise ValueError("calibration needs equally long, non-empty 'scores' and 'probabilities' lists")
        if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(probabilities))) or np.any(np.diff(scores) < 0) \
                or np.any(np.diff(probabilities) < 0) or probabilities.min() < 0 or probabilities.max() > 1:
            raise ValueError("calibration breakpoints must be finite and increasing, probabilities within [0, 1]")
        return cls(scores, probabilities)


def isotonic_calibration(scores: np.ndarray, actual: np.ndarray) -> Calibration:
    """The isotonic (non-decreasing) least-squares fit of ``actual`` (0/1) on ``scores``, rows of equal score
    pooled first, kept as one breakpoint per constant block of the fit: at the block's mean score, the block's
    share of positives shrunk as ``(positives + 1/2) / (rows + 1)`` (Jeffreys' prior; the fit made monotone
    again where the shrinking crossed two blocks).

    Why not the plain step function: fitted on a reference of some ten thousand rows, its end blocks claim
    certainty (0 or 1) and its steps tie rows the model ranks apart, and both bias the expected ROC AUC upwards
    (by about 0.004 at 20,000 reference rows in ``bench/estimation.py``, more than the 95 % interval at 10,000
    rows); the block centres joined linearly and the shrunk ends remove most of it."""
    from scipy.optimize import isotonic_regression

    scores = np.asarray(scores, dtype=np.float64)
    distinct, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    weights = counts.astype(np.float64)
    means = np.bincount(inverse, weights=np.asarray(actual, dtype=np.float64), minlength=distinct.size) / weights
    fitted = isotonic_regression(means, weights=weights, increasing=True).x
    starts = np.flatnonzero(np.concatenate(([True], np.diff(fitted) != 0)))
    rows = np.add.reduceat(weights, starts)
    centres = np.add.reduceat(distinct * weights, starts) / rows
    shrunk = (fitted[starts] * rows + 0.5) / (rows + 1.0)
    values = isotonic_regression(shrunk, weights=rows + 1.0, increasing=True).x
    return Calibration(centres, np.clip(values, 0.0, 1.0))


def brier_score(probabilities: np.ndarray, actual: np.ndarray) -> float:
    """Mean of ``(p - y)^2``."""
    return float(np.mean((np.asarray(probabilities, dtype=np.float64) - np.asarray(actual, dtype=np.float64)) ** 2))


@dataclass(frozen=True)
class CalibrationChoice:
    """The calibration a baseline keeps (None: the raw scores are at least as well calibrated) and the
    cross-fitted Brier scores that decided it."""

    calibration: Calibration | None
    raw_brier: float
    calibrated_brier: float
    replicates: tuple[Calibration, ...] = ()

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        return np.clip(scores, 0.0, 1.0) if self.calibration is None else self.calibration.apply(scores)


def fit_calibration(scores: np.ndarray, actual: np.ndarray, *, folds: int = CALIBRATION_FOLDS,
                    replicates: int = CALIBRATION_REPLICATES, seed: int = CALIBRATION_SEED) -> CalibrationChoice:
    """Isotonic calibration of the scores, kept when its ``folds``-fold cross-fitted Brier score (each fold
    predicted by the fit on the others) is below the raw scores' on the same rows; with it, ``replicates``
    calibrations fitted on bootstrap resamples of the rows (seeded), whose spread is the calibration's error."""
    scores = np.asarray(scores, dtype=np.float64)
    actual = np.asarray(actual, dtype=bool)
    fold = np.random.default_rng(seed).permutation(scores.size) % folds
    held_out = np.empty(scores.size, dtype=np.float64)
    for k in range(folds):
        test = fold == k
        if not test.any() or test.all():
            held_out[test] = np.clip(scores[test], 0.0, 1.0)
            continue
        held_out[test] = isotonic_calibration(scores[~test], actual[~test]).apply(scores[test])
    raw = brier_score(np.clip(scores, 0.0, 1.0), actual)
    calibrated = brier_score(held_out, actual)
    if calibrated >= raw:
        return CalibrationChoice(None, raw, calibrated)
    rng = np.random.default_rng(seed)
    resamples = [rng.integers(0, scores.size, scores.size) for _ in range(replicates)]
    return CalibrationChoice(isotonic_calibration(scores, actual), raw, calibrated,
                             tuple(isotonic_calibration(scores[rows], actual[rows]) for rows in resamples))


# --------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """An estimated metric: its value, standard error, and 95 % interval of the realised value; the part of the
    standard error that comes from the calibration's own error (``calibration_error``, in quadrature)."""

    value: float
    standard_error: float
    lower: float
    upper: float
    calibration_error: float = 0.0


def expected_counts(probabilities: np.ndarray, predicted: np.ndarray) -> mq.BinaryCounts:
    """Expected TP = sum p over predicted positives, FP = sum (1 - p) over them, FN = sum p over predicted
    negatives, TN = sum (1 - p) over them (float counts)."""
    p = np.asarray(probabilities, dtype=np.float64)
    chosen = np.asarray(predicted, dtype=bool)
    tp = float(p[chosen].sum())
    fn = float(p[~chosen].sum())
    predicted_positive = int(np.count_nonzero(chosen))
    return mq.BinaryCounts(true_positives=tp, false_positives=predicted_positive - tp,  # type: ignore[arg-type]
                           true_negatives=(chosen.size - predicted_positive) - fn, false_negatives=fn)  # type: ignore[arg-type]


def _normal(value: float, variance: float, calibration_error: float = 0.0) -> Estimate:
    if not math.isfinite(variance):
        return Estimate(value, math.nan, math.nan, math.nan, calibration_error)
    error = math.sqrt(max(variance, 0.0))
    return Estimate(value, error, max(0.0, value - Z_95 * error), min(1.0, value + Z_95 * error),
                    calibration_error)


def _auc_of_groups(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """ROC AUC per row of (draws x groups) positive and negative counts, groups = distinct scores highest
    first: trapezoids between consecutive (FPR, TPR) points from (0, 0); 0 FPR range: as ``mq.roc_auc``."""
    tps = np.cumsum(positives, axis=-1)
    fps = np.cumsum(negatives, axis=-1)
    total_p = tps[..., -1:]
    total_n = fps[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.where(total_p > 0, tps / total_p, 0.0)
        fpr = np.where(total_n > 0, fps / total_n, 0.0)
    zero = np.zeros(tpr.shape[:-1] + (1,))
    tpr = np.concatenate((zero, tpr), axis=-1)
    fpr = np.concatenate((zero, fpr), axis=-1)
    area = np.sum(np.diff(fpr, axis=-1) * (tpr[..., 1:] + tpr[..., :-1]) / 2.0, axis=-1)
    return np.where(total_n[..., 0] > 0, area, np.where(total_p[..., 0] > 0, 1.0, 0.0))


def _score_groups(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row order by score, highest first, and the start of each run of equal scores in it."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ordered = scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    return order, starts


def _midranks(order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each row's rank from 1 upwards by score, tied scores sharing the mean of their ranks (from the
    descending ``order`` and its runs' ``starts``, ``_score_groups``)."""
    n = order.size
    sizes = np.diff(np.append(starts, n))
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat((n - starts - sizes) + (sizes + 1) / 2.0, sizes)
    return ranks


def _mann_whitney_auc(ranks: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """AUC per row of ``labels`` (draws x rows, 0/1): ``(sum of the positives' mid-ranks - P(P+1)/2) / (P N)``,
    the trapezoidal ROC AUC with ties; 1.0 without a negative, 0.0 without a positive (as ``mq.roc_auc``)."""
    positives = labels.sum(axis=1, dtype=np.float64)
    rank_sums = labels.astype(np.float64) @ ranks if labels.dtype != np.float64 else labels @ ranks
    negatives = n - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        area = (rank_sums - positives * (positives + 1) / 2.0) / (positives * negatives)
    return np.where(negatives > 0, np.where(positives > 0, area, 0.0), 1.0)


def estimated_auc(scores: np.ndarray, probabilities: np.ndarray, *, draws: int = AUC_DRAWS,
                  seed: int = AUC_SEED, groups: tuple[np.ndarray, np.ndarray] | None = None) -> Estimate:
    """Expected-TPR/FPR ROC AUC of ``scores`` with labels of probability ``probabilities``, with the 95 %
    interval of the AUC of labels drawn from them.

    Up to ``_BOOTSTRAP_CELLS`` drawn labels (rows x ``draws``) the standard error is that of ``draws`` seeded
    label sets' AUCs; beyond, where it takes too long and the AUC's distribution is normal, it is the delta
    method on the Mann-Whitney form ``(S - P(P+1)/2) / (P (n - P))``, ``S = sum y r`` over mid-ranks ``r``,
    ``P = sum y``, with ``Var S = sum p(1-p) r^2``, ``Cov(S, P) = sum p(1-p) r``, ``Var P = sum p(1-p)``.
    ``groups``: the rows' order and score runs (``_score_groups``) when the caller has them already."""
    scores = np.asarray(scores, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    order, starts = _score_groups(scores) if groups is None else groups
    sorted_p = p[order]
    value = float(_auc_of_groups(np.add.reduceat(sorted_p, starts), np.add.reduceat(1.0 - sorted_p, starts)))
    n = p.size
    if draws <= 1 or n == 0:
        return Estimate(value, math.nan, math.nan, math.nan)
    ranks = _midranks(order, starts)
    if n * draws <= _BOOTSTRAP_CELLS:
        rng = np.random.default_rng(seed)
        drawn = (rng.random((draws, n)) < p).astype(np.float64)
        sample = _mann_whitney_auc(ranks, drawn, n)
        return _normal(value, float(np.var(sample, ddof=1)))
    spread = p * (1.0 - p)
    positives, rank_sum = float(p.sum()), float(p @ ranks)
    negatives = n - positives
    if positives <= 0 or negatives <= 0:
        return Estimate(value, 0.0, value, value)
    var_s, cov_sp, var_p = float(spread @ ranks**2), float(spread @ ranks), float(spread.sum())
    scale = positives * negatives
    numerator = rank_sum - positives * (positives + 1) / 2.0
    d_s = 1.0 / scale
    d_p = (-(positives + 0.5) * scale - numerator * (n - 2.0 * positives)) / scale**2
    return _normal(value, d_s**2 * var_s + 2 * d_s * d_p * cov_sp + d_p**2 * var_p)


def _point_values(p: np.ndarray, chosen: np.ndarray, order: np.ndarray, starts: np.ndarray) -> dict[str, float]:
    """The estimated metrics' values (no interval) for probabilities ``p``, rows grouped by score as given."""
    counts = expected_counts(p, chosen)
    precision_value, recall_value = mq.precision(counts), mq.recall(counts)
    sorted_p = p[order]
    return {
        "estimated_accuracy": mq.accuracy(counts),
        "estimated_precision": precision_value,
        "estimated_recall": recall_value,
        "estimated_f1": mq.f_beta(precision_value, recall_value, 1.0),
        "estimated_auc": float(_auc_of_groups(np.add.reduceat(sorted_p, starts),
                                              np.add.reduceat(1.0 - sorted_p, starts))),
    }


def estimate_binary(scores: np.ndarray, probabilities: np.ndarray, predicted: np.ndarray, *,
                    replicates: Sequence[Calibration] = (), auc_draws: int = AUC_DRAWS) -> dict[str, Estimate]:
    """Estimated accuracy, precision, recall, F1 (of the positive class) and ROC AUC of a window whose
    rows have raw ``scores``, calibrated ``probabilities`` of the positive class and ``predicted`` labels.

    ``replicates``: the baseline's bootstrap calibrations; the variance of the metrics across them (the
    calibration's own error, from a reference of limited size) is added to the sampling variance of each
    interval. It is measured on at most ``REPLICATE_ROWS`` of the window's rows (a seeded sample, the same for
    every replicate): a systematic error needs no million rows to show, and 20 passes over a million would
    cost more than the rest of the estimate."""
    p = np.asarray(probabilities, dtype=np.float64)
    chosen = np.asarray(predicted, dtype=bool)
    n = chosen.size
    if n == 0:
        return {}
    scores = np.asarray(scores, dtype=np.float64)
    order, starts = _score_groups(scores)
    values = _point_values(p, chosen, order, starts)
    spread = p * (1.0 - p)
    var_tp = float(spread[chosen].sum())  # Poisson-binomial variance of the true positives
    var_fn = float(spread[~chosen].sum())
    tp, fn = float(p[chosen].sum()), float(p[~chosen].sum())
    predicted_positive = int(np.count_nonzero(chosen))
    actual_positive = tp + fn
    recall_variance = ((fn**2 * var_tp + tp**2 * var_fn) / actual_positive**4) if actual_positive > 0 else 0.0
    f1_denominator = predicted_positive + actual_positive
    f1_variance = ((2 * (predicted_positive + fn) / f1_denominator**2) ** 2 * var_tp
                   + (2 * tp / f1_denominator**2) ** 2 * var_fn) if f1_denominator > 0 else 0.0
    auc = estimated_auc(scores, p, draws=auc_draws, groups=(order, starts))
    sampling = {
        "estimated_accuracy": (var_tp + var_fn) / n**2,
        "estimated_precision": var_tp / predicted_positive**2 if predicted_positive else 0.0,
        "estimated_recall": recall_variance,
        "estimated_f1": f1_variance,
        "estimated_auc": auc.standard_error**2,
    }
    calibration = dict.fromkeys(values, 0.0)
    if len(replicates) > 1:
        rows = np.sort(np.random.default_rng(CALIBRATION_SEED).choice(n, REPLICATE_ROWS, replace=False)) \
            if n > REPLICATE_ROWS else np.arange(n)
        sample_scores, sample_chosen = scores[rows], chosen[rows]
        sample_order, sample_starts = _score_groups(sample_scores)
        table = [_point_values(r.apply(sample_scores), sample_chosen, sample_order, sample_starts)
                 for r in replicates]
        calibration = {name: float(np.var([row[name] for row in table], ddof=1)) for name in values}
    return {name: _normal(values[name], sampling[name] + calibration[name], math.sqrt(calibration[name]))
            for name in values}


def concept_shift_p_values(estimates: Mapping[str, Estimate], realised: Mapping[str, float]) -> dict[str, float]:
    """Two-sided normal p-value of each realised metric's gap from its estimate on the same rows, in units of
    the estimate's standard error (a metric without a finite, positive standard error is left out)."""
    p_values = {}
    for name, estimate in estimates.items():
        value = realised.get(ESTIMATED_METRICS[name])
        if value is None or not math.isfinite(estimate.standard_error) or estimate.standard_error <= 0:
            continue
        z = abs(value - estimate.value) / estimate.standard_error
        p_values[name] = min(1.0, 2.0 * normal_sf(z))
    return p_values
