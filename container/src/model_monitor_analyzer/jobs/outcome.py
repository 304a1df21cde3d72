"""What a run tells its caller: status, exit message, counts for the human summary."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class RunStatus(enum.Enum):
    """Execution status, spelled as SageMaker's monitoring executions spell it."""

    COMPLETED = "Completed"
    COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
    NO_DATA = "NoData"


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """Result of one baseline or monitor run.

    ``message`` is what goes to /opt/ml/output/message (it must start with the status
    prefix the service reads: ``Completed:`` or ``CompletedWithViolations:``).
    """

    status: RunStatus
    message: str
    output_dir: Path
    files: tuple[Path, ...] = ()
    summary: dict[str, object] = field(default_factory=dict)
