"""Fixtures for construct tests: an App with the project's feature flags, and template checks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cdk_model_monitor  # noqa: F401  (first: selects a supported Node for aws-cdk-lib)

# isort: split
import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

REPO_ROOT = Path(__file__).resolve().parents[2]
# The same feature flags as the example app (cdk.json), so tests see what users deploy.
FLAGS = {k: v for k, v in json.loads((REPO_ROOT / "cdk.json").read_text())["context"].items()
         if k.startswith("@aws-cdk")}
_HASH = re.compile(r"[0-9a-f]{64}")
# Test values shared by the construct tests (no real account: 123456789012 is the documented example).
DEMO_BASELINE = str(REPO_ROOT / "demo" / "baseline")
MODEL_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"
ANALYZER_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1"
TEST_ENV = cdk.Environment(account="123456789012", region="us-east-1")
LINT_REGIONS = ["us-east-1", "eu-west-1"]


def normalize(node: Any) -> Any:
    """Replace content hashes (asset keys, image tags) so snapshots change only with infrastructure."""
    if isinstance(node, dict):
        return {_HASH.sub("<ASSET_HASH>", k): normalize(v) for k, v in node.items()}
    if isinstance(node, list):
        return [normalize(v) for v in node]
    if isinstance(node, str):
        return _HASH.sub("<ASSET_HASH>", node)
    return node


def template_text(node: object) -> str:
    """A template value (an ARN, a joined string) as text, each reference written as <logical id>."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Join" in node:
        return "".join(template_text(p) for p in node["Fn::Join"][1])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return f"<{node['Fn::GetAtt'][0]}>"
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    return json.dumps(node)


def new_app(outdir: Path, *, nag: bool = False) -> cdk.App:
    app = cdk.App(outdir=str(outdir), context=FLAGS)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


@pytest.fixture
def app(tmp_path: Path) -> cdk.App:
    return new_app(tmp_path)


@pytest.fixture
def stack(app: cdk.App) -> cdk.Stack:
    return cdk.Stack(app, "Test", env=cdk.Environment(account="123456789012", region="us-east-1"))


def template_of(stack: cdk.Stack) -> Template:
    return Template.from_stack(stack)


def cfn_lint_findings(template: dict[str, Any]) -> list[str]:
    """cfn-lint errors and warnings (W3005, CDK's doubled DependsOn, is noise)."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=LINT_REGIONS, ignore_checks=["W3005"]))
    return [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches]


def nag_findings(app: cdk.App) -> list[str]:
    """Unacknowledged cdk-nag AwsSolutions findings of an app created with ``new_app(nag=True)``."""
    try:
        app.synth()
    except RuntimeError as err:
        if "ValidationFailed" not in str(err):
            raise
        report = Path(app.outdir) / "validation-report.json"
        data = json.loads(report.read_text())
        return [f"{v['ruleName']} {[c['constructPath'] for c in v.get('violatingConstructs', [])]}"
                for p in data["pluginReports"]
                if p["pluginName"] == "AwsSolutions" for v in p["violations"]] or [str(err)]
    return []


def model_image(stack: cdk.Stack) -> str:
    """A model image in the stack's region's registry (SageMaker pulls from the model's own region; us-east-1
    for a stack without a region)."""
    region = stack.region if not cdk.Token.is_unresolved(stack.region) else "us-east-1"
    return f"123456789012.dkr.ecr.{region}.amazonaws.com/churn:1"
