"""lambda/metrics_publisher: analyzer metrics to CloudWatch, status metrics and the status event."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from model_monitor_analyzer.results import MonitoringResults

from ..conftest import churn_baseline_files
from .conftest import REGION, fail_requests, load_handler, log_lines, refuse_put_metric_data
from .s3_permissions import enforce_policy

BUCKET = "monitoring-bucket"
REPORT = f"s3://{BUCKET}/reports/data-quality/churn-ep/churn-ep-data-quality/2026/11/25/13"
METRICS = f"s3://{BUCKET}/metrics/churn-ep/churn-ep-data-quality/2026/11/25/13"
RECEIPT = (
    f"s3://{BUCKET}/reports/data-quality/_manifests/churn-ep/churn-ep-data-quality/2026/11/25/13/receipt.json"
)
NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
METRIC_TIME = datetime(2026, 11, 25, 12, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 13, 20, tzinfo=UTC)
DIMS = [
    {"Name": "Endpoint", "Value": "churn-ep"},
    {"Name": "MonitoringSchedule", "Value": "churn-ep-data-quality"},
]
WINDOW = {
    "window_id": "2026112513",
    "start": "2026-11-25T12:00:00Z",
    "end": "2026-11-25T13:00:00Z",
    "metric_time": "2026-11-25T12:00:00Z",
    "job_name": "model-monitor-2026112513-0123456789",
    "endpoint_name": "churn-ep",
    "monitor_type": "data-quality",
}


@pytest.fixture
def publisher(aws, monkeypatch):
    for name in ("EVENT_BUS_NAME", "STATUS_NAMESPACE", "METRICS_NAMESPACE", "KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    module = load_handler("metrics_publisher")
    monkeypatch.setattr(module, "_now", lambda: NOW)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    # what the analyzer's job leaves beside the reports of a window it analysed (tests replace or delete it)
    _put(f"{REPORT}/outcome.json", json.dumps({"status": "Completed", "summary": {"records": 4}}))
    return module


def _put(uri: str, body: str | bytes) -> None:
    bucket, key = uri[len("s3://") :].split("/", 1)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body
    )


def _line(name: str, **fields) -> str:
    return json.dumps({"MetricName": name, "Timestamp": "2026-11-25T12:00:00Z", "Dimensions": DIMS, **fields})


def _event(**overrides) -> dict:
    event = {
        "status": "Completed",
        "report_uri": REPORT,
        "metrics_prefix": METRICS,
        "endpoint_name": "churn-ep",
        "schedule_name": "churn-ep-data-quality",
        "monitor_type": "data-quality",
        "window": WINDOW,
    }
    event.update(overrides)
    return event


def _stat(namespace: str, name: str, stat: str, dims=DIMS) -> list[float]:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                    "Period": 3600,
                    "Stat": stat,
                },
            }
        ],
        StartTime=METRIC_TIME - timedelta(hours=1),
        EndTime=METRIC_TIME + timedelta(hours=1),
    )["MetricDataResults"][0]
    return result["Values"]


def _metric_names(namespace: str) -> list[str]:
    paginator = boto3.client("cloudwatch", region_name=REGION).get_paginator("list_metrics")
    return sorted(
        m["MetricName"] for page in paginator.paginate(Namespace=namespace) for m in page["Metrics"]
    )


def test_completed_execution_publishes_the_analyzer_metrics_in_sagemakers_namespace(publisher):
    _put(
        f"{METRICS}/cloudwatch_metrics.jsonl",
        "\n".join(
            [
                _line("feature_baseline_drift_Age", Value=0.41, Unit="None"),
                _line("feature_non_null_Age", Value=1.0),
                _line(
                    "feature_data_Age",
                    StatisticValues={"SampleCount": 4, "Sum": 130, "Minimum": 18, "Maximum": 52},
                ),
            ]
        ),
    )

    result = publisher.handler(_event(), None)

    assert (result["status"], result["metrics_published"], result["metrics_skipped"]) == ("Completed", 3, 0)
    assert _metric_names(NAMESPACE) == [
        "feature_baseline_drift_Age",
        "feature_data_Age",
        "feature_non_null_Age",
    ]
    assert _stat(NAMESPACE, "feature_baseline_drift_Age", "Sum") == [0.41]
    assert _stat(NAMESPACE, "feature_data_Age", "Maximum") == [52.0]
    assert _stat(NAMESPACE, "feature_data_Age", "SampleCount") == [4.0]


def test_violations_promote_completed_and_are_counted(publisher, events_inbox, reference_examples):
    violations = (
        reference_examples / "from-idea-to-production-monitoring/notebook-output/constraint_violations.json"
    )
    _put(f"{REPORT}/constraint_violations.json", violations.read_bytes())
    expected = len(json.loads(violations.read_text())["violations"])

    result = publisher.handler(_event(metrics_prefix=None), None)

    assert (result["status"], result["violation_count"]) == ("CompletedWithViolations", expected)
    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert _stat("CdkModelMonitor", "ConstraintViolations", "Maximum", status_dims) == [float(expected)]
    [event] = events_inbox()
    assert event["detail"]["status"] == "CompletedWithViolations"
    assert event["detail"]["violationCount"] == expected


def test_each_status_metric_is_one_for_the_status_and_zero_for_the_others(publisher):
    publisher.handler(_event(status="NoData", no_data_reason="no_capture"), None)

    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    values = {
        status: _stat("CdkModelMonitor", f"Execution{status}", "Maximum", status_dims)
        for status in ("Completed", "CompletedWithViolations", "NoData", "Failed")
    }
    assert values == {"Completed": [0.0], "CompletedWithViolations": [0.0], "NoData": [1.0], "Failed": [0.0]}


def test_no_data_publishes_no_analyzer_metrics_and_says_why_in_the_event(publisher, events_inbox):
    _put(f"{METRICS}/cloudwatch_metrics.jsonl", _line("feature_baseline_drift_Age", Value=0.41))

    result = publisher.handler(
        _event(status="NoData", window={**WINDOW, "no_data_reason": "no_capture"}), None
    )

    assert (result["status"], result["metrics_published"]) == ("NoData", 0)
    assert _metric_names(NAMESPACE) == []
    [event] = events_inbox()
    assert event["detail"]["noDataReason"] == "no_capture"


def test_status_event_carries_report_window_and_job(publisher, events_inbox):
    job_arn = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitor-2026112513-0123456789"

    result = publisher.handler(_event(metrics_prefix=None, processing_job_arn=job_arn), None)

    [event] = events_inbox()
    assert event["id"] == result["event_id"]
    assert (event["source"], event["detail-type"]) == (
        "cdk-model-monitor",
        "Model Monitor Execution Status Change",
    )
    assert event["resources"] == [job_arn]
    assert event["detail"] == {
        "status": "Completed",
        "endpointName": "churn-ep",
        "monitoringScheduleName": "churn-ep-data-quality",
        "monitorType": "data-quality",
        "reportUri": REPORT,
        "windowId": "2026112513",
        "windowStart": "2026-11-25T12:00:00Z",
        "windowEnd": "2026-11-25T13:00:00Z",
        "metricTime": "2026-11-25T12:00:00Z",
        "processingJobName": "model-monitor-2026112513-0123456789",
        "metricsPublished": 0,
        "metricsNamespace": NAMESPACE,
    }


def test_failed_execution_unwraps_the_step_functions_error_cause(publisher, events_inbox):
    cause = json.dumps({"ProcessingJobName": WINDOW["job_name"], "ProcessingJobStatus": "Failed",
                        "FailureReason": "ClientError: instance limit exceeded"})

    result = publisher.handler(
        _event(status="Failed", failure_reason={"Error": "States.TaskFailed", "Cause": cause}), None
    )

    assert result["status"] == "Failed"
    [event] = events_inbox()
    assert event["detail"]["failureReason"] == (f"processing job {WINDOW['job_name']} Failed: ClientError: instance "
                                                "limit exceeded")
    assert result["failure_reason"] == event["detail"]["failureReason"]
    assert _metric_names(NAMESPACE) == []


def _failed_job(**fields) -> dict:
    """A DescribeProcessingJob body as Step Functions puts it in the Cause of a failed .sync task (times in epoch
    milliseconds), started at 12:05 and ended ``minutes`` later."""
    started = datetime(2026, 11, 25, 13, 5, tzinfo=UTC)
    minutes = fields.pop("minutes", 3)
    return {"ProcessingJobName": WINDOW["job_name"], "ProcessingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:"
            f"processing-job/{WINDOW['job_name']}", "ProcessingJobStatus": "Failed",
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "CreationTime": (started - timedelta(minutes=1)).timestamp() * 1000,
            "ProcessingStartTime": started.timestamp() * 1000,
            "ProcessingEndTime": (started + timedelta(minutes=minutes)).timestamp() * 1000,
            "LastModifiedTime": (started + timedelta(minutes=minutes)).timestamp() * 1000,
            "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1"},
            "Environment": {f"variable_{i}": "x" * 40 for i in range(30)}, **fields}


def test_a_failed_jobs_reason_is_the_containers_own_message_before_sagemakers(publisher, events_inbox):
    message = ("Error: no data-quality statistics (statistics.json) for baseline_statistics: "
               "/opt/ml/processing/baseline/stats does not exist")  # what the analyzer writes to /opt/ml/output/message
    job = _failed_job(ExitMessage=message, FailureReason="AlgorithmError: See job logs for more information")

    publisher.handler(_event(status="Failed", failure_reason={"Error": "States.TaskFailed",
                                                              "Cause": json.dumps(job)}), None)

    [event] = events_inbox()
    assert event["detail"]["failureReason"] == (f"processing job {WINDOW['job_name']} Failed after 3 min: {message} "
                                                "(SageMaker: AlgorithmError: See job logs for more information)")


@pytest.mark.parametrize(("minutes", "why"), [
    (60, "it reached its maximum run time (3600 s)"),
    (7, "stopped by StopProcessingJob (a user, or its execution ending)"),
])
def test_a_stopped_jobs_reason_is_a_short_summary_not_its_description(publisher, events_inbox, minutes, why):
    job = _failed_job(ProcessingJobStatus="Stopped", minutes=minutes)

    publisher.handler(_event(status="Failed", failure_reason={"Error": "States.TaskFailed",
                                                              "Cause": json.dumps(job)}), None)

    [event] = events_inbox()
    assert event["detail"]["failureReason"] == f"processing job {WINDOW['job_name']} Stopped after {minutes} min: {why}"


def test_infinities_are_clamped_and_nan_is_skipped(publisher, capsys):
    _put(
        f"{METRICS}/bias.jsonl",
        "\n".join(
            [
                _line("bias_metric_CI", Value=float("inf")),
                _line("bias_metric_DPL", Value=float("-inf")),
                _line("bias_metric_KL", Value=float("nan")),
                _line("bias_metric_LP", Value=1e300),
            ]
        ),
    )

    result = publisher.handler(_event(), None)

    assert (result["metrics_published"], result["metrics_skipped"]) == (3, 1)
    assert _stat(NAMESPACE, "bias_metric_CI", "Maximum") == [2.348543e108]
    assert _stat(NAMESPACE, "bias_metric_DPL", "Minimum") == [-2.348543e108]
    assert _stat(NAMESPACE, "bias_metric_LP", "Maximum") == [2.348543e108]
    assert "bias_metric_KL" not in _metric_names(NAMESPACE)
    [skip] = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "WARNING"]
    assert skip["message"] == "skipped metric line: Value nan is not a number"
    assert (skip["file"], skip["line"]) == (f"{METRICS}/bias.jsonl", 3)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"Value": 1.0}), "no MetricName"),
        (
            _line("m", StatisticValues={"SampleCount": 0, "Sum": 0, "Minimum": 0, "Maximum": 0}),
            "SampleCount (> 0)",
        ),
        (_line("m"), "no Value, StatisticValues or Values"),
        (
            json.dumps({"MetricName": "m", "Timestamp": "2026-11-01T00:00:00Z", "Value": 1}),
            "outside what CloudWatch",
        ),
        (_line("m", Value=1, Dimensions=[{"Name": "Endpoint"}]), "Dimensions must be a list"),
    ],
)
def test_unusable_lines_are_skipped_with_the_reason(publisher, line, problem):
    datum, why = publisher.metric_datum(
        line, {"metric_time": METRIC_TIME, "endpoint_name": "ep", "schedule_name": "s"}, now=NOW
    )

    assert datum is None
    assert problem in why


def test_lines_without_dimensions_or_timestamp_get_the_windows(publisher, capsys):
    _put(
        f"{METRICS}/m.jsonl",
        json.dumps({"MetricName": "feature_non_null_Age", "Value": 0.5, "Unit": "Ratio"}),
    )

    publisher.handler(_event(), None)

    assert _stat(NAMESPACE, "feature_non_null_Age", "Maximum") == [0.5]
    assert any(
        "'Ratio' is not a CloudWatch unit" in line["message"] for line in log_lines(capsys.readouterr().out)
    )


def test_more_than_a_thousand_metrics_are_sent_in_batches_of_at_most_a_thousand(publisher):
    lines = [_line(f"feature_baseline_drift_f{i:04d}", Value=i / 2300) for i in range(2300)]
    _put(f"{METRICS}/part-1.jsonl", "\n".join(lines[:1500]))
    _put(f"{METRICS}/part-2.jsonl", "\n".join(lines[1500:]))
    sizes = []
    publisher.client("cloudwatch").meta.events.register(
        "before-parameter-build.cloudwatch.PutMetricData",
        lambda params, **_: (
            sizes.append(len(params["MetricData"])) if params["Namespace"] == NAMESPACE else None
        ),
    )

    result = publisher.handler(_event(), None)

    assert result["metrics_published"] == 2300
    assert sizes == [1000, 1000, 300]
    assert len(_metric_names(NAMESPACE)) == 2300


def test_batches_also_respect_the_request_size_limit(publisher):
    long_dims = [{"Name": f"D{i}", "Value": "v" * 1000} for i in range(30)]
    data = [{"MetricName": f"m{i}", "Dimensions": long_dims, "Value": 1.0} for i in range(40)]

    batches = publisher.metric_batches(data)

    assert sum(len(b) for b in batches) == 40
    assert all(len(json.dumps(b)) * 3 <= publisher.MAX_REQUEST_BYTES for b in batches)
    assert len(batches) > 1


def _fail_put_events(publisher, code: str, status: int, failures: list[int]) -> None:
    body = json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    fail_requests(
        publisher.client("events"), "PutEvents", failures, status=status, body=body, headers=headers
    )


def test_throttled_event_put_is_retried(publisher, events_inbox, monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    remaining = [2]
    _fail_put_events(publisher, "ThrottlingException", 400, remaining)

    result = publisher.handler(_event(metrics_prefix=None), None)

    assert remaining == [0]
    assert [e["id"] for e in events_inbox()] == [result["event_id"]]


def test_retry_after_a_failure_sends_only_what_is_missing(publisher, events_inbox, monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    _put(f"{METRICS}/cloudwatch_metrics.jsonl", _line("feature_baseline_drift_Age", Value=0.41))
    calls = []
    publisher.client("cloudwatch").meta.events.register(
        "before-parameter-build.cloudwatch.PutMetricData",
        lambda params, **_: calls.append(params["Namespace"]),
    )
    outage = [100]
    _fail_put_events(publisher, "InternalException", 500, outage)
    event = _event(receipt_uri=RECEIPT)

    with pytest.raises(publisher.TransientAwsError, match="PutEvents to default failed: InternalException"):
        publisher.handler(event, None)
    outage[0] = 0
    result = publisher.handler(event, None)

    assert calls == [NAMESPACE, "CdkModelMonitor"]  # nothing sent twice
    assert _stat(NAMESPACE, "feature_baseline_drift_Age", "SampleCount") == [1.0]
    assert result["metrics_published"] == 1
    assert [e["id"] for e in events_inbox()] == [result["event_id"]]
    assert publisher.handler(event, None)["event_id"] == result["event_id"]  # a third run sends nothing
    assert events_inbox() == [] and len(calls) == 2


def test_batch_transform_schedule_uses_the_model_monitoring_namespace_without_endpoint(publisher):
    _put(
        f"{METRICS}/m.jsonl",
        json.dumps({"MetricName": "feature_non_null_Age", "Value": 1.0, "Timestamp": "2026-11-25T12:00:00Z"}),
    )

    result = publisher.handler(_event(endpoint_name=None, window={**WINDOW, "endpoint_name": None}), None)

    assert result["namespace"] == "aws/sagemaker/ModelMonitoring/data-metrics"
    schedule_only = [{"Name": "MonitoringSchedule", "Value": "churn-ep-data-quality"}]
    assert _stat(result["namespace"], "feature_non_null_Age", "Maximum", schedule_only) == [1.0]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"status": "Succeeded"}, "status='Succeeded' is not an execution status: use one of Completed"),
        ({"schedule_name": ""}, "schedule_name is missing"),
        ({"report_uri": "reports/x"}, "report_uri='reports/x' is not an S3 URI"),
        ({"monitor_type": "latency", "window": {}}, "monitor_type='latency' has no default namespace"),
    ],
)
def test_inputs_a_user_must_fix_are_refused_with_the_fix(publisher, overrides, fragment):
    with pytest.raises(publisher.PublishInputError, match=re.escape(fragment)):
        publisher.handler(_event(**overrides), None)


def test_sagemaker_monitoring_type_names_are_accepted(publisher):
    result = publisher.handler(_event(monitor_type="ModelQuality", metrics_prefix=None, window={}), None)

    assert result["namespace"] == "aws/sagemaker/Endpoints/model-metrics"


def test_a_window_run_again_within_two_weeks_publishes_its_status_at_its_own_time(publisher, monkeypatch):
    monkeypatch.setattr(publisher, "_now", lambda: NOW + timedelta(days=13))

    result = publisher.handler(_event(metrics_prefix=None), None)

    assert (result["status"], result["status_metrics_skipped"]) == ("Completed", None)
    assert _status_values()["Completed"] == [1.0]  # at the window's metric_time, not now


def test_a_window_older_than_two_weeks_publishes_no_status_metrics_and_says_why(publisher, events_inbox, monkeypatch,
                                                                                 capsys):
    monkeypatch.setattr(publisher, "_now", lambda: NOW + timedelta(days=15))
    _put(f"{METRICS}/cloudwatch_metrics.jsonl", _line("feature_baseline_drift_Age", Value=0.41))
    late = {"late_capture_files": 2, "late_window_id": "2026112512", "late_window_start": "2026-11-25T11:00:00Z"}

    result = publisher.handler(_event(window={**WINDOW, **late}), None)

    assert result["status"] == "Completed"
    assert result["status_metrics_skipped"].startswith(
        "the window's metric time 2026-11-25T12:00:00Z is outside what CloudWatch accepts")
    assert _metric_names("CdkModelMonitor") == []  # neither at the window's time nor now
    assert (result["metrics_published"], result["metrics_skipped"]) == (0, 1)
    [event] = events_inbox()
    assert event["detail"]["status"] == "Completed"
    assert event["detail"]["statusMetricsSkipped"] == result["status_metrics_skipped"]
    [line] = [line for line in log_lines(capsys.readouterr().out) if line.get("outcome") == "status_metrics_skipped"]
    assert line["level"] == "WARNING" and result["status_metrics_skipped"] in line["message"]


# -- CloudWatch's limits, one datum at a time ------------------------------------------------------------------

_WINDOW_REQUEST = {"metric_time": METRIC_TIME, "endpoint_name": "ep", "schedule_name": "s"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (_line("m", Value=1, Dimensions=[{"Name": f"d{i}", "Value": "v"} for i in range(31)]),
         "31 Dimensions: CloudWatch takes at most 30"),
        (_line("m", Value=1, Dimensions=[{"Name": "n" * 256, "Value": "v"}]), "dimension name over 255"),
        (json.dumps({"MetricName": "m", "Timestamp": 1e300, "Value": 1}), "is not a time"),
        (json.dumps({"MetricName": "m", "Timestamp": float("inf"), "Value": 1}), "is not a time"),
        (json.dumps({"MetricName": "m", "Timestamp": float("nan"), "Value": 1}), "is not a time"),
        (json.dumps({"MetricName": "m", "Timestamp": "9999-12-31T23:59:59Z", "Value": 1}), "outside what CloudWatch"),
        (json.dumps({"MetricName": 12, "Value": 1}), "no MetricName"),
    ],
)
def test_data_beyond_cloudwatchs_limits_are_skipped_with_the_limit_named(publisher, line, problem):
    datum, why = publisher.metric_datum(line, _WINDOW_REQUEST, now=NOW)

    assert datum is None
    assert problem in why


@pytest.mark.parametrize("value", ["v" * 1025, "São Paulo", "line\nbreak"])
def test_a_dimension_value_cloudwatch_refuses_is_published_under_the_analyzers_safe_value(publisher, value):
    from model_monitor_analyzer.report.metrics import cloudwatch_dimension_value

    datum, why = publisher.metric_datum(_line("m", Value=1, Dimensions=[{"Name": "FacetValue", "Value": value}]),
                                        _WINDOW_REQUEST, now=NOW)
    assert why is None or datum is not None
    assert datum["Dimensions"] == [{"Name": "FacetValue", "Value": cloudwatch_dimension_value(value)}]
    assert cloudwatch_dimension_value(value) != value


def test_a_metric_name_over_255_characters_is_published_under_the_analyzers_short_name(publisher):
    from model_monitor_analyzer.report.metrics import cloudwatch_metric_name

    long_name = "feature_baseline_drift_" + "very_long_column_name_" * 14
    _put(f"{METRICS}/m.jsonl", _line(long_name, Value=0.3))

    result = publisher.handler(_event(), None)

    assert (result["metrics_published"], result["metrics_skipped"]) == (1, 0)
    assert _metric_names(NAMESPACE) == [cloudwatch_metric_name(long_name)]
    assert len(cloudwatch_metric_name(long_name)) == 255


def test_more_than_150_values_are_sent_as_several_data_with_the_same_statistics(publisher):
    values = [float(v) for v in range(400)]
    _put(f"{METRICS}/m.jsonl", _line("latency", Values=values, Counts=[1.0] * 400))
    requests = []
    publisher.client("cloudwatch").meta.events.register(
        "before-parameter-build.cloudwatch.PutMetricData",
        lambda params, **_: requests.append([len(d.get("Values", [])) for d in params["MetricData"]])
        if params["Namespace"] == NAMESPACE else None,
    )

    publisher.handler(_event(), None)

    assert requests == [[150, 150, 100]]
    assert _stat(NAMESPACE, "latency", "SampleCount") == [400.0]
    assert _stat(NAMESPACE, "latency", "Sum") == [sum(values)]
    assert _stat(NAMESPACE, "latency", "Maximum") == [399.0]


def test_a_datum_cloudwatch_refuses_costs_only_itself_and_is_counted(publisher, capsys):
    _put(f"{METRICS}/m.jsonl", "\n".join([_line("good_a", Value=1.0), _line("refused", Value=2.0),
                                          _line("good_b", Value=3.0)]))

    def refuse(params, **_):
        if any(d["MetricName"] == "refused" for d in params.get("MetricData", [])):
            from botocore.exceptions import ClientError
            raise ClientError({"Error": {"Code": "InvalidParameterValue", "Message": "refused"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutMetricData")

    publisher.client("cloudwatch").meta.events.register("before-parameter-build.cloudwatch.PutMetricData", refuse)

    result = publisher.handler(_event(), None)

    assert result["status"] == "Completed"
    assert (result["metrics_published"], result["metrics_skipped"]) == (2, 1)
    assert _metric_names(NAMESPACE) == ["good_a", "good_b"]
    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert _stat("CdkModelMonitor", "MetricsSkipped", "Maximum", status_dims) == [1.0]


def test_a_throttle_while_a_refused_batch_is_sent_again_one_by_one_sends_no_datum_twice_on_retry(publisher):
    _put(f"{METRICS}/m.jsonl", "\n".join([_line("good_a", Value=1.0), _line("refused", Value=2.0),
                                          _line("good_b", Value=3.0)]))
    throttled, sent = [True], []

    def cloudwatch(params, **_):
        from botocore.exceptions import ClientError

        names = [d["MetricName"] for d in params.get("MetricData", [])]
        if params["Namespace"] != NAMESPACE:
            return
        if "refused" in names:
            raise ClientError({"Error": {"Code": "InvalidParameterValue", "Message": "refused"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutMetricData")
        if names == ["good_b"] and throttled[0]:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutMetricData")
        sent.append(names)

    publisher.client("cloudwatch").meta.events.register("before-parameter-build.cloudwatch.PutMetricData", cloudwatch)
    event = _event(receipt_uri=RECEIPT)

    with pytest.raises(publisher.TransientAwsError, match="Throttling"):
        publisher.handler(event, None)
    assert sent == [["good_a"]]  # the batch was refused, good_a went out alone, good_b was throttled
    throttled[0] = False
    result = publisher.handler(event, None)

    assert sent == [["good_a"], ["good_b"]]  # the retry went on from good_b
    assert (result["metrics_published"], result["metrics_skipped"]) == (2, 1)
    assert _stat(NAMESPACE, "good_a", "SampleCount") == [1.0] and _stat(NAMESPACE, "good_a", "Sum") == [1.0]
    assert _stat(NAMESPACE, "good_b", "SampleCount") == [1.0]
    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert _stat("CdkModelMonitor", "MetricsSkipped", "Maximum", status_dims) == [1.0]


# -- the receipt keeps the window's best status --------------------------------------------------------------


def test_a_completed_status_replaces_a_failed_one_of_the_same_window(publisher, events_inbox):
    publisher.handler(_event(status="Failed", failure_reason="job name taken", receipt_uri=RECEIPT), None)
    result = publisher.handler(_event(receipt_uri=RECEIPT), None)

    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert result["status"] == "Completed"
    assert _stat("CdkModelMonitor", "ExecutionCompleted", "Maximum", status_dims) == [1.0]
    assert [e["detail"]["status"] for e in events_inbox()] == ["Failed", "Completed"]


def test_a_failed_status_after_a_completed_one_is_not_published(publisher, events_inbox):
    publisher.handler(_event(receipt_uri=RECEIPT), None)
    result = publisher.handler(_event(status="Failed", failure_reason="late duplicate", receipt_uri=RECEIPT), None)

    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert (result["status"], result["superseded"]) == ("Completed", "Failed")
    assert _stat("CdkModelMonitor", "ExecutionFailed", "Maximum", status_dims) == [0.0]
    assert [e["detail"]["status"] for e in events_inbox()] == ["Completed"]


# -- the latest window's report at a fixed key ----------------------------------------------------------------

LATEST = f"s3://{BUCKET}/reports/data-quality/churn-ep/churn-ep-data-quality/latest-report.html"
PAGE = b"<!doctype html><title>churn-ep data quality 2026-11-25 12:00</title>"


def _head(uri: str) -> dict:
    bucket, key = uri[len("s3://") :].split("/", 1)
    return boto3.client("s3", region_name=REGION).head_object(Bucket=bucket, Key=key)


def _read(uri: str) -> bytes:
    bucket, key = uri[len("s3://") :].split("/", 1)
    return boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read()


def _exists(uri: str) -> bool:
    bucket, prefix = uri[len("s3://") :].split("/", 1)
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return listed.get("KeyCount", 0) > 0


def test_a_windows_report_is_copied_to_the_latest_key_as_a_page(publisher):
    _put(f"{REPORT}/report.html", PAGE)

    result = publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)

    head = _head(LATEST)
    assert result["latest_report"] == "copied"
    assert _read(LATEST) == PAGE
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["Metadata"] == {"window-start": "2026-11-25T12:00:00Z"}


def test_the_latest_copy_is_encrypted_with_the_monitoring_key(publisher, monkeypatch):
    key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    monkeypatch.setenv("KMS_KEY_ID", key_id)
    _put(f"{REPORT}/report.html", PAGE)

    publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)

    head = _head(LATEST)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_id)


def test_a_window_without_a_report_completes_and_leaves_no_latest_copy(publisher, events_inbox):
    result = publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)

    assert (result["status"], result["latest_report"]) == ("Completed", "absent")
    assert not _exists(LATEST)
    assert [e["detail"]["status"] for e in events_inbox()] == ["Completed"]


def test_a_copy_that_fails_is_logged_and_the_window_is_still_published(publisher, events_inbox, capsys):
    _put(f"{REPORT}/report.html", PAGE)
    denied = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    fail_requests(publisher.client("s3"), "CopyObject", [1], status=403, body=denied)

    result = publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)

    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    [failure] = [line for line in log_lines(capsys.readouterr().out) if line.get("outcome") == "latest_report_failed"]
    assert (result["status"], result["latest_report"]) == ("Completed", "failed")
    assert (failure["level"], failure["error_code"]) == ("ERROR", "AccessDenied")
    assert _stat("CdkModelMonitor", "ExecutionCompleted", "Maximum", status_dims) == [1.0]
    assert [e["detail"]["status"] for e in events_inbox()] == ["Completed"]
    assert not _exists(LATEST)


def test_an_earlier_window_run_late_does_not_replace_a_later_windows_copy(publisher):
    later_report = REPORT.replace("/13", "/14")
    later_window = {**WINDOW, "window_id": "2026112514", "start": "2026-11-25T13:00:00Z",
                    "end": "2026-11-25T14:00:00Z", "metric_time": "2026-11-25T13:00:00Z"}
    later_page = PAGE.replace(b"12:00", b"13:00")
    _put(f"{later_report}/report.html", later_page)
    _put(f"{REPORT}/report.html", PAGE)
    publisher.handler(_event(report_uri=later_report, window=later_window, metrics_prefix=None,
                             latest_report_uri=LATEST), None)

    result = publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)

    assert result["latest_report"] == "older"
    assert _read(LATEST) == later_page


def test_a_later_window_replaces_the_latest_copy(publisher):
    earlier_report = REPORT.replace("/13", "/12")
    earlier_window = {**WINDOW, "window_id": "2026112512", "start": "2026-11-25T11:00:00Z",
                      "end": "2026-11-25T12:00:00Z", "metric_time": "2026-11-25T11:00:00Z"}
    _put(f"{earlier_report}/report.html", PAGE.replace(b"12:00", b"11:00"))
    _put(f"{REPORT}/report.html", PAGE)
    publisher.handler(_event(report_uri=earlier_report, window=earlier_window, metrics_prefix=None,
                             latest_report_uri=LATEST), None)

    result = publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)

    assert result["latest_report"] == "copied"
    assert _read(LATEST) == PAGE


@pytest.mark.parametrize("status", ["NoData", "Failed"])
def test_a_window_without_results_leaves_the_latest_copy_alone(publisher, status):
    _put(f"{REPORT}/report.html", PAGE)

    result = publisher.handler(_event(status=status, metrics_prefix=None, latest_report_uri=LATEST), None)

    assert result["latest_report"] is None
    assert not _exists(LATEST)


def test_the_results_reader_does_not_count_the_latest_copy_as_a_window(publisher):
    from model_monitor_analyzer.report.html.page import ReportHeader, page

    # a real window page: its embedded summary says "monitor", which a folder of its own would be read as
    header = ReportHeader(monitor_type="data-quality", kind="monitor", status="Completed",
                          window_start=METRIC_TIME, window_end=METRIC_TIME + timedelta(hours=1), records=10)
    _put(f"{REPORT}/report.html", page(header, "<p>no drift</p>", violations=0, series=[]))
    publisher.handler(_event(metrics_prefix=None, latest_report_uri=LATEST), None)
    monitor_root = LATEST.rsplit("/", 1)[0]
    s3 = boto3.client("s3", region_name=REGION)

    executions = MonitoringResults.open(monitor_root, s3_client=s3).list_executions()

    assert _exists(LATEST)
    assert [e.location for e in executions] == [REPORT]


# -- the analyzer's verdict: outcome.json in the window's report folder -------------------------------------------

CHURN = "immersion-day-churn-data-quality"


def _analyzer_window(reference_examples, tmp_path, capture_lines: list[str]) -> None:
    """Run the analyzer's container entrypoint as the standalone engine's job does (metric lines inside the
    output folder) on one capture file of the window 12:00-13:00, and upload the output folder to REPORT as
    SageMaker does at the end of the job."""
    from model_monitor_analyzer.contract.entrypoint import run_container

    root = tmp_path / "opt" / "ml"
    (root / "config").mkdir(parents=True)
    (root / "config" / "processingjobconfig.json").write_text(json.dumps({"Environment": {
        "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        "dataset_source": "/opt/ml/processing/input/endpoint", "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Enabled", "CLOUDWATCH_METRICS_DIRECTORY": "/opt/ml/processing/output/metrics",
        "sagemaker_endpoint_name": "churn-ep", "sagemaker_monitoring_schedule_name": "churn-ep-data-quality",
        "start_time": WINDOW["start"], "end_time": WINDOW["end"], "metric_time": WINDOW["metric_time"],
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json"}}))  # fmt: skip
    capture = root / "processing" / "input" / "endpoint" / "churn-ep" / "AllTraffic" / "2026" / "11" / "25" / "12"
    capture.mkdir(parents=True)
    (capture / "05-00-000-x.jsonl").write_text("".join(line + "\n" for line in capture_lines))
    for name, folder in (("constraints.json", "constraints"), ("statistics.json", "stats")):
        target = root / "processing" / "baseline" / folder / name
        target.parent.mkdir(parents=True)
        target.write_bytes(churn_baseline_files(reference_examples)[name])
    assert run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(root)}) == 0
    output = root / "processing" / "output"
    for path in output.rglob("*"):
        if path.is_file():
            _put(f"{REPORT}/{path.relative_to(output).as_posix()}", path.read_bytes())


def _churn_lines(reference_examples, hour: str) -> list[str]:
    """The real capture's records, moved to ``hour`` of the window's day."""
    lines = (reference_examples / CHURN / "notebook-output" / "capture.jsonl").read_text().splitlines()
    return [re.sub(r'"inferenceTime":"2021-02-02T12', f'"inferenceTime":"2026-11-25T{hour}', line) for line in lines]


def _status_values() -> dict[str, list[float]]:
    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    return {status: _stat("CdkModelMonitor", f"Execution{status}", "Maximum", status_dims)
            for status in ("Completed", "CompletedWithViolations", "NoData", "Failed")}


def test_a_completed_job_that_analysed_no_record_of_its_window_is_published_as_no_data(
        publisher, events_inbox, reference_examples, tmp_path, capsys):
    # capture files in the window's folder, but every record two hours earlier: the analyzer's no-data output
    _analyzer_window(reference_examples, tmp_path, _churn_lines(reference_examples, "10"))
    capsys.readouterr()  # the analyzer's own summary lines

    result = publisher.handler(_event(metrics_prefix=f"{REPORT}/metrics", latest_report_uri=LATEST), None)

    assert (result["status"], result["no_data_reason"]) == ("NoData", "no_records_in_window")
    assert _status_values() == {"Completed": [0.0], "CompletedWithViolations": [0.0], "NoData": [1.0],
                                "Failed": [0.0]}
    [event] = events_inbox()
    assert (event["detail"]["status"], event["detail"]["noDataReason"]) == ("NoData", "no_records_in_window")
    [line] = [line for line in log_lines(capsys.readouterr().out) if line.get("outcome") == "NoData"]
    assert line["no_data_reason"] == "no_records_in_window"
    assert _metric_names(NAMESPACE) == ["monitoring_no_data"]  # the analyzer's own no-data line
    assert result["latest_report"] is None and not _exists(LATEST)  # a no-data page never hides the last report


def test_a_completed_job_that_analysed_its_window_is_published_with_the_analyzers_status(
        publisher, events_inbox, reference_examples, tmp_path):
    _analyzer_window(reference_examples, tmp_path, _churn_lines(reference_examples, "12"))
    written = json.loads(_read(f"{REPORT}/outcome.json"))

    result = publisher.handler(_event(metrics_prefix=f"{REPORT}/metrics", latest_report_uri=LATEST), None)

    assert written["status"] in ("Completed", "CompletedWithViolations")
    assert result["status"] == written["status"]
    assert result["no_data_reason"] is None
    assert _status_values()[written["status"]] == [1.0] and _status_values()["NoData"] == [0.0]
    assert "noDataReason" not in events_inbox()[0]["detail"]
    assert result["latest_report"] == "copied"


@pytest.mark.parametrize("reason", ["no_labelled_records", "all_records_bad"])
def test_the_analyzers_no_data_reason_reaches_the_event(publisher, events_inbox, reason):
    _put(f"{REPORT}/outcome.json", json.dumps({"status": "NoData", "message": "Completed: No data to analyze.",
                                               "no_data_reason": reason, "summary": {}}))

    result = publisher.handler(_event(metrics_prefix=None), None)

    assert (result["status"], result["no_data_reason"]) == ("NoData", reason)
    assert events_inbox()[0]["detail"]["noDataReason"] == reason


def test_a_window_without_an_outcome_file_stays_completed_and_says_so(publisher, capsys):
    bucket, key = f"{REPORT}/outcome.json"[len("s3://"):].split("/", 1)
    boto3.client("s3", region_name=REGION).delete_object(Bucket=bucket, Key=key)

    result = publisher.handler(_event(metrics_prefix=None), None)

    assert result["status"] == "Completed"
    [warning] = [line for line in log_lines(capsys.readouterr().out) if line.get("outcome_uri")]
    assert warning["level"] == "WARNING" and "outcome.json does not exist" in warning["message"]


def test_an_outcome_status_the_analyzer_does_not_write_is_not_trusted(publisher, capsys):
    _put(f"{REPORT}/outcome.json", json.dumps({"status": "Failed"}))

    result = publisher.handler(_event(metrics_prefix=None), None)

    assert result["status"] == "Completed"
    assert any("not an analyzer outcome document" in line["message"] for line in log_lines(capsys.readouterr().out))


def test_late_capture_files_of_the_previous_window_are_published_at_that_windows_start(publisher, events_inbox):
    late = {"late_capture_files": 2, "late_window_id": "2026112512", "late_window_start": "2026-11-25T11:00:00Z"}

    result = publisher.handler(_event(status="NoData", window={**WINDOW, **late, "no_data_reason": "no_capture"}),
                               None)

    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    points = cloudwatch.get_metric_statistics(
        Namespace="CdkModelMonitor", MetricName="LateCaptureFiles", Dimensions=status_dims,
        StartTime=METRIC_TIME - timedelta(hours=3), EndTime=METRIC_TIME + timedelta(hours=1), Period=3600,
        Statistics=["Sum"])["Datapoints"]
    assert [(p["Timestamp"], p["Sum"]) for p in points] == [(datetime(2026, 11, 25, 11, tzinfo=UTC), 2.0)]
    assert result["late_capture_files"] == 2
    [event] = events_inbox()
    assert (event["detail"]["lateCaptureFiles"], event["detail"]["lateWindowStart"]) == (2, "2026-11-25T11:00:00Z")


def test_a_window_without_a_late_count_publishes_no_late_metric(publisher):
    publisher.handler(_event(metrics_prefix=None), None)

    assert "LateCaptureFiles" not in _metric_names("CdkModelMonitor")


# -- under the publisher's own S3 permissions: S3 answers 403, not 404, for a missing object ----------------------

REPORT_ROOT = "reports/data-quality/churn-ep/churn-ep-data-quality"
MANIFEST_ROOT = "reports/data-quality/_manifests/churn-ep/churn-ep-data-quality"
# What the standalone engine grants the publisher (grant_read_reports, grant_write_manifests, the latest copy's
# key): object access under two prefixes, and s3:ListBucket only with an s3:prefix condition for each.
PUBLISHER_S3_POLICY = [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/{REPORT_ROOT}/*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}",
     "Condition": {"StringLike": {"s3:prefix": [REPORT_ROOT, f"{REPORT_ROOT}/*"]}}},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
     "Resource": f"arn:aws:s3:::{BUCKET}/{MANIFEST_ROOT}/*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}",
     "Condition": {"StringLike": {"s3:prefix": [MANIFEST_ROOT, f"{MANIFEST_ROOT}/*"]}}},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{REPORT_ROOT}/latest-report.html"},
]


def test_a_first_publication_with_a_prefix_limited_list_permission_publishes_the_analyzers_verdict(
        publisher, events_inbox, reference_examples):
    violations = (
        reference_examples / "from-idea-to-production-monitoring/notebook-output/constraint_violations.json"
    )
    _put(f"{REPORT}/constraint_violations.json", violations.read_bytes())
    _put(f"{REPORT}/report.html", PAGE)
    refused = enforce_policy(publisher.client("s3"), PUBLISHER_S3_POLICY)

    # no receipt and no latest copy yet: two missing objects, which S3 answers 403 to GetObject and HeadObject
    result = publisher.handler(_event(metrics_prefix=None, receipt_uri=RECEIPT, latest_report_uri=LATEST), None)

    expected = len(json.loads(violations.read_text())["violations"])
    assert (result["status"], result["violation_count"]) == ("CompletedWithViolations", expected)
    assert _status_values() == {"Completed": [0.0], "CompletedWithViolations": [1.0], "NoData": [0.0],
                                "Failed": [0.0]}
    assert [e["detail"]["status"] for e in events_inbox()] == ["CompletedWithViolations"]
    assert result["latest_report"] == "copied"
    assert refused == []  # the policy grants every request the publisher makes


def test_missing_analyzer_files_are_told_from_refused_ones_with_a_prefix_limited_list_permission(publisher, capsys):
    boto3.client("s3", region_name=REGION).delete_object(Bucket=BUCKET, Key=f"{REPORT_ROOT}/2026/11/25/13/outcome.json")
    refused = enforce_policy(publisher.client("s3"), PUBLISHER_S3_POLICY)

    result = publisher.handler(_event(metrics_prefix=None, receipt_uri=RECEIPT, latest_report_uri=LATEST), None)

    # no outcome.json, no constraint_violations.json, no report.html: an image that writes none of them
    assert (result["status"], result["violation_count"], result["latest_report"]) == ("Completed", None, "absent")
    assert any("outcome.json does not exist" in line["message"] for line in log_lines(capsys.readouterr().out))
    assert refused == []


def test_a_refused_read_is_not_taken_for_a_missing_file(publisher):
    without_reports = [s for s in PUBLISHER_S3_POLICY if s["Resource"] != f"arn:aws:s3:::{BUCKET}/{REPORT_ROOT}/*"]
    refused = enforce_policy(publisher.client("s3"), without_reports)

    with pytest.raises(publisher.AwsRequestError, match="outcome.json failed: AccessDenied"):
        publisher.handler(_event(metrics_prefix=None, receipt_uri=RECEIPT), None)
    assert refused == [f"GetObject arn:aws:s3:::{BUCKET}/{REPORT_ROOT}/2026/11/25/13/outcome.json"]


# -- a publication refused or stopped part-way: CloudWatch, the event and the result never contradict ------------


def _violations(reference_examples) -> int:
    source = reference_examples / "from-idea-to-production-monitoring/notebook-output/constraint_violations.json"
    _put(f"{REPORT}/constraint_violations.json", source.read_bytes())
    return len(json.loads(source.read_text())["violations"])


def test_a_status_event_the_bus_refuses_makes_the_window_failed_in_cloudwatch_with_the_reason(
        publisher, events_inbox, reference_examples, capsys):
    found = _violations(reference_examples)
    _fail_put_events(publisher, "AccessDeniedException", 400, [100])

    result = publisher.handler(_event(metrics_prefix=None, receipt_uri=RECEIPT), None)

    assert result["status"] == "Failed"
    assert result["failure_reason"].startswith("the status event was refused (PutEvents to default failed: "
                                               "AccessDeniedException")
    assert result["failure_reason"].endswith(f"the window's result (CompletedWithViolations with {found} "
                                             "violations) is not published")
    assert _status_values() == {"Completed": [0.0], "CompletedWithViolations": [0.0], "NoData": [0.0],
                                "Failed": [1.0]}
    assert events_inbox() == []
    [line] = [line for line in log_lines(capsys.readouterr().out) if line.get("outcome") == "event_refused"]
    assert line["level"] == "ERROR"
    # the failure path run after it publishes nothing else: the window was decided once
    again = publisher.handler(_event(status="Failed", failure_reason="publisher failed", receipt_uri=RECEIPT), None)
    assert (again["status"], again["failure_reason"]) == ("Failed", result["failure_reason"])
    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert _stat("CdkModelMonitor", "ExecutionFailed", "SampleCount", status_dims) == [1.0]


def test_analyzer_metrics_cloudwatch_refuses_make_the_window_failed_not_skipped(publisher, events_inbox,
                                                                                reference_examples):
    found = _violations(reference_examples)
    _put(f"{METRICS}/cloudwatch_metrics.jsonl", "\n".join([_line("feature_baseline_drift_Age", Value=0.41),
                                                          _line("feature_non_null_Age", Value=1.0)]))
    refused = refuse_put_metric_data(publisher.client("cloudwatch"), NAMESPACE)

    result = publisher.handler(_event(receipt_uri=RECEIPT), None)

    assert result["status"] == "Failed"
    assert result["failure_reason"].startswith("CloudWatch refused the analyzer's metrics (PutMetricData to "
                                               f"{NAMESPACE} (2 metrics) failed: AccessDenied")
    assert f"(CompletedWithViolations with {found} violations)" in result["failure_reason"]
    assert refused == [NAMESPACE]  # one refusal is enough: the metrics are not sent again one by one
    assert (result["metrics_published"], result["metrics_skipped"]) == (0, 0)
    assert _status_values()["Failed"] == [1.0] and _status_values()["CompletedWithViolations"] == [0.0]
    status_dims = [*DIMS, {"Name": "MonitorType", "Value": "data-quality"}]
    assert _stat("CdkModelMonitor", "MetricsSkipped", "Maximum", status_dims) == [0.0]
    [event] = events_inbox()
    assert (event["detail"]["status"], event["detail"]["failureReason"]) == ("Failed", result["failure_reason"])


def test_status_metrics_cloudwatch_refuses_after_the_event_are_followed_by_a_failed_event(
        publisher, events_inbox, reference_examples):
    _violations(reference_examples)
    _put(f"{METRICS}/cloudwatch_metrics.jsonl", _line("feature_baseline_drift_Age", Value=0.41))
    refuse_put_metric_data(publisher.client("cloudwatch"), "CdkModelMonitor")

    with pytest.raises(publisher.AwsRequestError, match="PutMetricData to CdkModelMonitor"):
        publisher.handler(_event(receipt_uri=RECEIPT), None)
    # the state machine's failure path: the publisher again, with Failed (then its own ExecutionFailed datapoint)
    with pytest.raises(publisher.AwsRequestError, match="PutMetricData to CdkModelMonitor"):
        publisher.handler(_event(status="Failed", failure_reason="publisher failed", receipt_uri=RECEIPT), None)

    events = [e["detail"] for e in events_inbox()]
    assert [e["status"] for e in events] == ["CompletedWithViolations", "Failed"]  # the last one is what holds
    assert events[1]["failureReason"].startswith("CloudWatch refused the status metrics (PutMetricData to "
                                                 "CdkModelMonitor")
    assert _stat(NAMESPACE, "feature_baseline_drift_Age", "Maximum") == [0.41]


def test_the_failure_path_completes_a_publication_that_stopped_part_way_with_the_decided_status(
        publisher, events_inbox, reference_examples):
    found = _violations(reference_examples)

    class FunctionTimedOut(Exception):
        """Lambda ending the invocation right after a call (its time-out)."""

    stopped = []

    def stop_after_the_first_status_call(http_response, model, **_):
        if not stopped:
            stopped.append(model.name)
            raise FunctionTimedOut(model.name)

    publisher.client("events").meta.events.register("after-call.eventbridge.PutEvents",
                                                    stop_after_the_first_status_call)
    publisher.client("cloudwatch").meta.events.register(
        "after-call.cloudwatch.PutMetricData",
        lambda params=None, **kwargs: stop_after_the_first_status_call(**kwargs)
        if kwargs["context"].get("status_call") else None)
    publisher.client("cloudwatch").meta.events.register(
        "before-parameter-build.cloudwatch.PutMetricData",
        lambda params, context, **_: context.update(status_call=params["Namespace"] == "CdkModelMonitor"))

    with pytest.raises(FunctionTimedOut):
        publisher.handler(_event(metrics_prefix=None, receipt_uri=RECEIPT), None)
    result = publisher.handler(_event(status="Failed", failure_reason="Sandbox.Timedout", receipt_uri=RECEIPT), None)

    assert stopped  # one of the window's status calls went out before the invocation ended
    assert (result["status"], result["violation_count"], result["superseded"]) == (
        "CompletedWithViolations", found, "Failed")
    assert _status_values() == {"Completed": [0.0], "CompletedWithViolations": [1.0], "NoData": [0.0],
                                "Failed": [0.0]}
    # an event put just before the invocation ended may be put again (at least once), never another status
    assert {e["detail"]["status"] for e in events_inbox()} == {"CompletedWithViolations"}
