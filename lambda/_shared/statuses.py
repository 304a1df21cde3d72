"""A monitoring window's statuses and the metrics that report them: one table for the handlers and the constructs.

The metrics publisher publishes these names; the constructs (which load this very file, see
``cdk_model_monitor.bundled.lambda_shared_module``) alarm and draw on them. Standard library only.
"""

from __future__ import annotations

COMPLETED = "Completed"
COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
NO_DATA = "NoData"
FAILED = "Failed"
# Every status a window ends in, in the order the status metrics are published and drawn.
EXECUTION_STATUSES = (COMPLETED, COMPLETED_WITH_VIOLATIONS, NO_DATA, FAILED)
# The statuses the analyzer's outcome file may give (a window fails outside the analyzer).
ANALYZER_STATUSES = (COMPLETED, COMPLETED_WITH_VIOLATIONS, NO_DATA)
# Which status a window keeps when two are published for it (retries, duplicates): the higher rank.
STATUS_RANK = {FAILED: 0, NO_DATA: 1, COMPLETED: 2, COMPLETED_WITH_VIOLATIONS: 2}

# The project's own metrics (statuses, violations, skipped lines, late captures), beside the analyzer's.
STATUS_NAMESPACE = "CdkModelMonitor"
STATUS_METRIC_NAMES = {status: f"Execution{status}" for status in EXECUTION_STATUSES}
VIOLATIONS_METRIC_NAME = "ConstraintViolations"
SKIPPED_METRIC_NAME = "MetricsSkipped"
LATE_CAPTURES_METRIC_NAME = "LateCaptureFiles"
