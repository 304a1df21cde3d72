"""Bad CSV records are reported on their physical line (1-based, the header included, as a text editor numbers
lines), whatever comes before them: a quote never closed, a quoted value over two lines, empty lines, CRLF line
ends, a byte-order mark, small chunks, a file read in parts (local) or in Spark splits. Every expected line is found
in the generated file by the bad row's own text, never typed in."""

from __future__ import annotations

import io
import random

import pandas as pd
import pyarrow as pa
import pytest

from model_monitor_analyzer.cli import main
from model_monitor_analyzer.io import datasets
from model_monitor_analyzer.io.datasets import csv_parts, first_csv_row, read_csv_file, unclosed_quote
from model_monitor_analyzer.io.problems import InputProblems
from model_monitor_analyzer.spark.partitions import Layout, LineReading, _chunks, _split_batches

SHORT, LONG, QUOTE, LONG_OVER_TWO = "short", "long", "quote", "long over two lines"


def _generated(seed: int, *, rows: int = 300, newline: bytes = b"\n", bom: bool = False, two_line_values: bool = True,
               bad_from: int = 0):
    """A 3-column CSV whose rows are good ones, good ones with a quoted value over two lines, empty lines and up to
    15 bad rows, each bad row holding a unique tag; returns the bytes and the tags with the kind of each.
    Without ``two_line_values``, no row holds a line break; no bad row comes before row ``bad_from``."""
    rng = random.Random(seed)
    lines: list[bytes] = [b"id,note,x"]
    bad: dict[str, str] = {}
    for i in range(rows):
        pick = rng.random()
        if pick < 0.05 and len(bad) < 15 and i >= bad_from:
            kind = rng.choice([SHORT, LONG, QUOTE, LONG_OVER_TWO] if two_line_values else [SHORT, LONG, QUOTE])
            tag = f"bad{i}"
            bad[tag] = kind
            lines.append({SHORT: f"{tag}",
                          LONG: f"{tag},n,1,extra",
                          QUOTE: f'{tag},"never closed,1',
                          LONG_OVER_TWO: f'{tag},"first{newline.decode()}second",1,extra'}[kind].encode())
        elif pick < 0.12 and two_line_values:
            lines.append(f'{i},"one{newline.decode()}two, with a comma",{i}'.encode())
        elif pick < 0.16:
            lines.append(b"")
        else:
            lines.append(f'{i},"say ""hi""",{i * 0.5}'.encode() if pick < 0.3 else f"{i},plain,{i}".encode())
    data = newline.join(lines) + newline
    return (b"\xef\xbb\xbf" + data if bom else data), bad


def _true_lines(data: bytes, bad: dict[str, str]) -> list[tuple[int, str]]:
    """(physical line, kind) of each bad row: the line feeds before its tag, plus one. A row of too many fields
    whose quoted value holds a line break is two lines with a quote that closes no row of 3 fields."""
    found = []
    for tag, kind in bad.items():  # a tag is never a line's first text before its own line (tags grow)
        at = data.index(f"\n{tag}".encode()) + 1
        line = data.count(b"\n", 0, at) + 1
        found.extend([(line, QUOTE), (line + 1, QUOTE)] if kind == LONG_OVER_TWO else [(line, kind)])
    return sorted(found)


def _kind(problem: str) -> str:
    if problem == unclosed_quote(3):
        return QUOTE
    if "found 1" in problem:
        return SHORT
    if "found 4" in problem:
        return LONG_OVER_TWO if "over lines" in problem else LONG
    return problem


def _reported(problems: InputProblems) -> list[tuple[int | None, str]]:
    return sorted((p.line, _kind(p.problem)) for p in problems.examples)


def _good_records(data: bytes, bad: dict[str, str]) -> int:
    """The good records pandas reads from the file once the bad rows are taken out (their tags name them)."""
    text = data.decode("utf-8-sig")
    kept = "\n".join(line for line in text.replace("\r\n", "\n").split("\n")
                     if not any(line.startswith(tag + ",") or line == tag for tag in bad))
    # a bad row over two lines leaves its second line ("second",1,extra) behind: drop it too
    kept = "\n".join(line for line in kept.split("\n") if not line.startswith('second"'))
    return len(pd.read_csv(io.StringIO(kept), dtype=str, keep_default_na=False))


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("bom", [False, True], ids=["", "bom"])
@pytest.mark.parametrize("chunk_bytes", [64, 700, 4 << 20])
@pytest.mark.parametrize("seed", [1, 2])
def test_bad_rows_are_reported_on_their_physical_line(tmp_path, monkeypatch, seed, chunk_bytes, bom, newline):
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", chunk_bytes)
    data, bad = _generated(seed, newline=newline, bom=bom)
    file = tmp_path / "data.csv"
    file.write_bytes(data)
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = sum(batch.num_rows for batch in read_csv_file(file, header=True, problems=problems))
    assert _reported(problems) == _true_lines(data, bad)
    assert problems.bad == len(_true_lines(data, bad))
    assert rows == problems.good == _good_records(data, bad)


@pytest.mark.parametrize("parts", [2, 3, 5])
def test_a_file_read_in_parts_reports_the_lines_of_the_whole_file(tmp_path, monkeypatch, parts):
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", 256)
    data, bad = _generated(7, rows=600)
    file = tmp_path / "data.csv"
    file.write_bytes(data)
    problems = InputProblems(max_bad_record_ratio=1.0)
    pieces = csv_parts(file, parts=parts, between_records=True)
    assert len(pieces) == parts
    for piece in pieces:  # each part read on its own, as the local engine's workers read them
        tally = InputProblems(max_bad_record_ratio=1.0)
        for _ in read_csv_file(file, header=True, problems=tally, part=piece):
            pass
        problems.merge(tally)
    assert _reported(problems) == _true_lines(data, bad)


def test_the_users_example_reports_the_too_long_row_on_line_5(tmp_path, capsys):
    file = tmp_path / "t.csv"
    file.write_bytes(b'a,b\n1,2\n3,"x\n5,6\n7,8,9\n10,11\n')
    problems = InputProblems(max_bad_record_ratio=1.0)
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    assert table.column("a").to_pylist() == ["1", "5", "10"]
    assert [(p.line, p.problem) for p in problems.examples] == [(3, unclosed_quote(2)), (5, "expected 2 fields, found 3")]
    assert (problems.good, problems.bad) == (3, 2)
    assert main(["baseline", "--dataset", str(file), "--output", str(tmp_path / "out"), "--quiet"]) == 2
    assert f"{file}:3: a quote" in capsys.readouterr().err


def test_two_quotes_never_closed_cost_their_own_lines_not_the_lines_between(tmp_path):
    lines = ["id,note,x", *[f"{i},plain,{i}" for i in range(30)]]
    lines[3] = 'bad3,"never closed,1'
    lines[14] = 'bad14,"never closed,1'  # with line 4, one row of 3 fields if the quote at line 15 closed a value
    data = ("\n".join(lines) + "\n").encode()
    file = tmp_path / "two.csv"
    file.write_bytes(data)
    problems = InputProblems(max_bad_record_ratio=1.0)
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    expected = [data.count(b"\n", 0, data.index(tag)) + 1 for tag in (b"bad3,", b"bad14,")]
    assert [(p.line, p.problem) for p in problems.examples] == [(line, unclosed_quote(3)) for line in expected]
    assert table.num_rows == problems.good == 28 and problems.bad == 2


def test_a_large_pandas_file_reports_each_bad_line_where_an_editor_shows_it(tmp_path):
    frame = pd.DataFrame({"id": range(100_000), "score": [i * 0.25 for i in range(100_000)],
                          "city": [f"city {i % 97}, north" for i in range(100_000)]})
    lines = frame.to_csv(index=False).split("\n")  # pandas quotes the cities: they hold a comma
    lines[500] = "500"  # line 501: too few fields
    lines[1000] = '1000,250.0,"city never closed'  # line 1001: a quote never closed
    lines[2000] = '2000,500.0,"city 60, north",extra'  # line 2001: too many fields
    data = "\n".join(lines).encode()
    file = tmp_path / "large.csv"
    file.write_bytes(data)
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = sum(batch.num_rows for batch in read_csv_file(file, header=True, problems=problems))
    expected = [data.count(b"\n", 0, data.index(text) + 1) + 1 for text in
                (b"\n500\n", b"\n1000,250.0,", b"\n2000,500.0,")]
    assert [p.line for p in problems.examples] == expected
    assert [p.line for p in problems.examples] == [501, 1001, 2001]
    assert rows == problems.good == 100_000 - 3 and problems.bad == 3


def test_a_header_over_two_lines_counts_both(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "CSV_BLOCK_BYTES", 32)
    file = tmp_path / "h.csv"
    file.write_bytes(b'"id\nnumber",x\n1,2\n\n3,4,5\n6,"a\nb"\n7\n')
    problems = InputProblems(max_bad_record_ratio=1.0)
    rows = [row for batch in read_csv_file(file, header=True, problems=problems) for row in batch.to_pylist()]
    assert first_csv_row(file) == (["id\nnumber", "x"], 2)
    assert rows == [{"id\nnumber": "1", "x": "2"}, {"id\nnumber": "6", "x": "a\nb"}]
    data = file.read_bytes()
    assert [p.line for p in problems.examples] == [data.count(b"\n", 0, data.index(b"3,4,5")) + 1,
                                                   data.count(b"\n", 0, data.index(b"7\n")) + 1]


def _spark_lines(data: bytes, start: int) -> list[pa.Array]:
    """The lines of a split from byte ``start`` (a line's first byte) as Spark's text reader gives them: without
    their line feed or carriage return, in arrays of a few lines."""
    lines = [line.removesuffix(b"\r").decode() for line in data[start:].split(b"\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return [pa.array(lines[i: i + 7], pa.string()) for i in range(0, len(lines), 7)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_a_spark_split_reports_lines_within_the_part_from_its_byte(tmp_path, newline):
    data, bad = _generated(11, rows=400, newline=newline)
    file = tmp_path / "data.csv"
    file.write_bytes(data)
    (header, header_lines) = first_csv_row(file)
    plan = LineReading(layout=Layout.CSV, max_bad_record_ratio=1.0, columns=header, header_lines=header_lines)
    middle = data.index(b"\n", len(data) // 2) + 1
    lines = data.split(b"\n")
    split_line = data.count(b"\n", 0, middle)  # the lines of the first split
    while lines[split_line - 1].count(b'"') % 2 or lines[split_line].count(b'"') % 2:  # not inside a quoted value
        middle = data.index(b"\n", middle) + 1
        split_line += 1
    truth = _true_lines(data, bad)
    for start, end in ((0, middle), (middle, len(data))):
        problems = InputProblems(max_bad_record_ratio=1.0)
        rows = sum(batch.num_rows for batch in
                   _split_batches(_chunks(_spark_lines(data[:end], start), 200), str(file), start, plan, problems))
        before = 0 if start == 0 else split_line
        expected = [(line - before, kind) for line, kind in truth if (line > split_line) == (start > 0)]
        assert expected and _reported(problems) == expected
        assert rows == problems.good
        where = str(file) if start == 0 else f"{file} (the part from byte {start})"
        assert {p.path for p in problems.examples} == {where}


def test_a_lone_carriage_return_ends_a_row_but_not_a_line(tmp_path):
    data = b"a,b\n1,2\r3,4\n5,6,7\n8,9\r10,11,12\n13,14\n"  # Arrow ends a row at the CR; an editor's line goes on
    file = tmp_path / "cr.csv"
    file.write_bytes(data)
    problems = InputProblems(max_bad_record_ratio=1.0)
    table = pa.Table.from_batches(list(read_csv_file(file, header=True, problems=problems)))
    assert table.column("a").to_pylist() == ["1", "3", "8", "13"]
    assert [p.line for p in problems.examples] == [data.count(b"\n", 0, data.index(text)) + 1
                                                   for text in (b"5,6,7", b"10,11,12")]
