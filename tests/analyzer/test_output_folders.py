"""Every monitor type keeps a user's files safe: an earlier run's files are replaced only with
--overwrite, a run leaves none of an earlier run's files behind, and no output lands on an input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.contract.paths import ContainerPaths
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.monitors import bias as bias_unit
from model_monitor_analyzer.monitors.data_quality import environment as dq_environment
from model_monitor_analyzer.monitors.model_quality import environment as mq_environment
from tests.analyzer.test_bias_job import FEATURES, PREDICTED, _monitor_config, _ten_invocations, _write_lines
from tests.analyzer.test_model_quality_jobs import START, _binary_window

WINDOW = ["--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"]
MQ_WINDOW = ["--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", "2024-05-02T11:00:00Z"]


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def _capture(folder: Path, rows: int, when: str = "2024-01-01T10:15:00Z") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"captureData": {"endpointInput": {"data": f"{30 + i % 5},{'xyz'[i % 3]}", "encoding": "CSV"}},
                         "eventMetadata": {"inferenceTime": when}}) for i in range(rows)]
    (folder / "a.jsonl").write_text("\n".join(lines) + ("\n" if lines else ""))
    return folder


@pytest.fixture()
def dq_baseline(tmp_path) -> Path:
    data = tmp_path / "train.csv"
    data.write_text("age,city\n" + "".join(f"{20 + i % 50},{'ab'[i % 2]}\n" for i in range(200)))
    assert main(["baseline", "--dataset", str(data), "--output", str(tmp_path / "baseline"), "--quiet"]) == 0
    return tmp_path / "baseline"


def _dq_monitor(baseline: Path, capture: Path, output: Path, *extra: str) -> int:
    return main(["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(output), "--quiet", *WINDOW,
                 *extra])  # fmt: skip


# ------------------------------------------------------------------ data quality
def test_a_second_baseline_into_the_same_folder_is_refused_and_the_first_is_kept(tmp_path, dq_baseline, capsys):
    before = _digest(dq_baseline)
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(dq_baseline), "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert "holds an earlier run's statistics.json" in line and "--overwrite" in line
    assert _digest(dq_baseline) == before


def test_overwrite_replaces_an_earlier_baseline(tmp_path, dq_baseline):
    (tmp_path / "train.csv").write_text("age,city\n1,a\n2,b\n")
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(dq_baseline), "--quiet",
                 "--overwrite"]) == 0  # fmt: skip
    assert json.loads((dq_baseline / "statistics.json").read_text())["dataset"]["item_count"] == 2


def test_an_earlier_runs_outcome_is_replaced_only_with_overwrite_and_never_left_beside_this_runs_files(
        tmp_path, dq_baseline, capsys):
    """outcome.json (written by the container and the Spark runner; the publisher reads it) is an earlier run's
    file like the reports: a local run refuses it without --overwrite and removes it with it."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "outcome.json").write_text('{"status": "CompletedWithViolations"}')
    capture = _capture(tmp_path / "cap", 50)
    assert _dq_monitor(dq_baseline, capture, out) == 2
    assert "holds an earlier run's outcome.json" in _one_error_line(capsys)
    assert (out / "outcome.json").exists()
    assert _dq_monitor(dq_baseline, capture, out, "--overwrite") == 0
    assert not (out / "outcome.json").exists() and (out / "constraint_violations.json").exists()


def test_a_no_data_run_with_overwrite_leaves_no_earlier_violations_behind(tmp_path, dq_baseline):
    out = tmp_path / "out"
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 50), out) == 0
    assert json.loads((out / "constraint_violations.json").read_text())["violations"]  # 'x', 'y', 'z' are new
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "empty", 0), out, "--overwrite") == 0
    assert not (out / "constraint_violations.json").exists() and not (out / "statistics.json").exists()
    assert "No records in the monitoring window" in (out / "report.html").read_text()


def test_a_no_data_run_without_overwrite_is_refused_rather_than_leaving_stale_violations(tmp_path, dq_baseline, capsys):
    out = tmp_path / "out"
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 50), out) == 0
    before = _digest(out)
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "empty", 0), out) == 2
    assert "holds an earlier run's" in _one_error_line(capsys)
    assert _digest(out) == before


def test_other_files_in_the_output_folder_are_never_touched(tmp_path, dq_baseline):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 50), out) == 0
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 50), out, "--overwrite") == 0
    assert (out / "notes.txt").read_text() == "mine"


def test_a_metrics_dir_that_is_a_file_is_one_line(tmp_path, dq_baseline, capsys):
    (tmp_path / "m").write_text("a file")
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 5), tmp_path / "out", "--metrics-dir", str(tmp_path / "m")) == 2
    assert "is a file, not a folder" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_an_output_folder_inside_the_capture_folder_is_refused(tmp_path, dq_baseline, capsys):
    capture = _capture(tmp_path / "cap", 5)
    assert _dq_monitor(dq_baseline, capture, capture / "out") == 2
    assert "lies inside the input folder" in _one_error_line(capsys)


# ------------------------------------------------------------------ model quality
def _mq_monitor(tmp_path: Path, output: Path, *extra: str) -> int:
    return main(["monitor", "--type", "model-quality", "--capture", str(tmp_path / "capture"),
                 "--ground-truth", str(tmp_path / "groundtruth"), "--output", str(output),
                 "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
                 "--probability-threshold", "0.5", "--ground-truth-lookback", "PT2H", "--quiet", *MQ_WINDOW,
                 *extra])  # fmt: skip


def _merged_lines(folder: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in folder.glob("part-*.jsonl"))


def test_model_quality_merged_records_do_not_pile_up_across_runs(tmp_path):
    _binary_window(tmp_path, n=100)
    out = tmp_path / "out"
    assert _mq_monitor(tmp_path, out) == 0
    assert _mq_monitor(tmp_path, out, "--overwrite") == 0
    assert _merged_lines(out / "merge") == 100
    merged_again = tmp_path / "merged-run"
    assert main(["monitor", "--type", "model-quality", "--merged", str(out / "merge"), "--output", str(merged_again),
                 "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
                 "--probability-threshold", "0.5", "--quiet"]) == 0  # fmt: skip
    assert json.loads((merged_again / "statistics.json").read_text())["dataset"]["item_count"] == 100


def test_a_named_merged_output_loses_only_the_earlier_runs_part_files(tmp_path):
    _binary_window(tmp_path, n=50)
    named = tmp_path / "merged"
    named.mkdir()
    (named / "keep.txt").write_text("mine")
    assert _mq_monitor(tmp_path, tmp_path / "out", "--merged-output", str(named)) == 0
    assert _mq_monitor(tmp_path, tmp_path / "out", "--merged-output", str(named), "--overwrite") == 0
    assert _merged_lines(named) == 50 and (named / "keep.txt").read_text() == "mine"


def test_model_quality_output_into_the_baseline_folder_is_refused_and_the_constraints_kept(tmp_path, capsys):
    _binary_window(tmp_path, n=50)
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    constraints = baseline / "constraints.json"
    constraints.write_text(json.dumps({"version": 0.0, "binary_classification_constraints": {
        "accuracy": {"threshold": 0.99, "comparison_operator": "LessThanThreshold"}}}))
    before = constraints.read_bytes()
    assert _mq_monitor(tmp_path, baseline, "--constraints", str(constraints)) == 2
    assert "would overwrite the input" in _one_error_line(capsys)
    assert constraints.read_bytes() == before


def test_a_failed_model_quality_run_leaves_no_merged_records(tmp_path, capsys):
    _binary_window(tmp_path, n=20)
    capture_file = next((tmp_path / "capture").rglob("*.jsonl"))
    capture_file.write_text("garbage\n" * 30 + capture_file.read_text())
    assert _mq_monitor(tmp_path, tmp_path / "out") == 2
    assert "malformed" in _one_error_line(capsys)
    assert not (tmp_path / "out" / "merge").exists()


@pytest.mark.parametrize("monitor_type", ["model-quality", "bias"])
def test_a_window_ending_before_it_starts_is_refused_for_every_type(tmp_path, capsys, monitor_type):
    argv = ["monitor", "--type", monitor_type, "--capture", str(tmp_path / "c"), "--ground-truth", str(tmp_path / "g"),
            "--output", str(tmp_path / "out"), "--start", "2024-01-02T00:00:00Z", "--end", "2024-01-01T00:00:00Z",
            "--quiet"]  # fmt: skip
    if monitor_type == "bias":
        argv += ["--analysis-config", str(tmp_path / "config.json")]
    else:
        argv += ["--problem-type", "BinaryClassification", "--inference-attribute", "0"]
    assert main(argv) == 2
    assert "give a start earlier than the end" in _one_error_line(capsys)


@pytest.mark.parametrize("monitor_type", ["model-quality", "bias"])
def test_a_start_that_is_no_time_is_one_line_for_every_type(tmp_path, capsys, monitor_type):
    argv = ["monitor", "--type", monitor_type, "--capture", str(tmp_path / "c"), "--ground-truth", str(tmp_path / "g"),
            "--output", str(tmp_path / "out"), "--start", "yesterday", "--quiet"]
    argv += (["--analysis-config", str(tmp_path / "c.json")] if monitor_type == "bias"
             else ["--problem-type", "BinaryClassification", "--inference-attribute", "0"])
    assert main(argv) == 2
    assert "--start 'yesterday' is not an ISO 8601 time" in _one_error_line(capsys)


# ------------------------------------------------------------------ bias
def _bias_monitor(reference_examples, tmp_path: Path, output: Path, *extra: str) -> int:
    merged = _write_lines(tmp_path / "merged" / "part.jsonl", _ten_invocations(reference_examples))
    return main(["monitor", "--type", "bias", "--analysis-config", str(_monitor_config(reference_examples, tmp_path)),
                 "--merged", str(merged.parent), "--features-attribute", FEATURES, "--inference-attribute", PREDICTED,
                 "--output", str(output), "--quiet", *extra])  # fmt: skip


def test_a_second_bias_run_into_the_same_folder_needs_overwrite(reference_examples, tmp_path, capsys):
    out = tmp_path / "out"
    assert _bias_monitor(reference_examples, tmp_path, out) == 0
    capsys.readouterr()
    assert _bias_monitor(reference_examples, tmp_path, out) == 2
    assert "holds an earlier run's analysis.json" in _one_error_line(capsys)
    assert _bias_monitor(reference_examples, tmp_path, out, "--overwrite") == 0


def test_bias_output_onto_its_baseline_is_refused_and_the_baseline_kept(reference_examples, tmp_path, capsys):
    out = tmp_path / "out"
    assert _bias_monitor(reference_examples, tmp_path, out) == 0
    capsys.readouterr()
    baseline = out / "analysis.json"
    before = baseline.read_bytes()
    assert _bias_monitor(reference_examples, tmp_path, out, "--baseline", str(baseline), "--overwrite") == 2
    assert "would overwrite the input" in _one_error_line(capsys)
    assert baseline.read_bytes() == before


# ------------------------------------------------------------------ the container's environment
@pytest.mark.parametrize(
    ("contract", "env", "message"),
    [(dq_environment.monitor_request_from_environment, {"baseline_statistics": "/s", "baseline_constraints": "/c",
                                    "max_bad_record_ratio": "nan"}, "max_bad_record_ratio nan: give a number from 0 to 1"),
     (dq_environment.monitor_request_from_environment, {"baseline_statistics": "/s", "baseline_constraints": "/c",
                                    "max_bad_record_ratio": "lots"}, "max_bad_record_ratio 'lots' is not a number"),
     (dq_environment.monitor_request_from_environment, {"baseline_statistics": "/s", "baseline_constraints": "/c",
                                    "start_time": "2024-01-02T00:00:00Z", "end_time": "2024-01-01T00:00:00Z"},
      "start_time 2024-01-02T00:00:00Z is not before end_time"),
     (mq_environment.monitor_request_from_environment, {"analysis_type": "MODEL_QUALITY", "baseline_constraints": "/c",
                                                         "problem_type": "BinaryClassification",
                                                         "probability_threshold_attribute": "1.5"},
      "probability_threshold_attribute 1.5: give a number from 0 to 1"),
     (mq_environment.monitor_request_from_environment, {"baseline_constraints": "/c", "start_time": "soon",
                                                         "problem_type": "Regression", "inference_attribute": "0"},
      "start_time 'soon' is not an ISO 8601 time"),
     (bias_unit.monitor_request_from_environment, {"baseline_constraints": "/c", "bias_drift_tolerance": "-0.1"},
      "bias_drift_tolerance -0.1: give a finite number of at least 0"),
     (bias_unit.monitor_request_from_environment, {"baseline_constraints": "/c", "bias_drift_tolerance": "inf"},
      "bias_drift_tolerance inf: give a finite number of at least 0")],
)  # fmt: skip
def test_the_container_names_the_environment_key_of_a_wrong_value(tmp_path, contract, env, message):
    with pytest.raises(AnalyzerInputError) as error:
        if contract in (dq_environment.monitor_request_from_environment, mq_environment.monitor_request_from_environment,
                        bias_unit.monitor_request_from_environment):
            contract(env, ContainerPaths(root=tmp_path))
        else:
            contract({"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), **env})
    assert message in error.value.describe()


def test_a_model_quality_job_without_a_problem_type_names_the_environment_key(tmp_path):
    from model_monitor_analyzer.contract.entrypoint import run_container

    (tmp_path / "processing" / "input" / "baseline_dataset_input").mkdir(parents=True)
    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "analysis_type": "MODEL_QUALITY",
                          "dataset_format": json.dumps({"csv": {"header": True}})})
    assert code != 0
    assert (tmp_path / "output" / "message").read_text().startswith("Error: problem_type is required: one of ")


def test_a_header_without_a_name_in_the_container_says_how_to_read_a_file_without_one(tmp_path):
    from model_monitor_analyzer.contract.entrypoint import run_container

    data = tmp_path / "processing" / "input" / "baseline_dataset_input"
    data.mkdir(parents=True)
    (data / "train.csv").write_text(",x\n0,1\n1,2\n")  # pandas' index, written without index=False
    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "dataset_source": str(data),
                          "output_path": str(tmp_path / "processing" / "output"),
                          "dataset_format": json.dumps({"csv": {"header": True}})})
    assert code != 0
    message = (tmp_path / "output" / "message").read_text()
    assert "the header has no name for column 1" in message
    assert 'dataset_format {"csv": {"header": false}} in a processing job' in message


def test_a_folder_where_the_run_writes_a_file_is_refused_and_kept_even_with_overwrite(tmp_path, capsys):
    (tmp_path / "train.csv").write_text("x\n1\n2\n")
    out = tmp_path / "out"
    (out / "statistics.json").mkdir(parents=True)
    (out / "statistics.json" / "important.txt").write_text("mine")
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(out), "--quiet",
                 "--overwrite"]) == 2  # fmt: skip
    assert "is a folder where the run writes its statistics.json" in _one_error_line(capsys)
    assert (out / "statistics.json" / "important.txt").read_text() == "mine"


def test_a_model_quality_run_failing_after_the_merge_keeps_the_earlier_results(tmp_path, capsys):
    _binary_window(tmp_path, n=60)
    out = tmp_path / "out"
    assert _mq_monitor(tmp_path, out) == 0
    before = _digest(out)
    capsys.readouterr()
    assert _mq_monitor(tmp_path, out, "--overwrite", "--positive-label", "7") == 2
    line = _one_error_line(capsys)
    assert "positive label" in line
    # the earlier files are kept (nothing is lost) and the error says they are not this run's
    assert f"{out} still holds" in line and "of an earlier run, not of this one" in line
    assert _digest(out) == before  # nothing replaced, no new merged records
    assert not [p for p in (out / "merge").iterdir() if p.name.startswith(".")]


def test_a_metrics_dir_inside_the_capture_folder_is_refused(tmp_path, dq_baseline, capsys):
    capture = _capture(tmp_path / "cap", 5)
    assert _dq_monitor(dq_baseline, capture, tmp_path / "out", "--metrics-dir", str(capture / "metrics")) == 2
    assert "lies inside the input folder" in _one_error_line(capsys)
    assert not (capture / "metrics").exists()


def test_a_relative_metrics_dir_that_is_a_file_is_named(tmp_path, dq_baseline, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m").write_text("a file")
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 5), tmp_path / "out", "--metrics-dir", "m") == 2
    assert "m is a file, not a folder" in _one_error_line(capsys)


def test_a_bad_lookback_in_the_container_names_its_key(tmp_path):
    from model_monitor_analyzer.contract.entrypoint import run_container

    capture = _capture(tmp_path / "processing" / "input" / "endpoint", 5)
    (tmp_path / "constraints.json").write_text(json.dumps({"version": 0.0, "binary_classification_constraints": {
        "accuracy": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"}}}))
    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "analysis_type": "MODEL_QUALITY",
                          "dataset_source": str(capture), "ground_truth_source": str(tmp_path / "labels"),
                          "problem_type": "BinaryClassification", "inference_attribute": "0",
                          "ground_truth_attribute": "0", "ground_truth_lookback": "P1X",
                          "baseline_constraints": str(tmp_path / "constraints.json"),
                          "output_path": str(tmp_path / "processing" / "resultdata")})  # fmt: skip
    assert code != 0
    message = (tmp_path / "output" / "message").read_text()
    assert "ground_truth_lookback 'P1X' is not an ISO-8601 duration" in message and "--" not in message


def test_a_swapped_baseline_in_the_container_says_which_key_takes_it(tmp_path, dq_baseline):
    from model_monitor_analyzer.contract.entrypoint import run_container

    capture = _capture(tmp_path / "processing" / "input" / "endpoint", 5)
    code = run_container({"MODEL_MONITOR_OPT_ML_ROOT": str(tmp_path), "dataset_source": str(capture),
                          "baseline_statistics": str(dq_baseline / "constraints.json"),
                          "baseline_constraints": str(dq_baseline / "statistics.json"),
                          "output_path": str(tmp_path / "processing" / "resultdata")})  # fmt: skip
    assert code != 0
    message = (tmp_path / "output" / "message").read_text()
    assert "baseline_constraints expects the data-quality constraints" in message
    assert "pass it with baseline_statistics of an analysis_type=DATA_QUALITY job" in message and "--" not in message


def test_a_bias_metric_time_that_is_no_time_fails_before_anything_is_written(reference_examples, tmp_path, capsys):
    assert _bias_monitor(reference_examples, tmp_path, tmp_path / "out", "--metric-time", "noon") == 2
    assert "metric time 'noon' is not an ISO 8601 time" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_metric_lines_of_an_early_year_keep_four_year_digits(tmp_path):
    _binary_window(tmp_path, n=30)
    assert _mq_monitor(tmp_path, tmp_path / "out", "--metric-time", "0001-01-01T00:00:00Z") == 0
    lines = [json.loads(line) for line in (tmp_path / "out" / "metrics" / "model_quality_metrics.jsonl").open()]
    assert {line["Timestamp"] for line in lines} == {"0001-01-01T00:00:00Z"}


@pytest.mark.parametrize("name", ["analysis.json", "report.html", "statistics.json"])
def test_the_history_page_never_replaces_a_windows_result(tmp_path, dq_baseline, capsys, name):
    out = tmp_path / "reports" / "2024" / "01" / "01" / "10"
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 20), out) == 0
    target = out / name
    before = target.read_bytes() if target.exists() else None
    capsys.readouterr()
    assert main(["report", "--reports", str(tmp_path / "reports"), "--output", str(target)]) == 2
    assert "is a window's result or a folder" in _one_error_line(capsys)
    assert (target.read_bytes() if target.exists() else None) == before


def test_the_history_page_replaces_only_an_earlier_history_page(tmp_path, dq_baseline, capsys):
    out = tmp_path / "reports" / "2024" / "01" / "01" / "10"
    assert _dq_monitor(dq_baseline, _capture(tmp_path / "cap", 20), out) == 0
    dataset = tmp_path / "base.csv"
    dataset.write_text("a,b\n1,2\n")
    capsys.readouterr()
    assert main(["report", "--reports", str(tmp_path / "reports"), "--output", str(dataset)]) == 2
    assert "exists and is not a history page" in _one_error_line(capsys)
    assert dataset.read_text() == "a,b\n1,2\n"
    page = tmp_path / "history.html"
    assert main(["report", "--reports", str(tmp_path / "reports"), "--output", str(page)]) == 0
    assert main(["report", "--reports", str(tmp_path / "reports"), "--output", str(page)]) == 0  # its own page


def test_an_empty_merged_window_says_it_has_no_merged_record(tmp_path, capsys):
    (tmp_path / "merged").mkdir()
    assert main(["monitor", "--type", "model-quality", "--merged", str(tmp_path / "merged"), "--output",
                 str(tmp_path / "out"), "--problem-type", "Regression", "--inference-attribute", "0", "--quiet"]) == 0
    assert "no merged record in the window" in capsys.readouterr().out


def test_a_history_of_a_folder_without_windows_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", "--reports", str(tmp_path / "empty"), "--output", str(tmp_path / "history.html")]) == 2
    assert "holds no monitoring window" in _one_error_line(capsys)
    assert not (tmp_path / "history.html").exists()


def test_an_earlier_merged_output_outside_the_output_folder_is_named_as_itself(tmp_path, capsys, monkeypatch):
    _binary_window(tmp_path, n=30)
    monkeypatch.chdir(tmp_path)
    assert _mq_monitor(tmp_path, Path("first"), "--merged-output", "merged") == 0
    capsys.readouterr()
    assert _mq_monitor(tmp_path, Path("second"), "--merged-output", "merged") == 2
    line = _one_error_line(capsys)
    assert line.startswith("error: an earlier run's ") and "merged/part-00000-" in line and "--output" not in line
    assert _mq_monitor(tmp_path, Path("first"), "--merged-output", "merged") == 2
    assert "--output first holds an earlier run's" in _one_error_line(capsys)
