"""Bias-drift monitoring runs on Spark: ``monitors.bias.run.run_monitor`` with the window's captures joined with its
labels on Spark's executors, and the group counts and FlipTest's queries computed there too.

The join is model quality's (``spark.model_quality.joined_splits``): the labels read on the driver and broadcast
with their join index, each split of the capture files read by the local run's chunk reader and joined by
inference id (else event id), its merged records sent back; the driver takes them in (file, byte) order, which
is capture order whatever the partitioning.

Typing in parts: the join's per-split hook (``joined_splits(per_split=...)``) runs
``monitors.bias.window_records.lines_part_values`` on each split's merged lines where they are made: the split's
feature rows (CSV requests only: Arrow text columns; with a JSON request: one list of values a feature, a CSV
request's cells among them as texts), its labels and predicted labels as read, and the evidence of their types
(``values.text_evidence`` / ``value_evidence``). Only those come back (pickled, compressed), not the records; the
driver merges the evidence and types each split's values by it (``table_from_parts``: text cells when every request
is CSV, value by value as soon as one is JSON; a split of CSV requests in such a window gives its cells' value
evidence on the driver), which gives ``merged_columns`` of the whole window exactly. Not covered, so the window is
joined again without the hook and its merged records typed whole as on one machine: rows of different widths, CSV
rows that do not parse one by one, a record ``merged_columns`` refuses (the error then comes as one machine raises
it), no location of the predictions, no feature row at all.

Then ``SparkBiasRunner`` (``checks.bias.BiasRunner``) spreads the work over the partitions:

* counts: the planned columns (label, predicted label, facets, group variable) cut into one slice a partition,
  each slice counted by ``count_bias`` into a ``BiasState``, serialised, and merged on the driver: the same counts
  as one machine's for any number of partitions, so every count-based metric is identical;
* FlipTest: group a's rows (features, predicted labels) in a k-d tree built once on the driver
  (``NeighbourIndex``) and broadcast; group d's rows cut into one block a partition, each asked against the tree;
  F^+ and F^- add up exactly. Every row of a is kept (no sample), so the result is exact; the driver and each
  executor hold group a's rows and the tree, the executors only their share of group d;
* the plan: the planned columns cut into the same slices, each summarised on an executor (``checks.bias_summary``:
  type evidence, distinct values first-seen by (slice, position), maxima) in two passes, the present values counted
  first so that the second keeps no more distinct values a slice than Clarify's 5 % rule needs; the summaries merged
  on the driver decide the column kinds, the facet groups in first-seen order and the threshold maxima exactly as
  whole columns do, and the slices' row flags (a group of no row, of every row) give the plan's problems.

A baseline (``baseline --type bias``) reads its dataset as the data-quality and model-quality baselines do
(``spark.data_quality.SparkProfiler``'s files and plan): whole files no larger than a split, larger ones in splits at
line boundaries, Parquet by row groups, each split on an executor by the local run's own readers (CSV text columns,
JSON Lines and Parquet columns as their readers type them; a CSV file's first row equal to the column names is its
header, left out, as ``monitors.bias.dataset.read_csv_columns`` reads each file). The splits' rows come back in
(file, byte) order, compressed, and the driver types them as the local run types the whole dataset
(``csv_text_columns``, ``table_columns``), so the columns are the local engine's; then the local run goes on with
``SparkBiasRunner``: the same analysis.json in every field. Each CSV file's first row is read on the driver (its
head, up to 8 files at a time) to refuse a file of another width as the local run does. Refused with a line saying
to use ``--engine local``: JSON Lines or JSON read through the config's ``features`` JMESPath, and JSON Lines rows
that are lists named by ``headers`` (both read document by document).

What stays on the driver: the splits' values (the feature texts or JSON values, labels, predictions: at most one a
label unless captures share an id; a baseline's whole dataset) typed there (a window's by the merged evidence), the
slices cut from the typed columns, and group a's rows for FlipTest. A window table (``--dataset``),
merged records (``--merged``) and a transform job's files are refused with a line saying to use ``--engine local``.
"""

from __future__ import annotations

import functools
import itertools
import pickle
import zlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson
import pyarrow as pa

from model_monitor_analyzer.checks.bias import BiasPlan, BiasState, PartFunction, count_bias
from model_monitor_analyzer.checks.bias_posttraining import NeighbourIndex
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.datasets import HEADER_MAX_BYTES, DatasetFormat, first_csv_row
from model_monitor_analyzer.io.ground_truth import read_ground_truth_columns
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow, reach_back
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome
from model_monitor_analyzer.jobs.requests import InputOptions
from model_monitor_analyzer.monitors.bias import run as local_run
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig, read_analysis_config
from model_monitor_analyzer.monitors.bias.dataset import (
    csv_text_columns,
    is_header_row,
    json_needs_features,
    line_is_a_list,
    table_columns,
    width_mismatch,
)
from model_monitor_analyzer.monitors.bias.request import BiasBaselineRequest, BiasMonitorRequest
from model_monitor_analyzer.monitors.bias.values import Columns
from model_monitor_analyzer.monitors.bias.window_records import (
    LabelledTable,
    lines_part_values,
    table_from_parts,
    unpacked_part_values,
)
from model_monitor_analyzer.spark import spark_session
from model_monitor_analyzer.spark.data_quality import SparkProfiler
from model_monitor_analyzer.spark.locations import HadoopFiles, RemoteFile, remote_uri, require_local_inputs
from model_monitor_analyzer.spark.model_quality import _ground_truth_copy, join_counts, joined_splits
from model_monitor_analyzer.spark.staging import RunFiles

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import SparkSession


class SparkWindowRecords:
    """``monitors.bias.run.WindowRecords`` with the captures joined on Spark's executors."""

    def __init__(self, files: HadoopFiles, staged: RunFiles) -> None:
        self._files = files
        self._staged = staged

    def __call__(self, request: BiasMonitorRequest) -> tuple[list[dict] | LabelledTable, dict[str, object]]:
        assert request.capture is not None and request.ground_truth is not None  # run_monitor checks it
        start, end = request.window.start, request.window.end

        def tally(input_name: str) -> InputProblems:  # as the local run tallies each input
            return InputProblems(max_bad_record_ratio=request.max_bad_record_ratio,
                                 tolerance_setting=request.names.max_bad_record_ratio, input_name=input_name)

        labels_read, captures_read = tally("label records"), tally("capture records")
        ground_truth = request.ground_truth
        uri = remote_uri(ground_truth)
        if uri is not None:
            ground_truth = _ground_truth_copy(self._files, uri, self._staged.folder / "ground-truth", request.window)
        labels = read_ground_truth_columns(ground_truth, uploaded_from=start, uploaded_before=end,
                                           problems=labels_read)
        labels_read.check()
        join = merge.WindowJoin(labels)
        config = read_analysis_config(request.analysis_config, name=request.names.analysis_config,
                                      place=request.names.place_document)
        threshold = request.probability_threshold
        settings = {"features_attribute": request.features_attribute or config.features,
                    "inference_attribute": request.inference_attribute,
                    "probability_attribute": request.probability_attribute,
                    "probability_threshold": threshold if threshold is not None else config.probability_threshold}
        covered = settings["inference_attribute"] is not None or settings["probability_attribute"] is not None

        def joined(per_split: functools.partial | None) -> list:
            return joined_splits(self._files, self._staged.folder, request.capture,  # type: ignore[arg-type]
                                 window=TimeWindow(start=reach_back(start, request.ground_truth_lookback), end=end),
                                 window_join=join, labels=labels, max_bad_record_ratio=request.max_bad_record_ratio,
                                 per_split=per_split)

        states = joined(functools.partial(lines_part_values, config=config, settings=settings) if covered else None)
        table = None
        if covered and sum(state.counts[0] for state in states):
            table = table_from_parts([unpacked_part_values(state.per_split) for state in states], config)
            if table is None:  # not covered by typing in parts (a JSON request...): the records typed whole
                states = joined(None)
        records: list[dict] = []
        for state in states:
            join.absorb(join_counts(join, state))
            captures_read.merge(state.problems)
            if table is None:
                records.extend(orjson.loads(line) for line in zlib.decompress(state.merged).splitlines())
        captures_read.check()
        return (records if table is None else table), join.summary.as_dict()


def _count_part(plan: BiasPlan, part: Mapping[str, np.ndarray]) -> dict[str, object]:
    """An executor's share of the counts: the state of its slice of rows, serialised."""
    return count_bias(plan, part).to_dict()


def _on_part(function: PartFunction, item: tuple[int, Mapping[str, np.ndarray]]) -> object:
    """An executor's share of planning: the summaries or row flags of its slice (``checks.bias.plan_bias``)."""
    index, part = item
    return function(index, part)


def _flip_part(block: tuple[np.ndarray, np.ndarray], *, shared: Broadcast, neighbours: int) -> tuple[int, int]:
    """An executor's share of FlipTest: F^+ and F^- of its block of group d's rows against the broadcast index."""
    queries, predicted = block
    index: NeighbourIndex = shared.value
    return index.flip_counts(queries, predicted, neighbours)


class SparkBiasRunner:
    """``checks.bias.BiasRunner`` on Spark's executors: rows counted in slices and FlipTest's queries answered in
    blocks, one a partition (``partitions``, default Spark's default parallelism); see the module's docstring."""

    def __init__(self, spark: SparkSession, *, partitions: int | None = None) -> None:
        self._context = spark.sparkContext
        self._partitions = max(1, partitions or self._context.defaultParallelism)

    def _bounds(self, rows: int) -> list[tuple[int, int]]:
        cuts = np.linspace(0, rows, self._partitions + 1).round().astype(int).tolist()
        return list(itertools.pairwise(cuts))

    def count(self, plan: BiasPlan, columns: Mapping[str, np.ndarray]) -> BiasState:
        needed = {plan.label, plan.predicted_label, plan.group_variable, *(facet.column for facet in plan.facets)}
        chosen = {name: values for name, values in columns.items() if name in needed}
        rows = len(next(iter(columns.values())))
        slices = [{name: values[start:end] for name, values in chosen.items()} for start, end in self._bounds(rows)]
        counted = replace(plan, stages=())  # the metrics' definitions stay on the driver
        documents = self._context.parallelize(slices, len(slices)).map(functools.partial(_count_part, counted)).collect()
        return functools.reduce(BiasState.merge, (BiasState.from_dict(document) for document in documents))

    def map_parts(self, function: PartFunction, columns: Mapping[str, np.ndarray]) -> list[object]:
        rows = len(next(iter(columns.values())))
        slices = [(index, {name: values[start:end] for name, values in columns.items()})
                  for index, (start, end) in enumerate(self._bounds(rows))]
        return self._context.parallelize(slices, len(slices)).map(functools.partial(_on_part, function)).collect()

    def flip_counts(self, reference: np.ndarray, reference_predicted: np.ndarray, queries: np.ndarray,
                    query_predicted: np.ndarray, neighbours: int) -> tuple[int, int]:
        if not queries.shape[0]:
            return 0, 0
        shared = self._context.broadcast(NeighbourIndex.build(reference, reference_predicted))
        try:
            blocks = [(queries[start:end], query_predicted[start:end]) for start, end in self._bounds(queries.shape[0])]
            counted = self._context.parallelize(blocks, len(blocks)).map(
                functools.partial(_flip_part, shared=shared, neighbours=neighbours)).collect()
        finally:
            shared.destroy()
        return sum(positive for positive, _ in counted), sum(negative for _, negative in counted)


# ------------------------------------------------------------------ the baseline
#: the dataset types read on Spark, as the format Spark reads them in
SPARK_DATASET_FORMATS = {"text/csv": DatasetFormat.CSV, "application/jsonlines": DatasetFormat.JSON,
                         "application/x-parquet": DatasetFormat.PARQUET}
FIRST_ROW_BYTES = 64 << 10  # read from each CSV file's head for its first row (more when the row is longer)
HEAD_THREADS = 8  # the CSV files' heads are read side by side: on S3 each is a request


@dataclass(frozen=True, kw_only=True)
class DatasetSplit:
    """What one split of a bias baseline's dataset sends back: its rows as read (CSV text columns, JSON Lines or
    Parquet columns as their readers type them), pickled and compressed, and how many header rows of CSV files it
    left out (the reader counted them as records)."""

    packed: bytes
    headers: int = 0

    def batches(self) -> list[pa.RecordBatch]:
        return pickle.loads(zlib.decompress(self.packed))  # made by this run's own executors


@dataclass(frozen=True, kw_only=True)
class DatasetPart:
    """``partitions.LineReading.consumer`` of a bias baseline: a split's batches, sent back as a ``DatasetSplit``.
    ``names``: a CSV dataset's column names; the first row of a file equal to them is its header, left out, and one
    naming them in another order or case is refused (``dataset.is_header_row``, as ``read_csv_columns`` reads
    each file)."""

    names: tuple[str, ...] | None = None

    def __call__(self, batches: Iterator[pa.RecordBatch], path: str, at_file_start: bool) -> DatasetSplit:
        if self.names is None:
            return DatasetSplit(packed=zlib.compress(pickle.dumps(list(batches)), 1))
        kept = [batch for batch in batches if batch.num_rows]
        headers = 0
        if at_file_start and kept and is_header_row(kept[0], self.names, path=path):
            kept[0], headers = kept[0].slice(1), 1
        return DatasetSplit(packed=zlib.compress(pickle.dumps(kept), 1), headers=headers)


class SparkDatasetReader:
    """``monitors.bias.run.DatasetReader`` with Spark's splits of the dataset as the parts: each split read on an
    executor by the local run's readers (``spark.data_quality.SparkProfiler``'s plan of the files), its rows sent
    back and typed on the driver as ``monitors.bias.dataset.read_bias_columns`` types the whole dataset's."""

    def __init__(self, files: HadoopFiles, folder: Path) -> None:
        self._files = files
        self._folder = folder
        self._profiler = SparkProfiler(files, folder)

    def __call__(self, request: BiasBaselineRequest, config: BiasAnalysisConfig, problems: InputProblems) -> Columns:
        where = remote_uri(request.dataset) or str(request.dataset)
        files = self._profiler.dataset_files(request.dataset)
        kind = request.dataset_type or config.dataset_type
        if kind == "application/json" and config.features is None:
            raise json_needs_features(where)
        if kind not in SPARK_DATASET_FORMATS and kind != "application/json":
            raise AnalyzerInputError(f"dataset type {kind!r} is not supported", path=where)
        if kind == "application/json" or (kind == "application/jsonlines" and (
                config.features is not None or self._rows_are_lists(files))):
            raise AnalyzerInputError(
                f"--engine spark reads a bias dataset of CSV, JSON Lines objects or Parquet: use --engine local for "
                f"{kind} read through the config's \"features\" or \"headers\"", path=where)
        chosen = SPARK_DATASET_FORMATS[kind]
        header = not config.headers
        reading = InputOptions(max_bad_record_ratio=request.max_bad_record_ratio, header=header)
        plan = self._profiler.dataset_plan(files, chosen, reading, names=None, detailed_columns=frozenset())
        names: list[str] | None = None
        if chosen is DatasetFormat.CSV:
            if header and not plan.columns:  # the first file has no row: no header names the columns
                raise AnalyzerInputError("the CSV dataset is empty", path=files[0].uri)
            names = list(config.headers) if config.headers else [name.strip() for name in plan.columns or []]
            if len(set(names)) != len(names):
                raise AnalyzerInputError(f"duplicate column names in {', '.join(names)}", path=files[0].uri)
            self._check_widths(files[1:] if header else files, names)
            plan = replace(plan, columns=names, header_lines=0)
        plan = replace(plan, consumer=DatasetPart(names=tuple(names) if names is not None else None),
                       consumer_file_start=True, merge_in_task=False)  # the rows stay in input order
        batches: list[pa.RecordBatch] = []
        for split, their_problems in self._profiler.read_states([file.uri for file in files], plan,
                                                                sizes=[file.size for file in files]):
            problems.merge(their_problems)
            problems.good -= split.headers  # type: ignore[attr-defined]
            batches.extend(split.batches())  # type: ignore[attr-defined]
        problems.check()
        if names is not None:
            return csv_text_columns(names, batches, path=files[0].uri)
        return table_columns(batches, config.headers if chosen is DatasetFormat.JSON else None, where)

    def _rows_are_lists(self, files: list[RemoteFile]) -> bool:
        """Whether the JSON Lines files' first line holds a list (rows named by the config's ``headers``)."""
        for file in files:
            head = self._files.head(file.uri, FIRST_ROW_BYTES)
            line = next((line for line in head.splitlines() if line.strip()), None)
            if line is not None:
                return line_is_a_list(line)
        return False

    def _first_row_width(self, file: RemoteFile, index: int) -> int | None:
        """The number of fields of a CSV file's first row (``io.datasets.first_csv_row`` of the file's head), or
        None for a file without one."""
        local = self._folder / "first-rows" / f"{index:06d}.csv"
        local.parent.mkdir(parents=True, exist_ok=True)
        for size in (FIRST_ROW_BYTES, HEADER_MAX_BYTES + 1):
            head = self._files.head(file.uri, size)
            longer = len(head) == size and size < HEADER_MAX_BYTES + 1
            local.write_bytes(head[: head.rfind(b"\n") + 1] if longer else head)
            try:
                row = first_csv_row(local, names=False)
            except AnalyzerInputError as exc:
                if longer:
                    continue
                raise AnalyzerInputError(exc.message, path=file.uri, line=exc.line) from None
            if row is None and longer:
                continue
            return None if row is None else len(row[0])
        return None

    def _check_widths(self, files: list[RemoteFile], names: list[str]) -> None:
        """Refuse a CSV file whose first row has another number of fields than ``names``, as the local run does (a
        split reading it would count its rows of the right width as data and the first row as malformed)."""
        with ThreadPoolExecutor(max_workers=HEAD_THREADS) as pool:
            widths = list(pool.map(self._first_row_width, files, range(len(files))))
        for file, width in zip(files, widths, strict=True):
            if width is not None and width != len(names):
                raise width_mismatch(width, names, path=file.uri)


def run_baseline(request: BiasBaselineRequest) -> RunOutcome:
    """``monitors.bias.run.run_baseline`` with Spark reading the dataset in splits and computing the plan, group
    counts and FlipTest (``SparkBiasRunner``); URI inputs and output allowed."""
    names = request.names
    if remote_uri(request.analysis_config) is None:  # a mistake in it said before Spark starts, as the local run says it
        read_analysis_config(request.analysis_config, name=names.analysis_config, place=names.place_document)
    if remote_uri(request.dataset) is None and not Path(request.dataset).exists():
        raise AnalyzerInputError("dataset not found; pass an existing file or folder", path=str(request.dataset))
    spark = spark_session(request.engine)
    files = HadoopFiles(spark)
    with RunFiles(files=files) as staged:
        output = staged.output_folder(request.output, names=(*local_run.BASELINE_FILES, OUTCOME_FILE),
                                      overwrite=request.overwrite, option=names.output,
                                      inputs=(request.dataset, request.analysis_config))
        local = replace(request, output=output, analysis_config=staged.input_file(request.analysis_config))
        outcome = local_run.run_baseline(local, reader=SparkDatasetReader(files, staged.folder),
                                         runner=SparkBiasRunner(spark))
        return staged.publish(outcome, output=output)


def run_monitor(request: BiasMonitorRequest) -> RunOutcome:
    """``monitors.bias.run.run_monitor`` with the captures joined on Spark; URI inputs and outputs allowed."""
    names = request.names
    if request.batch is not None:
        raise AnalyzerInputError("--engine spark reads endpoint captures only: use --engine local for a transform job")
    if not request.joins_captures or request.capture is None or request.ground_truth is None:
        raise AnalyzerInputError("--engine spark joins --capture with --ground-truth only: use --engine local for a "
                                 "window table (--dataset) or merged records (--merged)")
    require_local_inputs(request.capture, request.ground_truth, request.analysis_config, request.baseline)
    spark = spark_session(request.engine)
    files = HadoopFiles(spark)
    with RunFiles(files=files) as staged:
        inputs = (request.capture, request.ground_truth, request.analysis_config, request.baseline)
        output = staged.output_folder(request.output, names=(*local_run.MONITOR_FILES, OUTCOME_FILE),
                                      overwrite=request.overwrite, option=names.output, inputs=inputs)
        metrics_dir = request.metrics_dir
        if metrics_dir is not None:
            metrics_dir = staged.output_folder(metrics_dir, names=(local_run.METRICS_FILE,),
                                               overwrite=request.overwrite, option="--metrics-dir", inputs=inputs)
        local = replace(request, output=output, metrics_dir=metrics_dir,
                        analysis_config=staged.input_file(request.analysis_config),
                        baseline=staged.input_file(request.baseline))
        outcome = local_run.run_monitor(local, window_records=SparkWindowRecords(files, staged),
                                        runner=SparkBiasRunner(spark))
        return staged.publish(outcome, output=output)
