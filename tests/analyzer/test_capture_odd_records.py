"""Odd records a real capture holds (found by a new user's trial): one record's oddity never decides how every
column is read, a quoted comma is one value, bad lines of other hours never fail a window, a misspelt payload
name is one line, and a byte-order mark is dropped whichever process reads the file's first bytes."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.contract.environment import parse_dataset_format
from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.capture import capture_slices, read_capture_batches
from model_monitor_analyzer.io.problems import InputProblems

WINDOW = ["--start", "2024-01-01T10:00:00Z", "--end", "2024-01-01T11:00:00Z"]
CITIES = ["Oslo", "Lyon", "Porto"]


def _record(features: str, score: str = "0.5", when: str = "2024-01-01T10:15:00Z") -> bytes:
    return orjson.dumps({"captureData": {"endpointInput": {"data": features, "encoding": "CSV"},
                                         "endpointOutput": {"data": score, "encoding": "CSV"}},
                         "eventMetadata": {"inferenceTime": when}})


def _baseline(tmp_path: Path) -> Path:
    rows = ["score,age,city,income"] + [f"0.{i % 9 + 1},{20 + i % 50},{CITIES[i % 3]},{1000 + 7 * i}" for i in range(600)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "b"), "--quiet"]) == 0
    return tmp_path / "b"


def _capture(tmp_path: Path, first: list[bytes], *, name: str = "cap") -> Path:
    lines = first + [_record(f"{20 + i % 50},{CITIES[i % 3]},{1000 + 7 * i}", f"0.{i % 9 + 1}") for i in range(600)]
    folder = tmp_path / name / "ep" / "AllTraffic" / "2024" / "01" / "01" / "10"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return tmp_path / name


def _monitor(tmp_path: Path, capture: Path, out: str, *extra: str) -> dict:
    baseline = tmp_path / "b"
    code = main(["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(tmp_path / out), "--quiet",
                 *WINDOW, *extra])
    assert code == 0
    return json.loads((tmp_path / out / "constraint_violations.json").read_text())


@pytest.mark.parametrize(("first", "extra"), [
    ([_record('31,"Oslo, Norge",1200')], False),  # a quoted value holding a comma
    ([_record("31,Oslo")], False),  # a value the client left out
    ([_record("31,Oslo,1200,extra")], True),  # one field too many: one extra column, the others in place
])
def test_one_odd_first_record_does_not_shift_every_column(tmp_path, first, extra):
    _baseline(tmp_path)
    violations = _monitor(tmp_path, _capture(tmp_path, first), "out")["violations"]
    statistics = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert [f["name"] for f in statistics["features"]][:4] == ["score", "age", "city", "income"]
    assert not [v for v in violations if v["constraint_check_type"] == "data_type_check"]
    assert [v["feature_name"] for v in violations if v["constraint_check_type"] == "extra_column_check"] == (
        ["_c4"] if extra else [])


def test_a_quoted_comma_is_one_value_wherever_it_is(tmp_path):
    _baseline(tmp_path)
    capture = _capture(tmp_path, [])
    file = next(capture.rglob("*.jsonl"))
    lines = file.read_bytes().splitlines()
    lines.insert(300, _record('44,"Oslo, Norge",1500'))
    file.write_bytes(b"\n".join(lines) + b"\n")
    problems = InputProblems()
    batches = list(read_capture_batches(capture, problems=problems))
    assert {batch.num_columns for batch in batches} == {4}
    values = [value for batch in batches for value in batch.column(2).to_pylist()]
    assert "Oslo, Norge" in values


def test_bad_lines_of_other_hours_leave_an_empty_window_without_data(tmp_path, capsys):
    _baseline(tmp_path)
    capture = _capture(tmp_path, [b"{not json"])
    capsys.readouterr()
    baseline = tmp_path / "b"
    code = main(["monitor", "--capture", str(capture), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(tmp_path / "later"),
                 "--start", "2024-01-01T11:00:00Z", "--end", "2024-01-01T12:00:00Z"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("no data:")
    assert "records_outside_window 600" in out and "bad_records 1" in out


@pytest.mark.parametrize("names", [["EndpointInput"], ["foo"], ["endpointInput", "foo"], ["endpointInput", "endpointInput"]])
def test_a_capture_payload_name_that_is_not_one_is_one_line(tmp_path, capsys, names):
    _baseline(tmp_path)
    baseline = tmp_path / "b"
    code = main(["monitor", "--capture", str(_capture(tmp_path, [])), "--statistics", str(baseline / "statistics.json"),
                 "--constraints", str(baseline / "constraints.json"), "--output", str(tmp_path / "o"), *WINDOW,
                 "--capture-index-names", *names])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: --capture-index-names")
    with pytest.raises(AnalyzerInputError, match="captureIndexNames"):
        parse_dataset_format(json.dumps({"sagemakerCaptureJson": {"captureIndexNames": names}}))


def test_a_byte_order_mark_is_dropped_by_the_process_reading_the_first_part(tmp_path):
    capture = _capture(tmp_path, [])
    file = next(capture.rglob("*.jsonl"))
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    whole = InputProblems()
    rows = sum(batch.num_rows for batch in read_capture_batches(capture, problems=whole))
    parted, problems = 0, InputProblems()
    for run in capture_slices([file], parts=3):
        parted += sum(batch.num_rows for batch in read_capture_batches(capture, problems=problems, files=run))
    assert rows == parted == 600 and whole.bad == problems.bad == 0


def test_the_window_shape_is_read_from_the_window_not_from_earlier_hours_of_the_tree(tmp_path):
    """A whole capture tree passed for one hour, its earlier hours holding more than the look's 1,000 lines: the
    window's own records show that the input alone matches an input-only baseline, so the output is not read
    as a feature."""
    rows = ["age,city,income"] + [f"{20 + i % 50},{CITIES[i % 3]},{1000 + 7 * i}" for i in range(600)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    assert main(["baseline", "--dataset", str(tmp_path / "train.csv"), "--output", str(tmp_path / "b"), "--quiet"]) == 0
    tree = tmp_path / "tree" / "ep" / "AllTraffic" / "2024" / "01" / "01"
    for hour in ("07", "08"):
        (tree / hour).mkdir(parents=True)
        (tree / hour / "a.jsonl").write_bytes(b"\n".join(
            _record("25,Oslo,2000", "0.3", when=f"2024-01-01T{hour}:{i % 60:02d}:00Z") for i in range(1500)) + b"\n")
    (tree / "10").mkdir()
    (tree / "10" / "a.jsonl").write_bytes(b"\n".join(
        _record(f"{20 + i % 50},{CITIES[i % 3]},{1000 + 7 * i}", f"0.{i % 9 + 1}") for i in range(600)) + b"\n")
    out = tmp_path / "out"
    assert main(["monitor", "--capture", str(tmp_path / "tree"), "--statistics", str(tmp_path / "b" / "statistics.json"),
                 "--constraints", str(tmp_path / "b" / "constraints.json"), "--output", str(out), "--quiet",
                 *WINDOW]) == 0
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    assert [v for v in violations if v["constraint_check_type"] in ("missing_column_check", "extra_column_check",
                                                                   "data_type_check")] == []
    statistics = json.loads((out / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 600
    assert sorted(f["name"] for f in statistics["features"]) == ["age", "city", "income"]


def _hour_file(root: Path, hour: str, lines: list[bytes]) -> None:
    folder = root / "ep" / "AllTraffic" / "2024" / "01" / "01" / hour
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def test_the_shape_look_reads_the_window_hours_before_a_long_neighbouring_hour(tmp_path):
    """The hour before the window (a neighbour: it may hold the window's first records) holds more lines than the
    look reads outside the window: the window's own hour folder is looked at first, so its shape is found."""
    from model_monitor_analyzer.io.capture import OUTSIDE_LOOK_FACTOR, CaptureShape, capture_shape
    from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp

    max_lines = 10
    _hour_file(tmp_path, "09", [_record("25,Oslo,2000,9,9", "0.3", when=f"2024-01-01T09:{i % 60:02d}:00Z")
                                for i in range(max_lines * OUTSIDE_LOOK_FACTOR + 100)])
    _hour_file(tmp_path, "10", [_record("25,Oslo,2000") for _ in range(50)])
    window = TimeWindow(start=parse_timestamp(WINDOW[1]), end=parse_timestamp(WINDOW[3]))
    assert capture_shape(tmp_path, window=window, max_lines=max_lines, records=5) == CaptureShape(
        input_fields=3, output_fields=1)


def test_a_look_that_meets_no_record_of_the_window_takes_the_shape_seen_outside_it(tmp_path):
    """Reading every payload when the shape is unknown would shift the columns against an input-only baseline;
    an endpoint's capture keeps its shape from hour to hour, so the records outside the window stand in."""
    from model_monitor_analyzer.io.capture import CaptureShape, capture_shape
    from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp

    _hour_file(tmp_path, "10", [_record("25,Oslo,2000", when="2024-01-01T10:59:59Z") for _ in range(40)]
               + [_record("25,Oslo,2000", when="2024-01-01T11:00:01Z") for _ in range(2_000)])
    window = TimeWindow(start=parse_timestamp("2024-01-01T11:00:00Z"), end=parse_timestamp("2024-01-01T12:00:00Z"))
    assert capture_shape(tmp_path, window=window, max_lines=10, records=5) == CaptureShape(
        input_fields=3, output_fields=1)
    late = TimeWindow(start=parse_timestamp("2024-01-01T11:30:00Z"), end=parse_timestamp("2024-01-01T12:00:00Z"))
    assert capture_shape(tmp_path, window=late, max_lines=10, records=5) == CaptureShape(
        input_fields=3, output_fields=1)
