"""Every reader's column-wise (Arrow) path gives what its per-record path gives, on data as users make it: byte-order
marks, CRLF and lone carriage returns, exponent floats, ``DataFrame.to_csv`` floats, quoted values with commas and
line breaks, blanks other than the space, NaN and infinity spellings, empty payloads, ragged rows. Same rows, same
counts, same bad records at the same ``file:line``; never a traceback."""

from __future__ import annotations

import base64
import sys
from datetime import UTC, datetime

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model_monitor_analyzer.errors import AnalyzerInputError
from model_monitor_analyzer.io import capture, datasets, ground_truth, merge
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow

WINDOW = TimeWindow(start=datetime(2024, 1, 1, 10, tzinfo=UTC), end=datetime(2024, 1, 1, 11, tzinfo=UTC))
_SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                              HealthCheck.too_slow])

NUMBERS = ["1", "-2.5", "1e-05", "1E+300", "2.5e-3", "0.30000000000000004", "1.0000000000000002e-07", ".5", "5.", "+1",
           "-0.0", "123456789012345678901234567890", "1e400"]
NON_FINITE = ["nan", "NaN", "NAN", "inf", "-inf", "Infinity", "-Infinity", "+inf"]
TEXTS = ["abc", "São Paulo", "x y", "true", "FALSE", "null", 'a"b', "\\"]
BLANKS = ["", " ", "\v", "\xa0", "\u2003", "\t", "\f", "\x1c", "\u3000", "\ufeff", "  1  ", "\xa01"]
QUOTED = ['"a,b"', '"line\nbreak"', '"say ""hi"""', '"cr\rinside"', '"crlf\r\nin"', '""', '" "']
BREAKS = ["1\r2", "\r", "\n"]

floats = st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr)  # Python's str(float), as pandas writes
fields = st.one_of(st.sampled_from(NUMBERS + NON_FINITE + TEXTS + BLANKS + QUOTED + BREAKS), floats)
row_ends = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_payloads(draw, width: int) -> str:
    """A CSV payload: one row mostly, a mini-batch of rows sometimes, some rows short or long (ragged), ending in
    nothing or a line break, now and then a byte-order mark first or nothing at all."""
    rows = [",".join(draw(st.lists(fields, min_size=w, max_size=w)))
            for w in draw(st.lists(st.sampled_from([width] * 4 + [1, width + 1]), min_size=1, max_size=3))]
    text = draw(row_ends).join(rows) + draw(st.sampled_from(["", "", "\n", "\r\n", "\r"]))
    return draw(st.sampled_from(["", "", "", "\ufeff"])) + text if draw(st.integers(0, 19)) else ""


json_items = st.one_of(st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False), st.none(), st.booleans(),
                       st.sampled_from(TEXTS + BLANKS + ["a,b", "x\ny", "1e-05"]), st.sampled_from([1e-05, 1e300]))


FEATURES = ("f0", "f1", "f2")  # the baseline's feature names, which lay out JSON objects


@st.composite
def json_objects(draw) -> str:
    """Rows as JSON objects, by the feature names or not, some with no member at all (a row of missing values)."""
    row = st.dictionaries(st.sampled_from([*FEATURES, "other"]), json_items, max_size=4)
    document = draw(st.one_of(row, st.lists(row, min_size=1, max_size=3), row.map(lambda r: {"instances": [r, {}]}),
                              st.just([[]])))
    return orjson.dumps(document).decode()


@st.composite
def payloads(draw, width: int) -> dict:
    kind = draw(st.sampled_from(["CSV"] * 5 + ["csv", None, "JSON", "JSON", "BASE64", "JSON objects"]))
    if kind == "JSON objects":
        return {"data": draw(json_objects()), "encoding": "JSON"}
    if kind == "JSON":
        values = draw(st.lists(json_items, min_size=width, max_size=width))
        return {"data": orjson.dumps(values if draw(st.booleans()) or width == 0 else [values, values]).decode(),
                "encoding": "JSON"}
    data = draw(csv_payloads(width))
    if kind == "BASE64":
        return {"data": base64.b64encode(data.encode()).decode(), "encoding": "BASE64"}
    return {"data": data} if kind is None else {"data": data, "encoding": kind}


OUTPUTS = ["0.5", "1e-05", "nan", " ", "\v", "0.5\r", "0.5\r\n", "", "1,2", "\ufeff0.5", '"0.5"']
TIMES = ["2024-01-01T10:15:00Z"] * 6 + ["2024-01-01T09:59:59Z", "2024-01-01T10:15:00.5Z", None]


@st.composite
def capture_lines(draw, width: int) -> bytes:
    if draw(st.integers(0, 29)) == 0:  # not a record: blank to bytes.strip, blank only to str.strip, not JSON
        return draw(st.sampled_from([b"", b" ", b"\v", b"\r", b"{broken", b"\xc2\xa0", b"\xef\xbb\xbf{}"]))
    record: dict = {"captureData": {}, "eventMetadata": {"inferenceTime": draw(st.sampled_from(TIMES))}}
    if draw(st.integers(0, 19)):
        record["captureData"]["endpointInput"] = draw(payloads(width))
    if draw(st.integers(0, 4)):
        record["captureData"]["endpointOutput"] = draw(st.one_of(
            st.sampled_from(OUTPUTS).map(lambda data: {"data": data, "encoding": "CSV"}), payloads(1)))
    return orjson.dumps(record)


@st.composite
def capture_files(draw) -> tuple[bytes, bytes]:
    """(file bytes, the same without the byte-order mark a file may start with): lines ending in LF or CRLF."""
    width = draw(st.integers(1, 5))
    lines = draw(st.lists(capture_lines(width), min_size=1, max_size=25))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = draw(st.sampled_from([b"", capture.UTF8_BOM])) + end.join(lines) + draw(st.sampled_from([end, b""]))
    return data, data.removeprefix(capture.UTF8_BOM)


def _number_or_text(value: object) -> object:
    """A JSON number keeps its spelling on the column-wise path (``0.00001``) where the per-record path writes
    Python's (``1e-05``): the same value. Text with blanks around it is compared as it is."""
    if not isinstance(value, str) or value != value.strip() or "_" in value:
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return ("number", number) if number == number else ("nan", value.lower())


def _rows(batches) -> list[tuple]:
    """Rows without their trailing missing fields (a batch is as wide as its widest row, and batches differ)."""
    rows = []
    for batch in batches:
        if batch is None:
            continue
        for row in zip(*[column.to_pylist() for column in batch.columns], strict=True):
            row = list(row)
            while row and row[-1] is None:
                row.pop()
            rows.append(tuple(_number_or_text(value) for value in row))
    return rows


def _tally(problems: InputProblems) -> tuple:
    return (problems.good, problems.bad, problems.outside_window,
            [(example.path, example.line, example.problem) for example in problems.examples])


_READINGS = [(names, window, output_first, missing)
             for names, missing in ((("endpointInput", "endpointOutput"), None), (("endpointInput", "endpointOutput"), 1),
                                    (("endpointInput",), None), (("endpointOutput",), None))
             for window in (None, WINDOW) for output_first in ((True, False) if len(names) == 2 else (True,))]


@settings(_SETTINGS, max_examples=40)  # each example is read 12 ways
@given(file=capture_files(), chunk_bytes=st.sampled_from([300, 1 << 20]), features=st.sampled_from([None, FEATURES]))
def test_capture_rows_read_column_wise_are_the_rows_read_record_by_record(tmp_path, monkeypatch, file, chunk_bytes,
                                                                         features):
    data, body = file
    path = tmp_path / "a.jsonl"
    path.write_bytes(data)
    monkeypatch.setattr(capture, "CHUNK_BYTES", chunk_bytes)
    for names, window, output_first, missing in _READINGS:
        reading = capture.capture_reading(window=window, capture_index_names=names, output_first=output_first,
                                          missing_output_fields=missing, input_names=features)
        expected_problems = InputProblems(max_bad_record_ratio=1.0)
        expected = _rows([capture._line_by_line_batch(body, str(path), 0, reading, expected_problems)])
        problems = InputProblems(max_bad_record_ratio=1.0)
        rows = _rows(capture.read_capture_batches(tmp_path, window=window, capture_index_names=names,
                                                  output_first=output_first, problems=problems, files=[path],
                                                  missing_output_fields=missing, input_names=features))
        assert rows == expected
        assert _tally(problems) == _tally(expected_problems)
        # the column-wise path on the whole body at once, when it takes it
        column_wise = InputProblems(max_bad_record_ratio=1.0)
        try:
            batch = capture._bulk_batch(body, str(path), 0, reading, column_wise)
        except capture._NotColumnWise:
            continue
        assert _rows([batch]) == expected
        assert _tally(column_wise) == _tally(expected_problems)


@_SETTINGS
@given(file=capture_files(), chunk_bytes=st.sampled_from([300, 1 << 20]))
def test_captured_outputs_read_column_wise_are_the_records_read_one_by_one(tmp_path, monkeypatch, file, chunk_bytes):
    data, _ = file
    (tmp_path / "a.jsonl").write_bytes(data)
    monkeypatch.setattr(capture, "CHUNK_BYTES", chunk_bytes)
    for window in (None, WINDOW):
        one_by_one = InputProblems(max_bad_record_ratio=1.0)
        records = list(capture.iter_capture_records(tmp_path, window=window, problems=one_by_one))
        columns = InputProblems(max_bad_record_ratio=1.0)
        batches = list(capture.read_captured_outputs(tmp_path, window=window, problems=columns))
        outputs = [record.endpoint_output for record in records]
        assert [d for batch in batches for d in batch.data.to_pylist()] == [
            None if output is None else output.data for output in outputs]
        assert [batch.record(i) for batch in batches for i in range(len(batch))] == [record.raw for record in records]
        assert _tally(columns) == _tally(one_by_one)


# ------------------------------------------------------------------------------------------------ CSV datasets
csv_file_fields = st.one_of(fields, st.sampled_from([b"\xff", b"\xc3"]))  # bytes that are not UTF-8


def _field_bytes(field: str | bytes) -> bytes:
    return field if isinstance(field, bytes) else field.encode()


@st.composite
def csv_files(draw) -> bytes:
    width = draw(st.integers(1, 4))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    if draw(st.integers(0, 3)) == 0:  # pandas' own floats: shortest repr, exponents for small and large ones
        values = np.random.default_rng(draw(st.integers(0, 1000))).normal(size=(draw(st.integers(1, 20)), width))
        frame = pd.DataFrame(values * 10.0 ** draw(st.integers(-12, 12)), columns=[f"c{i}" for i in range(width)])
        return frame.to_csv(index=False, lineterminator=end.decode()).encode()
    lines = [",".join(f"c{i}" for i in range(width)).encode()]
    for fields_of_row in draw(st.lists(st.lists(csv_file_fields, min_size=1, max_size=width + 1), min_size=1,
                                       max_size=25)):
        lines.append(b",".join(_field_bytes(field) for field in fields_of_row))
        if draw(st.integers(0, 19)) == 0:
            lines.append(draw(st.sampled_from([b"", b" ", b"\r"])))
    return draw(st.sampled_from([b"", datasets.UTF8_BOM])) + end.join(lines) + draw(st.sampled_from([end, b""]))


def _read_csv(path, *, line_by_line: bool, monkeypatch) -> tuple[list[dict], InputProblems]:
    parse, again = datasets._parse_csv_chunk, datasets._csv_chunk_line_by_line
    read_again = []

    def refuse_whole_chunks(chunk, names, parse_options, convert_options):
        # the chunk's own parse fails, as on a row Arrow refuses: every line is read again, line by line
        if sys._getframe(1).f_code.co_name == "csv_chunk_batches":
            raise pa.ArrowInvalid("read line by line")
        return parse(chunk, names, parse_options, convert_options)

    def line_by_line_read(*args):
        read_again.append(args[0])
        return again(*args)

    with monkeypatch.context() as patch:
        if line_by_line:
            patch.setattr(datasets, "_parse_csv_chunk", refuse_whole_chunks)
            patch.setattr(datasets, "_csv_chunk_line_by_line", line_by_line_read)
        problems = InputProblems(max_bad_record_ratio=1.0)
        rows = [row for batch in datasets.read_csv_file(path, header=True, problems=problems)
                for row in batch.to_pylist()]
    assert read_again or not line_by_line or not rows  # the line-by-line path was taken
    return rows, problems


@_SETTINGS
@given(data=csv_files(), chunk_bytes=st.sampled_from([64, 4 << 20]))
def test_csv_rows_read_by_arrow_are_the_rows_read_line_by_line(tmp_path, monkeypatch, data, chunk_bytes):
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", chunk_bytes)
    rows, problems = _read_csv(path, line_by_line=False, monkeypatch=monkeypatch)
    expected, expected_problems = _read_csv(path, line_by_line=True, monkeypatch=monkeypatch)
    assert rows == expected
    assert _tally(problems) == _tally(expected_problems)


def test_a_first_row_with_a_value_beyond_the_csv_modules_limit_is_read(tmp_path):
    # Python's CSV module refuses a value over 128 KiB (Arrow reads it): the first row is read by both
    path = tmp_path / "long.csv"
    path.write_text("x" * 200_000 + ",1\n" + "y,2\n")
    problems = InputProblems()
    rows = [row for batch in datasets.read_csv_file(path, header=False, problems=problems) for row in batch.to_pylist()]
    assert rows == [{"_c0": "x" * 200_000, "_c1": "1"}, {"_c0": "y", "_c1": "2"}]


# ------------------------------------------------------------------------------------------------ model quality
mq_pieces = st.sampled_from(["0.5", "1", "0", "1e-05", "1E+300", "nan", "-inf", "Infinity", " 0.25 ", ",", "", " ", "\t",
                             "\f", "\v", "\xa0", "\u2003", "\x1c", "\x85", "\u2028", "\ufeff", "\n", "\r", "\r\n", '"',
                             '""', "x", "1,2", "0.1,0.9", ",,", "true"])
mq_texts = st.lists(mq_pieces, max_size=3).map("".join)


def _values_or_error(read, *args) -> object:
    try:
        columns = read(*args)
    except AnalyzerInputError as error:
        return str(error)
    return [None if column is None else column.to_pylist()
            for column in (columns.predictions, columns.probabilities, columns.labels)]


@_SETTINGS
@given(pairs=st.lists(st.tuples(mq_texts, mq_texts, st.sampled_from(["CSV", "csv"])), min_size=1, max_size=5))
def test_model_quality_values_read_on_columns_are_the_values_read_record_by_record(pairs):
    records = [{"captureData": {"endpointOutput": {"data": output, "encoding": "CSV"}},
                "groundTruthData": {"data": label, "encoding": encoding}, "eventMetadata": {"eventId": f"e{i}"}}
               for i, (output, label, encoding) in enumerate(pairs)]
    outputs = merge._dict_parts([record["captureData"]["endpointOutput"] for record in records])
    labels = merge._dict_parts([record["groundTruthData"] for record in records])
    for inference, probability in (("0", "0"), ("1", "0"), (None, None), ("0", None), ("0", "0-1")):
        attributes = merge.ValueAttributes(inference_attribute=inference, probability_attribute=probability,
                                           class_probabilities=probability == "0-1")
        expected = _values_or_error(merge._record_by_record, records, attributes)
        column_wise = merge._one_row_csv_columns(outputs, labels, attributes)
        if column_wise is not None:
            assert [None if column is None else column.to_pylist() for column in
                    (column_wise.predictions, column_wise.probabilities, column_wise.labels)] == expected
        assert _values_or_error(merge.labelled_columns, records, attributes) == expected


# ------------------------------------------------------------------------------------------------ ground truth
label_data = st.sampled_from(["0", "1", "1e-05", "nan", " ", "\v", "\xa0", "\r", "1\r0", "\ufeff1", '"a,b"', "", "true"])


@st.composite
def label_lines(draw, index: int) -> bytes:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from([b"", b" ", b"\v", b"\r", b"\xc2\xa0", b"{not", b"null", b"[]"]))
    record: dict = {"groundTruthData": {"data": draw(label_data)},
                    "eventMetadata": {"eventId": draw(st.sampled_from([f"id-{index}", "", " ", "\v"]))}, "eventVersion": "0"}
    encoding = draw(st.sampled_from(["CSV", "csv", "JSON", None]))
    if encoding is not None:
        record["groundTruthData"]["encoding"] = encoding
    if draw(st.integers(0, 19)) == 0:
        record["groundTruthData"]["data"] = draw(st.sampled_from([1, None, 1.5, ["1"]]))
    line = orjson.dumps(record)
    return b" \t" + line + b" " if draw(st.integers(0, 19)) == 0 else line


@st.composite
def label_files(draw) -> bytes:
    lines = [draw(label_lines(index)) for index in range(draw(st.integers(1, 25)))]
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    return draw(st.sampled_from([b"", datasets.UTF8_BOM])) + end.join(lines) + draw(st.sampled_from([end, b""]))


@_SETTINGS
@given(data=label_files(), chunk_bytes=st.sampled_from([100, 1 << 20]))
def test_labels_read_column_wise_are_the_labels_read_one_by_one(tmp_path, monkeypatch, data, chunk_bytes):
    folder = tmp_path / "gt" / "2024" / "01" / "01" / "10"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jsonl").write_bytes(data)
    monkeypatch.setattr(ground_truth, "LABEL_CHUNK_BYTES", chunk_bytes)
    one_by_one, by_columns = InputProblems(max_bad_record_ratio=1.0), InputProblems(max_bad_record_ratio=1.0)
    read = list(ground_truth.read_ground_truth(tmp_path / "gt", problems=one_by_one))
    columns = ground_truth.read_ground_truth_columns(tmp_path / "gt", problems=by_columns)
    assert columns.event_ids.to_pylist() == [label.event_id for label in read]
    assert columns.data.to_pylist() == [label.data for label in read]
    assert columns.encodings.to_pylist() == [label.encoding for label in read]
    assert list(columns.records) == [label.record for label in read]
    assert _tally(by_columns) == _tally(one_by_one)


@pytest.mark.parametrize(("payload", "rows"), [
    ("1,2\r3,4", [("1", "2"), ("3", "4")]),  # a lone carriage return ends a row, as a line feed does
    ('"a\nb",1\r\n2,3', [("a\nb", "1"), ("2", "3")]),  # a quoted line break stays in its value
    ('"cr\rin",1\n2,3', [("cr\rin", "1"), ("2", "3")]),
])
def test_a_csv_payload_is_cut_into_rows_at_line_breaks_outside_quotes(tmp_path, payload, rows):
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "CSV"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) for data in ("5,6", payload)]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    problems = InputProblems()
    batches = list(capture.read_capture_batches(tmp_path, capture_index_names=("endpointInput",), problems=problems))
    assert [tuple(row.values()) for batch in batches for row in batch.to_pylist()] == [("5", "6"), *rows]
    assert problems.good == 2


def test_a_byte_order_mark_in_a_payload_stays_in_its_value_wherever_its_row_falls(tmp_path):
    # Arrow's CSV reader drops one at the start of its input: the first payload of a batch lost it, the others not
    payloads = ['\ufeff"q",1', '\ufeff"q",1']
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "CSV"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) for data in payloads]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    batches = list(capture.read_capture_batches(tmp_path, capture_index_names=("endpointInput",),
                                                problems=InputProblems()))
    assert [row["_c0"] for batch in batches for row in batch.to_pylist()] == ['\ufeff"q"', '\ufeff"q"']


def test_a_quoted_capture_value_beyond_the_csv_modules_limit_is_one_value_on_both_paths(tmp_path):
    long_value = "x," * 100_000  # 200 KB with commas, in quotes
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "CSV"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}})
             for data in (f'"{long_value}",1', "2,3", f'"{long_value}",4\n5,6')]
    body = b"\n".join(lines) + b"\n"
    (tmp_path / "a.jsonl").write_bytes(body)
    expected = [(long_value, "1"), ("2", "3"), (long_value, "4"), ("5", "6")]
    reading = capture.capture_reading(window=None, capture_index_names=("endpointInput",))
    one_by_one = capture._line_by_line_batch(body, "a.jsonl", 0, reading, InputProblems())
    assert [tuple(row.values()) for row in one_by_one.to_pylist()] == expected
    batches = capture.read_capture_batches(tmp_path, capture_index_names=("endpointInput",), problems=InputProblems())
    assert [tuple(row.values()) for batch in batches for row in batch.to_pylist()] == expected


def test_a_model_quality_label_beyond_the_csv_modules_limit_is_read():
    long_label = "y" * 200_000
    records = [{"captureData": {"endpointOutput": {"data": '"0.5"', "encoding": "CSV"}},
                "groundTruthData": {"data": f"{long_label}\n", "encoding": "CSV"}, "eventMetadata": {"eventId": "e0"}}]
    columns = merge.labelled_columns(records, merge.ValueAttributes(inference_attribute="0"))
    assert (columns.predictions.to_pylist(), columns.labels.to_pylist()) == (["0.5"], [long_label])


@pytest.mark.parametrize("empty", ["{}", "[[]]", '{"instances": [{}]}'])
def test_a_json_row_of_no_values_is_a_row_of_missing_values_not_an_extra_column(tmp_path, empty):
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "JSON"}}})
             for data in ('{"f0": 1, "f1": 2}', empty)]
    body = b"\n".join(lines) + b"\n"
    (tmp_path / "a.jsonl").write_bytes(body)
    reading = capture.capture_reading(window=None, capture_index_names=("endpointInput",), input_names=FEATURES[:2])
    expected = [{"_c0": "1", "_c1": "2"}, {"_c0": None, "_c1": None}]
    assert capture._line_by_line_batch(body, "a.jsonl", 0, reading, InputProblems()).to_pylist() == expected
    assert capture._bulk_batch(body, "a.jsonl", 0, reading, InputProblems()).to_pylist() == expected
    # alone in its chunk, it is still a row (the column-wise path kept none)
    alone = lines[1] + b"\n"
    for read in (capture._line_by_line_batch, capture._bulk_batch):
        assert read(alone, "a.jsonl", 0, reading, InputProblems()).to_pylist() == [{"_c0": None}]


@pytest.mark.parametrize("chunk_bytes", [32, 4 << 20])
def test_a_lone_carriage_return_before_a_quoted_line_break_keeps_both_rows_as_pandas_reads_them(
        tmp_path, monkeypatch, chunk_bytes):
    # the physical line '3,\v,\xa0<CR>4,nan,"q<CR><LF>' holds two rows, the second opening a quoted value that the
    # next line closes: both rows were refused as a quote never closed
    data = (b'\xef\xbb\xbfa,b,c\r\n1,2e-05,x\r\n3,\x0b,\xc2\xa0\r4,nan,"q\r\nz"\r\n5,1E+300,"a,b"\r\n\r\n6,-inf,\r\n'
            b"7,8,9,10\r\n")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", chunk_bytes)
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = [row for batch in datasets.read_csv_file(path, header=True, problems=problems) for row in batch.to_pylist()]
    expected = pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="skip").to_dict("records")
    assert rows == [{name: value if value != "" else None for name, value in row.items()} for row in expected]
    assert [(example.line, example.problem) for example in problems.examples] == [(8, "expected 3 fields, found 4")]


@pytest.mark.parametrize("ends", [[b"\r"] * 4, [b"\r", b"\n", b"\r\n", b"\r"]])  # CR line ends (classic Mac), mixed
def test_a_csv_file_with_carriage_return_line_ends_keeps_the_rows_after_its_header_as_pandas_reads_them(
        tmp_path, ends):
    # the rows on the header's physical line were skipped with it: a CR-only file read as no records at all
    rows = [b"a,b", b"1,2e-05", b'"x,y",\xef\xbb\xbf', b"\xef\xbb\xbf3,nan"]
    path = tmp_path / "mac.csv"
    path.write_bytes(b"".join(row + end for row, end in zip(rows, ends, strict=True)))
    problems = InputProblems()
    read = [row for batch in datasets.read_csv_file(path, header=True, problems=problems) for row in batch.to_pylist()]
    expected = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    assert read == expected and (problems.good, problems.bad) == (3, 0)


@pytest.mark.parametrize("inside", ["\u2028", "\x85", "\u2029"])
def test_a_json_lines_payload_is_cut_at_line_feeds_only(inside):
    # str.splitlines cut a JSON Lines payload inside a string at these, and the payload was refused as not JSON
    text = orjson.dumps({"score": 0.25, "note": f"a{inside}b"}).decode() + "\r\n" + orjson.dumps({"score": 0.75}).decode()
    records = [{"captureData": {"endpointOutput": {"data": text, "encoding": "JSON"}},
                "groundTruthData": {"data": "1\n0", "encoding": "CSV"}, "eventMetadata": {"eventId": "e0"}}]
    columns = merge.labelled_columns(records, merge.ValueAttributes(inference_attribute="[*].score"))
    assert (columns.predictions.to_pylist(), columns.labels.to_pylist()) == (["0.25", "0.75"], ["1", "0"])


# ------------------------------------------------------------------------------------------------ JSON Lines datasets
json_line_values = st.one_of(st.integers(-5, 5), st.sampled_from(TEXTS + BLANKS + ["a,b", "x\ny"]))
json_dataset_lines = st.one_of(
    st.dictionaries(st.sampled_from("abc"), json_line_values, min_size=1, max_size=3).map(orjson.dumps),
    st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), min_size=1, max_size=3).map(
        lambda record: orjson.dumps(record, option=orjson.OPT_INDENT_2).replace(b"\n", b"\r")),  # CRs as blanks
    st.sampled_from([b"{bad", b"[1]", b"", b" ", b'{"a": 1}\r{"b": 2}']))


@_SETTINGS
@given(lines=st.lists(json_dataset_lines, min_size=1, max_size=15), end=st.sampled_from([b"\n", b"\r\n"]))
def test_json_lines_read_by_arrow_are_the_records_read_one_by_one(lines, end):
    chunk = end.join(lines) + end
    by_arrow = InputProblems(max_bad_record_ratio=1.0)
    rows = [{name: datasets._scalar_text(value) for name, value in row.items() if value is not None}
            for batch in datasets.json_lines_chunk_batches(chunk, lines_before=0, path_text="a.jsonl", problems=by_arrow)
            for row in batch.to_pylist()]
    one_by_one = InputProblems(max_bad_record_ratio=1.0)
    batch = datasets._json_lines_one_by_one(chunk, 0, "a.jsonl", one_by_one)
    expected = [] if batch is None else [{name: value for name, value in row.items() if value is not None}
                                         for row in batch.to_pylist()]
    assert rows == expected
    assert _tally(by_arrow) == _tally(one_by_one)


json_numbers = st.one_of(st.integers(-10, 10), st.integers(2**53, 2**64 - 1), st.sampled_from([2.0, -3.0, 1e16, 0.0, 6.0]),
                         st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), st.none())


def _kinds_nulls_numbers(tables: list[pa.Table], names: list[str]) -> dict:
    """Per column: (nulls, kind counts, sorted numbers) of the tables together (a column a table lacks: nulls)."""
    from model_monitor_analyzer.profile.datatypes import classify

    found = {}
    for name in names:
        nulls, kinds, numbers = 0, [0, 0, 0, 0], []
        for table in tables:
            if name not in table.column_names:
                nulls += table.num_rows
                continue
            classified = classify(table.column(name).combine_chunks())
            nulls += classified.nulls
            kinds = [total + count for total, count in zip(kinds, classified.kind_counts, strict=True)]
            numbers += classified.numbers.tolist()
        found[name] = (nulls, kinds, sorted(numbers))
    return found


@_SETTINGS
@given(records=st.lists(st.fixed_dictionaries({"a": json_numbers, "n": st.fixed_dictionaries({"b": json_numbers}),
                                               "t": st.sampled_from(["x", 'say "5"', "a\\nb"])}),
                        min_size=2, max_size=30), cut=st.integers(1, 29))
def test_json_lines_numbers_count_by_how_they_are_written_however_the_file_is_cut(records, cut):
    # Arrow types a column of 2 and 2.5 as float; each counts as the line-by-line path counts it: 2 Integral, 2.5
    # and 2.0 Fractional, whichever chunk it is read in
    lines = [orjson.dumps(record) for record in records]
    chunk = b"\n".join(lines) + b"\n"
    expected_table = pa.Table.from_batches([datasets._json_lines_one_by_one(chunk, 0, "a.jsonl", InputProblems())])
    names = sorted(expected_table.column_names)
    expected = _kinds_nulls_numbers([expected_table], names)
    whole = [pa.Table.from_batches([batch]) for batch in datasets.json_lines_chunk_batches(
        chunk, lines_before=0, path_text="a.jsonl", problems=InputProblems())]
    assert _kinds_nulls_numbers(whole, names) == expected
    cut = min(cut, len(lines) - 1)
    parts = [b"\n".join(lines[:cut]) + b"\n", b"\n".join(lines[cut:]) + b"\n"]
    halves = [pa.Table.from_batches([batch]) for number, part in enumerate(parts)
              for batch in datasets.json_lines_chunk_batches(part, lines_before=cut * number, path_text="a.jsonl",
                                                             problems=InputProblems())]
    assert _kinds_nulls_numbers(halves, names) == expected


@pytest.mark.parametrize("key", ["größe", 'say "a"', "tab\there", "plain"])
@pytest.mark.parametrize("spaced", [False, True])
def test_json_lines_numbers_under_keys_a_writer_escapes_count_as_written(key, spaced):
    import json

    # json.dumps writes "gr\u00f6\u00dfe": the key is found through the lines holding an escape
    dump = (lambda record: json.dumps(record)) if spaced else (lambda record: json.dumps(record, separators=(",", ":")))
    lines = [dump({key: value, "note": 'a "quoted" word'}).encode() for value in (2, 2.5, 3.0, -4, 7, 1e16)]
    chunk = b"\n".join(lines) + b"\n"
    expected_table = pa.Table.from_batches([datasets._json_lines_one_by_one(chunk, 0, "a.jsonl", InputProblems())])
    read = [pa.Table.from_batches([batch]) for batch in datasets.json_lines_chunk_batches(
        chunk, lines_before=0, path_text="a.jsonl", problems=InputProblems())]
    names = sorted(expected_table.column_names)
    assert _kinds_nulls_numbers(read, names) == _kinds_nulls_numbers([expected_table], names)
    assert _kinds_nulls_numbers(read, [key])[key][1] == [3, 3, 0, 0]  # 2.5, 3.0, 1e16 Fractional; 2, -4, 7 Integral


@pytest.mark.parametrize("chunk", [
    b'{"a\\/b":2.5}\n{"a\\/b":3}\n',  # pandas writes a slash escaped
    b'{"a\\u0026b":2.5}\n{"a\\u0026b":3}\n',  # Go escapes & < >
    b'{"ab":2.5}\n{"a\\u0062":3}\n',  # any character may be written escaped
    b'{"x":{"a.b":2.5}}\n{"x":{"a.b":2}}\n',  # a dotted key inside an object
    b'{"a":2.5}\n\n   \n{"a":3}\n\n',  # blank lines: Arrow's rows are the other lines
    b'  {"a":2.5}\r\n{"a" : 3 }\r\n',  # leading blanks, carriage returns, blanks around the colon
])  # fmt: skip
def test_json_lines_numbers_count_as_written_whatever_the_writer(chunk):
    expected_table = pa.Table.from_batches([datasets._json_lines_one_by_one(chunk, 0, "a.jsonl", InputProblems())])
    names = sorted(expected_table.column_names)
    read = [pa.Table.from_batches([batch]) for batch in datasets.json_lines_chunk_batches(
        chunk, lines_before=0, path_text="a.jsonl", problems=InputProblems())]
    assert _kinds_nulls_numbers(read, names) == _kinds_nulls_numbers([expected_table], names)
    assert [counts[1][:2] for counts in _kinds_nulls_numbers(read, names).values()] == [[1, 1]]


def test_a_nan_json_lines_value_stays_missing_when_its_column_becomes_text():
    # json.dumps writes NaN; Arrow reads it as a float, which counts as missing, and so it stays beside an integer
    read = [pa.Table.from_batches([batch]) for batch in datasets.json_lines_chunk_batches(
        b'{"a":NaN}\n{"a":2.5}\n{"a":2}\n', lines_before=0, path_text="a.jsonl", problems=InputProblems())]
    assert _kinds_nulls_numbers(read, ["a"]) == {"a": (1, [1, 1, 0, 0], [2.0, 2.5])}


# Words beside strict JSON that Python's json.dumps and pandas write, and Arrow's JSON reader takes: each line reads
# the same on both paths (NaN missing, an infinity a present number without a finite value), and what neither takes
# is a bad record on both.
JSON_WORDS = [b"NaN", b"Infinity", b"-Infinity", b"1.797693135e+308", b"-1.797693135e+308", b"1e400", b"+1", b".5",
              b"01", b"nan", b"inf", b'"\\ud800"', b"18446744073709551616", b"-9999999999999999999",
              b"123456789012345678", b"2.5", b"3", b"null", b"Inf", b"-Inf", b"-NaN", b'"Inf"']


@_SETTINGS
@given(words=st.lists(st.sampled_from(JSON_WORDS), min_size=1, max_size=12), cut=st.integers(1, 11))
def test_json_lines_words_beside_strict_json_read_the_same_on_both_paths_however_the_file_is_cut(words, cut):
    lines = [b'{"a": ' + word + b', "b": ' + str(number).encode() + b"}" for number, word in enumerate(words)]
    chunk = b"\n".join(lines) + b"\n"
    one_by_one = InputProblems(max_bad_record_ratio=1.0)
    batch = datasets._json_lines_one_by_one(chunk, 0, "a.jsonl", one_by_one)
    expected = _kinds_nulls_numbers([] if batch is None else [pa.Table.from_batches([batch])], ["a", "b"])
    by_arrow = InputProblems(max_bad_record_ratio=1.0)
    whole = [pa.Table.from_batches([batch]) for batch in datasets.json_lines_chunk_batches(
        chunk, lines_before=0, path_text="a.jsonl", problems=by_arrow)]
    assert _kinds_nulls_numbers(whole, ["a", "b"]) == expected
    assert _tally(by_arrow) == _tally(one_by_one)
    parts = [b"\n".join(lines[start:start + cut]) + b"\n" for start in range(0, len(lines), cut)]
    cut_problems = InputProblems(max_bad_record_ratio=1.0)
    read = [pa.Table.from_batches([batch]) for number, part in enumerate(parts)
            for batch in datasets.json_lines_chunk_batches(part, lines_before=cut * number, path_text="a.jsonl",
                                                          problems=cut_problems)]
    assert _kinds_nulls_numbers(read, ["a", "b"]) == expected
    assert _tally(cut_problems) == _tally(one_by_one)


def test_json_lines_nan_is_missing_and_an_infinity_a_present_value_on_the_line_by_line_path_too():
    problems = InputProblems(max_bad_record_ratio=1.0)
    batch = datasets._json_lines_one_by_one(b'{"a": NaN}\n{"a": Infinity}\n{"a": 1.797693135e+308}\n{"a": 2.5}\n{"a": nan}\n',
                                            0, "a.jsonl", problems)
    # the last line is no JSON to any reader: a bad record
    assert _kinds_nulls_numbers([pa.Table.from_batches([batch])], ["a"]) == {"a": (1, [3, 0, 0, 0], [2.5])}
    assert [(example.line, example.problem.split(":")[0]) for example in problems.examples] == [(5, "malformed JSON")]


@_SETTINGS
@given(rows=st.lists(st.lists(st.sampled_from([word.decode() for word in JSON_WORDS] + ["true", '"x"', ""]),
                              min_size=2, max_size=2), min_size=1, max_size=12),
       chunk_bytes=st.sampled_from([300, 1 << 20]))
def test_json_payloads_with_words_beside_strict_json_read_the_same_column_wise_and_record_by_record(
        tmp_path, monkeypatch, rows, chunk_bytes):
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": "[" + ",".join(row) + "]", "encoding": "JSON"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}}) for row in rows]
    body = b"\n".join(lines) + b"\n"
    path = tmp_path / "a.jsonl"
    path.write_bytes(body)
    monkeypatch.setattr(capture, "CHUNK_BYTES", chunk_bytes)
    reading = capture.capture_reading(window=WINDOW, capture_index_names=("endpointInput",), output_first=True,
                                      missing_output_fields=None, input_names=None)
    expected_problems = InputProblems(max_bad_record_ratio=1.0)
    expected = _rows([capture._line_by_line_batch(body, str(path), 0, reading, expected_problems)])
    problems = InputProblems(max_bad_record_ratio=1.0)
    assert _rows(capture.read_capture_batches(tmp_path, window=WINDOW, capture_index_names=("endpointInput",),
                                              problems=problems, files=[path])) == expected
    assert _tally(problems) == _tally(expected_problems)
    column_wise = InputProblems(max_bad_record_ratio=1.0)
    assert _rows([capture._bulk_batch(body, str(path), 0, reading, column_wise)]) == expected
    assert _tally(column_wise) == _tally(expected_problems)


def test_a_json_payload_nan_is_a_missing_value_and_an_infinity_a_present_one(tmp_path):
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "JSON"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}})
             for data in ("[1.5, NaN]", "[Infinity, 2]", "[+1, 2]")]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    problems = InputProblems(max_bad_record_ratio=1.0)
    batches = list(capture.read_capture_batches(tmp_path, window=WINDOW, problems=problems))
    assert [row for batch in batches for row in zip(*[c.to_pylist() for c in batch.columns], strict=True)] == [
        ("1.5", None), ("inf", "2")]
    assert [(example.line, example.problem.split(" (")[0]) for example in problems.examples] == [
        (3, "JSON payload is not valid JSON")]


@pytest.mark.parametrize("item", ["18446744073709551616", "-9999999999999999999", "123456789012345678901234567890"])
def test_a_json_payload_integer_beyond_64_bits_reads_the_same_wherever_the_file_is_cut(tmp_path, item):
    # orjson reads it as a float: the column-wise path must not keep its digits as an Integral text
    good = orjson.dumps({"captureData": {"endpointInput": {"data": f"[{item}, 1]", "encoding": "JSON"}},
                         "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}})
    read = []
    for body in (good + b"\n", good + b"\n{not json\n"):
        folder = tmp_path / str(len(read))
        folder.mkdir()
        (folder / "a.jsonl").write_bytes(body)
        batches = capture.read_capture_batches(folder, window=WINDOW, problems=InputProblems(max_bad_record_ratio=1.0))
        read.append([row for batch in batches for row in zip(*[c.to_pylist() for c in batch.columns], strict=True)])
    assert read[0] == read[1] == [(repr(float(item)), "1")]


def test_json_payloads_with_nan_and_infinities_stay_on_the_column_wise_path(tmp_path, monkeypatch):
    # json.dumps writes them for floats: such payloads are common, and record by record they cost ten times more
    lines = [orjson.dumps({"captureData": {"endpointInput": {"data": data, "encoding": "JSON"}},
                           "eventMetadata": {"inferenceTime": "2024-01-01T10:15:00Z"}})
             for data in ("[1.5, NaN, 2]", "[Infinity, -Infinity, NaN]", '[NaN, "NaN", null]')]
    body = b"\n".join(lines) + b"\n"
    reading = capture.capture_reading(window=WINDOW, capture_index_names=("endpointInput",), output_first=True,
                                      missing_output_fields=None, input_names=None)
    expected = _rows([capture._line_by_line_batch(body, "a.jsonl", 0, reading, InputProblems())])
    monkeypatch.setattr(capture, "_fast_rows", lambda *a, **k: (_ for _ in ()).throw(AssertionError("one by one")))
    batch = capture._bulk_batch(body, "a.jsonl", 0, reading, InputProblems())
    assert _rows([batch]) == expected
    assert [tuple(row) for row in zip(*[c.to_pylist() for c in batch.columns], strict=True)] == [
        ("1.5", None, "2"), ("inf", "-inf", None), (None, "NaN", None)]

