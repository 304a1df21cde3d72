"""Captured columns chosen at synth: the payloads each job reads fit both the endpoint's capture modes and
the baseline's features, and a combination that cannot work is refused with both sides and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from cdk_model_monitor import (
    AnalyzerImage,
    Baseline,
    BaselineColumns,
    CaptureConfig,
    CapturedEndpoint,
    CaptureMode,
    ConfigurationError,
    DataQualityMonitor,
    DataQualityProps,
    DataQualitySettings,
    EndpointProps,
    Engine,
    ModelMonitor,
    MonitoringBucket,
)
from cdk_model_monitor.monitors.bias import BiasDriftMonitor
from cdk_model_monitor.monitors.model_quality import ModelQualityMonitor

from .conftest import REPO_ROOT, cfn_lint_findings, new_app, template_of
from .test_bias_monitor import BIAS_BASELINE
from .test_bias_monitor import DEMO as BIAS_SETTINGS
from .test_model_quality_monitor import (
    BINARY,
    ENDPOINT,
    MQ_BASELINE,
    _plan,
    demo_traffic,
    run_synthesized_job,
    states_of,
)

DEMO_BASELINE = REPO_ROOT / "demo" / "baseline"  # churn_score (the model's output) first, then nine inputs
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"
ANALYZER = AnalyzerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/model-monitor-analyzer:1.0")
INPUT_ONLY = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}}
INPUT_AND_OUTPUT = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
INPUT, OUTPUT = CaptureMode.INPUT, CaptureMode.OUTPUT


def baseline_of(folder: Path, names: list[str]) -> str:
    """A baseline folder holding only the demo baseline's features ``names`` (a feature's statistics and
    constraints do not depend on the other columns, so this is what a baseline of those columns holds)."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in ("statistics.json", "constraints.json"):
        document = json.loads((DEMO_BASELINE / file).read_text())
        document["features"] = [f for f in document["features"] if f["name"] in names]
        (folder / file).write_text(json.dumps(document))
    return str(folder)


def _endpoint(stack: cdk.Stack, *modes: CaptureMode) -> CapturedEndpoint:
    storage = MonitoringBucket(stack, "Storage")
    return CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, endpoint_name="churn",
                            capture=CaptureConfig(modes=modes or (INPUT, OUTPUT)))


def _data_quality(stack: cdk.Stack, *modes: CaptureMode, baseline: str = str(DEMO_BASELINE),
                  **kwargs) -> DataQualityMonitor:
    kwargs.setdefault("image", ANALYZER)
    return DataQualityMonitor(stack, "DataQuality", endpoint=_endpoint(stack, *modes),
                              baseline=Baseline.from_directory(baseline), **kwargs)


def _native_builtin(stack: cdk.Stack, *modes: CaptureMode, **kwargs) -> DataQualityMonitor:
    return _data_quality(stack, *modes, engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(), **kwargs)


def standalone_dataset_format(stack: cdk.Stack) -> dict:
    return json.loads(states_of(stack)["RunAnalyzer"]["Parameters"]["Environment"]["dataset_format"])


def typed_definition_environment(stack: cdk.Stack) -> dict:
    (definition,) = template_of(stack).find_resources("AWS::SageMaker::DataQualityJobDefinition").values()
    return definition["Properties"]["DataQualityAppSpecification"].get("Environment", {})


def embedded_definition_environment(stack: cdk.Stack) -> dict:
    (schedule,) = template_of(stack).find_resources("AWS::SageMaker::MonitoringSchedule").values()
    return schedule["Properties"]["MonitoringScheduleConfig"]["MonitoringJobDefinition"].get("Environment", {})


# -- data quality, our analyzer --------------------------------------------------------------------------


def test_an_input_only_capture_makes_the_standalone_job_read_the_endpoint_input_only(stack):
    _data_quality(stack, INPUT)
    assert standalone_dataset_format(stack) == INPUT_ONLY


def test_our_analyzer_reads_input_and_output_to_match_them_to_the_baseline_at_run_time(stack):
    _data_quality(stack, INPUT, OUTPUT)
    assert standalone_dataset_format(stack) == INPUT_AND_OUTPUT


def test_a_features_baseline_makes_the_job_read_the_endpoint_input_only(stack):
    _data_quality(stack, INPUT, OUTPUT, baseline_columns=BaselineColumns.FEATURES)
    assert standalone_dataset_format(stack) == INPUT_ONLY


def test_the_native_schedule_of_our_analyzer_carries_a_dataset_format_only_when_it_is_not_the_default(app):
    default, input_only = (cdk.Stack(app, name, env=cdk.Environment(account="123456789012", region="us-east-1"))
                           for name in ("Default", "InputOnly"))
    _data_quality(default, INPUT, OUTPUT, engine=Engine.MODEL_MONITOR)
    _data_quality(input_only, INPUT, engine=Engine.MODEL_MONITOR)
    assert "dataset_format" not in embedded_definition_environment(default)
    assert json.loads(embedded_definition_environment(input_only)["dataset_format"]) == INPUT_ONLY


def test_a_data_quality_monitor_on_an_output_only_capture_is_refused_naming_both_sides(stack):
    with pytest.raises(ConfigurationError) as raised:
        _data_quality(stack, OUTPUT)
    message = str(raised.value)
    assert message.startswith("Test/DataQuality: invalid capture.modes=('Output',).")
    assert "captures Output" in message and "a baseline of 10 features (churn_score" in message
    assert "CaptureConfig(modes=(CaptureMode.INPUT, CaptureMode.OUTPUT))" in message


# -- data quality, SageMaker's built-in image (maps columns by position) ---------------------------------------


def test_the_builtin_image_refuses_input_and_output_when_the_baseline_layout_is_unknown(stack):
    with pytest.raises(ConfigurationError) as raised:
        _native_builtin(stack, INPUT, OUTPUT)
    message = str(raised.value)
    assert message.startswith("Test/DataQuality: invalid baseline_columns=None.")
    assert "captures Input and Output" in message and "a baseline of 10 features (churn_score" in message
    assert "baseline_columns=BaselineColumns.FEATURES" in message
    assert "BaselineColumns.OUTPUT_AND_FEATURES" in message


def test_the_builtin_image_with_a_features_baseline_reads_the_endpoint_input_only(stack):
    _native_builtin(stack, INPUT, OUTPUT, baseline_columns=BaselineColumns.FEATURES)
    assert json.loads(typed_definition_environment(stack)["dataset_format"]) == INPUT_ONLY
    assert cfn_lint_findings(template_of(stack).to_json()) == []


def test_the_builtin_image_with_an_output_and_features_baseline_keeps_sagemakers_default(stack):
    _native_builtin(stack, INPUT, OUTPUT, baseline_columns=BaselineColumns.OUTPUT_AND_FEATURES)
    assert "dataset_format" not in typed_definition_environment(stack)


def test_the_builtin_image_on_an_input_only_capture_reads_the_input_only(stack):
    _native_builtin(stack, INPUT)
    assert json.loads(typed_definition_environment(stack)["dataset_format"]) == INPUT_ONLY


def test_a_one_feature_baseline_cannot_hold_output_and_input_so_the_builtin_reads_the_input(stack, tmp_path):
    _native_builtin(stack, INPUT, OUTPUT, baseline=baseline_of(tmp_path / "one", ["day_minutes"]))
    assert json.loads(typed_definition_environment(stack)["dataset_format"]) == INPUT_ONLY


def test_output_and_features_is_refused_for_a_one_feature_baseline(stack, tmp_path):
    with pytest.raises(ConfigurationError, match=r"a baseline of 1 feature \(day_minutes\).*BaselineColumns.FEATURES"):
        _native_builtin(stack, INPUT, OUTPUT, baseline=baseline_of(tmp_path / "one", ["day_minutes"]),
                        baseline_columns=BaselineColumns.OUTPUT_AND_FEATURES)


def test_output_and_features_is_refused_for_an_endpoint_that_does_not_capture_its_output(stack):
    with pytest.raises(ConfigurationError, match=r"invalid baseline_columns=.*captures Input and a baseline of 10"):
        _data_quality(stack, INPUT, baseline_columns=BaselineColumns.OUTPUT_AND_FEATURES)


def test_the_builtin_image_refuses_an_endpoint_deployed_elsewhere_whose_capture_is_unknown(stack):
    with pytest.raises(ConfigurationError, match="capture modes are not known at synth.*baseline_columns="):
        DataQualityMonitor(stack, "DataQuality", endpoint_name="churn", capture_s3_uri="s3://captures/datacapture",
                           storage=MonitoringBucket(stack, "Storage"), engine=Engine.MODEL_MONITOR,
                           image=AnalyzerImage.builtin(), baseline=Baseline.from_directory(str(DEMO_BASELINE)))


def test_a_dataset_format_of_the_users_own_is_passed_as_given(stack):
    own = json.dumps(INPUT_AND_OUTPUT)
    _native_builtin(stack, INPUT, OUTPUT, environment={"dataset_format": own})
    assert typed_definition_environment(stack)["dataset_format"] == own


def test_capture_modes_are_refused_beside_a_captured_endpoint_that_states_its_own(stack):
    with pytest.raises(ConfigurationError, match="invalid capture_modes=.*remove capture_modes"):
        _data_quality(stack, INPUT, capture_modes=(INPUT,))


# -- the labelled monitors --------------------------------------------------------------------------------


def test_a_model_quality_monitor_on_an_input_only_capture_is_refused(stack):
    with pytest.raises(ConfigurationError, match=r"invalid capture.modes=\('Input',\)\. A model-quality monitor "
                                                 r"reads the captured Output.*capture Output too"):
        ModelQualityMonitor(stack, "ModelQuality", endpoint=_endpoint(stack, INPUT), image=ANALYZER,
                            baseline=Baseline.from_directory(str(MQ_BASELINE)), **BINARY)


def test_a_bias_monitor_on_an_output_only_capture_is_refused(stack):
    with pytest.raises(ConfigurationError, match=r"A model-bias monitor reads the captured Input and Output.*"
                                                 r"capture Input too"):
        BiasDriftMonitor(stack, "Bias", endpoint=_endpoint(stack, OUTPUT), image=ANALYZER,
                         baseline=Baseline.from_directory(str(BIAS_BASELINE)), **BIAS_SETTINGS)


def test_a_model_quality_monitor_on_an_output_only_capture_synthesizes(stack):
    ModelQualityMonitor(stack, "ModelQuality", endpoint=_endpoint(stack, OUTPUT), image=ANALYZER,
                        baseline=Baseline.from_directory(str(MQ_BASELINE)), **BINARY)
    template_of(stack).resource_count_is("AWS::StepFunctions::StateMachine", 1)


# -- the facade ---------------------------------------------------------------------------------------------


def test_the_facade_refuses_data_quality_on_an_endpoint_capturing_only_its_output(stack):
    with pytest.raises(ConfigurationError, match=r"^Test/Churn/DataQuality: invalid capture.modes=\('Output',\)"):
        ModelMonitor(stack, "Churn", model_name="churn", image=ANALYZER,
                     endpoint=EndpointProps(image_uri=IMAGE, capture=CaptureConfig(modes=(OUTPUT,))),
                     data_quality=DataQualityProps(baseline=Baseline.from_directory(str(DEMO_BASELINE))))


def test_the_facade_passes_the_capture_modes_of_an_existing_endpoint(stack):
    ModelMonitor(stack, "Churn", model_name="churn", image=ANALYZER,
                 endpoint=CapturedEndpoint.from_endpoint_attributes(
                     stack, "Prod", endpoint_name="churn-prod", capture_s3_uri="s3://captures/datacapture",
                     capture_modes=(INPUT,)),
                 data_quality=DataQualityProps(baseline=Baseline.from_directory(str(DEMO_BASELINE))))
    assert standalone_dataset_format(stack) == INPUT_ONLY


def test_the_facade_passes_baseline_columns_to_a_builtin_data_quality_monitor(stack):
    ModelMonitor(stack, "Churn", model_name="churn", engine=Engine.MODEL_MONITOR, image=AnalyzerImage.builtin(),
                 endpoint=EndpointProps(image_uri=IMAGE),
                 data_quality=DataQualityProps(baseline=Baseline.from_directory(str(DEMO_BASELINE)),
                                               settings=DataQualitySettings(baseline_columns=BaselineColumns.FEATURES)))
    assert json.loads(typed_definition_environment(stack)["dataset_format"]) == INPUT_ONLY


# -- the synthesized job, run by the analyzer ----------------------------------------------------------------


def test_a_features_baseline_job_compares_the_captured_input_with_the_features_end_to_end(tmp_path):
    """A baseline of the nine input features (the common training CSV) against the demo's capture of input
    and output: the synthesized job reads the input only, and the analyzer finds the nine features."""
    app = new_app(tmp_path / "app")
    stack = cdk.Stack(app, "E2E", env=cdk.Environment(account="123456789012", region="us-east-1"))
    features = [f["name"] for f in json.loads((DEMO_BASELINE / "statistics.json").read_text())["features"]][1:]
    baseline = Path(baseline_of(tmp_path / "features", features))
    storage = MonitoringBucket(stack, "Storage")
    endpoint = CapturedEndpoint(stack, "Endpoint", bucket=storage, image_uri=IMAGE, endpoint_name=ENDPOINT)
    DataQualityMonitor(stack, "DataQuality", endpoint=endpoint, image=ANALYZER, baseline=Baseline.from_directory(
        str(baseline)), baseline_columns=BaselineColumns.FEATURES)
    first, captures, _ = demo_traffic(tmp_path)
    code, message = run_synthesized_job(
        stack, tmp_path / "opt-ml", _plan(first),
        {"endpoint": captures, "baseline_statistics": baseline / "statistics.json",
         "baseline_constraints": baseline / "constraints.json"})
    assert code == 0, message
    assert message.startswith("Completed:"), message
    statistics = json.loads((tmp_path / "opt-ml" / "processing" / "output" / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 600
    assert [f["name"] for f in statistics["features"]] == features
