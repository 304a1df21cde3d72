"""Times as the handlers read and write them: aware UTC datetimes in, ``...Z`` text out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text (``Z``, an offset such as CloudWatch's ``+0000``, or none:
    UTC) or a datetime; None for anything else, so each caller decides what a bad time means."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace(" ", "").replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """``2026-11-25T13:00:00Z``: whole seconds, UTC, as SageMaker writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
