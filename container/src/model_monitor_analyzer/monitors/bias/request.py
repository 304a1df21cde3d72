"""The bias runs' typed requests: what a baseline and a monitoring run read, write and decide.

The command line (``command_line``) and the container (``environment``) each build them; values
a user typed (times, numbers, durations) are already parsed and checked, so a run starts from
typed values only. ``SettingNames`` carries how the user set the values that a run still checks
against the data (the output folder, the config, the baseline), so that its messages name an
option on the command line and an environment key in a processing job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from model_monitor_analyzer.io.problems import DEFAULT_MAX_BAD_RECORD_RATIO
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import EngineOptions
from model_monitor_analyzer.report.documents import DocumentKind, placement_on_the_command_line

if TYPE_CHECKING:  # a field's type only: the transform jobs' reader is imported by a run that reads one
    from model_monitor_analyzer.io.batch import BatchSource


@dataclass(frozen=True, kw_only=True)
class SettingNames:
    """How the user named each setting a run's messages mention (default: the command line's options);
    ``place_document`` says where a document of a kind goes, for the fix of a document given in the wrong place."""

    analysis_config: str = "--analysis-config"
    output: str = "--output"
    baseline: str = "--baseline"
    ground_truth_lookback: str = "--ground-truth-lookback"
    ground_truth: str = "--ground-truth"
    capture: str = "--capture"
    window_data: str = "--dataset, --merged, or --capture with --ground-truth"
    max_bad_record_ratio: str = "--max-bad-record-ratio"
    place_document: Callable[[DocumentKind], str] = placement_on_the_command_line


@dataclass(frozen=True, kw_only=True)
class BiasBaselineRequest:
    """A bias baseline: Clarify's analysis of a dataset, written as analysis.json (the monitor's constraints).

    Attributes:
        analysis_config: Clarify's analysis_config.json.
        dataset: the dataset, a file or a folder of files.
        output: the folder for analysis.json and report.html.
        dataset_type: ``text/csv``, ``application/jsonlines``, ``application/json`` or
            ``application/x-parquet`` (default None: the config's ``dataset_type``).
        max_bad_record_ratio: fail when more than this share of the dataset's records is malformed
            (default 0.1, as data quality).
        overwrite: replace an earlier run's files in ``output`` (default False: refuse to).
        names: how the user named the settings, for messages (default: the command line's options).
        engine: what computes the run (default: this machine, ``EngineOptions()``).
    """

    analysis_config: Path
    dataset: Path
    output: Path
    dataset_type: str | None = None
    max_bad_record_ratio: float = DEFAULT_MAX_BAD_RECORD_RATIO
    overwrite: bool = False
    names: SettingNames = field(default_factory=SettingNames)
    engine: EngineOptions = field(default_factory=EngineOptions)


@dataclass(frozen=True, kw_only=True)
class BiasMonitorRequest:
    """A bias-drift run: the window's labelled predictions analysed and checked against a baseline.

    The window's data is one of, in this order: ``dataset`` (a table with the label and the
    predictions), ``merged`` (merged records: capture joined with ground truth), or ``capture``
    with ``ground_truth`` (joined here, labels uploaded in ``window``, captures from up to
    ``ground_truth_lookback`` before it).

    Attributes:
        analysis_config: Clarify's analysis_config.json.
        output: the folder for analysis.json, constraint_violations.json and report.html.
        dataset, merged, capture, ground_truth: the window's data (see above; default None).
        dataset_type: how ``dataset`` is written (default None: the config's ``dataset_type``).
        max_bad_record_ratio: fail when more than this share of ``dataset``'s records is malformed
            (default 0.1, as data quality).
        baseline: the baseline's analysis.json (default None: metrics only, no drift check).
        window: the window ``[start, end)`` (default: open on both sides).
        ground_truth_lookback: how far before the window's start captures of late labels are
            looked for (default 0).
        drift_tolerance: a violation only when a metric moves this much farther from neutral than
            in the baseline (default 0: Clarify's rule).
        features_attribute: JMESPath of the features in JSON requests (default None: the config's
            ``features``).
        inference_attribute: the predicted label: a column of ``dataset``, or its index/JMESPath
            in captured responses (default None).
        probability_attribute: the score, found as ``inference_attribute`` is (default None).
        probability_threshold: a score above it is a positive prediction (default None: the
            config's ``probability_threshold``, else 0.5).
        metrics_dir: the folder for the CloudWatch metric lines (default None: none written).
        metric_time: the metric lines' time (default None: the window's start, else now).
        endpoint, schedule: the metric lines' dimensions (default None).
        progress: progress lines on stderr (default False).
        overwrite: replace an earlier run's files in ``output`` (default False: refuse to).
        names: how the user named the settings, for messages (default: the command line's options).
        batch: ``capture`` holds a batch transform job's files, read as ``io.batch`` says (default None:
            SageMaker capture files); features from their input rows (or the input joined into the output),
            predictions from their output rows, labels joined by inference id.
        engine: what computes the run (default: this machine, ``EngineOptions()``).
    """

    analysis_config: Path
    output: Path
    dataset: Path | None = None
    merged: Path | None = None
    capture: Path | None = None
    ground_truth: Path | None = None
    dataset_type: str | None = None
    max_bad_record_ratio: float = DEFAULT_MAX_BAD_RECORD_RATIO
    baseline: Path | None = None
    window: TimeWindow = field(default_factory=lambda: TimeWindow(start=None, end=None))
    ground_truth_lookback: timedelta = timedelta(0)
    drift_tolerance: float = 0.0
    features_attribute: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = None
    metrics_dir: Path | None = None
    metric_time: datetime | None = None
    endpoint: str | None = None
    schedule: str | None = None
    progress: bool = False
    overwrite: bool = False
    names: SettingNames = field(default_factory=SettingNames)
    batch: BatchSource | None = None
    engine: EngineOptions = field(default_factory=EngineOptions)

    @property
    def joins_captures(self) -> bool:
        """Whether the run joins captures with ground truth itself (no table, no merged records)."""
        return self.dataset is None and self.merged is None
