"""The polars floor: the bare parse of the benchmark's files with polars, with no statistics at all.

Reads the baseline CSV with ``polars.read_csv``, the capture's JSON Lines with ``polars.scan_ndjson``
(the fields a monitor needs, groups of files of about ``GROUP_BYTES``, so memory stays bounded and each read has enough work
for polars' threads), and each group's input and output CSV payloads with ``polars.read_csv``; it
keeps nothing. polars is the fastest parser we know of for both formats, so this is the floor that
the analyzer's time is reported against (with ``floor``, the pyarrow one, beside it).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from bench.contenders.capture_lines import SCORE_FIRST, capture_files, payload_names, run_floor

GROUP_BYTES = 64 << 20
# polars infers a CSV column's type from the first rows; enough of them that a column whose first
# values are all empty or all integers is not mistyped (the bare parse must not fail).
INFER_ROWS = 10_000
# The record fields a monitor reads (contract §1.2); the others are skipped by the JSON reader.
CAPTURE_SCHEMA = {
    "captureData": pl.Struct(
        {"endpointInput": pl.Struct({"data": pl.String}), "endpointOutput": pl.Struct({"data": pl.String})}
    ),
    "eventMetadata": pl.Struct({"inferenceTime": pl.String}),
}


def parse_baseline(path: Path) -> int:
    """Parse the baseline CSV (header, types inferred) into one DataFrame; return its row count."""
    return pl.read_csv(path, infer_schema_length=INFER_ROWS).height


def file_groups(files: list[Path], *, max_bytes: int = GROUP_BYTES) -> Iterator[list[Path]]:
    """Consecutive runs of ``files`` of at most ``max_bytes`` each (at least one file per run)."""
    group: list[Path] = []
    size = 0
    for path in files:
        length = path.stat().st_size
        if group and size + length > max_bytes:
            yield group
            group, size = [], 0
        group.append(path)
        size += length
    if group:
        yield group


def _parse_payloads(payloads: pl.Series, names: list[str]) -> int:
    text = payloads.str.join("\n").item().encode()
    frame = pl.read_csv(io.BytesIO(text), has_header=False, new_columns=names, infer_schema_length=INFER_ROWS)
    return frame.height


def parse_capture(root: Path, header: list[str], layout: str = SCORE_FIRST) -> int:
    """Parse every capture record and, group by group, its output and input CSV payloads; return the rows."""
    output_names, input_names = payload_names(layout, header)
    rows = 0
    for group in file_groups(capture_files(root)):
        captured = pl.scan_ndjson(group, schema=CAPTURE_SCHEMA).select(
            pl.col("captureData").struct.field("endpointInput").struct.field("data").alias("input"),
            pl.col("captureData").struct.field("endpointOutput").struct.field("data").alias("output"),
            pl.col("eventMetadata").struct.field("inferenceTime").alias("time"),
        ).collect()
        _parse_payloads(captured["output"], output_names)
        rows += _parse_payloads(captured["input"], input_names)
    return rows


def main(argv: list[str] | None = None) -> None:
    run_floor(__doc__.split("\n")[0], "polars", parse_baseline, parse_capture, argv)


if __name__ == "__main__":
    main()
