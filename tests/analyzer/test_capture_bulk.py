"""Capture files are read column-wise (Arrow's JSON reader, payload columns joined into CSV at once); the records
that path cannot take are read one by one in place. Whatever the mix, the rows, their order, the counts and the
bad lines (with file:line) are those of reading every record one by one."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pytest

from model_monitor_analyzer.io import capture
from model_monitor_analyzer.io.capture import CaptureSlice, capture_slices, read_capture_batches
from model_monitor_analyzer.io.jsonlines import json_chunk_table
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow

WINDOW = TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC), end=datetime(2024, 1, 1, 11, tzinfo=UTC))


def _value(rng: random.Random) -> object:
    return rng.choice([
        rng.randint(-5, 500), round(rng.uniform(-1e3, 1e3), rng.randint(0, 6)), rng.choice(["a", "b", "Lyon", "São Paulo"]),
        "1e5", 1.5e-7, True, None, "x, y", 'say "hi"', "tab\there", "line\nbreak", "",
    ])


def _csv_text(values: list[object]) -> str:
    return ",".join("" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in values)


def _payload(rng: random.Random, width: int) -> dict:
    values = [_value(rng) for _ in range(width)]
    plain = [v for v in values if not (isinstance(v, str) and any(c in v for c in ',"\n\t'))]
    kind = rng.choice(["csv", "csv", "csv", "csv-lower", "csv-crlf", "csv-rows", "csv-quoted", "json-array",
                       "json-array", "json-spaced", "json-object", "json-rows", "json-scalar", "base64", "no-encoding"])
    if kind == "csv":
        return {"data": _csv_text(plain) + rng.choice(["", "\n"]), "encoding": "CSV"}
    if kind == "csv-lower":
        return {"data": _csv_text(plain), "encoding": "csv"}
    if kind == "csv-crlf":
        return {"data": _csv_text(plain) + "\r\n", "encoding": "CSV"}
    if kind == "csv-rows":
        return {"data": _csv_text(plain) + "\n" + _csv_text(plain[::-1]) + "\n", "encoding": "CSV"}
    if kind == "csv-quoted":
        return {"data": '"x, y",' + _csv_text(plain), "encoding": "CSV"}
    if kind == "json-array":
        return {"data": orjson.dumps(values).decode(), "encoding": "JSON"}
    if kind == "json-spaced":
        return {"data": " [ " + ", ".join(orjson.dumps(v).decode() for v in values) + " ] ", "encoding": "JSON"}
    if kind == "json-object":
        return {"data": orjson.dumps({"features": values}).decode(), "encoding": "JSON"}
    if kind == "json-rows":
        return {"data": orjson.dumps([values, values]).decode(), "encoding": "JSON"}
    if kind == "json-scalar":
        return {"data": orjson.dumps(values[0]).decode(), "encoding": "JSON"}
    if kind == "base64":
        return {"data": base64.b64encode(_csv_text(plain).encode()).decode(), "encoding": "BASE64"}
    return {"data": _csv_text(plain)}


def _time(rng: random.Random) -> object:
    return rng.choice(["2024-01-01T10:15:00Z"] * 6 + ["2024-01-01T09:59:59Z", "2024-01-01T11:00:00Z",
                                                      "2024-01-01T10:15:00.123Z", "2024-01-01T10:15:00+00:00",
                                                      "yesterday", 1704103200, None])


def _line(rng: random.Random, width: int) -> bytes:
    kind = rng.random()
    if kind < 0.02:
        return b""  # a blank line
    if kind < 0.04:
        return b"{not json"
    if kind < 0.05:
        return b'{"captureData": "text"}'
    if kind < 0.06:
        return b'{"captureData": {}}{"captureData": {}}'
    record: dict = {"captureData": {}, "eventMetadata": {"inferenceTime": _time(rng)}, "eventVersion": "0"}
    if rng.random() < 0.9:
        record["captureData"]["endpointInput"] = _payload(rng, width)
    if rng.random() < 0.7:
        record["captureData"]["endpointOutput"] = {"data": f"{rng.random():.4f}", "encoding": "CSV",
                                                   "observedContentType": "text/csv", "mode": "OUTPUT"}
    if rng.random() < 0.02:
        del record["eventMetadata"]
    return orjson.dumps(record)


def _one_by_one(files, *, window, wants_input, wants_output, output_first, missing_output_fields=None):
    """The reference: every record through the per-record path."""
    problems = InputProblems(max_bad_record_ratio=1.0)
    reading = capture._Reading(window=window, wants_input=wants_input, wants_output=wants_output,
                               output_first=output_first, input_names=None,
                               missing_output_fields=missing_output_fields)
    rows: list[tuple[str, int]] = []
    for file in files:
        batch = capture._line_by_line_batch(file.read_bytes(), str(file), 0, reading, problems)
        if batch is not None:
            rows.extend(zip(*[column.to_pylist() for column in batch.columns], strict=True))
    return rows, problems


def _rows(batches: list[pa.RecordBatch]) -> list[tuple]:
    rows = []
    for batch in batches:
        rows.extend(zip(*[column.to_pylist() for column in batch.columns], strict=True))
    return rows


def _number_or_text(value: str | None) -> object:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value


def _trimmed(rows: list[tuple]) -> list[tuple]:
    """Rows without trailing missing fields (a batch is as wide as its widest row, and the batches differ), numbers
    as numbers: a JSON number keeps its spelling (``1.5e-7``) where the record-by-record path writes Python's
    (``1.5e-07``), the same value."""
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        out.append(tuple(_number_or_text(value) for value in row))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_column_wise_reading_equals_reading_record_by_record(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    width = rng.randint(1, 6)
    mostly_clean = seed % 3 == 0  # chunks without blank lines take the column-wise path
    lines = [_line(rng, width) if not mostly_clean or rng.random() < 0.1 else _line(random.Random(seed), width)
             for _ in range(rng.randint(50, 400))]
    if mostly_clean:
        lines = [line for line in lines if line]
    files = []
    for index in range(2):
        path = tmp_path / f"{index}.jsonl"
        path.write_bytes(b"\n".join(lines[index::2]) + rng.choice([b"\n", b""]))
        files.append(path)
    monkeypatch.setattr(capture, "CHUNK_BYTES", rng.choice([300, 4_000, 1 << 20]))
    for window in (None, WINDOW):
        # a record without an output gets missing output fields when both are read (a mixed window)
        for wants_input, wants_output, missing in ((True, True, None), (True, True, 2), (True, False, None),
                                                   (False, True, None)):
            for output_first in (True, False):
                expected, expected_problems = _one_by_one(files, window=window, wants_input=wants_input,
                                                          wants_output=wants_output, output_first=output_first,
                                                          missing_output_fields=missing)
                problems = InputProblems(max_bad_record_ratio=1.0)
                names = [name for name, wanted in (("endpointInput", wants_input), ("endpointOutput", wants_output))
                         if wanted]
                batches = list(read_capture_batches(tmp_path, window=window, capture_index_names=names,
                                                    output_first=output_first, problems=problems, files=files,
                                                    missing_output_fields=missing))
                assert _trimmed(_rows(batches)) == _trimmed(expected)
                assert (problems.good, problems.bad) == (expected_problems.good, expected_problems.bad)
                assert [(e.path, e.line, e.problem) for e in problems.examples] == [
                    (e.path, e.line, e.problem) for e in expected_problems.examples]


def test_clean_csv_records_take_the_column_wise_path(tmp_path, monkeypatch):
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": f"{i},{i * 0.5},c{i % 3}", "encoding": "CSV"},
                                           "endpointOutput": {"data": "0.5\n", "encoding": "CSV"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) for i in range(1_000)]
    path = tmp_path / "one.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    def refuse(*args, **kwargs):
        raise AssertionError("a record was read one by one")

    monkeypatch.setattr(capture, "_fast_rows", refuse)
    monkeypatch.setattr(capture, "_line_by_line_batch", refuse)
    problems = InputProblems()
    rows = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems)))
    assert problems.good == 1_000 and rows[3] == ("0.5", "3", "1.5", "c0")


def test_flat_json_arrays_take_the_column_wise_path_as_csv_rows(tmp_path, monkeypatch):
    values = [[i, i * 0.25, "us-west", "a b", True, -1.5e-3] for i in range(200)]
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": orjson.dumps(v).decode(), "encoding": "JSON"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) for v in values]
    path = tmp_path / "one.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(capture, "_fast_rows", lambda *a, **k: (_ for _ in ()).throw(AssertionError("one by one")))
    problems = InputProblems()
    rows = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems)))
    assert rows[2] == ("2", "0.5", "us-west", "a b", "true", "-0.0015")


def test_slices_of_one_file_read_what_the_whole_file_reads(tmp_path):
    rng = random.Random(5)
    lines = [_line(rng, 3) for _ in range(600)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    whole_problems = InputProblems(max_bad_record_ratio=1.0)
    whole = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=whole_problems, files=[path])))
    for parts in (2, 3, 7):
        runs = capture_slices([path], parts=parts)
        assert all(isinstance(piece, CaptureSlice) for run in runs for piece in run)
        rows, bad = [], []
        for run in runs:
            problems = InputProblems(max_bad_record_ratio=1.0)
            rows.extend(_rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems, files=run))))
            bad.extend((e.line, e.problem) for e in problems.examples)
        assert _trimmed(rows) == _trimmed(whole)
        assert bad[: len(whole_problems.examples)] == [(e.line, e.problem) for e in whole_problems.examples]


@pytest.mark.parametrize("first", [b"null", b"  null", b"[null]", b'"text"', b"42", b"\xff\xfe"])
def test_a_first_line_arrow_cannot_take_is_a_counted_bad_record(tmp_path, first):
    # a first line of bare `null` crashes Arrow's JSON reader itself: such a chunk is read line by line
    good = orjson.dumps({"captureData": {"endpointInput": {"data": "1,2", "encoding": "CSV"}},
                         "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}})
    (tmp_path / "a.jsonl").write_bytes(first + b"\n" + good + b"\n" + b"null\n" + good + b"\n")
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems)))
    assert rows == [("1", "2"), ("1", "2")]
    assert (problems.good, problems.bad) == (2, 2) and [e.line for e in problems.examples] == [1, 3]


def test_records_outside_the_window_are_counted_whichever_path_reads_them(tmp_path, monkeypatch):
    def line(when: str, data: str = "1,2") -> bytes:
        return orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "CSV"}},
                             "eventMetadata": {"inferenceTime": when}})

    lines = [line("2024-01-01T10:15:00Z"), line("2024-01-01T09:00:00Z"), line("2024-01-01T11:00:00Z"),
             line("2024-01-01T12:00:00.5Z"), line("2024-01-01T09:00:00Z", '"a, b",2')]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    for blank in (b"", b"\n"):  # a blank line sends the chunk line by line
        (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n" + blank)
        problems = InputProblems()
        rows = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems)))
        assert rows == [("1", "2")] and problems.good == 1 and problems.outside_window == 4


def _with_ids(rng: random.Random, line: bytes, index: int) -> bytes:
    """``line`` with the event ids a capture carries (some without an inference id, or an empty one), and now
    and then a batch-transform output instead of an endpoint output."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(record, dict) or not isinstance(record.get("eventMetadata"), dict):
        return line
    record["eventMetadata"]["eventId"] = f"event-{index}"
    record["eventMetadata"]["inferenceId"] = rng.choice([f"id-{index}", None, "", f"id-{index}"])
    if record["eventMetadata"]["inferenceId"] is None:
        del record["eventMetadata"]["inferenceId"]
    capture_data = record.get("captureData")
    if isinstance(capture_data, dict) and "endpointOutput" in capture_data and rng.random() < 0.1:
        capture_data["batchTransformOutput"] = capture_data.pop("endpointOutput")
    return orjson.dumps(record)


@pytest.mark.parametrize("seed", range(8))
def test_captured_outputs_read_column_wise_are_the_records_read_one_by_one(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    clean = seed % 2 == 0
    lines = [_with_ids(rng, _line(rng, 3), i) for i in range(rng.randint(50, 300))]
    if clean:
        lines = [line for line in lines if line and line.startswith(b"{")]
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(capture, "CHUNK_BYTES", rng.choice([400, 5_000, 1 << 20]))
    for window in (None, WINDOW):
        one_by_one = InputProblems(max_bad_record_ratio=1.0)
        records = list(capture.iter_capture_records(tmp_path, window=window, problems=one_by_one))
        columns = InputProblems(max_bad_record_ratio=1.0)
        batches = list(capture.read_captured_outputs(tmp_path, window=window, problems=columns))
        keys = [key for batch in batches for key in batch.keys.to_pylist()]
        assert keys == [r.event_metadata.inference_id or r.event_metadata.event_id for r in records]
        outputs = [r.endpoint_output or r.payload("batchTransformOutput") for r in records]
        assert [d for b in batches for d in b.data.to_pylist()] == [None if o is None else o.data for o in outputs]
        assert [e for b in batches for e in b.encodings.to_pylist()] == [None if o is None else o.encoding
                                                                         for o in outputs]
        assert [b.record(i) for b in batches for i in range(len(b))] == [r.raw for r in records]
        assert (columns.good, columns.bad, columns.outside_window) == (
            one_by_one.good, one_by_one.bad, one_by_one.outside_window)
        assert [(e.line, e.problem) for e in columns.examples] == [(e.line, e.problem) for e in one_by_one.examples]


def test_a_line_longer_than_a_parse_block_is_read_column_wise_whole(tmp_path, monkeypatch):
    # Arrow's JSON reader parses a chunk in blocks; a block always holds the chunk's longest line whole
    long_value = "x" * (3 << 20)
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": f"{i},{long_value if i == 5 else 'a'}",
                                                             "encoding": "CSV"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) for i in range(20)]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(capture, "CHUNK_BYTES", 16 << 20)
    monkeypatch.setattr(capture, "_line_by_line_batch", lambda *a, **k: (_ for _ in ()).throw(AssertionError("line by line")))
    problems = InputProblems()
    rows = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems)))
    assert problems.good == 20 and len(rows) == 20 and rows[5][1] == long_value


def _record(input_payload: dict | None, output_payload: dict | None = None, when: object = "2024-01-01T10:15:00Z",
            **extra: object) -> bytes:
    capture_data = {}
    if input_payload is not None:
        capture_data["endpointInput"] = input_payload
    if output_payload is not None:
        capture_data["endpointOutput"] = output_payload
    return orjson.dumps({"captureData": capture_data, "eventMetadata": {"inferenceTime": when}, **extra})


def _csv(data: str) -> dict:
    return {"data": data, "encoding": "CSV"}


def _json(data: str) -> dict:
    return {"data": data, "encoding": "JSON"}


_EDGE_LINES = {
    "exponent floats": [_record(_csv("1e5,2.5E-3,-7e+2"), _csv("1.5e-07")),
                        _record(_json("[1e5,-2.5E-3,1.0e+10]"), _csv("3E2"))],
    "ragged CSV": [_record(_csv(",".join(str(i) for i in range(width))), _csv("0.5")) for width in (1, 4, 2, 6, 3)]
                  + [_record(_csv("")), _record(_csv("7,8\n"))],
    "base64": [_record({"data": base64.b64encode(b"4,5,6").decode(), "encoding": "BASE64"}, _csv("0.25")),
               _record({"data": base64.b64encode(b"[4,null,6]").decode(), "encoding": "BASE64",
                        "observedContentType": "application/json"})],
    "missing output": [_record(_csv("1,2,3")), _record(None, _csv("0.75")), _record(None)],
    "outside the window": [_record(_csv("1,2,3"), when="2024-01-01T09:59:59Z"),
                           _record(_json("[1,null,3]"), when="2024-01-01T11:00:00Z"),
                           _record(_csv("1,2,3"), when="2024-01-01T10:15:00.5Z"), _record(_csv("1,2,3"), when=None)],
    "JSON nulls": [_record(_json(data), _csv("0.5")) for data in (
        "[null]", "[null,null,1]", "[1,null]", "[null,null,null]", '["null",null]', '[null,"a b",true]',
        "[ null , 2 ]", '["x,null,y",null]', "[nullx,1]", '[1,"null"]', "[false,null,false]")],
    "quoted CSV": [_record(_csv('"a, b",2,3'), _csv("0.5")), _record(_csv('say "hi",2'))],
    "JSON blanks": [_record(_json(data), _csv("0.5")) for data in (
        "[1,\t2]", "[1 ,2]", "[1,\n2]", '["a\tb",2]', "[1,\f2]", "[1,\r2]", "[1,  2]", "[ 1, 2 ]")],
    # characters a writer may escape as \uXXXX: a blank, a quote, a line break
    "unicode escapes": [b'{"captureData":{"endpointInput":{"data":"[1,\\u0020 2]","encoding":"JSON"}},'
                        b'"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"}}',
                        b'{"captureData":{"endpointInput":{"data":"[1,\\u00092]","encoding":"JSON"}},'
                        b'"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"}}',
                        b'{"captureData":{"endpointInput":{"data":"\\u0022a,b\\u0022,2","encoding":"CSV"}},'
                        b'"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"}}',
                        b'{"captureData":{"endpointInput":{"data":"1,2\\u000a3,4","encoding":"CSV"}},'
                        b'"eventMetadata":{"inferenceTime":"2024-01-01T10:15:00Z"}}'],
    "odd fields not read": [_record(_csv("1,2,3"), {"data": 5}), _record(_csv("1,2,3"), "text"),
                            _record(_csv("1,2,3"), _csv("0.5"), eventMetadata=5)],
}


def _edge_file(tmp_path, kind: str, bom: bool) -> list:
    clean = [_record(_csv(f"{i},{i * 0.5},c{i % 3}"), _csv(f"0.{i}")) for i in range(40)]
    edge = _EDGE_LINES[kind]
    lines = clean[:13] + edge[: len(edge) // 2] + clean[13:29] + edge[len(edge) // 2:] + clean[29:]
    path = tmp_path / f"{kind.replace(' ', '-')}.jsonl"
    path.write_bytes(capture.UTF8_BOM * bom + b"\n".join(lines) + b"\n")
    return [path]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("kind", sorted(_EDGE_LINES))
def test_edge_records_read_column_wise_equal_reading_record_by_record(tmp_path, monkeypatch, kind, bom):
    files = _edge_file(tmp_path, kind, bom)
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / files[0].name).write_bytes(files[0].read_bytes().removeprefix(capture.UTF8_BOM))
    for chunk_bytes in (1 << 20, 700):
        monkeypatch.setattr(capture, "CHUNK_BYTES", chunk_bytes)
        for window in (None, WINDOW):
            for names in (["endpointInput", "endpointOutput"], ["endpointInput"], ["endpointOutput"]):
                for output_first in (True, False):
                    expected, expected_problems = _one_by_one(
                        [reference / files[0].name], window=window, wants_input="endpointInput" in names,
                        wants_output="endpointOutput" in names, output_first=output_first)
                    problems = InputProblems(max_bad_record_ratio=1.0)
                    batches = list(read_capture_batches(tmp_path, window=window, capture_index_names=names,
                                                        output_first=output_first, problems=problems, files=files))
                    assert _trimmed(_rows(batches)) == _trimmed(expected)
                    assert (problems.good, problems.bad, problems.outside_window) == (
                        expected_problems.good, expected_problems.bad, expected_problems.outside_window)
                    assert [(e.line, e.problem) for e in problems.examples] == [
                        (e.line, e.problem) for e in expected_problems.examples]


def test_flat_json_arrays_with_null_items_take_the_column_wise_path(tmp_path, monkeypatch):
    items = ["null", "null", "1", '"a b"', "true", "null", "-2.5e-3"]  # adjacent nulls share a comma
    values = [[items[(i + k) % len(items)] for k in range(4)] for i in range(60)]
    lines = [_record(_json("[" + ", ".join(row) + "]")) for row in values]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(capture, "_fast_rows", lambda *a, **k: (_ for _ in ()).throw(AssertionError("one by one")))
    problems = InputProblems()
    rows = _rows(list(read_capture_batches(tmp_path, window=WINDOW, problems=problems)))
    assert problems.good == 60
    assert [tuple(None if v is None else v if v == "a b" else orjson.loads(v) for v in row) for row in rows] == [
        tuple(orjson.loads(item) for item in row) for row in values]


_OUTPUT_KINDS = [_csv("0.5\n"), _json('{"predictions": [0.25]}'), _json("[0.75]"),
                 {"data": base64.b64encode(b"0.125").decode(), "encoding": "BASE64"},
                 {"data": base64.b64encode(b'{"score": 0.5}').decode(), "encoding": "BASE64",
                  "observedContentType": "application/json"},
                 _csv('"quoted, text"'), _csv("say \\u0041 \"hi\"\ttab")]


def _outputs_file(tmp_path, *, bom: bool, blank: bool) -> list[bytes]:
    """Edge records of every kind with event ids, with outputs of every encoding, between clean ones, with lines
    that are not records (and, with ``blank``, a blank line, which sends its chunk line by line)."""
    rng = random.Random(7)
    lines = []
    for index, line in enumerate(line for kind in sorted(_EDGE_LINES) for line in _EDGE_LINES[kind]):
        record = orjson.loads(line)
        if isinstance(record.get("captureData"), dict) and rng.random() < 0.5:
            record["captureData"]["endpointOutput"] = rng.choice(_OUTPUT_KINDS)
        lines.append(_with_ids(rng, orjson.dumps(record), index))
        lines.append(_with_ids(rng, _record(_csv(f"{index},{index * 0.5}"), _csv(f"0.{index}")), 1000 + index))
    lines[17:17] = [b"{not json", b'{"captureData": "text"}', b"[1, 2]"] + [b"   "] * blank
    (tmp_path / "a.jsonl").write_bytes(capture.UTF8_BOM * bom + b"\n".join(lines) + b"\n")
    return lines


@pytest.mark.parametrize("blank", [False, True])
@pytest.mark.parametrize("bom", [False, True])
def test_captured_outputs_on_one_thread_and_in_slices_are_the_records_read_one_by_one(tmp_path, monkeypatch, bom,
                                                                                        blank):
    _outputs_file(tmp_path, bom=bom, blank=blank)
    path = tmp_path / "a.jsonl"
    assert [len(capture_slices([path], parts=parts)) for parts in (2, 3)] == [2, 3]  # the file is cut
    parsed = []  # (threads asked for, chunk read column-wise) of every chunk

    def spied(chunk, options, **kwargs):
        read = json_chunk_table(chunk, options, **kwargs)
        parsed.append((kwargs["use_threads"], read is not None))
        return read

    monkeypatch.setattr(capture, "json_chunk_table", spied)
    for window in (None, WINDOW):
        one_by_one = InputProblems(max_bad_record_ratio=1.0)
        records = list(capture.iter_capture_records(tmp_path, window=window, problems=one_by_one))
        outputs = [r.endpoint_output or r.payload("batchTransformOutput") for r in records]
        for chunk_bytes in (1 << 20, 2_000):
            monkeypatch.setattr(capture, "CHUNK_BYTES", chunk_bytes)
            for use_threads in (True, False):
                for runs in ([[path]], capture_slices([path], parts=2), capture_slices([path], parts=3)):
                    columns = InputProblems(max_bad_record_ratio=1.0)
                    batches = [batch for run in runs for batch in capture.read_captured_outputs(
                        tmp_path, window=window, problems=columns, files=run, use_threads=use_threads)]
                    assert [k for b in batches for k in b.keys.to_pylist()] == [
                        r.event_metadata.inference_id or r.event_metadata.event_id for r in records]
                    assert [d for b in batches for d in b.data.to_pylist()] == [
                        None if o is None else o.data for o in outputs]
                    assert [e for b in batches for e in b.encodings.to_pylist()] == [
                        None if o is None else o.encoding for o in outputs]
                    assert [b.record(i) for b in batches for i in range(len(b))] == [r.raw for r in records]
                    assert (columns.good, columns.bad, columns.outside_window) == (
                        one_by_one.good, one_by_one.bad, one_by_one.outside_window)
                    assert [(e.path, e.line, e.problem) for e in columns.examples] == [
                        (e.path, e.line, e.problem) for e in one_by_one.examples]
                    assert {threads for threads, _ in parsed} == {use_threads}
                    # small chunks: most hold only lines Arrow takes (a large one holds the lines it refuses)
                    assert any(column_wise for _, column_wise in parsed) or chunk_bytes > 2_000
                    parsed.clear()
    # the three lines that are not records at their lines, then edge records with an unusable member
    assert [e.line for e in one_by_one.examples][:3] == [18, 19, 20] and one_by_one.bad > 3
