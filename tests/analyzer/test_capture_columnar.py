"""The columnar capture reader answers only when it gives exactly the per-record reader's rows."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.io import capture
from model_monitor_analyzer.io.capture import PayloadError, parse_capture_line, read_capture_batches, record_rows
from model_monitor_analyzer.io.capture_arrow import csv_rows_of_chunk
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp

WINDOW = TimeWindow(start=parse_timestamp("2024-01-01T10:00:00Z"), end=parse_timestamp("2024-01-01T11:00:00Z"))


def _reference_rows(chunk: bytes, window: TimeWindow | None, output_first: bool) -> list[str] | None:
    """Rows by the public per-record functions; None if any line is blank or malformed."""
    rows = []
    for line in chunk.split(b"\n")[: chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)]:
        try:
            record = parse_capture_line(line)
            when = record.inference_time
            if window is not None and not window.is_open:
                if not isinstance(when, str) or not window.contains_text(when):
                    continue
            made = record_rows([record.endpoint_input, record.endpoint_output], output_first=output_first)
        except (PayloadError, ValueError):
            return None
        rows += [text + "\n" for text, _ in made]
    return rows


def _record(inp, out, when, encoding="CSV", extra=None):
    capture = {}
    if inp is not None:
        capture["endpointInput"] = {"observedContentType": "text/csv", "mode": "INPUT", "data": inp, "encoding": encoding}
    if out is not None:
        capture["endpointOutput"] = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": out, "encoding": "CSV"}
    record = {"captureData": capture, "eventMetadata": {"eventId": "e", "inferenceTime": when}, "eventVersion": "0"}
    if extra is not None:
        record["extra"] = extra
    return orjson.dumps(record)


_plain_text = st.text(alphabet="0123456789.,-+ abcé", max_size=12)
_payload_text = st.one_of(_plain_text, _plain_text, _plain_text, st.text(alphabet="0123456789,\"\r\n", max_size=12))
_good_times = st.sampled_from(["2024-01-01T10:15:00Z", "2024-01-01T09:59:59Z", "2024-01-01T11:00:00Z"])
_odd_times = st.sampled_from(["2024-01-01 10:20:00", "soon", "2024-01-01T10:15:00+00:00", "2024-01-01T10:15:00.123Z"])
_times = st.one_of(_good_times, _good_times, _good_times, _odd_times)
_extras = st.none() | st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_usual_line = st.builds(
    _record,
    _payload_text,
    _payload_text,
    _times,
    st.sampled_from(["CSV"] * 8 + ["JSON", "csv"]),
    _extras,
)
_clean_line = st.builds(_record, _plain_text, _plain_text, _good_times, st.just("CSV"), _extras)
_odd_line = st.sampled_from(
    [
        b"",
        b"null",
        b"  " + _record("1", "0", "2024-01-01T10:15:00Z"),
        _record("1", "0", "2024-01-01T10:15:00Z") + b" null",
        _record("1", "0", "2024-01-01T10:15:00Z") + b" " + _record("2", "0", "2024-01-01T10:15:00Z"),
        b'{"captureData":{"endpointInput":{"data":"1","encoding":"CSV"},"endpointOutput":{"data":"0","encoding":"CSV"}},'
        b'"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"},"x":NaN}',
        b'{"captureData":{"endpointInput":{"data":"1","encoding":"CSV"},"endpointOutput":{"data":"0","encoding":"CSV"}},'
        b'"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"},"x":"\xff"}',
        b'{"captureData":null}',
        b"[]",
        b"{not json",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.one_of(
        st.lists(_clean_line, min_size=1, max_size=8),
        st.lists(st.one_of(_clean_line, _usual_line, _odd_line), min_size=1, max_size=8),
    ),
    trailing_break=st.booleans(),
    bounded=st.booleans(),
    output_first=st.booleans(),
)
def test_columnar_rows_equal_the_per_record_rows_whenever_it_answers(lines, trailing_break, bounded, output_first):
    chunk = b"\n".join(lines) + (b"\n" if trailing_break else b"")
    window = WINDOW if bounded else None
    rows = csv_rows_of_chunk(chunk, window=window, output_first=output_first)
    if rows is None:
        return
    assert rows.to_pylist() == _reference_rows(chunk, window, output_first)


def test_a_real_capture_file_takes_the_columnar_path(reference_examples):
    chunk = (reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "capture.jsonl").read_bytes()
    rows = csv_rows_of_chunk(chunk, window=None, output_first=True)
    assert rows is not None
    assert rows.to_pylist() == _reference_rows(chunk, None, True)


def test_a_leading_null_line_is_left_to_the_per_line_reader(tmp_path):
    # Arrow's JSON reader crashes the process on a chunk starting with a bare null.
    assert csv_rows_of_chunk(b"null\n" + _record("1", "0", "2024-01-01T10:15:00Z") + b"\n", window=None, output_first=True) is None
    (tmp_path / "a.jsonl").write_bytes(b"null\n" + _record("1", "0", "2024-01-01T10:15:00Z") + b"\n")
    problems = InputProblems()
    batches = list(read_capture_batches(tmp_path, problems=problems))
    assert [b.to_pylist() for b in batches] == [[{"_c0": "0", "_c1": "1"}]]
    assert (problems.good, problems.bad, problems.examples[0].line) == (1, 1, 1)


def test_files_mixing_plain_and_irregular_chunks_keep_their_order(tmp_path):
    folder = tmp_path / "ep" / "AllTraffic"
    folder.mkdir(parents=True)
    when = "2024-01-01T10:15:00Z"
    (folder / "1.jsonl").write_bytes(b"\n".join(_record(f"{i},{i}", "0.5", when) for i in range(3)) + b"\n")
    (folder / "2.jsonl").write_bytes(_record("7,8\n9,10", "0.1\n0.2", when) + b"\n{bad\n")
    (folder / "3.jsonl").write_bytes(_record("11", "0.9", when) + b"\n")
    problems = InputProblems()
    rows = [list(r.values()) for b in read_capture_batches(tmp_path, problems=problems, window=WINDOW) for r in b.to_pylist()]
    assert rows == [
        ["0.5", "0", "0"],
        ["0.5", "1", "1"],
        ["0.5", "2", "2"],
        ["0.1", "7", "8"],
        ["0.2", "9", "10"],
        ["0.9", "11", None],
    ]
    assert (problems.good, problems.bad, problems.examples[0].line) == (5, 1, 2)


def test_large_files_are_read_in_chunks_with_true_line_numbers(tmp_path, monkeypatch):
    when = "2024-01-01T10:15:00Z"
    lines = [_record(f"{i},{i + 1}", "0.5", when) for i in range(40)]
    lines[33] = b"{bad"
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    whole = InputProblems()
    expected = [r for b in read_capture_batches(tmp_path, problems=whole) for r in b.to_pylist()]
    monkeypatch.setattr(capture, "CHUNK_BYTES", 500)
    chunked = InputProblems()
    assert [r for b in read_capture_batches(tmp_path, problems=chunked) for r in b.to_pylist()] == expected
    assert len(expected) == 39
    assert (chunked.good, chunked.bad, chunked.examples[0].line) == (39, 1, 34)
