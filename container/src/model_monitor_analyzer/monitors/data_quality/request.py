"""The typed requests of the data-quality runs: a baseline from a dataset, a monitoring run over captures.

The command line (``command_line``) and the job environment (``environment``) each build them;
``run`` takes nothing else. ``feature_overrides_from_json`` is the text form both adapters read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from model_monitor_analyzer.checks.config import CategoricalDriftMethod
from model_monitor_analyzer.constraint_rules import AUTO, SAGEMAKER, expand_override_shorthand
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.batch import BatchSource
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import EngineOptions, InputFormat, InputOptions
from model_monitor_analyzer.report.documents import DocumentKind, placement_on_the_command_line


@dataclass(frozen=True, kw_only=True)
class DataQualityNames:
    """How the user named each setting of a run, for its messages (default: the command line's options;
    the job environment's keys in a container, see ``environment.ENVIRONMENT_NAMES``).

    ``place_document`` says where a document of a kind goes, for the fix of a document given in the
    wrong place.
    """

    dataset: str = "--dataset"
    statistics: str = "--statistics"
    constraints: str = "--constraints"
    output: str = "--output"
    feature_overrides: str = "--feature-overrides"
    max_bad_record_ratio: str = "--max-bad-record-ratio"
    place_document: Callable[[DocumentKind], str] = placement_on_the_command_line


#: the command line's spelling, the default of every request
OPTION_NAMES = DataQualityNames()


@dataclass(frozen=True, kw_only=True)
class DataQualityBaselineRequest:
    """Profile ``dataset`` and suggest constraints, written to ``output``.

    Attributes:
        dataset: the dataset file, or a folder of data files.
        output: folder for statistics.json and constraints.json.
        format: the dataset's format (default None: from the file extension, CSV when unknown).
        reading: how the dataset is read (default ``InputOptions()``).
        categorical_drift_method: written into the suggested ``monitoring_config`` (default
            None: not written, so monitors use LInfinity). Only the built-in's rule reads it.
        drift_method: the suggested ``drift_method`` (default None: ``auto``, or ``sagemaker`` when
            ``categorical_drift_method`` is given, which only the built-in's rule reads).
        post_analytics_processor: a script defining ``postprocess_handler``, run after the
            files are written (default None).
        overwrite: replace an earlier run's files in ``output`` (default False: refuse to).
        engine: what computes the run (default: this machine, ``EngineOptions()``).
        names: how the user named the settings (default: the command line's options).
    """

    dataset: Path
    output: Path
    format: InputFormat | None = None
    reading: InputOptions = InputOptions()
    categorical_drift_method: CategoricalDriftMethod | None = None
    drift_method: str | None = None
    post_analytics_processor: Path | None = None
    overwrite: bool = False
    engine: EngineOptions = EngineOptions()
    names: DataQualityNames = OPTION_NAMES

    @property
    def suggested_drift_method(self) -> str:
        """The ``drift_method`` the suggested constraints ask for."""
        if self.drift_method is not None:
            return self.drift_method
        return SAGEMAKER if self.categorical_drift_method is not None else AUTO


@dataclass(frozen=True, kw_only=True)
class DataQualityMonitorRequest:
    """Check the traffic in ``capture`` (within ``window``) against a baseline; reports go to ``output``.

    Attributes:
        capture: folder of captured ``*.jsonl`` files (or a dataset, with ``input_format``).
        statistics: the baseline's statistics.json.
        constraints: the baseline's constraints.json.
        output: folder for statistics.json, constraints.json and constraint_violations.json.
        input_format: how ``capture`` is laid out (default ``InputFormat.CAPTURE``).
        reading: how the input is read (default ``InputOptions()``).
        window: the captured records read, by inference time (default: all of them). Only
            data-capture input has times.
        feature_overrides: per-feature ``monitoring_config`` overrides applied on top of the
            constraints, ``{feature: {monitoring_config keys}}`` (default: none); see
            ``feature_overrides_from_json`` for the text form.
        drift_method: judge every feature's drift by this ``drift_method`` whatever the constraints
            say (default None: as the constraints say; a file without the key asks for ``sagemaker``).
        metrics_dir: folder for the CloudWatch metric lines (default None: none written).
        metric_time: the metric lines' timestamp (default None: the window's start, else now).
        endpoint: the ``Endpoint`` dimension of the metrics (default None: left out).
        schedule: the ``MonitoringSchedule`` dimension of the metrics (default None: left out).
        post_analytics_processor: a script defining ``postprocess_handler``, run after the
            files are written (default None).
        overwrite: replace an earlier run's files in ``output`` (default False: refuse to).
        engine: what computes the run (default: this machine, ``EngineOptions()``).
        names: how the user named the settings (default: the command line's options).
        batch: ``capture`` holds a batch transform job's files, read as ``io.batch`` says (default None:
            SageMaker capture files); their input rows are the features.
    """

    capture: Path
    statistics: Path
    constraints: Path
    output: Path
    input_format: InputFormat = InputFormat.CAPTURE
    reading: InputOptions = InputOptions()
    window: TimeWindow = TimeWindow()
    feature_overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    drift_method: str | None = None
    metrics_dir: Path | None = None
    metric_time: datetime | None = None
    endpoint: str | None = None
    schedule: str | None = None
    post_analytics_processor: Path | None = None
    overwrite: bool = False
    engine: EngineOptions = EngineOptions()
    names: DataQualityNames = OPTION_NAMES
    batch: BatchSource | None = None


def feature_overrides_from_json(text: str, *, name: str = "--feature-overrides") -> dict[str, dict]:
    """Per-feature overrides given as JSON text: ``{"<feature>": {<monitoring_config keys>}}``.

    Two short keys keep the text within the 256 characters of a job environment value:
    ``"drift": 0.2`` (both drift thresholds) and ``"check": false`` (``evaluate_constraints``).
    """
    try:
        return _overrides_document(text)
    except ValueError as exc:
        raise AnalyzerInputError(f"{name}: {exc}") from None


def _overrides_document(text: str) -> dict:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise ValueError('expected an object of objects, e.g. {"age": {"drift": 0.2}} or {"age": '
                         '{"distribution_constraints": {"comparison_threshold": 0.2}}}')
    return {name: expand_override_shorthand(config) for name, config in document.items()}


