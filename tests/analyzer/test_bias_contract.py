"""Clarify's analysis_config.json and the bias monitor's environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_monitor_analyzer.contract.paths import container_paths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.window import parse_timestamp
from model_monitor_analyzer.monitors.bias import (
    baseline_request_from_environment,
    mode_of,
    monitor_request_from_environment,
    run_baseline,
)
from model_monitor_analyzer.monitors.bias.config import (
    FacetConfig,
    parse_analysis_config,
    read_analysis_config,
    resolve_column,
)
from model_monitor_analyzer.monitors.bias.environment import DEFAULT_ANALYSIS_CONFIG

MINIMAL = {"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "sex"}]}


def test_the_real_adult_clarify_config_is_read_with_its_probability_threshold_and_methods(reference_examples):
    config = read_analysis_config(reference_examples / "ase-clarify-adult-bias" / "bias_analysis_config.json")
    assert config.label == "Target"
    assert config.label_values_or_threshold == (1,)
    assert config.facets == (FacetConfig(name_or_index="Sex", value_or_threshold=(0,)),)
    assert config.group_variable == "Age"
    assert config.probability_threshold == 0.8
    assert config.headers[0] == "Target"
    assert (config.run_pre_training, config.run_post_training, config.post_training_required) == (
        True,
        True,
        True,
    )
    assert config.pre_training_methods is None


def test_the_real_fraud_config_asks_for_pre_training_only(reference_examples):
    config = read_analysis_config(
        reference_examples / "ase-fraud-clarify" / "config" / "analysis_config.json"
    )
    assert (config.run_pre_training, config.run_post_training) == (True, False)
    assert config.label_values_or_threshold == (0,)


def test_a_config_without_methods_runs_both_stages_and_post_training_only_with_predictions():
    config = parse_analysis_config(MINIMAL)
    assert (config.run_pre_training, config.run_post_training, config.post_training_required) == (
        True,
        True,
        False,
    )
    assert config.facets[0].value_or_threshold is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"label": None}, '"label"'),
        ({"label_values_or_threshold": []}, '"label_values_or_threshold"'),
        ({"label_values_or_threshold": 1}, '"label_values_or_threshold"'),
        ({"facet": []}, '"facet"'),
        ({"facet": [{"value_or_threshold": [1]}]}, '"facet[0]"'),
        ({"facet": [{"name_or_index": "sex", "value_or_threshold": "F"}]}, '"facet[0].value_or_threshold"'),
        ({"dataset_type": "application/x-image"}, '"dataset_type"'),
        ({"probability_threshold": "high"}, '"probability_threshold"'),
        ({"methods": {"pre_training_bias": {"methods": "some"}}}, '"methods.pre_training_bias.methods"'),
        ({"methods": {"shap": {}}}, '"methods"'),
    ],
)
def test_an_invalid_config_names_the_key_to_fix(change, named):
    document = {**MINIMAL, **change}
    with pytest.raises(AnalyzerInputError, match=named.replace("[", r"\[").replace("]", r"\]")) as raised:
        parse_analysis_config(document, path="analysis_config.json")
    assert raised.value.path == "analysis_config.json"


def test_a_missing_config_file_is_an_input_error(tmp_path):
    with pytest.raises(AnalyzerInputError, match="not found"):
        read_analysis_config(tmp_path / "nope.json")


def test_a_column_index_resolves_against_the_dataset_columns():
    assert resolve_column(1, ["y", "sex"], "facet[0].name_or_index") == "sex"
    with pytest.raises(AnalyzerInputError, match="outside"):
        resolve_column(5, ["y", "sex"], "facet[0].name_or_index")


def test_the_monitoring_environment_maps_onto_the_monitor_request(tmp_path):
    env = {
        "analysis_config": str(tmp_path / "analysis_config.json"),
        "dataset_format": '{"sagemakerMergeJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}',
        "dataset_source": "/opt/ml/processing/input_data",
        "output_path": "/opt/ml/processing/resultdata",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/analysis.json",
        "start_time": "2024-01-19T20:00:00Z",
        "end_time": "2024-01-19T21:00:00Z",
        "metric_time": "2024-01-19T20:00:00Z",
        "sagemaker_endpoint_name": "adult-ep",
        "sagemaker_monitoring_schedule_name": "adult-bias",
        "publish_cloudwatch_metrics": "Enabled",
        "features_attribute": "instances[*].features",
        "inference_attribute": "predictions[*].predicted_label",
        "probability_threshold_attribute": "0.46",
    }
    assert mode_of(env) == "monitor"
    request = monitor_request_from_environment(env, container_paths(env))
    assert request.analysis_config == tmp_path / "analysis_config.json"
    assert request.merged == Path("/opt/ml/processing/input_data")
    assert (request.dataset, request.capture, request.ground_truth) == (None, None, None)
    assert request.output == Path("/opt/ml/processing/resultdata")
    assert request.baseline == Path("/opt/ml/processing/baseline/constraints/analysis.json")
    assert (request.window.start, request.window.end) == (
        parse_timestamp("2024-01-19T20:00:00Z"), parse_timestamp("2024-01-19T21:00:00Z"))
    assert (request.endpoint, request.schedule, request.metric_time) == (
        "adult-ep",
        "adult-bias",
        parse_timestamp(env["metric_time"]),
    )
    assert (request.features_attribute, request.inference_attribute) == (
        "instances[*].features",
        "predictions[*].predicted_label",
    )
    assert request.probability_threshold == 0.46
    assert request.metrics_dir == Path("/opt/ml/output/metrics/cloudwatch")


def test_captures_without_merge_format_are_joined_with_the_ground_truth_folder():
    env = {"sagemaker_monitoring_schedule_name": "s", "start_time": "2024-01-19T20:00:00Z"}
    request = monitor_request_from_environment(env, container_paths(env))
    assert request.capture == Path("/opt/ml/processing/input_data")
    assert request.ground_truth == Path("/opt/ml/processing/groundtruth")
    assert request.metric_time == parse_timestamp("2024-01-19T20:00:00Z")
    assert request.baseline is None
    assert request.metrics_dir is None


def test_without_schedule_or_baseline_the_environment_is_a_baseline_run_on_clarifys_paths():
    assert mode_of({}) == "baseline"
    request = baseline_request_from_environment({}, container_paths({}))
    assert request.analysis_config == Path(DEFAULT_ANALYSIS_CONFIG)
    assert request.dataset == Path("/opt/ml/processing/input/data")


def test_paths_move_with_the_simulated_opt_ml_root(tmp_path):
    env = {"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path)}
    request = baseline_request_from_environment(env, container_paths(env))
    assert request.analysis_config == tmp_path / "processing" / "input" / "config" / "analysis_config.json"


def test_config_values_keep_their_json_types(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({**MINIMAL, "label_values_or_threshold": ["yes", 1.5]}))
    assert read_analysis_config(path).label_values_or_threshold == ("yes", 1.5)


def test_a_container_run_names_the_environment_keys_without_rewording(tmp_path):
    (tmp_path / "taken").write_text("a file")
    env = {"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "output_path": str(tmp_path / "taken"),
           "dataset_source": str(tmp_path)}
    with pytest.raises(AnalyzerInputError) as error:
        run_baseline(baseline_request_from_environment(env, container_paths(env)))
    assert error.value.describe().startswith(f"output_path {tmp_path / 'taken'} is a file, not a folder")


def test_a_container_run_given_another_document_as_its_config_names_the_key(tmp_path):
    config = tmp_path / "analysis_config.json"
    config.write_text(json.dumps({"pre_training_bias_metrics": {"facets": {}}}))
    (tmp_path / "data").mkdir()
    env = {"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "analysis_config": str(config),
           "dataset_source": str(tmp_path / "data"), "output_path": str(tmp_path / "out")}
    with pytest.raises(AnalyzerInputError) as error:
        run_baseline(baseline_request_from_environment(env, container_paths(env)))
    message = error.value.describe()
    assert "analysis_config expects the bias analysis config" in message
    assert "pass it with baseline_constraints of an analysis_type=MODEL_BIAS job" in message and "--" not in message


def test_a_container_monitor_given_the_config_as_its_baseline_names_the_keys(tmp_path):
    from model_monitor_analyzer.monitors.bias import run_monitor

    config = tmp_path / "analysis_config.json"
    config.write_text(json.dumps(MINIMAL))
    (tmp_path / "data").mkdir()
    env = {"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "analysis_config": str(config), "baseline_constraints": str(config),
           "dataset_source": str(tmp_path / "data"), "output_path": str(tmp_path / "out"),
           "start_time": "2024-01-19T20:00:00Z", "end_time": "2024-01-19T21:00:00Z"}
    with pytest.raises(AnalyzerInputError) as error:
        run_monitor(monitor_request_from_environment(env, container_paths(env)))
    message = error.value.describe()
    assert "baseline_constraints expects the bias analysis (analysis.json)" in message
    assert "pass it with analysis_config of an analysis_type=MODEL_BIAS job" in message and "--" not in message
