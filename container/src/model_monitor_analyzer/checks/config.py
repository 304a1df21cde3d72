"""``monitoring_config`` of constraints.json, global and per feature, as typed values.

Keys are read in snake_case (what the SDK and the built-in write) and camelCase (what the
developer guide's schema shows). A per-feature ``monitoring_config_overrides`` object takes
precedence over the global one, key by key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace


class ComparisonMethod(enum.Enum):
    """Numeric and categorical L-infinity variants (DG prose: ``linf_simple``/``linf_robust``)."""

    SIMPLE = "Simple"
    ROBUST = "Robust"


class CategoricalDriftMethod(enum.Enum):
    """Distance for String features."""

    LINFINITY = "LInfinity"
    CHI_SQUARED = "ChiSquared"


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


def _number(value: object, key: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"monitoring_config.{key} must be a number, not {value!r}") from None


def _enum(kind: type[enum.Enum], value: object, key: str):
    text = str(value).strip().lower().replace("_", "")
    aliases = {"linfsimple": "simple", "linfrobust": "robust", "chisquare": "chisquared"}
    text = aliases.get(text, text)
    for member in kind:
        if member.value.lower() == text:
            return member
    allowed = ", ".join(m.value for m in kind)
    raise ValueError(f"monitoring_config.{key} must be one of {allowed}, not {value!r}")


def apply_config(base: MonitoringConfig, document: Mapping[str, object] | None) -> MonitoringConfig:
    """``base`` with the keys present in a ``monitoring_config`` (or overrides) object applied.

    Unknown and legacy keys (``enable_comparisons``, ``min_domain_mass``) are ignored.
    Raises ``ValueError`` naming the key on a bad value.
    """
    if not document:
        return base
    doc = _normalised(document)
    changes: dict[str, object] = {}
    if "evaluate_constraints" in doc:
        changes["evaluate_constraints"] = _switch(doc["evaluate_constraints"], "evaluate_constraints")
    if "emit_metrics" in doc:
        changes["emit_metrics"] = _switch(doc["emit_metrics"], "emit_metrics")
    for key in ("datatype_check_threshold", "domain_content_threshold"):
        if key in doc:
            changes[key] = _number(doc[key], key)
    distribution = doc.get("distribution_constraints")
    if isinstance(distribution, Mapping):
        dist = _normalised(distribution)
        if "perform_comparison" in dist:
            changes["perform_comparison"] = _switch(dist["perform_comparison"], "perform_comparison")
        if "comparison_threshold" in dist:
            changes["comparison_threshold"] = _number(dist["comparison_threshold"], "comparison_threshold")
        if "comparison_method" in dist:
            changes["comparison_method"] = _enum(ComparisonMethod, dist["comparison_method"], "comparison_method")
        if "categorical_comparison_threshold" in dist:
            changes["categorical_comparison_threshold"] = _number(
                dist["categorical_comparison_threshold"], "categorical_comparison_threshold"
            )
        if "categorical_drift_method" in dist:
            changes["categorical_drift_method"] = _enum(
                CategoricalDriftMethod, dist["categorical_drift_method"], "categorical_drift_method"
            )
    return replace(base, **changes)


def feature_overrides(feature: Mapping[str, object]) -> Mapping[str, object] | None:
    """A feature's override object, spelled ``monitoring_config_overrides`` or ``monitoringConfigOverrides``.

    The SDK's test fixture nests it under ``string_constraints``; that spot is honoured too.
    """
    for holder in (feature, feature.get("string_constraints") or {}, feature.get("num_constraints") or {}):
        if isinstance(holder, Mapping):
            for key in ("monitoring_config_overrides", "monitoringConfigOverrides"):
                value = holder.get(key)
                if isinstance(value, Mapping):
                    return value
    return None
