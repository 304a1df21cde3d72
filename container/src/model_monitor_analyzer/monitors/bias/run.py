"""The bias runs: a Clarify-style baseline (analysis.json) and a bias-drift monitoring run.

The monitor run reads the window's labelled predictions: merged records (capture joined with
ground truth, by SageMaker's merge job or ``io.merge``), captures and ground truth to join, or
a table with the features, the label and the model's predicted label (or score) columns.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from model_monitor_analyzer import constraint_rules as rules
from model_monitor_analyzer.checks import bias_decision
from model_monitor_analyzer.checks.bias import (
    BiasAnalysis,
    BiasRunner,
    PlacedMetric,
    baseline_column_kinds,
    label_mismatch,
    not_computable,
    placed_metrics,
    unmatched_groups,
)
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import format_timestamp, reach_back
from model_monitor_analyzer.jobs import parallel
from model_monitor_analyzer.jobs.label_window import few_labels, label_window_hint, no_labelled_data_message
from model_monitor_analyzer.jobs.outcome import RunOutcome, RunStatus
from model_monitor_analyzer.jobs.outputs import claim_output, refuse_output_inside
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.monitors.bias.analysis import run_analysis
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig, ColumnRef, read_analysis_config
from model_monitor_analyzer.monitors.bias.dataset import plain_number_csv, read_bias_columns
from model_monitor_analyzer.monitors.bias.request import BiasBaselineRequest, BiasMonitorRequest
from model_monitor_analyzer.monitors.bias.values import Columns
from model_monitor_analyzer.report.bias import (
    metric_lines,
    write_analysis,
    write_metric_lines,
    write_violations,
)
from model_monitor_analyzer.report.bias_decision import (
    decision_notes,
    read_baseline,
    verdict_lines,
    verdict_summary,
    write_baseline_analysis,
)
from model_monitor_analyzer.report.html import bias as html_report

if TYPE_CHECKING:
    from model_monitor_analyzer.monitors.bias.window_records import LabelledTable

ANALYSIS_FILE = "analysis.json"
VIOLATIONS_FILE = "constraint_violations.json"
METRICS_FILE = "bias_metrics.jsonl"
BASELINE_FILES = (ANALYSIS_FILE, html_report.REPORT_FILE)
MONITOR_FILES = (*BASELINE_FILES, VIOLATIONS_FILE)


def import_ahead(config: BiasAnalysisConfig, dataset: Path | None = None, dataset_type: str | None = None) -> None:
    """Import, on a thread of their own, modules the run needs only once its input is read: scipy.spatial for
    FlipTest's k-d tree, and pandas, which pyarrow imports on its first conversion to numpy (together about
    0.8 s), unless the ``dataset`` is a CSV of plain numbers, whose columns are typed without it
    (``dataset.plain_number_csv``). Arrow's CSV parse leaves Python's lock, so the input is read meanwhile; a
    later import of either waits for this one if it is still running."""
    names = ["scipy.spatial"] if config.run_post_training else []
    if dataset is None or not plain_number_csv(dataset, dataset_type or config.dataset_type):
        names.insert(0, "pandas")
    names = [name for name in names if name not in sys.modules]
    if names:
        threading.Thread(target=parallel.import_quietly, args=(names,), name="import-ahead", daemon=True).start()


def check_computable(analysis: BiasAnalysis, *, config_path: str) -> None:
    """Fail a baseline run when the data left metrics without a value (a facet or label value that
    matches no row, no positive prediction...): a baseline with metrics missing would compare
    nothing for them in every window."""
    if analysis.problems:
        raise AnalyzerInputError(
            f"bias metrics could not be computed: {'; '.join(analysis.problems)}. Fix the values in the analysis "
            "config (value_or_threshold, label_values_or_threshold) or the data",
            path=config_path,
        )


def not_computable_notes(
    analysis: BiasAnalysis, *, baseline: BiasAnalysis | None, limit: int = 10
) -> tuple[int, list[str]]:
    """How many of a window's metrics have no value, and ``note:`` lines saying which and why.

    A small window lacks what some metrics need (a facet group, a positive label, a rate's
    denominator); those metrics are null in analysis.json with their reason, are not published, and
    are skipped by the drift check. With a baseline the notes name the metrics whose check was
    skipped (the baseline has a value for them); without one, every metric without a value.
    """
    missing = not_computable(analysis)
    if baseline is not None:
        compared = {m.key for m in placed_metrics(baseline) if m.metric.value is not None}
        skipped = [m for m in missing if m.key in compared]
        what = "not computable in this window, not checked for drift"
    else:
        skipped, what = list(missing), "not computable in this window"
    if not skipped:
        return len(missing), []
    if analysis.problems:
        # What the window lacks explains the metrics; each one's own error is in analysis.json.
        groups: dict[str, list[str]] = {}
        for m in skipped:
            groups.setdefault(f"{m.facet}={m.facet_value}", []).append(m.metric.name)
        listed = "; ".join(f"{group}: {', '.join(names)}" for group, names in groups.items())
        return len(missing), [f"{len(skipped)} bias metric(s) {what} ({listed}): {'; '.join(analysis.problems)}"]
    by_reason: dict[str, list[PlacedMetric]] = {}
    for placed in skipped:
        by_reason.setdefault(placed.metric.error or "no value", []).append(placed)
    lines = []
    for reason, metrics in list(by_reason.items())[:limit]:
        names = ", ".join(f"{m.metric.name} ({m.facet}={m.facet_value})" for m in metrics)
        lines.append(f"{len(metrics)} bias metric(s) {what}: {names}: {reason}")
    if len(by_reason) > limit:
        lines.append(f"... and {len(by_reason) - limit} more reasons: see analysis.json's \"error\" fields")
    return len(missing), lines


def _problem_summary(problems: InputProblems) -> dict[str, object]:
    if not problems.bad:
        return {}
    return {"bad_records": problems.bad, "bad_record_examples": [p.describe() for p in problems.examples]}


def _column_ref(value: str | None) -> ColumnRef | None:
    """A column given by name, or by 0-based index when it is all digits."""
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _problems(request: BiasBaselineRequest | BiasMonitorRequest) -> InputProblems:
    """The tally of the dataset's bad records, with the tolerated share as the user set it."""
    return InputProblems(max_bad_record_ratio=request.max_bad_record_ratio,
                         tolerance_setting=request.names.max_bad_record_ratio)


def read_dataset_columns(request: BiasBaselineRequest, config: BiasAnalysisConfig, problems: InputProblems) -> Columns:
    """The baseline dataset as typed columns (``dataset.read_bias_columns``), its bad records counted in
    ``problems``."""
    return read_bias_columns(request.dataset, config, dataset_type=request.dataset_type, problems=problems)


#: reads a baseline's dataset into typed columns (``read_dataset_columns``, or Spark's executors: ``spark.bias``)
DatasetReader = Callable[[BiasBaselineRequest, BiasAnalysisConfig, InputProblems], Columns]


def run_baseline(request: BiasBaselineRequest, *, reader: DatasetReader | None = None,
                 runner: BiasRunner | None = None) -> RunOutcome:
    """Compute analysis.json for a dataset; it is the bias monitor's baseline constraints. ``reader`` reads the
    dataset (default: on this machine); ``runner`` computes the plan, group counts and FlipTest (default: here)."""
    names = request.names
    claim = claim_output(request.output, writes=BASELINE_FILES, inputs=[request.analysis_config, request.dataset],
                         overwrite=request.overwrite, option=names.output)
    config = read_analysis_config(request.analysis_config, name=names.analysis_config, place=names.place_document)
    import_ahead(config, request.dataset, request.dataset_type)
    problems = _problems(request)
    columns = (reader or read_dataset_columns)(request, config, problems)
    # the standard errors the sample-size-aware drift verdict weighs the windows' metrics with: from the counts
    # (FlipTest has none), so computed while FlipTest runs
    decisions: list[rules.BiasDecision] = []

    def decide(counted: BiasAnalysis) -> None:
        if not counted.problems:  # else the baseline is refused below
            decisions.append(bias_decision.decision_for_baseline(counted))

    analysis = run_analysis(columns, config, config_path=str(request.analysis_config), runner=runner,
                            meanwhile=decide)
    # A baseline with metrics that could not be computed is not written: it would pass for one.
    check_computable(analysis, config_path=str(request.analysis_config))
    claim.clear()
    written = write_baseline_analysis(analysis, decisions[0], request.output / ANALYSIS_FILE)
    return RunOutcome(
        status=RunStatus.COMPLETED,
        message="Completed: bias baseline analysis written.",
        output_dir=request.output,
        files=(written, html_report.write_baseline_report(request.output, analysis=written)),
        summary={**_summary(analysis), **_problem_summary(problems)},
    )


def _window_records(request: BiasMonitorRequest) -> tuple[list[dict], dict[str, object]]:
    """Merged records of the window: read from ``merged``, or joined from ``capture`` and ``ground_truth``."""
    # the readers of captures and labels, imported by a monitoring run only (a baseline reads a dataset)
    from model_monitor_analyzer.io import merge
    from model_monitor_analyzer.io.ground_truth import read_ground_truth

    start, end = request.window.start, request.window.end
    progress = ProgressReporter(enabled=request.progress)

    def tally(input_name: str) -> InputProblems:  # one per input, with the tolerated share as the user set it
        return InputProblems(max_bad_record_ratio=request.max_bad_record_ratio,
                             tolerance_setting=request.names.max_bad_record_ratio, input_name=input_name)

    if request.merged is not None:
        merged = tally("merged records")
        records = list(progress.counted(merge.read_merged_records(request.merged, since=start, until=end,
                                                                  problems=merged)))
        merged.check()
        return records, {"matched": len(records)}
    if request.capture is None or request.ground_truth is None:
        raise AnalyzerInputError(f"give the window's data: {request.names.window_data}")
    # Labels uploaded in the window, joined with captures from up to the look-back before it (as model quality).
    since = reach_back(start, request.ground_truth_lookback)
    labels_read, captures_read = tally("label records"), tally("capture records")
    labels = list(read_ground_truth(request.ground_truth, uploaded_from=start, uploaded_before=end,
                                    problems=labels_read))
    labels_read.check()
    captures = progress.counted(merge.read_capture_records(request.capture, since=since, until=end,
                                                           problems=captures_read))
    result = merge.merge_records(captures, labels)
    captures_read.check()
    return result.records, {**result.summary.as_dict(), ID_SAMPLES: result.id_samples}


#: the join counts' entry of ``WindowJoin.id_samples`` (taken out before the counts are the run's summary)
ID_SAMPLES = "id_samples"
#: reads a window's merged records and join counts (``_window_records``, or Spark's executors); the records may come
#: already typed (a ``LabelledTable``, as ``merged_columns`` types them: Spark types them in parts)
WindowRecords = Callable[[BiasMonitorRequest], tuple["list[dict] | LabelledTable", dict[str, object]]]


def _monitor_analysis(
    request: BiasMonitorRequest, baseline: BiasAnalysis | None, window_records: WindowRecords | None = None,
    runner: BiasRunner | None = None,
) -> tuple[BiasAnalysis | None, dict[str, object]]:
    config = read_analysis_config(request.analysis_config, name=request.names.analysis_config,
                                  place=request.names.place_document)
    # The window reads its label and facets as the baseline did, whatever the window's size.
    known_kinds = baseline_column_kinds(baseline) if baseline is not None else None
    config_path = str(request.analysis_config)
    threshold = request.probability_threshold
    import_ahead(config, request.dataset, request.dataset_type)
    if request.dataset is not None:
        problems = _problems(request)
        columns = read_bias_columns(request.dataset, config, dataset_type=request.dataset_type, problems=problems)
        analysis = run_analysis(
            columns,
            config,
            config_path=config_path,
            predicted_label=_column_ref(request.inference_attribute),
            probability_column=_column_ref(request.probability_attribute),
            probability_threshold=threshold,
            known_kinds=known_kinds,
            runner=runner,
        )
        return analysis, _problem_summary(problems)
    # the window's records and their typing, imported by a run on captures or merged records only
    from model_monitor_analyzer.monitors.bias.window_records import LabelledTable, merged_columns

    records, join = (window_records or _window_records)(request)
    if not isinstance(records, LabelledTable) and not records:
        return None, join
    table = records if isinstance(records, LabelledTable) else merged_columns(
        records,
        config,
        features_attribute=request.features_attribute or config.features,
        inference_attribute=request.inference_attribute,
        probability_attribute=request.probability_attribute,
        probability_threshold=threshold if threshold is not None else config.probability_threshold,
    )
    analysis = run_analysis(
        table.columns,
        config,
        config_path=config_path,
        label_column=table.label,
        predicted_label=table.predicted_label,
        known_kinds=known_kinds,
        runner=runner,
    )
    return analysis, join


def label_hint(request: BiasMonitorRequest, join: dict[str, object],
               id_samples: tuple[str | None, str | None] = (None, None)) -> str | None:
    """Which labels the window found, when it joined captures with ground truth (not for a table or merged records)."""
    if not request.joins_captures:
        return None
    names = request.names
    return label_window_hint(start=request.window.start, end=request.window.end,  # type: ignore[arg-type]
                             lookback=request.ground_truth_lookback, join=join,
                             lookback_name=names.ground_truth_lookback, ground_truth_name=names.ground_truth,
                             capture_name=names.capture, id_samples=id_samples)


def _check_comparable(baseline: BiasAnalysis, analysis: BiasAnalysis, *, baseline_path: Path) -> None:
    """Refuse a window none of whose facet groups the baseline has (the analysis config names other
    facets or values than the baseline's), or whose positive labels are not the baseline's; name the
    groups the baseline lacks when only some match."""
    mismatch = label_mismatch(baseline=baseline, current=analysis)
    if mismatch is not None:
        raise AnalyzerInputError(
            f"{mismatch}, so no metric could be compared: use the analysis config the baseline was made with, or "
            "make a new baseline", path=str(baseline_path))
    matched, unmatched = unmatched_groups(baseline=baseline, current=analysis)
    shown = ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else "")
    if unmatched and not matched:
        raise AnalyzerInputError(
            f"the baseline has none of this window's facet groups ({shown}), so nothing could be compared: "
            "use the analysis config the baseline was made with, or make a new baseline", path=str(baseline_path))
    if unmatched:
        print(f"note: {baseline_path}: the baseline has no metrics for {shown}; those groups are not checked for drift",
              file=sys.stderr, flush=True)


def run_monitor(request: BiasMonitorRequest, *, window_records: WindowRecords | None = None,
                runner: BiasRunner | None = None) -> RunOutcome:
    """Analyse the window's labelled predictions, check drift against the baseline, write metrics. ``window_records``
    (default: read on this machine) reads the window's captures joined with its labels otherwise (Spark);
    ``runner`` (default: this process) counts the rows and answers FlipTest's queries (``checks.bias.BiasRunner``)."""
    if request.batch is not None and request.capture is not None:
        # a transform job's rows as captures (``io.batch``): features and predictions, labels joined by inference id
        from model_monitor_analyzer.io.batch import BatchReading, staged_capture

        refuse_output_inside(request.output, (request.capture, request.batch.data), option=request.names.output)
        problems = _problems(request)
        with staged_capture(request.capture, request.batch, problems=problems, reading=BatchReading(
                inputs=True, outputs=True, ids_needed_for="the labels are joined by it")) as staged:
            return run_monitor(replace(request, capture=staged.file.parent, batch=None))
    output, names = request.output, request.names
    metrics_file = (request.metrics_dir.absolute() / METRICS_FILE,) if request.metrics_dir is not None else ()
    inputs = [request.analysis_config, request.dataset, request.merged, request.capture, request.ground_truth,
              request.baseline]
    claim = claim_output(output, writes=(*MONITOR_FILES, *metrics_file), inputs=inputs, overwrite=request.overwrite,
                         option=names.output)
    metric_moment = request.metric_time or request.window.start or datetime.now(UTC)
    baseline, decision = (read_baseline(request.baseline, option=names.baseline, place=names.place_document)
                          if request.baseline is not None else (None, rules.BiasDecision()))
    analysis, join = _monitor_analysis(request, baseline, window_records, runner)
    if analysis is not None and baseline is not None:
        assert request.baseline is not None
        _check_comparable(baseline, analysis, baseline_path=request.baseline)
    hint = label_hint(request, join, join.pop(ID_SAMPLES, (None, None)))  # type: ignore[arg-type]
    window = (request.window.start, request.window.end)
    claim.clear()
    if analysis is None:
        return RunOutcome(
            status=RunStatus.NO_DATA,
            message=no_labelled_data_message(merged=request.merged is not None, join=join, hint=hint),
            output_dir=output,
            files=(html_report.write_no_data_report(output, window=window),),
            summary=join,
        )
    if hint is not None and few_labels(join):
        print(f"note: few labels matched ({join.get('matched', 0)}): {hint}", file=sys.stderr, flush=True)
    missing, notes = not_computable_notes(analysis, baseline=baseline)
    for note in notes:
        print(f"note: {note}", file=sys.stderr, flush=True)
    files = [write_analysis(analysis, output / ANALYSIS_FILE)]
    violations: tuple = ()
    verdict = None
    if baseline is not None:
        verdict = bias_decision.decide(baseline=baseline, current=analysis, decision=decision,
                                       tolerance=request.drift_tolerance)
        violations = verdict.violations
        for note in decision_notes(decision, verdict):
            print(f"note: {note}", file=sys.stderr, flush=True)
        files.append(write_violations(violations, output / VIOLATIONS_FILE))
    else:
        print(f"note: no baseline ({request.names.baseline}): the window's bias metrics are computed and published, "
              "but nothing is compared, so no violation can be found", file=sys.stderr, flush=True)
    if request.metrics_dir is not None:
        # as for the other monitor types: the metric time, else the window's start, else now
        lines = metric_lines(analysis, timestamp=format_timestamp(metric_moment), endpoint_name=request.endpoint,
                             schedule_name=request.schedule)
        if verdict is not None and decision.comparison == rules.SIGNIFICANCE:
            lines += verdict_lines(lines, verdict)
        files.append(write_metric_lines(lines, request.metrics_dir / METRICS_FILE))
    files.append(html_report.write_window_report(
        output, analysis=files[0], baseline=request.baseline,
        violations=output / VIOLATIONS_FILE if request.baseline is not None else None,
        tolerance=request.drift_tolerance, window=window, join=join))
    summary = {**join, **_summary(analysis), "not_computable": missing, "violations": len(violations),
               **verdict_summary(decision, verdict)}
    return RunOutcome.finished(violations=len(violations), output_dir=output, files=tuple(files), summary=summary)


def _summary(analysis: BiasAnalysis) -> dict[str, object]:
    """Metric counts per stage, for the human summary."""
    return {
        stage.metric_dimension: sum(len(value.metrics) for facet in result.facets for value in facet.values)
        for stage, result in analysis.stages()
    }
