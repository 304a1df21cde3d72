"""A bias-drift monitor's own settings: facets, and the settings class that the monitor's parameters and the facade's
``BiasProps`` share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_cdk import Duration

from ..settings import DEFAULT_GROUND_TRUTH_LOOKBACK, MonitorProps, MonitorSettings

Value = str | int | float
ColumnRef = str | int


@dataclass(frozen=True)
class Facet:
    """A sensitive column and its sensitive group.

    :param name_or_index: the column's name (or 0-based index into ``headers``).
    :param value_or_threshold: the values that make a row part of the sensitive group, e.g. ``[1]`` or
        ``["F"]``; for a continuous column one number, the exclusive lower bound of the group (``[40]``:
        ages above 40). None: one group per distinct value of a categorical column (Clarify's behaviour).
    """

    name_or_index: ColumnRef
    value_or_threshold: Sequence[Value] | Value | None = None

    def values(self) -> tuple[Value, ...] | None:
        """``value_or_threshold`` as a tuple (a single value becomes a one-element tuple)."""
        given = self.value_or_threshold
        if given is None:
            return None
        if isinstance(given, (str, int, float)):
            return (given,)
        return tuple(given)

    def to_config(self) -> dict[str, object]:
        """The ``facet`` entry of analysis_config.json."""
        entry: dict[str, object] = {"name_or_index": self.name_or_index}
        values = self.values()
        if values is not None:
            entry["value_or_threshold"] = list(values)
        return entry


def group_name(values: Sequence[Value]) -> str:
    """How analysis.json and the metrics' ``FacetValue`` / ``LabelValue`` dimensions name a group of
    categorical values: Python's ``str`` of each, joined by commas (``[1]`` -> ``"1"``, ``["F", "X"]`` ->
    ``"F,X"``). A threshold on a continuous column is named by its interval instead (e.g. ``"(40, 90]"``,
    with the data's maximum), known only after a run."""
    return ",".join(str(v) for v in values)


@dataclass(frozen=True, kw_only=True)
class BiasSettings(MonitorSettings):
    """A ``BiasDriftMonitor``'s own settings (see its parameters).

    :param label: the label's name or 0-based index into ``headers`` (required).
    :param label_values_or_threshold: the positive label values, or one threshold (required).
    :param facets: the sensitive columns (required).
    :param group_variable: Default: none. :param headers: Default: none.
    :param probability_threshold: Default: Clarify's 0.5.
    :param features_attribute, inference_attribute, probability_attribute: Default: none.
    :param pre_training_methods, post_training_methods: Default: all of each stage.
    :param ground_truth_lookback: Default: 1 day, as for model quality.
    :param drift_tolerance: Default: 0 (Clarify's rule).
    """

    label: ColumnRef
    label_values_or_threshold: Sequence[Value]
    facets: Sequence[Facet]
    group_variable: ColumnRef | None = None
    headers: Sequence[str] | None = None
    probability_threshold: float | None = None
    features_attribute: str | None = None
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    pre_training_methods: Sequence[str] | None = None
    post_training_methods: Sequence[str] | None = None
    ground_truth_lookback: Duration | None = DEFAULT_GROUND_TRUTH_LOOKBACK
    drift_tolerance: float = 0.0


@dataclass(frozen=True, kw_only=True)
class BiasProps(MonitorProps):
    """A ``BiasDriftMonitor`` (``monitors/bias/``); ``settings`` is required, e.g.
    ``BiasSettings(label="churn", label_values_or_threshold=[1], facets=[Facet("senior", [1])])``."""

    settings_type: ClassVar[type[MonitorSettings]] = BiasSettings

    settings: BiasSettings | Mapping[str, Any] | None = None
