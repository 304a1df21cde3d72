"""Data-quality alarms: per-feature drift (the distance, or the analyzer's verdict) and completeness, with the
thresholds of the baseline's constraints read by the analyzer's own rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from ...alarm_factory import (
    AlarmCategory,
    AlarmedMonitor,
    AlarmOptions,
    CreatedAlarm,
    MonitorAlarms,
    check_windows,
    local_baseline_document,
    rules,
)
from ...baseline import Baseline, BaselineKind
from ...errors import ConfigurationError
from .settings import FeatureOverride


class DataQualityAlarmSubject(AlarmedMonitor, Protocol):
    """What the data-quality alarms read from their monitor."""

    @property
    def feature_overrides(self) -> Mapping[str, FeatureOverride]: ...
    @property
    def drift_method_name(self) -> str | None: ...
    def metric_drift(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric: ...
    def metric_drift_violation(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric: ...
    def metric_completeness(self, feature: str, *, period: Duration | None = None) -> cloudwatch.Metric: ...


@dataclass(frozen=True, kw_only=True)
class FeatureThresholds:
    """A feature's alarm thresholds, read from a data-quality constraints.json.

    :param drift_threshold: alarm when the drift metric is above this (or below it, for a p-value);
        None when the baseline does not compare this feature's distribution.
    :param drift_is_p_value: the drift metric is a chi-squared p-value (String feature with
        ``categorical_drift_method=ChiSquared`` and ``comparison_method=Robust``): small is drift.
    :param completeness: alarm when the share of non-null values is below this; None when unconstrained.
    :param drift_verdict: the analyzer judges this feature's drift with a registry method (``auto`` and the
        others), whose verdict weighs the window's size and the other features: the alarm watches the
        analyzer's verdict metric (``feature_drift_violation_<f>``), not the distance against a fixed threshold.
    :param drift_method: the method that judges the feature (``sagemaker`` for the built-in's rule).
    """

    name: str
    inferred_type: str | None = None
    drift_threshold: float | None = None
    drift_is_p_value: bool = False
    completeness: float | None = None
    drift_verdict: bool = False
    drift_method: str = "sagemaker"


def data_quality_thresholds(constraints: Mapping[str, Any],
                            overrides: Mapping[str, Mapping[str, Any]] | None = None,
                            drift_method: str | None = None) -> list[FeatureThresholds]:
    """Per-feature thresholds of a data-quality ``constraints.json`` (contract §4, §5.2), judged by the
    analyzer's rules (``model_monitor_analyzer.constraint_rules``).

    ``overrides`` are a deployment's per-feature overrides (``FeatureOverride.to_config()``, shorthand
    allowed), applied over the feature's own ``monitoring_config_overrides`` as the analyzer applies them.
    Drift: ``comparison_threshold`` for numeric features, ``categorical_comparison_threshold``
    (default: ``comparison_threshold``, itself default 0.1) for String features. Features whose metrics
    are off (``emit_metrics``) or whose constraints are not evaluated are left out; drift is None where
    ``perform_comparison`` is Disabled. Completeness: the feature's ``completeness``.
    ``drift_method`` is the monitor's ``drift_method`` for every feature (default: the constraints').
    Raises ``ValueError`` naming a bad ``monitoring_config`` key or an unknown overridden feature.
    """
    extra = {name: rules.expand_override_shorthand(config) for name, config in (overrides or {}).items()}
    result = []
    for feature in rules.feature_rules(constraints, extra, drift_method):
        if not feature.emits_metrics or not feature.evaluated:
            continue
        drift = feature.drift
        result.append(FeatureThresholds(
            name=feature.name, inferred_type=feature.inferred_type,
            drift_threshold=None if drift is None else drift.threshold,
            drift_is_p_value=drift is not None and drift.p_value, completeness=feature.minimum_completeness,
            drift_verdict=drift is not None and drift.method != rules.SAGEMAKER,
            drift_method=rules.SAGEMAKER if drift is None else drift.method))
    return result


# Per-feature alarms of one data-quality monitor at most: two per feature (drift, completeness) for 150
# features, leaving room in a 500-resource stack for the rest of a model's monitoring (about 100 resources).
MAX_FEATURE_ALARMS = 300


@dataclass(frozen=True, kw_only=True)
class DataQualityAlarmOptions(AlarmOptions):
    """Which data-quality alarms to create, and their thresholds.

    :param features: features to alarm on. Default: every feature of the baseline's constraints
        (read from a ``Baseline.from_directory`` folder); required for S3 and deploy-time baselines.
    :param drift_thresholds: per-feature drift thresholds that replace the baseline's.
    :param default_drift_threshold: drift threshold for features the constraints do not describe
        (``features`` given explicitly with an S3 or deploy-time baseline). Default 0.1 (the built-in's).
    :param completeness_thresholds: per-feature minimum completeness replacing the baseline's.
    :param drift: create per-feature drift alarms. Default True.
    :param completeness: create per-feature completeness alarms. Default True (only for features
        with a completeness constraint or an explicit threshold).
    :param drift_windows: consecutive windows above the threshold before the alarm fires. Default 1.
    """

    features: Sequence[str] | None = None
    drift_thresholds: Mapping[str, float] = field(default_factory=dict)
    default_drift_threshold: float = 0.1
    completeness_thresholds: Mapping[str, float] = field(default_factory=dict)
    drift: bool = True
    completeness: bool = True
    drift_windows: int = 1


def add_health_alarms(alarms: MonitorAlarms, monitor: DataQualityAlarmSubject, *, baseline: Baseline | None,
                      options: DataQualityAlarmOptions) -> list[CreatedAlarm]:
    """Per-feature drift and completeness alarms of a ``DataQualityMonitor``."""
    check_windows(alarms, "drift_windows", options.drift_windows)
    constraints = local_baseline_document(baseline, BaselineKind.DATA_QUALITY)
    # the monitor's own per-feature overrides apply to its alarms too, merged as the analyzer merges
    # them (explicit alarm thresholds win)
    overrides = monitor.feature_overrides
    known: dict[str, FeatureThresholds] = {}
    if constraints:
        names = {f.get("name") for f in constraints.get("features") or [] if isinstance(f, Mapping)}
        try:
            known = {t.name: t for t in data_quality_thresholds(
                constraints, {n: o.to_config() for n, o in overrides.items() if n in names},
                monitor.drift_method_name)}
        except ValueError as error:
            raise ConfigurationError(alarms, "baseline", getattr(baseline, "path", None),
                                     f"The baseline's constraints.json is not valid: {error}.") from None
    if options.features is not None:
        features = list(options.features)
    elif known:
        features = list(known)
    elif constraints is not None:
        # a local baseline was given, so "only known from a local baseline" would mislead
        raise ConfigurationError(alarms, "features", None,
                                 f"The local baseline {getattr(baseline, 'path', '')!r} constrains no features: give "
                                 "the data-quality baseline folder (statistics.json + constraints.json of "
                                 "`model-monitor-analyzer baseline`), or DataQualityAlarmOptions(features=[...]).")
    else:
        raise ConfigurationError(alarms, "features", None,
                                 "The features are only known from a local baseline (Baseline.from_directory); "
                                 "pass DataQualityAlarmOptions(features=[...]) for S3 and deploy-time baselines.")
    unknown = sorted(set(options.drift_thresholds) | set(options.completeness_thresholds))
    unknown = [f for f in unknown if f not in features]
    if unknown:
        raise ConfigurationError(alarms, "drift_thresholds", unknown,
                                 f"Give thresholds only for alarmed features: {features}.")
    unchecked = {name for name, o in overrides.items() if o.check is False}
    # features the constraints do not describe take the monitor's drift override directly
    monitor_drift = {name: o.drift_threshold for name, o in overrides.items()
                     if o.drift_threshold is not None and name not in known}
    alarmed = [f for f in features if f not in unchecked]
    planned = sum(
        (options.drift and (feature in options.drift_thresholds or feature in monitor_drift or feature not in known
                            or known[feature].drift_verdict or known[feature].drift_threshold is not None))
        + (options.completeness and (feature in options.completeness_thresholds
                                     or (feature in known and known[feature].completeness is not None)))
        for feature in alarmed)
    if planned > MAX_FEATURE_ALARMS:
        # caught here with the fix, before CloudFormation's limit of 500 resources a stack stops synth
        raise ConfigurationError(
            alarms, "features", f"{len(alarmed)} features",
            f"{len(alarmed)} features make up to {planned} per-feature alarms, more than the {MAX_FEATURE_ALARMS} "
            "a monitor creates (a CloudFormation stack holds at most 500 resources). Alarm on the features that "
            "matter, DataQualityAlarmOptions(features=[...]), or turn the per-feature alarms off "
            "(drift=False, completeness=False) and alarm on the share of drifted features, "
            "monitor.metric_drift_share().")
    created = []
    reports = monitor.report_s3_uri
    for feature in alarmed:
        spec = known.get(feature, FeatureThresholds(name=feature, drift_threshold=options.default_drift_threshold))
        threshold = options.drift_thresholds.get(feature, monitor_drift.get(feature, spec.drift_threshold))
        if options.drift and spec.drift_verdict and feature not in options.drift_thresholds:
            created.append(alarms.add_alarm(
                monitor, AlarmCategory.DRIFT, monitor.metric_drift_violation(feature), subject=feature,
                threshold=1, windows=options.drift_windows, effect_threshold=threshold,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=(f"Feature '{feature}' drifted from its baseline: the analyzer's {spec.drift_method} "
                             f"verdict (effect at least {threshold:g}, significant at the window's size). "
                             f"Reports under {reports}.")))
        elif options.drift and threshold is not None:
            below = spec.drift_is_p_value and feature not in options.drift_thresholds
            created.append(alarms.add_alarm(
                monitor, AlarmCategory.DRIFT, monitor.metric_drift(feature), subject=feature,
                threshold=threshold, windows=options.drift_windows,
                operator=(cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD if below
                          else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=(f"Feature '{feature}' drifted from its baseline: "
                             + ("chi-squared p-value below " if below else "distance above ")
                             + f"{threshold:g}. Reports under {reports}.")))
        minimum = options.completeness_thresholds.get(feature, spec.completeness)
        if options.completeness and minimum is not None:
            created.append(alarms.add_alarm(
                monitor, AlarmCategory.COMPLETENESS, monitor.metric_completeness(feature), subject=feature,
                threshold=minimum, windows=1,
                operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.IGNORE,
                description=f"Feature '{feature}' is less complete than its baseline: share of non-null "
                            f"values below {minimum:g}. Reports under {reports}."))
    return created
