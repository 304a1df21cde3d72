"""The latest window's report: the standalone publisher copies it to one key, the dashboard links to it."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from cdk_model_monitor import AnalyzerImage, Baseline, MonitoringBucket
from cdk_model_monitor.dashboard import ModelDashboard
from cdk_model_monitor.job import Engine
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor

from .conftest import REPO_ROOT, new_app, template_of, template_text

BASELINE = str(REPO_ROOT / "demo" / "baseline")
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1")
LATEST_KEY = "reports/data-quality/churn/churn-dq/latest-report.html"




def _synth(tmp_path, engine: Engine) -> dict:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Latest", env=cdk.Environment(account="123456789012", region="us-east-1"))
    storage = MonitoringBucket(stack, "Storage")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint_name="churn", schedule_name="churn-dq",
                                 storage=storage, image=ANALYZER, engine=engine,
                                 capture_s3_uri="s3://capture-bucket/datacapture",
                                 baseline=Baseline.from_directory(BASELINE))
    ModelDashboard(stack, "Board", title="churn", monitors=[monitor])
    return template_of(stack).to_json()


@pytest.fixture(scope="module")
def standalone(tmp_path_factory) -> dict:
    return _synth(tmp_path_factory.mktemp("standalone"), Engine.STANDALONE)


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> dict:
    return _synth(tmp_path_factory.mktemp("native"), Engine.MODEL_MONITOR)


def _publisher_statements(template: dict) -> list[dict]:
    (role,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"
               and k.startswith("DataQualityStandaloneMetricsPublisher")]
    return [s for v in template["Resources"].values() if v["Type"] == "AWS::IAM::Policy"
            and {"Ref": role} in v["Properties"]["Roles"] for s in v["Properties"]["PolicyDocument"]["Statement"]]


def _resources(statement: dict) -> list[str]:
    resource = statement["Resource"]
    return [template_text(r) for r in (resource if isinstance(resource, list) else [resource])]


def _markdown(template: dict) -> str:
    (dashboard,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.loads(template_text(dashboard["Properties"]["DashboardBody"]))
    return body["widgets"][0]["properties"]["markdown"]


def test_publisher_may_write_the_latest_copy_and_no_other_report_key(standalone):
    writes = [r for s in _publisher_statements(standalone) if "s3:PutObject" in s["Action"] for r in _resources(s)]
    latest = [r for r in writes if r.endswith(f"/{LATEST_KEY}")]
    assert len(latest) == 1 and latest[0].startswith("<StorageBucket")
    # every other key it may write is a publication receipt under the monitor's manifests
    others = [r for r in writes if r not in latest]
    assert others and all("/reports/data-quality/_manifests/churn/churn-dq/*" in r for r in others)


def test_publisher_reads_the_window_reports_it_copies_from(standalone):
    reads = [r for s in _publisher_statements(standalone) if "s3:GetObject" in s["Action"] for r in _resources(s)]
    assert any(r.endswith("/reports/data-quality/churn/churn-dq/*") for r in reads)


def test_publish_results_passes_the_latest_copys_uri(standalone):
    (machine,) = [v for v in standalone["Resources"].values() if v["Type"] == "AWS::StepFunctions::StateMachine"]
    definition = json.loads(template_text(machine["Properties"]["DefinitionString"]))
    payload = definition["States"]["PublishResults"]["Parameters"]
    assert payload["latest_report_uri"].endswith(f"/{LATEST_KEY}")
    assert payload["latest_report_uri"].startswith("s3://<StorageBucket")
    others = [s for name, s in definition["States"].items() if name != "PublishResults"]
    assert all("latest_report_uri" not in s.get("Parameters", {}) for s in others)


def test_dashboard_links_to_the_latest_copy_in_the_s3_console(standalone):
    markdown = _markdown(standalone)
    assert "[latest window's report](https://console.aws.amazon.com/s3/object/<StorageBucket" in markdown
    assert f"&bucketType=general&prefix={LATEST_KEY})" in markdown
    assert "opens from the S3 console (Open) or after download" in markdown


def test_dashboard_of_a_native_schedule_links_to_the_report_folder_only(native):
    markdown = _markdown(native)
    assert "latest" not in markdown.replace("the latest window.", "")
    assert "[reports in S3](https://console.aws.amazon.com/s3/buckets/<StorageBucket" in markdown
    assert "prefix=reports/data-quality/churn/churn-dq/" in markdown
