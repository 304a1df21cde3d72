"""Merged records written a column at a time (``merge.merged_lines`` over ``io.sorted_json``) are byte for byte
the records ``merge.merged_line`` writes one by one from the parsed lines (whose layout test_merge.py holds to
the real merge job's output), whatever the members, texts, nulls, types and chunks; and the JSON texts of
Arrow columns are orjson's with sorted keys."""

from __future__ import annotations

import io
import random

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pajson
import pytest

from model_monitor_analyzer.io import capture, ground_truth, merge
from model_monitor_analyzer.io.capture import read_captured_outputs
from model_monitor_analyzer.io.ground_truth import read_ground_truth_columns, truth_text
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.sorted_json import lines_to_write_one_by_one, sorted_json_texts

#: texts that need escaping, short or as \u00XX, and letters beyond ASCII
_ODD_TEXTS = ["a\nb", 'say "hi"', "back\\slash", "tab\there", "\b\f\r", "bell\x07", "\x00", "café", "😀", "/",
              "\u2028", "\x7f", "null", "nullable", "x\\u0041"]


def _text(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(_ODD_TEXTS)
    return "".join(rng.choice("abc,.0123 -") for _ in range(rng.randint(0, 12)))


def _value(rng: random.Random, depth: int = 0, *, typed: bool = True) -> object:
    """A text, an object of such values, or (``typed``) a null, number, boolean or list."""
    kind = rng.random()
    if kind < 0.55 or depth > 2:
        return _text(rng)
    if kind < 0.85 or not typed:
        return {rng.choice(["zeta", "alpha", "m", "Mixed", "é"]): _value(rng, depth + 1, typed=typed)
                for _ in range(rng.randint(0, 3))}
    return rng.choice([None, 3, 2.5, True, ["a", "b"]])


def _payload(rng: random.Random, data: str) -> dict:
    part = {"observedContentType": rng.choice(["text/csv", "application/json"]), "mode": "OUTPUT",
            "data": data, "encoding": "CSV"}
    if rng.random() < 0.1:
        part[rng.choice(["extra", "aField"])] = _value(rng)
    if rng.random() < 0.05:
        del part["observedContentType"]
    return part


def _capture_line(rng: random.Random, index: int, *, odd: bool) -> bytes:
    record: dict = {"captureData": {"endpointInput": _payload(rng, "1.5,2,3"),
                                    "endpointOutput": _payload(rng, f"0.{index % 10}\n")},
                    "eventMetadata": {"eventId": f"uuid-{index}", "inferenceId": f"id-{index}",
                                      "inferenceTime": "2024-05-02T10:00:00Z"},
                    "eventVersion": "0"}
    if odd:
        choice = rng.random()
        if choice < 0.15:
            record["captureData"]["endpointInput"]["data"] = _text(rng)
        elif choice < 0.25:
            record["eventMetadata"]["customAttributes"] = _value(rng)
        elif choice < 0.35:
            del record["eventVersion"]
        elif choice < 0.4:
            record["eventVersion"] = rng.choice([None, "1"])
        elif choice < 0.5:
            record["captureData"]["endpointInput"] = None if rng.random() < 0.5 else {}
        elif choice < 0.6:
            del record["captureData"]["endpointInput"]
        elif choice < 0.65:
            record["captureData"]["batchTransformOutput"] = _payload(rng, "1")
        elif choice < 0.7:
            record["topLevel"] = _value(rng)
        elif choice < 0.75:
            del record["eventMetadata"]["inferenceId"]
        elif choice < 0.8:
            record["eventMetadata"]["inferenceTime"] = "2024-05-02T10:00:00.5+00:00"  # read on its own
        elif choice < 0.85:
            return b"{not json"
        elif choice < 0.9:
            record["captureData"]["endpointOutput"]["encoding"] = "JSON"
            record["captureData"]["endpointOutput"]["data"] = '{"score": 0.5}'
    line = orjson.dumps(record)
    if odd and rng.random() < 0.1:
        line = line.replace(b'"eventVersion"', b'  "eventVersion" ')  # spacing the writer does not keep
    if odd and rng.random() < 0.05:
        line = line.replace(b"uuid-", b"\\u0075uid-")  # an escape the reader decodes
    return line


def _label_line(rng: random.Random, index: int, *, odd: bool) -> bytes:
    record: dict = {"groundTruthData": {"data": str(index % 2), "encoding": "CSV"},
                    "eventMetadata": {"eventId": f"id-{index}"}, "eventVersion": "0"}
    if odd:
        choice = rng.random()
        if choice < 0.3:
            record["groundTruthData"]["data"] = _text(rng)
        elif choice < 0.5:
            record["groundTruthData"][rng.choice(["observedContentType", "zz"])] = _value(rng)
        elif choice < 0.6:
            del record["groundTruthData"]["encoding"]
        elif choice < 0.7:
            record["groundTruthData"]["encoding"] = "csv"  # the merged record keeps it as written
    return orjson.dumps(record)


def _write_window(root, rng: random.Random, *, files: int, odd_share: float) -> None:
    capture_dir = root / "capture" / "ep" / "AllTraffic" / "2024" / "05" / "02" / "10"
    label_dir = root / "gt" / "2024" / "05" / "02" / "10"
    capture_dir.mkdir(parents=True)
    label_dir.mkdir(parents=True)
    index = 0
    for number in range(files):
        count = rng.randint(30, 200)
        captures, labels = [], []
        for _ in range(count):
            captures.append(_capture_line(rng, index, odd=rng.random() < odd_share))
            if rng.random() < 0.9:
                labels.append(_label_line(rng, index, odd=rng.random() < odd_share))
            index += 1
        if rng.random() < 0.2:
            captures.insert(rng.randint(0, len(captures)), b"")  # a blank line: the chunk is read line by line
        (capture_dir / f"{number:02d}.jsonl").write_bytes(b"\n".join(captures) + b"\n")
        rng.shuffle(labels)
        (label_dir / f"{number:02d}.jsonl").write_bytes(b"\n".join(labels) + b"\n")


@pytest.mark.parametrize("seed", range(8))
def test_merged_lines_are_the_records_merged_one_by_one(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    _write_window(tmp_path, rng, files=rng.randint(2, 5), odd_share=[0.0, 0.05, 0.3, 1.0][seed % 4])
    monkeypatch.setattr(capture, "CHUNK_BYTES", rng.choice([2_000, 20_000, 8 << 20]))
    monkeypatch.setattr(ground_truth, "LABEL_CHUNK_BYTES", rng.choice([2_000, 8 << 20]))
    labels = read_ground_truth_columns(tmp_path / "gt", problems=InputProblems(max_bad_record_ratio=1.0))
    assert labels.truths is not None
    assert labels.truths.to_pylist() == [truth_text(record) for record in labels.records]
    join = merge.WindowJoin(labels)
    written, expected = [], []
    for captured in read_captured_outputs(tmp_path / "capture", problems=InputProblems(max_bad_record_ratio=1.0)):
        positions, rows = join.match_keys(captured.keys)
        lines = merge.merged_lines(captured, positions, labels.truths.take(pa.array(rows)))
        written.extend(line.encode() for line in lines.to_pylist())
        expected.extend(merge.merged_line(captured.record(position), labels.records[row])
                        for position, row in zip(positions.tolist(), rows.tolist(), strict=True))
    assert expected
    assert written == expected


def test_the_writer_writes_the_lines_as_they_are(tmp_path):
    lines = pa.array(["a\n", "bc\n", "déf\n", "g\n"]).slice(1, 2)  # a slice: its bytes start past the buffer's start
    with merge.MergedRecordsWriter(tmp_path / "merge") as writer:
        writer.write_lines(lines)
        writer.write_lines(pa.array([], pa.string()))
    path = writer.publish()
    assert path is not None and path.read_bytes() == "bc\ndéf\n".encode()


def test_a_missing_line_is_refused_not_skipped(tmp_path):
    with pytest.raises(ValueError, match="missing"), merge.MergedRecordsWriter(tmp_path / "merge") as writer:
        writer.write_lines(pa.array(["a\n", None]))
    assert not (tmp_path / "merge").exists()


@pytest.mark.parametrize("seed", range(6))
def test_sorted_json_texts_are_orjsons(seed):
    rng = random.Random(seed)
    shape = {"v": {"alpha": {"zeta": "", "m": ""}, "m": "", "Mixed": {"é": ""}, "é": "", "zeta": ""}}

    def plain(rng: random.Random, template: object) -> object:  # the same member has the same kind in every row
        if isinstance(template, str):
            return _text(rng)
        return {name: plain(rng, value) for name, value in template.items() if rng.random() < 0.7}  # type: ignore[union-attr]

    records = [plain(rng, shape) for _ in range(300)]
    records += [{"v": None}, {"v": {"m": None}}]  # explicit nulls: written from their lines
    lines = b"\n".join(orjson.dumps(record) for record in records) + b"\n"
    table = pajson.read_json(io.BytesIO(lines), parse_options=pajson.ParseOptions(unexpected_field_behavior="infer"))
    starts = np.array([0, *[i + 1 for i, byte in enumerate(lines) if byte == 10][:-1]])
    ends = np.array([i for i, byte in enumerate(lines) if byte == 10])
    by_line = lines_to_write_one_by_one(lines, starts, ends)
    written = sorted_json_texts(table.column("v"))
    assert written is not None
    assert by_line[-2:].all()
    assert not by_line[:-2].all()
    for row, record in enumerate(records):
        if by_line[row] or written.by_record[row]:
            continue
        expected = orjson.dumps(record["v"], option=orjson.OPT_SORT_KEYS).decode() if "v" in record else None
        assert written.texts[row].as_py() == expected


@pytest.mark.parametrize("seed", range(4))
def test_the_id_index_finds_each_ids_latest_label_as_a_dictionary_does(seed):
    """The label ids sorted as fixed-width byte strings give each key the row a dictionary of the ids gives (the
    latest label of the id), for ASCII and other letters, duplicates, nulls, empty and longer keys, and ids
    with a NUL byte (looked up in a dictionary)."""
    rng = random.Random(seed)
    pool = [f"id-{i}" for i in range(30)] + ["é", "éa", "a", "ab", "a b", "😀x", "longer-id-xyz"]
    for trial in range(60):
        ids = [rng.choice(pool + (["n\x00ul", "n"] if trial % 5 == 0 else [])) for _ in range(rng.randint(0, 60))]
        if trial % 3 == 0:
            ids = [text for text in ids if text.isascii()]
        keys = [rng.choice([*pool, None, "z" * 30, "", "n", "n\x00ul"]) for _ in range(40)]
        index = merge._IdIndex(pa.array(ids, pa.string()))
        latest = {text: row for row, text in enumerate(ids)}
        assert index.rows(pa.array(keys, pa.string())).tolist() == [latest.get(key, -1) for key in keys]
        assert len(index) == len(latest)


@pytest.mark.parametrize("seed", range(4))
def test_lines_written_one_by_one_are_those_holding_null_or_a_u_escape(seed):
    rng = random.Random(seed)
    pieces = [b'{"a":"x"}', b'{"u":"uuid-1"}', b'{"n":null}', b'{"t":"\\u00e9"}', b'{"s":"nul"}', b'{"l":"ul"}']
    for share in (0.0, 0.1, 0.9):  # chunks with neither, with a few, with many
        lines = [rng.choice(pieces[2:4]) if rng.random() < share else rng.choice(pieces[:2] + pieces[4:])
                 for _ in range(200)]
        chunk = b"\n".join(lines) + b"\n"
        starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
        ends = starts + np.array([len(line) for line in lines])
        expected = [b"\\u" in line or b"null" in line for line in lines]
        assert lines_to_write_one_by_one(chunk, starts, ends).tolist() == expected


@pytest.mark.parametrize("seed", range(4))
def test_lines_holding_null_or_a_u_escape_are_found_at_every_byte_offset(seed):
    # the patterns are looked for as 2- and 4-byte words at each shift: every offset, every chunk length, a
    # pattern cut by a line break, and a subset of the lines asked for (as the merged lines of some captures)
    rng = random.Random(seed)
    pieces = [b"\\", b"u", b"n", b"l", b"null", b"\\u", b"nul", b"ull", b"x", b"\n", b"\\\\u"]
    for _ in range(2_000):
        chunk = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 24)))
        lines = chunk.split(b"\n")
        starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
        ends = starts + np.array([len(line) for line in lines])
        chosen = sorted(rng.sample(range(len(lines)), rng.randint(1, len(lines))))
        expected = [b"\\u" in lines[i] or b"null" in lines[i] for i in chosen]
        assert lines_to_write_one_by_one(chunk, starts[chosen], ends[chosen]).tolist() == expected


@pytest.mark.parametrize("text", [*_ODD_TEXTS, "", "CSV", "text/csv; charset=utf-8"])
def test_a_member_with_one_text_in_every_row_is_written_as_orjson_writes_it(text):
    # a member holding the same text in every row (an encoding, a mode) is one piece of text made once; a text that
    # orjson writes as \u00XX sends every row to be written from its record, as the column would
    records = [{"v": {"mode": text, "data": f"row {row}"}} for row in range(50)]
    lines = b"\n".join(orjson.dumps(record) for record in records) + b"\n"
    table = pajson.read_json(io.BytesIO(lines))
    written = sorted_json_texts(table.column("v"))
    assert written is not None
    by_column = sorted_json_texts(pa.array([{"mode": text, "data": f"row {row}"} for row in range(50)]))
    assert by_column is not None and written.by_record.tolist() == by_column.by_record.tolist()
    for row, record in enumerate(records):
        if not written.by_record[row]:
            assert written.texts[row].as_py() == orjson.dumps(record["v"], option=orjson.OPT_SORT_KEYS).decode()
    assert written.by_record.all() == any(ord(c) < 0x20 and c not in "\n\r\t\b\f" for c in text)
