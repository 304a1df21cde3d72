"""Shared test fixtures: the real SageMaker and Clarify reference files, and AWS in moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: speed is measured in bench/, never asserted in tests, and a shared CI machine's load
# would turn a deadline into a failure that says nothing about the code.
settings.register_profile("project", deadline=None)
settings.load_profile("project")

REPO_ROOT = Path(__file__).resolve().parent.parent


REFERENCE_EXAMPLES = REPO_ROOT / "tests" / "fixtures" / "reference"


@pytest.fixture(scope="session")
def reference_examples() -> Path:
    """Real files produced by SageMaker and Clarify, kept in the repository (tests/fixtures/reference/SOURCES.md
    says where each came from). A missing folder fails the test that needs it: it never skips."""
    if not (REFERENCE_EXAMPLES / "SOURCES.md").is_file():
        pytest.fail(f"the reference examples are missing from {REFERENCE_EXAMPLES.relative_to(REPO_ROOT)}: "
                    "they are part of the repository; restore them with `git checkout -- tests/fixtures`")
    return REFERENCE_EXAMPLES


def churn_baseline_files(examples: Path) -> dict[str, bytes]:
    """The churn example's real statistics.json and constraints.json as one baseline run would give them.
    The statistics were cut by CloudWatch after 33 of the 70 features (SOURCES.md), so the constraints keep
    those 33: a monitor refuses constraints comparing a feature the statistics lack."""
    notebook = examples / "immersion-day-churn-data-quality" / "notebook-output"
    statistics = (notebook / "statistics.json").read_bytes()
    constraints = json.loads((notebook / "constraints.json").read_text())
    kept = {feature["name"] for feature in json.loads(statistics)["features"]}
    constraints["features"] = [feature for feature in constraints["features"] if feature["name"] in kept]
    return {"statistics.json": statistics, "constraints.json": json.dumps(constraints, indent=2).encode()}


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
