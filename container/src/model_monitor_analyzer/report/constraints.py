"""constraints.json (data quality): suggested from a profile, and parsed (contract section 4).

What its keys mean (overrides, thresholds, methods) is ``model_monitor_analyzer.constraint_rules``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from model_monitor_analyzer.checks.config import MonitoringConfig, apply_config, feature_overrides
from model_monitor_analyzer.checks.data_quality import Constraints, FeatureConstraint
from model_monitor_analyzer.constraint_rules import (
    AUTO,
    DEFAULT_DRIFT_SHARE_THRESHOLD,
    DEFAULT_SIGNIFICANCE_LEVEL,
    SAGEMAKER,
    global_config,
)
from model_monitor_analyzer.profile.dataset import ColumnProfile, DatasetProfile
from model_monitor_analyzer.profile.datatypes import InferredType, category_name
from model_monitor_analyzer.report.statistics import FORMAT_VERSION, _inferred_type

# Deequ's CategoricalRangeRule: suggest a domain for a String column whose histogram is known
# (at most this many distinct values) and in which at most 10 % of the values occur only once.
DOMAIN_MAX_DISTINCT = 120
DOMAIN_MAX_UNIQUE_SHARE = 0.1


def suggested_domain(column: ColumnProfile) -> list[str] | None:
    """Values of a low-cardinality String column (sorted), or None when Deequ would not suggest one."""
    categories = column.categories or {}
    if column.inferred_type is not InferredType.STRING or not categories or len(categories) > DOMAIN_MAX_DISTINCT:
        return None
    unique = sum(1 for count in categories.values() if count == 1)
    if unique / len(categories) > DOMAIN_MAX_UNIQUE_SHARE:
        return None
    return sorted(categories)


def feature_constraint(column: ColumnProfile, rows: int) -> dict:
    """One suggested entry: type, completeness, ``is_non_negative`` or ``domains``."""
    kind = column.inferred_type
    entry: dict = {
        "name": column.name,
        "inferred_type": kind.value,
        "completeness": column.present / rows if rows else 0.0,
    }
    numeric = kind in (InferredType.INTEGRAL, InferredType.FRACTIONAL)
    if numeric and column.moments.count and column.moments.minimum >= 0:
        entry["num_constraints"] = {"is_non_negative": True}
    domain = suggested_domain(column)
    if domain is not None:
        entry["string_constraints"] = {"domains": domain}
    return entry


def monitoring_config_document(
    *, categorical_drift_method: str | None = None, categorical_comparison_threshold: float | None = None,
    drift_method: str = AUTO,
) -> dict:
    """``monitoring_config`` as the built-in suggests it (categorical keys only when chosen), with this
    project's ``drift_method`` (and, for a sample-size-aware one, its significance level and the dataset's
    drift-share threshold) added: the built-in's own keys keep their values, so the built-in reads the
    file as it would read its own."""
    distribution: dict = {"perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust"}
    if categorical_comparison_threshold is not None:
        distribution["categorical_comparison_threshold"] = categorical_comparison_threshold
    if categorical_drift_method is not None:
        distribution["categorical_drift_method"] = categorical_drift_method
    config: dict = {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": distribution,
    }
    if drift_method != SAGEMAKER:  # the built-in's rule: exactly the built-in's file, no key of ours
        distribution["drift_method"] = drift_method
        distribution["significance_level"] = DEFAULT_SIGNIFICANCE_LEVEL
        config["drift_share_threshold"] = DEFAULT_DRIFT_SHARE_THRESHOLD
    return config


def constraints_document(
    profile: DatasetProfile,
    *,
    names: Sequence[str] | None = None,
    categorical_drift_method: str | None = None,
    drift_method: str = AUTO,
) -> dict:
    """The whole suggested constraints.json for ``profile``."""
    order = list(names) if names is not None else list(profile.columns)
    return {
        "version": FORMAT_VERSION,
        "features": [feature_constraint(profile.columns[n], profile.item_count) for n in order if n in profile.columns],
        "monitoring_config": monitoring_config_document(categorical_drift_method=categorical_drift_method,
                                                        drift_method=drift_method),
    }


def _section(feature: Mapping, key: str, name: str) -> Mapping:
    section = feature.get(key)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ValueError(f"feature {name!r}: {key} is not an object")
    return section


def parse_constraints(document: Mapping) -> Constraints:
    """A constraints.json (ours, the built-in's or hand-written) as ``Constraints``.

    Raises ``ValueError`` naming the offending feature or key.
    """
    features = document.get("features")
    if not isinstance(features, list):
        raise ValueError("constraints has no 'features' list")
    parsed = []
    names: set[str] = set()
    for index, feature in enumerate(features):
        if not isinstance(feature, Mapping) or not isinstance(feature.get("name"), str):
            raise ValueError(f"constraints feature #{index} has no 'name' text")
        name = feature["name"]
        if name in names:
            raise ValueError(f"feature {name!r} is listed twice")
        names.add(name)
        try:
            kind = _inferred_type(feature.get("inferred_type", "Unknown"))
        except ValueError as exc:
            raise ValueError(f"feature {name!r}: {exc}") from None
        numbers = _section(feature, "num_constraints", name)
        strings = _section(feature, "string_constraints", name)
        domains = strings.get("domains")
        if domains is not None and not (
            isinstance(domains, list) and all(isinstance(d, (str, int, float)) and not isinstance(d, bool) for d in domains)
        ):
            raise ValueError(f"feature {name!r}: string_constraints.domains is not a list of values")
        completeness = feature.get("completeness")
        if completeness is not None and not (
            isinstance(completeness, (int, float)) and not isinstance(completeness, bool) and 0 <= completeness <= 1
        ):
            raise ValueError(f"feature {name!r}: completeness {completeness!r} is not a share from 0 to 1")
        non_negative = numbers.get("is_non_negative")
        if non_negative is not None and not isinstance(non_negative, bool):
            raise ValueError(f"feature {name!r}: num_constraints.is_non_negative {non_negative!r} is not true or false")
        overrides = feature_overrides(feature)
        if overrides is not None:
            apply_config(MonitoringConfig(), overrides, strict=True)  # validate early, naming the key
        parsed.append(
            FeatureConstraint(
                name=name,
                inferred_type=kind,
                completeness=float(completeness) if completeness is not None else None,
                is_non_negative=non_negative,
                # long values as the profile keeps them (a built-in's constraints hold them whole)
                domains=tuple(dict.fromkeys(category_name(str(d)) for d in domains)) if domains is not None else None,
                overrides=overrides,
            )
        )
    return Constraints(features=tuple(parsed), monitoring_config=global_config(document))
