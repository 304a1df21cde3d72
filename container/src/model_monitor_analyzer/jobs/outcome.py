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

    @classmethod
    def finished(cls, *, violations: int, output_dir: Path, files: tuple[Path, ...] = (),
                 summary: dict[str, object] | None = None) -> RunOutcome:
        """A run that analysed data, with the built-in's exit message for its number of violations."""
        if violations:
            status = RunStatus.COMPLETED_WITH_VIOLATIONS
            message = f"CompletedWithViolations: Job completed successfully with {violations} violations."
        else:
            status, message = RunStatus.COMPLETED, "Completed: Job completed successfully with no violations."
        return cls(status=status, message=message, output_dir=output_dir, files=tuple(files), summary=summary or {})
