"""Errors a user can cause. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class AnalyzerInputError(Exception):
    """Bad input from the user: a missing file, a malformed record, an invalid option.

    ``location`` names the file (and line, when known) so the message points at the fix.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"


class NotAvailableError(Exception):
    """A monitor type whose job module is not part of this build."""
