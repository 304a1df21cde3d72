"""The facade's NoData alarm, evaluated on the datapoints the metrics publisher leaves for windows whose jobs
analysed no record (the analyzer's outcome.json), as CloudWatch evaluates it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aws_cdk as cdk
import boto3
import pytest

from cdk_model_monitor import AlarmProps, CapturedEndpoint, DataQualityMonitor, ModelMonitor, MonitoringBucket
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage
from model_monitor_analyzer.jobs.outcome import OUTCOME_FILE, RunOutcome, RunStatus

from .conftest import REGION, load_handler

REPO_ROOT = Path(__file__).resolve().parents[2]
BUCKET = "monitoring-bucket"
ENDPOINT = "churn"


@pytest.fixture(scope="module")
def no_data_alarm() -> dict:
    """The NoData alarm of a default facade, its CloudFormation references resolved to the test's values."""
    app = cdk.App()
    stack = cdk.Stack(app, "Idle", env=cdk.Environment(account="123456789012", region=REGION))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, endpoint_name=ENDPOINT,
                                image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint,
                                 image=AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"),
                                 baseline=Baseline.from_directory(str(REPO_ROOT / "demo" / "baseline")))
    ModelMonitor(stack, "Churn", model_name="churn", endpoint=endpoint, data_quality=monitor, dashboard=None,
                 alarms=AlarmProps())
    template = app.synth().get_stack_by_name("Idle").template
    [alarm] = [r["Properties"] for r in template["Resources"].values()
               if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["AlarmName"] == "churn-data-quality-no-data"]
    alarm["Dimensions"] = [{**d, "Value": ENDPOINT} if not isinstance(d["Value"], str) else d
                           for d in alarm["Dimensions"]]
    return {**alarm, "schedule_name": monitor.schedule_name}


def _state(alarm: dict, now: datetime) -> str:
    """ALARM when at least DatapointsToAlarm of the last EvaluationPeriods periods that hold data breach (missing
    data ignored, as TreatMissingData ignore does), else OK."""
    period = alarm["Period"]
    points = boto3.client("cloudwatch", region_name=REGION).get_metric_statistics(
        Namespace=alarm["Namespace"], MetricName=alarm["MetricName"], Dimensions=alarm["Dimensions"],
        StartTime=now - timedelta(seconds=period * alarm["EvaluationPeriods"]), EndTime=now, Period=period,
        Statistics=[alarm["Statistic"]])["Datapoints"]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    breaching = sum(p[alarm["Statistic"]] >= alarm["Threshold"] for p in points)
    return "ALARM" if points and breaching >= alarm["DatapointsToAlarm"] else "OK"


def _publish_window(publisher, alarm: dict, start: datetime, outcome: RunOutcome) -> None:
    """One hourly window whose job completed: the analyzer's outcome in its report folder, then the publisher."""
    report = f"reports/data-quality/{ENDPOINT}/{alarm['schedule_name']}/{start + timedelta(hours=1):%Y/%m/%d/%H}"
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=f"{report}/{OUTCOME_FILE}",
                                                      Body=json.dumps(outcome.document()).encode())
    stamp = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    publisher.handler({"status": "Completed", "report_uri": f"s3://{BUCKET}/{report}", "endpoint_name": ENDPOINT,
                       "schedule_name": alarm["schedule_name"], "monitor_type": "data-quality",
                       "window": {"start": stamp, "metric_time": stamp}}, None)


NO_RECORDS = RunOutcome(status=RunStatus.NO_DATA, message="Completed: no data in the monitoring window; nothing to "
                        "analyze.", output_dir=Path("/opt/ml/processing/output"),
                        summary={"features": 0, "records": 0, "violations": 0, "bad_records": 0})
ANALYSED = RunOutcome.finished(violations=0, output_dir=Path("/opt/ml/processing/output"),
                               summary={"features": 12, "records": 640, "violations": 0, "bad_records": 0})


@pytest.fixture
def publisher(aws, monkeypatch):
    for name in ("EVENT_BUS_NAME", "STATUS_NAMESPACE", "METRICS_NAMESPACE", "KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return load_handler("metrics_publisher")


def test_three_windows_in_a_row_whose_jobs_analysed_no_record_raise_the_no_data_alarm(publisher, no_data_alarm):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [now - timedelta(hours=n) for n in (3, 2, 1)]

    for start in hours:
        _publish_window(publisher, no_data_alarm, start, NO_RECORDS)

    assert _state(no_data_alarm, now) == "ALARM"


def test_a_window_with_data_among_them_keeps_the_alarm_quiet(publisher, no_data_alarm):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    for start, outcome in zip([now - timedelta(hours=n) for n in (3, 2, 1)], (NO_RECORDS, ANALYSED, NO_RECORDS),
                              strict=True):
        _publish_window(publisher, no_data_alarm, start, outcome)

    assert _state(no_data_alarm, now) == "OK"
