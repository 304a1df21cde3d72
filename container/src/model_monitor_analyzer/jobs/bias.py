"""Bias runs: a Clarify-style baseline (analysis.json) and a bias-drift monitor run.

Both read a table the way Clarify's pandas reader types it (integer, float, boolean or text
columns, missing -> NaN/None), because Clarify's choice between categorical and continuous
facets depends on those types:

* ``text/csv``: a header row, or the config's ``headers`` (a first row equal to them is skipped);
* ``application/jsonlines``: one object per line, either flat ``{column: value}`` or read
  through the config's ``features`` / ``label`` / ``predicted_label`` JMESPaths;
* ``application/json``: one document read through those JMESPaths (``instances[*].features``).

The monitor run reads the window's labelled predictions: merged records (capture joined with
ground truth, by SageMaker's merge job or ``io.merge``), captures and ground truth to join, or
a table with the features, the label and the model's predicted label (or score) columns.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jmespath
import jmespath.exceptions
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..checks.bias import (
    BiasAnalysis,
    FacetSpec,
    PlacedMetric,
    analyze_bias,
    baseline_column_kinds,
    bias_drift_violations,
    label_mismatch,
    not_computable,
    placed_metrics,
    unmatched_groups,
)
from ..checks.bias_groups import ColumnKind
from ..contract.bias import BiasAnalysisConfig, ColumnRef, read_analysis_config, resolve_column
from ..errors import AnalyzerInputError
from ..io import merge
from ..io.datasets import DatasetFormat, dataset_files, first_csv_row, header_names, read_dataset
from ..io.ground_truth import read_ground_truth
from ..io.jsonlines import iter_json_lines
from ..io.problems import InputProblems
from ..io.window import TimeWindow, format_timestamp, parse_duration, reach_back
from ..jobs.label_window import few_labels, label_window_hint, no_labelled_data_message
from ..jobs.options import (
    add_dataset_format_argument,
    add_metric_lines_arguments,
    add_overwrite_argument,
    add_quiet_argument,
    metric_lines_dir,
)
from ..jobs.requests import checked_number, metric_time, time_window
from ..report.bias import metric_lines, read_analysis, write_analysis, write_metric_lines, write_violations
from ..report.html import bias as html_report
from .outcome import RunOutcome, RunStatus
from .outputs import OutputClaim, claim_output
from .progress import ProgressReporter

ANALYSIS_FILE = "analysis.json"
VIOLATIONS_FILE = "constraint_violations.json"
METRICS_FILE = "bias_metrics.jsonl"
# The texts pandas reads as missing by default (Clarify reads datasets with pandas).
MISSING_TEXTS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
DEFAULT_PREDICTED_LABEL = "predicted_label"
# --dataset-format's short names (as the other monitor types spell them) and the config's dataset_type
DATASET_FORMATS = {"csv": "text/csv", "jsonl": "application/jsonlines", "json": "application/json"}

Columns = dict[str, np.ndarray]


# ---------------------------------------------------------------------------------------------
# Reading a dataset into typed columns


_MISSING = pa.array(sorted(MISSING_TEXTS), pa.string())
_TRUE_WORDS = pa.array(["True", "TRUE", "true"], pa.string())
_BOOLEAN_WORDS = pa.array(["True", "TRUE", "true", "False", "FALSE", "false"], pa.string())
_INTEGER_PATTERN = r"^[+-]?[0-9]+$"


def text_column(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Text cells (CSV fields, captured CSV values) as one typed array, the way pandas types them.

    All integers -> int64; numbers with a missing value or a fraction -> float64 (missing = NaN);
    all booleans (``True``/``true``/``TRUE``...) and none missing -> bool; anything else ->
    object (the texts as written, missing = None). Missing: null or one of pandas' NA texts.
    """
    size = len(texts)
    stripped = pc.utf8_trim_whitespace(texts)
    missing = _missing(stripped)
    missing_count = pc.sum(missing).as_py() or 0
    if missing_count == size:
        return np.full(size, None, dtype=object)
    present = pc.if_else(missing, pa.scalar(None, pa.string()), stripped)
    if not missing_count and pc.all(pc.is_in(stripped, value_set=_BOOLEAN_WORDS)).as_py():
        return np.asarray(pc.is_in(stripped, value_set=_TRUE_WORDS), dtype=bool)
    numbers = _numbers(present, whole_column=not missing_count)
    if numbers is not None:
        return numbers
    as_written = pc.if_else(_missing(texts), pa.scalar(None, pa.string()), texts)
    return np.asarray(as_written.to_numpy(zero_copy_only=False), dtype=object)


def _missing(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """True where a text is null or one of pandas' NA texts (``is_in`` alone says False for null)."""
    return pc.or_(pc.is_null(texts), pc.is_in(texts, value_set=_MISSING))


def _numbers(present: pa.Array | pa.ChunkedArray, *, whole_column: bool) -> np.ndarray | None:
    """The present texts as int64 (all integers, none missing) or float64, or None when some are not numbers."""
    if pc.all(pc.match_substring_regex(present, _INTEGER_PATTERN)).as_py():
        try:
            integers = pc.cast(pc.utf8_ltrim(present, characters="+"), pa.int64())
        except (pa.ArrowInvalid, OverflowError):
            integers = None  # beyond int64: read as floats, as pandas does
        if integers is not None:
            if whole_column:
                return integers.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
            return pc.cast(integers, pa.float64()).to_numpy(zero_copy_only=False)
    try:
        floats = pc.cast(present, pa.float64())
    except pa.ArrowInvalid:
        return None
    return floats.to_numpy(zero_copy_only=False)


def typed_column(values: Sequence[object]) -> np.ndarray:
    """Values (JSON scalars or texts) as one typed array, the way pandas would type them.

    Texts follow ``text_column``; JSON numbers and booleans keep their type: all integers ->
    int64, numbers with a missing value or a fraction -> float64, all booleans -> bool,
    anything else -> object (text, missing = None).
    """
    if all(v is None or isinstance(v, str) for v in values):
        return text_column(pa.array(values, pa.string()))
    parsed: list[object] = []
    for value in values:
        if isinstance(value, str):
            parsed.append(_parse_text(value))
        else:
            parsed.append(value)
    present = [v for v in parsed if v is not None]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(parsed):
        return np.array(parsed, dtype=bool)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if len(present) == len(parsed):
            return np.array(parsed, dtype=np.int64)
        return np.array([math.nan if v is None else v for v in parsed], dtype=np.float64)
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return np.array([math.nan if v is None else v for v in parsed], dtype=np.float64)
    texts = [None if v is None else (v if isinstance(v, str) else _text(v)) for v in values]
    return np.array([None if t is None or t in MISSING_TEXTS else t for t in texts], dtype=object)


def _text(value: object) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _parse_text(text: str) -> object:
    """One JSON string value typed as pandas would type a column of it (mixed JSON columns only)."""
    stripped = text.strip()
    if stripped in MISSING_TEXTS:
        return None
    if stripped in ("True", "TRUE", "true"):
        return True
    if stripped in ("False", "FALSE", "false"):
        return False
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return text


def _first_row(batch: pa.RecordBatch) -> list[str | None]:
    return [None if (cell := column[0].as_py()) is None else cell.strip() for column in batch.columns]


def _csv_file_columns(
    file: Path, names: list[str] | None, problems: InputProblems
) -> tuple[list[str], list[pa.RecordBatch]]:
    """One CSV file's batches, and the column names: ``names`` (a first row equal to them is a
    header and skipped) or, when None, the file's header row."""
    batches = [b for b in read_dataset(file, dataset_format=DatasetFormat.CSV, header=names is None, problems=problems)
               if b.num_rows]
    if names is None:
        # An empty or header-only file: the header is all there is.
        header = batches[0].schema.names if batches else _header_names(file)
        return header, batches
    if batches and batches[0].num_columns != len(names):
        raise AnalyzerInputError(
            f"row has {batches[0].num_columns} fields but there are {len(names)} columns ({', '.join(names)}): "
            'fix the row or the config\'s "headers"',
            path=str(file),
            line=1,
        )
    first = _first_row(batches[0]) if batches else None
    if first == names:
        batches[0] = batches[0].slice(1)
    elif first is not None and sorted(str(v).strip().lower() for v in first) == sorted(n.strip().lower() for n in names):
        # a header naming the config's columns in another order or case: read as data it would shift
        # every column under the wrong name
        raise AnalyzerInputError(
            f"the first row names the columns ({', '.join(map(str, first))}) in another order or case than the "
            f'config\'s "headers" ({", ".join(names)}): make "headers" list the file\'s columns as the file does, '
            'or leave "headers" out to take the names from the file',
            path=str(file), line=1)
    return names, batches


def _header_names(file: Path) -> list[str]:
    """The header's names, read as every CSV reader of the analyzer reads them."""
    first = first_csv_row(file)
    if first is None:
        raise AnalyzerInputError("the CSV dataset is empty", path=str(file))
    return header_names(first[0], path=str(file))


def read_csv_columns(
    files: Sequence[Path], headers: Sequence[str] | None, *, problems: InputProblems | None = None
) -> Columns:
    """CSV files as typed columns (``text_column``); ``headers`` name header-less files.

    Without ``headers`` the first file's header row names the columns, and a later file's first
    row is a header only when it repeats them. Rows with the wrong number of fields are counted
    in ``problems`` and skipped, up to its tolerated share.
    """
    problems = problems if problems is not None else InputProblems()
    names: list[str] | None = list(headers) if headers else None
    parts: list[pa.RecordBatch] = []
    for file in files:
        file_names, batches = _csv_file_columns(file, names, problems)
        if names is None:
            names = [n.strip() for n in file_names]
            if len(set(names)) != len(names):
                raise AnalyzerInputError(f"duplicate column names in {', '.join(names)}", path=str(files[0]))
        parts.extend(batches)
    problems.check()
    assert names is not None
    if len(set(names)) != len(names):
        raise AnalyzerInputError(f"duplicate column names in {', '.join(names)}", path=str(files[0]))
    return {
        name: text_column(pa.chunked_array([part.column(i) for part in parts], type=pa.string()))
        for i, name in enumerate(names)
    }


def jmespath_search(expression: str, document: object) -> object:
    """A JMESPath expression (``instances[*].features``) evaluated on a parsed JSON document."""
    try:
        return jmespath.search(expression, document)
    except jmespath.exceptions.JMESPathError as exc:
        raise AnalyzerInputError(f"{expression!r} is not a valid JMESPath expression ({exc})") from None


def _columns_from_paths(
    documents: Sequence[object], config: BiasAnalysisConfig, *, many_per_document: bool, path: str
) -> Columns:
    """Rows of features (a list per row) plus label / predicted label found by the config's JMESPaths."""
    assert config.features is not None
    features: list[list[object]] = []
    labels: list[object] = []
    predicted: list[object] = []
    label_path = config.label if isinstance(config.label, str) else None
    predicted_path = config.predicted_label if isinstance(config.predicted_label, str) else None
    for document in documents:
        found = jmespath_search(config.features, document)
        rows = found if many_per_document else [found]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise AnalyzerInputError(
                f'"features" {config.features!r} does not select a list of feature values', path=path
            )
        features.extend(rows)
        for target, expression in ((labels, label_path), (predicted, predicted_path)):
            if expression is None:
                continue
            value = jmespath_search(expression, document)
            values = value if many_per_document else [value]
            if not isinstance(values, list) or len(values) != len(rows):
                raise AnalyzerInputError(
                    f"JMESPath {expression!r} does not give one value per row", path=path
                )
            target.extend(values)
    width = len(features[0]) if features else 0
    if any(len(row) != width for row in features):
        raise AnalyzerInputError("rows have different numbers of features", path=path)
    headers = list(config.headers or [])
    feature_names = headers[:width] if len(headers) >= width else [f"feature_{i}" for i in range(width)]
    columns: Columns = {
        name: typed_column([row[i] for row in features]) for i, name in enumerate(feature_names)
    }
    if label_path is not None:
        label_name = headers[width] if len(headers) > width else "label"
        columns[label_name] = typed_column(labels)
    if predicted_path is not None:
        predicted_name = headers[width + 1] if len(headers) > width + 1 else DEFAULT_PREDICTED_LABEL
        columns[predicted_name] = typed_column(predicted)
    return columns


def _json_lines(files: Sequence[Path]) -> list[object]:
    return [document for file in files for _, document in iter_json_lines(file, what="line")]


def _flat_objects(documents: Sequence[object], headers: Sequence[str] | None, path: str) -> Columns:
    if documents and all(isinstance(d, list) for d in documents):
        if not headers:
            raise AnalyzerInputError(
                'JSON Lines rows are lists: give their column names in "headers"', path=path
            )
        if any(len(d) != len(headers) for d in documents):  # type: ignore[arg-type]
            raise AnalyzerInputError(
                'a JSON Lines row does not have one value per "headers" entry', path=path
            )
        return {name: typed_column([d[i] for d in documents]) for i, name in enumerate(headers)}  # type: ignore[index]
    if not all(isinstance(d, dict) for d in documents):
        raise AnalyzerInputError('JSON Lines rows must be objects, or lists with "headers"', path=path)
    names = list(headers) if headers else list(dict.fromkeys(k for d in documents for k in d))  # type: ignore[union-attr]
    return {name: typed_column([d.get(name) for d in documents]) for name in names}  # type: ignore[union-attr]


def read_bias_columns(
    path: Path,
    config: BiasAnalysisConfig,
    *,
    dataset_type: str | None = None,
    problems: InputProblems | None = None,
) -> Columns:
    """The dataset at ``path`` (file or folder) as typed columns, per the config's ``dataset_type``.

    CSV is read by ``io.datasets.read_dataset`` (bad rows counted in ``problems``); JSON Lines
    and JSON documents by ``io.jsonlines``, because their rows may be lists named by
    ``headers`` or found by JMESPath, which a table reader does not express.
    """
    files = dataset_files(path)
    kind = dataset_type or config.dataset_type
    if kind == "text/csv":
        return read_csv_columns(files, config.headers, problems=problems)
    if kind == "application/jsonlines":
        documents = _json_lines(files)
        if config.features is not None:
            return _columns_from_paths(documents, config, many_per_document=False, path=str(path))
        return _flat_objects(documents, config.headers, str(path))
    if kind == "application/json":
        if config.features is None:
            raise AnalyzerInputError(
                'an application/json dataset needs "features" (and a JMESPath "label"), e.g. "instances[*].features"',
                path=str(path),
            )
        documents = []
        for file in files:
            try:
                documents.append(json.loads(file.read_text(encoding="utf-8")))
            except json.JSONDecodeError as exc:
                raise AnalyzerInputError(f"not a JSON document: {exc}", path=str(file)) from exc
        return _columns_from_paths(documents, config, many_per_document=True, path=str(path))
    raise AnalyzerInputError(f"dataset type {kind!r} is not supported", path=str(path))


# ---------------------------------------------------------------------------------------------
# Reading merged records (capture + ground truth) into typed columns


def _feature_rows(
    kind: str, value: object, features_attribute: str | None, source: str
) -> list[list[object]]:
    """The feature rows of one captured request: CSV lines, or the rows a JMESPath selects."""
    if kind == "CSV":
        assert isinstance(value, str)
        return [row for row in csv.reader(value.splitlines()) if row and any(cell.strip() for cell in row)]
    found = jmespath_search(features_attribute, value) if features_attribute else value
    if isinstance(found, list) and found and all(isinstance(row, list) for row in found):
        return found
    if isinstance(found, list) and all(not isinstance(v, list | dict) for v in found):
        return [found]
    raise AnalyzerInputError(
        "cannot find the feature rows in the JSON request: set the features attribute (FeaturesAttribute), "
        "e.g. instances[*].features",
        path=source,
    )


def _merged_names(config: BiasAnalysisConfig, width: int) -> tuple[list[str], str]:
    """Feature column names and the label's name for captured rows of ``width`` features.

    The config's ``headers`` name the features and the label: without the label's (and the
    predicted label's) own names when ``label`` is a header, else the last header is the label's
    (Clarify's JSON Lines convention).
    """
    headers = list(config.headers or [])
    if isinstance(config.label, str) and config.label in headers:
        # The baseline dataset's columns: requests hold them less the label and the predictions.
        predicted = config.predicted_label if isinstance(config.predicted_label, str) else None
        names = [h for h in headers if h not in (config.label, predicted)]
        label_name = config.label
    elif len(headers) == width + 1:
        names, label_name = headers[:-1], headers[-1]
    else:
        names, label_name = headers, str(config.label) if isinstance(config.label, str) else "label"
    if len(names) != width:
        names = [f"_c{i}" for i in range(width)]
    return names, label_name


@dataclass(frozen=True, kw_only=True)
class LabelledTable:
    """Typed columns of labelled predictions, and which columns hold the label and the prediction."""

    columns: Columns
    label: str
    predicted_label: str


def merged_columns(
    records: Sequence[dict],
    config: BiasAnalysisConfig,
    *,
    features_attribute: str | None,
    inference_attribute: str | None,
    probability_attribute: str | None,
    probability_threshold: float | None,
) -> LabelledTable:
    """Features, label and predicted label of merged records as typed columns.

    Features come from ``captureData.endpointInput`` (CSV lines, or ``features_attribute`` in
    JSON), predicted labels from ``endpointOutput`` at ``inference_attribute``, else from the
    score at ``probability_attribute`` (1 when score > ``probability_threshold``, default 0.5),
    labels from ``groundTruthData`` (JSON: at the config's ``label`` JMESPath when it matches).
    """
    if inference_attribute is None and probability_attribute is None and len(records):
        raise AnalyzerInputError(
            "the predicted labels' location is missing: set the inference attribute (InferenceAttribute) or the "
            "probability attribute (ProbabilityAttribute)"
        )
    features: list[list[object]] = []
    labels: list[object] = []
    predicted: list[object] = []
    for record in records:
        metadata = record.get("eventMetadata") or {}
        source = f"event {metadata.get('inferenceId') or metadata.get('eventId')}"
        capture = record.get("captureData") or {}
        request = capture.get("endpointInput") or capture.get("batchTransformInput")
        response = capture.get("endpointOutput") or capture.get("batchTransformOutput")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise AnalyzerInputError(
                "record lacks captured input or output: capture both INPUT and OUTPUT on the endpoint",
                path=source,
            )
        rows = _feature_rows(*merge.decode_payload(request, source=source), features_attribute, source)
        output_kind, output = merge.decode_payload(response, source=source)
        if inference_attribute is not None:
            row_predicted = merge.read_attribute(
                output_kind, output, inference_attribute, what="inference attribute", source=source
            )
        else:
            scores = merge.read_attribute(
                output_kind, output, probability_attribute, what="probability attribute", source=source
            )
            cut = 0.5 if probability_threshold is None else probability_threshold
            try:
                row_predicted = [int(float(score) > cut) for score in scores]  # type: ignore[arg-type]
            except (TypeError, ValueError):
                shown = next((score for score in scores if score is None or not _is_number(score)), scores)
                raise AnalyzerInputError(
                    f"the probability attribute {probability_attribute!r} of the model output is {shown!r}, not a "
                    "score to cut at the probability threshold: point it at the score, or use the inference "
                    "attribute for a predicted label", path=source) from None
        truth_kind, truth = merge.decode_payload(record["groundTruthData"], source=source)
        label_path = None
        if (
            truth_kind == "JSON"
            and isinstance(config.label, str)
            and jmespath_search(config.label, truth) is not None
        ):
            label_path = config.label
        row_labels = merge.read_attribute(truth_kind, truth, label_path, what="label", source=source)
        if not len(rows) == len(row_predicted) == len(row_labels):
            raise AnalyzerInputError(
                f"{len(rows)} feature rows, {len(row_predicted)} predictions and {len(row_labels)} labels: "
                "a batched request needs one prediction and one label per row",
                path=source,
            )
        features.extend(rows)
        predicted.extend(row_predicted)
        labels.extend(row_labels)
    width = len(features[0]) if features else len(config.headers or ())
    if any(len(row) != width for row in features):
        raise AnalyzerInputError("captured requests have different numbers of features")
    names, label_name = _merged_names(config, width)
    columns: Columns = {name: typed_column([row[i] for row in features]) for i, name in enumerate(names)}
    columns[label_name] = typed_column(labels)
    predicted_name = DEFAULT_PREDICTED_LABEL
    while predicted_name in columns:
        predicted_name = f"_{predicted_name}"
    columns[predicted_name] = typed_column(predicted)
    return LabelledTable(columns=columns, label=label_name, predicted_label=predicted_name)


# ---------------------------------------------------------------------------------------------
# From config and table to the analysis


def _label_column(config: BiasAnalysisConfig, names: Sequence[str], path: str) -> str:
    if config.features is not None and isinstance(config.label, str) and config.label not in names:
        # JSON datasets: the label found by its JMESPath is the column after the features.
        headers = list(config.headers or [])
        feature_count = len(names) - 1 - (1 if isinstance(config.predicted_label, str) else 0)
        return headers[feature_count] if len(headers) > feature_count else "label"
    return resolve_column(config.label, names, "label", path=path)


def _predicted_column(ref: ColumnRef | None, names: Sequence[str], path: str, key: str) -> str | None:
    if ref is None:
        return None
    if isinstance(ref, str) and ref not in names and DEFAULT_PREDICTED_LABEL in names:
        return DEFAULT_PREDICTED_LABEL  # a JMESPath read into the default column
    return resolve_column(ref, names, key, path=path)


def labels_from_scores(scores: np.ndarray, threshold: float, column: str) -> np.ndarray:
    """Predicted labels 1/0 from scores: 1 when score > threshold (Clarify's probability_threshold)."""
    if scores.dtype.kind not in "iuf":
        raise AnalyzerInputError(
            f"column {column!r} holds non-numeric scores, so probability_threshold cannot apply"
        )
    return (scores.astype(np.float64) > threshold).astype(np.int64)


def _refuse_scores_with_words(values: np.ndarray, column: str) -> None:
    """A text column that is mostly numbers under a probability_threshold is scores with a few words
    among them (a model's error text, say): refused naming one, instead of being read as labels none
    of which is positive."""
    if values.dtype.kind not in "OUS" or not len(values):
        return
    numeric = np.array([_is_number(v) for v in values], dtype=bool)
    if numeric.any() and not numeric.all():
        row = int(np.flatnonzero(~numeric)[0])
        raise AnalyzerInputError(
            f"column {column!r} holds scores to cut at probability_threshold, but {int((~numeric).sum())} of its "
            f"{len(values)} values are not numbers (e.g. {values[row]!r}, row {row + 1}): fix the model's output, "
            "or remove probability_threshold if the column holds labels"
        )


def _is_number(value: object) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True  # missing, not a word
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def run_analysis(
    columns: Columns,
    config: BiasAnalysisConfig,
    *,
    config_path: str,
    label_column: str | None = None,
    predicted_label: ColumnRef | None = None,
    probability_column: ColumnRef | None = None,
    probability_threshold: float | None = None,
    known_kinds: Mapping[str, ColumnKind] | None = None,
) -> BiasAnalysis:
    """The bias analysis of a table per the config.

    Predicted labels come from ``predicted_label`` (default: the config's), or from scores in
    ``probability_column`` cut at ``probability_threshold`` (default: the config's, else 0.5).
    ``label_column`` names the label when the config's ``label`` is a JMESPath (merged records).
    A floating-point predicted-label column with a config ``probability_threshold`` is read as scores.
    ``known_kinds``: how the baseline read the label and facet columns (``baseline_column_kinds``).
    """
    names = list(columns)
    label = label_column or _label_column(config, names, config_path)
    facets = [
        FacetSpec(
            column=resolve_column(f.name_or_index, names, f"facet[{i}].name_or_index", path=config_path),
            values=f.value_or_threshold,
        )
        for i, f in enumerate(config.facets)
    ]
    group = (
        None
        if config.group_variable is None
        else resolve_column(config.group_variable, names, "group_variable", path=config_path)
    )
    excluded = [
        resolve_column(c, names, "excluded_columns", path=config_path) for c in config.excluded_columns
    ]
    threshold = probability_threshold if probability_threshold is not None else config.probability_threshold
    if threshold is not None:
        threshold = checked_number(threshold, name="probability threshold")
    predicted_name = _predicted_column(
        predicted_label if predicted_label is not None else config.predicted_label,
        names,
        config_path,
        "predicted_label",
    )
    table = dict(columns)
    if probability_column is not None and predicted_name is None:
        score_name = resolve_column(probability_column, names, "probability_attribute", path=config_path)
        predicted_name = DEFAULT_PREDICTED_LABEL
        while predicted_name in table:
            predicted_name = f"_{predicted_name}"
        table[predicted_name] = labels_from_scores(
            table[score_name], 0.5 if threshold is None else threshold, score_name
        )
        excluded.append(score_name)
    elif predicted_name is not None and threshold is not None and table[predicted_name].dtype.kind == "f":
        table[predicted_name] = labels_from_scores(table[predicted_name], threshold, predicted_name)
    elif predicted_name is not None and threshold is not None:
        _refuse_scores_with_words(table[predicted_name], predicted_name)
    if predicted_name is None and config.post_training_required:
        raise AnalyzerInputError(
            'methods asks for post_training_bias but no predicted label is given: set "predicted_label" to the '
            "column holding the model's predictions",
            path=config_path,
        )
    if not next(iter(table.values())).size:
        raise AnalyzerInputError("the dataset has no rows", path=config_path)
    return analyze_bias(
        table,
        label=label,
        label_values=list(config.label_values_or_threshold),
        facets=facets,
        group_variable=group,
        predicted_label=predicted_name,
        pre_training_methods=config.pre_training_methods,
        post_training_methods=config.post_training_methods,
        run_pre_training=config.run_pre_training,
        run_post_training=config.run_post_training,
        excluded_columns=excluded,
        known_kinds=known_kinds,
    )


# ---------------------------------------------------------------------------------------------
# The per-type job interface


def _add_common_arguments(parser: argparse.ArgumentParser, *, dataset_required: bool) -> None:
    parser.add_argument("--analysis-config", type=Path, required=True, help="Clarify analysis_config.json")
    parser.add_argument(
        "--dataset",
        type=Path,
        required=dataset_required,
        help="table (CSV / JSON Lines / JSON) file or folder",
    )
    parser.add_argument(
        "--output", type=Path, required=True, help="folder for analysis.json (and violations)"
    )
    add_dataset_format_argument(
        parser, aliases=("--dataset-type",), dest="dataset_type", choices=(*DATASET_FORMATS, *DATASET_FORMATS.values()),
        help="csv, jsonl or json (one document), or the config's spelling text/csv, application/jsonlines, "
             "application/json (default: the config's dataset_type); --dataset-type is an alias",
    )
    add_quiet_argument(parser)
    add_overwrite_argument(parser)


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """``baseline --type bias``: analysis config, dataset, output folder."""
    _add_common_arguments(parser, dataset_required=True)


def add_monitor_arguments(parser: argparse.ArgumentParser) -> None:
    """``monitor --type bias``: the window's data (table, merged records, or captures + ground truth),
    the baseline analysis.json, where predictions are, and metric options."""
    _add_common_arguments(parser, dataset_required=False)
    parser.add_argument("--merged", type=Path, help="folder of merged records (instead of --dataset)")
    parser.add_argument("--capture", type=Path, help="folder of captured requests (with --ground-truth)")
    parser.add_argument("--ground-truth", type=Path, help="folder of ground-truth records (with --capture)")
    parser.add_argument("--start", help="window start, ISO 8601 (inferenceTime >= start)")
    parser.add_argument("--end", help="window end, ISO 8601 (inferenceTime < end)")
    parser.add_argument("--baseline", type=Path, help="the baseline's analysis.json (its constraints)")
    parser.add_argument("--ground-truth-lookback", metavar="DURATION",
                        help="ISO-8601 duration: how far before --start to look for the captures of late labels "
                             "(default PT0H)")
    parser.add_argument("--drift-tolerance", type=float, default=0.0,
                        help="violation only when a metric moves this much farther from neutral than in the "
                             "baseline (default 0: Clarify's rule)")
    parser.add_argument(
        "--features-attribute", help="JMESPath of the features in JSON requests (FeaturesAttribute)"
    )
    parser.add_argument(
        "--inference-attribute",
        help="predicted label: a column of --dataset, or its index/JMESPath in captured responses",
    )
    parser.add_argument(
        "--probability-attribute",
        help="score: a column of --dataset, or its index/JMESPath in captured responses",
    )
    parser.add_argument(
        "--probability-threshold", type=float, help="score > threshold is a positive prediction (default 0.5)"
    )
    # Spelled as for the other monitor types, with the long forms as aliases.
    parser.add_argument("--endpoint", "--endpoint-name", dest="endpoint_name", help="Endpoint dimension of the metrics")
    parser.add_argument("--schedule", "--schedule-name", dest="schedule_name",
                        help="MonitoringSchedule dimension of the metrics")
    parser.add_argument("--metric-time", help="Timestamp of the metrics (ISO 8601, default --start)")
    parser.add_argument("--publish-metrics", action="store_true",
                        help="kept for earlier scripts: metric lines are written unless --no-metrics")
    add_metric_lines_arguments(parser, dest="metrics_dir")


def monitor_request(args: argparse.Namespace) -> argparse.Namespace:
    """The command line's monitor run: metric lines go to ``--metrics-dir``, else OUTPUT/metrics,
    unless ``--no-metrics`` (the container contract decides by ``publish_cloudwatch_metrics``)."""
    resolved = argparse.Namespace(**vars(args))
    resolved.metrics_dir = metric_lines_dir(output=args.output, given=args.metrics_dir, disabled=args.no_metrics)
    return resolved


def _dataset_type(args: argparse.Namespace) -> str | None:
    """The dataset type the command line names (short or MIME spelling), as the config spells it."""
    value = getattr(args, "dataset_type", None)
    return DATASET_FORMATS.get(value, value) if value is not None else None


def _column_ref_argument(value: str | None) -> ColumnRef | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _drift_tolerance(args: argparse.Namespace) -> float:
    return checked_number(getattr(args, "drift_tolerance", None) or 0.0, name="--drift-tolerance", high=None)


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


BASELINE_FILES = (ANALYSIS_FILE, html_report.REPORT_FILE)
MONITOR_FILES = (*BASELINE_FILES, VIOLATIONS_FILE)
_INPUTS = ("analysis_config", "dataset", "merged", "capture", "ground_truth", "baseline")


def _claim(args: argparse.Namespace, writes: tuple[Path | str, ...]) -> OutputClaim:
    inputs = [getattr(args, name, None) for name in _INPUTS]
    return claim_output(args.output, writes=writes, inputs=[Path(p) for p in inputs if p is not None],
                        overwrite=bool(getattr(args, "overwrite", False)))


def _window(args: argparse.Namespace) -> TimeWindow:
    return time_window(getattr(args, "start", None), getattr(args, "end", None))


def run_baseline(args: argparse.Namespace) -> RunOutcome:
    """Compute analysis.json for a dataset; it is the bias monitor's baseline constraints."""
    claim = _claim(args, BASELINE_FILES)
    config = read_analysis_config(args.analysis_config)
    problems = InputProblems()
    columns = read_bias_columns(
        args.dataset, config, dataset_type=_dataset_type(args), problems=problems
    )
    analysis = run_analysis(columns, config, config_path=str(args.analysis_config))
    # A baseline with metrics that could not be computed is not written: it would pass for one.
    check_computable(analysis, config_path=str(args.analysis_config))
    claim.clear()
    written = write_analysis(analysis, args.output / ANALYSIS_FILE)
    return RunOutcome(
        status=RunStatus.COMPLETED,
        message="Completed: bias baseline analysis written.",
        output_dir=args.output,
        files=(written, html_report.write_baseline_report(args.output, analysis=written)),
        summary={**_summary(analysis), **_problem_summary(problems)},
    )


def _window_records(args: argparse.Namespace) -> tuple[list[dict], dict[str, object]]:
    """Merged records of the window: read from --merged, or joined from --capture and --ground-truth."""
    window = _window(args)
    start, end = window.start, window.end
    progress = ProgressReporter(enabled=getattr(args, "progress", False))
    if getattr(args, "merged", None) is not None:
        records = list(progress.counted(merge.read_merged_records(args.merged, since=start, until=end)))
        return records, {"matched": len(records)}
    if getattr(args, "capture", None) is None or getattr(args, "ground_truth", None) is None:
        raise AnalyzerInputError(
            "give the window's data: --dataset, --merged, or --capture with --ground-truth"
        )
    # Labels uploaded in the window, joined with captures from up to the look-back before it (as model quality).
    lookback = parse_duration(getattr(args, "ground_truth_lookback", None) or "PT0H")
    since = reach_back(start, lookback)
    captures = progress.counted(merge.read_capture_records(args.capture, since=since, until=end))
    labels = read_ground_truth(args.ground_truth, uploaded_from=start, uploaded_before=end)
    result = merge.merge_records(captures, labels)
    return result.records, result.summary.as_dict()


def _monitor_analysis(
    args: argparse.Namespace, baseline: BiasAnalysis | None
) -> tuple[BiasAnalysis | None, dict[str, object]]:
    config = read_analysis_config(args.analysis_config)
    # The window reads its label and facets as the baseline did, whatever the window's size.
    known_kinds = baseline_column_kinds(baseline) if baseline is not None else None
    config_path = str(args.analysis_config)
    threshold = getattr(args, "probability_threshold", None)
    if threshold is not None:
        threshold = checked_number(threshold, name="--probability-threshold")
    if getattr(args, "dataset", None) is not None:
        problems = InputProblems()
        columns = read_bias_columns(
            args.dataset, config, dataset_type=_dataset_type(args), problems=problems
        )
        analysis = run_analysis(
            columns,
            config,
            config_path=config_path,
            predicted_label=_column_ref_argument(getattr(args, "inference_attribute", None)),
            probability_column=_column_ref_argument(getattr(args, "probability_attribute", None)),
            probability_threshold=threshold,
            known_kinds=known_kinds,
        )
        return analysis, _problem_summary(problems)
    records, join = _window_records(args)
    if not records:
        return None, join
    table = merged_columns(
        records,
        config,
        features_attribute=getattr(args, "features_attribute", None) or config.features,
        inference_attribute=getattr(args, "inference_attribute", None),
        probability_attribute=getattr(args, "probability_attribute", None),
        probability_threshold=threshold if threshold is not None else config.probability_threshold,
    )
    analysis = run_analysis(
        table.columns,
        config,
        config_path=config_path,
        label_column=table.label,
        predicted_label=table.predicted_label,
        known_kinds=known_kinds,
    )
    return analysis, join


def _label_window_hint(args: argparse.Namespace, join: dict[str, object]) -> str | None:
    """Which labels the window found, when it joined captures with ground truth (not for --dataset / --merged)."""
    if getattr(args, "dataset", None) is not None or getattr(args, "merged", None) is not None:
        return None
    window = _window(args)
    lookback = parse_duration(getattr(args, "ground_truth_lookback", None) or "PT0H")
    return label_window_hint(start=window.start, end=window.end, lookback=lookback, join=join)  # type: ignore[arg-type]


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


def run_monitor(args: argparse.Namespace) -> RunOutcome:
    """Analyse the window's labelled predictions, check drift against the baseline, write metrics."""
    metrics_file = (Path(args.metrics_dir).absolute() / METRICS_FILE,) if getattr(args, "metrics_dir", None) else ()
    claim = _claim(args, (*MONITOR_FILES, *metrics_file))
    window = _window(args)  # a bad window or metric time fails before anything is read or written
    metric_moment = metric_time(getattr(args, "metric_time", None)) or window.start or datetime.now(UTC)
    tolerance = _drift_tolerance(args)
    baseline = read_analysis(args.baseline) if getattr(args, "baseline", None) is not None else None
    analysis, join = _monitor_analysis(args, baseline)
    if analysis is not None and baseline is not None:
        _check_comparable(baseline, analysis, baseline_path=args.baseline)
    hint = _label_window_hint(args, join)
    claim.clear()
    if analysis is None:
        return RunOutcome(
            status=RunStatus.NO_DATA,
            message=no_labelled_data_message(merged=getattr(args, "merged", None) is not None, join=join, hint=hint),
            output_dir=args.output,
            files=(html_report.write_no_data_report(
                args.output, window=(getattr(args, "start", None), getattr(args, "end", None))),),
            summary=join,
        )
    if hint is not None and few_labels(join):
        print(f"note: few labels matched ({join.get('matched', 0)}): {hint}", file=sys.stderr, flush=True)
    missing, notes = not_computable_notes(analysis, baseline=baseline)
    for note in notes:
        print(f"note: {note}", file=sys.stderr, flush=True)
    files = [write_analysis(analysis, args.output / ANALYSIS_FILE)]
    violations: tuple = ()
    if baseline is not None:
        violations = bias_drift_violations(baseline=baseline, current=analysis, tolerance=tolerance)
        files.append(write_violations(violations, args.output / VIOLATIONS_FILE))
    if getattr(args, "metrics_dir", None) is not None:
        # as for the other monitor types: the metric time, else the window's start, else now
        lines = metric_lines(
            analysis, timestamp=format_timestamp(metric_moment), endpoint_name=args.endpoint_name, schedule_name=args.schedule_name
        )
        files.append(write_metric_lines(lines, args.metrics_dir / METRICS_FILE))
    files.append(html_report.write_window_report(
        args.output, analysis=files[0], baseline=getattr(args, "baseline", None),
        violations=args.output / VIOLATIONS_FILE if getattr(args, "baseline", None) is not None else None,
        tolerance=tolerance,
        window=(getattr(args, "start", None), getattr(args, "end", None)), join=join))
    summary = {**join, **_summary(analysis), "not_computable": missing, "violations": len(violations)}
    return RunOutcome.finished(violations=len(violations), output_dir=args.output, files=tuple(files), summary=summary)


def _summary(analysis: BiasAnalysis) -> dict[str, object]:
    """Metric counts per stage, for the human summary."""
    return {
        stage.metric_dimension: sum(len(value.metrics) for facet in result.facets for value in facet.values)
        for stage, result in analysis.stages()
    }
