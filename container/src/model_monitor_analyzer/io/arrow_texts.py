"""Arrow arrays and scalars built from their buffers.

Converting Python objects or numpy arrays to Arrow (``pa.array``, ``pa.scalar``) makes pyarrow import pandas when it
is installed: a quarter of a second per process, for nothing the analyzer needs. These build the same values
without it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def text_array(texts: Sequence[str | None]) -> pa.Array:
    """A string array of ``texts`` (None: null)."""
    data = [text.encode("utf-8") if text is not None else b"" for text in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, data), dtype=np.int32, count=len(data)), out=offsets[1:])
    validity = None
    if any(text is None for text in texts):
        valid = np.fromiter((text is not None for text in texts), dtype=bool, count=len(texts))
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), len(data), [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


#: a line of nothing but what ``bytes.strip()`` removes
BLANK_LINE = r"^[ \t\n\r\x0b\x0c]*$"


def line_texts(chunk: bytes, starts: np.ndarray, end: int, *, binary: bool = False) -> pa.Array:
    """The texts of ``chunk`` from each of ``starts`` to the next (the last to ``end``), as a string (or ``binary``)
    array that views the chunk without a copy."""
    offsets = np.append(starts, end).astype(np.int32)
    kind = pa.binary() if binary else pa.string()
    return pa.Array.from_buffers(kind, len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(chunk)])


def text_scalar(text: str | None) -> pa.Scalar:
    """A string scalar (None: the null string)."""
    return text_array([text])[0]


def bool_array(values: np.ndarray) -> pa.Array:
    """A boolean array without nulls of a numpy array of booleans."""
    values = np.asarray(values, dtype=bool)
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(np.packbits(values, bitorder="little"))])


def int64_array(values: np.ndarray) -> pa.Array:
    """An int64 array without nulls of a numpy array of integers."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def bool_mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, null as False (``np.asarray`` of it makes pyarrow import pandas)."""
    count, offset = len(array), array.offset
    values = array.buffers()[1]
    mask = np.unpackbits(np.frombuffer(values, dtype=np.uint8), count=offset + count, bitorder="little")[offset:]
    mask = mask.astype(bool)
    if array.null_count:
        mask &= valid_mask(array)
    return mask


def valid_mask(array: pa.Array) -> np.ndarray:
    """Where an Arrow array holds a value, as a numpy mask."""
    count, offset = len(array), array.offset
    validity = array.buffers()[0]
    if validity is None or array.null_count == 0:
        return np.ones(count, dtype=bool)
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=offset + count, bitorder="little")[offset:]
    return bits.astype(bool)


def float64_scalar(value: float | None) -> pa.Scalar:
    """A float64 scalar (None: the null float64)."""
    if value is None:
        return pa.Array.from_buffers(pa.float64(), 1, [pa.py_buffer(np.zeros(1, dtype=np.uint8)),
                                                       pa.py_buffer(np.zeros(1, dtype=np.float64))], null_count=1)[0]
    return pa.Array.from_buffers(pa.float64(), 1, [None, pa.py_buffer(np.array([value], dtype=np.float64))])[0]


def float64_nan_filled(array: pa.Array) -> np.ndarray:
    """A float64 Arrow array as numpy values, null as NaN (``to_numpy`` of one with nulls makes pyarrow import
    pandas)."""
    values = np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array), offset=array.offset * 8)
    if array.null_count:
        return np.where(valid_mask(array), values, np.nan)
    return values.copy()
