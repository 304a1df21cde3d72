"""Ground-truth records (contract §2.1): build them, read them back from their S3 layout.

A ground-truth record carries one label (or one batch of labels) for one inference::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<the capture's inferenceId, else its eventId>"},
     "eventVersion": "0"}

Files are JSON Lines under ``<prefix>/yyyy/mm/dd/HH/`` where the hour is when the labels were
uploaded, not when the inference happened. ``read_ground_truth`` keeps that upload hour so a
monitoring run can take the labels of its own window and look back for their captures. A
malformed line is counted (``io.problems``) with its file and line and skipped, like a malformed
capture line. ``read_ground_truth_columns`` gives the same labels as Arrow columns, for the join.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.arrow_texts import bool_mask, text_array, text_scalar
from model_monitor_analyzer.io.datasets import BLANKS, csv_rows, line_chunks
from model_monitor_analyzer.io.jsonlines import (
    iter_json_objects,
    json_chunk_table,
    json_lines_files,
    line_bounds,
    open_lines,
)
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.sorted_json import lines_to_write_one_by_one, sorted_json_texts

#: Label encodings of the ground-truth format: CSV text (one value per line) or a JSON document.
ENCODINGS = ("CSV", "JSON")

Label = str | int | float | bool | dict | list

LABEL_CHUNK_BYTES = 8 << 20  # label files are read in whole-line chunks of about this size
_HOUR_FOLDERS = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")


class GroundTruthRecord(NamedTuple):
    """One ground-truth line as read from a file.

    ``uploaded_hour`` is the UTC hour of the ``yyyy/mm/dd/HH`` folders the file lies in, or None
    when its path has no such folders; ``path`` and ``line`` say where the record was read.
    A NamedTuple rather than a frozen dataclass: a run builds one per label, often millions, and
    a frozen dataclass takes ten times longer to build.
    """

    event_id: str
    data: str
    encoding: str
    uploaded_hour: datetime | None
    path: str
    line: int
    record: dict

    @property
    def source(self) -> str:
        """``<file>:<line>``, for messages."""
        return f"{self.path}:{self.line}"


def ground_truth_record(inference_id: str, label: Label) -> dict:
    """The ground-truth record for ``label`` of the inference ``inference_id``.

    Scalars become CSV text (``True``/``False`` as ``1``/``0``, floats in Python's shortest
    form); dicts and lists become JSON text with encoding ``JSON``, the shape the Clarify
    monitor reads (e.g. ``{"label": 1}``). Raises AnalyzerInputError for an empty id, a
    non-finite number, text with a line break or a value of another type.
    """
    if not isinstance(inference_id, str) or not inference_id.strip():
        raise AnalyzerInputError(
            f"inference id {inference_id!r} is empty: pass the InferenceId sent to the endpoint"
        )
    if isinstance(label, bool):
        data, encoding = ("1" if label else "0"), "CSV"
    elif isinstance(label, int):
        data, encoding = str(label), "CSV"
    elif isinstance(label, float):
        if not math.isfinite(label):
            raise AnalyzerInputError(f"label {label!r} of inference {inference_id!r} is not a finite number")
        data, encoding = repr(label), "CSV"
    elif isinstance(label, str):
        if "\n" in label or "\r" in label:
            raise AnalyzerInputError(
                f"label of inference {inference_id!r} contains a line break: send one value, or a dict for JSON"
            )
        data, encoding = label, "CSV"
    elif isinstance(label, dict | list):
        data, encoding = json.dumps(label, separators=(",", ":")), "JSON"
    else:
        raise AnalyzerInputError(
            f"label of inference {inference_id!r} has type {type(label).__name__}: use str, int, float, bool or dict"
        )
    return {
        "groundTruthData": {"data": data, "encoding": encoding},
        "eventMetadata": {"eventId": inference_id},
        "eventVersion": "0",
    }


def upload_hour(path: Path, root: Path) -> datetime | None:
    """UTC hour of the last ``yyyy/mm/dd/HH`` folder run in ``path`` relative to ``root``, if any."""
    try:
        relative = path.relative_to(root).parent.as_posix()
    except ValueError:
        relative = path.parent.as_posix()
    matches = list(_HOUR_FOLDERS.finditer(relative))
    if not matches:
        return None
    year, month, day, hour = (int(g) for g in matches[-1].groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def _record_problem(record: dict) -> str | None:
    """What makes ``record`` unusable as a ground-truth record, or None when it is one."""
    data = record.get("groundTruthData")
    metadata = record.get("eventMetadata")
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        return "a ground-truth record needs groundTruthData {data, encoding} and eventMetadata {eventId}"
    event_id = metadata.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        return "eventMetadata.eventId is missing or not a string"
    encoding = data.get("encoding", "CSV")
    if not isinstance(encoding, str) or encoding.upper() not in ENCODINGS:
        return f"groundTruthData.encoding {encoding!r} is not one of {', '.join(ENCODINGS)}"
    if not isinstance(data.get("data"), str):
        return "groundTruthData.data must be a string"
    if holds_no_value(data["data"], encoding.upper()):
        return NO_LABEL
    return None


#: a label without a value: a bad ground-truth record (counted, tolerated up to the bad-record ratio), not a reason to
#: stop the window, whose other labels are good
NO_LABEL = "groundTruthData.data holds no label (no CSV row with a value, or an empty JSON list)"


def holds_no_value(value: str, encoding: str) -> bool:
    """Whether a label's or a captured output's text (``encoding`` upper-cased) holds nothing: empty or blanks; CSV
    of blanks, commas and quoted blanks only (no row with a value, as the join reads it); a JSON ``[]``."""
    if encoding == "CSV":
        rest = value.strip(BLANKS + ",")
        if rest and not rest.strip(BLANKS + ',"'):  # only quotes left: the values they quote may all be blank
            try:
                return all(not cell.strip() for row in csv_rows(value) for cell in row)
            except csv.Error:  # the join says what is wrong with it
                return False
        return not rest
    rest = value.strip(BLANKS)
    if encoding == "JSON" and rest[:1] == "[" and rest[-1:] == "]":
        return not rest[1:-1].strip(BLANKS)
    return not rest


def _fields(record: dict) -> tuple[str, str, str] | str:
    """(eventId, data, encoding) of a ground-truth record, or what makes it unusable."""
    try:
        data = record["groundTruthData"]
        event_id = record["eventMetadata"]["eventId"]
        value = data["data"]
        encoding = data.get("encoding", "CSV")
    except (KeyError, TypeError, AttributeError):
        return _record_problem(record) or "malformed ground-truth record"
    if type(event_id) is str and event_id and type(value) is str and type(encoding) is str:
        upper = encoding if encoding in ENCODINGS else encoding.upper()
        if upper in ENCODINGS:
            return NO_LABEL if holds_no_value(value, upper) else (event_id, value, upper)
    return _record_problem(record) or "malformed ground-truth record"


def ground_truth_files(root: Path) -> list[Path]:
    """Every ``*.jsonl`` / ``*.json`` file under ``root`` (or ``root`` itself), in path order."""
    return json_lines_files(root, what="ground-truth")


def _upload_order(hour: datetime | None, path: Path) -> tuple[bool, datetime, str]:
    # Files outside the hour layout first, then by upload hour, then by path: the later a
    # label is read, the later it was sent.
    return (hour is not None, hour or datetime.min.replace(tzinfo=UTC), str(path))


def _chosen_files(root: Path, uploaded_from: datetime | None, uploaded_before: datetime | None
                  ) -> list[tuple[Path, datetime | None]]:
    """The files of the window in upload order, each with its upload hour (see ``read_ground_truth``)."""
    base = root if root.is_dir() else root.parent
    chosen = []
    for path in ground_truth_files(root):
        hour = upload_hour(path, base)
        if hour is not None:
            if uploaded_from is not None and hour < uploaded_from.replace(minute=0, second=0, microsecond=0):
                continue
            if uploaded_before is not None and hour >= uploaded_before:
                continue
        chosen.append((_upload_order(hour, path), path, hour))
    chosen.sort(key=lambda item: item[0])
    return [(path, hour) for _, path, hour in chosen]


def _labels_of_file(path: Path, tally: InputProblems) -> Iterator[tuple[int, dict, tuple[str, str, str]]]:
    """(line, record, (eventId, data, encoding)) of each usable line of one file; the others counted bad."""
    text = str(path)
    good = 0
    for _, number, record in iter_json_objects([path], problems=tally, what="ground-truth record"):
        fields = _fields(record)
        if type(fields) is str:
            tally.record_bad(text, number, fields)
            continue
        good += 1
        yield number, record, fields
    tally.record_good(good)


def read_ground_truth(
    root: Path,
    *,
    uploaded_from: datetime | None = None,
    uploaded_before: datetime | None = None,
    problems: InputProblems | None = None,
) -> Iterator[GroundTruthRecord]:
    """Ground-truth records under ``root``, in upload order: files by upload hour (files outside
    the ``yyyy/mm/dd/HH`` layout first), then path, then line.

    With ``uploaded_from``/``uploaded_before`` only files whose upload hour lies in
    [uploaded_from, uploaded_before) are read; files outside the layout have no known upload hour
    and are always read. A malformed line is counted in ``problems`` with its file and line and
    skipped; without ``problems`` the tolerated share is checked once the files are read.
    """
    tally = InputProblems() if problems is None else problems
    for path, hour in _chosen_files(root, uploaded_from, uploaded_before):
        text = str(path)
        for number, record, (event_id, data, encoding) in _labels_of_file(path, tally):
            yield GroundTruthRecord(
                event_id=event_id,
                data=data,
                encoding=encoding,
                uploaded_hour=hour,
                path=text,
                line=number,
                record=record,
            )
    if problems is None:
        tally.check()


class LabelRecords(Sequence[dict]):
    """The records of a window's labels, for the merged records: parsed from their lines when asked for
    (a run keeps the lines, not a dict per label), or the records as read one by one."""

    def __init__(self, records: list[dict] | None = None) -> None:
        self._records = records
        self._chunks: list[tuple[bytes, np.ndarray, np.ndarray]] = []  # (chunk, line starts, line ends)
        self._first_rows: list[int] = []
        self._count = 0 if records is None else len(records)
        self._parsed: dict[int, dict] = {}

    def add_lines(self, chunk: bytes, starts: np.ndarray, ends: np.ndarray) -> None:
        """Labels whose records are the lines ``chunk[starts[i]:ends[i]]``, after those added before."""
        self._first_rows.append(self._count)
        self._chunks.append((chunk, starts, ends))
        self._count += len(starts)

    def add_record(self, record: dict) -> None:
        """One label whose record was read already (a line read on its own)."""
        self._parsed[self._count] = record
        self._count += 1

    def extend(self, other: LabelRecords) -> None:
        """The labels of ``other`` after those added before (a later part of the files)."""
        assert self._records is None and other._records is None
        for first, chunk in zip(other._first_rows, other._chunks, strict=True):
            self._first_rows.append(self._count + first)
            self._chunks.append(chunk)
        self._parsed.update({self._count + row: record for row, record in other._parsed.items()})
        self._count += other._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._count))]
        if self._records is not None:
            return self._records[row]
        if row < 0:
            row += self._count
        if row in self._parsed:
            return self._parsed[row]
        index = bisect.bisect_right(self._first_rows, row) - 1
        chunk, starts, ends = self._chunks[index]
        line = row - self._first_rows[index]
        return orjson.loads(chunk[starts[line]:ends[line]])


@dataclass(frozen=True, kw_only=True)
class GroundTruthColumns:
    """A window's labels as Arrow columns, in upload order (``read_ground_truth``'s order), with each one's
    record for the merged records. The join (``io.merge.WindowJoin``) works on the columns.

    ``truths`` is each record's ``groundTruthData`` as the merged records write it (``truth_text``); None
    when not made yet (``truth_texts`` makes it from the records)."""

    event_ids: pa.Array
    data: pa.Array
    encodings: pa.Array
    records: Sequence[dict]
    truths: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.event_ids)

    def truth_texts(self) -> pa.Array:
        """``truths``, made from the records when the labels were read without it."""
        if self.truths is not None:
            return self.truths
        return pa.array([truth_text(record) for record in self.records], pa.string())

    @classmethod
    def of(cls, labels: Iterable[GroundTruthRecord]) -> GroundTruthColumns:
        """The columns of labels read one by one."""
        read = list(labels)
        return cls(event_ids=pa.array([label.event_id for label in read], pa.string()),
                   data=pa.array([label.data for label in read], pa.string()),
                   encodings=pa.array([label.encoding for label in read], pa.string()),
                   records=[label.record for label in read])


def truth_text(record: dict) -> str:
    """A ground-truth (or merged) record's ``groundTruthData`` as the merged records write it: compact JSON,
    members in name order."""
    return orjson.dumps(record["groundTruthData"], option=orjson.OPT_SORT_KEYS).decode()


def _truths_of_chunk(table: pa.Table, chunk: bytes, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """``truth_text`` of every label of a chunk read column-wise: from the columns (``io.sorted_json``), and
    from its line for a label the columns cannot say exactly."""
    written = sorted_json_texts(table.column("groundTruthData"))
    by_record = lines_to_write_one_by_one(chunk, starts, ends)
    if written is None:
        by_record[:] = True
        texts = pa.nulls(len(starts), pa.string())
    else:
        by_record |= written.by_record
        texts = written.texts
    if by_record.any():
        rows = np.flatnonzero(by_record)
        exact = pa.array([truth_text(orjson.loads(chunk[starts[row]:ends[row]])) for row in rows.tolist()],
                         pa.string())
        texts = pc.replace_with_mask(texts, pa.array(by_record), exact)
    return texts


_NOT_A_VALUE = BLANKS + ',"[]'
_LABEL_ENVELOPE = pa.schema([
    ("groundTruthData", pa.struct([("data", pa.string()), ("encoding", pa.string())])),
    ("eventMetadata", pa.struct([("eventId", pa.string())])),
])
# the other members are inferred: the merged records are written with them
_LABEL_OPTIONS = pajson.ParseOptions(explicit_schema=_LABEL_ENVELOPE, unexpected_field_behavior="infer")


def _usable_labels(table: pa.Table) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array]:
    """(usable, eventId, data, encoding upper-cased) of a chunk's labels read column-wise: usable where the
    record has a non-empty eventId, a data text and an encoding of ``ENCODINGS`` (CSV when unsaid); the
    others are read on their own, which says what is wrong."""
    truth = table.column("groundTruthData").combine_chunks()
    metadata = table.column("eventMetadata").combine_chunks()
    event_ids = pc.struct_field(metadata, "eventId")
    data = pc.struct_field(truth, "data")
    encodings = pc.utf8_upper(pc.coalesce(pc.struct_field(truth, "encoding"), text_scalar("CSV")))
    empty = text_scalar("")  # Arrow values built from buffers: a Python operand makes pyarrow import pandas
    usable = pc.and_(pc.and_(pc.is_valid(data), pc.not_equal(event_ids, empty)),
                     pc.is_in(encodings, value_set=text_array(ENCODINGS)))
    # a label of only blanks, commas, quotes and brackets is read on its own, which says whether it holds a label
    usable = pc.and_(usable, pc.not_equal(pc.utf8_trim(data, characters=_NOT_A_VALUE), empty))
    return bool_mask(usable), event_ids, data, encodings


def _labels_line_by_line(path: str, chunk: bytes, lines_before: int, tally: InputProblems,
                         lines: Iterable[int] | None = None, bounds: tuple[np.ndarray, np.ndarray] | None = None
                         ) -> Iterator[tuple[int, dict, tuple[str, str, str]]]:
    """(line, record, fields) of the chunk's usable labels read one line at a time (all lines, or the
    ``lines`` given by index with their ``bounds``); the others counted bad as ``read_ground_truth`` does."""
    if lines is None:
        numbered = enumerate(chunk.split(b"\n"))
    else:
        starts, ends = bounds  # type: ignore[misc]
        numbered = ((index, chunk[starts[index]:ends[index]]) for index in lines)
    for index, line in numbered:
        number = lines_before + index + 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            if line.strip():
                tally.record_bad(path, number, f"not a JSON ground-truth record ({error.args[0] if error.args else error})")
            continue
        if not isinstance(record, dict):
            tally.record_bad(path, number, "a ground-truth record must be a JSON object")
            continue
        fields = _fields(record)
        if type(fields) is str:
            tally.record_bad(path, number, fields)
            continue
        tally.record_good()
        yield number, record, fields  # type: ignore[misc]


@dataclass(kw_only=True)
class LabelColumnParts:
    """The label columns of some files read column-wise, a piece per chunk, not joined yet; with their records and
    the tally of their bad lines: what one run of files read on its own (in a thread of its own) gives."""

    ids: list[pa.Array]
    data: list[pa.Array]
    encodings: list[pa.Array]
    truths: list[pa.Array]
    records: LabelRecords
    problems: InputProblems


def read_label_files(files: Sequence[Path], *, use_threads: bool = True) -> LabelColumnParts:
    """The labels of ``files``, in their order: each chunk of lines parsed column-wise by Arrow's JSON reader (on
    every core unless ``use_threads`` is False: see ``json_chunk_table``), and only the labels that path cannot
    take read one by one, in place."""
    tally = InputProblems()
    read = LabelColumnParts(ids=[], data=[], encodings=[], truths=[], records=LabelRecords(), problems=tally)
    records = read.records
    for path in files:
        text = str(path)
        with open_lines(path) as handle:
            try:
                chunks = list(line_chunks(handle, LABEL_CHUNK_BYTES))
            except (OSError, EOFError, zlib.error) as error:
                raise AnalyzerInputError(f"cannot read this file to its end ({error})", path=text) from None
        lines_after = 0
        for chunk in chunks:
            bounds = line_bounds(chunk)  # one pass for the lines' bounds and their count
            lines_before, lines_after = lines_after, lines_after + len(bounds[0])
            table_read = json_chunk_table(chunk, _LABEL_OPTIONS, use_threads=use_threads, bounds=bounds)
            if table_read is not None:
                table, starts, ends = table_read
                usable, event_ids, data, encodings = _usable_labels(table)
                if usable.all():
                    read.ids.append(event_ids)
                    read.data.append(data)
                    read.encodings.append(encodings)
                    read.truths.append(_truths_of_chunk(table, chunk, starts, ends))
                    records.add_lines(chunk, starts, ends)
                    tally.record_good(len(usable))
                    continue
            # a chunk with labels the column-wise path cannot take: every line on its own, in order
            kept = list(_labels_line_by_line(text, chunk, lines_before, tally))
            for _, record, _ in kept:
                records.add_record(record)
            read.ids.append(pa.array([fields[0] for _, _, fields in kept], pa.string()))
            read.data.append(pa.array([fields[1] for _, _, fields in kept], pa.string()))
            read.encodings.append(pa.array([fields[2] for _, _, fields in kept], pa.string()))
            read.truths.append(pa.array([truth_text(record) for _, record, _ in kept], pa.string()))
    return read


def label_file_groups(files: Sequence[Path], parts: int) -> list[list[Path]]:
    """``files`` in at most ``parts`` runs of neighbouring files, of about equal bytes (a file is never split)."""
    sizes = _sizes(files)
    total = sum(sizes)
    groups: list[list[Path]] = [[]]
    done = 0
    for path, size in zip(files, sizes, strict=True):
        # a file goes to the next run when its middle lies past the end of this run's share
        if groups[-1] and len(groups) < parts and done + size / 2 >= total * len(groups) / parts:
            groups.append([])
        groups[-1].append(path)
        done += size
    return [group for group in groups if group]


def window_label_files(root: Path, *, uploaded_from: datetime | None = None,
                       uploaded_before: datetime | None = None) -> list[Path]:
    """The label files ``read_ground_truth`` reads for the window, in its order."""
    return [path for path, _ in _chosen_files(root, uploaded_from, uploaded_before)]


def joined_label_columns(parts: Sequence[LabelColumnParts], problems: InputProblems | None = None
                         ) -> GroundTruthColumns:
    """The columns of runs of files read in parts (``read_label_files``), in part order, their bad lines added to
    ``problems`` (checked here when None): what one ``read_label_files`` of all the files gives."""
    tally = InputProblems() if problems is None else problems
    records = LabelRecords()
    for part in parts:
        tally.merge(part.problems)
        records.extend(part.records)
    if problems is None:
        tally.check()

    def joined(pieces: list[pa.Array]) -> pa.Array:
        return pa.concat_arrays(pieces) if pieces else pa.array([], pa.string())

    return GroundTruthColumns(event_ids=joined([a for part in parts for a in part.ids]),
                              data=joined([a for part in parts for a in part.data]),
                              encodings=joined([a for part in parts for a in part.encodings]), records=records,
                              truths=joined([a for part in parts for a in part.truths]))


def read_ground_truth_columns(
    root: Path,
    *,
    uploaded_from: datetime | None = None,
    uploaded_before: datetime | None = None,
    problems: InputProblems | None = None,
) -> GroundTruthColumns:
    """``read_ground_truth``'s labels, same files, order and bad-record policy, as columns: each chunk of
    lines parsed column-wise by Arrow's JSON reader, and only the labels that path cannot take read one by
    one, in place. A run reads a large window's files in parts (``label_file_groups``, ``read_label_files``,
    ``joined_label_columns``): the same columns, records and tally."""
    files = window_label_files(root, uploaded_from=uploaded_from, uploaded_before=uploaded_before)
    return joined_label_columns([read_label_files(files)], problems)


def file_bytes(files: Sequence[Path]) -> int:
    """The bytes of ``files`` (a file that cannot be read counts 0: its read says what is wrong)."""
    return sum(_sizes(files))


def _sizes(files: Sequence[Path]) -> list[int]:
    sizes = []
    for path in files:
        try:
            sizes.append(path.stat().st_size)
        except OSError:  # the read says what is wrong
            sizes.append(0)
    return sizes
