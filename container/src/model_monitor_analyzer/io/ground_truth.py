"""Ground-truth records (contract §2.1): build them, read them back from their S3 layout.

A ground-truth record carries one label (or one batch of labels) for one inference::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<the capture's inferenceId, else its eventId>"},
     "eventVersion": "0"}

Files are JSON Lines under ``<prefix>/yyyy/mm/dd/HH/`` where the hour is when the labels were
uploaded, not when the inference happened. ``read_ground_truth`` keeps that upload hour so a
monitoring run can take the labels of its own window and look back for their captures. A
malformed line is counted (``io.problems``) with its file and line and skipped, like a malformed
capture line. ``read_ground_truth_columns`` gives the same labels as Arrow columns, for the join.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.jsonlines import iter_json_objects, json_lines_files
from model_monitor_analyzer.io.problems import InputProblems

#: Label encodings of the ground-truth format: CSV text (one value per line) or a JSON document.
ENCODINGS = ("CSV", "JSON")

Label = str | int | float | bool | dict | list

_HOUR_FOLDERS = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")


class GroundTruthRecord(NamedTuple):
    """One ground-truth line as read from a file.

    ``uploaded_hour`` is the UTC hour of the ``yyyy/mm/dd/HH`` folders the file lies in, or None
    when its path has no such folders; ``path`` and ``line`` say where the record was read.
    A NamedTuple rather than a frozen dataclass: a run builds one per label, often millions, and
    a frozen dataclass takes ten times longer to build.
    """

    event_id: str
    data: str
    encoding: str
    uploaded_hour: datetime | None
    path: str
    line: int
    record: dict

    @property
    def source(self) -> str:
        """``<file>:<line>``, for messages."""
        return f"{self.path}:{self.line}"


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


def _record_problem(record: dict) -> str | None:
    """What makes ``record`` unusable as a ground-truth record, or None when it is one."""
    data = record.get("groundTruthData")
    metadata = record.get("eventMetadata")
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        return "a ground-truth record needs groundTruthData {data, encoding} and eventMetadata {eventId}"
    event_id = metadata.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        return "eventMetadata.eventId is missing or not a string"
    encoding = data.get("encoding", "CSV")
    if not isinstance(encoding, str) or encoding.upper() not in ENCODINGS:
        return f"groundTruthData.encoding {encoding!r} is not one of {', '.join(ENCODINGS)}"
    if not isinstance(data.get("data"), str):
        return "groundTruthData.data must be a string"
    return None


def _fields(record: dict) -> tuple[str, str, str] | str:
    """(eventId, data, encoding) of a ground-truth record, or what makes it unusable."""
    try:
        data = record["groundTruthData"]
        event_id = record["eventMetadata"]["eventId"]
        value = data["data"]
        encoding = data.get("encoding", "CSV")
    except (KeyError, TypeError, AttributeError):
        return _record_problem(record) or "malformed ground-truth record"
    if type(event_id) is str and event_id and type(value) is str and type(encoding) is str:
        if encoding in ENCODINGS:
            return event_id, value, encoding
        if encoding.upper() in ENCODINGS:
            return event_id, value, encoding.upper()
    return _record_problem(record) or "malformed ground-truth record"


def ground_truth_files(root: Path) -> list[Path]:
    """Every ``*.jsonl`` / ``*.json`` file under ``root`` (or ``root`` itself), in path order."""
    return json_lines_files(root, what="ground-truth")


def _upload_order(hour: datetime | None, path: Path) -> tuple[bool, datetime, str]:
    # Files outside the hour layout first, then by upload hour, then by path: the later a
    # label is read, the later it was sent.
    return (hour is not None, hour or datetime.min.replace(tzinfo=UTC), str(path))


def _chosen_files(root: Path, uploaded_from: datetime | None, uploaded_before: datetime | None
                  ) -> list[tuple[Path, datetime | None]]:
    """The files of the window in upload order, each with its upload hour (see ``read_ground_truth``)."""
    base = root if root.is_dir() else root.parent
    chosen = []
    for path in ground_truth_files(root):
        hour = upload_hour(path, base)
        if hour is not None:
            if uploaded_from is not None and hour < uploaded_from.replace(minute=0, second=0, microsecond=0):
                continue
            if uploaded_before is not None and hour >= uploaded_before:
                continue
        chosen.append((_upload_order(hour, path), path, hour))
    chosen.sort(key=lambda item: item[0])
    return [(path, hour) for _, path, hour in chosen]


def _labels_of_file(path: Path, tally: InputProblems) -> Iterator[tuple[int, dict, tuple[str, str, str]]]:
    """(line, record, (eventId, data, encoding)) of each usable line of one file; the others counted bad."""
    text = str(path)
    good = 0
    for _, number, record in iter_json_objects([path], problems=tally, what="ground-truth record"):
        fields = _fields(record)
        if type(fields) is str:
            tally.record_bad(text, number, fields)
            continue
        good += 1
        yield number, record, fields
    tally.record_good(good)


def read_ground_truth(
    root: Path,
    *,
    uploaded_from: datetime | None = None,
    uploaded_before: datetime | None = None,
    problems: InputProblems | None = None,
) -> Iterator[GroundTruthRecord]:
    """Ground-truth records under ``root``, in upload order: files by upload hour (files outside
    the ``yyyy/mm/dd/HH`` layout first), then path, then line.

    With ``uploaded_from``/``uploaded_before`` only files whose upload hour lies in
    [uploaded_from, uploaded_before) are read; files outside the layout have no known upload hour
    and are always read. A malformed line is counted in ``problems`` with its file and line and
    skipped; without ``problems`` the tolerated share is checked once the files are read.
    """
    tally = InputProblems() if problems is None else problems
    for path, hour in _chosen_files(root, uploaded_from, uploaded_before):
        text = str(path)
        for number, record, (event_id, data, encoding) in _labels_of_file(path, tally):
            yield GroundTruthRecord(
                event_id=event_id,
                data=data,
                encoding=encoding,
                uploaded_hour=hour,
                path=text,
                line=number,
                record=record,
            )
    if problems is None:
        tally.check()


@dataclass(frozen=True, kw_only=True)
class GroundTruthColumns:
    """A window's labels as Arrow columns, in upload order (``read_ground_truth``'s order), with each one's
    record for the merged records. The join (``io.merge.WindowJoin``) works on the columns."""

    event_ids: pa.Array
    data: pa.Array
    encodings: pa.Array
    records: list[dict]

    def __len__(self) -> int:
        return len(self.event_ids)

    @classmethod
    def of(cls, labels: Iterable[GroundTruthRecord]) -> GroundTruthColumns:
        """The columns of labels read one by one."""
        read = list(labels)
        return cls(event_ids=pa.array([label.event_id for label in read], pa.string()),
                   data=pa.array([label.data for label in read], pa.string()),
                   encodings=pa.array([label.encoding for label in read], pa.string()),
                   records=[label.record for label in read])


def read_ground_truth_columns(
    root: Path,
    *,
    uploaded_from: datetime | None = None,
    uploaded_before: datetime | None = None,
    problems: InputProblems | None = None,
) -> GroundTruthColumns:
    """``read_ground_truth``'s labels, same files, order and bad-record policy, as columns."""
    tally = InputProblems() if problems is None else problems
    event_ids: list[str] = []
    data: list[str] = []
    encodings: list[str] = []
    records: list[dict] = []
    for path, _ in _chosen_files(root, uploaded_from, uploaded_before):
        for _, record, (event_id, value, encoding) in _labels_of_file(path, tally):
            event_ids.append(event_id)
            data.append(value)
            encodings.append(encoding)
            records.append(record)
    if problems is None:
        tally.check()
    return GroundTruthColumns(event_ids=pa.array(event_ids, pa.string()), data=pa.array(data, pa.string()),
                              encodings=pa.array(encodings, pa.string()), records=records)
