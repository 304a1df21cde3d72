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
* completeness_check: ``present / rows`` < the feature's ``completeness``; judged sample-size-aware
  (registry methods, and the baseline's statistics count its missing values), also the rise of the
  share of missing values over the baseline's (``rise_p_value``, one-sided Fisher's exact test) must be a
  discovery of the window's decision (below).
  The suggested ``completeness`` is the baseline's own share, so without the test half of the unchanged
  windows of a feature with missing values fall below it by chance.
* baseline_drift_check, the built-in's rule (``drift_method`` ``sagemaker``, what a file without
  the key asks for): distance (``checks.drift``) > ``comparison_threshold`` (numeric) or
  ``categorical_comparison_threshold`` (String); with ChiSquared + Robust the distance is a
  p-value and the violation is ``p < threshold``;
* baseline_drift_check, a registry method (``auto`` and the others, what the analyzer's baselines
  ask for): the effect is at least the method's threshold and the test's p-value is a discovery of
  the window's decision (below); a method without a test flags on the effect alone;
* dataset_drift_check (registry methods only): at least ``drift_share_threshold`` of the features
  whose drift is compared drift (one violation, feature name ``*``).
* missing_column_check / extra_column_check: one violation per baseline feature absent from
  the window / per window column beyond the baseline's.
* categorical_values_check: share of present values inside ``string_constraints.domains``
  < ``domain_content_threshold``.
* non_finite_values_check (registry methods only, numeric baseline features): the share of present
  values that are numbers but not finite ones (``inf``, ``-inf``, beyond float64) rose above the
  baseline's by at least ``NON_FINITE_RISE`` and the one-sided Fisher's exact test of the rise
  (``checks.drift.rise_p_value``: exact for a window of 10 values as for one of a million) is a
  discovery of the window's decision (below). Such values count as present for completeness and as
  Fractional for the type check, so without this check a window of 80 % infinities would pass. The baseline's share is read
  from what statistics.json holds: present values minus the values in the KLL sketch (which holds
  the finite numbers only, exactly: its weights add up to them). Values of the baseline that were
  text count there too, so the baseline's share is an upper bound and the check errs toward
  silence.

The window's decision (``window_discoveries``): every p-value-judged test of the window (the drift tests, the
completeness tests, the non-finite-value tests), each keyed by (check, feature), is judged in one false-discovery
decision at ``significance_level`` in which each check has an equal share, as the model-quality monitor decides
(``quality_decision.joint_discoveries``: Simes within a check, Benjamini-Hochberg over the checks, then within
each check chosen); each check raises violations for its own discoveries only. Three procedures, one per check,
would let an unchanged window raise some violation about once per check that has candidates (up to three times
the level); one keeps it at about the level. One pooled procedure would too, but a check of one or two tests (a
feature's missing values) would then be judged among some twenty drift tests and found half as often in small
windows. The descriptions give the p-value and the number of the window's tests judged together.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from model_monitor_analyzer.checks.config import (
    CategoricalDriftMethod,
    ComparisonMethod,
    MonitoringConfig,
    apply_config,
)
from model_monitor_analyzer.checks.drift import (
    METHOD_IMPORTS,
    SIMULATED_P_VALUE_FLOOR,
    SIMULATIONS,
    DriftMeasure,
    categorical_distance,
    chi_square_distance,
    measure_categorical,
    measure_numeric,
    numeric_distance,
    rise_p_value,
)
from model_monitor_analyzer.checks.quality_decision import joint_discoveries
from model_monitor_analyzer.constraint_rules import (
    DRIFT_METHODS,
    SAGEMAKER,
    DriftRule,
    drift_rule,
    merge_overrides,
)
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
    DATASET_DRIFT = "dataset_drift_check"
    NON_FINITE_VALUES = "non_finite_values_check"


#: The feature name of violations about the whole dataset.
DATASET = "*"


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
    present: float | None = None
    missing: float | None = None


@dataclass(frozen=True, kw_only=True)
class Violation:
    """One entry of constraint_violations.json."""

    feature_name: str
    constraint_check_type: CheckType
    description: str


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """Violations plus the drift distance of each feature that has one.

    :param p_values: the drift test's p-value of each feature judged by a tested registry method.
    :param drifted: the features with a drift violation.
    :param drift_share: the share of compared features that drift (registry methods), else None.
    """

    violations: tuple[Violation, ...]
    drift: Mapping[str, float]
    feature_configs: Mapping[str, MonitoringConfig]
    p_values: Mapping[str, float] = field(default_factory=dict)
    methods: Mapping[str, str] = field(default_factory=dict)
    drifted: frozenset[str] = frozenset()
    drift_share: float | None = None


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


def _p_value_text(p_value: float) -> str:
    """``p-value 0.0123``; the simulation's least p-value said as a bound, which it is (none of its draws reached the
    window's statistic)."""
    if p_value == SIMULATED_P_VALUE_FLOOR:
        return f"p-value under {_short(p_value)} (none of {SIMULATIONS:,} simulated draws reached it)"
    return f"p-value {_short(p_value)}"


def _share(share: float) -> str:
    return f"{share:.1%}"


def _significance_text(level: float, window_tests: int) -> str:
    """How a p-value was judged: in the window's one decision over all its tests (``window_discoveries``)."""
    tests = ("the 1 test of the window" if window_tests == 1
             else f"the {window_tests} tests of the window judged together, each check an equal share")
    return f"significant at a false-discovery rate of {_short(level)} over {tests}"


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


@dataclass(frozen=True)
class CompletenessTest:
    """A window's completeness below the feature's constraint, with the one-sided test that its share of missing
    values is above the baseline's."""

    p_value: float
    baseline_missing: int
    baseline_rows: int


def completeness_test(feature: FeatureConstraint, column: ColumnProfile, rows: int,
                      baseline: BaselineFeature | None) -> CompletenessTest | None:
    """The test of a window whose completeness is below the constraint, when the baseline's statistics count its
    present and missing values; None otherwise (the literal rule then judges)."""
    if feature.completeness is None or rows == 0 or column.present / rows >= feature.completeness:
        return None
    if baseline is None or baseline.present is None or baseline.missing is None:
        return None
    present, missing = round(baseline.present), round(baseline.missing)
    if present + missing == 0:
        return None
    return CompletenessTest(p_value=rise_p_value(missing, present + missing, rows - column.present, rows),
                            baseline_missing=missing, baseline_rows=present + missing)


def completeness_violation(
    feature: FeatureConstraint, column: ColumnProfile, rows: int, baseline: BaselineFeature | None = None, *,
    test: CompletenessTest | None = None, significant: bool = True, level: float = 0.0, window_tests: int = 0,
) -> Violation | None:
    """completeness_check for one feature (``baseline`` adds its completeness to the description). With a
    ``test`` (sample-size-aware), the window's rise of missing values must also be a discovery (``significant``)
    of the window's ``window_tests`` judged together at false-discovery rate ``level`` (``window_discoveries``)."""
    if feature.completeness is None or rows == 0:
        return None
    observed = column.present / rows
    if observed >= feature.completeness:
        return None
    if test is not None and not significant:
        return None
    evidence = ""
    if test is not None:
        evidence = (f" p-value {_short(test.p_value)} of the rise of missing values over the baseline's "
                    f"({test.baseline_missing} of {test.baseline_rows} records), {_significance_text(level, window_tests)}.")
    return Violation(
        feature_name=feature.name,
        constraint_check_type=CheckType.COMPLETENESS,
        description=(
            f"Data completeness requirement is not met. Expected completeness: {_percent(feature.completeness)}. "
            f"Observed: Only {_percent(observed)} of data is complete. "
            + (f"Baseline completeness: {java_double_text(float(f'{100 * baseline.completeness:.6g}'))}%, "
               if baseline is not None and baseline.completeness is not None else "")
            + f"current: {column.present} of {rows} records have a value." + evidence
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


#: The smallest rise of the share of non-finite values that counts, as for the share of a category
#: (``chi_squared``'s threshold): a trivial rise never does, however large the window.
NON_FINITE_RISE = DRIFT_METHODS["chi_squared"].default_threshold


@dataclass(frozen=True)
class NonFiniteShares:
    """A numeric feature's present values that are numbers but not finite ones, in the baseline (at most:
    see the module docstring) and in the window, with the test of their difference."""

    baseline_count: int
    baseline_present: int
    current_count: int
    current_present: int
    p_value: float

    @property
    def baseline_share(self) -> float:
        return self.baseline_count / self.baseline_present

    @property
    def current_share(self) -> float:
        return self.current_count / self.current_present

    @property
    def rise(self) -> float:
        return self.current_share - self.baseline_share


def non_finite_shares(baseline: BaselineFeature, column: ColumnProfile) -> NonFiniteShares | None:
    """The shares of non-finite values of a numeric feature and the p-value of their difference; None when
    the window has none, or the baseline is not numeric or lacks its sketch or counts."""
    if baseline.inferred_type not in (InferredType.INTEGRAL, InferredType.FRACTIONAL):
        return None
    if baseline.sketch is None or not baseline.present or column.present == 0:
        return None
    numbers = column.kind_counts[ValueKind.FRACTIONAL] + column.kind_counts[ValueKind.INTEGRAL]
    current = numbers - column.moments.count
    if current <= 0:
        return None
    present = round(baseline.present)
    base = min(max(present - baseline.sketch.total_weight, 0), present)
    return NonFiniteShares(baseline_count=base, baseline_present=present, current_count=current,
                           current_present=column.present,
                           p_value=rise_p_value(base, present, current, column.present))


def non_finite_violation(
    feature: FeatureConstraint, shares: NonFiniteShares, *, significant: bool, level: float, window_tests: int
) -> Violation | None:
    """non_finite_values_check for one feature: its share rose by ``NON_FINITE_RISE`` or more and the rise is
    a discovery (``significant``) of the window's ``window_tests`` judged together at false-discovery rate
    ``level`` (``window_discoveries``)."""
    if shares.rise < NON_FINITE_RISE or not significant:
        return None
    return Violation(
        feature_name=feature.name,
        constraint_check_type=CheckType.NON_FINITE_VALUES,
        description=(
            f"Non-finite value requirement is not met. Expected at most {_share(shares.baseline_share)} of values "
            f"that are not finite numbers, as in the baseline. Observed: {_share(shares.current_share)} of data is "
            f"inf, -inf or beyond float64 ({shares.current_count} of {shares.current_present} present values); "
            f"p-value {_short(shares.p_value)}, {_significance_text(level, window_tests)}."
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


def drift_measure(baseline: BaselineFeature, column: ColumnProfile, rule: DriftRule) -> DriftMeasure:
    """One feature's drift by its rule: the built-in's distance, or a registry method's effect and p-value."""
    if rule.method == SAGEMAKER:
        return DriftMeasure(SAGEMAKER, math.nan, None)  # see drift_distance
    if baseline.inferred_type in (InferredType.INTEGRAL, InferredType.FRACTIONAL):
        if baseline.sketch is None or column.moments.count == 0 or baseline.sketch.total_weight == 0:
            return DriftMeasure(rule.method, math.nan, None)
        return measure_numeric(rule.method, baseline.sketch, column.sketch, baseline.std_dev)
    if baseline.inferred_type is InferredType.STRING:
        if not baseline.categories or not column.categories:
            return DriftMeasure(rule.method, math.nan, None)
        counted = column.category_counts.total if column.category_counts is not None else None
        return measure_categorical(rule.method, baseline.categories, column.categories,
                                   baseline_total=baseline.present, current_total=counted)
    return DriftMeasure(rule.method, math.nan, None)


def drift_violation(
    feature: FeatureConstraint, baseline: BaselineFeature, distance: float, config: MonitoringConfig,
    column: ColumnProfile | None = None, *, p_value: float | None = None, significant: bool = True,
    level: float | None = None, window_tests: int = 0,
) -> Violation | None:
    """baseline_drift_check for one feature, given its distance (``column`` adds the current values
    to the description: means for numbers, the category whose share moved most). For a tested
    registry method, ``significant`` says whether its ``p_value`` was a discovery of the window's
    ``window_tests`` judged together at false-discovery rate ``level`` (default: the rule's)."""
    if math.isnan(distance):
        return None
    categorical = baseline.inferred_type is InferredType.STRING
    rule = drift_rule(config, baseline.inferred_type.value)  # the alarms judge the drift metric by this rule too
    threshold = rule.threshold
    if not rule.is_violated(distance, significant):
        return None
    if rule.p_value:
        text = f"Baseline drift p-value: {java_double_text(distance)} is below threshold: {java_double_text(threshold)}"
    else:
        text = f"Baseline drift distance: {java_double_text(distance)} exceeds threshold: {java_double_text(threshold)}"
        if rule.method != SAGEMAKER:
            text += f" ({rule.method}"
            if rule.needs_evidence and p_value is not None:
                used = rule.significance_level if level is None else level
                text += f"; {_p_value_text(p_value)}, {_significance_text(used or 0, window_tests)}"
            text += ")"
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


def window_discoveries(families: Mapping[CheckType, Mapping[str, float]], level: float
                       ) -> dict[CheckType, frozenset[str]]:
    """The window's p-value-judged tests as one decision: ``families`` maps each check to its tests (feature ->
    p-value; NaN takes part in nothing), each check an equal share of ``level`` whatever its number of tests
    (``quality_decision.joint_discoveries``). Each check's discoveries, under its own name (empty when none). With
    nothing changed, a window raises any of these violations with a probability of at most about ``level`` (Simes'
    bound, for independent or positively dependent tests), however many checks and features it has."""
    return joint_discoveries(families, level)


def check_data_quality(
    *,
    constraints: Constraints,
    baseline: Mapping[str, BaselineFeature],
    current: Mapping[str, ColumnProfile],
    rows: int,
) -> CheckResult:
    """Run all six checks of every constrained feature against the window's profile (and, for the
    registry's methods, the dataset-level drift check)."""
    violations: list[Violation] = []
    drift: dict[str, float] = {}
    p_values: dict[str, float] = {}
    methods: dict[str, str] = {}
    configs: dict[str, MonitoringConfig] = {}
    global_config = constraints.monitoring_config
    if global_config.evaluate_constraints:
        violations += column_count_violations([f.name for f in constraints.features], list(current))
    compared: list[FeatureConstraint] = []
    for feature in constraints.features:
        config = apply_config(global_config, feature.overrides, strict=True)
        configs[feature.name] = config
        column = current.get(feature.name)
        base = baseline.get(feature.name)
        if column is None or base is None:
            continue
        rule = drift_rule(config, base.inferred_type.value)
        methods[feature.name] = rule.method
        if rule.method == SAGEMAKER:
            distance = drift_distance(base, column, config)
        else:
            measured = drift_measure(base, column, rule)
            distance = measured.distance
            if rule.needs_evidence and measured.p_value is not None and not math.isnan(measured.p_value) \
                    and config.evaluate_constraints and config.perform_comparison:
                p_values[feature.name] = measured.p_value
        if not math.isnan(distance):
            drift[feature.name] = distance
            if config.evaluate_constraints and config.perform_comparison:
                compared.append(feature)
    non_finite = _non_finite_tests(constraints, configs, baseline, current)
    completeness = _completeness_tests(constraints, configs, baseline, current, rows)
    level = global_config.significance_level
    families = {CheckType.BASELINE_DRIFT: p_values,
                CheckType.COMPLETENESS: {name: test.p_value for name, test in completeness.items()},
                CheckType.NON_FINITE_VALUES: {name: shares.p_value for name, shares in non_finite.items()}}
    found_by = window_discoveries(families, level)
    window_tests = sum(len(tests) for tests in families.values())
    drifted: set[str] = set()
    for feature in constraints.features:
        config = configs[feature.name]
        column = current.get(feature.name)
        if column is None or not config.evaluate_constraints:
            continue
        base = baseline.get(feature.name)
        found = [
            data_type_violation(feature, column, config),
            completeness_violation(feature, column, rows, base, test=completeness.get(feature.name),
                                   significant=feature.name in found_by[CheckType.COMPLETENESS],
                                   level=level, window_tests=window_tests),
            categorical_values_violation(feature, column, config),
        ]
        if base is not None and config.perform_comparison and feature.name in drift:
            drifted_violation = drift_violation(
                feature, base, drift[feature.name], config, column, p_value=p_values.get(feature.name),
                significant=feature.name in found_by[CheckType.BASELINE_DRIFT], level=level,
                window_tests=window_tests)
            if drifted_violation is not None:
                drifted.add(feature.name)
            found.append(drifted_violation)
        if feature.name in non_finite:
            found.append(non_finite_violation(
                feature, non_finite[feature.name], significant=feature.name in found_by[CheckType.NON_FINITE_VALUES],
                level=level, window_tests=window_tests))
        violations += [v for v in found if v is not None]
    share = None
    if global_config.sample_size_aware and global_config.evaluate_constraints and compared:
        share = len(drifted) / len(compared)
        if drifted and share >= global_config.drift_share_threshold:
            violations.append(Violation(
                feature_name=DATASET, constraint_check_type=CheckType.DATASET_DRIFT,
                description=(f"Dataset drift: {len(drifted)} of {len(compared)} compared features drift "
                             f"({_share(share)}), at least the threshold of {_share(global_config.drift_share_threshold)}. "
                             f"Drifting: {', '.join(sorted(drifted)[:10])}{' ...' if len(drifted) > 10 else ''}.")))
    return CheckResult(violations=tuple(violations), drift=drift, feature_configs=configs, p_values=p_values,
                       methods=methods, drifted=frozenset(drifted), drift_share=share)


def _non_finite_tests(constraints: Constraints, configs: Mapping[str, MonitoringConfig],
                      baseline: Mapping[str, BaselineFeature], current: Mapping[str, ColumnProfile]
                      ) -> dict[str, NonFiniteShares]:
    """The non-finite shares of the features judged sample-size-aware whose window has such values and a
    p-value: the family the false-discovery control of non_finite_values_check runs over."""
    tested: dict[str, NonFiniteShares] = {}
    for feature in constraints.features:
        config = configs[feature.name]
        column, base = current.get(feature.name), baseline.get(feature.name)
        if column is None or base is None or not config.sample_size_aware:
            continue
        if not (config.evaluate_constraints and config.perform_comparison):
            continue
        shares = non_finite_shares(base, column)
        if shares is not None and shares.rise > 0 and not math.isnan(shares.p_value):
            tested[feature.name] = shares
    return tested


def _completeness_tests(constraints: Constraints, configs: Mapping[str, MonitoringConfig],
                        baseline: Mapping[str, BaselineFeature], current: Mapping[str, ColumnProfile], rows: int
                        ) -> dict[str, CompletenessTest]:
    """The completeness tests of the features judged sample-size-aware whose window is below their constraint: the
    family the false-discovery control of completeness_check runs over."""
    tested: dict[str, CompletenessTest] = {}
    for feature in constraints.features:
        config = configs[feature.name]
        column = current.get(feature.name)
        if column is None or not config.sample_size_aware or not config.evaluate_constraints:
            continue
        test = completeness_test(feature, column, rows, baseline.get(feature.name))
        if test is not None and not math.isnan(test.p_value):
            tested[feature.name] = test
    return tested


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
            apply_config(MonitoringConfig(), merged, strict=True)  # validate, naming the key
            feature = replace(feature, overrides=merged)
        features.append(feature)
    return replace(constraints, features=tuple(features))


def drift_imports(constraints: Constraints, baseline: Mapping[str, BaselineFeature]) -> tuple[str, ...]:
    """The modules the window's drift methods import (``drift.METHOD_IMPORTS``), to import while the input is read."""
    methods = {drift_rule(apply_config(constraints.monitoring_config, feature.overrides), base.inferred_type.value).method
               for feature in constraints.features if (base := baseline.get(feature.name)) is not None}
    return tuple(sorted({module for method in methods for module in METHOD_IMPORTS.get(method, ())}))


def with_drift_method(constraints: Constraints, method: str) -> Constraints:
    """``constraints`` judged by the ``drift_method`` ``method`` (a registry name, ``auto`` or ``sagemaker``),
    whatever the file says; per-feature overrides still apply over it."""
    return replace(constraints, monitoring_config=replace(constraints.monitoring_config, drift_method=method,
                                                          drift_threshold=None))
