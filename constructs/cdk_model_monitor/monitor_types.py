"""The monitor types' names, read from the one table the Lambda handlers use too (lambda/_shared/monitor_types.py).

Each monitor type's unit (``monitors/<type>/``) takes its row from here; nothing else spells a type's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .bundled import lambda_shared_module

_TABLE = lambda_shared_module("monitor_types")


@dataclass(frozen=True, kw_only=True)
class MonitorTypeNames:
    """How one monitor type is spelled where each spelling is someone else's rule (see the shared table)."""

    name: str
    """Report folders, job names, the status metrics' ``MonitorType`` dimension (``model-bias``)."""
    sagemaker_type: str
    """A SageMaker schedule's ``MonitoringType``, and ``AWS::SageMaker::<this>JobDefinition``."""
    endpoint_namespace: str
    """CloudWatch namespace of the analyzer's metrics for endpoints (contract §7)."""
    batch_namespace: str
    """CloudWatch namespace of the analyzer's metrics for batch transform jobs (contract §7)."""
    short_name: str
    """The analyzer's ``baseline --type`` and the type's alarm category (``bias``)."""
    analysis_type: str | None
    """``analysis_type`` of the analyzer's environment; None for data quality, the analyzer's default."""


def _row(row: Any) -> MonitorTypeNames:
    """A typed copy of a row of the shared table (a module loaded from its file is untyped)."""
    return MonitorTypeNames(name=row.name, sagemaker_type=row.sagemaker_type, endpoint_namespace=row.endpoint_namespace,
                            batch_namespace=row.batch_namespace,
                            short_name=row.short_name, analysis_type=row.analysis_type)


DATA_QUALITY = _row(_TABLE.DATA_QUALITY)
MODEL_QUALITY = _row(_TABLE.MODEL_QUALITY)
MODEL_BIAS = _row(_TABLE.MODEL_BIAS)
