"""The mistakes a new user makes are refused at synth with a ConfigurationError that names the parameter,
the value and the allowed values, never with an error from deep inside a library."""

from __future__ import annotations

import dataclasses
import inspect
import json
import warnings

import pytest
from aws_cdk import Duration

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    BiasDriftMonitor,
    BiasProps,
    BiasSettings,
    CaptureConfig,
    CapturedEndpoint,
    ConfigurationError,
    DataQualityMonitor,
    DataQualityProps,
    DataQualitySettings,
    DataWindow,
    EndpointProps,
    ExistingEndpoint,
    Facet,
    ModelMonitor,
    ModelQualityMonitor,
    ModelQualityProps,
    ModelQualitySettings,
    MonitoringBucket,
    ProblemType,
    Schedule,
)
from cdk_model_monitor.alarms import DataQualityAlarmOptions, MonitorAlarms

from .conftest import REPO_ROOT

DEMO = REPO_ROOT / "demo"
BASELINE = str(DEMO / "baseline")
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/analyzer:1")


def _facade(stack, **kwargs):
    arguments = {"model_name": "churn", "endpoint": EndpointProps(image_uri=IMAGE), "image": ANALYZER,
                 "data_quality": DataQualityProps(baseline=Baseline.from_directory(BASELINE)), **kwargs}
    return ModelMonitor(stack, "Churn", **arguments)


def _monitor(stack, **kwargs):
    arguments = {"baseline": Baseline.from_directory(BASELINE), "endpoint_name": "churn",
                 "capture_s3_uri": "s3://capture-bucket/datacapture", "image": ANALYZER,
                 "storage": MonitoringBucket(stack, "Storage"), **kwargs}
    return DataQualityMonitor(stack, "DataQuality", **arguments)


def test_engine_given_as_text_names_the_engine_members(stack):
    with pytest.raises(ConfigurationError, match=r"engine='model-monitor'.*Engine\.STANDALONE, Engine\.MODEL_MONITOR"
                       r".*spelled Engine\.MODEL_MONITOR"):
        _facade(stack, engine="model-monitor")


def test_monitor_engine_given_as_text_is_refused_before_any_resource(stack):
    with pytest.raises(ConfigurationError, match=r"DataQuality: invalid engine='standalone'"):
        _monitor(stack, engine="standalone")


def test_schedule_given_as_text_lists_the_schedule_factories(stack):
    with pytest.raises(ConfigurationError, match=r"schedule='hourly'.*Schedule\.hourly\(\)"):
        _facade(stack, schedule="hourly")


def test_rate_given_as_text_asks_for_a_duration():
    with pytest.raises(ConfigurationError, match=r"Schedule\.rate\(interval\)='1 hour'.*Duration"):
        Schedule.rate("1 hour")


def test_capture_modes_given_as_text_name_the_capture_mode_members(stack):
    with pytest.raises(ConfigurationError, match=r"capture\.modes\[0\]='Input'.*CaptureMode\.INPUT, "
                       r"CaptureMode\.OUTPUT.*spelled CaptureMode\.INPUT"):
        _facade(stack, endpoint=EndpointProps(image_uri=IMAGE, capture=CaptureConfig(modes=("Input",))))


def test_repeated_capture_mode_is_still_reported_as_repeated(stack):
    with pytest.raises(ConfigurationError, match=r"at most once"):
        _facade(stack, endpoint=EndpointProps(
            image_uri=IMAGE, capture=CaptureConfig(modes=(CaptureConfig().modes[0],) * 2)))


def test_misspelt_setting_in_a_mapping_names_the_closest_setting(stack):
    settings = {"problem_type": ProblemType.BINARY_CLASSIFICATION, "probability_attribute": "0",
                "probabilty_threshold": 0.5}
    with pytest.raises(ConfigurationError, match=r"ModelQuality\.settings=\['probabilty_threshold'\].*did you mean "
                       r"'probabilty_threshold' -> 'probability_threshold'"):
        _facade(stack, model_quality=ModelQualityProps(
            baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality")), settings=settings))


def test_settings_as_a_mapping_still_work_with_a_deprecation_warning(stack):
    settings = {"problem_type": ProblemType.BINARY_CLASSIFICATION, "probability_attribute": "0"}
    with pytest.warns(DeprecationWarning, match="ModelQualitySettings"):
        monitor = _facade(stack, model_quality=ModelQualityProps(
            baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality")), settings=settings))
    assert monitor.model_quality.probability_threshold == 0.5


def test_typed_settings_reach_the_monitors_without_a_warning(stack):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        monitor = _facade(
            stack,
            data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE),
                                          settings=DataQualitySettings(schedule_name="churn-data-quality")),
            model_quality=ModelQualityProps(
                baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality")),
                settings=ModelQualitySettings(problem_type=ProblemType.BINARY_CLASSIFICATION,
                                              probability_attribute="0", probability_threshold=0.7)),
            bias=_bias_props())
    assert monitor.data_quality.schedule_name == "churn-data-quality"
    assert monitor.model_quality.probability_threshold == 0.7
    assert list(monitor.bias.facets) == [Facet("senior", [1])]


def _bias_props():
    return BiasProps(baseline=Baseline.from_directory(str(DEMO / "baseline-bias")),
                     settings=BiasSettings(label="churn", label_values_or_threshold=[1],
                                           facets=[Facet("senior", [1])], probability_attribute="0",
                                           headers=_bias_headers()))


def _bias_headers():
    return json.loads((DEMO / "baseline-bias" / "analysis_config.json").read_text())["headers"]


def test_model_quality_props_without_settings_ask_for_the_problem_type(stack):
    with pytest.raises(ConfigurationError, match=r"ModelQualitySettings\(problem_type=\.\.\.\)"):
        _facade(stack, model_quality=ModelQualityProps(
            baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality"))))


def test_endpoint_name_with_an_underscore_is_refused_as_sagemaker_would(stack):
    with pytest.raises(ConfigurationError, match=r"from_endpoint_attributes\(endpoint_name\)='my_endpoint'.*no underscores"):
        CapturedEndpoint.from_endpoint_attributes(stack, "Prod", endpoint_name="my_endpoint",
                                                  capture_s3_uri="s3://capture-bucket/datacapture")


def test_deprecated_existing_endpoint_refuses_an_underscore_too():
    with pytest.warns(DeprecationWarning), \
            pytest.raises(ConfigurationError, match=r"ExistingEndpoint\(endpoint_name\)='my_endpoint'.*no underscores"):
        ExistingEndpoint(endpoint_name="my_endpoint", capture_s3_uri="s3://capture-bucket/datacapture")


def test_monitor_endpoint_name_with_an_underscore_is_refused(stack):
    with pytest.raises(ConfigurationError, match=r"invalid endpoint_name='my_endpoint'"):
        _monitor(stack, endpoint_name="my_endpoint")


@pytest.mark.parametrize("expression, field", [
    ("cron(0 25 * * ? *)", "hours"),
    ("cron(60 * * * ? *)", "minutes"),
    ("cron(0 0 32 * ? *)", "day-of-month"),
    ("cron(0 0 ? 13 * *)", "month"),
    ("cron(0 0 ? * 8 *)", "day-of-week"),
    ("cron(0 0 * * ? 1969)", "year"),
])
def test_cron_field_out_of_range_is_named(expression, field):
    with pytest.raises(ConfigurationError, match=rf"the {field} field"):
        Schedule.cron(expression, window=DataWindow())


def test_cron_needs_one_question_mark_in_the_day_fields():
    with pytest.raises(ConfigurationError, match=r"must be '\?'"):
        Schedule.cron("cron(0 0 * * * *)", window=DataWindow())


@pytest.mark.parametrize("expression", ["cron(15 */2 * * ? *)", "cron(0 8-18/2 ? * MON-FRI *)",
                                        "cron(0 0 L * ? *)", "cron(0 0 ? * 6#3 2026)", "cron(0,30 1 15W JAN ? *)"])
def test_cron_accepts_eventbridge_wildcards(expression):
    assert Schedule.cron(expression, window=DataWindow()).expression == expression


def test_data_quality_monitor_refuses_a_bias_baseline_folder(stack):
    with pytest.raises(ConfigurationError, match=r"invalid baseline='bias'.*needs a data-quality baseline"):
        _monitor(stack, baseline=Baseline.from_directory(str(DEMO / "baseline-bias")))


def test_facade_refuses_a_model_quality_folder_as_data_quality_baseline(stack):
    with pytest.raises(ConfigurationError, match=r"invalid baseline='model-quality'.*needs a data-quality baseline"):
        _facade(stack, data_quality=DataQualityProps(
            baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality"))))


def test_alarms_on_a_local_baseline_without_features_do_not_claim_it_was_not_local(stack):
    monitor = _monitor(stack)
    alarms = MonitorAlarms(stack, "Alarms", alarm_name_prefix="churn")
    with pytest.raises(ConfigurationError) as error:
        alarms.add_monitor(monitor, baseline=Baseline.from_directory(str(DEMO / "baseline-model-quality")),
                           options=DataQualityAlarmOptions())
    assert "only known from a local baseline" not in str(error.value)
    assert "constrains no features" in str(error.value)


def test_schedule_of_monitor_props_given_as_text_is_refused(stack):
    with pytest.raises(ConfigurationError, match=r"DataQuality\.schedule='daily'"):
        _facade(stack, data_quality=DataQualityProps(baseline=Baseline.from_directory(BASELINE), schedule="daily"))


def test_model_quality_settings_default_to_a_one_day_ground_truth_lookback():
    settings = ModelQualitySettings(problem_type=ProblemType.REGRESSION)
    assert settings.ground_truth_lookback.to_hours() == Duration.days(1).to_hours()


@pytest.mark.parametrize("monitor_class, settings_type", [
    (DataQualityMonitor, DataQualitySettings), (ModelQualityMonitor, ModelQualitySettings),
    (BiasDriftMonitor, BiasSettings)])
def test_monitors_have_explicit_signatures_that_the_typed_settings_mirror(monitor_class, settings_type):
    parameters = inspect.signature(monitor_class.__init__).parameters
    assert not [p for p in parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD]
    assert {f.name for f in dataclasses.fields(settings_type)} <= set(parameters)


def test_misspelt_monitor_parameter_is_refused_by_python_itself(stack):
    with pytest.raises(TypeError, match="schedul"):
        _monitor(stack, schedul=Schedule.hourly())
