"""Bounded, mergeable counts of a String column's values.

Counts are exact while a column has at most ``EXACT_DISTINCT_CAP`` distinct values, which covers
every categorical feature SageMaker's report lists in full (it writes at most 1,000 buckets).
Past the cap the state becomes two Apache DataSketches sketches, so that memory stays flat for
ID-like columns (postcodes, user ids, free text):

* a frequent-items sketch for the most frequent values and their counts (each estimate is off
  by at most ``epsilon * total``, with ``epsilon = 3.5 / 2**FREQUENT_LG_MAX_SIZE``);
* an HLL sketch for the distinct count (Deequ's own distinct count is HLL-based as well).

The state is mergeable (shards of a dataset profiled apart) and serialisable (``to_bytes``),
like Deequ's analyzer states.

Batches arrive as Arrow arrays of distinct values with their counts (``CategoryBatch``) and are held as they come,
then summed in one Arrow pass (``dictionary_encode`` keeps the order in which values first appear, which is the order
the counts are reported in): no Python loop per value while the counts are exact. Past the cap, the frequent-items
sketch still takes each batch's values one by one, and the HLL sketch each distinct value of the held batches once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import datasketches
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.io.arrow_texts import text_array

EXACT_DISTINCT_CAP = 10_000
FREQUENT_LG_MAX_SIZE = 13  # a map of 8,192 slots (up to 6,144 values, about 75 KB); error 3.5 / 8,192 of the total
HLL_LG_K = 14  # about 0.8 % relative error, 16 KiB
HELD_ROWS = 1 << 17  # distinct values of batches held before they are summed (a few MB of text at most)
_NO_FALSE_NEGATIVES = datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES
_FORMAT = 1


class CategoryBatch(NamedTuple):
    """One batch's distinct values (a string array without nulls, each value once) and their counts (int64)."""

    values: pa.Array
    counts: np.ndarray

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> CategoryBatch:
        """The batch of a value -> count mapping."""
        return cls(text_array(list(counts)), np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))


def _summed(batches: list[CategoryBatch]) -> CategoryBatch:
    """One batch with each value once and its counts summed, values in order of first appearance."""
    if len(batches) == 1:
        return batches[0]
    values = pa.concat_arrays([batch.values for batch in batches])
    counts = np.concatenate([batch.counts for batch in batches])
    encoded = pc.dictionary_encode(values)
    indices = np.frombuffer(encoded.indices.buffers()[1], dtype=np.int32, count=len(values), offset=encoded.indices.offset * 4)
    dictionary = encoded.dictionary
    if len(dictionary) == len(values):
        return CategoryBatch(values, counts)
    # float64 sums are exact below 2**53 values
    summed = np.bincount(indices, weights=counts, minlength=len(dictionary)).astype(np.int64)
    return CategoryBatch(dictionary, summed)


class CategoryCounts:
    """Value -> count of one column, exact up to ``EXACT_DISTINCT_CAP`` distinct values, then sketched."""

    __slots__ = ("_exact_dict", "distinct", "exact", "frequent", "held", "held_rows", "total")

    def __init__(self) -> None:
        self.exact: CategoryBatch | None = CategoryBatch.of({})
        self.frequent: datasketches.frequent_strings_sketch | None = None
        self.distinct: datasketches.hll_sketch | None = None
        self.held: list[CategoryBatch] = []  # batches not yet summed
        self.held_rows = 0
        self.total = 0
        self._exact_dict: dict[str, int] | None = None

    @property
    def is_exact(self) -> bool:
        """True while every value's count is known exactly."""
        self._sum_held()
        return self.exact is not None

    def add(self, counts: Mapping[str, int] | CategoryBatch) -> None:
        """Add one batch's counts (a mapping, or a ``CategoryBatch``)."""
        batch = counts if isinstance(counts, CategoryBatch) else CategoryBatch.of(counts)
        if not len(batch.values):
            return
        self.total += int(batch.counts.sum())
        self.held.append(batch)
        self.held_rows += len(batch.values)
        self._exact_dict = None
        # while exact, often enough that the sketches take over soon after the cap
        if self.held_rows > (EXACT_DISTINCT_CAP if self.exact is not None else HELD_ROWS):
            self._sum_held()

    def _sum_held(self) -> None:
        """Sum the held batches into the exact counts, or put them into the sketches past the cap."""
        if not self.held:
            return
        held, self.held, self.held_rows = self.held, [], 0
        if self.exact is not None:
            self.exact = _summed([self.exact, *held])
            if len(self.exact.values) > EXACT_DISTINCT_CAP:
                self._to_sketches()
            return
        # The frequent-items sketch takes each batch as it came: summed first, the tail's values arrive with
        # larger counts, its purges take more off every count, and its estimates were three to five times
        # further off on a postcode column. The HLL sketch keeps only whether a value was seen.
        for batch in held:
            self._sketch_frequent(batch)
        self._sketch_distinct(_summed(held))

    def _sketch_frequent(self, batch: CategoryBatch) -> None:
        update = self.frequent.update
        for value, count in zip(batch.values.to_pylist(), batch.counts.tolist(), strict=True):
            update(value, count)

    def _sketch_distinct(self, batch: CategoryBatch) -> None:
        update = self.distinct.update
        for value in batch.values.to_pylist():
            update(value)

    def _to_sketches(self) -> None:
        exact, self.exact = self.exact, None
        self._exact_dict = None
        self.frequent = datasketches.frequent_strings_sketch(FREQUENT_LG_MAX_SIZE)
        self.distinct = datasketches.hll_sketch(HLL_LG_K)
        if exact is not None:
            self._sketch_frequent(exact)
            self._sketch_distinct(exact)

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        """Add another shard's counts to these."""
        other._sum_held()
        if other.exact is not None:
            self.add(other.exact)
            return self
        self._sum_held()
        if self.exact is not None:
            self._to_sketches()
        self.frequent.merge(other.frequent)
        union = datasketches.hll_union(HLL_LG_K)
        union.update(self.distinct)
        union.update(other.distinct)
        self.distinct = union.get_result()
        self.total += other.total
        return self

    @property
    def distinct_count(self) -> float:
        """Number of distinct values (an HLL estimate once sketched)."""
        self._sum_held()
        if self.exact is not None:
            return float(len(self.exact.values))
        return float(round(self.distinct.get_estimate()))

    def counts(self) -> dict[str, int]:
        """Value -> count: every value while exact (in order of first appearance), else every value the
        frequent-items sketch holds (threshold 1: not only those certain to be frequent), with its estimated count."""
        self._sum_held()
        if self.exact is not None:
            if self._exact_dict is None:
                self._exact_dict = dict(zip(self.exact.values.to_pylist(), self.exact.counts.tolist(), strict=True))
            return self._exact_dict
        return {value: int(estimate) for value, estimate, _, _ in self.frequent.get_frequent_items(_NO_FALSE_NEGATIVES, 1)}

    # -------------------------------------------------------------- serialisation
    def to_bytes(self) -> bytes:
        """The state as bytes (``from_bytes`` reads them back)."""
        self._sum_held()
        if self.exact is not None:
            header = {"format": _FORMAT, "total": self.total, "exact": self.counts()}
            return orjson.dumps(header)
        frequent = self.frequent.serialize()
        distinct = self.distinct.serialize_compact()
        header = {"format": _FORMAT, "total": self.total, "frequent": len(frequent), "distinct": len(distinct)}
        encoded = orjson.dumps(header)
        return len(encoded).to_bytes(4, "little") + encoded + frequent + distinct

    @classmethod
    def from_bytes(cls, data: bytes) -> CategoryCounts:
        """A state written by ``to_bytes``."""
        state = cls()
        if data[:1] == b"{":
            header = orjson.loads(data)
            state.exact = CategoryBatch.of({str(k): int(v) for k, v in header["exact"].items()})
            state.total = int(header["total"])
            return state
        size = int.from_bytes(data[:4], "little")
        header = orjson.loads(data[4 : 4 + size])
        start = 4 + size
        middle = start + header["frequent"]
        state.exact = None
        state.frequent = datasketches.frequent_strings_sketch.deserialize(data[start:middle])
        state.distinct = datasketches.hll_sketch.deserialize(data[middle : middle + header["distinct"]])
        state.total = int(header["total"])
        return state

    def __getstate__(self) -> bytes:  # the sketches do not pickle themselves
        return self.to_bytes()

    def __setstate__(self, data: bytes) -> None:
        restored = CategoryCounts.from_bytes(data)
        for name in self.__slots__:
            setattr(self, name, getattr(restored, name))
