"""Turn a facet or label column into Clarify's boolean groups, and name them as Clarify does.

Clarify decides per column whether it is categorical or continuous (``column_kind``), then
selects the sensitive facet group or the positive labels:

* categorical: rows equal to one of the given values (one group per distinct value when the
  facet has no ``value_or_threshold``);
* continuous: rows inside the intervals whose breaks are the thresholds plus the column's
  maximum, i.e. with one threshold t: t < x <= max. The group's name is the interval as
  Clarify prints it, e.g. ``(40, 75]``.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import AnalyzerInputError

# Clarify treats an integer column as continuous when at least this share of its values is distinct.
UNIQUENESS_THRESHOLD = 0.05


class ColumnKind(enum.Enum):
    """How Clarify groups a column's values."""

    CATEGORICAL = "categorical"
    CONTINUOUS = "continuous"


@dataclass(frozen=True, kw_only=True)
class Group:
    """Rows selected by a facet value / threshold or by the positive label values."""

    name: str
    rows: np.ndarray


def is_missing(values: np.ndarray) -> np.ndarray:
    """True where a value is missing: NaN in float columns, None or NaN in object columns."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.fromiter(
            (v is None or (isinstance(v, float) and math.isnan(v)) for v in values),
            dtype=bool,
            count=values.size,
        )
    return np.zeros(values.size, dtype=bool)


def _all_integers(values: np.ndarray) -> bool:
    try:
        for value in values:
            int(value)
    except (TypeError, ValueError):
        return False
    return True


def column_kind(values: np.ndarray, given: Sequence[object] | None) -> ColumnKind:
    """Clarify's rule: categorical if several values are given, if the column holds text or booleans,
    or if it holds integers of which fewer than 5 % are distinct; continuous for floats and for
    integers (also integers written as text) with at least 5 % distinct values."""
    if given is not None and len(given) > 1:
        return ColumnKind.CATEGORICAL
    present = values[~is_missing(values)]
    distinct_share = len(set(present.tolist())) / present.size if present.size else 0.0
    if values.dtype.kind == "f":
        return ColumnKind.CONTINUOUS
    if values.dtype.kind in "iu":
        return ColumnKind.CONTINUOUS if distinct_share >= UNIQUENESS_THRESHOLD else ColumnKind.CATEGORICAL
    if values.dtype.kind == "O" and present.size == values.size and _all_integers(values):
        return ColumnKind.CONTINUOUS if distinct_share >= UNIQUENESS_THRESHOLD else ColumnKind.CATEGORICAL
    return ColumnKind.CATEGORICAL


def as_numbers(values: np.ndarray, column: str) -> np.ndarray:
    """The column as float64 (missing -> NaN), for thresholds on a continuous column."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    try:
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalyzerInputError(
            f"column {column!r} is used with a threshold but holds non-numeric values"
        ) from exc


def value_text(value: object) -> str:
    """A value as Clarify prints it (Python ``str``: 1, 1.0, True, text as is)."""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _equal_rows(values: np.ndarray, wanted: object) -> np.ndarray:
    if values.dtype.kind in "biuf":
        if isinstance(wanted, bool | int | float | np.number | np.bool_):
            return values == wanted
        return np.zeros(values.size, dtype=bool)
    return np.fromiter((v == wanted for v in values), dtype=bool, count=values.size)


def _converted(values: np.ndarray, wanted: object) -> object:
    """``wanted`` in the column's own type (Clarify retries with it when nothing matched)."""
    if values.dtype.kind in "biuf":
        try:
            number = float(str(wanted))
        except ValueError:
            return wanted
        return int(number) if number.is_integer() and values.dtype.kind in "biu" else number
    return value_text(wanted)


def rows_with_values(values: np.ndarray, wanted: Sequence[object]) -> np.ndarray:
    """Rows whose value equals one of ``wanted``; if none does, ``wanted`` converted to the
    column's type (so ``"1"`` finds the integer 1 and ``0`` finds the text ``"0"``)."""
    rows = np.zeros(values.size, dtype=bool)
    for value in wanted:
        rows |= _equal_rows(values, value)
    if rows.any():
        return rows
    for value in wanted:
        rows |= _equal_rows(values, _converted(values, value))
    return rows


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
    """
    present = numbers[~np.isnan(numbers)]
    breaks = [float(t) for t in thresholds]
    if present.size:
        maximum = float(present.max())
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


def _threshold(given: Sequence[object], column: str) -> float:
    try:
        return float(given[0])  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise AnalyzerInputError(
            f"column {column!r} is continuous, so its value_or_threshold must be a single number, got {given[0]!r}"
        ) from exc


def continuous_groups(values: np.ndarray, given: Sequence[object], column: str) -> Group:
    """The one group of a continuous column: values above the threshold, up to the maximum."""
    threshold = _threshold(given, column)
    numbers = as_numbers(values, column)
    integer_breaks = (
        values.dtype.kind in "iu" and isinstance(given[0], int) and not isinstance(given[0], bool)
    )
    intervals, name = threshold_intervals(numbers, [threshold], integer_breaks=integer_breaks)
    return Group(name=name, rows=rows_in_intervals(numbers, intervals))


def facet_groups(values: np.ndarray, given: Sequence[object] | None, column: str) -> tuple[Group, ...]:
    """The sensitive groups of a facet column, one per analysis.json entry under the facet.

    Without ``given`` values a categorical facet yields one group per distinct value, in order of
    first appearance (missing values are skipped); a continuous facet needs a threshold.
    """
    kind = column_kind(values, given)
    if kind is ColumnKind.CONTINUOUS:
        if not given:
            raise AnalyzerInputError(
                f"facet {column!r} is continuous: give it a value_or_threshold (one number, the exclusive "
                "lower bound of the sensitive group)"
            )
        return (continuous_groups(values, given, column),)
    if given:
        return (Group(name=",".join(value_text(v) for v in given), rows=rows_with_values(values, given)),)
    present = values[~is_missing(values)]
    distinct = dict.fromkeys(present.tolist())
    return tuple(Group(name=value_text(v), rows=_equal_rows(values, v)) for v in distinct)


def positive_labels(values: np.ndarray, given: Sequence[object], column: str) -> Group:
    """Rows with a positive label; the group's name is analysis.json's ``label_value_or_threshold``."""
    if not given:
        raise AnalyzerInputError(
            "label_values_or_threshold is empty: list the positive label values, or one threshold for a numeric label"
        )
    if column_kind(values, given) is ColumnKind.CONTINUOUS:
        return continuous_groups(values, given, column)
    return Group(name=",".join(value_text(v) for v in given), rows=rows_with_values(values, given))


def positive_predictions(
    predicted: np.ndarray, labels: np.ndarray, given: Sequence[object], column: str
) -> np.ndarray:
    """Rows whose predicted label is positive, selected the way the observed labels are.

    Clarify requires predicted and observed labels of the same kind; for a continuous label the
    threshold's upper bound is the maximum over both columns.
    """
    label_kind = column_kind(labels, given)
    if column_kind(predicted, given) is not label_kind:
        raise AnalyzerInputError(
            f"predicted label column {column!r} is {column_kind(predicted, given).value} but the label is "
            f"{label_kind.value}: predicted labels must take the label's values (set probability_threshold "
            "to turn scores into labels)"
        )
    if label_kind is ColumnKind.CONTINUOUS:
        threshold = _threshold(given, column)
        both = np.concatenate([as_numbers(labels, column), as_numbers(predicted, column)])
        intervals, _ = threshold_intervals(both, [threshold], integer_breaks=False)
        rows = rows_in_intervals(as_numbers(predicted, column), intervals)
    else:
        rows = rows_with_values(predicted, given)
    if not rows.any():
        raise AnalyzerInputError(
            f"no predicted label in column {column!r} is positive ({','.join(value_text(v) for v in given)}): "
            "Clarify cannot compute post-training bias metrics without positive predictions"
        )
    return rows
