"""The Spark runner's model-quality monitor measures each split where it is read: the splits send back their metric
states (``metrics.part_state``), not their matched columns, and the driver merges them in capture order, so every
output is the local engine's at any partitioning: statistics.json, constraints.json, constraint_violations.json,
the metric lines, the run's summary and the merged records. Where a check needs the window's rows (the label-free
estimate) or a split's values are refused, the outputs and the error are those of the local engine too.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from model_monitor_analyzer import cli
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from model_monitor_analyzer.monitors.model_quality import run
from model_monitor_analyzer.monitors.model_quality.estimation import ESTIMATION_KEY
from model_monitor_analyzer.report.model_quality import METRICS_FILE
from tests.analyzer.spark.test_spark_model_quality import _merged_lines
from tests.analyzer.test_model_quality_estimation import _baseline, _labelled_window, _true_probabilities
from tests.analyzer.test_model_quality_jobs import START, _binary_window, _monitor_args, _regression_window
from tests.analyzer.test_model_quality_parts import _set_label, _set_output

HOUR = ["--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]


def _without_times(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_times(item) for key, item in value.items() if key != "evaluation_time"}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    return value


def _outputs(folder: Path) -> dict[str, object]:
    """Everything a run writes, the time of the run aside."""
    found: dict[str, object] = {name: _without_times(json.loads((folder / name).read_text()))
                                for name in ("statistics.json", "constraints.json", "constraint_violations.json")}
    found["metrics"] = (folder / "metrics" / METRICS_FILE).read_text()
    found["merged"] = _merged_lines(folder / "merge")
    return found


def _argv(argv: list[str], output: Path, *extra: str) -> list[str]:
    return [*argv, "--output", str(output), "--metrics-dir", str(output / "metrics"), "--quiet", *extra]


def _run(argv: list[str], output: Path, *extra: str) -> int:
    return cli.main(["monitor", "--type", "model-quality", *_argv(argv, output, *extra)])


def _local(argv: list[str], output: Path) -> dict[str, object]:
    """The local engine's run in one process: its outcome's summary (the files are in ``output``)."""
    outcome = job.run_monitor(_monitor_args(*_argv(argv, output, "--workers", "1")))
    assert outcome.status in (RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_VIOLATIONS), outcome.message
    return outcome.summary


def _spark_summary(output: Path) -> dict[str, object]:
    return json.loads((output / "outcome.json").read_text())["summary"]


def _binary(root: Path) -> list[str]:
    """A window of 3,000 captures, with rows without a value and values that are not finite numbers, early and late."""
    _binary_window(root, n=3_000)
    _set_output(root, {3: ",1\n", 40: "inf", 1_200: "nan\n", 2_990: " ,0\n", 2_999: "-inf"})
    return ["--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"),
            "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
            "--probability-threshold", "0.5", "--ground-truth-lookback", "PT2H",
            "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--end", (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]


def _regression(root: Path) -> list[str]:
    rng = np.random.default_rng(5)
    truth = rng.normal(10.0, 3.0, 3_000)
    predictions = [repr(float(v)) for v in truth + rng.normal(0.0, 1.0, truth.size)]
    predictions[17], predictions[2_900] = "inf", "nan"
    _regression_window(root, predictions, [repr(float(v)) for v in truth])
    return ["--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"),
            "--problem-type", "Regression", "--inference-attribute", "0", *HOUR]


def _multiclass(root: Path) -> list[str]:
    rng = np.random.default_rng(6)
    classes = np.array(["cat", "dog", "eel", "fox"])
    labels = classes[rng.integers(0, 3, 3_000)].tolist()  # "fox" never a label, predicted late only
    predictions = [label if rng.random() < 0.7 else str(classes[rng.integers(0, 3)]) for label in labels]
    predictions[2_990] = "fox"
    _regression_window(root, predictions, labels)
    return ["--capture", str(root / "capture"), "--ground-truth", str(root / "groundtruth"),
            "--problem-type", "MulticlassClassification", "--inference-attribute", "0", *HOUR]


WINDOWS = {"binary": _binary, "regression": _regression, "multiclass": _multiclass}


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory):
    """Each window, its constraints (the local engine's suggestion for it) and the local engine's run of it."""
    runs = {}
    for kind, window in WINDOWS.items():
        root = tmp_path_factory.mktemp(f"mq-{kind}")
        argv = window(root)
        assert _run(argv, root / "suggested", "--workers", "1") == 0
        argv = [*argv, "--constraints", str(root / "suggested" / "constraints.json")]
        summary = _local(argv, root / "local")
        runs[kind] = (argv, _outputs(root / "local"), summary)
    return runs


# whole files (one split) are test_spark_model_quality's; here a few splits and many
@pytest.mark.parametrize(("kind", "split_bytes"), [("binary", 256 << 10), ("binary", 24 << 10),
                                                   ("regression", 24 << 10), ("multiclass", 40 << 10)])
def test_splits_measured_on_the_executors_give_the_local_engines_outputs(spark, split_files, local_runs, kind,
                                                                         split_bytes, tmp_path, monkeypatch):
    argv, local, summary = local_runs[kind]
    merged = _counting_merges(monkeypatch)
    with split_files(split_bytes):
        assert _run(argv, tmp_path / "spark", "--engine", "spark") == 0
    assert _outputs(tmp_path / "spark") == local
    assert _spark_summary(tmp_path / "spark") == summary
    # every split sent its state (a split whose state did not come would leave the run to read the columns whole)
    parts = len(list((tmp_path / "spark" / "merge").glob("part-*.jsonl")))
    assert merged == [parts] and parts > 1
    assert summary.get("non_finite_values") == (3 if kind == "binary" else 2 if kind == "regression" else None)


def test_refused_values_in_several_splits_are_reported_as_the_local_engine_reports_them(spark, split_files, tmp_path,
                                                                                       capsys):
    # a label that is not 0 or 1 early and a probability that is not a number late: one process names the
    # probabilities (the first column it decides), though the split of the label, read alone, names the label
    argv = _binary(tmp_path)
    _set_label(tmp_path, {10: "maybe"})
    _set_output(tmp_path, {2_900: "high\n"})
    assert _run(argv, tmp_path / "local", "--workers", "1") == 2
    local = capsys.readouterr().err
    with split_files(24 << 10):
        assert _run(argv, tmp_path / "spark", "--engine", "spark") == 2
    said = capsys.readouterr().err
    assert said == local and "found 'high'" in said and "maybe" not in said and "Traceback" not in said
    assert not list((tmp_path / "spark").rglob("*part-*"))  # no merged records left behind


def _counting_merges(monkeypatch) -> list[int]:
    """The number of part measures each merge of the run's parts takes (none when the run reads the columns whole)."""
    merged: list[int] = []
    real = run._merged_measures
    monkeypatch.setattr(run, "_merged_measures", lambda measures: merged.append(len(measures)) or real(measures))
    return merged


def test_the_label_free_estimate_reads_the_splits_outputs_as_the_local_engine_does(spark, split_files, tmp_path,
                                                                                   monkeypatch):
    # the estimate reads every capture's output and the labelled rows' outputs: each split reads its own
    rng = np.random.default_rng(21)
    constraints = _baseline(tmp_path, rng, n=2_000)
    p = _true_probabilities(rng, 3_000)
    _labelled_window(tmp_path, p**2, rng.random(p.size) < p)
    label_file = next((tmp_path / "groundtruth").rglob("*.jsonl"))
    lines = label_file.read_bytes().splitlines()
    label_file.write_bytes(b"\n".join(lines[:2_000]) + b"\n")  # a third of the captures have no label yet
    argv = ["--capture", str(tmp_path / "capture"), "--ground-truth", str(tmp_path / "groundtruth"),
            "--problem-type", "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
            "--probability-threshold", "0.25", "--constraints", str(constraints), *HOUR]
    summary = _local(argv, tmp_path / "local")
    merged = _counting_merges(monkeypatch)
    with split_files(24 << 10):
        assert _run(argv, tmp_path / "spark", "--engine", "spark") == 0
    local = _outputs(tmp_path / "local")
    assert _outputs(tmp_path / "spark") == local and _spark_summary(tmp_path / "spark") == summary
    # one state a split (a split of captures without a label writes no merged-records file)
    (splits,) = merged
    assert splits >= len(list((tmp_path / "spark" / "merge").glob("part-*.jsonl"))) > 1
    block = local["statistics.json"][ESTIMATION_KEY]  # type: ignore[index]
    assert block["mode"] == "estimated_and_realised" and block["item_count"] == 3_000


@pytest.mark.parametrize("labels", [0, 1, 9, 10_000])
@pytest.mark.parametrize("share", [0.0, 0.001, 0.3, 1.0])
def test_the_label_rows_a_split_matched_come_back_whole_in_either_form(labels, share):
    from model_monitor_analyzer.spark.model_quality import _LabelsMatched

    rng = np.random.default_rng(labels)
    for start, end in ((0, labels), (labels // 3, labels // 2)):  # the whole window's labels, or a run of them
        used = np.zeros(labels, dtype=bool)
        used[start:end] = rng.random(end - start) < share
        marked = np.zeros(labels, dtype=bool)
        _LabelsMatched.of(used).mark(marked)
        assert np.array_equal(marked, used)


def test_a_multiclass_estimate_with_splits_of_no_capture_in_the_window_is_the_local_engines(spark, split_files,
                                                                                            tmp_path, monkeypatch):
    # per-class probabilities: a split without a capture in the window has no per-class scores to stack with the
    # others', and must not make the window lose them
    from tests.analyzer.test_multiclass_estimation import _baseline as multiclass_baseline
    from tests.analyzer.test_multiclass_estimation import _draw_labels, _softmax_probabilities, _write_window

    rng = np.random.default_rng(41)
    constraints = multiclass_baseline(tmp_path, rng, n=3_000)
    p = _softmax_probabilities(rng, 3_000, shift=0.3)
    _write_window(tmp_path, p**2, _draw_labels(rng, p)[0], json_payload=False)
    capture = next((tmp_path / "capture").rglob("*.jsonl"))
    lines = capture.read_bytes().splitlines()
    earlier = START.strftime("%Y-%m-%dT%H:%M:%SZ").encode(), (START - timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ").encode()
    # the last thousand captures were made before the window: the splits that hold them read nothing
    capture.write_bytes(b"\n".join([*lines[:2_000], *(line.replace(*earlier) for line in lines[2_000:])]) + b"\n")
    argv = ["--capture", str(tmp_path / "capture"), "--ground-truth", str(tmp_path / "groundtruth"),
            "--problem-type", "MulticlassClassification", "--inference-attribute", "0", "--probability-attribute",
            "1-4", "--constraints", str(constraints), *HOUR]
    summary = _local(argv, tmp_path / "local")
    with split_files(24 << 10):
        assert _run(argv, tmp_path / "spark", "--engine", "spark") == 0
    local = _outputs(tmp_path / "local")
    assert _outputs(tmp_path / "spark") == local and _spark_summary(tmp_path / "spark") == summary
    block = local["statistics.json"][ESTIMATION_KEY]  # type: ignore[index]
    assert block["mode"] == "estimated_and_realised" and block["item_count"] == 2_000


def test_a_run_that_fails_while_writing_merged_records_keeps_the_earlier_runs_and_leaves_none(spark, split_files,
                                                                                             local_runs, tmp_path,
                                                                                             monkeypatch, capsys):
    import errno

    from model_monitor_analyzer.spark import model_quality as spark_mq

    argv, _, _ = local_runs["binary"]
    out = tmp_path / "spark"
    with split_files(256 << 10):
        assert _run(argv, out, "--engine", "spark") == 0
    earlier = {path.name: path.read_bytes() for path in (out / "merge").iterdir()}
    assert len(earlier) > 1
    written = []
    real = spark_mq._LinesWriter.write_lines

    def fail_on_the_third(writer, data):
        written.append(writer)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(writer, data)

    monkeypatch.setattr(spark_mq._LinesWriter, "write_lines", fail_on_the_third)
    capsys.readouterr()
    with split_files(256 << 10):
        assert _run(argv, out, "--engine", "spark", "--overwrite") == 2
    error = capsys.readouterr().err
    assert "No space left on device" in error and "Traceback" not in error and len(written) == 3
    assert {path.name: path.read_bytes() for path in (out / "merge").iterdir()} == earlier  # nothing lost, nothing left
