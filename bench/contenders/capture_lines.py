"""Walking a SageMaker capture tree (standard library only, shared by every contender's environment)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

# How a capture record's payloads line up with the baseline CSV's header:
# the baseline's first column is the model's score and the rest are the features, and a capture row
# is the output payload followed by the input payload (the built-in's START position);
SCORE_FIRST = "score-first"
# the baseline holds the features alone; the input payload holds the same columns, the output the score.
FEATURES_ONLY = "features-only"
LAYOUTS = (SCORE_FIRST, FEATURES_ONLY)
SCORE_COLUMN = "score"


def payload_names(layout: str, header: list[str]) -> tuple[list[str], list[str]]:
    """(output payload's column names, input payload's column names) for a baseline ``header``."""
    if layout == SCORE_FIRST:
        return header[:1], header[1:]
    if layout == FEATURES_ONLY:
        return [SCORE_COLUMN], list(header)
    raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")


def capture_files(root: Path) -> list[Path]:
    """Every ``.jsonl`` file below ``root``, in path order (which is time order in SageMaker's layout)."""
    return sorted(root.rglob("*.jsonl"))


def header_names(csv_path: Path) -> list[str]:
    """Column names from the first line of a CSV file with a header."""
    with csv_path.open("rb") as f:
        return f.readline().decode().rstrip("\r\n").split(",")


def file_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of one capture file, without their line ends."""
    with path.open("rb") as f:
        for line in f.read().splitlines():
            if line.strip():
                yield line


def run_floor(description: str, library: str, parse_baseline, parse_capture, argv: list[str] | None = None) -> None:
    """The command line of a floor: parse ``--baseline`` and ``--capture`` with the given functions
    and print their times, row counts and ``library``'s version as one JSON line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--capture", type=Path, required=True)
    parser.add_argument("--layout", choices=LAYOUTS, default=SCORE_FIRST, help="how payloads map to the header")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    baseline_rows = parse_baseline(args.baseline)
    baseline_done = time.perf_counter()
    capture_rows = parse_capture(args.capture, header_names(args.baseline), args.layout)
    finished = time.perf_counter()
    print(json.dumps({
        "load_baseline": baseline_done - started,
        "load_capture": finished - baseline_done,
        "baseline_rows": baseline_rows,
        "version": version(library),
        "capture_rows": capture_rows,
    }))
