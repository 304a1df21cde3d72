"""Model-quality monitoring runs on Spark: ``monitors.model_quality.run.run_monitor`` with the captures joined with
the labels, and each split's matches measured, on Spark's executors.

The window's labels are read on the driver (``io.ground_truth``, a ``file:`` or ``s3://`` folder copied there
first, only the upload hours the window reads) and broadcast with their join index (``io.merge.WindowJoin``).
Spark reads the capture files with ``spark.read.text``, splitting large files at line boundaries; each split's
lines go, in whole-line chunks, to the chunk reader the local run calls (``io.capture``'s captured outputs), are
joined by inference id (else event id), and the split's matches are measured where they were read, as each part of
the local run measures its own (``run._measure_part``: ``metrics.part_state`` of its complete rows). One row a
split comes back: a pickled ``_SplitJoin`` (the metric state, the join's counts, the bad-record tally) and, in a
column of its own, the split's merged records (the merge job's lines, zlib-compressed).

What comes back per split, and what bounds the driver (``python -m bench.spark_model_quality_driver``: 100,000
binary captures in 60 splits):

* the state: the split's decided rows, which the metrics' spreads and a regression's left-to-right sums read in
  capture order (``profile.model_quality``): a binary problem's flags and probability, 8.25 bytes a row (its score
  tally follows from them on the driver), a regression's two numbers or a multiclass problem's two class codes, 16
  bytes a row; the label rows matched as a bitmap of their range or as int32 positions, whichever is smaller. 9.1
  bytes a row in all for binary captures, where what a split sent before (its matched outputs and labels as text,
  the label rows as int64 positions) took 80;
* with the label-free estimate (a baseline that keeps its reference; Spark makes it only without a look-back): its
  isotonic calibration and prediction drift read every capture's output and every labelled row's, so each split
  also sends them as the estimate reads them (``estimation.WindowOutputs``: the predicted label's text, the score
  and the positive flag a capture, with the label's text a labelled row): 38 bytes a labelled capture in all,
  where the columns, the raw output payloads and the int64 positions took 142;
* the merged records stay on the executors: the joined rows are persisted there, the states collected first, and
  the merged lines then handed over a partition at a time (``toLocalIterator``, fetching the next meanwhile: about
  20 ms a partition on 2 loaded CPUs in local mode) and written, each split to its part file
  (``merge/part-NNNNN-...``, NNNNN its place in (file, byte) order: capture order whatever the partitioning; no
  file for a split without matches), unpublished until the run has succeeded.

The driver merges the states in (file, byte) order (``run._merged_measures``: the same state as the local run's
parts give), and the local run goes on as on one machine: the same metrics, checks, reports and metric lines. So
the driver holds the broadcast labels (the bound: a label's id, text and index entry, far more than its state), the
splits' states, and two partitions' compressed merged lines (a partition reads at most
``spark.sql.files.maxPartitionBytes`` of captures, 128 MiB by default; the bench's merged lines compressed are 12 %
of its capture bytes), each split's decompressed a megabyte at a time as it is written. A split whose values the metrics refuse sends no state: the
window is then joined again for every split's matched columns (not its lines, written already), read whole on the
driver so that the error is the one a single process raises.

A baseline (``baseline --type model-quality``) reads its labelled dataset as the data-quality baseline does
(``spark.data_quality``: whole files, or splits at line boundaries), each split on an executor by the local run's
own column reading into the same per-part state (``metrics.part_state``); the driver merges the states in (file,
byte) order, so the spreads read the rows in input order, and the local run goes on from the merged state. The
label-free estimation block of a classification (its isotonic calibration, 5-fold cross-fitted, and the reference
predictions) needs every labelled row at once: each split sends its complete rows back too (their prediction,
probability and label texts, the texts' bytes plus 12 bytes a row: 1M rows of full-precision binary scores with
0/1 labels and predictions take 32 MB on the driver), as much as the local engine holds for the same dataset. A regression keeps no reference and sends
no rows.
"""

from __future__ import annotations

import pickle
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.capture import CHUNK_BYTES, _captured_outputs
from model_monitor_analyzer.io.ground_truth import GroundTruthColumns, upload_hour
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.monitors.model_quality import estimation
from model_monitor_analyzer.monitors.model_quality import run as local_run
from model_monitor_analyzer.monitors.model_quality.metrics import (
    LabelVocabulary,
    NonFiniteValues,
    PartState,
    complete_rows,
    part_state,
)
from model_monitor_analyzer.monitors.model_quality.request import (
    ModelQualityBaselineRequest,
    ModelQualityMonitorRequest,
    ModelQualityNames,
    ModelSettings,
)
from model_monitor_analyzer.profile.model_quality import BinaryState, MulticlassState, RegressionState
from model_monitor_analyzer.report import model_quality as report
from model_monitor_analyzer.spark import spark_job_errors, spark_session
from model_monitor_analyzer.spark.data_quality import SparkProfiler, whole_and_split_files
from model_monitor_analyzer.spark.locations import HadoopFiles, remote_uri, require_local_inputs
from model_monitor_analyzer.spark.partitions import (
    STATE_DDL,
    STATE_SCHEMA,
    Failure,
    _chunks,
    _file_chunks,
    _one_value,
    _pieces,
    state_row,
)
from model_monitor_analyzer.spark.staging import RunFiles

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row


@dataclass(frozen=True, kw_only=True)
class _Measuring:
    """What a split does with its matches besides writing their merged lines: make their metric state
    (``run._measure_part``, as each part of the local run does), or keep their columns (``LabelledColumnsBuilder``)
    for the driver; for the label-free estimate (``outputs_of``), also read every capture's model output and, with
    the state, the complete rows' outputs and labels."""

    settings: ModelSettings
    names: ModelQualityNames
    attributes: merge.ValueAttributes
    state: bool  # the metric state; else the matched columns
    outputs_of: ModelQualityMonitorRequest | None = None  # read every capture's output as this request reads it


@dataclass(frozen=True, kw_only=True)
class _JoinPlan:
    """What an executor needs besides the broadcast labels: the window the captures are read in, and the
    tolerated share of bad capture records (the tally of each split; the driver checks their sum)."""

    window: TimeWindow
    max_bad_record_ratio: float
    measuring: _Measuring | None = None  # model quality's use of the matches (bias: none, it reads the lines)
    lines: bool = True  # the merged lines back (not when the window is joined again for its columns)
    per_split: Callable[[list[bytes]], object] | None = None  # of the split's merged lines, sent back for them


@dataclass(frozen=True)
class _SentMeasure:
    """A split's ``run._PartMeasure`` as it travels: the quality state as its own bytes (``to_bytes``: the rows,
    without the score tally that follows from them), the vocabularies and left-out rows, the counts."""

    quality: bytes | None
    vocabularies: tuple[LabelVocabulary, ...]
    non_finite: NonFiniteValues
    complete: int
    skipped: int
    labelled: estimation.WindowOutputs | None = None

    @classmethod
    def of(cls, measured: local_run._PartMeasure) -> _SentMeasure:
        state = measured.state
        if state is None:
            return cls(None, (), NonFiniteValues(), measured.complete, measured.skipped, measured.labelled)
        return cls(state.quality.to_bytes(), state.vocabularies, state.non_finite, measured.complete, measured.skipped,
                   measured.labelled)

    def measure(self, settings: ModelSettings) -> local_run._PartMeasure:
        """The ``_PartMeasure`` the split made (the state rebuilt from its rows, as ``from_bytes`` does)."""
        state = None
        if self.quality is not None:
            kind = {mq.ProblemType.BINARY_CLASSIFICATION: BinaryState, mq.ProblemType.REGRESSION: RegressionState,
                    mq.ProblemType.MULTICLASS_CLASSIFICATION: MulticlassState}[settings.problem_type]
            state = PartState(kind.from_bytes(self.quality), self.vocabularies, self.non_finite)
        return local_run._PartMeasure(state=state, complete=self.complete, skipped=self.skipped,
                                      labelled=self.labelled)


@dataclass(frozen=True)
class _LabelsMatched:
    """The label rows a split matched, in the smaller of two forms: a bitmap from the first to the last (labels
    and captures mostly come in the same order, so a split's matches lie close together), or their positions."""

    first: int
    bits: bytes | None = None  # np.packbits of the flags from ``first`` on
    positions: np.ndarray | None = None  # int32 (int64 past 2**31 labels)

    @classmethod
    def of(cls, used: np.ndarray) -> _LabelsMatched:
        positions = np.flatnonzero(used)
        if not positions.size:
            return cls(0, positions=positions.astype(np.int32))
        first, last = int(positions[0]), int(positions[-1])
        if (last - first + 8) // 8 < positions.size * 4:
            return cls(first, bits=np.packbits(used[first:last + 1]).tobytes())
        return cls(first, positions=positions.astype(np.int32 if last < 2**31 else np.int64))

    def mark(self, used: np.ndarray) -> None:
        """Set the matched rows' flags in ``used`` (one flag a label row)."""
        if self.bits is not None:
            flags = np.unpackbits(np.frombuffer(self.bits, np.uint8)).astype(bool)
            used[self.first:self.first + flags.size] |= flags[:used.size - self.first]
        else:
            used[self.positions] = True


@dataclass(frozen=True, kw_only=True)
class _SplitJoin:
    """One split's join, pickled back to the driver (its merged lines travel beside it, in a column of their own)."""

    counts: tuple[int, int, _LabelsMatched]  # matched, captures without a label, the label rows matched
    problems: InputProblems
    read: int
    unmatched_key: str | None = None  # the split's first capture key without a label
    measured: _SentMeasure | None = None  # the metric state of its matches (``_Measuring.state``)
    measure_failed: bool = False  # its values were refused: the driver reads the window's columns whole
    builder: merge.LabelledColumnsBuilder | None = None  # the matched columns (not ``_Measuring.state``)
    outputs: estimation.WindowOutputs | None = None  # every capture's output read (``_Measuring.outputs_of``)
    per_split: object = None  # what ``_JoinPlan.per_split`` made of the merged lines (then ``merged`` is empty)
    merged: bytes = b""  # the merge job's lines of the split's matches, zlib-compressed (``joined_splits`` only)


_SPLIT_SCHEMA = pa.schema([*STATE_SCHEMA, ("merged", pa.binary())])
_SPLIT_DDL = f"{STATE_DDL}, merged binary"


def _split_row(file: str, start: int, state: object, merged: bytes) -> pa.RecordBatch:
    row = state_row(file, start, pickle.dumps(state))
    return pa.RecordBatch.from_arrays([*row.columns, _one_value(pa.binary(), merged)], schema=_SPLIT_SCHEMA)


def _join_split(chunks: Iterable[tuple[int, bytes]], file: str, start: int, plan: _JoinPlan, join: merge.WindowJoin,
                labels: GroundTruthColumns, problems: InputProblems) -> tuple[_SplitJoin, bytes]:
    """The split's (or whole file's) ``_SplitJoin`` and its merged lines, zlib-compressed; ``chunks``: its
    (lines before, chunk of whole lines)."""
    path = file if start == 0 else f"{file} (the part from byte {start})"
    measuring = plan.measuring
    builder = merge.LabelledColumnsBuilder()
    compressor = zlib.compressobj(1)
    merged: list[bytes] = []
    read = 0
    outputs: list[tuple[pa.Array, pa.Array, pa.Array]] = []
    for lines_before, chunk in chunks:
        captured = _captured_outputs(chunk, path, lines_before, plan.window, problems)
        if captured is None or not len(captured):
            continue
        positions, rows = join.match_keys(captured.keys)
        if plan.lines:
            for position, row in zip(positions.tolist(), rows.tolist(), strict=True):
                line = merge.merged_line(captured.record(position), labels.records[row])
                merged.append(line if plan.per_split is not None else compressor.compress(line))
        if measuring is not None:
            builder.add_matched_outputs(captured, positions, labels, rows)
            if measuring.outputs_of is not None:
                outputs.append((captured.data, captured.encodings, captured.content_types))
        read += len(captured)
    made = None
    if plan.per_split is not None:
        made, merged = plan.per_split(merged), []
    merged.append(compressor.flush())
    matched, without_label, used = join.part_counts()
    measured = None
    if measuring is not None and measuring.state:
        measured = local_run._measure_part(measuring.settings, builder, measuring.attributes, measuring.names,
                                           labelled=measuring.outputs_of is not None)
    # not one flag a label row: a split sees few of a large window's labels
    state = _SplitJoin(
        counts=(matched, without_label, _LabelsMatched.of(used)), problems=problems, read=read,
        unmatched_key=join.unmatched_key, per_split=made,
        measured=_SentMeasure.of(measured) if measured is not None else None,
        measure_failed=measuring is not None and measuring.state and measured is None,
        builder=builder if measuring is not None and not measuring.state else None,
        outputs=(local_run.captured_outputs_read(measuring.outputs_of, outputs)
                 if measuring is not None and measuring.outputs_of is not None else None))
    return state, b"".join(merged)


def join_counts(window_join: merge.WindowJoin, state: _SplitJoin) -> tuple[int, int, np.ndarray]:
    """A split's join counts as ``WindowJoin.part_counts`` gives them (for ``absorb``)."""
    matched, without_label, labels_matched = state.counts
    used = np.zeros_like(window_join.part_counts()[2])
    labels_matched.mark(used)
    return matched, without_label, used


def join_partition(batches: Iterable[pa.RecordBatch], plan: _JoinPlan, shared: object) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function over lines ``(value, file, start)``: one row a split of the partition
    (``_SPLIT_SCHEMA``), its state a pickled ``_SplitJoin`` or ``Failure``, its merged lines compressed.
    ``shared``: the broadcast (WindowJoin, labels)."""
    import itertools

    window_join, labels = shared.value  # type: ignore[attr-defined]
    for (file, start), group in itertools.groupby(_pieces(batches), key=lambda piece: piece[0]):
        yield _joined_row(_chunks((piece for _, piece in group), CHUNK_BYTES), file, start, plan, window_join, labels)


def join_whole_files(batches: Iterable[pa.RecordBatch], plan: _JoinPlan, shared: object) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function over whole files ``(content, file)``: one row a file, as ``join_partition``'s of a
    file's only split; the file is gunzipped when it starts as gzip, whatever its name, as the local engine reads it."""
    window_join, labels = shared.value  # type: ignore[attr-defined]
    for batch in batches:
        contents, files = batch.column(0), batch.column(1)
        for index in range(batch.num_rows):
            file = files[index].as_py()  # a file that does not gunzip is its row's failure (``_joined_row``)
            yield _joined_row(_file_chunks(contents[index].as_py(), file, CHUNK_BYTES), file, 0, plan,
                              window_join, labels)


def _joined_row(chunks: Iterable[tuple[int, bytes]], file: str, start: int, plan: _JoinPlan,
                window_join: merge.WindowJoin, labels: GroundTruthColumns) -> pa.RecordBatch:
    problems = InputProblems(max_bad_record_ratio=plan.max_bad_record_ratio, input_name="capture records")
    merged = b""
    try:
        state, merged = _join_split(chunks, file, start, plan, merge.WindowJoin.sharing(window_join), labels, problems)
    except AnalyzerInputError as exc:
        state = Failure(True, exc.message, exc.path, exc.line)  # type: ignore[assignment]
    except Exception as exc:  # a bug: said on the driver
        state = Failure(False, f"{type(exc).__name__}: {exc}")  # type: ignore[assignment]
    return _split_row(file, start, state, merged)


class _LinesWriter(merge.MergedRecordsWriter):
    """A merged-records part file written from lines the merge job's format already has."""

    def write_lines(self, data: bytes) -> None:  # type: ignore[override]
        if not data:
            return
        if self._out is None:
            self._open()
        self._out.write(data)  # type: ignore[union-attr]


def _decompressed(data: bytes, piece: int = 1 << 20) -> Iterator[bytes]:
    """zlib ``data`` decompressed a piece at a time: a split's merged lines are about as large as its captures."""
    lines = zlib.decompressobj()
    view = memoryview(data)
    for start in range(0, len(view), piece):
        yield lines.decompress(view[start:start + piece])
    yield lines.flush()


@contextmanager
def _joined_rows(files: HadoopFiles, folder: Path, capture: Path, plan: _JoinPlan, window_join: merge.WindowJoin,
                 labels: GroundTruthColumns, *, kept: bool) -> Iterator[tuple[DataFrame | None, list[str]]]:
    """The splits' rows (``_SPLIT_SCHEMA``) of the captures under ``capture`` joined with ``labels`` on Spark's
    executors, not yet computed (None when there is no capture file), and the capture files; ``kept``: persisted
    on the executors, so that a second action (the merged lines after the states) does not join again."""
    listed = SparkProfiler(files, folder).capture_files(capture, plan.window)
    uris = [file.uri for file in listed]
    if not uris:
        yield None, uris
        return
    from pyspark.sql import functions as F

    spark = files.spark
    window_join.prepare()
    shared = spark.sparkContext.broadcast((window_join, labels))
    rows = None
    try:
        with spark_job_errors("capture", uris):
            # files no larger than a split (and gzip files) whole, as data quality reads them; larger ones in splits
            whole, large = whole_and_split_files(files, uris, [file.size for file in listed])
            rows = whole.map_in_arrow(partial(join_whole_files, plan=plan, shared=shared), _SPLIT_DDL)
            if large:
                lines = spark.read.text(large).select(
                    "value", F.col("_metadata.file_path").alias("file"),
                    F.col("_metadata.file_block_start").alias("start"))
                rows = rows.unionByName(lines.mapInArrow(partial(join_partition, plan=plan, shared=shared),
                                                         _SPLIT_DDL))
            if kept:
                rows = rows.persist()
        yield rows, uris
    finally:
        if kept and rows is not None:
            rows.unpersist()
        shared.unpersist()


def _in_order(rows: Iterable[Row]) -> list[tuple[tuple[str, int], _SplitJoin]]:
    """The splits' states by (file, byte), capture order whatever the partitioning; the first failure raised."""
    states = []
    for row in sorted(rows, key=lambda row: (row.file, row.start)):
        state = pickle.loads(row.state)
        if isinstance(state, Failure):
            state.raise_it()
        states.append(((row.file, row.start), state))
    return states


def joined_splits(files: HadoopFiles, folder: Path, capture: Path, *, window: TimeWindow,
                  window_join: merge.WindowJoin, labels: GroundTruthColumns,
                  max_bad_record_ratio: float,
                  per_split: Callable[[list[bytes]], object] | None = None) -> list[_SplitJoin]:
    """The captures under ``capture`` joined with ``labels`` on Spark's executors: one ``_SplitJoin`` a split, in
    capture order (none when there is no capture file), with its merged lines (``merged``). ``per_split``: a
    function of a split's merged lines (the merge job's, in capture order), run on the executor; its result comes
    back as ``_SplitJoin.per_split`` in place of the merged lines. Every split comes back at once (model quality's
    monitor streams them: ``SparkJoiner``)."""
    plan = _JoinPlan(window=window, max_bad_record_ratio=max_bad_record_ratio, per_split=per_split)
    with _joined_rows(files, folder, capture, plan, window_join, labels, kept=False) as (rows, uris):
        if rows is None:
            return []
        with spark_job_errors("capture", uris):
            collected = rows.collect()
    merged = {(row.file, row.start): row.merged for row in collected}
    return [replace(state, merged=merged[key]) for key, state in _in_order(collected)]


class SparkJoiner:
    """``monitors.model_quality.run.CaptureJoiner`` with Spark's splits of the capture files as the parts: each
    split's metric state collected (with the label-free estimate, its outputs as the estimate reads them too), its
    merged lines written one split at a time (see the module docstring)."""

    def __init__(self, files: HadoopFiles, folder: Path) -> None:
        self._files = files
        self._folder = folder

    def __call__(self, request: ModelQualityMonitorRequest, *, window: TimeWindow, window_join: merge.WindowJoin,
                 labels: GroundTruthColumns, merged_output: Path, progress: ProgressReporter,
                 keep_outputs: bool) -> list:
        assert request.capture is not None  # the request checks it
        settings = request.settings
        ratio = request.reading.max_bad_record_ratio
        # the estimate (``keep_outputs``: Spark makes it only without a look-back) reads the rows too: each split
        # reads its own, so that no column comes back
        measuring = _Measuring(settings=settings, names=request.names, attributes=local_run.value_attributes(settings),
                               state=True, outputs_of=request if keep_outputs else None)
        plan = _JoinPlan(window=window, max_bad_record_ratio=ratio, measuring=measuring)
        writers: list[_LinesWriter] = []
        try:
            with _joined_rows(self._files, self._folder, request.capture, plan, window_join, labels,
                              kept=True) as (rows, uris):
                states = []
                if rows is not None:
                    with spark_job_errors("capture", uris):
                        states = _in_order(rows.select("file", "start", "state").collect())
                writers = [_LinesWriter(merged_output, part=index) for index in range(max(1, len(states)))]
                if states:
                    self._write_merged(rows, {key: writers[index] for index, (key, _) in enumerate(states)}, uris)
            if any(state.measure_failed for _, state in states):
                # a split's values were refused: the window's columns, read whole, say it as one process says it
                states = self._columns_again(request, plan, window_join, labels, states)
        except BaseException:
            for writer in writers:
                writer.discard()  # a run that fails leaves no merged records
            raise
        used = np.zeros(len(window_join.labels), dtype=bool)  # every split's matched labels, for every part's counts
        for _, state in states:
            state.counts[2].mark(used)
        parts = []
        for index, writer in enumerate(writers):
            if not states:  # no capture file: one empty part, as one process reading nothing
                parts.append(local_run._JoinedPart(
                    builder=merge.LabelledColumnsBuilder(), writer=writer, counts=(0, 0, used),
                    problems=InputProblems(max_bad_record_ratio=ratio), read=0,
                    outputs=local_run.captured_outputs_read(request, []) if keep_outputs else None,
                    measured=local_run._PartMeasure(state=None, complete=0, skipped=0, labelled=(
                        local_run.captured_outputs_read(request, []) if keep_outputs else None))))
                continue
            state = states[index][1]
            parts.append(local_run._JoinedPart(
                builder=state.builder or merge.LabelledColumnsBuilder(), writer=writer,
                counts=(state.counts[0], state.counts[1], used), problems=state.problems, read=state.read,
                # a split without a capture in the window adds no output (its empty per-class scores would not
                # stack with the others', and the window would lose them)
                outputs=state.outputs if state.outputs is not None and len(state.outputs) else None,
                unmatched_key=state.unmatched_key,
                measured=state.measured.measure(settings) if state.measured is not None else None))
        # the first part's counts stand for the run's own join (the local run absorbs the others'; the union of the
        # matched labels, given to every part, is absorbed as many times as it likes)
        window_join.absorb(parts[0].counts)  # type: ignore[arg-type]
        window_join.absorb_unmatched_key(parts[0].unmatched_key)
        progress.update(sum(part.read for part in parts))
        return parts

    def _write_merged(self, rows: DataFrame, writers: dict[tuple[str, int], _LinesWriter], uris: list[str]) -> None:
        """Each split's merged lines to its part file, one split at a time as Spark hands them over (partition
        by partition from the executors' kept rows, the next partition fetched meanwhile), so the driver never holds
        the window's lines."""
        with spark_job_errors("capture", uris):
            for row in rows.select("file", "start", "merged").toLocalIterator(prefetchPartitions=True):
                writer = writers[(row.file, row.start)]
                with writer:
                    for data in _decompressed(row.merged):
                        writer.write_lines(data)

    def _columns_again(self, request: ModelQualityMonitorRequest, plan: _JoinPlan, window_join: merge.WindowJoin,
                       labels: GroundTruthColumns, states: list[tuple[tuple[str, int], _SplitJoin]]
                       ) -> list[tuple[tuple[str, int], _SplitJoin]]:
        """The splits joined again for their matched columns (not their lines, written already)."""
        assert plan.measuring is not None and request.capture is not None
        again = replace(plan, measuring=replace(plan.measuring, state=False), lines=False)
        with _joined_rows(self._files, self._folder, request.capture, again, window_join, labels,
                          kept=False) as (rows, uris):
            assert rows is not None
            with spark_job_errors("capture", uris):
                columns = dict(_in_order(rows.select("file", "start", "state").collect()))
        if set(columns) != {key for key, _ in states}:
            raise RuntimeError("Spark split the capture files differently when they were read again")
        return [(key, columns[key]) for key, _ in states]


# ------------------------------------------------------------------ the baseline
@dataclass(frozen=True, kw_only=True)
class BaselinePart:
    """``partitions.LineReading.consumer`` of a model-quality baseline: a split's batches become its complete rows'
    state (``metrics.part_state``), those rows themselves when the estimation reference reads them (a
    classification's), and the counts of complete and incomplete rows (a ``BaselineRows``)."""

    settings: ModelSettings
    names: ModelQualityNames
    wanted: dict[str, str]
    lists: frozenset[str]
    keep_rows: bool

    def __call__(self, batches: Iterator[pa.RecordBatch], path: str) -> local_run.BaselineRows:
        chunks: dict[str, list[pa.Array]] = {what: [] for what in self.wanted}
        for batch in batches:
            if batch.num_rows == 0:
                continue
            for what, column in local_run.batch_columns(batch, self.wanted, lists=self.lists, path=path).items():
                chunks[what].append(column)
        columns = {what: pa.concat_arrays(parts) if parts else pa.array([], pa.string())
                   for what, parts in chunks.items()}
        rows, skipped = complete_rows(local_run.labelled_columns(columns))
        state = part_state(self.settings, rows, names=self.names) if len(rows.labels) else None
        return local_run.BaselineRows(state, rows if self.keep_rows else None, len(rows.labels), skipped)


def _merged_in_order(states: list[PartState]) -> PartState:
    """Consecutive parts' states merged in order, neighbours first: each row is copied about log2(parts) times, not
    once a part as merging them one after another does."""
    while len(states) > 1:
        states = [states[i].merge(states[i + 1]) if i + 1 < len(states) else states[i]
                  for i in range(0, len(states), 2)]
    return states[0]


def _concatenated(parts: list[LabelledColumns]) -> LabelledColumns:
    def joined(columns: list[pa.Array]) -> pa.Array:
        return pa.concat_arrays([column.cast(pa.string()) for column in columns])

    probabilities = [part.probabilities for part in parts]
    return LabelledColumns(
        predictions=joined([part.predictions for part in parts]),
        probabilities=None if any(p is None for p in probabilities) else joined(probabilities),  # type: ignore[misc]
        labels=joined([part.labels for part in parts]))


class SparkBaselineReader:
    """``monitors.model_quality.run.BaselineReader`` with Spark's splits of the dataset as the parts."""

    def __init__(self, files: HadoopFiles, folder: Path) -> None:
        self._profiler = SparkProfiler(files, folder)

    def __call__(self, request: ModelQualityBaselineRequest, problems: InputProblems) -> local_run.BaselineRows:
        if request.reading.record_preprocessor is not None:
            raise AnalyzerInputError("--record-preprocessor is not run by --engine spark yet: use --engine local")
        settings = request.settings
        attributes, lists = local_run.baseline_attributes(settings)
        wanted = {what: attribute for what, attribute in attributes.items() if attribute is not None}
        files = self._profiler.dataset_files(request.dataset)
        plan = replace(
            self._profiler.dataset_plan(files, request.dataset_format, request.reading, names=None,
                                        detailed_columns=frozenset()),
            consumer=BaselinePart(settings=settings, names=request.names, wanted=wanted, lists=lists,
                                  keep_rows=settings.problem_type is not mq.ProblemType.REGRESSION),
            merge_in_task=False)  # the rows stay in input order: the state's spreads and the reference read them so
        parts: list[local_run.BaselineRows] = []
        for part, their_problems in self._profiler.read_states([file.uri for file in files], plan,
                                                               sizes=[file.size for file in files]):
            problems.merge(their_problems)
            parts.append(part)  # type: ignore[arg-type]
        problems.check()
        states = [part.state for part in parts if part.state is not None]
        kept = [part.rows for part in parts if part.rows is not None and len(part.rows.labels)]
        return local_run.BaselineRows(
            _merged_in_order(states) if states else None,
            _concatenated(kept) if kept else None,
            sum(part.complete for part in parts), sum(part.skipped for part in parts))


# ------------------------------------------------------------------ runs
def run_baseline(request: ModelQualityBaselineRequest) -> RunOutcome:
    """``monitors.model_quality.run.run_baseline`` with Spark reading the dataset in splits; URI inputs and output
    allowed."""
    require_local_inputs(request.dataset)
    files = HadoopFiles(spark_session(request.engine))
    with RunFiles(files=files) as staged:
        output = staged.output_folder(request.output, names=(*local_run.BASELINE_FILES, OUTCOME_FILE),
                                      overwrite=request.overwrite, option=request.names.output,
                                      inputs=(request.dataset,))
        outcome = local_run.run_baseline(replace(request, output=output),
                                         reader=SparkBaselineReader(files, staged.folder))
        return staged.publish(outcome, output=output)


def _ground_truth_copy(files: HadoopFiles, uri: str, folder: Path, window: TimeWindow) -> Path:
    """A local copy of the label files under ``uri`` that the window reads (those of its upload hours, and any
    outside hour folders, as ``io.ground_truth`` chooses), in the same relative places."""
    if not files.exists(uri):
        raise AnalyzerInputError("ground-truth location does not exist", path=uri)
    if not files.is_folder(uri):
        return files.download(uri, folder)
    root = uri.rstrip("/")
    listed = files.files_under(uri)
    prefix = next((file.uri[: file.uri.find(root.split(":", 1)[-1].lstrip("/"))] for file in listed), "")
    for file in listed:
        relative = file.uri[len(prefix) + len(root.split(":", 1)[-1].lstrip("/")):].strip("/")
        local = folder.joinpath(*relative.split("/"))
        hour = upload_hour(local, folder)
        if hour is not None and (
                (window.start is not None and hour < window.start.replace(minute=0, second=0, microsecond=0))
                or (window.end is not None and hour >= window.end)):
            continue
        files.download(file.uri, local.parent)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _earlier_merged_files(files: HadoopFiles, uri: str) -> list[str]:
    if not files.is_folder(uri):
        return []
    return [file.uri for file in files.files_under(uri)
            if re.fullmatch(r"part-\d{5}-[^/]*\.jsonl", file.uri.rsplit("/", 1)[-1])]


def run_monitor(request: ModelQualityMonitorRequest) -> RunOutcome:
    """``monitors.model_quality.run.run_monitor`` with the captures joined on Spark; URI inputs and outputs allowed."""
    names = request.names
    if request.batch is not None:
        raise AnalyzerInputError("--engine spark reads endpoint captures only: use --engine local for a transform job")
    if request.merged is not None:
        raise AnalyzerInputError(f"{names.merged} is not read by --engine spark: use --engine local, or give "
                                 f"{names.capture} and {names.ground_truth}")
    if request.reading.record_preprocessor is not None:
        raise AnalyzerInputError("--record-preprocessor is not run by --engine spark yet: use --engine local")
    require_local_inputs(request.capture, request.ground_truth, request.constraints)
    files = HadoopFiles(spark_session(request.engine))
    with RunFiles(files=files) as staged:
        inputs = (request.capture, request.ground_truth, request.constraints)
        output = staged.output_folder(request.output, names=(*local_run.MONITOR_FILES, OUTCOME_FILE),
                                      overwrite=request.overwrite, option=names.output, inputs=inputs)
        metrics_dir = request.metrics_dir
        if metrics_dir is not None:
            metrics_dir = staged.output_folder(metrics_dir, names=(report.METRICS_FILE,),
                                               overwrite=request.overwrite, option="--metrics-dir", inputs=inputs)
        given_merged = request.merged_output or request.output / local_run.MERGE_FOLDER
        merged_uri = remote_uri(given_merged)
        earlier: list[str] = []
        if merged_uri is not None:
            earlier = _earlier_merged_files(files, merged_uri)
            if earlier and not request.overwrite and request.merged_output is None:
                raise AnalyzerInputError(f"{names.output} {remote_uri(request.output)} holds an earlier run's merged "
                                         f"records ({earlier[0].rsplit('/', 1)[-1]}): add --overwrite to replace them")
            merged_output = (output / local_run.MERGE_FOLDER if request.merged_output is None else
                             staged.output_folder(request.merged_output, names=(), overwrite=True,
                                                  option=names.merged_output, inputs=inputs))
        else:
            merged_output = given_merged
        ground_truth = request.ground_truth
        gt_uri = remote_uri(ground_truth) if ground_truth is not None else None
        if gt_uri is not None:
            ground_truth = _ground_truth_copy(files, gt_uri, staged.folder / "ground-truth", request.window)
        local = replace(
            request, output=output, metrics_dir=metrics_dir, ground_truth=ground_truth,
            merged_output=merged_output, constraints=staged.input_file(request.constraints),
        )
        outcome = local_run.run_monitor(local, joiner=SparkJoiner(files, staged.folder))
        for uri in earlier:  # the run succeeded: this run's part files replace the earlier ones
            files.delete(uri)
        return staged.publish(outcome, output=output)
