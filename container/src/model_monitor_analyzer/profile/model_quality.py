"""Mergeable, serialisable model-quality states of one part of a window (or of a baseline dataset).

A part's predictions and labels, already decided (booleans for a binary problem, label texts for a
multiclass one, numbers for a regression), become a small state; states of the parts merge; every
metric is derived from the merged state (``checks.model_quality``), as Deequ's analyzers do.

* Binary: the confusion counts, and an exact tally of each distinct score with its positive and
  negative rows (the ROC and precision-recall curves and the AUC read only that).
* Multiclass: the confusion matrix over the part's classes (merging takes the union).
* Regression: see ``RegressionState``.

Counts merge in any order. One piece needs the rows themselves: the standard deviations (the
built-in's spread over five random 80 % subsamples, drawn by row position) and a regression's sums
(Spark's left-to-right float sums, which the real statistics.json reproduces to the last bit and no
smaller summary can). The states keep those rows in input order and a merge appends the later part's
rows: parts merged in input order give the very numbers of the whole input.

``to_bytes``/``from_bytes`` carry a state between processes or machines (an Arrow IPC stream).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

_FORMAT = 1


def _ipc(columns: dict[str, pa.Array], metadata: dict) -> bytes:
    table = pa.table(columns).replace_schema_metadata({"state": orjson.dumps({"format": _FORMAT, **metadata})})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _read_ipc(data: bytes, kind: str) -> tuple[pa.Table, dict]:
    table = pa.ipc.open_stream(data).read_all()
    metadata = orjson.loads((table.schema.metadata or {}).get(b"state", b"{}"))
    if metadata.get("format") != _FORMAT or metadata.get("kind") != kind:
        raise ValueError(f"not a serialised {kind} state (format {_FORMAT})")
    return table, metadata


def _column(table: pa.Table, name: str, dtype: type) -> np.ndarray:
    return table.column(name).to_numpy().astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Binary classification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ScoreTally:
    """Each distinct score (highest first) with how many positive and negative rows have it.

    Exact whatever the split: a merge adds the counts of equal scores. The cumulative sums of
    ``positives`` and ``negatives`` are the true and false positives of each threshold.
    """

    scores: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    @classmethod
    def of(cls, scores: np.ndarray, actual: np.ndarray) -> ScoreTally:
        """The tally of rows with these ``scores`` and truths (True = positive)."""
        scores = np.asarray(scores, dtype=np.float64)
        actual = np.asarray(actual, dtype=bool)
        return cls._grouped(scores, actual.astype(np.int64), (~actual).astype(np.int64))

    @classmethod
    def _grouped(cls, scores: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> ScoreTally:
        # np.unique sorts ascending and treats -0.0 and 0.0 as one score, as the curves' ties do
        distinct, group = np.unique(scores, return_inverse=True)
        size = distinct.size
        return cls(
            scores=distinct[::-1].copy(),
            positives=np.bincount(group, weights=None if not positives.size else positives, minlength=size)
            .astype(np.int64)[::-1].copy(),
            negatives=np.bincount(group, weights=None if not negatives.size else negatives, minlength=size)
            .astype(np.int64)[::-1].copy(),
        )

    def merge(self, other: ScoreTally) -> ScoreTally:
        """The tally of both parts' rows."""
        return ScoreTally._grouped(
            np.concatenate((self.scores, other.scores)),
            np.concatenate((self.positives, other.positives)),
            np.concatenate((self.negatives, other.negatives)),
        )

    def threshold_counts(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """(true positives, false positives) when predicting positive for score >= t, for each distinct
        score t from the highest; and the numbers of positive and negative rows."""
        tps = np.cumsum(self.positives, dtype=np.int64)
        fps = np.cumsum(self.negatives, dtype=np.int64)
        return tps, fps, int(self.positives.sum()), int(self.negatives.sum())


@dataclass(frozen=True, kw_only=True)
class BinaryState:
    """A part of a binary problem: its confusion counts and score tally, and its rows for the spreads.

    ``actual`` and ``predicted`` are booleans (True = positive), ``scores`` the probabilities that
    rank rows for the curves (the predicted labels as 0/1 when there is no probability).
    """

    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int
    tally: ScoreTally
    actual: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray

    @classmethod
    def of(cls, actual: np.ndarray, predicted: np.ndarray, scores: np.ndarray) -> BinaryState:
        """The state of one part's rows."""
        actual = np.asarray(actual, dtype=bool)
        predicted = np.asarray(predicted, dtype=bool)
        scores = np.asarray(scores, dtype=np.float64)
        if not actual.size == predicted.size == scores.size:
            raise ValueError("actual, predicted and scores must have one value per row")
        tp = int(np.count_nonzero(actual & predicted))
        fp = int(np.count_nonzero(~actual & predicted))
        fn = int(np.count_nonzero(actual & ~predicted))
        return cls(true_positives=tp, false_positives=fp, true_negatives=actual.size - tp - fp - fn,
                   false_negatives=fn, tally=ScoreTally.of(scores, actual), actual=actual, predicted=predicted,
                   scores=scores)

    @property
    def rows(self) -> int:
        return int(self.actual.size)

    def merge(self, other: BinaryState) -> BinaryState:
        """Both parts, ``other``'s rows after ours."""
        return BinaryState(
            true_positives=self.true_positives + other.true_positives,
            false_positives=self.false_positives + other.false_positives,
            true_negatives=self.true_negatives + other.true_negatives,
            false_negatives=self.false_negatives + other.false_negatives,
            tally=self.tally.merge(other.tally),
            actual=np.concatenate((self.actual, other.actual)),
            predicted=np.concatenate((self.predicted, other.predicted)),
            scores=np.concatenate((self.scores, other.scores)),
        )

    def to_bytes(self) -> bytes:
        """The state as bytes (``from_bytes`` reads it back); the counts follow from the rows."""
        return _ipc({"actual": pa.array(self.actual), "predicted": pa.array(self.predicted),
                     "scores": pa.array(self.scores, pa.float64())}, {"kind": "binary"})

    @classmethod
    def from_bytes(cls, data: bytes) -> BinaryState:
        """The state ``to_bytes`` wrote."""
        table, _ = _read_ipc(data, "binary")
        return cls.of(_column(table, "actual", bool), _column(table, "predicted", bool),
                      _column(table, "scores", np.float64))


# --------------------------------------------------------------------------------------------
# Multiclass classification
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MulticlassState:
    """A part of a multiclass problem: its confusion matrix over ``classes`` (the labels seen in its truth
    or predictions, sorted as text), and its rows as positions in ``classes`` for the spreads.

    ``matrix[i, j]`` counts rows of actual class ``classes[i]`` predicted as ``classes[j]``.
    """

    classes: tuple[str, ...]
    matrix: np.ndarray
    actual_codes: np.ndarray
    predicted_codes: np.ndarray

    @classmethod
    def of(cls, actual: Sequence[str] | np.ndarray | pa.Array, predicted: Sequence[str] | np.ndarray | pa.Array
           ) -> MulticlassState:
        """The state of one part's label texts (computed on whole columns by Arrow)."""
        actual_column, predicted_column = _text_column(actual), _text_column(predicted)
        if len(actual_column) != len(predicted_column):
            raise ValueError("actual and predicted must have one label per row")
        present = pc.unique(pa.concat_arrays([actual_column, predicted_column]))
        classes = tuple(sorted(present.drop_null().to_pylist()))
        value_set = pa.array(classes, pa.string())
        actual_codes = _codes(actual_column, value_set)
        predicted_codes = _codes(predicted_column, value_set)
        size = len(classes)
        matrix = np.bincount(actual_codes * size + predicted_codes, minlength=size * size).reshape(size, size)
        return cls(classes=classes, matrix=matrix.astype(np.int64), actual_codes=actual_codes,
                   predicted_codes=predicted_codes)

    @property
    def rows(self) -> int:
        return int(self.actual_codes.size)

    def merge(self, other: MulticlassState) -> MulticlassState:
        """Both parts over the union of their classes, ``other``'s rows after ours."""
        classes = tuple(sorted(set(self.classes) | set(other.classes)))
        return MulticlassState(
            classes=classes,
            matrix=self.matrix_over(classes) + other.matrix_over(classes),
            actual_codes=np.concatenate((self.codes_over(classes, self.actual_codes),
                                         other.codes_over(classes, other.actual_codes))),
            predicted_codes=np.concatenate((self.codes_over(classes, self.predicted_codes),
                                            other.codes_over(classes, other.predicted_codes))),
        )

    def _positions(self, classes: Sequence[str]) -> np.ndarray:
        where = {name: index for index, name in enumerate(classes)}
        missing = [name for name in self.classes if name not in where]
        if missing:
            raise ValueError(f"label {missing[0]!r} is not among the classes {list(classes)}")
        return np.array([where[name] for name in self.classes], dtype=np.int64)

    def matrix_over(self, classes: Sequence[str]) -> np.ndarray:
        """The confusion matrix over ``classes`` in that order (a superset of ours: absent ones count 0)."""
        positions = self._positions(classes)
        matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
        matrix[np.ix_(positions, positions)] = self.matrix
        return matrix

    def codes_over(self, classes: Sequence[str], codes: np.ndarray) -> np.ndarray:
        """Our rows' ``codes`` as positions in ``classes``."""
        return self._positions(classes)[codes] if codes.size else codes

    def to_bytes(self) -> bytes:
        """The state as bytes (``from_bytes`` reads it back); the matrix follows from the rows."""
        return _ipc({"actual": pa.array(self.actual_codes, pa.int64()),
                     "predicted": pa.array(self.predicted_codes, pa.int64())},
                    {"kind": "multiclass", "classes": list(self.classes)})

    @classmethod
    def from_bytes(cls, data: bytes) -> MulticlassState:
        """The state ``to_bytes`` wrote."""
        table, metadata = _read_ipc(data, "multiclass")
        classes = tuple(metadata["classes"])
        actual, predicted = _column(table, "actual", np.int64), _column(table, "predicted", np.int64)
        size = len(classes)
        matrix = np.bincount(actual * size + predicted, minlength=size * size).reshape(size, size)
        return cls(classes=classes, matrix=matrix.astype(np.int64), actual_codes=actual, predicted_codes=predicted)


def _text_column(labels: Sequence[str] | np.ndarray | pa.Array) -> pa.Array:
    if isinstance(labels, pa.ChunkedArray):
        labels = labels.combine_chunks()
    if isinstance(labels, pa.Array):
        return labels.cast(pa.string())
    return pa.array(np.asarray(labels, dtype=object), pa.string())


def _codes(column: pa.Array, value_set: pa.Array) -> np.ndarray:
    codes = pc.index_in(column, value_set=value_set)
    if codes.null_count:
        raise ValueError("a label is missing: decide the complete rows before the state")
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


# --------------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegressionState:
    """A part of a regression: its ground truth and predictions, in input order.

    The regression metrics are sums (of absolute and squared errors, of the truth and its squared
    deviations), taken left to right as Spark does: the real statistics.json is reproduced to the
    last bit only in that order, which no per-part summary can replay (a float sum of sums rounds
    differently). So the state is the rows themselves, and a merge appends ``other``'s.
    """

    actual: np.ndarray
    predicted: np.ndarray

    @classmethod
    def of(cls, actual: np.ndarray, predicted: np.ndarray) -> RegressionState:
        """The state of one part's rows."""
        actual = np.asarray(actual, dtype=np.float64)
        predicted = np.asarray(predicted, dtype=np.float64)
        if actual.size != predicted.size:
            raise ValueError("actual and predicted must have one value per row")
        return cls(actual=actual, predicted=predicted)

    @property
    def rows(self) -> int:
        return int(self.actual.size)

    def merge(self, other: RegressionState) -> RegressionState:
        """Both parts, ``other``'s rows after ours."""
        return RegressionState(actual=np.concatenate((self.actual, other.actual)),
                               predicted=np.concatenate((self.predicted, other.predicted)))

    def to_bytes(self) -> bytes:
        """The state as bytes (``from_bytes`` reads it back)."""
        return _ipc({"actual": pa.array(self.actual, pa.float64()), "predicted": pa.array(self.predicted, pa.float64())},
                    {"kind": "regression"})

    @classmethod
    def from_bytes(cls, data: bytes) -> RegressionState:
        """The state ``to_bytes`` wrote."""
        table, _ = _read_ipc(data, "regression")
        return cls.of(_column(table, "actual", np.float64), _column(table, "predicted", np.float64))


QualityState = BinaryState | MulticlassState | RegressionState


def merge_states(states: Sequence[QualityState]) -> QualityState:
    """The states of consecutive parts merged in order (at least one state, all of one kind)."""
    if not states:
        raise ValueError("no state to merge")
    merged = states[0]
    for state in states[1:]:
        if type(state) is not type(merged):
            raise ValueError(f"cannot merge a {type(state).__name__} into a {type(merged).__name__}")
        merged = merged.merge(state)  # type: ignore[arg-type]
    return merged
