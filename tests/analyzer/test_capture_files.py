"""Capture folders as users and tools leave them: compressed, renamed, with a byte-order mark, with
links, pipes and stray files. Every record of a capture file is read or counted; what is not a capture
file is skipped with a note; nothing blocks."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.io.capture import capture_files, read_capture_batches
from model_monitor_analyzer.io.ground_truth import ground_truth_files
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow

WINDOW = ["--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"]


def _lines(rows: int, first: int = 0) -> bytes:
    return b"".join(json.dumps({"captureData": {"endpointInput": {"data": f"{30 + i % 5},a", "encoding": "CSV"}},
                                "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}).encode() + b"\n"
                    for i in range(first, first + rows))


@pytest.fixture()
def baseline(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("age,city\n" + "".join(f"{30 + i % 5},a\n" for i in range(200)))
    out = tmp_path / "baseline"
    assert main(["baseline", "--dataset", str(data), "--output", str(out), "--quiet"]) == 0
    return out


def _monitor(capture: Path, baseline: Path, output: Path) -> int:
    return main(["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(output), "--quiet", *WINDOW])


def _item_count(output: Path) -> int:
    return json.loads((output / "statistics.json").read_text())["dataset"]["item_count"]


def _rows_read(folder: Path) -> int:
    problems = InputProblems()
    rows = sum(batch.num_rows for batch in read_capture_batches(folder, problems=problems))
    assert problems.bad == 0
    return rows


def test_gzip_json_and_suffixless_capture_files_are_all_read(tmp_path, baseline, capsys):
    capture = tmp_path / "cap" / "ep" / "AllTraffic" / "2024" / "01" / "01" / "10"
    capture.mkdir(parents=True)
    (capture / "a.jsonl").write_bytes(_lines(10))
    (capture / "b.jsonl.gz").write_bytes(gzip.compress(_lines(20)))
    (capture / "c.json").write_bytes(_lines(30))
    (capture / "d").write_bytes(_lines(40))
    (capture / "e.json.gz").write_bytes(gzip.compress(_lines(50)))
    assert _monitor(tmp_path / "cap", baseline, tmp_path / "out") == 0
    assert _item_count(tmp_path / "out") == 150
    assert "skipped" not in capsys.readouterr().err


def test_gzip_content_under_a_plain_name_is_decompressed(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(gzip.compress(_lines(25)))
    assert _rows_read(tmp_path) == 25


def test_a_byte_order_mark_does_not_cost_the_first_record(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + _lines(7))
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(b"\xef\xbb\xbf" + _lines(5)))
    assert _rows_read(tmp_path) == 12


def test_other_files_are_skipped_each_with_a_note(tmp_path, baseline, capsys):
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "a.jsonl").write_bytes(_lines(12))
    (capture / "notes.txt").write_text("not a capture")
    (capture / "_SUCCESS").write_text("")
    (capture / ".a.jsonl.crc").write_bytes(b"\0\1")
    assert _monitor(capture, baseline, tmp_path / "out") == 0
    assert _item_count(tmp_path / "out") == 12
    err = capsys.readouterr().err
    assert "notes.txt: skipped, not a JSON Lines file (.txt)" in err
    assert "_SUCCESS: skipped, a job marker file" in err
    assert ".a.jsonl.crc: skipped, a hidden file" in err


def test_a_baseline_folder_given_as_the_capture_is_said_to_be_one_not_read_as_bad_records(tmp_path, baseline, capsys):
    # statistics.json and constraints.json are documents over many lines: read as JSON Lines, every line was a bad record
    capsys.readouterr()
    assert _monitor(baseline, baseline, tmp_path / "out") == 0
    err = capsys.readouterr().err
    for name in ("statistics.json", "constraints.json"):
        assert f"{name}: skipped, the analyzer's own {name} (a document, not JSON Lines records)" in err
    assert "malformed" not in err


def test_a_baseline_document_given_as_the_capture_file_is_refused_saying_what_it_is(tmp_path, baseline, capsys):
    capsys.readouterr()
    assert _monitor(baseline / "statistics.json", baseline, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "statistics.json: this is the analyzer's own statistics.json (a document, not JSON Lines records)" in err
    assert "malformed" not in err


def test_a_json_lines_file_with_a_document_name_is_still_read(tmp_path, baseline):
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "statistics.json").write_bytes(_lines(7))  # one record a line: data, whatever its name
    assert _monitor(capture, baseline, tmp_path / "out") == 0
    assert _item_count(tmp_path / "out") == 7


def test_a_link_to_nothing_is_skipped_with_a_note(tmp_path, baseline, capsys):
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "a.jsonl").write_bytes(_lines(12))
    (capture / "gone.jsonl").symlink_to(tmp_path / "deleted.jsonl")
    assert _monitor(capture, baseline, tmp_path / "out") == 0
    assert _item_count(tmp_path / "out") == 12
    assert "gone.jsonl: skipped, a link to nothing" in capsys.readouterr().err


def test_a_named_pipe_is_skipped_and_never_blocks(tmp_path, baseline):
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "a.jsonl").write_bytes(_lines(12))
    os.mkfifo(capture / "pipe.jsonl")
    run = subprocess.run(
        [sys.executable, "-m", "model_monitor_analyzer", "monitor", "--capture", str(capture),
         "--statistics", str(baseline / "statistics.json"), "--constraints", str(baseline / "constraints.json"),
         "--output", str(tmp_path / "out"), "--quiet", *WINDOW],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "pipe.jsonl: skipped, a named pipe, not a file" in run.stderr
    assert _item_count(tmp_path / "out") == 12


def test_a_truncated_gzip_file_stops_the_run_naming_it(tmp_path, baseline, capsys):
    capture = tmp_path / "cap"
    capture.mkdir()
    (capture / "a.jsonl").write_bytes(_lines(12))
    whole = gzip.compress(_lines(2000))
    (capture / "b.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    assert _monitor(capture, baseline, tmp_path / "out") == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "b.jsonl.gz" in line and "cannot read this file to its end" in line


def test_listing_is_the_same_for_ground_truth(tmp_path):
    (tmp_path / "2024" / "01").mkdir(parents=True)
    (tmp_path / "2024" / "01" / "labels.jsonl.gz").write_bytes(gzip.compress(b"{}\n"))
    (tmp_path / "2024" / "01" / "labels").write_bytes(b"{}\n")
    (tmp_path / "2024" / "01" / "readme.md").write_text("x")
    names = [p.name for p in ground_truth_files(tmp_path)]
    assert names == ["labels", "labels.jsonl.gz"]
    assert [p.name for p in capture_files(tmp_path)] == names


def _hourly_tree(root: Path, hours: range) -> Path:
    """A capture tree in SageMaker's layout, one file an hour, each record of its own hour (and, as SageMaker writes
    them minutes after their records, a few of the hour before at the start of each file)."""
    for hour in hours:
        folder = root / "ep" / "AllTraffic" / "2024" / "01" / "01" / f"{hour:02d}"
        folder.mkdir(parents=True)
        lines = [json.dumps({"captureData": {"endpointInput": {"data": f"{hour},{'ab'[i % 2]}", "encoding": "CSV"}},
                             "eventMetadata": {"inferenceTime": f"2024-01-01T{max(hour - (i < 3), 0):02d}:"
                                                                f"{(59 if i < 3 and hour else i % 60):02d}:00Z"}})
                 for i in range(60)]
        (folder / f"00-00-000-{hour}.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_a_whole_capture_tree_given_for_one_window_is_read_only_near_the_window(tmp_path, baseline, capsys):
    tree = _hourly_tree(tmp_path / "capture", range(24))
    listed = capture_files(tree)
    near = capture_files(tree, TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC),
                                          end=datetime(2024, 1, 1, 11, tzinfo=UTC)))
    assert len(listed) == 24
    assert [path.parent.name for path in near] == ["09", "10", "11"]  # the window's hour and one on each side
    assert "21 of 24 capture files not read" in capsys.readouterr().err
    # what the window reads equals what a tree of those three hours alone gives: the other hours hold none of its
    # records (the 11 o'clock file holds records of 10:59, read in the window)
    alone = _hourly_tree(tmp_path / "alone", range(9, 12))
    assert _monitor(tree, baseline, tmp_path / "whole") == _monitor(alone, baseline, tmp_path / "near")
    whole = json.loads((tmp_path / "whole" / "statistics.json").read_text())
    assert whole == json.loads((tmp_path / "near" / "statistics.json").read_text())
    assert whole["dataset"]["item_count"] == 60 - 3 + 3  # 10 o'clock's own records and the 11 o'clock file's late ones
    unbounded = capture_files(tree, TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC)))
    assert [path.parent.name for path in unbounded] == [f"{hour:02d}" for hour in range(9, 24)]
    assert capture_files(tree, TimeWindow()) == listed


def test_a_window_the_tree_does_not_reach_says_which_hours_it_holds(tmp_path, capsys):
    tree = _hourly_tree(tmp_path / "capture", range(3, 6))
    far = TimeWindow(start=datetime(2024, 1, 1, 20, tzinfo=UTC), end=datetime(2024, 1, 1, 21, tzinfo=UTC))
    assert capture_files(tree, far) == []
    assert "(its hour folders run from 2024/01/01/03 to 2024/01/01/05)" in capsys.readouterr().err


def test_an_hour_folder_given_as_the_capture_says_the_next_hours_records_are_not_read(tmp_path, capsys):
    tree = _hourly_tree(tmp_path / "capture", range(9, 12))
    hour = tree / "ep" / "AllTraffic" / "2024" / "01" / "01" / "10"
    window = TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC), end=datetime(2024, 1, 1, 11, tzinfo=UTC))
    assert [path.parent.name for path in capture_files(hour, window)] == ["10"]
    assert f"note: {hour} is one hour folder" in capsys.readouterr().err
    capture_files(tree, window)  # the endpoint's folder: nothing to say
    assert "is one hour folder" not in capsys.readouterr().err


def test_more_bad_records_than_examples_says_how_many_were_skipped(tmp_path, baseline, capsys):
    folder = tmp_path / "capture"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(_lines(100) + b"{broken\n" * 7)
    assert main(["monitor", "--capture", str(folder), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(tmp_path / "out"),
                 *WINDOW]) == 0
    printed = capsys.readouterr().out.splitlines()
    shown = [line for line in printed if line.startswith("skipped bad record: ")]
    assert "skipped bad records: 7, the first 5 below" in printed
    assert len(shown) == 5 and ":101: " in shown[0] and ":105: " in shown[-1]
