"""constraint_violations.json (data quality): no ``version`` key, one object per violation."""

from __future__ import annotations

from collections.abc import Iterable

from model_monitor_analyzer.checks.data_quality import Violation


def violations_document(violations: Iterable[Violation]) -> dict:
    """``{"violations": [{"feature_name", "constraint_check_type", "description"}, ...]}``."""
    return {
        "violations": [
            {
                "feature_name": v.feature_name,
                "constraint_check_type": v.constraint_check_type.value,
                "description": v.description,
            }
            for v in violations
        ]
    }
