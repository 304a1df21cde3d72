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


@pytest.fixture
def aws(monkeypatch):
    """Fake credentials and a region (us-east-1), and every AWS call answered by moto."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield
