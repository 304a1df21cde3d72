"""Join captured inferences with their ground truth, and read predictions and labels out of them.

This does what SageMaker's ground-truth merge job does before a model-quality run (contract
§2.2): every capture record whose id (``inferenceId``, else ``eventId``) has a ground-truth
record becomes a merged record, written in the merge job's layout so that other tools (and the
built-in analyzer, with ``dataset_format`` ``sagemakerMergeJson``) can reuse it::

    {"eventVersion": "0", "groundTruthData": {...}, "captureData": {...}, "eventMetadata": {...}}

Decisions the merge job leaves open, made explicit here:

* several ground-truth records for one id: the last one read wins (``read_ground_truth`` reads
  files in upload-hour then path order, lines in file order), so re-sending a label corrects it;
  the superseded ones are counted as ``duplicate_labels``;
* several capture records with the same id (callers reusing an InferenceId): each is joined with
  the label, as an inner join does, and the repeats are counted as ``captures_sharing_an_id`` (one
  label cannot be the truth of different requests: the run says so);
* captures without a label and labels without a capture are counted, not errors.

Captures are ``io.capture`` records and labels ``io.ground_truth`` records, so a malformed line
of either (or of a merged-records file) is handled the one way: counted with its file and line in
``io.problems.InputProblems`` and skipped, the run failing only above the tolerated share.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import dataclasses
import functools
import itertools
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import jmespath
import jmespath.exceptions
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.arrow_texts import bool_array, int64_array, text_array, text_scalar
from model_monitor_analyzer.io.capture import (
    CapturedOutputs,
    CapturedPayload,
    CaptureRecord,
    iter_capture_records,
)
from model_monitor_analyzer.io.datasets import BLANKS, csv_rows
from model_monitor_analyzer.io.ground_truth import GroundTruthColumns, GroundTruthRecord, holds_no_value
from model_monitor_analyzer.io.jsonlines import iter_json_objects, json_lines_files
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.sorted_json import (
    Piece,
    join_pieces,
    lines_to_write_one_by_one,
    sorted_json_pieces,
)
from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp


@dataclass(frozen=True, kw_only=True)
class MergeSummary:
    """How the join went: what a user needs to see to trust (or fix) the label feed."""

    matched: int
    captures_without_label: int
    labels_without_capture: int
    duplicate_labels: int
    captures_sharing_an_id: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "matched": self.matched,
            "captures_without_label": self.captures_without_label,
            "labels_without_capture": self.labels_without_capture,
            "duplicate_labels": self.duplicate_labels,
            "captures_sharing_an_id": self.captures_sharing_an_id,
        }


@dataclass(frozen=True, kw_only=True)
class MergeResult:
    """The matched (capture, label) pairs in capture order, and the join counts."""

    matches: list[tuple[CaptureRecord, GroundTruthRecord]]
    summary: MergeSummary
    id_samples: tuple[str | None, str | None] = (None, None)  # ``WindowJoin.id_samples``

    @property
    def records(self) -> list[dict]:
        """The merged records, members in the merge job's order (built anew on each call)."""
        return [merged_record(c.raw, g.record) for c, g in self.matches]


def parse_time(text: str) -> datetime:
    """An ISO-8601 UTC time such as ``2025-02-16T15:00:44Z`` (``io.window.parse_timestamp``)."""
    return parse_timestamp(text)


def join_key(capture: CaptureRecord) -> str | None:
    """``inferenceId`` when the caller passed one to the endpoint, else ``eventId`` (contract §2.1)."""
    metadata = capture.event_metadata
    key = metadata.inference_id or metadata.event_id
    return str(key) if key is not None else None


def _checked_at_the_end(records: Iterator, tally: InputProblems, caller_counts: bool) -> Iterator:
    yield from records
    if not caller_counts:
        tally.check()


def read_capture_records(
    root: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    problems: InputProblems | None = None,
) -> Iterator[CaptureRecord]:
    """Capture records under ``root`` whose ``inferenceTime`` lies in [since, until), in file/line order.

    Malformed lines (and, with a window, records whose time cannot be placed) are counted in
    ``problems`` and skipped; without ``problems`` the tolerated share is checked at the end.
    """
    tally = InputProblems() if problems is None else problems
    window = TimeWindow(start=since, end=until)
    return _checked_at_the_end(iter_capture_records(root, window=window, problems=tally), tally, problems is not None)


def _merged_problem(record: dict, window: TimeWindow) -> str | None:
    """Why ``record`` is not a usable merged record of the window, "" when it lies outside, else None."""
    if not isinstance(record.get("groundTruthData"), dict) or not isinstance(record.get("captureData"), dict):
        return "not a merged record: groundTruthData or captureData is missing"
    if window.is_open:
        return None
    metadata = record.get("eventMetadata")
    text = metadata.get("inferenceTime") if isinstance(metadata, dict) else None
    if text is None:
        return "record has no eventMetadata.inferenceTime to place it in the time window"
    if not isinstance(text, str):
        return (f"eventMetadata.inferenceTime {text!r} is not a time text such as '2024-01-01T10:15:00Z' "
                "(SageMaker writes ISO 8601 in UTC)")
    try:
        return None if window.contains_text(text) else ""
    except ValueError:
        return f"eventMetadata.inferenceTime {text!r} is not an ISO-8601 time; cannot place the record in the window"


def read_merged_records(
    root: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    problems: InputProblems | None = None,
) -> Iterator[dict]:
    """Records written by a merge job (ours or SageMaker's) whose ``inferenceTime`` lies in [since, until).

    Malformed lines are counted in ``problems`` and skipped, as for captures.
    """
    tally = InputProblems() if problems is None else problems
    window = TimeWindow(start=since, end=until)
    for path, number, record in iter_json_objects(json_lines_files(root), problems=tally, what="merged record"):
        problem = _merged_problem(record, window)
        if problem:
            tally.record_bad(str(path), number, problem)
            continue
        tally.record_good()
        if problem is None:
            yield record
    if problems is None:
        tally.check()


def merged_line(capture: Mapping, ground_truth: Mapping) -> bytes:
    """One merged record as a compact JSON line (with its newline), in the merge job's layout.

    ``eventVersion``, ``groundTruthData``, ``captureData``, ``eventMetadata``, with the members
    inside the last three in name order at every depth, as in the real merge output (``data,
    encoding, mode, observedContentType``). ``capture`` is a capture (or merged) record,
    ``ground_truth`` a ground-truth (or merged) record.
    """
    dumps, ordered = orjson.dumps, orjson.OPT_SORT_KEYS
    return b"".join((
        b'{"eventVersion":', dumps(capture.get("eventVersion", "0")),
        b',"groundTruthData":', dumps(ground_truth["groundTruthData"], option=ordered),
        b',"captureData":', dumps(capture["captureData"], option=ordered),
        b',"eventMetadata":', dumps(capture.get("eventMetadata") or {}, option=ordered), b"}\n",
    ))  # fmt: skip


def _line_with_truth(capture: Mapping, truth: str) -> bytes:
    """``merged_line`` of ``capture`` and a label whose ``groundTruthData`` text is ``truth``."""
    dumps, ordered = orjson.dumps, orjson.OPT_SORT_KEYS
    return b"".join((
        b'{"eventVersion":', dumps(capture.get("eventVersion", "0")), b',"groundTruthData":', truth.encode(),
        b',"captureData":', dumps(capture["captureData"], option=ordered),
        b',"eventMetadata":', dumps(capture.get("eventMetadata") or {}, option=ordered), b"}\n",
    ))  # fmt: skip


def _envelope_pieces(captured: CapturedOutputs, positions: np.ndarray) -> tuple[list[Piece], np.ndarray] | None:
    """The pieces of the merged records of the captures at ``positions`` of ``captured`` before and after the
    label's text (``io.sorted_json``, a marker ``None`` in its place), and the rows the columns cannot say
    exactly; None when the chunk was not read column-wise or holds members of other types."""
    if captured.envelopes is None:
        return None
    table, rows = captured.envelopes
    chosen = rows[positions]
    envelope = table.select(["eventVersion", "captureData", "eventMetadata"])
    if len(chosen) != table.num_rows or np.any(chosen != np.arange(len(chosen))):
        envelope = envelope.take(int64_array(chosen))
    version, capture, metadata = (sorted_json_pieces(envelope.column(name))
                                  for name in ("eventVersion", "captureData", "eventMetadata"))
    if version is None or capture is None or metadata is None:
        return None
    count = len(chosen)
    by_record = version.by_record | capture.by_record | metadata.by_record
    capture_column = envelope.column("captureData")
    if capture_column.null_count:  # a capture record always has captureData: such a record is written by itself
        by_record |= ~np.asarray(capture_column.is_valid(), dtype=bool)
    version_pieces = (version.pieces if not envelope.column("eventVersion").null_count
                      else [pc.fill_null(version.texts(count), text_scalar('"0"'))])
    metadata_pieces = (metadata.pieces if not envelope.column("eventMetadata").null_count
                       else [pc.fill_null(metadata.texts(count), text_scalar("{}"))])
    return [
        '{"eventVersion":', *version_pieces, ',"groundTruthData":', None, ',"captureData":', *capture.pieces,
        ',"eventMetadata":', *metadata_pieces, "}\n",
    ], by_record


def merged_lines(captured: CapturedOutputs, positions: np.ndarray, truths: pa.Array) -> pa.Array:
    """The merged records (``merged_line``, as text) of the captures at ``positions`` of ``captured`` and their
    labels' ``groundTruthData`` texts (``io.ground_truth.truth_text``, row-aligned with ``positions``), made
    a column at a time; a record the columns cannot say exactly (``io.sorted_json``) is written from its line."""
    count = len(positions)
    if count == 0:
        return pa.array([], pa.string())
    chunk, starts, ends = captured.lines
    starts, ends = starts[positions], ends[positions]
    by_record = lines_to_write_one_by_one(chunk, starts, ends)
    made = _envelope_pieces(captured, positions)
    if made is None:
        lines = pa.nulls(count, pa.string())
        by_record[:] = True
    else:
        pieces, odd = made
        by_record |= odd
        lines = join_pieces([truths if piece is None else piece for piece in pieces], count)
    if by_record.any():
        rows = np.flatnonzero(by_record)
        exact = [_line_with_truth(orjson.loads(chunk[starts[row]:ends[row]]), truth).decode()
                 for row, truth in zip(rows.tolist(), truths.take(int64_array(rows)).to_pylist(), strict=True)]
        lines = pc.replace_with_mask(lines, bool_array(by_record), text_array(exact))
    return lines


def merged_record(capture: Mapping, ground_truth: Mapping) -> dict:
    """The merge job's record for ``capture`` and ``ground_truth`` (the parsed ``merged_line``)."""
    return orjson.loads(merged_line(capture, ground_truth))


# Arrow scalars built from buffers, for compute functions: a Python operand makes pyarrow import pandas.
_EMPTY = text_scalar("")

#: captures joined at once: their keys looked up in the labels as one Arrow column
JOIN_BATCH_RECORDS = 65_536


def _fixed_width(texts: pa.Array, width: int) -> np.ndarray | None:
    """``texts`` (no null) as a numpy array of ``width``-byte strings (NUL-padded, as numpy compares them), or
    None when a text holds a NUL byte (numpy would not tell ``a`` from ``a\\0``) or is longer than ``width``."""
    if len(texts) == 0:
        return np.zeros(0, dtype=f"S{max(width, 1)}")
    data = texts.buffers()[2]
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset:texts.offset + len(texts) + 1]
    lengths = np.diff(offsets)
    if int(lengths.max()) > width:
        return None
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
    if (raw == 0).any():
        return None
    if pc.all(pc.string_is_ascii(texts)).as_py():  # a character a byte: Arrow pads the texts at once
        filled = pc.utf8_rpad(texts, width=width, padding="\0")
        bounds = np.frombuffer(filled.buffers()[1], dtype=np.int32)[filled.offset:filled.offset + len(filled) + 1]
        return np.frombuffer(filled.buffers()[2], dtype=f"S{width}", count=len(texts), offset=int(bounds[0]))
    padded = np.zeros((len(texts), width), dtype=np.uint8)
    starts = offsets[:-1] - offsets[0]
    column = np.arange(width)
    inside = column[None, :] < lengths[:, None]
    padded[inside] = raw[(starts[:, None] + column[None, :])[inside]]
    return padded.view(f"S{width}").ravel()


class _IdIndex:
    """The row of each id's latest label (a later label replaces an earlier one): the ids as fixed-width byte
    strings sorted once, looked up a column of keys at a time by binary search; a dictionary when the ids do
    not allow it (a NUL byte)."""

    def __init__(self, event_ids: pa.Array | pa.ChunkedArray) -> None:
        if isinstance(event_ids, pa.ChunkedArray):
            event_ids = event_ids.combine_chunks()
        self._width = max(1, int(pc.max(pc.binary_length(event_ids)).as_py() or 0)) if len(event_ids) else 1
        fixed = _fixed_width(event_ids, self._width) if not event_ids.null_count else None
        self._row_of: dict[str, int] | None = None
        if fixed is None:
            self._row_of = dict(zip(event_ids.to_pylist(), range(len(event_ids)), strict=True))
            self._count = len(self._row_of)
            return
        order = np.argsort(fixed, kind="stable")  # equal ids stay in row order: the last is the latest
        ordered = fixed[order]
        last = np.ones(len(ordered), dtype=bool)
        last[:-1] = ordered[1:] != ordered[:-1]
        self._ids, self._rows = ordered[last], order[last].astype(np.int64)
        self._count = len(self._ids)

    def __len__(self) -> int:
        return self._count

    def rows(self, keys: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The label row of each key, -1 when it has none (a null key has none)."""
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        if self._row_of is None:
            present = pc.fill_null(keys, _EMPTY)
            longer = pc.greater(pc.binary_length(present), int64_array(np.array([self._width]))[0])
            fixed = _fixed_width(pc.if_else(longer, _EMPTY, present), self._width)
            if fixed is not None:
                if not len(self._ids):
                    return np.full(len(keys), -1, dtype=np.int64)
                at = np.minimum(np.searchsorted(self._ids, fixed), len(self._ids) - 1)
                found = (self._ids[at] == fixed) & (fixed != b"")
                return np.where(found, self._rows[at], -1)
            self._row_of = {key.decode(): int(row) for key, row in zip(self._ids.tolist(), self._rows.tolist(),
                                                                       strict=True)}
        return np.fromiter(map(self._row_of.get, keys.to_pylist(), itertools.repeat(-1)), dtype=np.int64,
                           count=len(keys))


class WindowJoin:
    """Inner join of a stream of captures with a window's labels, on the capture's join key =
    the label's eventId (contract §2.1), computed on Arrow columns.

    The labels (``io.ground_truth.GroundTruthColumns``, or labels read one by one) are reduced once to
    the last one read of each id (see the module docstring), in one index from id to label row
    (``_IdIndex``); the captures stream through in batches whose keys are looked up in it a column at a time,
    so only the matched pairs a caller keeps stay in memory. ``summary`` counts the join once the captures are consumed.
    """

    def __init__(self, labels: GroundTruthColumns | Iterable[GroundTruthRecord]) -> None:
        self._records: list[GroundTruthRecord] | None = None
        if not isinstance(labels, GroundTruthColumns):
            self._records = list(labels)
            labels = GroundTruthColumns.of(self._records)
        self.labels = labels
        self._index: _IdIndex | None = None
        self._used = np.zeros(len(labels), dtype=bool)  # by label row: the latest label of an id that matched
        self._matched = 0
        self._without_label = 0
        self._unmatched_key: str | None = None  # the first capture key without a label: shown when none matches

    @property
    def _duplicates(self) -> int:
        return len(self.labels) - len(self.prepare())

    @classmethod
    def sharing(cls, other: WindowJoin) -> WindowJoin:
        """A join of the same labels with counts of its own (a part of the captures read in another process),
        sharing ``other``'s label columns and id index."""
        join = cls.__new__(cls)
        join.__dict__.update(other.__dict__)
        join._used = np.zeros(len(other.labels), dtype=bool)
        join._matched = 0
        join._without_label = 0
        join._unmatched_key = None
        return join

    def prepare(self) -> _IdIndex:
        """The row of each id's latest label (``_IdIndex``), built once; call it before forking, so that every
        part's process shares it."""
        if self._index is None:
            self._index = _IdIndex(self.labels.event_ids)
        return self._index

    def part_counts(self) -> tuple[int, int, np.ndarray]:
        """(matched, captures without a label, labels matched) of the captures this join has seen: what a part
        read in another process hands back to ``absorb``."""
        return self._matched, self._without_label, self._used

    def absorb(self, counts: tuple[int, int, np.ndarray]) -> None:
        """Add the counts of a part joined in another process (``part_counts``)."""
        matched, without_label, used = counts
        self._matched += matched
        self._without_label += without_label
        self._used |= used

    def match_keys(self, keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``keys`` that have a label, the row of each one's label in ``labels``), counted in the
        join's summary; ``keys`` are captures' join keys in capture order (null: the capture has none)."""
        found = self.prepare().rows(keys)
        matched = found >= 0
        rows = found[matched]
        self._without_label += int(matched.size - rows.size)
        if self._unmatched_key is None and rows.size < matched.size:
            present = ~matched & np.asarray(pc.is_valid(keys).to_numpy(zero_copy_only=False), dtype=bool)
            if present.any():
                self._unmatched_key = keys[int(np.argmax(present))].as_py()
        self._used[rows] = True
        self._matched += int(rows.size)
        return np.flatnonzero(matched), rows

    def _match(self, captures: list[CaptureRecord]) -> tuple[list[CaptureRecord], np.ndarray]:
        positions, rows = self.match_keys(pa.array([join_key(capture) for capture in captures], pa.string()))
        if positions.size == len(captures):
            return captures, rows
        return [captures[i] for i in positions.tolist()], rows

    def matched_batches(
        self, captures: Iterable[CaptureRecord], *, batch_records: int = JOIN_BATCH_RECORDS
    ) -> Iterator[tuple[list[CaptureRecord], np.ndarray]]:
        """The captures that have a label, batch by batch in capture order, with the row of each one's
        label in ``labels``."""
        stream = iter(captures)
        while batch := list(itertools.islice(stream, batch_records)):
            matched, rows = self._match(batch)
            if matched:
                yield matched, rows

    def matches(self, captures: Iterable[CaptureRecord]) -> Iterator[tuple[CaptureRecord, GroundTruthRecord]]:
        """(capture, label) for every capture that has a label, in capture order."""
        for matched, rows in self.matched_batches(captures):
            for capture, row in zip(matched, rows.tolist(), strict=True):
                yield capture, self.label(row)

    def label(self, row: int) -> GroundTruthRecord:
        """The label at ``row`` of ``labels``: as read, or rebuilt from the columns when they were read as such."""
        if self._records is not None:
            return self._records[row]
        record = self.labels.records[row]
        return GroundTruthRecord(event_id=self.labels.event_ids[row].as_py(), data=self.labels.data[row].as_py(),
                                 encoding=self.labels.encodings[row].as_py(), uploaded_hour=None, path="", line=0,
                                 record=record)

    @property
    def unmatched_key(self) -> str | None:
        """The first capture key seen without a label (None: every capture seen had one, or no key)."""
        return self._unmatched_key

    def absorb_unmatched_key(self, key: str | None) -> None:
        """Keep ``key`` (a part's ``unmatched_key``) when this join has none yet."""
        if self._unmatched_key is None:
            self._unmatched_key = key

    def id_samples(self) -> tuple[str | None, str | None]:
        """(a capture key without a label, a label id no capture matched), each None when there is none: what
        a window that matched nothing shows, so the two sides' ids can be compared."""
        unused = np.flatnonzero(~self._used)
        label = self.labels.event_ids[int(unused[0])].as_py() if unused.size else None
        return self._unmatched_key, label

    @property
    def summary(self) -> MergeSummary:
        """The join counts so far."""
        return MergeSummary(
            matched=self._matched,
            captures_without_label=self._without_label,
            labels_without_capture=len(self.prepare()) - int(np.count_nonzero(self._used)),
            duplicate_labels=self._duplicates,
            # a capture of an id matched before shares its label: every match beyond the first of each label
            captures_sharing_an_id=self._matched - int(np.count_nonzero(self._used)),
        )


def merge_records(captures: Iterable[CaptureRecord], labels: Iterable[GroundTruthRecord]) -> MergeResult:
    """All matched pairs of ``WindowJoin`` and its counts."""
    join = WindowJoin(labels)
    matches = list(join.matches(captures))
    return MergeResult(matches=matches, summary=join.summary, id_samples=join.id_samples())


class MergedRecordsWriter:
    """Writes merged records as compact JSON Lines to one ``part-00000-<uuid>.c000.jsonl`` in
    ``directory`` (no record, no file).

    The records go to a hidden ``.inprogress`` file first; ``publish`` gives it its name once the
    run has succeeded, and a run that fails (``discard``, or leaving the ``with`` block on an
    exception) leaves no file behind, nor the folder when the writer made it.
    """

    def __init__(self, directory: Path, *, part: int = 0) -> None:
        self.directory = directory
        self.path: Path | None = None
        # named now, so that a copy of the writer in another process writes the file this one can discard
        self._name = f"part-{part:05d}-{uuid.uuid4()}.c000.jsonl"  # one file per process of a run split in parts
        self._staging: Path | None = None
        self._out: BinaryIO | None = None
        self._made_directory = False

    def write(self, capture: Mapping, ground_truth: Mapping) -> None:
        """Append the merged record of ``capture`` (a capture or merged record) and ``ground_truth``."""
        if self._out is None:
            self._open()
        self._out.write(merged_line(capture, ground_truth))  # type: ignore[union-attr]

    def write_lines(self, lines: pa.Array) -> None:
        """Append whole lines (a text column such as ``merged_lines``), the column's bytes in one write."""
        if len(lines) == 0:
            return
        if lines.null_count:
            raise ValueError("a merged record to write is missing")
        if self._out is None:
            self._open()
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
        self._out.write(memoryview(lines.buffers()[2])[int(offsets[0]):int(offsets[-1])])  # type: ignore[union-attr]

    def _open(self) -> None:
        name = self._name
        try:
            self._made_directory = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
            self._staging = self.directory / f".{name}.inprogress"
            self._out = self._staging.open("xb")
        except OSError as exc:
            raise AnalyzerInputError(
                f"cannot write the merged records: {exc.strerror or exc}", path=str(self._staging or self.directory)
            ) from None
        self.path = self.directory / name

    def close(self) -> None:
        """Close the file (the writer, closed, can be handed to another process to publish or discard)."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def publish(self) -> Path | None:
        """Give the written records their name; the file, or None when there was no record."""
        self.close()
        if self._staging is None or self.path is None:
            return None
        self._staging.rename(self.path)
        self._staging = None
        return self.path

    def discard(self) -> None:
        """Close and remove what was written (also by a copy of this writer in another process)."""
        self.close()
        (self.directory / f".{self._name}.inprogress").unlink(missing_ok=True)
        self._staging = None
        self.path = None
        if self._made_directory:
            with contextlib.suppress(OSError):
                self.directory.rmdir()  # only when empty

    def __enter__(self) -> MergedRecordsWriter:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if error_type is None:
            self.close()
        else:
            self.discard()


def write_merged_records(records: Iterable[Mapping], directory: Path) -> Path | None:
    """Write merged records with a ``MergedRecordsWriter``; the file, or None when there is no record."""
    with MergedRecordsWriter(directory) as writer:
        for record in records:
            writer.write(record, record)
    return writer.publish()


# --------------------------------------------------------------------------------------------
# Reading predictions, probabilities and labels out of payloads
# --------------------------------------------------------------------------------------------


def decode_payload(part: dict, *, source: str) -> tuple[str, object]:
    """(kind, value) of a capture or ground-truth part ``{data, encoding[, observedContentType]}``.

    ``CSV`` -> ("CSV", text); ``JSON`` -> ("JSON", parsed value; JSON Lines give a list);
    ``BASE64`` -> decoded, then read as JSON when the content type mentions json, else as CSV.
    """
    data = part.get("data")
    encoding = str(part.get("encoding", "CSV")).upper()
    if not isinstance(data, str):
        raise AnalyzerInputError("payload data is missing or not a string", path=source)
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AnalyzerInputError("BASE64 payload does not decode to UTF-8 text", path=source) from None
        encoding = "JSON" if "json" in str(part.get("observedContentType", "")).lower() else "CSV"
    if encoding == "CSV":
        return "CSV", data
    if encoding == "JSON":
        try:
            return "JSON", orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        try:
            # JSON Lines end at a line feed (str.splitlines would also cut at \v, \x85, \u2028 inside a string)
            return "JSON", [orjson.loads(line) for line in data.split("\n") if line.strip()]
        except orjson.JSONDecodeError:
            raise AnalyzerInputError("JSON payload is not valid JSON or JSON Lines", path=source) from None
    raise AnalyzerInputError(
        f"unknown payload encoding {encoding!r} (expected CSV, JSON or BASE64)", path=source
    )


def _csv_rows(text: str, *, source: str) -> list[list[str]]:
    """The rows of a CSV payload that hold more than blanks (``str.isspace``) and commas. A line ends at a line feed,
    a carriage return or both, as Arrow's CSV reader (the column reader, the capture readers) ends it: a lone
    carriage return between two values makes two rows, as a line feed does."""
    try:
        rows = csv_rows(text)
    except csv.Error as error:  # not met with newline="" and the field size limit raised; said in one line if it is
        raise AnalyzerInputError(f"the CSV payload cannot be read as CSV ({error})", path=source) from None
    return [row for row in rows if row and any(cell.strip() for cell in row)]


def _json_path(expression: str) -> str:
    """A JMESPath expression; a leading JSONPath ``$.`` / ``$`` is accepted and dropped."""
    if expression.startswith("$."):
        return expression[2:]
    if expression.startswith("$"):
        return expression[1:]
    return expression


#: where a batch transform job's JSON output row holds the model's result (beside the input it was joined with)
TRANSFORM_MODEL_OUTPUT = "SageMakerOutput"


def _transform_model_output(row: dict, attribute: str | None) -> object:
    """What an attribute is read from in a transform job's JSON output row: the row itself when the attribute
    finds something there (``SageMakerOutput.score``), else the model's result under ``SageMakerOutput``
    (``predictions[*].score``, as SageMaker's own monitors read it)."""
    if attribute is not None and not attribute.strip().isdigit():
        try:
            if jmespath.search(_json_path(attribute), row) is not None:
                return row
        except jmespath.exceptions.JMESPathError:
            return row  # the search below says what is wrong
    return row[TRANSFORM_MODEL_OUTPUT]


def class_columns(attribute: str | None) -> list[int] | None:
    """The 0-based CSV columns of per-class probabilities an attribute names as a range ``1-4`` (both ends
    included) or a list ``1,2,3,4``; None when it names one column or is no column at all."""
    if attribute is None:
        return None
    text = attribute.replace(" ", "")
    if (match := re.fullmatch(r"(\d+)-(\d+)", text)) is not None:
        first, last = int(match[1]), int(match[2])
        return list(range(first, last + 1)) if last > first else None
    if re.fullmatch(r"\d+(,\d+)+", text):
        return [int(part) for part in text.split(",")]
    return None


def _list_text(fields: Sequence[str]) -> str:
    """Per-class values as the JSON list text a JSON payload's list is written as."""
    return "[" + ",".join(field.strip() for field in fields) + "]"


def read_attribute(
    kind: str, value: object, attribute: str | None, *, what: str, source: str, class_lists: bool = False
) -> list[object]:
    """The values of ``attribute`` in one payload, one per row of a (mini-)batch.

    CSV: ``attribute`` is a 0-based column index; every non-empty line is a row; without an
    attribute each row must have exactly one column. JSON: ``attribute`` is a JMESPath (or
    JSONPath ``$.``) expression, a list result gives one value per row; a digit string indexes a
    top-level list; without an attribute a scalar is the value, an object with a single member
    gives that member. A batch transform job's JSON output row is read at ``SageMakerOutput`` when the
    attribute finds nothing in the row itself (``_transform_model_output``). Raises AnalyzerInputError naming ``what`` (e.g. "inference attribute")
    and the record when nothing is found.

    ``class_lists`` (a multiclass model's probability attribute): a CSV attribute may name several columns
    (``class_columns``), each row's value then the list of them; a JSON result that is a list of lists gives one
    list per row (a batch), and a flat list of numbers stands for the one row of a one-row payload
    (``labelled_predictions`` decides by the row count). Lists come back as their JSON text.
    """
    if kind == "CSV":
        assert isinstance(value, str)
        rows = _csv_rows(value, source=source)
        columns = class_columns(attribute) if class_lists else None
        if columns is not None:
            if any(max(columns) >= len(row) for row in rows):
                raise AnalyzerInputError(
                    f"{what} {attribute} is beyond the columns of the CSV payload", path=source
                )
            return [_list_text([row[c] for c in columns]) for row in rows]
        if attribute is None:
            if any(len(row) != 1 for row in rows):
                raise AnalyzerInputError(
                    f"CSV payload has several columns: set the {what} to the 0-based column index",
                    path=source,
                )
            return [row[0].strip() for row in rows]
        if not attribute.strip().isdigit():
            raise AnalyzerInputError(
                f"{what} {attribute!r} must be a 0-based column index for CSV payloads", path=source
            )
        column = int(attribute)
        if any(column >= len(row) for row in rows):
            raise AnalyzerInputError(
                f"{what} {attribute} is beyond the columns of the CSV payload", path=source
            )
        return [row[column].strip() for row in rows]
    if isinstance(value, dict) and TRANSFORM_MODEL_OUTPUT in value:
        value = _transform_model_output(value, attribute)
    if attribute is None:
        if isinstance(value, dict):
            if len(value) != 1:
                raise AnalyzerInputError(
                    f"JSON payload has several members ({', '.join(sorted(value))}): set the {what} to a JMESPath",
                    path=source,
                )
            value = next(iter(value.values()))
        return list(value) if isinstance(value, list) else [value]
    if attribute.strip().isdigit() and not isinstance(value, dict):
        if isinstance(value, list):
            index = int(attribute)
            if index >= len(value):
                raise AnalyzerInputError(f"{what} {attribute} is beyond the JSON list", path=source)
            return [value[index]]
        return [value]
    try:
        found = jmespath.search(_json_path(attribute), value)
    except jmespath.exceptions.JMESPathError as error:
        raise AnalyzerInputError(
            f"{what} {attribute!r} is not a valid JMESPath expression ({error})"
        ) from None
    if found is None:
        raise AnalyzerInputError(f"{what} {attribute!r} matches nothing in the JSON payload", path=source)
    return list(found) if isinstance(found, list) else [found]


@dataclass(frozen=True, kw_only=True)
class LabelledPredictions:
    """Predictions, probabilities (None when not read) and labels, row-aligned, plus row sources and the
    event (``inferenceId``, else ``eventId``) of each row."""

    predictions: list[object]
    probabilities: list[object] | None
    labels: list[object]
    sources: list[str]
    event_ids: list[str | None] = field(default_factory=list)


def labelled_predictions(
    records: Iterable[dict],
    *,
    inference_attribute: str | None,
    probability_attribute: str | None = None,
    ground_truth_attribute: str | None = None,
    class_probabilities: bool = False,
) -> LabelledPredictions:
    """Rows of (prediction, probability, label) from merged records.

    Predictions and probabilities come from ``captureData.endpointOutput`` (or
    ``batchTransformOutput``), labels from ``groundTruthData``. A record holding a batch must
    yield as many labels as predictions, else AnalyzerInputError names its event id.
    """
    predictions: list[object] = []
    probabilities: list[object] | None = [] if probability_attribute is not None else None
    labels: list[object] = []
    sources: list[str] = []
    event_ids: list[str | None] = []
    for record in records:
        metadata = record.get("eventMetadata") or {}
        event_id = _event_id(metadata)
        source = f"record {event_id}" if event_id is not None else "a record without an inference or event id"
        capture = record.get("captureData") or {}
        output = capture.get("endpointOutput") or capture.get("batchTransformOutput")
        if not isinstance(output, dict):
            raise AnalyzerInputError(
                "record has no captured output (endpointOutput): enable OUTPUT capture on the endpoint",
                path=source,
            )
        text, encoding = output.get("data"), output.get("encoding", "CSV")
        if isinstance(text, str) and isinstance(encoding, str) and holds_no_value(text, encoding.upper()):
            kind, value, row_predictions = None, None, []  # an output without a value: no prediction in it
        else:
            kind, value = decode_payload(output, source=source)
            row_predictions = read_attribute(
                kind, value, inference_attribute, source=source,
                # without an inference attribute, the prediction is read at the probability attribute
                what="probability attribute" if inference_attribute == probability_attribute else "inference attribute",
            )
        gt_kind, gt_value = decode_payload(record["groundTruthData"], source=source)
        row_labels = read_attribute(
            gt_kind, gt_value, ground_truth_attribute, what="ground-truth attribute", source=source
        )
        no_prediction = not row_predictions and len(row_labels) == 1
        if no_prediction:  # an output without a value: a row without a prediction, skipped and counted as such
            row_predictions = [None]
        if len(row_labels) != len(row_predictions):
            empty = "captured output" if not row_predictions else "ground-truth data" if not row_labels else None
            if empty is not None:
                raise AnalyzerInputError(f"the {empty} holds no value (no CSV row or JSON item)", path=source)
            raise AnalyzerInputError(
                f"{len(row_predictions)} predictions but {len(row_labels)} labels: a batched request needs one"
                " label per prediction",
                path=source,
            )
        if probabilities is not None:
            row_probabilities: list[object] = [None] if no_prediction else []
            if kind is not None and not no_prediction:  # the output was decoded and holds a prediction
                row_probabilities = read_attribute(
                    kind, value, probability_attribute, what="probability attribute", source=source,
                    class_lists=class_probabilities,
                )
                if class_probabilities and kind == "JSON":
                    row_probabilities = _class_probability_rows(row_probabilities, len(row_predictions))
            if len(row_probabilities) != len(row_predictions):
                raise AnalyzerInputError(
                    f"{len(row_predictions)} predictions but {len(row_probabilities)} probabilities",
                    path=source,
                )
            probabilities.extend(row_probabilities)
        predictions.extend(row_predictions)
        labels.extend(row_labels)
        sources.extend([source] * len(row_predictions))
        event_ids.extend([event_id] * len(row_predictions))
    return LabelledPredictions(
        predictions=predictions, probabilities=probabilities, labels=labels, sources=sources, event_ids=event_ids
    )


def _class_probability_rows(found: list[object], rows: int) -> list[object]:
    """A multiclass JSON payload's probability values per row: a list of lists is one list per row; a flat list of
    numbers is the one row's list when the payload has one row and the list more than one value (else one value
    per row, as for any attribute)."""
    if found and all(isinstance(item, list) for item in found):
        return found
    if rows == 1 and len(found) > 1 and all(isinstance(item, int | float) and not isinstance(item, bool)
                                             for item in found):
        return [found]
    return found


def _event_id(metadata: object) -> str | None:
    """A merged record's event as messages name it: its ``inferenceId``, else its ``eventId``."""
    if not isinstance(metadata, dict):
        return None
    key = metadata.get("inferenceId") or metadata.get("eventId")
    return None if key is None else str(key)


# --------------------------------------------------------------------------------------------
# The same values as text columns, vectorised for the usual one-row CSV payloads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LabelledColumns:
    """Predictions, probabilities (None when not read) and labels as row-aligned text columns.

    Values keep the text they were written with (JSON values as JSON writes them, booleans as
    ``true``/``false``); a null is a missing value. The job decides what the text means.
    ``event_ids`` (None when unknown, as for a baseline dataset) is the event of each row, the capture's
    ``inferenceId`` else its ``eventId``: where a message can send the user to look.
    """

    predictions: pa.Array
    probabilities: pa.Array | None
    labels: pa.Array
    event_ids: pa.Array | None = None

    def filter(self, keep: np.ndarray) -> LabelledColumns:
        """The rows where ``keep`` is True."""
        mask = pa.array(keep, pa.bool_())
        return LabelledColumns(
            predictions=pc.filter(self.predictions, mask),
            probabilities=None if self.probabilities is None else pc.filter(self.probabilities, mask),
            labels=pc.filter(self.labels, mask),
            event_ids=None if self.event_ids is None else pc.filter(self.event_ids, mask),
        )


def _value_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return orjson.dumps(value).decode()


def _text_column(values: Sequence[object]) -> pa.Array:
    return pa.array([_value_text(v) for v in values], pa.string())


#: Payload text that the naive split cannot read as one CSV row (quotes, a second line, only blanks).
_NOT_ONE_PLAIN_ROW = r'["\r\n]|^[\s,]*$'
#: the blanks and the comma: a row of only these is no row to the per-record reader, not a plain row
_BLANKS_AND_COMMAS = BLANKS + ","
_QUOTE_OR_BREAK = (ord('"'), ord("\r"), ord("\n"))


@dataclass(frozen=True)
class _OneRowCsv:
    """Payloads that are each one plain CSV row (``_one_row_csv_fields``): the rows' text, and whether no row holds
    a comma (each row is then its one field, and the split is not made)."""

    text: pa.Array
    single: bool

    @functools.cached_property
    def fields(self) -> pa.ListArray:
        return pc.split_pattern(self.text, ",")


def _text_bytes(texts: pa.Array) -> np.ndarray:
    """The bytes of a string array's values, all rows' one after the other."""
    data = texts.buffers()[2]
    if data is None or not len(texts):
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset:texts.offset + len(texts) + 1]
    return np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]


def _plain_rows(text: pa.Array) -> bool:
    """Whether no row matches ``_NOT_ONE_PLAIN_ROW``: the bytes of all rows looked at once for a quote or a line
    break, then the rows of blanks and commas alone found by trimming those; the regex only when the bytes hold a
    quote or a line break."""
    found = _text_bytes(text)
    if any(bool((found == code).any()) for code in _QUOTE_OR_BREAK):
        return not pc.any(pc.match_substring_regex(text, _NOT_ONE_PLAIN_ROW)).as_py()
    return not pc.any(pc.equal(pc.utf8_trim(text, characters=_BLANKS_AND_COMMAS), _EMPTY)).as_py()


def _one_row_csv_fields(data: list[object] | pa.Array, encodings: list[object] | pa.Array) -> _OneRowCsv | None:
    """The rows of the payloads when every one is a CSV payload of one plain row, else None.

    Plain means no quotes and no second line once trailing line breaks are dropped: then
    splitting at commas is what a CSV reader does, on the whole column at once.
    """
    try:
        texts = data if isinstance(data, pa.Array) else pa.array(data, pa.string())
        kinds = encodings if isinstance(encodings, pa.Array) else pa.array(encodings, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if texts.null_count or kinds.null_count or pc.unique(pc.utf8_upper(pc.unique(kinds))).to_pylist() not in ([], ["CSV"]):
        return None
    text = pc.utf8_rtrim(texts, characters="\r\n")
    if not _plain_rows(text):
        return None
    return _OneRowCsv(text=text, single=not bool((_text_bytes(text) == ord(",")).any()))


def _field(rows: _OneRowCsv, attribute: str | None) -> pa.Array | None:
    """Field ``attribute`` (a 0-based index; None: the only field) of every row, trimmed, or None
    when some row lacks it (the per-record reader then names the record)."""
    if attribute is None:
        index = 0
        if not rows.single and pc.any(pc.not_equal(pc.list_value_length(rows.fields), 1)).as_py():
            return None
    elif attribute.strip().isdigit():
        index = int(attribute)
        if rows.single:
            if index > 0:
                return None
        elif pc.any(pc.less_equal(pc.list_value_length(rows.fields), index)).as_py():
            return None
    else:
        return None
    return pc.utf8_trim_whitespace(rows.text if rows.single else pc.list_element(rows.fields, index))


def _class_fields(rows: _OneRowCsv, columns: Sequence[int]) -> pa.Array | None:
    """The ``columns`` of every row as a JSON list text, or None when some row lacks one."""
    fields = rows.fields
    if pc.any(pc.less_equal(pc.list_value_length(fields), max(columns))).as_py():
        return None
    parts = [pc.utf8_trim_whitespace(pc.list_element(fields, c)) for c in columns]
    joined = pc.binary_join_element_wise(*parts, ",")
    return pc.binary_join_element_wise(pa.scalar("["), joined, pa.scalar("]"), "")


@dataclass(frozen=True, kw_only=True)
class ValueAttributes:
    """Where the values are: the predicted label or value and the probability in the captured
    output, the label in the ground truth (see ``read_attribute`` for the forms)."""

    inference_attribute: str | None
    probability_attribute: str | None = None
    ground_truth_attribute: str | None = None
    #: the probability attribute may give a list of per-class probabilities per row (a multiclass model)
    class_probabilities: bool = False


def _one_row_csv_columns(
    outputs: tuple[list[object], list[object]], truths: tuple[list[object] | pa.Array, list[object] | pa.Array],
    attributes: ValueAttributes,
) -> LabelledColumns | None:
    """The columns from (data, encoding) lists of outputs and labels (lists or Arrow columns), when all are
    one-row CSV."""
    if len(outputs[0]) == 0:
        return None
    output_fields = _one_row_csv_fields(*outputs)
    truth_fields = None if output_fields is None else _one_row_csv_fields(*truths)
    if output_fields is None or truth_fields is None:
        return None
    predictions = _field(output_fields, attributes.inference_attribute)
    labels = _field(truth_fields, attributes.ground_truth_attribute)
    probabilities = None
    if attributes.probability_attribute is not None:
        columns = class_columns(attributes.probability_attribute) if attributes.class_probabilities else None
        if columns is not None:
            probabilities = _class_fields(output_fields, columns)
        elif attributes.probability_attribute == attributes.inference_attribute:  # one field read once
            probabilities = predictions
        else:
            probabilities = _field(output_fields, attributes.probability_attribute)
        if probabilities is None:
            return None
    if predictions is None or labels is None:
        return None
    return LabelledColumns(predictions=predictions, probabilities=probabilities, labels=labels)


def _record_by_record(records: Iterable[Mapping], attributes: ValueAttributes) -> LabelledColumns:
    rows = labelled_predictions(
        records,
        inference_attribute=attributes.inference_attribute,
        probability_attribute=attributes.probability_attribute,
        ground_truth_attribute=attributes.ground_truth_attribute,
        class_probabilities=attributes.class_probabilities,
    )
    return LabelledColumns(
        predictions=_text_column(rows.predictions),
        probabilities=None if rows.probabilities is None else _text_column(rows.probabilities),
        labels=_text_column(rows.labels),
        event_ids=pa.array(rows.event_ids, pa.string()),
    )


def _dict_parts(parts: Sequence[object]) -> tuple[list[object], list[object]]:
    return (
        [part.get("data") if type(part) is dict else None for part in parts],
        [part.get("encoding", "CSV") if type(part) is dict else None for part in parts],
    )


def labelled_columns(records: Sequence[Mapping], attributes: ValueAttributes) -> LabelledColumns:
    """``labelled_predictions`` of merged records as text columns: on whole columns when every
    output and every label is a one-row CSV payload (the usual endpoint), else record by record."""
    outputs, truths, event_ids = [], [], []
    for record in records:
        capture = record.get("captureData") or {}
        outputs.append(capture.get("endpointOutput") or capture.get("batchTransformOutput"))
        truths.append(record.get("groundTruthData"))
        event_ids.append(_event_id(record.get("eventMetadata")))
    fast = _one_row_csv_columns(_dict_parts(outputs), _dict_parts(truths), attributes)
    if fast is None:
        return _record_by_record(records, attributes)
    return dataclasses.replace(fast, event_ids=pa.array(event_ids, pa.string()))


def output_columns(chunks: Sequence[tuple[pa.Array, ...]], attributes: ValueAttributes) -> LabelledColumns:
    """The predictions and probabilities of captured output payloads that have no label (chunks of data,
    encodings, content types as ``CapturedOutputs`` holds them, and optionally the captures' join keys, which
    an unreadable payload's error names), read by the same rules as labelled ones.
    ``labels`` repeats the predictions: there are none, and nothing may read them as labels."""
    if not chunks:
        empty = pa.array([], pa.string())
        return LabelledColumns(predictions=empty, probabilities=None if attributes.probability_attribute is None
                               else empty, labels=empty)
    data, encodings, content_types = (pa.concat_arrays([chunk[i] for chunk in chunks]) for i in range(3))
    as_labels = dataclasses.replace(attributes, ground_truth_attribute=attributes.inference_attribute)
    fast = _one_row_csv_columns((data, encodings), (data, encodings), as_labels)
    if fast is not None:
        return fast
    keys = pa.concat_arrays([chunk[3] for chunk in chunks]).to_pylist() if all(len(chunk) > 3 for chunk in chunks) \
        else itertools.repeat(None)
    records = ({"captureData": {"endpointOutput": output}, "groundTruthData": output,
                "eventMetadata": {"eventId": key}}
               for output, key in (({"data": d, "encoding": e or "CSV", "observedContentType": c}, k)
                                   for d, e, c, k in zip(data.to_pylist(), encodings.to_pylist(),
                                                         content_types.to_pylist(), keys) if d is not None))
    return _record_by_record(records, as_labels)


@dataclass(frozen=True)
class _RepeatedText:
    """A text column holding one text in each of its ``count`` rows (an encoding, a content type), as a builder
    carries it to another process: the text once, not once a row."""

    text: bytes
    count: int

    @classmethod
    def of(cls, column: pa.Array) -> _RepeatedText | pa.Array:
        """``column`` as one repeated text when it is one (no null), else as it is."""
        if not len(column) or column.null_count or not pa.types.is_string(column.type):
            return column
        offsets = np.frombuffer(column.buffers()[1], dtype=np.int32, count=len(column) + 1, offset=column.offset * 4)
        width = int(offsets[1] - offsets[0])
        if not (np.diff(offsets) == width).all():
            return column
        data = column.buffers()[2]
        start = int(offsets[0])
        first = b"" if data is None or not width else data[start:start + width].to_pybytes()
        if width:
            rows = np.frombuffer(data, dtype=np.uint8, count=width * len(column), offset=start).reshape(-1, width)
            if not (rows == np.frombuffer(first, dtype=np.uint8)).all():
                return column
        return cls(first, len(column))

    def column(self) -> pa.Array:
        """The text column again."""
        offsets = np.arange(self.count + 1, dtype=np.int32) * len(self.text)
        return pa.Array.from_buffers(pa.string(), self.count,
                                     [None, pa.py_buffer(offsets), pa.py_buffer(self.text * self.count)])


def _as_column(column: pa.Array | _RepeatedText) -> pa.Array:
    return column.column() if isinstance(column, _RepeatedText) else column


class LabelledColumnsBuilder:
    """Collects the captured output payload and the label of each matched pair (not the whole
    records, which need not stay in memory) and reads the columns at the end. Pairs come one by
    one (``add``), as captures with rows of a join's label columns (``add_matched``), or as output
    columns with those rows (``add_matched_outputs``)."""

    def __init__(self) -> None:
        self._output_chunks: list[tuple[pa.Array, pa.Array, pa.Array]] = []  # (data, encodings, content types)
        self._pending_outputs: list[CapturedPayload | None] = []
        self._label_chunks: list[tuple[pa.Array, pa.Array, pa.Array]] = []  # (ids, data, encodings)
        self._pending: list[GroundTruthRecord] = []

    @staticmethod
    def _output(capture: CaptureRecord) -> CapturedPayload | None:
        output = capture.endpoint_output
        return capture.payload("batchTransformOutput") if output is None else output

    def add(self, capture: CaptureRecord, label: GroundTruthRecord) -> None:
        """Keep the output payload (``endpointOutput``, else ``batchTransformOutput``) and the label."""
        self._pending_outputs.append(self._output(capture))
        self._pending.append(label)

    def add_matched(self, captures: Sequence[CaptureRecord], labels: GroundTruthColumns, rows: np.ndarray) -> None:
        """Keep the output payloads of ``captures`` and their labels, the ``rows`` of ``labels``."""
        self._flush()
        self._pending_outputs.extend(self._output(capture) for capture in captures)
        self._flush()
        taken = int64_array(rows)
        self._label_chunks.append((labels.event_ids.take(taken), labels.data.take(taken), labels.encodings.take(taken)))

    def add_matched_outputs(self, outputs: CapturedOutputs, positions: np.ndarray, labels: GroundTruthColumns,
                            rows: np.ndarray) -> None:
        """Keep the output payloads at ``positions`` of ``outputs`` and their labels, the ``rows`` of ``labels``."""
        self._flush()
        if len(positions) == len(outputs):  # every capture of the chunk matched: its columns as they are
            self._output_chunks.append((outputs.data, outputs.encodings, outputs.content_types))
        else:
            chosen = int64_array(positions)
            self._output_chunks.append((outputs.data.take(chosen), outputs.encodings.take(chosen),
                                        outputs.content_types.take(chosen)))
        taken = int64_array(rows)
        self._label_chunks.append((labels.event_ids.take(taken), labels.data.take(taken), labels.encodings.take(taken)))

    def extend(self, other: LabelledColumnsBuilder) -> None:
        """Add the pairs ``other`` collected after this one's (a later part of the captures)."""
        self._flush()
        other._flush()
        self._output_chunks.extend(other._output_chunks)
        self._label_chunks.extend(other._label_chunks)

    def _flush(self) -> None:
        if self._pending_outputs:
            outputs, self._pending_outputs = self._pending_outputs, []
            self._output_chunks.append((
                pa.array([None if o is None else o.data for o in outputs], pa.string()),
                pa.array([None if o is None else o.encoding for o in outputs], pa.string()),
                pa.array([None if o is None else o.observed_content_type for o in outputs], pa.string()),
            ))
        if self._pending:
            pending, self._pending = self._pending, []
            self._label_chunks.append(tuple(pa.array([getattr(label, name) for label in pending], pa.string())
                                            for name in ("event_id", "data", "encoding")))  # type: ignore[arg-type]

    @staticmethod
    def _joined(chunks: list[tuple[pa.Array, pa.Array, pa.Array]], column: int) -> pa.Array:
        if not chunks:
            return pa.array([], pa.string())
        return pa.concat_arrays([_as_column(chunk[column]) for chunk in chunks])

    def __getstate__(self) -> dict[str, object]:
        """The builder as it travels to another process (a part's, Spark's): a column that holds one text in every
        row of a chunk (the encodings, the content types) carried as that text once (``_RepeatedText``)."""
        self._flush()
        state = dict(self.__dict__)
        for name in ("_output_chunks", "_label_chunks"):
            state[name] = [tuple(_RepeatedText.of(column) if isinstance(column, pa.Array) else column
                                 for column in chunk) for chunk in state[name]]  # type: ignore[attr-defined]
        return state

    def _records(self, outputs: tuple[pa.Array, pa.Array, pa.Array], ids: pa.Array, data: pa.Array,
                 encodings: pa.Array) -> Iterator[dict]:
        """Minimal merged records of the kept payloads, for the per-record reader."""
        for output_data, output_encoding, content_type, event_id, value, encoding in zip(
                *(column.to_pylist() for column in outputs), ids.to_pylist(), data.to_pylist(), encodings.to_pylist(),
                strict=True):
            part = None if output_data is None else {
                "data": output_data, "encoding": output_encoding, "observedContentType": content_type}
            yield {"captureData": {"endpointOutput": part}, "groundTruthData": {"data": value, "encoding": encoding},
                   "eventMetadata": {"eventId": event_id}}  # fmt: skip

    def columns(self, attributes: ValueAttributes) -> LabelledColumns:
        """``labelled_columns`` of the pairs added so far."""
        self._flush()
        ids, data, encodings = (self._joined(self._label_chunks, column) for column in range(3))
        output_data, output_encodings = (self._joined(self._output_chunks, column) for column in range(2))
        fast = _one_row_csv_columns((output_data, output_encodings), (data, encodings), attributes)
        if fast is None:  # the content types only now: the per-record reader alone reads them
            outputs = (output_data, output_encodings, self._joined(self._output_chunks, 2))
            return _record_by_record(self._records(outputs, ids, data, encodings), attributes)
        return dataclasses.replace(fast, event_ids=ids)  # a label's eventId is its capture's join key
