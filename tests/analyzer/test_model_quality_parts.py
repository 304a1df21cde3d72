"""A model-quality window large enough is joined in parts, one process each (its captures cut into runs of files and
byte ranges): the metrics, the join's counts, the bad records and the merged records are those of one process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.jobs import parallel
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from tests.analyzer.test_model_quality_jobs import _binary_monitor, _binary_window


def _merged_lines(out: Path) -> list[bytes]:
    """The merged records in part order (``part-00000-...``, ``part-00001-...``), as a reader takes them."""
    return [line for path in sorted((out / "merge").glob("part-*.jsonl")) for line in path.read_bytes().splitlines()]


def _window_with_trouble(root: Path) -> None:
    _binary_window(root, n=2_000)
    capture = next((root / "capture").rglob("*.jsonl"))
    lines = capture.read_bytes().splitlines()
    lines[700] = b"{not json"
    lines.insert(1_500, lines[1_499])  # a capture sharing its id with the one before
    capture.write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("workers", [2, 3])
def test_a_window_joined_in_parts_gives_what_one_process_gives(tmp_path, monkeypatch, workers):
    _window_with_trouble(tmp_path)
    one = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--workers", "1",
                                          "--max-bad-record-ratio", "0.5"))
    assert one.files and all(Path(path).is_relative_to(tmp_path / "out") for path in one.files)  # written, not read
    whole = tmp_path / "whole"
    (tmp_path / "out").rename(whole)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    several = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--workers", str(workers),
                                              "--max-bad-record-ratio", "0.5"))
    assert one.status is several.status is RunStatus.COMPLETED
    assert all(Path(path).is_relative_to(tmp_path / "out") for path in several.files)
    assert one.summary == several.summary
    assert several.summary["malformed_captures"] == 1 and several.summary["captures_sharing_an_id"] == 1
    parted = tmp_path / "out"
    assert len(list((parted / "merge").glob("part-*.jsonl"))) == workers
    assert _merged_lines(parted) == _merged_lines(whole)
    for name in ("statistics.json", "constraints.json"):
        mine, theirs = json.loads((parted / name).read_text()), json.loads((whole / name).read_text())
        for document in (mine, theirs):  # the time of the run aside
            for part in (document, document.get("dataset", {}), document.get("binary_classification_metrics", {})):
                part.pop("evaluation_time", None)
        assert mine == theirs


def test_a_part_that_fails_leaves_no_merged_records_behind(tmp_path, monkeypatch):
    _window_with_trouble(tmp_path)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    from model_monitor_analyzer.errors import AnalyzerInputError

    with pytest.raises(AnalyzerInputError, match="capture records are malformed"):
        job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--workers", "2",
                                        "--max-bad-record-ratio", "0.0001"))
    assert not list((tmp_path / "out").rglob("part-*")) and not list((tmp_path / "out").rglob(".part-*"))


def _labels_in_several_files(root: Path) -> Path:
    """The window's labels cut into five files of its hour, with a bad line, a label of an id sent again in a later
    file (the later one counts), a label no capture has, and a file uploaded the hour after the window."""
    _binary_window(root, n=2_000)
    label_file = next((root / "groundtruth").rglob("*.jsonl"))
    lines = label_file.read_bytes().splitlines()
    resent = json.loads(lines[100])
    resent["groundTruthData"]["data"] = "0" if resent["groundTruthData"]["data"] == "1" else "1"
    lines[900] = b'{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {}}'  # no eventId
    lines.append(json.dumps(resent).encode())
    lines.append(json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"},
                             "eventMetadata": {"eventId": "never-captured"}, "eventVersion": "0"}).encode())
    label_file.unlink()
    step = len(lines) // 5 + 1
    for index in range(5):
        (label_file.parent / f"labels-{index}.jsonl").write_bytes(b"\n".join(lines[index * step:(index + 1) * step]) + b"\n")
    later = label_file.parent.parent / f"{int(label_file.parent.name) + 1:02d}"
    later.mkdir()
    (later / "late.jsonl").write_bytes(lines[0] + b"\n")  # uploaded after the window: not read
    return label_file.parent


@pytest.mark.parametrize("workers", [2, 3])
def test_labels_read_in_parts_give_what_one_process_gives(tmp_path, monkeypatch, workers):
    _labels_in_several_files(tmp_path)
    options = ("--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.5")
    one = job.run_monitor(_binary_monitor(tmp_path, *options, "--workers", "1"))
    whole = tmp_path / "whole"
    (tmp_path / "out").rename(whole)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    from model_monitor_analyzer.monitors.model_quality import run

    read_in = []
    real = run.read_label_files
    monkeypatch.setattr(run, "read_label_files",
                        lambda files, **options: read_in.append(len(files)) or real(files, **options))
    several = job.run_monitor(_binary_monitor(tmp_path, *options, "--workers", str(workers)))
    assert len(read_in) == workers and sum(read_in) == 5  # the five label files, in as many runs as parts
    assert one.status is several.status is RunStatus.COMPLETED
    assert one.summary == several.summary
    assert several.summary["malformed_labels"] == 1 and several.summary["duplicate_labels"] == 1
    assert several.summary["labels_without_capture"] == 1
    assert _merged_lines(tmp_path / "out") == _merged_lines(whole)
    resent = [json.loads(line) for line in _merged_lines(whole)][100]
    assert resent["groundTruthData"]["data"] == json.loads(
        next(tmp_path.rglob("labels-4.jsonl")).read_bytes().splitlines()[-2])["groundTruthData"]["data"]
    for name in ("statistics.json", "constraints.json"):
        mine, theirs = json.loads((tmp_path / "out" / name).read_text()), json.loads((whole / name).read_text())
        for document in (mine, theirs):
            document.get("dataset", {}).pop("evaluation_time", None)
        assert mine == theirs


def test_bad_labels_read_in_parts_are_named_by_file_and_line_as_in_one_process(tmp_path, monkeypatch):
    from model_monitor_analyzer.errors import AnalyzerInputError

    folder = _labels_in_several_files(tmp_path)
    for name, at in (("labels-4.jsonl", 3), ("labels-2.jsonl", 5), ("labels-2.jsonl", 17)):  # a part each
        lines = (folder / name).read_bytes().splitlines()
        lines[at] = b"{not json"
        (folder / name).write_bytes(b"\n".join(lines) + b"\n")
    options = ("--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.001")
    with pytest.raises(AnalyzerInputError) as one:
        job.run_monitor(_binary_monitor(tmp_path, *options, "--workers", "1"))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
    with pytest.raises(AnalyzerInputError) as several:
        job.run_monitor(_binary_monitor(tmp_path, *options, "--workers", "3"))
    assert str(several.value) == str(one.value)
    # the first bad line in upload order, then path, then line
    assert str(one.value).startswith(f"{folder / 'labels-2.jsonl'}:6: not a JSON ground-truth record")
    assert "4 of 2002 ground-truth labels are malformed" in str(one.value)


def _set_output(root: Path, changes: dict[int, str]) -> None:
    """Give the captures at these line numbers (of the one capture file) another output payload."""
    capture = next((root / "capture").rglob("*.jsonl"))
    lines = capture.read_bytes().splitlines()
    for at, data in changes.items():
        record = json.loads(lines[at])
        record["captureData"]["endpointOutput"]["data"] = data
        lines[at] = json.dumps(record).encode()
    capture.write_bytes(b"\n".join(lines) + b"\n")


def _set_label(root: Path, changes: dict[int, str]) -> None:
    label_file = next((root / "groundtruth").rglob("*.jsonl"))
    lines = label_file.read_bytes().splitlines()
    for at, data in changes.items():
        record = json.loads(lines[at])
        record["groundTruthData"]["data"] = data
        lines[at] = json.dumps(record).encode()
    label_file.write_bytes(b"\n".join(lines) + b"\n")


def _one_and_parted(tmp_path: Path, monkeypatch, workers: int):
    """(outcome, error text) of the window read by one process, then by ``workers`` parts."""
    results = []
    for count in (1, workers):
        if count > 1:
            monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
            monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        try:
            outcome = job.run_monitor(_binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--workers",
                                                      str(count)))
            results.append((outcome.status, outcome.summary, (tmp_path / "out" / "statistics.json").read_text()
                            .split('"evaluation_time"')[0] + (tmp_path / "out" / "statistics.json").read_text()
                            .split('"evaluation_time"')[1].split("\n", 1)[1], None))
        except AnalyzerInputError as error:
            results.append((None, None, None, str(error)))
    return results


@pytest.mark.parametrize("workers", [2, 3])
def test_metric_states_made_in_parts_are_the_window_state(tmp_path, monkeypatch, workers):
    # rows without a value and values that are not finite numbers, in the first part and in the last
    _binary_window(tmp_path, n=2_000)
    _set_output(tmp_path, {3: ",1\n", 40: "inf", 1_200: "nan\n", 1_990: " ,0\n", 1_999: "-inf"})
    from model_monitor_analyzer.monitors.model_quality import run

    merged = []
    real = run._merged_measures
    monkeypatch.setattr(run, "_merged_measures", lambda measures: merged.append(len(measures)) or real(measures))
    one, parted = _one_and_parted(tmp_path, monkeypatch, workers)
    assert merged == [1, workers]  # each part's state made where it was read
    assert one == parted
    status, summary, _, error = parted
    assert error is None and status is RunStatus.COMPLETED
    assert summary["rows_without_values"] == 2 and summary["non_finite_values"] == 3
    assert summary["item_count"] == 1_995


def test_a_part_whose_rows_are_all_left_out_merges_with_the_others(tmp_path, monkeypatch):
    _binary_window(tmp_path, n=2_000)
    _set_output(tmp_path, {at: "inf" for at in range(1_000, 2_000)})  # the second part: nothing finite
    one, parted = _one_and_parted(tmp_path, monkeypatch, 2)
    assert one == parted and parted[1]["non_finite_values"] == 1_000 and parted[1]["item_count"] == 1_000


def test_refused_values_in_several_parts_are_reported_as_one_process_reports_them(tmp_path, monkeypatch):
    # a label that is not 0 or 1 early, a probability that is not a number late: one process names the window's
    # first refused column, whichever part holds it
    _binary_window(tmp_path, n=2_000)
    _set_label(tmp_path, {10: "maybe"})
    _set_output(tmp_path, {1_900: "high\n"})
    one, parted = _one_and_parted(tmp_path, monkeypatch, 2)
    assert one == parted and parted[3] is not None


@pytest.mark.parametrize("problem_type", ["Regression", "MulticlassClassification"])
def test_regression_and_multiclass_states_made_in_parts_are_the_window_state(tmp_path, monkeypatch, problem_type):
    # a regression's sums are Spark's left-to-right float sums and a multiclass part sees only some classes: the
    # parts' merged states give the very statistics of one pass
    from datetime import timedelta

    import numpy as np

    from tests.analyzer.test_model_quality_jobs import START, _monitor_args, _regression_window

    rng = np.random.default_rng(5)
    if problem_type == "Regression":
        truth = rng.normal(10.0, 3.0, 3_000)
        labels = [repr(float(v)) for v in truth]
        predictions = [repr(float(v)) for v in truth + rng.normal(0.0, 1.0, truth.size)]
        predictions[17], predictions[2_900] = "inf", "nan"  # left out in the first part and in the last
    else:
        classes = np.array(["cat", "dog", "eel", "fox"])
        labels = classes[rng.integers(0, 3, 3_000)].tolist()  # "fox" never a label, predicted late only
        predictions = [label if rng.random() < 0.7 else classes[rng.integers(0, 3)] for label in labels]
        predictions[2_990] = "fox"
    _regression_window(tmp_path, predictions, labels)
    from model_monitor_analyzer.monitors.model_quality import run

    merged = []
    real = run._merged_measures
    monkeypatch.setattr(run, "_merged_measures", lambda measures: merged.append(len(measures)) or real(measures))
    outcomes, documents = [], []
    for workers in ("1", "2"):
        if workers == "2":
            monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
            monkeypatch.setattr(parallel, "BYTES_PER_WORKER", 1)
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        outcomes.append(job.run_monitor(_monitor_args(
            "--capture", str(tmp_path / "capture"), "--ground-truth", str(tmp_path / "groundtruth"),
            "--output", str(tmp_path / "out"), "--problem-type", problem_type, "--inference-attribute", "0",
            "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "--workers", workers)))
        document = json.loads((tmp_path / "out" / "statistics.json").read_text())
        document["dataset"].pop("evaluation_time")
        documents.append(document)
    assert merged == [1, 2]
    assert outcomes[0].status is outcomes[1].status is RunStatus.COMPLETED
    assert outcomes[0].summary == outcomes[1].summary
    assert documents[0] == documents[1]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_binary_window_is_measured_without_importing_pandas(tmp_path, workers):
    """A binary window of one-row CSV outputs and labels converts no Python value to Arrow on its column paths
    (labels, join, merged records, values, metrics, reports), so pyarrow never imports pandas (a quarter CPU second
    in each process where it is installed), in one process or in parts."""
    import subprocess
    import sys

    _binary_window(tmp_path, n=2_000)
    request = _binary_monitor(tmp_path, "--ground-truth-lookback", "PT2H", "--workers", str(workers))
    marker = tmp_path / "pandas-imported"
    args = ["monitor", "--type", "model-quality", "--capture", str(request.capture), "--ground-truth",
            str(request.ground_truth), "--output", str(tmp_path / "out"), "--problem-type", "BinaryClassification",
            "--inference-attribute", "0", "--probability-attribute", "0", "--probability-threshold", "0.5",
            "--start", request.window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--end", request.window.end.strftime("%Y-%m-%dT%H:%M:%SZ"), "--ground-truth-lookback", "PT2H",
            "--workers", str(workers), "--quiet"]
    script = ("import os, sys\n"
              "class Watch:\n"  # any process that looks for pandas (the parts are forked with it) leaves its mark
              "    def find_spec(self, name, path=None, target=None):\n"
              f"        if name == 'pandas': open({str(marker)!r}, 'a').write(str(os.getpid()))\n"
              "sys.meta_path.insert(0, Watch())\n"
              "from model_monitor_analyzer.jobs import parallel\n"
              "parallel.PARALLEL_MIN_BYTES, parallel.BYTES_PER_WORKER = 0, 1\n"
              "from model_monitor_analyzer.cli import main\n"
              f"sys.exit(main({args!r}))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert len(list((tmp_path / "out" / "merge").glob("part-*.jsonl"))) == workers
    assert json.loads((tmp_path / "out" / "statistics.json").read_text())["dataset"]["item_count"] == 2_000
    assert not marker.exists()
