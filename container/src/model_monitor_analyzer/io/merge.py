"""Join captured inferences with their ground truth, and read predictions and labels out of them.

This does what SageMaker's ground-truth merge job does before a model-quality run (contract
§2.2): every capture record whose id (``inferenceId``, else ``eventId``) has a ground-truth
record becomes a merged record, written in the merge job's layout so that other tools (and the
built-in analyzer, with ``dataset_format`` ``sagemakerMergeJson``) can reuse it::

    {"eventVersion": "0", "groundTruthData": {...}, "captureData": {...}, "eventMetadata": {...}}

Decisions the merge job leaves open, made explicit here:

* several ground-truth records for one id: the last one wins (files in upload-hour then path
  order, lines in file order), so re-sending a label corrects it; the superseded ones are
  counted as ``duplicate_labels``;
* several capture records with the same id (callers reusing an InferenceId): each is joined with
  the label, as an inner join does;
* captures without a label and labels without a capture are counted, not errors.

The capture reader here is small and self-contained (JSON Lines, ``inferenceTime`` window).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jmespath
import jmespath.exceptions

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.ground_truth import GroundTruthRecord
from model_monitor_analyzer.io.jsonlines import iter_json_lines, json_lines_files

#: Top-level member order of the merge job's output records.
_MERGED_ORDER = ("eventVersion", "groundTruthData", "captureData", "eventMetadata")


@dataclass(frozen=True, kw_only=True)
class CaptureRecord:
    """One data-capture line (contract §1.2) with where it came from."""

    record: dict
    source: str

    @property
    def join_key(self) -> str | None:
        """``inferenceId`` when the caller passed one to the endpoint, else ``eventId`` (contract §2.1)."""
        metadata = self.record.get("eventMetadata") or {}
        key = metadata.get("inferenceId") or metadata.get("eventId")
        return str(key) if key is not None else None


@dataclass(frozen=True, kw_only=True)
class MergeSummary:
    """How the join went: what a user needs to see to trust (or fix) the label feed."""

    matched: int
    captures_without_label: int
    labels_without_capture: int
    duplicate_labels: int

    def as_dict(self) -> dict[str, int]:
        return {
            "matched": self.matched,
            "captures_without_label": self.captures_without_label,
            "labels_without_capture": self.labels_without_capture,
            "duplicate_labels": self.duplicate_labels,
        }


@dataclass(frozen=True, kw_only=True)
class MergeResult:
    """Merged records (capture order) and the join counts."""

    records: list[dict]
    summary: MergeSummary


def parse_time(text: str) -> datetime:
    """An ISO-8601 UTC time such as ``2025-02-16T15:00:44Z`` (spaces ignored, fractions allowed)."""
    cleaned = text.replace(" ", "")
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    moment = datetime.fromisoformat(cleaned)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _read_json_lines(root: Path) -> Iterator[tuple[dict, str]]:
    for path in json_lines_files(root):
        for number, record in iter_json_lines(path):
            if not isinstance(record, dict):
                raise AnalyzerInputError("a record must be a JSON object", path=str(path), line=number)
            yield record, f"{path}:{number}"


def _in_window(record: dict, source: str, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    text = (record.get("eventMetadata") or {}).get("inferenceTime")
    try:
        moment = parse_time(str(text))
    except ValueError:
        raise AnalyzerInputError(
            f"eventMetadata.inferenceTime {text!r} is not an ISO-8601 time; cannot place the record in the window",
            path=source,
        ) from None
    return (since is None or moment >= since) and (until is None or moment < until)


def read_capture_records(
    root: Path, *, since: datetime | None = None, until: datetime | None = None
) -> Iterator[CaptureRecord]:
    """Capture records under ``root`` whose ``inferenceTime`` lies in [since, until), in file/line order."""
    for record, source in _read_json_lines(root):
        if "captureData" not in record:
            raise AnalyzerInputError("not a data-capture record: captureData is missing", path=source)
        if _in_window(record, source, since, until):
            yield CaptureRecord(record=record, source=source)


def read_merged_records(
    root: Path, *, since: datetime | None = None, until: datetime | None = None
) -> Iterator[dict]:
    """Records written by a merge job (ours or SageMaker's), filtered by ``inferenceTime``."""
    for record, source in _read_json_lines(root):
        if "groundTruthData" not in record or "captureData" not in record:
            raise AnalyzerInputError(
                "not a merged record: groundTruthData or captureData is missing", path=source
            )
        if _in_window(record, source, since, until):
            yield record


def _sorted_members(value: object) -> object:
    if isinstance(value, dict):
        return {key: _sorted_members(value[key]) for key in sorted(value)}
    return value


def merged_record(capture: dict, ground_truth: dict) -> dict:
    """The merge job's record: ``eventVersion``, ``groundTruthData``, ``captureData``, ``eventMetadata``.

    Members inside ``groundTruthData``, ``captureData`` and ``eventMetadata`` come in name order,
    as in the real merge output (``data, encoding, mode, observedContentType``).
    """
    parts = {
        "eventVersion": capture.get("eventVersion", "0"),
        "groundTruthData": _sorted_members(ground_truth["groundTruthData"]),
        "captureData": _sorted_members(capture["captureData"]),
        "eventMetadata": _sorted_members(capture.get("eventMetadata", {})),
    }
    return {key: parts[key] for key in _MERGED_ORDER}


def _label_order(label: GroundTruthRecord) -> tuple[bool, datetime, str, int]:
    path, _, line = label.source.rpartition(":")
    hour = label.uploaded_hour or datetime.min.replace(tzinfo=UTC)
    return (label.uploaded_hour is not None, hour, path, int(line) if line.isdigit() else 0)


def merge_records(captures: Iterable[CaptureRecord], labels: Iterable[GroundTruthRecord]) -> MergeResult:
    """Inner join of captures and labels on the capture's join key = the label's eventId.

    Later labels replace earlier ones for the same id (see the module docstring for the order).
    """
    latest: dict[str, GroundTruthRecord] = {}
    duplicates = 0
    for label in sorted(labels, key=_label_order):
        if label.event_id in latest:
            duplicates += 1
        latest[label.event_id] = label
    merged: list[dict] = []
    without_label = 0
    used: set[str] = set()
    for capture in captures:
        key = capture.join_key
        label = latest.get(key) if key is not None else None
        if label is None:
            without_label += 1
            continue
        used.add(label.event_id)
        merged.append(merged_record(capture.record, label.record))
    summary = MergeSummary(
        matched=len(merged),
        captures_without_label=without_label,
        labels_without_capture=len(latest) - len(used),
        duplicate_labels=duplicates,
    )
    return MergeResult(records=merged, summary=summary)


def write_merged_records(records: Sequence[dict], directory: Path) -> Path:
    """Write merged records as compact JSON Lines, one ``part-00000-<uuid>.c000.jsonl`` per call."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"part-00000-{uuid.uuid4()}.c000.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Reading predictions, probabilities and labels out of payloads
# --------------------------------------------------------------------------------------------


def decode_payload(part: dict, *, source: str) -> tuple[str, object]:
    """(kind, value) of a capture or ground-truth part ``{data, encoding[, observedContentType]}``.

    ``CSV`` -> ("CSV", text); ``JSON`` -> ("JSON", parsed value; JSON Lines give a list);
    ``BASE64`` -> decoded, then read as JSON when the content type mentions json, else as CSV.
    """
    data = part.get("data")
    encoding = str(part.get("encoding", "CSV")).upper()
    if not isinstance(data, str):
        raise AnalyzerInputError("payload data is missing or not a string", path=source)
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AnalyzerInputError("BASE64 payload does not decode to UTF-8 text", path=source) from None
        encoding = "JSON" if "json" in str(part.get("observedContentType", "")).lower() else "CSV"
    if encoding == "CSV":
        return "CSV", data
    if encoding == "JSON":
        try:
            return "JSON", json.loads(data)
        except json.JSONDecodeError:
            pass
        try:
            return "JSON", [json.loads(line) for line in data.splitlines() if line.strip()]
        except json.JSONDecodeError:
            raise AnalyzerInputError("JSON payload is not valid JSON or JSON Lines", path=source) from None
    raise AnalyzerInputError(
        f"unknown payload encoding {encoding!r} (expected CSV, JSON or BASE64)", path=source
    )


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]


def _json_path(expression: str) -> str:
    """A JMESPath expression; a leading JSONPath ``$.`` / ``$`` is accepted and dropped."""
    if expression.startswith("$."):
        return expression[2:]
    if expression.startswith("$"):
        return expression[1:]
    return expression


def read_attribute(
    kind: str, value: object, attribute: str | None, *, what: str, source: str
) -> list[object]:
    """The values of ``attribute`` in one payload, one per row of a (mini-)batch.

    CSV: ``attribute`` is a 0-based column index; every non-empty line is a row; without an
    attribute each row must have exactly one column. JSON: ``attribute`` is a JMESPath (or
    JSONPath ``$.``) expression, a list result gives one value per row; a digit string indexes a
    top-level list; without an attribute a scalar is the value, an object with a single member
    gives that member. Raises AnalyzerInputError naming ``what`` (e.g. "inference attribute")
    and the record when nothing is found.
    """
    if kind == "CSV":
        assert isinstance(value, str)
        rows = _csv_rows(value)
        if attribute is None:
            if any(len(row) != 1 for row in rows):
                raise AnalyzerInputError(
                    f"CSV payload has several columns: set the {what} to the 0-based column index",
                    path=source,
                )
            return [row[0].strip() for row in rows]
        if not attribute.strip().isdigit():
            raise AnalyzerInputError(
                f"{what} {attribute!r} must be a 0-based column index for CSV payloads", path=source
            )
        column = int(attribute)
        if any(column >= len(row) for row in rows):
            raise AnalyzerInputError(
                f"{what} {attribute} is beyond the columns of the CSV payload", path=source
            )
        return [row[column].strip() for row in rows]
    if attribute is None:
        if isinstance(value, dict):
            if len(value) != 1:
                raise AnalyzerInputError(
                    f"JSON payload has several members ({', '.join(sorted(value))}): set the {what} to a JMESPath",
                    path=source,
                )
            value = next(iter(value.values()))
        return list(value) if isinstance(value, list) else [value]
    if attribute.strip().isdigit() and not isinstance(value, dict):
        if isinstance(value, list):
            index = int(attribute)
            if index >= len(value):
                raise AnalyzerInputError(f"{what} {attribute} is beyond the JSON list", path=source)
            return [value[index]]
        return [value]
    try:
        found = jmespath.search(_json_path(attribute), value)
    except jmespath.exceptions.JMESPathError as error:
        raise AnalyzerInputError(
            f"{what} {attribute!r} is not a valid JMESPath expression ({error})"
        ) from None
    if found is None:
        raise AnalyzerInputError(f"{what} {attribute!r} matches nothing in the JSON payload", path=source)
    return list(found) if isinstance(found, list) else [found]


@dataclass(frozen=True, kw_only=True)
class LabelledPredictions:
    """Predictions, probabilities (None when not read) and labels, row-aligned, plus row sources."""

    predictions: list[object]
    probabilities: list[object] | None
    labels: list[object]
    sources: list[str]


def labelled_predictions(
    records: Iterable[dict],
    *,
    inference_attribute: str | None,
    probability_attribute: str | None = None,
    ground_truth_attribute: str | None = None,
) -> LabelledPredictions:
    """Rows of (prediction, probability, label) from merged records.

    Predictions and probabilities come from ``captureData.endpointOutput`` (or
    ``batchTransformOutput``), labels from ``groundTruthData``. A record holding a batch must
    yield as many labels as predictions, else AnalyzerInputError names its event id.
    """
    predictions: list[object] = []
    probabilities: list[object] | None = [] if probability_attribute is not None else None
    labels: list[object] = []
    sources: list[str] = []
    for record in records:
        metadata = record.get("eventMetadata") or {}
        source = f"event {metadata.get('inferenceId') or metadata.get('eventId')}"
        capture = record.get("captureData") or {}
        output = capture.get("endpointOutput") or capture.get("batchTransformOutput")
        if not isinstance(output, dict):
            raise AnalyzerInputError(
                "record has no captured output (endpointOutput): enable OUTPUT capture on the endpoint",
                path=source,
            )
        kind, value = decode_payload(output, source=source)
        row_predictions = read_attribute(
            kind, value, inference_attribute, what="inference attribute", source=source
        )
        gt_kind, gt_value = decode_payload(record["groundTruthData"], source=source)
        row_labels = read_attribute(
            gt_kind, gt_value, ground_truth_attribute, what="ground-truth attribute", source=source
        )
        if len(row_labels) != len(row_predictions):
            raise AnalyzerInputError(
                f"{len(row_predictions)} predictions but {len(row_labels)} labels: a batched request needs one"
                " label per prediction",
                path=source,
            )
        if probabilities is not None:
            row_probabilities = read_attribute(
                kind, value, probability_attribute, what="probability attribute", source=source
            )
            if len(row_probabilities) != len(row_predictions):
                raise AnalyzerInputError(
                    f"{len(row_predictions)} predictions but {len(row_probabilities)} probabilities",
                    path=source,
                )
            probabilities.extend(row_probabilities)
        predictions.extend(row_predictions)
        labels.extend(row_labels)
        sources.extend([source] * len(row_predictions))
    return LabelledPredictions(
        predictions=predictions, probabilities=probabilities, labels=labels, sources=sources
    )
