"""A Spark task's whole files become one state in the executor (the driver's merge is the serial part of a run): one
row per task, keyed by its first file: the files read one after another in file order into one profile, as a local
worker reads its files, with the exact counts of merging the files' states one by one. Runs the partition function
directly, without a Spark session."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from model_monitor_analyzer.io.capture import capture_reading
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.io.window import TimeWindow
from model_monitor_analyzer.jobs.progress import ProgressReporter
from model_monitor_analyzer.profile.dataset import profile_batches
from model_monitor_analyzer.spark.partitions import (
    Failure,
    Layout,
    LineReading,
    _file_chunks,
    _pieces,
    _split_batches,
    _state,
    profile_whole_files,
)

from .test_spark_data_quality import write_capture


def _plan() -> LineReading:
    window = TimeWindow(start=datetime(2024, 3, 1, 10, tzinfo=UTC), end=datetime(2024, 3, 1, 11, tzinfo=UTC))
    return LineReading(layout=Layout.CAPTURE, max_bad_record_ratio=0.5, capture=capture_reading(window=window))


def _counts(profile) -> dict:
    return {"items": profile.item_count,
            **{name: (column.nulls, list(column.kind_counts), column.moments.count) for name, column in profile.columns.items()}}


def test_a_tasks_files_become_one_profile_read_in_file_order(tmp_path):
    files = sorted(write_capture(tmp_path, files=4, per_file=400).rglob("*.jsonl"))
    names = [file.as_uri() for file in files]
    contents = [file.read_bytes() for file in files]
    order = list(range(len(files)))
    random.Random(3).shuffle(order)  # Spark packs a task's files in its own order
    batches = [pa.RecordBatch.from_arrays([pa.array([contents[i] for i in order[:2]], pa.binary()),
                                           pa.array([names[i] for i in order[:2]])], names=["content", "file"]),
               pa.RecordBatch.from_arrays([pa.array([contents[i] for i in order[2:]], pa.binary()),
                                           pa.array([names[i] for i in order[2:]])], names=["content", "file"])]
    plan = _plan()
    rows = list(profile_whole_files(iter(batches), plan))
    assert len(rows) == 1
    assert rows[0].column(0)[0].as_py() == names[0] and rows[0].column(1)[0].as_py() == 0
    profile, problems = pickle.loads(rows[0].column(2)[0].as_py())

    expected_problems = InputProblems(max_bad_record_ratio=plan.max_bad_record_ratio)
    expected = profile_batches(
        (batch for name, content in zip(names, contents, strict=True)
         for batch in _split_batches(_file_chunks(content, name, plan.chunk_bytes), name, 0, plan, expected_problems)),
        names=None, detailed_columns=frozenset(), progress=ProgressReporter(enabled=False))
    assert profile.item_count == expected.item_count == 4 * 400 - 4 * 2  # each file: a cut line, a blank one
    assert pickle.dumps(profile) == pickle.dumps(expected)
    assert pickle.dumps(problems) == pickle.dumps(expected_problems)

    merged, _ = _state(_file_chunks(contents[0], names[0], plan.chunk_bytes), names[0], 0, plan)
    for name, content in zip(names[1:], contents[1:], strict=True):
        merged.merge(_state(_file_chunks(content, name, plan.chunk_bytes), name, 0, plan)[0])
    assert _counts(profile) == _counts(merged)


def test_a_task_whose_file_fails_sends_that_files_failure(tmp_path):
    files = sorted(write_capture(tmp_path, files=3, per_file=50).rglob("*.jsonl"))
    names = [file.as_uri() for file in files]
    contents = [file.read_bytes() for file in files]
    contents[1] = b"\x1f\x8b not gzip after all"
    batch = pa.RecordBatch.from_arrays([pa.array(contents[::-1], pa.binary()), pa.array(names[::-1])],
                                       names=["content", "file"])
    (row,) = profile_whole_files(iter([batch]), _plan())
    failure = pickle.loads(row.column(2)[0].as_py())
    assert row.column(0)[0].as_py() == names[1]
    assert isinstance(failure, Failure) and failure.input_error and failure.path == names[1]
    assert "cannot decompress" in failure.message


def test_a_task_without_files_sends_nothing():
    assert list(profile_whole_files(iter([]), _plan())) == []


@pytest.mark.parametrize("columns", [False, True])
def test_a_partition_is_cut_where_its_file_or_split_changes(columns):
    """Runs of one (file, start) in Spark's rows, as Python's groupby finds them: lines, or a Parquet split's rows."""
    rng = random.Random(3)
    keys = [(f"file:/d/{rng.choice('abc')}.csv", rng.choice([0, 0, 4096])) for _ in range(60)]
    keys.sort(key=lambda key: rng.random() < 0.2)  # runs of several rows, and keys coming back later
    values = [f"line {i}" for i in range(len(keys))]
    extra = [pa.array(range(len(keys)), pa.int32())] if columns else []
    batch = pa.RecordBatch.from_arrays(
        [pa.array(values), *extra, pa.array([k[0] for k in keys]), pa.array([k[1] for k in keys], pa.int64())],
        names=["value", *(["n"] if columns else []), "file", "start"])
    found = [(key, piece.column(0).to_pylist() if columns else piece.to_pylist())
             for key, piece in _pieces([batch.slice(0, 25), batch.slice(25)], columns=columns)]
    expected = []
    for offset, part in ((0, keys[:25]), (25, keys[25:])):  # each batch on its own
        for index, key in enumerate(part):
            if expected and expected[-1][0] == key and index:
                expected[-1][1].append(values[offset + index])
            else:
                expected.append((key, [values[offset + index]]))
    assert found == expected
    assert all(isinstance(key[1], int) for key, _ in found)
