"""What a run tells its caller: status, exit message, counts for the human summary, and the outcome
document a monitoring job leaves beside its reports.

``outcome.json`` (``OUTCOME_FILE``) is this project's addition to SageMaker's output folder: the built-in
says whether a window had data only in its exit message, which stays with the processing job. The
standalone engine's metrics publisher reads the file from the window's report folder, so a window that
analysed nothing is published as ``NoData`` with its reason, never as a healthy ``Completed``::

    {"status": "NoData",                        # Completed | CompletedWithViolations | NoData
     "message": "Completed: no data in the monitoring window; nothing to analyze.",
     "no_data_reason": "no_records_in_window",  # only for NoData, see NO_DATA_REASONS
     "summary": {"records": 0, "bad_records": 0, ...}}   # the run's counts (numbers and text only)

A run that fails writes no outcome: its job fails, and that is the Failed verdict.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

OUTCOME_FILE = "outcome.json"

# Why a window analysed nothing, from the counts its run reports (``RunOutcome.no_data_reason``).
NO_DATA_REASONS = {
    "no_records_in_window": "the input held no record of the window (no capture file, empty files, or records "
                            "of other times only)",
    "no_labelled_records": "the window's captured records have no ground-truth label yet",
    "no_usable_records": "records were labelled, but none has the values the metrics need",
    "all_records_bad": "every record of the window was unreadable (within the tolerated bad-record ratio)",
}


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

    @property
    def no_data_reason(self) -> str | None:
        """Why a ``NoData`` run analysed nothing (a key of ``NO_DATA_REASONS``), from the counts every monitor
        type reports in its summary; None for other statuses."""
        if self.status is not RunStatus.NO_DATA:
            return None
        summary = self.summary
        if summary.get("matched"):  # model quality: labelled records, none with usable values
            return "no_usable_records"
        if summary.get("captures_without_label"):  # model quality, bias: captures waiting for labels
            return "no_labelled_records"
        if summary.get("bad_records") or summary.get("malformed_records"):
            return "all_records_bad"
        return "no_records_in_window"

    def document(self) -> dict[str, object]:
        """The outcome document (``OUTCOME_FILE``, see the module docstring)."""
        document: dict[str, object] = {"status": self.status.value, "message": self.message}
        if self.no_data_reason is not None:
            document["no_data_reason"] = self.no_data_reason
        document["summary"] = {key: value for key, value in self.summary.items()
                               if value is None or isinstance(value, (bool, int, float, str))}
        return document
