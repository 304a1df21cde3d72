"""Performance estimated without labels and prediction drift, for the model-quality monitor.

Baseline: the labelled reference's calibration (``checks.performance_estimation``, binary classifiers
with a probability), its realised metrics with their standard errors, and its predictions
(``checks.prediction_drift``), kept in constraints.json under ``ESTIMATION_KEY``, a key SageMaker's
reader does not know and skips (the rest of the file is unchanged).

Window: the predictions of every capture of the window, labelled or not, get estimated metrics with 95 %
intervals and a prediction-drift verdict; the rows that do have labels also get the estimate on exactly
those rows beside their realised metrics, and a gap beyond chance between the two is reported as a
possible concept shift. An estimated metric violates when it is below the reference's realised value by
more than chance allows at both sizes (``checks.quality_decision``'s significance comparison, whatever the
baseline's own comparison is: the estimate is never compared literally).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import performance_estimation as pe
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.checks.drift import benjamini_hochberg
from model_monitor_analyzer.checks.prediction_drift import (
    PredictionDrift,
    ReferencePredictions,
    prediction_drift,
)
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.monitors.model_quality.request import (
    OPTION_NAMES,
    ModelQualityNames,
    ModelSettings,
)
from model_monitor_analyzer.monitors.model_quality.values import (
    binary_values,
    label_text,
    missing_values,
    probability_values,
)
from model_monitor_analyzer.report import model_quality as report

ESTIMATION_KEY = report.ESTIMATION_KEY
#: The checks of this block in constraint_violations.json and their verdict metrics (one table, shared with the
#: constructs' alarms).
PREDICTION_DRIFT = rules.PREDICTION_DRIFT
CONCEPT_SHIFT = rules.CONCEPT_SHIFT


@dataclass(frozen=True)
class WindowOutputs:
    """A window's model outputs as the estimate reads them: raw scores (None without a probability), the
    predicted labels as text and, for a binary classifier, whether each is the positive class."""

    labels: pa.Array
    scores: np.ndarray | None = None
    predicted_positive: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)


def concat_outputs(parts: Sequence[WindowOutputs]) -> WindowOutputs:
    """The outputs of several parts of a window, in order."""
    if not parts:
        return WindowOutputs(pa.array([], pa.string()))
    scores = [p.scores for p in parts if p.scores is not None]
    positive = [p.predicted_positive for p in parts if p.predicted_positive is not None]
    return WindowOutputs(pa.concat_arrays([p.labels.cast(pa.string()) for p in parts]),
                         np.concatenate(scores) if len(scores) == len(parts) else None,
                         np.concatenate(positive) if len(positive) == len(parts) else None)


def window_outputs(settings: ModelSettings, predictions: pa.Array, probabilities: pa.Array | None, *,
                   names: ModelQualityNames = OPTION_NAMES) -> WindowOutputs:
    """The outputs of the rows with a prediction (and a finite probability when there is a probability), read
    as the model-quality metrics read them (``values``)."""
    gaps = missing_values(predictions)
    if probabilities is not None:
        gaps |= missing_values(probabilities)
    if gaps.any():
        keep = pa.array(~gaps)
        predictions = predictions.filter(keep)
        probabilities = None if probabilities is None else probabilities.filter(keep)
    scores = None
    if probabilities is not None and settings.problem_type is mq.ProblemType.BINARY_CLASSIFICATION:
        scores = probability_values(probabilities, names=names)
        finite = np.isfinite(scores)
        if not finite.all():
            predictions, scores = predictions.filter(pa.array(finite)), scores[finite]
    text = label_text(predictions)
    if settings.problem_type is not mq.ProblemType.BINARY_CLASSIFICATION:
        return WindowOutputs(text)
    if settings.probability_threshold is not None and scores is not None:
        positive = scores > settings.probability_threshold
        text = pc.if_else(pa.array(positive), "1", "0")
    else:
        positive = binary_values(predictions, positive_label=settings.positive_label, what="predicted labels",
                                 names=names)
    return WindowOutputs(text, scores, positive)


# --------------------------------------------------------------------------------------------
# Baseline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimationReference:
    """What a baseline keeps for estimation: the calibration (None: raw scores used as probabilities; no
    estimation at all without scores), the reference's realised metrics, standard errors and size, and its
    predictions."""

    item_count: int
    realised: Mapping[str, float]
    standard_errors: Mapping[str, float]
    predictions: ReferencePredictions
    calibration: pe.Calibration | None = None
    estimates: bool = False
    brier: Mapping[str, float] = field(default_factory=dict)
    replicates: tuple[pe.Calibration, ...] = ()

    def to_document(self) -> dict[str, object]:
        document: dict[str, object] = {"item_count": self.item_count}
        if self.estimates:
            document["calibration"] = {
                "method": "isotonic" if self.calibration is not None else "none",
                "chosen_by": "5-fold cross-fitted Brier score against the raw scores",
                "cross_fitted_brier_score": dict(self.brier),
                **(self.calibration.to_document() if self.calibration is not None else {}),
                **({"replicates": [r.to_document() for r in self.replicates]} if self.replicates else {}),
            }
            document["reference_metrics"] = {name: {"value": value, "standard_error": self.standard_errors.get(name)}
                                             for name, value in self.realised.items()}
        document["predictions"] = self.predictions.to_document()
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> EstimationReference:
        """What ``to_document`` wrote (ValueError naming what is wrong)."""
        if not isinstance(document, dict) or not isinstance(document.get("item_count"), int):
            raise ValueError(f"{ESTIMATION_KEY} must be an object with an item_count")
        predictions = document.get("predictions")
        if not isinstance(predictions, dict):
            raise ValueError(f"{ESTIMATION_KEY}.predictions must be an object")
        calibration_block = document.get("calibration")
        metrics = document.get("reference_metrics") or {}
        if not isinstance(metrics, dict) or not all(isinstance(v, dict) and isinstance(v.get("value"), int | float)
                                                    for v in metrics.values()):
            raise ValueError(f"{ESTIMATION_KEY}.reference_metrics must map each metric to its value")
        calibration = None
        replicates: tuple[pe.Calibration, ...] = ()
        if isinstance(calibration_block, dict) and calibration_block.get("method") == "isotonic":
            calibration = pe.Calibration.from_document(calibration_block)
            listed = calibration_block.get("replicates") or []
            if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
                raise ValueError(f"{ESTIMATION_KEY}.calibration.replicates must be a list of calibrations")
            replicates = tuple(pe.Calibration.from_document(r) for r in listed)
        return cls(int(document["item_count"]), {k: float(v["value"]) for k, v in metrics.items()},
                   {k: float(v["standard_error"]) for k, v in metrics.items()
                    if isinstance(v.get("standard_error"), int | float)},
                   ReferencePredictions.from_document(predictions), calibration,
                   estimates=isinstance(calibration_block, dict), replicates=replicates)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return np.clip(scores, 0.0, 1.0) if self.calibration is None else self.calibration.apply(scores)

    def estimate(self, outputs: WindowOutputs, *, auc_draws: int = pe.AUC_DRAWS) -> dict[str, pe.Estimate]:
        """The estimated metrics of ``outputs`` (nothing without scores, or without a calibration block)."""
        if not self.estimates or outputs.scores is None or outputs.predicted_positive is None or not len(outputs):
            return {}
        return pe.estimate_binary(outputs.scores, self.probabilities(outputs.scores), outputs.predicted_positive,
                                  replicates=self.replicates, auc_draws=auc_draws)


def calibration_choice(kept: EstimationReference) -> str:
    """Whether the baseline kept the isotonic calibration, and the cross-fitted Brier scores that decided it."""
    raw, calibrated = kept.brier.get("raw", math.nan), kept.brier.get("calibrated", math.nan)
    if kept.calibration is not None:
        return f"isotonic (cross-fitted Brier {calibrated:.3f} vs {raw:.3f} raw)"
    return f"none: raw scores are calibrated as well (cross-fitted Brier {raw:.3f} raw vs {calibrated:.3f} isotonic)"


def reference(settings: ModelSettings, rows: LabelledColumns, metrics: Mapping[str, mq.MetricEntry],
              errors: Mapping[str, float], *, names: ModelQualityNames = OPTION_NAMES) -> EstimationReference:
    """The estimation block of a baseline made from the labelled ``rows`` whose realised ``metrics`` (with
    standard ``errors``) the baseline reports."""
    outputs = window_outputs(settings, rows.predictions, rows.probabilities, names=names)
    predictions = ReferencePredictions.of(outputs.labels, outputs.scores)
    if outputs.scores is None or len(outputs.scores) != len(rows.labels):
        return EstimationReference(len(outputs), {}, {}, predictions)
    actual = binary_values(rows.labels, positive_label=settings.positive_label, what="ground-truth labels",
                           names=names)
    choice = pe.fit_calibration(outputs.scores, actual)
    realised = {name: float(entry.value) for name in pe.ESTIMATED_METRICS.values()
                if isinstance(entry := metrics.get(name), mq.MetricValue)}
    return EstimationReference(
        len(outputs), realised, {k: float(errors[k]) for k in realised if math.isfinite(errors.get(k, math.nan))},
        predictions, choice.calibration, estimates=True,
        brier={"raw": choice.raw_brier, "calibrated": choice.calibrated_brier}, replicates=choice.replicates)


# --------------------------------------------------------------------------------------------
# Window
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowEstimation:
    """A window's estimation block: estimates of all its predictions, the prediction drift, and with labels
    the estimate on the labelled rows against their realised metrics."""

    item_count: int
    estimates: Mapping[str, pe.Estimate]
    drift: PredictionDrift | None
    violations: tuple[mq.MetricViolation, ...]
    judged: tuple[str, ...]
    reference_values: Mapping[str, float]
    labelled: Mapping[str, pe.Estimate] = field(default_factory=dict)
    realised: Mapping[str, float] = field(default_factory=dict)
    concept_shift: frozenset[str] = frozenset()
    concept_p_values: Mapping[str, float] = field(default_factory=dict)

    def statistics_block(self, *, labels: bool) -> dict[str, object]:
        """statistics.json's ``ESTIMATION_KEY`` block."""
        block: dict[str, object] = {
            "mode": "estimated_and_realised" if labels else "estimated_only_no_labels",
            "item_count": self.item_count,
            "estimated": {name: _estimate_json(e, self.reference_values.get(pe.ESTIMATED_METRICS[name]))
                          for name, e in self.estimates.items()},
        }
        if self.drift is not None:
            block[PREDICTION_DRIFT] = self.drift.to_document()
        if self.labelled:
            block["labelled_rows"] = {
                "estimated": {name: _estimate_json(e, None) for name, e in self.labelled.items()},
                "realised": {pe.ESTIMATED_METRICS[name]: self.realised[pe.ESTIMATED_METRICS[name]]
                             for name in self.labelled if pe.ESTIMATED_METRICS[name] in self.realised},
                CONCEPT_SHIFT: {"p_values": dict(self.concept_p_values), "flagged": sorted(self.concept_shift)},
            }
        return block

    def metric_values(self) -> dict[str, float]:
        """The metric lines' values: each estimate, and the scores outside the reference's range."""
        values = {name: e.value for name, e in self.estimates.items() if math.isfinite(e.value)}
        if self.drift is not None and self.drift.compared == "scores":
            values["predictions_below_reference_range"] = float(self.drift.below_range)
            values["predictions_above_reference_range"] = float(self.drift.above_range)
        return values

    def verdicts(self) -> dict[str, bool]:
        """``quality_violation_<name>`` verdicts: each judged estimate, the prediction drift, the concept shift."""
        found = {v.metric for v in self.violations}
        verdicts = {name: name in found for name in self.judged}
        if self.drift is not None:
            verdicts[PREDICTION_DRIFT] = self.drift.drifted
        if self.labelled:
            verdicts[CONCEPT_SHIFT] = bool(self.concept_shift)
        return verdicts


def _estimate_json(estimate: pe.Estimate, reference_value: float | None) -> dict[str, object]:
    entry: dict[str, object] = {"value": estimate.value, "standard_error": estimate.standard_error,
                                "calibration_standard_error": estimate.calibration_error,
                                "lower_95": estimate.lower, "upper_95": estimate.upper}
    if reference_value is not None:
        entry["reference"] = reference_value
    return entry


def estimate_window(reference_block: EstimationReference, outputs: WindowOutputs, *, decision: qd.QualityDecision,
                    labelled: tuple[WindowOutputs, Mapping[str, mq.MetricEntry]] | None = None,
                    auc_draws: int = pe.AUC_DRAWS) -> WindowEstimation:
    """Estimates, their verdicts against the reference and the prediction drift of a window's ``outputs``;
    ``labelled``: the outputs of the rows with labels and their realised metrics."""
    level = decision.significance_level
    drift = prediction_drift(reference_block.predictions, labels=outputs.labels, scores=outputs.scores,
                             significance_level=level) if len(outputs) else None
    estimates = reference_block.estimate(outputs, auc_draws=auc_draws)
    judged = tuple(name for name in estimates if pe.ESTIMATED_METRICS[name] in reference_block.realised
                   and math.isfinite(estimates[name].value))
    violations: tuple[mq.MetricViolation, ...] = ()
    if judged:
        verdict = qd.decide(
            {name: mq.MetricValue(value=estimates[name].value, standard_deviation=estimates[name].standard_error) for name in judged},
            [mq.MetricConstraint(metric=name, threshold=reference_block.realised[pe.ESTIMATED_METRICS[name]],
                                 operator=mq.ComparisonOperator.LESS_THAN) for name in judged],
            qd.QualityDecision(comparison=qd.SIGNIFICANCE, significance_level=level, tolerance=decision.tolerance,
                               baseline_size=reference_block.item_count),
            errors={name: estimates[name].standard_error for name in judged},
            baseline_errors={name: reference_block.standard_errors.get(pe.ESTIMATED_METRICS[name], 0.0)
                             for name in judged},
            window_size=len(outputs), skipped={})
        violations = verdict.violations
    on_labels: dict[str, pe.Estimate] = {}
    realised: dict[str, float] = {}
    shifted: frozenset[str] = frozenset()
    p_values: dict[str, float] = {}
    if labelled is not None and estimates:
        labelled_outputs, metrics = labelled
        on_labels = reference_block.estimate(labelled_outputs, auc_draws=auc_draws)
        if on_labels:
            realised = {metric: float(entry.value) for metric in pe.ESTIMATED_METRICS.values()
                        if isinstance(entry := metrics.get(metric), mq.MetricValue)}
            p_values = pe.concept_shift_p_values(on_labels, realised)
            shifted = benjamini_hochberg(p_values, level)
    return WindowEstimation(len(outputs), estimates, drift, tuple(violations), judged,
                            dict(reference_block.realised), on_labels, realised, shifted, p_values)


def violation_entries(estimation: WindowEstimation) -> list[dict[str, object]]:
    """constraint_violations.json entries of the prediction drift and the concept shift (the estimates'
    violations are ordinary metric violations)."""
    entries: list[dict[str, object]] = []
    found = estimation.drift
    if found is not None and found.drifted:
        parts = []
        if "scores" in found.flagged or "predicted_labels" in found.flagged:
            parts.append(f"the {found.compared.replace('_', ' ')} differ from the baseline's "
                         f"({found.distribution.method} {found.distribution.distance:.4g}, "
                         f"p-value {found.p_values.get(found.compared, math.nan):.3g})")
        if "below_range" in found.flagged:
            parts.append(f"{found.below_range} scores below the baseline's smallest "
                         f"(p-value {found.p_values['below_range']:.3g})")
        if "above_range" in found.flagged:
            parts.append(f"{found.above_range} scores above the baseline's largest "
                         f"(p-value {found.p_values['above_range']:.3g})")
        entries.append({"constraint_check_type": "prediction_drift_check",
                        "description": "Prediction drift: " + "; ".join(parts),
                        "metric_name": "predictionDrift"})
    if estimation.concept_shift:
        gaps = "; ".join(
            f"{pe.ESTIMATED_METRICS[name]} realised {estimation.realised[pe.ESTIMATED_METRICS[name]]:.4f}, estimated "
            f"{estimation.labelled[name].value:.4f} [{estimation.labelled[name].lower:.4f}, "
            f"{estimation.labelled[name].upper:.4f}]" for name in sorted(estimation.concept_shift))
        entries.append({"constraint_check_type": "concept_shift_check",
                        "description": "Possible concept shift: the labelled rows' realised metrics are outside the "
                                       f"estimate from the baseline's calibration: {gaps}",
                        "metric_name": "conceptShift"})
    return entries
