"""Data-quality baseline and monitoring runs on Spark: ``monitors.data_quality.run`` with a profiler whose parts
are Spark's partitions.

The input (a dataset of CSV, JSON Lines or Parquet files, or captured traffic: a folder, a prefix, one file, or
a SageMaker manifest naming the window's capture objects) is read by Spark: files no larger than a split
(``spark.sql.files.maxPartitionBytes``), such as capture objects, whole (each task's Python worker reads its listed
files itself, else ``binaryFile`` rows: ``whole_and_split_files``; a manifest's objects are sized by one listing of
each folder they are in: ``SparkProfiler.named_files``), larger ones by ``spark.read.text``, which splits
them at line boundaries; Parquet files by Spark's Parquet reader
(split by row groups), its Arrow batches cast back to the types pyarrow reads the first file's footer with. Each
file or split is profiled on an executor (``spark.partitions``) and the driver merges the states in (file, byte)
order (``ordered_state_rows``: kept on the executors' disks, fetched 16 MB or more at a time), then runs the checks and
writes the reports exactly as the local engine does.
"""

from __future__ import annotations

import pickle
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.capture import (
    CaptureShape,
    capture_reading,
    capture_shape,
    files_near_window,
    shape_look_order,
)
from model_monitor_analyzer.io.datasets import (
    DATA_SUFFIXES,
    HEADER_MAX_BYTES,
    DatasetFormat,
    first_csv_row,
    guess_format,
    header_names,
    spark_column_names,
)
from model_monitor_analyzer.io.jsonlines import GZIP_MAGIC
from model_monitor_analyzer.io.jsonlines import SUFFIXES as JSON_LINES_SUFFIXES
from model_monitor_analyzer.io.manifest import looks_like_manifest, parse_manifest
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.jobs.requests import InputFormat, InputOptions
from model_monitor_analyzer.monitors.data_quality import run as local_run
from model_monitor_analyzer.monitors.data_quality.request import (
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)
from model_monitor_analyzer.profile.dataset import DatasetProfile
from model_monitor_analyzer.report.metrics import METRICS_FILE_NAME
from model_monitor_analyzer.spark import spark_job_errors, spark_session
from model_monitor_analyzer.spark.locations import (
    HadoopFiles,
    RemoteFile,
    require_local_inputs,
    spark_location,
)
from model_monitor_analyzer.spark.partitions import (
    STATE_DDL,
    Layout,
    LineReading,
    named_task_files,
    parquet_partition,
    profile_partition,
    profile_whole_files,
    same_batches,
)
from model_monitor_analyzer.spark.staging import RunFiles

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row

PARQUET_MAGIC = b"PAR1"
FILE_COLUMN, START_COLUMN = "__analyzer_file", "__analyzer_start"  # beside a Parquet dataset's own columns
SHAPE_LINES = 1000  # as io.capture.capture_shape looks at
SHAPE_BYTES = 4 << 20  # read from the head of each capture file until that many lines


def _relative_parts(uri: str, root: str) -> list[str]:
    return uri[len(root):].strip("/").split("/") if uri.startswith(root) else uri.rsplit("/", 1)[-1:]


def _hidden(uri: str, root: str) -> str | None:
    """Why the file at ``uri`` below ``root`` is skipped as the local readers skip it, or None: hidden files and
    folders, and Spark's and Hadoop's markers (``_SUCCESS``)."""
    parts = _relative_parts(uri, root.rstrip("/"))
    if any(part.startswith(".") for part in parts):
        return "a hidden file"
    if any(part.startswith("_") for part in parts):
        return "a job marker file, not data"
    return None


class SparkProfiler:
    """``monitors.data_quality.run.InputProfiler`` with Spark's partitions as the parts."""

    def __init__(self, files: HadoopFiles, folder: Path) -> None:
        self._files = files
        self._spark = files.spark
        self._folder = folder
        self._noted: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ what is read
    def capture_files(self, source: Path, window: TimeWindow | None = None) -> list[RemoteFile]:
        """The capture objects of ``source``: a folder's (or prefix's) JSON Lines files, one file, or the
        objects a manifest names, in path order; below a folder, those of hour folders far from ``window`` left
        out (``io.capture.files_near_window``)."""
        uri = spark_location(source)
        if not self._files.exists(uri):
            raise AnalyzerInputError("capture location does not exist", path=uri)
        if not self._files.is_folder(uri):
            if looks_like_manifest(self._files.head(uri, 4096)):
                manifest = parse_manifest(self._files.read(uri), source=uri)
                return self.named_files(manifest.locations())
            return [RemoteFile(uri=uri, size=0)]
        kept = []
        for file in self._files.files_under(uri):
            hidden = _hidden(file.uri, _listed_root(file.uri, uri))
            if hidden is not None:
                self._note(file.uri, hidden)
                continue
            name = file.uri.rsplit("/", 1)[-1].lower()
            base = name[:-3] if name.endswith(".gz") else name
            if "." not in base or base.endswith(JSON_LINES_SUFFIXES):
                kept.append(file)
            else:
                self._note(file.uri, "not a JSON Lines file; name it *.jsonl to have it read")
        return files_near_window(kept, window, lambda file: PurePosixPath(urlsplit(file.uri).path), source=uri)

    def named_files(self, locations: list[str]) -> list[RemoteFile]:
        """The files at ``locations`` (a manifest's objects) with their sizes, in path order: each folder they are in
        is listed once (``HadoopFiles.files_in``: a day's window is about 24 hour folders, so 24 requests, not one an
        object) and each named file takes its name and size from its folder's listing; one the listing does not show
        keeps the name it is given and size 0 (not known: Spark's reader then finds the sizes, as for a file named
        alone)."""
        folders: dict[str, list[str]] = {}
        for location in locations:
            folders.setdefault(location.rpartition("/")[0], []).append(location)
        found = []
        for folder, named in folders.items():
            listed = {file.uri.rpartition("/")[2]: file for file in self._files.files_in(folder)}
            found.extend(listed.get(location.rpartition("/")[2], RemoteFile(uri=location, size=0))
                         for location in named)
        return sorted(found, key=lambda file: file.uri)

    def _note(self, uri: str, reason: str) -> None:
        """Say once per run that the file at ``uri`` is skipped (the capture is listed more than once), as the local
        readers say it."""
        if (uri, reason) not in self._noted:
            self._noted.add((uri, reason))
            print(f"note: {uri}: skipped, {reason}", file=sys.stderr, flush=True)

    def dataset_files(self, source: Path) -> list[RemoteFile]:
        """The data files of a dataset file or folder, in path order (as ``io.datasets.dataset_files``)."""
        uri = spark_location(source)
        if not self._files.exists(uri):
            raise AnalyzerInputError("dataset not found; pass an existing file or folder", path=uri)
        if not self._files.is_folder(uri):
            return [RemoteFile(uri=uri, size=0)]
        listed = [file for file in self._files.files_under(uri) if _hidden(file.uri, _listed_root(file.uri, uri)) is None]
        if not listed:
            raise AnalyzerInputError("the dataset folder holds no files", path=uri)
        kept = []
        for file in listed:
            suffix = Path(file.uri.rsplit("/", 1)[-1]).suffix.lower()
            if suffix in DATA_SUFFIXES:
                kept.append(file)
            else:
                compressed = (" (compressed data is not read: decompress it first)"
                              if suffix in (".gz", ".bz2", ".xz", ".zst") else "")
                print(f"note: {file.uri}: skipped, not a data file ({suffix or 'no suffix'}){compressed}",
                      file=sys.stderr, flush=True)
        if not kept:
            raise AnalyzerInputError("the dataset folder holds no data files (CSV, JSON Lines or Parquet)", path=uri)
        return kept

    # ------------------------------------------------------------------ InputProfiler
    def capture_shape(self, source: Path, *, window: TimeWindow | None, input_names: list[str]) -> CaptureShape | None:
        """``io.capture.capture_shape`` of the heads of the first capture files (copied to the driver)."""
        try:
            files = self.capture_files(source, window)
        except AnalyzerInputError:
            return None  # the read says what is wrong
        # the window's own hour folders first; far hour folders cannot hold its records (io.capture.shape_look_order)
        near = shape_look_order(files, window, lambda file: PurePosixPath(urlsplit(file.uri).path))
        heads = []
        lines = 0
        for index, file in enumerate(near):
            head = self._files.head(file.uri, SHAPE_BYTES)
            head = head[: head.rfind(b"\n") + 1] if len(head) == SHAPE_BYTES else head
            local = self._folder / "shape" / f"{index:06d}.jsonl"
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(head)
            heads.append(local)
            lines += head.count(b"\n")
            if lines >= SHAPE_LINES:
                break
        return capture_shape(self._folder / "shape", window=window, files=heads, input_names=input_names) if heads else None

    def profile(self, reading: InputOptions, source: Path, fmt: InputFormat | None, problems: InputProblems, *,
                window: TimeWindow | None, names: list[str] | None, detailed_columns: frozenset[str],
                progress: ProgressReporter) -> tuple[DatasetProfile, bool]:
        if reading.record_preprocessor is not None:
            raise AnalyzerInputError("--record-preprocessor is not run by --engine spark yet: use --engine local")
        if fmt is InputFormat.CAPTURE:
            files = self.capture_files(source, window)
            plan = LineReading(
                layout=Layout.CAPTURE, max_bad_record_ratio=reading.max_bad_record_ratio,
                capture=capture_reading(window=window, capture_index_names=reading.capture_index_names,
                                        output_first=reading.output_first, input_names=names,
                                        missing_output_fields=reading.missing_output_fields,
                                        use_threads=False),  # a task has one core
                names=names, detailed_columns=detailed_columns,
            )
        else:
            files = self.dataset_files(source)
            plan = self.dataset_plan(files, fmt, reading, names=names, detailed_columns=detailed_columns)
        profile = self._profile_files([file.uri for file in files], plan, problems, sizes=[file.size for file in files])
        progress.update(profile.item_count)
        return profile, True

    # ------------------------------------------------------------------ the Spark job
    def dataset_plan(self, files: list[RemoteFile], fmt: InputFormat | DatasetFormat | None, reading: InputOptions, *,
                     names: list[str] | None, detailed_columns: frozenset[str]) -> LineReading:
        """How the dataset ``files`` are read (one format; a CSV file's columns from the first file's header)."""
        formats = {DatasetFormat(fmt.value) if fmt is not None else guess_format(Path(file.uri)) for file in files}
        if len(formats) > 1:
            raise AnalyzerInputError(f"the dataset mixes {' and '.join(sorted(f.value for f in formats))} files: give "
                                     "one format (--dataset-format)", path=files[0].uri)
        (chosen,) = formats
        if chosen is DatasetFormat.PARQUET:
            return LineReading(layout=Layout.PARQUET, max_bad_record_ratio=reading.max_bad_record_ratio, names=names,
                               detailed_columns=detailed_columns, parquet_schema=self._parquet_schema(files[0].uri))
        if chosen is DatasetFormat.JSON:
            return LineReading(layout=Layout.JSON_LINES, max_bad_record_ratio=reading.max_bad_record_ratio,
                               names=names, detailed_columns=detailed_columns)
        # the columns from the first file that holds a byte (the local run reads an empty file as no rows)
        first, head = files[0].uri, b""
        for file in files:
            head = self._files.head(file.uri, HEADER_MAX_BYTES + 1)
            if head:
                first = file.uri
                break
        local = self._folder / "header" / (first.rsplit("/", 1)[-1] or "data.csv")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(head)
        try:
            row = first_csv_row(local, names=reading.header)
        except AnalyzerInputError as exc:
            raise AnalyzerInputError(exc.message, path=first, line=exc.line) from None
        if row is None:
            columns, header_lines = [], 0
        else:
            columns = header_names(row[0], path=first) if reading.header else spark_column_names(len(row[0]))
            header_lines = row[1] if reading.header else 0
        return LineReading(layout=Layout.CSV, max_bad_record_ratio=reading.max_bad_record_ratio, columns=columns,
                           header_lines=header_lines, names=names, detailed_columns=detailed_columns)

    def _parquet_schema(self, uri: str) -> pa.Schema:
        """The Arrow schema pyarrow reads the Parquet file at ``uri`` with, from its footer alone (the file's last
        bytes: the footer, its length and the magic ``PAR1``)."""
        end = self._files.tail(uri, 8)
        if len(end) < 8 or end[4:] != PARQUET_MAGIC:
            raise AnalyzerInputError("not a Parquet file (it does not end with PAR1)", path=uri)
        footer = self._files.tail(uri, int.from_bytes(end[:4], "little"), before=8)
        try:
            return pq.read_schema(pa.BufferReader(PARQUET_MAGIC + footer + end))
        except (pa.ArrowInvalid, OSError) as exc:
            raise AnalyzerInputError(f"unreadable Parquet footer ({str(exc).strip().splitlines()[0]})",
                                     path=uri) from None

    def _profile_files(self, uris: list[str], plan: LineReading, problems: InputProblems, *,
                       sizes: list[int] | None = None) -> DatasetProfile:
        """The merged profile of ``uris``; ``sizes``: their sizes as listed (0: not known), which spare Spark the job
        finding files too large to be read whole when none is."""
        profile = DatasetProfile()
        for theirs, their_problems in self.read_states(uris, plan, sizes=sizes):
            profile.merge(theirs)
            problems.merge(their_problems)
        return profile

    def read_states(self, uris: list[str], plan: LineReading, *,
                    sizes: list[int] | None = None) -> Iterator[tuple[object, InputProblems]]:
        """The states of ``uris``' splits (or whole files, or tasks of whole files) with their bad-record tallies, in
        (file, byte) order; a split that failed is raised as the local engine raises it."""
        if not uris or (plan.layout is Layout.CSV and not plan.columns):
            return iter(())
        from pyspark.sql import functions as F

        if plan.layout is Layout.PARQUET:
            # Spark's Parquet reader splits the files by row groups; each split's rows, as Arrow batches, are read as
            # the local reader reads a file's (``partitions.parquet_partition``)
            with spark_job_errors("input", uris):
                found = self._spark.read.parquet(*uris)
            states = found.select("*", F.col("_metadata.file_path").alias(FILE_COLUMN),
                                  F.col("_metadata.file_block_start").alias(START_COLUMN)).mapInArrow(
                partial(parquet_partition, plan=plan), STATE_DDL)
            return self._ordered_states(ordered_state_rows(states, uris))
        with spark_job_errors("input", uris):
            # files no larger than a split go whole to the Python workers, which read them themselves where they
            # can (no copy of the bytes through the JVM); larger ones through Spark's text reader
            whole, large = whole_and_split_files(self._files, uris, sizes, task_bytes=task_bytes(self._spark))
        states = whole.map_in_arrow(partial(profile_whole_files, plan=plan), STATE_DDL)
        if large:
            lines = self._spark.read.text(large).select(
                "value", F.col("_metadata.file_path").alias("file"),
                F.col("_metadata.file_block_start").alias("start"))
            states = states.unionByName(lines.mapInArrow(partial(profile_partition, plan=plan), STATE_DDL))
        return self._ordered_states(ordered_state_rows(states, uris))

    @staticmethod
    def _ordered_states(rows: Iterable[Row]) -> Iterator[tuple[object, InputProblems]]:
        """The states of rows given in (file, byte) order, each unpickled when its turn comes and its row let go."""
        for row in rows:
            state = pickle.loads(row.state)
            del row
            if not isinstance(state, tuple):
                state.raise_it()
            yield state


#: the least bytes of state rows the driver fetches at a time (``ordered_state_rows``), and the most fetches a window
#: makes: each fetch is a Spark job, whose cost (about 0.1 to 0.8 s of the driver's serial time) does not depend on
#: its size, while the driver's memory does (128 MB fetches raised a local[2] run's peak by a third at 50M records, where
#: 16 MB ones kept it where it was)
STATE_BLOCK_BYTES = 16 << 20
MAX_STATE_FETCHES = 64
#: states of at most this many bytes in all come in one job, collected by the JVM (half the time of a job of Python
#: tasks: a 10M-record window's 69 MB took one job instead of 5, 47.1 s against 49.8 s of a local[2] run, for a
#: transient 0.3 GB more of the driver's memory)
ONE_FETCH_BYTES = 128 << 20
_PART_COLUMN = "__analyzer_part"


def ordered_state_rows(states: DataFrame, uris: list[str], *, block_bytes: int = STATE_BLOCK_BYTES,
                       max_fetches: int = MAX_STATE_FETCHES, one_fetch_bytes: int = ONE_FETCH_BYTES) -> Iterator[Row]:
    """The rows ``(file, start, state)`` of ``states`` in (file, start) order, without the driver holding them all.

    One job computes every row and keeps it on the executors' disks (a task's data-quality state of 20 columns is
    about 0.6 MB: a window of a billion records has thousands); the driver collects only each row's key, partition
    and size, then fetches the partitions in the order their rows are needed, as many at a time as hold about
    ``block_bytes`` of states, or a ``max_fetches``-th of them all when that is more (one partition at least), and
    lets each row go once given; states of at most ``one_fetch_bytes`` in all come in one job. The driver so holds
    about one fetch of rows, not the window's; when the files' tasks are in file order (``whole_and_split_files``),
    exactly that. A fetch of 16 partitions made a 10M-record window's
    106 states 7 Spark jobs (6 s of a local[2] run on 2 CPUs); a billion records' would be 656 jobs, 64 now."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    kept = states.withColumn(_PART_COLUMN, F.spark_partition_id()).persist(StorageLevel.DISK_ONLY)
    try:
        with spark_job_errors("input", uris):
            listed = kept.select("file", "start", _PART_COLUMN, F.length("state").alias("size")).collect()
        keys = sorted(((row.file, row.start), row[_PART_COLUMN]) for row in listed)
        sizes: dict[int, int] = {}
        for row in listed:
            sizes[row[_PART_COLUMN]] = sizes.get(row[_PART_COLUMN], 0) + (row.size or 0)
        total = sum(sizes.values())
        if total <= one_fetch_bytes:  # all at once: collected by the JVM, in half the time of a job of Python tasks
            with spark_job_errors("input", uris):
                every = {(row.file, row.start): row for row in kept.select("file", "start", "state").collect()}
            for key, _ in keys:
                yield every.pop(key)
            return
        budget = max(block_bytes, -(-total // max(1, max_fetches)))
        blocks = _fetch_blocks(list(dict.fromkeys(part for _, part in keys)), sizes, budget)
        rows = kept.rdd
        context = kept.sparkSession.sparkContext
        fetched = 0
        waiting: dict[tuple[str, int], Row] = {}
        for key, _ in keys:
            while key not in waiting:
                wanted = blocks[fetched]
                fetched += 1
                with spark_job_errors("input", uris):
                    for row in context.runJob(rows, _rows_of, wanted):
                        waiting[(row.file, row.start)] = row
            yield waiting.pop(key)
    finally:
        kept.unpersist()


def _fetch_blocks(parts: list[int], sizes: dict[int, int], block_bytes: int) -> list[list[int]]:
    """``parts`` (in the order their rows are needed) in runs of consecutive partitions of at most ``block_bytes`` of
    states, a partition larger than that alone."""
    blocks: list[list[int]] = []
    held = block_bytes
    for part in parts:
        size = sizes.get(part, 0)
        if held + size > block_bytes:
            blocks.append([])
            held = 0
        blocks[-1].append(part)
        held += size
    return blocks


def _rows_of(rows: Iterable[Row]) -> Iterable[Row]:
    return rows


@dataclass(frozen=True)
class WholeFiles:
    """Files read whole, for ``map_in_arrow(function, ddl)``: ``function`` gets each task's files as batches of rows
    ``(content, file)``, as ``DataFrame.mapInArrow`` gives them. ``frame``: Spark's ``binaryFile`` rows ``(content,
    file)``; or, with ``tasks`` (each task's files, by name), one row ``id`` a partition, the task's index, which the
    task's Python worker turns into rows ``(null, file)`` (``partitions.named_task_files``): the job's one Python
    stage (an RDD of the names made each task a second Python worker, in a daemon of its own: 0.26 GB more memory)."""

    frame: DataFrame
    tasks: list[list[str]] | None = None

    def map_in_arrow(self, function: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]],
                     ddl: str) -> DataFrame:
        """``function`` over each task's rows ``(content, file)``, its rows of schema ``ddl``."""
        if self.tasks is None:
            return self.frame.mapInArrow(function, ddl)
        return self.frame.mapInArrow(partial(named_task_files, tasks=self.tasks, function=function), ddl)

    def rows(self) -> DataFrame:
        """The rows ``(content, file)`` themselves, a partition a task."""
        return self.map_in_arrow(same_batches, WHOLE_FILES_DDL)


def whole_and_split_files(files: HadoopFiles, uris: list[str], sizes: list[int] | None = None, *,
                          task_bytes: int | None = None) -> tuple[WholeFiles, list[str]]:
    """The files of ``uris`` read whole (``WholeFiles``) and those left to Spark's text reader, which cuts
    them at line boundaries: a file no larger than a split (``spark.sql.files.maxPartitionBytes``) is read whole, and
    so is a larger one that starts as gzip (whatever its name: the text reader decompresses by the name's suffix
    only, and a gzip stream cannot be cut). ``sizes``: the listed sizes of ``uris``, when known (0: not known).

    When every size is known and the executors can read every file themselves (``HadoopFiles.read_on_executors``),
    the rows name the files (``content`` null) in tasks of consecutive files packed as Spark packs a split's files,
    and each executor reads its files one after another (``partitions.read_whole_file``): no listing job, no copy of
    the bytes through the JVM, tasks in file order; ``task_bytes``: how many bytes of files a task then reads (by
    default a split's). Otherwise Spark's ``binaryFile`` reader reads them, in Spark's splits."""
    from pyspark.sql import functions as F

    spark = files.spark
    whole_limit = _byte_size(spark.conf.get("spark.sql.files.maxPartitionBytes", "128m"))
    if (sizes is not None and len(sizes) == len(uris) and all(size > 0 for size in sizes)
            and all(files.read_on_executors(uri) for uri in uris)):
        large = [uri for uri, size in zip(uris, sizes, strict=True) if size > whole_limit]
        gzipped = {uri for uri in large if _read_whole_at_any_size(files, uri)}
        whole = [(uri, size) for uri, size in zip(uris, sizes, strict=True) if size <= whole_limit or uri in gzipped]
        return _named_files(spark, whole, task_bytes or whole_limit), [uri for uri in large if uri not in gzipped]
    found = spark.read.format("binaryFile").load(uris)
    if sizes is not None and all(0 < size <= whole_limit for size in sizes):
        large, whole = [], found  # as listed, every file is read whole (one that grew since too)
    else:  # one job reading no content; both reads see the lengths the DataFrame's file index listed
        large = [row.path for row in found.where(F.col("length") > whole_limit).select("path").collect()]
        gzipped_files = [uri for uri in large if _read_whole_at_any_size(files, uri)]
        large = [uri for uri in large if uri not in gzipped_files]  # a few files above a split, not a capture tree
        whole = found.where(F.col("length") <= whole_limit)
        if gzipped_files:
            return WholeFiles(_content_and_file(whole).unionByName(
                _content_and_file(found.where(F.col("path").isin(gzipped_files))))), large
    return WholeFiles(_content_and_file(whole)), large


WHOLE_FILES_DDL = "content binary, file string"
#: the suffixes by which Hadoop's text reader decompresses a file (its compression codecs)
CODEC_SUFFIXES = (".gz", ".bz2", ".deflate", ".snappy", ".lz4", ".zst", ".br")


def _read_whole_at_any_size(files: HadoopFiles, uri: str) -> bool:
    """Whether a file larger than a split is read whole all the same: one that starts as gzip (a gzip stream cannot
    be cut), or one whose name has a compression suffix (the text reader would decompress it by its name, and fail
    on plain text named ``.jsonl.gz``; read whole, it is gunzipped only when its bytes are gzip)."""
    return uri.lower().endswith(CODEC_SUFFIXES) or files.head(uri, 2) == GZIP_MAGIC


def _named_files(spark, listed: list[tuple[str, int]], task_limit: int) -> WholeFiles:
    """The ``(uri, size)`` files by name, in tasks of consecutive files up to ``task_limit`` bytes, each file counted
    with Spark's cost of opening one (``spark.sql.files.openCostInBytes``), or fewer bytes when that would leave a core
    without a task (as Spark's file sources size their splits)."""
    if not listed:
        return WholeFiles(spark.createDataFrame([], WHOLE_FILES_DDL))
    open_cost_key = "spark.sql.files.openCostInBytes"
    open_cost = _byte_size(spark.conf.get(open_cost_key, "4194304"), open_cost_key)
    cores = max(1, spark.sparkContext.defaultParallelism)
    split = min(task_limit, max(open_cost, sum(size + open_cost for _, size in listed) // cores))
    tasks: list[list[str]] = []
    held = 0
    for uri, size in listed:
        if not tasks or held + size > split:
            tasks.append([])
            held = 0
        tasks[-1].append(uri)
        held += size + open_cost
    return WholeFiles(spark.range(0, len(tasks), 1, len(tasks)), tasks)


def _content_and_file(found: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return found.select("content", F.col("_metadata.file_path").alias("file"))


#: the setting of how many bytes of whole files (each counted with Spark's cost of opening one) a data-quality task
#: profiles, and its default. Spark's split (128 MiB) suits its JVM readers; a task of the analyzer's also pays a fixed
#: cost (its Python worker's round trip, its state's pickling, the driver's fetch and merge of it), about 0.15 s on two
#: cores, a third of a task of 128 MiB of capture files; tasks of 1 GiB took a 10M-record local[2] window from 45.8 s
#: to 38.5 s in alternated runs (bench/results/spark.md). A task's memory does not grow with it: its files are read one
#: at a time.
TASK_BYTES_KEY = "spark.modelMonitor.taskBytes"
DEFAULT_TASK_BYTES = "1g"


def task_bytes(spark) -> int:
    """The bytes of whole files a data-quality task profiles (``TASK_BYTES_KEY``)."""
    size = _byte_size(spark.conf.get(TASK_BYTES_KEY, DEFAULT_TASK_BYTES), TASK_BYTES_KEY)
    if size == 0:
        raise AnalyzerInputError(f"{TASK_BYTES_KEY} is 0: give a task's bytes of files, e.g. 1g (the default) or 256m")
    return size


_BYTE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
               "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50}


def _byte_size(text: str, key: str = "spark.sql.files.maxPartitionBytes") -> int:
    """A Spark byte-size setting (``134217728b``, ``64m``, ``1000``) in bytes, with Spark's binary units."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", text)
    if match is None or match.group(2).lower() not in _BYTE_UNITS:
        raise AnalyzerInputError(f"{key} is not a size in bytes: {text!r}")
    return int(match.group(1)) * _BYTE_UNITS[match.group(2).lower()]


def _listed_root(uri: str, given: str) -> str:
    """The listing's root as the listed URIs spell it (Hadoop writes ``file:/x`` for ``file:///x``)."""
    tail = given.split(":", 1)[-1].lstrip("/")
    position = uri.find(tail)
    return uri[: position + len(tail)] if tail and position >= 0 else given


# ------------------------------------------------------------------ runs
def run_baseline(request: DataQualityBaselineRequest) -> RunOutcome:
    """``monitors.data_quality.run.run_baseline`` with Spark reading the dataset; URI inputs and output allowed."""
    require_local_inputs(request.dataset)
    files = HadoopFiles(spark_session(request.engine))
    with RunFiles(files=files) as staged:
        output = staged.output_folder(request.output, names=(*local_run.BASELINE_FILES, OUTCOME_FILE),
                                      overwrite=request.overwrite, option=request.names.output,
                                      inputs=(request.dataset,))
        local = replace(request, output=output, post_analytics_processor=staged.input_file(request.post_analytics_processor))
        outcome = local_run.run_baseline(local, profiler=SparkProfiler(files, staged.folder))
        return staged.publish(outcome, output=output)


def run_monitor(request: DataQualityMonitorRequest) -> RunOutcome:
    """``monitors.data_quality.run.run_monitor`` with Spark reading the capture; URI inputs and outputs allowed."""
    require_local_inputs(request.capture, request.statistics, request.constraints)
    files = HadoopFiles(spark_session(request.engine))
    with RunFiles(files=files) as staged:
        names = request.names
        inputs = (request.capture, request.statistics, request.constraints)
        output = staged.output_folder(request.output, names=(*local_run.MONITOR_FILES, OUTCOME_FILE),
                                      overwrite=request.overwrite, option=names.output, inputs=inputs)
        metrics_dir = request.metrics_dir
        if metrics_dir is not None:
            metrics_dir = staged.output_folder(metrics_dir, names=(METRICS_FILE_NAME,), overwrite=request.overwrite,
                                               option="--metrics-dir", inputs=inputs)
        local = replace(
            request, output=output, metrics_dir=metrics_dir,
            statistics=staged.input_file(request.statistics), constraints=staged.input_file(request.constraints),
            post_analytics_processor=staged.input_file(request.post_analytics_processor),
        )
        outcome = local_run.run_monitor(local, profiler=SparkProfiler(files, staged.folder))
        return staged.publish(outcome, output=output)
