"""JSON texts of Arrow columns, written as ``orjson.dumps(value, option=orjson.OPT_SORT_KEYS)`` writes the
parsed values: compact, the members of every object in name order.

The merged records (``io.merge``) are made of parts of capture and ground-truth records. Arrow's JSON reader
has parsed those records into columns already; writing the parts back from the columns, a whole column at a
time, spares a Python object per record. Only what is written the same way from either side is taken:

* an object (a struct) whose members are texts or objects of the same kind, a text escaped as orjson
  escapes it (``"`` and ``\\`` by a backslash, ``\\b \\f \\n \\r \\t`` by their short forms);
* a missing member is left out, as it is missing from the parsed object.

What the columns cannot say exactly is ``None`` (a type other than a struct or a string anywhere: numbers,
lists, booleans, times Arrow inferred), or a row the caller must write from its line
(``SortedJsonTexts.by_record``): a text with another control character (orjson writes ``\\u00XX``). The
caller also writes from its line every record whose line holds ``null`` (Arrow reads an explicit null as
a missing member) or a ``\\u`` escape (``lines_to_write_one_by_one``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.io.arrow_texts import text_array, text_scalar

#: bytes a text's JSON escapes in its short form, the backslash first
_SHORT_ESCAPES = ((0x5C, "\\", "\\\\"), (0x22, '"', '\\"'), (0x0A, "\n", "\\n"), (0x0D, "\r", "\\r"),
                  (0x09, "\t", "\\t"), (0x08, "\b", "\\b"), (0x0C, "\f", "\\f"))
_SHORT = np.zeros(256, dtype=bool)
_SHORT[[code for code, _, _ in _SHORT_ESCAPES]] = True
_OTHER_CONTROL = np.zeros(256, dtype=bool)
_OTHER_CONTROL[[code for code in range(0x20) if not _SHORT[code]]] = True


Piece = str | pa.Array  # a text for every row, or a column of texts
# Texts given to Arrow's compute functions are scalars built from buffers: a Python text makes pyarrow import pandas.
_NO_SEPARATOR = text_scalar("")


@dataclass(frozen=True)
class SortedJsonTexts:
    """Each row's JSON text (null where the value is missing), and the rows to write from their records."""

    texts: pa.Array
    by_record: np.ndarray  # bool per row


@dataclass(frozen=True)
class SortedJsonPieces:
    """Each row's JSON text as pieces to join (texts and columns, so that a nested object costs no join of its
    own), and the rows to write from their records. Null only where the value is missing (``may_be_null``)."""

    pieces: list[Piece]
    by_record: np.ndarray  # bool per row

    def texts(self, rows: int) -> pa.Array:
        """The joined texts (``rows`` of them)."""
        return join_pieces(self.pieces, rows)


def join_pieces(pieces: list[Piece], rows: int) -> pa.Array:
    """The row-wise concatenation of ``pieces`` (neighbouring texts made one first: the join's cost is per piece
    and row)."""
    pieces = _merged(pieces)
    if not any(isinstance(piece, pa.Array) for piece in pieces):
        return text_array(["".join(pieces)] * rows)  # type: ignore[arg-type]
    if len(pieces) == 1:
        return pieces[0]  # type: ignore[return-value]
    # texts as Arrow scalars built from buffers: a Python operand makes pyarrow import pandas
    return pc.binary_join_element_wise(*(text_scalar(piece) if isinstance(piece, str) else piece
                                         for piece in pieces), _NO_SEPARATOR)


def _plain_name(name: str) -> bool:
    return not re.search(r'["\\\x00-\x1f]', name)


def _escaped_texts(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The texts of ``values`` escaped as in JSON (without their quotes), and the rows to write from their
    records (a control character orjson writes as ``\\u00XX``)."""
    by_record = np.zeros(len(values), dtype=bool)
    data = values.buffers()[2]
    if data is None or not len(values):
        return values, by_record
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    text = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]
    special = np.flatnonzero((text < 0x20) | (text == 0x22) | (text == 0x5C))
    if not special.size:
        return values, by_record
    present = np.zeros(256, dtype=bool)
    present[text[special]] = True
    escaped = values
    for code, raw, replacement in _SHORT_ESCAPES:
        if present[code]:
            escaped = pc.replace_substring(escaped, raw, replacement)
    if (present & _OTHER_CONTROL).any():
        where = special[_OTHER_CONTROL[text[special]]] + offsets[0]
        by_record[np.searchsorted(offsets, where, side="right") - 1] = True
    return escaped, by_record


def _merged(pieces: list[Piece]) -> list[Piece]:
    """``pieces`` with neighbouring texts made one."""
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        elif not (isinstance(piece, str) and not piece):
            merged.append(piece)
    return merged


def _struct_pieces(values: pa.StructArray) -> SortedJsonPieces | None:
    kind = values.type
    names = [kind.field(index).name for index in range(kind.num_fields)]
    by_record = np.zeros(len(values), dtype=bool)
    if not all(_plain_name(name) for name in names):
        return None
    if values.null_count == len(values):
        return SortedJsonPieces([pa.nulls(len(values), pa.string())], by_record)
    children = values.flatten()  # with the struct's own nulls
    members: list[tuple[str, SortedJsonPieces, bool]] = []  # (name, value's pieces, present in every row)
    for name, child in sorted(zip(names, children, strict=True), key=lambda item: item[0]):
        if child.null_count == len(child):
            continue
        written = sorted_json_pieces(child)
        if written is None:
            return None
        by_record |= written.by_record
        members.append((name, written, child.null_count == 0))
    # A member present in every row is written as its pieces; one that may be missing as one column, null then ""
    # where it is. Members come after a comma but for the first present in every row (the anchor); members before
    # the anchor end with a comma. Without an anchor, the object's first comma is dropped after a join.
    anchor = next((index for index, (_, _, always) in enumerate(members) if always), None)
    inside: list[Piece] = []
    for index, (name, written, always) in enumerate(members):
        before = "," if anchor is None or index > anchor else ""
        after = "," if anchor is not None and index < anchor else ""
        if always:
            inside.extend([f'{before}"{name}":', *written.pieces, after])
        else:
            member = pc.binary_join_element_wise(text_scalar(f'{before}"{name}":'), written.texts(len(values)),
                                                 text_scalar(after), _NO_SEPARATOR)
            inside.append(pc.fill_null(member, _NO_SEPARATOR))
    if anchor is None and inside:
        pieces: list[Piece] = ["{", pc.utf8_slice_codeunits(join_pieces(_merged(inside), len(values)), 1), "}"]
    else:
        pieces = _merged(["{", *inside, "}"])
    if values.null_count:
        whole = pc.if_else(values.is_valid(), join_pieces(pieces, len(values)), text_scalar(None))
        pieces = [whole]
    return SortedJsonPieces(pieces, by_record)


def sorted_json_pieces(values: pa.Array | pa.ChunkedArray) -> SortedJsonPieces | None:
    """The JSON texts of ``values`` (a struct or string column) as pieces, or None when its type holds anything
    else."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_string(values.type):
        if _one_text(values):  # a member that has one value in every row (an encoding, a mode, a content type)
            escaped, by_record = _escaped_texts(values.slice(0, 1))
            return SortedJsonPieces([f'"{escaped[0].as_py()}"'], np.full(len(values), bool(by_record[0])))
        escaped, by_record = _escaped_texts(values)
        if values.null_count:
            quote = text_scalar('"')
            return SortedJsonPieces([pc.binary_join_element_wise(quote, escaped, quote, _NO_SEPARATOR)], by_record)
        return SortedJsonPieces(['"', escaped, '"'], by_record)
    if pa.types.is_struct(values.type):
        return _struct_pieces(values)
    return None


def _one_text(values: pa.Array) -> bool:
    """Whether every row of a string column holds the same text (none is null): its JSON text is then one piece
    of text, made once, not a column to join row by row."""
    if values.null_count or not len(values):
        return False
    return bool(pc.all(pc.equal(values, values[0])).as_py())


def sorted_json_texts(values: pa.Array | pa.ChunkedArray) -> SortedJsonTexts | None:
    """The JSON texts of ``values`` (a struct or string column), or None when its type holds anything else."""
    written = sorted_json_pieces(values)
    if written is None:
        return None
    return SortedJsonTexts(written.texts(len(values)), written.by_record)


def _pattern_starts(data: bytes, pattern: bytes) -> np.ndarray:
    """Where ``pattern`` (2 or 4 bytes) starts in ``data``, in order: the bytes read as words of the pattern's width
    at each shift and compared with it at once, a pass over a half or a quarter of the bytes each (not one over
    every byte and then a look around each candidate, which costs as much as the candidates are many)."""
    width = len(pattern)
    kind = np.dtype(f"<u{width}")
    target = np.frombuffer(pattern, dtype=kind)[0]
    found = []
    for shift in range(width):
        count = (len(data) - shift) // width
        if count > 0:
            words = np.frombuffer(data, dtype=kind, count=count, offset=shift)
            found.append(np.flatnonzero(words == target) * width + shift)
    return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def lines_to_write_one_by_one(chunk: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each line ``chunk[starts[i]:ends[i]]``, whether it holds ``null`` or a ``\\u`` escape (its record
    is then written from its parsed line)."""
    flagged = np.zeros(len(starts), dtype=bool)
    found = np.concatenate((_pattern_starts(chunk, b"\\u"), _pattern_starts(chunk, b"null")))
    if found.size and len(starts):
        line = np.searchsorted(starts, found, side="right") - 1
        inside = (line >= 0) & (found < ends[np.maximum(line, 0)])
        flagged[line[inside]] = True
    return flagged
