"""One vocabulary on the command line for all monitor types: --dataset-format, metric lines under
OUTPUT/metrics unless --no-metrics, and the earlier spellings still accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import build_parser, main
from model_monitor_analyzer.contract.paths import container_paths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs.requests import InputFormat
from model_monitor_analyzer.monitors import bias as bias_job
from model_monitor_analyzer.monitors import data_quality as dq_job
from model_monitor_analyzer.monitors import model_quality as mq_job
from model_monitor_analyzer.monitors.bias import command_line as bias_command_line
from model_monitor_analyzer.monitors.bias import run as bias_run
from model_monitor_analyzer.monitors.model_quality.command_line import DATASET_FORMATS as MQ_DATASET_FORMATS
from tests.analyzer.test_bias_job import FEATURES, PREDICTED, _monitor_config, _ten_invocations, _write_lines
from tests.analyzer.test_model_quality_jobs import START, _binary_window

DQ_MONITOR = ["--capture", "c", "--statistics", "s", "--constraints", "k"]
MQ_MONITOR = ["--capture", "c", "--ground-truth", "g", "--problem-type", "Regression", "--inference-attribute", "0"]


def _parse(monitor_type: str, command: str, *argv: str):
    return build_parser(monitor_type).parse_args([command, "--type", monitor_type, *argv])


@pytest.mark.parametrize("flag", ["--dataset-format", "--format"])
def test_data_quality_baseline_reads_the_dataset_format_under_both_spellings(flag, tmp_path):
    args = _parse("data-quality", "baseline", "--dataset", "d.csv", "--output", str(tmp_path), flag, "parquet")
    assert dq_job.baseline_request(args).format is InputFormat.PARQUET


def test_model_quality_baseline_reads_the_dataset_format(tmp_path):
    args = _parse("model-quality", "baseline", "--dataset", "d", "--output", str(tmp_path), "--dataset-format", "jsonl")
    assert MQ_DATASET_FORMATS[args.dataset_format].value == "json"


@pytest.mark.parametrize(
    ("argv", "dataset_type"),
    [(["--dataset-format", "jsonl"], "application/jsonlines"),
     (["--dataset-format", "json"], "application/json"),
     (["--dataset-format", "csv"], "text/csv"),
     (["--dataset-format", "application/jsonlines"], "application/jsonlines"),
     (["--dataset-type", "application/json"], "application/json"),
     (["--dataset-type", "jsonl"], "application/jsonlines")],
)  # fmt: skip
def test_bias_dataset_format_takes_short_names_and_the_configs_spelling_under_both_flags(argv, dataset_type, tmp_path):
    args = _parse("bias", "baseline", "--analysis-config", "a.json", "--dataset", "d", "--output", str(tmp_path), *argv)
    assert bias_command_line.dataset_type(args) == dataset_type


def test_a_bias_dataset_format_option_overrides_the_configs_dataset_type(tmp_path):
    dataset = tmp_path / "table.data"
    dataset.write_text("age,sex,y,score\n" + "".join(
        f"{20 + i % 50},{'F' if i % 3 else 'M'},{i % 2},{(i % 7) / 7}\n" for i in range(200)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"dataset_type": "application/jsonlines", "label": "y",
                                  "label_values_or_threshold": [1], "predicted_label": "score",
                                  "probability_threshold": 0.5, "facet": [{"name_or_index": "sex"}]}))
    argv = ["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(dataset), "--quiet"]
    assert main([*argv, "--output", str(tmp_path / "a")]) == 2  # read as JSON Lines, as the config says
    assert main([*argv, "--output", str(tmp_path / "b"), "--dataset-format", "csv"]) == 0
    assert main([*argv, "--output", str(tmp_path / "c"), "--dataset-type", "text/csv"]) == 0
    assert (tmp_path / "b" / "analysis.json").read_text() == (tmp_path / "c" / "analysis.json").read_text()


@pytest.mark.parametrize(
    ("monitor_type", "required", "build", "field"),
    [("data-quality", DQ_MONITOR, dq_job.monitor_request, "metrics_dir"),
     ("model-quality", MQ_MONITOR, mq_job.monitor_request, "metrics_dir"),
     ("bias", ["--analysis-config", "a"], bias_job.monitor_request, "metrics_dir")],
)  # fmt: skip
class TestMetricLinesOnTheCommandLine:
    def test_metric_lines_go_under_output_metrics_by_default(self, monitor_type, required, build, field, tmp_path):
        request = build(_parse(monitor_type, "monitor", *required, "--output", str(tmp_path)))
        assert getattr(request, field) == tmp_path / "metrics"

    def test_metrics_dir_names_the_folder(self, monitor_type, required, build, field, tmp_path):
        args = _parse(monitor_type, "monitor", *required, "--output", str(tmp_path), "--metrics-dir", str(tmp_path / "m"))
        assert getattr(build(args), field) == tmp_path / "m"

    def test_no_metrics_writes_none(self, monitor_type, required, build, field, tmp_path):
        request = build(_parse(monitor_type, "monitor", *required, "--output", str(tmp_path), "--no-metrics"))
        assert getattr(request, field) is None

    def test_metrics_dir_with_no_metrics_is_an_input_error(self, monitor_type, required, build, field, tmp_path):
        args = _parse(monitor_type, "monitor", *required, "--output", str(tmp_path), "--no-metrics",
                      "--metrics-dir", str(tmp_path / "m"))  # fmt: skip
        with pytest.raises(AnalyzerInputError, match="--no-metrics"):
            build(args)


def test_model_quality_keeps_cloudwatch_metrics_dir_as_an_alias(tmp_path):
    args = _parse("model-quality", "monitor", *MQ_MONITOR, "--output", str(tmp_path), "--cloudwatch-metrics-dir",
                  str(tmp_path / "m"))
    assert mq_job.monitor_request(args).metrics_dir == tmp_path / "m"


def test_bias_keeps_publish_metrics_as_an_accepted_flag(tmp_path):
    args = _parse("bias", "monitor", "--analysis-config", "a", "--output", str(tmp_path), "--publish-metrics")
    assert bias_job.monitor_request(args).metrics_dir == tmp_path / "metrics"


def test_a_model_quality_command_line_run_writes_metric_lines_under_output_metrics(tmp_path):
    _binary_window(tmp_path)
    window = ["--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", "2024-05-02T11:00:00Z"]
    assert main(["monitor", "--type", "model-quality", "--capture", str(tmp_path / "capture"),
                 "--ground-truth", str(tmp_path / "groundtruth"), "--output", str(tmp_path / "out"),
                 "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
                 "--probability-threshold", "0.5", "--ground-truth-lookback", "PT2H", "--quiet", *window]) == 0  # fmt: skip
    lines = [json.loads(line) for file in (tmp_path / "out" / "metrics").iterdir() for line in file.open()]
    assert {"accuracy", "f1"} <= {line["MetricName"] for line in lines}
    assert {line["Timestamp"] for line in lines} == {"2024-05-02T10:00:00Z"}


def test_a_bias_command_line_run_writes_metric_lines_under_output_metrics_without_a_window(reference_examples, tmp_path):
    merged = _write_lines(tmp_path / "merged" / "part.jsonl", _ten_invocations(reference_examples))
    assert main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--output", str(tmp_path / "out"),
                 "--quiet"]) == 0  # fmt: skip
    lines = [json.loads(line) for line in (tmp_path / "out" / "metrics" / bias_run.METRICS_FILE).open()]
    assert "bias_metric_TE" in {line["MetricName"] for line in lines}


def test_a_bias_command_line_run_with_no_metrics_writes_no_metric_lines(reference_examples, tmp_path):
    merged = _write_lines(tmp_path / "merged" / "part.jsonl", _ten_invocations(reference_examples))
    assert main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--output", str(tmp_path / "out"),
                 "--no-metrics", "--quiet"]) == 0  # fmt: skip
    assert not (tmp_path / "out" / "metrics").exists()


def test_the_bias_container_writes_metric_lines_only_when_publishing_is_enabled():
    env = {"sagemaker_monitoring_schedule_name": "s", "start_time": "2024-01-19T20:00:00Z"}
    assert bias_job.monitor_request_from_environment(env, container_paths(env)).metrics_dir is None
    enabled_env = {**env, "publish_cloudwatch_metrics": "Enabled"}
    enabled = bias_job.monitor_request_from_environment(enabled_env, container_paths(enabled_env))
    assert enabled.metrics_dir == Path("/opt/ml/output/metrics/cloudwatch")
