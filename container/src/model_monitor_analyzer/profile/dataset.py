"""Mergeable per-column and per-dataset profiles (Deequ's analyzer style: state, merge, metrics)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from model_monitor_analyzer.profile.categories import CategoryCounts
from model_monitor_analyzer.profile.datatypes import (
    ClassifiedValues,
    InferredType,
    ValueKind,
    classify,
    decide_type,
)
from model_monitor_analyzer.profile.kll import KllSketch, update_sketches
from model_monitor_analyzer.profile.moments import NumericMoments

if TYPE_CHECKING:
    from model_monitor_analyzer.jobs.progress import ProgressReporter


class ColumnProfile:
    """Streaming state of one column: null and type counts, numeric moments, KLL sketch, categories.

    Categories (``profile.categories``: exact up to a cap, then sketched) are counted only once
    the column has shown a non-numeric value (the numeric fast path does not count them);
    ``uncounted_values`` says how many present values were seen before that, so a caller can
    recount them when the column ends up String (see ``DatasetProfile.columns_needing_recount``).
    """

    __slots__ = ("category_counts", "kind_counts", "moments", "name", "nulls", "sketch", "uncounted_values")

    def __init__(self, name: str) -> None:
        self.name = name
        self.nulls = 0
        self.kind_counts = [0, 0, 0, 0]
        self.moments = NumericMoments()
        self.sketch = KllSketch()
        self.category_counts: CategoryCounts | None = None
        self.uncounted_values = 0

    @property
    def categories(self) -> dict[str, int] | None:
        """Value -> count (all values while exact, else the most frequent ones), None when not counted."""
        return None if self.category_counts is None else self.category_counts.counts()

    @property
    def distinct_count(self) -> float:
        """Number of distinct values counted (an estimate once the counts are sketched)."""
        return 0.0 if self.category_counts is None else self.category_counts.distinct_count

    def count_categories(self) -> None:
        """Count the values of every batch from now on."""
        if self.category_counts is None:
            self.category_counts = CategoryCounts()

    @property
    def present(self) -> int:
        """Number of non-null values."""
        return sum(self.kind_counts)

    @property
    def inferred_type(self) -> InferredType:
        """Deequ's column type from the counts (see ``profile.datatypes``)."""
        f, i, b, s = self.kind_counts
        return decide_type(nulls=self.nulls, fractional=f, integral=i, boolean=b, string=s)

    def update(self, array: pa.Array) -> None:
        """Add one batch of this column's values."""
        self.add(classify(array, detailed=self.category_counts is not None))

    def add(self, values: ClassifiedValues, *, sketch: bool = True) -> None:
        """Add an already classified batch (``sketch=False``: the caller updates the sketch)."""
        self.nulls += values.nulls
        for kind in ValueKind:
            self.kind_counts[kind] += values.kind_counts[kind]
        if len(values.numbers):
            self.moments.update(values.numbers)
            if sketch:
                self.sketch.update(values.numbers)
        if values.categories is None:
            if self.category_counts is None:
                self.uncounted_values += sum(values.kind_counts)
            return
        self.count_categories()
        self.category_counts.add(values.categories)

    def add_missing(self, count: int) -> None:
        """Record ``count`` rows in which this column did not exist (counted as missing)."""
        self.nulls += count

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """Merge another shard's state of the same column into this one."""
        self.nulls += other.nulls
        for kind in ValueKind:
            self.kind_counts[kind] += other.kind_counts[kind]
        self.moments.merge(other.moments)
        self.sketch.merge(other.sketch)
        self.uncounted_values += other.uncounted_values
        if other.category_counts is not None:
            self.count_categories()
            self.category_counts.merge(other.category_counts)
        return self


class DatasetProfile:
    """Profiles of all columns of a dataset, in column order, plus the row count."""

    def __init__(self) -> None:
        self.item_count = 0
        self.columns: dict[str, ColumnProfile] = {}

    def update(self, batch: pa.RecordBatch | pa.Table, *, detailed_columns: Iterable[str] = ()) -> None:
        """Add a batch of rows. Columns new in this batch count as missing in earlier rows."""
        detailed = set(detailed_columns)
        rows = batch.num_rows
        seen = set()
        numeric: dict[tuple, list[tuple[ColumnProfile, np.ndarray]]] = {}
        for name, array in zip(batch.schema.names, batch.columns):
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            column = self.columns.get(name)
            if column is None:
                column = self.columns[name] = ColumnProfile(name)
                column.add_missing(self.item_count)
            if name in detailed:
                column.count_categories()
            values = classify(array, detailed=column.category_counts is not None)
            column.add(values, sketch=False)
            if len(values.numbers):
                key = (len(values.numbers), column.sketch.structure())
                numeric.setdefault(key, []).append((column, values.numbers))
            seen.add(name)
        # Columns with as many new values and sketches in the same state compact in step.
        for group in numeric.values():
            update_sketches([column.sketch for column, _ in group], np.stack([numbers for _, numbers in group]))
        for name, column in self.columns.items():
            if name not in seen:
                column.add_missing(rows)
        self.item_count += rows

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """Merge another shard's profile (same columns, rows appended after ours)."""
        for name, column in other.columns.items():
            mine = self.columns.get(name)
            if mine is None:
                mine = self.columns[name] = ColumnProfile(name)
                mine.add_missing(self.item_count)
            mine.merge(column)
        for name, column in self.columns.items():
            if name not in other.columns:
                column.add_missing(other.item_count)
        self.item_count += other.item_count
        return self

    def columns_needing_recount(self) -> list[str]:
        """String columns whose categories miss values seen on the numeric fast path."""
        return [
            name
            for name, column in self.columns.items()
            if column.inferred_type is InferredType.STRING and column.uncounted_values > 0
        ]




# Small batches (a capture file of a few thousand records) are profiled together up to this many rows: each column's
# classification and sketch update costs a few Arrow calls per batch, whatever its size. Wide rows (long texts) are
# held up to this many bytes at most, so that memory stays bounded and no text column outgrows Arrow's 2 GiB.
MIN_PROFILED_ROWS = 16_384
MAX_HELD_BYTES = 16 << 20


def profile_batches(
    batches: Iterable[pa.RecordBatch],
    *,
    names: list[str] | None,
    detailed_columns: frozenset[str],
    progress: ProgressReporter,
) -> DatasetProfile:
    """The profile of a part's record batches (``names``: the baseline's features that positional columns are renamed
    to; ``progress`` is told the records profiled). Here, not with the runs: a Spark worker imports only this."""
    profile = DatasetProfile()
    held: list[pa.RecordBatch] = []
    held_rows = held_bytes = 0

    def profile_held() -> None:
        nonlocal held, held_rows, held_bytes
        if held:
            profile.update(held[0] if len(held) == 1 else pa.Table.from_batches(held), detailed_columns=detailed_columns)
            progress.update(profile.item_count)
            held, held_rows, held_bytes = [], 0, 0

    for batch in batches:
        if names is not None:
            batch = batch.rename_columns(
                [names[i] if i < len(names) else f"_c{i}" for i in range(batch.num_columns)]
            )
        if held and batch.schema != held[0].schema:
            profile_held()
        held.append(batch)
        held_rows += batch.num_rows
        held_bytes += batch.nbytes
        if held_rows >= MIN_PROFILED_ROWS or held_bytes >= MAX_HELD_BYTES:
            profile_held()
    profile_held()
    return profile
