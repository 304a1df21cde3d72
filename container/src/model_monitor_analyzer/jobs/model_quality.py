"""Model-quality runs: a baseline from a labelled dataset, and a monitoring run over captured data.

Baseline: read the prediction, probability and label columns of a CSV, JSON Lines or Parquet
dataset (``io.datasets``), compute every metric of the problem type, write statistics.json and
constraints.json (thresholds = baseline values).

Monitor: take the ground-truth labels uploaded in the window [start, end), join them with the
captures of [start - lookback, end) (labels arrive late: the look-back finds the inferences they
belong to; with look-back 0 this is the built-in's pairing of the same hours), write the merged
records in the merge job's format, compute the metrics, compare them with the baseline
constraints and write statistics.json, constraints.json, constraint_violations.json and the
CloudWatch metric lines. A window whose captures have no label yet is ``NoData``, not a failure.

Values arrive as text columns (as written in CSV, or as JSON writes them) and are decided on
whole columns, explicitly (each an AnalyzerInputError naming the attribute and the fix):

* numbers as users write them are numbers: ``1``, ``1.0``, ``+1``, ``1e0`` are the same label,
  and ``true``/``false`` (any case) are 1/0 where a binary label is expected;
* binary labels are 0/1 or true/false unless ``--positive-label`` names the positive class; a
  value then is positive when it equals that label (as numbers when both are numbers, else as
  text ignoring case), and a label column that cannot hold it (several values, none of them
  the positive label) is an error instead of silently zero metrics;
* probabilities must lie in [0, 1]; regression values must be finite numbers;
* rows whose label, prediction or probability is empty are skipped and counted; malformed
  input lines are counted with their file and line and skipped up to ``--max-bad-record-ratio``.
"""

from __future__ import annotations

import argparse
import gc
import math
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.constraint_rules import quality_constraints
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.datasets import DatasetFormat, read_dataset
from model_monitor_analyzer.io.ground_truth import read_ground_truth
from model_monitor_analyzer.io.merge import LabelledColumns
from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO, InputProblems
from model_monitor_analyzer.io.window import format_timestamp, parse_duration, reach_back
from model_monitor_analyzer.jobs.label_window import few_labels, label_window_hint, no_labelled_data_message
from model_monitor_analyzer.jobs.options import (
    add_dataset_format_argument,
    add_metric_lines_arguments,
    add_overwrite_argument,
    add_quiet_argument,
    metric_lines_dir,
)
from model_monitor_analyzer.jobs.outcome import RunOutcome, RunStatus
from model_monitor_analyzer.jobs.outputs import OutputClaim, claim_output, merged_record_files
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.jobs.requests import checked_number, metric_time, time_window
from model_monitor_analyzer.report import model_quality as report
from model_monitor_analyzer.report.documents import DocumentKind, expect_document
from model_monitor_analyzer.report.html import model_quality as html_report
from model_monitor_analyzer.report.jsonfile import load_json

PROBLEM_TYPES = [p.value for p in mq.ProblemType]
# A confusion matrix of 500 classes is 250,000 cells, about 5 MB of statistics.json; beyond that, the
# labels are much more likely a Regression's numbers or a wrong attribute than classes.
MAX_CLASSES = 500


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def _add(parser: argparse.ArgumentParser, *flags: str, **options: object) -> None:
    """Add an option unless the CLI (or another monitor type) already defined it."""
    if any(flag in parser._option_string_actions for flag in flags):
        return
    parser.add_argument(*flags, **options)  # type: ignore[arg-type]


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    add_quiet_argument(parser)
    add_overwrite_argument(parser)
    _add(parser, "--problem-type", choices=PROBLEM_TYPES, help="model-quality problem type")
    _add(
        parser,
        "--inference-attribute",
        help="column name (dataset), 0-based CSV index or JMESPath (captured output) of the predicted label/value",
    )
    _add(parser, "--probability-attribute", help="column, index or JMESPath of the probability (binary)")
    _add(
        parser,
        "--probability-threshold",
        type=float,
        help="binary: predict the positive class when probability > threshold (instead of the inference attribute)",
    )
    _add(
        parser, "--ground-truth-attribute", help="column of the label (dataset) or JMESPath into JSON labels"
    )
    _add(parser, "--positive-label", help="binary: the label value of the positive class (default 1)")
    _add(
        parser,
        "--max-bad-record-ratio",
        type=float,
        default=DEFAULT_MAX_BAD_RECORD_RATIO,
        help="fail when more than this share of records is malformed (default 0.1)",
    )


def _problems(args: argparse.Namespace) -> InputProblems:
    ratio = getattr(args, "max_bad_record_ratio", None)
    if ratio is None:
        return InputProblems()
    return InputProblems(max_bad_record_ratio=checked_number(ratio, name="--max-bad-record-ratio"))


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``baseline --type model-quality``."""
    _add(parser, "--dataset", type=Path, help="CSV (with header), JSON Lines or Parquet file, or a folder of them")
    add_dataset_format_argument(parser, aliases=(), dest="dataset_format", choices=tuple(DATASET_FORMATS),
                                help="dataset format (default: from the file extension)")
    _add(
        parser,
        "--no-header",
        action="store_true",
        help="the CSV dataset has no header; attributes are indices",
    )
    _add(parser, "--output", type=Path, help="folder for statistics.json and constraints.json")
    _add(
        parser,
        "--threshold-margin",
        type=float,
        default=0.0,
        help="suggest thresholds this much worse than the baseline values (default 0: the built-in's "
        "thresholds, equal to the baseline values)",
    )
    _add(
        parser,
        "--comparison",
        choices=(qd.SIGNIFICANCE, qd.THRESHOLD),
        default=qd.SIGNIFICANCE,
        help="how monitors judge the thresholds: significance (default: worse than the threshold by more "
        "than chance allows at the window's size) or threshold (the built-in's rule: any value past it)",
    )
    _add_model_arguments(parser)


def _threshold_margin(args: argparse.Namespace) -> float:
    margin = getattr(args, "threshold_margin", None) or 0.0
    if margin < 0:
        raise AnalyzerInputError(f"--threshold-margin must not be negative, got {margin}")
    return margin


def add_monitor_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``monitor --type model-quality``."""
    _add(parser, "--capture", type=Path, help="folder of data-capture files (endpoint/variant/yyyy/mm/dd/HH)")
    _add(
        parser,
        "--merged",
        type=Path,
        help="folder of already merged records (instead of --capture/--ground-truth)",
    )
    _add(
        parser, "--ground-truth", type=Path, help="folder of ground-truth files (yyyy/mm/dd/HH = upload hour)"
    )
    _add(parser, "--constraints", type=Path, help="baseline constraints.json to check against")
    _add(parser, "--output", type=Path, help="folder for the reports")
    _add(parser, "--start", help="window start, ISO-8601 UTC (inclusive)")
    _add(parser, "--end", help="window end, ISO-8601 UTC (exclusive)")
    _add(
        parser,
        "--ground-truth-lookback",
        default="PT0H",
        help="ISO-8601 duration: how far before --start to look for the captures of late labels (default PT0H)",
    )
    _add(parser, "--merged-output", type=Path, help="folder for the merged records (default OUTPUT/merge)")
    # Spelled as for the other monitor types, with the long forms as aliases.
    add_metric_lines_arguments(parser, dest="cloudwatch_metrics_dir", aliases=("--cloudwatch-metrics-dir",))
    _add(parser, "--endpoint", "--endpoint-name", dest="endpoint_name", help="Endpoint dimension of the metrics")
    _add(parser, "--schedule", "--schedule-name", dest="schedule_name",
         help="MonitoringSchedule dimension of the metrics")
    _add(parser, "--metric-time", help="timestamp of the metrics (default: --start, else now)")
    _add_model_arguments(parser)


def monitor_request(args: argparse.Namespace) -> argparse.Namespace:
    """The command line's monitor run: metric lines go to ``--metrics-dir``, else OUTPUT/metrics,
    unless ``--no-metrics`` (the container contract decides by ``publish_cloudwatch_metrics``)."""
    resolved = argparse.Namespace(**vars(args))
    resolved.cloudwatch_metrics_dir = metric_lines_dir(
        output=_output_dir(args), given=args.cloudwatch_metrics_dir, disabled=args.no_metrics
    )
    return resolved


# --------------------------------------------------------------------------------------------
# Value conversion (the explicit decisions on label types, probabilities, missing values)
# --------------------------------------------------------------------------------------------


#: Numbers as users write them: ``1``, ``+1``, ``1.0``, ``1.``, ``.5``, ``1e0``, ``-2.5E-3``.
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_NON_FINITE = r"^[+-]?(?:inf|infinity|nan)$"
_INTEGRAL_LIMIT = 2.0**53  # integral doubles beyond this are not exact integers any more


def _trimmed(values: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(values.cast(pa.string()))


def _as_bool(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def missing_values(values: pa.Array) -> np.ndarray:
    """True where a value is missing: null, empty or only blanks."""
    return ~_as_bool(pc.not_equal(_trimmed(values), ""))


def _numbers(trimmed: pa.Array) -> pa.Array:
    """``trimmed`` as float64 where it is written as a number, null elsewhere."""
    numeric = pc.match_substring_regex(trimmed, _NUMBER)
    return pc.cast(pc.if_else(numeric, trimmed, pa.scalar(None, pa.string())), pa.float64())


def label_numbers(values: pa.Array) -> np.ndarray:
    """Labels as numbers where they are numbers (``true``/``false`` in any case count as 1/0), NaN elsewhere."""
    trimmed = _trimmed(values)
    lower = pc.utf8_lower(trimmed)
    numbers = pc.if_else(
        pc.equal(lower, "true"), 1.0, pc.if_else(pc.equal(lower, "false"), 0.0, _numbers(trimmed))
    )
    return pc.fill_null(numbers, float("nan")).to_numpy(zero_copy_only=False)


def label_text(values: pa.Array) -> pa.Array:
    """Labels as text that compares equal however a value was written.

    Numbers lose their spelling: integral ones become integers (``1.0``, ``+1``, ``1e0`` -> ``1``),
    others the shortest decimal (``0.50`` -> ``0.5``); ``True``/``TRUE`` become ``true`` (and
    ``false`` alike); other text is stripped of surrounding blanks and kept as written.
    """
    trimmed = _trimmed(values)
    lower = pc.utf8_lower(trimmed)
    numbers = _numbers(trimmed)
    # beyond 2**53 a double no longer tells neighbouring integers apart: such labels stay text
    exact = pc.fill_null(pc.less(pc.abs(numbers), _INTEGRAL_LIMIT), False)
    integral = pc.and_(exact, pc.fill_null(pc.equal(pc.floor(numbers), numbers), False))
    whole = pc.cast(pc.cast(pc.if_else(integral, numbers, 0.0), pa.int64()), pa.string())
    number_text = pc.if_else(integral, whole, pc.cast(numbers, pa.string()))
    boolean = pc.or_(pc.equal(lower, "true"), pc.equal(lower, "false"))
    return pc.if_else(exact, number_text, pc.if_else(boolean, lower, trimmed))


def _distinct(values: pa.Array, limit: int = 5) -> list[str]:
    """Up to ``limit`` distinct values, sorted, for messages."""
    return sorted(str(v) for v in pc.unique(values.drop_null()).to_pylist())[:limit]


def binary_values(values: pa.Array, *, positive_label: str | None, what: str) -> np.ndarray:
    """True for the positive class.

    Without a positive label every value must be 0/1 (as any number spelling) or true/false:
    anything else is an input error (a probability given as the inference attribute is the usual
    cause). With one, a value is positive when it equals the label: as numbers when both are
    numbers (``1.0`` is ``1``, ``true`` is ``1``), else as text ignoring case.
    """
    numbers = label_numbers(values)
    if positive_label is None:
        expected = (numbers == 0.0) | (numbers == 1.0)
        if not expected.all():
            unexpected = pc.filter(_trimmed(values), pa.array(~expected))
            shown = _distinct(unexpected, 3)
            numbers_found = _numbers(unexpected)
            in_unit_interval = pc.and_(pc.greater_equal(numbers_found, 0.0), pc.less_equal(numbers_found, 1.0))
            hint = (
                " (these look like probabilities: pass --probability-attribute and --probability-threshold)"
                if _as_bool(in_unit_interval).all()
                else ""
            )
            raise AnalyzerInputError(
                f"{what} of a BinaryClassification must be 0/1 or true/false, found {', '.join(shown)}"
                f"{hint}; or pass --positive-label to name the positive class"
            )
        return numbers == 1.0
    positive = positive_label.strip()
    by_text = _as_bool(pc.equal(pc.utf8_lower(_trimmed(values)), positive.lower()))
    positive_number = label_numbers(pa.array([positive]))[0]
    if np.isnan(positive_number):
        return by_text
    return by_text | (numbers == positive_number)


def check_positive_label_occurs(
    columns: Sequence[tuple[str, pa.Array, np.ndarray]], *, positive_label: str
) -> None:
    """Refuse label columns that cannot be in the positive label's vocabulary.

    ``columns`` are (what, values, positive mask) of the ground-truth labels and, unless they
    come from a probability threshold, the predicted labels. A column without a single positive
    value is legitimate when it holds one value that the other column also holds (a window with
    no positive case, or a model that predicted none); with two or more different values, or a
    value the other column never has, the positive label is not spelled as in the data and every
    metric would silently be zero.
    """
    keys = [pc.utf8_lower(label_text(values)) for _, values, _ in columns]
    for index, (what, values, positive) in enumerate(columns):
        if positive.any() or len(values) == 0:
            continue
        found = _distinct(keys[index])
        others = [k for i, k in enumerate(keys) if i != index and len(k)]
        foreign = bool(others) and not _as_bool(pc.is_in(keys[index], value_set=pc.unique(others[0]))).any()
        if len(found) >= 2 or foreign:
            raise AnalyzerInputError(
                f"no {what} equals the positive label {positive_label!r} (found {', '.join(found)}): set "
                "--positive-label to the positive class as the labels and predictions write it"
            )


def float_values(values: pa.Array, *, what: str) -> np.ndarray:
    """Numbers (written in any usual spelling) as float64; anything else is an input error naming ``what``."""
    trimmed = _trimmed(values)
    numeric = _as_bool(
        pc.or_(
            pc.match_substring_regex(trimmed, _NUMBER),
            pc.match_substring_regex(trimmed, _NON_FINITE, ignore_case=True),
        )
    )
    if not numeric.all():
        found = pc.filter(values, pa.array(~numeric))[0].as_py()
        raise AnalyzerInputError(f"{what} must be numbers, found {found!r}")
    out = pc.cast(trimmed, pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(out)
    if not finite.all():
        found = pc.filter(values, pa.array(~finite))[0].as_py()
        raise AnalyzerInputError(f"{what} must be finite numbers, found {found!r}")
    return out


def _squarable(values: np.ndarray, *, what: str) -> np.ndarray:
    """``values`` when the squared errors of ``len(values)`` rows, and their squares (the standard error
    of the MSE), add up without overflow (below about 1e75 for a million rows); else an input error:
    MSE, RMSE and R2 would be infinite, which no statistics.json can hold."""
    limit = (np.finfo(np.float64).max / (16.0 * max(len(values), 1))) ** 0.25 / 2
    if values.size and (largest := float(np.max(np.abs(values)))) >= limit:
        raise AnalyzerInputError(
            f"{what} reach {largest:.4g}: a regression's squared errors would overflow (values must stay below "
            f"{limit:.3g} in magnitude for {len(values)} rows); check the model's output or the attribute named"
        )
    return values


def probability_values(values: pa.Array) -> np.ndarray:
    """Probabilities as float64, each in [0, 1]; a value outside is an input error (a margin or logit
    given as probability would make the threshold and the curves meaningless)."""
    scores = float_values(values, what="probability attribute values")
    outside = scores[(scores < 0.0) | (scores > 1.0)]
    if outside.size:
        raise AnalyzerInputError(
            f"probability attribute values must lie in [0, 1]; {outside.size} do not (e.g. {outside[0]!r}):"
            " point --probability-attribute at a probability, not a score or logit"
        )
    return scores


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """How predictions and labels are read and turned into metrics."""

    problem_type: mq.ProblemType
    inference_attribute: str | None
    probability_attribute: str | None
    probability_threshold: float | None
    ground_truth_attribute: str | None
    positive_label: str | None


def _settings(args: argparse.Namespace, *, require_ground_truth_attribute: bool) -> ModelSettings:
    problem_type = getattr(args, "problem_type", None)
    if not problem_type:
        raise AnalyzerInputError(f"--problem-type is required: one of {', '.join(PROBLEM_TYPES)}")
    try:
        kind = mq.ProblemType(problem_type)
    except ValueError:
        raise AnalyzerInputError(
            f"--problem-type {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}"
        ) from None
    threshold = getattr(args, "probability_threshold", None)
    probability = getattr(args, "probability_attribute", None) or None
    inference = getattr(args, "inference_attribute", None) or None
    if threshold is not None:
        threshold = checked_number(float(threshold), name="--probability-threshold")
        if kind is not mq.ProblemType.BINARY_CLASSIFICATION:
            raise AnalyzerInputError("--probability-threshold only applies to BinaryClassification")
        if probability is None:
            raise AnalyzerInputError(
                "--probability-threshold needs --probability-attribute to threshold"
            )
    if inference is None and threshold is None:
        raise AnalyzerInputError(
            "--inference-attribute is required (or a probability attribute and threshold)"
        )
    ground_truth = getattr(args, "ground_truth_attribute", None) or None
    if require_ground_truth_attribute and ground_truth is None:
        raise AnalyzerInputError("--ground-truth-attribute is required: the column that holds the label")
    return ModelSettings(
        problem_type=kind,
        inference_attribute=inference,
        probability_attribute=probability,
        probability_threshold=threshold,
        ground_truth_attribute=ground_truth,
        positive_label=getattr(args, "positive_label", None),
    )


def complete_rows(rows: LabelledColumns) -> tuple[LabelledColumns, int]:
    """The rows whose label, prediction and probability are all present, and how many were not."""
    gaps = missing_values(rows.labels) | missing_values(rows.predictions)
    if rows.probabilities is not None:
        gaps |= missing_values(rows.probabilities)
    if not gaps.any():
        return rows, 0
    keep = pa.array(~gaps)
    complete = LabelledColumns(
        predictions=pc.filter(rows.predictions, keep),
        probabilities=None if rows.probabilities is None else pc.filter(rows.probabilities, keep),
        labels=pc.filter(rows.labels, keep),
    )
    return complete, int(gaps.sum())


@dataclass(frozen=True)
class WindowMetrics:
    """A window's (or baseline's) metrics, each metric's standard error at its size, and the metrics it
    cannot compute with the reasons."""

    metrics: dict[str, mq.MetricEntry]
    errors: dict[str, float]
    not_computable: dict[str, str]


def measure(settings: ModelSettings, rows: LabelledColumns) -> WindowMetrics:
    """``compute_metrics`` with the standard errors and what is not computable (``checks.quality_decision``)."""
    kind = settings.problem_type
    if kind is mq.ProblemType.REGRESSION:
        actual = _squarable(float_values(rows.labels, what="ground-truth values"), what="ground-truth values")
        predicted = _squarable(float_values(rows.predictions, what="inference values"), what="inference values")
        metrics = mq.regression_metrics(actual, predicted)
        return WindowMetrics(metrics, qd.standard_errors(kind, metrics, actual=actual, predicted=predicted),
                             qd.not_computable(kind, metrics, ground_truth_varies=bool(np.ptp(actual) > 0)))
    metrics = compute_metrics(settings, rows)
    return WindowMetrics(metrics, qd.standard_errors(kind, metrics), qd.not_computable(kind, metrics))


def compute_metrics(settings: ModelSettings, rows: LabelledColumns) -> dict[str, mq.MetricEntry]:
    """All metrics of ``settings.problem_type`` from complete rows (see the module docstring)."""
    kind = settings.problem_type
    if kind is mq.ProblemType.REGRESSION:
        return mq.regression_metrics(
            _squarable(float_values(rows.labels, what="ground-truth values"), what="ground-truth values"),
            _squarable(float_values(rows.predictions, what="inference values"), what="inference values"),
        )
    if kind is mq.ProblemType.BINARY_CLASSIFICATION:
        positive_label = settings.positive_label
        actual = binary_values(rows.labels, positive_label=positive_label, what="ground-truth labels")
        scores = None if rows.probabilities is None else probability_values(rows.probabilities)
        checked = [("ground-truth label", rows.labels, actual)]
        if settings.probability_threshold is not None:
            assert scores is not None
            predicted = scores > settings.probability_threshold
        else:
            predicted = binary_values(rows.predictions, positive_label=positive_label, what="predicted labels")
            checked.append(("predicted label", rows.predictions, predicted))
        if positive_label is not None:
            check_positive_label_occurs(checked, positive_label=positive_label)
        return mq.binary_classification_metrics(
            actual, predicted, predicted.astype(np.float64) if scores is None else scores
        )
    actual_text = label_text(rows.labels)
    predicted_text = label_text(rows.predictions)
    classes = _class_order(actual_text, predicted_text)
    if len(classes) > MAX_CLASSES:
        raise AnalyzerInputError(
            f"a MulticlassClassification with {len(classes):,} classes among its labels and predictions (e.g. "
            f"{', '.join(repr(c) for c in classes[:3])}), more than the {MAX_CLASSES} this analyzer judges: its "
            f"confusion matrix would have {len(classes) ** 2:,} cells. Is it a Regression (--problem-type Regression), "
            "or are the attributes pointing at the wrong field?"
        )
    return mq.multiclass_classification_metrics(actual_text, predicted_text, classes)


def _class_order(*groups: pa.Array) -> list[str]:
    """Classes sorted numerically when all are integers, else as text."""
    classes = set().union(*(pc.unique(group).to_pylist() for group in groups))
    if all(re.fullmatch(r"-?\d+", c) for c in classes):
        return sorted(classes, key=int)
    return sorted(classes)


# --------------------------------------------------------------------------------------------
# Baseline dataset
# --------------------------------------------------------------------------------------------

DATASET_FORMATS = {"csv": DatasetFormat.CSV, "jsonl": DatasetFormat.JSON, "json": DatasetFormat.JSON,
                   "parquet": DatasetFormat.PARQUET}  # fmt: skip


def _column_name(names: Sequence[str], attribute: str, what: str, path: Path) -> str:
    """The column ``attribute`` names: a column name, else a 0-based column index."""
    if attribute in names:
        return attribute
    if attribute.strip().isdigit() and int(attribute) < len(names):
        return names[int(attribute)]
    raise AnalyzerInputError(
        f"{what} {attribute!r} is not a column; columns: {', '.join(names)}", path=str(path)
    )


def _text(column: pa.Array) -> pa.Array:
    """A column as text (CSV columns already are; JSON and Parquet ones may be numbers or booleans)."""
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
) -> dict[str, pa.Array]:
    """The values of each named attribute of a dataset as text columns (None attributes are skipped).

    The dataset is read by ``io.datasets`` (CSV, JSON Lines, Parquet). Attributes are column names
    (nested JSON members as ``a.b``) or 0-based column indices, the only choice for a CSV file
    without a header. Malformed rows are counted in ``problems`` and skipped. ``progress``
    (default: none) is told the rows read.
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
        names = batch.schema.names
        for what, attribute in wanted.items():
            chunks[what].append(_text(batch.column(_column_name(names, attribute, what, path))))
    progress.finish(rows)
    problems.check()
    return {
        what: pa.concat_arrays(parts) if parts else pa.array([], pa.string()) for what, parts in chunks.items()
    }


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


BASELINE_FILES = (report.STATISTICS_FILE, report.CONSTRAINTS_FILE, html_report.REPORT_FILE)
MONITOR_FILES = (*BASELINE_FILES, report.VIOLATIONS_FILE)
MERGE_FOLDER = "merge"  # the merged records, under the output folder unless --merged-output


def _overwrite(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "overwrite", False))


def _claim_monitor_output(args: argparse.Namespace, output: Path) -> OutputClaim:
    """The monitor run's output folder, its metric lines and merged records (``jobs.outputs``)."""
    writes: list[Path | str] = list(MONITOR_FILES)
    metrics_dir = getattr(args, "cloudwatch_metrics_dir", None)
    if metrics_dir is not None:
        writes.append(Path(metrics_dir).absolute() / report.METRICS_FILE)
    merged_output = getattr(args, "merged_output", None)
    if getattr(args, "merged", None) is None:  # earlier runs' part files are replaced, nothing else there
        writes.extend(merged_record_files((Path(merged_output) if merged_output else output / MERGE_FOLDER).absolute()))
    inputs = [getattr(args, name, None) for name in ("capture", "ground_truth", "merged", "constraints")]
    claim = claim_output(output, writes=writes, inputs=[Path(p) for p in inputs if p is not None],
                         overwrite=_overwrite(args))
    if merged_output:
        claim_output(Path(merged_output), writes=(), inputs=[Path(p) for p in inputs if p is not None],
                     overwrite=True, option="--merged-output")
    return claim


def _output_dir(args: argparse.Namespace) -> Path:
    output = getattr(args, "output", None)
    if output is None:
        raise AnalyzerInputError("--output is required: the folder for the report files")
    return Path(output)


def run_baseline(args: argparse.Namespace) -> RunOutcome:
    """Baseline statistics.json and constraints.json from a labelled dataset."""
    settings = _settings(args, require_ground_truth_attribute=True)
    dataset = getattr(args, "dataset", None)
    if dataset is None:
        raise AnalyzerInputError(
            "--dataset is required: a CSV or JSON Lines file with predictions and labels"
        )
    output = _output_dir(args)
    claim = claim_output(output, writes=BASELINE_FILES, inputs=(Path(dataset),), overwrite=_overwrite(args))
    format_name = getattr(args, "dataset_format", None)
    problems = _problems(args)
    columns = read_baseline_columns(
        Path(dataset),
        {
            "inference attribute": settings.inference_attribute,
            "probability attribute": settings.probability_attribute,
            "ground-truth attribute": settings.ground_truth_attribute,
        },
        dataset_format=DATASET_FORMATS[format_name] if format_name else None,
        header=not getattr(args, "no_header", False),
        problems=problems,
        progress=ProgressReporter(enabled=getattr(args, "progress", False)),
    )
    rows, skipped = complete_rows(
        LabelledColumns(
            predictions=columns.get("inference attribute", columns.get("probability attribute")),
            probabilities=columns.get("probability attribute"),
            labels=columns["ground-truth attribute"],
        )
    )
    if not len(rows.labels):
        raise AnalyzerInputError(
            "the baseline dataset has no row with both a prediction and a label", path=str(dataset)
        )
    measured = measure(settings, rows)
    metrics = measured.metrics
    if measured.not_computable:
        raise AnalyzerInputError(
            "the baseline dataset cannot give every metric a value: "
            + "; ".join(f"{name}: {reason}" for name, reason in sorted(measured.not_computable.items()))
            + "; use validation data with both classes labelled and predicted", path=str(dataset))
    comparison = getattr(args, "comparison", None) or qd.SIGNIFICANCE
    decision = qd.QualityDecision(comparison=comparison, baseline_size=len(rows.labels))
    claim.clear()
    files = (
        report.write_jackson_json(
            output / report.STATISTICS_FILE,
            report.statistics_document(settings.problem_type, metrics, item_count=len(rows.labels)),
        ),
        report.write_jackson_json(
            output / report.CONSTRAINTS_FILE,
            report.constraints_document(
                settings.problem_type,
                mq.suggest_constraints(settings.problem_type, metrics, margin=_threshold_margin(args)),
                baseline_errors=measured.errors if comparison == qd.SIGNIFICANCE else None,
                decision=qd.decision_document(decision) if comparison == qd.SIGNIFICANCE else None,
            ),
        ),
    )
    files += (html_report.write_baseline_report_from_files(output, records=len(rows.labels)),)
    summary: dict[str, object] = {"item_count": len(rows.labels), "rows_without_values": skipped}
    if problems.bad:
        summary["malformed_records"] = problems.bad
    return RunOutcome.finished(violations=0, output_dir=output, files=files, summary=summary)


@dataclass(frozen=True)
class QualityConstraints:
    """A model-quality constraints.json: its constraints, how they are judged, the baseline's standard errors."""

    constraints: list[mq.MetricConstraint]
    decision: qd.QualityDecision
    baseline_errors: dict[str, float]


def read_quality_constraints(path: Path, problem_type: mq.ProblemType) -> QualityConstraints:
    """``read_constraints`` with the file's ``monitoring_config`` and ``baseline_standard_error`` values."""
    constraints = read_constraints(path, problem_type)
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
    return QualityConstraints(constraints, decision, errors)


def read_constraints(path: Path, problem_type: mq.ProblemType) -> list[mq.MetricConstraint]:
    """The constraints of ``problem_type`` in a model-quality constraints.json."""
    document = load_json(path, what="model-quality constraints.json")
    if isinstance(document, dict):
        expect_document(document, DocumentKind.MODEL_QUALITY_CONSTRAINTS, path=str(path), option="--constraints")
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


def _metric_timestamp(args: argparse.Namespace, start: datetime | None, now: datetime) -> str:
    moment = metric_time(getattr(args, "metric_time", None)) or start or now
    return format_timestamp(moment)


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
    window_size: int,
) -> qd.QualityVerdict:
    """The window's verdict on the baseline constraints (no violation without constraints)."""
    metrics = measured.metrics
    if constraints is None:
        return qd.QualityVerdict(violations=(), not_computable=measured.not_computable, p_values={})
    try:
        return qd.decide(metrics, constraints.constraints, constraints.decision, errors=measured.errors,
                         baseline_errors=constraints.baseline_errors, window_size=window_size,
                         skipped=measured.not_computable)
    except KeyError as error:
        scalar_names = ", ".join(n for n, e in metrics.items() if isinstance(e, mq.MetricValue))
        raise AnalyzerInputError(
            f"constraint on unknown metric {error.args[0]!r}; {kind.value} metrics are {scalar_names}",
            path=str(constraints_path),
        ) from None


def run_monitor(args: argparse.Namespace) -> RunOutcome:
    """One monitoring window: merge, metrics, constraint check, reports (see the module docstring)."""
    staged: list[merge.MergedRecordsWriter] = []
    with _without_cycle_collection():
        try:
            return _monitor(args, staged)
        except BaseException:
            for writer in staged:
                writer.discard()  # a run that fails leaves no merged records
            raise


def _monitor(args: argparse.Namespace, staged: list[merge.MergedRecordsWriter]) -> RunOutcome:
    settings = _settings(args, require_ground_truth_attribute=False)
    output = _output_dir(args)
    window = time_window(getattr(args, "start", None), getattr(args, "end", None))
    start, end = window.start, window.end
    claim = _claim_monitor_output(args, output)
    constraints_path = getattr(args, "constraints", None)
    constraints = (read_quality_constraints(Path(constraints_path), settings.problem_type)
                   if constraints_path is not None else None)
    lookback = parse_duration(getattr(args, "ground_truth_lookback", None) or "PT0H")
    now = datetime.now(UTC)
    metric_timestamp = _metric_timestamp(args, start, now)  # a bad --metric-time fails before any write
    files: list[Path] = []

    problems = _problems(args)
    progress = ProgressReporter(enabled=getattr(args, "progress", False))
    attributes = merge.ValueAttributes(
        inference_attribute=settings.inference_attribute or settings.probability_attribute,
        probability_attribute=settings.probability_attribute,
        ground_truth_attribute=settings.ground_truth_attribute,
    )
    merged_source = getattr(args, "merged", None)
    if merged_source is not None:
        records = list(progress.counted(
            merge.read_merged_records(Path(merged_source), since=start, until=end, problems=problems)))
        problems.check()
        join: dict[str, int] = {"matched": len(records)}
        columns = merge.labelled_columns(records, attributes)
    else:
        capture, ground_truth = getattr(args, "capture", None), getattr(args, "ground_truth", None)
        if capture is None or ground_truth is None:
            raise AnalyzerInputError(
                "--capture and --ground-truth are required (or --merged for merged records)"
            )
        captures = progress.counted(merge.read_capture_records(
            Path(capture), since=reach_back(start, lookback), until=end, problems=problems
        ))
        labels = read_ground_truth(Path(ground_truth), uploaded_from=start, uploaded_before=end, problems=problems)
        window_join = merge.WindowJoin(labels)
        builder = merge.LabelledColumnsBuilder()
        writer = merge.MergedRecordsWriter(Path(getattr(args, "merged_output", None) or output / MERGE_FOLDER))
        staged.append(writer)  # published once the run has succeeded
        with writer:
            for capture_record, label in window_join.matches(captures):
                writer.write(capture_record.raw, label.record)
                builder.add(capture_record, label)
            problems.check()
        join = window_join.summary.as_dict()
        columns = builder.columns(attributes)
    rows, skipped = complete_rows(columns)
    item_count = len(rows.labels)
    summary: dict[str, object] = {**join, "item_count": item_count, "rows_without_values": skipped}
    if problems.bad:
        summary["malformed_records"] = problems.bad
    hint = None if merged_source is not None else label_window_hint(start=start, end=end, lookback=lookback, join=join)

    def replace_earlier_outputs() -> None:
        claim.clear()
        for writer in staged:
            published = writer.publish()
            if published is not None:
                files.append(published)

    if not item_count:
        replace_earlier_outputs()
        return RunOutcome(
            status=RunStatus.NO_DATA,
            message=no_labelled_data_message(
                merged=merged_source is not None, join=join, hint=hint, malformed=problems.bad,
                first_problem=problems.examples[0].describe() if problems.examples else None),
            output_dir=output,
            files=(*files, html_report.write_no_data_report(output, join=join, window=(start, end))),
            summary=summary,
        )

    if join.get("captures_sharing_an_id"):
        print(f"note: {join['captures_sharing_an_id']} of {join.get('matched', 0)} matched captures share their "
              "inference id with an earlier capture, and each is judged against the one label of that id: send a "
              "unique InferenceId with every request (InvokeEndpoint's InferenceId)", file=sys.stderr, flush=True)
    if hint is not None and few_labels(join):
        print(f"note: few labels matched ({join.get('matched', 0)}): {hint}", file=sys.stderr, flush=True)
    measured = measure(settings, rows)
    metrics = measured.metrics
    kind = settings.problem_type
    verdict = _verdict(measured, constraints, kind, constraints_path, item_count)
    violations = list(verdict.violations)
    if verdict.not_computable:
        summary["not_computable"] = dict(sorted(verdict.not_computable.items()))
        print("note: not computable in this window, so not judged nor published: " + "; ".join(
            f"{name} ({reason})" for name, reason in sorted(verdict.not_computable.items())), file=sys.stderr, flush=True)
    replace_earlier_outputs()
    files.append(
        report.write_jackson_json(
            output / report.STATISTICS_FILE,
            report.statistics_document(kind, metrics, item_count=item_count, evaluation_time=now),
        )
    )
    files.append(
        report.write_jackson_json(
            output / report.CONSTRAINTS_FILE,
            report.constraints_document(kind, mq.suggest_constraints(kind, metrics)),
        )
    )
    if constraints is not None:
        files.append(
            report.write_jackson_json(output / report.VIOLATIONS_FILE, report.violations_document(violations))
        )
    metrics_dir = getattr(args, "cloudwatch_metrics_dir", None)
    if metrics_dir is not None:
        judged = ([c.metric for c in constraints.constraints if c.metric not in verdict.not_computable]
                  if constraints is not None and constraints.decision.comparison == qd.SIGNIFICANCE else [])
        lines = report.cloudwatch_metric_records(
            metrics,
            timestamp=metric_timestamp,
            endpoint_name=getattr(args, "endpoint_name", None),
            schedule_name=getattr(args, "schedule_name", None),
            leave_out=frozenset(verdict.not_computable),
            verdicts={name: any(v.metric == name for v in violations) for name in judged},
        )
        files.append(report.write_cloudwatch_metrics(Path(metrics_dir), lines))

    files.append(html_report.write_window_report_from_files(
        output, constraints=Path(constraints_path) if constraints_path is not None else None, join=join,
        window=(start, end), records=item_count, not_computable=verdict.not_computable))
    summary["violations"] = len(violations)
    return RunOutcome.finished(violations=len(violations), output_dir=output, files=tuple(files), summary=summary)
