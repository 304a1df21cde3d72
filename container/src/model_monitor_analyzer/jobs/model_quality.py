"""Model-quality runs: a baseline from a labelled dataset, and a monitoring run over captured data.

Baseline: read the prediction, probability and label columns of a CSV (with header) or JSON Lines
dataset, compute every metric of the problem type, write statistics.json and constraints.json
(thresholds = baseline values).

Monitor: take the ground-truth labels uploaded in the window [start, end), join them with the
captures of [start - lookback, end) (labels arrive late: the look-back finds the inferences they
belong to; with look-back 0 this is the built-in's pairing of the same hours), write the merged
records in the merge job's format, compute the metrics, compare them with the baseline
constraints and write statistics.json, constraints.json, constraint_violations.json and the
CloudWatch metric lines. A window whose captures have no label yet is ``NoData``, not a failure.

Values are decided explicitly (each an AnalyzerInputError naming the attribute and the fix):
binary labels are 0/1 (numbers, numeric text or true/false) unless ``--positive-label`` names
the positive class; probabilities must lie in [0, 1]; regression values must be numbers. Rows
whose label or prediction is empty are skipped and counted.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jmespath
import jmespath.exceptions
import numpy as np

from model_monitor_analyzer.checks import model_quality as mq
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import merge
from model_monitor_analyzer.io.ground_truth import read_ground_truth
from model_monitor_analyzer.io.jsonlines import iter_json_lines
from model_monitor_analyzer.io.window import parse_duration
from model_monitor_analyzer.jobs.outcome import RunOutcome, RunStatus
from model_monitor_analyzer.report import model_quality as report

PROBLEM_TYPES = [p.value for p in mq.ProblemType]
_TRUE_TEXT = {"1", "true"}
_FALSE_TEXT = {"0", "false"}


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def _add(parser: argparse.ArgumentParser, *flags: str, **options: object) -> None:
    """Add an option unless the CLI (or another monitor type) already defined it."""
    if any(flag in parser._option_string_actions for flag in flags):
        return
    parser.add_argument(*flags, **options)  # type: ignore[arg-type]


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
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


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``baseline --type model-quality``."""
    _add(parser, "--dataset", type=Path, help="CSV (with header) or JSON Lines file, or a folder of them")
    _add(parser, "--dataset-format", choices=["csv", "jsonl"], help="default: from the file extension")
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
    _add(parser, "--metrics-dir", "--cloudwatch-metrics-dir", dest="cloudwatch_metrics_dir", type=Path,
         help="write CloudWatch metric lines to this folder")
    _add(parser, "--endpoint", "--endpoint-name", dest="endpoint_name", help="Endpoint dimension of the metrics")
    _add(parser, "--schedule", "--schedule-name", dest="schedule_name",
         help="MonitoringSchedule dimension of the metrics")
    _add(parser, "--metric-time", help="timestamp of the metrics (default: --start, else now)")
    _add_model_arguments(parser)


# --------------------------------------------------------------------------------------------
# Value conversion (the explicit decisions on label types, probabilities, missing values)
# --------------------------------------------------------------------------------------------


def _time(value: object, what: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return merge.parse_time(str(value))
    except ValueError:
        raise AnalyzerInputError(
            f"{what} {value!r} is not an ISO-8601 time such as 2024-05-01T10:00:00Z"
        ) from None


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def label_text(value: object) -> str:
    """A label as text that compares equal across CSV and JSON: ``1``, ``1.0``, ``"1"`` -> ``"1"``.

    Booleans become ``true``/``false``; integral numbers (or numeric text) lose their ``.0``;
    other text is stripped of surrounding spaces.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer() and re.fullmatch(r"[-+]?\d+(\.0*)?", text):
        return str(int(number))
    return text


def binary_values(values: Sequence[object], *, positive_label: str | None, what: str) -> np.ndarray:
    """True for the positive class: ``label_text(v) == positive_label``, or 1/true by default.

    Without a positive label every value must be 0/1/true/false: anything else is an input
    error (a probability given as the inference attribute is the usual cause).
    """
    texts = [label_text(v).lower() for v in values]
    if positive_label is not None:
        positive = label_text(positive_label).lower()
        return np.fromiter((t == positive for t in texts), dtype=bool, count=len(texts))
    unexpected = sorted({t for t in texts if t not in _TRUE_TEXT | _FALSE_TEXT})
    if unexpected:
        hint = (
            " (these look like probabilities: pass --probability-attribute and --probability-threshold)"
            if all(_looks_like_probability(t) for t in unexpected)
            else ""
        )
        raise AnalyzerInputError(
            f"{what} of a BinaryClassification must be 0/1 or true/false, found {', '.join(unexpected[:3])}"
            f"{hint}; or pass --positive-label to name the positive class"
        )
    return np.fromiter((t in _TRUE_TEXT for t in texts), dtype=bool, count=len(texts))


def _looks_like_probability(text: str) -> bool:
    try:
        return 0.0 <= float(text) <= 1.0
    except ValueError:
        return False


def float_values(values: Sequence[object], *, what: str) -> np.ndarray:
    """Numbers (or numeric text) as float64; anything else is an input error naming ``what``."""
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        try:
            if isinstance(value, bool):
                raise ValueError
            out[i] = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise AnalyzerInputError(f"{what} must be numbers, found {value!r}") from None
        if not math.isfinite(out[i]):
            raise AnalyzerInputError(f"{what} must be finite numbers, found {value!r}")
    return out


def probability_values(values: Sequence[object]) -> np.ndarray:
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
            f"problem type {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}"
        ) from None
    threshold = getattr(args, "probability_threshold", None)
    probability = getattr(args, "probability_attribute", None) or None
    inference = getattr(args, "inference_attribute", None) or None
    if threshold is not None:
        threshold = float(threshold)
        if kind is not mq.ProblemType.BINARY_CLASSIFICATION:
            raise AnalyzerInputError("--probability-threshold only applies to BinaryClassification")
        if probability is None:
            raise AnalyzerInputError("--probability-threshold needs --probability-attribute to threshold")
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


def _complete_rows(
    predictions: Sequence[object], probabilities: Sequence[object] | None, labels: Sequence[object]
) -> tuple[list[object], list[object] | None, list[object], int]:
    keep = [
        i
        for i in range(len(labels))
        if not _is_missing(labels[i])
        and not _is_missing(predictions[i])
        and (probabilities is None or not _is_missing(probabilities[i]))
    ]
    return (
        [predictions[i] for i in keep],
        None if probabilities is None else [probabilities[i] for i in keep],
        [labels[i] for i in keep],
        len(labels) - len(keep),
    )


def compute_metrics(
    settings: ModelSettings,
    predictions: Sequence[object],
    probabilities: Sequence[object] | None,
    labels: Sequence[object],
) -> dict[str, mq.MetricEntry]:
    """All metrics of ``settings.problem_type`` from row-aligned raw values (see the module docstring)."""
    kind = settings.problem_type
    if kind is mq.ProblemType.REGRESSION:
        return mq.regression_metrics(
            float_values(labels, what="ground-truth values"),
            float_values(predictions, what="inference values"),
        )
    if kind is mq.ProblemType.BINARY_CLASSIFICATION:
        actual = binary_values(labels, positive_label=settings.positive_label, what="ground-truth labels")
        scores = None if probabilities is None else probability_values(probabilities)
        if settings.probability_threshold is not None:
            assert scores is not None
            predicted = scores > settings.probability_threshold
        else:
            predicted = binary_values(
                predictions, positive_label=settings.positive_label, what="predicted labels"
            )
        return mq.binary_classification_metrics(
            actual, predicted, predicted.astype(np.float64) if scores is None else scores
        )
    actual_text = [label_text(v) for v in labels]
    predicted_text = [label_text(v) for v in predictions]
    return mq.multiclass_classification_metrics(
        actual_text, predicted_text, _class_order(actual_text, predicted_text)
    )


def _class_order(*groups: Sequence[str]) -> list[str]:
    """Classes sorted numerically when all are integers, else as text."""
    classes = set().union(*groups)
    if all(re.fullmatch(r"-?\d+", c) for c in classes):
        return sorted(classes, key=int)
    return sorted(classes)


# --------------------------------------------------------------------------------------------
# Baseline dataset
# --------------------------------------------------------------------------------------------


def _dataset_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".jsonl", ".json")
        )
        if files:
            return files
    raise AnalyzerInputError(
        "baseline dataset not found: pass a CSV or JSON Lines file or folder", path=str(path)
    )


def _column(header: list[str], attribute: str, what: str, path: Path) -> int:
    if attribute in header:
        return header.index(attribute)
    if attribute.strip().isdigit() and int(attribute) < len(header):
        return int(attribute)
    raise AnalyzerInputError(
        f"{what} {attribute!r} is not a column; columns: {', '.join(header)}", path=str(path)
    )


def read_baseline_columns(
    path: Path, attributes: dict[str, str | None], *, dataset_format: str | None, header: bool
) -> dict[str, list[object]]:
    """The values of each named attribute in a CSV or JSON Lines dataset (None attributes are skipped).

    CSV: attributes are header names (or 0-based indices, the only choice without a header).
    JSON Lines: attributes are member names or JMESPath expressions evaluated per line.
    """
    columns: dict[str, list[object]] = {what: [] for what, a in attributes.items() if a is not None}
    for file in _dataset_files(path):
        kind = dataset_format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
        if kind == "csv":
            with file.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                first = next(reader, None)
                if first is None:
                    continue
                names = first if header else [str(i) for i in range(len(first))]
                index = {
                    what: _column(names, a, what, file) for what, a in attributes.items() if a is not None
                }
                rows = reader if header else [first, *reader]
                for number, row in enumerate(rows, start=2 if header else 1):
                    if not row:
                        continue
                    for what, i in index.items():
                        if i >= len(row):
                            raise AnalyzerInputError(
                                f"row has no column for the {what}", path=str(file), line=number
                            )
                        columns[what].append(row[i])
        else:
            for number, record in iter_json_lines(file):
                for what, attribute in attributes.items():
                    if attribute is None:
                        continue
                    if isinstance(record, dict) and attribute in record:
                        columns[what].append(record[attribute])
                        continue
                    try:
                        columns[what].append(jmespath.search(attribute, record))
                    except jmespath.exceptions.JMESPathError:
                        raise AnalyzerInputError(
                            f"{what} {attribute!r} is neither a member nor a JMESPath expression",
                            path=str(file),
                            line=number,
                        ) from None
    return columns


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


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
    columns = read_baseline_columns(
        Path(dataset),
        {
            "inference attribute": settings.inference_attribute,
            "probability attribute": settings.probability_attribute,
            "ground-truth attribute": settings.ground_truth_attribute,
        },
        dataset_format=getattr(args, "dataset_format", None),
        header=not getattr(args, "no_header", False),
    )
    labels = columns["ground-truth attribute"]
    predictions = columns.get("inference attribute") or columns["probability attribute"]
    predictions, probabilities, labels, skipped = _complete_rows(
        predictions, columns.get("probability attribute"), labels
    )
    if not labels:
        raise AnalyzerInputError(
            "the baseline dataset has no row with both a prediction and a label", path=str(dataset)
        )
    metrics = compute_metrics(settings, predictions, probabilities, labels)
    files = (
        report.write_jackson_json(
            output / report.STATISTICS_FILE,
            report.statistics_document(settings.problem_type, metrics, item_count=len(labels)),
        ),
        report.write_jackson_json(
            output / report.CONSTRAINTS_FILE,
            report.constraints_document(
                settings.problem_type,
                mq.suggest_constraints(settings.problem_type, metrics, margin=_threshold_margin(args)),
            ),
        ),
    )
    return RunOutcome.finished(violations=0, output_dir=output, files=files,
                               summary={"item_count": len(labels), "rows_without_values": skipped})


def read_constraints(path: Path, problem_type: mq.ProblemType) -> list[mq.MetricConstraint]:
    """The constraints of ``problem_type`` in a model-quality constraints.json."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnalyzerInputError("constraints file not found", path=str(path)) from None
    except json.JSONDecodeError as error:
        raise AnalyzerInputError(f"constraints file is not JSON ({error.msg})", path=str(path)) from None
    section_name = report.CONSTRAINTS_SECTION[problem_type]
    section = document.get(section_name) if isinstance(document, dict) else None
    if not isinstance(section, dict):
        raise AnalyzerInputError(
            f"no {section_name} section: is this the constraints.json of a {problem_type.value} baseline?",
            path=str(path),
        )
    constraints = []
    for metric, spec in section.items():
        try:
            operator = mq.ComparisonOperator(spec["comparison_operator"])
            threshold = float(spec["threshold"])
        except (KeyError, TypeError, ValueError):
            known = ", ".join(o.value for o in mq.ComparisonOperator)
            raise AnalyzerInputError(
                f"constraint {metric!r} needs a numeric threshold and a comparison_operator among {known}",
                path=str(path),
            ) from None
        constraints.append(mq.MetricConstraint(metric=metric, threshold=threshold, operator=operator))
    return constraints


def _metric_timestamp(args: argparse.Namespace, start: datetime | None, now: datetime) -> str:
    moment = _time(getattr(args, "metric_time", None), "metric time") or start or now
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_monitor(args: argparse.Namespace) -> RunOutcome:
    """One monitoring window: merge, metrics, constraint check, reports (see the module docstring)."""
    settings = _settings(args, require_ground_truth_attribute=False)
    output = _output_dir(args)
    start = _time(getattr(args, "start", None), "--start")
    end = _time(getattr(args, "end", None), "--end")
    lookback = parse_duration(getattr(args, "ground_truth_lookback", None) or "PT0H")
    now = datetime.now(UTC)
    files: list[Path] = []

    merged_source = getattr(args, "merged", None)
    if merged_source is not None:
        records = list(merge.read_merged_records(Path(merged_source), since=start, until=end))
        join = {"matched": len(records)}
    else:
        capture, ground_truth = getattr(args, "capture", None), getattr(args, "ground_truth", None)
        if capture is None or ground_truth is None:
            raise AnalyzerInputError(
                "--capture and --ground-truth are required (or --merged for merged records)"
            )
        captures = merge.read_capture_records(
            Path(capture), since=None if start is None else start - lookback, until=end
        )
        labels = read_ground_truth(Path(ground_truth), uploaded_from=start, uploaded_before=end)
        result = merge.merge_records(captures, labels)
        records = result.records
        join = result.summary.as_dict()
        merged_output = getattr(args, "merged_output", None) or output / "merge"
        if records:
            files.append(merge.write_merged_records(records, Path(merged_output)))

    rows = merge.labelled_predictions(
        records,
        inference_attribute=settings.inference_attribute or settings.probability_attribute,
        probability_attribute=settings.probability_attribute,
        ground_truth_attribute=settings.ground_truth_attribute,
    )
    predictions, probabilities, labels, skipped = _complete_rows(
        rows.predictions, rows.probabilities, rows.labels
    )
    summary: dict[str, object] = {**join, "item_count": len(labels), "rows_without_values": skipped}
    if not labels:
        waiting = join.get("captures_without_label", 0)
        orphans = join.get("labels_without_capture", 0)
        return RunOutcome(
            status=RunStatus.NO_DATA,
            message=(
                "Completed: No data to analyze: no captured inference in the window has a ground-truth label yet"
                f" ({waiting} captures without a label, {orphans} labels without a capture)."
            ),
            output_dir=output,
            files=tuple(files),
            summary=summary,
        )

    metrics = compute_metrics(settings, predictions, probabilities, labels)
    kind = settings.problem_type
    files.append(
        report.write_jackson_json(
            output / report.STATISTICS_FILE,
            report.statistics_document(kind, metrics, item_count=len(labels), evaluation_time=now),
        )
    )
    files.append(
        report.write_jackson_json(
            output / report.CONSTRAINTS_FILE,
            report.constraints_document(kind, mq.suggest_constraints(kind, metrics)),
        )
    )
    violations: list[mq.MetricViolation] = []
    constraints_path = getattr(args, "constraints", None)
    if constraints_path is not None:
        constraints = read_constraints(Path(constraints_path), kind)
        try:
            violations = mq.evaluate_constraints(metrics, constraints)
        except KeyError as error:
            scalar_names = ", ".join(n for n, e in metrics.items() if isinstance(e, mq.MetricValue))
            raise AnalyzerInputError(
                f"constraint on unknown metric {error.args[0]!r}; {kind.value} metrics are {scalar_names}",
                path=str(constraints_path),
            ) from None
        files.append(
            report.write_jackson_json(output / report.VIOLATIONS_FILE, report.violations_document(violations))
        )
    metrics_dir = getattr(args, "cloudwatch_metrics_dir", None)
    if metrics_dir is not None:
        lines = report.cloudwatch_metric_records(
            metrics,
            timestamp=_metric_timestamp(args, start, now),
            endpoint_name=getattr(args, "endpoint_name", None),
            schedule_name=getattr(args, "schedule_name", None),
        )
        files.append(report.write_cloudwatch_metrics(Path(metrics_dir), lines))

    summary["violations"] = len(violations)
    return RunOutcome.finished(violations=len(violations), output_dir=output, files=tuple(files), summary=summary)
