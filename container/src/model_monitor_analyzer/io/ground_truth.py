"""Ground-truth records (contract §2.1): build them, read them back from their S3 layout.

A ground-truth record carries one label (or one batch of labels) for one inference::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<the capture's inferenceId, else its eventId>"},
     "eventVersion": "0"}

Files are JSON Lines under ``<prefix>/yyyy/mm/dd/HH/`` where the hour is when the labels were
uploaded, not when the inference happened. ``read_ground_truth`` keeps that upload hour so a
monitoring run can take the labels of its own window and look back for their captures.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.jsonlines import iter_json_lines, json_lines_files

#: Label encodings of the ground-truth format: CSV text (one value per line) or a JSON document.
ENCODINGS = ("CSV", "JSON")

Label = str | int | float | bool | dict | list

_HOUR_FOLDERS = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")


@dataclass(frozen=True, kw_only=True)
class GroundTruthRecord:
    """One ground-truth line as read from a file.

    ``uploaded_hour`` is the UTC hour of the ``yyyy/mm/dd/HH`` folders the file lies in, or None
    when its path has no such folders. ``source`` names the file and line for error messages.
    """

    event_id: str
    data: str
    encoding: str
    uploaded_hour: datetime | None
    source: str
    record: dict


def ground_truth_record(inference_id: str, label: Label) -> dict:
    """The ground-truth record for ``label`` of the inference ``inference_id``.

    Scalars become CSV text (``True``/``False`` as ``1``/``0``, floats in Python's shortest
    form); dicts and lists become JSON text with encoding ``JSON``, the shape the Clarify
    monitor reads (e.g. ``{"label": 1}``). Raises AnalyzerInputError for an empty id, a
    non-finite number, text with a line break or a value of another type.
    """
    if not isinstance(inference_id, str) or not inference_id.strip():
        raise AnalyzerInputError(
            f"inference id {inference_id!r} is empty: pass the InferenceId sent to the endpoint"
        )
    if isinstance(label, bool):
        data, encoding = ("1" if label else "0"), "CSV"
    elif isinstance(label, int):
        data, encoding = str(label), "CSV"
    elif isinstance(label, float):
        if not math.isfinite(label):
            raise AnalyzerInputError(f"label {label!r} of inference {inference_id!r} is not a finite number")
        data, encoding = repr(label), "CSV"
    elif isinstance(label, str):
        if "\n" in label or "\r" in label:
            raise AnalyzerInputError(
                f"label of inference {inference_id!r} contains a line break: send one value, or a dict for JSON"
            )
        data, encoding = label, "CSV"
    elif isinstance(label, dict | list):
        data, encoding = json.dumps(label, separators=(",", ":")), "JSON"
    else:
        raise AnalyzerInputError(
            f"label of inference {inference_id!r} has type {type(label).__name__}: use str, int, float, bool or dict"
        )
    return {
        "groundTruthData": {"data": data, "encoding": encoding},
        "eventMetadata": {"eventId": inference_id},
        "eventVersion": "0",
    }


def upload_hour(path: Path, root: Path) -> datetime | None:
    """UTC hour of the last ``yyyy/mm/dd/HH`` folder run in ``path`` relative to ``root``, if any."""
    try:
        relative = path.relative_to(root).parent.as_posix()
    except ValueError:
        relative = path.parent.as_posix()
    matches = list(_HOUR_FOLDERS.finditer(relative))
    if not matches:
        return None
    year, month, day, hour = (int(g) for g in matches[-1].groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def _parse_record(record: object, *, path: Path, number: int, root: Path) -> GroundTruthRecord:
    data = record.get("groundTruthData") if isinstance(record, dict) else None
    metadata = record.get("eventMetadata") if isinstance(record, dict) else None
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        raise AnalyzerInputError(
            "a ground-truth record needs groundTruthData {data, encoding} and eventMetadata {eventId}",
            path=str(path),
            line=number,
        )
    event_id = metadata.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        raise AnalyzerInputError(
            "eventMetadata.eventId is missing or not a string", path=str(path), line=number
        )
    encoding = str(data.get("encoding", "CSV")).upper()
    if encoding not in ENCODINGS:
        raise AnalyzerInputError(
            f"groundTruthData.encoding {encoding!r} is not one of {', '.join(ENCODINGS)}",
            path=str(path),
            line=number,
        )
    value = data.get("data")
    if not isinstance(value, str):
        raise AnalyzerInputError("groundTruthData.data must be a string", path=str(path), line=number)
    return GroundTruthRecord(
        event_id=event_id,
        data=value,
        encoding=encoding,
        uploaded_hour=upload_hour(path, root),
        source=f"{path}:{number}",
        record=record,
    )


def ground_truth_files(root: Path) -> list[Path]:
    """Every ``*.jsonl`` / ``*.json`` file under ``root`` (or ``root`` itself), in path order."""
    return json_lines_files(root, what="ground-truth")


def read_ground_truth(
    root: Path, *, uploaded_from: datetime | None = None, uploaded_before: datetime | None = None
) -> Iterator[GroundTruthRecord]:
    """Ground-truth records under ``root`` in file order, then line order.

    With ``uploaded_from``/``uploaded_before`` only files whose upload hour lies in
    [uploaded_from, uploaded_before) are read; files outside the ``yyyy/mm/dd/HH`` layout have no
    known upload hour and are always read. Raises AnalyzerInputError naming file and line for a
    malformed record.
    """
    base = root if root.is_dir() else root.parent
    for path in ground_truth_files(root):
        hour = upload_hour(path, base)
        if hour is not None:
            if uploaded_from is not None and hour < uploaded_from.replace(minute=0, second=0, microsecond=0):
                continue
            if uploaded_before is not None and hour >= uploaded_before:
                continue
        for number, record in iter_json_lines(path, what="ground-truth record"):
            yield _parse_record(record, path=path, number=number, root=base)
