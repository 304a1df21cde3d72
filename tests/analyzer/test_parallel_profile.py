"""Large inputs are profiled by several processes, each over a part (capture files and byte ranges of large ones, CSV
byte ranges), then merged."""

from __future__ import annotations

import itertools
import math
import time
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.capture import CaptureSlice, capture_slices
from model_monitor_analyzer.io.datasets import csv_parts
from model_monitor_analyzer.io.problems import InputProblems, lines_of_part
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.requests import InputFormat, InputOptions
from model_monitor_analyzer.monitors.data_quality import run as data_quality
from model_monitor_analyzer.monitors.data_quality.run import profile_input, worker_count

WINDOW = TimeWindow(start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 2, tzinfo=UTC))


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


def _parallel(monkeypatch, min_bytes):
    monkeypatch.setattr(data_quality, "PARALLEL_MIN_BYTES", min_bytes)
    monkeypatch.setattr(data_quality, "BYTES_PER_WORKER", 1)


def _profile(root, monkeypatch, min_bytes, workers=2):
    _parallel(monkeypatch, min_bytes)
    return profile_input(
        InputOptions(workers=workers), root, InputFormat.CAPTURE, window=WINDOW, names=["score", "x", "n", "kind"]
    )


def test_parts_are_consecutive_files_of_about_equal_size(tmp_path):
    files = []
    for index, size in enumerate([10, 10, 10, 40, 10, 10]):
        path = tmp_path / f"{index}.jsonl"
        path.write_bytes(b"x" * size)
        files.append(path)

    def whole(run):
        assert all(piece.start == 0 and piece.end is None for piece in run)
        return [piece.file for piece in run]

    first, second = capture_slices(files, parts=2)
    assert whole(first) == files[:4] and whole(second) == files[4:]
    assert [whole(run) for run in capture_slices(files[:1], parts=4)] == [files[:1]]


def test_one_large_capture_file_is_cut_after_line_breaks_with_their_line_counts(tmp_path):
    root = _capture(tmp_path, files=1, per_file=2_000)
    (file,) = sorted(root.rglob("*.jsonl"))
    data = file.read_bytes()
    runs = capture_slices([file], parts=3)
    assert len(runs) == 3
    pieces = [piece for run in runs for piece in run]
    assert pieces[0].start == 0 and pieces[-1].end == len(data)
    for before, after in itertools.pairwise(pieces):
        assert before.end == after.start and data[after.start - 1 : after.start] == b"\n"
        assert after.lines_before is None  # counted by the part's reader only when it has a bad line to place


def test_a_compressed_capture_file_is_never_entered_in_the_middle(tmp_path):
    import gzip

    root = _capture(tmp_path, files=1, per_file=2_000)
    (file,) = sorted(root.rglob("*.jsonl"))
    packed = file.with_suffix(".jsonl.gz")
    packed.write_bytes(gzip.compress(file.read_bytes()))
    small = tmp_path / "small.jsonl"
    small.write_bytes(file.read_bytes()[:200])
    runs = capture_slices([packed, small], parts=4)
    assert runs[0] == [CaptureSlice(file=packed)]


@pytest.mark.parametrize("workers", [2, 3])
def test_one_capture_file_in_several_processes_counts_what_one_process_counts(tmp_path, monkeypatch, workers):
    root = _capture(tmp_path, files=1, per_file=9_000, bad_line=(0, 7_001))
    one, one_problems = _profile(root, monkeypatch, min_bytes=1 << 40)
    several, problems = _profile(root, monkeypatch, min_bytes=0, workers=workers)
    assert several.item_count == one.item_count == 8_999
    assert (problems.good, problems.bad) == (one_problems.good, one_problems.bad) == (8_999, 1)
    assert problems.examples[0].line == 7_001  # the line number counts the lines of the parts before
    for name, column in one.columns.items():
        merged = several.columns[name]
        assert (merged.nulls, merged.kind_counts, merged.categories) == (column.nulls, column.kind_counts, column.categories)
        assert (merged.moments.minimum, merged.moments.maximum) == (column.moments.minimum, column.moments.maximum)
        assert math.isclose(merged.moments.sum, column.moments.sum, rel_tol=1e-12)
        assert merged.sketch.total_weight == column.sketch.total_weight


def test_workers_follow_the_input_size_up_to_the_limit():
    assert worker_count(8, data_quality.PARALLEL_MIN_BYTES - 1) == 1
    assert worker_count(8, 64 << 20) == (64 << 20) // data_quality.BYTES_PER_WORKER
    assert worker_count(2, 1 << 30) == 2
    assert worker_count(1, 1 << 30) == 1


@pytest.mark.parametrize("workers", [2, 4])
def test_several_processes_count_what_one_process_counts(tmp_path, monkeypatch, workers):
    root = _capture(tmp_path)
    one, one_problems = _profile(root, monkeypatch, min_bytes=1 << 40)
    two, two_problems = _profile(root, monkeypatch, min_bytes=0, workers=workers)
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
    _parallel(monkeypatch, 0)
    with pytest.raises(AnalyzerInputError, match="cannot read this record") as error:
        profile_input(InputOptions(record_preprocessor=script, workers=2), root, InputFormat.CAPTURE, window=WINDOW)
    assert error.value.path == str(script) and error.value.line == 3


def _csv(path, rows=20_000, bad_line=None):
    rng = np.random.default_rng(11)
    lines = ["score,x,kind"] + [f"{rng.random():.5f},{rng.integers(0, 50)},{rng.choice(['a', 'b'])}" for _ in range(rows)]
    if bad_line is not None:
        lines[bad_line - 1] = "0.5,1"
    path.write_text("\n".join(lines) + "\n")
    return path


def _baseline(path, monkeypatch, min_bytes, workers=2):
    _parallel(monkeypatch, min_bytes)
    return profile_input(InputOptions(header=True, workers=workers), path, None)


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_one_csv_file_is_split_after_line_breaks_with_their_line_counts(tmp_path, parts):
    path = _csv(tmp_path / "data.csv", rows=1_000)
    ranges = csv_parts(path, parts=parts)
    data = path.read_bytes()
    assert len(ranges) == parts
    assert ranges[0].start == 0 and ranges[-1].end == len(data)
    for before, after in itertools.pairwise(ranges):
        assert before.end == after.start and data[after.start - 1 : after.start] == b"\n"
        assert after.lines_before is None  # counted by the part's reader only when it has a bad line to place


def test_a_file_of_few_lines_gives_fewer_parts(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("a\n1\n")
    assert [(p.start, p.end) for p in csv_parts(path, parts=8)] == [(0, 2), (2, 4)]


@pytest.mark.parametrize("workers", [2, 5])
def test_a_baseline_csv_in_several_processes_counts_what_one_process_counts(tmp_path, monkeypatch, workers):
    path = _csv(tmp_path / "data.csv")
    one, _ = _baseline(path, monkeypatch, min_bytes=1 << 40)
    two, problems = _baseline(path, monkeypatch, min_bytes=0, workers=workers)
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


@pytest.mark.parametrize(("min_bytes", "workers"), [(1 << 40, 1), (0, 2)])
def test_work_beside_the_read_runs_once_after_the_forks_and_ends_with_the_read(tmp_path, monkeypatch, min_bytes,
                                                                                workers):
    root = _capture(tmp_path / "capture", files=4, per_file=500)
    _parallel(monkeypatch, min_bytes)
    events = []
    forks = []
    real_start = data_quality.multiprocessing.get_context("fork").Process.start

    def start(process):
        forks.append(len(events))  # how much beside work had begun when each helper was forked
        real_start(process)

    monkeypatch.setattr(data_quality.multiprocessing.get_context("fork").Process, "start", start)

    def beside():
        events.append("began")
        time.sleep(0.2)  # longer than the read: a read that did not wait for it would return before "ended"
        events.append("ended")

    expected, _ = profile_input(InputOptions(workers=1), root, InputFormat.CAPTURE, window=WINDOW,
                                names=["score", "x", "n", "kind"])
    profile, _ = profile_input(InputOptions(workers=workers), root, InputFormat.CAPTURE, window=WINDOW,
                               names=["score", "x", "n", "kind"], profiler=data_quality.LocalProfiler(beside=beside))
    assert events == ["began", "ended"]  # once, and over when the read returns
    assert forks == ([0] if workers == 2 else [])  # no helper forked while it ran
    assert profile.item_count == expected.item_count == 2_000


def test_work_beside_the_read_that_fails_leaves_the_run_alone(tmp_path, monkeypatch):
    root = _capture(tmp_path / "capture", files=2, per_file=300)
    _parallel(monkeypatch, 1 << 40)

    def beside():
        raise ImportError("no such module")

    profile, problems = profile_input(InputOptions(), root, InputFormat.CAPTURE, window=WINDOW,
                                      names=["score", "x", "n", "kind"],
                                      profiler=data_quality.LocalProfiler(beside=beside))
    assert profile.item_count == problems.good == 600


def test_lines_counted_from_a_part_become_lines_of_the_whole_file(tmp_path):
    file = tmp_path / "data.txt"
    data = b"".join(f"line {n}\n".encode() for n in range(1, 101))
    file.write_bytes(data)
    start = data.index(b"line 41\n")  # the part from the 41st line
    run, part = InputProblems(max_bad_record_ratio=1.0), InputProblems(max_bad_record_ratio=1.0)
    with lines_of_part(part, str(file), start, None) as before:
        chunk_tally = InputProblems(max_bad_record_ratio=1.0)  # a reader's tally of one chunk, merged into the part's
        chunk_tally.record_bad(str(file), before + 3, "bad")
        part.merge(chunk_tally)
        part.record_bad(str(file), before + 5, "worse")
        kept = [(e.line, e.counted_from) for e in part.examples]
    assert kept == [(3, start), (5, start)]  # while the part is read, its own lines
    assert [e.describe() for e in part.examples] == [f"{file}:43: bad", f"{file}:45: worse"]
    # a part merged while still counted from its byte (a reader that stopped early) is placed by the merge
    late = InputProblems(max_bad_record_ratio=1.0)
    late.count_lines_from(str(file), start)
    late.record_bad(str(file), 2, "late")
    run.merge(part).merge(late)
    assert [e.describe() for e in run.examples] == [f"{file}:43: bad", f"{file}:45: worse", f"{file}:42: late"]
    gone = InputProblems(max_bad_record_ratio=1.0)
    gone.count_lines_from(str(tmp_path / "gone.txt"), 10)
    gone.record_bad(str(tmp_path / "gone.txt"), 2, "lost")
    assert InputProblems().merge(gone).examples[0].describe() == f"{tmp_path / 'gone.txt'} (the part from byte 10):2: lost"
