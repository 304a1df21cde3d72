"""Baseline CSV files are streamed in whole-line chunks: same rows, bad rows with their line."""

from __future__ import annotations

from model_monitor_analyzer.io import datasets
from model_monitor_analyzer.io.datasets import read_csv_file
from model_monitor_analyzer.io.problems import InputProblems


def _read(path, **kwargs):
    problems = InputProblems()
    rows = [row for batch in read_csv_file(path, problems=problems, **kwargs) for row in batch.to_pylist()]
    return rows, problems


def _write(tmp_path, lines):
    path = tmp_path / "data.csv"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_small_chunks_give_the_rows_of_one_chunk(tmp_path, monkeypatch):
    path = _write(tmp_path, ["score,city"] + [f"0.{i},c{i}" if i % 7 else f"{i}," for i in range(200)])
    whole, _ = _read(path, header=True)
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", 64)
    chunked, problems = _read(path, header=True)
    assert chunked == whole
    assert len(whole) == 200 and whole[7] == {"score": "7", "city": None}
    assert (problems.good, problems.bad) == (200, 0)


def test_rows_with_a_wrong_field_count_are_reported_with_their_line(tmp_path, monkeypatch):
    lines = ["score,city"] + [f"0.{i},c{i}" for i in range(100)]
    lines[30] = "0.5"
    lines[90] = "0.5,x,y"
    path = _write(tmp_path, lines)
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", 100)
    rows, problems = _read(path, header=True)
    assert len(rows) == 98
    assert [(p.line, p.problem) for p in problems.examples] == [
        (31, "expected 2 fields, found 1"),
        (91, "expected 2 fields, found 3"),
    ]


def test_header_less_files_keep_their_first_row(tmp_path, monkeypatch):
    path = _write(tmp_path, [f"{i},{i * 2}" for i in range(50)])
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", 40)
    rows, _ = _read(path, header=False)
    assert rows[0] == {"_c0": "0", "_c1": "0"} and len(rows) == 50
