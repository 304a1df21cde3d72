"""A data-quality monitor's own settings: the drift methods, per-feature overrides, and the settings class that the
monitor's parameters and the facade's ``DataQualityProps`` share."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..capture_columns import BaselineColumns
from ..settings import MonitorProps, MonitorSettings


class DriftMethod(enum.Enum):
    """How a feature's drift is judged (the README's "How a violation is decided").

    ``AUTO`` picks a sample-size-aware method per column kind (Wasserstein for numbers, the largest change of a
    category's share with Pearson's chi-square for categories); ``SAGEMAKER`` is the built-in's rule (L-infinity against
    ``comparison_threshold``); the others are the registry's methods, each with its own default threshold.
    """

    AUTO = "auto"
    SAGEMAKER = "sagemaker"
    LINF_SIMPLE = "linf_simple"
    LINF_ROBUST = "linf_robust"
    KS = "ks"
    WASSERSTEIN = "wasserstein"
    PSI = "psi"
    JENSEN_SHANNON = "jensen_shannon"
    HELLINGER = "hellinger"
    CHI_SQUARED = "chi_squared"
    G_TEST = "g_test"
    TWO_PROPORTION_Z = "two_proportion_z"


@dataclass(frozen=True, kw_only=True)
class FeatureOverride:
    """Monitor one feature differently from the baseline's ``monitoring_config``.

    :param drift_threshold: the smallest drift effect that counts for this feature, in its method's
        unit (a distance of the built-in's rule, a Wasserstein distance in standard deviations, a PSI, ...).
        Default: the method's default (the baseline's threshold for the built-in's rule).
    :param method: the drift method of this feature. Default: the monitor's or the baseline's.
    :param check: evaluate this feature's constraints at all. Default: as the baseline says.
    """

    drift_threshold: float | None = None
    method: DriftMethod | None = None
    check: bool | None = None

    def to_config(self) -> dict[str, object]:
        """The override in the analyzer's short form (``drift``, ``method``, ``check``), which it expands
        into the feature's ``monitoring_config_overrides``; short because a job's environment values hold
        at most 256 characters."""
        config: dict[str, object] = {}
        if self.drift_threshold is not None:
            config["drift"] = self.drift_threshold
        if self.method is not None:
            config["method"] = self.method.value
        if self.check is not None:
            config["check"] = self.check
        return config


@dataclass(frozen=True, kw_only=True)
class DataQualitySettings(MonitorSettings):
    """A ``DataQualityMonitor``'s own settings (see its parameters).

    :param feature_overrides: per-feature settings on top of the baseline's constraints. Default: none.
    :param baseline_columns: what the baseline's columns are. Default: decided at synth.
    :param drift_method: every feature's drift method over the constraints'. Default: as they say.
    """

    feature_overrides: Mapping[str, FeatureOverride] | None = None
    baseline_columns: BaselineColumns | None = None
    drift_method: DriftMethod | None = None


@dataclass(frozen=True, kw_only=True)
class DataQualityProps(MonitorProps):
    """A ``DataQualityMonitor``. :param settings: Default: ``DataQualitySettings()``."""

    settings_type: ClassVar[type[MonitorSettings]] = DataQualitySettings

    settings: DataQualitySettings | Mapping[str, Any] | None = None
