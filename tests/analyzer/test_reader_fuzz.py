"""Fuzzed input for the readers: every line is a record or a counted bad record; never a traceback."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import datasets
from model_monitor_analyzer.io.capture import read_capture_batches
from model_monitor_analyzer.io.datasets import read_csv_file, read_json_lines_file
from model_monitor_analyzer.io.problems import InputProblems

FIELD_BYTES = [b"1", b"-2.5", b"3e-05", b"abc", b"", b" ", b"\xff", b"\xc3\xa9", b"x\xe2\x82", b"\"q\"", b"\t", b"\r"]
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _line(fields: list[bytes]) -> bytes:
    return b",".join(fields)


lines_strategy = st.lists(st.lists(st.sampled_from(FIELD_BYTES), min_size=1, max_size=5).map(_line), min_size=1, max_size=60)


def _data_lines(body: bytes) -> int:
    """Lines Arrow reads as records: not empty (a lone carriage return splits a line, too)."""
    return sum(1 for line in body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n") if line)


@_SETTINGS
@given(lines=lines_strategy, chunk=st.sampled_from([64, 4096]))
def test_every_csv_line_is_a_row_or_a_counted_bad_record(tmp_path, monkeypatch, lines, chunk):
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", chunk)
    body = b"\n".join(line for line in lines if b"\r" not in line) + b"\n"
    file = tmp_path / "fuzz.csv"
    file.write_bytes(b"a,b,c\n" + body)
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = sum(batch.num_rows for batch in read_csv_file(file, header=True, problems=problems))
    assert rows == problems.good
    assert problems.good + problems.bad == _data_lines(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=6,
)
json_lines = st.lists(
    st.one_of(
        st.dictionaries(st.sampled_from(["x", "y", "z"]), json_values, min_size=1, max_size=3).map(
            lambda d: __import__("orjson").dumps(d)
        ),
        st.sampled_from([b"{broken", b"[1,2]", b"42", b"\xff\xfe", b'{"x": 1'] ),
    ),
    min_size=1,
    max_size=40,
)


@_SETTINGS
@given(lines=json_lines)
def test_every_json_line_is_a_row_or_a_counted_bad_record(tmp_path, lines):
    file = tmp_path / "fuzz.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    problems = InputProblems(max_bad_record_ratio=1.0)
    try:
        rows = sum(batch.num_rows for batch in read_json_lines_file(file, problems=problems))
    except AnalyzerInputError:
        return  # a one-line error for the user is an allowed outcome
    assert rows == problems.good
    assert problems.good + problems.bad == len(lines)


def _capture_line(inp: str, out: str | None, encoding: str) -> bytes:
    import orjson

    capture = {"endpointInput": {"data": inp, "encoding": encoding}}
    if out is not None:
        capture["endpointOutput"] = {"data": out, "encoding": "CSV"}
    return orjson.dumps({"captureData": capture, "eventMetadata": {"inferenceTime": "2024-01-01T10:00:00Z"}})


capture_lines = st.lists(
    st.one_of(
        st.builds(
            _capture_line,
            st.lists(st.sampled_from(["1", "2.5", "a", "", "\"x,y\"", "1e5"]), min_size=1, max_size=4).map(",".join),
            st.one_of(st.none(), st.sampled_from(["0.5", "1", ""])),
            st.sampled_from(["CSV", "JSON", "BASE64"]),
        ),
        st.sampled_from([b"{broken", b'{"captureData": 3}', b"[]", b"\xff", b'{"captureData": {}}']),
    ),
    min_size=1,
    max_size=40,
)


@_SETTINGS
@pytest.mark.parametrize("names", [("endpointInput", "endpointOutput"), ("endpointInput",)])
@given(lines=capture_lines)
def test_every_capture_line_is_a_record_or_a_counted_bad_record(tmp_path, names, lines):
    folder = tmp_path / "capture"
    folder.mkdir(exist_ok=True)
    (folder / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    problems = InputProblems(max_bad_record_ratio=1.0)
    batches = list(read_capture_batches(folder, capture_index_names=names, problems=problems))
    assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
    assert problems.good + problems.bad == len(lines)


def test_a_list_of_a_null_then_a_string_is_read_as_its_json_text(tmp_path):
    # Arrow 25 builds an invalid column for this line (it crashes when read): the reader must not use it.
    import orjson

    line = b'{"x":[null,"0"]}'
    file = tmp_path / "list.jsonl"
    file.write_bytes(line + b"\n")
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = [row for batch in read_json_lines_file(file, problems=problems) for row in batch.to_pylist()]
    assert rows == [{"x": orjson.dumps(orjson.loads(line)["x"]).decode()}]
    assert (problems.good, problems.bad) == (1, 0)
