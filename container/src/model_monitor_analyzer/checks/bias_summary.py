"""What a bias analysis decides about a typed column, taken from mergeable summaries of its parts.

``plan_bias`` reads a label, predicted label, facet or group variable column as categorical or
continuous (``bias_groups.column_kind``: Clarify's rule, an integer column is continuous when 5 % or
more of its present values are distinct), lists a facet's groups in order of first appearance, and
bounds a threshold group by the column's maximum. Each decision here comes from a ``ColumnSummary``:
the summary of one part of the rows (``summarize``, told the part's index), merged with the others in
any order (``ColumnSummary.merge``), gives exactly the decisions of the whole column:

* type evidence: the column's dtype kind, its present and missing counts, and flags (a float that
  is not a whole number, a text that is no integer, a present value other than 0 and 1, a word among
  numbers) that merge by and/or;
* distinct values: each present value with the (part index, position) of its first occurrence,
  merged by keeping the earlier one, so the distinct count is exact and the facet's groups come in
  first-seen order. ``cap`` bounds the set: a part, or a merge, that reaches ``cap`` distinct values
  keeps none and only says that it reached it. The 5 % rule is decided when the set is complete or
  when ``cap`` is at least ``distinct_needed`` of the whole column's present count, which a first
  count pass gives (``present_count``): then reaching the cap means continuous;
* the maximum (as ``bias_groups.as_numbers`` reads the column), merged by max;
* the first few distinct values for error messages (``bias_groups.some_values``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import AnalyzerInputError
from ..profile.bias_counts import sorted_distinct
from .bias_groups import (
    UNIQUENESS_THRESHOLD,
    ColumnKind,
    Selection,
    interval_breaks,
    is_missing,
    numeric_view,
    require_label_kind,
    threshold_of,
    value_text,
)

# How many distinct values ``some_values`` shows, plus one to know whether there are more.
SHOWN_VALUES = 5
_KEPT_FIRST = SHOWN_VALUES + 1
_INTEGER_TEXT = r"^\s*[+-]?[0-9]+\s*$"


def distinct_needed(present: int) -> int:
    """The fewest distinct values that make ``present`` whole numbers continuous (``distinct / present >= 5 %``
    in floating point, as Clarify compares); 0 present values are never continuous."""
    if present <= 0:
        return present + 1  # more than there can be
    needed = max(1, math.ceil(present * UNIQUENESS_THRESHOLD) - 2)
    while needed / present < UNIQUENESS_THRESHOLD:
        needed += 1
    while needed > 1 and (needed - 1) / present >= UNIQUENESS_THRESHOLD:
        needed -= 1
    return needed


@dataclass(frozen=True, kw_only=True)
class ColumnSummary:
    """The mergeable summary of some rows of one typed column (see the module's docstring)."""

    dtype_kind: str
    rows: int
    present: int
    fractional: bool  # a float column with a present value that is not a finite whole number
    all_integer_texts: bool  # an object column whose present texts all read as integers
    numbers: int  # present values as ``numeric_view`` reads them
    zero_one: bool  # every one of them is 0 or 1
    words: bool | None  # an object column with a present value that is no number (None: not looked at)
    maximum: float | None  # the largest present value as ``as_numbers`` reads the column
    cap: int | None
    reached_cap: bool
    kept: bool  # the distinct values are kept (else the part cannot be whole numbers and none were asked for)
    ordered: bool  # with the positions of their first occurrences (else each at position 0)
    first_seen: dict[object, tuple[int, int]] = field(default_factory=dict)  # value -> (part, position)
    first_shown: tuple[tuple[tuple[int, int], object, str], ...] = ()  # ((part, position), key, text)

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        """The summary of both parts' rows together (parts told apart by their index)."""
        if other.dtype_kind != self.dtype_kind:
            raise ValueError(f"parts of one column typed differently: {self.dtype_kind!r} and {other.dtype_kind!r}")
        if other.cap != self.cap:
            raise ValueError("parts of one column summarised with different caps")
        reached = self.reached_cap or other.reached_cap
        kept = self.kept and other.kept
        seen: dict[object, tuple[int, int]] = {}
        if kept and not reached:
            # The earlier occurrence keeps its key (1 and 1.0 are one value, shown as first seen).
            merged = sorted([*self.first_seen.items(), *other.first_seen.items()], key=lambda item: item[1])
            for value, where in merged:
                seen.setdefault(value, where)
            if self.cap is not None and len(seen) >= self.cap:
                reached, seen = True, {}
        shown: dict[object, tuple[tuple[int, int], object, str]] = {}
        for entry in sorted([*self.first_shown, *other.first_shown], key=lambda entry: entry[0]):
            shown.setdefault(entry[1], entry)
        return ColumnSummary(
            dtype_kind=self.dtype_kind, rows=self.rows + other.rows, present=self.present + other.present,
            fractional=self.fractional or other.fractional,
            all_integer_texts=self.all_integer_texts and other.all_integer_texts,
            numbers=self.numbers + other.numbers, zero_one=self.zero_one and other.zero_one,
            words=_either(self.words, other.words), maximum=_larger(self.maximum, other.maximum),
            cap=self.cap, reached_cap=reached, kept=kept, ordered=self.ordered and other.ordered, first_seen=seen,
            first_shown=tuple(list(shown.values())[:_KEPT_FIRST]),
        )

    # The decisions, as ``bias_groups`` takes them on the whole column.

    def kind(self, given: tuple[object, ...] | list[object] | None, *, known: ColumnKind | None = None) -> ColumnKind:
        """``bias_groups.column_kind`` of the whole column."""
        if given is not None and len(given) > 1:
            return ColumnKind.CATEGORICAL
        if self.dtype_kind == "f" and not (self.present and not self.fractional):
            return ColumnKind.CONTINUOUS
        whole_numbers = self.dtype_kind in "iuf" or (
            self.dtype_kind == "O" and self.present == self.rows and self.all_integer_texts
        )
        if not whole_numbers:
            return ColumnKind.CATEGORICAL
        if known is not None:
            return known
        if self.numbers and self.zero_one:
            return ColumnKind.CATEGORICAL
        return ColumnKind.CONTINUOUS if self.many_distinct() else ColumnKind.CATEGORICAL

    def many_distinct(self) -> bool:
        """Whether 5 % or more of the present values are distinct (Clarify's ``nunique() / count()``)."""
        if not self.present:
            return False
        needed = distinct_needed(self.present)
        if not self.kept:
            raise ValueError("a part of whole numbers kept no distinct values")
        if not self.reached_cap:
            return len(self.first_seen) >= needed
        assert self.cap is not None
        if self.cap < needed:
            raise ValueError(f"{self.cap} distinct values cannot decide the 5 % rule over {self.present} values: "
                             f"summarise with a cap of distinct_needed(present) = {needed}")
        return True

    def distinct_values(self) -> tuple[object, ...]:
        """The present values in order of first appearance (a categorical facet's groups)."""
        if self.reached_cap or not self.ordered:
            raise ValueError("the distinct values were not listed in order: summarise with listing=True, without a cap")
        return tuple(self.first_seen)

    def some_values(self) -> str:
        """``bias_groups.some_values`` of the whole column."""
        if not self.present:
            return "no values, all missing"
        shown = [text for _, _, text in self.first_shown[:SHOWN_VALUES]]
        return ", ".join(shown) + (", ..." if len(self.first_shown) > SHOWN_VALUES else "")

    @property
    def all_missing(self) -> bool:
        return not self.present

    @property
    def keys_are_numbers(self) -> bool:
        """``bias_groups.keys_are_numbers`` of the whole column."""
        if self.dtype_kind != "O":
            return True
        if self.words is None:
            raise ValueError("the column's words were not looked at: summarise with keys=True")
        return not self.words


def _either(first: bool | None, second: bool | None) -> bool | None:
    if first or second:
        return True
    return None if first is None or second is None else False


def _larger(first: float | None, second: float | None) -> float | None:
    if first is None:
        return second
    if second is None:
        return first
    return second if second > first else first


def summarize(values: np.ndarray, *, part: int = 0, cap: int | None = None, listing: bool = True,
              keys: bool = True) -> ColumnSummary:
    """The summary of ``values``, the rows of part ``part`` (parts are ordered by their index) of one typed column.

    ``cap``: stop keeping distinct values once there are this many (see the module's docstring); None keeps all.
    ``listing``: keep every distinct value with its first position (a facet without values, whose groups are its
    values); else they are kept, unordered, only where the 5 % rule may need them (whole numbers). ``keys``: look for
    words among numbers in an object column (the group variable's ``keys_are_numbers``).
    """
    kind = values.dtype.kind
    missing = is_missing(values)
    some_missing = bool(missing.any())
    present = values[~missing] if some_missing else values
    positions = np.flatnonzero(~missing) if some_missing else None  # None: each value's own index
    rows, present_rows = int(values.size), int(present.size)
    all_integer_texts, words = True, None if kind == "O" else False
    fractional = False
    if kind == "f" and present_rows:
        fractional = not bool(np.all(np.isfinite(present) & (present == np.round(present))))
    if kind == "O" and rows and not some_missing:
        all_integer_texts = re.match(_INTEGER_TEXT, str(values[0])) is not None  # a word first: no need to look on
        if all_integer_texts:
            texts = pa.array(values, type=pa.string(), from_pandas=True)
            all_integer_texts = pc.all(pc.match_substring_regex(texts, _INTEGER_TEXT)).as_py() is not False
    whole = kind in "iu" or (kind == "f" and not fractional) or (kind == "O" and not some_missing
                                                                  and all_integer_texts)
    numbers, zero_one, maximum = 0, True, None
    if kind in "iub":
        # numeric_view reads integers as themselves, booleans as no number; as_numbers both as numbers.
        numbers = rows if kind != "b" else 0
        if rows:
            lowest, highest = values.min(), values.max()
            zero_one = kind == "b" or bool(lowest >= 0 and highest <= 1)
            maximum = float(highest)
    elif kind == "f" or whole:
        viewed = numeric_view(present)
        viewed = viewed[~np.isnan(viewed)]
        numbers = int(viewed.size)
        zero_one = bool(np.all((viewed == 0) | (viewed == 1)))
        maximum = float(viewed.max()) if viewed.size else None
        if kind == "O":
            words = numbers < present_rows
    elif kind == "O" and keys:
        words = bool(np.any(np.isnan(numeric_view(present))))
    elif kind not in "O":
        words = present_rows > 0  # no number at all (the typed columns are never of another kind)
    # A float part with a fraction makes the column continuous: it has no values to list, no rule to apply.
    listing = listing and not fractional
    kept = listing or (whole and kind != "b")
    seen: dict[object, tuple[int, int]] = {}
    reached = False
    if kept:
        seen = (_first_seen(present, positions, part) if listing
                else _distinct(present, part, cap, zero_one=kind in "iu" and zero_one))
        reached = cap is not None and len(seen) >= cap
        if reached:
            seen = {}
    return ColumnSummary(
        dtype_kind=kind, rows=rows, present=present_rows, fractional=fractional,
        all_integer_texts=all_integer_texts, numbers=numbers, zero_one=zero_one, words=words,
        maximum=None if maximum is None else maximum + 0.0,  # -0.0 is 0.0
        cap=cap, reached_cap=reached, kept=kept, ordered=listing, first_seen=seen,
        first_shown=_first_shown(present, positions, part),
    )


def _distinct(present: np.ndarray, part: int, cap: int | None, *, zero_one: bool) -> dict[object, tuple[int, int]]:
    """The distinct present values, unordered (each at position 0); at the cap, ``cap`` of them."""
    if zero_one:
        distinct = [value for value in (0, 1) if np.any(present == value)]
    elif present.dtype.kind == "O":
        distinct = list(dict.fromkeys(present.tolist()))
    else:
        distinct = sorted_distinct(present).tolist()
    return dict.fromkeys(distinct[:cap] if cap is not None else distinct, (part, 0))


# Up to this many distinct texts, each one's first position is found by a scan (``list.index``).
_SCANNED = 64


def _first_seen(present: np.ndarray, positions: np.ndarray | None, part: int) -> dict[object, tuple[int, int]]:
    """Each distinct present value, as it first appears (``dict.fromkeys`` keeps that key), with where."""
    if present.dtype.kind == "O":
        listed = present.tolist()
        distinct = dict.fromkeys(listed)
        if len(distinct) <= _SCANNED:
            indices = [listed.index(value) for value in distinct]
        else:
            size = len(listed)
            first = dict(zip(reversed(listed), range(size - 1, -1, -1), strict=True))  # the first position wins
            indices = sorted(first.values())
    else:
        _, found = np.unique(present, return_index=True)
        indices = np.sort(found).tolist()
        listed = present
    return {_python(listed[i]): (part, i if positions is None else int(positions[i])) for i in indices}


def _python(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _first_shown(present: np.ndarray, positions: np.ndarray | None, part: int) -> tuple[tuple[tuple[int, int], object, str], ...]:
    """The first distinct present values as ``some_values`` tells them apart (object columns by their text, numbers
    by value), each with where it first appears."""
    chosen: list[int] = []
    keys: list[object] = []
    if present.dtype.kind == "O":
        size = 64
        while True:  # a prefix of the texts that grows until it holds enough of them, or is the whole part
            texts = [str(value) for value in present[:size].tolist()]
            distinct = list(dict.fromkeys(texts))[:_KEPT_FIRST]
            if len(distinct) >= _KEPT_FIRST or size >= present.size:
                break
            size *= 4
        chosen, keys = [texts.index(text) for text in distinct], list(distinct)
    else:
        left = np.ones(present.size, dtype=bool)  # rows of none of the values found so far
        while left.size and len(chosen) < _KEPT_FIRST:
            index = int(np.argmax(left))
            if not left[index]:
                break
            chosen.append(index)
            keys.append(_python(present[index]))
            left &= present != present[index]
    return tuple(((part, i if positions is None else int(positions[i])), key, value_text(present[i]))
                 for i, key in zip(chosen, keys, strict=True))


def present_count(values: np.ndarray) -> int:
    """The first, cheap pass of a two-pass plan: the present values of a part, summed over the parts and
    given to ``distinct_needed`` for the cap of the second pass (``summarize``)."""
    return int(values.size - np.count_nonzero(is_missing(values)))


# The groups ``bias_groups`` selects from whole columns, selected from their summaries.

def _threshold_group(summary: ColumnSummary, given: tuple[object, ...] | list[object], column: str) -> tuple[str, Selection]:
    """``bias_groups.continuous_groups``: values above the threshold, up to the column's maximum."""
    threshold = threshold_of(given, column)
    _numbers_only(summary, column)
    integer_breaks = summary.dtype_kind in "iu" and isinstance(given[0], int) and not isinstance(given[0], bool)
    intervals, name = interval_breaks(summary.maximum, [threshold], integer_breaks=integer_breaks)
    return name, Selection(intervals=tuple(intervals))


def _numbers_only(summary: ColumnSummary, column: str) -> None:
    if summary.words:
        raise AnalyzerInputError(f"column {column!r} is used with a threshold but holds non-numeric values")


def facet_selections(
    summary: ColumnSummary, given: tuple[object, ...] | list[object] | None, column: str, *,
    known: ColumnKind | None = None,
) -> tuple[tuple[str, Selection], ...]:
    """``bias_groups.facet_groups`` of the whole column: each group's name and selection."""
    if summary.kind(given, known=known) is ColumnKind.CONTINUOUS:
        if not given:
            raise AnalyzerInputError(
                f"facet {column!r} is continuous: give it a value_or_threshold (one number, the exclusive "
                "lower bound of the sensitive group)"
            )
        return (_threshold_group(summary, given, column),)
    if given:
        return ((",".join(value_text(v) for v in given), Selection(values=tuple(given))),)
    return tuple((value_text(v), Selection(value=v)) for v in summary.distinct_values())


def label_selection(
    summary: ColumnSummary, given: tuple[object, ...] | list[object], column: str, *, known: ColumnKind | None = None,
) -> tuple[str, Selection]:
    """``bias_groups.positive_labels`` of the whole column: the positive labels' name and selection."""
    if not given:
        raise AnalyzerInputError(
            "label_values_or_threshold is empty: list the positive label values, or one threshold for a numeric label"
        )
    if summary.kind(given, known=known) is ColumnKind.CONTINUOUS:
        return _threshold_group(summary, given, column)
    return ",".join(value_text(v) for v in given), Selection(values=tuple(given))


def predicted_selection(
    predicted: ColumnSummary, labels: ColumnSummary, given: tuple[object, ...] | list[object], column: str, *,
    known: ColumnKind | None = None,
) -> Selection:
    """``bias_groups.prediction_selection`` of the whole columns: for a continuous label, the threshold up to the
    maximum over labels and predicted labels."""
    label_kind = labels.kind(given, known=known)
    require_label_kind(predicted.kind(given, known=known), label_kind, column)
    if label_kind is ColumnKind.CONTINUOUS:
        threshold = threshold_of(given, column)
        _numbers_only(labels, column)
        _numbers_only(predicted, column)
        intervals, _ = interval_breaks(_larger(labels.maximum, predicted.maximum), [threshold], integer_breaks=False)
        return Selection(intervals=tuple(intervals))
    return Selection(values=tuple(given))
