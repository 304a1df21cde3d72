"""The pyarrow floor: the bare parse of the benchmark's files, with no statistics at all.

Reads the baseline CSV with pyarrow, then every capture line with orjson and each file's CSV
payloads (inputs and outputs) with pyarrow, and keeps nothing. Anything that computes statistics
from these files has to do at least this much work, so the analyzer's time is reported against it. ``floor_polars`` does the same with polars; the faster of the two is the floor.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pyarrow.csv as pacsv

from bench.contenders.capture_lines import (
    SCORE_FIRST,
    capture_files,
    file_lines,
    payload_names,
    run_floor,
)


def parse_baseline(path: Path) -> int:
    """Parse the baseline CSV (header, types inferred) into one Arrow table; return its row count."""
    return pacsv.read_csv(path).num_rows


def _parse_payloads(payloads: list[str], names: list[str]) -> int:
    text = "\n".join(payloads).encode()
    options = pacsv.ReadOptions(column_names=names)
    return pacsv.read_csv(io.BytesIO(text), read_options=options).num_rows


def parse_capture(root: Path, header: list[str], layout: str = SCORE_FIRST) -> int:
    """Parse every capture record and, file by file, its output and input CSV payloads; return the rows.

    ``header`` holds the baseline's columns, mapped to the payloads by ``layout``.
    """
    output_names, input_names = payload_names(layout, header)
    rows = 0
    for path in capture_files(root):
        inputs, outputs, times = [], [], []
        for line in file_lines(path):
            record = orjson.loads(line)
            captured = record["captureData"]
            inputs.append(captured["endpointInput"]["data"])
            outputs.append(captured["endpointOutput"]["data"])
            times.append(record["eventMetadata"]["inferenceTime"])
        _parse_payloads(outputs, output_names)
        rows += _parse_payloads(inputs, input_names)
    return rows


def main(argv: list[str] | None = None) -> None:
    run_floor(__doc__.split("\n")[0], "pyarrow", parse_baseline, parse_capture, argv)


if __name__ == "__main__":
    main()
