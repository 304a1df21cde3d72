"""The Spark runner of model quality against the local engine on the same window, at several partitionings.

The labelled columns come back from the splits in capture order and are measured once on the driver, so every
field is identical (nothing is summed in another order): the metrics, the join's counts, the bad records, the
verdicts, the metric lines and the merged records (their lines, taken in part order).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_monitor_analyzer import cli
from model_monitor_analyzer.jobs.outcome import RunStatus
from model_monitor_analyzer.monitors import model_quality as job
from tests.analyzer.test_model_quality_jobs import START, _binary_monitor, _binary_window


def _window(root: Path) -> None:
    """A window of 3,000 labelled captures in one file, a line that is not JSON, a capture sharing its id."""
    _binary_window(root, n=3_000)
    capture = next((root / "capture").rglob("*.jsonl"))
    lines = capture.read_bytes().splitlines()
    lines[700] = b"{not json"
    lines.insert(1_500, lines[1_499])
    capture.write_bytes(b"\n".join(lines) + b"\n")


def _merged_lines(folder: Path) -> list[bytes]:
    return [line for path in sorted(folder.glob("part-*.jsonl")) for line in path.read_bytes().splitlines()]


def _documents(folder: Path) -> dict[str, object]:
    found = {}
    for name in ("statistics.json", "constraints.json", "constraint_violations.json"):
        document = json.loads((folder / name).read_text())
        for part in (document, document.get("dataset", {}), document.get("binary_classification_metrics", {})):
            part.pop("evaluation_time", None)  # the time of the run
        found[name] = document
    (lines,) = (folder / "metrics").glob("*.jsonl")
    found["metrics"] = lines.read_text()
    return found


def _monitor_argv(root: Path, output: Path, *extra: str) -> list[str]:
    return ["monitor", "--type", "model-quality", "--capture", str(root / "capture"),
            "--ground-truth", str(root / "groundtruth"), "--output", str(output), "--problem-type",
            "BinaryClassification", "--inference-attribute", "0", "--probability-attribute", "0",
            "--probability-threshold", "0.5", "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--end", START.replace(hour=START.hour + 1).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--ground-truth-lookback", "PT2H", "--max-bad-record-ratio", "0.5", "--quiet", *extra]


@pytest.fixture(scope="module")
def local_window(tmp_path_factory):
    """The window and the local engine's run of it (one process, so one merged-records part)."""
    root = tmp_path_factory.mktemp("mq-window")
    _window(root)
    outcome = job.run_monitor(_binary_monitor(root, "--ground-truth-lookback", "PT2H", "--workers", "1",
                                              "--max-bad-record-ratio", "0.5"))
    assert outcome.status is RunStatus.COMPLETED
    return root, outcome


@pytest.mark.parametrize("split_bytes", [None, 20 << 10])
def test_spark_joins_a_window_as_the_local_engine_does(spark, split_files, local_window, split_bytes, tmp_path):
    """Whole files (Spark's default split size) read from ``file:`` URIs and written to one; small splits read from
    and written to local paths."""
    root, local = local_window
    # a baseline of the window itself, so that constraints are checked and metric lines judged
    constraints = root / "out" / "constraints.json"
    out = tmp_path / "spark"
    argv = _monitor_argv(root, out, "--engine", "spark", "--constraints", str(constraints))
    if split_bytes is None:
        argv = [value if not value.startswith(str(tmp_path.parent)) else Path(value).as_uri()
                for value in argv]
        assert "file:///" in argv[argv.index("--ground-truth") + 1] and "file:///" in argv[argv.index("--output") + 1]
    with split_files(split_bytes):
        assert cli.main(argv) == 0
    whole = tmp_path / "local"
    assert job.run_monitor(_binary_monitor(root, "--ground-truth-lookback", "PT2H", "--workers", "1",
                                           "--max-bad-record-ratio", "0.5", "--output", str(whole),
                                           "--constraints", str(constraints))).status is RunStatus.COMPLETED
    assert _documents(out) == _documents(whole)
    outcome = json.loads((out / "outcome.json").read_text())
    assert {key: outcome["summary"][key] for key in local.summary} == local.summary
    assert local.summary["malformed_captures"] == 1 and local.summary["captures_sharing_an_id"] == 1
    parts = sorted((out / "merge").glob("part-*.jsonl"))
    if split_bytes is not None:
        assert len(parts) > 1  # the file was read in several splits
    assert _merged_lines(out / "merge") == _merged_lines(root / "out" / "merge")
    assert len(_merged_lines(out / "merge")) == local.summary["matched"]


def test_spark_refuses_what_it_does_not_run(spark, local_window, tmp_path, capsys):
    root, _ = local_window
    argv = _monitor_argv(root, tmp_path / "spark", "--engine", "spark")
    argv[argv.index("--capture"):argv.index("--capture") + 2] = ["--merged", str(root / "out" / "merge")]
    argv[argv.index("--ground-truth"):argv.index("--ground-truth") + 2] = []
    assert cli.main(argv) == 2
    assert "is not read by --engine spark" in capsys.readouterr().err


def test_too_many_bad_captures_fail_as_locally_and_leave_no_merged_records(spark, local_window, tmp_path, capsys):
    root, _ = local_window
    out = tmp_path / "spark"
    argv = _monitor_argv(root, out, "--engine", "spark")
    argv[argv.index("--max-bad-record-ratio") + 1] = "0.0001"
    assert cli.main(argv) == 2
    error = capsys.readouterr().err
    assert "capture records are malformed" in error and "Traceback" not in error
    assert not list(out.rglob("part-*")) and not list(out.rglob(".part-*"))


@pytest.mark.parametrize("split_bytes", [None, 20 << 10])
def test_a_gzip_capture_file_named_jsonl_is_read_as_the_local_engine_reads_it(spark, split_files, local_window,
                                                                               split_bytes, tmp_path):
    """Capture files are recognised as gzip by their bytes, whatever their name: Spark's text reader knows them by
    the suffix only, so such a file is read whole, even when larger than a split (a gzip stream cannot be cut)."""
    import gzip
    import shutil

    root, _ = local_window
    zipped = tmp_path / "window"
    shutil.copytree(root / "capture", zipped / "capture")
    shutil.copytree(root / "groundtruth", zipped / "groundtruth")
    capture = next((zipped / "capture").rglob("*.jsonl"))
    capture.write_bytes(gzip.compress(capture.read_bytes()))
    constraints = root / "out" / "constraints.json"
    out = tmp_path / "spark"
    with split_files(split_bytes):
        assert cli.main(_monitor_argv(zipped, out, "--engine", "spark", "--constraints", str(constraints))) == 0
    whole = tmp_path / "local"
    assert job.run_monitor(_binary_monitor(zipped, "--ground-truth-lookback", "PT2H", "--workers", "1",
                                           "--max-bad-record-ratio", "0.5", "--output", str(whole),
                                           "--constraints", str(constraints))).status is RunStatus.COMPLETED
    assert _documents(out) == _documents(whole)
    assert _merged_lines(out / "merge") == _merged_lines(root / "out" / "merge")


def test_a_manifest_window_is_read_by_the_executors_and_joined_as_the_local_engine_joins_it(
        spark, local_window, tmp_path, monkeypatch):
    """The window planner's manifest names the capture objects without sizes: the join takes them from one listing of
    each folder, as data quality does, so the executors read the objects themselves."""
    from model_monitor_analyzer.spark import data_quality
    from model_monitor_analyzer.spark.locations import spark_location

    root, _ = local_window
    captures = sorted((root / "capture").rglob("*.jsonl"))
    manifest = tmp_path / "window.manifest.json"
    manifest.write_text(json.dumps([{"prefix": spark_location(root / "capture") + "/"},
                                    *(path.relative_to(root / "capture").as_posix() for path in captures)]))
    given: list[list[tuple[str, int]]] = []
    real_named_files = data_quality._named_files
    monkeypatch.setattr(data_quality, "_named_files",
                        lambda spark_, listed, limit: given.append(list(listed)) or real_named_files(spark_, listed, limit))
    constraints = root / "out" / "constraints.json"
    argv = _monitor_argv(root, tmp_path / "spark", "--engine", "spark", "--constraints", str(constraints))
    argv[argv.index("--capture") + 1] = str(manifest)
    assert cli.main(argv) == 0
    assert given and all(listed == [(f"file:{path}", path.stat().st_size) for path in captures] for listed in given)
    whole = tmp_path / "local"
    assert job.run_monitor(_binary_monitor(root, "--ground-truth-lookback", "PT2H", "--workers", "1",
                                           "--max-bad-record-ratio", "0.5", "--output", str(whole),
                                           "--constraints", str(constraints))).status is RunStatus.COMPLETED
    assert _documents(tmp_path / "spark") == _documents(whole)
    assert _merged_lines(tmp_path / "spark" / "merge") == _merged_lines(root / "out" / "merge")
