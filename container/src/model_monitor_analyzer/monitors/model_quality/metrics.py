"""A window's (or a baseline's) model-quality metrics from its labelled columns: the complete rows,
their values (``values``), every metric of the problem type (``checks.model_quality``), each metric's
standard error and what cannot be computed (``checks.quality_decision``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.monitors.model_quality.request import (
    OPTION_NAMES,
    ModelQualityNames,
    ModelSettings,
)
from model_monitor_analyzer.monitors.model_quality.values import (
    binary_values,
    check_positive_label_occurs,
    float_values,
    label_text,
    missing_values,
    probability_values,
    squarable,
)

# A confusion matrix of 500 classes is 250,000 cells, about 5 MB of statistics.json; beyond that, the
# labels are much more likely a Regression's numbers or a wrong attribute than classes.
MAX_CLASSES = 500


def complete_rows(rows: LabelledColumns) -> tuple[LabelledColumns, int]:
    """The rows whose label, prediction and probability are all present, and how many were not."""
    gaps = missing_values(rows.labels) | missing_values(rows.predictions)
    if rows.probabilities is not None:
        gaps |= missing_values(rows.probabilities)
    if not gaps.any():
        return rows, 0
    keep = pa.array(~gaps)
    complete = LabelledColumns(
        predictions=pc.filter(rows.predictions, keep),
        probabilities=None if rows.probabilities is None else pc.filter(rows.probabilities, keep),
        labels=pc.filter(rows.labels, keep),
    )
    return complete, int(gaps.sum())


@dataclass(frozen=True)
class WindowMetrics:
    """A window's (or baseline's) metrics, each metric's standard error at its size, and the metrics it
    cannot compute with the reasons."""

    metrics: dict[str, mq.MetricEntry]
    errors: dict[str, float]
    not_computable: dict[str, str]


def measure(settings: ModelSettings, rows: LabelledColumns, *, names: ModelQualityNames = OPTION_NAMES) -> WindowMetrics:
    """``compute_metrics`` with the standard errors and what is not computable (``checks.quality_decision``)."""
    kind = settings.problem_type
    if kind is mq.ProblemType.REGRESSION:
        actual = squarable(float_values(rows.labels, what="ground-truth values"), what="ground-truth values")
        predicted = squarable(float_values(rows.predictions, what="inference values"), what="inference values")
        metrics = mq.regression_metrics(actual, predicted)
        return WindowMetrics(metrics, qd.standard_errors(kind, metrics, actual=actual, predicted=predicted),
                             qd.not_computable(kind, metrics, ground_truth_varies=bool(np.ptp(actual) > 0)))
    metrics = compute_metrics(settings, rows, names=names)
    return WindowMetrics(metrics, qd.standard_errors(kind, metrics), qd.not_computable(kind, metrics))


def compute_metrics(
    settings: ModelSettings, rows: LabelledColumns, *, names: ModelQualityNames = OPTION_NAMES
) -> dict[str, mq.MetricEntry]:
    """All metrics of ``settings.problem_type`` from complete rows (see the module docstring)."""
    kind = settings.problem_type
    if kind is mq.ProblemType.REGRESSION:
        return mq.regression_metrics(
            squarable(float_values(rows.labels, what="ground-truth values"), what="ground-truth values"),
            squarable(float_values(rows.predictions, what="inference values"), what="inference values"),
        )
    if kind is mq.ProblemType.BINARY_CLASSIFICATION:
        positive_label = settings.positive_label
        actual = binary_values(rows.labels, positive_label=positive_label, what="ground-truth labels", names=names)
        scores = None if rows.probabilities is None else probability_values(rows.probabilities, names=names)
        checked = [("ground-truth label", rows.labels, actual)]
        if settings.probability_threshold is not None:
            assert scores is not None
            predicted = scores > settings.probability_threshold
        else:
            predicted = binary_values(rows.predictions, positive_label=positive_label, what="predicted labels", names=names)
            checked.append(("predicted label", rows.predictions, predicted))
        if positive_label is not None:
            check_positive_label_occurs(checked, positive_label=positive_label, names=names)
        return mq.binary_classification_metrics(
            actual, predicted, predicted.astype(np.float64) if scores is None else scores
        )
    actual_text = label_text(rows.labels)
    predicted_text = label_text(rows.predictions)
    classes = _class_order(actual_text, predicted_text)
    if len(classes) > MAX_CLASSES:
        raise AnalyzerInputError(
            f"a MulticlassClassification with {len(classes):,} classes among its labels and predictions (e.g. "
            f"{', '.join(repr(c) for c in classes[:3])}), more than the {MAX_CLASSES} this analyzer judges: its "
            f"confusion matrix would have {len(classes) ** 2:,} cells. Is it a Regression ({names.problem_type} Regression), "
            "or are the attributes pointing at the wrong field?"
        )
    return mq.multiclass_classification_metrics(actual_text, predicted_text, classes)


def _class_order(*groups: pa.Array) -> list[str]:
    """Classes sorted numerically when all are integers, else as text."""
    classes = set().union(*(pc.unique(group).to_pylist() for group in groups))
    if all(re.fullmatch(r"-?\d+", c) for c in classes):
        return sorted(classes, key=int)
    return sorted(classes)


