"""One JSON object per line, so CloudWatch Logs Insights can filter on any field."""

from __future__ import annotations

import json
from typing import Any


def log(level: str, message: str, **fields: Any) -> None:
    """Write ``{"level", "message", **fields}`` as one line on stdout (values JSON cannot hold as text)."""
    print(json.dumps({"level": level, "message": message, **fields}, default=str), flush=True)
