"""A monitoring window's statuses and the project's own metric names, read from the one table the metrics
publisher uses (lambda/_shared/statuses.py), so an alarm watches exactly what the publisher writes."""

from __future__ import annotations

from .bundled import lambda_shared_module

_TABLE = lambda_shared_module("statuses")

COMPLETED: str = _TABLE.COMPLETED
COMPLETED_WITH_VIOLATIONS: str = _TABLE.COMPLETED_WITH_VIOLATIONS
NO_DATA: str = _TABLE.NO_DATA
FAILED: str = _TABLE.FAILED
EXECUTION_STATUSES: tuple[str, ...] = tuple(_TABLE.EXECUTION_STATUSES)
STATUS_NAMESPACE: str = _TABLE.STATUS_NAMESPACE
VIOLATIONS_METRIC_NAME: str = _TABLE.VIOLATIONS_METRIC_NAME
SKIPPED_METRIC_NAME: str = _TABLE.SKIPPED_METRIC_NAME
LATE_CAPTURES_METRIC_NAME: str = _TABLE.LATE_CAPTURES_METRIC_NAME


def status_metric_name(status: str) -> str:
    """The metric that counts the windows ending in ``status`` (``ExecutionFailed``)."""
    return str(_TABLE.STATUS_METRIC_NAMES[status])
