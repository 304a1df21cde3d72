"""Data-quality runs take typed requests: built in code, by the command line, or from a job environment."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from model_monitor_analyzer.checks.config import CategoricalDriftMethod
from model_monitor_analyzer.cli import build_parser
from model_monitor_analyzer.contract.environment import RunMode
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import InputFormat, InputOptions
from model_monitor_analyzer.monitors import data_quality as job
from model_monitor_analyzer.monitors.data_quality import environment as contract
from model_monitor_analyzer.monitors.data_quality.request import (
    OPTION_NAMES,
    DataQualityBaselineRequest,
    DataQualityMonitorRequest,
)

WINDOW = TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC), end=datetime(2024, 1, 1, 11, tzinfo=UTC))


def _people(rng, rows):
    ages = rng.integers(18, 90, size=rows)
    incomes = np.round(rng.normal(40_000, 8_000, size=rows), 2)
    cities = rng.choice(["Lyon", "Oslo", "Rome"], size=rows)
    return ages, incomes, cities


def _dataset(path, rows=300):
    ages, incomes, cities = _people(np.random.default_rng(3), rows)
    path.write_text("age,income,city\n" + "".join(f"{a},{i:.2f},{c}\n" for a, i, c in zip(ages, incomes, cities)))
    return ages, incomes, cities


def _capture(folder, *, inside=40, outside=10):
    """``inside`` records in WINDOW, then ``outside`` records an hour after it; returns the inside ones."""
    ages, incomes, cities = _people(np.random.default_rng(5), inside + outside)
    lines = []
    for index, (age, income, city) in enumerate(zip(ages, incomes, cities)):
        hour = 10 if index < inside else 12
        lines.append(json.dumps({
            "captureData": {"endpointInput": {"data": f"{age},{income:.2f},{city}", "encoding": "CSV"},
                            "endpointOutput": {"data": "0.5", "encoding": "CSV"}},
            "eventMetadata": {"eventId": str(index), "inferenceTime": f"2024-01-01T{hour:02d}:{index % 60:02d}:00Z"},
            "eventVersion": "0"}))
    folder.mkdir(parents=True)
    (folder / "part.jsonl").write_text("\n".join(lines) + "\n")
    return ages[:inside], incomes[:inside], cities[:inside]


def _features(statistics_file):
    return {f["name"]: f for f in json.loads(statistics_file.read_text())["features"]}


def _baseline(tmp_path):
    dataset = tmp_path / "train.csv"
    expected = _dataset(dataset)
    outcome = job.run_baseline(DataQualityBaselineRequest(dataset=dataset, output=tmp_path / "baseline"))
    return outcome, expected


def test_a_baseline_request_built_in_code_profiles_the_dataset_as_numpy_does(tmp_path):
    outcome, (ages, incomes, _) = _baseline(tmp_path)
    assert outcome.summary["records"] == 300
    features = _features(tmp_path / "baseline" / "statistics.json")
    assert [features["age"]["inferred_type"], features["income"]["inferred_type"]] == ["Integral", "Fractional"]
    age = features["age"]["numerical_statistics"]
    assert (age["min"], age["max"]) == (ages.min(), ages.max())
    assert age["mean"] == pytest.approx(ages.mean(), rel=1e-12)
    assert features["income"]["numerical_statistics"]["std_dev"] == pytest.approx(incomes.std(ddof=0), rel=1e-12)


def test_a_baseline_request_writes_its_categorical_drift_method_into_the_suggested_config(tmp_path):
    dataset = tmp_path / "train.csv"
    _dataset(dataset)
    job.run_baseline(DataQualityBaselineRequest(dataset=dataset, output=tmp_path / "out", format=InputFormat.CSV,
                                                categorical_drift_method=CategoricalDriftMethod.CHI_SQUARED))
    config = json.loads((tmp_path / "out" / "constraints.json").read_text())["monitoring_config"]
    assert config["distribution_constraints"]["categorical_drift_method"] == "ChiSquared"


def test_a_monitor_request_built_in_code_profiles_the_windows_input_columns(tmp_path, capsys):
    _baseline(tmp_path)
    ages, incomes, cities = _capture(tmp_path / "capture")
    outcome = job.run_monitor(DataQualityMonitorRequest(
        capture=tmp_path / "capture", statistics=tmp_path / "baseline" / "statistics.json",
        constraints=tmp_path / "baseline" / "constraints.json", output=tmp_path / "out", window=WINDOW))
    # the baseline has the input's three columns: the captured output is not read as a feature
    assert "reading endpointInput only" in capsys.readouterr().err
    assert outcome.summary["records"] == 40
    features = _features(tmp_path / "out" / "statistics.json")
    assert list(features) == ["age", "income", "city"]
    assert features["age"]["numerical_statistics"]["mean"] == pytest.approx(ages.mean(), rel=1e-12)
    assert features["income"]["numerical_statistics"]["sum"] == pytest.approx(incomes.sum(), rel=1e-12)
    assert features["city"]["string_statistics"]["distinct_count"] == len(set(cities))


def test_a_monitor_request_without_a_metrics_dir_writes_no_metric_lines(tmp_path):
    _baseline(tmp_path)
    _capture(tmp_path / "capture")
    outcome = job.run_monitor(DataQualityMonitorRequest(
        capture=tmp_path / "capture", statistics=tmp_path / "baseline" / "statistics.json",
        constraints=tmp_path / "baseline" / "constraints.json", output=tmp_path / "out", window=WINDOW))
    assert sorted(path.name for path in outcome.files) == [
        "constraint_violations.json", "constraints.json", "report.html", "statistics.json"]
    assert not (tmp_path / "out" / "metrics").exists()


def test_metric_lines_are_stamped_with_the_window_start_when_no_metric_time_is_given(tmp_path):
    _baseline(tmp_path)
    _capture(tmp_path / "capture")
    job.run_monitor(DataQualityMonitorRequest(
        capture=tmp_path / "capture", statistics=tmp_path / "baseline" / "statistics.json",
        constraints=tmp_path / "baseline" / "constraints.json", output=tmp_path / "out", window=WINDOW,
        metrics_dir=tmp_path / "metrics", endpoint="ep", schedule="hourly"))
    lines = [json.loads(line) for line in (tmp_path / "metrics" / "cloudwatch_metrics.jsonl").read_text().splitlines()]
    assert {line["Timestamp"] for line in lines} == {"2024-01-01T10:00:00Z"}
    assert lines[0]["Dimensions"] == [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "hourly"}]


def test_the_contract_builds_the_monitor_request_the_command_line_builds_for_the_same_job(tmp_path):
    paths = ContainerPaths(root=tmp_path)
    base = tmp_path / "processing"
    env = {
        "dataset_format": json.dumps({"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput"]}}),
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "output_path": "/opt/ml/processing/resultdata",
        "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "start_time": "2024-01-01T10:00:00Z", "end_time": "2024-01-01T11:00:00Z",
        "metric_time": "2024-01-01T10:30:00Z",
        "sagemaker_endpoint_name": "ep", "sagemaker_monitoring_schedule_name": "hourly",
        "publish_cloudwatch_metrics": "Enabled", "max_bad_record_ratio": "0.25",
        "record_preprocessor_script": "/opt/ml/processing/code/pre.py",
        "post_analytics_processor_script": "/opt/ml/processing/code/post.py",
        "feature_overrides": '{"age": {"drift": 0.3}, "city": {"check": false}}',
    }
    argv = ["monitor", "--capture", str(base / "input" / "endpoint"), "--output", str(base / "resultdata"),
            "--statistics", str(base / "baseline" / "stats" / "statistics.json"),
            "--constraints", str(base / "baseline" / "constraints" / "constraints.json"),
            "--capture-index-names", "endpointInput", "--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z",
            "--metric-time", "2024-01-01T10:30:00Z", "--endpoint", "ep", "--schedule", "hourly",
            "--metrics-dir", str(tmp_path / "output" / "metrics" / "cloudwatch"), "--max-bad-record-ratio", "0.25",
            "--record-preprocessor", str(base / "code" / "pre.py"), "--post-analytics-processor", str(base / "code" / "post.py"),
            "--feature-overrides", '{"age": {"drift": 0.3}, "city": {"check": false}}', "--overwrite"]
    assert contract.mode_of(env) == RunMode.MONITOR
    from_env = contract.monitor_request_from_environment(env, paths)
    from_cli = job.monitor_request(build_parser("data-quality").parse_args(argv))
    # the same run; each names its settings in its user's words
    assert (from_env.names, from_cli.names) == (contract.ENVIRONMENT_NAMES, OPTION_NAMES)
    assert replace(from_env, names=OPTION_NAMES) == from_cli
    assert from_env.window == WINDOW
    assert from_env.feature_overrides == {
        "age": {"distribution_constraints": {"comparison_threshold": 0.3, "categorical_comparison_threshold": 0.3,
                                             "drift_threshold": 0.3}},
        "city": {"evaluate_constraints": "Disabled"},
    }


def test_the_contract_builds_the_baseline_request_the_command_line_builds_for_the_same_job(tmp_path):
    env = {"dataset_format": json.dumps({"csv": {"header": False}}), "dataset_source": "/opt/ml/processing/input/data",
           "output_path": "/opt/ml/processing/output", "categorical_drift_method": "ChiSquared"}
    argv = ["baseline", "--dataset", str(tmp_path / "processing" / "input" / "data"), "--format", "csv", "--no-header",
            "--output", str(tmp_path / "processing" / "output"), "--categorical-drift-method", "ChiSquared", "--overwrite"]
    assert contract.mode_of(env) == RunMode.BASELINE
    from_env = contract.baseline_request_from_environment(env, ContainerPaths(root=tmp_path))
    from_cli = job.baseline_request(build_parser("data-quality").parse_args(argv))
    assert (from_env.names, from_cli.names) == (contract.ENVIRONMENT_NAMES, OPTION_NAMES)
    assert replace(from_env, names=OPTION_NAMES) == from_cli
    assert from_env.reading == InputOptions(header=False, progress=True)
    assert from_env.categorical_drift_method is CategoricalDriftMethod.CHI_SQUARED


def test_metric_lines_are_written_by_the_contract_only_when_publishing_is_enabled(tmp_path):
    env = {"baseline_statistics": "/opt/ml/s.json", "baseline_constraints": "/opt/ml/c.json"}
    paths = ContainerPaths(root=tmp_path)
    assert contract.monitor_request_from_environment(env, paths).metrics_dir is None
    published = contract.monitor_request_from_environment({**env, "publish_cloudwatch_metrics": "Enabled"}, paths)
    assert published.metrics_dir == tmp_path / "output" / "metrics" / "cloudwatch"


def test_bad_feature_overrides_in_the_environment_are_one_line_naming_the_environment_key(tmp_path):
    env = {"baseline_statistics": "/opt/ml/s.json", "baseline_constraints": "/opt/ml/c.json", "feature_overrides": "{not json"}
    with pytest.raises(AnalyzerInputError) as error:
        contract.monitor_request_from_environment(env, ContainerPaths(root=tmp_path))
    assert error.value.describe().startswith("feature_overrides: not valid JSON")


def test_an_unknown_categorical_drift_method_in_the_environment_names_the_choices(tmp_path):
    with pytest.raises(AnalyzerInputError, match="'Hellinger' is not supported; use one of LInfinity, ChiSquared"):
        contract.baseline_request_from_environment({"categorical_drift_method": "Hellinger"}, ContainerPaths(root=tmp_path))


def test_the_categorical_drift_method_in_the_environment_is_matched_whatever_its_case(tmp_path):
    request = contract.baseline_request_from_environment({"categorical_drift_method": "chisquared"}, ContainerPaths(root=tmp_path))
    assert request.categorical_drift_method is CategoricalDriftMethod.CHI_SQUARED
