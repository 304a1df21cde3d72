"""Model-quality verdicts that account for the window's size: a metric violates when it is worse than its
threshold by more than chance allows at the window's (and the baseline's) size, and metrics a window
cannot compute are said to be so instead of being judged as 0.

The built-in suggests each threshold at the baseline's own value; judged literally, an unchanged model
lands on the wrong side of about half of them in every window. The sample-size-aware decision
(``comparison`` ``significance``, what this analyzer's baselines ask for) keeps the threshold and asks
for evidence:

* every metric has a standard error at a given size (``standard_errors``): Wald's for rates
  (``sqrt(p (1 - p) / n)`` over the rate's own denominator, e.g. precision's predicted positives), the
  delta method for F-scores over the confusion matrix's multinomial cells, Hanley and McNeil's for
  the AUC, a multinomial resampling of the confusion matrix for the weighted multiclass metrics, and
  the delta method over the rows for MAE, MSE, RMSE and R2;
* a metric worse than its threshold gets the one-sided p-value of
  ``z = (threshold - value) / sqrt(se_window^2 + se_baseline^2)`` (error metrics the other way round);
  the baseline's standard error is the one its constraints.json stores (``baseline_standard_error``;
  0 for a threshold written by hand, which is a fixed number); the window's is at least the
  baseline's scaled to the window's size, so that a small window whose few rows happen to be all
  right does not claim a standard error of 0;
* a violation is a metric whose p-value is a Benjamini-Hochberg discovery at ``significance_level``
  across the window's constrained metrics, and that is worse than its threshold by at least
  ``tolerance`` (an absolute margin, default 0).

When the baseline keeps the label-free estimation block, a window runs more tests than its metrics: a drop
check per estimated metric, the prediction drift's parts and a concept-shift test per estimated metric. Each
family judged on its own at ``significance_level`` lets an unchanged window raise *some* violation about once
per family (1.0 to 1.2 % of unchanged windows of 50 to 1,000 labelled rows in the verdict bench at 0.01).
``joint_discoveries`` makes the window's tests one decision in which each kind of check has an equal share (Simes
within a kind, Benjamini-Hochberg over the kinds, then within the selected ones), which with nothing changed keeps
the chance of any violation at ``significance_level`` (0.4 % in the bench) and, unlike one pooled family of every
p-value (``pooled_discoveries``), does not make a kind of one test pay for the many of another;
``decide(..., discoveries=...)`` takes the metrics' part of its answer.

``comparison`` ``threshold`` (what a constraints.json without our ``monitoring_config`` asks for) is
the built-in's rule: a violation whenever the value is on the wrong side of the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from model_monitor_analyzer.checks.drift import benjamini_hochberg, normal_sf
from model_monitor_analyzer.checks.model_quality import (
    ComparisonOperator,
    MetricConstraint,
    MetricEntry,
    MetricValue,
    MetricViolation,
    ProblemType,
    weighted_f_beta,
    weighted_precision,
)
from model_monitor_analyzer.constraint_rules import (  # what the file's keys mean, shared with the alarms
    DEFAULT_QUALITY_SIGNIFICANCE_LEVEL,
    SIGNIFICANCE,
    THRESHOLD,
    QualityDecision,
    decision_document,
    parse_decision,
)

__all__ = ["DEFAULT_QUALITY_SIGNIFICANCE_LEVEL", "SIGNIFICANCE", "THRESHOLD", "QualityDecision", "QualityVerdict",
           "decide", "decision_document", "joint_discoveries", "not_computable", "parse_decision", "pooled_discoveries",
           "simes", "standard_errors"]
RESAMPLES = 400
RESAMPLE_SEED = 0
_WORSE_WHEN_LOWER = (ComparisonOperator.LESS_THAN, ComparisonOperator.LESS_THAN_OR_EQUAL_TO)


# -- what a window cannot compute -------------------------------------------------------------------


def _binary_cells(metrics: Mapping[str, MetricEntry]) -> tuple[int, int, int, int] | None:
    matrix = metrics.get("confusion_matrix")
    if not isinstance(matrix, Mapping) or "0" not in matrix or "1" not in matrix:
        return None
    negatives, positives = matrix["0"], matrix["1"]
    return int(positives.get("1", 0)), int(negatives.get("1", 0)), int(negatives.get("0", 0)), int(positives.get("0", 0))


def not_computable(problem_type: ProblemType, metrics: Mapping[str, MetricEntry], *,
                   ground_truth_varies: bool = True) -> dict[str, str]:
    """The metrics the window has no data for, each with the reason (their reported value, 0 by the
    built-in's convention, says nothing about the model)."""
    reasons: dict[str, str] = {}
    if problem_type is ProblemType.BINARY_CLASSIFICATION:
        cells = _binary_cells(metrics)
        if cells is None:
            return reasons
        tp, fp, tn, fn = cells
        if tp + fn == 0:
            for name in ("recall", "true_positive_rate", "false_negative_rate"):
                reasons[name] = "no row with a positive label"
        if tn + fp == 0:
            for name in ("true_negative_rate", "false_positive_rate"):
                reasons[name] = "no row with a negative label"
        if tp + fp == 0:
            reasons["precision"] = "nothing predicted positive"
        if tp + fn == 0 or tn + fp == 0:
            reasons["auc"] = "labels of one class only"
        if tp + fn == 0:  # an F-score weighs recall, which has no value without a positive label
            for name in ("f0_5", "f1", "f2"):
                reasons[name] = "no row with a positive label"
    elif problem_type is ProblemType.REGRESSION and not ground_truth_varies:
        reasons["r2"] = "the ground truth is the same value in every row"
    return reasons


# -- standard errors ---------------------------------------------------------------------------------


def _rate_error(successes: float, total: float) -> float:
    if total <= 0:
        return math.nan
    p = successes / total
    return math.sqrt(p * (1 - p) / total)


def _f_beta_error(tp: int, fp: int, fn: int, total: int, beta: float) -> float:
    """Delta method over the multinomial cells: F is homogeneous of degree 0 in (tp, fn, fp), so its
    variance is ``sum_i g_i^2 pi_i / n`` with ``g`` its gradient in the cell shares ``pi``."""
    b2 = beta * beta
    denominator = (1 + b2) * tp + b2 * fn + fp
    if total <= 0 or denominator == 0:
        return math.nan
    shares = np.array([tp, fn, fp], dtype=np.float64) / total
    d = denominator / total
    gradient = np.array([(1 + b2) * (b2 * shares[1] + shares[2]), -(1 + b2) * shares[0] * b2,
                         -(1 + b2) * shares[0]]) / d**2
    return float(math.sqrt(np.sum(gradient**2 * shares) / total))


def _auc_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley and McNeil (1982): ``(A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0)``,
    ``Q1 = A/(2-A)``, ``Q2 = 2A^2/(1+A)``."""
    if positives == 0 or negatives == 0:
        return math.nan
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives)
    return math.sqrt(max(variance, 0.0))


def _binary_errors(metrics: Mapping[str, MetricEntry]) -> dict[str, float]:
    cells = _binary_cells(metrics)
    if cells is None:
        return {}
    tp, fp, tn, fn = cells
    total = tp + fp + tn + fn
    errors = {
        "accuracy": _rate_error(tp + tn, total),
        "recall": _rate_error(tp, tp + fn), "true_positive_rate": _rate_error(tp, tp + fn),
        "false_negative_rate": _rate_error(fn, tp + fn), "precision": _rate_error(tp, tp + fp),
        "true_negative_rate": _rate_error(tn, tn + fp), "false_positive_rate": _rate_error(fp, tn + fp),
        "f0_5": _f_beta_error(tp, fp, fn, total, 0.5), "f1": _f_beta_error(tp, fp, fn, total, 1.0),
        "f2": _f_beta_error(tp, fp, fn, total, 2.0),
    }
    auc = metrics.get("auc")
    if isinstance(auc, MetricValue):
        errors["auc"] = _auc_error(auc.value, tp + fn, tn + fp)
    return errors


def _multiclass_errors(metrics: Mapping[str, MetricEntry]) -> dict[str, float]:
    matrix_entry = metrics.get("confusion_matrix")
    if not isinstance(matrix_entry, Mapping) or not matrix_entry:
        return {}
    classes = list(matrix_entry)
    matrix = np.array([[float(matrix_entry[a].get(p, 0)) for p in classes] for a in classes])
    total = int(matrix.sum())
    if total == 0:
        return {}
    accuracy_error = _rate_error(float(np.trace(matrix)), total)
    # the weighted precision and F-scores by a seeded multinomial resampling of the matrix
    generator = np.random.default_rng(RESAMPLE_SEED)
    draws = generator.multinomial(total, (matrix / total).ravel(), size=RESAMPLES).reshape(RESAMPLES, *matrix.shape)
    values: dict[str, list[float]] = {"weighted_precision": [], "weighted_f0_5": [], "weighted_f1": [], "weighted_f2": []}
    for sample in draws:
        values["weighted_precision"].append(weighted_precision(sample))
        for name, beta in (("weighted_f0_5", 0.5), ("weighted_f1", 1.0), ("weighted_f2", 2.0)):
            values[name].append(weighted_f_beta(sample, beta))
    errors = {name: float(np.std(found, ddof=1)) for name, found in values.items()}
    # the weighted recall is the accuracy: sum_c (n_c / n) (tp_c / n_c) = sum_c tp_c / n
    errors.update(accuracy=accuracy_error, weighted_recall=accuracy_error)
    return errors


def _regression_errors(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Delta method over the rows: each metric's per-row influence, its variance over n."""
    n = actual.size
    if n < 2:
        return {}
    error = predicted - actual
    absolute, squared = np.abs(error), error**2
    mse = float(squared.mean())
    errors = {"mae": float(absolute.std(ddof=1) / math.sqrt(n)), "mse": float(squared.std(ddof=1) / math.sqrt(n))}
    errors["rmse"] = errors["mse"] / (2 * math.sqrt(mse)) if mse > 0 else 0.0
    centred = (actual - actual.mean()) ** 2
    variance = float(centred.mean())
    if variance > 0:
        influence = -squared / variance + mse * centred / variance**2
        errors["r2"] = float(influence.std(ddof=1) / math.sqrt(n))
    return errors


def standard_errors(problem_type: ProblemType, metrics: Mapping[str, MetricEntry], *,
                    actual: np.ndarray | None = None, predicted: np.ndarray | None = None) -> dict[str, float]:
    """Each metric's standard error at the window's size (regression needs the rows' ``actual`` and
    ``predicted`` values; the classifications read their confusion matrix and AUC from ``metrics``).
    NaN where the metric is not computable."""
    if problem_type is ProblemType.BINARY_CLASSIFICATION:
        return _binary_errors(metrics)
    if problem_type is ProblemType.MULTICLASS_CLASSIFICATION:
        return _multiclass_errors(metrics)
    if actual is None or predicted is None:
        return {}
    return _regression_errors(np.asarray(actual, dtype=np.float64), np.asarray(predicted, dtype=np.float64))


# -- the decision -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class QualityVerdict:
    """A window's model-quality verdict: the violations, the metrics not computable (with reasons), and
    each judged metric's p-value (significance comparison)."""

    violations: tuple[MetricViolation, ...]
    not_computable: Mapping[str, str]
    p_values: Mapping[str, float]


def pooled_discoveries(families: Mapping[str, Mapping[str, float]], level: float) -> dict[str, frozenset[str]]:
    """One Benjamini-Hochberg procedure at ``level`` over every p-value of every family (check -> tested name ->
    p-value; NaN takes part in nothing): each family's discoveries, under its own name (empty when none)."""
    pooled = {f"{family}/{name}": p for family, found in families.items() for name, p in found.items()}
    discovered = benjamini_hochberg(pooled, level)
    return {family: frozenset(name for name in found if f"{family}/{name}" in discovered)
            for family, found in families.items()}


def simes(p_values: Collection[float]) -> float:
    """Simes' combination of ``p_values`` (NaN left out): ``min_i m p_(i) / i``, at most 1; NaN when none is left.
    A valid p-value of "every hypothesis true" when the p-values are independent or positively dependent."""
    ranked = sorted(p for p in p_values if p is not None and not math.isnan(p))
    if not ranked:
        return math.nan
    return min(1.0, min(len(ranked) * p / rank for rank, p in enumerate(ranked, start=1)))


Family = TypeVar("Family", bound=Hashable)
Name = TypeVar("Name", bound=Hashable)


def joint_discoveries(families: Mapping[Family, Mapping[Name, float]], level: float) -> dict[Family, frozenset[Name]]:
    """The window's tests as one family in which each kind of check (family: check -> tested name -> p-value; NaN
    takes part in nothing) has an equal share, whatever its number of tests: each kind's p-values are combined by
    Simes, Benjamini-Hochberg at ``level`` over the kinds' combined p-values selects ``R`` of the ``K`` kinds, and
    within each selected kind Benjamini-Hochberg at ``level * R / K`` names the discoveries (Benjamini and
    Bogomolov's selective procedure: a selected kind always has one). With nothing changed a violation needs the
    Simes test of the kinds' Simes p-values to reject, which happens with probability at most ``level`` under
    positive dependence; a kind of one strong test (prediction drift's scores) no longer pays for the eleven
    correlated realised metrics, as it does in one pooled family (``pooled_discoveries``)."""
    combined = {family: simes(found.values()) for family, found in families.items()}
    tested = {family: p for family, p in combined.items() if not math.isnan(p)}
    selected = benjamini_hochberg(tested, level)
    within = level * len(selected) / len(tested) if tested else 0.0
    return {family: benjamini_hochberg(found, within) if family in selected else frozenset()
            for family, found in families.items()}


def decide(metrics: Mapping[str, MetricEntry], constraints: Sequence[MetricConstraint], decision: QualityDecision, *,
           errors: Mapping[str, float], baseline_errors: Mapping[str, float], window_size: int,
           skipped: Mapping[str, str], discoveries: Collection[str] | None = None) -> QualityVerdict:
    """The violations of ``constraints`` by the window's ``metrics`` under ``decision``.

    ``skipped``: metrics not computable in this window (``not_computable``), never judged. A
    constraint on a metric that is not a scalar of ``metrics`` raises KeyError with its name.
    ``discoveries``: the metrics a Benjamini-Hochberg over a larger family found (``joint_discoveries`` on the
    ``p_values`` of a first call and the window's other tests); None: the window's metrics are the family.
    """
    judged: list[tuple[MetricConstraint, MetricValue]] = []
    for constraint in constraints:
        entry = metrics.get(constraint.metric)
        if not isinstance(entry, MetricValue):
            raise KeyError(constraint.metric)
        if constraint.metric not in skipped:
            judged.append((constraint, entry))
    if decision.comparison == THRESHOLD:
        return QualityVerdict(violations=tuple(
            _violation(c, e) for c, e in judged if c.operator.is_violated(e.value, c.threshold)),
            not_computable=dict(skipped), p_values={})
    p_values: dict[str, float] = {}
    for constraint, entry in judged:
        lower_is_worse = constraint.operator in _WORSE_WHEN_LOWER
        shortfall = (constraint.threshold - entry.value) if lower_is_worse else (entry.value - constraint.threshold)
        if shortfall <= 0:
            p_values[constraint.metric] = 1.0
            continue
        baseline_error = baseline_errors.get(constraint.metric, 0.0) or 0.0
        window_error = errors.get(constraint.metric, math.nan)
        if decision.baseline_size and baseline_error > 0:
            scaled = baseline_error * math.sqrt(decision.baseline_size / max(window_size, 1))
            window_error = scaled if math.isnan(window_error) else max(window_error, scaled)
        spread = math.sqrt((0.0 if math.isnan(window_error) else window_error) ** 2 + baseline_error**2)
        p_values[constraint.metric] = 0.0 if spread == 0 else normal_sf(shortfall / spread)
    if discoveries is None:
        discoveries = benjamini_hochberg(p_values, decision.significance_level)
    violations = []
    for constraint, entry in judged:
        lower_is_worse = constraint.operator in _WORSE_WHEN_LOWER
        shortfall = (constraint.threshold - entry.value) if lower_is_worse else (entry.value - constraint.threshold)
        if constraint.metric in discoveries and constraint.operator.is_violated(entry.value, constraint.threshold) \
                and shortfall >= decision.tolerance:
            violations.append(_violation(constraint, entry))
    return QualityVerdict(violations=tuple(violations), not_computable=dict(skipped), p_values=p_values)


def _violation(constraint: MetricConstraint, entry: MetricValue) -> MetricViolation:
    return MetricViolation(metric=constraint.metric, value=entry.value, standard_deviation=entry.standard_deviation,
                           threshold=constraint.threshold, operator=constraint.operator)
