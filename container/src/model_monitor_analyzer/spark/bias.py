"""Bias-drift monitoring runs on Spark: ``monitors.bias.run.run_monitor`` with the window's captures joined with its
labels on Spark's executors.

The join is model quality's (``spark.model_quality.joined_splits``): the labels read on the driver and broadcast
with their join index, each split of the capture files read by the local run's chunk reader and joined by
inference id (else event id), its merged records sent back; the driver takes them in (file, byte) order, which
is capture order whatever the partitioning, and the local run analyses them as on one machine (the same
typing of columns, facets, metrics, FlipTest, checks and reports).

What stays on the driver: the window's matched records (at most one a label unless captures share an id) and
the analysis of them. The group counts and FlipTest are not computed per partition yet; a window table
(``--dataset``), merged records (``--merged``), a transform job's files and the baseline (a dataset read whole)
are refused with a line saying to use ``--engine local``.
"""

from __future__ import annotations

import zlib
from dataclasses import replace

import orjson

from model_monitor_analyzer.errors import AnalyzerInputError, NotAvailableError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.ground_truth import read_ground_truth_columns
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow, reach_back
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome
from model_monitor_analyzer.monitors.bias import run as local_run
from model_monitor_analyzer.monitors.bias.request import BiasBaselineRequest, BiasMonitorRequest
from model_monitor_analyzer.spark import spark_session
from model_monitor_analyzer.spark.locations import HadoopFiles, remote_uri
from model_monitor_analyzer.spark.model_quality import _ground_truth_copy, join_counts, joined_splits
from model_monitor_analyzer.spark.staging import RunFiles


def run_baseline(request: BiasBaselineRequest) -> RunOutcome:
    """Refused: a bias baseline dataset is read whole on one machine."""
    raise NotAvailableError("--engine spark does not run baseline --type bias: its dataset is read on one machine; "
                            "use --engine local")


class SparkWindowRecords:
    """``monitors.bias.run.WindowRecords`` with the captures joined on Spark's executors."""

    def __init__(self, files: HadoopFiles, staged: RunFiles) -> None:
        self._files = files
        self._staged = staged

    def __call__(self, request: BiasMonitorRequest) -> tuple[list[dict], dict[str, object]]:
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
        states = joined_splits(self._files, self._staged.folder, request.capture,
                               window=TimeWindow(start=reach_back(start, request.ground_truth_lookback), end=end),
                               window_join=join, labels=labels, max_bad_record_ratio=request.max_bad_record_ratio)
        records: list[dict] = []
        for state in states:
            join.absorb(join_counts(join, state))
            captures_read.merge(state.problems)
            records.extend(orjson.loads(line) for line in zlib.decompress(state.merged).splitlines())
        captures_read.check()
        return records, join.summary.as_dict()


def run_monitor(request: BiasMonitorRequest) -> RunOutcome:
    """``monitors.bias.run.run_monitor`` with the captures joined on Spark; URI inputs and outputs allowed."""
    names = request.names
    if request.batch is not None:
        raise AnalyzerInputError("--engine spark reads endpoint captures only: use --engine local for a transform job")
    if not request.joins_captures or request.capture is None or request.ground_truth is None:
        raise AnalyzerInputError("--engine spark joins --capture with --ground-truth only: use --engine local for a "
                                 "window table (--dataset) or merged records (--merged)")
    files = HadoopFiles(spark_session(request.engine))
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
        outcome = local_run.run_monitor(local, window_records=SparkWindowRecords(files, staged))
        return staged.publish(outcome, output=output)
