"""What a baseline's constraints mean: thresholds, methods, overrides and metric directions.

The one definition, read by the analyzer's checks (which write the violations) and by the
constructs' alarms (which watch the metrics), so that an alarm and a violation never disagree:

* data quality (contract sections 4 and 5): the global ``monitoring_config``, a feature's
  ``monitoring_config_overrides`` (also where the SDK's fixture nests it, under
  ``string_constraints`` / ``num_constraints``), the deployment's own overrides, and from them
  each feature's drift threshold, whether its distance is a p-value, its completeness minimum,
  and whether it is evaluated at all and publishes metrics;
* model quality (contract section 8): which metrics get worse when they fall and which when they
  grow, and how a ``comparison_operator`` compares a value with its threshold;
* bias drift (contract section 9): the neutral point each bias metric's distance is measured from.

Standard library only, and nothing imported from the rest of the analyzer: the constructs load
this very file at synth time (``cdk_model_monitor.bundled.analyzer_module``) without the
analyzer's columnar dependencies.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

# -- monitoring_config -----------------------------------------------------------------------------


class ComparisonMethod(enum.Enum):
    """Numeric and categorical L-infinity variants (DG prose: ``linf_simple``/``linf_robust``)."""

    SIMPLE = "Simple"
    ROBUST = "Robust"


class CategoricalDriftMethod(enum.Enum):
    """Distance for String features."""

    LINFINITY = "LInfinity"
    CHI_SQUARED = "ChiSquared"


# -- the drift-method registry ---------------------------------------------------------------------
#
# What each method means, in one table that the checks (which compute it, ``checks/drift.py``), the
# report and the constructs' alarms read. A method measures an *effect* (a distance between the
# baseline's distribution and the window's) and, when it is a test, the *evidence* for a change (a
# p-value at the window's size). A sample-size-aware method flags a feature when the effect is at
# least its threshold AND the p-value survives the Benjamini-Hochberg false-discovery control over
# all features of the window; a method without a test (the built-in's L-infinity) flags on the
# effect alone.

NUMERIC = "numeric"
CATEGORICAL = "categorical"

#: ``drift_method`` values that are not one method: ``auto`` picks one per feature (numeric:
#: ``wasserstein``, String: ``chi_squared``); ``sagemaker`` judges every feature as the built-in does
#: (``comparison_method``, ``comparison_threshold``, ``categorical_drift_method``).
AUTO = "auto"
SAGEMAKER = "sagemaker"
#: The false-discovery rate of a data-quality window's one decision over its drift, completeness and
#: non-finite-value tests (Benjamini-Hochberg). Under no change at all it is also about the chance that a
#: window raises any of these violations.
DEFAULT_SIGNIFICANCE_LEVEL = 0.005
#: A dataset drifts when at least this share of its compared features drifts (Evidently's default too).
DEFAULT_DRIFT_SHARE_THRESHOLD = 0.5


@dataclass(frozen=True, kw_only=True)
class DriftMethodSpec:
    """One entry of the drift-method registry.

    :param effect: what the distance is, in words, for reports and the README.
    :param kinds: the column kinds it applies to (``numeric``, ``categorical``).
    :param default_threshold: the smallest effect that counts as drift.
    :param tested: the method has a p-value, so its decision accounts for the window's size.
    """

    name: str
    effect: str
    kinds: frozenset[str]
    default_threshold: float
    tested: bool = True


DRIFT_METHODS: Mapping[str, DriftMethodSpec] = {spec.name: spec for spec in (
    DriftMethodSpec(name="linf_simple", effect="largest gap between the two CDFs (or category shares)",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.1, tested=False),
    DriftMethodSpec(name="linf_robust", effect="largest CDF gap minus 1.8 * sqrt((n + m) / (n * m)), at least 0",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.1, tested=False),
    DriftMethodSpec(name="ks", effect="Kolmogorov-Smirnov statistic (largest CDF gap)",
                    kinds=frozenset({NUMERIC}), default_threshold=0.1),
    DriftMethodSpec(name="wasserstein", effect="Wasserstein-1 distance in baseline standard deviations "
                                                "(evidence: Pearson's chi-square over reference bins)",
                    kinds=frozenset({NUMERIC}), default_threshold=0.1),
    DriftMethodSpec(name="psi", effect="population stability index over reference bins or categories",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.1),
    DriftMethodSpec(name="jensen_shannon", effect="Jensen-Shannon distance (base 2) over reference bins or categories",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.1),
    DriftMethodSpec(name="hellinger", effect="Hellinger distance over reference bins or categories",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.1),
    DriftMethodSpec(name="chi_squared", effect="largest change of a bin's or category's share (Pearson's test)",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.03),
    DriftMethodSpec(name="g_test", effect="largest change of a bin's or category's share (G-test)",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.03),
    DriftMethodSpec(name="two_proportion_z", effect="largest change of a category's share (z-test per category)",
                    kinds=frozenset({NUMERIC, CATEGORICAL}), default_threshold=0.03),
)}
DRIFT_METHOD_CHOICES = (AUTO, SAGEMAKER, *DRIFT_METHODS)
AUTO_METHODS: Mapping[str, str] = {NUMERIC: "wasserstein", CATEGORICAL: "chi_squared"}


def drift_method_name(value: object, key: str = "drift_method") -> str:
    """A ``drift_method`` value as its registry name (case and ``-`` tolerated); ValueError naming the choices."""
    text = str(value).strip().lower().replace("-", "_")
    if text not in DRIFT_METHOD_CHOICES:
        raise ValueError(f"{key} must be one of {', '.join(DRIFT_METHOD_CHOICES)}, not {value!r}")
    return text


@dataclass(frozen=True, kw_only=True)
class MonitoringConfig:
    """Effective monitoring switches and thresholds (defaults = what the built-in suggests)."""

    evaluate_constraints: bool = True
    emit_metrics: bool = True
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: ComparisonMethod = ComparisonMethod.ROBUST
    categorical_comparison_threshold: float | None = None
    categorical_drift_method: CategoricalDriftMethod = CategoricalDriftMethod.LINFINITY
    # This project's keys in ``distribution_constraints``. A built-in file has none and is judged as the
    # built-in judges it (``sagemaker``); the analyzer's own baselines write ``auto``.
    drift_method: str = SAGEMAKER
    drift_threshold: float | None = None
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL
    # global only (``monitoring_config.drift_share_threshold``)
    drift_share_threshold: float = DEFAULT_DRIFT_SHARE_THRESHOLD

    @property
    def sample_size_aware(self) -> bool:
        """Drift is decided by a registry method (any ``drift_method`` but ``sagemaker``)."""
        return self.drift_method != SAGEMAKER

    @property
    def effective_categorical_threshold(self) -> float:
        """``categorical_comparison_threshold``, defaulting to ``comparison_threshold``."""
        if self.categorical_comparison_threshold is None:
            return self.comparison_threshold
        return self.categorical_comparison_threshold


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _normalised(mapping: Mapping[str, object]) -> dict[str, object]:
    return {_snake(str(k)): v for k, v in mapping.items()}


def _switch(value: object, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("enabled", "true"):
        return True
    if text in ("disabled", "false"):
        return False
    raise ValueError(f"monitoring_config.{key} must be 'Enabled' or 'Disabled', not {value!r}")


def _number(value: object, key: str, *, share: bool = False) -> float:
    """A threshold: finite and at least 0, and at most 1 for a ``share`` of the values."""
    wanted = "a number from 0 to 1" if share else "a finite number of at least 0"
    if isinstance(value, bool):
        raise ValueError(f"monitoring_config.{key} must be {wanted}, not {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"monitoring_config.{key} must be {wanted}, not {value!r}") from None
    if not math.isfinite(number) or number < 0 or (share and number > 1):
        raise ValueError(f"monitoring_config.{key} must be {wanted}, not {value!r}")
    return number


def _enum(kind: type[enum.Enum], value: object, key: str):
    text = str(value).strip().lower().replace("_", "")
    aliases = {"linfsimple": "simple", "linfrobust": "robust", "chisquare": "chisquared"}
    text = aliases.get(text, text)
    for member in kind:
        if member.value.lower() == text:
            return member
    allowed = ", ".join(m.value for m in kind)
    raise ValueError(f"monitoring_config.{key} must be one of {allowed}, not {value!r}")


_TOP_KEYS = frozenset({"evaluate_constraints", "emit_metrics", "datatype_check_threshold", "domain_content_threshold",
                       "distribution_constraints", "drift_share_threshold", "min_domain_mass"})
_DISTRIBUTION_KEYS = frozenset({"perform_comparison", "comparison_threshold", "comparison_method",
                                "categorical_comparison_threshold", "categorical_drift_method", "drift_method",
                                "drift_threshold", "significance_level", "enable_comparisons"})


def _unknown_keys(keys: set[str], known: frozenset[str], where: str) -> None:
    unknown = sorted(keys - known)
    if unknown:
        raise ValueError(f"unknown key {', '.join(repr(k) for k in unknown)} in {where}; "
                         f"known keys: {', '.join(sorted(known))}")


def apply_config(base: MonitoringConfig, document: Mapping[str, object] | None, *,
                 strict: bool = False) -> MonitoringConfig:
    """``base`` with the keys present in a ``monitoring_config`` (or overrides) object applied.

    Keys are read in snake_case (what the SDK and the built-in write) and camelCase (what the
    developer guide's schema shows). Legacy keys (``enable_comparisons``, ``min_domain_mass``) are
    ignored; other unknown keys are ignored in a global ``monitoring_config`` (a file another tool
    wrote) and refused with ``strict`` (an override: a misspelt key there would silently do
    nothing). Raises ``ValueError`` naming the key on a bad value.
    """
    if not document:
        return base
    doc = _normalised(document)
    if strict:
        _unknown_keys(set(doc), _TOP_KEYS, "the overrides")
    changes: dict[str, object] = {}
    if "evaluate_constraints" in doc:
        changes["evaluate_constraints"] = _switch(doc["evaluate_constraints"], "evaluate_constraints")
    if "emit_metrics" in doc:
        changes["emit_metrics"] = _switch(doc["emit_metrics"], "emit_metrics")
    for key in ("datatype_check_threshold", "domain_content_threshold", "drift_share_threshold"):
        if key in doc:
            changes[key] = _number(doc[key], key, share=True)
    distribution = doc.get("distribution_constraints")
    if strict and distribution is not None and not isinstance(distribution, Mapping):
        raise ValueError(f"distribution_constraints must be an object, not {distribution!r}")
    if isinstance(distribution, Mapping):
        dist = _normalised(distribution)
        if strict:
            _unknown_keys(set(dist), _DISTRIBUTION_KEYS, "distribution_constraints")
        if "perform_comparison" in dist:
            changes["perform_comparison"] = _switch(dist["perform_comparison"], "perform_comparison")
        for key in ("comparison_threshold", "categorical_comparison_threshold", "drift_threshold"):
            if key in dist:
                changes[key] = _number(dist[key], key)
        if "comparison_method" in dist:
            changes["comparison_method"] = _enum(ComparisonMethod, dist["comparison_method"], "comparison_method")
        if "categorical_drift_method" in dist:
            changes["categorical_drift_method"] = _enum(
                CategoricalDriftMethod, dist["categorical_drift_method"], "categorical_drift_method"
            )
        if "drift_method" in dist:
            changes["drift_method"] = drift_method_name(dist["drift_method"], "monitoring_config.drift_method")
            if "drift_threshold" not in dist:
                changes["drift_threshold"] = None  # a method chosen here starts from its own default threshold
        if "significance_level" in dist:
            level = _number(dist["significance_level"], "significance_level", share=True)
            if level == 0:
                raise ValueError("monitoring_config.significance_level must be above 0 (0 would never flag drift)")
            changes["significance_level"] = level
    return replace(base, **changes)


def global_config(document: Mapping[str, object]) -> MonitoringConfig:
    """The global ``monitoring_config`` (or ``monitoringConfig``) of a constraints.json, applied to the defaults."""
    config = document.get("monitoring_config") or document.get("monitoringConfig") or {}
    return apply_config(MonitoringConfig(), config if isinstance(config, Mapping) else {})


def feature_overrides(feature: Mapping[str, object]) -> Mapping[str, object] | None:
    """A feature's override object, spelled ``monitoring_config_overrides`` or ``monitoringConfigOverrides``.

    The SDK's test fixture nests it under ``string_constraints``; that spot (and
    ``num_constraints``) is honoured too.
    """
    for holder in (feature, feature.get("string_constraints") or {}, feature.get("num_constraints") or {}):
        if isinstance(holder, Mapping):
            for key in ("monitoring_config_overrides", "monitoringConfigOverrides"):
                value = holder.get(key)
                if isinstance(value, Mapping):
                    return value
    return None


def merge_overrides(base: Mapping[str, object], extra: Mapping[str, object]) -> dict[str, object]:
    """``extra`` merged into ``base`` key by key, nested objects (``distribution_constraints``) too."""
    merged: dict[str, object] = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        merged[key] = (merge_overrides(current, value) if isinstance(current, Mapping) and isinstance(value, Mapping)
                       else value)
    return merged


def expand_override_shorthand(config: Mapping[str, object]) -> dict[str, object]:
    """A deployment's per-feature override with its short keys expanded into ``monitoring_config`` keys:
    ``"drift": 0.2`` sets the drift threshold (of the feature's method, and both of the built-in's),
    ``"method": "psi"`` the drift method, ``"check": false`` sets ``evaluate_constraints`` to Disabled. Short because a job's environment values hold at most 256 characters.

    Raises ``ValueError`` when ``check`` is not a boolean.
    """
    expanded = {k: v for k, v in config.items() if k not in ("drift", "check", "method")}
    if "drift" in config or "method" in config:
        distribution = dict(expanded.get("distribution_constraints") or {})  # type: ignore[call-overload]
        if "method" in config:
            distribution["drift_method"] = config["method"]
        if "drift" in config:
            threshold = config["drift"]
            distribution.update(comparison_threshold=threshold, categorical_comparison_threshold=threshold,
                                drift_threshold=threshold)
        expanded["distribution_constraints"] = distribution
    if "check" in config:
        if not isinstance(config["check"], bool):
            raise ValueError(f'"check" takes true or false, got {config["check"]!r}')
        expanded["evaluate_constraints"] = "Enabled" if config["check"] else "Disabled"
    return expanded


# -- data quality: a feature's drift and completeness rules -----------------------------------------

NUMERIC_TYPES = frozenset({"Integral", "Fractional"})
CATEGORICAL_TYPE = "String"


@dataclass(frozen=True, kw_only=True)
class DriftRule:
    """How a feature's drift is judged.

    * the built-in's rule (``method`` ``sagemaker``): a violation when the distance is above
      ``threshold``, or below it when the distance is a chi-squared p-value (String feature,
      ChiSquared with the Robust comparison, ``p_value``);
    * a registry method without a test (``linf_simple``, ``linf_robust``): distance above ``threshold``;
    * a tested registry method (``significance_level`` set): the effect is at least ``threshold``
      and the window's evidence is significant after the false-discovery control over the window's tests.
      Whether it was is the analyzer's to say (it publishes a per-feature verdict metric, which the
      alarms watch), because it depends on every test of the window.
    """

    threshold: float
    p_value: bool = False
    method: str = SAGEMAKER
    significance_level: float | None = None

    @property
    def needs_evidence(self) -> bool:
        """The decision needs the window's evidence (a p-value), not the distance alone."""
        return self.significance_level is not None

    def is_violated(self, distance: float, significant: bool = True) -> bool:
        """True when ``distance`` (and, for a tested method, ``significant``) breaks the rule; a NaN
        distance (not computable) never does."""
        if math.isnan(distance):
            return False
        if self.p_value:
            return distance < self.threshold
        if self.needs_evidence:
            return significant and distance >= self.threshold
        return distance > self.threshold


def resolved_drift_method(config: MonitoringConfig, inferred_type: str) -> str:
    """The registry method that judges a feature of ``inferred_type``: ``sagemaker`` for the built-in's
    rule, the configured method when it applies to the column's kind, else ``auto``'s choice."""
    if not config.sample_size_aware:
        return SAGEMAKER
    kind = CATEGORICAL if inferred_type == CATEGORICAL_TYPE else NUMERIC
    name = config.drift_method
    if name == AUTO or kind not in DRIFT_METHODS[name].kinds:
        return AUTO_METHODS[kind]
    return name


def drift_rule(config: MonitoringConfig, inferred_type: str) -> DriftRule:
    """The drift rule of a feature of ``inferred_type`` (``String`` is categorical, anything else numeric)
    under its effective ``config``."""
    method = resolved_drift_method(config, inferred_type)
    if method == SAGEMAKER:
        if inferred_type == CATEGORICAL_TYPE:
            p_value = (config.categorical_drift_method is CategoricalDriftMethod.CHI_SQUARED
                       and config.comparison_method is ComparisonMethod.ROBUST)
            return DriftRule(threshold=config.effective_categorical_threshold, p_value=p_value)
        return DriftRule(threshold=config.comparison_threshold)
    spec = DRIFT_METHODS[method]
    threshold = spec.default_threshold if config.drift_threshold is None else config.drift_threshold
    return DriftRule(threshold=threshold, method=method,
                     significance_level=config.significance_level if spec.tested else None)


@dataclass(frozen=True, kw_only=True)
class FeatureRules:
    """What the constraints say about one feature, after every override.

    :param config: the feature's effective monitoring config (global, then its own overrides, then
        the deployment's).
    :param emits_metrics: the analyzer publishes the feature's metrics (``emit_metrics`` on, both
        globally and for the feature).
    """

    name: str
    inferred_type: str
    config: MonitoringConfig
    completeness: float | None = None
    emits_metrics: bool = True

    @property
    def evaluated(self) -> bool:
        """The feature's constraints are checked (``evaluate_constraints``)."""
        return self.config.evaluate_constraints

    @property
    def drift(self) -> DriftRule | None:
        """The drift rule, or None when no drift violation can occur: comparison or evaluation disabled,
        or a type without a distribution (Unknown)."""
        if not (self.evaluated and self.config.perform_comparison):
            return None
        if self.inferred_type not in NUMERIC_TYPES and self.inferred_type != CATEGORICAL_TYPE:
            return None
        return drift_rule(self.config, self.inferred_type)

    @property
    def minimum_completeness(self) -> float | None:
        """The completeness below which the feature violates, None when it has none or is not evaluated."""
        return self.completeness if self.evaluated else None


def feature_rules(document: Mapping[str, object],
                  extra_overrides: Mapping[str, Mapping[str, object]] | None = None,
                  drift_method: str | None = None) -> tuple[FeatureRules, ...]:
    """Each feature's rules in a data-quality constraints.json, in its order.

    ``extra_overrides`` are a deployment's per-feature ``monitoring_config`` overrides (shorthand
    already expanded), merged over the feature's own; ``drift_method`` a deployment's ``drift_method``
    for every feature, over the file's. Features without a ``name`` are skipped (the analyzer's
    parser rejects them). Raises ``ValueError`` naming a bad key or an unknown feature.
    """
    base = global_config(document)
    if drift_method is not None:
        base = replace(base, drift_method=drift_method_name(drift_method), drift_threshold=None)
    features = [f for f in (document.get("features") or []) if isinstance(f, Mapping) and "name" in f]  # type: ignore[union-attr]
    extra = dict(extra_overrides or {})
    unknown = sorted(set(extra) - {str(f["name"]) for f in features})
    if unknown:
        raise ValueError(f"feature overrides name features the baseline does not have: {unknown}")
    rules = []
    for feature in features:
        name = str(feature["name"])
        overrides = merge_overrides(feature_overrides(feature) or {}, extra.get(name) or {})
        config = apply_config(base, overrides, strict=True)
        completeness = feature.get("completeness")
        rules.append(FeatureRules(
            name=name, inferred_type=str(feature.get("inferred_type", "Unknown")), config=config,
            completeness=(float(completeness) if isinstance(completeness, (int, float))
                          and not isinstance(completeness, bool) else None),
            emits_metrics=base.emit_metrics and config.emit_metrics))
    return tuple(rules)


# -- model quality: metric directions and comparison operators --------------------------------------

LESS_THAN = "LessThanThreshold"
LESS_THAN_OR_EQUAL_TO = "LessThanOrEqualToThreshold"
GREATER_THAN = "GreaterThanThreshold"
GREATER_THAN_OR_EQUAL_TO = "GreaterThanOrEqualToThreshold"
COMPARISON_OPERATORS = (LESS_THAN, LESS_THAN_OR_EQUAL_TO, GREATER_THAN, GREATER_THAN_OR_EQUAL_TO)

# The operator that flags a decay of each metric the analyzer publishes (contract sections 7, 8): a
# violation is ``value <op> threshold``. Error rates and regression errors get worse when they grow;
# everything else (scores, rates of correct answers, R2) when it falls. Keyed by ``problem_type``.
QUALITY_METRIC_DIRECTIONS: Mapping[str, Mapping[str, str]] = {
    "BinaryClassification": {
        "recall": LESS_THAN, "precision": LESS_THAN, "accuracy": LESS_THAN,
        "recall_best_constant_classifier": LESS_THAN, "precision_best_constant_classifier": LESS_THAN,
        "accuracy_best_constant_classifier": LESS_THAN,
        "true_positive_rate": LESS_THAN, "true_negative_rate": LESS_THAN,
        "false_positive_rate": GREATER_THAN, "false_negative_rate": GREATER_THAN,
        "auc": LESS_THAN, "f0_5": LESS_THAN, "f1": LESS_THAN, "f2": LESS_THAN,
        "f0_5_best_constant_classifier": LESS_THAN, "f1_best_constant_classifier": LESS_THAN,
        "f2_best_constant_classifier": LESS_THAN,
    },
    "MulticlassClassification": {
        "accuracy": LESS_THAN, "weighted_recall": LESS_THAN, "weighted_precision": LESS_THAN,
        "weighted_f0_5": LESS_THAN, "weighted_f1": LESS_THAN, "weighted_f2": LESS_THAN,
        "accuracy_best_constant_classifier": LESS_THAN, "weighted_recall_best_constant_classifier": LESS_THAN,
        "weighted_precision_best_constant_classifier": LESS_THAN,
        "weighted_f0_5_best_constant_classifier": LESS_THAN,
        "weighted_f1_best_constant_classifier": LESS_THAN, "weighted_f2_best_constant_classifier": LESS_THAN,
    },
    "Regression": {"mae": GREATER_THAN, "mse": GREATER_THAN, "rmse": GREATER_THAN, "r2": LESS_THAN},
}

QUALITY_CONSTRAINTS_SECTIONS: Mapping[str, str] = {
    "BinaryClassification": "binary_classification_constraints",
    "MulticlassClassification": "multiclass_classification_constraints",
    "Regression": "regression_constraints",
}


# -- model quality without labels: the labelled reference a baseline keeps, and the verdicts on it ------

#: constraints.json (and statistics.json) key of the labelled reference a model-quality baseline keeps for
#: the label-free checks: the calibration, the reference's metrics and predictions. SageMaker's reader
#: skips keys it does not know.
PERFORMANCE_ESTIMATION_KEY = "cdk_model_monitor_performance_estimation"
#: Verdicts of a window's predictions, published as ``quality_violation_<name>`` (1 violated, 0 not):
#: the estimated metrics' drop below the reference, the predictions' drift, and (labelled windows) a
#: realised metric outside its estimate's interval.
ESTIMATED_QUALITY_METRICS = ("estimated_accuracy", "estimated_precision", "estimated_recall", "estimated_f1",
                             "estimated_auc")
PREDICTION_DRIFT = "prediction_drift"
CONCEPT_SHIFT = "concept_shift"


def label_free_verdicts(problem_type: str, *, scores: bool) -> tuple[str, ...]:
    """The label-free verdicts a ``problem_type`` monitor publishes: estimates need a binary classifier's
    probability or a multiclass classifier's per-class probabilities (``scores``: a probability attribute);
    prediction drift needs a classifier."""
    if problem_type in ("BinaryClassification", "MulticlassClassification") and scores:
        return (*ESTIMATED_QUALITY_METRICS, PREDICTION_DRIFT, CONCEPT_SHIFT)
    if problem_type in ("BinaryClassification", "MulticlassClassification"):
        return (PREDICTION_DRIFT,)
    return ()

def is_quality_violation(operator: str, value: float, threshold: float) -> bool:
    """True when ``value <operator> threshold`` holds, e.g. LessThanThreshold: value < threshold."""
    if operator == LESS_THAN:
        return value < threshold
    if operator == LESS_THAN_OR_EQUAL_TO:
        return value <= threshold
    if operator == GREATER_THAN:
        return value > threshold
    if operator == GREATER_THAN_OR_EQUAL_TO:
        return value >= threshold
    raise ValueError(f"comparison_operator must be one of {', '.join(COMPARISON_OPERATORS)}, not {operator!r}")


@dataclass(frozen=True, kw_only=True)
class QualityConstraint:
    """One entry of a model-quality constraints section: a violation when ``value <operator> threshold``."""

    metric: str
    threshold: float
    operator: str


def quality_constraints(section: Mapping[str, object]) -> tuple[QualityConstraint, ...]:
    """The entries of one ``<problem type>_constraints`` section, in its order.

    Each needs a finite numeric ``threshold`` and a ``comparison_operator`` (the built-in always
    writes one); raises ``ValueError`` naming the first entry that lacks them.
    """
    constraints = []
    for metric, spec in section.items():
        operator = spec.get("comparison_operator") if isinstance(spec, Mapping) else None
        threshold = _finite(spec.get("threshold") if isinstance(spec, Mapping) else None)
        if operator not in COMPARISON_OPERATORS or threshold is None:
            raise ValueError(f"constraint {metric!r} needs a numeric threshold and a comparison_operator "
                             f"among {', '.join(COMPARISON_OPERATORS)}")
        constraints.append(QualityConstraint(metric=str(metric), threshold=threshold, operator=str(operator)))
    return tuple(constraints)


def _finite(value: object) -> float | None:
    """A finite number from a JSON number or numeric text (hand-written files), else None: an alarm
    threshold must be finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# -- model quality: how the thresholds are judged (the file's ``monitoring_config``) -----------------

SIGNIFICANCE = "significance"
THRESHOLD = "threshold"
DEFAULT_QUALITY_SIGNIFICANCE_LEVEL = 0.01


@dataclass(frozen=True, kw_only=True)
class QualityDecision:
    """How a window's metrics are judged against their thresholds (a constraints.json's ``monitoring_config``).

    :param baseline_size: the labelled rows of the baseline (scales its standard errors to a window).
    """

    comparison: str = THRESHOLD
    significance_level: float = DEFAULT_QUALITY_SIGNIFICANCE_LEVEL
    tolerance: float = 0.0
    baseline_size: int | None = None


def _share(value: object, key: str, *, above_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or value > 1 or (above_zero and value == 0):
        raise ValueError(f"monitoring_config.{key} must be a number {'above 0 and ' if above_zero else 'from 0 '}"
                         f"{'up ' if above_zero else ''}to 1, not {value!r}")
    return float(value)


def parse_decision(document: Mapping[str, object]) -> QualityDecision:
    """The ``monitoring_config`` of a model-quality constraints.json (absent: the built-in's rule).

    Raises ``ValueError`` naming a bad or unknown key."""
    config = document.get("monitoring_config")
    if config is None:
        return QualityDecision()
    if not isinstance(config, Mapping):
        raise ValueError("monitoring_config must be an object")
    known = {"comparison", "significance_level", "tolerance", "baseline_size"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"unknown key {', '.join(map(repr, unknown))} in monitoring_config; known keys: "
                         f"{', '.join(sorted(known))}")
    comparison = str(config.get("comparison", SIGNIFICANCE)).strip().lower()
    if comparison not in (SIGNIFICANCE, THRESHOLD):
        raise ValueError(f"monitoring_config.comparison must be {SIGNIFICANCE} or {THRESHOLD}, not {config['comparison']!r}")
    size = config.get("baseline_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"monitoring_config.baseline_size must be a whole number of at least 1, not {size!r}")
    tolerance = config.get("tolerance", 0.0)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance) \
            or tolerance < 0:
        raise ValueError(f"monitoring_config.tolerance must be a finite number of at least 0, not {tolerance!r}")
    return QualityDecision(
        comparison=comparison,
        significance_level=_share(config.get("significance_level", DEFAULT_QUALITY_SIGNIFICANCE_LEVEL), "significance_level",
                                  above_zero=True),
        tolerance=float(tolerance), baseline_size=size)


def decision_document(decision: QualityDecision) -> dict[str, object]:
    """The ``monitoring_config`` written into a suggested constraints.json."""
    document: dict[str, object] = {"comparison": decision.comparison, "significance_level": decision.significance_level,
                                   "tolerance": decision.tolerance}
    if decision.baseline_size is not None:
        document["baseline_size"] = decision.baseline_size
    return document


# -- bias drift: neutral points ---------------------------------------------------------------------

# Clarify's bias-drift rule measures every metric's distance from 0, DI included although DI's
# neutral point is 1: in the real bias-drift run of AWS's adult example, DI fell from 0.178
# (baseline) to 0.083 without a violation. A drop-in analyzer (and the alarms on it) keep that.
CLARIFY_NEUTRAL_VALUES: Mapping[str, float] = {}


def neutral_value(metric: str, neutral_values: Mapping[str, float] = CLARIFY_NEUTRAL_VALUES) -> float:
    """The point ``metric``'s distance is measured from (0 unless ``neutral_values`` says otherwise)."""
    return float(neutral_values.get(metric, 0.0))


def is_bias_drift(current: float, baseline: float, neutral: float = 0.0, tolerance: float = 0.0) -> bool:
    """|current - neutral| > |baseline - neutral| + tolerance; a NaN on either side never drifts.

    ``tolerance`` 0 is Clarify's rule. With a baseline close to the neutral point that rule flags
    sampling noise in every window, so a small tolerance (e.g. 0.1) keeps only real movement."""
    if math.isnan(current) or math.isnan(baseline):
        return False
    return abs(current - neutral) > abs(baseline - neutral) + tolerance


@dataclass(frozen=True, kw_only=True)
class BiasBaselineMetric:
    """One finite metric of a Clarify ``analysis.json``: a later value drifts when it is farther than
    ``max_distance`` (+ tolerance) from ``neutral``."""

    stage: str
    facet: str
    facet_value: str | None
    name: str
    value: float
    neutral: float
    label: str | None = None
    label_value: str | None = None

    @property
    def max_distance(self) -> float:
        """The baseline value's distance from the neutral point."""
        return abs(self.value - self.neutral)


BIAS_STAGES = (("pre_training_bias_metrics", "Pre-training"), ("post_training_bias_metrics", "Post-Training"))


def bias_baseline_metrics(analysis: Mapping[str, object],
                          neutral_values: Mapping[str, float] = CLARIFY_NEUTRAL_VALUES) -> tuple[BiasBaselineMetric, ...]:
    """Every finite metric of a Clarify ``analysis.json`` (contract sections 9.2-9.4), in its order.
    Metrics with a null (errored) or infinite value are left out: no drift can be measured from them."""
    result = []
    for stage_key, stage in BIAS_STAGES:
        section = analysis.get(stage_key)
        facets = section.get("facets") if isinstance(section, Mapping) else None
        if not isinstance(facets, Mapping):
            continue
        label = section.get("label")  # type: ignore[union-attr]
        label_value = section.get("label_value_or_threshold")  # type: ignore[union-attr]
        for facet_name, groups in facets.items():
            for group in groups if isinstance(groups, list) else []:
                if not isinstance(group, Mapping):
                    continue
                facet_value = group.get("value_or_threshold")
                for metric in group.get("metrics") or []:
                    if not isinstance(metric, Mapping):
                        continue
                    name, value = metric.get("name"), metric.get("value")
                    if not isinstance(name, str) or isinstance(value, bool) or \
                            not isinstance(value, (int, float)) or not math.isfinite(value):
                        continue
                    result.append(BiasBaselineMetric(
                        stage=stage, facet=str(facet_name), facet_value=None if facet_value is None else str(facet_value),
                        name=name, value=float(value), neutral=neutral_value(name, neutral_values),
                        label=None if label is None else str(label),
                        label_value=None if label_value is None else str(label_value)))
    return tuple(result)


# -- bias drift: how a baseline's metrics are judged (this project's block in analysis.json) -------------

#: The top-level key of a bias analysis.json that this analyzer's baselines add after Clarify's keys:
#: ``{"comparison": "significance", "significance_level": ..., "baseline_size": ..., "standard_errors": [...]}``.
#: A file without it (made by Clarify) is judged by Clarify's rule (``is_bias_drift``).
BIAS_DECISION_KEY = "bias_drift_decision"


@dataclass(frozen=True, kw_only=True)
class BiasDecision:
    """How a window's bias metrics are judged against a baseline analysis.json.

    :param comparison: ``significance`` (farther from neutral than the baseline by more than chance
        allows, Benjamini-Hochberg across the window's metrics) or ``threshold`` (Clarify's rule).
    :param baseline_size: the rows the baseline counted (scales its standard errors to a window).
    :param standard_errors: each baseline metric's standard error, keyed by
        (stage key, facet, value_or_threshold as the baseline prints it, metric name).
    """

    comparison: str = THRESHOLD
    significance_level: float = DEFAULT_QUALITY_SIGNIFICANCE_LEVEL
    baseline_size: int | None = None
    standard_errors: Mapping[tuple[str, str, str, str], float] = field(default_factory=dict)


def parse_bias_decision(analysis: Mapping[str, object]) -> BiasDecision:
    """The ``bias_drift_decision`` block of a bias analysis.json (absent: Clarify's rule).

    Raises ``ValueError`` naming a bad or unknown key."""
    block = analysis.get(BIAS_DECISION_KEY)
    if block is None:
        return BiasDecision()
    where = BIAS_DECISION_KEY
    if not isinstance(block, Mapping):
        raise ValueError(f"{where} must be an object")
    known = {"comparison", "significance_level", "baseline_size", "standard_errors"}
    unknown = sorted(set(block) - known)
    if unknown:
        raise ValueError(f"unknown key {', '.join(map(repr, unknown))} in {where}; known keys: {', '.join(sorted(known))}")
    comparison = str(block.get("comparison", SIGNIFICANCE)).strip().lower()
    if comparison not in (SIGNIFICANCE, THRESHOLD):
        raise ValueError(f"{where}.comparison must be {SIGNIFICANCE} or {THRESHOLD}, not {block['comparison']!r}")
    level = block.get("significance_level", DEFAULT_QUALITY_SIGNIFICANCE_LEVEL)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level <= 1:
        raise ValueError(f"{where}.significance_level must be a number above 0 and up to 1, not {level!r}")
    size = block.get("baseline_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"{where}.baseline_size must be a whole number of at least 1, not {size!r}")
    errors: dict[tuple[str, str, str, str], float] = {}
    entries = block.get("standard_errors", [])
    if not isinstance(entries, list):
        raise ValueError(f"{where}.standard_errors must be a list")
    for index, entry in enumerate(entries):
        fields = ("stage", "facet", "value_or_threshold", "metric", "standard_error")
        if not isinstance(entry, Mapping) or any(k not in entry for k in fields):
            raise ValueError(f"{where}.standard_errors[{index}] needs {', '.join(fields)}")
        error = _finite(entry["standard_error"])
        if error is None or error < 0 or isinstance(entry["standard_error"], str):
            raise ValueError(f"{where}.standard_errors[{index}].standard_error must be a finite number of at least 0, "
                             f"not {entry['standard_error']!r}")
        errors[(str(entry["stage"]), str(entry["facet"]), str(entry["value_or_threshold"]), str(entry["metric"]))] = error
    return BiasDecision(comparison=comparison, significance_level=float(level), baseline_size=size,
                        standard_errors=errors)


def bias_decision_document(decision: BiasDecision) -> dict[str, object]:
    """The ``bias_drift_decision`` block a baseline's analysis.json ends with."""
    document: dict[str, object] = {"comparison": decision.comparison, "significance_level": decision.significance_level}
    if decision.baseline_size is not None:
        document["baseline_size"] = decision.baseline_size
    document["standard_errors"] = [
        {"stage": stage, "facet": facet, "value_or_threshold": value, "metric": metric, "standard_error": error}
        for (stage, facet, value, metric), error in decision.standard_errors.items()]
    return document
