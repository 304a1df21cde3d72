"""What a Spark executor does with one partition of lines: the local engine's chunk readers and profile states.

Spark's text reader gives a partition as rows ``(value, file, start)``: the lines of one or more
splits of input files (``start``: the split's first byte in its file). The lines of each split are
joined back into chunks of whole lines, read by the same ``io`` chunk reader the local engine calls on
a file's chunks, profiled into a ``DatasetProfile`` by the same function, and sent to the driver as one
row per split: ``(file, start, state)``, the state being the pickled (profile, bad-record tally) or the
failure the split met. The driver orders the splits by (file, start), which is input order whatever the
partitioning, and merges them.

A split that starts inside a file does not know how many lines precede it: its bad records are
located as ``<file> (the part from byte N):<line within the part>``.

Files no larger than a split are read whole instead, one row ``(content, file)`` per file: the executor's
Python gets the file's bytes, gunzips them when they start as gzip and cuts them into chunks of whole lines as
the local engine reads a file (``io.jsonlines.open_lines``), so the JVM does no per-line work for them; their
state rows have ``start`` 0, as a file's only split has. A row whose ``content`` is null names a file the
executor reads itself (``read_whole_file``: a ``file:`` path, or an S3 object through boto3), one file at a
time as its turn comes; the others hold the bytes Spark's ``binaryFile`` reader read.
"""

from __future__ import annotations

import enum
import functools
import gzip
import io
import itertools
import os
import pickle
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.capture import CHUNK_BYTES, capture_chunk_batch, joined_lines
from model_monitor_analyzer.io.datasets import (
    CSV_BLOCK_BYTES,
    csv_chunk_batches,
    csv_record_chunks,
    json_lines_chunk_batches,
    parquet_rows,
    whole_line_chunks,
)
from model_monitor_analyzer.io.jsonlines import GZIP_MAGIC, UTF8_BOM
from model_monitor_analyzer.io.manifest import local_file_path
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.profile.dataset import profile_batches
from model_monitor_analyzer.profile.datatypes import numpy_values

#: the rows a partition sends back
STATE_SCHEMA = pa.schema([("file", pa.string()), ("start", pa.int64()), ("state", pa.binary())])
STATE_DDL = "file string, start long, state binary"


class Layout(enum.Enum):
    """How the lines of an input are read."""

    CAPTURE = "capture"
    CSV = "csv"
    JSON_LINES = "json"
    PARQUET = "parquet"  # Spark's Parquet reader: columns, not lines (``parquet_partition``)


@dataclass(frozen=True, kw_only=True)
class LineReading:
    """Everything an executor needs to read and profile a split (pickled to the executors with the function).

    ``capture``: the capture read (``io.capture.capture_reading``) for ``Layout.CAPTURE``; ``columns`` and
    ``header_lines``: a CSV file's column names and the lines of its header (skipped at each file's start);
    ``names``: the baseline's features that positional columns are renamed to; ``detailed_columns``: columns
    whose every value is counted.
    """

    layout: Layout
    max_bad_record_ratio: float
    capture: object | None = None
    columns: list[str] | None = None
    header_lines: int = 0
    names: list[str] | None = None
    detailed_columns: frozenset[str] = frozenset()
    #: what a split's batches become, when not a data-quality profile: ``consumer(batches, path)`` gives a state with
    #: ``merge(later)`` (a model-quality baseline's part: ``spark.model_quality``)
    consumer: Callable[..., Any] | None = None
    #: whether the consumer is also told if the split begins its file: ``consumer(batches, path, at_file_start)`` (a
    #: bias baseline's CSV part looks at each file's first row: ``spark.bias``)
    consumer_file_start: bool = False
    #: whether a task merges the states of the whole files it reads (order-free states only: the driver merges the
    #: others file by file, in file order)
    merge_in_task: bool = True
    #: a Parquet dataset's column types as the local reader (pyarrow) reads its first file: Spark's own types (a
    #: timestamp in microseconds with the session's time zone, a UINT64 as a decimal) are cast back to them
    parquet_schema: pa.Schema | None = None

    @property
    def chunk_bytes(self) -> int:
        return CHUNK_BYTES if self.layout is Layout.CAPTURE else CSV_BLOCK_BYTES


@dataclass(frozen=True)
class Failure:
    """What went wrong in a split: the user's input (``AnalyzerInputError``'s fields) or a crash."""

    input_error: bool
    message: str
    path: str | None = None
    line: int | None = None

    def raise_it(self) -> None:
        """Raise it on the driver as the local engine would."""
        if self.input_error:
            raise AnalyzerInputError(self.message, path=self.path, line=self.line)
        raise RuntimeError(f"a Spark task failed: {self.message}")


def _pieces(batches: Iterable[pa.RecordBatch], *, columns: bool = False) -> Iterator[tuple[tuple[str, int], Any]]:
    """The partition as runs of consecutive lines of one split: ((file, start), lines); with ``columns``, batches
    whose last two columns are the file and start, as runs of rows of one split: ((file, start), the other columns)."""
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if columns:
            width = batch.num_columns - 2
            values = pa.RecordBatch.from_arrays(batch.columns[:width], schema=pa.schema(list(batch.schema)[:width]))
            files, starts = batch.column(width), batch.column(width + 1)
        else:
            values, files, starts = batch.column(0), batch.column(1), batch.column(2)
        start_numbers = numpy_values(starts)  # no Array.to_numpy: it makes pyarrow import pandas (``_row``)
        other_file = numpy_values(pc.indices_nonzero(pc.not_equal(files.slice(1), files.slice(0, len(files) - 1))))
        changes = np.union1d(np.flatnonzero(start_numbers[1:] != start_numbers[:-1]), other_file.astype(np.int64)) + 1
        edges = [0, *changes.tolist(), batch.num_rows]
        for low, high in itertools.pairwise(edges):
            yield (files[low].as_py(), int(start_numbers[low])), values.slice(low, high - low)


def _chunks(lines: Iterable[pa.Array], chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(lines before, chunk of whole lines) of a split, each chunk about ``chunk_bytes``."""
    def text(arrays: list[pa.Array]) -> bytes:  # Spark may hand large_string columns (64-bit offsets)
        return joined_lines(pa.concat_arrays(arrays).cast(pa.string()).fill_null(""))

    held: list[pa.Array] = []
    size = lines_before = count = 0
    for piece in lines:
        held.append(piece)
        size += piece.nbytes
        count += len(piece)
        if size >= chunk_bytes:
            yield lines_before, text(held)
            lines_before += count
            held, size, count = [], 0, 0
    if held:
        yield lines_before, text(held)


#: the schemes of the files an executor reads itself (``read_whole_file``)
FILE_SCHEMES = frozenset({"file"})
S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})


@functools.cache
def _s3_client() -> Any:
    """boto3's S3 client with its default credentials chain (the job's role), in the region the environment names
    (``AWS_DEFAULT_REGION``, else ``AWS_REGION``, which botocore alone does not read); a connection that cannot be made
    fails within seconds, so that the driver's probe (``s3_read_problem``) falls back within a minute or two, and
    throttled reads are tried five times with backoff (botocore's standard retry mode)."""
    import boto3  # only on executors reading S3 objects
    from botocore.config import Config

    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or None
    return boto3.client("s3", region_name=region,
                        config=Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 5}))


def s3_bucket_and_key(uri: str) -> tuple[str, str]:
    """The bucket and key of ``s3://bucket/key`` (``s3a:``, ``s3n:`` alike), the key taken as it is spelt."""
    bucket, _, key = uri.partition(":")[2].lstrip("/").partition("/")
    return bucket, key


def s3_read_problem(uri: str) -> str | None:
    """Why boto3 cannot read the S3 object at ``uri`` in this process (its first byte asked for: no credentials,
    access denied, no such object), or None when it can: the driver asks before the executors are given objects to
    read with the same credentials (``HadoopFiles.read_on_executors``)."""
    bucket, key = s3_bucket_and_key(uri)
    try:
        _s3_client().get_object(Bucket=bucket, Key=key, Range="bytes=0-0")["Body"].read()
    except Exception as exc:  # botocore's errors: no credentials, access denied, no such key or bucket, no endpoint
        return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return None


def read_whole_file(uri: str) -> bytes:
    """The bytes of the file at ``uri`` as listed by Hadoop (``file:/x``, ``file:///x``, ``s3://bucket/key``; taken
    as it is, not percent-decoded: Hadoop's listing spells names plainly), read on the executor itself; one that
    cannot be read (gone since the listing, access denied) is an ``AnalyzerInputError``."""
    scheme = uri.partition(":")[0].lower()
    try:
        if scheme in FILE_SCHEMES:
            return local_file_path(uri).read_bytes()
        if scheme in S3_SCHEMES:
            bucket, key = s3_bucket_and_key(uri)
            return _s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except OSError as exc:
        raise AnalyzerInputError(f"cannot read this file ({exc.strerror or exc})", path=uri) from None
    except Exception as exc:  # botocore's errors: no such key, access denied, no credentials
        raise AnalyzerInputError(f"cannot read this object ({exc})", path=uri) from None
    raise AnalyzerInputError("the executors cannot read this location themselves", path=uri)


def _file_chunks(content: bytes | None, file: str, chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(lines before, chunk of whole lines) of a whole file's bytes, read as ``io.jsonlines.open_lines`` reads a
    file: gunzipped when it starts as gzip, without a leading UTF-8 byte-order mark. ``content`` None: the file is
    read here when the chunks are first asked for (``read_whole_file``)."""
    if content is None:
        content = read_whole_file(file)
    if content[:2] == GZIP_MAGIC:
        try:
            content = gzip.decompress(content)
        except (OSError, EOFError, zlib.error) as error:
            raise AnalyzerInputError(f"cannot decompress this file ({error})", path=file) from None
    if content[:3] == UTF8_BOM:
        content = content[3:]
    yield from whole_line_chunks(io.BytesIO(content), chunk_bytes)


def _split_batches(chunks: Iterable[tuple[int, bytes]], file: str, start: int, plan: LineReading,
                   problems: InputProblems) -> Iterator[pa.RecordBatch]:
    path = file if start == 0 else f"{file} (the part from byte {start})"
    if plan.layout is Layout.CSV:  # a quoted value holding line breaks is never cut between two chunks
        chunks = csv_record_chunks(chunks, width=len(plan.columns or []), skip=plan.header_lines if start == 0 else 0)
    for lines_before, chunk in chunks:
        if plan.layout is Layout.CAPTURE:
            batch = capture_chunk_batch(chunk, path=path, lines_before=lines_before, reading=plan.capture,  # type: ignore[arg-type]
                                        problems=problems)
            if batch is not None:
                yield batch
        elif plan.layout is Layout.CSV:
            skip = plan.header_lines if start == 0 and lines_before == 0 else 0
            yield from csv_chunk_batches(chunk, names=plan.columns or [], skip=skip, lines_before=lines_before,
                                         path_text=path, problems=problems)
        else:
            yield from json_lines_chunk_batches(chunk, lines_before=lines_before, path_text=path, problems=problems)


def _state_row(chunks: Iterable[tuple[int, bytes]], file: str, start: int, plan: LineReading) -> pa.RecordBatch:
    """The ``STATE_SCHEMA`` row of one split (or whole file) given as its chunks of whole lines."""
    return _row(file, start, _state(chunks, file, start, plan))


def _row(file: str, start: int, state: object) -> pa.RecordBatch:
    return state_row(file, start, pickle.dumps(state))


def _one_value(kind: pa.DataType, data: bytes) -> pa.Array:
    return pa.Array.from_buffers(kind, 1, [None, pa.py_buffer(np.array([0, len(data)], np.int32)), pa.py_buffer(data)])


def state_row(file: str, start: int, state: bytes) -> pa.RecordBatch:
    """One ``STATE_SCHEMA`` row, built from buffers: converting Python values (``pa.array``) makes pyarrow import
    pandas, a quarter to half a second of each Python worker's start that nothing here needs."""
    return pa.RecordBatch.from_arrays(
        [_one_value(pa.string(), file.encode()),
         pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(np.array([start], np.int64))]),
         _one_value(pa.binary(), state)],
        schema=STATE_SCHEMA,
    )


def _state(chunks: Iterable[tuple[int, bytes]], file: str, start: int, plan: LineReading) -> object:
    """``(DatasetProfile, InputProblems)`` of one split or whole file (or the plan's consumer's state in place of
    the profile), or the ``Failure`` that stopped it."""
    return _batches_state(lambda problems: _split_batches(chunks, file, start, plan, problems), file, start, plan)


def _batches_state(read: Callable[[InputProblems], Iterator[pa.RecordBatch]], file: str, start: int,
                   plan: LineReading) -> object:
    """``_state`` of a split whose record batches ``read(problems)`` gives."""
    problems = InputProblems(max_bad_record_ratio=plan.max_bad_record_ratio)
    try:
        batches = read(problems)
        if plan.consumer is not None:
            path = file if start == 0 else f"{file} (the part from byte {start})"
            if plan.consumer_file_start:
                return plan.consumer(batches, path, start == 0), problems
            return plan.consumer(batches, path), problems
        profile = profile_batches(batches, names=plan.names, detailed_columns=plan.detailed_columns,
                                  progress=ProgressReporter(enabled=False))
        state: object = (profile, problems)
    except AnalyzerInputError as exc:  # said on the driver as the local engine says it
        state = Failure(True, exc.message, exc.path, exc.line)
    except Exception as exc:  # a bug: said on the driver
        state = Failure(False, f"{type(exc).__name__}: {exc}")
    return state


def profile_partition(batches: Iterable[pa.RecordBatch], plan: LineReading) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function over lines ``(value, file, start)``: one ``STATE_SCHEMA`` row per split."""
    for (file, start), group in itertools.groupby(_pieces(batches), key=lambda piece: piece[0]):
        lines = (piece for _, piece in group)
        yield _state_row(_chunks(lines, plan.chunk_bytes), file, start, plan)


def named_task_files(batches: Iterable[pa.RecordBatch], tasks: list[list[str]],
                     function: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]
                     ) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function over task indices ``(id)`` (``data_quality.WholeFiles``): ``function`` over the rows
    ``(null, file)`` of the task's files, named in ``tasks``."""
    files = [file for batch in batches for task in batch.column(0).to_pylist() for file in tasks[task]]
    if not files:
        return iter(())
    named = pa.record_batch([pa.nulls(len(files), pa.binary()), pa.array(files, pa.string())],
                            names=["content", "file"])
    return function(iter([named]))


def same_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function giving its batches back as they come."""
    yield from batches


def profile_whole_files(batches: Iterable[pa.RecordBatch], plan: LineReading) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function over whole files ``(content, file)``: ONE ``STATE_SCHEMA`` row for the task, keyed
    by its first file, so that the driver merges one state a task rather than one a file (the driver's merge is the
    serial part of a run: bench/results/spark.md). A data-quality profile reads the task's files one after another
    in file order into one profile, as a local worker reads its files (a profile made a file and merged cost a fifth
    more of the worker's time with capture files of 5,000 records); other states are made a file and merged in file
    order. A file that fails is said on the driver as before (the task's row is its failure)."""
    held: list[tuple[str, pa.BinaryScalar]] = []
    for batch in batches:  # the bytes Spark read, or nulls: files read one at a time when their turn comes
        contents, files = batch.column(0), batch.column(1)
        held.extend((files[index].as_py(), contents[index]) for index in range(batch.num_rows))
    if not held:
        return
    held.sort(key=lambda item: item[0])
    if plan.merge_in_task and plan.consumer is None:
        yield _one_profile(held, plan)
        return
    states: list[tuple[str, object, InputProblems]] = []
    for file, content in held:
        state = _state(_file_chunks(content.as_py(), file, plan.chunk_bytes), file, 0, plan)
        if not isinstance(state, tuple) or not plan.merge_in_task:
            yield _row(file, 0, state)
            continue
        states.append((file, *state))
    if not states:
        return
    first, merged, problems = states[0]
    for _, theirs, their_problems in states[1:]:
        merged.merge(theirs)  # type: ignore[attr-defined]
        problems.merge(their_problems)
    yield _row(first, 0, (merged, problems))


def _one_profile(held: list[tuple[str, pa.BinaryScalar]], plan: LineReading) -> pa.RecordBatch:
    """The row of a task's whole files (in file order) read into one data-quality profile, or of the failure of the
    first file that fails."""
    problems = InputProblems(max_bad_record_ratio=plan.max_bad_record_ratio)
    reading = [held[0][0]]

    def batches() -> Iterator[pa.RecordBatch]:
        for file, content in held:
            reading[0] = file
            yield from _split_batches(_file_chunks(content.as_py(), file, plan.chunk_bytes), file, 0, plan,
                                      problems)

    try:
        profile = profile_batches(batches(), names=plan.names, detailed_columns=plan.detailed_columns,
                                  progress=ProgressReporter(enabled=False))
    except AnalyzerInputError as exc:  # said on the driver as the local engine says it
        return _row(reading[0], 0, Failure(True, exc.message, exc.path, exc.line))
    except Exception as exc:  # a bug: said on the driver
        return _row(reading[0], 0, Failure(False, f"{type(exc).__name__}: {exc}"))
    return _row(held[0][0], 0, (profile, problems))


def _as_file_types(batch: pa.RecordBatch, schema: pa.Schema | None) -> pa.Table:
    """A batch of Spark's Parquet reader with each column cast to the type pyarrow reads it as (``schema``), where
    the names match and the cast holds (else Spark's type is kept)."""
    table = pa.Table.from_batches([batch])
    if schema is None:
        return table
    for index, field in enumerate(table.schema):
        wanted = schema.field(field.name).type if schema.get_field_index(field.name) >= 0 else None
        if wanted is None or wanted == field.type:
            continue
        try:
            table = table.set_column(index, field.name, table.column(index).cast(wanted))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
    return table


def _parquet_batches(pieces: Iterable[pa.RecordBatch], file: str, plan: LineReading,
                     problems: InputProblems) -> Iterator[pa.RecordBatch]:
    """A Parquet split's rows as ``io.datasets.read_parquet_file`` gives them: nested columns flattened, lists as
    JSON text, binary columns as text, every row counted as read."""
    noted: set[str] = set()
    for piece in pieces:
        table = parquet_rows(_as_file_types(piece, plan.parquet_schema), Path(urlsplit(file).path), noted)
        for flat in table.to_batches():
            problems.record_good(flat.num_rows)
            yield flat


def parquet_partition(batches: Iterable[pa.RecordBatch], plan: LineReading) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function over Spark's Parquet rows ``(<the dataset's columns>, file, start)``: one
    ``STATE_SCHEMA`` row per split (a file's row groups whose middle lies in the split's bytes)."""
    for (file, start), group in itertools.groupby(_pieces(batches, columns=True), key=lambda piece: piece[0]):
        pieces = [piece for _, piece in group]
        yield _row(file, start, _batches_state(lambda problems, pieces=pieces, file=file: _parquet_batches(
            pieces, file, plan, problems), file, start, plan))
