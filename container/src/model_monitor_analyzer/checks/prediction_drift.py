"""Prediction drift without labels: the model's outputs in a window against those of the labelled reference
the model-quality baseline was made from.

What is compared is the score for a binary classifier with a probability (a KLL sketch of the reference's
scores, by the registry's numeric method ``AUTO_METHODS[NUMERIC]``), else the predicted labels' shares (the
registry's categorical method), and the scores outside the reference's range, each side on its own: under
an unchanged model and inputs, the chance that ``k`` of a window's ``m`` scores land above the largest of
the reference's ``n`` is that of a hypergeometric tail with nothing marked in the reference
(``drift.rise_p_value(0, n, k, m)``, exact at every size). The p-values of a window (distribution, below,
above) are judged together by Benjamini-Hochberg at the model-quality decision's significance level, as
data quality judges its features: a flag needs evidence beyond sampling, not a fixed share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.checks import drift
from model_monitor_analyzer.constraint_rules import AUTO_METHODS, CATEGORICAL, NUMERIC
from model_monitor_analyzer.profile.kll import KllSketch


def label_counts_of(labels: pa.Array | Sequence[str]) -> dict[str, int]:
    """How many times each predicted label occurs (counted by Arrow on the whole column)."""
    column = labels if isinstance(labels, pa.Array) else pa.array(np.asarray(labels).astype(str), pa.string())
    counted = pc.value_counts(column.cast(pa.string()))
    return {str(v): int(c) for v, c in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(),
                                           strict=True) if v is not None}


@dataclass(frozen=True)
class ReferencePredictions:
    """The reference's predictions as a baseline stores them: its scores' sketch, range, count and standard
    deviation (None without scores), and its predicted labels' counts."""

    label_counts: Mapping[str, int]
    scores: KllSketch | None = None
    minimum: float = math.nan
    maximum: float = math.nan
    score_count: int = 0
    standard_deviation: float = math.nan

    @classmethod
    def of(cls, labels: pa.Array | Sequence[str], scores: np.ndarray | None) -> ReferencePredictions:
        label_counts = label_counts_of(labels)
        if scores is None or not len(scores):
            return cls(label_counts)
        scores = np.asarray(scores, dtype=np.float64)
        sketch = KllSketch()
        sketch.update(scores)
        return cls(label_counts, sketch, float(scores.min()), float(scores.max()), int(scores.size),
                   float(np.std(scores)))

    def to_document(self) -> dict[str, object]:
        document: dict[str, object] = {"predicted_labels": dict(self.label_counts)}
        if self.scores is not None:
            document["scores"] = {"count": self.score_count, "min": self.minimum, "max": self.maximum,
                                  "standard_deviation": self.standard_deviation, "sketch": self.scores.to_data()}
        return document

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> ReferencePredictions:
        """What ``to_document`` wrote (ValueError naming what is wrong)."""
        labels = document.get("predicted_labels")
        if not isinstance(labels, dict) or not all(isinstance(c, int) and c >= 0 for c in labels.values()):
            raise ValueError("predictions.predicted_labels must map each label to its count")
        scores = document.get("scores")
        if scores is None:
            return cls(labels)
        if not isinstance(scores, dict) or not isinstance(scores.get("sketch"), list):
            raise ValueError("predictions.scores must hold count, min, max, standard_deviation and sketch")
        try:
            return cls(labels, KllSketch.from_data(scores["sketch"]), float(scores["min"]), float(scores["max"]),
                       int(scores["count"]), float(scores["standard_deviation"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"predictions.scores is not readable ({error})") from None


@dataclass(frozen=True)
class PredictionDrift:
    """A window's prediction drift: the distribution's measure, the scores below and above the reference's
    range, every p-value, and which of them are discoveries (``flagged``)."""

    distribution: drift.DriftMeasure
    compared: str  # "scores" or "predicted_labels"
    below_range: int = 0
    above_range: int = 0
    p_values: Mapping[str, float] = field(default_factory=dict)
    flagged: frozenset[str] = frozenset()

    @property
    def drifted(self) -> bool:
        return bool(self.flagged)

    def to_document(self) -> dict[str, object]:
        document: dict[str, object] = {
            "compared": self.compared, "method": self.distribution.method, "distance": self.distribution.distance,
            "p_values": dict(self.p_values), "flagged": sorted(self.flagged), "drift": self.drifted}
        if self.compared == "scores":
            document["outside_reference_range"] = {"below": self.below_range, "above": self.above_range}
        return document


def prediction_drift(reference: ReferencePredictions, *, labels: pa.Array | Sequence[str], scores: np.ndarray | None,
                     significance_level: float) -> PredictionDrift:
    """The window's predictions (``scores`` when the reference has scores too, else ``labels``) against the
    reference's, judged at false-discovery rate ``significance_level``."""
    if scores is not None and reference.scores is not None and len(scores):
        scores = np.asarray(scores, dtype=np.float64)
        sketch = KllSketch()
        sketch.update(scores)
        measure = drift.measure_numeric(AUTO_METHODS[NUMERIC], reference.scores, sketch, reference.standard_deviation)
        below = int(np.count_nonzero(scores < reference.minimum))
        above = int(np.count_nonzero(scores > reference.maximum))
        n, m = reference.score_count, int(scores.size)
        p_values = {"scores": measure.p_value if measure.p_value is not None else math.nan,
                    "below_range": drift.rise_p_value(0, n, below, m),
                    "above_range": drift.rise_p_value(0, n, above, m)}
        return PredictionDrift(measure, "scores", below, above, p_values,
                               drift.benjamini_hochberg(p_values, significance_level))
    current = label_counts_of(labels)
    measure = drift.measure_categorical(AUTO_METHODS[CATEGORICAL], reference.label_counts, current)
    p_values = {"predicted_labels": measure.p_value if measure.p_value is not None else math.nan}
    return PredictionDrift(measure, "predicted_labels", p_values=p_values,
                           flagged=drift.benjamini_hochberg(p_values, significance_level))
