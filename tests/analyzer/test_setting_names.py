"""A refused run names each setting as its user set it: a command-line option, or a job environment key
in the container (each adapter passes its own names; nothing rewords one for the other)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.contract.entrypoint import run_container
from model_monitor_analyzer.monitors.data_quality import environment as dq_environment
from model_monitor_analyzer.monitors.data_quality import request as dq_request
from model_monitor_analyzer.monitors.model_quality import environment as mq_environment
from model_monitor_analyzer.monitors.model_quality import request as mq_request

NAME_TABLES = [
    (dq_request.OPTION_NAMES, dq_environment.ENVIRONMENT_NAMES),
    (mq_request.OPTION_NAMES, mq_environment.ENVIRONMENT_NAMES),
]


@pytest.mark.parametrize(("options", "keys"), NAME_TABLES, ids=["data-quality", "model-quality"])
def test_every_setting_has_an_option_and_an_environment_key(options, keys):
    for field in dataclasses.fields(options):
        if field.name == "place_document":
            continue
        assert getattr(options, field.name).startswith("--"), field.name
        assert not getattr(keys, field.name).startswith("-"), field.name


def _mq_env(opt_ml: Path, **extra: str) -> dict[str, str]:
    return {
        "MODEL_MONITOR_OPT_ML_ROOT": str(opt_ml),
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification",
        "inference_attribute": "0",
        "probability_attribute": "0",
        "probability_threshold_attribute": "0.5",
        "dataset_source": "/opt/ml/processing/input_data",
        "output_path": "/opt/ml/processing/output",
        "sagemaker_monitoring_schedule_name": "churn-mq",
        "start_time": "2025-02-16T15:00:00Z",
        "end_time": "2025-02-16T16:00:00Z",
        **extra,
    }


def _container_message(env: dict[str, str], opt_ml: Path) -> str:
    assert run_container(env) != 0
    return (opt_ml / "output" / "message").read_text()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({"problem_type": ""}, "problem_type is required: one of BinaryClassification"),
     ({"problem_type": "Ranking"}, "problem_type 'Ranking' is not one of BinaryClassification"),
     ({"probability_attribute": ""}, "probability_threshold_attribute needs probability_attribute to threshold"),
     ({"problem_type": "Regression"}, "probability_threshold_attribute only applies to BinaryClassification"),
     ({"probability_threshold_attribute": "", "inference_attribute": ""},
      "inference_attribute is required, or probability_threshold_attribute to make the predicted label from "
      "probability_attribute"),
     ({"probability_threshold_attribute": "", "inference_attribute": "", "probability_attribute": ""},
      "inference_attribute is required (or a probability attribute and threshold)"),
     ({"ground_truth_lookback": "P1X"}, "ground_truth_lookback 'P1X' is not an ISO-8601 duration")],
)  # fmt: skip
def test_a_model_quality_job_names_the_environment_keys(tmp_path, extra, expected):
    message = _container_message(_mq_env(tmp_path, **extra), tmp_path)
    assert expected in message
    assert "--" not in message


def test_a_model_quality_baseline_job_names_the_ground_truth_key(tmp_path):
    env = _mq_env(tmp_path, sagemaker_monitoring_schedule_name="", dataset_format='{"csv": {"header": true}}')
    message = _container_message(env, tmp_path)
    assert "ground_truth_attribute is required: the column that holds the label" in message
    assert "--" not in message


def test_a_data_quality_file_given_as_model_quality_constraints_says_where_it_goes(tmp_path):
    folder = tmp_path / "processing" / "baseline" / "constraints"
    folder.mkdir(parents=True)
    (folder / "constraints.json").write_text(json.dumps({"dataset": {"item_count": 3}, "features": []}))
    env = _mq_env(tmp_path, baseline_constraints="/opt/ml/processing/baseline/constraints/constraints.json")
    message = _container_message(env, tmp_path)
    assert ("baseline_constraints expects the model-quality constraints (constraints.json), but this file is the "
            "data-quality statistics (statistics.json): pass it with baseline_statistics of an "
            "analysis_type=DATA_QUALITY job") in message
    assert "--" not in message


def test_the_same_mistake_on_the_command_line_names_the_options(tmp_path, capsys):
    statistics = tmp_path / "statistics.json"
    statistics.write_text(json.dumps({"dataset": {"item_count": 3}, "features": []}))
    (tmp_path / "merged").mkdir()
    code = main(["monitor", "--type", "model-quality", "--merged", str(tmp_path / "merged"), "--problem-type", "Regression",
                 "--inference-attribute", "0", "--constraints", str(statistics), "--output", str(tmp_path / "out")])
    assert code == 2
    assert ("--constraints expects the model-quality constraints (constraints.json), but this file is the "
            "data-quality statistics (statistics.json): pass it with --type data-quality --statistics"
            ) in capsys.readouterr().err


def _capture_line(features: str) -> str:
    return json.dumps({"captureData": {"endpointInput": {"data": features, "encoding": "CSV"},
                                       "endpointOutput": {"data": "0.5", "encoding": "CSV"}},
                       "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}, "eventVersion": "0"}) + "\n"


def test_too_many_bad_records_name_the_tolerance_as_each_adapter_spells_it(tmp_path, capsys):
    dataset = tmp_path / "data.csv"
    dataset.write_text("score,age\n0.5,31\n0.7,45\n")
    baseline = tmp_path / "baseline"
    assert main(["baseline", "--dataset", str(dataset), "--output", str(baseline), "--quiet"]) == 0
    capture = tmp_path / "processing" / "input" / "endpoint"
    capture.mkdir(parents=True)
    (capture / "a.jsonl").write_text(_capture_line("30") * 2 + "{not json\n" * 2)
    argv = ["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
            "--constraints", str(baseline / "constraints.json"), "--quiet"]
    assert main([*argv, "--output", str(tmp_path / "cli")]) == 2
    assert "fix the input or raise --max-bad-record-ratio" in capsys.readouterr().err
    message = _container_message({"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "dataset_source": str(capture),
                                  "baseline_statistics": str(baseline / "statistics.json"),
                                  "baseline_constraints": str(baseline / "constraints.json"),
                                  "output_path": str(tmp_path / "processing" / "resultdata")}, tmp_path)
    assert "fix the input or raise max_bad_record_ratio" in message
    assert "--" not in message
