"""The NoData alarm: N windows in a row that analysed nothing (no capture files, no record of the window, no
labels yet), configurable on the facade, and one switch to leave it out."""

from __future__ import annotations

import pytest

from cdk_model_monitor import (
    AlarmProps,
    CapturedEndpoint,
    ConfigurationError,
    DataQualityMonitor,
    ModelMonitor,
    MonitoringBucket,
)
from cdk_model_monitor.alarms import AlarmCategory, MonitorAlarms
from cdk_model_monitor.baseline import Baseline
from cdk_model_monitor.images import AnalyzerImage

from .conftest import ANALYZER_URI, DEMO_BASELINE, MODEL_IMAGE, template_of


def _facade(stack, alarms: AlarmProps) -> ModelMonitor:
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=MODEL_IMAGE, endpoint_name="churn")
    monitor = DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=AnalyzerImage.from_uri(ANALYZER_URI),
                                 baseline=Baseline.from_directory(DEMO_BASELINE))
    return ModelMonitor(stack, "Churn", model_name="churn", endpoint=endpoint, data_quality=monitor, dashboard=None,
                        alarms=alarms)


def _alarms(stack) -> dict[str, dict]:
    return {r["Properties"]["AlarmName"]: r["Properties"]
            for r in template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()}


def test_by_default_three_windows_without_data_in_a_row_raise_the_alarm_and_notify(stack):
    facade = _facade(stack, AlarmProps())

    no_data = _alarms(stack)["churn-data-quality-no-data"]

    assert (no_data["Namespace"], no_data["MetricName"], no_data["Statistic"]) == (
        "CdkModelMonitor", "ExecutionNoData", "Sum")
    assert (no_data["EvaluationPeriods"], no_data["DatapointsToAlarm"], no_data["Period"]) == (3, 3, 3600)
    assert (no_data["Threshold"], no_data["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert no_data["TreatMissingData"] == "ignore"
    assert "noDataReason" in no_data["AlarmDescription"]
    assert no_data["AlarmActions"] == [{"Ref": stack.get_logical_id(facade.notifications.topic.node.default_child)}]
    [created] = facade.alarms.created_alarm_details(AlarmCategory.NO_DATA)
    assert not created.category.model_health  # a monitoring-health alarm: never starts retraining


def test_the_number_of_windows_is_an_option(stack):
    _facade(stack, AlarmProps(no_data_windows=6))

    assert _alarms(stack)["churn-data-quality-no-data"]["EvaluationPeriods"] == 6


def test_the_alarm_can_be_left_out_for_a_model_that_may_rightly_be_idle(stack):
    facade = _facade(stack, AlarmProps(no_data_alarm=False))

    names = set(_alarms(stack))
    assert "churn-data-quality-no-data" not in names
    assert {"churn-data-quality-execution-failed", "churn-data-quality-violations",
            "churn-data-quality-heartbeat"} <= names
    assert facade.alarms.created_alarm_details(AlarmCategory.NO_DATA) == []


@pytest.mark.parametrize("props, named", [
    ({"no_data_windows": 0}, "no_data_windows"),
    ({"no_data_windows": "3"}, "no_data_windows"),
    ({"no_data_windows": True}, "no_data_windows"),
    ({"no_data_alarm": "no"}, "no_data_alarm"),
    ({"no_data_alarm": None}, "no_data_alarm"),
])
def test_bad_values_are_a_configuration_error_naming_the_option(stack, props, named):
    with pytest.raises(ConfigurationError, match=named):
        MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn", **props)


def test_more_windows_than_cloudwatch_evaluates_are_refused_with_the_limit(stack):
    with pytest.raises(ConfigurationError, match="at most 168"):
        _facade(stack, AlarmProps(no_data_windows=200))
