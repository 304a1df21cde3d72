"""The README's usage example synthesizes as written (with the demo's baselines in its folders)."""

from __future__ import annotations

import json
import re
import shutil

from .conftest import FLAGS, REPO_ROOT, cfn_lint_findings


def _usage_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    usage = readme[readme.index("## Usage"):]
    return re.search(r"```python\n(.*?)```", usage, re.S).group(1)


def test_the_readme_facade_example_synthesizes(tmp_path, monkeypatch):
    for kind, folder in (("data-quality", "baseline"), ("model-quality", "baseline-model-quality"),
                         ("bias", "baseline-bias")):
        shutil.copytree(REPO_ROOT / "demo" / folder, tmp_path / "baselines" / kind)
    monkeypatch.chdir(tmp_path)
    code = _usage_example().replace("app = cdk.App()", f"app = cdk.App(outdir={str(tmp_path / 'cdk.out')!r}, context=FLAGS)")
    headers = ["account_length", "day_minutes", "eve_minutes", "night_minutes", "intl_calls",
               "customer_service_calls", "senior", "plan", "state", "churn"]
    namespace = {"FLAGS": FLAGS, "headers": headers}
    exec(compile(code, "README.md", "exec"), namespace)
    stack = namespace["stack"]


    template = json.loads((tmp_path / "cdk.out" / f"{stack.stack_name}.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::SageMaker::Endpoint", "AWS::StepFunctions::StateMachine", "AWS::CloudWatch::CompositeAlarm",
            "AWS::CloudWatch::Dashboard", "AWS::Events::Rule", "AWS::SNS::Topic"} <= types
    assert cfn_lint_findings(template) == []
