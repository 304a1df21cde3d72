"""Errors raised at synth time for input a user can fix."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from constructs import Construct


class ConfigurationError(ValueError):
    """A construct was given a value it cannot deploy.

    The message names the construct path, the offending value and the fix, so a user sees
    what to change without reading a stack trace. ``scope`` is None for values checked before any
    construct exists (the ``Schedule`` factories); the message then starts with the parameter.
    """

    def __init__(self, scope: Construct | None, prop: str, value: object, fix: str) -> None:
        self.path = scope.node.path if scope is not None else None
        self.prop = prop
        self.value = value
        self.fix = fix
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}invalid {prop}={value!r}. {fix}")


def allowed_members(enum_type: type[enum.Enum]) -> str:
    """``Engine.STANDALONE, Engine.MODEL_MONITOR``: the members as a user writes them."""
    return ", ".join(f"{enum_type.__name__}.{member.name}" for member in enum_type)


def require_member(scope: Construct | None, prop: str, value: object, enum_type: type[enum.Enum]) -> None:
    """Refuse anything but a member of ``enum_type`` (a string spelling one, say ``"model-monitor"``, too:
    the constructs compare members, so a string would fail later, deep inside)."""
    if isinstance(value, enum_type):
        return
    hint = ""
    for member in enum_type:
        if isinstance(value, str) and value.lower() in (str(member.value).lower(), member.name.lower()):
            hint = f" ({value!r} is spelled {enum_type.__name__}.{member.name})"
    raise ConfigurationError(scope, prop, value, f"Use one of {allowed_members(enum_type)}{hint}.")


def require_members(scope: Construct | None, prop: str, values: object, enum_type: type[enum.Enum]) -> None:
    """Refuse anything but a sequence of members of ``enum_type``."""
    if isinstance(values, (str, enum.Enum)) or not isinstance(values, Sequence):
        raise ConfigurationError(scope, prop, values,
                                 f"Give a tuple of members of {enum_type.__name__}, e.g. "
                                 f"({enum_type.__name__}.{next(iter(enum_type)).name},); "
                                 f"allowed: {allowed_members(enum_type)}.")
    for index, value in enumerate(values):
        require_member(scope, f"{prop}[{index}]", value, enum_type)
