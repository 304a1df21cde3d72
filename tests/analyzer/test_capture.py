"""Capture files: SageMaker's record layout, encodings, time window, bad lines, fuzzing."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io.capture import iter_capture_records, read_capture_batches
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow, parse_timestamp


def _record(inp, out, when="2024-01-01T10:15:00Z", encoding="CSV"):
    capture = {}
    if inp is not None:
        capture["endpointInput"] = {"observedContentType": "text/csv", "mode": "INPUT", "data": inp, "encoding": encoding}
    if out is not None:
        capture["endpointOutput"] = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": out, "encoding": encoding}
    return {"captureData": capture, "eventMetadata": {"eventId": "e", "inferenceTime": when}, "eventVersion": "0"}


def _write(folder: Path, records, name="a.jsonl") -> Path:
    path = folder / "ep" / "AllTraffic" / "2024" / "01" / "01" / "10" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in records))
    return path


def _rows(folder, **kwargs):
    problems = kwargs.pop("problems", InputProblems())
    batches = list(read_capture_batches(folder, problems=problems, **kwargs))
    rows = []
    for batch in batches:
        rows += [list(r.values()) for r in batch.to_pylist()]
    return rows, problems


def test_real_capture_puts_the_model_output_first(reference_examples, tmp_path):
    source = reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "capture.jsonl"
    shutil.copy(source, tmp_path / "capture.jsonl")
    rows, problems = _rows(tmp_path)
    first = json.loads(source.read_text().splitlines()[0])["captureData"]
    assert rows[0] == [first["endpointOutput"]["data"]] + first["endpointInput"]["data"].split(",")
    assert (problems.good, problems.bad) == (3, 0)


def test_trailing_newline_of_the_output_payload_is_ignored(reference_examples, tmp_path):
    record = json.loads((reference_examples / "from-idea-to-production-monitoring" / "notebook-output" / "capture-record.json").read_text())
    _write(tmp_path, [record])
    rows, _ = _rows(tmp_path)
    assert rows[0][0] == "0.1255551427602768"
    assert len(rows[0]) == 1 + len(record["captureData"]["endpointInput"]["data"].split(","))


def test_output_columns_position_end_puts_inputs_first(tmp_path):
    _write(tmp_path, [_record("1,2", "0.5")])
    assert _rows(tmp_path, output_first=False)[0] == [["1", "2", "0.5"]]


def test_only_the_requested_capture_index_is_read(tmp_path):
    _write(tmp_path, [_record("1,2", "0.5")])
    assert _rows(tmp_path, capture_index_names=("endpointInput",))[0] == [["1", "2"]]


def test_json_and_base64_payloads_become_rows(reference_examples, tmp_path):
    shutil.copy(reference_examples / "sdk-monitor-fixtures" / "captured-data.jsonl", tmp_path / "c.jsonl")
    rows, problems = _rows(tmp_path)
    # {"predictions": [3.5, 4.0, 5.5]} and {"instances": [1.0, 2.0, 5.0]}: one row each, output first
    assert rows[0] == ["3.5", "4.0", "5.5", "1.0", "2.0", "5.0"]
    assert problems.bad == 0
    encoded = base64.b64encode(b"7,8").decode()
    _write(tmp_path / "b64", [_record(encoded, base64.b64encode(b"0.1").decode(), encoding="BASE64")])
    assert _rows(tmp_path / "b64")[0] == [["0.1", "7", "8"]]


def test_mini_batch_payloads_give_one_row_per_line(tmp_path):
    _write(tmp_path, [_record("1,2\n3,4\n", "0.1\n0.2\n")])
    assert _rows(tmp_path)[0] == [["0.1", "1", "2"], ["0.2", "3", "4"]]


def test_records_outside_the_window_are_skipped(tmp_path):
    _write(tmp_path, [_record("1", "0", when=t) for t in ("2024-01-01T09:59:59Z", "2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z")])
    window = TimeWindow(start=parse_timestamp("2024-01-01T10:00:00Z"), end=parse_timestamp("2024-01-01T11:00:00Z"))
    rows, _ = _rows(tmp_path, window=window)
    assert len(rows) == 1
    records = list(iter_capture_records(tmp_path, window=window, problems=InputProblems()))
    assert [r.inference_time for r in records] == ["2024-01-01T10:00:00Z"]


def test_short_records_are_padded_with_missing_values(tmp_path):
    _write(tmp_path, [_record("1,2,3", "0"), _record("1", "0")])
    assert _rows(tmp_path)[0] == [["0", "1", "2", "3"], ["0", "1", None, None]]


def test_bad_lines_are_counted_with_file_and_line(tmp_path):
    good = [_record("1,2", "0")] * 20
    path = _write(tmp_path, good[:10] + [b"{not json\n"] + good[10:])
    rows, problems = _rows(tmp_path)
    assert len(rows) == 20
    assert problems.bad == 1
    assert problems.examples[0].path == str(path) and problems.examples[0].line == 11
    problems.check()


def test_too_many_bad_lines_fail_naming_the_first_location(tmp_path):
    path = _write(tmp_path, [_record("1", "0"), b"[]\n", b"{\"captureData\": 3}\n"])
    problems = InputProblems()
    _rows(tmp_path, problems=problems)
    with pytest.raises(AnalyzerInputError) as error:
        problems.check()
    assert error.value.path == str(path) and error.value.line == 2


def test_capture_record_exposes_the_preprocessor_attributes(reference_examples):
    records = list(
        iter_capture_records(
            reference_examples / "immersion-day-churn-data-quality" / "notebook-output" / "capture.jsonl",
            problems=InputProblems(),
        )
    )
    assert records[0].event_metadata.event_id == "8ea647eb-96e1-4f4f-ad5b-c3c953cc3fa6"
    assert records[0].endpoint_output.data == "0.039806101471185684"
    assert records[0].endpoint_input.text().startswith("92,0,176.3")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.binary(max_size=60),
            _json_values.map(lambda v: orjson.dumps(v)),
            st.builds(
                lambda i, o, e, t: orjson.dumps(_record(i, o, encoding=e, when=t)),
                st.one_of(st.none(), st.text(max_size=20)),
                st.one_of(st.none(), st.text(max_size=10)),
                st.sampled_from(["CSV", "JSON", "BASE64", "XML"]),
                st.sampled_from(["2024-01-01T10:15:00Z", "soon", "2024-01-01 10:20:00"]),
            ),
        ),
        max_size=15,
    )
)
def test_fuzzed_capture_lines_give_rows_or_counted_problems(tmp_path, lines):
    folder = tmp_path / "fuzz"
    shutil.rmtree(folder, ignore_errors=True)
    content = b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines)
    _write(folder, [content])
    window = TimeWindow(start=parse_timestamp("2024-01-01T00:00:00Z"), end=parse_timestamp("2024-01-02T00:00:00Z"))
    problems = InputProblems()
    if content.startswith(b"\x1f\x8b"):  # gzip's magic bytes: read as a compressed file, which this one is not
        with pytest.raises(AnalyzerInputError, match="cannot (decompress|read) this file"):
            _rows(folder, window=window, problems=problems)
        return
    _, problems = _rows(folder, window=window, problems=problems)
    non_blank = sum(1 for line in lines if line.replace(b"\n", b" ").strip())
    assert problems.good + problems.bad <= non_blank
    assert problems.bad == len([e for e in problems.examples]) or problems.bad > 20
