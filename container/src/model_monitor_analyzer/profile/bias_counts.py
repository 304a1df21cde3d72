"""The mergeable state of a bias analysis: rows of one facet group counted by label and prediction.

Every bias metric but the flip test is a function of eight counts per subgroup of the group
variable: for each row, whether it is in the sensitive facet group *d* (else in *a*), whether its
observed label is positive, and whether its predicted label is positive. A part of the data
(a file, a byte range, a Spark partition) is counted on its own with ``count_rows``, vectorised
(``np.bincount`` over one cell index per row); ``GroupCounts.merge`` adds two parts' counts, so
the counts of any split of the rows merge into the counts of the whole, and so do the metrics
derived from them (``checks.bias_pretraining``, ``checks.bias_posttraining``).

Subgroups are keyed by the group variable's values themselves (numbers, booleans or texts), kept
sorted, so that two parts that saw different values merge by key. Rows whose group variable is
missing, and every row when there is no group variable, count in a last slot of their own: they
belong to no subgroup (CDDL, CDDPL) but to the facet groups (every other metric).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# A row's cell: 4 * in_facet + 2 * label_positive + predicted_positive.
CELLS = 8


@dataclass(frozen=True, eq=False)
class GroupCounts:
    """Row counts of one facet group's split, per subgroup of the group variable.

    ``counts[i, cell]`` counts the rows of subgroup ``keys[i]`` in ``cell`` (see ``CELLS``); the
    last row, ``counts[len(keys)]``, the rows of no subgroup. ``grouped`` says whether the analysis
    has a group variable at all (without one, CDDL and CDDPL have no value).
    """

    keys: np.ndarray
    counts: np.ndarray
    grouped: bool

    def cells(self) -> np.ndarray:
        """The eight counts over every row, subgroups summed."""
        return self.counts.sum(axis=0)

    def count(self, *, facet: bool | None = None, positive: bool | None = None, predicted: bool | None = None) -> int:
        """Rows in (or, with False, out of) the facet group, with a positive (False: negative) label
        and prediction; None takes both."""
        return int(_select(self.cells(), facet, positive, predicted).sum())

    def per_subgroup(self, *, facet: bool | None = None, positive: bool | None = None,
                     predicted: bool | None = None) -> np.ndarray:
        """``count`` for each subgroup, in key order (rows of no subgroup left out)."""
        if not len(self.keys):
            return np.zeros(0, dtype=np.int64)
        return _select(self.counts[:-1], facet, positive, predicted).reshape(len(self.keys), -1).sum(axis=1)

    def merge(self, other: GroupCounts) -> GroupCounts:
        """The counts of both parts' rows together."""
        if self.grouped != other.grouped:
            raise ValueError("cannot merge the counts of an analysis with a group variable and one without")
        keys = _union(self.keys, other.keys)
        counts = np.zeros((len(keys) + 1, CELLS), dtype=np.int64)
        for part in (self, other):
            if len(part.keys):
                counts[np.searchsorted(keys, part.keys)] += part.counts[:-1]
            counts[-1] += part.counts[-1]
        return GroupCounts(keys=keys, counts=counts, grouped=self.grouped)

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form (``from_dict`` reads it back)."""
        return {"keys": self.keys.tolist(), "counts": self.counts.tolist(), "grouped": self.grouped}

    @classmethod
    def from_dict(cls, document: Mapping[str, object]) -> GroupCounts:
        """The counts ``to_dict`` wrote."""
        keys = document["keys"]
        return cls(keys=np.array(keys, dtype=object if keys and isinstance(keys[0], str) else None),  # type: ignore[index]
                   counts=np.array(document["counts"], dtype=np.int64).reshape(-1, CELLS),
                   grouped=bool(document["grouped"]))


def _select(cells: np.ndarray, facet: bool | None, positive: bool | None, predicted: bool | None) -> np.ndarray:
    shaped = cells.reshape(*cells.shape[:-1], 2, 2, 2)
    index = tuple(slice(None) if wanted is None else int(wanted) for wanted in (facet, positive, predicted))
    return shaped[(..., *index)]


def _union(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    if not len(first):
        return second
    if not len(second):
        return first
    return np.unique(np.concatenate([first, second]))


def count_rows(facet: np.ndarray, positive: np.ndarray, predicted: np.ndarray | None,
               group: tuple[np.ndarray, np.ndarray] | None) -> GroupCounts:
    """The counts of one part's rows: booleans ``facet`` (in group d), ``positive`` (observed
    label), ``predicted`` (None: no predictions, counted as negative) and the group variable as
    sortable keys with where a row has none (``checks.bias_groups.subgroup_keys``; None: no
    group variable)."""
    # one byte a row, and the subgroups' index computed in place: a million rows allocate a few arrays, not a dozen
    cell = np.multiply(np.asarray(facet, dtype=bool), 4, dtype=np.uint8)
    cell += np.multiply(np.asarray(positive, dtype=bool), 2, dtype=np.uint8)
    if predicted is not None:
        cell += np.asarray(predicted, dtype=bool)
    if group is None:
        counts = np.bincount(cell, minlength=CELLS).reshape(1, CELLS)
        return GroupCounts(keys=np.array([], dtype=np.float64), counts=counts.astype(np.int64), grouped=False)
    values, missing = group
    some_missing = bool(missing.any())
    keys, inverse = _keys_of(values[~missing] if some_missing else values)
    if some_missing:
        index = np.full(facet.size, len(keys), dtype=np.int64)
        index[~missing] = inverse.reshape(-1)
    else:
        index = inverse.reshape(-1).astype(np.int64, copy=False)  # ``_keys_of`` answers a new array: changed in place
    index *= CELLS
    index += cell
    counts = np.bincount(index, minlength=(len(keys) + 1) * CELLS).reshape(len(keys) + 1, CELLS)
    return GroupCounts(keys=keys, counts=counts.astype(np.int64), grouped=True)


# Integer keys spanning at most this many values (or as many as there are rows) are found by counting, not sorting.
_COUNTED_SPAN = 1 << 16


def _counted_span(values: np.ndarray) -> tuple[int, np.ndarray, np.ndarray] | None:
    """For integers of a small span (``_COUNTED_SPAN``): the lowest, each value's offset from it, and per value
    from it up whether it is present (the counting behind ``_keys_of`` and ``sorted_distinct``); else None."""
    if values.dtype.kind not in "iu" or not values.size:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low >= max(_COUNTED_SPAN, values.size) or high >= 1 << 63:
        return None
    offsets = values.astype(np.int64)  # a copy, then shifted in place
    offsets -= np.int64(low)
    return low, offsets, np.bincount(offsets, minlength=high - low + 1) > 0


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``: the sorted distinct values; integers of a small span by counting each value."""
    counted = _counted_span(values)
    if counted is None:
        return np.unique(values)
    low, _, seen = counted
    return (np.flatnonzero(seen) + low).astype(values.dtype)


def _keys_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``: the sorted distinct values and each value's place among them;
    integers of a small span by counting each value (a tenth of the time of a sort at a million rows)."""
    counted = _counted_span(values)
    if counted is not None:
        low, offsets, seen = counted
        places = np.cumsum(seen) - 1
        return (np.flatnonzero(seen) + low).astype(values.dtype), places[offsets]
    return np.unique(values, return_inverse=True)
