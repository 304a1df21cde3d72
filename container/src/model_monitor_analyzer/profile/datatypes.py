"""The data type of each value, decided on its text as SageMaker's analyzer (Deequ) does, with
one deliberate departure: numbers in exponent notation are numbers.

Deequ's ``StatefulDataType`` matches every non-null value (as a string) against, in order:

* Fractional: ``^(-|\\+)? ?\\d*\\.\\d*$``
* Integral:   ``^(-|\\+)? ?\\d*$``
* Boolean:    ``^(true|false)$``
* anything else is String.

Here Fractional also takes standard exponent notation (``1e-05``, ``3.2E+10``, ``+.5e3``): pandas'
``DataFrame.to_csv`` and Python's ``str(float)`` write small and large floats that way, and Deequ
would turn a whole float column into a String column for one such value. Digits are ASCII only
(``[0-9]``, as Java's ``\\d``; Python's ``\\d`` also matches other scripts' digits).

The column's type is then (``DataTypeHistogram.determineType``): Unknown if every value is
null; String if any value is a String, or Booleans are mixed with numbers; Boolean if only
Booleans; Fractional if any Fractional; else Integral. SageMaker only knows Integral,
Fractional, String and Unknown, so a Boolean column is reported as String.

``classify`` does this for a whole Arrow array at once: a fast path for text that Arrow casts
to finite float64 values (such text necessarily matches the numeric patterns), otherwise a
classification of the distinct values with Arrow's regular expressions (RE2, whose ``[0-9]`` is
ASCII).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.io.arrow_texts import int64_array
from model_monitor_analyzer.profile.categories import CategoryBatch

_EXPONENT = r"[eE][+-]?[0-9]+"
FRACTIONAL_PATTERN = rf"^[+-]? ?(?:[0-9]*\.[0-9]*|(?:[0-9]+\.?[0-9]*|\.[0-9]+){_EXPONENT})$"
INTEGRAL_PATTERN = r"^[+-]? ?[0-9]*$"
BOOLEAN_PATTERN = r"^(?:true|false)$"
# An infinity (pandas and Python write ``inf`` / ``-inf``, Java ``Infinity``) is a Fractional value
# without a finite number, in text as in a float column: present, outside the numeric statistics (as
# 1e309 is), so that one overflowing value never turns a numeric column into a String one.
INFINITY_PATTERN = r"^[+-]?(?i:inf|infinity)$"
# Python's ``$`` also matches before a final line break; RE2's (used on arrays) does not.
_FRACTIONAL = re.compile(FRACTIONAL_PATTERN.replace("$", r"\Z"))
_INTEGRAL = re.compile(INTEGRAL_PATTERN.replace("$", r"\Z"))
_BOOLEAN = re.compile(BOOLEAN_PATTERN.replace("$", r"\Z"))
_INFINITY = re.compile(INFINITY_PATTERN.replace("$", r"\Z"))

_UPPER_E = ord("E")


class InferredType(enum.Enum):
    """The ``inferred_type`` values of statistics.json and constraints.json."""

    INTEGRAL = "Integral"
    FRACTIONAL = "Fractional"
    STRING = "String"
    UNKNOWN = "Unknown"


class ValueKind(enum.IntEnum):
    """Deequ's per-value classes (Boolean is kept apart to apply Deequ's mixing rule)."""

    FRACTIONAL = 0
    INTEGRAL = 1
    BOOLEAN = 2
    STRING = 3


def kind_of_text(text: str) -> ValueKind:
    """Deequ's class of one non-null value given as text."""
    if _FRACTIONAL.match(text) or _INFINITY.match(text):
        return ValueKind.FRACTIONAL
    if _INTEGRAL.match(text):
        return ValueKind.INTEGRAL
    if _BOOLEAN.match(text):
        return ValueKind.BOOLEAN
    return ValueKind.STRING


def number_of_text(text: str) -> float:
    """Numeric value of a text that matched a numeric pattern (``"- 5"`` -> -5.0, ``"."`` -> NaN)."""
    try:
        return float(text.replace(" ", ""))
    except ValueError:
        return float("nan")


def decide_type(*, nulls: int, fractional: int, integral: int, boolean: int, string: int) -> InferredType:
    """Column type from per-class counts (Deequ ``determineType``; Boolean reported as String)."""
    if fractional + integral + boolean + string == 0:
        return InferredType.UNKNOWN
    if string > 0 or (boolean > 0 and (integral > 0 or fractional > 0)) or boolean > 0:
        return InferredType.STRING
    if fractional > 0:
        return InferredType.FRACTIONAL
    return InferredType.INTEGRAL


@dataclass(frozen=True, kw_only=True)
class ClassifiedValues:
    """One batch of one column, classified.

    ``kind_counts`` is indexed by ``ValueKind``. ``numbers`` holds the numeric values of the
    numeric-looking entries in arrival order (NaN-free). ``categories`` (each distinct value and its count) is
    filled only when the batch was classified value by value (``detailed``).
    """

    nulls: int
    kind_counts: tuple[int, int, int, int]
    numbers: np.ndarray
    categories: CategoryBatch | None


def numpy_values(array: pa.Array) -> np.ndarray:
    """The values of a null-free, fixed-width Arrow array as a read-only numpy view.

    Unlike ``Array.to_numpy``, this never makes pyarrow import pandas (a quarter of a second
    per process where pandas is installed)."""
    kind = array.type
    if pa.types.is_floating(kind):
        dtype = np.dtype(f"float{kind.bit_width}")
    elif pa.types.is_integer(kind):
        dtype = np.dtype(f"{'' if pa.types.is_signed_integer(kind) else 'u'}int{kind.bit_width}")
    else:
        raise TypeError(f"no numpy view of Arrow {kind}")
    if len(array) == 0:
        return np.empty(0, dtype=dtype)
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def float64_values(array: pa.Array) -> np.ndarray:
    """A null-free numeric (or numeric text) Arrow array as float64 numpy values; Arrow's
    ``ArrowInvalid`` when a text is not a number."""
    if array.type == pa.float64():
        return numpy_values(array)
    # a 64-bit integer beyond 2^53 (up to 2^64 - 1) has no exact float64: the nearest one will do
    lossy = pa.types.is_integer(array.type) or pa.types.is_decimal(array.type) or pa.types.is_floating(array.type)
    return numpy_values(pc.cast(array, pa.float64(), safe=not lossy))


def _string_bytes(array: pa.Array) -> np.ndarray:
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array) + 1, offset=array.offset * 4)
    data = array.buffers()[2]
    if data is None:
        return np.empty(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


def classify(array: pa.Array, *, detailed: bool = False) -> ClassifiedValues:
    """Classify an Arrow array of any scalar type the way Deequ classifies its text.

    ``detailed`` forces the per-distinct-value path, which also counts categories.
    """
    nulls = array.null_count
    if pa.types.is_floating(array.type):
        # NaN is missing (pandas writes a missing value so); an infinity is a present Fractional
        # value outside the numeric statistics (INFINITY_PATTERN says why; as text, "inf" or "-inf").
        nan = pc.fill_null(pc.is_nan(array), False)
        if pc.any(nan).as_py():
            nulls += int(pc.sum(nan).as_py() or 0)
            array = pc.filter(array, pc.invert(nan))
        infinite = pc.fill_null(pc.is_inf(array), False)
        if not detailed and pc.any(infinite).as_py():
            finite = pc.filter(array, pc.invert(infinite)).drop_null()
            return ClassifiedValues(nulls=nulls, kind_counts=(len(finite) + int(pc.sum(infinite).as_py()), 0, 0, 0),
                                    numbers=float64_values(finite), categories=None)
    valid = array.drop_null() if array.null_count else array
    n = len(valid)
    if pa.types.is_integer(valid.type) and not detailed:
        return ClassifiedValues(nulls=nulls, kind_counts=(0, n, 0, 0), numbers=float64_values(valid), categories=None)
    if pa.types.is_floating(valid.type) and not detailed:
        return ClassifiedValues(nulls=nulls, kind_counts=(n, 0, 0, 0), numbers=float64_values(valid), categories=None)
    if pa.types.is_boolean(valid.type):
        valid = pc.if_else(valid, "true", "false")
    elif pa.types.is_floating(valid.type) or pa.types.is_integer(valid.type) or pa.types.is_decimal(valid.type) or not pa.types.is_string(valid.type):
        valid = pc.cast(valid, pa.string())
    if not detailed and n:
        fast = _classify_numeric_text(valid)
        if fast is not None:
            fractional, numbers = fast
            return ClassifiedValues(
                nulls=nulls, kind_counts=(fractional, n - fractional, 0, 0), numbers=numbers, categories=None
            )
    return _classify_by_distinct_value(valid, nulls)


def _classify_numeric_text(valid: pa.Array) -> tuple[int, np.ndarray] | None:
    """(fractional count, numbers) when Arrow reads every text as a finite number, None otherwise.

    Such text matches the Fractional or Integral pattern: Arrow's parser takes one sign at most,
    at the start, no blanks, ASCII digits, one ``.`` at most and an exponent with digits, and the
    only other words it takes (``inf``, ``nan``) are not finite. The Fractional values are those
    with a ``.`` or an exponent mark."""
    try:
        numbers = float64_values(valid)
    except pa.ArrowInvalid:
        return None
    finite = np.isfinite(numbers)
    if not finite.all() and (np.isnan(numbers).any() or not _all_infinity_texts(valid, ~finite)):
        return None  # NaN text, or an infinity Arrow reads but the patterns do not (e.g. "INFINITE")
    marked = _holds_fraction_mark(valid) | ~finite
    return int(np.count_nonzero(marked)), numbers if finite.all() else numbers[finite]


def _holds_fraction_mark(valid: pa.Array) -> np.ndarray:
    """Whether each text of a null-free string array holds a ``.`` or an exponent mark. Exponent marks are looked for
    only in the texts without a ``.`` (most floats as written have one), and only when some byte could be one."""
    marked = numpy_values(pc.find_substring(valid, ".")) >= 0
    if marked.all() or _string_bytes(valid).max(initial=0) < _UPPER_E:
        return marked
    rest = np.flatnonzero(~marked)
    texts = valid.take(int64_array(rest))
    marked[rest] = (numpy_values(pc.find_substring(texts, "e")) >= 0) | (numpy_values(pc.find_substring(texts, "E")) >= 0)
    return marked


def _all_infinity_texts(valid: pa.Array, infinite: np.ndarray) -> bool:
    positions = np.flatnonzero(infinite).astype(np.int64)
    taken = valid.take(int64_array(positions))
    return bool(pc.all(pc.match_substring_regex(taken, INFINITY_PATTERN)).as_py())



def _kinds_of_texts(texts: pa.Array) -> np.ndarray:
    """``ValueKind`` of each text of a string array, by the patterns above (Arrow's RE2)."""
    kinds = np.full(len(texts), ValueKind.STRING, dtype=np.int8)
    # Assigned in reverse order of precedence, so that the first matching pattern wins.
    for kind, pattern in (
        (ValueKind.BOOLEAN, BOOLEAN_PATTERN),
        (ValueKind.INTEGRAL, INTEGRAL_PATTERN),
        (ValueKind.FRACTIONAL, FRACTIONAL_PATTERN),
        (ValueKind.FRACTIONAL, INFINITY_PATTERN),
    ):
        # indices_nonzero passes over nulls (the texts hold none: they are a dictionary of values)
        kinds[numpy_values(pc.indices_nonzero(pc.match_substring_regex(texts, pattern)))] = kind
    return kinds


def _numbers_of_texts(texts: pa.Array) -> np.ndarray:
    """float64 value of each numeric text (``"- 5"`` -> -5.0; ``"."``, ``"+"``, ``""`` -> NaN)."""
    compact = pc.replace_substring(texts, " ", "")
    try:
        return float64_values(pc.cast(compact, pa.float64()))
    except pa.ArrowInvalid:  # a bare sign or dot: matches a pattern, has no value
        return np.array([number_of_text(t) for t in compact.to_pylist()], dtype=np.float64)


def _classify_by_distinct_value(valid: pa.Array, nulls: int) -> ClassifiedValues:
    if len(valid) == 0:
        return ClassifiedValues(nulls=nulls, kind_counts=(0, 0, 0, 0), numbers=np.empty(0),
                                categories=CategoryBatch.of({}))
    encoded = pc.dictionary_encode(valid)
    dictionary = encoded.dictionary
    indices = numpy_values(encoded.indices)
    counts = np.bincount(indices, minlength=len(dictionary))
    kinds = _kinds_of_texts(dictionary)
    kind_counts = tuple(int(counts[kinds == kind].sum()) for kind in ValueKind)
    numeric = (kinds == ValueKind.FRACTIONAL) | (kinds == ValueKind.INTEGRAL)
    if numeric.any():
        values = np.full(len(dictionary), np.nan)
        positions = np.flatnonzero(numeric).astype(np.int64)
        taken = int64_array(positions)
        values[positions] = _numbers_of_texts(dictionary.take(taken))
        numbers = values[indices]
        # a text beyond float64 (1e309) is a Fractional value without a finite number: it counts
        # as present, as a bare sign does, and stays out of the numeric statistics
        numbers = numbers[np.isfinite(numbers)]
    else:
        numbers = np.empty(0)
    categories = _category_counts(dictionary, counts)
    return ClassifiedValues(nulls=nulls, kind_counts=kind_counts, numbers=numbers, categories=categories)


MAX_CATEGORY_CHARS = 200  # a value longer than this is kept as its start and its length
_KEPT_CATEGORY = re.compile(rf"^.{{{MAX_CATEGORY_CHARS}}}\u2026 \([0-9,]+ characters\)\Z", re.S)


def category_name(text: str) -> str:
    """A category as the outputs show it: a value of more than ``MAX_CATEGORY_CHARS`` characters
    becomes its start and its length, so that one huge captured value cannot make statistics.json,
    the violations and report.html megabytes long (the same rule on both sides keeps the baseline's and
    the window's categories comparable)."""
    if len(text) <= MAX_CATEGORY_CHARS or _KEPT_CATEGORY.match(text):  # already kept so: as it is
        return text
    return f"{text[:MAX_CATEGORY_CHARS]}\u2026 ({len(text):,} characters)"


def _category_counts(dictionary: pa.Array, counts: np.ndarray) -> CategoryBatch:
    """The batch of a dictionary of distinct values and their counts, each value as the outputs name it."""
    if pc.max(pc.utf8_length(dictionary)).as_py() <= MAX_CATEGORY_CHARS:
        return CategoryBatch(dictionary, counts.astype(np.int64, copy=False))
    merged: dict[str, int] = {}
    for text, count in zip(dictionary.to_pylist(), counts.tolist(), strict=True):
        name = category_name(text)
        merged[name] = merged.get(name, 0) + count
    return CategoryBatch.of(merged)
