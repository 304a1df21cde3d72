"""A model-quality monitor's own settings: the problem type, and the settings class that the monitor's parameters
and the facade's ``ModelQualityProps`` share."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_cdk import Duration

from ..settings import DEFAULT_GROUND_TRUTH_LOOKBACK, MonitorProps, MonitorSettings


class ProblemType(enum.Enum):
    """The model's task, spelled as SageMaker's ``problem_type``."""

    BINARY_CLASSIFICATION = "BinaryClassification"
    MULTICLASS_CLASSIFICATION = "MulticlassClassification"
    REGRESSION = "Regression"


@dataclass(frozen=True, kw_only=True)
class ModelQualitySettings(MonitorSettings):
    """A ``ModelQualityMonitor``'s own settings (see its parameters).

    :param problem_type: the model's task (required).
    :param inference_attribute: where the prediction is in the captured output. Default: none (binary
        models may give ``probability_attribute`` instead).
    :param probability_attribute: binary only: where the positive class's probability is. Default: none.
    :param probability_threshold: binary only. Default: 0.5 when ``probability_attribute`` is given.
    :param positive_label: binary only: the positive class's label value. Default: 1/true.
    :param ground_truth_lookback: how long after its inference a label may arrive. Default: 1 day.
    """

    problem_type: ProblemType
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float | None = None
    positive_label: str | None = None
    ground_truth_lookback: Duration = DEFAULT_GROUND_TRUTH_LOOKBACK


@dataclass(frozen=True, kw_only=True)
class ModelQualityProps(MonitorProps):
    """A ``ModelQualityMonitor`` (``monitors/model_quality/``); ``settings`` is required, e.g.
    ``ModelQualitySettings(problem_type=ProblemType.BINARY_CLASSIFICATION, probability_attribute="0")``."""

    settings_type: ClassVar[type[MonitorSettings]] = ModelQualitySettings

    settings: ModelQualitySettings | Mapping[str, Any] | None = None
