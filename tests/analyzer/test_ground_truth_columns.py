"""Ground-truth labels read column-wise (Arrow's JSON reader a chunk at a time) are the labels read one by one:
same ids, values, encodings, records, order, counts and bad lines (file:line), whatever the mix and the chunks."""

from __future__ import annotations

import random

import orjson
import pytest

from model_monitor_analyzer.io import ground_truth
from model_monitor_analyzer.io.ground_truth import read_ground_truth, read_ground_truth_columns
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.jobs import parallel


def _label_line(rng: random.Random, index: int) -> bytes:
    kind = rng.random()
    if kind < 0.03:
        return b""
    if kind < 0.06:
        return b"{not json"
    if kind < 0.08:
        return b'["a list"]'
    if kind < 0.09:
        return b"null"
    # valueless labels too (malformed on both paths): blanks, commas, quoted blanks, an empty JSON list
    data = rng.choice(["0", "1", "1.5", '{"label": 1}', "a,b", "", " ", "\u3000", ",,", '""', ' "" ', '" , "', "[]",
                       "[ 1 ]"])
    record: dict = {"groundTruthData": {"data": data,
                                        "encoding": rng.choice(["CSV", "CSV", "csv", "JSON", "XML", None])},
                    "eventMetadata": {"eventId": rng.choice([f"id-{index}", f"id-{index}", "", f"id-{index % 7}"])},
                    "eventVersion": "0"}
    if record["groundTruthData"]["encoding"] is None:
        del record["groundTruthData"]["encoding"]
    if rng.random() < 0.03:
        record["groundTruthData"]["data"] = 1  # not a text
    if rng.random() < 0.03:
        del record["eventMetadata"]
    if rng.random() < 0.05:
        record["groundTruthData"]["observedContentType"] = "text/csv"  # kept in the record
    return orjson.dumps(record)


@pytest.mark.parametrize("seed", range(10))
def test_labels_read_column_wise_are_the_labels_read_one_by_one(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    mostly_clean = seed % 2 == 0
    for hour in ("10", "11"):
        folder = tmp_path / "gt" / "2024" / "05" / "02" / hour
        folder.mkdir(parents=True)
        for name in ("a.jsonl", "b.jsonl"):
            lines = [_label_line(rng, i) if not mostly_clean or rng.random() < 0.05
                     else orjson.dumps({"groundTruthData": {"data": str(i % 2), "encoding": "CSV"},
                                        "eventMetadata": {"eventId": f"id-{i}"}, "eventVersion": "0"})
                     for i in range(rng.randint(20, 300))]
            bom = b"\xef\xbb\xbf" * (rng.random() < 0.3)  # a byte-order mark, as some writers start a file
            (folder / name).write_bytes(bom + b"\n".join(lines) + rng.choice([b"\n", b""]))
    monkeypatch.setattr(ground_truth, "LABEL_CHUNK_BYTES", rng.choice([200, 3_000, 1 << 20]))
    one_by_one, by_columns = InputProblems(max_bad_record_ratio=1.0), InputProblems(max_bad_record_ratio=1.0)
    read = list(read_ground_truth(tmp_path / "gt", problems=one_by_one))
    columns = read_ground_truth_columns(tmp_path / "gt", problems=by_columns)
    assert columns.event_ids.to_pylist() == [label.event_id for label in read]
    assert columns.data.to_pylist() == [label.data for label in read]
    assert columns.encodings.to_pylist() == [label.encoding for label in read]
    assert list(columns.records) == [label.record for label in read]
    assert (by_columns.good, by_columns.bad) == (one_by_one.good, one_by_one.bad)
    assert [(e.path, e.line, e.problem) for e in by_columns.examples] == [
        (e.path, e.line, e.problem) for e in one_by_one.examples]
    # the files read in runs, each in a process of its own, then joined: the same labels, records and tally
    files = ground_truth.window_label_files(tmp_path / "gt")
    for parts, use_threads in ((2, True), (3, True), (2, False), (3, False)):  # Arrow's threads or the caller's
        groups = ground_truth.label_file_groups(files, parts)
        assert 1 < len(groups) <= parts and [path for group in groups for path in group] == files
        in_parts = InputProblems(max_bad_record_ratio=1.0)
        joined = ground_truth.joined_label_columns(parallel.run_parts(
            [(lambda group=group, threads=use_threads: ground_truth.read_label_files(group, use_threads=threads))
             for group in groups]), in_parts)
        for name in ("event_ids", "data", "encodings", "truths"):
            assert getattr(joined, name).equals(getattr(columns, name))
        assert list(joined.records) == list(columns.records)
        assert (in_parts.good, in_parts.bad, in_parts.examples) == (by_columns.good, by_columns.bad, by_columns.examples)


def test_clean_label_files_take_the_column_wise_path(tmp_path, monkeypatch):
    folder = tmp_path / "gt" / "2024" / "05" / "02" / "10"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(b"".join(
        orjson.dumps({"groundTruthData": {"data": str(i % 2), "encoding": "CSV"}, "eventMetadata": {"eventId": f"id-{i}"},
                      "eventVersion": "0"}) + b"\n" for i in range(500)))

    def refuse(*args, **kwargs):
        raise AssertionError("a label was read on its own")

    monkeypatch.setattr(ground_truth, "_labels_line_by_line", refuse)
    problems = InputProblems()
    columns = read_ground_truth_columns(tmp_path / "gt", problems=problems)
    assert problems.good == 500 and columns.event_ids[499].as_py() == "id-499"
    assert columns.records[499] == {"groundTruthData": {"data": "1", "encoding": "CSV"},
                                    "eventMetadata": {"eventId": "id-499"}, "eventVersion": "0"}
