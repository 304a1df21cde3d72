"""The model-quality floor: the bare parse of a model-quality monitor's inputs with polars, with no join and no metric.

Reads every capture file's JSON Lines with ``polars.scan_ndjson`` (the event metadata: inference id, event id,
inference time; the input payload as text; the output payload, decoded in bulk as a number), and every
ground-truth file's JSON Lines the same way (event id; the label, decoded in bulk as a number); groups of files
of about ``GROUP_BYTES``, as the data-quality floor does. It keeps nothing and prints one JSON line: the seconds of
each part, the rows read and polars' version.

Run: ``python -m bench.contenders.floor_model_quality --capture DIR --ground-truth DIR``.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version
from pathlib import Path

import polars as pl

from bench.contenders.capture_lines import capture_files
from bench.contenders.floor_polars import file_groups

CAPTURE_SCHEMA = {
    "captureData": pl.Struct(
        {"endpointInput": pl.Struct({"data": pl.String}), "endpointOutput": pl.Struct({"data": pl.String})}
    ),
    "eventMetadata": pl.Struct({"eventId": pl.String, "inferenceId": pl.String, "inferenceTime": pl.String}),
}
GROUND_TRUTH_SCHEMA = {
    "groundTruthData": pl.Struct({"data": pl.String}),
    "eventMetadata": pl.Struct({"eventId": pl.String}),
}


def _number(text: pl.Expr) -> pl.Expr:
    return text.str.strip_chars().cast(pl.Float64)


def parse_captures(root: Path) -> int:
    """Parse every capture record below ``root`` and decode its output payload; return the rows."""
    rows = 0
    for group in file_groups(capture_files(root)):
        captured = (
            pl.scan_ndjson(group, schema=CAPTURE_SCHEMA)
            .select(
                pl.col("eventMetadata").struct.field("inferenceId"),
                pl.col("eventMetadata").struct.field("eventId"),
                pl.col("eventMetadata").struct.field("inferenceTime"),
                pl.col("captureData").struct.field("endpointInput").struct.field("data").alias("input"),
                _number(pl.col("captureData").struct.field("endpointOutput").struct.field("data")).alias(
                    "score"
                ),
            )
            .collect()
        )
        rows += captured.height
    return rows


def parse_ground_truth(root: Path) -> int:
    """Parse every ground-truth record below ``root`` and decode its label; return the rows."""
    rows = 0
    for group in file_groups(capture_files(root)):
        labels = (
            pl.scan_ndjson(group, schema=GROUND_TRUTH_SCHEMA)
            .select(
                pl.col("eventMetadata").struct.field("eventId"),
                _number(pl.col("groundTruthData").struct.field("data")).alias("label"),
            )
            .collect()
        )
        rows += labels.height
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capture", type=Path, required=True)
    parser.add_argument("--ground-truth", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    capture_rows = parse_captures(args.capture)
    captures_done = time.perf_counter()
    label_rows = parse_ground_truth(args.ground_truth)
    finished = time.perf_counter()
    print(json.dumps({
        "load_capture": captures_done - started,
        "load_ground_truth": finished - captures_done,
        "capture_rows": capture_rows,
        "ground_truth_rows": label_rows,
        "version": version("polars"),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
