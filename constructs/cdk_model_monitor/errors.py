"""Errors raised at synth time for input a user can fix."""

from __future__ import annotations

from constructs import Construct


class ConfigurationError(ValueError):
    """A construct was given a value it cannot deploy.

    The message names the construct path, the offending value and the fix, so a user sees
    what to change without reading a stack trace.
    """

    def __init__(self, scope: Construct, prop: str, value: object, fix: str) -> None:
        self.path = scope.node.path
        self.prop = prop
        self.value = value
        self.fix = fix
        super().__init__(f"{self.path}: invalid {prop}={value!r}. {fix}")
