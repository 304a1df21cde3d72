"""Data-quality baseline and monitoring runs: io -> profile -> checks -> report.

``run_baseline(DataQualityBaselineRequest) -> RunOutcome`` and
``run_monitor(DataQualityMonitorRequest) -> RunOutcome``; the requests come from ``command_line``
or ``environment``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from model_monitor_analyzer.checks.config import apply_config
from model_monitor_analyzer.checks.data_quality import (
    Constraints,
    check_data_quality,
    drift_imports,
    with_drift_method,
    with_feature_overrides,
)
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.batch import BatchReading, staged_capture
from model_monitor_analyzer.io.capture import (
    ENDPOINT_INPUT,
    CaptureRecord,
    CaptureShape,
    CaptureSlice,
    capture_files,
    capture_shape,
    capture_slices,
    match_capture_columns,
    read_capture_batches,
    row_from_values,
)
from model_monitor_analyzer.io.datasets import (
    DatasetFormat,
    csv_parts,
    guess_format,
    read_csv_file,
    read_dataset,
)
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow, format_timestamp
from model_monitor_analyzer.jobs import parallel
from model_monitor_analyzer.jobs.custom_scripts import record_preprocessor, run_post_analytics
from model_monitor_analyzer.jobs.outcome import RunOutcome, RunStatus
from model_monitor_analyzer.jobs.outputs import claim_output, refuse_output_inside
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.jobs.requests import (
    InputFormat,
    InputOptions,
)
from model_monitor_analyzer.monitors.data_quality.request import (
    OPTION_NAMES,
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)
from model_monitor_analyzer.profile.dataset import DatasetProfile, profile_batches
from model_monitor_analyzer.profile.datatypes import InferredType, ValueKind
from model_monitor_analyzer.report.constraints import constraints_document, parse_constraints
from model_monitor_analyzer.report.documents import DocumentKind, expect_document
from model_monitor_analyzer.report.html import data_quality as html_report
from model_monitor_analyzer.report.jsonfile import read_json, write_json
from model_monitor_analyzer.report.metrics import (
    METRICS_FILE_NAME,
    data_quality_metrics,
    no_data_metric,
    write_metric_lines,
)
from model_monitor_analyzer.report.statistics import baseline_features, statistics_document
from model_monitor_analyzer.report.violations import violations_document

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
#: what the runs write in their output folder (``jobs.outputs``)
BASELINE_FILES = (STATISTICS_FILE, CONSTRAINTS_FILE, html_report.REPORT_FILE)
MONITOR_FILES = (*BASELINE_FILES, VIOLATIONS_FILE)
PARALLEL_MIN_BYTES = parallel.PARALLEL_MIN_BYTES  # inputs smaller than this are profiled by one process
BYTES_PER_WORKER = parallel.BYTES_PER_WORKER  # and larger ones by one process per this much input, up to --workers


# ------------------------------------------------------------------ reading
def _row_maker(script: Path | None):
    if script is None:
        return None
    preprocess = record_preprocessor(script)

    def make(record: CaptureRecord):
        values = preprocess(record)
        return None if values is None else [row_from_values(list(values.values()))]

    return make


def _dataset_format(fmt: InputFormat | None) -> DatasetFormat | None:
    return DatasetFormat(fmt.value) if fmt is not None else None


def _batches(
    reading: InputOptions,
    source: Path,
    fmt: InputFormat | None,
    problems: InputProblems,
    *,
    window: TimeWindow | None,
    names: list[str] | None,
    files: Sequence[Path | CaptureSlice] | None = None,
    use_threads: bool = True,
) -> Iterator[pa.RecordBatch]:
    if fmt is InputFormat.CAPTURE:
        return read_capture_batches(
            source,
            window=window,
            capture_index_names=reading.capture_index_names,
            output_first=reading.output_first,
            problems=problems,
            row_maker=_row_maker(reading.record_preprocessor),
            files=files,
            input_names=names,
            missing_output_fields=reading.missing_output_fields,
            use_threads=use_threads,
        )
    return read_dataset(source, dataset_format=_dataset_format(fmt), header=reading.header, problems=problems)


def worker_count(requested: int | None, input_bytes: int) -> int:
    """Processes for an input of ``input_bytes`` (``jobs.parallel.worker_count`` with this module's
    ``PARALLEL_MIN_BYTES`` and ``BYTES_PER_WORKER``)."""
    return parallel.worker_count(requested, input_bytes, min_bytes=PARALLEL_MIN_BYTES,
                                 bytes_per_worker=BYTES_PER_WORKER)


BatchSource = Callable[[InputProblems], Iterable[pa.RecordBatch]]


def _profile_in_helper(
    send: Connection, batches: BatchSource, max_bad_record_ratio: float, names, detailed_columns, counter
) -> None:
    """Body of the helper process: profile its part and send back (profile, problems, failure);
    its records read are added to ``counter`` for the main process's progress lines."""
    try:
        problems = InputProblems(max_bad_record_ratio=max_bad_record_ratio)
        profile = profile_batches(
            batches(problems), names=names, detailed_columns=detailed_columns, progress=ProgressReporter.helper(counter)
        )
        send.send((profile, problems, None))
    except BaseException as exc:  # handed to the parent, which raises it
        if isinstance(exc, AnalyzerInputError):
            send.send((None, None, ("input", exc.message, exc.path, exc.line)))
        else:
            send.send((None, None, ("crash", f"{type(exc).__name__}: {exc}", None, None)))
    finally:
        send.close()


def _profile_in_processes(
    parts: Sequence[BatchSource],
    problems: InputProblems,
    *,
    names: list[str] | None,
    detailed_columns: frozenset[str],
    progress: ProgressReporter,
    beside: Callable[[], object] | None = None,
) -> DatasetProfile:
    """Profile the first part here and each other part in a forked process at the same time,
    then merge in input order (Deequ's states are mergeable; SageMaker's Spark job merges
    per-partition states too). ``beside``: work for a thread of this process once the helpers are forked."""
    context = multiprocessing.get_context("fork")
    helpers = []
    counter = context.Value("q", 0)  # the helpers' records read, for this process's progress lines
    progress.include(counter)
    try:
        for index, part in enumerate(parts[1:], start=1):
            receive, send = context.Pipe(duplex=False)
            helper = context.Process(
                target=_profile_in_helper,
                args=(send, part, problems.max_bad_record_ratio, names, detailed_columns, counter),
                name=f"profile-part-{index}",
                daemon=True,
            )
            helper.start()
            send.close()
            helpers.append((helper, receive))
        with parallel.running_beside(beside):
            profile = profile_batches(parts[0](problems), names=names, detailed_columns=detailed_columns,
                                      progress=progress)
        results = []
        for helper, receive in helpers:
            try:
                results.append(receive.recv())
            except EOFError:
                results.append((None, None, ("crash", f"the process profiling {helper.name} died (exit code {helper.exitcode})", None, None)))
    finally:
        for helper, receive in helpers:
            receive.close()
            helper.join()
    for theirs, their_problems, failure in results:
        if failure is not None:
            kind, message, path, line = failure
            if kind == "input":
                raise AnalyzerInputError(message, path=path, line=line)
            raise RuntimeError(message)
        problems.merge(their_problems)
        profile.merge(theirs)
    return profile


def _parts(
    reading: InputOptions, source: Path, fmt: InputFormat | None, *, window: TimeWindow | None, names: list[str] | None
) -> list[BatchSource] | None:
    """The input in parts for several processes, or None when one process is best: capture
    files in runs of consecutive files and byte ranges of large ones, one CSV file in byte ranges."""
    if fmt is InputFormat.CAPTURE:
        files = capture_files(source, window)
        workers = worker_count(reading.workers, sum(file.stat().st_size for file in files))
        runs = capture_slices(files, parts=workers) if workers > 1 else []
        if len(runs) < 2:
            return None
        use_threads = parallel.cores_to_spare(len(runs))  # Arrow's threads, when the parts leave cores idle
        return [
            (lambda problems, run=run: _batches(reading, source, fmt, problems, window=window, names=names, files=run,
                                                use_threads=use_threads))
            for run in runs
        ]
    if not source.is_file() or (_dataset_format(fmt) or guess_format(source)) is not DatasetFormat.CSV:
        return None
    workers = worker_count(reading.workers, source.stat().st_size)
    ranges = csv_parts(source, parts=workers, between_records=True) if workers > 1 else []
    if len(ranges) < 2:
        return None
    header = reading.header
    return [
        (lambda problems, part=part: read_csv_file(source, header=header, problems=problems, part=part)) for part in ranges
    ]


class InputProfiler(Protocol):
    """Who reads an input into per-part profiles and merges them in input order: this process and its
    helpers (``LocalProfiler``, the default) or Spark's executors (``model_monitor_analyzer.spark``).
    Everything before and after (the checks, the recount, the reports) is the same for both."""

    def profile(self, reading: InputOptions, source: Path, fmt: InputFormat | None, problems: InputProblems, *,
                window: TimeWindow | None, names: list[str] | None, detailed_columns: frozenset[str],
                progress: ProgressReporter) -> tuple[DatasetProfile, bool]:
        """The merged profile of the input, and whether it was read in parts (bad records go to ``problems``)."""
        ...

    def capture_shape(self, source: Path, *, window: TimeWindow | None, input_names: list[str]) -> CaptureShape | None:
        """The usual shape of the captured records (``io.capture.capture_shape``); None when unknown."""
        ...


class LocalProfiler:
    """The input read by this process, and a large one in parts by forked helpers (``worker_count``).

    ``beside``: work for a thread of this process while it reads (the imports of the checks that follow), started
    after the helpers are forked and joined before the read returns."""

    def __init__(self, *, beside: Callable[[], object] | None = None) -> None:
        self._beside = beside

    def profile(self, reading: InputOptions, source: Path, fmt: InputFormat | None, problems: InputProblems, *,
                window: TimeWindow | None, names: list[str] | None, detailed_columns: frozenset[str],
                progress: ProgressReporter) -> tuple[DatasetProfile, bool]:
        parts = _parts(reading, source, fmt, window=window, names=names)
        beside, self._beside = self._beside, None  # once a run: a recount needs nothing more
        if parts is None:
            with parallel.running_beside(beside):
                return profile_batches(
                    _batches(reading, source, fmt, problems, window=window, names=names),
                    names=names, detailed_columns=detailed_columns, progress=progress,
                ), False
        return _profile_in_processes(
            parts, problems, names=names, detailed_columns=detailed_columns, progress=progress, beside=beside
        ), True

    def capture_shape(self, source: Path, *, window: TimeWindow | None, input_names: list[str]) -> CaptureShape | None:
        if not source.exists():
            return None  # the reader says what is missing
        return capture_shape(source, window=window, input_names=input_names)


def profile_input(
    reading: InputOptions,
    source: Path,
    fmt: InputFormat | None,
    *,
    window: TimeWindow | None = None,
    names: list[str] | None = None,
    detailed_columns: frozenset[str] = frozenset(),
    expected_records: int | None = None,
    tolerance_setting: str = OPTION_NAMES.max_bad_record_ratio,
    profiler: InputProfiler | None = None,
) -> tuple[DatasetProfile, InputProblems]:
    """Stream the input into a profile.

    ``window`` keeps the captured records of that time window (capture input only).
    ``names`` (the baseline's features) renames positional columns ``_c<i>`` to feature names
    and lays out JSON objects of a captured input by name.

    An input of at least ``PARALLEL_MIN_BYTES`` (a capture, or one CSV file) is split in parts
    profiled by several processes at once (``worker_count``), then merged: parsing is most of
    the work and a processing instance has 2 to 96 vCPUs. ``profiler`` reads it otherwise (Spark).

    Progress lines (``reading.progress``) count the records every process has profiled, and say
    the time left when ``expected_records`` (a re-read) is known. Too many bad records fail the run
    naming the tolerance as the user set it (``tolerance_setting``).
    """
    problems = InputProblems(max_bad_record_ratio=reading.max_bad_record_ratio, tolerance_setting=tolerance_setting)
    progress = ProgressReporter(enabled=reading.progress, total=expected_records)
    reader = profiler if profiler is not None else LocalProfiler()
    profile, in_parts = reader.profile(reading, source, fmt, problems, window=window, names=names,
                                       detailed_columns=detailed_columns, progress=progress)
    progress.finish(profile.item_count)
    problems.check()
    recount = profile.columns_needing_recount()
    if recount:
        # A column turned out to be String after values were counted on the numeric fast
        # path: read once more counting every value of those columns.
        return profile_input(
            reading, source, fmt, window=window, names=names, detailed_columns=detailed_columns | frozenset(recount),
            expected_records=None if in_parts else profile.item_count, tolerance_setting=tolerance_setting,
            profiler=profiler,
        )
    _note_values_without_a_number(profile)
    return profile, problems


def _note_values_without_a_number(profile: DatasetProfile) -> None:
    """Say, per numeric column, how many present values have no finite number (an infinity, a value beyond
    float64, a bare sign): they count as present, and mean, sum, min and max leave them out."""
    for column in profile.columns.values():
        if column.inferred_type not in (InferredType.FRACTIONAL, InferredType.INTEGRAL):
            continue
        numeric = column.kind_counts[ValueKind.FRACTIONAL] + column.kind_counts[ValueKind.INTEGRAL]
        left_out = numeric - column.moments.count
        if left_out > 0:
            print(f"note: column {column.name!r}: {left_out:,} of its {numeric:,} values are not finite numbers "
                  "(inf, -inf, beyond float64): counted as present, left out of mean, sum, min, max and the "
                  "distribution", file=sys.stderr, flush=True)


def _problem_summary(problems: InputProblems) -> dict[str, object]:
    outside = {"records_outside_window": problems.outside_window} if problems.outside_window else {}
    return {"bad_records": problems.bad, **outside, "bad_record_examples": [p.describe() for p in problems.examples[:5]]}


def _post_analytics(script: Path | None) -> None:
    if script is not None:
        run_post_analytics(script)


# ------------------------------------------------------------------ runs
def run_baseline(request: DataQualityBaselineRequest, *, profiler: InputProfiler | None = None) -> RunOutcome:
    """Profile a dataset and write statistics.json and the suggested constraints.json (``profiler``: who reads
    the dataset, see ``profile_input``)."""
    claim = claim_output(
        request.output, writes=BASELINE_FILES, overwrite=request.overwrite,
        inputs=(request.dataset, request.reading.record_preprocessor, request.post_analytics_processor),
        option=request.names.output,
    )
    if profiler is None and not os.path.lexists(request.dataset):  # said here, in the words of the dataset's setting
        raise AnalyzerInputError(f"dataset not found; point {request.names.dataset} at an existing file or folder",
                                 path=str(request.dataset))
    profile, problems = profile_input(request.reading, request.dataset, request.format,
                                      tolerance_setting=request.names.max_bad_record_ratio, profiler=profiler)
    if profile.item_count == 0:
        raise AnalyzerInputError(f"the baseline dataset holds no records; point {request.names.dataset} at data",
                                 path=str(request.dataset))
    method = request.categorical_drift_method
    statistics = statistics_document(profile)
    suggested = constraints_document(profile, categorical_drift_method=method.value if method is not None else None,
                                     drift_method=request.suggested_drift_method)
    claim.clear()
    files = (
        write_json(request.output / STATISTICS_FILE, statistics),
        write_json(request.output / CONSTRAINTS_FILE, suggested),
        html_report.write_baseline_report(request.output, statistics=statistics, constraints_document=suggested,
                                          records=profile.item_count, bad_records=problems.bad),
    )
    _post_analytics(request.post_analytics_processor)
    return RunOutcome.finished(
        violations=0, output_dir=request.output, files=files,
        summary={"features": len(profile.columns), "records": profile.item_count, **_problem_summary(problems)},
    )


def _read_baseline(request: DataQualityMonitorRequest) -> tuple[Constraints, dict, dict]:
    """The parsed constraints, the baseline's features and its statistics document."""
    constraints_doc = read_json(request.constraints, what="baseline constraints")
    statistics_doc = read_json(request.statistics, what="baseline statistics")
    names = request.names
    expect_document(constraints_doc, DocumentKind.DATA_QUALITY_CONSTRAINTS, path=str(request.constraints),
                    option=names.constraints, place=names.place_document)
    expect_document(statistics_doc, DocumentKind.DATA_QUALITY_STATISTICS, path=str(request.statistics),
                    option=names.statistics, place=names.place_document)
    try:
        constraints = parse_constraints(constraints_doc)
    except ValueError as exc:
        raise AnalyzerInputError(str(exc), path=str(request.constraints)) from None
    if request.drift_method is not None:
        constraints = with_drift_method(constraints, request.drift_method)
    if request.feature_overrides:
        try:
            constraints = with_feature_overrides(constraints, request.feature_overrides)
        except ValueError as exc:
            raise AnalyzerInputError(f"{names.feature_overrides}: {exc}") from None
    try:
        baseline = baseline_features(statistics_doc)
    except ValueError as exc:
        raise AnalyzerInputError(str(exc), path=str(request.statistics)) from None
    _check_same_baseline(constraints, baseline, request)
    return constraints, baseline, statistics_doc


def _check_same_baseline(constraints: Constraints, baseline: dict, request: DataQualityMonitorRequest) -> None:
    """Refuse a statistics.json that lacks a feature the constraints compare with it: its drift check
    would silently not run (statistics and constraints come from one baseline run)."""
    missing = [
        feature.name for feature in constraints.features
        if feature.name not in baseline
        and (config := apply_config(constraints.monitoring_config, feature.overrides, strict=True)).evaluate_constraints
        and config.perform_comparison
    ]
    if not missing:
        return
    shown = ", ".join(repr(name) for name in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    has = ", ".join(repr(name) for name in list(baseline)[:5]) + (" ..." if len(baseline) > 5 else "")
    raise AnalyzerInputError(
        f"the baseline statistics have no feature {shown} that the constraints compare with the baseline (they have "
        f"{has or 'no features'}): pass the statistics.json made by the same baseline run as the constraints, or "
        "remove the feature from constraints.json to stop monitoring it",
        path=str(request.statistics),
    )


def _metric_timestamp(request: DataQualityMonitorRequest) -> str:
    return format_timestamp(request.metric_time or request.window.start or datetime.now(UTC))


def _with_matching_capture_columns(request: DataQualityMonitorRequest, *, names: list[str],
                                   window: TimeWindow, profiler: InputProfiler) -> DataQualityMonitorRequest:
    """``request`` reading the capture payloads that line up with the baseline's features (see
    ``io.capture.match_capture_columns``); the choice is said on stderr when it is not the given one."""
    reading = request.reading
    matched = match_capture_columns(
        features=len(names),
        shape=profiler.capture_shape(request.capture, window=window, input_names=names),
        capture_index_names=reading.capture_index_names,
        output_first=reading.output_first,
    )
    if matched.note is not None:
        print(f"note: {matched.note}", file=sys.stderr, flush=True)
    return replace(request, reading=replace(reading, capture_index_names=matched.capture_index_names,
                                            missing_output_fields=matched.missing_output_fields))


def _monitor_batch(request: DataQualityMonitorRequest) -> RunOutcome:
    """A transform job's input rows (``io.batch``), profiled as captured requests. Rows whose inference time is
    outside the window are left out as they are read; rows without one (a job run without inference ids) are
    the job's, and all of them are taken."""
    refuse_output_inside(request.output, (request.capture, request.batch.data), option=request.names.output)  # type: ignore[union-attr]
    problems = InputProblems(max_bad_record_ratio=request.reading.max_bad_record_ratio,
                             tolerance_setting=request.names.max_bad_record_ratio, input_name="transform rows")
    with staged_capture(request.capture, request.batch, reading=BatchReading(inputs=True, outputs=False),  # type: ignore[arg-type]
                        problems=problems, window=request.window) as staged:
        return _monitor(replace(request, capture=staged.file.parent, batch=None, input_format=InputFormat.CAPTURE,
                                reading=replace(request.reading, capture_index_names=(ENDPOINT_INPUT,))),
                        read_window=request.window if staged.timed == staged.records else TimeWindow())


def run_monitor(request: DataQualityMonitorRequest, *, profiler: InputProfiler | None = None) -> RunOutcome:
    """Profile the window, check it against the baseline, write reports and metric lines (``profiler``: who
    reads the capture, see ``profile_input``)."""
    if request.batch is not None:
        return _monitor_batch(request)
    return _monitor(request, read_window=request.window, profiler=profiler)


def _monitor(request: DataQualityMonitorRequest, *, read_window: TimeWindow,
             profiler: InputProfiler | None = None) -> RunOutcome:
    """``run_monitor`` of the records read in ``read_window`` (the request's window, or an open one for a transform
    job's rows staged already)."""
    metrics_file = request.metrics_dir / METRICS_FILE_NAME if request.metrics_dir is not None else None
    claim = claim_output(
        request.output, writes=(*MONITOR_FILES, *((metrics_file,) if metrics_file is not None else ())),
        inputs=(request.capture, request.statistics, request.constraints, request.reading.record_preprocessor,
                request.post_analytics_processor),
        overwrite=request.overwrite, option=request.names.output,
    )
    constraints, baseline, baseline_statistics = _read_baseline(request)
    names = [f.name for f in constraints.features]
    string_features = frozenset(f.name for f in constraints.features if f.inferred_type is InferredType.STRING)
    fmt = request.input_format
    if fmt is InputFormat.CAPTURE and request.reading.record_preprocessor is None:
        request = _with_matching_capture_columns(request, names=names, window=read_window,
                                                 profiler=profiler or LocalProfiler())
    imports = drift_imports(constraints, baseline)
    profile, problems = profile_input(
        request.reading, request.capture, fmt, window=read_window, names=names, detailed_columns=string_features,
        tolerance_setting=request.names.max_bad_record_ratio,
        profiler=profiler or LocalProfiler(beside=(lambda: parallel.import_quietly(imports)) if imports else None),
    )
    metrics_dir = request.metrics_dir
    timestamp = _metric_timestamp(request)
    claim.clear()
    if profile.item_count == 0:
        files: tuple[Path, ...] = ()
        if metrics_dir is not None:
            written = write_metric_lines(
                metrics_dir, [no_data_metric(timestamp=timestamp, endpoint=request.endpoint, schedule=request.schedule)]
            )
            files = (written,) if written else ()
        files += (html_report.write_no_data_report(request.output, window=request.window, bad_records=problems.bad),)
        _post_analytics(request.post_analytics_processor)
        return RunOutcome(
            status=RunStatus.NO_DATA,
            message="Completed: no data in the monitoring window; nothing to analyze.",
            output_dir=request.output,
            files=files,
            summary={"features": 0, "records": 0, "violations": 0, **_problem_summary(problems)},
        )
    result = check_data_quality(
        constraints=constraints, baseline=baseline, current=profile.columns, rows=profile.item_count
    )
    statistics = statistics_document(profile)
    files = [
        write_json(request.output / STATISTICS_FILE, statistics),
        write_json(request.output / CONSTRAINTS_FILE, constraints_document(profile)),
        write_json(request.output / VIOLATIONS_FILE, violations_document(result.violations)),
        html_report.write_window_report(
            request.output, baseline_statistics=baseline_statistics,
            window_statistics=statistics, constraints=constraints, result=result, window=request.window,
            records=profile.item_count, bad_records=problems.bad),
    ]
    if metrics_dir is not None:
        lines = data_quality_metrics(
            columns=profile.columns,
            rows=profile.item_count,
            drift=result.drift,
            feature_configs=result.feature_configs,
            global_config=constraints.monitoring_config,
            drifted=result.drifted,
            drift_share=result.drift_share,
            timestamp=timestamp,
            endpoint=request.endpoint,
            schedule=request.schedule,
        )
        written = write_metric_lines(metrics_dir, lines)
        if written is not None:
            files.append(written)
    _post_analytics(request.post_analytics_processor)
    count = len(result.violations)
    summary = {
        "features": len(profile.columns),
        "records": profile.item_count,
        "violations": count,
        **_problem_summary(problems),
    }
    return RunOutcome.finished(violations=count, output_dir=request.output, files=tuple(files), summary=summary)
