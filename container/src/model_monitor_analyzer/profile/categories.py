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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import datasketches
import orjson

EXACT_DISTINCT_CAP = 10_000
FREQUENT_LG_MAX_SIZE = 13  # a map of 8,192 slots (up to 6,144 values, about 75 KB); error 3.5 / 8,192 of the total
HLL_LG_K = 14  # about 0.8 % relative error, 16 KiB
# Past the cap, counts are summed in a dict of at most this many values between sketch updates: one update per
# distinct value instead of one per value and batch (a third of the time on a postcode column), and the same
# value's counts reach the frequent-items sketch as one update, which is no less accurate.
PENDING_DISTINCT_CAP = 1 << 16
_NO_FALSE_NEGATIVES = datasketches.frequent_items_error_type.NO_FALSE_NEGATIVES
_FORMAT = 1


class CategoryCounts:
    """Value -> count of one column, exact up to ``EXACT_DISTINCT_CAP`` distinct values, then sketched."""

    __slots__ = ("distinct", "exact", "frequent", "pending", "total")

    def __init__(self) -> None:
        self.exact: dict[str, int] | None = {}
        self.frequent: datasketches.frequent_strings_sketch | None = None
        self.distinct: datasketches.hll_sketch | None = None
        self.pending: dict[str, int] = {}  # counts not yet in the sketches (empty while exact)
        self.total = 0

    @property
    def is_exact(self) -> bool:
        """True while every value's count is known exactly."""
        return self.exact is not None

    def add(self, counts: Mapping[str, int]) -> None:
        """Add one batch's counts."""
        self.total += sum(counts.values())
        if self.exact is not None:
            exact = self.exact
            for value, count in counts.items():
                exact[value] = exact.get(value, 0) + count
            if len(exact) > EXACT_DISTINCT_CAP:
                self._to_sketches()
            return
        pending = self.pending
        for value, count in counts.items():
            pending[value] = pending.get(value, 0) + count
        if len(pending) > PENDING_DISTINCT_CAP:
            self._flush()

    def _sketch(self, items: Iterable[tuple[str, int]]) -> None:
        frequent, distinct = self.frequent, self.distinct
        for value, count in items:
            frequent.update(value, count)
            distinct.update(value)

    def _flush(self) -> None:
        """Put the pending counts into the sketches."""
        if self.pending:
            pending, self.pending = self.pending, {}
            self._sketch(pending.items())

    def _to_sketches(self) -> None:
        exact, self.exact = self.exact or {}, None
        self.frequent = datasketches.frequent_strings_sketch(FREQUENT_LG_MAX_SIZE)
        self.distinct = datasketches.hll_sketch(HLL_LG_K)
        self._sketch(exact.items())

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        """Add another shard's counts to these."""
        if other.exact is not None:
            self.add(other.exact)
            return self
        if self.exact is not None:
            self._to_sketches()
        self._flush()
        other._flush()
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
        if self.exact is not None:
            return float(len(self.exact))
        self._flush()
        return float(round(self.distinct.get_estimate()))

    def counts(self) -> dict[str, int]:
        """Value -> count: every value while exact, else every value the frequent-items sketch
        holds (threshold 1: not only those certain to be frequent), with its estimated count."""
        if self.exact is not None:
            return self.exact
        self._flush()
        return {value: int(estimate) for value, estimate, _, _ in self.frequent.get_frequent_items(_NO_FALSE_NEGATIVES, 1)}

    # -------------------------------------------------------------- serialisation
    def to_bytes(self) -> bytes:
        """The state as bytes (``from_bytes`` reads them back)."""
        if self.exact is not None:
            header = {"format": _FORMAT, "total": self.total, "exact": self.exact}
            return orjson.dumps(header)
        self._flush()
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
            state.exact = {str(k): int(v) for k, v in header["exact"].items()}
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
