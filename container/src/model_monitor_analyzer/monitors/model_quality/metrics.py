"""A window's (or a baseline's) model-quality metrics from its labelled columns: the complete rows,
their values (``values``), one mergeable state per part (``part_state``, see ``profile.model_quality``),
and from the merged state every metric of the problem type (``checks.model_quality``), each metric's
standard error and what cannot be computed (``checks.quality_decision``).

What only the whole window can say is checked on the merged state: a positive label no label is
spelled as, too many classes, regression values whose squares would overflow at the window's size.

A row whose regression label or prediction, or whose probability, is a number but not a finite one
(``inf``, ``-inf``, ``nan``, ``1e400``) is left out of the part's state and counted (``NonFiniteValues``),
as data quality leaves such values out of its numbers: one broken prediction does not fail a window."""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    NUMBER_PATTERN,
    binary_values,
    label_text,
    missing_values,
    number_values,
    probability_values,
    squarable,
)
from model_monitor_analyzer.profile.model_quality import (
    BinaryState,
    MulticlassState,
    QualityState,
    RegressionState,
    merge_states,
)

# A confusion matrix of 100 classes is 10,000 cells: statistics.json about 0.2 MB and report.html about 0.6 MB
# (at 500 classes, 8 MB and 15 MB). Beyond that, the labels are much more likely a Regression's numbers or a
# wrong attribute than classes.
MAX_CLASSES = 100


def complete_rows(rows: LabelledColumns) -> tuple[LabelledColumns, int]:
    """The rows whose label, prediction and probability are all present, and how many were not."""
    gaps = missing_values(rows.labels) | missing_values(rows.predictions)
    if rows.probabilities is not None:
        gaps |= missing_values(rows.probabilities)
    if not gaps.any():
        return rows, 0
    return rows.filter(~gaps), int(gaps.sum())


@dataclass(frozen=True)
class WindowMetrics:
    """A window's (or baseline's) metrics, each metric's standard error at its size, and the metrics it
    cannot compute with the reasons."""

    metrics: dict[str, mq.MetricEntry]
    errors: dict[str, float]
    not_computable: dict[str, str]


@dataclass(frozen=True)
class LabelVocabulary:
    """A binary label column's distinct values (lower case, as ``values.label_text`` spells them) and
    whether any is the positive label: what refusing a misspelt positive label needs of the whole window."""

    what: str
    values: frozenset[str]
    any_positive: bool

    def merge(self, other: LabelVocabulary) -> LabelVocabulary:
        return LabelVocabulary(self.what, self.values | other.values, self.any_positive or other.any_positive)


@dataclass(frozen=True)
class NonFiniteValues:
    """Rows left out of the metrics because a value they need is a number but not a finite one: how many,
    and the first of them (``inference value 'inf' (event 7f3a)``: the value, and its event when known)."""

    rows: int = 0
    first: str | None = None

    def merge(self, other: NonFiniteValues) -> NonFiniteValues:
        """Both parts' rows, ``other`` read after this one."""
        return NonFiniteValues(self.rows + other.rows, self.first if self.first is not None else other.first)


@dataclass(frozen=True)
class PartState:
    """One part's model-quality state (``profile.model_quality``), with the label vocabularies a binary
    problem with a positive label checks once the parts are merged, and the rows left out for a value
    that is not a finite number."""

    quality: QualityState
    vocabularies: tuple[LabelVocabulary, ...] = ()
    non_finite: NonFiniteValues = NonFiniteValues()

    def merge(self, other: PartState) -> PartState:
        """Both parts, ``other`` read after this one."""
        return PartState(merge_states([self.quality, other.quality]),
                         tuple(a.merge(b) for a, b in zip(self.vocabularies, other.vocabularies, strict=True)),
                         self.non_finite.merge(other.non_finite))


def _finite_rows(rows: LabelledColumns, *checked: tuple[str, pa.Array, np.ndarray]) -> tuple[np.ndarray, NonFiniteValues]:
    """Where every ``(what, text, numbers)`` column holds a finite number, and the rows that do not."""
    keep = np.ones(len(rows.labels), dtype=bool)
    for _, _, numbers in checked:
        keep &= np.isfinite(numbers)
    if keep.all():
        return keep, NonFiniteValues()
    row = int(np.argmin(keep))
    what, text = next((what, text) for what, text, numbers in checked if not np.isfinite(numbers[row]))
    event = None if rows.event_ids is None else rows.event_ids[row].as_py()
    first = f"{what} {text[row].as_py().strip()!r}" + (f" (event {event})" if event is not None else "")
    return keep, NonFiniteValues(int(keep.size - np.count_nonzero(keep)), first)


def _vocabulary(what: str, values: pa.Array, positive: np.ndarray) -> LabelVocabulary:
    keys = pc.unique(pc.utf8_lower(label_text(values))).drop_null().to_pylist()
    return LabelVocabulary(what, frozenset(keys), bool(positive.any()))


def part_state(settings: ModelSettings, rows: LabelledColumns, *, names: ModelQualityNames = OPTION_NAMES) -> PartState:
    """The state of one part's complete rows, their values decided and checked as ``values`` says (the
    checks that need the whole window are made by ``state_metrics``)."""
    kind = settings.problem_type
    if kind is mq.ProblemType.REGRESSION:
        truth = number_values(rows.labels, what="ground-truth values")
        inferred = number_values(rows.predictions, what="inference values")
        keep, left_out = _finite_rows(rows, ("ground-truth value", rows.labels, truth),
                                      ("inference value", rows.predictions, inferred))
        if left_out.rows:
            truth, inferred = truth[keep], inferred[keep]
        return PartState(RegressionState.of(truth, inferred), non_finite=left_out)
    if kind is mq.ProblemType.BINARY_CLASSIFICATION:
        positive_label = settings.positive_label
        scores, left_out = None, NonFiniteValues()
        if rows.probabilities is not None:
            scores = probability_values(rows.probabilities, names=names)
            keep, left_out = _finite_rows(rows, ("probability", rows.probabilities, scores))
            if left_out.rows:
                rows, scores = rows.filter(keep), scores[keep]
        actual = binary_values(rows.labels, positive_label=positive_label, what="ground-truth labels", names=names)
        vocabularies = [("ground-truth label", rows.labels, actual)]
        if settings.probability_threshold is not None:
            assert scores is not None
            predicted = scores > settings.probability_threshold
        else:
            predicted = binary_values(rows.predictions, positive_label=positive_label, what="predicted labels", names=names)
            vocabularies.append(("predicted label", rows.predictions, predicted))
        state = BinaryState.of(actual, predicted, predicted.astype(np.float64) if scores is None else scores)
        if positive_label is None:
            return PartState(state, non_finite=left_out)
        return PartState(state, tuple(_vocabulary(*column) for column in vocabularies), left_out)
    return PartState(MulticlassState.of(label_text(rows.labels), label_text(rows.predictions)))


def check_positive_label_occurs(vocabularies: Sequence[LabelVocabulary], *, positive_label: str,
                                names: ModelQualityNames = OPTION_NAMES) -> None:
    """Refuse label columns that cannot be in the positive label's vocabulary.

    ``vocabularies`` are those of the ground-truth labels and, unless they come from a probability
    threshold, the predicted labels. A column without a single positive value is legitimate when it
    holds one value that the other column also holds (a window with no positive case, or a model
    that predicted none); with two or more different values, or a value the other column never has,
    the positive label is not spelled as in the data and every metric would silently be zero.
    """
    for index, vocabulary in enumerate(vocabularies):
        if vocabulary.any_positive or not vocabulary.values:
            continue
        found = sorted(vocabulary.values)[:5]
        others = [v.values for i, v in enumerate(vocabularies) if i != index and v.values]
        foreign = bool(others) and not (vocabulary.values & others[0])
        if len(vocabulary.values) >= 2 or foreign:
            raise AnalyzerInputError(
                f"no {vocabulary.what} equals the positive label {positive_label!r} (found {', '.join(found)}): set "
                f"{names.positive_label} to the positive class as the labels and predictions write it"
            )


def state_metrics(settings: ModelSettings, state: PartState, *, names: ModelQualityNames = OPTION_NAMES) -> WindowMetrics:
    """The metrics of a (merged) state, with their standard errors and what is not computable
    (``checks.quality_decision``)."""
    kind = settings.problem_type
    quality = state.quality
    if not quality.rows:
        raise AnalyzerInputError(
            f"no row has a finite number where the metrics need one ({state.non_finite.rows:,} rows left out, the "
            f"first: {state.non_finite.first}): check the model's output and the labels"
            if state.non_finite.rows else "no row to measure")
    if isinstance(quality, RegressionState):
        actual = squarable(quality.actual, what="ground-truth values")
        predicted = squarable(quality.predicted, what="inference values")
        metrics = mq.regression_state_metrics(quality)
        return WindowMetrics(metrics, qd.standard_errors(kind, metrics, actual=actual, predicted=predicted),
                             qd.not_computable(kind, metrics, ground_truth_varies=bool(np.ptp(actual) > 0)))
    if isinstance(quality, BinaryState):
        if settings.positive_label is not None:
            check_positive_label_occurs(state.vocabularies, positive_label=settings.positive_label, names=names)
        metrics = mq.binary_state_metrics(quality)
        return WindowMetrics(metrics, qd.standard_errors(kind, metrics), qd.not_computable(kind, metrics))
    classes = _class_order(quality.classes)
    if len(classes) > MAX_CLASSES:
        raise AnalyzerInputError(too_many_classes(classes, names=names))
    metrics = mq.multiclass_state_metrics(quality, classes)
    return WindowMetrics(metrics, qd.standard_errors(kind, metrics), qd.not_computable(kind, metrics))


def too_many_classes(classes: Sequence[str], *, names: ModelQualityNames = OPTION_NAMES) -> str:
    """Why a multiclass window of more than ``MAX_CLASSES`` distinct labels and predictions is refused, and the fix:
    numbers with a fraction among them are a regression's values; other labels, the wrong attribute."""
    shown = ", ".join(repr(c) for c in classes[:3])
    fractional = sum(1 for c in classes if re.fullmatch(NUMBER_PATTERN, c) and not re.fullmatch(r"[+-]?\d+", c))
    if fractional * 2 >= len(classes):
        fix = (f"most of them are numbers with a fraction, so this is probably a Regression run as multiclass: run it "
               f"with {names.problem_type} Regression")
    else:
        fix = (f"check that the attributes point at the class labels, or run it with {names.problem_type} Regression "
               "if these are a regression's values")
    return (f"a MulticlassClassification with {len(classes):,} distinct labels and predictions (e.g. {shown}), more "
            f"than the {MAX_CLASSES} classes this analyzer judges (its confusion matrix would have "
            f"{len(classes) ** 2:,} cells): {fix}")


def measure(settings: ModelSettings, rows: LabelledColumns, *, names: ModelQualityNames = OPTION_NAMES) -> WindowMetrics:
    """``state_metrics`` of the complete rows read as one part."""
    return state_metrics(settings, part_state(settings, rows, names=names), names=names)


def compute_metrics(
    settings: ModelSettings, rows: LabelledColumns, *, names: ModelQualityNames = OPTION_NAMES
) -> dict[str, mq.MetricEntry]:
    """All metrics of ``settings.problem_type`` from complete rows (see ``values`` for how they are read)."""
    return measure(settings, rows, names=names).metrics


def _class_order(classes: Sequence[str]) -> list[str]:
    """Classes sorted numerically when all are integers, else as text."""
    if all(re.fullmatch(r"-?\d+", c) for c in classes):
        return sorted(classes, key=int)
    return sorted(classes)


