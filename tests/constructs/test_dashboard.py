"""ModelDashboard: the widgets a model's dashboard shows, read back from the synthesized dashboard body."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from cdk_model_monitor import AnalyzerImage, Baseline, CapturedEndpoint, ConfigurationError, MonitoringBucket
from cdk_model_monitor.alarms import DataQualityAlarmOptions, MonitorAlarms
from cdk_model_monitor.dashboard import DashboardMonitor, ModelDashboard
from cdk_model_monitor.monitors.data_quality import DataQualityMonitor

from .conftest import REPO_ROOT, new_app, template_of

BASELINE = str(REPO_ROOT / "demo" / "baseline")
FEATURES = [f["name"] for f in json.loads((REPO_ROOT / "demo" / "baseline" / "constraints.json").read_text())["features"]]
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1")


def _body(template: dict) -> dict:
    """The dashboard body with CloudFormation references replaced by ``REF``."""
    (dashboard,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    app = new_app(tmp_path_factory.mktemp("dashboard"))
    stack = cdk.Stack(app, "Dashboard", env=cdk.Environment(account="123456789012", region="us-east-1"))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name="churn",
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=ANALYZER,
                                 baseline=Baseline.from_directory(BASELINE))
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    alarms.add_monitor(monitor, baseline=Baseline.from_directory(BASELINE),
                       options=DataQualityAlarmOptions(drift_thresholds={"plan": 0.3}))
    alarms.add_composite_alarm()
    dashboard = ModelDashboard(stack, "Board", title="churn", monitors=[monitor], alarms=alarms, endpoint=endpoint)
    return stack, alarms, dashboard, _body(template_of(stack).to_json())


def _widgets(body: dict, kind: str) -> list[dict]:
    return [w for w in body["widgets"] if w["type"] == kind]


def _graph(body: dict, title_part: str) -> dict:
    (graph,) = [w for w in _widgets(body, "metric") if title_part in w["properties"].get("title", "")]
    return graph["properties"]


def test_heading_links_to_the_reports_folder_in_the_s3_console(built):
    (heading, *_) = _widgets(built[3], "text")
    markdown = heading["properties"]["markdown"]
    assert markdown.startswith("# churn: model monitoring")
    assert "https://console.aws.amazon.com/s3/buckets/REF?region=REF" in markdown
    assert "prefix=reports/data-quality/REF/" in markdown


def test_alarm_states_show_every_alarm_and_the_composite(built):
    (status,) = _widgets(built[3], "alarm")
    assert len(status["properties"]["alarms"]) == len(built[1].created_alarms()) + 1


def test_drift_graph_has_every_feature_and_the_alarm_thresholds(built):
    drift = _graph(built[3], "drift per feature")
    assert [m[1] for m in drift["metrics"]] == [f"feature_baseline_drift_{f}" for f in FEATURES]
    # plan's explicit alarm threshold, and the effect thresholds of the baseline's auto methods that the
    # analyzer's verdicts apply (wasserstein for numbers; chi_squared for the other String feature, state)
    assert sorted(a["value"] for a in drift["annotations"]["horizontal"]) == [0.03, 0.1, 0.3]
    completeness = _graph(built[3], "completeness per feature")
    assert [m[1] for m in completeness["metrics"]] == [f"feature_non_null_{f}" for f in FEATURES]


def test_execution_status_graph_stacks_the_four_statuses_and_violations(built):
    status = _graph(built[3], "execution status per window")
    names = [m[1] for m in status["metrics"]]
    assert names == ["ExecutionCompleted", "ExecutionCompletedWithViolations", "ExecutionNoData", "ExecutionFailed",
                     "ConstraintViolations"]
    assert status["stacked"] is True


def test_traffic_shows_the_endpoints_invocations(built):
    traffic = _graph(built[3], "Traffic")
    ((namespace, name, *dimensions, options),) = traffic["metrics"]
    assert (namespace, name, options["stat"]) == ("AWS/SageMaker", "Invocations", "Sum")
    assert dimensions[:2] == ["EndpointName", "REF"] and dimensions[2:] == ["VariantName", "AllTraffic"]


def test_features_can_be_chosen_without_alarms(stack):
    storage = MonitoringBucket(stack, "Storage")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint_name="churn", storage=storage, image=ANALYZER,
                                 capture_s3_uri="s3://capture-bucket/datacapture",
                                 baseline=Baseline.from_directory(BASELINE))
    ModelDashboard(stack, "Board", title="churn", monitors=[DashboardMonitor(monitor=monitor, features=["plan"])])
    body = _body(template_of(stack).to_json())
    assert _widgets(body, "alarm") == []
    assert [m[1] for m in _graph(body, "drift per feature")["metrics"]] == ["feature_baseline_drift_plan"]


def test_bad_dashboard_names_are_refused(stack):
    with pytest.raises(ConfigurationError, match="dashboard_name"):
        ModelDashboard(stack, "Board", title="churn", dashboard_name="churn dashboard")
