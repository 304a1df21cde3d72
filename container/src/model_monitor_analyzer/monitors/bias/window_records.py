"""A monitoring window's labelled predictions as typed columns: the features of the captured
requests, the model's predicted labels (or scores cut at a threshold) from its responses, and
the labels from the ground truth of merged records (capture joined with ground truth).

Captured CSV requests are split by ``io.capture.payload_rows`` and parsed by Arrow in one go;
JSON requests, responses and labels are read through JMESPaths (``io.json_fields``,
``io.merge.read_attribute``).
"""

from __future__ import annotations

import functools
import pickle
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import json_fields, merge
from model_monitor_analyzer.io.capture import CapturedPayload, payload_rows
from model_monitor_analyzer.io.datasets import csv_text_batch
from model_monitor_analyzer.monitors.bias.config import BiasAnalysisConfig
from model_monitor_analyzer.monitors.bias.values import (
    DEFAULT_PREDICTED_LABEL,
    Columns,
    TextEvidence,
    ValueEvidence,
    is_number,
    text_column,
    text_evidence,
    text_part,
    typed_column,
    value_evidence,
    value_part,
)


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
    return [typed_column(values) for values in _value_columns(parts)]


def _value_columns(parts: Sequence[list[str] | list[list[object]]]) -> list[list[object]]:
    """The features of requests not all CSV, one list of values per feature: a CSV request's cells as texts (an
    empty cell ""), a JSON request's values as they are; every row of the same width."""
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
    width = len(rows[0]) if rows else 0
    if any(len(row) != width for row in rows):
        raise AnalyzerInputError(_DIFFERENT_WIDTHS)
    return [[row[i] for row in rows] for i in range(width)]


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
    JSON; a transform job's ``batchTransformInput``, else its joined output row), predicted labels from ``endpointOutput`` at ``inference_attribute``, else from the
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
        rows, row_predicted, row_labels = _record_values(
            record, config, features_attribute=features_attribute, inference_attribute=inference_attribute,
            probability_attribute=probability_attribute, probability_threshold=probability_threshold)
        features.append(rows)
        predicted.extend(row_predicted)
        labels.extend(row_labels)
    feature_columns = _feature_columns(features, len(config.headers or ()))
    return _labelled_table(config, feature_columns, typed_column(labels), typed_column(predicted))


def _labelled_table(config: BiasAnalysisConfig, feature_columns: list[np.ndarray], labels: np.ndarray,
                    predicted: np.ndarray) -> LabelledTable:
    """The typed columns named: the features as ``_merged_names`` names them, the label, the predicted label."""
    names, label_name = _merged_names(config, len(feature_columns))
    columns: Columns = dict(zip(names, feature_columns, strict=True))
    columns[label_name] = labels
    predicted_name = DEFAULT_PREDICTED_LABEL
    while predicted_name in columns:
        predicted_name = f"_{predicted_name}"
    columns[predicted_name] = predicted
    return LabelledTable(columns=columns, label=label_name, predicted_label=predicted_name)


def _record_values(
    record: dict,
    config: BiasAnalysisConfig,
    *,
    features_attribute: str | None,
    inference_attribute: str | None,
    probability_attribute: str | None,
    probability_threshold: float | None,
) -> tuple[list[str] | list[list[object]], list[object], list[object]]:
    """One merged record's feature rows (``_feature_rows``), predicted labels and labels, untyped."""
    metadata = record.get("eventMetadata") or {}
    source = f"event {metadata.get('inferenceId') or metadata.get('eventId')}"
    capture = record.get("captureData") or {}
    response = capture.get("endpointOutput") or capture.get("batchTransformOutput")
    # SageMaker's merge of a transform job keeps only its output row, which holds the input it was joined with
    request = (capture.get("endpointInput") or capture.get("batchTransformInput")
               or (response if "batchTransformOutput" in capture else None))
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
    return rows, list(row_predicted), list(row_labels)


# ------------------------------------------------------------------ typing in parts
# A window read in parts (Spark's splits of the capture files): each part's records give their values untyped and
# the evidence of their types (``values.text_evidence``, ``value_evidence``); the evidence merged over the parts
# types each part as ``merged_columns`` types the whole window. A window whose requests are all CSV is typed as
# text cells (``text_column``); one with a JSON request anywhere is typed value by value (``typed_column``): a part of
# CSV requests only then gives its cells as texts, and the evidence of their values, on the driver. A part that holds
# rows of different widths, CSV that does not parse row by row, or a record ``merged_columns`` refuses gives no values
# (None): the caller then types the whole window's records at once (and raises what it raises).

@dataclass(frozen=True, kw_only=True)
class PartValues:
    """A part's feature rows, its labels and predicted labels as read, and their evidence. Features: of a part of CSV
    requests only, its rows as CSV text columns (``features``, ``feature_evidence``); of a part with a JSON request,
    one list of values per feature (``feature_values``, ``feature_value_evidence``)."""

    rows: int
    features: list[pa.Array]
    feature_evidence: list[TextEvidence]
    labels: list[object]
    predicted: list[object]
    label_evidence: ValueEvidence
    predicted_evidence: ValueEvidence
    feature_values: list[list[object]] | None = None
    feature_value_evidence: list[ValueEvidence] | None = None

    @property
    def width(self) -> int:
        return len(self.feature_values) if self.feature_values is not None else len(self.features)

    def values_of(self, index: int) -> tuple[list[object], ValueEvidence]:
        """Feature ``index`` as values (a CSV part's cells as texts, an empty cell "", as ``merged_columns`` reads a
        CSV request in a window with JSON ones) and their evidence."""
        if self.feature_values is not None:
            assert self.feature_value_evidence is not None
            return self.feature_values[index], self.feature_value_evidence[index]
        values: list[object] = ["" if v is None else v for v in self.features[index].to_pylist()]
        return values, value_evidence(values)


def part_values(
    records: Sequence[dict],
    config: BiasAnalysisConfig,
    *,
    features_attribute: str | None,
    inference_attribute: str | None,
    probability_attribute: str | None,
    probability_threshold: float | None,
) -> PartValues | None:
    """A part's values and their evidence, or None when typing in parts does not cover it (see above)."""
    if inference_attribute is None and probability_attribute is None:
        return None
    requests: list[list[str] | list[list[object]]] = []
    labels: list[object] = []
    predicted: list[object] = []
    try:
        for record in records:
            rows, row_predicted, row_labels = _record_values(
                record, config, features_attribute=features_attribute, inference_attribute=inference_attribute,
                probability_attribute=probability_attribute, probability_threshold=probability_threshold)
            requests.append(rows)
            predicted.extend(row_predicted)
            labels.extend(row_labels)
        if all(not rows or isinstance(rows[0], str) for rows in requests):
            texts = [text for rows in requests for text in rows]
            features: list[pa.Array] = []
            if texts:
                batch = csv_text_batch("\n".join(texts) + "\n", width=_csv_width(texts[0]))  # type: ignore[arg-type]
                if batch.num_rows != len(texts):
                    return None  # quotes spanning rows: the whole window's parse decides
                features = list(batch.columns)
            return PartValues(rows=len(texts), features=features,
                              feature_evidence=[text_evidence(column) for column in features], labels=labels,
                              predicted=predicted, label_evidence=value_evidence(labels),
                              predicted_evidence=value_evidence(predicted))
        columns = _value_columns(requests)
    except (AnalyzerInputError, pa.ArrowInvalid):
        return None  # raised (or not) as the whole window raises it
    return PartValues(rows=len(labels), features=[], feature_evidence=[], labels=labels,
                      predicted=predicted, label_evidence=value_evidence(labels),
                      predicted_evidence=value_evidence(predicted), feature_values=columns,
                      feature_value_evidence=[value_evidence(values) for values in columns])


def lines_part_values(lines: Sequence[bytes], *, config: BiasAnalysisConfig, settings: Mapping[str, object]) -> bytes:
    """``part_values`` of merged records as the merge job's lines (a Spark split's, on its executor), pickled and
    compressed (``unpacked_part_values`` reads it): half the bytes of the compressed lines."""
    values = part_values([orjson.loads(line) for line in lines], config, **settings)  # type: ignore[arg-type]
    return zlib.compress(pickle.dumps(values), 1)


def unpacked_part_values(packed: bytes) -> PartValues | None:
    """What ``lines_part_values`` packed."""
    return pickle.loads(zlib.decompress(packed))  # made by this run's own executors


def table_from_parts(parts: Sequence[PartValues | None], config: BiasAnalysisConfig) -> LabelledTable | None:
    """``merged_columns`` of the parts' records together, from their values and merged evidence; None when a part
    is not covered, no part holds a row, or the parts' widths differ (the whole window's records decide then)."""
    if any(part is None for part in parts):
        return None
    filled = [part for part in parts if part is not None and part.rows]
    if not filled or len({part.width for part in filled}) != 1:
        return None
    features = []
    if all(part.feature_values is None for part in filled):  # CSV requests only: text cells
        for index in range(filled[0].width):
            evidence = functools.reduce(TextEvidence.merge, (part.feature_evidence[index] for part in filled))
            features.append(np.concatenate([text_part(part.features[index], evidence) for part in filled]))
    else:  # a JSON request somewhere: values
        for index in range(filled[0].width):
            pieces = [part.values_of(index) for part in filled]
            merged = functools.reduce(ValueEvidence.merge, (piece_evidence for _, piece_evidence in pieces))
            features.append(np.concatenate([value_part(values, merged) for values, _ in pieces]))
    label_evidence = functools.reduce(ValueEvidence.merge, (part.label_evidence for part in filled))
    predicted_evidence = functools.reduce(ValueEvidence.merge, (part.predicted_evidence for part in filled))
    labels = np.concatenate([value_part(part.labels, label_evidence) for part in filled])
    predicted = np.concatenate([value_part(part.predicted, predicted_evidence) for part in filled])
    return _labelled_table(config, features, labels, predicted)
