"""The command line: exit codes, one-line errors, empty windows, summaries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from model_monitor_analyzer.cli import main


@pytest.fixture()
def baseline_dir(reference_examples, tmp_path):
    out = tmp_path / "baseline"
    dataset = reference_examples / "sdk-data-quality-check" / "baseline_dataset.csv"
    assert main(["baseline", "--dataset", str(dataset), "--no-header", "--output", str(out), "--quiet"]) == 0
    return out


def _capture(folder, rows, when="2024-01-01T10:00:00Z"):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"captureData": {"endpointInput": {"data": r, "encoding": "CSV"}},
                         "eventMetadata": {"eventId": str(i), "inferenceTime": when}, "eventVersion": "0"})
             for i, r in enumerate(rows)]
    (folder / "part.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _monitor(tmp_path, baseline_dir, capture, *extra):
    return ["monitor", "--capture", str(capture), "--statistics", str(baseline_dir / "statistics.json"),
            "--constraints", str(baseline_dir / "constraints.json"), "--output", str(tmp_path / "out"),
            "--capture-index-names", "endpointInput", *extra]


def test_baseline_prints_a_summary_and_writes_both_files(reference_examples, tmp_path, capsys):
    dataset = reference_examples / "sdk-data-quality-check" / "baseline_dataset.csv"
    assert main(["baseline", "--dataset", str(dataset), "--no-header", "--output", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "features 6, records 100" in out
    assert (tmp_path / "statistics.json").is_file() and (tmp_path / "constraints.json").is_file()


def test_missing_baseline_file_is_one_line_error_with_exit_code_2(tmp_path, baseline_dir, capsys):
    capture = _capture(tmp_path / "cap", ["1.0,0.0,2.0,0.0,0.0,0.0"])
    argv = _monitor(tmp_path, baseline_dir, capture)
    argv[argv.index("--statistics") + 1] = str(tmp_path / "nope.json")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'nope.json'}: baseline statistics not found; pass the path of an existing baseline statistics"]


def test_malformed_constraints_json_names_file_and_line(tmp_path, baseline_dir, capsys):
    broken = tmp_path / "constraints.json"
    broken.write_text('{\n  "features": [\n  oops\n]}')
    argv = _monitor(tmp_path, baseline_dir, _capture(tmp_path / "cap", ["1"]))
    argv[argv.index("--constraints") + 1] = str(broken)
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {broken}:3: ")


def test_mostly_malformed_capture_fails_with_the_first_bad_location(tmp_path, baseline_dir, capsys):
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "x.jsonl").write_text("not json\nstill not\n")
    assert main(_monitor(tmp_path, baseline_dir, capture)) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"error: {capture / 'x.jsonl'}:1: malformed JSON")


def test_empty_window_reports_no_data_and_exits_zero(tmp_path, baseline_dir, capsys):
    capture = _capture(tmp_path / "cap", ["1.0,0.0,2.0,0.0,0.0,0.0"], when="2024-01-01T10:00:00Z")
    code = main(_monitor(tmp_path, baseline_dir, capture, "--start", "2024-02-01T00:00:00Z", "--end", "2024-02-01T01:00:00Z",
                         "--endpoint", "ep", "--schedule", "sched"))
    assert code == 0
    assert "no data" in capsys.readouterr().out
    (metric,) = [json.loads(line) for line in (tmp_path / "out" / "metrics" / "cloudwatch_metrics.jsonl").read_text().splitlines()]
    assert metric["MetricName"] == "monitoring_no_data" and metric["Value"] == 1.0
    assert metric["Timestamp"] == "2024-02-01T00:00:00Z"
    assert metric["Dimensions"] == [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "sched"}]


def test_monitor_writes_reports_and_metric_lines(tmp_path, baseline_dir, capsys):
    capture = _capture(tmp_path / "cap", ["1.0,0.0,2.0,0.0,0.0,0.0", "3.0,1.0,4.0,1.0,0.0,9.0"])
    assert main(_monitor(tmp_path, baseline_dir, capture, "--metric-time", "2024-01-01T10:00:00Z")) == 0
    names = {json.loads(line)["MetricName"] for line in (tmp_path / "out" / "metrics" / "cloudwatch_metrics.jsonl").read_text().splitlines()}
    assert {"feature_data__c0", "feature_non_null__c0", "feature_baseline_drift__c0"} <= names
    for name in ("statistics.json", "constraints.json", "constraint_violations.json"):
        assert (tmp_path / "out" / name).is_file()


def test_bad_window_time_is_a_one_line_error(tmp_path, baseline_dir, capsys):
    assert main(_monitor(tmp_path, baseline_dir, _capture(tmp_path / "cap", ["1"]), "--start", "yesterday")) == 2
    assert capsys.readouterr().err.strip() == "error: --start 'yesterday' is not an ISO 8601 time such as 2024-01-31T13:00:00Z"


def test_python_dash_m_runs_the_cli(reference_examples, tmp_path):
    dataset = reference_examples / "sdk-data-quality-check" / "baseline_dataset.csv"
    done = subprocess.run([sys.executable, "-m", "model_monitor_analyzer", "baseline", "--dataset", str(dataset),
                           "--no-header", "--output", str(tmp_path), "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Completed:" in done.stdout
