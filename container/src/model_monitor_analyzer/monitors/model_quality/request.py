"""The typed requests of the model-quality runs: a baseline from a labelled dataset, a monitoring window
of captures joined with their ground-truth labels (or of merged records).

The command line (``command_line``) and the job environment (``environment``) each build them, with
``model_settings`` checking the model's attributes alike for both; ``run`` takes nothing else. Each
request carries ``names``: how the user spelled its settings, so that a message names the option or
the environment key that was set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from model_monitor_analyzer.checks import quality_decision as qd
from model_monitor_analyzer.checks.model_quality import ProblemType
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.batch import BatchSource
from model_monitor_analyzer.io.datasets import DatasetFormat
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import EngineOptions, InputOptions, checked_number
from model_monitor_analyzer.report.documents import DocumentKind, placement_on_the_command_line

PROBLEM_TYPES = tuple(p.value for p in ProblemType)
COMPARISONS = (qd.SIGNIFICANCE, qd.THRESHOLD)


@dataclass(frozen=True, kw_only=True)
class ModelQualityNames:
    """How the user named each setting of a run, for its messages (default: the command line's options;
    the job environment's keys in a container, see ``environment.ENVIRONMENT_NAMES``).

    ``place_document`` says where a document of a kind goes, for the fix of a document given in the
    wrong place.
    """

    problem_type: str = "--problem-type"
    inference_attribute: str = "--inference-attribute"
    probability_attribute: str = "--probability-attribute"
    probability_threshold: str = "--probability-threshold"
    ground_truth_attribute: str = "--ground-truth-attribute"
    positive_label: str = "--positive-label"
    dataset: str = "--dataset"
    capture: str = "--capture"
    ground_truth: str = "--ground-truth"
    merged: str = "--merged"
    merged_output: str = "--merged-output"
    constraints: str = "--constraints"
    output: str = "--output"
    ground_truth_lookback: str = "--ground-truth-lookback"
    max_bad_record_ratio: str = "--max-bad-record-ratio"
    place_document: Callable[[DocumentKind], str] = placement_on_the_command_line


#: the command line's spelling, the default of every request and helper
OPTION_NAMES = ModelQualityNames()


@dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """How predictions and labels are read and turned into metrics.

    Attributes:
        problem_type: which metrics.
        inference_attribute: column (dataset), 0-based CSV index or JMESPath (captured output) of the
            predicted label or value (default None: only with a probability threshold).
        probability_attribute: the same for the probability of the positive class (default None).
        probability_threshold: binary only: predict the positive class when the probability is above
            it, instead of reading the inference attribute (default None).
        ground_truth_attribute: column of the label (dataset) or JMESPath into JSON labels (default
            None: a monitoring run reads labels as uploaded).
        positive_label: binary only: the label of the positive class (default None: 1 or true).
    """

    problem_type: ProblemType
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = None
    ground_truth_attribute: str | None = None
    positive_label: str | None = None


def model_settings(
    *,
    problem_type: str | None,
    inference_attribute: str | None,
    probability_attribute: str | None,
    probability_threshold: float | None,
    ground_truth_attribute: str | None,
    positive_label: str | None,
    require_ground_truth_attribute: bool,
    names: ModelQualityNames,
) -> ModelSettings:
    """The settings the user gave (blank texts as unset), refused with a message naming ``names``'
    settings when they cannot work together."""
    if not problem_type:
        raise AnalyzerInputError(f"{names.problem_type} is required: one of {', '.join(PROBLEM_TYPES)}")
    try:
        kind = ProblemType(problem_type)
    except ValueError:
        raise AnalyzerInputError(
            f"{names.problem_type} {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}"
        ) from None
    probability = probability_attribute or None
    inference = inference_attribute or None
    threshold = probability_threshold
    if threshold is not None:
        threshold = checked_number(float(threshold), name=names.probability_threshold)
        if kind is not ProblemType.BINARY_CLASSIFICATION:
            raise AnalyzerInputError(f"{names.probability_threshold} only applies to BinaryClassification")
        if probability is None:
            raise AnalyzerInputError(
                f"{names.probability_threshold} needs {names.probability_attribute} to threshold"
            )
    if inference is None and threshold is None:
        if probability is not None and kind is ProblemType.BINARY_CLASSIFICATION:
            raise AnalyzerInputError(
                f"{names.inference_attribute} is required, or {names.probability_threshold} to make the predicted "
                f"label from {names.probability_attribute}"
            )
        raise AnalyzerInputError(
            f"{names.inference_attribute} is required (or a probability attribute and threshold)"
        )
    ground_truth = ground_truth_attribute or None
    if require_ground_truth_attribute and ground_truth is None:
        raise AnalyzerInputError(f"{names.ground_truth_attribute} is required: the column that holds the label")
    return ModelSettings(
        problem_type=kind,
        inference_attribute=inference,
        probability_attribute=probability,
        probability_threshold=threshold,
        ground_truth_attribute=ground_truth,
        positive_label=positive_label or None,
    )


def threshold_margin(value: float | None, *, name: str) -> float:
    """The baseline's threshold margin (0 when unset); a negative one is the user's error naming ``name``."""
    margin = value or 0.0
    if margin < 0:
        raise AnalyzerInputError(f"{name} must not be negative, got {margin}")
    return margin


@dataclass(frozen=True, kw_only=True)
class ModelQualityBaselineRequest:
    """Compute every metric of a labelled ``dataset`` and suggest constraints, written to ``output``.

    Attributes:
        dataset: a CSV, JSON Lines or Parquet file, or a folder of them.
        output: folder for statistics.json, constraints.json and the report.
        settings: the model's attributes and problem type (``ground_truth_attribute`` required).
        dataset_format: the dataset's format (default None: from the file extension).
        reading: how the dataset is read (default ``InputOptions()``: header row, 10 % bad records).
        threshold_margin: suggest thresholds this much worse than the baseline values (default 0:
            the built-in's thresholds, the baseline values).
        comparison: how monitors judge the thresholds, ``significance`` or ``threshold`` (default
            significance, see ``checks.quality_decision``).
        overwrite: replace an earlier run's files in ``output`` (default False: refuse to).
        names: how the user named the settings (default: the command line's options).
        engine: what computes the run (default: this machine, ``EngineOptions()``).
    """

    dataset: Path
    output: Path
    settings: ModelSettings
    dataset_format: DatasetFormat | None = None
    reading: InputOptions = InputOptions()
    threshold_margin: float = 0.0
    comparison: str = qd.SIGNIFICANCE
    overwrite: bool = False
    names: ModelQualityNames = OPTION_NAMES
    engine: EngineOptions = EngineOptions()


@dataclass(frozen=True, kw_only=True)
class ModelQualityMonitorRequest:
    """Judge one window's predictions against their labels, and against the baseline's constraints.

    The window's input is either ``merged`` (records the built-in's merge job wrote) or ``capture``
    and ``ground_truth``, which the run joins by inference id.

    Attributes:
        output: folder for statistics.json, constraints.json, constraint_violations.json and the report.
        settings: the model's attributes and problem type.
        capture: folder of captured ``*.jsonl`` files (default None: ``merged`` instead).
        ground_truth: folder of ground-truth files, ``yyyy/mm/dd/HH`` by upload hour (default None).
        merged: folder of merged records (default None: ``capture`` and ``ground_truth``).
        constraints: the baseline's constraints.json (default None: no violation is judged).
        window: labels uploaded in it are read, with the captures of [start - lookback, end)
            (default: all of them).
        ground_truth_lookback: how far before the window's start the captures of late labels are
            looked for (default 0: the same hours).
        merged_output: folder for the merged records (default None: OUTPUT/merge).
        metrics_dir: folder for the CloudWatch metric lines (default None: none written).
        metric_time: the metric lines' timestamp (default None: the window's start, else now).
        endpoint: the ``Endpoint`` dimension of the metrics (default None: left out).
        schedule: the ``MonitoringSchedule`` dimension of the metrics (default None: left out).
        reading: how the input is read (default ``InputOptions()``).
        overwrite: replace an earlier run's files in ``output`` (default False: refuse to).
        names: how the user named the settings (default: the command line's options).
        batch: ``capture`` holds a batch transform job's files, read as ``io.batch`` says (default None:
            SageMaker capture files); their output rows are joined with the labels by inference id.
        engine: what computes the run (default: this machine, ``EngineOptions()``).
    """

    output: Path
    settings: ModelSettings
    capture: Path | None = None
    ground_truth: Path | None = None
    merged: Path | None = None
    constraints: Path | None = None
    window: TimeWindow = TimeWindow()
    ground_truth_lookback: timedelta = timedelta(0)
    merged_output: Path | None = None
    metrics_dir: Path | None = None
    metric_time: datetime | None = None
    endpoint: str | None = None
    schedule: str | None = None
    reading: InputOptions = InputOptions()
    overwrite: bool = False
    names: ModelQualityNames = OPTION_NAMES
    batch: BatchSource | None = None
    engine: EngineOptions = EngineOptions()

    def __post_init__(self) -> None:
        # --ground-truth alone may be left out: a baseline with the label-free estimation estimates the window
        # (the run reads the constraints and says so otherwise)
        if self.merged is None and self.capture is None:
            names = self.names
            raise AnalyzerInputError(
                f"{names.capture} and {names.ground_truth} are required (or {names.merged} for merged records)"
            )
