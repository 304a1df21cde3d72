"""A model-quality window large enough is joined in parts, one process each (its captures cut into runs of files and
byte ranges): the metrics, the join's counts, the bad records and the merged records are those of one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
