"""Read a monitor's results back: its executions, and each window's statistics, violations and metrics.

Like the SageMaker SDK's ``list_executions()`` and ``latest_monitoring_statistics()``, for the
files this analyzer (or the built-in) writes, from a local folder or from S3::

    from model_monitor_analyzer.results import MonitoringResults

    results = MonitoringResults.open("s3://my-bucket/reports/data-quality/churn/churn-hourly")
    latest = results.latest_execution()
    latest.status, latest.window_start, latest.violations()
    results.metrics_frame()          # pandas: one row per window and drift distance or metric

An execution is a folder that holds a window's files (report.html, statistics.json,
constraint_violations.json or analysis.json). Its status, window and metrics come from the
summary its report.html embeds; for folders without one (the built-in's) they are taken from the
files and the ``yyyy/mm/dd/HH`` of the folder's path. A window's ``outcome.json`` (the container
writes it once a run has finished) decides its status before anything else; a folder whose files
cannot be read as what they should be has the status ``Incomplete`` instead of a guess. S3 needs boto3 (the ``aws`` extra); the
DataFrame methods need pandas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from model_monitor_analyzer.checks.concept_shift import (
    DEFAULT_LAST,
    DEFAULT_OUTSIDE,
    PersistentShift,
    RealisedAgainstEstimate,
    persistent_concept_shift,
)
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.report.html.model_quality import realised_against_estimate
from model_monitor_analyzer.report.html.page import REPORT_FILE, read_summary

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
ANALYSIS_FILE = "analysis.json"
OUTCOME_FILE = "outcome.json"  # jobs.outcome.OUTCOME_FILE, without importing the jobs
WINDOW_FILES = frozenset({REPORT_FILE, STATISTICS_FILE, VIOLATIONS_FILE, ANALYSIS_FILE})
STATUSES = frozenset({"Completed", "CompletedWithViolations", "NoData"})
SUMMARY_TAIL_BYTES = 64 << 10
_HOUR_PATH = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})$")
_METRIC_SECTIONS = ("binary_classification_metrics", "multiclass_classification_metrics", "regression_metrics")


class ResultStore(Protocol):
    """Where results are kept: a local folder or an S3 prefix."""

    def files(self) -> list[str]:
        """Every file below the root, as paths relative to it with ``/`` separators."""

    def read(self, relative: str) -> bytes:
        """The bytes of one file."""

    def read_tail(self, relative: str, size: int) -> bytes:
        """The last ``size`` bytes of one file (all of it when it is smaller)."""

    def locate(self, relative: str) -> str:
        """The file's or folder's address a user can open (a path, or an ``s3://`` URI)."""


@dataclass(frozen=True)
class LocalFolder:
    """Results in a folder on this machine."""

    root: Path

    def files(self) -> list[str]:
        if not self.root.is_dir():
            raise AnalyzerInputError("results folder not found; pass a folder of monitoring reports",
                                     path=str(self.root))
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())

    def read(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def read_tail(self, relative: str, size: int) -> bytes:
        with (self.root / relative).open("rb") as file:
            file.seek(max(file.seek(0, 2) - size, 0))
            return file.read()

    def locate(self, relative: str) -> str:
        return str(self.root / relative) if relative else str(self.root)


@dataclass(frozen=True)
class S3Prefix:
    """Results under an S3 prefix, read with a boto3 S3 client."""

    bucket: str
    prefix: str
    client: Any = field(repr=False)

    def files(self) -> list[str]:
        start = self.prefix.rstrip("/") + "/" if self.prefix else ""
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            keys += [item["Key"][len(start):] for item in page.get("Contents", []) if not item["Key"].endswith("/")]
        return sorted(keys)

    def _key(self, relative: str) -> str:
        return f"{self.prefix.rstrip('/')}/{relative}" if self.prefix else relative

    def read(self, relative: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(relative))["Body"].read()

    def read_tail(self, relative: str, size: int) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(relative), Range=f"bytes=-{size}")["Body"].read()

    def locate(self, relative: str) -> str:
        return f"s3://{self.bucket}/{self._key(relative)}"


def store_for(location: str | Path, *, s3_client: Any = None) -> ResultStore:
    """The store of ``location``: ``s3://bucket/prefix`` or a local folder."""
    text = str(location)
    if not text.startswith("s3://"):
        return LocalFolder(Path(location))
    bucket, _, prefix = text[len("s3://"):].partition("/")
    if not bucket:
        raise AnalyzerInputError(f"{text!r} names no bucket; use s3://bucket/prefix")
    if s3_client is None:
        try:
            import boto3
        except ModuleNotFoundError:
            raise AnalyzerInputError("reading results from S3 needs boto3: "
                                     "pip install 'model-monitor-analyzer[aws]'") from None
        s3_client = boto3.client("s3")
    return S3Prefix(bucket=bucket, prefix=prefix.rstrip("/"), client=s3_client)


def _time(text: object) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(UTC)


def _json(data: bytes, where: str) -> dict:
    try:
        document = json.loads(data)
    except ValueError as error:
        raise AnalyzerInputError(f"not valid JSON ({error})", path=where) from None
    return document if isinstance(document, dict) else {}


@dataclass(frozen=True, eq=False)
class Execution:
    """One folder of results: a monitoring window (or a baseline), read lazily."""

    store: ResultStore = field(repr=False)
    folder: str
    names: frozenset[str]

    def _read(self, name: str) -> bytes | None:
        if name not in self.names:
            return None
        return self.store.read(f"{self.folder}/{name}" if self.folder else name)

    def _document(self, name: str) -> dict | None:
        data = self._read(name)
        return None if data is None else _json(data, self.store.locate(f"{self.folder}/{name}"))

    @cached_property
    def summary(self) -> dict | None:
        """The summary embedded in the folder's report.html (None when it has none)."""
        if REPORT_FILE not in self.names:
            return None
        # the summary closes the page: its tail is enough unless the summary is larger
        relative = f"{self.folder}/{REPORT_FILE}" if self.folder else REPORT_FILE
        summary = read_summary(self.store.read_tail(relative, SUMMARY_TAIL_BYTES))
        return summary if summary is not None else read_summary(self.store.read(relative))

    @property
    def location(self) -> str:
        """The folder's path or ``s3://`` URI."""
        return self.store.locate(self.folder)

    @property
    def report_location(self) -> str | None:
        """Where the folder's report.html is (None when there is none)."""
        return self.store.locate(f"{self.folder}/{REPORT_FILE}") if REPORT_FILE in self.names else None

    @cached_property
    def kind(self) -> str:
        """``monitor`` for a window, ``baseline`` for a baseline."""
        if self.summary is not None:
            return self.summary.get("kind", "monitor")
        return "monitor" if _HOUR_PATH.search(self.folder) or VIOLATIONS_FILE in self.names else "baseline"

    @cached_property
    def monitor_type(self) -> str:
        """``data-quality``, ``model-quality`` or ``bias``."""
        if self.summary is not None and self.summary.get("monitor_type"):
            return self.summary["monitor_type"]
        if ANALYSIS_FILE in self.names:
            return "bias"
        statistics = self.statistics() or {}
        return "model-quality" if any(key in statistics for key in _METRIC_SECTIONS) else "data-quality"

    @cached_property
    def window_start(self) -> datetime | None:
        """Start of the window (from the report, else from the folder's ``yyyy/mm/dd/HH``)."""
        if self.summary is not None and (self.summary.get("window") or {}).get("start"):
            return _time(self.summary["window"]["start"])
        found = _HOUR_PATH.search(self.folder)
        return datetime(*map(int, found.groups()), tzinfo=UTC) if found else None

    @property
    def window_end(self) -> datetime | None:
        """End of the window (None when only the folder's hour is known)."""
        return _time((self.summary or {}).get("window", {}).get("end")) if self.summary else None

    @cached_property
    def status(self) -> str:
        """Completed, CompletedWithViolations or NoData (Baseline for a baseline); Incomplete when the
        folder's files cannot be read as what they should be (a cut upload, a hand-edited file)."""
        outcome = self._outcome()
        if outcome is not None:
            return outcome
        try:
            if self.summary is not None and self.summary.get("status") in STATUSES | {"Baseline"}:
                return self.summary["status"]
            if self.kind == "baseline":
                return "Baseline"
            if STATISTICS_FILE not in self.names and ANALYSIS_FILE not in self.names:
                return "NoData"
            return "CompletedWithViolations" if self.violations() else "Completed"
        except AnalyzerInputError:
            return "Incomplete"

    def _outcome(self) -> str | None:
        """The status ``outcome.json`` gives (Incomplete when it is unreadable), None without one."""
        try:
            document = self._document(OUTCOME_FILE)
        except AnalyzerInputError:
            return "Incomplete"
        if document is None:
            return None
        status = document.get("status")
        return status if status in STATUSES else "Incomplete"

    def statistics(self) -> dict | None:
        """statistics.json (data or model quality), as a dict."""
        return self._document(STATISTICS_FILE)

    def constraints(self) -> dict | None:
        """constraints.json (the window's suggested constraints, or a baseline's)."""
        return self._document(CONSTRAINTS_FILE)

    def analysis(self) -> dict | None:
        """analysis.json (bias)."""
        return self._document(ANALYSIS_FILE)

    def violations(self) -> list[dict]:
        """The entries of constraint_violations.json (empty when there is none); an unreadable file is an
        ``AnalyzerInputError`` naming it."""
        return list((self._document(VIOLATIONS_FILE) or {}).get("violations", []))

    def violation_count(self) -> int | None:
        """How many violations the window has: its report's count, else its constraint_violations.json's
        entries; None when neither can be read (the window is ``Incomplete``; the others are still listed)."""
        if self.summary is not None and isinstance(self.summary.get("violations"), int):
            return self.summary["violations"]
        try:
            return len(self.violations())
        except AnalyzerInputError:
            return None

    def metrics(self) -> list[dict]:
        """Each drift distance or metric the window is judged by, with its threshold (from report.html):
        ``{"name", "measure", "value", "threshold", "lower_threshold", "violated", "baseline"}``."""
        return list((self.summary or {}).get("series", []))

    def realised_against_estimate(self) -> list[RealisedAgainstEstimate]:
        """A labelled model-quality window's realised metrics with the 95 % interval of their label-free estimate on
        the same rows (from report.html; from statistics.json for a report written before it carried them); [] for
        other windows."""
        summary = self.summary or {}
        listed = summary.get("realised_against_estimate")
        if listed is None and self.monitor_type == "model-quality" and STATISTICS_FILE in self.names:
            names = {point.get("name") for point in summary.get("series", [])}
            if any(f"estimated_{n}" in names for n in names):  # estimates beside realised metrics: labels
                try:
                    listed = realised_against_estimate(self.statistics() or {})
                except AnalyzerInputError:
                    listed = []
        found = [RealisedAgainstEstimate.from_document(entry) for entry in listed or [] if isinstance(entry, dict)]
        return [entry for entry in found if entry is not None]

    def violations_frame(self):
        """``violations()`` as a pandas DataFrame."""
        return _frame(self.violations())

    def metrics_frame(self):
        """``metrics()`` as a pandas DataFrame."""
        return _frame(self.metrics())


def _frame(rows: Iterable[dict], columns: list[str] | None = None):
    try:
        import pandas as pd
    except ModuleNotFoundError:
        raise AnalyzerInputError("DataFrames need pandas: pip install pandas") from None
    return pd.DataFrame(list(rows), columns=columns)


class MonitoringResults:
    """All the executions below a folder or S3 prefix (one monitor's, or several monitors')."""

    def __init__(self, store: ResultStore) -> None:
        self.store = store

    @classmethod
    def open(cls, location: str | Path, *, s3_client: Any = None) -> MonitoringResults:
        """Results at ``location``: ``s3://bucket/prefix`` (boto3's default client unless given) or a folder."""
        return cls(store_for(location, s3_client=s3_client))

    @cached_property
    def _folders(self) -> list[Execution]:
        folders: dict[str, set[str]] = {}
        for relative in self.store.files():
            path = PurePosixPath(relative)
            folders.setdefault("" if str(path.parent) == "." else str(path.parent), set()).add(path.name)
        return [Execution(store=self.store, folder=folder, names=frozenset(names))
                for folder, names in sorted(folders.items()) if names & WINDOW_FILES]

    def list_executions(self, *, monitor_type: str | None = None) -> list[Execution]:
        """Monitoring windows, oldest first (``monitor_type`` keeps one type's)."""
        found = [e for e in self._folders if e.kind == "monitor"
                 and (monitor_type is None or e.monitor_type == monitor_type)]
        return sorted(found, key=lambda e: (e.window_start or datetime.min.replace(tzinfo=UTC), e.folder))

    def baselines(self) -> list[Execution]:
        """Baseline folders found below the location."""
        return [e for e in self._folders if e.kind == "baseline"]

    def latest_execution(self, *, monitor_type: str | None = None) -> Execution | None:
        """The newest window (None when there is none)."""
        executions = self.list_executions(monitor_type=monitor_type)
        return executions[-1] if executions else None

    def latest_monitoring_statistics(self, *, monitor_type: str | None = None) -> dict | None:
        """statistics.json of the newest window that has one."""
        for execution in reversed(self.list_executions(monitor_type=monitor_type)):
            if STATISTICS_FILE in execution.names:
                return execution.statistics()
        return None

    def latest_monitoring_constraint_violations(self, *, monitor_type: str | None = None) -> list[dict]:
        """constraint_violations.json entries of the newest window that ran a check."""
        for execution in reversed(self.list_executions(monitor_type=monitor_type)):
            if VIOLATIONS_FILE in execution.names:
                return execution.violations()
        return []

    def concept_shift(self, *, outside: int = DEFAULT_OUTSIDE, last: int = DEFAULT_LAST) -> list[PersistentShift]:
        """Per metric estimated without labels, whether its realised value lay outside the estimate's 95 % interval
        in at least ``outside`` of the ``last`` labelled model-quality windows (a possible concept shift, see
        ``checks.concept_shift``); ``windows`` are positions in ``list_executions(monitor_type="model-quality")``."""
        executions = self.list_executions(monitor_type="model-quality")
        return persistent_concept_shift([e.realised_against_estimate() for e in executions], outside=outside,
                                        last=last)

    def executions_frame(self):
        """One row per window: type, start, end, status, records, violations, folder, report."""
        rows = [{"monitor_type": e.monitor_type, "window_start": e.window_start, "window_end": e.window_end,
                 "status": e.status, "records": (e.summary or {}).get("records"),
                 "violations": e.violation_count(),
                 "location": e.location, "report": e.report_location} for e in self.list_executions()]
        return _frame(rows, ["monitor_type", "window_start", "window_end", "status", "records", "violations",
                             "location", "report"])

    def metrics_frame(self):
        """One row per window and drift distance or metric: its value, threshold and whether it violated."""
        rows = [{"monitor_type": e.monitor_type, "window_start": e.window_start, **metric}
                for e in self.list_executions() for metric in e.metrics()]
        return _frame(rows, ["monitor_type", "window_start", "name", "measure", "value", "threshold",
                             "lower_threshold", "violated", "baseline"])
