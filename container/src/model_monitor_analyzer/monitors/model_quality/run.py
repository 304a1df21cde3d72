"""Model-quality runs: a baseline from a labelled dataset, and a monitoring run over captured data.

Baseline: read the prediction, probability and label columns of a CSV, JSON Lines or Parquet
dataset (``io.datasets``), compute every metric of the problem type, write statistics.json and
constraints.json (thresholds = baseline values).

Monitor: take the ground-truth labels uploaded in the window [start, end), join them with the
captures of [start - lookback, end) (labels arrive late: the look-back finds the inferences they
belong to; with look-back 0 this is the built-in's pairing of the same hours), write the merged
records in the merge job's format, compute the metrics, compare them with the baseline
constraints and write statistics.json, constraints.json, constraint_violations.json and the
CloudWatch metric lines. A window whose captures have no label yet is ``NoData``, not a failure,
unless the baseline keeps its labelled reference (``estimation``): then every capture of the window,
labelled or not, gets the estimated performance and the prediction-drift check, and a window without
labels completes with those alone.

How values are read is ``values``; rows whose label, prediction or probability is empty are
skipped and counted; malformed input lines are counted with their file and line and skipped up to
the request's ``max_bad_record_ratio`` of each input (captures, labels, merged records) on its own.
Both runs take a typed request (``request``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.constraint_rules import quality_constraints
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.arrow_texts import int64_array
from model_monitor_analyzer.io.batch import BatchReading, staged_capture
from model_monitor_analyzer.io.capture import (
    CaptureSlice,
    capture_files,
    capture_slices,
    read_captured_outputs,
)
from model_monitor_analyzer.io.datasets import DatasetFormat, read_dataset
from model_monitor_analyzer.io.ground_truth import (
    GroundTruthColumns,
    LabelColumnParts,
    file_bytes,
    joined_label_columns,
    label_file_groups,
    read_label_files,
    window_label_files,
)
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow, format_timestamp, reach_back
from model_monitor_analyzer.jobs import parallel
from model_monitor_analyzer.jobs.label_window import few_labels, label_window_hint, no_labelled_data_message
from model_monitor_analyzer.jobs.outcome import RunOutcome, RunStatus
from model_monitor_analyzer.jobs.outputs import (
    OutputClaim,
    claim_output,
    merged_record_files,
    refuse_output_inside,
)
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.monitors.model_quality import estimation
from model_monitor_analyzer.monitors.model_quality.metrics import (
    NonFiniteValues,
    PartState,
    WindowMetrics,
    complete_rows,
    part_state,
    state_metrics,
)
from model_monitor_analyzer.monitors.model_quality.request import (
    OPTION_NAMES,
    ModelQualityBaselineRequest,
    ModelQualityMonitorRequest,
    ModelQualityNames,
    ModelSettings,
)
from model_monitor_analyzer.report import model_quality as report
from model_monitor_analyzer.report.documents import DocumentKind, expect_document
from model_monitor_analyzer.report.html import model_quality as html_report
from model_monitor_analyzer.report.jsonfile import load_json

# --------------------------------------------------------------------------------------------
# Baseline dataset
# --------------------------------------------------------------------------------------------


def _column_name(names: Sequence[str], attribute: str, what: str, path: Path) -> str:
    """The column ``attribute`` names: a column name, else a 0-based column index."""
    if attribute in names:
        return attribute
    if attribute.strip().isdigit() and int(attribute) < len(names):
        return names[int(attribute)]
    raise AnalyzerInputError(
        f"{what} {attribute!r} is not a column; columns: {', '.join(names)}", path=str(path)
    )


def _class_column_names(names: Sequence[str], attribute: str, what: str, path: Path) -> list[str] | None:
    """The columns of per-class probabilities an attribute names as a range of 0-based indices (``1-4``, both
    ends included) or a comma-separated list of column names or indices; None when it names one column."""
    if attribute in names:
        return None
    columns = merge.class_columns(attribute)
    if columns is not None:
        return [_column_name(names, str(c), what, path) for c in columns]
    if "," in attribute:
        return [_column_name(names, part.strip(), what, path) for part in attribute.split(",")]
    return None


def _list_column(columns: Sequence[pa.Array]) -> pa.Array:
    """Columns of per-class values as one column of JSON list text, a row's values in the columns' order."""
    joined = pc.binary_join_element_wise(*(_text(c) for c in columns), ",")
    return pc.binary_join_element_wise(pa.scalar("["), joined, pa.scalar("]"), "")


def _text(column: pa.Array) -> pa.Array:
    """A column as text (CSV columns already are; JSON and Parquet ones may be numbers, booleans or lists, a list
    as its JSON text)."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        values = pc.binary_join(column.cast(pa.list_(pa.string())), ",")
        return pc.binary_join_element_wise(pa.scalar("["), values, pa.scalar("]"), "")
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    return column.cast(pa.string())


def read_baseline_columns(
    path: Path,
    attributes: dict[str, str | None],
    *,
    dataset_format: DatasetFormat | None,
    header: bool,
    problems: InputProblems,
    progress: ProgressReporter | None = None,
    lists: frozenset[str] = frozenset(),
) -> dict[str, pa.Array]:
    """The values of each named attribute of a dataset as text columns (None attributes are skipped).

    The dataset is read by ``io.datasets`` (CSV, JSON Lines, Parquet). Attributes are column names
    (nested JSON members as ``a.b``) or 0-based column indices, the only choice for a CSV file
    without a header. Malformed rows are counted in ``problems`` and skipped. ``progress``
    (default: none) is told the rows read. The attributes named in ``lists`` (a multiclass model's per-class
    probabilities) may also name several columns (``_class_column_names``), read as one column of lists.
    """
    progress = progress if progress is not None else ProgressReporter(enabled=False)
    rows = 0
    wanted = {what: a for what, a in attributes.items() if a is not None}
    chunks: dict[str, list[pa.Array]] = {what: [] for what in wanted}
    for batch in read_dataset(path, dataset_format=dataset_format, header=header, problems=problems):
        if batch.num_rows == 0:
            continue
        rows += batch.num_rows
        progress.update(rows)
        for what, column in batch_columns(batch, wanted, lists=lists, path=path).items():
            chunks[what].append(column)
    progress.finish(rows)
    problems.check()
    return {
        what: pa.concat_arrays(parts) if parts else pa.array([], pa.string()) for what, parts in chunks.items()
    }


def batch_columns(batch: pa.RecordBatch, wanted: dict[str, str], *, lists: frozenset[str],
                  path: Path | str) -> dict[str, pa.Array]:
    """The text column of each named attribute in one batch of a dataset (``read_baseline_columns``)."""
    names = batch.schema.names
    found = {}
    for what, attribute in wanted.items():
        several = _class_column_names(names, attribute, what, Path(path)) if what in lists else None
        if several is not None:
            found[what] = _list_column([batch.column(name) for name in several])
            continue
        found[what] = _text(batch.column(_column_name(names, attribute, what, Path(path))))
    return found


def baseline_attributes(settings: ModelSettings) -> tuple[dict[str, str | None], frozenset[str]]:
    """The attributes a baseline reads (by what they hold) and those that may list per-class values."""
    return ({"inference attribute": settings.inference_attribute,
             "probability attribute": settings.probability_attribute,
             "ground-truth attribute": settings.ground_truth_attribute},
            frozenset({"probability attribute"} if _class_probabilities(settings) else ()))


def labelled_columns(columns: dict[str, pa.Array]) -> LabelledColumns:
    """A baseline's attribute columns as the metrics read them (the prediction is the probability without an
    inference attribute)."""
    return LabelledColumns(predictions=columns.get("inference attribute", columns.get("probability attribute")),
                           probabilities=columns.get("probability attribute"), labels=columns["ground-truth attribute"])


@dataclass(frozen=True)
class BaselineRows:
    """A baseline dataset read: the merged state of its complete rows (None when there is none), those rows (what
    the estimation reference reads; None for a regression, which keeps no reference), how many rows were complete
    and how many lacked a label, prediction or probability."""

    state: PartState | None
    rows: LabelledColumns | None
    complete: int
    skipped: int


class BaselineReader(Protocol):
    """Reads a baseline dataset in parts (another engine's: Spark's partitions), tallying bad records in
    ``problems``, which it checks."""

    def __call__(self, request: ModelQualityBaselineRequest, problems: InputProblems) -> BaselineRows: ...


def _read_baseline_rows(request: ModelQualityBaselineRequest, problems: InputProblems) -> BaselineRows:
    """The local engine's read: the dataset's columns in one process, its complete rows one part."""
    settings = request.settings
    attributes, lists = baseline_attributes(settings)
    columns = read_baseline_columns(request.dataset, attributes, dataset_format=request.dataset_format,
                                    header=request.reading.header, problems=problems,
                                    progress=ProgressReporter(enabled=request.reading.progress), lists=lists)
    rows, skipped = complete_rows(labelled_columns(columns))
    state = part_state(settings, rows, names=request.names) if len(rows.labels) else None
    return BaselineRows(state, rows, len(rows.labels), skipped)


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


BASELINE_FILES = (report.STATISTICS_FILE, report.CONSTRAINTS_FILE, html_report.REPORT_FILE)
MONITOR_FILES = (*BASELINE_FILES, report.VIOLATIONS_FILE)
MERGE_FOLDER = "merge"  # the merged records, under the output folder unless the request names another


def _problems(request: ModelQualityBaselineRequest | ModelQualityMonitorRequest,
              input_name: str = "records") -> InputProblems:
    """The bad-record tally of one input (``input_name`` in its message), with the tolerated share as set."""
    return InputProblems(max_bad_record_ratio=request.reading.max_bad_record_ratio,
                         tolerance_setting=request.names.max_bad_record_ratio, input_name=input_name)


@dataclass(frozen=True)
class _WindowProblems:
    """The bad-record tallies of a window's inputs, one per input: the tolerated share applies to each on
    its own, so that 300 good labels never make 300 unreadable captures look like half of the input."""

    by_input: dict[str, InputProblems]  # summary key of the input's count -> its tally, in reading order

    @property
    def bad(self) -> int:
        return sum(tally.bad for tally in self.by_input.values())

    @property
    def first(self) -> str | None:
        """The first bad record read, described with its file and line."""
        return next((tally.examples[0].describe() for tally in self.by_input.values() if tally.examples), None)

    def summary(self) -> dict[str, int]:
        """``malformed_records`` in all, and per input when there are several (nothing when all were read)."""
        if not self.bad:
            return {}
        counts = {"malformed_records": self.bad}
        if len(self.by_input) > 1:
            counts.update({key: tally.bad for key, tally in self.by_input.items()})
        return counts


def _merged_output(request: ModelQualityMonitorRequest) -> Path:
    return request.merged_output or request.output / MERGE_FOLDER


def _claim_monitor_output(request: ModelQualityMonitorRequest) -> OutputClaim:
    """The monitor run's output folder, its metric lines and merged records (``jobs.outputs``)."""
    writes: list[Path | str] = list(MONITOR_FILES)
    if request.metrics_dir is not None:
        writes.append(request.metrics_dir.absolute() / report.METRICS_FILE)
    if request.merged is None:  # earlier runs' part files are replaced, nothing else there
        writes.extend(merged_record_files(_merged_output(request).absolute()))
    inputs = [p for p in (request.capture, request.ground_truth, request.merged, request.constraints) if p is not None]
    claim = claim_output(request.output, writes=writes, inputs=inputs, overwrite=request.overwrite,
                         option=request.names.output)
    if request.merged_output is not None:
        claim_output(request.merged_output, writes=(), inputs=inputs, overwrite=True,
                     option=request.names.merged_output)
    return claim


def run_baseline(request: ModelQualityBaselineRequest, *, reader: BaselineReader | None = None) -> RunOutcome:
    """Baseline statistics.json and constraints.json from a labelled dataset (read in parts by ``reader``, when
    another engine reads it)."""
    settings = request.settings
    if settings.ground_truth_attribute is None:
        raise AnalyzerInputError(f"{request.names.ground_truth_attribute} is required: the column that holds the label")
    output = request.output
    claim = claim_output(output, writes=BASELINE_FILES, inputs=(request.dataset,), overwrite=request.overwrite,
                         option=request.names.output)
    problems = _problems(request)
    found = (reader or _read_baseline_rows)(request, problems)
    skipped = found.skipped
    if found.state is None or not found.complete:
        raise AnalyzerInputError(
            "the baseline dataset has no row with both a prediction and a label", path=str(request.dataset)
        )
    state = found.state
    left_out = state.non_finite
    if not state.quality.rows:
        raise AnalyzerInputError(
            f"the baseline dataset has no row whose values are finite numbers ({left_out.rows:,} rows left out, the "
            f"first: {left_out.first})", path=str(request.dataset))
    _note_non_finite(left_out, rows=found.complete)
    item_count = state.quality.rows
    measured = state_metrics(settings, state, names=request.names)
    metrics = measured.metrics
    if measured.not_computable:
        raise AnalyzerInputError(
            "the baseline dataset cannot give every metric a value: "
            + "; ".join(f"{name}: {reason}" for name, reason in sorted(measured.not_computable.items()))
            + "; use validation data with both classes labelled and predicted", path=str(request.dataset))
    comparison = request.comparison
    decision = qd.QualityDecision(comparison=comparison, baseline_size=item_count)
    constraints = report.constraints_document(
        settings.problem_type,
        mq.suggest_constraints(settings.problem_type, metrics, margin=request.threshold_margin),
        baseline_errors=measured.errors if comparison == qd.SIGNIFICANCE else None,
        decision=qd.decision_document(decision) if comparison == qd.SIGNIFICANCE else None,
    )
    if settings.problem_type is not mq.ProblemType.REGRESSION:  # the labelled reference, for label-free checks
        assert found.rows is not None  # every reader keeps the rows of a classification
        kept = estimation.reference(settings, found.rows, metrics, measured.errors, names=request.names)
        constraints[estimation.ESTIMATION_KEY] = kept.to_document()
        if kept.estimates:
            print(f"note: calibration: {estimation.calibration_choice(kept)}", file=sys.stderr, flush=True)
    claim.clear()
    files = (
        report.write_jackson_json(
            output / report.STATISTICS_FILE,
            report.statistics_document(settings.problem_type, metrics, item_count=item_count),
        ),
        report.write_jackson_json(output / report.CONSTRAINTS_FILE, constraints),
    )
    files += (html_report.write_baseline_report_from_files(output, records=item_count),)
    summary: dict[str, object] = {"item_count": item_count, "rows_without_values": skipped,
                                  **_non_finite_summary(left_out)}
    if problems.bad:
        summary["malformed_records"] = problems.bad
    return RunOutcome.finished(violations=0, output_dir=output, files=files, summary=summary)


def value_attributes(settings: ModelSettings) -> merge.ValueAttributes:
    """Where a monitoring window's outputs and labels hold the values the metrics read."""
    return merge.ValueAttributes(
        inference_attribute=settings.inference_attribute or settings.probability_attribute,
        probability_attribute=settings.probability_attribute,
        ground_truth_attribute=settings.ground_truth_attribute,
        class_probabilities=_class_probabilities(settings),
    )


def _class_probabilities(settings: ModelSettings) -> bool:
    """Whether the probability attribute may list per-class probabilities (a multiclass model's)."""
    return settings.problem_type is mq.ProblemType.MULTICLASS_CLASSIFICATION and settings.probability_attribute is not None


def _note_non_finite(left_out: NonFiniteValues, *, rows: int) -> None:
    """Say on stderr how many of ``rows`` were left out for a value that is not a finite number, and the first."""
    if left_out.rows:
        print(f"note: {left_out.rows:,} of {rows:,} rows have a value that is not a finite number (inf, -inf, nan, "
              f"beyond float64) and are left out of the metrics; the first: {left_out.first}", file=sys.stderr,
              flush=True)


def _non_finite_summary(left_out: NonFiniteValues) -> dict[str, int]:
    return {"non_finite_values": left_out.rows} if left_out.rows else {}


def _no_usable_rows_message(without_values: int, left_out: NonFiniteValues) -> str:
    """The status line of a window whose labelled rows all lack a value the metrics need."""
    why = [f"{without_values:,} without a label, prediction or probability"] if without_values else []
    if left_out.rows:
        why.append(f"{left_out.rows:,} with a value that is not a finite number (the first: {left_out.first})")
    return (f"Completed: No data to analyze: none of the window's {without_values + left_out.rows:,} labelled rows "
            f"has the values the metrics need: {'; '.join(why)}.")


@dataclass(frozen=True)
class QualityConstraints:
    """A model-quality constraints.json: its constraints, how they are judged, the baseline's standard errors."""

    constraints: list[mq.MetricConstraint]
    decision: qd.QualityDecision
    baseline_errors: dict[str, float]
    estimation: estimation.EstimationReference | None = None  # the reference for label-free checks, when kept


def read_quality_constraints(
    path: Path, problem_type: mq.ProblemType, *, names: ModelQualityNames = OPTION_NAMES
) -> QualityConstraints:
    """``read_constraints`` with the file's ``monitoring_config`` and ``baseline_standard_error`` values."""
    constraints = read_constraints(path, problem_type, names=names)
    document = load_json(path, what="model-quality constraints.json")
    try:
        decision = qd.parse_decision(document)
    except ValueError as error:
        raise AnalyzerInputError(str(error), path=str(path)) from None
    section = document.get(report.CONSTRAINTS_SECTION[problem_type]) or {}
    errors: dict[str, float] = {}
    for metric, spec in section.items():
        value = spec.get("baseline_standard_error") if isinstance(spec, dict) else None
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise AnalyzerInputError(f"constraint {metric!r}: baseline_standard_error must be a finite number of "
                                     f"at least 0, not {value!r}", path=str(path))
        errors[metric] = float(value)
    block = document.get(estimation.ESTIMATION_KEY)
    try:
        reference = None if block is None else estimation.EstimationReference.from_document(block)
    except ValueError as error:
        raise AnalyzerInputError(str(error), path=str(path)) from None
    return QualityConstraints(constraints, decision, errors, reference)


def read_constraints(
    path: Path, problem_type: mq.ProblemType, *, names: ModelQualityNames = OPTION_NAMES
) -> list[mq.MetricConstraint]:
    """The constraints of ``problem_type`` in a model-quality constraints.json (a file of another kind is
    refused naming the setting as ``names`` spells it)."""
    document = load_json(path, what="model-quality constraints.json")
    if isinstance(document, dict):
        expect_document(document, DocumentKind.MODEL_QUALITY_CONSTRAINTS, path=str(path), option=names.constraints,
                        place=names.place_document)
    section_name = report.CONSTRAINTS_SECTION[problem_type]
    section = document.get(section_name) if isinstance(document, dict) else None
    if not isinstance(section, dict):
        raise AnalyzerInputError(
            f"no {section_name} section: is this the constraints.json of a {problem_type.value} baseline?",
            path=str(path),
        )
    try:
        parsed = quality_constraints(section)  # the alarms read the section by the same rule
    except ValueError as error:
        raise AnalyzerInputError(str(error), path=str(path)) from None
    return [mq.MetricConstraint(metric=c.metric, threshold=c.threshold, operator=mq.ComparisonOperator(c.operator))
            for c in parsed]


def _metric_timestamp(request: ModelQualityMonitorRequest, now: datetime) -> str:
    return format_timestamp(request.metric_time or request.window.start or now)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: a window holds millions of live records (dicts, tuples),
    none of them in a reference cycle, and the collector's repeated full passes over them took
    about a third of the run; reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _verdict(
    measured: WindowMetrics, constraints: QualityConstraints | None, kind: mq.ProblemType, constraints_path: object,
    window_size: int, discoveries: frozenset[str] | None = None,
) -> qd.QualityVerdict:
    """The window's verdict on the baseline constraints (no violation without constraints); ``discoveries``: the
    metrics found by the window's joint family (``estimation.estimate_window``)."""
    metrics = measured.metrics
    if constraints is None:
        return qd.QualityVerdict(violations=(), not_computable=measured.not_computable, p_values={})
    try:
        return qd.decide(metrics, constraints.constraints, constraints.decision, errors=measured.errors,
                         baseline_errors=constraints.baseline_errors, window_size=window_size,
                         skipped=measured.not_computable, discoveries=discoveries)
    except KeyError as error:
        scalar_names = ", ".join(n for n, e in metrics.items() if isinstance(e, mq.MetricValue))
        raise AnalyzerInputError(
            f"constraint on unknown metric {error.args[0]!r}; {kind.value} metrics are {scalar_names}",
            path=str(constraints_path),
        ) from None


def run_monitor(request: ModelQualityMonitorRequest, *, joiner: CaptureJoiner | None = None) -> RunOutcome:
    """One monitoring window: merge, metrics, constraint check, reports (see the module docstring). ``joiner``
    (default: this machine's processes) joins the captures with the labels in parts otherwise (Spark)."""
    if request.batch is not None and request.capture is not None:
        # a transform job's output rows as captures (``io.batch``), joined with the labels by inference id
        job_folders = (request.capture, request.batch.data)
        refuse_output_inside(request.output, job_folders, option=request.names.output)
        if request.merged_output is not None:
            refuse_output_inside(request.merged_output, job_folders, option=request.names.merged_output)
        problems = _problems(request, "transform rows")
        with staged_capture(request.capture, request.batch, problems=problems, reading=BatchReading(
                inputs=False, outputs=True, ids_needed_for="the labels are joined by it")) as staged:
            return run_monitor(dataclasses.replace(request, capture=staged.file.parent, batch=None))
    staged: list[merge.MergedRecordsWriter] = []
    with _without_cycle_collection():
        try:
            return _monitor(request, staged, joiner)
        except BaseException:
            for writer in staged:
                writer.discard()  # a run that fails leaves no merged records
            raise


@dataclass(frozen=True, kw_only=True)
class _JoinedPart:
    """What a part of a window's captures gives back (from another process, pickled): the outputs and labels of
    its matches, its merged-records file (closed, published or discarded by the run), its join counts and
    its bad capture records."""

    builder: merge.LabelledColumnsBuilder
    writer: merge.MergedRecordsWriter
    counts: tuple[int, int, object]
    problems: InputProblems
    read: int
    outputs: estimation.WindowOutputs | None = None  # every capture's output read, when the estimate needs them
    unmatched_key: str | None = None  # the part's first capture key without a label (``WindowJoin.unmatched_key``)
    measured: _PartMeasure | None = None  # the metric state of its matches, when the part made it


@dataclass(frozen=True, kw_only=True)
class _PartMeasure:
    """The metric state of a part's matched rows (``metrics.part_state``; None when none is complete), how many
    rows are complete and how many lack a value: made in the part's process, merged in part order."""

    state: PartState | None
    complete: int
    skipped: int
    labelled: estimation.WindowOutputs | None = None  # the complete rows' outputs and labels, for the estimate


def _measure_part(settings: ModelSettings, builder: merge.LabelledColumnsBuilder, attributes: merge.ValueAttributes,
                  names: ModelQualityNames, *, labelled: bool = False) -> _PartMeasure | None:
    """The part's ``_PartMeasure`` (with ``labelled``, its complete rows' outputs and labels as the label-free
    estimate reads them); None when its values are refused (or anything else fails): the run then reads the whole
    window's columns in one piece, which says what is wrong as one process says it (the first problem of the window,
    raised as it was raised)."""
    try:
        rows, skipped = complete_rows(builder.columns(attributes))
        state = part_state(settings, rows, names=names) if len(rows.labels) else None
        outputs = estimation.window_outputs(settings, rows.predictions, rows.probabilities, names=names,
                                            labels=rows.labels) if labelled else None
    except Exception:  # said again, the same way, by the whole window's columns
        return None
    return _PartMeasure(state=state, complete=len(rows.labels), skipped=skipped, labelled=outputs)


def _merged_measures(measures: Sequence[_PartMeasure]) -> _PartMeasure:
    """The parts' measures as one, in part order (``PartState.merge``), neighbours merged first: the states keep
    their rows, so each row is copied about log2(parts) times rather than once a part (Spark's splits are many)."""
    states = [measured.state for measured in measures if measured.state is not None]
    while len(states) > 1:
        states = [states[i].merge(states[i + 1]) if i + 1 < len(states) else states[i]
                  for i in range(0, len(states), 2)]
    labelled = None
    if measures and all(measured.labelled is not None for measured in measures):
        # a part without rows adds none (its empty per-class scores would not stack with the others')
        labelled = estimation.concat_outputs([measured.labelled for measured in measures  # type: ignore[misc]
                                              if len(measured.labelled)] or [measures[0].labelled])  # type: ignore[arg-type]
    return _PartMeasure(state=states[0] if states else None, complete=sum(m.complete for m in measures),
                        skipped=sum(m.skipped for m in measures), labelled=labelled)


class CaptureJoiner(Protocol):
    """Joins a window's captures with its labels in parts: ``_JoinedPart``s in capture order (one at least),
    each with its merged records written (unpublished) in ``merged_output``, and with ``keep_outputs`` every
    capture's model output read (``window_outputs``) for the label-free estimate. Parts that all carry their
    measure (``_PartMeasure``, with ``keep_outputs`` its ``labelled`` rows too) are merged as states; otherwise the
    run reads the parts' matched columns whole."""

    def __call__(self, request: ModelQualityMonitorRequest, *, window: TimeWindow, window_join: merge.WindowJoin,
                 labels: GroundTruthColumns, merged_output: Path, progress: ProgressReporter,
                 keep_outputs: bool) -> list[_JoinedPart]: ...


def _total_bytes(files: Sequence[Path]) -> int:
    total = 0
    for file in files:
        with contextlib.suppress(OSError):  # the read says what is wrong
            total += file.stat().st_size
    return total


def _read_labels(request: ModelQualityMonitorRequest, *, problems: InputProblems) -> GroundTruthColumns:
    """The labels uploaded in the window (``io.ground_truth``), a large window's files read in runs of files, as
    many at once as the captures have parts: the same columns and tally as one reader. Threads, not processes:
    Arrow's reader and compute functions let go of the interpreter, and the columns stay where the join needs
    them instead of being copied back from another process."""
    assert request.ground_truth is not None
    files = window_label_files(request.ground_truth, uploaded_from=request.window.start,
                               uploaded_before=request.window.end)
    workers = parallel.worker_count(request.reading.workers, file_bytes(files))
    if workers == 1:
        return joined_label_columns([read_label_files(files, use_threads=parallel.cores_to_spare(1))], problems)
    groups = label_file_groups(files, workers)
    use_threads = parallel.cores_to_spare(len(groups))

    def read_group(group: Sequence[Path]) -> LabelColumnParts:
        return read_label_files(group, use_threads=use_threads)

    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="labels") as pool:
        return joined_label_columns(list(pool.map(read_group, groups)), problems)  # the first failure in file order


def _monitor(request: ModelQualityMonitorRequest, staged: list[merge.MergedRecordsWriter],
             joiner: CaptureJoiner | None = None) -> RunOutcome:
    settings = request.settings
    names = request.names
    output = request.output
    start, end = request.window.start, request.window.end
    claim = _claim_monitor_output(request)
    constraints_path = request.constraints
    constraints = (read_quality_constraints(constraints_path, settings.problem_type, names=names)
                   if constraints_path is not None else None)
    lookback = request.ground_truth_lookback
    reference = (constraints.estimation if constraints is not None
                 and settings.problem_type is not mq.ProblemType.REGRESSION else None)
    if request.merged is None and request.ground_truth is None and reference is None:
        raise AnalyzerInputError(
            f"{names.capture} and {names.ground_truth} are required (or {names.merged} for merged records); a baseline "
            f"whose {names.constraints} carry the label-free estimation (baseline --type model-quality of a classifier) "
            f"allows leaving {names.ground_truth} out: the window is then estimated only")
    if reference is not None and lookback and joiner is not None:
        # the pass of its own below reads local files: Spark's join reads the look-back's captures too
        print("note: no label-free estimate in this window: --engine spark makes it only without "
              "--ground-truth-lookback (use --engine local for both)", file=sys.stderr, flush=True)
        reference = None
    # the estimate reads every capture of the window, labelled or not: during the join when the join reads
    # just the window, else in a pass of its own
    outputs_in_join = reference is not None and not lookback
    now = datetime.now(UTC)
    metric_timestamp = _metric_timestamp(request, now)
    files: list[Path] = []

    progress = ProgressReporter(enabled=request.reading.progress)
    attributes = value_attributes(settings)
    merged_source = request.merged
    id_samples: tuple[str | None, str | None] = (None, None)
    measured_parts: _PartMeasure | None = None  # the parts' merged metric state, when they made one
    if merged_source is not None:
        problems = _WindowProblems({"malformed_records": _problems(request, "merged records")})
        merged_problems = problems.by_input["malformed_records"]
        records = list(progress.counted(
            merge.read_merged_records(merged_source, since=start, until=end, problems=merged_problems)))
        merged_problems.check()
        join: dict[str, int] = {"matched": len(records)}
        columns = merge.labelled_columns(records, attributes)
    else:
        assert request.capture is not None  # the request checks it
        label_problems, capture_problems = _problems(request, "ground-truth labels"), _problems(request, "capture records")
        problems = _WindowProblems({"malformed_labels": label_problems, "malformed_captures": capture_problems})
        # without a label folder (the baseline estimates the window): as a folder without labels
        labels = GroundTruthColumns.of(()) if request.ground_truth is None else _read_labels(
            request, problems=label_problems)
        label_problems.check()
        window_join = merge.WindowJoin(labels)
        window_join.prepare()  # before the parts fork: every process shares it
        truths = labels.truth_texts()
        window = TimeWindow(start=reach_back(start, lookback), end=end)
        if joiner is not None:  # another engine's parts (Spark's partitions), in input order
            parts = joiner(request, window=window, window_join=window_join, labels=labels,
                           merged_output=_merged_output(request), progress=progress, keep_outputs=outputs_in_join)
            writers = [part.writer for part in parts]
            staged.extend(writers)
        else:
            # each part makes the metric state of its matches unless the estimate needs the window's rows
            measure_in_parts = reference is None
            capture_inputs = capture_files(request.capture, window)
            workers = parallel.worker_count(request.reading.workers, _total_bytes(capture_inputs))
            runs: list[Sequence[Path | CaptureSlice] | None] = (
                list(capture_slices(capture_inputs, parts=workers)) if workers > 1 else [capture_inputs])
            use_threads = parallel.cores_to_spare(len(runs))  # Arrow's threads, when the parts leave cores idle

            def joined_part(index: int, run: Sequence[Path | CaptureSlice], own_progress: bool) -> _JoinedPart:
                """One part of the captures: joined on their keys, written merged to a part file of its own, the
                outputs of the matched ones kept (in another process, a fresh join's counts)."""
                join = window_join if index == 0 else merge.WindowJoin.sharing(window_join)
                tally = _problems(request, "capture records")
                builder = merge.LabelledColumnsBuilder()
                writer = writers[index]
                read = 0
                outputs: list[tuple[pa.Array, ...]] = []
                with writer:
                    for captured in read_captured_outputs(request.capture, window=window, problems=tally, files=run,
                                                          use_threads=use_threads):
                        positions, rows = join.match_keys(captured.keys)
                        writer.write_lines(merge.merged_lines(captured, positions, truths.take(int64_array(rows))))
                        builder.add_matched_outputs(captured, positions, labels, rows)
                        if outputs_in_join:
                            outputs.append((captured.data, captured.encodings, captured.content_types,
                                            captured.keys))
                        read += len(captured)
                        if own_progress:
                            progress.update(read)
                # read in the part's own process: only the numbers travel back
                return _JoinedPart(builder=builder, writer=writer, counts=join.part_counts(), problems=tally, read=read,
                                   outputs=captured_outputs_read(request, outputs) if outputs_in_join else None,
                                   unmatched_key=join.unmatched_key,
                                   measured=_measure_part(settings, builder, attributes, names) if measure_in_parts
                                   else None)

            writers = [merge.MergedRecordsWriter(_merged_output(request), part=index) for index in range(len(runs))]
            staged.extend(writers)  # published once the run has succeeded, discarded if it fails
            parts = parallel.run_parts([
                (lambda index=index, run=run: joined_part(index, run, own_progress=index == 0))  # type: ignore[misc]
                for index, run in enumerate(runs)])
        builder = parts[0].builder
        for index, part in enumerate(parts):
            staged[staged.index(writers[index])] = part.writer  # as the part's process left it
            capture_problems.merge(part.problems)
            if index:
                window_join.absorb(part.counts)  # type: ignore[arg-type]
                window_join.absorb_unmatched_key(part.unmatched_key)
                builder.extend(part.builder)
        progress.finish(sum(part.read for part in parts))
        capture_problems.check()
        join = window_join.summary.as_dict()
        id_samples = window_join.id_samples()
        measures = [part.measured for part in parts]
        if all(measured is not None for measured in measures):
            measured_parts = _merged_measures(measures)  # type: ignore[arg-type]
        else:
            columns = builder.columns(attributes)
    window_outputs = None
    if reference is not None:
        if merged_source is not None:  # merged records are labelled ones only
            window_outputs = estimation.window_outputs(settings, columns.predictions, columns.probabilities,
                                                       names=names)
        elif outputs_in_join:
            window_outputs = estimation.concat_outputs([part.outputs for part in parts if part.outputs is not None])
        else:
            assert request.capture is not None
            window_outputs = captured_outputs_read(request, [
                (captured.data, captured.encodings, captured.content_types, captured.keys)
                for captured in read_captured_outputs(request.capture, window=TimeWindow(start=start, end=end),
                                                      problems=_problems(request, "capture records"))])
    rows: LabelledColumns | None = None
    if measured_parts is None:
        rows, skipped = complete_rows(columns)
        state = part_state(settings, rows, names=names) if len(rows.labels) else None
        complete = len(rows.labels)
    else:
        state, complete, skipped = measured_parts.state, measured_parts.complete, measured_parts.skipped
    left_out = state.non_finite if state is not None else NonFiniteValues()
    item_count = state.quality.rows if state is not None else 0
    summary: dict[str, object] = {**join, "item_count": item_count, "rows_without_values": skipped,
                                  **_non_finite_summary(left_out), **problems.summary()}
    hint = None if merged_source is not None else label_window_hint(
        start=start, end=end, lookback=lookback, join=join,
        lookback_name=names.ground_truth_lookback, ground_truth_name=names.ground_truth, capture_name=names.capture,
        id_samples=id_samples)

    def replace_earlier_outputs() -> None:
        claim.clear()
        for writer in staged:
            published = writer.publish()
            if published is not None:
                files.append(published)

    if not item_count and reference is not None and window_outputs is not None and len(window_outputs):
        assert constraints is not None
        replace_earlier_outputs()
        return _estimation_only(request, estimation.estimate_window(reference, window_outputs,
                                                                    decision=constraints.decision),
                                files=files, join=join, summary=summary, metric_timestamp=metric_timestamp, now=now,
                                hint=hint)
    if not item_count:
        replace_earlier_outputs()
        return RunOutcome(
            status=RunStatus.NO_DATA,
            message=_no_usable_rows_message(skipped, left_out) if skipped or left_out.rows else no_labelled_data_message(
                merged=merged_source is not None, join=join, hint=hint, malformed=problems.bad,
                first_problem=problems.first),
            output_dir=output,
            files=(*files, html_report.write_no_data_report(output, join=join, window=(start, end))),
            summary=summary,
        )

    if problems.bad:
        print(f"note: {problems.bad:,} malformed input record{'s were' if problems.bad != 1 else ' was'} skipped, "
              f"within the share {request.names.max_bad_record_ratio} tolerates; the first: {problems.first}",
              file=sys.stderr, flush=True)
    if join.get("captures_sharing_an_id"):
        print(f"note: {join['captures_sharing_an_id']} of {join.get('matched', 0)} matched captures share their "
              "inference id with an earlier capture, and each is judged against the one label of that id: send a "
              "unique InferenceId with every request (InvokeEndpoint's InferenceId)", file=sys.stderr, flush=True)
    if hint is not None and few_labels(join):
        print(f"note: few labels matched ({join.get('matched', 0)}): {hint}", file=sys.stderr, flush=True)
    assert state is not None  # the window has rows to measure
    _note_non_finite(left_out, rows=complete)
    measured = state_metrics(settings, state, names=names)
    metrics = measured.metrics
    kind = settings.problem_type
    verdict = _verdict(measured, constraints, kind, constraints_path, item_count)
    violations = list(verdict.violations)
    estimated = None
    if reference is not None and window_outputs is not None and len(window_outputs):
        assert constraints is not None
        if rows is not None:
            labelled = estimation.window_outputs(settings, rows.predictions, rows.probabilities, names=names,
                                                 labels=rows.labels)
        else:  # the parts read their rows for the estimate (Spark's splits)
            assert measured_parts is not None and measured_parts.labelled is not None
            labelled = measured_parts.labelled
        estimated = estimation.estimate_window(
            reference, window_outputs, decision=constraints.decision, labelled=(labelled, metrics),
            realised_p_values=verdict.p_values if constraints.decision.comparison == qd.SIGNIFICANCE else None)
        if estimated.realised_discoveries is not None:  # the realised metrics judged in the window's one family
            verdict = _verdict(measured, constraints, kind, constraints_path, item_count,
                               discoveries=estimated.realised_discoveries)
            violations = list(verdict.violations)
        violations.extend(estimated.violations)
    if verdict.not_computable:
        summary["not_computable"] = dict(sorted(verdict.not_computable.items()))
        print("note: not computable in this window, so not judged nor published: " + "; ".join(
            f"{name} ({reason})" for name, reason in sorted(verdict.not_computable.items())), file=sys.stderr, flush=True)
    replace_earlier_outputs()
    statistics = report.statistics_document(kind, metrics, item_count=item_count, evaluation_time=now)
    if estimated is not None:
        statistics[report.ESTIMATION_KEY] = estimated.statistics_block(labels=True)
    files.append(report.write_jackson_json(output / report.STATISTICS_FILE, statistics))
    files.append(
        report.write_jackson_json(
            output / report.CONSTRAINTS_FILE,
            report.constraints_document(kind, mq.suggest_constraints(kind, metrics)),
        )
    )
    if constraints is not None:
        files.append(
            report.write_jackson_json(output / report.VIOLATIONS_FILE, report.violations_document(
                violations, checks=estimation.violation_entries(estimated) if estimated is not None else ()))
        )
    else:
        print(f"note: no baseline constraints ({names.constraints}): the window's metrics are computed and published, "
              "but nothing is compared, so no violation can be found", file=sys.stderr, flush=True)
    if request.metrics_dir is not None:
        judged = ([c.metric for c in constraints.constraints if c.metric not in verdict.not_computable]
                  if constraints is not None and constraints.decision.comparison == qd.SIGNIFICANCE else [])
        lines = report.cloudwatch_metric_records(
            metrics,
            timestamp=metric_timestamp,
            endpoint_name=request.endpoint,
            schedule_name=request.schedule,
            leave_out=frozenset(verdict.not_computable),
            verdicts={name: any(v.metric == name for v in violations) for name in judged},
        ) + (_estimation_metric_records(request, estimated, metric_timestamp) if estimated is not None else [])
        files.append(report.write_cloudwatch_metrics(request.metrics_dir, lines))

    files.append(html_report.write_window_report_from_files(
        output, constraints=constraints_path, join=join, window=(start, end), records=item_count,
        not_computable=verdict.not_computable, statistics=statistics))
    if estimated is not None:
        checks = estimation.violation_entries(estimated)
        summary["performance_estimation"] = "estimated and realised (labels in the window)"
        _note_estimation(estimated)
        violations_count = len(violations) + len(checks)
    else:
        violations_count = len(violations)
    summary["violations"] = violations_count
    return RunOutcome.finished(violations=violations_count, output_dir=output, files=tuple(files), summary=summary)


def captured_outputs_read(request: ModelQualityMonitorRequest,
                    chunks: Sequence[tuple[pa.Array, ...]]) -> estimation.WindowOutputs:
    """The model outputs of captured output payloads (data, encodings, content types[, join keys]), read as the metrics
    read them."""
    settings = request.settings
    columns = merge.output_columns(chunks, merge.ValueAttributes(
        inference_attribute=settings.inference_attribute or settings.probability_attribute,
        probability_attribute=settings.probability_attribute, class_probabilities=_class_probabilities(settings)))
    return estimation.window_outputs(settings, columns.predictions, columns.probabilities, names=request.names)


def _estimation_metric_records(request: ModelQualityMonitorRequest, estimated: estimation.WindowEstimation,
                               timestamp: str) -> list[dict[str, object]]:
    """The metric lines of the estimates, the scores outside the reference's range and their verdicts."""
    return report.cloudwatch_metric_records(
        {name: mq.MetricValue(value=value, standard_deviation=None) for name, value in estimated.metric_values().items()},
        timestamp=timestamp, endpoint_name=request.endpoint, schedule_name=request.schedule,
        verdicts=estimated.verdicts())


def _note_estimation(estimated: estimation.WindowEstimation) -> None:
    """Say on stderr what the estimate found: drops, prediction drift, concept shift."""
    for violation in estimated.violations:
        print(f"note: {violation.metric} {violation.value:.4f} is below the baseline's {violation.threshold:.4f} by "
              "more than chance explains", file=sys.stderr, flush=True)
    for entry in estimation.violation_entries(estimated):
        print(f"note: {entry['description']}", file=sys.stderr, flush=True)


def _estimation_only(request: ModelQualityMonitorRequest, estimated: estimation.WindowEstimation, *,
                     files: list[Path], join: dict[str, int], summary: dict[str, object], metric_timestamp: str,
                     now: datetime, hint: str | None = None) -> RunOutcome:
    """A window whose captures have no label yet, with a baseline that keeps the labelled reference: the
    performance is estimated and the predictions compared, nothing is measured. ``hint``: why the window's labels
    (when it has some) matched no capture (``label_window_hint``)."""
    output, kind = request.output, request.settings.problem_type
    checked = ("get the performance estimated from the baseline's calibration and a prediction-drift check"
               if estimated.estimates else
               "get a prediction-drift check against the baseline's predictions (no performance is estimated: that "
               f"needs scores, {request.names.probability_attribute}, in the baseline and in the window)")
    orphans = join.get("labels_without_capture", 0)
    if hint is not None and orphans:  # labels came, and none found its capture: why comes first
        print(f"note: no capture of the window matched any of its {orphans:,} labels: {hint}", file=sys.stderr,
              flush=True)
    print(f"note: {estimated.item_count:,} predictions without a label {checked}; the realised metrics wait for "
          "labels that match", file=sys.stderr, flush=True)
    statistics = report.statistics_document(kind, {}, item_count=0, evaluation_time=now)
    statistics[report.ESTIMATION_KEY] = estimated.statistics_block(labels=False)
    files.append(report.write_jackson_json(output / report.STATISTICS_FILE, statistics))
    files.append(report.write_jackson_json(output / report.CONSTRAINTS_FILE, report.constraints_document(kind, [])))
    checks = estimation.violation_entries(estimated)
    files.append(report.write_jackson_json(output / report.VIOLATIONS_FILE, report.violations_document(
        estimated.violations, checks=checks)))
    if request.metrics_dir is not None:
        files.append(report.write_cloudwatch_metrics(
            request.metrics_dir, _estimation_metric_records(request, estimated, metric_timestamp)))
    _note_estimation(estimated)
    files.append(html_report.write_window_report_from_files(
        output, constraints=request.constraints, join=join, window=(request.window.start, request.window.end),
        records=0))
    count = len(estimated.violations) + len(checks)
    summary.update({"performance_estimation": "estimated only: no labels in the window",
                    "estimated_item_count": estimated.item_count, "violations": count})
    return RunOutcome.finished(violations=count, output_dir=output, files=tuple(files), summary=summary)
