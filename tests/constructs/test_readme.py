"""Every ```python block of the README runs as written.

CDK blocks synthesize in a temporary folder holding the demo's baselines under the names the README
uses; the only change is that their ``cdk.App()`` writes into that folder with the project's feature
flags (jsii's Node process does not see a changed working directory or environment). Blocks that read
or write S3 run against moto, with the bucket the README names and a real built-in execution in it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from .conftest import FLAGS, REPO_ROOT, cfn_lint_findings

APP = "cdk.App()"
BUCKET = "churn-monitoring"
RESULTS_PREFIX = "reports/data-quality/churn/churn-hourly"
GROUND_TRUTH_PREFIX = "ground-truth/churn"
# A data-quality execution of SageMaker's built-in analyzer, uploaded as the hour it would have run in
BUILT_IN_EXECUTION = "immersion-day-churn-data-quality/notebook-output"
EXECUTION_HOUR = "2026/11/25/11"


@dataclass(frozen=True)
class Block:
    """A ```python block of the README and the line its code starts on."""

    line: int
    code: str


def _python_blocks() -> list[Block]:
    readme = (REPO_ROOT / "README.md").read_text()
    return [Block(readme[:m.start(1)].count("\n") + 1, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", readme, re.S | re.M)]


def _block(marker: str) -> Block:
    found = [b for b in _python_blocks() if marker in b.code]
    assert len(found) == 1, f"{len(found)} README python blocks contain {marker!r}"
    return found[0]


# Each README block is run by the test named after what it shows; a new block needs a marker here.
MARKERS = ("mm.ModelMonitor(", "mm.DataQualityMonitor(", "MonitoringResults.open(", "put_ground_truth(",
           "scale_out=ScaleOut(",
           "mm.BatchTransformCapture(")


@pytest.fixture()
def workdir(tmp_path, monkeypatch) -> Path:
    for kind, folder in (("data-quality", "baseline"), ("model-quality", "baseline-model-quality"),
                         ("bias", "baseline-bias")):
        shutil.copytree(REPO_ROOT / "demo" / folder, tmp_path / "baselines" / kind)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def s3(reference_examples, aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    execution = reference_examples / BUILT_IN_EXECUTION
    for name in ("statistics.json", "constraint_violations.json"):
        client.upload_file(str(execution / name), BUCKET, f"{RESULTS_PREFIX}/{EXECUTION_HOUR}/{name}")
    yield client


def _run(block: Block, workdir: Path) -> dict:
    """Execute a block as README.md line ``block.line``; return its namespace."""
    code = block.code
    if "aws_cdk" in code:
        assert code.count(APP) == 1, f"README.md:{block.line}: a CDK example creates its app with {APP}"
        code = code.replace(APP, f"cdk.App(outdir={str(workdir / 'cdk.out')!r}, context=FLAGS)")
    namespace = {"FLAGS": FLAGS}
    # leading newlines keep tracebacks on the README's own line numbers
    exec(compile("\n" * (block.line - 1) + code, "README.md", "exec"), namespace)
    return namespace


def _template(workdir: Path, stack_name: str) -> dict:
    return json.loads((workdir / "cdk.out" / f"{stack_name}.template.json").read_text())


def test_every_python_block_of_the_readme_is_run_by_a_test():
    unclaimed = [b.line for b in _python_blocks() if not any(m in b.code for m in MARKERS)]
    assert unclaimed == [], f"README.md python blocks at lines {unclaimed} are not run by tests/constructs/test_readme.py"


def test_the_readme_facade_example_synthesizes(workdir):
    stack = _run(_block("endpoint=mm.EndpointProps("), workdir)["stack"]
    template = _template(workdir, stack.stack_name)
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::SageMaker::Endpoint", "AWS::StepFunctions::StateMachine", "AWS::CloudWatch::CompositeAlarm",
            "AWS::CloudWatch::Dashboard", "AWS::Events::Rule", "AWS::SNS::Topic"} <= types
    assert cfn_lint_findings(template) == []


def test_the_readme_scale_out_example_synthesizes_an_emr_serverless_application(workdir):
    namespace = _run(_block("scale_out=ScaleOut("), workdir)
    template = _template(workdir, namespace["stack"].stack_name)
    (application,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::EMRServerless::Application"]
    assert application["Properties"]["MaximumCapacity"] == {"Cpu": "64 vCPU", "Memory": "256 GB"}
    assert cfn_lint_findings(template) == []


def test_the_readme_building_blocks_example_synthesizes_an_endpoint_and_its_monitor(workdir):
    namespace = _run(_block("mm.DataQualityMonitor("), workdir)
    template = _template(workdir, namespace["stack"].stack_name)
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::S3::Bucket", "AWS::SageMaker::Endpoint", "AWS::StepFunctions::StateMachine"} <= types
    assert namespace["drift"].metric_drift("day_minutes").metric_name == "feature_baseline_drift_day_minutes"
    assert cfn_lint_findings(template) == []


def test_the_readme_batch_example_watches_completed_jobs_and_its_transform_call_is_valid(workdir, aws):
    namespace = _run(_block("mm.BatchTransformCapture("), workdir)
    template = _template(workdir, namespace["stack"].stack_name)
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::SageMaker::Endpoint" not in types and "AWS::StepFunctions::StateMachine" in types
    (rule,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"
               and "aws.sagemaker" in json.dumps(r["Properties"].get("EventPattern"))]
    assert rule["Properties"]["EventPattern"]["detail"]["TransformJobName"] == [{"prefix": "nightly-churn-"}]
    assert cfn_lint_findings(template) == []
    # the transform call as the README writes it, with the output's config: a request botocore's model accepts
    namespace["start_nightly_transform"]("2026-11-25", {
        "DestinationS3Uri": "s3://churn-monitoring/datacapture/batch-transform/churn",
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "GenerateInferenceId": True})
    described = boto3.client("sagemaker", region_name="us-east-1").describe_transform_job(
        TransformJobName="nightly-churn-2026-11-25")
    assert described["TransformJobName"] == "nightly-churn-2026-11-25"


def test_the_readme_results_example_lists_a_built_in_execution_from_s3(workdir, s3, reference_examples, capsys):
    _run(_block("MonitoringResults.open("), workdir)
    written = json.loads((reference_examples / BUILT_IN_EXECUTION / "constraint_violations.json").read_text())
    assert capsys.readouterr().out.splitlines() == [
        f"2026-11-25 11:00:00+00:00 CompletedWithViolations {len(written['violations'])}"]


def test_the_readme_ground_truth_example_writes_one_object_under_the_prefix(workdir, s3):
    _run(_block("put_ground_truth("), workdir)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{GROUND_TRUTH_PREFIX}/")["Contents"]]
    assert len(keys) == 1
    labels = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().decode().splitlines()
    assert [json.loads(line)["eventMetadata"]["eventId"] for line in labels] == ["order-1017", "order-1018"]


# mypy's cache outlives the test (aws-cdk-lib's stubs take a minute to analyse the first time)
MYPY_CACHE = Path(tempfile.gettempdir()) / "cdk-model-monitor-mypy-cache"


def mypy_findings(paths: list[Path]) -> list[str]:
    """mypy's errors on ``paths`` against the installed packages, with the project's ``[tool.mypy]``."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO_ROOT / "pyproject.toml"),
         "--cache-dir", str(MYPY_CACHE), "--no-error-summary", *map(str, paths)],
        cwd=paths[0].parent, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr or result.stdout
    return [line for line in result.stdout.splitlines() if ": error:" in line]


def test_every_python_block_of_the_readme_passes_mypy(tmp_path):
    files = []
    for block in _python_blocks():
        path = tmp_path / f"readme_line_{block.line}.py"
        # leading newlines: mypy reports the README's own line numbers
        path.write_text("\n" * (block.line - 1) + block.code)
        files.append(path)
    assert mypy_findings(files) == []


def test_mypy_finds_a_misspelt_parameter_in_a_readme_style_block(tmp_path):
    path = tmp_path / "misspelt.py"
    path.write_text("import cdk_model_monitor as mm\n\nmm.Schedule.daily(hours=2)\n")
    assert [f.split(": error: ")[1] for f in mypy_findings([path])] == [
        'Unexpected keyword argument "hours" for "daily" of "Schedule"; did you mean "hour"?  [call-arg]']
