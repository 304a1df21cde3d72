"""Large captures are profiled by two processes, each over half the files, then merged."""

from __future__ import annotations

import argparse
import math

import numpy as np
import orjson
import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.datasets import csv_halves
from model_monitor_analyzer.jobs import data_quality
from model_monitor_analyzer.jobs.data_quality import capture_halves, profile_input


def _args(**overrides):
    values = dict(
        max_bad_record_ratio=0.1,
        progress=False,
        record_preprocessor=None,
        capture_index_names=["endpointInput", "endpointOutput"],
        output_columns_position="START",
        start="2024-01-01T00:00:00Z",
        end="2024-01-02T00:00:00Z",
        no_header=False,
    )
    values.update(overrides)
    return argparse.Namespace(**values)


def _capture(root, files=6, per_file=3_000, bad_line=None):
    rng = np.random.default_rng(7)
    folder = root / "ep" / "AllTraffic" / "2024" / "01" / "01"
    folder.mkdir(parents=True)
    for index in range(files):
        lines = []
        for row in range(per_file):
            inputs = f"{rng.normal(50, 10):.3f},{rng.integers(0, 9)},{rng.choice(['a', 'b', 'c'])}"
            record = {
                "captureData": {
                    "endpointInput": {"data": inputs, "encoding": "CSV"},
                    "endpointOutput": {"data": f"{rng.random():.6f}", "encoding": "CSV"},
                },
                "eventMetadata": {"inferenceTime": f"2024-01-01T{index:02d}:{row % 60:02d}:00Z"},
            }
            lines.append(orjson.dumps(record))
        if bad_line is not None and bad_line[0] == index:
            lines[bad_line[1] - 1] = b"{broken"
        (folder / f"{index:02d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return root


def _profile(root, monkeypatch, min_bytes):
    monkeypatch.setattr(data_quality, "TWO_PROCESS_MIN_BYTES", min_bytes)
    return profile_input(_args(), root, "capture", names=["score", "x", "n", "kind"])


def test_halves_are_consecutive_files_of_about_equal_size(tmp_path):
    files = []
    for index, size in enumerate([10, 10, 10, 40, 10, 10]):
        path = tmp_path / f"{index}.jsonl"
        path.write_bytes(b"x" * size)
        files.append(path)
    first, second = capture_halves(files, min_bytes=50)
    assert first == files[:4] and second == files[4:]
    assert capture_halves(files, min_bytes=1_000) is None
    assert capture_halves(files[:1], min_bytes=0) is None


def test_two_processes_count_what_one_process_counts(tmp_path, monkeypatch):
    root = _capture(tmp_path)
    one, one_problems = _profile(root, monkeypatch, min_bytes=1 << 40)
    two, two_problems = _profile(root, monkeypatch, min_bytes=0)
    assert two.item_count == one.item_count == 18_000
    assert (two_problems.good, two_problems.bad) == (one_problems.good, one_problems.bad)
    for name, column in one.columns.items():
        merged = two.columns[name]
        assert (merged.nulls, merged.kind_counts, merged.categories) == (column.nulls, column.kind_counts, column.categories)
        assert (merged.moments.minimum, merged.moments.maximum) == (column.moments.minimum, column.moments.maximum)
        # the sum is added in another order: equal to rounding
        assert math.isclose(merged.moments.sum, column.moments.sum, rel_tol=1e-12)
        assert merged.sketch.total_weight == column.sketch.total_weight


def test_bad_lines_of_the_second_half_keep_their_file_and_line(tmp_path, monkeypatch):
    root = _capture(tmp_path, bad_line=(4, 17))
    _, problems = _profile(root, monkeypatch, min_bytes=0)
    assert problems.bad == 1
    assert problems.examples[0].path.endswith("04.jsonl") and problems.examples[0].line == 17


def test_a_script_failing_in_the_helper_process_fails_the_run_naming_the_script(tmp_path, monkeypatch):
    root = _capture(tmp_path, files=2, per_file=10)
    script = tmp_path / "pre.py"
    script.write_text(
        "def preprocess_handler(inference_record):\n"
        "    if inference_record.event_metadata.event_time.startswith('2024-01-01T01'):\n"
        "        raise ValueError('cannot read this record')\n"
        "    return {'a': 1}\n"
    )
    monkeypatch.setattr(data_quality, "TWO_PROCESS_MIN_BYTES", 0)
    with pytest.raises(AnalyzerInputError, match="cannot read this record") as error:
        profile_input(_args(record_preprocessor=script), root, "capture")
    assert error.value.path == str(script) and error.value.line == 3


def _csv(path, rows=20_000, bad_line=None):
    rng = np.random.default_rng(11)
    lines = ["score,x,kind"] + [f"{rng.random():.5f},{rng.integers(0, 50)},{rng.choice(['a', 'b'])}" for _ in range(rows)]
    if bad_line is not None:
        lines[bad_line - 1] = "0.5,1"
    path.write_text("\n".join(lines) + "\n")
    return path


def _baseline(path, monkeypatch, min_bytes):
    monkeypatch.setattr(data_quality, "TWO_PROCESS_MIN_BYTES", min_bytes)
    return profile_input(_args(no_header=False), path, None)


def test_one_csv_file_is_split_after_a_line_break_with_its_line_count(tmp_path):
    path = _csv(tmp_path / "data.csv", rows=1_000)
    first, second = csv_halves(path, min_bytes=0)
    data = path.read_bytes()
    assert first.start == 0 and first.end == second.start and second.end == len(data)
    assert data[second.start - 1 : second.start] == b"\n"
    assert second.lines_before == data[: second.start].count(b"\n")
    assert csv_halves(path, min_bytes=len(data) + 1) is None


def test_a_baseline_csv_in_two_processes_counts_what_one_process_counts(tmp_path, monkeypatch):
    path = _csv(tmp_path / "data.csv")
    one, _ = _baseline(path, monkeypatch, min_bytes=1 << 40)
    two, problems = _baseline(path, monkeypatch, min_bytes=0)
    assert list(two.columns) == ["score", "x", "kind"]  # the header is read once, as names
    assert two.item_count == one.item_count == 20_000 == problems.good
    for name, column in one.columns.items():
        merged = two.columns[name]
        assert (merged.nulls, merged.kind_counts, merged.categories) == (column.nulls, column.kind_counts, column.categories)
        assert (merged.moments.minimum, merged.moments.maximum) == (column.moments.minimum, column.moments.maximum)
        assert merged.sketch.total_weight == column.sketch.total_weight


def test_a_bad_row_in_the_second_half_keeps_its_line(tmp_path, monkeypatch):
    path = _csv(tmp_path / "data.csv", bad_line=18_000)
    _, problems = _baseline(path, monkeypatch, min_bytes=0)
    assert (problems.bad, problems.examples[0].line) == (1, 18_000)
