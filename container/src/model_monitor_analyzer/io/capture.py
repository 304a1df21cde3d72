"""SageMaker data-capture files (contract section 1): records, payloads and columnar batches.

Layout: ``<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``, one JSON record per line::

    {"captureData": {"endpointInput": {"data": "1,2,3", "encoding": "CSV", ...},
                     "endpointOutput": {"data": "0.7", "encoding": "CSV", ...}},
     "eventMetadata": {"eventId": "...", "inferenceId": "...", "inferenceTime": "2022-04-18T00:21:48Z"},
     "eventVersion": "0"}

Two readers share the same parsing:

* ``iter_capture_records`` yields one ``CaptureRecord`` per line (for model quality, merge,
  custom pre-processors);
* ``read_capture_batches`` is the lean data-quality path: it turns the chosen payloads of
  each record into one CSV row (output columns first by default, as the built-in does with
  ``output_columns_position`` START), joins the rows of a batch and parses them with Arrow
  in one go.

A line that is not JSON, lacks ``captureData`` or has an unusable payload is counted in
``InputProblems`` with ``file:line`` and skipped; a record whose ``inferenceTime`` falls
outside the window is skipped silently.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import csv
import functools
import math
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from typing import TypeVar
from urllib.parse import unquote

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.arrow_texts import (
    bool_array,
    bool_mask,
    int64_array,
    text_array,
    text_scalar,
    valid_mask,
)
from model_monitor_analyzer.io.datasets import (
    allow_csv_values,
    csv_bytes_batch,
    csv_parts,
    csv_rows,
    csv_text_batch,
    line_chunks,
)
from model_monitor_analyzer.io.jsonlines import (
    GZIP_MAGIC,
    UTF8_BOM,
    analyzer_document,
    json_chunk_table,
    json_lines_files,
    json_text,
    line_bounds,
    loads_as_arrow_reads,
    open_lines,
    read_lines,
)
from model_monitor_analyzer.io.manifest import local_file_path, looks_like_manifest, parse_manifest
from model_monitor_analyzer.io.problems import InputProblems, lines_of_part
from model_monitor_analyzer.io.window import CAPTURE_TIME, TimeWindow

ENDPOINT_INPUT = "endpointInput"
ENDPOINT_OUTPUT = "endpointOutput"
# A batch transform job's rows as records (``io.batch``): read where an endpoint's payloads are absent.
BATCH_INPUT = "batchTransformInput"
BATCH_OUTPUT = "batchTransformOutput"
DEFAULT_CAPTURE_INDEX_NAMES = (ENDPOINT_INPUT, ENDPOINT_OUTPUT)
DEFAULT_BATCH_RECORDS = 65_536
_JSON_ROW_KEYS = ("instances", "features", "predictions", "data", "inputs", "outputs")


class PayloadError(ValueError):
    """A capture payload that cannot be turned into rows."""


# CapturedPayload, EventMetadata and CaptureRecord are made for every captured line. They are not
# frozen: a frozen dataclass's __init__ costs twice as much (about 1 us against 0.45 us), seconds
# of a model-quality run over a million lines. Nothing changes them once read.
@dataclass(slots=True, kw_only=True)
class CapturedPayload:
    """One of ``endpointInput`` / ``endpointOutput`` / ``groundTruthData`` of a record."""

    data: str
    encoding: str
    observed_content_type: str | None = None
    mode: str | None = None

    def text(self) -> str:
        """The payload as text: ``data`` itself, or base64-decoded UTF-8 for ``BASE64``."""
        return payload_text(self.data, self.encoding)


@dataclass(slots=True, kw_only=True)  # not frozen: see above
class EventMetadata:
    """``eventMetadata`` of a record (``event_time`` is ``inferenceTime`` as written)."""

    event_id: str | None
    inference_id: str | None
    event_time: str | None
    custom_attributes: object = None


@dataclass(slots=True, kw_only=True)  # not frozen: see above
class CaptureRecord:
    """One captured inference, with where it was read from.

    Attribute names follow the SageMaker pre-processor contract (``inference_record
    .endpoint_input.data``, ``.event_metadata.event_id``), so a ``preprocess_handler`` written
    for the built-in analyzer runs unchanged on it.
    """

    endpoint_input: CapturedPayload | None
    endpoint_output: CapturedPayload | None
    event_metadata: EventMetadata
    event_version: str | None
    raw: dict
    path: str
    line: int

    @property
    def inference_time(self) -> str | None:
        """``eventMetadata.inferenceTime``."""
        return self.event_metadata.event_time

    def payload(self, index_name: str) -> CapturedPayload | None:
        """The payload under ``captureData.<index_name>`` (e.g. ``endpointOutput``)."""
        if index_name == ENDPOINT_INPUT:
            return self.endpoint_input
        if index_name == ENDPOINT_OUTPUT:
            return self.endpoint_output
        return _payload_of(self.raw.get("captureData", {}).get(index_name))


def capture_files(source: Path, window: TimeWindow | None = None) -> list[Path]:
    """``source`` itself, or the capture files below it in path order: ``*.jsonl`` as SageMaker writes
    them, and also ``*.json``, gzip-compressed and suffix-less copies (``io.jsonlines`` says what is
    read and what is skipped with a note); or the files a SageMaker manifest names (``manifest_files``).
    Below a folder, the files of hour folders far from ``window`` are left out (``files_near_window``)."""
    if not os.path.lexists(source):
        raise AnalyzerInputError("capture folder not found; pass the folder holding the *.jsonl files", path=str(source))
    if source.is_file():
        with source.open("rb") as handle:
            head = handle.read(4096)
        if looks_like_manifest(head):
            return manifest_files(source)
        document = analyzer_document(source, head)
        if document is not None:
            raise AnalyzerInputError(f"this is {document}; pass the endpoint's data-capture files", path=str(source))
        return [source]
    return files_near_window(json_lines_files(source, what="capture"), window, lambda file: file, source=str(source))


_said_far: set[tuple[str, int, int]] = set()  # each folder's unread files are said once per process


def files_near_window(files: Sequence[T], window: TimeWindow | None, path: Callable[[T], PurePath], *,
                      source: str) -> list[T]:
    """The files of a capture folder that may hold ``window``'s records, in order: all but those in hour folders
    (``yyyy/mm/dd/HH``, SageMaker's layout: the hour a file was written, minutes after its records) an hour or
    more away from the window (``hour_folder_near``), so that a whole capture tree given for one window is not
    read whole. ``path``: a file's path. Says once how many files are left unread."""
    if window is None or window.is_open:
        return list(files)
    near = [file for file in files if hour_folder_near(path(file), window)]
    key = (source, len(near), len(files))
    if key in _said_far:
        return near
    _said_far.add(key)
    if len(near) < len(files):
        hours = sorted(hour for hour in (_folder_hour(path(file)) for file in files) if hour is not None)
        held = f" (its hour folders run from {hours[0]:%Y/%m/%d/%H} to {hours[-1]:%Y/%m/%d/%H})" if not near else ""
        print(f"note: {source}: {len(files) - len(near):,} of {len(files):,} capture files not read: they are in "
              "hour folders (yyyy/mm/dd/HH) an hour or more outside the window, which in SageMaker's layout cannot "
              f"hold records of the window{held}", file=sys.stderr, flush=True)
    elif _folder_hour(PurePath(source) / "file") is not None:  # the folder given is itself an hour's
        print(f"note: {source} is one hour folder: the window's records that SageMaker wrote into the next hour's "
              "folder (a file written just after the hour) are not read; give the endpoint's folder to have them",
              file=sys.stderr, flush=True)
    return near


def manifest_files(source: Path) -> list[Path]:
    """The local files a capture manifest names (``[{"prefix": "file:///..."}, "key", ...]`` or a plain path as
    the prefix), in path order; a manifest of ``s3://`` objects is for ``--engine spark``."""
    manifest = parse_manifest(source.read_bytes(), source=str(source))
    paths = []
    for location in manifest.locations():
        scheme = location.partition(":")[0]
        if scheme.lower() == "file":
            path = local_file_path(location)
            if not path.exists():  # a prefix written as Path.as_uri() spells a space %20
                path = local_file_path(unquote(location))
        elif "://" in location:
            raise AnalyzerInputError(f"the manifest names {scheme}:// objects, which this engine does not read: "
                                     "run with the Spark engine (--engine spark on the command line, ScaleOut in the "
                                     "constructs), or give a folder of the files", path=str(source))
        else:
            path = Path(location)
        if not path.is_file():
            raise AnalyzerInputError(f"the manifest names a file that does not exist ({path})", path=str(source))
        paths.append(path)
    return sorted(paths)


def _iter_lines(files: Sequence[Path | CaptureSlice], problems: InputProblems) -> Iterator[tuple[str, int, bytes]]:
    """(file, line number, line) of every line that is not blank (a slice's numbers as ``problems`` counts them:
    ``io.problems.lines_of_part``)."""
    for file in files:
        if isinstance(file, CaptureSlice):
            path = str(file.file)
            for _, lines_before, chunk, _ in _bounded_chunks(file, problems):
                for index, line in enumerate(chunk.split(b"\n"), start=lines_before + 1):
                    if line.strip():
                        yield path, index, line
            continue
        path = str(file)
        with contextlib.closing(read_lines(file)) as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield path, number, line


def payload_text(data: object, encoding: str | None) -> str:
    """Decode a payload's ``data`` by its ``encoding`` (CSV, JSON or BASE64)."""
    if not isinstance(data, str):
        raise PayloadError("payload 'data' is not a string")
    if encoding is not None and encoding.upper() == "BASE64":
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise PayloadError(f"BASE64 payload cannot be decoded as UTF-8 text: {exc}") from exc
    return data


def _payload_of(value: object) -> CapturedPayload | None:
    if value is None:
        return None
    if not isinstance(value, dict) or "data" not in value:
        raise PayloadError("capture payload must be an object with 'data'")
    data = value["data"]
    if not isinstance(data, str):
        raise PayloadError("payload 'data' is not a string")
    return CapturedPayload(
        data=data,
        encoding=str(value.get("encoding") or "CSV"),
        observed_content_type=value.get("observedContentType"),
        mode=value.get("mode"),
    )


def parse_capture_line(line: bytes, *, path: str = "<memory>", number: int = 0) -> CaptureRecord:
    """Parse one capture line into a ``CaptureRecord`` (``PayloadError`` if malformed)."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"malformed JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise PayloadError("a capture line must be a JSON object")
    capture = raw.get("captureData")
    if not isinstance(capture, dict):
        raise PayloadError("record has no 'captureData' object")
    metadata = raw.get("eventMetadata") or {}
    if not isinstance(metadata, dict):
        raise PayloadError("'eventMetadata' must be an object")
    return CaptureRecord(
        endpoint_input=_payload_of(capture.get(ENDPOINT_INPUT, capture.get(BATCH_INPUT))),
        endpoint_output=_payload_of(capture.get(ENDPOINT_OUTPUT, capture.get(BATCH_OUTPUT))),
        event_metadata=EventMetadata(
            event_id=metadata.get("eventId"),
            inference_id=metadata.get("inferenceId"),
            event_time=metadata.get("inferenceTime"),
            custom_attributes=metadata.get("customAttributes"),
        ),
        event_version=raw.get("eventVersion"),
        raw=raw,
        path=path,
        line=number,
    )


def _in_window(time_text: object, window: TimeWindow | None) -> bool:
    if window is None or window.is_open:
        return True
    if time_text is None:
        raise PayloadError("record has no eventMetadata.inferenceTime to place it in the time window")
    if not isinstance(time_text, str):
        raise PayloadError(f"eventMetadata.inferenceTime {time_text!r} is not a time text such as "
                           "'2024-01-01T10:15:00Z' (SageMaker writes ISO 8601 in UTC)")
    try:
        return window.contains_text(time_text)
    except ValueError as exc:
        raise PayloadError(f"unparseable eventMetadata.inferenceTime {time_text!r}") from exc


def iter_capture_records(
    source: Path, *, window: TimeWindow | None = None, problems: InputProblems
) -> Iterator[CaptureRecord]:
    """Yield every well-formed capture record in ``[window.start, window.end)``.

    Malformed lines are counted in ``problems`` (with file and line) and skipped; call
    ``problems.check()`` afterwards to enforce the tolerance.
    """
    for path, number, line in _iter_lines(capture_files(source, window), problems):
        try:
            record = parse_capture_line(line, path=path, number=number)
            if not _in_window(record.inference_time, window):
                problems.record_outside()
                continue
        except PayloadError as exc:
            problems.record_bad(path, number, str(exc))
            continue
        problems.record_good()
        yield record


# ---------------------------------------------------------------- payload -> rows
def _csv_escape(value: str) -> str:
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _json_value_text(value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and math.isnan(value):
        return ""  # NaN (a JSON writer's word for a missing number) is a missing value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return _csv_escape(value)
    return _csv_escape(json_text(value))


def _json_rows(document: object, names: Sequence[str] | None = None) -> list[list[object]]:
    """Rows of a JSON payload: a list of numbers is one row, a list of lists is many rows,
    ``{"instances"|"features"|"predictions"|...: ...}`` is unwrapped, an object is one row
    and a scalar is a one-value row.

    An object's values are taken in key order, or, given the baseline's feature ``names`` and
    an object that names at least one of them, by name in the order of ``names`` (a feature the
    object lacks is missing)."""
    if isinstance(document, dict):
        for key in _JSON_ROW_KEYS:
            if key in document and not (names and key in names):
                return _json_rows(document[key], names)
        if names and any(name in document for name in names):
            return [[document.get(name) for name in names]]
        return [list(document.values())]
    if isinstance(document, list):
        if not document:
            return []
        if all(isinstance(item, (list, dict)) for item in document):
            rows: list[list[object]] = []
            for item in document:
                if isinstance(item, dict):
                    inner = _json_rows(item, names)
                    rows.extend(inner if inner else [[]])
                else:
                    rows.append(item)
            return rows
        return [document]
    return [[document]]


def payload_rows(payload: CapturedPayload, names: Sequence[str] | None = None) -> list[tuple[str, int]]:
    """Split a payload into CSV rows: ``(row text, field count)`` per row.

    CSV payloads may hold several lines (a mini-batch) and a trailing newline; JSON payloads
    follow ``_json_rows`` (objects by the feature ``names``, if given); BASE64 payloads are decoded first and read as JSON when the content
    type says so (or the text parses as JSON), as CSV otherwise.
    """
    encoding = payload.encoding.upper()
    text = payload.text()
    if encoding == "JSON" or (encoding == "BASE64" and _looks_json(payload, text)):
        try:
            document = loads_as_arrow_reads(text)
        except orjson.JSONDecodeError as exc:
            raise PayloadError(f"JSON payload is not valid JSON ({exc})") from exc
        # a row of no values (``{}``, ``[[]]``) is the empty text, one missing field as CSV reads it
        return [(",".join(_json_value_text(v) for v in row), len(row) or 1) for row in _json_rows(document, names)]
    text = text.strip("\r\n")
    if "\n" in text or "\r" in text:
        if '"' in text:  # a quoted value may hold a line break: the rows a CSV reader finds, their values quoted again
            return [(",".join(_csv_escape(value) for value in row), len(row)) for row in csv_rows(text) if row]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return [(row, _csv_field_count(row)) for row in lines if row]
    return [(text, _csv_field_count(text))]


def _csv_field_count(row: str) -> int:
    """The fields of one CSV row: its commas plus one, unless a quoted value holds a comma."""
    if '"' not in row:
        return row.count(",") + 1
    allow_csv_values(len(row))
    try:
        return len(next(csv.reader([row])))
    except (csv.Error, StopIteration):
        return row.count(",") + 1


def _looks_json(payload: CapturedPayload, text: str) -> bool:
    content_type = (payload.observed_content_type or "").lower()
    if "json" in content_type:
        return True
    if "csv" in content_type:
        return False
    return text.lstrip()[:1] in ("{", "[")


def record_rows(
    payloads: Sequence[CapturedPayload | None], *, output_first: bool = True, input_names: Sequence[str] | None = None
) -> list[tuple[str, int]]:
    """Join the rows of a record's payloads (input, output order given) into combined rows.

    With ``output_first`` the output payload's fields come first. Payloads holding several
    rows must agree on the row count; a single-row payload is repeated for every row.
    ``input_names`` (the baseline's features) lay out JSON objects of the input by name.
    """
    if not any(p is not None for p in payloads):
        raise PayloadError("record has none of the requested capture payloads")
    parts = [payload_rows(p, input_names if index == 0 else None) for index, p in enumerate(payloads) if p is not None]
    if output_first and len(parts) == 2:
        parts.reverse()
    if len(parts) == 1:
        return parts[0]
    first, second = parts
    if len(first) == len(second):
        return [(a + "," + b, na + nb) for (a, na), (b, nb) in zip(first, second)]
    if len(first) == 1:
        return [(first[0][0] + "," + b, first[0][1] + nb) for b, nb in second]
    if len(second) == 1:
        return [(a + "," + second[0][0], na + second[0][1]) for a, na in first]
    raise PayloadError(f"input has {len(parts[0])} rows but output has {len(parts[1])}")


@dataclass(frozen=True, kw_only=True)
class CaptureShape:
    """Field counts of the usual record's payloads (None: the payload is absent). In a window that mixes
    records without a model output with records that have one, ``output_fields`` is the usual count of those
    that have one and ``some_without_output`` is True."""

    input_fields: int | None
    output_fields: int | None
    some_without_output: bool = False


OUTSIDE_LOOK_FACTOR = 50
T = TypeVar("T")
_HOUR_FOLDERS = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})$")


def _folder_hour(file: PurePath) -> datetime | None:
    """The hour of a file's ``yyyy/mm/dd/HH`` folder (SageMaker's capture layout), None outside that layout."""
    match = _HOUR_FOLDERS.search(file.parent.as_posix())
    if match is None:
        return None
    try:
        return datetime(*(int(part) for part in match.groups()), tzinfo=UTC)
    except ValueError:
        return None


def hour_folder_near(file: PurePath, window: TimeWindow | None) -> bool:
    """False only for a file in a ``yyyy/mm/dd/HH`` folder (SageMaker's capture layout) that lies at least an
    hour away from the window on either side; any other file may hold the window's records."""
    if window is None or window.is_open:
        return True
    hour = _folder_hour(file)
    if hour is None:
        return True
    after_window = window.end is not None and hour - timedelta(hours=1) >= window.end
    before_window = window.start is not None and hour + timedelta(hours=2) <= window.start
    return not (after_window or before_window)


def shape_look_order(files: Sequence[T], window: TimeWindow | None, path: Callable[[T], PurePath]) -> list[T]:
    """The files a shape look reads, in the order it reads them: those in the window's own hour folders first,
    then the neighbouring hours' and files outside the hourly layout, each in the given order; files in hour
    folders far from the window are left out (``hour_folder_near``). A whole capture tree passed for one window
    then has the look spend its budget on the window's records, not on the hours before it."""
    if window is None or window.is_open:
        return list(files)
    own: list[T] = []
    others: list[T] = []
    for file in files:
        where = path(file)
        if not hour_folder_near(where, window):
            continue
        hour = _folder_hour(where)
        inside = (hour is not None and (window.start is None or hour + timedelta(hours=1) > window.start)
                  and (window.end is None or hour < window.end))
        (own if inside else others).append(file)
    return own + others


def capture_shape(
    source: Path,
    *,
    window: TimeWindow | None = None,
    files: Sequence[Path] | None = None,
    input_names: Sequence[str] | None = None,
    max_lines: int = 1000,
    records: int = 200,
) -> CaptureShape | None:
    """The usual shape of the window's records whose payloads can be read: the most common among the first
    ``records`` of them (at most ``max_lines`` lines are looked at; the first seen wins a tie), so that one
    odd record (a value left out, an extra field) does not decide how every column is read. Files are looked
    at in ``shape_look_order``. When the look meets no record of the window, the usual shape of the records
    it read outside the window stands in (an endpoint's capture keeps its shape from hour to hour; reading
    every payload instead would shift the columns). None when there is none. ``input_names`` as for
    ``record_rows``. Records without a model output among records with one (an endpoint whose capture
    option changed, captures of several endpoints in one folder) make a mixed shape: the usual input, the
    usual output of the records that have one, ``some_without_output``."""
    looked = 0
    read = 0  # lines outside the window count against a larger budget, so that earlier hours in the
    # folder (a whole capture tree passed for one window) do not use up the look before the window starts
    seen: dict[CaptureShape, int] = {}
    outside: dict[CaptureShape, int] = {}
    listed = capture_files(source, window) if files is None else files
    for file in shape_look_order(listed, window, lambda listed_file: listed_file):
        try:
            with open_lines(file) as handle:
                for line in handle:
                    if looked >= max_lines or read >= max_lines * OUTSIDE_LOOK_FACTOR or sum(seen.values()) >= records:
                        break
                    read += 1
                    if not line.strip():
                        continue
                    try:
                        record = parse_capture_line(line)
                        inside = _in_window(record.inference_time, window)
                        if not inside and sum(outside.values()) >= records:
                            continue
                        widths = [
                            None if payload is None else payload_rows(payload, names)[0][1]
                            for payload, names in ((record.endpoint_input, input_names), (record.endpoint_output, None))
                        ]
                    except (PayloadError, IndexError):
                        continue
                    shape = CaptureShape(input_fields=widths[0], output_fields=widths[1])
                    if not inside:
                        outside[shape] = outside.get(shape, 0) + 1
                        continue
                    looked += 1
                    seen[shape] = seen.get(shape, 0) + 1
        except (OSError, EOFError, zlib.error, AnalyzerInputError):  # the read itself says what is wrong
            continue
        if looked >= max_lines or read >= max_lines * OUTSIDE_LOOK_FACTOR or sum(seen.values()) >= records:
            break
    shapes = seen or outside
    if not shapes:
        return None
    usual = max(shapes, key=lambda shape: shapes[shape])  # dicts keep the order seen: the first wins a tie
    outputs: dict[int, int] = {}
    for shape, count in shapes.items():
        if shape.output_fields is not None:
            outputs[shape.output_fields] = outputs.get(shape.output_fields, 0) + count
    without = any(shape.output_fields is None and shape.input_fields is not None for shape in shapes)
    if not (outputs and without):
        return usual
    return CaptureShape(input_fields=usual.input_fields, some_without_output=True,
                        output_fields=usual.output_fields if usual.output_fields is not None
                        else max(outputs, key=lambda fields: outputs[fields]))


@dataclass(frozen=True, kw_only=True)
class CaptureColumns:
    """Which payloads make a captured row, and why (``note`` is said to the user, if not None)."""

    capture_index_names: tuple[str, ...]
    note: str | None = None
    # when both payloads are read: the empty fields a record without a model output gets in the output's place
    missing_output_fields: int | None = None


def match_capture_columns(
    *, features: int, shape: CaptureShape | None, capture_index_names: Sequence[str], output_first: bool
) -> CaptureColumns:
    """Choose the payloads whose fields line up with the baseline's ``features`` columns.

    SageMaker's analyzer joins output and input and maps the fields to the baseline's features
    by position, so a baseline of the input's columns alone (the usual training set) is compared
    column by column with its neighbour. Here, when input and output are both captured: a
    baseline with exactly the input's column count means the output is not a feature (input
    only, for every record, whether it has an output or not); output + input columns map as the
    built-in does; anything else is said in a note and read as the built-in would, so that the
    missing or extra columns show as violations. When both payloads are read, a record without a
    model output has its output columns missing (``missing_output_fields``), its input in the
    input's columns.
    """
    names = tuple(capture_index_names)
    if shape is None:
        return CaptureColumns(capture_index_names=names)
    inputs, outputs = shape.input_fields, shape.output_fields
    both = ENDPOINT_INPUT in names and ENDPOINT_OUTPUT in names
    if both and inputs == features:
        return CaptureColumns(
            capture_index_names=(ENDPOINT_INPUT,),
            note=None if outputs is None else (
                f"the baseline has the {features} columns of the endpoint input: reading endpointInput only "
                f"(the model output's {outputs} field(s) are not features)"
            ),
        )
    missing = outputs if both and outputs is not None and inputs is not None else None
    mixed = (f"; captured records without a model output have their {outputs} output column(s) missing"
             if missing is not None and shape.some_without_output else "")
    read = [(label, fields) for label, fields, index in (("input", inputs, ENDPOINT_INPUT), ("output", outputs, ENDPOINT_OUTPUT))
            if index in names and fields is not None]
    if len(read) < 2:  # one payload read: the capture has (or the run asks for) only this one
        if not read or read[0][1] == features:
            return CaptureColumns(capture_index_names=names)
        label, fields = read[0]
        if both and label == "input" and fields < features:
            # no record looked at has an output: the baseline's extra columns are taken as the output's, missing
            # for the records without one, so that a record with an output (beyond the look) lines up with them
            place = "first" if output_first else "last"
            return CaptureColumns(
                capture_index_names=names,
                missing_output_fields=features - fields,
                note=(
                    f"the captured records looked at have no model output ({fields} input field(s) a record) but the "
                    f"baseline has {features} features: its {features - fields} column(s) {place} are read as the "
                    "model output, missing for records without one. Capture the endpoint output as well "
                    "(DataCaptureConfig capture option Output), or build the baseline from a dataset with the "
                    "input's columns"
                ),
            )
        held = "holds only the model output" if label == "output" and inputs is None else f"is read for its {label} only"
        return CaptureColumns(
            capture_index_names=names,
            note=(
                f"the capture {held} ({fields} field(s) a record) but the baseline has {features} features: "
                "columns are mapped by position, so expect missing or extra column violations. Capture the "
                "endpoint input (DataCaptureConfig capture option Input), or build the baseline from a dataset "
                f"with the {label}'s columns"
            ),
        )
    if inputs + outputs == features:
        return CaptureColumns(capture_index_names=names, missing_output_fields=missing, note=(
            f"some captured records have no model output: their {outputs} output column(s) are read as missing "
            "values" if shape.some_without_output else None))
    place = "first" if output_first else "last"
    return CaptureColumns(
        capture_index_names=names,
        missing_output_fields=missing,
        note=(
            f"captured rows have {inputs} input and {outputs} output field(s) but the baseline has {features} "
            f"features: neither the input alone nor output and input together match it; columns are mapped by "
            f"position with the output {place}, so expect missing or extra column violations. Build the "
            f"baseline from a dataset with the endpoint input's columns (see 'Preparing your baseline dataset'){mixed}"
        ),
    )


RowMaker = Callable[[CaptureRecord], list[tuple[str, int]] | None]


def read_capture_batches(
    source: Path,
    *,
    window: TimeWindow | None = None,
    capture_index_names: Sequence[str] = DEFAULT_CAPTURE_INDEX_NAMES,
    output_first: bool = True,
    problems: InputProblems,
    row_maker: RowMaker | None = None,
    batch_records: int = DEFAULT_BATCH_RECORDS,
    files: Sequence[Path | CaptureSlice] | None = None,
    input_names: Sequence[str] | None = None,
    missing_output_fields: int | None = None,
    use_threads: bool = True,
) -> Iterator[pa.RecordBatch]:
    """Yield the window's captured rows as text columns ``_c0, _c1, ...`` in batches.

    ``input_names`` (the baseline's features) lay out JSON objects of the input by name. When both payloads
    are read, a record without a model output gets ``missing_output_fields`` empty fields in the output's
    place (missing values; ``match_capture_columns`` gives the count), so its input stays in the input's
    columns; None: its row is its input's fields.

    ``row_maker`` replaces the default payload-to-row step (used for custom pre-processors;
    returning ``None`` drops the record). Rows with fewer fields than the widest row of the
    batch are padded with nulls, so a short record shows up as missing values. ``files``
    restricts the read to these capture files or slices of them (default: ``capture_files(source)``,
    ``capture_slices`` cuts them in parts).
    """
    wants_input = ENDPOINT_INPUT in capture_index_names
    wants_output = ENDPOINT_OUTPUT in capture_index_names
    if row_maker is None:
        chosen = capture_files(source, window) if files is None else files
        yield from _read_plain(chosen, window, wants_input, wants_output, output_first, problems, input_names,
                               missing_output_fields, use_threads)
        return
    rows: list[str] = []
    widths: list[int] = []
    for path, number, line in _iter_lines(capture_files(source, window) if files is None else files, problems):
        try:
            record = parse_capture_line(line, path=path, number=number)
            if not _in_window(record.inference_time, window):
                problems.record_outside()
                continue
            made = row_maker(record)
        except PayloadError as exc:
            problems.record_bad(path, number, str(exc))
            continue
        problems.record_good()
        if made is None:
            continue
        for text, width in made:
            rows.append(text)
            widths.append(width)
        if len(rows) >= batch_records:
            yield _rows_to_batch(rows, widths)
            rows, widths = [], []
    if rows:
        yield _rows_to_batch(rows, widths)


@dataclass(frozen=True, kw_only=True)
class CaptureSlice:
    """A capture file, or bytes ``[start, end)`` of a plain (uncompressed) one, cut after line breaks, with
    the number of lines before ``start`` (for ``file:line`` in messages; None: not counted, a reader counts the
    lines from ``start``: ``io.problems.lines_of_part``)."""

    file: Path
    start: int = 0
    end: int | None = None  # None: to the end of the file
    lines_before: int | None = 0


def _compressed(file: Path) -> bool:
    try:
        with file.open("rb") as handle:
            return handle.read(2) == GZIP_MAGIC
    except OSError:  # the read says what is wrong
        return True


def capture_slices(files: Sequence[Path], *, parts: int) -> list[list[CaptureSlice]]:
    """Up to ``parts`` runs of consecutive capture input of about equal size, in file order: whole files,
    and a plain file larger than a run's share cut at line breaks into byte ranges (a compressed file
    cannot be entered in the middle: it stays whole). One large file is split as many small ones are."""
    sizes = []
    for file in files:
        try:
            sizes.append(file.stat().st_size)
        except OSError:  # read (and reported) by the part that holds it
            sizes.append(0)
    total = sum(sizes) or 1
    share = total / max(1, parts)
    slices: list[tuple[CaptureSlice, int]] = []
    for file, size in zip(files, sizes):
        pieces = csv_parts(file, parts=max(2, round(size / share))) if parts > 1 and size > share * 1.2 and not _compressed(file) else []
        if len(pieces) > 1:
            slices.extend((CaptureSlice(file=file, start=piece.start, end=piece.end, lines_before=piece.lines_before),
                           piece.end - piece.start) for piece in pieces)
        else:
            slices.append((CaptureSlice(file=file), size))
    runs: list[list[CaptureSlice]] = [[]]
    running = 0
    for piece, size in slices:
        if runs[-1] and running >= total * len(runs) / parts and len(runs) < parts:
            runs.append([])
        runs[-1].append(piece)
        running += size
    return [run for run in runs if run]


@dataclass(frozen=True, kw_only=True)
class _Reading:
    """What a plain capture read keeps of a record: the payloads wanted, in which order, the window."""

    window: TimeWindow | None
    wants_input: bool
    wants_output: bool
    output_first: bool
    input_names: Sequence[str] | None
    missing_output_fields: int | None = None  # see read_capture_batches
    use_threads: bool = True  # Arrow's JSON reader on every core (``io.jsonlines.json_chunk_table``)

    @property
    def bounded(self) -> bool:
        return self.window is not None and not self.window.is_open


_PAYLOAD_TYPE = pa.struct([("data", pa.string()), ("encoding", pa.string())])
_ENVELOPE = pa.schema([
    ("captureData", pa.struct([(ENDPOINT_INPUT, _PAYLOAD_TYPE), (ENDPOINT_OUTPUT, _PAYLOAD_TYPE),
                               (BATCH_INPUT, _PAYLOAD_TYPE), (BATCH_OUTPUT, _PAYLOAD_TYPE)])),
    ("eventMetadata", pa.struct([("inferenceTime", pa.string())])),
])


@functools.cache
def _envelope_options(wants_input: bool, wants_output: bool, timed: bool) -> pajson.ParseOptions:
    """The envelope of ``_ENVELOPE`` with only the payloads wanted, and the inference time only for a bounded
    window: Arrow builds no column of the others (a fifth less of the parse for one side), and, as read record
    by record, a payload not wanted or the time of an unbounded read is not looked at."""
    sides = [(ENDPOINT_INPUT, BATCH_INPUT)] * wants_input + [(ENDPOINT_OUTPUT, BATCH_OUTPUT)] * wants_output
    fields = [pa.field("captureData", pa.struct([(name, _PAYLOAD_TYPE) for pair in sides for name in pair]))]
    if timed:
        fields.append(_ENVELOPE.field("eventMetadata"))
    return pajson.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")


CHUNK_BYTES = 8 << 20  # capture files are read in whole-line chunks of about this size
# A JSON payload that is one flat array of scalars, without escapes, is a CSV row once its brackets and the
# blanks after its commas are gone and its ``null`` items are empty: its strings are CSV quoted values as they stand.
_FLAT_JSON_ARRAY = r"^\s*\[\s*[^\s\[\]{}\\][^\[\]{}\\]*\]\s*$"
# Its items, each a JSON number, ``true``, ``false``, ``null``, a string (without escapes, as above) or one of the
# words Python's json.dumps writes for floats (``NaN``, ``Infinity``, ``-Infinity``), after the one blank after each
# comma is gone. Another word, a number JSON does not allow (``+1``, ``.5``, ``01``), an integer of more than 18
# digits (which orjson may read as a float) or an empty item (``[1,]``) sends the record to the one-by-one path,
# which reads it as JSON or counts it bad: a record reads the same wherever the file is cut.
_JSON_ITEM = r'(?:-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity|"[^"]*")'
_JSON_ITEMS = rf"^{_JSON_ITEM}(?:,{_JSON_ITEM})*$"


# The column-wise path converts no Python value to Arrow (``pa.array``, ``pa.scalar``, a Python operand of a
# compute function): where pandas is installed, the first such conversion makes pyarrow import it, a quarter of
# a second per process. Masks are numpy arrays; Arrow arrays and scalars are built from buffers.
def _counts(array: pa.Array) -> np.ndarray:
    """An int32 Arrow array (of ``count_substring``) as int64 numpy values, null as 0."""
    values = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array), offset=array.offset * 4)
    return np.where(valid_mask(array), values, 0).astype(np.int64)


_COMMA, _NOTHING, _LINE_BREAK = text_scalar(","), text_scalar(""), text_scalar("\n")


def _window_masks(metadata: pa.Array, window: TimeWindow) -> tuple[np.ndarray, np.ndarray]:
    """(usual, inside) of a chunk's ``eventMetadata`` column: where ``inferenceTime`` has the usual shape
    (``2024-01-31T13:00:00Z``, compared as text), and where such a time falls in ``window``. The others are
    read one by one, by ``_in_window``'s rules."""
    when = pc.struct_field(metadata, "inferenceTime")
    usual = bool_mask(pc.match_substring_regex(when, f"^{CAPTURE_TIME.pattern}$"))
    inside = usual.copy()
    if window._start_text is not None:  # type: ignore[attr-defined]
        inside &= bool_mask(pc.greater_equal(when, text_scalar(window._start_text)))  # type: ignore[attr-defined]
    if window._end_text is not None:  # type: ignore[attr-defined]
        inside &= bool_mask(pc.less(when, text_scalar(window._end_text)))  # type: ignore[attr-defined]
    return usual, inside


#: bare items written as the record-by-record path writes their values: null and NaN missing, the infinities as
#: Python writes them
_BARE_WORDS = ((",null,", ",,"), (",NaN,", ",,"), (",Infinity,", ",inf,"), (",-Infinity,", ",-inf,"))


def _without_nulls(json_text: pa.Array) -> pa.Array:
    """The items of flat JSON arrays (``1,null,"a"``, blanks gone) with each bare ``null`` or ``NaN`` item made an
    empty field and each infinity written as Python writes it (``_BARE_WORDS``), as the record-by-record path
    writes those values; such a word inside a quoted string stays."""
    wrapped = pc.binary_join_element_wise(_NOTHING, json_text, _NOTHING, _COMMA)  # ",items,"
    for word, written in _BARE_WORDS:
        # a pass takes every other one of adjacent items (they share a comma), a second pass the rest
        wrapped = pc.replace_substring(pc.replace_substring(wrapped, word, written), word, written)
    return pc.utf8_slice_codeunits(wrapped, 1, -1)


class _ChunkText:
    """What a chunk's bytes say of every payload text in it (a character of a JSON string is in the bytes as it
    is, or escaped: ``\\n``, ``\\"``, ``\\u0020``): whether a payload may hold a line break or a quote
    (``escaped``; a control character too), a comma and a blank (``spaced``, looked up only if asked: a search
    for two bytes costs about what the scan it spares does)."""

    def __init__(self, chunk: bytes | None = None) -> None:
        self._chunk = chunk
        self.escaped = chunk is None or b"\\" in chunk or b"\r" in chunk

    @functools.cached_property
    def spaced(self) -> bool:
        chunk = self._chunk
        return chunk is None or (self.escaped and b"\\u" in chunk) or _comma_then_blank(chunk)


def _comma_then_blank(chunk: bytes) -> bool:
    """Whether a comma is followed by a space anywhere in ``chunk``: a comma is frequent in captures, and ``in``
    compares the next byte at each one; numpy looks at the bytes after the commas at once (half the time)."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    after = np.flatnonzero(data[:-1] == ord(",")) + 1
    return bool(np.any(data[after] == ord(" ")))


_ANY_TEXT = _ChunkText()


def _payload_rows_in_bulk(payload: pa.Array, chunk_text: _ChunkText = _ANY_TEXT
                          ) -> tuple[np.ndarray, np.ndarray, pa.Array, np.ndarray | None]:
    """(present, usable, row text, field count) of one payload column: usable where the payload is one CSV
    line without quotes, or one flat JSON array of scalars whose strings hold no comma; the rest is read
    record by record. The field count is None when no row is JSON: the text's
    commas plus one (``_field_counts``), counted only if needed."""
    data = pc.struct_field(payload, "data")
    present = valid_mask(payload) & valid_mask(data)
    encoding = pc.struct_field(payload, "encoding")
    csv = bool_mask(pc.match_like(encoding, "CSV", ignore_case=True)) | ~valid_mask(encoding)  # CSV when unsaid
    if chunk_text.escaped and csv.any():
        text = pc.utf8_rtrim(data, characters="\r\n")
        # a line break (a lone carriage return too: payload_rows ends a row there) or a quote: read by itself
        usable = csv & ~bool_mask(pc.match_substring_regex(text, '[\r\n"]'))
    else:
        text, usable = data, csv
    unquoted = text
    json = bool_mask(pc.match_like(encoding, "JSON", ignore_case=True))
    if json.any():
        inner = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(data), 1, -1))
        json_text = pc.replace_substring(inner, ", ", ",") if chunk_text.spaced else inner
        json &= bool_mask(pc.match_substring_regex(json_text, _JSON_ITEMS))
        nulls = bool_mask(pc.match_substring_regex(json_text, "null|NaN|Infinity"))
        if nulls.any():  # rewritten only where a null may be (a few rows in most windows)
            with_nulls = bool_array(nulls)
            json_text = pc.replace_with_mask(json_text, with_nulls, _without_nulls(json_text.filter(with_nulls)))
        json_unquoted = pc.replace_substring_regex(json_text, '"[^"]*"', "")
        json_fields = _field_counts(json_unquoted)
        json &= (bool_mask(pc.match_substring_regex(data, _FLAT_JSON_ARRAY))
                 & (_field_counts(json_text) == json_fields))
        if chunk_text.escaped:  # a blank between items, as a control character (a tab, a line break) a JSON string
            # cannot hold as it is: the record is read by itself
            json &= ~bool_mask(pc.match_substring_regex(json_text, r"[\x00-\x1f]"))
        if not (usable & present).any():  # no CSV row: the JSON rows are all the side's usable rows
            return present, json & present, json_text, json_fields
        usable |= json
        text = pc.if_else(bool_array(json), json_text, text)
        return present, usable & present, text, np.where(json, json_fields, _field_counts(unquoted))
    return present, usable & present, text, None


def _field_counts(unquoted: pa.Array) -> np.ndarray:
    return _counts(pc.count_substring(unquoted, ",")) + 1


def _bulk_batch(chunk: bytes, path: str, lines_before: int, reading: _Reading, problems: InputProblems,
                bounds: tuple[np.ndarray, np.ndarray] | None = None) -> pa.RecordBatch | None:
    """The chunk's rows read column-wise: the envelope by Arrow's JSON reader, the payload columns turned
    into CSV rows and parsed at once; only the records the column-wise path cannot take (another encoding,
    several rows, quotes, an unusual time, a bad line) are read one by one, in place. Raises
    ``_NotColumnWise`` when the chunk has to be read line by line (blank lines, or lines Arrow refuses)."""
    read = json_chunk_table(chunk, _envelope_options(reading.wants_input, reading.wants_output, reading.bounded),
                            use_threads=reading.use_threads, bounds=bounds)
    if read is None:
        raise _NotColumnWise
    table, starts, ends = read
    capture = table.column("captureData").combine_chunks()
    careful = ~valid_mask(capture)
    chunk_text = _ChunkText(chunk)
    wanted = [name for name, wants in ((ENDPOINT_INPUT, reading.wants_input), (ENDPOINT_OUTPUT, reading.wants_output))
              if wants]
    sides = []
    absent = np.zeros(len(careful), dtype=bool)
    for name in wanted:
        batch_name = BATCH_INPUT if name == ENDPOINT_INPUT else BATCH_OUTPUT
        payload = pc.coalesce(pc.struct_field(capture, name), pc.struct_field(capture, batch_name))
        present, usable, text, fields = _payload_rows_in_bulk(payload, chunk_text)
        careful |= present & ~usable
        sides.append((present, text, fields))
        absent = ~valid_mask(payload)  # the last side's: the output's when both are read
    if len(sides) == 2 and reading.missing_output_fields:
        (input_present, _, _), (output_present, output_text, output_fields) = sides
        filled = input_present & absent
        careful |= input_present & ~output_present & ~absent  # an output without 'data': read by itself
        if filled.any():
            fill_width = reading.missing_output_fields
            output_text = pc.if_else(bool_array(filled), text_scalar("," * (fill_width - 1)), output_text)
            if output_fields is not None:
                output_fields = np.where(filled, fill_width, output_fields)
            sides[1] = (output_present | filled, output_text, output_fields)
    if reading.output_first:
        sides.reverse()
    if len(sides) == 2:
        (first_present, first, first_fields), (second_present, second, second_fields) = sides
        both = first_present & second_present
        careful |= ~(first_present | second_present)
        rows = pc.if_else(bool_array(both), pc.binary_join_element_wise(first, second, _COMMA),
                          pc.if_else(bool_array(first_present), first, second))

        def counted() -> np.ndarray:
            first_counts = _field_counts(first) if first_fields is None else first_fields
            second_counts = _field_counts(second) if second_fields is None else second_fields
            return np.where(both, first_counts + second_counts, np.where(first_present, first_counts, second_counts))
    else:
        present, rows, fields_or_none = sides[0]
        careful |= ~present

        def counted() -> np.ndarray:
            return _field_counts(rows) if fields_or_none is None else fields_or_none
    keep = ~careful
    if reading.bounded:
        usual, inside = _window_masks(table.column("eventMetadata").combine_chunks(), reading.window)  # type: ignore[arg-type]
        careful |= ~usual
        keep = ~careful & inside
        problems.record_outside(int((~careful & ~inside).sum()))
    made: list[list[tuple[str, int]] | None] = []
    for index in np.flatnonzero(careful):
        try:
            made.append(_fast_rows(chunk[starts[index]:ends[index]], reading.window, reading.wants_input,
                                   reading.wants_output, reading.output_first, reading.input_names,
                                   reading.missing_output_fields))
        except PayloadError as exc:
            problems.record_bad(path, lines_before + int(index) + 1, str(exc))
            made.append(None)
            continue
        if made[-1] is None:
            problems.record_outside()
    kept = int(keep.sum())
    problems.record_good(kept + sum(1 for rows_made in made if rows_made is not None))
    made_widest = max([0, *(width for rows_made in made if rows_made for _, width in rows_made)])
    if kept and any(fields is None for _, _, fields in sides):
        # The commas are counted only if the rows differ: a parse as wide as the first kept row (which holds no
        # quoted comma) that Arrow takes whole shows every kept row as wide, or an empty line (its nulls).
        first_kept = rows[int(np.argmax(keep))].as_py()
        width = first_kept.count(",") + 1
        if made_widest <= width:
            batch = _csv_rows_batch(rows, keep, careful, made, width)
            if batch is not None:
                return batch
    fields = counted()
    kept_fields = fields[keep]
    widest = max(int(kept_fields.max()) if kept else 0, made_widest)
    if widest == 0:
        return None
    if kept and int(kept_fields.min()) < widest:  # short records show as missing values
        padding = np.where(keep, widest - fields, 0).astype(np.int64)
        commas = pc.binary_repeat(_COMMA, int64_array(padding))
        rows = pc.binary_join_element_wise(rows, commas, _NOTHING)
    batch = _csv_rows_batch(rows, keep, careful, made, widest)
    if batch is not None:
        return batch
    # a stray carriage return, or a line break in a quoted value: Python's CSV reader takes the rows in order
    placed = keep | careful  # the kept rows, and a place for each read one by one
    bulk_rows = rows if placed.all() else rows.filter(bool_array(placed))
    padded = [[text + "," * (widest - width) for text, width in rows_made or ()] for rows_made in made]
    in_order: list[str] = []
    next_made = iter(padded)
    for bulk_row, by_record in zip(bulk_rows.to_pylist(), careful[placed], strict=True):
        if by_record:
            in_order.extend(next(next_made))
        elif bulk_row is not None:
            in_order.append(bulk_row)
    return _rows_by_python_csv(in_order)


def _csv_rows_batch(rows: pa.Array, keep: np.ndarray, careful: np.ndarray, made: list[list[tuple[str, int]] | None],
                    width: int) -> pa.RecordBatch | None:
    """The kept rows and those read one by one (padded to ``width``), in order, parsed as CSV ``width`` fields
    wide; None when Arrow refuses a row of another width or the parse does not give one row a line."""
    padded = ["\n".join(text + "," * (width - made_width) for text, made_width in rows_made) if rows_made else None
              for rows_made in made]
    expected = int(keep.sum()) + sum(len(rows_made) for rows_made in made if rows_made)
    placed = keep | careful
    if made:
        rows = pc.replace_with_mask(rows, bool_array(careful), text_array(padded))
    if not placed.all():
        rows = rows.filter(bool_array(placed))
    if rows.null_count:
        rows = rows.filter(rows.is_valid())
    try:
        batch = csv_bytes_batch(joined_lines(rows), width=width)
    except pa.ArrowInvalid:
        return None
    return batch if batch.num_rows == expected else None


def joined_lines(rows: pa.Array) -> bytes:
    """The values of a string array (without nulls), each followed by a line break, as one byte string."""
    ended = pc.binary_join_element_wise(rows, _NOTHING, _LINE_BREAK)
    offsets = np.frombuffer(ended.buffers()[1], dtype=np.int32)[ended.offset: ended.offset + len(ended) + 1]
    return ended.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


class _NotColumnWise(Exception):
    """A chunk the column-wise path does not take: it is read line by line."""


def _line_by_line_batch(chunk: bytes, path: str, lines_before: int, reading: _Reading, problems: InputProblems
                        ) -> pa.RecordBatch | None:
    """The chunk's records one line at a time (blank lines skipped, bad lines counted with ``file:line``)."""
    rows: list[str] = []
    widths: list[int] = []
    good = 0
    for index, line in enumerate(chunk.split(b"\n")):
        if not line.strip():
            continue
        try:
            made = _fast_rows(line, reading.window, reading.wants_input, reading.wants_output, reading.output_first,
                              reading.input_names, reading.missing_output_fields)
        except PayloadError as exc:
            problems.record_bad(path, lines_before + index + 1, str(exc))
            continue
        if made is None:
            problems.record_outside()
            continue
        good += 1
        for text, width in made:
            rows.append(text)
            widths.append(width)
    problems.record_good(good)
    return _rows_to_batch(rows, widths) if rows else None


def _bounded_chunks(piece: Path | CaptureSlice, problems: InputProblems
                    ) -> Iterator[tuple[str, int, bytes, tuple[np.ndarray, np.ndarray]]]:
    """(path, lines before, chunk of whole lines, its ``line_bounds``) of a capture file or of its byte range, the
    lines as ``problems`` counts them (``io.problems.lines_of_part``): one pass finds a chunk's lines and counts
    them."""
    if isinstance(piece, Path):
        piece = CaptureSlice(file=piece)
    path = str(piece.file)
    with lines_of_part(problems, path, piece.start, piece.lines_before) as lines_before:
        for chunk in _slice_line_chunks(piece):
            bounds = line_bounds(chunk)
            yield path, lines_before, chunk, bounds
            lines_before += len(bounds[0])


def _slice_line_chunks(piece: CaptureSlice) -> Iterator[bytes]:
    """The chunks of whole lines of a capture file or of its byte range, without the lines counted
    (``_bounded_chunks`` counts them with their bounds)."""
    if piece.start == 0 and piece.end is None:
        with open_lines(piece.file) as handle:
            try:
                yield from line_chunks(handle, CHUNK_BYTES)
            except (OSError, EOFError, zlib.error) as error:
                raise AnalyzerInputError(f"cannot read this file to its end ({error})", path=str(piece.file)) from None
        return
    with piece.file.open("rb") as handle:
        handle.seek(piece.start)
        limit = None if piece.end is None else piece.end - piece.start
        first = piece.start == 0
        for chunk in line_chunks(handle, CHUNK_BYTES, limit=limit):
            if first and chunk.startswith(UTF8_BOM):  # as open_lines reads a whole file
                chunk = chunk[len(UTF8_BOM):]
            first = False
            yield chunk


def _read_plain(
    pieces: Sequence[Path | CaptureSlice],
    window: TimeWindow | None,
    wants_input: bool,
    wants_output: bool,
    output_first: bool,
    problems: InputProblems,
    input_names: Sequence[str] | None = None,
    missing_output_fields: int | None = None,
    use_threads: bool = True,
) -> Iterator[pa.RecordBatch]:
    """The captured rows of ``pieces``, a chunk of whole lines at a time (``_bulk_batch``)."""
    reading = _Reading(window=window, wants_input=wants_input, wants_output=wants_output, output_first=output_first,
                       input_names=input_names, missing_output_fields=missing_output_fields, use_threads=use_threads)
    for piece in pieces:
        for path, lines_before, chunk, bounds in _bounded_chunks(piece, problems):
            batch = capture_chunk_batch(chunk, path=path, lines_before=lines_before, reading=reading,
                                        problems=problems, bounds=bounds)
            if batch is not None:
                yield batch


def capture_reading(*, window: TimeWindow | None, capture_index_names: Sequence[str] = DEFAULT_CAPTURE_INDEX_NAMES,
                    output_first: bool = True, input_names: Sequence[str] | None = None,
                    missing_output_fields: int | None = None, use_threads: bool = True) -> _Reading:
    """What ``capture_chunk_batch`` keeps of a record (the arguments of ``read_capture_batches``)."""
    return _Reading(window=window, wants_input=ENDPOINT_INPUT in capture_index_names,
                    wants_output=ENDPOINT_OUTPUT in capture_index_names, output_first=output_first,
                    input_names=input_names, missing_output_fields=missing_output_fields, use_threads=use_threads)


def capture_chunk_batch(chunk: bytes, *, path: str, lines_before: int, reading: _Reading, problems: InputProblems,
                        bounds: tuple[np.ndarray, np.ndarray] | None = None) -> pa.RecordBatch | None:
    """The captured rows of one chunk of whole lines (``lines_before`` lines precede it in ``path``), column-wise
    where it can be, else line by line; None when the chunk holds no row. Every runner reads a capture so: the
    local engine a file's chunks, the Spark runner a partition's lines. ``bounds``: the chunk's ``line_bounds``,
    when the caller has them."""
    try:
        batch = _bulk_batch(chunk, path, lines_before, reading, problems, bounds)
    except _NotColumnWise:
        batch = _line_by_line_batch(chunk, path, lines_before, reading, problems)
    return batch if batch is not None and batch.num_rows else None


def _fast_rows(
    line: bytes,
    window: TimeWindow | None,
    wants_input: bool,
    wants_output: bool,
    output_first: bool,
    input_names: Sequence[str] | None = None,
    missing_output_fields: int | None = None,
) -> list[tuple[str, int]] | None:
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"malformed JSON ({exc})") from exc
    if type(raw) is not dict:
        raise PayloadError("a capture line must be a JSON object")
    capture = raw.get("captureData")
    if type(capture) is not dict:
        raise PayloadError("record has no 'captureData' object")
    if window is not None and not window.is_open:
        metadata = raw.get("eventMetadata")
        if not _in_window(metadata.get("inferenceTime") if type(metadata) is dict else None, window):
            return None
    inp = capture.get(ENDPOINT_INPUT, capture.get(BATCH_INPUT)) if wants_input else None
    out = capture.get(ENDPOINT_OUTPUT, capture.get(BATCH_OUTPUT)) if wants_output else None
    if out is None and inp is not None and wants_output and missing_output_fields:
        out = {"data": "," * (missing_output_fields - 1), "encoding": "CSV"}  # its fields missing values
    # The common case, one CSV line per side, without building payload objects.
    if (
        type(inp) is dict
        and type(out) is dict
        and inp.get("encoding") == "CSV"
        and out.get("encoding") == "CSV"
    ):
        a, b = inp.get("data"), out.get("data")
        if type(a) is str and type(b) is str:
            a, b = a.strip("\r\n"), b.strip("\r\n")
            # a line break (a lone carriage return too: payload_rows ends a row there) or a quote: not one plain row
            if ("\n" not in a and "\n" not in b and '"' not in a and '"' not in b
                    and "\r" not in a and "\r" not in b):
                first, second = (b, a) if output_first else (a, b)
                return [(first + "," + second, first.count(",") + second.count(",") + 2)]
    return record_rows([_payload_of(inp), _payload_of(out)], output_first=output_first, input_names=input_names)


def _rows_to_batch(rows: list[str], widths: list[int], irregular: bool = True) -> pa.RecordBatch:
    if not irregular:
        # Hot-path rows were not counted: assume the first row's width, and count only if
        # Arrow finds a row that disagrees.
        try:
            batch = csv_text_batch("\n".join(rows), width=rows[0].count(",") + 1)
            if batch.num_rows == len(rows):  # a stray carriage return would split a row
                return batch
        except pa.ArrowInvalid:
            pass
    widths = [row.count(",") + 1 if w < 0 else w for row, w in zip(rows, widths)]
    width = max(widths)
    if min(widths) != width:
        rows = [row + "," * (width - w) if w < width else row for row, w in zip(rows, widths)]
    try:
        batch = csv_text_batch("\n".join(rows), width=width)
        if batch.num_rows == len(rows):
            return batch
    except pa.ArrowInvalid:
        pass
    return _rows_by_python_csv(rows)


def _split_row(row: str) -> list[str]:
    if not row:
        return [""]
    allow_csv_values(len(row))
    with contextlib.suppress(csv.Error):  # a quoted value keeps its line breaks
        return next(csv.reader([row]))
    try:
        return next(csv.reader([row.replace("\r", " ")]))
    except csv.Error:
        return row.split(",")


def _rows_by_python_csv(rows: list[str]) -> pa.RecordBatch:
    """Slow but total fallback (quoted commas, empty rows): split each row with the csv module."""
    fields = [_split_row(row) for row in rows]
    width = max(len(f) for f in fields)
    columns = [
        pa.array([(f[i] if i < len(f) and f[i] != "" else None) for f in fields], pa.string()) for i in range(width)
    ]
    return pa.RecordBatch.from_arrays(columns, names=[f"_c{i}" for i in range(width)])


def row_from_values(values: Sequence[object]) -> tuple[str, int]:
    """One CSV row (text, field count) from Python values, as JSON payload values are written."""
    return ",".join(_json_value_text(v) for v in values), len(values) or 1  # no values: one missing field


# ---------------------------------------------------------------- outputs for a join with ground truth
_OUTPUT_TYPE = pa.struct([("data", pa.string()), ("encoding", pa.string()), ("observedContentType", pa.string()),
                          ("mode", pa.string())])
# The whole envelope, the members SageMaker writes named (others inferred): the merged records are written from it.
_OUTPUTS_ENVELOPE = pa.schema([
    ("captureData", pa.struct([(ENDPOINT_INPUT, _OUTPUT_TYPE), (ENDPOINT_OUTPUT, _OUTPUT_TYPE),
                               (BATCH_OUTPUT, _OUTPUT_TYPE)])),
    ("eventMetadata", pa.struct([("eventId", pa.string()), ("inferenceId", pa.string()),
                                 ("inferenceTime", pa.string())])),
    ("eventVersion", pa.string()),
])
_OUTPUTS_OPTIONS = pajson.ParseOptions(explicit_schema=_OUTPUTS_ENVELOPE, unexpected_field_behavior="infer")


@dataclass(frozen=True, kw_only=True)
class CapturedOutputs:
    """A chunk's captured records in the window, column-wise, as a join with ground truth needs them: the join
    key (``inferenceId``, else ``eventId``; null without either), the output payload (``endpointOutput``, else
    ``batchTransformOutput``; null without one), and each record's line for the merged records."""

    keys: pa.Array
    data: pa.Array
    encodings: pa.Array
    content_types: pa.Array
    lines: tuple[bytes, np.ndarray, np.ndarray]  # (chunk, starts, ends) of the records kept, in order
    # the chunk's records as Arrow read them (a row a line) and the row of each record kept; None when the chunk
    # was read line by line
    envelopes: tuple[pa.Table, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def record(self, index: int) -> dict:
        """The captured record at ``index``, parsed from its line."""
        chunk, starts, ends = self.lines
        return orjson.loads(chunk[starts[index]:ends[index]])


def _outputs_of_records(records: Sequence[tuple[CaptureRecord, int, int]], chunk: bytes) -> CapturedOutputs:
    """``CapturedOutputs`` of records read one by one (record, start, end of its line)."""
    outputs = [record.endpoint_output or record.payload(BATCH_OUTPUT) for record, _, _ in records]
    keys = []
    for record, _, _ in records:
        key = record.event_metadata.inference_id or record.event_metadata.event_id
        keys.append(None if key is None else str(key))
    return CapturedOutputs(
        keys=text_array(keys),
        data=text_array([None if o is None else o.data for o in outputs]),
        encodings=text_array([None if o is None else o.encoding for o in outputs]),
        content_types=text_array([None if o is None else o.observed_content_type for o in outputs]),
        lines=(chunk, np.array([start for _, start, _ in records], dtype=np.int64),
               np.array([end for _, _, end in records], dtype=np.int64)),
    )


def _one_by_one(chunk: bytes, indices: Iterable[int], starts: np.ndarray, ends: np.ndarray, path: str,
                lines_before: int, window: TimeWindow | None, problems: InputProblems
                ) -> dict[int, tuple[CaptureRecord, int, int]]:
    """The records at ``indices`` read as ``iter_capture_records`` reads them (bad ones counted with file:line,
    those outside the window counted as such), by index."""
    kept = {}
    for index in indices:
        line = chunk[starts[index]:ends[index]]
        if not line.strip():
            continue
        number = lines_before + int(index) + 1
        try:
            record = parse_capture_line(line, path=path, number=number)
            if not _in_window(record.inference_time, window):
                problems.record_outside()
                continue
            if record.endpoint_output is None:
                record.payload(BATCH_OUTPUT)  # an unusable one is this record's problem
        except PayloadError as exc:
            problems.record_bad(path, number, str(exc))
            continue
        kept[int(index)] = (record, int(starts[index]), int(ends[index]))
    return kept


def _captured_outputs(chunk: bytes, path: str, lines_before: int, window: TimeWindow | None,
                      problems: InputProblems, *, use_threads: bool = True,
                      bounds: tuple[np.ndarray, np.ndarray] | None = None) -> CapturedOutputs | None:
    read = json_chunk_table(chunk, _OUTPUTS_OPTIONS, use_threads=use_threads, bounds=bounds)
    if read is None:  # the whole chunk one record at a time
        starts, ends = line_bounds(chunk) if bounds is None else bounds
        kept = _one_by_one(chunk, range(len(starts)), starts, ends, path, lines_before, window, problems)
        problems.record_good(len(kept))
        return _outputs_of_records(list(kept.values()), chunk) if kept else None
    table, starts, ends = read
    capture = table.column("captureData").combine_chunks()
    metadata = table.column("eventMetadata").combine_chunks()
    careful = ~valid_mask(capture)
    for name in (ENDPOINT_INPUT, ENDPOINT_OUTPUT, BATCH_OUTPUT):
        payload = pc.struct_field(capture, name)
        careful |= valid_mask(payload) & ~valid_mask(pc.struct_field(payload, "data"))  # an object without 'data'
    keep = ~careful
    if window is not None and not window.is_open:
        usual, inside = _window_masks(metadata, window)
        careful |= ~usual
        problems.record_outside(int((~careful & ~inside).sum()))
        keep = ~careful & inside
    inference_ids = pc.struct_field(metadata, "inferenceId")
    has_inference_id = valid_mask(inference_ids) & (_counts(pc.utf8_length(inference_ids)) > 0)
    keys = pc.if_else(bool_array(has_inference_id), inference_ids, pc.struct_field(metadata, "eventId"))
    endpoint_output = pc.struct_field(capture, ENDPOINT_OUTPUT)
    batch_output = pc.struct_field(capture, BATCH_OUTPUT)
    use_endpoint = bool_array(valid_mask(endpoint_output))

    def output(name: str) -> pa.Array:  # field by field: the two payloads' other members may differ
        return pc.if_else(use_endpoint, pc.struct_field(endpoint_output, name), pc.struct_field(batch_output, name))

    encodings = pc.if_else(bool_array(valid_mask(endpoint_output) | valid_mask(batch_output)),
                           pc.coalesce(output("encoding"), text_scalar("CSV")), output("encoding"))
    columns = [keys, output("data"), encodings, output("observedContentType")]
    kept_by_record = (_one_by_one(chunk, np.flatnonzero(careful), starts, ends, path, lines_before, window, problems)
                      if careful.any() else {})
    problems.record_good(int(keep.sum()) + len(kept_by_record))
    if not kept_by_record:
        if keep.all():  # the usual chunk: every record kept, the columns as they are
            return CapturedOutputs(keys=columns[0], data=columns[1], encodings=columns[2], content_types=columns[3],
                                   lines=(chunk, starts, ends), envelopes=(table, np.arange(len(keep))))
        chosen = bool_array(keep)
        if not keep.any():
            return None
        return CapturedOutputs(keys=columns[0].filter(chosen), data=columns[1].filter(chosen),
                               encodings=columns[2].filter(chosen), content_types=columns[3].filter(chosen),
                               lines=(chunk, starts[keep], ends[keep]), envelopes=(table, np.flatnonzero(keep)))
    # records read one by one take their place among the others
    order = np.flatnonzero(keep | np.isin(np.arange(len(keep)), list(kept_by_record)))
    if len(order) == 0:
        return None
    one_by_one = _outputs_of_records(list(kept_by_record.values()), chunk)
    values = [column.to_pylist() for column in columns]
    theirs = [column.to_pylist() for column in (one_by_one.keys, one_by_one.data, one_by_one.encodings,
                                                  one_by_one.content_types)]
    for position, index in enumerate(kept_by_record):
        for mine, their in zip(values, theirs, strict=True):
            mine[index] = their[position]
    taken = [[column[i] for i in order] for column in values]
    return CapturedOutputs(keys=text_array(taken[0]), data=text_array(taken[1]), encodings=text_array(taken[2]),
                           content_types=text_array(taken[3]), lines=(chunk, starts[order], ends[order]),
                           envelopes=(table, order))


def read_captured_outputs(
    source: Path, *, window: TimeWindow | None = None, problems: InputProblems,
    files: Sequence[Path | CaptureSlice] | None = None, use_threads: bool = True,
) -> Iterator[CapturedOutputs]:
    """The captured records in ``window`` a chunk at a time, column-wise (``CapturedOutputs``), in file and line
    order: what ``iter_capture_records`` reads, with the same bad records and counts, without an object per
    record. Each chunk is parsed by Arrow's JSON reader (on every core unless ``use_threads`` is False: see
    ``json_chunk_table``); a record that path cannot take (an unusual time, a payload without 'data', a line
    that is not JSON) is read on its own, in its place."""
    for piece in capture_files(source, window) if files is None else files:
        for path, lines_before, chunk, bounds in _bounded_chunks(piece, problems):
            batch = _captured_outputs(chunk, path, lines_before, window, problems, use_threads=use_threads,
                                      bounds=bounds)
            if batch is not None and len(batch):
                yield batch
