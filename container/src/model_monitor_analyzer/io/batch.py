"""A batch transform job's data files (contract section 1.3), read as capture records.

A transform job with data capture writes manifests, not data: ``input/`` manifests name the files the
job read and ``output/`` manifests the files it wrote (``io.manifest``). The data files themselves are
laid out for a run under one folder::

    <folder>/input/<key relative to the input manifest's prefix>    what the user fed the job
    <folder>/output/<key relative to the output manifest's prefix>  the model's results (often *.out)

(either side may be missing), as the window planner stages them for a Processing job, or they are
found through the manifests themselves (``BatchSource.data``: a local copy of the data, by key).

Every transform row becomes one capture record, so every monitor type reads a transform job with the
readers it reads an endpoint's captures with, and the same records give the same numbers::

    {"captureData": {"batchTransformInput": {"data": "<input row>", "encoding": "CSV"|"JSON"},
                     "batchTransformOutput": {"data": "<output row>", "encoding": "CSV"|"JSON"}},
     "eventMetadata": {"eventId": "<SageMakerInferenceId>", "inferenceTime": "<SageMakerInferenceTime>"},
     "eventVersion": "0"}

``batchTransformOutput`` is the output row as SageMaker's merge job keeps it: without the inference id
and time (the two trailing CSV columns, or the ``SageMakerInferenceId`` / ``SageMakerInferenceTime``
members of a JSON row), with ``SageMakerOutput`` and any joined input members as they are.
``batchTransformInput`` (this project's name; SageMaker's own merge keeps only the output) is the
input row, or, when the job has no input files here, the joined input of the output row.

Input files are read by the job's dataset format (CSV without header unless said, JSON Lines, one JSON
document a file, also when a JSON Lines format is said but the file is one pretty-printed document, Parquet); output files by their content, whatever their name says (``*.out``). Gzip is
recognised by its first bytes and a UTF-8 byte-order mark is dropped. An input file and its output
file (``<name>`` and ``<name>.out``, else the two sides in name order) are read row by row together:
they must have as many rows. A row that cannot be read is counted with its ``file:line`` in
``InputProblems`` and its pair skipped.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import re
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.arrow_texts import BLANK_LINE, line_texts
from model_monitor_analyzer.io.capture import BATCH_INPUT, BATCH_OUTPUT
from model_monitor_analyzer.io.datasets import NOT_DATA_SUFFIXES, csv_rows, whole_line_chunks
from model_monitor_analyzer.io.jsonlines import line_bounds, open_lines
from model_monitor_analyzer.io.manifest import read_manifest
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import CAPTURE_TIME, TimeWindow, format_timestamp

INPUT_FOLDER = "input"
OUTPUT_FOLDER = "output"
INFERENCE_ID = "SageMakerInferenceId"
INFERENCE_TIME = "SageMakerInferenceTime"
MODEL_OUTPUT = "SageMakerOutput"
PARQUET_MAGIC = b"PAR1"
STAGED_FILE = "batch-transform.jsonl"
# SageMaker's inference time (``2023-01-21T01:29:04Z``); fractions of a second and offsets are accepted too
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


class BatchFormat(enum.Enum):
    """The format of a transform job's input files (``BatchTransformInput.DatasetFormat``)."""

    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


@dataclass(frozen=True, kw_only=True)
class BatchSource:
    """How a transform job's data files are found and read.

    Attributes:
        data_format: the input files' format (default None: each file's by its content: Parquet by its
            magic bytes, JSON when it starts with ``{`` or ``[``, CSV otherwise).
        header: CSV input files start with a header row (default False, as a transform job reads them).
        json_lines: JSON input files hold one record a line (default True); False: one document a file.
        data: the capture folder holds the job's manifests (``input/``, ``output/``), and each data file
            is this folder joined with its key relative to the manifest's prefix (default None: the
            capture folder holds the data files themselves under ``input/`` and ``output/``).
    """

    data_format: BatchFormat | None = None
    header: bool = False
    json_lines: bool = True
    data: Path | None = None


@dataclass(frozen=True, kw_only=True)
class TransformFiles:
    """A transform job's input and output data files, each side in name order, and the folders their keys are
    relative to."""

    inputs: tuple[Path, ...]
    outputs: tuple[Path, ...]
    input_root: Path
    output_root: Path


def _not_data(path: Path) -> str | None:
    """Why a file beside a job's data is not read (a README, a checksum, a job marker), or None to read it. Gzip is
    told by its bytes, so ``*.gz`` is read; ``*.txt`` and names without a suffix may be a job's data."""
    if path.name.startswith("_"):  # Spark's and Hadoop's markers: _SUCCESS, _committed_...
        return "a job marker file, not data"
    suffix = path.suffix.lower()
    if suffix in NOT_DATA_SUFFIXES and suffix != ".gz":
        compressed = " (compressed data is not read: decompress it first)" if suffix in (".bz2", ".xz", ".zst") else ""
        return f"not a data file ({suffix}){compressed}"
    return None


def _listed(folder: Path) -> list[Path]:
    """The files below ``folder`` in path order; hidden files and a job's temporary folders left out, files
    that are not data (``_not_data``) too, each with a note on stderr."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith((".", "_")) for part in relative[:-1]) or relative[-1].startswith(".") \
                or not path.is_file():
            continue
        reason = _not_data(path)
        if reason is not None:
            print(f"note: {path}: skipped, {reason}", file=sys.stderr, flush=True)
            continue
        found.append(path)
    return found


def _through_manifests(folder: Path, data: Path) -> list[Path]:
    """The data files the manifests below ``folder`` name, under ``data`` by key."""
    files: list[Path] = []
    for manifest_path in _listed(folder):
        manifest = read_manifest(manifest_path)
        for relative in manifest.relative_paths():
            file = data / relative
            if not file.is_file():
                raise AnalyzerInputError(
                    f"the manifest names {relative!r} (under {manifest.prefix}) but {file} is not a file: copy the "
                    "job's data files into the batch data folder by their key", path=str(manifest_path))
            if file not in files:
                files.append(file)
    return files


def transform_files(capture: Path, source: BatchSource) -> TransformFiles:
    """The data files of the transform job under ``capture`` (see the module's text)."""
    if not capture.is_dir():
        raise AnalyzerInputError("batch transform data not found: pass the folder holding input/ and output/",
                                 path=str(capture))
    sides: list[tuple[Path, ...]] = []
    for name in (INPUT_FOLDER, OUTPUT_FOLDER):
        folder = capture / name
        if not folder.is_dir():
            sides.append(())
        elif source.data is not None:
            sides.append(tuple(_through_manifests(folder, source.data)))
        else:
            sides.append(tuple(_listed(folder)))
    roots = (source.data, source.data) if source.data is not None else (capture / INPUT_FOLDER, capture / OUTPUT_FOLDER)
    if not sides[0] and not sides[1]:
        what = "manifests" if source.data is not None else "data files"
        raise AnalyzerInputError(f"no {what} of a batch transform job: expected them under {INPUT_FOLDER}/ "
                                 f"and {OUTPUT_FOLDER}/ of this folder", path=str(capture))
    return TransformFiles(inputs=sides[0], outputs=sides[1], input_root=roots[0], output_root=roots[1])


def file_pairs(files: TransformFiles) -> list[tuple[Path | None, Path | None]]:
    """The (input, output) files read together: the input ``<key>`` with the output ``<key>.out`` (keys relative to
    their side's folder), else in name order when both sides have as many files; a side without files pairs with
    nothing."""
    inputs, outputs = list(files.inputs), list(files.outputs)
    if not inputs or not outputs:
        return [(file, None) for file in inputs] + [(None, file) for file in outputs]
    by_key = {file.relative_to(files.output_root).as_posix(): file for file in outputs}
    keys = [file.relative_to(files.input_root).as_posix() + ".out" for file in inputs]
    if all(key in by_key for key in keys) and len(inputs) == len(outputs):
        return [(file, by_key[key]) for file, key in zip(inputs, keys, strict=True)]
    if len(inputs) == len(outputs):
        return list(zip(inputs, outputs, strict=True))
    raise AnalyzerInputError(
        f"{len(inputs)} input file(s) and {len(outputs)} output file(s) of the transform job cannot be paired "
        f"(an input <name> goes with the output <name>.out): stage one output file per input file")


# ---------------------------------------------------------------- rows of a file
@dataclass(slots=True)
class _Row:
    """One row of a transform file: where it is, its payload (None: unreadable, ``problem`` says why)."""

    line: int
    data: str | None = None
    encoding: str = "CSV"
    inference_id: str | None = None
    inference_time: str | None = None
    joined_input: str | None = None  # the input members of a JSON output row joined with its input
    problem: str | None = None


def _head(file: Path) -> bytes:
    with open_lines(file) as handle:
        return handle.read(4096)


def _sniffed(file: Path) -> BatchFormat:
    with file.open("rb") as handle:
        if handle.read(4) == PARQUET_MAGIC:
            return BatchFormat.PARQUET
    head = _head(file).lstrip(b" \t\r\n")
    return BatchFormat.JSON if head[:1] in (b"{", b"[") else BatchFormat.CSV


def _lines(file: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every non-blank line of a (possibly gzip-compressed) text file."""
    with open_lines(file) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip(b"\r\n")
        except (OSError, EOFError, zlib.error) as error:
            raise AnalyzerInputError(f"cannot read this file to its end ({error})", path=str(file)) from None


def _text(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _json_document(file: Path) -> bytes:
    with open_lines(file) as handle:
        try:
            return handle.read()
        except (OSError, EOFError, zlib.error) as error:
            raise AnalyzerInputError(f"cannot read this file to its end ({error})", path=str(file)) from None


def _parquet_rows(file: Path) -> Iterator[_Row]:
    import pyarrow.parquet as pq  # its imports (file systems, ssl) take some 40 ms that only Parquet needs

    try:
        parquet = pq.ParquetFile(file)
        number = 0
        for batch in parquet.iter_batches(batch_size=65_536):
            for row in batch.to_pylist():
                number += 1
                yield _Row(line=number, data=orjson.dumps(row, default=str).decode(), encoding="JSON")
    except (pa.ArrowInvalid, OSError) as error:
        raise AnalyzerInputError(f"not a readable Parquet file ({str(error).splitlines()[0]})", path=str(file)) from None


def _one_document(file: Path) -> bool:
    """Whether a JSON file is one document written over several lines (pretty-printed), not JSON Lines: its
    first line is no JSON value, the whole file is one."""
    first = next(_lines(file), None)
    if first is None:
        return False
    try:
        orjson.loads(first[1])
        return False
    except orjson.JSONDecodeError:
        pass
    try:
        orjson.loads(_json_document(file))
    except orjson.JSONDecodeError:
        return False
    return True


def input_rows(file: Path, source: BatchSource) -> Iterator[_Row]:
    """The rows of one input file, read by the job's dataset format (``source``)."""
    data_format = source.data_format or _sniffed(file)
    if data_format is BatchFormat.PARQUET:
        yield from _parquet_rows(file)
        return
    if data_format is BatchFormat.JSON and (not source.json_lines or _one_document(file)):
        document = _json_document(file)
        text = _text(document)
        if text is None or not text.strip():
            yield _Row(line=1, problem="not UTF-8 text" if text is None else "an empty JSON document")
            return
        try:
            orjson.loads(document)
        except orjson.JSONDecodeError as error:
            yield _Row(line=1, problem=f"not a JSON document ({error.args[0] if error.args else error})")
            return
        yield _Row(line=1, data=text.strip(), encoding="JSON")
        return
    skip_header = data_format is BatchFormat.CSV and source.header
    for number, line in _lines(file):
        if skip_header:
            skip_header = False
            continue
        text = _text(line)
        if text is None:
            yield _Row(line=number, problem="not UTF-8 text")
        elif data_format is BatchFormat.JSON:
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError as error:
                yield _Row(line=number, problem=f"malformed JSON ({error.args[0] if error.args else error})")
                continue
            yield _Row(line=number, data=text.strip(), encoding="JSON")
        else:
            yield _Row(line=number, data=text)


def _json_output_row(number: int, document: object) -> _Row:
    if not isinstance(document, dict):
        return _Row(line=number, data=orjson.dumps(document).decode(), encoding="JSON")
    identity = document.get(INFERENCE_ID)
    when = document.get(INFERENCE_TIME)
    kept = {key: value for key, value in document.items() if key not in (INFERENCE_ID, INFERENCE_TIME)}
    joined = {key: value for key, value in kept.items() if key != MODEL_OUTPUT} if MODEL_OUTPUT in kept else {}
    return _Row(line=number, data=orjson.dumps(kept).decode(), encoding="JSON",
                inference_id=None if identity is None else str(identity),
                inference_time=None if when is None else str(when),
                joined_input=orjson.dumps(joined).decode() if joined else None)


def _csv_fields(text: str) -> list[str]:
    if '"' not in text:
        return text.split(",")
    return next(iter(csv_rows(text)), [])  # a value beyond 128 KiB too


def _csv_output_row(number: int, text: str, with_ids: bool) -> _Row:
    if not with_ids:
        return _Row(line=number, data=text)
    fields = _csv_fields(text)
    if len(fields) < 3 or not _TIME.fullmatch(fields[-1].strip()) or not fields[-2].strip():
        return _Row(line=number, problem="the row does not end with the inference id and time the file's other rows "
                                         "end with")
    cut = text.rstrip().rfind(",", 0, text.rstrip().rfind(","))
    return _Row(line=number, data=text[:cut], inference_id=fields[-2].strip(), inference_time=fields[-1].strip())


def output_rows(file: Path) -> Iterator[_Row]:
    """The rows of one output file, read by its content: JSON (a record a line, or one document), else CSV
    whose rows end with the inference id and time when the first row does."""
    head = _head(file).lstrip(b" \t\r\n")
    if head[:1] in (b"{", b"["):
        lines = _lines(file)
        first = next(lines, None)
        if first is None:
            return
        try:
            first_document = orjson.loads(first[1])
        except orjson.JSONDecodeError:  # one document over several lines
            document = _json_document(file)
            try:
                yield _json_output_row(1, orjson.loads(document))
            except orjson.JSONDecodeError as error:
                yield _Row(line=1, problem=f"malformed JSON ({error.args[0] if error.args else error})")
            return
        yield _json_output_row(first[0], first_document)
        for number, line in lines:
            try:
                yield _json_output_row(number, orjson.loads(line))
            except orjson.JSONDecodeError as error:
                yield _Row(line=number, problem=f"malformed JSON ({error.args[0] if error.args else error})")
        return
    with_ids: bool | None = None
    for number, line in _lines(file):
        text = _text(line)
        if text is None:
            yield _Row(line=number, problem="not UTF-8 text")
            continue
        if with_ids is None:
            fields = _csv_fields(text)
            with_ids = len(fields) >= 3 and bool(_TIME.fullmatch(fields[-1].strip())) and bool(fields[-2].strip())
        yield _csv_output_row(number, text, with_ids)


# ---------------------------------------------------------------- the records
@dataclass(frozen=True, kw_only=True)
class BatchReading:
    """What a monitor type reads of a transform job.

    Attributes:
        inputs: the input rows (features) go into each record, as ``batchTransformInput``.
        outputs: the output rows (the model's results) go into each record, as ``batchTransformOutput``.
        ids_needed_for: None when records may lack an inference id; else what needs them (e.g. "ground truth
            is joined by it"), and a row without one stops the run saying so.
    """

    inputs: bool
    outputs: bool
    ids_needed_for: str | None = None


@dataclass(frozen=True, kw_only=True)
class StagedRecords:
    """The capture records of a transform job, written to ``file``: how many, how many have an inference time,
    and how many were left out for a time outside the window."""

    file: Path
    records: int
    timed: int
    outside_window: int


def _count_rest(rows: Iterator[_Row]) -> int:
    return sum(1 for _ in rows)


def _rows_together(pair: tuple[Path | None, Path | None], source: BatchSource) -> Iterator[tuple[_Row | None, _Row | None]]:
    """The rows of an input file and of its output file, row by row (one side None when it has no file)."""
    input_file, output_file = pair
    inputs = input_rows(input_file, source) if input_file is not None else None
    outputs = output_rows(output_file) if output_file is not None else None
    if inputs is None or outputs is None:
        for row in inputs if inputs is not None else outputs:  # type: ignore[union-attr]
            yield (row, None) if inputs is not None else (None, row)
        return
    for read, (input_row, output_row) in enumerate(itertools.zip_longest(inputs, outputs)):
        if input_row is None or output_row is None:
            more_inputs = read + (input_row is not None) + _count_rest(inputs)
            more_outputs = read + (output_row is not None) + _count_rest(outputs)
            raise _different_row_counts(input_file, output_file, more_inputs, more_outputs)
        yield input_row, output_row


def _different_row_counts(input_file: Path, output_file: Path, inputs: int, outputs: int) -> AnalyzerInputError:
    return AnalyzerInputError(
        f"the input file has {inputs} row(s) but its output {output_file} has {outputs}: a transform job writes one "
        "output row per input row (SplitType Line, AssembleWith Line); stage the matching files", path=str(input_file))


def _payload(data: str, encoding: str) -> dict[str, str]:
    return {"data": data, "encoding": encoding}


def _record(input_row: _Row | None, output_row: _Row | None, reading: BatchReading, output_file: Path | None) -> dict:
    capture: dict[str, dict[str, str]] = {}
    if reading.inputs:
        if input_row is not None:
            capture[BATCH_INPUT] = _payload(input_row.data, input_row.encoding)  # type: ignore[arg-type]
        elif output_row is not None:  # the output holds the input it was joined with
            if output_row.encoding == "JSON":
                if output_row.joined_input is None:
                    raise AnalyzerInputError(
                        "the transform output holds no input fields and the job's input files are not here: stage "
                        "the input/ files, or run the job with JoinSource Input", path=f"{output_file}:{output_row.line}")
                capture[BATCH_INPUT] = _payload(output_row.joined_input, "JSON")
            elif reading.outputs:  # the features beside the model's output columns: which are which is unsaid
                raise AnalyzerInputError(
                    "the transform job's input files are not here, and the input and the model's output columns of "
                    "a CSV output row cannot be told apart: stage the input/ files", path=f"{output_file}:{output_row.line}")
            else:  # the whole row, less the inference id and time: the joined input, and the model's output
                capture[BATCH_INPUT] = _payload(output_row.data, "CSV")  # type: ignore[arg-type]
    if reading.outputs and output_row is not None:
        capture[BATCH_OUTPUT] = _payload(output_row.data, output_row.encoding)  # type: ignore[arg-type]
    metadata: dict[str, str] = {}
    if output_row is not None and output_row.inference_id is not None:
        metadata["eventId"] = output_row.inference_id
    if output_row is not None and output_row.inference_time is not None:
        metadata["inferenceTime"] = output_row.inference_time
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


@dataclass(kw_only=True)
class _Staging:
    """The records being written: where, what is read of each row, and the counts so far."""

    out: BinaryIO
    reading: BatchReading
    window: TimeWindow | None
    problems: InputProblems
    records: int = 0
    timed: int = 0
    outside: int = 0

    @property
    def bounded(self) -> bool:
        return self.window is not None and not self.window.is_open

    def row(self, input_row: _Row | None, output_row: _Row | None, pair: tuple[Path | None, Path | None]) -> None:
        """Write the record of one row (an input row, its output row, or either alone), or count why not."""
        bad = next((row for row in (input_row, output_row) if row is not None and row.problem is not None), None)
        if bad is not None:
            where = pair[0] if bad is input_row else pair[1]
            self.problems.record_bad(str(where), bad.line, bad.problem)  # type: ignore[arg-type]
            return
        if self.reading.ids_needed_for and (output_row is None or output_row.inference_id is None):
            where = f"{pair[1]}:{output_row.line}" if output_row is not None else str(pair[0])
            raise AnalyzerInputError(
                f"the transform output has no inference id ({self.reading.ids_needed_for}): run the transform job "
                "with DataCaptureConfig GenerateInferenceId true", path=where)
        when = output_row.inference_time if output_row is not None else None
        if self.bounded and when is not None:
            try:
                inside = self.window.contains_text(when)  # type: ignore[union-attr]
            except ValueError:
                self.problems.record_bad(str(pair[1]), output_row.line,  # type: ignore[union-attr]
                                         f"the inference time {when!r} is not an ISO 8601 time")
                return
            if not inside:
                self.outside += 1
                self.problems.record_outside()
                return
        self.out.write(orjson.dumps(_record(input_row, output_row, self.reading, pair[1])))
        self.out.write(b"\n")
        self.records += 1
        self.timed += when is not None
        self.problems.record_good()


def stage_capture_records(
    capture: Path,
    source: BatchSource,
    destination: Path,
    *,
    reading: BatchReading,
    problems: InputProblems,
    window: TimeWindow | None = None,
) -> StagedRecords:
    """Write the capture records of the transform job under ``capture`` to a JSON Lines file in ``destination``.

    ``window`` (when given) leaves out the rows whose inference time is outside it; rows without one are kept
    (a transform job run without inference ids has no time but the job's). Unreadable rows are counted in
    ``problems`` with their ``file:line``; the tolerated share is checked at the end. CSV files are read a block
    of rows at a time on whole columns (``_stage_csv_pair``), other files row by row.
    """
    files = transform_files(capture, source)
    if reading.outputs and not reading.inputs and not files.outputs:
        raise AnalyzerInputError(f"no {OUTPUT_FOLDER}/ files of the transform job: the model's results are read "
                                 "from them", path=str(capture / OUTPUT_FOLDER))
    if reading.outputs and reading.ids_needed_for and not files.outputs:
        raise AnalyzerInputError(f"no {OUTPUT_FOLDER}/ files of the transform job: their inference ids are needed "
                                 f"({reading.ids_needed_for})", path=str(capture / OUTPUT_FOLDER))
    target = destination / STAGED_FILE
    with target.open("wb") as out:
        staging = _Staging(out=out, reading=reading, window=window, problems=problems)
        for pair in file_pairs(files):
            if _csv_pair(pair, source, reading):
                _stage_csv_pair(pair, source, staging)
                continue
            for input_row, output_row in _rows_together(pair, source):
                staging.row(input_row, output_row, pair)
    problems.check()
    if problems.bad:  # tolerated, but not silently
        print(f"note: {problems.bad:,} transform row(s) could not be read and are left out, the first: "
              f"{problems.examples[0].describe()}", file=sys.stderr, flush=True)
    return StagedRecords(file=target, records=staging.records, timed=staging.timed, outside_window=staging.outside)


# ---------------------------------------------------------------- CSV files on whole columns
BLOCK_ROWS = 65_536  # rows of an input file and of its output file read together


class _NotColumnWise(Exception):
    """A block the column-wise path does not take: its rows are read one by one."""


def _csv_pair(pair: tuple[Path | None, Path | None], source: BatchSource, reading: BatchReading) -> bool:
    """Whether a pair of files is CSV on both sides (as far as it has them), so that it is read column-wise."""
    input_file, output_file = pair
    if input_file is None and reading.inputs:  # the input comes out of the output rows: read one by one
        return False
    if input_file is not None and (source.data_format or _sniffed(input_file)) is not BatchFormat.CSV:
        return False
    return output_file is None or _sniffed(output_file) is BatchFormat.CSV


class _Lines:
    """The non-blank lines of a (possibly compressed) text file, without their line breaks, handed out a given
    number at a time as Arrow binary values with their line numbers."""

    def __init__(self, file: Path, *, skip_first: bool = False) -> None:
        self.file = file
        self._handle = open_lines(file)
        self._chunks = whole_line_chunks(self._handle, 8 << 20)
        self._values: list[pa.Array] = []
        self._numbers: list[np.ndarray] = []
        self._skip_first = skip_first
        self.handed = 0

    def close(self) -> None:
        self._handle.close()

    def _read(self) -> bool:
        try:
            got = next(self._chunks, None)
        except (OSError, EOFError, zlib.error) as error:
            raise AnalyzerInputError(f"cannot read this file to its end ({error})", path=str(self.file)) from None
        if got is None:
            return False
        lines_before, chunk = got
        starts, _ = line_bounds(chunk)
        lines = line_texts(chunk, starts, len(chunk), binary=True)
        kept = ~np.asarray(pc.match_substring_regex(lines, BLANK_LINE))
        if self._skip_first and kept.any():
            kept[np.flatnonzero(kept)[0]] = False
            self._skip_first = False
        self._values.append(lines.filter(pa.array(kept)))
        self._numbers.append(lines_before + 1 + np.flatnonzero(kept))
        return True

    def take(self, count: int) -> tuple[pa.Array, np.ndarray]:
        """The next ``count`` lines (fewer at the end of the file), with their line numbers."""
        while sum(len(v) for v in self._values) < count and self._read():
            pass
        values = pa.concat_arrays(self._values) if self._values else pa.array([], pa.binary())
        numbers = np.concatenate(self._numbers) if self._numbers else np.zeros(0, dtype=np.int64)
        self._values, self._numbers = [values.slice(count)], [numbers[count:]]
        self.handed += min(count, len(values))
        return values.slice(0, count), numbers[:count]

    def count_rest(self) -> int:
        """Hand out every line left and say how many there were."""
        rest = 0
        while len(taken := self.take(BLOCK_ROWS)[0]):
            rest += len(taken)
        return rest


def _stage_csv_pair(pair: tuple[Path | None, Path | None], source: BatchSource, staging: _Staging) -> None:
    """Stage a pair of CSV files a block of rows at a time: column-wise, or a block with an unusual row (bytes
    that are not UTF-8, a control character, quotes in an output row, an unusual time) row by row."""
    input_file, output_file = pair
    inputs = _Lines(input_file, skip_first=source.header) if input_file is not None else None
    outputs = _Lines(output_file) if output_file is not None else None
    with_ids: bool | None = None
    try:
        while True:
            ins = inputs.take(BLOCK_ROWS) if inputs is not None else None
            outs = outputs.take(len(ins[0]) if ins is not None else BLOCK_ROWS) if outputs is not None else None
            if ins is not None and outs is not None and (len(outs[0]) < len(ins[0]) or not len(ins[0])):
                more_inputs = inputs.handed + inputs.count_rest()  # type: ignore[union-attr]
                more_outputs = outputs.handed + outputs.count_rest()  # type: ignore[union-attr]
                if more_inputs == more_outputs:
                    return
                raise _different_row_counts(input_file, output_file, more_inputs, more_outputs)  # type: ignore[arg-type]
            block = ins if ins is not None else outs
            if not len(block[0]):  # type: ignore[index]
                return
            if outs is not None and with_ids is None:
                first = _text(outs[0][0].as_py().rstrip(b"\r\n"))
                fields = _csv_fields(first) if first is not None else []
                with_ids = len(fields) >= 3 and bool(_TIME.fullmatch(fields[-1].strip())) and bool(fields[-2].strip())
            try:
                _csv_block(ins, outs, bool(with_ids), pair, staging)
            except _NotColumnWise:
                _csv_block_row_by_row(ins, outs, bool(with_ids), pair, staging)
    finally:
        for lines in (inputs, outputs):
            if lines is not None:
                lines.close()


def _csv_block_row_by_row(ins: tuple[pa.Array, np.ndarray] | None, outs: tuple[pa.Array, np.ndarray] | None,
                          with_ids: bool, pair: tuple[Path | None, Path | None], staging: _Staging) -> None:
    count = len((ins or outs)[0])  # type: ignore[index]
    for index in range(count):
        input_row = output_row = None
        if ins is not None:
            text = _text(ins[0][index].as_py().rstrip(b"\r\n"))
            number = int(ins[1][index])
            input_row = _Row(line=number, problem="not UTF-8 text") if text is None else _Row(line=number, data=text)
        if outs is not None:
            text = _text(outs[0][index].as_py().rstrip(b"\r\n"))
            number = int(outs[1][index])
            output_row = (_Row(line=number, problem="not UTF-8 text") if text is None
                          else _csv_output_row(number, text, with_ids))
        staging.row(input_row, output_row, pair)


def _texts(values: pa.Array) -> pa.Array:
    """Binary lines as text without their trailing carriage returns; ``_NotColumnWise`` for bytes that are not
    UTF-8 or a control character (they take the row-by-row path, which says what is wrong or escapes them)."""
    try:
        texts = pc.utf8_rtrim(values.cast(pa.string()), characters="\r\n")
    except pa.ArrowInvalid:
        raise _NotColumnWise from None
    if pc.any(pc.match_substring_regex(texts, r"[\x00-\x1f]")).as_py():
        raise _NotColumnWise
    return texts


def _json_text(texts: pa.Array) -> pa.Array:
    """Each text as a JSON string, quotes included (no control characters: ``_texts`` sends those away)."""
    if pc.any(pc.match_substring_regex(texts, r'["\\]')).as_py():
        texts = pc.replace_substring(pc.replace_substring(texts, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', texts, '"', "")


def _csv_block(ins: tuple[pa.Array, np.ndarray] | None, outs: tuple[pa.Array, np.ndarray] | None, with_ids: bool,
               pair: tuple[Path | None, Path | None], staging: _Staging) -> None:
    """One block of CSV rows made into records on whole columns (see ``_record`` for the record)."""
    reading = staging.reading
    count = len((ins or outs)[0])  # type: ignore[index]
    keep = np.ones(count, dtype=bool)
    input_text = _texts(ins[0]) if ins is not None else None
    output_text = ids = times = None
    if outs is not None:
        output_text = _texts(outs[0])
        if with_ids:
            if pc.any(pc.match_substring(output_text, '"')).as_py():
                raise _NotColumnWise
            parts = pc.split_pattern(output_text, ",", max_splits=2, reverse=True)  # ..., id, time
            if pc.any(pc.not_equal(pc.list_value_length(parts), 3)).as_py():
                raise _NotColumnWise  # a row without its id and time: a bad row
            output_text = pc.list_element(parts, 0)
            ids = pc.utf8_trim_whitespace(pc.list_element(parts, 1))
            times = pc.utf8_trim_whitespace(pc.list_element(parts, 2))
            good = (np.asarray(pc.greater(pc.utf8_length(ids), 0))
                    & np.asarray(pc.match_substring_regex(times, f"^{CAPTURE_TIME.pattern}$")))
            if not good.all():  # an empty id, or a time of another shape
                raise _NotColumnWise
    if reading.ids_needed_for and not with_ids:
        raise _NotColumnWise  # the row-by-row path says the ids are missing
    if staging.bounded and times is not None:
        window = staging.window
        inside = np.ones(count, dtype=bool)
        if window.start is not None:  # type: ignore[union-attr]
            inside &= np.asarray(pc.greater_equal(times, format_timestamp(window.start)))  # type: ignore[union-attr]
        if window.end is not None:  # type: ignore[union-attr]
            inside &= np.asarray(pc.less(times, format_timestamp(window.end)))  # type: ignore[union-attr]
        staging.outside += int((~inside).sum())
        staging.problems.record_outside(int((~inside).sum()))
        keep &= inside
    mask = pa.array(keep)
    pieces: list[object] = []
    if reading.inputs and input_text is not None:  # (``_csv_pair``: a pair read column-wise has its input file)
        pieces += ['"batchTransformInput":{"data":', _json_text(input_text.filter(mask)), ',"encoding":"CSV"}']
    if reading.outputs and output_text is not None:
        pieces += [("," if reading.inputs else "") + '"batchTransformOutput":{"data":',
                   _json_text(output_text.filter(mask)), ',"encoding":"CSV"}']
    pieces.append('},"eventMetadata":{')
    if ids is not None and times is not None:
        pieces += ['"eventId":', _json_text(ids.filter(mask)), ',"inferenceTime":', _json_text(times.filter(mask))]
    pieces.append('},"eventVersion":"0"}\n')
    kept = int(keep.sum())
    if not kept:
        return
    lines = pc.binary_join_element_wise('{"captureData":{', *pieces, "")
    staging.out.write(_joined(lines))
    staging.records += kept
    staging.timed += kept if times is not None else 0
    staging.problems.record_good(kept)


def _joined(values: pa.Array) -> bytes:
    """The values of a string array (without nulls) one after the other."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset: values.offset + len(values) + 1]
    return values.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


def staged_capture(capture: Path, source: BatchSource, *, reading: BatchReading, problems: InputProblems,
                   window: TimeWindow | None = None) -> contextlib.AbstractContextManager[StagedRecords]:
    """``stage_capture_records`` into a temporary folder that is removed on leaving the ``with`` block."""
    return _staged(capture, source, reading=reading, problems=problems, window=window)


@contextlib.contextmanager
def _staged(capture: Path, source: BatchSource, *, reading: BatchReading, problems: InputProblems,
            window: TimeWindow | None) -> Iterator[StagedRecords]:
    with tempfile.TemporaryDirectory(prefix="batch-transform-") as folder:
        yield stage_capture_records(capture, source, Path(folder), reading=reading, problems=problems, window=window)
