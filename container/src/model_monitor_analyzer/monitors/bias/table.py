"""A bias run's data as typed columns, the way Clarify's pandas reader types them.

Clarify's choice between categorical and continuous facets depends on the column types
(integer, float, boolean or text, missing -> NaN/None), so the columns are typed as pandas would:

* ``text/csv``: a header row, or the config's ``headers`` (a first row equal to them is skipped);
* ``application/jsonlines``: one object per line, either flat ``{column: value}`` or read
  through the config's ``features`` / ``label`` / ``predicted_label`` JMESPaths;
* ``application/json``: one document read through those JMESPaths (``instances[*].features``).

A monitoring window's merged records (capture joined with ground truth) are read into the same
columns, with the label and the model's predicted label.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import json_fields, merge
from model_monitor_analyzer.io.capture import CapturedPayload, payload_rows
from model_monitor_analyzer.io.datasets import (
    DatasetFormat,
    csv_text_batch,
    dataset_files,
    first_csv_row,
    header_names,
    read_dataset,
)
from model_monitor_analyzer.io.jsonlines import iter_json_lines
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig

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


def _columns_from_paths(
    documents: Sequence[object], config: BiasAnalysisConfig, *, many_per_document: bool, path: str
) -> Columns:
    """Rows of features (a list per row) plus label / predicted label found by the config's JMESPaths."""
    assert config.features is not None
    features: list[list[object]] = []
    counts: list[int] = []
    for document in documents:
        rows = json_fields.feature_rows([document], config.features, many_per_document=many_per_document, path=path)
        features.extend(rows)
        counts.append(len(rows))
    label_path = config.label if isinstance(config.label, str) else None
    predicted_path = config.predicted_label if isinstance(config.predicted_label, str) else None
    labels, predicted = (
        json_fields.values_per_row(documents, expression, many_per_document=many_per_document, counts=counts, path=path)
        if expression is not None else []
        for expression in (label_path, predicted_path)
    )
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


def arrow_typed_column(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A column a table reader typed (JSON Lines, Parquet) as ``typed_column`` types its values:
    integers -> int64 (float64 with NaN when some are missing), floats -> float64, booleans -> bool
    (none missing), text by ``text_column``; other types by ``typed_column`` on their values."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return text_column(pc.cast(column, pa.string()))
    if pa.types.is_integer(kind) and not column.null_count:
        return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_boolean(kind) and not column.null_count:
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)
    return typed_column(column.to_pylist())


def _table_columns(batches: Sequence[pa.RecordBatch], names: Sequence[str] | None, path: str) -> Columns:
    """Batches of a table reader as typed columns, all of them or ``names`` (a name no row has is all missing).

    Batches of different chunks or files may differ: a column only some rows have is missing in
    the others, and one read as integers in a chunk and as floats in another is read as floats.
    Columns whose types cannot be unified (numbers in one file, text in another) are typed from
    their values (``typed_column``).
    """
    tables = [pa.Table.from_batches([batch]) for batch in batches if batch.num_columns]
    if not tables:
        raise AnalyzerInputError("the dataset has no rows", path=path)
    try:
        table = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _columns_by_values(tables, names)
    chosen = list(names) if names else table.column_names
    return {
        name: arrow_typed_column(table.column(name)) if name in table.column_names
        else np.full(table.num_rows, None, dtype=object)
        for name in chosen
    }


def _columns_by_values(tables: Sequence[pa.Table], names: Sequence[str] | None) -> Columns:
    """Tables whose column types differ, typed column by column from their values."""
    chosen = list(names) if names else list(dict.fromkeys(name for table in tables for name in table.column_names))
    return {
        name: typed_column([value for table in tables for value in (
            table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows)])
        for name in chosen
    }


def _first_value_is_a_list(files: Sequence[Path]) -> bool:
    """Whether a JSON Lines dataset's rows are lists (named by the config's ``headers``), not objects."""
    for file in files:
        with file.open("rb") as handle:
            for line in handle:
                if line.strip():
                    return line.lstrip().lstrip(b"\xef\xbb\xbf")[:1] == b"["
    return False


def _json_lines(files: Sequence[Path]) -> list[object]:
    return [document for file in files for _, document in iter_json_lines(file, what="line")]


def _list_rows(documents: Sequence[object], headers: Sequence[str] | None, path: str) -> Columns:
    if not headers:
        raise AnalyzerInputError('JSON Lines rows are lists: give their column names in "headers"', path=path)
    if not all(isinstance(d, list) for d in documents):
        raise AnalyzerInputError('JSON Lines rows must be objects, or lists with "headers"', path=path)
    if any(len(d) != len(headers) for d in documents):  # type: ignore[arg-type]
        raise AnalyzerInputError('a JSON Lines row does not have one value per "headers" entry', path=path)
    return {name: typed_column([d[i] for d in documents]) for i, name in enumerate(headers)}  # type: ignore[index]


def read_bias_columns(
    path: Path,
    config: BiasAnalysisConfig,
    *,
    dataset_type: str | None = None,
    problems: InputProblems | None = None,
) -> Columns:
    """The dataset at ``path`` (file or folder) as typed columns, per the config's ``dataset_type``.

    CSV, JSON Lines objects and Parquet are read by ``io.datasets``' readers as data quality reads
    them (bad records counted in ``problems`` and skipped up to its tolerated share; nested
    objects become ``a.b`` columns). JSON Lines whose rows are lists named by ``headers``, and
    JSON read through the config's JMESPaths (``io.json_fields``), are read document by document.
    """
    problems = problems if problems is not None else InputProblems()
    files = dataset_files(path)
    kind = dataset_type or config.dataset_type
    if kind == "text/csv":
        return read_csv_columns(files, config.headers, problems=problems)
    if kind == "application/jsonlines":
        if config.features is not None:
            return _columns_from_paths(_json_lines(files), config, many_per_document=False, path=str(path))
        if _first_value_is_a_list(files):
            return _list_rows(_json_lines(files), config.headers, str(path))
        batches = [b for file in files for b in read_dataset(file, dataset_format=DatasetFormat.JSON, problems=problems)]
        problems.check()
        return _table_columns(batches, config.headers, str(path))
    if kind == "application/x-parquet":
        batches = list(read_dataset(path, dataset_format=DatasetFormat.PARQUET, problems=problems))
        problems.check()
        return _table_columns(batches, None, str(path))
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
) -> list[str] | list[list[object]]:
    """The feature rows of one captured request: its CSV lines as text (``io.capture.payload_rows``),
    or the rows of values a JMESPath selects in JSON."""
    if kind == "CSV":
        assert isinstance(value, str)
        rows = payload_rows(CapturedPayload(data=value, encoding="CSV"))
        return [text for text, _ in rows if text.replace(",", "").strip()]  # a row of blank cells is no row
    found = json_fields.search(features_attribute, value) if features_attribute else value
    if isinstance(found, list) and found and all(isinstance(row, list) for row in found):
        return found
    if isinstance(found, list) and all(not isinstance(v, list | dict) for v in found):
        return [found]
    raise AnalyzerInputError(
        "cannot find the feature rows in the JSON request: set the features attribute (FeaturesAttribute), "
        "e.g. instances[*].features",
        path=source,
    )


_DIFFERENT_WIDTHS = "captured requests have different numbers of features"


def _csv_width(row: str) -> int:
    """The number of fields of one CSV row, quotes respected."""
    try:
        return pacsv.read_csv(pa.BufferReader((row + "\n").encode("utf-8")),
                              read_options=pacsv.ReadOptions(autogenerate_column_names=True)).num_columns
    except pa.ArrowInvalid as exc:
        raise AnalyzerInputError(f"a captured CSV request is not CSV ({str(exc).splitlines()[0]})") from None


def _feature_columns(parts: Sequence[list[str] | list[list[object]]], width_if_empty: int) -> list[np.ndarray]:
    """The features of every request, one typed array per feature.

    Requests all in CSV are parsed in one go by Arrow and typed column by column (``text_column``);
    a window that also holds JSON requests types the values of each feature together.
    """
    if all(not part or isinstance(part[0], str) for part in parts):
        texts = [row for part in parts for row in part]
        if not texts:
            return [np.full(0, None, dtype=object) for _ in range(width_if_empty)]
        width = _csv_width(texts[0])
        try:
            batch = csv_text_batch("\n".join(texts) + "\n", width=width)
        except pa.ArrowInvalid:
            raise AnalyzerInputError(_DIFFERENT_WIDTHS) from None
        return [text_column(column) for column in batch.columns]
    rows: list[list[object]] = []
    for part in parts:
        if part and isinstance(part[0], str):
            width = _csv_width(part[0])
            try:
                batch = csv_text_batch("\n".join(part) + "\n", width=width)  # type: ignore[arg-type]
            except pa.ArrowInvalid:
                raise AnalyzerInputError(_DIFFERENT_WIDTHS) from None
            rows.extend(["" if v is None else v for v in row] for row in zip(*batch.to_pydict().values(), strict=True))
        else:
            rows.extend(part)  # type: ignore[arg-type]
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise AnalyzerInputError(_DIFFERENT_WIDTHS)
    return [typed_column([row[i] for row in rows]) for i in range(width)]


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
    features: list[list[str] | list[list[object]]] = []
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
                shown = next((score for score in scores if score is None or not is_number(score)), scores)
                raise AnalyzerInputError(
                    f"the probability attribute {probability_attribute!r} of the model output is {shown!r}, not a "
                    "score to cut at the probability threshold: point it at the score, or use the inference "
                    "attribute for a predicted label", path=source) from None
        truth_kind, truth = merge.decode_payload(record["groundTruthData"], source=source)
        label_path = None
        if (
            truth_kind == "JSON"
            and isinstance(config.label, str)
            and json_fields.search(config.label, truth) is not None
        ):
            label_path = config.label
        row_labels = merge.read_attribute(truth_kind, truth, label_path, what="label", source=source)
        if not len(rows) == len(row_predicted) == len(row_labels):
            raise AnalyzerInputError(
                f"{len(rows)} feature rows, {len(row_predicted)} predictions and {len(row_labels)} labels: "
                "a batched request needs one prediction and one label per row",
                path=source,
            )
        features.append(rows)
        predicted.extend(row_predicted)
        labels.extend(row_labels)
    feature_columns = _feature_columns(features, len(config.headers or ()))
    names, label_name = _merged_names(config, len(feature_columns))
    columns: Columns = dict(zip(names, feature_columns, strict=True))
    columns[label_name] = typed_column(labels)
    predicted_name = DEFAULT_PREDICTED_LABEL
    while predicted_name in columns:
        predicted_name = f"_{predicted_name}"
    columns[predicted_name] = typed_column(predicted)
    return LabelledTable(columns=columns, label=label_name, predicted_label=predicted_name)


def is_number(value: object) -> bool:
    """Whether ``value`` reads as a number (missing counts as one: it is no word)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True  # missing, not a word
    try:
        float(str(value))
    except ValueError:
        return False
    return True
