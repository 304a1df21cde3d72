"""The Spark runner reports a CSV file's bad records on their physical lines as the local engine does: a whole file
as ``<file>:<line>``, a split from byte N as ``<file> (the part from byte N):<line within the part>`` (its lines
counted from the first that begins after byte N). The expected
lines are found in the generated file by each bad row's own text."""

from __future__ import annotations

import re

import pytest

from ..test_csv_line_numbers import _generated, _true_lines
from .test_spark_data_quality import run

SKIPPED = re.compile(r"skipped bad record: (?:file:)?(.+?)(?: \(the part from byte (\d+)\))?:(\d+): (.*)")


def _skipped(capsys) -> list[tuple[str, int, int, str]]:
    """(file, split start, line, problem) of each bad record the run printed (the first five)."""
    return [(m.group(1), int(m.group(2) or 0), int(m.group(3)), m.group(4))
            for line in capsys.readouterr().out.splitlines() if (m := SKIPPED.fullmatch(line))]


def test_the_users_example_reports_the_too_long_row_on_line_5_on_both_engines(tmp_path, spark, capsys):
    file = tmp_path / "t.csv"
    file.write_bytes(b'a,b\n1,2\n3,"x\n5,6\n7,8,9\n10,11\n')
    said = {}
    for engine in ("local", "spark"):
        assert run("baseline", "--engine", engine, "--dataset", str(file), "--output", str(tmp_path / engine),
                   "--max-bad-record-ratio", "0.5") == 0
        said[engine] = _skipped(capsys)
    assert said["spark"] == said["local"]
    assert [(where, line) for where, _, line, _ in said["spark"]] == [(str(file), 3), (str(file), 5)]
    assert said["spark"][0][3].startswith('a quote (") is not closed') and said["spark"][1][3] == "expected 2 fields, found 3"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_bad_lines_of_spark_splits_are_the_files_lines_less_those_before_the_split(tmp_path, spark, split_files,
                                                                                    capsys, newline):
    # Spark cuts splits at any line: no value over two lines here; the bad rows all after the first split
    data, bad = _generated(5, rows=3_000, newline=newline, two_line_values=False, bad_from=1_000)
    file = tmp_path / "data.csv"
    file.write_bytes(data)
    with split_files(8 << 10):
        assert run("baseline", "--engine", "spark", "--dataset", str(file), "--output", str(tmp_path / "spark"),
                   "--max-bad-record-ratio", "0.5") == 0
    said = _skipped(capsys)
    truth = _true_lines(data, bad)
    assert len(said) == 5 and all(start > 0 for _, start, _, _ in said)
    # a split from byte N begins with the line after the first line break from byte N on (Hadoop's line reader)
    assert [data.count(b"\n", 0, data.index(b"\n", start) + 1) + line for _, start, line, _ in said] == \
        [line for line, _ in truth][:5]
