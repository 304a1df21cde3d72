"""``monitoring_config`` of constraints.json, global and per feature, as typed values.

Defined once in ``model_monitor_analyzer.constraint_rules``, which the constructs' alarms read too;
re-exported here for the checks and reports that import it from this layer.
"""

from model_monitor_analyzer.constraint_rules import (
    CategoricalDriftMethod,
    ComparisonMethod,
    MonitoringConfig,
    apply_config,
    feature_overrides,
)

__all__ = ["CategoricalDriftMethod", "ComparisonMethod", "MonitoringConfig", "apply_config", "feature_overrides"]
