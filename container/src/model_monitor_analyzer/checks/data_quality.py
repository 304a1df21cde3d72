"""The six data-quality checks of SageMaker's analyzer (contract section 5), as pure functions.

Inputs are the baseline constraints and statistics (already parsed) and the profile of the
current window; outputs are ``Violation`` values and the per-feature drift distances. The
description wording follows the built-in where real files show it (data_type_check); the
other descriptions are ours, in the same style.

Semantics (per feature, after global and per-feature ``monitoring_config`` are merged; a
disabled ``evaluate_constraints`` skips the feature):

* data_type_check: share of present values whose type matches the baseline
  ``inferred_type`` < ``datatype_check_threshold``. Integral matches Integral values only;
  Fractional accepts Fractional and Integral values (a whole number is a valid fraction);
  String matches values that are not numbers.
* completeness_check: ``present / rows`` < the feature's ``completeness``.
* baseline_drift_check: distance (``checks.drift``) > ``comparison_threshold`` (numeric) or
  ``categorical_comparison_threshold`` (String); with ChiSquared + Robust the distance is a
  p-value and the violation is ``p < threshold``.
* missing_column_check / extra_column_check: one violation per baseline feature absent from
  the window / per window column beyond the baseline's.
* categorical_values_check: share of present values inside ``string_constraints.domains``
  < ``domain_content_threshold``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from model_monitor_analyzer.checks.config import (
    CategoricalDriftMethod,
    ComparisonMethod,
    MonitoringConfig,
    apply_config,
)
from model_monitor_analyzer.checks.drift import categorical_distance, chi_square_distance, numeric_distance
from model_monitor_analyzer.constraint_rules import drift_rule, merge_overrides
from model_monitor_analyzer.profile.dataset import ColumnProfile
from model_monitor_analyzer.profile.datatypes import InferredType, ValueKind
from model_monitor_analyzer.profile.kll import KllSketch


class CheckType(enum.Enum):
    """``constraint_check_type`` values of constraint_violations.json."""

    DATA_TYPE = "data_type_check"
    COMPLETENESS = "completeness_check"
    BASELINE_DRIFT = "baseline_drift_check"
    MISSING_COLUMN = "missing_column_check"
    EXTRA_COLUMN = "extra_column_check"
    CATEGORICAL_VALUES = "categorical_values_check"


@dataclass(frozen=True, kw_only=True)
class FeatureConstraint:
    """One entry of constraints.json ``features``."""

    name: str
    inferred_type: InferredType
    completeness: float | None = None
    is_non_negative: bool | None = None
    domains: tuple[str, ...] | None = None
    overrides: Mapping[str, object] | None = None


@dataclass(frozen=True, kw_only=True)
class Constraints:
    """A parsed constraints.json (data quality)."""

    features: tuple[FeatureConstraint, ...]
    monitoring_config: MonitoringConfig = MonitoringConfig()


@dataclass(frozen=True, kw_only=True)
class BaselineFeature:
    """What drift needs from a baseline statistics.json feature."""

    name: str
    inferred_type: InferredType
    sketch: KllSketch | None = None
    categories: Mapping[str, float] | None = None
    mean: float | None = None
    std_dev: float | None = None
    completeness: float | None = None


@dataclass(frozen=True, kw_only=True)
class Violation:
    """One entry of constraint_violations.json."""

    feature_name: str
    constraint_check_type: CheckType
    description: str


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """Violations plus the drift distance of each feature that has one."""

    violations: tuple[Violation, ...]
    drift: Mapping[str, float]
    feature_configs: Mapping[str, MonitoringConfig]


def java_double_text(value: float) -> str:
    """A double as Java's ``Double.toString`` prints it (``100.0``, ``99.7``, ``1.0E-4``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python never uses an exponent in this range
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{power}"


def _percent(share: float) -> str:
    return java_double_text(share * 100) + "%"


# The values a violation's description carries after the built-in's wording (which tools parse
# from the start of the description), so a reader sees baseline against current at once.
_KIND_NAMES = {ValueKind.INTEGRAL: "Integral", ValueKind.FRACTIONAL: "Fractional", ValueKind.BOOLEAN: "Boolean",
               ValueKind.STRING: "String"}
TOP_VALUES = 3


def _short(value: float) -> str:
    """4 significant digits: the appended values are for reading; the exact ones are in statistics.json."""
    return f"{value:.4g}"


def _share(share: float) -> str:
    return f"{share:.1%}"


def _kind_counts_text(column: ColumnProfile) -> str:
    counts = [f"{column.kind_counts[kind]} {name}" for kind, name in _KIND_NAMES.items() if column.kind_counts[kind]]
    return ", ".join(counts)


def _numeric_values_text(baseline: BaselineFeature, column: ColumnProfile) -> str:
    def side(mean: float | None, std_dev: float | None) -> str:
        if mean is None or math.isnan(mean):
            return "no mean"
        spread = "" if std_dev is None or math.isnan(std_dev) else f" (std dev {_short(std_dev)})"
        return f"mean {_short(mean)}{spread}"
    return (f" Baseline {side(baseline.mean, baseline.std_dev)}, "
            f"current {side(column.moments.mean, column.moments.std_dev)}.")


def _largest_share_change_text(baseline: Mapping[str, float], current: Mapping[str, float]) -> str:
    """The category whose share moved most between the baseline and the window (L-infinity's argmax)."""
    base_total, current_total = sum(baseline.values()), sum(current.values())
    if not base_total or not current_total:
        return ""
    changes = {value: abs(baseline.get(value, 0) / base_total - current.get(value, 0) / current_total)
               for value in set(baseline) | set(current)}
    value = max(sorted(changes), key=changes.__getitem__)
    return (f" Largest change: {value!r} is {_share(baseline.get(value, 0) / base_total)} of the baseline, "
            f"{_share(current.get(value, 0) / current_total)} of current data.")


def _matching(column: ColumnProfile, expected: InferredType) -> int:
    counts = column.kind_counts
    if expected is InferredType.INTEGRAL:
        return counts[ValueKind.INTEGRAL]
    if expected is InferredType.FRACTIONAL:
        return counts[ValueKind.FRACTIONAL] + counts[ValueKind.INTEGRAL]
    if expected is InferredType.STRING:
        return counts[ValueKind.STRING] + counts[ValueKind.BOOLEAN]
    return 0


def data_type_violation(
    feature: FeatureConstraint, column: ColumnProfile, config: MonitoringConfig
) -> Violation | None:
    """data_type_check for one feature (None when satisfied or nothing is present)."""
    if feature.inferred_type is InferredType.UNKNOWN or column.present == 0:
        return None
    share = _matching(column, feature.inferred_type) / column.present
    if share >= config.datatype_check_threshold:
        return None
    kind = feature.inferred_type.value
    return Violation(
        feature_name=feature.name,
        constraint_check_type=CheckType.DATA_TYPE,
        description=(
            f"Data type match requirement is not met. Expected data type: {kind}, "
            f"Expected match: {_percent(config.datatype_check_threshold)}. "
            f"Observed: Only {_percent(share)} of data is {kind}. "
            f"Current values: {_kind_counts_text(column)}."
        ),
    )


def completeness_violation(
    feature: FeatureConstraint, column: ColumnProfile, rows: int, baseline: BaselineFeature | None = None
) -> Violation | None:
    """completeness_check for one feature (``baseline`` adds its completeness to the description)."""
    if feature.completeness is None or rows == 0:
        return None
    observed = column.present / rows
    if observed >= feature.completeness:
        return None
    return Violation(
        feature_name=feature.name,
        constraint_check_type=CheckType.COMPLETENESS,
        description=(
            f"Data completeness requirement is not met. Expected completeness: {_percent(feature.completeness)}. "
            f"Observed: Only {_percent(observed)} of data is complete. "
            + (f"Baseline completeness: {_share(baseline.completeness)}, "
               if baseline is not None and baseline.completeness is not None else "")
            + f"current: {column.present} of {rows} records have a value."
        ),
    )


def categorical_values_violation(
    feature: FeatureConstraint, column: ColumnProfile, config: MonitoringConfig
) -> Violation | None:
    """categorical_values_check for one feature with ``domains``."""
    if not feature.domains or column.present == 0 or column.categories is None:
        return None
    domain = set(feature.domains)
    inside = sum(count for value, count in column.categories.items() if value in domain)
    # all values counted, also those a sketch no longer lists (they lie outside any small domain)
    counted = column.category_counts.total if column.category_counts is not None else 0
    if counted == 0:
        return None
    share = inside / counted
    if share >= config.domain_content_threshold:
        return None
    outside = sorted(((count, value) for value, count in column.categories.items() if value not in domain), reverse=True)
    examples = ", ".join(f"{value!r} ({count})" for count, value in outside[:TOP_VALUES])
    return Violation(
        feature_name=feature.name,
        constraint_check_type=CheckType.CATEGORICAL_VALUES,
        description=(
            f"Categorical value match requirement is not met. Expected match: {_percent(config.domain_content_threshold)}. "
            f"Observed: Only {_percent(share)} of data is within the baseline domain."
            + (f" Most frequent values outside it: {examples}." if examples else "")
        ),
    )


def drift_distance(baseline: BaselineFeature, column: ColumnProfile, config: MonitoringConfig) -> float:
    """Distance between baseline and window distributions of one feature (NaN if not computable)."""
    robust = config.comparison_method is ComparisonMethod.ROBUST
    if baseline.inferred_type in (InferredType.INTEGRAL, InferredType.FRACTIONAL):
        if baseline.sketch is None or column.moments.count == 0 or baseline.sketch.total_weight == 0:
            return math.nan
        return numeric_distance(baseline.sketch, column.sketch, robust=robust)
    if baseline.inferred_type is InferredType.STRING:
        if not baseline.categories or not column.categories:
            return math.nan
        if config.categorical_drift_method is CategoricalDriftMethod.CHI_SQUARED:
            return chi_square_distance(baseline.categories, column.categories, robust=robust)
        return categorical_distance(baseline.categories, column.categories, robust=robust)
    return math.nan


def drift_violation(
    feature: FeatureConstraint, baseline: BaselineFeature, distance: float, config: MonitoringConfig,
    column: ColumnProfile | None = None,
) -> Violation | None:
    """baseline_drift_check for one feature, given its distance (``column`` adds the current values
    to the description: means for numbers, the category whose share moved most)."""
    if math.isnan(distance):
        return None
    categorical = baseline.inferred_type is InferredType.STRING
    rule = drift_rule(config, baseline.inferred_type.value)  # the alarms judge the drift metric by this rule too
    threshold, p_value = rule.threshold, rule.p_value
    if not rule.is_violated(distance):
        return None
    if p_value:
        text = f"Baseline drift p-value: {java_double_text(distance)} is below threshold: {java_double_text(threshold)}"
    else:
        text = f"Baseline drift distance: {java_double_text(distance)} exceeds threshold: {java_double_text(threshold)}"
    if column is not None:
        if categorical and baseline.categories and column.categories:
            text += "." + _largest_share_change_text(baseline.categories, column.categories)
        elif not categorical:
            text += "." + _numeric_values_text(baseline, column)
    return Violation(feature_name=feature.name, constraint_check_type=CheckType.BASELINE_DRIFT, description=text)


def column_count_violations(
    baseline_names: Sequence[str], current_names: Sequence[str]
) -> list[Violation]:
    """missing_column_check and extra_column_check from the two column lists."""
    current = set(current_names)
    baseline = set(baseline_names)
    counts = (
        f"Number of columns in current dataset: {len(current_names)}, "
        f"Number of columns in baseline constraints: {len(baseline_names)}"
    )
    violations = [
        Violation(
            feature_name=name,
            constraint_check_type=CheckType.MISSING_COLUMN,
            description=f"There are missing columns in current dataset. {counts}",
        )
        for name in baseline_names
        if name not in current
    ]
    violations += [
        Violation(
            feature_name=name,
            constraint_check_type=CheckType.EXTRA_COLUMN,
            description=f"There are extra columns in current dataset. {counts}",
        )
        for name in current_names
        if name not in baseline
    ]
    return violations


def check_data_quality(
    *,
    constraints: Constraints,
    baseline: Mapping[str, BaselineFeature],
    current: Mapping[str, ColumnProfile],
    rows: int,
) -> CheckResult:
    """Run all six checks of every constrained feature against the window's profile."""
    violations: list[Violation] = []
    drift: dict[str, float] = {}
    configs: dict[str, MonitoringConfig] = {}
    global_config = constraints.monitoring_config
    if global_config.evaluate_constraints:
        violations += column_count_violations([f.name for f in constraints.features], list(current))
    for feature in constraints.features:
        config = apply_config(global_config, feature.overrides)
        configs[feature.name] = config
        column = current.get(feature.name)
        if column is None:
            continue
        base = baseline.get(feature.name)
        if base is not None:
            distance = drift_distance(base, column, config)
            if not math.isnan(distance):
                drift[feature.name] = distance
        if not config.evaluate_constraints:
            continue
        found = [
            data_type_violation(feature, column, config),
            completeness_violation(feature, column, rows, base),
            categorical_values_violation(feature, column, config),
        ]
        if base is not None and config.perform_comparison and feature.name in drift:
            found.append(drift_violation(feature, base, drift[feature.name], config, column))
        violations += [v for v in found if v is not None]
    return CheckResult(violations=tuple(violations), drift=drift, feature_configs=configs)


def with_feature_overrides(constraints: Constraints, overrides: Mapping[str, Mapping[str, object]]) -> Constraints:
    """``constraints`` with extra per-feature ``monitoring_config_overrides`` merged in.

    Lets a deployment tune one feature (``{"day_minutes": {"distribution_constraints":
    {"comparison_threshold": 0.2}}}``) without editing the baseline's constraints.json. Raises
    ``ValueError`` naming features the baseline does not have, or a bad override value.
    """
    known = {feature.name for feature in constraints.features}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"feature overrides name features the baseline does not have: {unknown}; "
                         f"known features: {sorted(known)}")
    features = []
    for feature in constraints.features:
        extra = overrides.get(feature.name)
        if extra:
            merged = merge_overrides(feature.overrides or {}, extra)
            apply_config(MonitoringConfig(), merged)  # validate, naming the key
            feature = replace(feature, overrides=merged)
        features.append(feature)
    return replace(constraints, features=tuple(features))
