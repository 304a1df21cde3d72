"""Time windows ``[start, end)`` and lenient ISO-8601 parsing of SageMaker timestamps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from model_monitor_analyzer.errors import AnalyzerInputError

_CAPTURE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The shape of capture timestamps, with valid fields: only such text may be compared as a string.
CAPTURE_TIME = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z")


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 UTC timestamp such as ``2021-05-06T22:00:00Z``.

    Stray spaces (the SageMaker docs show ``2019-12-01T16: 20: 00Z``) are ignored; a time
    without zone is taken as UTC. Raises ``ValueError`` on anything else.
    """
    cleaned = text.strip().replace(" ", "")
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    value = datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` in UTC, the format of capture files and metric lines."""
    utc = value.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime(_CAPTURE_FORMAT[2:])  # strftime's %Y does not pad years before 1000


@dataclass(frozen=True, kw_only=True)
class TimeWindow:
    """Half-open window ``[start, end)``; an open side is ``None``."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise AnalyzerInputError(
                f"the window starts at {format_timestamp(self.start)}, not before its end {format_timestamp(self.end)}: "
                "give a start earlier than the end"
            )
        # Capture timestamps have one fixed shape, so most comparisons are plain string ones.
        object.__setattr__(self, "_start_text", format_timestamp(self.start) if self.start else None)
        object.__setattr__(self, "_end_text", format_timestamp(self.end) if self.end else None)

    @property
    def is_open(self) -> bool:
        """True when neither side is bounded."""
        return self.start is None and self.end is None

    def contains_text(self, text: str) -> bool:
        """Whether the timestamp ``text`` lies in the window (``ValueError`` if unparseable)."""
        start_text, end_text = self._start_text, self._end_text  # type: ignore[attr-defined]
        if len(text) == 20 and CAPTURE_TIME.fullmatch(text):
            return (start_text is None or text >= start_text) and (end_text is None or text < end_text)
        value = parse_timestamp(text)
        return (self.start is None or value >= self.start) and (self.end is None or value < self.end)


MAX_LOOKBACK = timedelta(days=366)


def parse_duration(text: str, *, name: str = "--ground-truth-lookback") -> timedelta:
    """A look-back as an ISO-8601 duration such as ``PT24H``, ``P1D``, ``PT30M`` or ``P1DT2H``: at
    most ``MAX_LOOKBACK``, no sign (it always reaches back); ``name`` is how the user set it."""
    cleaned = text.strip().upper()
    match = re.fullmatch(
        r"\+?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?",
        cleaned,
    )
    if not match or cleaned.rstrip("T") in ("P", "+P"):
        raise AnalyzerInputError(f"{name} {text!r} is not an ISO-8601 duration such as PT24H or P1D")
    weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    try:
        value = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        value = MAX_LOOKBACK * 2
    if value > MAX_LOOKBACK:
        raise AnalyzerInputError(f"{name} {text!r} reaches back more than {MAX_LOOKBACK.days} days: give a shorter one")
    return value


def reach_back(start: datetime | None, lookback: timedelta) -> datetime | None:
    """``start`` moved back by ``lookback``; None (open) for an open start, or one before year 1."""
    if start is None:
        return None
    try:
        return start - lookback
    except OverflowError:
        return None
