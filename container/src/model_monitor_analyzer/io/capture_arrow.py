"""The columnar fast path for capture files: a whole chunk of lines parsed by Arrow at once.

SageMaker writes one compact JSON object per line, each with one CSV row as input and one as
output. For a chunk of such lines, ``csv_rows_of_chunk`` does with Arrow's C++ JSON reader and
compute kernels what the per-line reader (``io.capture``) does one record at a time:

* ``captureData.endpointInput.data`` / ``endpointOutput.data`` with ``encoding`` ``CSV``,
  stripped of line ends at both sides;
* records outside ``[start, end)`` dropped by comparing ``eventMetadata.inferenceTime`` as text
  (``yyyy-MM-ddTHH:mm:ssZ`` sorts lexicographically in time order);
* the row ``output,input`` (or ``input,output``).

It answers only when it can vouch for giving exactly the per-line reader's rows, and returns
``None`` otherwise, so the caller reads that chunk line by line (which also counts each bad line
with its number). It declines a chunk when:

* Arrow cannot read it (malformed JSON, a field of another type, duplicate keys, ...);
* the lines are not one object each (blank lines, a line not starting with ``{``, two values
  on a line), checked by counting line ends and ``\\n{``, then against Arrow's row count;
* it is not ASCII and not valid UTF-8 (orjson rejects a line that Arrow would partly ignore),
  or it holds ``NaN`` / ``Inf`` (JSON extensions Arrow accepts and orjson rejects);
* any record lacks a payload or its time, has another encoding, a time of another shape, or a
  payload holding a line break, carriage return or quote after stripping (several rows,
  quoted fields: the per-line reader's business).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from model_monitor_analyzer.io.window import TimeWindow

_PAYLOAD = pa.struct([("data", pa.string()), ("encoding", pa.string())])
_CAPTURE = pa.struct([("endpointInput", _PAYLOAD), ("endpointOutput", _PAYLOAD)])
_SCHEMA_OPEN = pa.schema([("captureData", _CAPTURE)])
_SCHEMA_TIMED = pa.schema([("captureData", _CAPTURE), ("eventMetadata", pa.struct([("inferenceTime", pa.string())]))])
_LINE_ENDS = "\r\n"
_JSON_BLOCK_BYTES = 4 << 20
_NEWLINE, _RETURN, _QUOTE, _OPEN_BRACE = (ord(ch) for ch in "\n\r\"{")
# yyyy-MM-ddTHH:mm:ssZ: which of the 20 characters are digits, and the fixed ones
_TIME_DIGITS = np.array([i for i in range(20) if i not in (4, 7, 10, 13, 16, 19)])
_TIME_FIXED = {4: ord("-"), 7: ord("-"), 10: ord("T"), 13: ord(":"), 16: ord(":"), 19: ord("Z")}


def _text_scalar(text: str) -> pa.Scalar:
    """An Arrow string scalar built from its bytes: converting a Python value (``pa.scalar``,
    or a ``str`` argument to a compute function) makes pyarrow import pandas where installed."""
    data = text.encode("utf-8")
    offsets = np.array([0, len(data)], dtype=np.int32)
    return pa.StringArray.from_buffers(1, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))[0]


_CSV, _COMMA, _BREAK, _EMPTY = (_text_scalar(text) for text in ("CSV", ",", "\n", ""))


def _bytes_of(chunk: bytes) -> np.ndarray:
    return np.frombuffer(chunk, dtype=np.uint8)


def _line_count_if_all_open_objects(raw: np.ndarray) -> int | None:
    """The number of lines when every line starts with ``{`` (so none is blank; JSON strings
    cannot hold a raw line break), else None. Arrow's reader must not see a chunk whose first
    value is not an object: it crashes on a leading ``null``."""
    if raw[0] != _OPEN_BRACE:
        return None
    breaks = np.flatnonzero(raw == _NEWLINE)
    starts = breaks[breaks < len(raw) - 1] + 1
    if not (raw[starts] == _OPEN_BRACE).all():
        return None
    return len(starts) + 1


def _holds(raw: np.ndarray, word: bytes) -> bool:
    """Whether ``word`` occurs in ``raw`` (candidates by its first byte, then the rest checked)."""
    at = np.flatnonzero(raw[: len(raw) - len(word) + 1] == word[0])
    for offset in range(1, len(word)):
        if not len(at):
            return False
        at = at[raw[at + offset] == word[offset]]
    return bool(len(at))


def _text_is_safe(chunk: bytes, raw: np.ndarray) -> bool:
    """Valid UTF-8 with no ``NaN`` / ``Inf`` anywhere."""
    if _holds(raw, b"NaN") or _holds(raw, b"Inf"):
        return False
    if chunk.isascii():
        return True
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _offsets(strings: pa.Array) -> np.ndarray:
    return np.frombuffer(strings.buffers()[1], dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4)


def _value_bytes(strings: pa.Array) -> np.ndarray:
    """The bytes of all values of a string array, back to back."""
    offsets = _offsets(strings)
    data = strings.buffers()[2]
    if data is None or offsets[-1] == offsets[0]:
        return np.empty(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]


def _has_any(values: np.ndarray, codes: tuple[int, ...]) -> bool:
    return any(np.count_nonzero(values == code) for code in codes)


def _clean_csv_payload(payload: pa.Array) -> pa.Array | None:
    """The payload's ``data`` stripped of line ends, or None unless every one is a plain CSV line."""
    if payload.null_count:
        return None
    data, encoding = payload.field("data"), payload.field("encoding")
    if data.null_count or encoding.null_count or not pc.all(pc.equal(encoding, _CSV)).as_py():
        return None
    if _has_any(_value_bytes(data), (_NEWLINE, _RETURN)):
        data = pc.utf8_trim(data, characters=_LINE_ENDS)
    if _has_any(_value_bytes(data), (_NEWLINE, _RETURN, _QUOTE)):
        return None
    return data


def _times_have_capture_shape(times: pa.Array) -> bool:
    """Every time is ``yyyy-MM-ddTHH:mm:ssZ`` (what ``TimeWindow.contains_text`` compares as text)."""
    if times.null_count or not (np.diff(_offsets(times)) == 20).all():
        return False
    grid = _value_bytes(times).reshape(len(times), 20)
    digits = grid[:, _TIME_DIGITS]
    if not ((digits >= ord("0")) & (digits <= ord("9"))).all():
        return False
    return all((grid[:, column] == code).all() for column, code in _TIME_FIXED.items())


def _window_mask(times: pa.Array, window: TimeWindow) -> pa.Array | None:
    if not _times_have_capture_shape(times):
        return None
    start_text, end_text = window._start_text, window._end_text  # type: ignore[attr-defined]
    mask = None
    if start_text is not None:
        mask = pc.greater_equal(times, _text_scalar(start_text))
    if end_text is not None:
        below = pc.less(times, _text_scalar(end_text))
        mask = below if mask is None else pc.and_(mask, below)
    return mask


def csv_rows_of_chunk(chunk: bytes, *, window: TimeWindow | None, output_first: bool) -> pa.Array | None:
    """The window's CSV rows (``output,input`` when ``output_first``) of a chunk of whole capture
    lines, each ending in a line break, as an Arrow string array in line order; ``None`` when the
    chunk needs the per-line reader.

    The count of records kept is ``len`` of the result.
    """
    if not chunk:
        return None
    raw = _bytes_of(chunk)
    lines = _line_count_if_all_open_objects(raw)
    if lines is None or not _text_is_safe(chunk, raw):
        return None
    bounded = window is not None and not window.is_open
    try:
        table = pajson.read_json(
            pa.BufferReader(chunk),
            read_options=pajson.ReadOptions(block_size=_JSON_BLOCK_BYTES, use_threads=False),
            parse_options=pajson.ParseOptions(
                explicit_schema=_SCHEMA_TIMED if bounded else _SCHEMA_OPEN, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows != lines:  # a line holding two values
        return None
    capture = table.column("captureData").combine_chunks()
    if capture.null_count:
        return None
    inputs = _clean_csv_payload(capture.field("endpointInput"))
    outputs = _clean_csv_payload(capture.field("endpointOutput")) if inputs is not None else None
    if outputs is None:
        return None
    first, second = (outputs, inputs) if output_first else (inputs, outputs)
    rows = pc.binary_join_element_wise(first, _COMMA, second, _BREAK, _EMPTY)  # each row with its line break
    if bounded:
        metadata = table.column("eventMetadata").combine_chunks()
        if metadata.null_count:
            return None
        mask = _window_mask(metadata.field("inferenceTime"), window)  # type: ignore[arg-type]
        if mask is None:
            return None
        rows = rows.filter(mask)
    return rows
