"""Values typed the way Clarify's pandas reader types them: integers, floats, booleans or text.

Clarify's choice between categorical and continuous facets depends on the column types
(integer, float, boolean or text, missing -> NaN/None), so a bias run types each column as
pandas would: cells of text (CSV fields, captured CSV values) by ``text_column`` on whole Arrow
columns, JSON values by ``typed_column``, and columns a table reader typed (JSON Lines, Parquet)
by ``arrow_typed_column``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.io.arrow_texts import valid_mask

# The texts pandas reads as missing by default (Clarify reads datasets with pandas).
MISSING_TEXTS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
DEFAULT_PREDICTED_LABEL = "predicted_label"

Columns = dict[str, np.ndarray]




@functools.cache
def _value_set(*texts: str) -> pa.Array:
    """Texts as an Arrow array, made when first needed: pyarrow imports pandas on its first ``pa.array`` (a
    quarter of a second), which a run of plain numbers then does not wait for (``_plain_numbers``)."""
    return pa.array(list(texts), pa.string())


_MISSING = tuple(sorted(MISSING_TEXTS))
_TRUE_WORDS = ("True", "TRUE", "true")
_BOOLEAN_WORDS = (*_TRUE_WORDS, "False", "FALSE", "false")
_INTEGER_PATTERN = r"^[+-]?[0-9]+$"


def text_column(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Text cells (CSV fields, captured CSV values) as one typed array, the way pandas types them.

    All integers -> int64; numbers with a missing value or a fraction -> float64 (missing = NaN);
    all booleans (``True``/``true``/``TRUE``...) and none missing -> bool; anything else ->
    object (the texts as written, missing = None). Missing: null or one of pandas' NA texts.
    """
    numbers = _plain_numbers(texts)
    return numbers if numbers is not None else _typed_texts(texts)


def _typed_texts(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``text_column`` in full: every text trimmed, pandas' missing texts, the integer pattern."""
    size = len(texts)
    stripped = pc.utf8_trim_whitespace(texts)
    missing = _missing(stripped)
    missing_count = pc.sum(missing).as_py() or 0
    if missing_count == size:
        return np.full(size, None, dtype=object)
    present = pc.if_else(missing, pa.scalar(None, pa.string()), stripped)
    if not missing_count and pc.all(pc.is_in(stripped, value_set=_value_set(*_BOOLEAN_WORDS))).as_py():
        return np.asarray(pc.is_in(stripped, value_set=_value_set(*_TRUE_WORDS)), dtype=bool)
    numbers = _numbers(present, whole_column=not missing_count)
    if numbers is not None:
        return numbers
    as_written = pc.if_else(_missing(texts), pa.scalar(None, pa.string()), texts)
    return np.asarray(as_written.to_numpy(zero_copy_only=False), dtype=object)


_INTEGER_BYTES = np.zeros(256, dtype=bool)
_INTEGER_BYTES[np.frombuffer(b"0123456789+-", dtype=np.uint8)] = True


def _only_integer_bytes(texts: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every byte of the (null-free) texts is a digit or a sign."""
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        if not len(chunk):
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
        data = chunk.buffers()[2]
        if data is None:
            continue
        if not _INTEGER_BYTES[np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]].all():
            return False
    return True


def _plain_numbers(texts: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """The common case of ``text_column`` without its text work (trimming, the missing texts, the integer
    pattern), or None to take the full path: a column of plain integers (only digits and signs, none
    missing, Arrow's integer parse) as int64; a column Arrow's float parse reads whole (empty fields
    null) with at least one number as float64. Each gives what the full path gives: the integers pass
    its integer pattern; the floats are cast by the same parse, and the only missing texts that parse
    (``nan`` spellings) are NaN either way."""
    if pa.types.is_large_string(texts.type) or not pa.types.is_string(texts.type) or not len(texts):
        return None
    if not texts.null_count and _only_integer_bytes(texts):
        try:
            return _cast_numbers(texts, np.dtype(np.int64))
        except (pa.ArrowInvalid, OverflowError):
            return None  # "+5", beyond int64: the full path decides
    try:
        values = _cast_numbers(texts, np.dtype(np.float64))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if np.isnan(values).all():
        return None  # all missing (the full path keeps texts) or all NaN: the full path decides
    return values


def _cast_numbers(texts: pa.Array | pa.ChunkedArray, dtype: np.dtype) -> np.ndarray:
    """The texts cast by Arrow to numbers of type ``dtype`` (a null as NaN), what ``pc.cast`` and ``to_numpy`` give, or
    Arrow's error; read from the numbers' buffers, since ``to_numpy`` makes pyarrow import pandas (0.4 s of CPU), which
    a column of plain numbers never needs; cast a chunk at a time, so that Arrow's memory holds one chunk's numbers,
    not the whole column's beside the array."""
    kind = pa.from_numpy_dtype(dtype)
    values = np.empty(len(texts), dtype=dtype)
    start = 0
    for chunk in texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]:
        _copy_numbers(pc.cast(chunk, kind), values[start : start + len(chunk)])
        start += len(chunk)
    return values


def _copy_numbers(chunk: pa.Array, place: np.ndarray) -> None:
    """One chunk of Arrow numbers (of ``place``'s type) into ``place``, a null as NaN."""
    size = len(chunk)
    if not size:
        return
    data = chunk.buffers()[1]
    if data is None:  # every value null
        place[:] = np.nan
    else:
        place[:] = np.frombuffer(data, dtype=place.dtype, count=size, offset=chunk.offset * place.dtype.itemsize)
    if chunk.null_count and data is not None:
        place[~valid_mask(chunk)] = np.nan


def _missing(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """True where a text is null or one of pandas' NA texts (``is_in`` alone says False for null)."""
    return pc.or_(pc.is_null(texts), pc.is_in(texts, value_set=_value_set(*_MISSING)))


def _numbers(present: pa.Array | pa.ChunkedArray, *, whole_column: bool) -> np.ndarray | None:
    """The present texts as int64 (all integers, none missing) or float64, or None when some are not numbers."""
    if pc.all(pc.match_substring_regex(present, _INTEGER_PATTERN)).as_py():
        try:
            integers = pc.cast(pc.utf8_ltrim(present, characters="+"), pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            integers = None  # beyond int64: read as floats, as pandas does
        if integers is not None:
            if whole_column:
                return integers.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
            return pc.cast(integers, pa.float64()).to_numpy(zero_copy_only=False)
    try:
        floats = pc.cast(present, pa.float64())
    except pa.ArrowInvalid:
        return None
    return floats.to_numpy(zero_copy_only=False)


def typed_column(values: Sequence[object]) -> np.ndarray:
    """Values (JSON scalars or texts) as one typed array, the way pandas would type them.

    Texts follow ``text_column``; JSON numbers and booleans keep their type: all integers ->
    int64, numbers with a missing value or a fraction -> float64, all booleans -> bool,
    anything else -> object (text, missing = None).
    """
    if all(v is None or isinstance(v, str) for v in values):
        return text_column(pa.array(values, pa.string()))
    parsed: list[object] = []
    for value in values:
        if isinstance(value, str):
            parsed.append(_parse_text(value))
        else:
            parsed.append(value)
    present = [v for v in parsed if v is not None]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(parsed):
        return np.array(parsed, dtype=bool)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if len(present) == len(parsed):
            return np.array(parsed, dtype=np.int64)
        return np.array([math.nan if v is None else v for v in parsed], dtype=np.float64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else v for v in parsed], dtype=np.float64)
    texts = [None if v is None else (v if isinstance(v, str) else _text(v)) for v in values]
    return np.array([None if t is None or t in MISSING_TEXTS else t for t in texts], dtype=object)


def _text(value: object) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _parse_text(text: str) -> object:
    """One JSON string value typed as pandas would type a column of it (mixed JSON columns only)."""
    stripped = text.strip()
    if stripped in MISSING_TEXTS:
        return None
    if stripped in ("True", "TRUE", "true"):
        return True
    if stripped in ("False", "FALSE", "false"):
        return False
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return text


def arrow_typed_column(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A column a table reader typed (JSON Lines, Parquet) as ``typed_column`` types its values:
    integers -> int64 (float64 with NaN when some are missing), floats -> float64, booleans -> bool
    (none missing), text by ``text_column``; other types by ``typed_column`` on their values."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return text_column(pc.cast(column, pa.string()))
    if pa.types.is_integer(kind) and not column.null_count:
        return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_boolean(kind) and not column.null_count:
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)
    return typed_column(column.to_pylist())


# Python's float() grammar (ASCII digits): digits with single underscores between them, a point,
# an exponent; inf, infinity and nan in any case; a sign; spaces around.
_FLOAT_TEXT = (r"(?i)^\s*[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:e[+-]?\d(?:_?\d)*)?"
               r"|\d(?:_?\d)*\.(?:e[+-]?\d(?:_?\d)*)?|inf|infinity|nan)\s*$")


def number_texts(values: np.ndarray) -> np.ndarray:
    """Where a text (object) column's values read as numbers, as ``is_number`` reads one value, on
    the whole column at once (missing counts as a number: it is no word)."""
    try:
        texts = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only texts: compare their texts
        texts = pa.array([None if v is None else str(v) for v in values], pa.string(), from_pandas=True)
    return np.asarray(pc.fill_null(pc.match_substring_regex(texts, _FLOAT_TEXT), True), dtype=bool)


def is_number(value: object) -> bool:
    """Whether ``value`` reads as a number (missing counts as one: it is no word)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True  # missing, not a word
    try:
        float(str(value))
    except ValueError:
        return False
    return True


# Typing in parts: the evidence each part of a column gives of its type merges into the whole column's, and each
# part is then typed as the whole column is: ``text_evidence`` / ``text_part`` for text cells (``text_column``),
# ``value_evidence`` / ``value_part`` for JSON values (``typed_column``).

@dataclass(frozen=True, kw_only=True)
class TextEvidence:
    """What some text cells tell of the type ``text_column`` gives the column they are part of: how many there
    are and are missing, whether all of them are boolean words, whether all present ones are integers (within
    int64) or numbers. Parts' evidence merges by sums and ands."""

    rows: int
    missing: int
    booleans: bool
    integers: bool
    numbers: bool

    def merge(self, other: TextEvidence) -> TextEvidence:
        return TextEvidence(rows=self.rows + other.rows, missing=self.missing + other.missing,
                            booleans=self.booleans and other.booleans, integers=self.integers and other.integers,
                            numbers=self.numbers and other.numbers)

    def dtype(self) -> str:
        """The whole column's type: ``object`` (texts; all missing), ``bool``, ``int64`` or ``float64``."""
        if self.missing == self.rows:
            return "object"
        if not self.missing and self.booleans:
            return "bool"
        if self.integers:
            return "int64" if not self.missing else "float64"
        return "float64" if self.numbers else "object"


def text_evidence(texts: pa.Array | pa.ChunkedArray) -> TextEvidence:
    """The evidence of ``text_column``'s full path (trimmed texts, pandas' missing texts, the integer pattern)."""
    stripped = pc.utf8_trim_whitespace(texts)
    missing = _missing(stripped)
    missing_count = pc.sum(missing).as_py() or 0
    present = pc.filter(stripped, pc.invert(missing))
    booleans = pc.all(pc.is_in(stripped, value_set=_value_set(*_BOOLEAN_WORDS))).as_py() is not False
    integers = pc.all(pc.match_substring_regex(present, _INTEGER_PATTERN)).as_py() is not False
    if integers:
        try:
            pc.cast(pc.utf8_ltrim(present, characters="+"), pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            integers = False  # beyond int64: numbers, as pandas reads them
    try:
        pc.cast(present, pa.float64())
        numbers = True
    except pa.ArrowInvalid:
        numbers = False
    return TextEvidence(rows=len(texts), missing=missing_count, booleans=bool(booleans), integers=bool(integers),
                        numbers=numbers)


def text_part(texts: pa.Array | pa.ChunkedArray, evidence: TextEvidence) -> np.ndarray:
    """A part of a text column typed as the whole column is (``evidence``: the merged evidence of every part):
    the part's rows of ``text_column`` of the whole column."""
    dtype = evidence.dtype()
    if dtype == "object":
        if evidence.missing == evidence.rows:
            return np.full(len(texts), None, dtype=object)
        as_written = pc.if_else(_missing(texts), pa.scalar(None, pa.string()), texts)
        return np.asarray(as_written.to_numpy(zero_copy_only=False), dtype=object)
    stripped = pc.utf8_trim_whitespace(texts)
    if dtype == "bool":
        return np.asarray(pc.is_in(stripped, value_set=_value_set(*_TRUE_WORDS)), dtype=bool)
    present = pc.if_else(_missing(stripped), pa.scalar(None, pa.string()), stripped)
    if evidence.integers:
        integers = pc.cast(pc.utf8_ltrim(present, characters="+"), pa.int64())
        if dtype == "int64":
            return integers.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return np.asarray(pc.cast(integers, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(pc.cast(present, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class ValueEvidence:
    """What some values (JSON scalars or texts) tell of the type ``typed_column`` gives their column: whether all
    are texts (or missing), the texts' evidence then, and else the kinds of the parsed values (``_parse_text``):
    how many are missing, whether all present ones are booleans, integers, numbers."""

    texts_only: bool
    texts: TextEvidence | None  # when texts_only
    rows: int
    missing: int
    booleans: bool
    integers: bool
    numbers: bool

    def merge(self, other: ValueEvidence) -> ValueEvidence:
        texts_only = self.texts_only and other.texts_only
        return ValueEvidence(
            texts_only=texts_only,
            texts=self.texts.merge(other.texts) if texts_only and self.texts and other.texts else None,
            rows=self.rows + other.rows, missing=self.missing + other.missing,
            booleans=self.booleans and other.booleans, integers=self.integers and other.integers,
            numbers=self.numbers and other.numbers)

    def dtype(self) -> str:
        if self.texts_only:
            assert self.texts is not None
            return self.texts.dtype()
        present = self.rows - self.missing
        if present and self.booleans and not self.missing:
            return "bool"
        if present and self.integers:
            return "int64" if not self.missing else "float64"
        if present and self.numbers:
            return "float64"
        return "object"


def value_evidence(values: Sequence[object]) -> ValueEvidence:
    """The evidence ``typed_column`` decides by (the parsed kinds are looked at even in a part of texts only:
    another part may hold JSON numbers)."""
    texts_only = all(v is None or isinstance(v, str) for v in values)
    parsed = [_parse_text(v) if isinstance(v, str) else v for v in values]
    present = [v for v in parsed if v is not None]
    return ValueEvidence(
        texts_only=texts_only, texts=text_evidence(pa.array(values, pa.string())) if texts_only else None,
        rows=len(parsed), missing=len(parsed) - len(present),
        booleans=all(isinstance(v, bool) for v in present),
        integers=all(isinstance(v, int) and not isinstance(v, bool) for v in present),
        numbers=all(isinstance(v, int | float) and not isinstance(v, bool) for v in present))


def value_part(values: Sequence[object], evidence: ValueEvidence) -> np.ndarray:
    """A part of a column of values typed as the whole column is: the part's rows of ``typed_column`` of the whole."""
    if evidence.texts_only:
        assert evidence.texts is not None
        return text_part(pa.array(values, pa.string()), evidence.texts)
    dtype = evidence.dtype()
    parsed = [_parse_text(v) if isinstance(v, str) else v for v in values]
    if dtype == "bool":
        return np.array(parsed, dtype=bool)
    if dtype == "int64":
        return np.array(parsed, dtype=np.int64)
    if dtype == "float64":
        return np.array([math.nan if v is None else v for v in parsed], dtype=np.float64)
    texts = [None if v is None else (v if isinstance(v, str) else _text(v)) for v in values]
    return np.array([None if t is None or t in MISSING_TEXTS else t for t in texts], dtype=object)
