"""Turn a facet or label column into Clarify's boolean groups, and name them as Clarify does.

Each column is read as categorical or continuous (``column_kind``), then the sensitive facet
group or the positive labels are selected:

* categorical: rows equal to one of the given values (one group per distinct value when the
  facet has no ``value_or_threshold``);
* continuous: rows inside the intervals whose breaks are the thresholds plus the column's
  maximum, i.e. with one threshold t: t < x <= max. The group's name is the interval as
  Clarify prints it, e.g. ``(40, 75]``.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import AnalyzerInputError

# Clarify treats an integer column as continuous when at least this share of its values is distinct.
UNIQUENESS_THRESHOLD = 0.05


class ColumnKind(enum.Enum):
    """How Clarify groups a column's values."""

    CATEGORICAL = "categorical"
    CONTINUOUS = "continuous"


@dataclass(frozen=True, kw_only=True)
class Selection:
    """How a group's rows are chosen from its column, decided once for the whole data so that any
    part of the rows is selected alike: values equal to one of ``values`` (numbers as numbers, see
    ``rows_with_values``), values equal to ``value`` as they are (one facet group per distinct
    value), or numbers inside ``intervals`` (``(lo, hi]``)."""

    values: tuple[object, ...] | None = None
    value: object = None
    intervals: tuple[tuple[float, float], ...] | None = None

    def rows(self, column: np.ndarray, name: str) -> np.ndarray:
        """The rows of ``column`` (the column called ``name``) this selection chooses."""
        if self.intervals is not None:
            return rows_in_intervals(as_numbers(column, name), self.intervals)
        if self.values is not None:
            return rows_with_values(column, self.values)
        return np.asarray(column == self.value, dtype=bool)


@dataclass(frozen=True, kw_only=True)
class Group:
    """Rows selected by a facet value / threshold or by the positive label values, and how."""

    name: str
    rows: np.ndarray
    selection: Selection


def is_missing(values: np.ndarray) -> np.ndarray:
    """True where a value is missing: NaN in float columns, None or NaN in object columns."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        # pd.isna's rule, vectorised: None fails ``x == x`` as NaN does only through this test.
        return np.equal(values, None) | (values != values)
    return np.zeros(values.size, dtype=bool)


_NUMBER_PATTERN = r"^\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$"


def numeric_view(values: np.ndarray) -> np.ndarray:
    """The column as float64: numbers as themselves, texts that are numbers (``2.0``, ``1e0``)
    as their value, anything else (other text, missing) as NaN."""
    if values.dtype.kind in "iuf":
        return values.astype(np.float64)
    if values.dtype.kind != "O":
        return np.full(values.size, np.nan)
    texts = pa.array(values, type=pa.string(), from_pandas=True)
    numbers = pc.if_else(pc.match_substring_regex(texts, _NUMBER_PATTERN), pc.utf8_trim_whitespace(texts), None)
    return pc.cast(numbers, pa.float64()).to_numpy(zero_copy_only=False)


def _all_integers(values: np.ndarray) -> bool:
    """Every value is an integer (also when written as text), as pandas' ``astype(int64)`` accepts."""
    texts = pa.array(values, type=pa.string(), from_pandas=True)
    return bool(pc.all(pc.match_substring_regex(texts, r"^\s*[+-]?[0-9]+\s*$")).as_py())


def _integral(values: np.ndarray) -> bool:
    """A float column whose values are all whole numbers (missing ones aside): integers written as
    ``2.0``, or an integer column that pandas turned to floats for a missing value."""
    present = values[~np.isnan(values)]
    return bool(present.size) and bool(np.all(np.isfinite(present) & (present == np.round(present))))


def _only_zeros_and_ones(values: np.ndarray) -> bool:
    """Every present value is 0 or 1 (also written ``1.0`` or as text): a flag, whatever the row count."""
    numbers = numeric_view(values)
    present = numbers[~np.isnan(numbers)]
    return bool(present.size) and bool(np.all((present == 0) | (present == 1)))


def column_kind(
    values: np.ndarray, given: Sequence[object] | None, *, known: ColumnKind | None = None
) -> ColumnKind:
    """Whether a facet or label column is categorical or continuous, decided by its values and the
    config, never by how many rows the data has:

    * categorical if several values are given, or if the column holds text or booleans;
    * continuous if it holds numbers with a fraction;
    * whole numbers (``2``, ``2.0``, ``"2"``): ``known`` when given (a monitoring window reads a
      column as its baseline did); else categorical when they are only 0 and 1; else Clarify's rule,
      continuous when 5 % or more of them are distinct.

    Clarify applies its 5 % rule to every integer column, so a 0/1 label of 40 rows or fewer would
    be a threshold there (``[1]`` then selects nothing); at more rows it is categorical as here.
    Whole numbers written as floats count as integers: the way a number is written must not decide
    whether ``value_or_threshold`` [2] is a value or a threshold.
    """
    if given is not None and len(given) > 1:
        return ColumnKind.CATEGORICAL
    if values.dtype.kind == "f" and not _integral(values):
        return ColumnKind.CONTINUOUS
    whole_numbers = values.dtype.kind in "iuf" or (
        values.dtype.kind == "O" and not is_missing(values).any() and _all_integers(values)
    )
    if not whole_numbers:
        return ColumnKind.CATEGORICAL
    if known is not None:
        return known
    if _only_zeros_and_ones(values):
        return ColumnKind.CATEGORICAL
    return ColumnKind.CONTINUOUS if _distinct_share(values) >= UNIQUENESS_THRESHOLD else ColumnKind.CATEGORICAL


def _distinct_share(values: np.ndarray) -> float:
    """Distinct present values over present values (Clarify's ``nunique() / count()``)."""
    present = values[~is_missing(values)]
    if not present.size:
        return 0.0
    distinct = len(set(present.tolist())) if present.dtype.kind == "O" else np.unique(present).size
    return distinct / present.size


def as_numbers(values: np.ndarray, column: str) -> np.ndarray:
    """The column as float64 (missing -> NaN), for thresholds on a continuous column."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    numbers = numeric_view(values)
    if np.any(np.isnan(numbers) & ~is_missing(values)):
        raise AnalyzerInputError(f"column {column!r} is used with a threshold but holds non-numeric values")
    return numbers


def value_text(value: object) -> str:
    """A value as Clarify prints it (Python ``str``: 1, 1.0, True, text as is)."""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _number(value: object) -> float | None:
    """``value`` as a number when it is one (an int, a float or a text such as ``2.0``), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.number):
        return float(value)
    if isinstance(value, str) and re.match(_NUMBER_PATTERN, value):
        return float(value)
    return None


def _equal_rows(values: np.ndarray, wanted: object, numbers: np.ndarray | None = None) -> np.ndarray:
    """Rows equal to ``wanted``: as numbers when both the cell and ``wanted`` are numbers (``2``
    matches ``2.0`` and ``1e0`` matches ``1``), else texts as texts; booleans match booleans."""
    if values.dtype.kind == "b":
        if isinstance(wanted, bool | np.bool_ | int | float | np.number):
            return values == wanted
        return np.zeros(values.size, dtype=bool)
    number = _number(wanted)
    if values.dtype.kind in "iuf":
        return values == number if number is not None else np.zeros(values.size, dtype=bool)
    rows = values == (wanted if isinstance(wanted, str) else value_text(wanted))
    if number is not None:
        rows |= (numeric_view(values) if numbers is None else numbers) == number
    return np.asarray(rows, dtype=bool)


def rows_with_values(values: np.ndarray, wanted: Sequence[object]) -> np.ndarray:
    """Rows whose value equals one of ``wanted`` (numbers compare as numbers, see ``_equal_rows``)."""
    numbers = numeric_view(values) if values.dtype.kind == "O" else None
    rows = np.zeros(values.size, dtype=bool)
    for value in wanted:
        rows |= _equal_rows(values, value, numbers)
    return rows


def keys_are_numbers(values: np.ndarray) -> bool:
    """Whether the group variable's subgroups are keyed by number: a column of numbers or
    booleans, or of texts that are all numbers (or missing). Decided on the whole column, so
    that every part of it is keyed alike (``subgroup_keys``)."""
    if values.dtype.kind != "O":
        return True
    return not bool(np.any(np.isnan(numeric_view(values)) & ~is_missing(values)))


def subgroup_keys(values: np.ndarray, *, numbers: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The group variable as sortable keys, and where a row has none (missing).

    Numbers, booleans and texts are their own keys; a text column whose values are all numbers (or
    missing) is read as numbers, so ``2`` and ``2.0`` are one subgroup; in a column of words and
    numbers a number's key is its float text (``2.0``), a word's the word behind ``text:``.
    ``numbers``: ``keys_are_numbers`` of the whole column when ``values`` are a part of it
    (default: decided on ``values``).
    """
    if values.dtype.kind != "O":
        missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.size, dtype=bool)
        return values, missing
    missing = is_missing(values)
    as_numbers = numeric_view(values)
    words = np.isnan(as_numbers) & ~missing
    if numbers if numbers is not None else not words.any():
        return as_numbers, missing
    keys = np.where(words, np.char.add("text:", values.astype(str)), as_numbers.astype(str)).astype(object)
    return keys, missing


def some_values(values: np.ndarray, limit: int = 5) -> str:
    """A few distinct values of the column (first seen first) for an error message: ``0, 1, 3, ...``."""
    present = values[~is_missing(values)]
    if not present.size:
        return "no values, all missing"
    _, first = np.unique(present.astype(str) if present.dtype.kind == "O" else present, return_index=True)
    shown = [value_text(present[i]) for i in np.sort(first)[:limit]]
    return ", ".join(shown) + (", ..." if first.size > limit else "")


def _number_text(value: float, as_integer: bool) -> str:
    if as_integer:
        return str(int(value))
    return repr(float(value))


def threshold_intervals(
    numbers: np.ndarray, thresholds: Sequence[float], *, integer_breaks: bool
) -> tuple[list[tuple[float, float]], str]:
    """Clarify's intervals (lo, hi] from the sorted breaks ``thresholds + [max]`` and their printed names.

    The column maximum is added unless it already is a threshold, so one threshold t gives the
    single interval (t, max]. ``integer_breaks`` prints the breaks as integers (an integer
    column with integer thresholds), else as floats: ``(40, 75]`` vs ``(40.0, 75.0]``.

    When no value lies above the top threshold (a small window can miss the group entirely) the
    group is the empty interval (t, t], so that it keeps its threshold and is still recognised as
    the baseline's group; Clarify would name it by the maximum, or not at all.
    """
    present = numbers[~np.isnan(numbers)]
    return interval_breaks(float(present.max()) if present.size else None, thresholds, integer_breaks=integer_breaks)


def interval_breaks(
    maximum: float | None, thresholds: Sequence[float], *, integer_breaks: bool
) -> tuple[list[tuple[float, float]], str]:
    """``threshold_intervals`` of a column whose largest present value is ``maximum`` (None: no value)."""
    breaks = [float(t) for t in thresholds]
    top = max(breaks)
    if maximum is None or maximum <= top:
        return [(top, top)], f"({_number_text(top, integer_breaks)}, {_number_text(top, integer_breaks)}]"
    maximum += 0.0  # -0.0 prints as 0.0, whichever zero a part's maximum found first
    if abs(maximum) not in breaks:
        breaks.append(maximum)
    breaks.sort()
    intervals = list(itertools.pairwise(breaks))
    name = ",".join(
        f"({_number_text(lo, integer_breaks)}, {_number_text(hi, integer_breaks)}]" for lo, hi in intervals
    )
    return intervals, name


def rows_in_intervals(numbers: np.ndarray, intervals: Sequence[tuple[float, float]]) -> np.ndarray:
    """Rows with lo < x <= hi for one of the intervals (missing values are in none)."""
    rows = np.zeros(numbers.size, dtype=bool)
    for lo, hi in intervals:
        rows |= (numbers > lo) & (numbers <= hi)
    return rows


def threshold_of(given: Sequence[object], column: str) -> float:
    try:
        return float(given[0])  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise AnalyzerInputError(
            f"column {column!r} is continuous, so its value_or_threshold must be a single number, got {given[0]!r}"
        ) from exc


def continuous_groups(values: np.ndarray, given: Sequence[object], column: str) -> Group:
    """The one group of a continuous column: values above the threshold, up to the maximum."""
    threshold = threshold_of(given, column)
    numbers = as_numbers(values, column)
    integer_breaks = (
        values.dtype.kind in "iu" and isinstance(given[0], int) and not isinstance(given[0], bool)
    )
    intervals, name = threshold_intervals(numbers, [threshold], integer_breaks=integer_breaks)
    return Group(name=name, rows=rows_in_intervals(numbers, intervals), selection=Selection(intervals=tuple(intervals)))


def facet_groups(
    values: np.ndarray, given: Sequence[object] | None, column: str, *, known: ColumnKind | None = None
) -> tuple[Group, ...]:
    """The sensitive groups of a facet column, one per analysis.json entry under the facet.

    Without ``given`` values a categorical facet yields one group per distinct value, in order of
    first appearance (missing values are skipped); a continuous facet needs a threshold.
    ``known``: the column's kind when a baseline decided it (see ``column_kind``).
    """
    kind = column_kind(values, given, known=known)
    if kind is ColumnKind.CONTINUOUS:
        if not given:
            raise AnalyzerInputError(
                f"facet {column!r} is continuous: give it a value_or_threshold (one number, the exclusive "
                "lower bound of the sensitive group)"
            )
        return (continuous_groups(values, given, column),)
    if given:
        return (Group(name=",".join(value_text(v) for v in given), rows=rows_with_values(values, given),
                      selection=Selection(values=tuple(given))),)
    present = values[~is_missing(values)]
    distinct = dict.fromkeys(present.tolist())
    return tuple(Group(name=value_text(v), rows=np.asarray(values == v, dtype=bool), selection=Selection(value=v))
                 for v in distinct)


def positive_labels(
    values: np.ndarray, given: Sequence[object], column: str, *, known: ColumnKind | None = None
) -> Group:
    """Rows with a positive label; the group's name is analysis.json's ``label_value_or_threshold``.
    ``known``: the label's kind when a baseline decided it (see ``column_kind``)."""
    if not given:
        raise AnalyzerInputError(
            "label_values_or_threshold is empty: list the positive label values, or one threshold for a numeric label"
        )
    if column_kind(values, given, known=known) is ColumnKind.CONTINUOUS:
        return continuous_groups(values, given, column)
    return Group(name=",".join(value_text(v) for v in given), rows=rows_with_values(values, given),
                 selection=Selection(values=tuple(given)))


def positive_predictions(
    predicted: np.ndarray, labels: np.ndarray, given: Sequence[object], column: str, *,
    known: ColumnKind | None = None,
) -> np.ndarray:
    """Rows whose predicted label is positive (``prediction_selection``)."""
    return prediction_selection(predicted, labels, given, column, known=known).rows(predicted, column)


def require_label_kind(predicted_kind: ColumnKind, label_kind: ColumnKind, column: str) -> None:
    """Clarify's rule: predicted labels are of the observed labels' kind (AnalyzerInputError naming ``column``)."""
    if predicted_kind is not label_kind:
        raise AnalyzerInputError(
            f"predicted label column {column!r} is {predicted_kind.value} but the label is "
            f"{label_kind.value}: predicted labels must take the label's values (set probability_threshold "
            "to turn scores into labels)"
        )


def prediction_selection(
    predicted: np.ndarray, labels: np.ndarray, given: Sequence[object], column: str, *,
    known: ColumnKind | None = None,
) -> Selection:
    """How the rows whose predicted label is positive are selected: the way the observed labels are (possibly none).

    Clarify requires predicted and observed labels of the same kind; for a continuous label the
    threshold's upper bound is the maximum over both columns. ``known``: the label's kind when a
    baseline decided it; the predictions are read the same way.
    """
    label_kind = column_kind(labels, given, known=known)
    require_label_kind(column_kind(predicted, given, known=known), label_kind, column)
    if label_kind is ColumnKind.CONTINUOUS:
        threshold = threshold_of(given, column)
        both = np.concatenate([as_numbers(labels, column), as_numbers(predicted, column)])
        intervals, _ = threshold_intervals(both, [threshold], integer_breaks=False)
        return Selection(intervals=tuple(intervals))
    return Selection(values=tuple(given))


# One interval ``(lo, hi]`` as ``threshold_intervals`` names it.
_INTERVAL_NAME = re.compile(r"^\((?P<low>[^,\s]+), (?P<high>[^,\s]+)\]$")


def _interval_low(name: str) -> float | None:
    """The lower bound of a group named by one interval (``(40, 75]`` -> 40.0), else None."""
    found = _INTERVAL_NAME.match(name)
    if found is None:
        return None
    try:
        return float(found["low"])
    except ValueError:
        return None


def kind_of_group(name: str) -> ColumnKind:
    """How a group named in analysis.json was read: an interval is a threshold on a continuous
    column, anything else values of a categorical one."""
    return ColumnKind.CONTINUOUS if _interval_low(name) is not None else ColumnKind.CATEGORICAL


def group_identity(name: str) -> str:
    """What makes a facet group (or the positive labels) the same group in two analyses.

    A categorical group is its values, numbers as numbers (``1`` and ``1.0`` are one value); a
    continuous one is its threshold only, because its printed upper bound is the data's maximum,
    which differs from window to window (``(40, 75]`` in the baseline, ``(40, 65]`` or
    ``(40.0, 65.0]`` in a window).
    """
    low = _interval_low(name)
    if low is not None:
        return f"above {low!r}"
    values = [_number(v) for v in name.split(",")]
    return ",".join(v if number is None else repr(number) for v, number in zip(name.split(","), values, strict=True))
