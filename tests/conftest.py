"""Shared test fixtures: where the real SageMaker reference files live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _reference_examples() -> Path | None:
    configured = os.environ.get("MODEL_MONITOR_REFERENCE_EXAMPLES")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT.parent / "shared" / "reference" / "examples")
    return next((p for p in candidates if p.is_dir()), None)


@pytest.fixture(scope="session")
def reference_examples() -> Path:
    """Real files produced by SageMaker (see shared/reference/examples/SOURCES.md)."""
    found = _reference_examples()
    if found is None:
        pytest.skip("reference examples not found: set MODEL_MONITOR_REFERENCE_EXAMPLES")
    return found
