"""checkov's CloudFormation scan of the example app's stacks on both engines: clean, except the findings
acknowledged below, each with its reason (the one place they are listed)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, new_app, template_of

# checkov's own virtualenv (tests/requirements-checkov.txt): its pins would hold the dev extra back
CHECKOV = Path(os.environ.get("CHECKOV", REPO_ROOT / ".venv-checkov" / "bin" / "checkov"))
_spec = importlib.util.spec_from_file_location("example_app_checkov", REPO_ROOT / "app.py")
example_app = importlib.util.module_from_spec(_spec)
sys.modules["example_app_checkov"] = example_app
_spec.loader.exec_module(example_app)

# check id -> (reason, logical-id prefixes of the resources it is acknowledged for)
ACKNOWLEDGED: dict[str, tuple[str, tuple[str, ...]]] = {
    "CKV_AWS_18": ("the access-log bucket is where the monitoring bucket's access logs go; logging its own "
                   "access would loop", ("ModelStorageAccessLogs",)),
    "CKV_AWS_21": ("access logs are written once and expire after a year; versions would only keep copies",
                   ("ModelStorageAccessLogs",)),
    "CKV_AWS_115": ("the engine's functions run once per window, called by their monitor's own state machine; "
                    "reserving concurrency would only take from the account's pool, and an account whose quota "
                    "is 10 refuses any reservation (cdk deploy fails): the retrain function takes turns under "
                    "a lease in the monitoring bucket instead (RetrainingProps(reserve_concurrency=True) "
                    "reserves 1 where the quota allows)",
                    ("ModelDataQualityStandalone", "ModelModelQualityStandalone", "ModelBiasStandalone",
                     "ModelRetrainingRetrain")),
    "CKV_AWS_116": ("the retrain function is invoked asynchronously and sends failed events to the retraining "
                    "dead-letter queue through its EventInvokeConfig, which checkov does not read; the engine's "
                    "functions are invoked synchronously by Step Functions, which retries and catches",
                    ("ModelRetrainingRetrain", "ModelDataQualityStandalone", "ModelModelQualityStandalone",
                     "ModelBiasStandalone")),
    "CKV_AWS_117": ("the functions call AWS APIs only (S3, CloudWatch, EventBridge, SageMaker); a VPC would add "
                    "endpoints or a NAT and protect nothing",
                    ("ModelRetrainingRetrain", "ModelDataQualityStandalone", "ModelModelQualityStandalone",
                     "ModelBiasStandalone")),
    "CKV_AWS_173": ("the functions' environment holds names, ARNs and S3 URIs, no secrets",
                    ("ModelRetrainingRetrain", "ModelDataQualityStandalone", "ModelModelQualityStandalone",
                     "ModelBiasStandalone")),
    "CKV_AWS_158": ("the functions' log groups hold their JSON log lines (no execution data); the state "
                    "machines' execution logs are encrypted with the monitoring key",
                    ("ModelRetrainingRetrainLogs", "ModelDataQualityStandalone", "ModelModelQualityStandalone",
                     "ModelBiasStandalone")),
    "CKV_AWS_370": ("the inference container is the user's: EndpointProps(enable_network_isolation=True) turns "
                    "isolation on for models that need no network", ("ModelEndpointModel",)),
}


def _scan(template: dict, directory: Path) -> list[tuple[str, str]]:
    """(check id, logical id) of every failed checkov check of ``template``."""
    path = directory / "template.json"
    path.write_text(json.dumps(template))
    checkov = CHECKOV
    if not checkov.exists():
        pytest.fail(f"checkov is not installed at {checkov.relative_to(REPO_ROOT)}: `make test` installs it there")
    # offline: no guideline download, no package scan
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run([str(checkov), "-f", str(path), "--framework", "cloudformation", "-o", "json",
                             "--quiet", "--skip-download"], capture_output=True, text=True, env=env, timeout=600)
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0
    return [(c["check_id"], c["resource"].split(".", 1)[1]) for c in report["results"]["failed_checks"]]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["standalone", "model-monitor"])
def test_example_app_passes_checkov_on_both_engines(tmp_path, engine):
    app = new_app(tmp_path / "app")
    app.node.set_context(example_app.CONTEXT_KEY, [{"name": "churn", "retrainingPipeline": "churn-retraining"}])
    app.node.set_context(example_app.ENGINE_KEY, engine)
    (stack,) = example_app.build_app(app)
    findings = _scan(template_of(stack).to_json(), tmp_path)
    unacknowledged = [(check, resource) for check, resource in findings
                      if check not in ACKNOWLEDGED or not resource.startswith(ACKNOWLEDGED[check][1])]
    assert unacknowledged == []
