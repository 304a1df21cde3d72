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
baseline's own comparison is: the estimate is never compared literally). The window's tests, the realised
metrics' included, are judged as one false-discovery decision, each kind of check an equal share
(``estimate_window``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import multiclass_estimation as me
from model_monitor_analyzer.checks import performance_estimation as pe
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.checks.prediction_drift import (
    PredictionDrift,
    ReferencePredictions,
    prediction_drift,
)
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.monitors.model_quality.request import (
    OPTION_NAMES,
    ModelQualityNames,
    ModelSettings,
)
from model_monitor_analyzer.monitors.model_quality.values import (
    binary_values,
    class_probability_values,
    is_class_probability_list,
    label_text,
    missing_values,
    probability_values,
)
from model_monitor_analyzer.report import model_quality as report

ESTIMATION_KEY = report.ESTIMATION_KEY
#: the calibration method a multiclass baseline records
MULTICLASS_CALIBRATION = "one_vs_rest_isotonic"
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
    #: a multiclass model's per-class probabilities (rows x classes), when its probability attribute lists them
    class_scores: np.ndarray | None = None
    #: the ground-truth labels as text (``values.label_text``), for the labelled rows of a window
    truth: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.labels)


def concat_outputs(parts: Sequence[WindowOutputs]) -> WindowOutputs:
    """The outputs of several parts of a window, in order."""
    if not parts:
        return WindowOutputs(pa.array([], pa.string()))
    scores = [p.scores for p in parts if p.scores is not None]
    positive = [p.predicted_positive for p in parts if p.predicted_positive is not None]
    classes = [p.class_scores for p in parts if p.class_scores is not None]
    truths = [p.truth.cast(pa.string()) for p in parts if p.truth is not None]
    return WindowOutputs(pa.concat_arrays([p.labels.cast(pa.string()) for p in parts]),
                         np.concatenate(scores) if len(scores) == len(parts) else None,
                         np.concatenate(positive) if len(positive) == len(parts) else None,
                         np.concatenate(classes) if len(classes) == len(parts)
                         and len({c.shape[1] for c in classes}) == 1 else None,
                         pa.concat_arrays(truths) if len(truths) == len(parts) else None)


def window_outputs(settings: ModelSettings, predictions: pa.Array, probabilities: pa.Array | None, *,
                   names: ModelQualityNames = OPTION_NAMES, labels: pa.Array | None = None) -> WindowOutputs:
    """The outputs of the rows with a prediction (and a finite probability when there is a probability), read
    as the model-quality metrics read them (``values``); ``labels``: the rows' ground truth, when they have it."""
    gaps = missing_values(predictions)
    if probabilities is not None:
        gaps |= missing_values(probabilities)
    if labels is not None:
        gaps |= missing_values(labels)
    if gaps.any():
        keep = pa.array(~gaps)
        predictions = predictions.filter(keep)
        probabilities = None if probabilities is None else probabilities.filter(keep)
        labels = None if labels is None else labels.filter(keep)
    if settings.problem_type is mq.ProblemType.MULTICLASS_CLASSIFICATION:
        return _multiclass_outputs(predictions, probabilities, labels, names=names)
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


def _multiclass_outputs(predictions: pa.Array, probabilities: pa.Array | None, labels: pa.Array | None, *,
                        names: ModelQualityNames) -> WindowOutputs:
    """A multiclass model's outputs: per-class probabilities when the probability attribute lists them (rows
    with a value that is not a finite number left out), else the predicted labels alone (SageMaker's reading of a
    single probability: not used)."""
    class_scores = None
    if probabilities is not None and is_class_probability_list(probabilities):
        class_scores = class_probability_values(probabilities, names=names)
        finite = np.isfinite(class_scores).all(axis=1)
        if not finite.all():
            keep = pa.array(finite)
            predictions, class_scores = predictions.filter(keep), class_scores[finite]
            labels = None if labels is None else labels.filter(keep)
    return WindowOutputs(label_text(predictions), class_scores=class_scores,
                         truth=None if labels is None else label_text(labels))


def _class_rows(classes: Sequence[str], outputs: WindowOutputs) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """A multiclass window's class scores, predicted class positions among ``classes`` and (labelled rows) true ones,
    on the rows whose predicted (and true) class is among them; None without per-class probabilities."""
    scores = outputs.class_scores
    if scores is None or not len(outputs):
        return None
    if scores.shape[1] != len(classes):
        raise AnalyzerInputError(
            f"the window's probability attribute lists {scores.shape[1]} classes, the baseline's "
            f"{len(classes)} ({', '.join(classes)}): the model's classes changed; make a new baseline")
    value_set = pa.array(list(classes), pa.string())
    predicted = pc.index_in(outputs.labels, value_set=value_set)
    known = pc.is_valid(predicted)
    actual = None
    if outputs.truth is not None:
        actual = pc.index_in(outputs.truth, value_set=value_set)
        known = pc.and_(known, pc.is_valid(actual))
    keep = known.to_numpy(zero_copy_only=False)
    return (scores[keep], pc.fill_null(predicted, 0).to_numpy(zero_copy_only=False)[keep],
            None if actual is None else pc.fill_null(actual, 0).to_numpy(zero_copy_only=False)[keep])


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
    #: a multiclass model's classes, in the order of its probabilities, and their one-vs-rest calibrations
    classes: tuple[str, ...] = ()
    class_calibrations: me.ClassCalibrations | None = None

    def to_document(self) -> dict[str, object]:
        document: dict[str, object] = {"item_count": self.item_count}
        if self.class_calibrations is not None:
            document["calibration"] = {
                "method": MULTICLASS_CALIBRATION,
                "chosen_by": "per class, 5-fold cross-fitted Brier score against the raw score; rows renormalised",
                **me.class_calibrations_document(self.class_calibrations, self.classes)}
            document["reference_metrics"] = {name: {"value": value, "standard_error": self.standard_errors.get(name)}
                                             for name, value in self.realised.items()}
        elif self.estimates:
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
        classes: tuple[str, ...] = ()
        class_calibrations = None
        if isinstance(calibration_block, dict) and calibration_block.get("method") == MULTICLASS_CALIBRATION:
            classes, class_calibrations = me.class_calibrations_from_document(calibration_block)
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
                   estimates=isinstance(calibration_block, dict), replicates=replicates, classes=classes,
                   class_calibrations=class_calibrations)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return np.clip(scores, 0.0, 1.0) if self.calibration is None else self.calibration.apply(scores)

    def realised_on(self, outputs: WindowOutputs) -> dict[str, float]:
        """A multiclass window's realised accuracy and macro precision, recall, F1 and ROC AUC on its labelled rows
        (``outputs`` with ``truth``), named as the metrics they are the estimates of."""
        found = _class_rows(self.classes, outputs) if self.class_calibrations is not None else None
        if found is None or found[2] is None or not found[1].size:
            return {}
        scores, predicted, actual = found
        return {pe.ESTIMATED_METRICS[name]: value
                for name, value in me.realised_values(actual, predicted, scores, len(self.classes)).items()}

    def estimate(self, outputs: WindowOutputs, *, auc_draws: int = pe.AUC_DRAWS) -> dict[str, pe.Estimate]:
        """The estimated metrics of ``outputs`` (nothing without scores, or without a calibration block)."""
        if self.class_calibrations is not None:
            found = _class_rows(self.classes, outputs)
            if found is None or not found[1].size:
                return {}
            scores, predicted, _ = found
            return me.estimate_multiclass(scores, self.class_calibrations.probabilities(scores), predicted,
                                          auc_draws=auc_draws)
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
    outputs = window_outputs(settings, rows.predictions, rows.probabilities, names=names, labels=rows.labels)
    predictions = ReferencePredictions.of(outputs.labels, outputs.scores)
    if settings.problem_type is mq.ProblemType.MULTICLASS_CLASSIFICATION:
        return _multiclass_reference(outputs, predictions, names=names)
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


def _multiclass_reference(outputs: WindowOutputs, predictions: ReferencePredictions, *,
                          names: ModelQualityNames) -> EstimationReference:
    """A multiclass baseline's estimation block: with per-class probabilities, the class each column stands for
    (``multiclass_estimation.class_order``), the one-vs-rest calibrations and the reference's realised accuracy
    and macro metrics (standard errors: the estimate's own at the reference's size); else the predictions alone."""
    scores = outputs.class_scores
    if scores is None or outputs.truth is None or not len(outputs):
        return EstimationReference(len(outputs), {}, {}, predictions)
    classes = me.class_order(outputs.labels.to_pylist(), scores, outputs.truth.to_pylist())
    if classes is None:
        raise AnalyzerInputError(
            f"cannot tell which class each of the {scores.shape[1]} per-class probabilities of "
            f"{names.probability_attribute} stands for: the predicted label must be the most probable class (each "
            "class predicted at least once in the baseline dataset), or the labels 0 to K-1 in the list's order")
    value_set = pa.array(list(classes), pa.string())
    for what, column in (("predicted label", outputs.labels), ("ground-truth label", outputs.truth)):
        codes = pc.index_in(column, value_set=value_set)
        if codes.null_count:
            unknown = pc.filter(column, pc.is_null(codes))[0].as_py()
            raise AnalyzerInputError(
                f"{what} {unknown!r} is not among the {len(classes)} classes of {names.probability_attribute} "
                f"({', '.join(classes)}): the per-class probabilities must list every class")
    _, predicted, actual = _class_rows(classes, outputs)  # type: ignore[misc]
    assert actual is not None
    calibrations = me.fit_class_calibrations(scores, actual)
    realised = {pe.ESTIMATED_METRICS[name]: value
                for name, value in me.realised_values(actual, predicted, scores, len(classes)).items()}
    own = me.estimate_multiclass(scores, calibrations.probabilities(scores), predicted)
    errors = {pe.ESTIMATED_METRICS[name]: e.standard_error for name, e in own.items()
              if math.isfinite(e.standard_error)}
    brier = {"raw": float(np.mean([c.raw_brier for c in calibrations.choices])),
             "calibrated": float(np.mean([c.calibrated_brier for c in calibrations.choices]))}
    return EstimationReference(len(outputs), realised, errors, predictions, estimates=True, brier=brier,
                               classes=classes, class_calibrations=calibrations)


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
    #: the realised metrics found in the window's joint family (None: their p-values were not given)
    realised_discoveries: frozenset[str] | None = None
    #: every p-value of that family, by check (``realised``, ``estimated``, ``prediction_drift``, ``concept_shift``)
    family: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

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
                    realised_p_values: Mapping[str, float] | None = None,
                    auc_draws: int = pe.AUC_DRAWS) -> WindowEstimation:
    """Estimates, their verdicts against the reference and the prediction drift of a window's ``outputs``;
    ``labelled``: the outputs of the rows with labels and their realised metrics; ``realised_p_values``: the
    realised metrics' p-values (``quality_decision.decide``'s, significance comparison), judged in the same family.

    Every test of the window (the realised metrics, each estimate's drop, the prediction drift's parts, each
    concept-shift gap) is judged in one decision at the decision's significance level, each of the four kinds an
    equal share (``quality_decision.joint_discoveries``); ``realised_discoveries`` is the realised metrics' part."""
    level = decision.significance_level
    drift = prediction_drift(reference_block.predictions, labels=outputs.labels, scores=outputs.scores,
                             significance_level=level) if len(outputs) else None
    estimates = reference_block.estimate(outputs, auc_draws=auc_draws)
    judged = tuple(name for name in estimates if pe.ESTIMATED_METRICS[name] in reference_block.realised
                   and math.isfinite(estimates[name].value))

    def drops(discoveries: frozenset[str] | None) -> qd.QualityVerdict:
        return qd.decide(
            {name: mq.MetricValue(value=estimates[name].value, standard_deviation=estimates[name].standard_error)
             for name in judged},
            [mq.MetricConstraint(metric=name, threshold=reference_block.realised[pe.ESTIMATED_METRICS[name]],
                                 operator=mq.ComparisonOperator.LESS_THAN) for name in judged],
            qd.QualityDecision(comparison=qd.SIGNIFICANCE, significance_level=level, tolerance=decision.tolerance,
                               baseline_size=reference_block.item_count),
            errors={name: estimates[name].standard_error for name in judged},
            baseline_errors={name: reference_block.standard_errors.get(pe.ESTIMATED_METRICS[name], 0.0)
                             for name in judged},
            window_size=len(outputs), skipped={}, discoveries=discoveries)

    on_labels: dict[str, pe.Estimate] = {}
    realised: dict[str, float] = {}
    p_values: dict[str, float] = {}
    if labelled is not None and estimates:
        labelled_outputs, metrics = labelled
        on_labels = reference_block.estimate(labelled_outputs, auc_draws=auc_draws)
        if on_labels and reference_block.class_calibrations is not None:  # macro metrics: not in statistics.json
            realised = reference_block.realised_on(labelled_outputs)
        elif on_labels:
            realised = {metric: float(entry.value) for metric in pe.ESTIMATED_METRICS.values()
                        if isinstance(entry := metrics.get(metric), mq.MetricValue)}
        if on_labels:
            p_values = pe.concept_shift_p_values(on_labels, realised)
    family = {"realised": dict(realised_p_values or {}),
              "estimated": dict(drops(frozenset()).p_values) if judged else {},
              PREDICTION_DRIFT: dict(drift.p_values) if drift is not None else {},
              CONCEPT_SHIFT: p_values}
    found = qd.joint_discoveries(family, level)
    violations = drops(found["estimated"]).violations if judged else ()
    if drift is not None:
        drift = replace(drift, flagged=found[PREDICTION_DRIFT])
    return WindowEstimation(len(outputs), estimates, drift, tuple(violations), judged,
                            dict(reference_block.realised), on_labels, realised, found[CONCEPT_SHIFT], p_values,
                            realised_discoveries=found["realised"] if realised_p_values is not None else None,
                            family=family)


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
