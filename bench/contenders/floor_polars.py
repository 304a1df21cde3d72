"""The polars floor: the bare parse of the benchmark's files with polars, with no statistics at all.

Reads the baseline CSV with ``polars.read_csv``, the capture's JSON Lines with ``polars.scan_ndjson``
(the fields a monitor needs, groups of files of about ``GROUP_BYTES``, so memory stays bounded and each read has enough work
for polars' threads), and each group's payloads in bulk: CSV payloads (input and output) with one ``polars.read_csv`` of
their joined text, JSON payloads (``encoding`` JSON: an array of the features per record) with ``str.json_decode`` and a
cast of each numeric position to a number; an input-only capture (no ``endpointOutput``) has no output to parse. It
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
        {
            "endpointInput": pl.Struct({"data": pl.String, "encoding": pl.String}),
            "endpointOutput": pl.Struct({"data": pl.String}),
        }
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


def _parse_json_payloads(payloads: pl.Series, names: list[str]) -> int:
    """JSON arrays of the features: decoded in bulk, then each position whose values are numbers made a number."""
    values = payloads.str.json_decode(pl.List(pl.String))
    columns = []
    for position, name in enumerate(names):
        column = values.list.get(position, null_on_oob=True).alias(name)
        sample = column.head(INFER_ROWS)
        if sample.cast(pl.Float64, strict=False).null_count() == sample.null_count():
            column = column.cast(pl.Float64)
        columns.append(column)
    return pl.DataFrame(columns).height


def parse_capture(root: Path, header: list[str], layout: str = SCORE_FIRST) -> int:
    """Parse every capture record and, group by group, its output and input payloads; return the rows."""
    output_names, input_names = payload_names(layout, header)
    rows = 0
    for group in file_groups(capture_files(root)):
        captured = pl.scan_ndjson(group, schema=CAPTURE_SCHEMA).select(
            pl.col("captureData").struct.field("endpointInput").struct.field("data").alias("input"),
            pl.col("captureData").struct.field("endpointInput").struct.field("encoding").alias("encoding"),
            pl.col("captureData").struct.field("endpointOutput").struct.field("data").alias("output"),
            pl.col("eventMetadata").struct.field("inferenceTime").alias("time"),
        ).collect()
        outputs = captured["output"].drop_nulls()
        if len(outputs):
            _parse_payloads(outputs, output_names)
        json_input = (captured["encoding"] == "JSON").fill_null(False)
        if json_input.any():
            rows += _parse_json_payloads(captured["input"].filter(json_input), input_names)
        if not json_input.all():
            rows += _parse_payloads(captured["input"].filter(~json_input), input_names)
    return rows


def main(argv: list[str] | None = None) -> None:
    run_floor(__doc__.split("\n")[0], "polars", parse_baseline, parse_capture, argv)


if __name__ == "__main__":
    main()
